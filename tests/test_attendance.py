"""Check-in (打卡签到): judged in metres against the worker's grids, never refused for the place;
one open shift however the requests race; attendance by day and month as counted by hand; the
sweep tells the community admin who has not checked in; other roles and offices see nothing."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.applications import Starlette

from models.database import counting_statements
from models.geometry import GeoPoint, between_metres, distance_metres, polygon_of
from server.jobs import sweep_tenant
from tests.gridwork import ADMIN, C1_ADMIN, C2_ADMIN, G1, W1, W2, W3, W4
from tests.media_files import photo
from tests.support import Api, Clock, TenantHandle, gid

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHECK_IN = """mutation($input: PunchInput!) { checkIn(input: $input) {
  shift { id outside checkedOutAt checkIn { place distanceMetres accuracyMetres grid { name } } }
  errors { field code message } } }"""
CHECK_OUT = """mutation($input: PunchInput!) { checkOut(input: $input) {
  shift { id outside checkedOutAt checkOut { place distanceMetres } } errors { field code message } } }"""
MONTH = """query($month: Date!, $worker: ID) { attendanceMonth(month: $month, workerId: $worker) {
  workingDays onTime late missing extra outside days { date workingDay status outside minutesWorked } } }"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def here(longitude: float, latitude: float, accuracy: float = 10) -> dict[str, Any]:
    return {"input": {"longitude": longitude, "latitude": latitude, "accuracyMetres": accuracy}}


def test_distances_are_metres_on_the_ground_at_baotou() -> None:
    # Lengths of a degree at 40.65°N from the standard series (not from our projection):
    # latitude 111132.954 − 559.822 cos 2φ + 1.175 cos 4φ = 111047 m,
    # longitude 111412.84 cos φ − 93.5 cos 3φ + 0.118 cos 5φ = 84565 m.
    origin = GeoPoint(109.841, 40.65)
    assert between_metres(origin, GeoPoint(109.841, 40.651)) == pytest.approx(111.05, abs=0.1)
    assert between_metres(origin, GeoPoint(109.842, 40.65)) == pytest.approx(84.57, abs=0.1)
    shape = polygon_of(G1)
    assert distance_metres(GeoPoint(109.841, 40.651), shape) == 0
    assert distance_metres(GeoPoint(109.843, 40.651), shape) == pytest.approx(84.57, abs=0.2)
    assert distance_metres(GeoPoint(109.841, 40.6524), shape) == pytest.approx(44.42, abs=0.1)


async def test_check_in_inside_within_tolerance_and_outside_with_the_distance(
    api: Api, clock: Clock, mapped: TenantHandle
) -> None:
    with clock.at(at("2026-12-14T08:00:00")):
        token = await api.token("mapped", W1)
        inside = (await api.data(CHECK_IN, here(109.841, 40.651), token=token))["checkIn"]
        assert inside["errors"] == []
        assert inside["shift"]["checkIn"] == {
            "place": "INSIDE",
            "distanceMetres": 0.0,
            "accuracyMetres": 10.0,
            "grid": {"name": "万青一网格"},
        }
        again = (await api.data(CHECK_IN, here(109.841, 40.651), token=token))["checkIn"]
        assert [e["code"] for e in again["errors"]] == ["ALREADY_CHECKED_IN"] and again["shift"] is None
    with clock.at(at("2026-12-14T12:00:00")):
        token = await api.token("mapped", W1)
        # 44 m north of the boundary: inside the 50 m tolerance.
        near = (await api.data(CHECK_OUT, here(109.841, 40.6524), token=token))["checkOut"]
        assert near["shift"]["checkOut"]["place"] == "INSIDE"
        assert near["shift"]["checkOut"]["distanceMetres"] == pytest.approx(44.4, abs=0.1)
        assert near["shift"]["outside"] is False
    with clock.at(at("2026-12-14T13:00:00")):
        token = await api.token("mapped", W1)
        # 85 m east of G1 is inside G2, which is not W1's: outside, and accepted.
        away = (await api.data(CHECK_IN, here(109.843, 40.651), token=token))["checkIn"]
        assert away["errors"] == []
        assert away["shift"]["checkIn"]["place"] == "OUTSIDE"
        assert away["shift"]["checkIn"]["distanceMetres"] == pytest.approx(84.6, abs=0.2)
        assert away["shift"]["outside"] is True
        out = (await api.data(CHECK_OUT, here(109.841, 40.651), token=token))["checkOut"]
        assert out["errors"] == [] and out["shift"]["outside"] is True
        none_open = (await api.data(CHECK_OUT, here(109.841, 40.651), token=token))["checkOut"]
        assert [e["code"] for e in none_open["errors"]] == ["NOT_CHECKED_IN"]


async def test_a_grid_without_a_boundary_leaves_the_place_unknown(api: Api, clock: Clock, mapped: TenantHandle) -> None:
    with clock.at(at("2026-12-14T08:10:00")):
        token = await api.token("mapped", W4)
        done = (await api.data(CHECK_IN, here(109.9, 40.7), token=token))["checkIn"]
        assert done["shift"]["checkIn"]["place"] == "UNKNOWN" and done["shift"]["checkIn"]["distanceMetres"] is None
        bad = (await api.data(CHECK_OUT, here(0, 0, accuracy=-1), token=token))["checkOut"]
        assert sorted(e["field"] for e in bad["errors"]) == ["accuracyMetres", "longitude"]


async def test_two_check_ins_at_once_make_one_shift(api: Api, clock: Clock, mapped: TenantHandle) -> None:
    with clock.at(at("2026-12-15T08:00:00")):
        token = await api.token("mapped", W3)
        answers = await asyncio.gather(*(api.data(CHECK_IN, here(109.845, 40.651), token=token) for _ in range(4)))
        shifts = [a["checkIn"]["shift"] for a in answers if a["checkIn"]["shift"]]
        refused = [e["code"] for a in answers for e in a["checkIn"]["errors"]]
        assert len(shifts) == 1 and refused == ["ALREADY_CHECKED_IN"] * 3
        day = await api.data("{ myWorkday { shift { id } attendance { status } } }", token=token)
        assert day["myWorkday"]["shift"]["id"] == shifts[0]["id"]
        assert day["myWorkday"]["attendance"]["status"] == "ON_TIME"


async def _punch(api: Api, clock: Clock, phone: str, when: str, query: str, where: tuple[float, float]) -> None:
    with clock.at(at(when)):
        body = await api.data(query, here(*where), token=await api.token("mapped", phone))
        assert next(iter(body.values()))["errors"] == [], body


async def _worker_id(api: Api, mapped: TenantHandle, grid: str) -> str:
    token = await api.token("mapped", ADMIN)
    found = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Grid { worker { id } } } }",
        {"id": gid("Grid", mapped.grids[grid])},
        token=token,
    )
    return found["node"]["worker"]["id"]


async def test_attendance_of_a_month_as_counted_by_hand(api: Api, clock: Clock, mapped: TenantHandle) -> None:
    inside, outside = (109.843, 40.651), (109.849, 40.651)
    for when, query, where in (
        ("2026-12-01T08:20:00", CHECK_IN, inside),  # Tue: on time
        ("2026-12-01T17:40:00", CHECK_OUT, inside),  # 560 minutes
        ("2026-12-02T09:05:00", CHECK_IN, inside),  # Wed: late
        ("2026-12-02T17:30:00", CHECK_OUT, inside),
        # Thu 3rd: nothing, missing
        ("2026-12-04T08:30:40", CHECK_IN, outside),  # Fri: on time to the minute, outside
        ("2026-12-04T12:00:00", CHECK_OUT, inside),
        ("2026-12-05T10:00:00", CHECK_IN, inside),  # Sat: a day off worked
        ("2026-12-05T11:00:00", CHECK_OUT, inside),
        # Sun 6th: rest; Mon 7th: missing; Tue 8th: not yet at 09:00
    ):
        await _punch(api, clock, W2, when, query, where)
    worker = await _worker_id(api, mapped, "C1-G2")
    with clock.at(at("2026-12-08T09:00:00")):
        token = await api.token("mapped", W2)
        mine = (await api.data(MONTH, {"month": "2026-12-20"}, token=token))["attendanceMonth"]
        statuses = [d["status"] for d in mine["days"]]
        assert statuses == ["ON_TIME", "LATE", "MISSING", "ON_TIME", "EXTRA", "REST", "MISSING", "NOT_YET"]
        assert (mine["workingDays"], mine["onTime"], mine["late"], mine["missing"], mine["extra"], mine["outside"]) == (
            6,
            2,
            1,
            2,
            1,
            1,
        )
        # 08:30:40 to 12:00 is 209 whole minutes.
        assert [d["minutesWorked"] for d in mine["days"][:5]] == [560, 505, 0, 209, 60]
        assert [d["outside"] for d in mine["days"][:5]] == [False, False, False, True, False]
        seen = {
            admin: (
                await api.data(MONTH, {"month": "2026-12-01", "worker": worker}, token=await api.token("mapped", admin))
            )["attendanceMonth"]
            for admin in (C1_ADMIN, ADMIN)
        }
        assert seen == {C1_ADMIN: mine, ADMIN: mine}
        other = await api.run(
            MONTH, {"month": "2026-12-01", "worker": worker}, token=await api.token("mapped", C2_ADMIN)
        )
        assert other["data"] is None and other["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        colleague = await api.run(MONTH, {"month": "2026-12-01", "worker": worker}, token=await api.token("mapped", W1))
        assert colleague["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        elsewhere = await api.run(
            MONTH, {"month": "2026-12-01", "worker": worker}, token=await api.token("beta", "13900000001")
        )
        assert elsewhere["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_only_grid_workers_check_in_and_other_offices_see_no_shift(
    api: Api, clock: Clock, mapped: TenantHandle
) -> None:
    admin = await api.token("mapped", ADMIN)
    refused = (await api.data(CHECK_IN, here(109.841, 40.651), token=admin))["checkIn"]
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    with clock.at(at("2026-12-16T08:00:00")):
        token = await api.token("mapped", W1)
        shift = (await api.data(CHECK_IN, here(109.841, 40.651), token=token))["checkIn"]["shift"]
        query = "query($id: ID!) { node(id: $id) { ... on Shift { id checkIn { place } } } }"
        assert (await api.data(query, {"id": shift["id"]}, token=await api.token("mapped", C1_ADMIN)))["node"][
            "id"
        ] == shift["id"]
        outsiders = (("mapped", C2_ADMIN), ("mapped", W2), ("beta", "13900000001"), ("beta", "13900000011"))
        seen = {
            (tenant, phone): (await api.data(query, {"id": shift["id"]}, token=await api.token(tenant, phone)))["node"]
            for tenant, phone in outsiders
        }
        assert seen == dict.fromkeys(outsiders)
    await _punch(api, clock, W1, "2026-12-16T17:30:00", CHECK_OUT, (109.841, 40.651))


async def test_the_sweep_tells_the_community_admin_of_a_missing_check_in_once(
    api: Api, app: Starlette, clock: Clock, mapped: TenantHandle
) -> None:
    services = app.state.services
    tenant = await services.directory.by_id(mapped.id)
    inbox = "{ notifications(first: 50) { edges { node { kind body } } } }"

    async def told() -> list[str]:
        found = await api.data(inbox, token=await api.token("mapped", C1_ADMIN))
        return [
            e["node"]["body"]
            for e in found["notifications"]["edges"]
            if e["node"]["kind"] == "CHECK_IN_MISSING" and "12月17日" in e["node"]["body"]
        ]

    with clock.at(at("2026-12-17T09:59:00")):
        assert (await sweep_tenant(services, tenant)).check_ins_missing == 0
    await _punch(api, clock, W3, "2026-12-17T08:15:00", CHECK_OUT, (109.845, 40.651))
    await _punch(api, clock, W3, "2026-12-17T08:16:00", CHECK_IN, (109.845, 40.651))
    with clock.at(at("2026-12-17T10:01:00")):
        assert (await sweep_tenant(services, tenant)).check_ins_missing == 3  # W1, W2 and W4; W3 came
        assert (await sweep_tenant(services, tenant)).check_ins_missing == 0
        bodies = await told()
        assert sorted(b.split("（")[0] for b in bodies) == sorted(["网格员甲", "网格员乙", "网格员丁"])
    with clock.at(at("2026-12-19T11:00:00")):  # a Saturday
        assert (await sweep_tenant(services, tenant)).check_ins_missing == 0


async def test_the_admins_overview_of_a_day_costs_the_same_for_every_page_size(
    api: Api, clock: Clock, mapped: TenantHandle
) -> None:
    query = """query($community: ID!, $first: Int!) { communityWorkdays(communityId: $community, date: "2026-12-15", first: $first) {
      totalCount edges { node { worker { name } attendance { status } shift { id checkIn { place grid { name } } }
      complaintsWaiting registrationsToVerify roundsToday roundsThisWeek } } } }"""
    community = gid("Community", mapped.communities["C1"])
    await _punch(api, clock, W1, "2026-12-15T08:05:00", CHECK_IN, (109.841, 40.651))
    await _punch(api, clock, W1, "2026-12-15T11:00:00", CHECK_OUT, (109.841, 40.651))
    with clock.at(at("2026-12-15T12:00:00")):
        token = await api.token("mapped", C1_ADMIN)
        await api.data(query, {"community": community, "first": 1}, token=token)  # warm the caches
        counts = []
        # By name 网格员丁, 丙, 乙, 甲: two workers with one shift to show, then four with two.
        for first in (2, 4):
            with counting_statements() as counter:
                data = await api.data(query, {"community": community, "first": first}, token=token)
            counts.append(counter.count)
        days = {e["node"]["worker"]["name"]: e["node"] for e in data["communityWorkdays"]["edges"]}
        assert data["communityWorkdays"]["totalCount"] == 4
        assert (
            days["网格员丙"]["attendance"]["status"] == "ON_TIME"
            and days["网格员丙"]["shift"]["checkIn"]["place"] == "INSIDE"
        )
        assert days["网格员乙"]["attendance"]["status"] == "MISSING" and days["网格员乙"]["shift"] is None
        assert days["网格员甲"]["shift"]["checkIn"]["grid"]["name"] == "万青一网格"
        assert counts[0] == counts[1]
        refused = await api.run(query, {"community": community, "first": 4}, token=await api.token("mapped", C2_ADMIN))
        assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_check_in_keeps_its_photo_without_where_it_was_taken(
    api: Api, clock: Clock, mapped: TenantHandle
) -> None:
    with clock.at(at("2026-12-18T08:00:00")):
        token = await api.token("mapped", W1)
        uploaded = await api.upload_ahead("wx-tmp.jpg", photo("image/jpeg"), "image/jpeg", token=token)
        assert uploaded.status_code == 201, uploaded.text
        query = "mutation($input: PunchInput!) { checkIn(input: $input) { shift { checkIn { photoUrl } } errors { field code } } }"
        done = (
            await api.data(
                query, {"input": {**here(109.841, 40.651)["input"], "photoId": uploaded.json()["id"]}}, token=token
            )
        )["checkIn"]
        assert done["errors"] == [] and done["shift"]["checkIn"]["photoUrl"].startswith("http")
        again = (
            await api.data(
                query, {"input": {**here(109.841, 40.651)["input"], "photoId": uploaded.json()["id"]}}, token=token
            )
        )["checkIn"]
        assert [e["code"] for e in again["errors"]] == ["ALREADY_CHECKED_IN"]
    await _punch(api, clock, W1, "2026-12-18T17:30:00", CHECK_OUT, (109.841, 40.651))
