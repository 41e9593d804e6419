"""Building leaders through the endpoint: appointed by their community's admins, shown on the
public board, seeing their buildings' residents (masked), relaying complaints for them and
reading their buildings' complaints as a copy they cannot act on; a dismissal or the end of a
term cuts all of it at the next request. "Now" is Tuesday 1 December 2026, 09:00 in Shanghai."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.applications import Starlette

from models.complaints import Complaint
from schema.complaints import COMPLAINT_CAN
from tests.conftest import COMMUNITY_ADMIN, OTHER_COMMUNITY_ADMIN, TENANT_ADMIN, WORKER_1, WORKER_2
from tests.support import Api, Clock, TenantHandle, fresh_phone, gid
from tests.test_viewer_can import COMPLAINT_STATES, Walk

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
LEADER = "leader { id startsOn endsOn serving leader { name phone } building { name } } errors { field code message }"
APPOINT = f"mutation($input: AppointBuildingLeaderInput!) {{ appointBuildingLeader(input: $input) {{ {LEADER} }} }}"
DISMISS = f"mutation($input: DismissBuildingLeaderInput!) {{ dismissBuildingLeader(input: $input) {{ {LEADER} }} }}"
VERIFY = "mutation($id: ID!) { verifyResident(input: {residentId: $id}) { errors { code } } }"
FILE = """mutation($input: FileComplaintInput!) { fileComplaint(input: $input) {
  complaint { id source resident { id name } building { id } } errors { field code message } } }"""
COMPLAINTS = """{ complaints(first: 50) { edges { node { id title viewerCan { accept startWork dispatch acceptWorkOrder
  returnToGrid resolve reject reassign supervise confirm reopen withdraw } } } } }"""
WORKERS = {"A1-G1": WORKER_1, "A1-G2": WORKER_2}


@pytest.fixture(autouse=True)
def frozen(clock: Clock) -> Iterator[None]:
    with clock.at(NOW):
        yield


async def verified(api: Api, alpha: TenantHandle, building: str, name: str = "居民") -> tuple[str, str]:
    """A new resident of the building, verified by its grid worker: their phone and Resident id."""
    phone = fresh_phone()
    registered = await api.register_resident("alpha", alpha.buildings[building], phone=phone, name=name)
    resident_id = registered["resident"]["id"]
    grid = building.rsplit("-", 1)[0]
    done = await api.data(VERIFY, {"id": resident_id}, token=await api.token("alpha", WORKERS[grid]))
    assert done["verifyResident"]["errors"] == [], done
    return phone, resident_id


async def fresh_token(api: Api, phone: str, tenant: str = "alpha") -> str:
    """A token issued now: an appointment or dismissal ends the person's earlier sessions."""
    login = await api.login(tenant, phone)
    assert login["errors"] == [], login
    return str(login["tokens"]["accessToken"])


async def appoint(api: Api, token: str, resident_id: str, building_id: str, **term: str) -> dict[str, Any]:
    values = {"residentId": resident_id, "buildingId": building_id, "startsOn": "2026-12-01", "endsOn": "2027-11-30"}
    return (await api.data(APPOINT, {"input": {**values, **term}}, token=token))["appointBuildingLeader"]


async def leader_of(api: Api, alpha: TenantHandle, building: str = "A1-G1-B2") -> tuple[str, str]:
    """A verified resident of the building appointed its leader by the community admin: their
    phone and the term's id."""
    phone, resident_id = await verified(api, alpha, building, name="楼栋长")
    appointed = await appoint(
        api, await api.token("alpha", COMMUNITY_ADMIN), resident_id, gid("Building", alpha.buildings[building])
    )
    assert appointed["errors"] == [], appointed
    return phone, appointed["leader"]["id"]


async def category(api: Api) -> str:
    found = await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", tenant="alpha")
    return str(found["complaintCategories"]["edges"][0]["node"]["id"])


async def relay(api: Api, token: str, resident_id: str, **where: Any) -> dict[str, Any]:
    draft = {"title": "楼道灯坏了", "content": "三单元楼道灯不亮。", "categoryId": await category(api), **where}
    values = {"source": "BUILDING_LEADER", "residentId": resident_id, "complaint": draft}
    return (await api.data(FILE, {"input": values}, token=token))["fileComplaint"]


async def test_a_community_admin_appoints_a_resident_and_the_board_shows_them_masked(
    api: Api, alpha: TenantHandle
) -> None:
    phone, term_id = await leader_of(api, alpha)
    board = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Building { leaders(first: 10) { edges { node { id leader { name phone } serving } } } } } }",
        {"id": gid("Building", alpha.buildings["A1-G1-B2"])},
        tenant="alpha",
    )
    shown = {e["node"]["id"]: e["node"] for e in board["node"]["leaders"]["edges"]}
    assert shown[term_id]["leader"] == {"name": "楼栋长", "phone": f"{phone[:3]}****{phone[-4:]}"}
    assert shown[term_id]["serving"] is True
    # The board shows the term, not whom it reaches nor its history.
    public = await api.data(
        "query($id: ID!) { node(id: $id) { ... on BuildingLeader { residents(first: 5) { edges { node { id } } } timeline(first: 5) { edges { node { action } } } } } }",
        {"id": term_id},
        tenant="alpha",
    )
    assert public["node"] == {"residents": {"edges": []}, "timeline": {"edges": []}}
    me = await api.data("{ me { roles { role } } }", token=await fresh_token(api, phone))
    assert {"role": "BUILDING_LEADER"} in me["me"]["roles"]
    timeline = await api.data(
        "query($id: ID!) { node(id: $id) { ... on BuildingLeader { timeline(first: 5) { edges { node { action actorName } } } } } }",
        {"id": term_id},
        token=await api.token("alpha", COMMUNITY_ADMIN),
    )
    assert [e["node"]["action"] for e in timeline["node"]["timeline"]["edges"]] == ["APPOINT"]


@pytest.mark.parametrize(
    ("tenant", "phone", "code"),
    [
        ("alpha", WORKER_1, "FORBIDDEN"),
        ("alpha", OTHER_COMMUNITY_ADMIN, "OUT_OF_SCOPE"),
        ("beta", TENANT_ADMIN, "NOT_FOUND"),
    ],
)
async def test_only_admins_over_the_building_appoint(
    api: Api, alpha: TenantHandle, tenant: str, phone: str, code: str
) -> None:
    _, resident_id = await verified(api, alpha, "A1-G1-B2")
    appointed = await appoint(
        api, await api.token(tenant, phone), resident_id, gid("Building", alpha.buildings["A1-G1-B2"])
    )
    assert appointed["leader"] is None
    assert code in {e["code"] for e in appointed["errors"]}, appointed


async def test_a_resident_not_yet_verified_cannot_be_appointed(api: Api, alpha: TenantHandle) -> None:
    registered = await api.register_resident("alpha", alpha.buildings["A1-G1-B2"])
    appointed = await appoint(
        api,
        await api.token("alpha", TENANT_ADMIN),
        registered["resident"]["id"],
        gid("Building", alpha.buildings["A1-G1-B2"]),
    )
    assert [e["code"] for e in appointed["errors"]] == ["NOT_FOUND"]


async def test_a_leader_sees_their_residents_masked_and_relays_a_complaint_for_one(
    api: Api, alpha: TenantHandle
) -> None:
    neighbour_phone, neighbour_id = await verified(api, alpha, "A1-G1-B2", name="邻居")
    _, elsewhere_id = await verified(api, alpha, "A1-G1-B1", name="别楼")
    phone, term_id = await leader_of(api, alpha)
    token = await fresh_token(api, phone)
    residents = await api.data(
        "query($id: ID!) { node(id: $id) { ... on BuildingLeader { residents(first: 100) { edges { node { id phone } } } } } }",
        {"id": term_id},
        token=token,
    )
    listed = {e["node"]["id"]: e["node"]["phone"] for e in residents["node"]["residents"]["edges"]}
    assert listed[neighbour_id] == f"{neighbour_phone[:3]}****{neighbour_phone[-4:]}"
    assert elsewhere_id not in listed
    assert (await api.data("query($id: ID!) { node(id: $id) { id } }", {"id": neighbour_id}, token=token))["node"]
    assert not (await api.data("query($id: ID!) { node(id: $id) { id } }", {"id": elsewhere_id}, token=token))["node"]

    relayed = await relay(api, token, neighbour_id)
    assert relayed["errors"] == [], relayed
    complaint = relayed["complaint"]
    assert complaint["source"] == "BUILDING_LEADER"
    assert complaint["resident"]["name"] == "邻居"
    assert complaint["building"]["id"] == gid("Building", alpha.buildings["A1-G1-B2"])
    # The resident sees it as their own; the grid worker has it in the inbox.
    mine = await api.data(COMPLAINTS, token=await api.token("alpha", neighbour_phone))
    assert complaint["id"] in {e["node"]["id"] for e in mine["complaints"]["edges"]}

    refused = await relay(api, token, elsewhere_id)
    assert [e["code"] for e in refused["errors"]] == ["NOT_FOUND"]
    other_building = await relay(api, token, neighbour_id, buildingId=gid("Building", alpha.buildings["A1-G1-B1"]))
    assert [e["code"] for e in other_building["errors"]] == ["OUT_OF_SCOPE"]
    by_phone = await api.data(
        FILE,
        {
            "input": {
                "source": "PHONE",
                "residentId": neighbour_id,
                "complaint": {"title": "t", "content": "c", "categoryId": await category(api)},
            }
        },
        token=token,
    )
    assert [e["code"] for e in by_phone["fileComplaint"]["errors"]] == ["FORBIDDEN"]
    worker_as_leader = await relay(api, await api.token("alpha", WORKER_1), neighbour_id)
    assert [e["code"] for e in worker_as_leader["errors"]] == ["FORBIDDEN"]


async def test_a_leader_reads_their_buildings_complaints_and_can_do_nothing_to_them(
    api: Api, alpha: TenantHandle
) -> None:
    resident_phone, _ = await verified(api, alpha, "A1-G1-B2")
    submitted = await api.data(
        "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { complaint { id } } }",
        {
            "input": {
                "complaint": {
                    "title": "电梯异响",
                    "content": "2号楼电梯运行有异响。",
                    "categoryId": await category(api),
                }
            }
        },
        token=await api.token("alpha", resident_phone),
    )
    complaint_id = submitted["submitComplaint"]["complaint"]["id"]
    elsewhere_phone, _ = await verified(api, alpha, "A1-G1-B1")
    elsewhere = await api.data(
        "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { complaint { id } } }",
        {"input": {"complaint": {"title": "别楼", "content": "别的楼。", "categoryId": await category(api)}}},
        token=await api.token("alpha", elsewhere_phone),
    )
    phone, _ = await leader_of(api, alpha)
    token = await fresh_token(api, phone)
    listed = {e["node"]["id"]: e["node"] for e in (await api.data(COMPLAINTS, token=token))["complaints"]["edges"]}
    assert complaint_id in listed
    assert elsewhere["submitComplaint"]["complaint"]["id"] not in listed
    assert not any(listed[complaint_id]["viewerCan"].values())
    steps: dict[str, tuple[str, dict[str, Any]]] = {
        "acceptComplaint": ("ComplaintStepInput", {}),
        "withdrawComplaint": ("ComplaintStepInput", {}),
        "rejectComplaint": ("ComplaintReasonInput", {"reason": "不属实"}),
        "superviseComplaint": ("SuperviseComplaintInput", {"note": "快", "dueInWorkingDays": 2}),
    }
    refused = {}
    for mutation, (input_type, extra) in steps.items():
        body = await api.data(
            f"mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ errors {{ code }} }} }}",
            {"input": {"complaintId": complaint_id, **extra}},
            token=token,
        )
        refused[mutation] = [e["code"] for e in body[mutation]["errors"]]
    assert refused == {mutation: ["FORBIDDEN"] for mutation in steps}


async def test_dismissal_cuts_access_at_once(api: Api, alpha: TenantHandle) -> None:
    _, neighbour_id = await verified(api, alpha, "A1-G1-B2")
    phone, term_id = await leader_of(api, alpha)
    token = await fresh_token(api, phone)
    assert (await relay(api, token, neighbour_id))["errors"] == []
    refused = await api.data(
        DISMISS, {"input": {"leaderId": term_id, "reason": "搬离本楼"}}, token=await api.token("alpha", WORKER_1)
    )
    assert [e["code"] for e in refused["dismissBuildingLeader"]["errors"]] == ["FORBIDDEN"]
    other = await api.data(
        DISMISS,
        {"input": {"leaderId": term_id, "reason": "搬离本楼"}},
        token=await api.token("alpha", OTHER_COMMUNITY_ADMIN),
    )
    assert [e["code"] for e in other["dismissBuildingLeader"]["errors"]] == ["NOT_FOUND"]
    dismissed = await api.data(
        DISMISS, {"input": {"leaderId": term_id, "reason": "搬离本楼"}}, token=await api.token("alpha", COMMUNITY_ADMIN)
    )
    assert dismissed["dismissBuildingLeader"]["leader"]["serving"] is False
    # The token issued before is refused outright; a new one carries no leader role.
    assert (await api.post(COMPLAINTS, token=token)).status_code == 401
    token = await fresh_token(api, phone)
    me = await api.data("{ me { roles { role } } }", token=token)
    assert {"role": "BUILDING_LEADER"} not in me["me"]["roles"]
    assert [e["code"] for e in (await relay(api, token, neighbour_id))["errors"]] == ["FORBIDDEN"]
    assert (await api.data("query($id: ID!) { node(id: $id) { id } }", {"id": neighbour_id}, token=token))[
        "node"
    ] is None
    again = await api.data(
        DISMISS, {"input": {"leaderId": term_id, "reason": "再免"}}, token=await api.token("alpha", COMMUNITY_ADMIN)
    )
    assert [e["code"] for e in again["dismissBuildingLeader"]["errors"]] == ["INVALID_TRANSITION"]


async def test_the_end_of_a_term_cuts_access_without_anyone_acting(api: Api, alpha: TenantHandle, clock: Clock) -> None:
    neighbour_phone, neighbour_id = await verified(api, alpha, "A1-G1-B2")
    submitted = await api.data(
        "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { complaint { id } } }",
        {"input": {"complaint": {"title": "水管", "content": "水管漏水。", "categoryId": await category(api)}}},
        token=await api.token("alpha", neighbour_phone),
    )
    complaint_id = submitted["submitComplaint"]["complaint"]["id"]
    phone, resident_id = await verified(api, alpha, "A1-G1-B2", name="短任期")
    short = await appoint(
        api,
        await api.token("alpha", COMMUNITY_ADMIN),
        resident_id,
        gid("Building", alpha.buildings["A1-G1-B2"]),
        endsOn="2026-12-02",
    )
    assert short["errors"] == []
    token = await fresh_token(api, phone)
    seen = "query($id: ID!) { node(id: $id) { id } }"
    assert (await api.data(seen, {"id": complaint_id}, token=token))["node"] is not None
    with clock.at(datetime(2026, 12, 2, 15, 59, tzinfo=UTC)):  # 23:59 on its last day
        token = await fresh_token(api, phone)
        assert (await api.data(seen, {"id": complaint_id}, token=token))["node"] is not None
    with clock.at(datetime(2026, 12, 2, 16, 0, tzinfo=UTC)):  # midnight: the term is over
        token = await fresh_token(api, phone)
        assert (await api.data(seen, {"id": complaint_id}, token=token))["node"] is None
        assert (await api.data(seen, {"id": neighbour_id}, token=token))["node"] is None
        assert [e["code"] for e in (await relay(api, token, neighbour_id))["errors"]] == ["NOT_FOUND"]
        board = await api.data(
            "query($id: ID!) { node(id: $id) { ... on Building { leaders(first: 50) { edges { node { id } } } } } }",
            {"id": gid("Building", alpha.buildings["A1-G1-B2"])},
            tenant="alpha",
        )
        assert short["leader"]["id"] not in {e["node"]["id"] for e in board["node"]["leaders"]["edges"]}


async def test_a_term_cannot_start_in_the_past_nor_overlap_the_same_leaders_term(api: Api, alpha: TenantHandle) -> None:
    _, resident_id = await verified(api, alpha, "A1-G1-B2")
    token = await api.token("alpha", COMMUNITY_ADMIN)
    building = gid("Building", alpha.buildings["A1-G1-B2"])
    past = await appoint(api, token, resident_id, building, startsOn="2026-11-30")
    assert [e["field"] for e in past["errors"]] == ["startsOn"]
    assert (await appoint(api, token, resident_id, building))["errors"] == []
    again = await appoint(api, token, resident_id, building, startsOn="2027-06-01", endsOn="2028-05-31")
    assert [e["code"] for e in again["errors"]] == ["ALREADY_LEADER"]


async def test_ten_admins_appointing_the_same_resident_at_once_make_one_term(api: Api, alpha: TenantHandle) -> None:
    _, resident_id = await verified(api, alpha, "A1-G1-B2")
    building = gid("Building", alpha.buildings["A1-G1-B2"])
    tokens = [await api.token("alpha", admin) for admin in (COMMUNITY_ADMIN, TENANT_ADMIN)]
    results = await asyncio.gather(*(appoint(api, tokens[n % 2], resident_id, building) for n in range(10)))
    assert sorted(tuple(e["code"] for e in r["errors"]) for r in results) == [()] + [("ALREADY_LEADER",)] * 9
    # The one term stands: the same appointment once more is refused.
    assert [e["code"] for e in (await appoint(api, tokens[0], resident_id, building))["errors"]] == ["ALREADY_LEADER"]


async def test_the_register_and_the_board_take_the_same_statements_whatever_the_page(
    api: Api, alpha: TenantHandle
) -> None:

    for _ in range(3):
        await leader_of(api, alpha)
    query = """query($n: Int!) { buildingLeaders(first: $n) { totalCount edges { node { id leader { name }
      building { name leaders(first: 3) { edges { node { id } } } } timeline(first: 3) { edges { node { action } } }
      residents(first: 3) { totalCount edges { node { id } } } } } } }"""

    async def statements(n: int, token: str) -> int:
        return await api.statements(query, {"n": n}, token=token)

    one, three = {}, {}
    for phone in (TENANT_ADMIN, COMMUNITY_ADMIN):
        token = await api.token("alpha", phone)
        one[phone], three[phone] = await statements(1, token), await statements(3, token)
    assert one == three


@pytest.mark.parametrize("state", COMPLAINT_STATES)
async def test_a_leaders_copy_of_a_complaint_offers_and_takes_no_step_in_any_state(
    state: str, api: Api, app: Starlette, alpha: TenantHandle
) -> None:
    resident_phone, _ = await verified(api, alpha, "A1-G1-B2")
    submitted = await api.data(
        "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { complaint { id } } }",
        {"input": {"complaint": {"title": "walk", "content": "每个状态", "categoryId": await category(api)}}},
        token=await api.token("alpha", resident_phone),
    )
    complaint_id = submitted["submitComplaint"]["complaint"]["id"]
    phone, _ = await leader_of(api, alpha)
    step = {"complaintId": complaint_id}
    walk = Walk(
        api,
        app,
        alpha.id,
        Complaint,
        complaint_id,
        COMPLAINT_CAN,
        {
            "acceptComplaint": lambda _: step,
            "startComplaintWork": lambda _: step,
            "dispatchComplaint": lambda _: {
                **step,
                "departmentId": gid("Department", uuid.uuid4()),
                "dueInWorkingDays": 5,
            },
            "acceptWorkOrder": lambda _: step,
            "returnComplaintToGrid": lambda _: {**step, "reason": "不属于本部门"},
            "resolveComplaint": lambda _: {**step, "reply": "已处理"},
            "rejectComplaint": lambda _: {**step, "reason": "重复反映"},
            "reassignComplaint": lambda _: {**step, "gridId": gid("Grid", alpha.grids["A1-G2"])},
            "superviseComplaint": lambda _: {**step, "note": "请加快", "dueInWorkingDays": 3},
            "confirmComplaint": lambda _: {**step, "rating": 5},
            "reopenComplaint": lambda _: {**step, "reason": "没有修好"},
            "withdrawComplaint": lambda _: step,
        },
    )
    await walk.check({"resolved_at": NOW, **COMPLAINT_STATES[state]}, {"building leader": phone})
    listed = await walk.listed(await api.token("alpha", phone))
    assert not any(listed.values())
