"""Inspection rounds (巡检记录): a round walked item by item, a problem filed as a complaint in
the round's grid and linked both ways, the round finished only once complete, hazards open
until their complaint is resolved; other workers, roles and offices refused."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, update
from starlette.applications import Starlette
from strawberry.relay import from_base64

from models.database import counting_statements
from models.inspections import Finding, InspectionRound, RoundStatus
from tenants.context import unit_of_work
from tests.gridwork import ADMIN, C1_ADMIN, C2_ADMIN, W1, W2
from tests.media_files import photo
from tests.support import Api, Clock, TenantHandle, gid

ROUND = """id status checklistName itemsTotal itemsRecorded problems problemsResolved
  viewerCan { recordItem finish abandon } grid { name } worker { name }
  findings(first: 10) { edges { node { itemLabel outcome note resolved photoUrl complaint { id source status } } } }"""
START = f"""mutation($input: StartInspectionRoundInput!) {{ startInspectionRound(input: $input) {{
  round {{ {ROUND} }} errors {{ field code message }} }} }}"""
RECORD = f"""mutation($input: RecordInspectionRoundItemInput!) {{ recordInspectionRoundItem(input: $input) {{
  round {{ {ROUND} }} errors {{ field code message }} }} }}"""
FINISH = f"""mutation($input: InspectionRoundStepInput!) {{ finishInspectionRound(input: $input) {{
  round {{ {ROUND} }} errors {{ field code message }} }} }}"""
HAZARDS = "query($grid: ID) { openHazards(gridId: $grid, first: 20) { totalCount edges { node { id itemLabel round { id } } } } }"


def uuid_of(global_id: str) -> uuid.UUID:
    return uuid.UUID(from_base64(global_id)[1])


async def _checklist(api: Api, token: str) -> dict[str, Any]:
    found = await api.data(
        "{ inspectionChecklists(first: 5) { edges { node { id name items { id code label } } } } }", token=token
    )
    return found["inspectionChecklists"]["edges"][0]["node"]


async def start_round(
    api: Api, token: str, mapped: TenantHandle, grid: str = "C1-G1"
) -> tuple[dict[str, Any], dict[str, str]]:
    checklist = await _checklist(api, token)
    started = await api.data(
        START, {"input": {"gridId": gid("Grid", mapped.grids[grid]), "checklistId": checklist["id"]}}, token=token
    )
    assert started["startInspectionRound"]["errors"] == [], started
    return started["startInspectionRound"]["round"], {item["code"]: item["id"] for item in checklist["items"]}


async def record_item(api: Api, token: str, round_id: str, item: str, outcome: str, **extra: Any) -> dict[str, Any]:
    body = await api.data(
        RECORD, {"input": {"roundId": round_id, "itemId": item, "outcome": outcome, **extra}}, token=token
    )
    return body["recordInspectionRoundItem"]


async def test_a_round_walked_to_the_end_with_a_problem_filed_as_a_complaint(api: Api, mapped: TenantHandle) -> None:
    token = await api.token("mapped", W1)
    started, items = await start_round(api, token, mapped)
    assert (started["status"], started["itemsTotal"], started["itemsRecorded"]) == ("IN_PROGRESS", 3, 0)
    assert started["viewerCan"] == {"recordItem": True, "finish": False, "abandon": True}
    round_id = started["id"]

    fine = await record_item(api, token, round_id, items["fire-exit"], "FINE", longitude=109.8405, latitude=40.6505)
    assert fine["errors"] == [] and fine["round"]["itemsRecorded"] == 1
    twice = await record_item(api, token, round_id, items["fire-exit"], "FINE")
    assert [e["code"] for e in twice["errors"]] == ["DUPLICATE"]
    vague = await record_item(api, token, round_id, items["stairwell"], "PROBLEM")
    assert [e["field"] for e in vague["errors"]] == ["note"]
    early = (await api.data(FINISH, {"input": {"roundId": round_id}}, token=token))["finishInspectionRound"]
    assert [e["code"] for e in early["errors"]] == ["INVALID_TRANSITION"]

    uploaded = await api.upload_ahead("wx-tmp.jpg", photo("image/jpeg"), "image/jpeg", token=token)
    problem = await record_item(
        api,
        token,
        round_id,
        items["stairwell"],
        "PROBLEM",
        note="3单元楼道堆放纸箱",
        longitude=109.841,
        latitude=40.651,
        buildingId=gid("Building", mapped.buildings["C1-G1-B1"]),
        photoId=uploaded.json()["id"],
    )
    assert problem["errors"] == []
    assert (problem["round"]["problems"], problem["round"]["problemsResolved"]) == (1, 0)
    found = next(e["node"] for e in problem["round"]["findings"]["edges"] if e["node"]["outcome"] == "PROBLEM")
    assert found["resolved"] is False and found["complaint"]["source"] == "INSPECTION"
    assert found["photoUrl"].startswith("http")  # the complaint's photo, stored once
    complaint_id = found["complaint"]["id"]
    linked = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Complaint { title grid { name } inspectionRound { id } attachments { kind } } } }",
        {"id": complaint_id},
        token=token,
    )
    assert linked["node"] == {
        "title": "巡检发现：楼道无堆物",
        "grid": {"name": "万青一网格"},
        "inspectionRound": {"id": round_id},
        "attachments": [{"kind": "IMAGE"}],
    }
    hazards = (await api.data(HAZARDS, {"grid": gid("Grid", mapped.grids["C1-G1"])}, token=token))["openHazards"]
    assert round_id in [e["node"]["round"]["id"] for e in hazards["edges"]]

    await record_item(api, token, round_id, items["facilities"], "FINE")
    done = (await api.data(FINISH, {"input": {"roundId": round_id}}, token=token))["finishInspectionRound"]
    assert done["errors"] == [] and done["round"]["status"] == "FINISHED"
    assert done["round"]["viewerCan"] == {"recordItem": False, "finish": False, "abandon": False}
    late = await record_item(api, token, round_id, items["facilities"], "FINE")
    assert [e["code"] for e in late["errors"]] == ["INVALID_TRANSITION"]

    moved = {}
    for step, extra in (
        ("acceptComplaint", {}),
        ("startComplaintWork", {}),
        ("resolveComplaint", {"reply": "纸箱已清理"}),
    ):
        input_type = "ResolveComplaintInput" if extra else "ComplaintStepInput"
        body = await api.data(
            f"mutation($input: {input_type}!) {{ {step}(input: $input) {{ errors {{ code }} }} }}",
            {"input": {"complaintId": complaint_id, **extra}},
            token=token,
        )
        moved[step] = body[step]["errors"]
    assert moved == {"acceptComplaint": [], "startComplaintWork": [], "resolveComplaint": []}
    after = await api.data(
        f"query($id: ID!) {{ node(id: $id) {{ ... on InspectionRound {{ {ROUND} }} }} }}", {"id": round_id}, token=token
    )
    assert after["node"]["problemsResolved"] == 1
    hazards = (await api.data(HAZARDS, {"grid": gid("Grid", mapped.grids["C1-G1"])}, token=token))["openHazards"]
    assert round_id not in [e["node"]["round"]["id"] for e in hazards["edges"]]


async def test_rounds_are_the_worker_their_admins_and_no_one_elses(api: Api, mapped: TenantHandle) -> None:
    token = await api.token("mapped", W1)
    started, items = await start_round(api, token, mapped)
    round_id = started["id"]
    other_worker = await api.token("mapped", W2)
    assert [
        e["code"] for e in (await record_item(api, other_worker, round_id, items["fire-exit"], "FINE"))["errors"]
    ] == ["NOT_FOUND"]
    elsewhere = await api.data(
        START,
        {
            "input": {
                "gridId": gid("Grid", mapped.grids["C1-G1"]),
                "checklistId": (await _checklist(api, other_worker))["id"],
            }
        },
        token=other_worker,
    )
    assert [e["code"] for e in elsewhere["startInspectionRound"]["errors"]] == ["OUT_OF_SCOPE"]
    query = "query($id: ID!) { node(id: $id) { ... on InspectionRound { id viewerCan { recordItem abandon } } } }"
    admin = (await api.data(query, {"id": round_id}, token=await api.token("mapped", C1_ADMIN)))["node"]
    assert admin == {"id": round_id, "viewerCan": {"recordItem": False, "abandon": True}}
    outsiders = (("mapped", C2_ADMIN), ("mapped", W2), ("beta", "13900000001"), ("beta", "13900000011"))
    seen = {
        (tenant, phone): (await api.data(query, {"id": round_id}, token=await api.token(tenant, phone)))["node"]
        for tenant, phone in outsiders
    }
    assert seen == dict.fromkeys(outsiders)
    refused = await api.run(
        "{ inspectionRounds(first: 5) { totalCount } }", token=await api.token("alpha", "13900000021")
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    abandoned = await api.data(
        "mutation($input: InspectionRoundStepInput!) { abandonInspectionRound(input: $input) { round { status } errors { code } } }",
        {"input": {"roundId": round_id}},
        token=await api.token("mapped", C1_ADMIN),
    )
    assert abandoned["abandonInspectionRound"]["round"]["status"] == "ABANDONED"


async def test_rounds_per_worker_and_grid_over_time_page_in_constant_statements(api: Api, mapped: TenantHandle) -> None:
    token = await api.token("mapped", W1)
    for _ in range(3):
        started, items = await start_round(api, token, mapped)
        await record_item(api, token, started["id"], items["fire-exit"], "FINE")
    admin = await api.token("mapped", ADMIN)
    query = f"""query($filter: InspectionRoundFilter, $first: Int!) {{ inspectionRounds(filter: $filter, first: $first) {{
      totalCount edges {{ node {{ {ROUND} checklist {{ name }} }} }} }} }}"""
    worker = (
        await api.data(
            "query($id: ID!) { node(id: $id) { ... on Grid { worker { id } } } }",
            {"id": gid("Grid", mapped.grids["C1-G1"])},
            token=admin,
        )
    )["node"]["worker"]["id"]
    mine = {"workerId": worker, "gridId": gid("Grid", mapped.grids["C1-G1"])}
    await api.data(query, {"filter": mine, "first": 1}, token=admin)  # warm the caches
    counts, sizes = [], []
    for first in (1, 3):
        with counting_statements() as counter:
            data = await api.data(query, {"filter": mine, "first": first}, token=admin)
        counts.append(counter.count)
        sizes.append(len(data["inspectionRounds"]["edges"]))
    assert sizes == [1, 3]
    assert counts[0] == counts[1]
    assert data["inspectionRounds"]["totalCount"] >= 3
    none = await api.data(
        query, {"filter": {**mine, "startedTo": "2020-01-01T00:00:00+08:00"}, "first": 3}, token=admin
    )
    assert none["inspectionRounds"]["totalCount"] == 0
    day = await api.data("{ myWorkday { roundsToday roundsThisWeek complaintsWaiting } }", token=token)
    assert day["myWorkday"]["roundsToday"] >= 3 and day["myWorkday"]["roundsThisWeek"] >= 3


# --- viewerCan tells the truth ---------------------------------------------------------------

WALK_STATES: dict[str, tuple[RoundStatus, int]] = {  # status, items recorded (of 3)
    "in progress, an item left": (RoundStatus.IN_PROGRESS, 2),
    "in progress, every item recorded": (RoundStatus.IN_PROGRESS, 3),
    "finished": (RoundStatus.FINISHED, 3),
    "abandoned": (RoundStatus.ABANDONED, 1),
}
WALK_MUTATIONS = {
    "recordItem": ("recordInspectionRoundItem", "RecordInspectionRoundItemInput"),
    "finish": ("finishInspectionRound", "InspectionRoundStepInput"),
    "abandon": ("abandonInspectionRound", "InspectionRoundStepInput"),
}


@pytest.mark.parametrize("state", WALK_STATES)
async def test_a_rounds_viewer_can_is_what_its_mutations_accept(
    api: Api, app: Starlette, mapped: TenantHandle, state: str
) -> None:
    """For each state and each role that sees the round, the steps viewerCan lists are exactly
    the mutations that succeed from it (the round is put back after each)."""
    worker = await api.token("mapped", W1)
    started, items = await start_round(api, worker, mapped)
    round_id = started["id"]
    order = ["fire-exit", "stairwell", "facilities"]
    status, recorded = WALK_STATES[state]
    for code in order[:recorded]:
        assert (await record_item(api, worker, round_id, items[code], "FINE"))["errors"] == []
    kept = {uuid_of(items[code]) for code in order[:recorded]}

    async def put_back() -> None:
        services = app.state.services
        tenant = await services.directory.by_id(mapped.id)
        async with unit_of_work(services, tenant=tenant, viewer=None, writes=True) as ctx:
            assert ctx.session is not None
            round_key = uuid_of(round_id)
            await ctx.session.execute(
                delete(Finding).where(Finding.round_id == round_key, Finding.item_id.not_in(kept))
            )
            await ctx.session.execute(
                update(InspectionRound).where(InspectionRound.id == round_key).values(status=status, ended_at=None)
            )

    await put_back()
    listed_to, accepted_from = {}, {}
    for phone in (W1, C1_ADMIN, ADMIN):
        token = await api.token("mapped", phone)
        query = (
            "query($id: ID!) { node(id: $id) { ... on InspectionRound { viewerCan { recordItem finish abandon } } } }"
        )
        listed = (await api.data(query, {"id": round_id}, token=token))["node"]["viewerCan"]
        accepted = {}
        for field, (mutation, input_type) in WALK_MUTATIONS.items():
            extra = {"itemId": items[order[2]], "outcome": "FINE"} if field == "recordItem" else {}
            body = await api.data(
                f"mutation($input: {input_type}!) {{ {mutation}(input: $input) {{ errors {{ code }} }} }}",
                {"input": {"roundId": round_id, **extra}},
                token=token,
            )
            accepted[field] = body[mutation]["errors"] == []
            if accepted[field]:
                await put_back()
        listed_to[phone], accepted_from[phone] = listed, accepted
    assert listed_to == accepted_from, state


async def test_a_tally_of_rounds_per_grid_and_worker_over_a_period(
    api: Api, clock: Clock, mapped: TenantHandle
) -> None:
    day = datetime(2027, 1, 5, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with clock.at(day):
        worker = await api.token("mapped", W2)
        first, items = await start_round(api, worker, mapped, "C1-G2")
        await start_round(api, worker, mapped, "C1-G2")
        problem = await record_item(api, worker, first["id"], items["facilities"], "PROBLEM", note="健身器材损坏")
        assert problem["errors"] == []
        query = """query($from: DateTime!, $to: DateTime!, $community: ID, $first: Int!) {
          inspectionTally(startedFrom: $from, startedTo: $to, communityId: $community, first: $first) {
            totalCount edges { node { grid { code } worker { name } rounds roundsFinished problems hazardsOpen } } } }"""
        window = {"from": "2027-01-05T00:00:00+08:00", "to": "2027-01-06T00:00:00+08:00"}
        community = gid("Community", mapped.communities["C1"])
        admin = await api.token("mapped", C1_ADMIN)
        await api.data(query, {**window, "community": community, "first": 1}, token=admin)  # warm the caches
        counts = []
        for size in (1, 4):
            with counting_statements() as counter:
                data = await api.data(query, {**window, "community": community, "first": size}, token=admin)
            counts.append(counter.count)
        assert counts[0] == counts[1]
        tally = {e["node"]["grid"]["code"]: e["node"] for e in data["inspectionTally"]["edges"]}
        assert data["inspectionTally"]["totalCount"] == 4
        assert tally["C1-G2"] == {
            "grid": {"code": "C1-G2"},
            "worker": {"name": "网格员乙"},
            "rounds": 2,
            "roundsFinished": 0,
            "problems": 1,
            "hazardsOpen": 1,
        }
        assert tally["C1-G1"]["rounds"] == 0
        later = {"from": "2027-01-06T00:00:00+08:00", "to": "2027-01-07T00:00:00+08:00"}
        quiet = await api.data(query, {**later, "community": community, "first": 4}, token=admin)
        assert {e["node"]["rounds"] for e in quiet["inspectionTally"]["edges"]} == {0}
        own = await api.data(query, {**window, "community": None, "first": 10}, token=worker)
        assert [e["node"]["grid"]["code"] for e in own["inspectionTally"]["edges"]] == ["C1-G2"]
        other = await api.data(
            query, {**window, "community": community, "first": 10}, token=await api.token("mapped", C2_ADMIN)
        )
        assert other["inspectionTally"]["totalCount"] == 0
