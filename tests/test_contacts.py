"""Contacts and the one-to-one line: the community's card, each grid's worker as residents see
them, whole phones both ways once a resident is verified, and the audit log of every whole
value shown to someone other than its owner (tenant admins only)."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import event
from starlette.applications import Starlette
from strawberry.relay import from_base64

from models.audit import AuditedField, FullView, SubjectKind
from models.people import Role
from resolvers.audit import whole_value
from schema.extensions import note_full_views
from tenants.context import RequestContext
from tenants.tokens import Viewer
from tests.conftest import COMMUNITY_ADMIN, TENANT_ADMIN, WORKER_1, WORKER_2
from tests.support import Api, TenantHandle, code_of, fresh_phone, gid
from tests.test_households import member, register_household

CARD = "{ communities(first: 10) { edges { node { code contactCard { address officePhone officeHours latitude longitude } } } } }"
MY_WORKER = "{ me { resident { status gridWorker { id name phone } } } }"
GRIDS = "{ communities(first: 1) { edges { node { grids(first: 10) { edges { node { code worker { name phone } } } } } } } }"
AUDIT = """query($filter: FullViewAuditFilter) { fullViewAudit(first: 100, filter: $filter) { totalCount
  edges { node { viewerName viewer subjectKind subjectId field } } } }"""


async def test_a_communitys_contact_card_is_public(api: Api) -> None:
    cards = {
        e["node"]["code"]: e["node"]["contactCard"]
        for e in (await api.data(CARD, tenant="alpha"))["communities"]["edges"]
    }
    assert cards["A1"] == {
        "address": "阿尔法街道东风路 1 号",
        "officePhone": "0472-5100001",
        "officeHours": "周一至周五 8:30–12:00、14:30–18:00",
        "latitude": 40.6571,
        "longitude": 109.8402,
    }
    assert cards["A2"] is None
    beta = (await api.data(CARD, tenant="beta"))["communities"]["edges"]
    assert [e["node"]["contactCard"] for e in beta] == [None]


async def verified_resident(api: Api, alpha: TenantHandle, building: str = "A1-G1-B1") -> dict[str, Any]:
    phone = fresh_phone()
    registered = await api.register_resident("alpha", alpha.buildings[building], phone=phone)
    worker = WORKER_1 if building.startswith("A1-G1") else WORKER_2
    verified = await api.data(
        "mutation($id: ID!) { verifyResident(input: {residentId: $id}) { errors { code } } }",
        {"id": registered["resident"]["id"]},
        token=await api.token("alpha", worker),
    )
    assert verified["verifyResident"]["errors"] == []
    return {"phone": phone, "id": registered["resident"]["id"], "token": registered["tokens"]["accessToken"]}


async def audit(api: Api, **filter: Any) -> list[dict[str, Any]]:
    data = await api.data(AUDIT, {"filter": filter}, token=await api.token("alpha", TENANT_ADMIN))
    return [e["node"] for e in data["fullViewAudit"]["edges"]]


async def test_a_verified_resident_sees_their_own_grid_worker_whole_and_others_masked(
    api: Api, alpha: TenantHandle
) -> None:
    resident = await verified_resident(api, alpha)
    worker = (await api.data(MY_WORKER, token=resident["token"]))["me"]["resident"]["gridWorker"]
    assert worker["name"] == "网格员一" and worker["phone"] == WORKER_1
    grids = (await api.data(GRIDS, token=resident["token"]))["communities"]["edges"][0]["node"]["grids"]["edges"]
    phones = {g["node"]["code"]: g["node"]["worker"]["phone"] for g in grids}
    assert phones == {"A1-G1": WORKER_1, "A1-G2": "139****0012"}
    seen = [a for a in await audit(api, subjectId=worker["id"]) if a["viewer"] == gid("Person", _uuid(resident["id"]))]
    assert [(a["field"], a["subjectKind"]) for a in seen] == [("PHONE", "PERSON")] * 2, "once per request"
    # Registered but not yet verified: only a claim to live there; the phone stays masked.
    pending = await api.register_resident("alpha", alpha.buildings["A1-G1-B1"])
    unverified = (await api.data(MY_WORKER, token=pending["tokens"]["accessToken"]))["me"]["resident"]["gridWorker"]
    assert unverified["phone"] == "139****0011"


def _uuid(global_id: str) -> uuid.UUID:
    return uuid.UUID(from_base64(global_id)[1])


async def test_a_grid_worker_sees_their_verified_residents_whole_and_it_is_logged(
    api: Api, alpha: TenantHandle
) -> None:
    mine = await verified_resident(api, alpha)
    theirs = await verified_resident(api, alpha, "A1-G2-B1")
    query = "query($id: ID!) { node(id: $id) { ... on Resident { phone } } }"
    worker = await api.token("alpha", WORKER_1)
    assert (await api.data(query, {"id": mine["id"]}, token=worker))["node"]["phone"] == mine["phone"]
    assert (await api.data(query, {"id": theirs["id"]}, token=worker))["node"] is None
    own = (await api.data(query, {"id": mine["id"]}, token=mine["token"]))["node"]["phone"]
    assert own == mine["phone"]
    entries = await audit(api, subjectId=gid("Person", _uuid(mine["id"])))
    assert [(a["viewerName"], a["field"]) for a in entries] == [("网格员一", "PHONE")], "the resident's own view is not"


async def test_the_audit_log_is_for_tenant_admins_and_filters(api: Api, alpha: TenantHandle) -> None:
    done = await register_household(api, alpha, member("审计对象", phone="13712340009"))
    subject = done["household"]["members"]["edges"][0]["node"]["id"]
    await api.data(
        "query($id: ID!) { node(id: $id) { ... on HouseholdMember { phone } } }",
        {"id": subject},
        token=await api.token("alpha", COMMUNITY_ADMIN),
    )
    everyone = await audit(api, subjectId=subject)
    assert sorted((a["viewerName"], a["field"]) for a in everyone) == [("社区管理员甲", "PHONE"), ("网格员一", "PHONE")]
    phones_only = await audit(api, subjectId=subject, field="ID_NUMBER")
    assert phones_only == []
    by_admin = await audit(api, subjectId=subject, viewerId=everyone[0]["viewer"])
    assert len(by_admin) == 1
    answered = {}
    for tenant, phone in (("alpha", COMMUNITY_ADMIN), ("alpha", WORKER_1), ("beta", TENANT_ADMIN)):
        body = await api.run(AUDIT, {"filter": {"subjectId": subject}}, token=await api.token(tenant, phone))
        answered[tenant, phone] = (
            body["data"] and body["data"]["fullViewAudit"]["totalCount"] if tenant == "beta" else code_of(body)
        )
    assert answered == {
        ("alpha", COMMUNITY_ADMIN): "FORBIDDEN",
        ("alpha", WORKER_1): "FORBIDDEN",
        ("beta", TENANT_ADMIN): 0,  # another office's log holds none of these
    }


async def test_a_page_of_people_is_logged_in_one_insert(api: Api, alpha: TenantHandle, app: Starlette) -> None:
    for n in range(5):
        await register_household(
            api, alpha, member(f"批量{n}", phone="13712340010"), building="A2-G1-B1", phone=TENANT_ADMIN
        )
    query = "query($n: Int!, $b: ID!) { people(first: $n, filter: {buildingId: $b}) { edges { node { phone } } } }"
    building = gid("Building", alpha.buildings["A2-G1-B1"])
    admin = await api.token("alpha", TENANT_ADMIN)
    await api.data(query, {"n": 1, "b": building}, token=admin)
    before = (await api.data("{ fullViewAudit(first: 1) { totalCount } }", token=admin))["fullViewAudit"]["totalCount"]

    await api.data(query, {"n": 5, "b": building}, token=admin)
    after = (await api.data("{ fullViewAudit(first: 1) { totalCount } }", token=admin))["fullViewAudit"]["totalCount"]
    assert after - before == 5, "one row per whole phone shown"
    compiled_again = []

    def note_compilation(_conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any, *_: Any) -> None:
        if statement.startswith("INSERT INTO full_view_audit"):
            compiled_again.append(context.cache_hit != context.dialect.CACHE_HIT)

    engine = app.state.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note_compilation)
    try:
        counts = [await api.statements(query, {"n": n, "b": building}, token=admin) for n in (2, 5, 3)]
    finally:
        event.remove(engine, "before_cursor_execute", note_compilation)
    assert counts[0] == counts[1] == counts[2]
    assert compiled_again == [False, False, False], "the INSERT is compiled once, whatever the number of rows"


async def test_a_masked_page_writes_nothing(api: Api) -> None:
    admin = await api.token("alpha", TENANT_ADMIN)
    count = "{ fullViewAudit(first: 1) { totalCount } }"
    before = (await api.data(count, token=admin))["fullViewAudit"]["totalCount"]
    # A grid worker of another grid is shown masked: no whole value, nothing logged, no write.
    other = (
        "{ communities(first: 1) { edges { node { grids(first: 10) { edges { node { code worker { phone } } } } } } } }"
    )
    data = await api.data(other, token=await api.token("alpha", WORKER_2))
    phones = [g["node"]["worker"]["phone"] for g in data["communities"]["edges"][0]["node"]["grids"]["edges"]]
    assert phones == ["139****0011", WORKER_2]
    assert (await api.data(count, token=admin))["fullViewAudit"]["totalCount"] == before, "own phone is not logged"


def test_the_whole_values_a_response_carries_are_noted_at_any_depth_and_only_those() -> None:
    """The unit of work audits what `note_full_views` finds in the response: whole values in
    lists and nested objects, each once; masked ones and plain strings are not views."""
    viewer = Viewer(user_id=uuid.uuid4(), tenant_id=uuid.uuid4(), roles=frozenset({Role.GRID_WORKER}))
    ctx = cast(RequestContext, SimpleNamespace(viewer=viewer, full_views=set(), made_whole_values=False))
    people = [uuid.uuid4() for _ in range(3)]

    def whole(value: str, person: uuid.UUID, field: AuditedField = AuditedField.PHONE) -> str:
        return whole_value(ctx, value, SubjectKind.PERSON, person, field, owner_id=person)

    data = {
        "people": {"edges": [{"node": {"phone": whole("13700000001", people[0]), "name": "甲"}}]},
        "member": {"idNumber": whole("110101199001011234", people[1], AuditedField.ID_NUMBER), "phone": "137****0002"},
        "phones": [[whole("13700000003", people[2])], None, "13700000004"],
        "again": whole("13700000001", people[0]),
    }
    note_full_views(ctx, SimpleNamespace(data=data))
    assert ctx.full_views == {
        FullView(SubjectKind.PERSON, people[0], AuditedField.PHONE),
        FullView(SubjectKind.PERSON, people[1], AuditedField.ID_NUMBER),
        FullView(SubjectKind.PERSON, people[2], AuditedField.PHONE),
    }

    anonymous = cast(RequestContext, SimpleNamespace(viewer=None, full_views=set(), made_whole_values=False))
    assert whole_value(anonymous, "13700000001", SubjectKind.PERSON, people[0], AuditedField.PHONE, owner_id=None) == (
        "13700000001"
    )
    note_full_views(anonymous, SimpleNamespace(data=data))
    assert anonymous.full_views == set(), "an anonymous caller is shown no whole value: the response is not walked"
