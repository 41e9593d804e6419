"""Home visits (入户走访) through the endpoint: recording and its scope, findings filed as complaints
and linked back, care visits due by the office's care tags, the sweep's reminders, coverage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette

from server.jobs import sweep_tenant
from tests.conftest import COMMUNITY_ADMIN, STAFF, TENANT_ADMIN, WORKER_1, WORKER_2
from tests.media_files import photo
from tests.support import Api, Clock, TenantHandle, code_of, gid
from tests.test_households import fresh_room, member, register_household

RECORD = """mutation($input: RecordHouseholdVisitInput!) { recordHouseholdVisit(input: $input) {
  visit { id kind visitedAt latitude notes followUpOn worker { name }
          household { id room }
          findings { description complaint { id title status source resident { name } } } photos { url } }
  errors { field code message } } }"""
DUE = """query($days: Int!) { careVisitsDue(first: 100, withinDays: $days) {
  edges { node { everyDays overdue dueAt lastVisitedAt household { id } } } } }"""


async def record(
    api: Api, household_id: str, phone: str = WORKER_1, tenant: str = "alpha", **fields: Any
) -> dict[str, Any]:
    body = await api.data(
        RECORD,
        {"input": {"householdId": household_id, "kind": "ROUTINE", **fields}},
        token=await api.token(tenant, phone),
    )
    return body["recordHouseholdVisit"]


async def category(api: Api) -> str:
    data = await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", tenant="alpha")
    return data["complaintCategories"]["edges"][0]["node"]["id"]


async def test_a_grid_worker_records_a_visit_and_a_finding_becomes_the_households_complaint(
    api: Api, alpha: TenantHandle
) -> None:
    room = fresh_room()
    household = (await register_household(api, alpha, member("吴大爷"), room=room))["household"]
    resident = await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], name="吴大爷", room=room)
    await api.data(
        "mutation($id: ID!) { verifyResident(input: {residentId: $id}) { errors { code } } }",
        {"id": resident["resident"]["id"]},
        token=await api.token("alpha", WORKER_1),
    )
    done = await record(
        api,
        household["id"],
        kind="CARE",
        latitude=40.657,
        longitude=109.84,
        notes="老人身体尚好，独自居住。",
        followUpOn=(datetime.now(UTC) + timedelta(days=7)).date().isoformat(),
        findings=[
            {"description": "楼道声控灯损坏，夜间无照明", "fileAsComplaint": True, "categoryId": await category(api)},
            {"description": "希望了解高龄津贴申领"},
        ],
    )
    assert done["errors"] == []
    visit = done["visit"]
    assert (
        visit["kind"] == "CARE"
        and visit["worker"]["name"] == "网格员一"
        and visit["household"]["id"] == household["id"]
    )
    filed, asked = visit["findings"]
    assert asked == {"description": "希望了解高龄津贴申领", "complaint": None}
    complaint = filed["complaint"]
    assert complaint["source"] == "VISIT" and complaint["status"] == "SUBMITTED"
    assert complaint["resident"]["name"] == "吴大爷", "filed on the household's behalf"
    # The resident sees the complaint filed for them.
    mine = await api.data("{ complaints(first: 5) { edges { node { id } } } }", token=resident["tokens"]["accessToken"])
    assert complaint["id"] in [e["node"]["id"] for e in mine["complaints"]["edges"]]
    listed = await api.data(
        "query($h: ID!) { householdVisits(first: 5, filter: {householdId: $h}) { totalCount edges { node { id } } } }",
        {"h": household["id"]},
        token=await api.token("alpha", COMMUNITY_ADMIN),
    )
    assert listed["householdVisits"]["totalCount"] == 1


async def test_visits_are_recorded_only_by_those_who_manage_the_household(api: Api, alpha: TenantHandle) -> None:
    household = (await register_household(api, alpha))["household"]
    outsiders = (("alpha", WORKER_2), ("beta", TENANT_ADMIN), ("beta", WORKER_1))
    refused = {}
    for tenant, phone in outsiders:
        answer = await record(api, household["id"], phone=phone, tenant=tenant)
        refused[tenant, phone] = (answer["visit"], [e["code"] for e in answer["errors"]])
    assert refused == dict.fromkeys(outsiders, (None, ["NOT_FOUND"]))
    assert [e["code"] for e in (await record(api, household["id"], phone=STAFF))["errors"]] == ["FORBIDDEN"]
    resident = (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]
    body = await api.data(RECORD, {"input": {"householdId": household["id"], "kind": "ROUTINE"}}, token=resident)
    assert [e["code"] for e in body["recordHouseholdVisit"]["errors"]] == ["FORBIDDEN"]
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    wrong = await record(
        api,
        household["id"],
        visitedAt=later,
        latitude=40.0,
        findings=[{"description": "需转诉求", "fileAsComplaint": True}],
    )
    assert {(e["field"], e["code"]) for e in wrong["errors"]} == {
        ("visitedAt", "INVALID"),
        ("latitude", "INVALID"),
        ("findings.0.categoryId", "INVALID"),
    }
    visits = await api.data(
        "query($h: ID!) { node(id: $h) { ... on Household { visits(first: 5) { totalCount } } } }",
        {"h": household["id"]},
        token=await api.token("alpha", WORKER_1),
    )
    assert visits["node"]["visits"]["totalCount"] == 0, "nothing written on failure"
    callers = {"staff": await api.token("alpha", STAFF), "resident": resident}
    listed = {
        who: code_of(await api.run("{ householdVisits(first: 1) { totalCount } }", token=token))
        for who, token in callers.items()
    }
    assert listed == dict.fromkeys(callers, "FORBIDDEN")


async def due_households(api: Api, phone: str, days: int = 0) -> dict[str, dict[str, Any]]:
    data = await api.data(DUE, {"days": days}, token=await api.token("alpha", phone))
    return {e["node"]["household"]["id"]: e["node"] for e in data["careVisitsDue"]["edges"]}


async def test_care_households_fall_due_by_their_most_demanding_tag_until_visited(
    api: Api, alpha: TenantHandle, clock: Clock
) -> None:
    alone = (await register_household(api, alpha, member("郑奶奶", careTags=["独居老人", "低保"])))["household"]
    veteran = (await register_household(api, alpha, member("冯大爷", careTags=["退役军人"])))["household"]
    assert alone["id"] not in await due_households(api, WORKER_1)
    assert alone["id"] in await due_households(api, WORKER_1, days=7)
    with clock.later(timedelta(days=8)):
        due = await due_households(api, WORKER_1)
        assert due[alone["id"]]["everyDays"] == 7 and due[alone["id"]]["overdue"] is True
        assert veteran["id"] not in due, "a tag that asks for no visits"
        assert alone["id"] not in await due_households(api, WORKER_2)
        assert alone["id"] in await due_households(api, COMMUNITY_ADMIN)
        assert (await record(api, alone["id"], kind="CARE"))["errors"] == []
        assert alone["id"] not in await due_households(api, WORKER_1)
    with clock.later(timedelta(days=16)):
        again = await due_households(api, WORKER_1)
        assert again[alone["id"]]["lastVisitedAt"] is not None


async def test_the_sweep_tells_the_worker_and_admins_once_per_missed_visit(
    api: Api, alpha: TenantHandle, app: Starlette, clock: Clock
) -> None:
    household = (await register_household(api, alpha, member("陈奶奶", careTags=["独居老人"])))["household"]
    services = app.state.services
    tenant = await services.directory.by_id(alpha.id)
    notices = "{ notifications(first: 100) { edges { node { kind subject { id } } } } }"

    async def told(phone: str) -> int:
        data = await api.data(notices, token=await api.token("alpha", phone))
        return sum(
            1
            for e in data["notifications"]["edges"]
            if e["node"]["kind"] == "CARE_VISIT_OVERDUE" and (e["node"]["subject"] or {}).get("id") == household["id"]
        )

    with clock.later(timedelta(days=8)):
        assert (await sweep_tenant(services, tenant)).care_visits_overdue >= 1
        await sweep_tenant(services, tenant)
        assert await told(WORKER_1) == 1 and await told(COMMUNITY_ADMIN) == 1 and await told(TENANT_ADMIN) == 1
        assert await told(WORKER_2) == 0
        await record(api, household["id"], kind="CARE")
    with clock.later(timedelta(days=16)):
        await sweep_tenant(services, tenant)
        assert await told(WORKER_1) == 2, "missed again after the visit: told again"


async def test_coverage_counts_households_visited_in_the_period(api: Api, alpha: TenantHandle) -> None:
    visited = (await register_household(api, alpha, building="A1-G2-B1", phone=WORKER_2))["household"]
    await register_household(api, alpha, building="A1-G2-B1", phone=WORKER_2)
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    before = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    query = """query($since: DateTime!, $before: DateTime!) { visitCoverage(since: $since, before: $before, first: 10) {
      totalCount edges { node { grid { code } households visited careHouseholds overdue rate } } } }"""

    async def coverage(phone: str, tenant: str = "alpha") -> dict[str, dict[str, Any]]:
        data = await api.data(query, {"since": since, "before": before}, token=await api.token(tenant, phone))
        return {e["node"]["grid"]["code"]: e["node"] for e in data["visitCoverage"]["edges"]}

    before_visit = (await coverage(WORKER_2))["A1-G2"]
    await record(api, visited["id"], phone=WORKER_2)
    await record(api, visited["id"], phone=WORKER_2)
    after_visit = (await coverage(WORKER_2))["A1-G2"]
    assert after_visit["visited"] == before_visit["visited"] + 1, "a household visited twice counts once"
    assert after_visit["households"] >= 2 and 0 < after_visit["rate"] <= 1
    assert set(await coverage(WORKER_2)) == {"A1-G2"}
    assert set(await coverage(COMMUNITY_ADMIN)) == {"A1-G1", "A1-G2"}
    assert {"A1-G1", "A1-G2", "A2-G1", "A2-G2"} <= set(await coverage(TENANT_ADMIN))
    assert set(await coverage(TENANT_ADMIN, "beta")) == {"B1-G1"}


async def test_visit_lists_cost_the_same_whatever_the_page(api: Api, alpha: TenantHandle) -> None:
    household = (await register_household(api, alpha, member("杨阿姨", careTags=["独居老人"])))["household"]
    for _ in range(5):
        await record(api, household["id"], findings=[{"description": "门锁松动"}])
    query = """query($n: Int!) { householdVisits(first: $n) { edges { node { kind worker { name }
      household { room members(first: 3) { edges { node { name careTags } } } } findings { description } photos { url } } } }
      careVisitsDue(first: $n, withinDays: 31) { edges { node { dueAt household { room } } } } }"""
    worker = await api.token("alpha", WORKER_1)
    await api.data(query, {"n": 1}, token=worker)

    assert await api.statements(query, {"n": 2}, token=worker) == await api.statements(query, {"n": 5}, token=worker)


async def test_a_grid_workers_day_counts_the_care_visits_due_by_tomorrow(
    api: Api, alpha: TenantHandle, clock: Clock
) -> None:
    """`myWorkday.visitsDue` for the worker, `communityWorkdays` for their admin: the households
    careVisitsDue(withinDays: 1) lists to the worker."""
    household = (await register_household(api, alpha, member("何奶奶", careTags=["独居老人"])))["household"]
    community = gid("Community", alpha.communities["A1"])
    overview = """query($c: ID!) { communityWorkdays(communityId: $c, first: 50) {
      edges { node { worker { phone } visitsDue } } } }"""

    async def visits_due() -> tuple[int, int, dict[str, int]]:
        mine = await api.data("{ myWorkday { visitsDue } }", token=await api.token("alpha", WORKER_1))
        listed = await due_households(api, WORKER_1, days=1)
        day = await api.data(overview, {"c": community}, token=await api.token("alpha", COMMUNITY_ADMIN))
        each = {e["node"]["worker"]["phone"]: e["node"]["visitsDue"] for e in day["communityWorkdays"]["edges"]}
        return mine["myWorkday"]["visitsDue"], len(listed), each

    before, listed_before, _ = await visits_due()
    assert before == listed_before and household["id"] not in await due_households(api, WORKER_1, days=1)
    with clock.later(timedelta(days=6, hours=12)):
        now, listed_now, each = await visits_due()
        assert household["id"] in await due_households(api, WORKER_1, days=1)
        assert now == listed_now >= before + 1
        assert len(each) >= 2 and sum(each.values()) >= now, "every worker of the community has their own count"
        worker_2 = await api.data("{ myWorkday { visitsDue } }", token=await api.token("alpha", WORKER_2))
        assert household["id"] not in await due_households(api, WORKER_2, days=1)
        assert worker_2["myWorkday"]["visitsDue"] == len(await due_households(api, WORKER_2, days=1))


async def test_photos_uploaded_ahead_go_with_the_visit_once(api: Api, alpha: TenantHandle) -> None:
    household = (await register_household(api, alpha))["household"]
    token = await api.token("alpha", WORKER_1)
    uploaded = (await api.upload_ahead("visit.jpg", photo("image/jpeg"), "image/jpeg", token=token)).json()["id"]
    done = await record(api, household["id"], photoIds=[uploaded])
    assert done["errors"] == [] and len(done["visit"]["photos"]) == 1
    assert done["visit"]["photos"][0]["url"].startswith("http")
    again = await record(api, household["id"], photoIds=[uploaded])
    assert [(e["field"], e["code"]) for e in again["errors"]] == [("photoIds.0", "NOT_FOUND")]
