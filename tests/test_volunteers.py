"""Volunteering through the endpoint: applying and review, teams, activities and who sees them,
sign-ups with a waiting list, no overbooking and no overlap under concurrent requests, check-in
by QR code, hours, the append-only points ledger, rankings and the sweep.
"Now" is Tuesday 1 December 2026, 09:00 China Standard Time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from models.volunteers import points_for, served_minutes
from resolvers.volunteers import mask_name
from tenants.context import unit_of_work
from tests.conftest import COMMUNITY_ADMIN, STAFF, TENANT_ADMIN, WORKER_1
from tests.support import Api, Clock, TenantHandle, fresh_phone, gid

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)

VOLUNTEER = "volunteer { id status skills reason serviceHours pointsBalance } errors { field code message }"
ACTIVITY = (
    "activity { id title status capacity placesTaken placesLeft waitlistLength viewerCan streetWide "
    "community { name } team { name } } errors { field code message }"
)
SIGNUP = "signup { id status serviceHours points viewerCan volunteer { name } activity { title } } errors { field code message }"


def at(day: int, hour: int, minute: int = 0) -> str:
    return f"2026-12-{day:02d}T{hour:02d}:{minute:02d}:00+08:00"


def moment(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime.fromisoformat(at(day, hour, minute))


def mutation(name: str, input_type: str, payload: str) -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {payload} }} }}"


APPLY = mutation("applyAsVolunteer", "ApplyAsVolunteerInput", VOLUNTEER)
APPROVE = mutation("approveVolunteer", "VolunteerDecisionInput", VOLUNTEER)
REJECT = mutation("rejectVolunteer", "VolunteerDecisionInput", VOLUNTEER)
CREATE = mutation("createVolunteerActivity", "CreateVolunteerActivityInput", ACTIVITY)
UPDATE = mutation("updateVolunteerActivity", "UpdateVolunteerActivityInput", ACTIVITY)
PUBLISH = mutation("publishVolunteerActivity", "VolunteerActivityStepInput", ACTIVITY)
CANCEL_ACTIVITY = mutation("cancelVolunteerActivity", "CancelVolunteerActivityInput", ACTIVITY)
COMPLETE = mutation("completeVolunteerActivity", "VolunteerActivityStepInput", ACTIVITY)
SIGN_UP = mutation("signUpForVolunteerActivity", "SignUpForVolunteerActivityInput", SIGNUP)
CANCEL_SIGNUP = mutation("cancelVolunteerSignup", "CancelVolunteerSignupInput", SIGNUP)
SCAN = mutation("scanVolunteerActivityCode", "ScanVolunteerActivityCodeInput", SIGNUP)
ATTEND = mutation("recordVolunteerAttendance", "RecordVolunteerAttendanceInput", SIGNUP)
ADJUST = mutation("adjustVolunteerHours", "AdjustVolunteerHoursInput", SIGNUP)
REDEEM = mutation("redeemVolunteerPoints", "RedeemVolunteerPointsInput", VOLUNTEER)
CODE = (
    "query($id: ID!, $step: AttendanceStep!) { checkInCode(activityId: $id, step: $step) { code qrPayload expiresAt } }"
)
NOTES = "{ notifications(first: 50) { edges { node { kind body } } } }"


@pytest.fixture(autouse=True)
def frozen(clock: Clock) -> Iterator[None]:
    with clock.at(NOW):
        yield


async def resident(api: Api, building: Any) -> str:
    phone = fresh_phone()
    assert (await api.register_resident("alpha", building, phone=phone, name="志愿者" + phone[-4:]))["errors"] == []
    return phone


async def apply(api: Api, phone: str, skills: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    values = {"skills": skills or ["助老助残"], "availability": ["WEEKEND_MORNING"], **extra}
    return (await api.data(APPLY, {"input": values}, token=await api.token("alpha", phone)))["applyAsVolunteer"]


async def volunteer(api: Api, alpha: TenantHandle, skills: list[str] | None = None, building: str = "A1-G1-B1") -> str:
    """A resident of the building, applied and approved; returns their phone."""
    phone = await resident(api, alpha.buildings[building])
    applied = await apply(api, phone, skills)
    decided = await api.data(
        APPROVE, {"input": {"volunteerId": applied["volunteer"]["id"]}}, token=await api.token("alpha", TENANT_ADMIN)
    )
    assert decided["approveVolunteer"]["volunteer"]["status"] == "APPROVED", decided
    return phone


def fields(day: int, start: int = 9, end: int = 11, **extra: Any) -> dict[str, Any]:
    return {
        "title": "敬老院陪伴",
        "description": "陪伴老人聊天、读报，协助打扫活动室。",
        "place": "青年路社区敬老院",
        "startsAt": at(day, start),
        "endsAt": at(day, end),
        "signupDeadline": at(day - 1, 18),
        "capacity": 5,
        "pointsPerHour": 10,
        **extra,
    }


async def published(
    api: Api,
    alpha: TenantHandle,
    day: int,
    *,
    token: str | None = None,
    scope: dict[str, Any] | None = None,
    **extra: Any,
) -> str:
    token = token or await api.token("alpha", COMMUNITY_ADMIN)
    where = scope if scope is not None else {"communityId": gid("Community", alpha.communities["A1"])}
    created = (await api.data(CREATE, {"input": {"activity": fields(day, **extra), **where}}, token=token))[
        "createVolunteerActivity"
    ]
    assert created["errors"] == [], created
    activity_id = created["activity"]["id"]
    done = (await api.data(PUBLISH, {"input": {"activityId": activity_id}}, token=token))["publishVolunteerActivity"]
    assert done["errors"] == [] and done["activity"]["status"] == "PUBLISHED", done
    return activity_id


async def sign_up(api: Api, phone: str, activity_id: str) -> dict[str, Any]:
    return (await api.data(SIGN_UP, {"input": {"activityId": activity_id}}, token=await api.token("alpha", phone)))[
        "signUpForVolunteerActivity"
    ]


async def serve(api: Api, clock: Clock, phone: str, activity_id: str, came: datetime, left: datetime) -> str:
    """Signs the volunteer up, and the organiser checks them in and out at these moments."""
    signup_id = (await sign_up(api, phone, activity_id))["signup"]["id"]
    for when, step in ((came, "CHECK_IN"), (left, "CHECK_OUT")):
        with clock.at(when):
            done = await api.data(
                ATTEND,
                {"input": {"signupId": signup_id, "step": step}},
                token=await api.token("alpha", COMMUNITY_ADMIN),
            )
            assert done["recordVolunteerAttendance"]["errors"] == [], done
    return signup_id


async def kinds(api: Api, phone: str) -> list[str]:
    return [
        e["node"]["kind"]
        for e in (await api.data(NOTES, token=await api.token("alpha", phone)))["notifications"]["edges"]
    ]


# --- applying --------------------------------------------------------------------------------


async def test_a_resident_applies_and_the_community_admin_approves_or_rejects_with_a_reason(
    api: Api, alpha: TenantHandle
) -> None:
    phone = await resident(api, alpha.buildings["A1-G1-B1"])
    applied = await apply(api, phone, ["医疗救护", "会拉二胡"], partyMemberReporting=True, workUnit="包钢集团")
    assert applied["errors"] == [] and applied["volunteer"]["status"] == "PENDING"
    assert applied["volunteer"]["skills"] == ["医疗救护", "会拉二胡"]
    admin = await api.token("alpha", COMMUNITY_ADMIN)
    queue = await api.data(
        "{ volunteers(first: 100, filter: {statuses: [PENDING], partyMemberReporting: true}) { edges { node { id workUnit } } } }",
        token=admin,
    )
    assert applied["volunteer"]["id"] in [e["node"]["id"] for e in queue["volunteers"]["edges"]]
    assert "VOLUNTEER_APPLIED" in await kinds(api, COMMUNITY_ADMIN)
    vague = await api.data(REJECT, {"input": {"volunteerId": applied["volunteer"]["id"]}}, token=admin)
    assert vague["rejectVolunteer"]["errors"][0]["field"] == "reason"
    rejected = await api.data(
        REJECT, {"input": {"volunteerId": applied["volunteer"]["id"], "reason": "请补充联系方式"}}, token=admin
    )
    assert rejected["rejectVolunteer"]["volunteer"]["status"] == "REJECTED"
    again = await apply(api, phone, ["医疗救护"])
    assert again["volunteer"]["status"] == "PENDING" and again["volunteer"]["reason"] is None
    twice = await api.data(APPROVE, {"input": {"volunteerId": applied["volunteer"]["id"]}}, token=admin)
    assert twice["approveVolunteer"]["volunteer"]["status"] == "APPROVED"
    repeat = await api.data(APPROVE, {"input": {"volunteerId": applied["volunteer"]["id"]}}, token=admin)
    assert repeat["approveVolunteer"]["errors"][0]["code"] == "INVALID_TRANSITION"


@pytest.mark.parametrize(
    ("tenant", "phone", "code"),
    [
        ("alpha", WORKER_1, "FORBIDDEN"),
        ("alpha", STAFF, "FORBIDDEN"),
        ("alpha", COMMUNITY_ADMIN, "NOT_FOUND"),  # the applicant lives in another community
        ("beta", TENANT_ADMIN, "NOT_FOUND"),
    ],
)
async def test_only_admins_over_the_volunteers_community_decide(
    api: Api, alpha: TenantHandle, tenant: str, phone: str, code: str
) -> None:
    applicant = await resident(api, alpha.buildings["A2-G1-B1"])
    applied = await apply(api, applicant)
    refused = await api.data(
        APPROVE, {"input": {"volunteerId": applied["volunteer"]["id"]}}, token=await api.token(tenant, phone)
    )
    assert refused["approveVolunteer"]["errors"][0]["code"] == code
    other_resident = await api.token("alpha", await resident(api, alpha.buildings["A2-G1-B1"]))
    node = "query($id: ID!) { node(id: $id) { ... on Volunteer { name } } }"
    assert (await api.data(node, {"id": applied["volunteer"]["id"]}, token=other_resident))["node"] is None
    assert (await api.data(node, {"id": applied["volunteer"]["id"]}, token=await api.token(tenant, phone)))[
        "node"
    ] is None


# --- organising ------------------------------------------------------------------------------


async def test_drafts_are_their_organisers_and_published_activities_are_public_in_their_street_office(
    api: Api, alpha: TenantHandle
) -> None:
    admin = await api.token("alpha", COMMUNITY_ADMIN)
    where = {"communityId": gid("Community", alpha.communities["A1"])}
    draft = (await api.data(CREATE, {"input": {"activity": fields(20), **where}}, token=admin))[
        "createVolunteerActivity"
    ]["activity"]
    assert draft["status"] == "DRAFT" and "PUBLISH" in draft["viewerCan"]
    node = "query($id: ID!) { node(id: $id) { ... on VolunteerActivity { title status } } }"
    assert (await api.data(node, {"id": draft["id"]}, tenant="alpha"))["node"] is None
    somebody = await api.token("alpha", await resident(api, alpha.buildings["A1-G1-B1"]))
    assert (await api.data(node, {"id": draft["id"]}, token=somebody))["node"] is None
    await api.data(PUBLISH, {"input": {"activityId": draft["id"]}}, token=admin)
    assert (await api.data(node, {"id": draft["id"]}, tenant="alpha"))["node"]["status"] == "PUBLISHED"
    assert (await api.data(node, {"id": draft["id"]}, tenant="beta"))["node"] is None
    listed = await api.data(
        "query($c: ID!) { volunteerActivities(first: 100, filter: {communityId: $c}) { edges { node { id } } } }",
        {"c": gid("Community", alpha.communities["A1"])},
        tenant="alpha",
    )
    assert draft["id"] in [e["node"]["id"] for e in listed["volunteerActivities"]["edges"]]
    other = await api.data(
        "query($c: ID!) { volunteerActivities(first: 100, filter: {communityId: $c}) { edges { node { id } } } }",
        {"c": gid("Community", alpha.communities["A2"])},
        tenant="alpha",
    )
    assert draft["id"] not in [e["node"]["id"] for e in other["volunteerActivities"]["edges"]]


@pytest.mark.parametrize(
    ("tenant", "phone", "scope", "code"),
    [
        ("alpha", WORKER_1, "A1", "FORBIDDEN"),
        ("alpha", STAFF, "A1", "FORBIDDEN"),
        ("alpha", COMMUNITY_ADMIN, "A2", "FORBIDDEN"),
        ("alpha", COMMUNITY_ADMIN, None, "FORBIDDEN"),  # the whole street office: tenant admins only
        ("beta", TENANT_ADMIN, "A1", "NOT_FOUND"),  # another street office's community is none of theirs
    ],
)
async def test_who_may_not_organise_where(
    api: Api, alpha: TenantHandle, tenant: str, phone: str, scope: str | None, code: str
) -> None:
    where = {"communityId": gid("Community", alpha.communities[scope])} if scope else {}
    result = await api.data(CREATE, {"input": {"activity": fields(21), **where}}, token=await api.token(tenant, phone))
    assert result["createVolunteerActivity"]["errors"][0]["code"] == code


async def test_a_team_leader_organises_their_teams_activities_and_nobody_elses(api: Api, alpha: TenantHandle) -> None:
    admin = await api.token("alpha", COMMUNITY_ADMIN)
    team = (
        await api.data(
            mutation("createVolunteerTeam", "CreateVolunteerTeamInput", "team { id name } errors { code }"),
            {"input": {"communityId": gid("Community", alpha.communities["A1"]), "name": f"红马甲{fresh_phone()}"}},
            token=admin,
        )
    )["createVolunteerTeam"]["team"]
    leader, member = await volunteer(api, alpha), await volunteer(api, alpha)
    add = mutation(
        "setVolunteerTeamMember",
        "VolunteerTeamMemberInput",
        "team { members(first: 10) { edges { node { name isLeader } } } } errors { code }",
    )
    added = {}
    for phone, is_leader in ((leader, True), (member, False)):
        profile = await api.data("{ myVolunteerProfile { id } }", token=await api.token("alpha", phone))
        answer = await api.data(
            add,
            {"input": {"teamId": team["id"], "volunteerId": profile["myVolunteerProfile"]["id"], "leader": is_leader}},
            token=admin,
        )
        added[phone] = answer["setVolunteerTeamMember"]["errors"]
    assert added == {leader: [], member: []}
    activity_id = await published(api, alpha, 22, token=await api.token("alpha", leader), scope={"teamId": team["id"]})
    as_member = await api.data(
        CANCEL_ACTIVITY,
        {"input": {"activityId": activity_id, "reason": "不想办了"}},
        token=await api.token("alpha", member),
    )
    assert as_member["cancelVolunteerActivity"]["errors"][0]["code"] == "FORBIDDEN"
    elsewhere = await api.data(
        CREATE,
        {"input": {"activity": fields(22), "communityId": gid("Community", alpha.communities["A1"])}},
        token=await api.token("alpha", leader),
    )
    assert elsewhere["createVolunteerActivity"]["errors"][0]["code"] == "FORBIDDEN"
    signed = await sign_up(api, member, activity_id)
    assert signed["errors"] == []
    assert "VOLUNTEER_SIGNED_UP" in await kinds(api, leader)


# --- signing up ------------------------------------------------------------------------------


async def test_beyond_capacity_volunteers_wait_in_line_and_a_cancellation_promotes_the_first(
    api: Api, alpha: TenantHandle
) -> None:
    activity_id = await published(api, alpha, 3, capacity=2)
    phones = [await volunteer(api, alpha) for _ in range(4)]
    results = [await sign_up(api, p, activity_id) for p in phones]
    assert [r["signup"]["status"] for r in results] == ["CONFIRMED", "CONFIRMED", "WAITLISTED", "WAITLISTED"]
    again = await sign_up(api, phones[0], activity_id)
    assert again["errors"][0]["code"] == "ALREADY_SIGNED_UP"
    cancelled = await api.data(
        CANCEL_SIGNUP, {"input": {"signupId": results[1]["signup"]["id"]}}, token=await api.token("alpha", phones[1])
    )
    assert cancelled["cancelVolunteerSignup"]["signup"]["status"] == "CANCELLED"
    mine = "{ myVolunteerSignups(first: 5) { edges { node { status } } } }"
    assert (await api.data(mine, token=await api.token("alpha", phones[2])))["myVolunteerSignups"]["edges"][0]["node"][
        "status"
    ] == "CONFIRMED"
    assert (await api.data(mine, token=await api.token("alpha", phones[3])))["myVolunteerSignups"]["edges"][0]["node"][
        "status"
    ] == "WAITLISTED"
    assert "VOLUNTEER_PROMOTED" in await kinds(api, phones[2])
    lines = await api.data(
        "query($id: ID!) { node(id: $id) { ... on VolunteerActivity { placesTaken waitlistLength signups(first: 10) { edges { node { status volunteer { phone } } } } } } }",
        {"id": activity_id},
        token=await api.token("alpha", COMMUNITY_ADMIN),
    )
    assert lines["node"]["placesTaken"] == 2 and lines["node"]["waitlistLength"] == 1
    assert len(lines["node"]["signups"]["edges"]) == 4
    outsider = await api.data(
        "query($id: ID!) { node(id: $id) { ... on VolunteerActivity { signups(first: 10) { edges { node { id } } } } } }",
        {"id": activity_id},
        token=await api.token("alpha", phones[0]),
    )
    assert outsider["node"]["signups"]["edges"] == []


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("not_volunteer", "NOT_A_VOLUNTEER"),
        ("other_community", "OTHER_COMMUNITY"),
        ("missing_skill", "SKILLS_REQUIRED"),
        ("deadline_passed", "SIGNUP_CLOSED"),
    ],
)
async def test_sign_ups_that_are_refused(api: Api, alpha: TenantHandle, clock: Clock, setup: str, code: str) -> None:
    extra = {"requiredSkills": ["医疗救护"]} if setup == "missing_skill" else {}
    activity_id = await published(api, alpha, 4, **extra)
    if setup == "not_volunteer":
        phone = await resident(api, alpha.buildings["A1-G1-B1"])
    elif setup == "other_community":
        phone = await volunteer(api, alpha, building="A2-G1-B1")
    else:
        phone = await volunteer(api, alpha)
    if setup == "deadline_passed":
        with clock.at(moment(3, 19)):
            result = await sign_up(api, phone, activity_id)
    else:
        result = await sign_up(api, phone, activity_id)
    assert result["signup"] is None and result["errors"][0]["code"] == code


async def test_twenty_concurrent_sign_ups_for_the_last_place_give_it_to_exactly_one(
    api: Api, alpha: TenantHandle
) -> None:
    activity_id = await published(api, alpha, 5, capacity=2)
    assert (await sign_up(api, await volunteer(api, alpha), activity_id))["signup"]["status"] == "CONFIRMED"
    phones = [await volunteer(api, alpha) for _ in range(20)]
    for phone in phones:
        await api.token("alpha", phone)
    results = await asyncio.gather(*(sign_up(api, p, activity_id) for p in phones))
    assert all(r["errors"] == [] for r in results), results
    statuses = [r["signup"]["status"] for r in results]
    assert statuses.count("CONFIRMED") == 1 and statuses.count("WAITLISTED") == 19
    seen = await api.data(
        "query($id: ID!) { node(id: $id) { ... on VolunteerActivity { placesTaken placesLeft waitlistLength } } }",
        {"id": activity_id},
        tenant="alpha",
    )
    assert seen["node"] == {"placesTaken": 2, "placesLeft": 0, "waitlistLength": 19}


async def test_one_volunteer_never_holds_two_overlapping_activities_even_when_signing_up_at_once(
    api: Api, alpha: TenantHandle
) -> None:
    activities = [await published(api, alpha, 6, start=9 + i % 2, end=11 + i % 2) for i in range(10)]
    phone = await volunteer(api, alpha)
    await api.token("alpha", phone)
    results = await asyncio.gather(*(sign_up(api, phone, a) for a in activities))
    assert len([r for r in results if not r["errors"]]) == 1
    assert {r["errors"][0]["code"] for r in results if r["errors"]} == {"OVERLAPPING"}
    back_to_back = await published(api, alpha, 6, start=12, end=14)
    assert (await sign_up(api, phone, back_to_back))["errors"] == []


# --- changing and cancelling -----------------------------------------------------------------


async def test_a_change_tells_the_volunteers_and_a_move_onto_their_other_activity_is_refused(
    api: Api, alpha: TenantHandle
) -> None:
    admin = await api.token("alpha", COMMUNITY_ADMIN)
    first, second = await published(api, alpha, 8, capacity=1), await published(api, alpha, 8, start=14, end=16)
    phone = await volunteer(api, alpha)
    waiting = await volunteer(api, alpha)
    assert (await sign_up(api, phone, first))["signup"]["status"] == "CONFIRMED"
    assert (await sign_up(api, waiting, first))["signup"]["status"] == "WAITLISTED"
    assert (await sign_up(api, phone, second))["errors"] == []
    moved = await api.data(
        UPDATE, {"input": {"activityId": first, "activity": fields(8, start=13, end=15)}}, token=admin
    )
    assert moved["updateVolunteerActivity"]["errors"][0]["code"] == "TIME_CLASH"
    fewer = await api.data(UPDATE, {"input": {"activityId": first, "activity": fields(8, capacity=0)}}, token=admin)
    assert fewer["updateVolunteerActivity"]["errors"][0]["field"] == "capacity"
    changed = await api.data(
        UPDATE,
        {"input": {"activityId": first, "activity": fields(8, place="社区广场", capacity=2)}},
        token=admin,
    )
    assert changed["updateVolunteerActivity"]["activity"]["placesTaken"] == 2
    assert "VOLUNTEER_ACTIVITY_CHANGED" in await kinds(api, phone)
    assert "VOLUNTEER_PROMOTED" in await kinds(api, waiting)
    timeline = await api.data(
        "query($id: ID!) { node(id: $id) { ... on VolunteerActivity { timeline(first: 10) { edges { node { action note } } } } } }",
        {"id": first},
        token=admin,
    )
    actions = [e["node"]["action"] for e in timeline["node"]["timeline"]["edges"]]
    assert actions == ["CREATE", "PUBLISH", "UPDATE"]


async def test_cancelling_an_activity_frees_its_volunteers_time_and_tells_them_why(
    api: Api, alpha: TenantHandle
) -> None:
    admin = await api.token("alpha", COMMUNITY_ADMIN)
    activity_id = await published(api, alpha, 9)
    phone = await volunteer(api, alpha)
    await sign_up(api, phone, activity_id)
    done = await api.data(
        CANCEL_ACTIVITY, {"input": {"activityId": activity_id, "reason": "天气预报有大风"}}, token=admin
    )
    assert done["cancelVolunteerActivity"]["activity"]["status"] == "CANCELLED"
    assert "VOLUNTEER_ACTIVITY_CANCELLED" in await kinds(api, phone)
    same_time = await published(api, alpha, 9)
    assert (await sign_up(api, phone, same_time))["errors"] == []
    late = await api.data(PUBLISH, {"input": {"activityId": activity_id}}, token=admin)
    assert late["publishVolunteerActivity"]["errors"][0]["code"] == "INVALID_TRANSITION"


# --- on site ---------------------------------------------------------------------------------


async def test_checking_in_and_out_by_qr_code_earns_the_hours_inside_the_window_and_their_points(
    api: Api, alpha: TenantHandle, clock: Clock
) -> None:
    activity_id = await published(api, alpha, 10, pointsPerHour=12)
    phone = await volunteer(api, alpha)
    await sign_up(api, phone, activity_id)
    refused = await api.run(CODE, {"id": activity_id, "step": "CHECK_IN"}, token=await api.token("alpha", phone))
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    with clock.at(moment(10, 8, 40)):
        admin, token = await api.token("alpha", COMMUNITY_ADMIN), await api.token("alpha", phone)
        code = (await api.data(CODE, {"id": activity_id, "step": "CHECK_IN"}, token=admin))["checkInCode"]
        assert code["qrPayload"].endswith(code["code"])
        forged = code["code"][:-2] + ("AA" if code["code"][-2:] != "AA" else "BB")
        bad = await api.data(SCAN, {"input": {"code": forged}}, token=token)
        assert bad["scanVolunteerActivityCode"]["errors"][0]["code"] == "INVALID_CODE"
        beta_resident = fresh_phone()
        await api.register_resident("beta", (await _beta_building(api)), phone=beta_resident)
        foreign = await api.data(SCAN, {"input": {"code": code["code"]}}, token=await api.token("beta", beta_resident))
        assert foreign["scanVolunteerActivityCode"]["errors"][0]["code"] == "INVALID_CODE"
        stranger = await api.data(
            SCAN, {"input": {"code": code["code"]}}, token=await api.token("alpha", await volunteer(api, alpha))
        )
        assert stranger["scanVolunteerActivityCode"]["errors"][0]["code"] == "NOT_SIGNED_UP"
        scanned = await api.data(SCAN, {"input": {"code": code["qrPayload"]}}, token=token)
        assert scanned["scanVolunteerActivityCode"]["signup"]["status"] == "CHECKED_IN"
    with clock.at(moment(10, 8, 40) + timedelta(minutes=3)):
        expired = await api.data(SCAN, {"input": {"code": code["code"]}}, token=token)
        assert expired["scanVolunteerActivityCode"]["errors"][0]["code"] == "INVALID_CODE"
    with clock.at(moment(10, 11, 30)):
        admin, token = await api.token("alpha", COMMUNITY_ADMIN), await api.token("alpha", phone)
        out = (await api.data(CODE, {"id": activity_id, "step": "CHECK_OUT"}, token=admin))["checkInCode"]
        served = (await api.data(SCAN, {"input": {"code": out["code"]}}, token=token))["scanVolunteerActivityCode"]
    assert served["signup"]["status"] == "SERVED"
    assert served["signup"]["serviceHours"] == 2.0 and served["signup"]["points"] == 24
    profile = await api.data(
        "{ myVolunteerProfile { serviceHours pointsBalance pointsLedger(first: 5) { edges { node { kind minutes points } } } } }",
        token=await api.token("alpha", phone),
    )
    assert profile["myVolunteerProfile"]["serviceHours"] == 2.0 and profile["myVolunteerProfile"]["pointsBalance"] == 24
    assert profile["myVolunteerProfile"]["pointsLedger"]["edges"][0]["node"] == {
        "kind": "EARNED",
        "minutes": 120,
        "points": 24,
    }


async def _beta_building(api: Api) -> Any:
    import uuid

    data = await api.data(
        "{ communities(first: 1) { edges { node { grids(first: 1) { edges { node { buildings(first: 1) { edges { node { id } } } } } } } } } }",
        tenant="beta",
    )
    from strawberry.relay import from_base64

    building = data["communities"]["edges"][0]["node"]["grids"]["edges"][0]["node"]["buildings"]["edges"][0]["node"][
        "id"
    ]
    return uuid.UUID(from_base64(building)[1])


async def test_the_organiser_adjusts_hours_on_the_ledger_and_points_are_never_overdrawn(
    api: Api, alpha: TenantHandle, clock: Clock
) -> None:
    activity_id = await published(api, alpha, 11, pointsPerHour=10)
    phone = await volunteer(api, alpha)
    signup_id = (await sign_up(api, phone, activity_id))["signup"]["id"]
    with clock.at(moment(11, 9)):
        admin = await api.token("alpha", COMMUNITY_ADMIN)
        checked_in = await api.data(ATTEND, {"input": {"signupId": signup_id, "step": "CHECK_IN"}}, token=admin)
        assert checked_in["recordVolunteerAttendance"]["signup"]["status"] == "CHECKED_IN"
        by_volunteer = await api.data(
            ATTEND, {"input": {"signupId": signup_id, "step": "CHECK_OUT"}}, token=await api.token("alpha", phone)
        )
        assert by_volunteer["recordVolunteerAttendance"]["errors"][0]["code"] == "FORBIDDEN"
    with clock.at(moment(11, 11)):
        admin = await api.token("alpha", COMMUNITY_ADMIN)
        await api.data(ATTEND, {"input": {"signupId": signup_id, "step": "CHECK_OUT"}}, token=admin)
        adjusted = await api.data(
            ADJUST, {"input": {"signupId": signup_id, "minutes": 90, "reason": "中途离开半小时"}}, token=admin
        )
    admin = await api.token("alpha", COMMUNITY_ADMIN)
    assert adjusted["adjustVolunteerHours"]["signup"]["serviceHours"] == 1.5
    assert adjusted["adjustVolunteerHours"]["signup"]["points"] == 15
    too_long = await api.data(ADJUST, {"input": {"signupId": signup_id, "minutes": 121, "reason": "多记"}}, token=admin)
    assert too_long["adjustVolunteerHours"]["errors"][0]["field"] == "minutes"
    profile = await api.data("{ myVolunteerProfile { id pointsBalance } }", token=await api.token("alpha", phone))
    volunteer_id = profile["myVolunteerProfile"]["id"]
    assert profile["myVolunteerProfile"]["pointsBalance"] == 15
    attempts = await asyncio.gather(
        *(
            api.data(REDEEM, {"input": {"volunteerId": volunteer_id, "points": 6, "note": "兑换洗衣液"}}, token=admin)
            for _ in range(5)
        )
    )
    outcomes = [a["redeemVolunteerPoints"]["errors"] for a in attempts]
    assert outcomes.count([]) == 2
    assert {e[0]["code"] for e in outcomes if e} == {"INSUFFICIENT_POINTS"}
    ledger = await api.data(
        "{ myVolunteerProfile { pointsBalance pointsLedger(first: 10) { edges { node { kind points } } } } }",
        token=await api.token("alpha", phone),
    )
    assert ledger["myVolunteerProfile"]["pointsBalance"] == 3
    assert [e["node"] for e in ledger["myVolunteerProfile"]["pointsLedger"]["edges"]] == [
        {"kind": "REDEEMED", "points": -6},
        {"kind": "REDEEMED", "points": -6},
        {"kind": "ADJUSTED", "points": -5},
        {"kind": "EARNED", "points": 20},
    ]
    resident_try = await api.data(
        REDEEM,
        {"input": {"volunteerId": volunteer_id, "points": 1, "note": "自己兑换"}},
        token=await api.token("alpha", phone),
    )
    assert resident_try["redeemVolunteerPoints"]["errors"][0]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    "statement", ["UPDATE volunteer_points_ledger SET points = 1000", "DELETE FROM volunteer_points_ledger"]
)
async def test_the_points_ledger_refuses_changes_in_the_database_itself(
    api: Api, app, alpha: TenantHandle, clock: Clock, statement: str
) -> None:  # type: ignore[no-untyped-def]
    activity_id = await published(api, alpha, 13)
    await serve(api, clock, await volunteer(api, alpha), activity_id, moment(13, 9), moment(13, 10))
    services = app.state.services
    tenant = await services.directory.by_id(alpha.id)
    async with unit_of_work(services, tenant=tenant, viewer=None, writes=True) as ctx:
        assert ctx.session is not None
        assert (await ctx.session.scalar(text("SELECT count(*) FROM volunteer_points_ledger"))) > 0
        with pytest.raises(DBAPIError, match="append-only"):
            await ctx.session.execute(text(statement))


async def test_monthly_rankings_by_hours_and_points_mask_other_peoples_names(
    api: Api, alpha: TenantHandle, clock: Clock
) -> None:
    long_one = await published(api, alpha, 12, start=8, end=12, pointsPerHour=5, title="清扫积雪")
    short_one = await published(api, alpha, 12, start=14, end=15, pointsPerHour=50, title="义诊服务")
    hours_phone, points_phone = await volunteer(api, alpha), await volunteer(api, alpha)
    for phone, activity_id, (start, end) in ((hours_phone, long_one, (8, 12)), (points_phone, short_one, (14, 15))):
        await serve(api, clock, phone, activity_id, moment(12, start), moment(12, end))
    query = """query($c: ID!, $by: RankingMeasure!) { volunteerRankings(communityId: $c, month: "2026-12", by: $by, first: 100) {
      edges { node { rank name serviceHours points isMe } } } }"""
    community = gid("Community", alpha.communities["A1"])
    token = await api.token("alpha", hours_phone)
    by_hours = [
        e["node"]
        for e in (await api.data(query, {"c": community, "by": "HOURS"}, token=token))["volunteerRankings"]["edges"]
    ]
    by_points = [
        e["node"]
        for e in (await api.data(query, {"c": community, "by": "POINTS"}, token=token))["volunteerRankings"]["edges"]
    ]
    mine = next(n for n in by_hours if n["isMe"])
    other = next(n for n in by_points if n["points"] == 50 and n["serviceHours"] == 1.0)
    assert mine["name"] == "志愿者" + hours_phone[-4:] and mine["serviceHours"] == 4.0
    assert other["name"] == mask_name("志愿者" + points_phone[-4:]) != "志愿者" + points_phone[-4:]
    hours_rank = {(n["serviceHours"], n["points"]): n["rank"] for n in by_hours}
    assert hours_rank[(4.0, 20)] < hours_rank[(1.0, 50)]
    points_rank = {(n["serviceHours"], n["points"]): n["rank"] for n in by_points}
    assert points_rank[(1.0, 50)] < points_rank[(4.0, 20)]
    assert [n["serviceHours"] for n in by_hours] == sorted((n["serviceHours"] for n in by_hours), reverse=True)
    anonymous = await api.run(query, {"c": community, "by": "HOURS"}, tenant="alpha")
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_activity_lists_cost_the_same_statements_whatever_their_length(api: Api, alpha: TenantHandle) -> None:
    for day in (14, 15, 16, 17):
        activity_id = await published(api, alpha, day)
        await sign_up(api, await volunteer(api, alpha), activity_id)
    # A window of this test's own activities: every one of them reaches the same loaders.
    query = """query($n: Int!) { volunteerActivities(first: $n, filter: {startsFrom: "2026-12-14T00:00:00+08:00",
      startsBefore: "2026-12-18T00:00:00+08:00"}) { edges { node {
      title community { name } team { name } waitlistLength viewerCan coverUrl mySignup { status }
      signups(first: 5) { edges { node { status volunteer { name } viewerCan } } }
      timeline(first: 5) { edges { node { action actorName } } } } } } }"""

    async def statements(n: int, token: str) -> int:
        return await api.statements(query, {"n": n}, token=token)

    counted = {}
    for phone in (TENANT_ADMIN, COMMUNITY_ADMIN):
        token = await api.token("alpha", phone)
        counted[phone] = [await statements(n, token) for n in (1, 3, 20)]
    assert counted == {phone: [sizes[0]] * 3 for phone, sizes in counted.items()}
    resident_token = await api.token("alpha", await volunteer(api, alpha))
    assert await statements(1, resident_token) == await statements(3, resident_token)


# --- rules -----------------------------------------------------------------------------------


@given(
    checked_in=st.integers(min_value=-300, max_value=600),
    stayed=st.integers(min_value=0, max_value=900),
    length=st.integers(min_value=1, max_value=600),
    per_hour=st.integers(min_value=0, max_value=100),
)
def test_served_minutes_never_exceed_the_window_nor_go_negative(
    checked_in: int, stayed: int, length: int, per_hour: int
) -> None:
    starts = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    ends = starts + timedelta(minutes=length)
    came = starts + timedelta(minutes=checked_in)
    minutes = served_minutes(came, came + timedelta(minutes=stayed), starts, ends)
    assert 0 <= minutes <= min(length, stayed)
    assert 0 <= points_for(minutes, per_hour) <= per_hour * length // 60 + per_hour


def test_masked_names_keep_the_first_and_last_character() -> None:
    assert [mask_name(n) for n in ("王小明", "李雷", "欧阳娜娜", "张")] == ["王*明", "李*", "欧**娜", "张"]


# --- the sweep (last: it moves the clock past the month's activities) ------------------------


async def test_the_sweep_reminds_once_the_day_before_and_completes_what_organisers_forgot(
    api: Api, app, alpha: TenantHandle, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    from server.jobs import run_jobs

    activity_id = await published(api, alpha, 28)
    present, absent = await volunteer(api, alpha), await volunteer(api, alpha)
    present_signup = (await sign_up(api, present, activity_id))["signup"]["id"]
    await sign_up(api, absent, activity_id)
    with clock.at(moment(27, 12)):
        await run_jobs(app.state.services)
        await run_jobs(app.state.services)
    assert (await kinds(api, present)).count("VOLUNTEER_ACTIVITY_REMINDER") == 1
    with clock.at(moment(28, 9, 30)):
        admin = await api.token("alpha", COMMUNITY_ADMIN)
        await api.data(ATTEND, {"input": {"signupId": present_signup, "step": "CHECK_IN"}}, token=admin)
    with clock.at(moment(29, 12)):
        await run_jobs(app.state.services)
        await run_jobs(app.state.services)
    admin = await api.token("alpha", COMMUNITY_ADMIN)
    statuses = await api.data(
        "query($id: ID!) { node(id: $id) { ... on VolunteerActivity { status signups(first: 5) { edges { node { status serviceHours } } } } } }",
        {"id": activity_id},
        token=admin,
    )
    assert statuses["node"]["status"] == "COMPLETED"
    assert sorted((e["node"]["status"], e["node"]["serviceHours"]) for e in statuses["node"]["signups"]["edges"]) == [
        ("ABSENT", None),
        ("SERVED", 1.5),
    ]
