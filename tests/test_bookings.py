"""Rooms and bookings through the endpoint: every rule, approval, cancellation and check-in,
and no double booking under concurrent requests. "Now" is Tuesday 1 December 2026, 09:00."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.bookings import WEEKDAYS, Breach, RoomRules
from models.calendar import SHANGHAI
from tests.conftest import COMMUNITY_ADMIN, TENANT_ADMIN, WORKER_1
from tests.support import Api, Clock, TenantHandle, code_of, fresh_phone

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
BOOKING = "booking { id status startsAt endsAt reason answerDueAt recurring room { name } resident { name phone } } errors { field code message }"
REQUEST = f"mutation($input: RequestRoomBookingInput!) {{ requestRoomBooking(input: $input) {{ {BOOKING} }} }}"


def at(day: int, hour: int, minute: int = 0) -> str:
    return f"2026-12-{day:02d}T{hour:02d}:{minute:02d}:00+08:00"


def step(name: str, input_type: str = "RoomBookingStepInput") -> str:
    return f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {BOOKING} }} }}"


@pytest.fixture(autouse=True)
def frozen(clock: Clock) -> Iterator[None]:
    with clock.at(NOW):
        yield


@pytest.fixture(scope="module")
async def rooms(api: Api, alpha: TenantHandle) -> dict[str, str]:
    data = await api.data("{ rooms(first: 10) { edges { node { id name } } } }", tenant="alpha")
    return {e["node"]["name"]: e["node"]["id"] for e in data["rooms"]["edges"]}


async def resident(api: Api, alpha: TenantHandle, name: str = "刘阿姨") -> str:
    phone = fresh_phone()
    assert (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], name=name, phone=phone))["errors"] == []
    return phone


async def request(api: Api, phone: str, room: str, starts: str, ends: str, **extra: Any) -> dict[str, Any]:
    values = {"roomId": room, "startsAt": starts, "endsAt": ends, "purpose": "广场舞排练", "attendees": 12, **extra}
    return (await api.data(REQUEST, {"input": values}, token=await api.token("alpha", phone)))["requestRoomBooking"]


async def free(api: Api, room: str, day: int) -> list[str]:
    query = "query($id: ID!, $d: Date!) { node(id: $id) { ... on Room { freeSlots(fromDate: $d, toDate: $d) { startsAt } } } }"
    data = await api.data(query, {"id": room, "d": f"2026-12-{day:02d}"}, tenant="alpha")
    return [s["startsAt"] for s in data["node"]["freeSlots"]]


async def test_anyone_sees_rooms_and_free_slots_and_a_booking_takes_its_slot(
    api: Api, alpha: TenantHandle, rooms: dict[str, str]
) -> None:
    before = await free(api, rooms["活动室"], 3)
    assert before[0] == at(3, 8) and before[-1] == at(3, 20, 30) and len(before) == 26
    result = await request(api, await resident(api, alpha), rooms["活动室"], at(3, 10), at(3, 11))
    assert result["errors"] == [] and result["booking"]["status"] == "APPROVED"
    after = await free(api, rooms["活动室"], 3)
    assert at(3, 10) not in after and at(3, 10, 30) not in after and at(3, 11) in after


@pytest.mark.parametrize(
    ("starts", "ends", "extra", "code"),
    [
        (at(3, 20, 30), at(3, 21, 30), {}, "OUTSIDE_OPENING_HOURS"),
        (at(5, 10), at(5, 11), {}, "CLOSED"),
        (at(1, 10), at(1, 11), {}, "TOO_SOON"),
        (at(20, 10), at(20, 11), {}, "TOO_FAR_AHEAD"),
        (at(3, 12), at(3, 16), {}, "TOO_LONG"),
        (at(3, 12), at(3, 13), {"attendees": 31}, "OVER_CAPACITY"),
        (at(3, 12, 15), at(3, 13, 15), {}, "NOT_ON_SLOT"),
        (at(3, 13), at(3, 12), {}, "INVALID"),
    ],
)
async def test_each_room_rule_is_a_clear_error_and_writes_nothing(
    api: Api, alpha: TenantHandle, rooms: dict[str, str], starts: str, ends: str, extra: dict[str, Any], code: str
) -> None:
    phone = await resident(api, alpha)
    result = await request(api, phone, rooms["活动室"], starts, ends, **extra)
    assert result["booking"] is None and code in [e["code"] for e in result["errors"]]
    assert (
        await api.data("{ roomBookings(first: 10) { edges { node { id } } } }", token=await api.token("alpha", phone))
    )["roomBookings"]["edges"] == []


async def test_every_free_slot_of_a_room_opening_at_half_past_can_be_booked(
    api: Api, alpha: TenantHandle, rooms: dict[str, str]
) -> None:
    # 调解室: 09:00-12:00 and 13:30-17:30 with 60-minute slots; the afternoon's slots keep to the
    # clock's hours, and a request for half past is refused as it is never offered.
    offered = await free(api, rooms["调解室"], 10)
    assert offered == [at(10, h) for h in (9, 10, 11, 14, 15, 16)]
    off_grid = await request(
        api, await resident(api, alpha), rooms["调解室"], at(10, 13, 30), at(10, 14, 30), attendees=4
    )
    assert [e["code"] for e in off_grid["errors"]] == ["NOT_ON_SLOT"]
    phone = await resident(api, alpha)
    booked = {
        starts: (
            await request(
                api,
                phone,
                rooms["调解室"],
                starts,
                (datetime.fromisoformat(starts) + timedelta(hours=1)).isoformat(),
                attendees=4,
            )
        )["errors"]
        for starts in offered
    }
    assert booked == {starts: [] for starts in offered}
    assert await free(api, rooms["调解室"], 10) == []


async def test_the_weekly_quota_counts_what_the_resident_already_holds(
    api: Api, alpha: TenantHandle, rooms: dict[str, str]
) -> None:
    phone = await resident(api, alpha)
    assert (await request(api, phone, rooms["活动室"], at(2, 8), at(2, 11)))["errors"] == []
    assert (await request(api, phone, rooms["活动室"], at(4, 8), at(4, 11)))["errors"] == []
    over = await request(api, phone, rooms["活动室"], at(6, 8), at(6, 9))
    assert over["errors"][0]["code"] == "QUOTA_EXCEEDED"


async def test_an_overlap_is_refused_without_saying_who_holds_the_slot_and_back_to_back_is_fine(
    api: Api, alpha: TenantHandle, beta: TenantHandle, rooms: dict[str, str]
) -> None:
    holder = await resident(api, alpha, name="钱先生")
    assert (await request(api, holder, rooms["活动室"], at(4, 14), at(4, 15)))["errors"] == []
    other = await resident(api, alpha)
    beta_resident = fresh_phone()
    await api.register_resident("beta", beta.buildings["B1-G1-B1"], phone=beta_resident)
    values = {"roomId": rooms["活动室"], "startsAt": at(4, 16), "endsAt": at(4, 17), "purpose": "越界", "attendees": 2}
    foreign = await api.data(REQUEST, {"input": values}, token=await api.token("beta", beta_resident))
    assert foreign["requestRoomBooking"]["errors"][0]["code"] == "NOT_FOUND"
    clash = await request(api, other, rooms["活动室"], at(4, 14, 30), at(4, 15, 30))
    assert clash["errors"] == [{"field": "startsAt", "code": "BOOKING_CONFLICT", "message": "所选时段已被预约。"}]
    assert (await request(api, other, rooms["活动室"], at(4, 15), at(4, 16)))["errors"] == []


async def test_twenty_concurrent_requests_for_one_slot_exactly_one_wins(
    api: Api, alpha: TenantHandle, rooms: dict[str, str]
) -> None:
    phone = await resident(api, alpha)
    attempts = [
        request(api, phone, rooms["活动室"], at(6, 10, 30 * (i % 2)), at(6, 11, 30 * (i % 2))) for i in range(20)
    ]
    results = await asyncio.gather(*attempts)
    assert len([r for r in results if not r["errors"]]) == 1
    assert {r["errors"][0]["code"] for r in results if r["errors"]} == {"BOOKING_CONFLICT"}
    back_to_back = await asyncio.gather(
        request(api, phone, rooms["活动室"], at(6, 14), at(6, 15)),
        request(api, phone, rooms["活动室"], at(6, 15), at(6, 16)),
    )
    assert [r["errors"] for r in back_to_back] == [[], []]


async def test_a_room_needing_approval_waits_for_the_community_admin(
    api: Api, alpha: TenantHandle, rooms: dict[str, str]
) -> None:
    phone = await resident(api, alpha)
    pending = await request(api, phone, rooms["调解室"], at(3, 9), at(3, 10), attendees=4)
    booking_id = pending["booking"]["id"]
    # Answered within one working day: eight working hours from 09:00 on a Tuesday.
    assert pending["booking"]["status"] == "PENDING" and pending["booking"]["answerDueAt"] == at(1, 17)
    approve = step("approveRoomBooking")
    callers = {
        "resident": await api.token("alpha", phone),
        "worker": await api.token("alpha", WORKER_1),
        "beta admin": await api.token("beta", TENANT_ADMIN),
    }
    refused = {
        who: code_of((await api.data(approve, {"input": {"bookingId": booking_id}}, token=token))["approveRoomBooking"])
        for who, token in callers.items()
    }
    assert refused == {"resident": "FORBIDDEN", "worker": "FORBIDDEN", "beta admin": "NOT_FOUND"}
    queue = await api.data(
        "{ roomBookings(first: 100, filter: {statuses: [PENDING]}) { edges { node { id resident { phone } } } } }",
        token=await api.token("alpha", COMMUNITY_ADMIN),
    )
    assert booking_id in [e["node"]["id"] for e in queue["roomBookings"]["edges"]]
    approved = (
        await api.data(approve, {"input": {"bookingId": booking_id}}, token=await api.token("alpha", COMMUNITY_ADMIN))
    )["approveRoomBooking"]
    assert approved["booking"]["status"] == "APPROVED"
    notes = await api.data(
        "{ notifications(first: 10) { edges { node { kind body } } } }", token=await api.token("alpha", phone)
    )
    assert notes["notifications"]["edges"][0]["node"]["kind"] == "BOOKING_DECIDED"


async def test_rejection_needs_a_reason(api: Api, alpha: TenantHandle, rooms: dict[str, str]) -> None:
    phone = await resident(api, alpha)
    booking_id = (await request(api, phone, rooms["调解室"], at(3, 10), at(3, 11), attendees=2))["booking"]["id"]
    admin = await api.token("alpha", COMMUNITY_ADMIN)
    reject = step("rejectRoomBooking", "RoomBookingReasonInput")
    assert (await api.data(reject, {"input": {"bookingId": booking_id}}, token=admin))["rejectRoomBooking"]["errors"][
        0
    ]["field"] == "reason"
    done = (await api.data(reject, {"input": {"bookingId": booking_id, "reason": "当天有街道会议"}}, token=admin))[
        "rejectRoomBooking"
    ]
    assert done["booking"]["status"] == "REJECTED" and done["booking"]["reason"] == "当天有街道会议"


async def test_a_weekly_series_is_accepted_or_refused_as_a_whole(
    api: Api, alpha: TenantHandle, rooms: dict[str, str]
) -> None:
    dancers = await resident(api, alpha, name="舞蹈队长")
    series = await request(
        api, dancers, rooms["调解室"], at(9, 15), at(9, 16), attendees=6, repeatWeeklyUntil="2026-12-23"
    )
    assert series["errors"] == [] and series["booking"]["recurring"] is True
    approved = await api.data(
        step("approveRoomBooking"),
        {"input": {"bookingId": series["booking"]["id"]}},
        token=await api.token("alpha", COMMUNITY_ADMIN),
    )
    assert approved["approveRoomBooking"]["errors"] == []
    mine = await api.data(
        "{ roomBookings(first: 10) { edges { node { status startsAt } } } }", token=await api.token("alpha", dancers)
    )
    assert [(e["node"]["status"], e["node"]["startsAt"]) for e in mine["roomBookings"]["edges"]] == [
        ("APPROVED", at(d, 15)) for d in (9, 16, 23)
    ]
    choir = await resident(api, alpha, name="合唱队长")
    clash = await request(
        api, choir, rooms["调解室"], at(16, 15), at(16, 16), attendees=6, repeatWeeklyUntil="2026-12-30"
    )
    assert clash["errors"] == [
        {
            "field": "startsAt",
            "code": "BOOKING_CONFLICT",
            "message": "以下日期的所选时段已被预约：2026-12-16、2026-12-23。",
        }
    ]
    assert (
        await api.data("{ roomBookings(first: 10) { edges { node { id } } } }", token=await api.token("alpha", choir))
    )["roomBookings"]["edges"] == []


async def test_cancel_check_in_no_show_and_complete(
    api: Api, alpha: TenantHandle, rooms: dict[str, str], clock: Clock
) -> None:
    phone = await resident(api, alpha)
    first = (await request(api, phone, rooms["活动室"], at(2, 18), at(2, 19)))["booking"]["id"]
    second = (await request(api, phone, rooms["活动室"], at(2, 19), at(2, 20)))["booking"]["id"]
    third = (await request(api, phone, rooms["活动室"], at(2, 20), at(2, 21)))["booking"]["id"]
    cancel = step("cancelRoomBooking", "RoomBookingReasonInput")
    cancelled = await api.data(cancel, {"input": {"bookingId": third}}, token=await api.token("alpha", phone))
    assert cancelled["cancelRoomBooking"]["booking"]["status"] == "CANCELLED"
    assert at(2, 20) in await free(api, rooms["活动室"], 2)
    with clock.at(datetime(2026, 12, 2, 9, 50, tzinfo=UTC)):  # 17:50, ten minutes before the first
        token, admin = await api.token("alpha", phone), await api.token("alpha", COMMUNITY_ADMIN)
        checked = (await api.data(step("checkInRoomBooking"), {"input": {"bookingId": first}}, token=token))[
            "checkInRoomBooking"
        ]
        assert checked["booking"]["status"] == "CHECKED_IN"
        early = (await api.data(step("markRoomBookingNoShow"), {"input": {"bookingId": second}}, token=admin))[
            "markRoomBookingNoShow"
        ]
        assert early["errors"][0]["code"] == "NOT_NOW"
    with clock.at(datetime(2026, 12, 2, 11, 20, tzinfo=UTC)):  # 19:20
        token, admin = await api.token("alpha", phone), await api.token("alpha", COMMUNITY_ADMIN)
        assert (await api.data(cancel, {"input": {"bookingId": second}}, token=token))["cancelRoomBooking"]["errors"][
            0
        ]["code"] == "TOO_LATE"
        assert (await api.data(step("markRoomBookingNoShow"), {"input": {"bookingId": second}}, token=token))[
            "markRoomBookingNoShow"
        ]["errors"][0]["code"] == "FORBIDDEN"
        no_show = (await api.data(step("markRoomBookingNoShow"), {"input": {"bookingId": second}}, token=admin))[
            "markRoomBookingNoShow"
        ]
        assert no_show["booking"]["status"] == "NO_SHOW"
        done = (await api.data(step("completeRoomBooking"), {"input": {"bookingId": first}}, token=admin))[
            "completeRoomBooking"
        ]
        assert done["booking"]["status"] == "COMPLETED"


async def test_an_admin_cancels_only_with_a_reason(api: Api, alpha: TenantHandle, rooms: dict[str, str]) -> None:
    booking_id = (await request(api, await resident(api, alpha), rooms["活动室"], at(7, 9), at(7, 10)))["booking"]["id"]
    admin = await api.token("alpha", TENANT_ADMIN)
    cancel = step("cancelRoomBooking", "RoomBookingReasonInput")
    assert (await api.data(cancel, {"input": {"bookingId": booking_id}}, token=admin))["cancelRoomBooking"]["errors"][
        0
    ]["field"] == "reason"
    done = (await api.data(cancel, {"input": {"bookingId": booking_id, "reason": "场地维修"}}, token=admin))[
        "cancelRoomBooking"
    ]
    assert done["booking"]["status"] == "CANCELLED"


async def test_a_request_unanswered_for_a_working_day_alerts_the_admins_once(
    api: Api, app, alpha: TenantHandle, rooms: dict[str, str], clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    from server.jobs import run_jobs

    assert (await request(api, await resident(api, alpha), rooms["调解室"], at(4, 14), at(4, 15), attendees=3))[
        "errors"
    ] == []
    count = "{ notifications(first: 100) { edges { node { kind } } } }"

    async def overdue_notes() -> int:
        admin = await api.token("alpha", COMMUNITY_ADMIN)
        return [e["node"]["kind"] for e in (await api.data(count, token=admin))["notifications"]["edges"]].count(
            "BOOKING_OVERDUE"
        )

    before = await overdue_notes()
    with clock.at(NOW + timedelta(days=2)):
        await run_jobs(app.state.services)
        after_first = await overdue_notes()
        await run_jobs(app.state.services)
    assert after_first > before and await overdue_notes() == after_first


async def test_bookings_are_private_to_their_resident_and_the_admins(
    api: Api, alpha: TenantHandle, rooms: dict[str, str]
) -> None:
    booking_id = (await request(api, await resident(api, alpha), rooms["活动室"], at(8, 9), at(8, 10)))["booking"]["id"]
    query = "query($id: ID!) { node(id: $id) { ... on RoomBooking { purpose } } }"
    assert (await api.data(query, {"id": booking_id}, token=await api.token("alpha", await resident(api, alpha))))[
        "node"
    ] is None
    assert (await api.data(query, {"id": booking_id}, token=await api.token("beta", TENANT_ADMIN)))["node"] is None
    body = await api.run(
        "{ roomBookings(first: 5) { edges { node { id } } } }", token=await api.token("alpha", WORKER_1)
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


UPDATE_ROOM = """mutation($input: UpdateRoomInput!) { updateRoom(input: $input) {
  room { name capacity openingHours { weekday opens closes } slotMinutes closedDates } errors { field code } } }"""


def room_settings(room_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "roomId": room_id,
        "name": "活动室",
        "capacity": 30,
        "facilities": ["音响"],
        "requiresApproval": False,
        "openingHours": [
            {"weekday": d, "opens": "08:00", "closes": "21:00"}
            for d in ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
        ],
        "closedDates": ["2026-12-05"],
        "slotMinutes": 30,
        "minNoticeHours": 2,
        "maxDaysAhead": 14,
        "maxDurationMinutes": 180,
        "weeklyQuotaHours": 6,
        **changes,
    }


async def test_admins_edit_a_room_and_others_cannot(api: Api, alpha: TenantHandle, rooms: dict[str, str]) -> None:
    bad = await api.data(
        UPDATE_ROOM,
        {
            "input": room_settings(
                rooms["活动室"],
                capacity=0,
                slotMinutes=7,
                openingHours=[{"weekday": "MON", "opens": "21:00", "closes": "08:00"}],
            )
        },
        token=await api.token("alpha", COMMUNITY_ADMIN),
    )
    assert {e["field"] for e in bad["updateRoom"]["errors"]} == {"capacity", "slotMinutes", "openingHours.0"}
    outsiders = (await resident(api, alpha), WORKER_1)
    refused = {
        who: code_of(
            (
                await api.data(
                    UPDATE_ROOM,
                    {"input": room_settings(rooms["活动室"], capacity=99)},
                    token=await api.token("alpha", who),
                )
            )["updateRoom"]
        )
        for who in outsiders
    }
    assert refused == dict.fromkeys(outsiders, "FORBIDDEN")
    foreign = await api.data(
        UPDATE_ROOM, {"input": room_settings(rooms["活动室"])}, token=await api.token("beta", TENANT_ADMIN)
    )
    assert foreign["updateRoom"]["errors"][0]["code"] == "NOT_FOUND"
    good = await api.data(
        UPDATE_ROOM,
        {"input": room_settings(rooms["活动室"], capacity=35)},
        token=await api.token("alpha", COMMUNITY_ADMIN),
    )
    assert good["updateRoom"]["errors"] == [] and good["updateRoom"]["room"]["capacity"] == 35
    assert good["updateRoom"]["room"]["openingHours"][0] == {"weekday": "MON", "opens": "08:00", "closes": "21:00"}
    assert len(good["updateRoom"]["room"]["openingHours"]) == 7
    restored = await api.data(
        UPDATE_ROOM, {"input": room_settings(rooms["活动室"])}, token=await api.token("alpha", COMMUNITY_ADMIN)
    )
    assert restored["updateRoom"]["room"]["capacity"] == 30


# --- the slot grid, as a pure rule ----------------------------------------------------------


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def opening_hours(draw: st.DrawFn) -> dict[str, list[str]]:
    """Each weekday's spans: ascending, apart, anywhere from 00:00 to 24:00, to the minute."""
    hours = {}
    for day in WEEKDAYS:
        bounds = sorted(draw(st.sets(st.integers(0, 24 * 60), max_size=6)))
        hours[day] = [f"{_clock(a)}-{_clock(b)}" for a, b in zip(bounds[::2], bounds[1::2], strict=False)]
    return hours


def _rules(hours: dict[str, list[str]], slot_minutes: int, closed: frozenset[date]) -> RoomRules:
    # Notice, horizon, duration and capacity out of the way: only the grid and the hours decide.
    return RoomRules(hours, closed, slot_minutes, 0, 180, 24 * 60, 10)


@given(
    hours=opening_hours(),
    slot_minutes=st.sampled_from([15, 30, 60]),
    day=st.dates(date(2026, 1, 1), date(2030, 12, 31)),
    closed=st.booleans(),
    requests=st.lists(st.tuples(st.integers(0, 24 * 60 - 1), st.integers(1, 8)), max_size=20),
)
def test_every_offered_slot_can_be_requested_and_nothing_off_slot_is_offered(
    hours: dict[str, list[str]],
    slot_minutes: int,
    day: date,
    closed: bool,
    requests: list[tuple[int, int]],
) -> None:
    rules = _rules(hours, slot_minutes, frozenset({day}) if closed else frozenset())
    now = datetime.combine(day - timedelta(days=1), time(0), SHANGHAI)
    offered = rules.free_slots([day], [])
    for starts, ends in offered:
        assert rules.breaches(starts, ends, 1, now) == [], (starts, ends)
    midnight = datetime.combine(day, time(0), SHANGHAI)
    for start_minute, quarters in requests:
        starts = midnight + timedelta(minutes=start_minute)
        for ends in (starts + timedelta(minutes=slot_minutes), starts + timedelta(minutes=15 * quarters)):
            breaches = rules.breaches(starts, ends, 1, now)
            if Breach.OFF_SLOT in breaches:
                assert (starts, ends) not in offered
            if ends - starts == timedelta(minutes=slot_minutes):
                # One slot long: offered exactly when it would be accepted.
                assert ((starts, ends) in offered) == (not breaches), (starts, ends, breaches)
