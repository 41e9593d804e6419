"""Household registration (入户登记) and population records, through the endpoint as each role:
who may register and see what, ID numbers sealed at rest and found by exact lookup, masking,
history, filters, and the audit of every whole value shown."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from starlette.applications import Starlette
from strawberry.relay import from_base64

from models.households import HouseholdMember
from models.people import ID_CHECK_DIGITS, ID_WEIGHTS
from tenants.context import unit_of_work
from tests.conftest import COMMUNITY_ADMIN, OTHER_COMMUNITY_ADMIN, STAFF, TENANT_ADMIN, WORKER_1, WORKER_2
from tests.support import Api, TenantHandle, code_of, gid

_serials = itertools.count(100 + uuid.uuid4().int % 500)


def id_number(birth: str = "19500101") -> str:
    """A valid 18-character number (Baotou's region code), never the same twice in a run."""
    body = f"150203{birth}{next(_serials) % 1000:03d}"
    return body + ID_CHECK_DIGITS[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def fresh_room() -> str:
    return f"{next(_serials) % 9 + 1}-{next(_serials):04d}"


MEMBER_FIELDS = "id name relation idNumber phone birthDate residenceStatus careTags hasAccount movedOutAt"
REGISTER = (
    "mutation($input: RegisterHouseholdInput!) { registerHousehold(input: $input) { household { id room "
    "members(first: 10) { edges { node { " + MEMBER_FIELDS + " } } } } errors { field code message } } }"
)
NODE = (
    "query($id: ID!) { node(id: $id) { ... on HouseholdMember { "
    + MEMBER_FIELDS
    + " } ... on Household { id room } } }"
)
AUDIT = """query($filter: FullViewAuditFilter) { fullViewAudit(first: 100, filter: $filter) { totalCount
  edges { node { viewerName subjectKind subjectId field viewedAt } } } }"""


def member(name: str = "王秀英", **fields: Any) -> dict[str, Any]:
    return {"name": name, "relation": "户主", "residenceStatus": "HUKOU", **fields}


async def register_household(
    api: Api,
    alpha: TenantHandle,
    *members: dict[str, Any],
    building: str = "A1-G1-B1",
    phone: str = WORKER_1,
    room: str | None = None,
) -> dict[str, Any]:
    result = await api.data(
        REGISTER,
        {
            "input": {
                "buildingId": gid("Building", alpha.buildings[building]),
                "room": room or fresh_room(),
                "members": list(members) or [member()],
            }
        },
        token=await api.token("alpha", phone),
    )
    return result["registerHousehold"]


def members_of(household: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["node"] for e in household["members"]["edges"]]


async def audit_of(api: Api, subject_id: str) -> list[dict[str, Any]]:
    data = await api.data(AUDIT, {"filter": {"subjectId": subject_id}}, token=await api.token("alpha", TENANT_ADMIN))
    return [e["node"] for e in data["fullViewAudit"]["edges"]]


async def test_a_grid_worker_registers_a_household_of_their_grid_and_sees_it_whole(
    api: Api, alpha: TenantHandle
) -> None:
    number = id_number("19460315")
    done = await register_household(
        api,
        alpha,
        member("王秀英", idNumber=number.lower(), phone="13712340001", careTags=["独居老人", "低保"]),
    )
    assert done["errors"] == []
    [registered] = members_of(done["household"])
    assert registered["idNumber"] == number and registered["phone"] == "13712340001"
    assert registered["birthDate"] == "1946-03-15", "taken from the ID number"
    assert registered["careTags"] == ["低保", "独居老人"] and registered["residenceStatus"] == "HUKOU"
    audited = await audit_of(api, registered["id"])
    assert sorted((a["viewerName"], a["field"], a["subjectKind"]) for a in audited) == [
        ("网格员一", "ID_NUMBER", "HOUSEHOLD_MEMBER"),
        ("网格员一", "PHONE", "HOUSEHOLD_MEMBER"),
    ]


async def test_households_are_registered_only_where_one_serves(api: Api, alpha: TenantHandle) -> None:
    other_grid = await register_household(api, alpha, phone=WORKER_2)
    assert other_grid["household"] is None
    assert other_grid["errors"] == [
        {"field": "buildingId", "code": "OUT_OF_SCOPE", "message": "只能登记您负责的网格或管理的社区中的住户。"}
    ]
    other_community = await register_household(api, alpha, phone=OTHER_COMMUNITY_ADMIN)
    assert other_community["errors"][0]["code"] == "OUT_OF_SCOPE"
    refused = await register_household(api, alpha, phone=STAFF)
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    resident = (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]
    body = await api.data(
        REGISTER,
        {"input": {"buildingId": gid("Building", alpha.buildings["A1-G1-B1"]), "room": "1-1", "members": [member()]}},
        token=resident,
    )
    assert [e["code"] for e in body["registerHousehold"]["errors"]] == ["FORBIDDEN"]
    # Another street office's admin names this office's building: it is simply not there.
    foreign = await api.data(
        REGISTER,
        {"input": {"buildingId": gid("Building", alpha.buildings["A1-G1-B1"]), "room": "1-1", "members": [member()]}},
        token=await api.token("beta", TENANT_ADMIN),
    )
    assert foreign["registerHousehold"]["errors"][0]["field"] == "buildingId"
    assert foreign["registerHousehold"]["errors"][0]["code"] == "INVALID"
    # The community admin and the tenant admin may.
    registered = {
        phone: (await register_household(api, alpha, phone=phone))["errors"]
        for phone in (COMMUNITY_ADMIN, TENANT_ADMIN)
    }
    assert registered == {COMMUNITY_ADMIN: [], TENANT_ADMIN: []}


async def test_input_is_checked_and_nothing_is_written_on_failure(api: Api, alpha: TenantHandle) -> None:
    room = fresh_room()
    wrong = await register_household(
        api,
        alpha,
        member("甲", idNumber="150203195001011235"),
        member("乙", phone="12345", careTags=["不存在的标签"]),
        room=room,
    )
    assert {(e["field"], e["code"]) for e in wrong["errors"]} == {
        ("members.0.idNumber", "INVALID"),
        ("members.1.phone", "INVALID_PHONE"),
        ("members.1.careTags", "INVALID"),
    }
    assert (await register_household(api, alpha, room=room))["errors"] == [], "the room was not taken"
    again = await register_household(api, alpha, room=room)
    assert [(e["field"], e["code"]) for e in again["errors"]] == [("room", "DUPLICATE")]


async def sealed_column(app: Starlette, alpha: TenantHandle, member_id: str) -> tuple[bytes, str]:
    services = app.state.services
    tenant = await services.directory.by_id(alpha.id)
    async with unit_of_work(services, tenant=tenant, viewer=None, writes=False) as ctx:
        assert ctx.session is not None
        row = (
            await ctx.session.execute(
                select(HouseholdMember.id_number_sealed, HouseholdMember.id_number_index).where(
                    HouseholdMember.id == uuid.UUID(from_base64(member_id)[1])
                )
            )
        ).one()
    return row[0], row[1]


async def test_an_id_number_is_sealed_at_rest_and_found_by_exact_lookup(
    api: Api, alpha: TenantHandle, app: Starlette
) -> None:
    number = id_number("19800720")
    done = await register_household(api, alpha, member("李建国", idNumber=number))
    [registered] = members_of(done["household"])
    sealed, index = await sealed_column(app, alpha, registered["id"])
    assert number.encode() not in sealed and number[6:14].encode() not in sealed and number not in index
    assert len(sealed) > len(number) and len(index) == 64
    query = "query($n: String!) { people(first: 10, filter: {idNumber: $n}) { totalCount edges { node { id name } } } }"
    worker = await api.token("alpha", WORKER_1)
    found = (await api.data(query, {"n": f" {number.lower()} "}, token=worker))["people"]
    assert found["totalCount"] == 1 and found["edges"][0]["node"] == {"id": registered["id"], "name": "李建国"}
    assert (await api.data(query, {"n": id_number("19800720")}, token=worker))["people"]["totalCount"] == 0
    # Out of the caller's scope, the same number finds nothing.
    assert (await api.data(query, {"n": number}, token=await api.token("alpha", WORKER_2)))["people"]["totalCount"] == 0
    assert (await api.data(query, {"n": number}, token=await api.token("beta", TENANT_ADMIN)))["people"][
        "totalCount"
    ] == 0
    bad = await api.run(query, {"n": "123"}, token=worker)
    assert bad["errors"][0]["extensions"]["code"] == "INVALID"


async def test_one_id_number_lives_in_one_household_at_a_time(api: Api, alpha: TenantHandle) -> None:
    number = id_number()
    first = await register_household(api, alpha, member("张伟", idNumber=number))
    assert first["errors"] == []
    twice = await register_household(api, alpha, member("张伟", idNumber=number))
    assert [(e["field"], e["code"]) for e in twice["errors"]] == [("members.0.idNumber", "DUPLICATE")]
    [moving] = members_of(first["household"])
    await api.data(
        'mutation($id: ID!) { moveOutHouseholdMember(input: {memberId: $id, note: "搬往昆区"}) { errors { code } } }',
        {"id": moving["id"]},
        token=await api.token("alpha", WORKER_1),
    )
    assert (await register_household(api, alpha, member("张伟", idNumber=number)))["errors"] == []


async def test_each_role_sees_what_it_manages_whole_and_nothing_beyond(api: Api, alpha: TenantHandle) -> None:
    number = id_number("19900101")
    done = await register_household(api, alpha, member("赵敏", idNumber=number, phone="13712340002"))
    [registered] = members_of(done["household"])
    seen = {}
    for tenant, phone in (
        ("alpha", COMMUNITY_ADMIN),
        ("alpha", TENANT_ADMIN),
        ("alpha", OTHER_COMMUNITY_ADMIN),
        ("alpha", WORKER_2),
        ("alpha", STAFF),
        ("beta", TENANT_ADMIN),
        ("beta", WORKER_1),
    ):
        seen[(tenant, phone)] = (await api.data(NODE, {"id": registered["id"]}, token=await api.token(tenant, phone)))[
            "node"
        ]
    shown = {who: node and (node["idNumber"], node["phone"]) for who, node in seen.items()}
    assert shown == {
        ("alpha", COMMUNITY_ADMIN): (number, "13712340002"),
        ("alpha", TENANT_ADMIN): (number, "13712340002"),
        ("alpha", OTHER_COMMUNITY_ADMIN): None,
        ("alpha", WORKER_2): None,
        ("alpha", STAFF): None,
        ("beta", TENANT_ADMIN): None,
        ("beta", WORKER_1): None,
    }
    assert (await api.data(NODE, {"id": registered["id"]}, tenant="alpha"))["node"] is None
    viewers = sorted((a["viewerName"], a["field"]) for a in await audit_of(api, registered["id"]))
    assert viewers == [
        ("社区管理员甲", "ID_NUMBER"),
        ("社区管理员甲", "PHONE"),
        ("网格员一", "ID_NUMBER"),
        ("网格员一", "PHONE"),
        ("街道管理员甲", "ID_NUMBER"),
        ("街道管理员甲", "PHONE"),
    ]


async def test_lists_are_for_grid_workers_and_admins_only(api: Api, alpha: TenantHandle) -> None:
    resident = (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]
    callers = {"resident": resident, "staff": await api.token("alpha", STAFF)}
    lists = ("households", "people")
    refused = {
        (who, listing): code_of(await api.run(f"{{ {listing}(first: 1) {{ totalCount }} }}", token=token))
        for who, token in callers.items()
        for listing in lists
    }
    assert refused == {(who, listing): "FORBIDDEN" for who in callers for listing in lists}
    anonymous = await api.run("{ people(first: 1) { totalCount } }", tenant="alpha")
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


VERIFY = "mutation($id: ID!) { verifyResident(input: {residentId: $id}) { resident { status } errors { code } } }"


async def test_a_verified_resident_joins_their_household_and_sees_only_themself_whole(
    api: Api, alpha: TenantHandle
) -> None:
    room = fresh_room()
    spouse_number = id_number("19520202")
    done = await register_household(
        api, alpha, member("孙桂兰", idNumber=spouse_number, phone="13712340003"), member("孙建军"), room=room
    )
    registered = await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], name="孙建军", room=room)
    worker = await api.token("alpha", WORKER_1)
    assert (await api.data(VERIFY, {"id": registered["resident"]["id"]}, token=worker))["verifyResident"][
        "errors"
    ] == []
    token = registered["tokens"]["accessToken"]
    mine = (
        await api.data(
            "{ myHousehold { id room members(first: 10) { edges { node { name idNumber phone hasAccount } } } } }",
            token=token,
        )
    )["myHousehold"]
    assert mine["id"] == done["household"]["id"]
    by_name = {m["name"]: m for m in members_of(mine)}
    assert set(by_name) == {"孙桂兰", "孙建军"}, "matched by name, not added twice"
    assert by_name["孙建军"]["hasAccount"] is True
    assert by_name["孙桂兰"]["idNumber"] == spouse_number[:3] + "*" * 11 + spouse_number[-4:]
    assert by_name["孙桂兰"]["phone"] == "137****0003"
    spouse = next(m for m in members_of(done["household"]) if m["name"] == "孙桂兰")
    assert {a["viewerName"] for a in await audit_of(api, spouse["id"])} == {"网格员一"}, "masked views are not logged"
    lists = await api.run("{ people(first: 1) { totalCount } }", token=token)
    assert lists["errors"][0]["extensions"]["code"] == "FORBIDDEN"


HISTORY = """query($id: ID!) { node(id: $id) { ... on Household {
  members(first: 10, includeMovedOut: true) { edges { node { name movedOutAt } } }
  current: members(first: 10) { totalCount }
  history(first: 20) { totalCount edges { node { change actorName at changes { field before after } } } } } } }"""


async def test_history_says_who_changed_what_and_moving_out_keeps_the_record(api: Api, alpha: TenantHandle) -> None:
    done = await register_household(api, alpha, member("周敏", phone="13712340004"), member("周小宝", relation="子女"))
    household_id = done["household"]["id"]
    child = next(m for m in members_of(done["household"]) if m["name"] == "周小宝")
    admin = await api.token("alpha", COMMUNITY_ADMIN)
    update = """mutation($input: UpdateHouseholdMemberInput!) { updateHouseholdMember(input: $input) {
      member { name residenceStatus careTags idNumber } errors { field code } } }"""
    number = id_number("20150601")
    changed = await api.data(
        update,
        {
            "input": {
                "memberId": child["id"],
                "residenceStatus": "FLOATING",
                "careTags": ["重点关注"],
                "idNumber": number,
            }
        },
        token=admin,
    )
    assert changed["updateHouseholdMember"] == {
        "member": {"name": "周小宝", "residenceStatus": "FLOATING", "careTags": ["重点关注"], "idNumber": number},
        "errors": [],
    }
    moved = await api.data(
        "mutation($id: ID!) { moveOutHouseholdMember(input: {memberId: $id}) { member { movedOutAt } errors { code } } }",
        {"id": child["id"]},
        token=await api.token("alpha", WORKER_1),
    )
    assert moved["moveOutHouseholdMember"]["member"]["movedOutAt"] is not None
    again = await api.data(update, {"input": {"memberId": child["id"], "name": "周宝"}}, token=admin)
    assert again["updateHouseholdMember"]["errors"] == [{"field": "memberId", "code": "INVALID_TRANSITION"}]
    node = (await api.data(HISTORY, {"id": household_id}, token=admin))["node"]
    assert {m["node"]["name"] for m in node["members"]["edges"]} == {"周敏", "周小宝"}
    assert node["current"]["totalCount"] == 1
    entries = [e["node"] for e in node["history"]["edges"]]
    assert [e["change"] for e in entries] == [
        "CREATED",
        "MEMBER_ADDED",
        "MEMBER_ADDED",
        "MEMBER_UPDATED",
        "MEMBER_MOVED_OUT",
    ]
    updated = entries[3]
    assert updated["actorName"] == "社区管理员甲"
    assert {c["field"]: (c["before"], c["after"]) for c in updated["changes"]} == {
        "residence_status": ("hukou", "floating"),
        "tags": ("[]", '["重点关注"]'),
        "birth_date": (None, "2015-06-01"),
        "id_number": (None, "已变更"),
    }
    assert number not in str(node), "history never holds an ID number"
    assert entries[4]["actorName"] == "网格员一"
    # Someone who does not manage the record sees no history of it.
    resident = (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]
    assert (await api.data(HISTORY, {"id": household_id}, token=resident))["node"] is None


async def test_filters_narrow_people_and_households(api: Api, alpha: TenantHandle) -> None:
    today = date.today()
    elderly = f"{today.year - 85}0101"
    child = f"{today.year - 8}0101"
    done = await register_household(
        api,
        alpha,
        member("钱奶奶", idNumber=id_number(elderly), careTags=["空巢老人"]),
        member("钱小宝", relation="孙子女", idNumber=id_number(child), residenceStatus="NOMINAL"),
        building="A1-G1-B2",
    )
    household_id = done["household"]["id"]
    worker = await api.token("alpha", WORKER_1)
    people = "query($f: PopulationFilter) { people(first: 100, filter: $f) { edges { node { name } } } }"
    households = "query($f: PopulationFilter) { households(first: 100, filter: $f) { edges { node { id } } } }"

    async def names(f: dict[str, Any]) -> set[str]:
        data = await api.data(people, {"f": f}, token=worker)
        return {e["node"]["name"] for e in data["people"]["edges"]} & {"钱奶奶", "钱小宝"}

    async def has_household(f: dict[str, Any]) -> bool:
        data = await api.data(households, {"f": f}, token=worker)
        return household_id in {e["node"]["id"] for e in data["households"]["edges"]}

    building = gid("Building", alpha.buildings["A1-G1-B2"])
    assert await names({"buildingId": building}) == {"钱奶奶", "钱小宝"}
    assert await names({"buildingId": gid("Building", alpha.buildings["A1-G1-B1"])}) == set()
    assert await names({"careTag": "空巢老人"}) == {"钱奶奶"}
    assert await names({"residenceStatus": "NOMINAL"}) == {"钱小宝"}
    assert await names({"ageBand": "ELDERLY"}) == {"钱奶奶"}
    assert await names({"ageBand": "CHILD"}) == {"钱小宝"}
    assert await names({"ageBand": "ADULT"}) == set()
    assert await has_household({"careTag": "空巢老人", "buildingId": building})
    assert not await has_household({"careTag": "残疾人"})
    assert await has_household({"ageBand": "CHILD", "residenceStatus": "NOMINAL"})
    assert not await has_household({"ageBand": "SENIOR"})
    assert not await has_household({"gridId": gid("Grid", alpha.grids["A1-G2"])})


async def test_the_care_tag_list_is_the_offices_own(api: Api) -> None:
    tags = (await api.data("{ careTags { name visitEveryDays } }", tenant="alpha"))["careTags"]
    assert {"name": "独居老人", "visitEveryDays": 7} in tags and {"name": "退役军人", "visitEveryDays": None} in tags


@pytest.mark.parametrize("listing", ["people", "households"])
async def test_statements_do_not_grow_with_the_page_and_the_audit_is_one_insert(
    api: Api, alpha: TenantHandle, listing: str
) -> None:
    # Tagged with a tag no other test gives, so that every page holds households of one shape:
    # other tests' households, without phones or ID numbers, would show fewer whole values.
    for n in range(6):
        await register_household(
            api, alpha, member(f"计数{n}", idNumber=id_number(), phone="13712340005", careTags=["残疾人"])
        )
    mine = '{careTag: "残疾人"}'
    fields = {
        "people": "people(first: $n, filter: "
        + mine
        + ") { edges { node { name idNumber phone careTags household { room building { name } } } } }",
        "households": "households(first: $n, filter: "
        + mine
        + ") { edges { node { room building { name } members(first: 5) { edges { node { idNumber phone careTags } } } } } }",
    }[listing]
    query = "query($n: Int!) { " + fields + " }"
    admin = await api.token("alpha", COMMUNITY_ADMIN)
    await api.data(query, {"n": 1}, token=admin)

    assert await api.statements(query, {"n": 2}, token=admin) == await api.statements(query, {"n": 6}, token=admin)


async def test_registrations_racing_for_one_room_or_one_id_number_make_one_record(
    api: Api, alpha: TenantHandle
) -> None:
    for phone in (WORKER_1, COMMUNITY_ADMIN, TENANT_ADMIN):
        await api.token("alpha", phone)
    room = fresh_room()
    racing = await asyncio.gather(
        *(
            register_household(api, alpha, member(f"并发{n}"), room=room, phone=phone)
            for n, phone in enumerate((WORKER_1, COMMUNITY_ADMIN, TENANT_ADMIN, WORKER_1))
        )
    )
    assert sorted(str([e["code"] for e in r["errors"]]) for r in racing) == ["['DUPLICATE']"] * 3 + ["[]"]
    number = id_number()
    racing = await asyncio.gather(
        *(
            register_household(api, alpha, member("同一人", idNumber=number), phone=phone)
            for phone in (WORKER_1, TENANT_ADMIN)
        )
    )
    outcomes = sorted(str([(e["field"], e["code"]) for e in r["errors"]]) for r in racing)
    assert outcomes == ["[('members.0.idNumber', 'DUPLICATE')]", "[]"]


async def test_a_members_viewer_can_lists_exactly_the_steps_that_then_succeed(api: Api, alpha: TenantHandle) -> None:
    room = fresh_room()
    resident = await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], name="步骤甲", room=room)
    done = await register_household(api, alpha, member("步骤甲"), member("步骤乙", relation="配偶"), room=room)
    await api.data(VERIFY, {"id": resident["resident"]["id"]}, token=await api.token("alpha", WORKER_1))
    query = "query($id: ID!) { node(id: $id) { ... on HouseholdMember { movedOutAt viewerCan { update moveOut } } } }"
    steps = {
        "update": 'mutation($id: ID!) { updateHouseholdMember(input: {memberId: $id, relation: "配偶"}) { errors { code } } }',
        "moveOut": "mutation($id: ID!) { moveOutHouseholdMember(input: {memberId: $id}) { errors { code } } }",
    }
    callers = {
        "worker": await api.token("alpha", WORKER_1),
        "admin": await api.token("alpha", COMMUNITY_ADMIN),
        "resident": resident["tokens"]["accessToken"],
    }
    spouse = next(m for m in members_of(done["household"]) if m["name"] == "步骤乙")["id"]
    states = ("current", "moved out")
    offered_to: dict[tuple[str, str], dict[str, bool]] = {}
    promised: dict[tuple[str, str, str], bool] = {}
    succeeded: dict[tuple[str, str, str], bool] = {}
    moved_out: dict[str, list[dict[str, str]]] = {}
    for state in states:
        for who, token in callers.items():
            offered = (await api.data(query, {"id": spouse}, token=token))["node"]["viewerCan"]
            offered_to[state, who] = offered
            for step, mutation in steps.items():
                if step == "moveOut" and offered[step]:
                    continue  # taken once, below, to reach the next state
                outcome = next(iter((await api.data(mutation, {"id": spouse}, token=token)).values()))
                promised[state, who, step] = offered[step]
                succeeded[state, who, step] = outcome["errors"] == []
        moved = await api.data(steps["moveOut"], {"id": spouse}, token=callers["worker"])
        moved_out[state] = moved["moveOutHouseholdMember"]["errors"]
    assert succeeded == promised
    assert offered_to == {
        (state, who): dict.fromkeys(steps, who != "resident" and state == "current")
        for state in states
        for who in callers
    }
    assert moved_out == {"current": [], "moved out": [{"code": "INVALID_TRANSITION"}]}
