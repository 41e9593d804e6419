"""The pure rules, tested directly (no database, no endpoint): the complaint lifecycle table, a
room's booking rules, the working calendar's arithmetic and content negotiation. Where the input
space is wide, Hypothesis walks it; the endpoint tests show the same rules reached through the API."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.bookings import Breach, RoomRules, span_minutes
from models.calendar import DAY_ENDS, DAY_STARTS, SHANGHAI, OfficialCalendar, WorkingCalendar
from models.complaints import LIFECYCLE, ComplaintAction, ComplaintParty, ComplaintStatus
from models.lifecycle import Refusal, TransitionRefused
from server.http import GRAPHQL_RESPONSE, JSON, negotiate

S, A, P = ComplaintStatus, ComplaintAction, ComplaintParty

# --- the complaint lifecycle: the closed loop as docs/domain.md tells it ------------------------


@pytest.mark.parametrize(
    ("state", "action", "party", "after"),
    [
        (S.SUBMITTED, A.ACCEPT, P.HANDLER, S.ACCEPTED),
        (S.ACCEPTED, A.START_WORK, P.HANDLER, S.IN_PROGRESS),
        (S.IN_PROGRESS, A.RESOLVE, P.HANDLER, S.RESOLVED),
        (S.RESOLVED, A.CONFIRM, P.RESIDENT, S.CLOSED),
        (S.RESOLVED, A.AUTO_CLOSE, P.SYSTEM, S.CLOSED),
        (S.ACCEPTED, A.DISPATCH, P.HANDLER, S.DISPATCHED),
        (S.IN_PROGRESS, A.DISPATCH, P.ADMIN, S.DISPATCHED),
        (S.DISPATCHED, A.DEPARTMENT_ACCEPT, P.DEPARTMENT, S.DISPATCHED),
        (S.DISPATCHED, A.RETURN_TO_GRID, P.DEPARTMENT, S.IN_PROGRESS),
        (S.DISPATCHED, A.RESOLVE, P.DEPARTMENT, S.RESOLVED),
        (S.SUBMITTED, A.REJECT, P.HANDLER, S.REJECTED),
        (S.REOPENED, A.REJECT, P.ADMIN, S.REJECTED),
        (S.RESOLVED, A.REOPEN, P.RESIDENT, S.REOPENED),
        (S.REOPENED, A.START_WORK, P.HANDLER, S.IN_PROGRESS),
        (S.SUBMITTED, A.WITHDRAW, P.RESIDENT, S.WITHDRAWN),
        (S.IN_PROGRESS, A.SUPERVISE, P.ADMIN, S.IN_PROGRESS),
        (S.DISPATCHED, A.MARK_OVERDUE, P.SYSTEM, S.DISPATCHED),
    ],
)
def test_each_step_of_the_closed_loop_leads_where_the_domain_says(
    state: ComplaintStatus, action: ComplaintAction, party: ComplaintParty, after: ComplaintStatus
) -> None:
    assert LIFECYCLE.next_state(action, state, {party}) is after


@pytest.mark.parametrize(
    ("state", "action", "party", "reason"),
    [
        (S.SUBMITTED, A.ACCEPT, P.RESIDENT, Refusal.PARTY),
        (S.SUBMITTED, A.ACCEPT, P.DEPARTMENT, Refusal.PARTY),
        (S.SUBMITTED, A.RESOLVE, P.HANDLER, Refusal.STATE),
        (S.IN_PROGRESS, A.RESOLVE, P.DEPARTMENT, Refusal.PARTY),
        (S.DISPATCHED, A.RESOLVE, P.HANDLER, Refusal.PARTY),
        (S.DISPATCHED, A.REJECT, P.ADMIN, Refusal.STATE),
        (S.RESOLVED, A.CONFIRM, P.HANDLER, Refusal.PARTY),
        (S.RESOLVED, A.CONFIRM, P.ADMIN, Refusal.PARTY),
        (S.RESOLVED, A.REJECT, P.ADMIN, Refusal.STATE),
        (S.ACCEPTED, A.WITHDRAW, P.RESIDENT, Refusal.STATE),
        (S.IN_PROGRESS, A.AUTO_CLOSE, P.SYSTEM, Refusal.STATE),
        (S.RESOLVED, A.AUTO_CLOSE, P.RESIDENT, Refusal.PARTY),
        (S.SUBMITTED, A.MARK_OVERDUE, P.ADMIN, Refusal.PARTY),
        (S.CLOSED, A.REOPEN, P.RESIDENT, Refusal.STATE),
        (S.REJECTED, A.START_WORK, P.ADMIN, Refusal.STATE),
        (S.WITHDRAWN, A.ACCEPT, P.HANDLER, Refusal.STATE),
    ],
)
def test_a_step_out_of_turn_or_by_the_wrong_party_is_refused_saying_which(
    state: ComplaintStatus, action: ComplaintAction, party: ComplaintParty, reason: Refusal
) -> None:
    with pytest.raises(TransitionRefused) as refused:
        LIFECYCLE.next_state(action, state, {party})
    assert refused.value.reason is reason


@pytest.mark.parametrize("ended", [S.CLOSED, S.REJECTED, S.WITHDRAWN])
def test_an_ended_complaint_offers_no_step_to_anyone(ended: ComplaintStatus) -> None:
    assert LIFECYCLE.available(ended, set(ComplaintParty)) == frozenset()


def test_every_open_state_can_be_rejected_or_dispatched_except_where_the_department_holds_it() -> None:
    rejectable = {s for s in ComplaintStatus if A.REJECT in LIFECYCLE.available(s, {P.HANDLER})}
    assert rejectable == {S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.REOPENED}
    dispatchable = {s for s in ComplaintStatus if A.DISPATCH in LIFECYCLE.available(s, {P.HANDLER})}
    assert dispatchable == {S.ACCEPTED, S.IN_PROGRESS, S.REOPENED}


# --- a room's booking rules ------------------------------------------------------------------

MONDAY = date(2026, 6, 1)
NOW = datetime.combine(MONDAY - timedelta(days=3), time(9), SHANGHAI).astimezone(UTC)


def rules(**changes: object) -> RoomRules:
    values: dict[str, object] = {
        "opening_hours": {"mon": ["09:00-12:00", "14:00-17:30"], "tue": ["08:30-11:45"], "sat": ["19:00-24:00"]},
        "closed_dates": frozenset(),
        "slot_minutes": 30,
        "min_notice_hours": 2,
        "max_days_ahead": 14,
        "max_duration_minutes": 120,
        "capacity": 20,
    }
    values.update(changes)
    return RoomRules(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("span", "minutes"),
    [
        ("09:00-12:00", (540, 720)),
        ("00:00-24:00", (0, 1440)),
        ("19:30-24:00", (1170, 1440)),
        ("12:00-09:00", None),
        ("09:00-09:00", None),
        ("9:00-12:00", None),
        ("24:00-24:00", None),
        ("09:60-10:00", None),
        ("09:00–12:00", None),
        ("09:00-12:00\n", None),
        ("0٩:00-1٢:00", None),
    ],
)
def test_an_opening_span_is_read_or_refused(span: str, minutes: tuple[int, int] | None) -> None:
    assert span_minutes(span) == minutes


@given(day=st.dates(min_value=MONDAY, max_value=MONDAY + timedelta(days=6)), slot_minutes=st.sampled_from([15, 30, 60]))
def test_every_slot_of_the_grid_is_bookable_and_lies_inside_an_opening_span(day: date, slot_minutes: int) -> None:
    room = rules(slot_minutes=slot_minutes)
    step, midnight = timedelta(minutes=slot_minutes), datetime.combine(day, time(0), SHANGHAI)
    for starts, ends in room.slot_grid(day):
        assert ends - starts == step
        assert (starts - midnight) % step == timedelta(0)  # by the clock: :00, :15, :30, …
        assert any(opens <= starts and ends <= closes for opens, closes in room.opening_intervals(day))
        assert room.breaches(starts, ends, attendees=1, now=NOW) == []


@given(
    offset=st.integers(min_value=0, max_value=24 * 60 - 1),
    minutes=st.integers(min_value=1, max_value=120),
)
def test_a_request_off_the_grid_is_refused_and_one_on_it_is_not(offset: int, minutes: int) -> None:
    room = rules()
    starts = datetime.combine(MONDAY, time(0), SHANGHAI) + timedelta(minutes=offset)
    ends = starts + timedelta(minutes=minutes)
    found = room.breaches(starts, ends, attendees=1, now=NOW)
    grid = room.slot_grid(MONDAY)
    on_grid = starts in {s for s, _ in grid} and ends in {e for _, e in grid}
    inside = any(opens <= starts and ends <= closes for opens, closes in room.opening_intervals(MONDAY))
    assert (found == []) is (on_grid and inside)
    if not inside:
        assert Breach.OUTSIDE_OPENING_HOURS in found


@pytest.mark.parametrize(
    ("starts", "minutes", "attendees", "breach"),
    [
        (datetime(2026, 6, 1, 10, tzinfo=SHANGHAI), 0, 1, Breach.ENDS_BEFORE_START),
        (datetime(2026, 6, 1, 10, tzinfo=SHANGHAI), 30, 21, Breach.OVER_CAPACITY),
        (datetime(2026, 6, 1, 10, tzinfo=SHANGHAI), 30, 0, Breach.OVER_CAPACITY),
        (datetime(2026, 6, 1, 9, tzinfo=SHANGHAI), 150, 1, Breach.TOO_LONG),
        (datetime(2026, 5, 29, 10, tzinfo=SHANGHAI), 30, 1, Breach.TOO_SOON),
        (datetime(2026, 6, 15, 10, tzinfo=SHANGHAI), 30, 1, Breach.TOO_FAR_AHEAD),
        (datetime(2026, 6, 3, 10, tzinfo=SHANGHAI), 30, 1, Breach.OUTSIDE_OPENING_HOURS),
        (datetime(2026, 6, 1, 11, 45, tzinfo=SHANGHAI), 30, 1, Breach.OUTSIDE_OPENING_HOURS),
        (datetime(2026, 6, 1, 10, 15, tzinfo=SHANGHAI), 30, 1, Breach.OFF_SLOT),
    ],
)
def test_each_room_rule_names_its_own_breach(starts: datetime, minutes: int, attendees: int, breach: Breach) -> None:
    assert breach in rules().breaches(starts, starts + timedelta(minutes=minutes), attendees, NOW)


def test_a_closed_date_closes_the_room_whatever_its_hours() -> None:
    room = rules(closed_dates=frozenset({MONDAY}))
    assert room.slot_grid(MONDAY) == []
    starts = datetime.combine(MONDAY, time(9), SHANGHAI)
    assert room.breaches(starts, starts + timedelta(minutes=30), 1, NOW) == [Breach.CLOSED_DAY]


@given(
    taken=st.lists(st.tuples(st.integers(-60, 24 * 60), st.integers(0, 240)), max_size=30),
    slot_minutes=st.sampled_from([15, 30, 60]),
)
def test_free_slots_are_the_slots_that_overlap_nothing_taken(taken: list[tuple[int, int]], slot_minutes: int) -> None:
    """Whatever the ranges taken (off the grid, overlapping, touching, empty, across midnight),
    a slot is free exactly when it overlaps none of them, in the grid's order."""
    room = rules(slot_minutes=slot_minutes)
    midnight = datetime.combine(MONDAY, time(0), SHANGHAI)
    ranges = [(midnight + timedelta(minutes=a), midnight + timedelta(minutes=a + n)) for a, n in taken]
    grid = room.slot_grid(MONDAY)
    expected = [(s, e) for s, e in grid if not any(ts < e and s < te for ts, te in ranges)]
    assert room.free_slots([MONDAY], ranges) == expected


# --- the working calendar --------------------------------------------------------------------

# Holidays and make-up days of a made-up year, on a calendar that knows its year from the
# official table (weekends and those days only: no package lookup, no warning).
YEAR = 2031
HOLIDAYS = {date(YEAR, 5, 1): False, date(YEAR, 5, 2): False, date(YEAR, 4, 27): True}
CALENDAR = WorkingCalendar(official=OfficialCalendar(HOLIDAYS, frozenset({YEAR, YEAR + 1})))
moments = st.datetimes(
    min_value=datetime(YEAR, 1, 1), max_value=datetime(YEAR, 12, 1), timezones=st.just(SHANGHAI)
).map(lambda moment: moment.astimezone(UTC))


def working_days_between(first: date, last: date) -> int:
    """Working days after `first`, up to and including `last`."""
    return sum(CALENDAR.is_working_day(first + timedelta(days=n)) for n in range(1, (last - first).days + 1))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(YEAR, 5, 1), False),  # a holiday on a Thursday
        (date(YEAR, 4, 27), True),  # a make-up Sunday
        (date(YEAR, 5, 3), False),  # a Saturday
        (date(YEAR, 5, 5), True),  # a Monday
    ],
)
def test_a_working_day_is_the_official_tables_else_a_weekday(day: date, working: bool) -> None:
    assert CALENDAR.is_working_day(day) is working


def test_a_tenants_override_outranks_the_official_table() -> None:
    calendar = WorkingCalendar(official=CALENDAR.official, overrides={date(YEAR, 5, 1): True})
    assert calendar.is_working_day(date(YEAR, 5, 1))


@given(start=moments, days=st.integers(min_value=1, max_value=30))
def test_n_working_days_after_ends_a_working_day_with_exactly_n_counted(start: datetime, days: int) -> None:
    due = CALENDAR.working_days_after(start, days)
    local = due.astimezone(SHANGHAI)
    assert local.time() == DAY_ENDS
    assert CALENDAR.is_working_day(local.date())
    assert working_days_between(start.astimezone(SHANGHAI).date(), local.date()) == days


@given(start=moments, hours=st.floats(min_value=0.25, max_value=40), more=st.floats(min_value=0.25, max_value=40))
def test_working_hours_end_inside_a_working_day_and_more_hours_never_end_sooner(
    start: datetime, hours: float, more: float
) -> None:
    due = CALENDAR.working_hours_after(start, hours).astimezone(SHANGHAI)
    assert CALENDAR.is_working_day(due.date())
    assert DAY_STARTS < due.time() <= DAY_ENDS
    assert CALENDAR.working_hours_after(start, hours + more) > CALENDAR.working_hours_after(start, hours)


def test_a_friday_afternoon_hour_runs_into_monday_morning() -> None:
    friday = datetime(YEAR, 5, 9, 16, 30, tzinfo=SHANGHAI)
    assert CALENDAR.working_hours_after(friday, 1) == datetime(YEAR, 5, 12, 9, 30, tzinfo=SHANGHAI)


# --- content negotiation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "served"),
    [
        (None, JSON),
        ("", JSON),
        ("application/json", JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json;q=0.9", GRAPHQL_RESPONSE),
        ("application/graphql-response+json;q=0, application/json", JSON),
        ("APPLICATION/JSON", JSON),
        ("*/*", JSON),
        ("application/*;q=0.5", JSON),
        ("text/html", None),
        ("application/json;q=0", None),
        ("application/xml, text/*", None),
    ],
)
def test_the_response_type_for_an_accept_header(accept: str | None, served: str | None) -> None:
    assert negotiate(accept) == served


MEDIA = st.sampled_from(
    [GRAPHQL_RESPONSE, JSON, "application/*", "*/*", "text/html", "application/xml", "image/png", "text/*"]
)
QUALITY = st.sampled_from(["", ";q=0", ";q=0.0", ";q=0.5", ";q=1", ";q=bad", "; charset=utf-8"])


@given(ranges=st.lists(st.tuples(MEDIA, QUALITY), min_size=1, max_size=6))
def test_negotiation_prefers_graphql_response_and_serves_json_to_whoever_takes_it(
    ranges: list[tuple[str, str]],
) -> None:
    accepted = {media for media, quality in ranges if quality not in (";q=0", ";q=0.0", ";q=bad")}
    served = negotiate(", ".join(media + quality for media, quality in ranges))
    if GRAPHQL_RESPONSE in accepted:
        assert served == GRAPHQL_RESPONSE
    elif accepted & {JSON, "application/*", "*/*"}:
        assert served == JSON
    else:
        assert served is None
