"""A loaded office's rollups counted by the database: one INSERT … SELECT … GROUP BY per rollup
table, where `wanjia rollups rebuild` (models.analytics.recount) adds up each complaint's
contributions in Python. At 12 million complaints that Python took 15 minutes on two cores;
PostgreSQL groups the same rows in a few scans.

The rules are models.analytics's, worded in SQL: what a complaint counts in each rollup row,
its working minutes from submission to resolution (the working hours of working days, on
Shanghai's wall clock), a work order's deadline for being signed for. The days' calendar is the
office's own (`calendar_of`: its overrides, the platform's holiday table, the package), written
into a temporary table with a running count of working days, so that the working days between
two moments are one subtraction, as `RememberedCalendar` counts them. The suite checks the rows
written here against the project's recount of the same loaded offices
(tests/test_bench_load.py), so a rule changed there and not here fails it.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from models import analytics
from models.analytics import (
    BUCKET_COLUMNS,
    CELL_DEGREES,
    CONTRIBUTING_COLUMNS,
    HANDLING_BUCKETS,
    RATING_COLUMNS,
    RATINGS,
    SIGN_FOR_WORKING_HOURS,
    WORKING_DAY,
)
from models.calendar import DAY_ENDS, DAY_STARTS, SHANGHAI, WorkingCalendar
from models.complaints import OPEN, ComplaintStatus

SIGN_FOR = timedelta(hours=SIGN_FOR_WORKING_HOURS)
# The sign-for deadline below carries what is left of the day into the next working day only.
assert SIGN_FOR <= WORKING_DAY

# A UUIDv7 (models.base.new_id's layout) from the clock: the milliseconds over a random UUID's
# first 48 bits, the version nibble turned from 4 into 7.
NEW_ID = (
    "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing "
    "substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6), "
    "52, 1), 53, 1), 'hex')::uuid"
)

CALENDAR = """
CREATE TEMPORARY TABLE working_days (
    day date PRIMARY KEY,
    working boolean NOT NULL,
    working_before integer NOT NULL,  -- working days from the table's first day to this one, this one left out
    next_working date NOT NULL
) ON COMMIT DROP
"""
FILL_CALENDAR = """
INSERT INTO working_days
SELECT * FROM unnest(CAST(:days AS date[]), CAST(:working AS boolean[]), CAST(:before AS integer[]),
                     CAST(:next AS date[]))
"""
# The days a rollup looks up: from the first submission to the last thing that happened.
SPAN = """
SELECT min(submitted_at), greatest(max(submitted_at), max(resolved_at),
                                   (SELECT max(dispatched_at) FROM work_orders WHERE tenant_id = :tenant))
FROM complaints WHERE tenant_id = :tenant
"""


def _shanghai(column: str) -> str:
    return f"({column} AT TIME ZONE :zone)"


def _partial_day(day: str, begin: str, finish: str) -> str:
    """The working hours of `day` between the wall-clock moments `begin` and `finish`."""
    return (
        f"CASE WHEN {day}.working THEN greatest(interval '0', least({day}.day + :day_ends, {finish})"
        f" - greatest({day}.day + :day_starts, {begin})) ELSE interval '0' END"
    )


BEGIN, FINISH = _shanghai("c.submitted_at"), _shanghai("c.resolved_at")
# analytics.working_minutes_between: every working day strictly between the first and the last
# counts whole; the first and the last (once, if they are one day) count their worked part.
MINUTES = f"""
CASE WHEN c.resolved_at IS NULL THEN NULL
     WHEN c.resolved_at <= c.submitted_at THEN 0
     ELSE floor(extract(epoch FROM
          (CASE WHEN l.day > f.day THEN l.working_before - f.working_before - f.working::int ELSE 0 END)
              * :working_day
          + {_partial_day("f", BEGIN, FINISH)}
          + CASE WHEN l.day <> f.day THEN {_partial_day("l", BEGIN, FINISH)} ELSE interval '0' END
     ) / 60)::bigint
END
"""


def _bucket_counts() -> list[str]:
    """analytics.bucket_of: the first bucket whose bound (working hours) the time is within."""
    counts: list[str] = []
    floor: int | None = None
    for column, bound in zip(BUCKET_COLUMNS, HANDLING_BUCKETS, strict=True):
        within = [] if math.isinf(bound) else [f"c.minutes <= {int(bound * 60)}"]
        above = [] if floor is None else [f"c.minutes > {floor}"]
        counts.append(f"count(*) FILTER (WHERE {' AND '.join(['c.minutes IS NOT NULL', *above, *within])}) AS {column}")
        floor = None if math.isinf(bound) else int(bound * 60)
    return counts


def _status_is(status: ComplaintStatus) -> str:
    return f"c.status = '{status.value}'"


COHORT_COUNTS = [
    "count(*) AS submitted",
    f"count(*) FILTER (WHERE {_status_is(ComplaintStatus.CLOSED)}) AS closed",
    f"count(*) FILTER (WHERE {_status_is(ComplaintStatus.REJECTED)}) AS rejected",
    f"count(*) FILTER (WHERE {_status_is(ComplaintStatus.WITHDRAWN)}) AS withdrawn",
    "count(c.acknowledged_at) AS acknowledged",
    "count(*) FILTER (WHERE c.acknowledged_at <= c.acknowledge_due_at) AS acknowledged_on_time",
    "count(c.resolved_at) AS resolved",
    "count(*) FILTER (WHERE c.resolved_at <= c.resolve_due_at) AS resolved_on_time",
    "count(*) FILTER (WHERE c.reopen_count > 0) AS reopened",
    "count(*) FILTER (WHERE c.dispatch_count > 0) AS dispatched",
    "coalesce(sum(c.minutes), 0) AS handling_minutes",
    *_bucket_counts(),
    "count(c.rating) AS rated",
    "coalesce(sum(c.rating), 0) AS rating_sum",
    *(
        f"count(*) FILTER (WHERE c.rating = {rating}) AS {column}"
        for rating, column in zip(RATINGS, RATING_COLUMNS, strict=True)
    ),
]
OPEN_STATUSES = ", ".join(f"'{status.value}'" for status in sorted(OPEN))
# models.complaints.overdue_for_good
OVERDUE = (
    f"count(*) FILTER (WHERE c.status IN ({OPEN_STATUSES}) AND c.overdue_at IS NOT NULL"
    f" AND ({_status_is(ComplaintStatus.SUBMITTED)} OR c.resolve_due_at < c.overdue_at)) AS overdue"
)
DAY = f"{BEGIN}::date"
MONTH = f"date_trunc('month', {DAY})::date"
CELL = "floor(c.latitude / :cell)::bigint || ':' || floor(c.longitude / :cell)::bigint"

# The work order's sign-for deadline, calendar.working_hours_after(dispatched_at, 8 h) on the
# wall clock: within a working day's hours, what is left of the day and the rest of the next
# working day's; before them, the day's own; after them or on a day off, the next working day's.
SIGNED_BY = f"""
(CASE WHEN d.working AND {_shanghai("w.dispatched_at")} < d.day + :day_ends THEN
      CASE WHEN greatest({_shanghai("w.dispatched_at")}, d.day + :day_starts) + :sign_for <= d.day + :day_ends
           THEN greatest({_shanghai("w.dispatched_at")}, d.day + :day_starts) + :sign_for
           ELSE d.next_working + :day_starts + :sign_for
                - (d.day + :day_ends - greatest({_shanghai("w.dispatched_at")}, d.day + :day_starts))
      END
      ELSE d.next_working + :day_starts + :sign_for
 END) AT TIME ZONE :zone
"""

# The calendar's rows MINUTES reads: the first (`f`) and last (`l`) day of the span.
SPAN_DAYS = f"JOIN working_days f ON f.day = {DAY} LEFT JOIN working_days l ON l.day = {FINISH}::date"
# The calendar's row SIGNED_BY reads: the dispatch's day (`d`).
DISPATCH_DAY = f"JOIN working_days d ON d.day = {_shanghai('w.dispatched_at')}::date"

# Each complaint's day and working minutes worked out once, in a subquery kept apart (OFFSET 0):
# pulled up, the expressions would be worked out again in each counter that reads them.
FROM_COMPLAINTS = f"""
FROM (SELECT {", ".join(f"c.{name}" for name in CONTRIBUTING_COLUMNS)}, {DAY} AS day, {MINUTES} AS minutes
      FROM complaints c {SPAN_DAYS}
      WHERE c.tenant_id = :tenant OFFSET 0) c
"""


def _names(counts: list[str]) -> list[str]:
    """The columns `expression AS column` (or `alias.column`) select into."""
    return [count.rsplit(" AS ", 1)[-1].rsplit(".", 1)[-1] for count in counts]


def _insert(table: str, keys: list[str], counts: list[str], source: str) -> str:
    """The tenant's rows of `table`: `counts` of the rows of `source` with the same `keys`."""
    return (
        f"INSERT INTO {table} (tenant_id, id, {', '.join(_names(keys) + _names(counts))}) "
        f"SELECT :tenant, {NEW_ID}, {', '.join(keys + counts)} {source} "
        f"GROUP BY {', '.join(str(position) for position in range(3, 3 + len(keys)))}"
    )


def _summed(table: str, keys: list[str], counters: list[str], rolled_from: str) -> str:
    """A coarser rollup from a finer one: each key's counters are the sum of its finer rows'."""
    return _insert(
        table,
        keys,
        [f"sum(c.{name})::integer AS {name}" for name in counters],
        f"FROM {rolled_from} c WHERE c.tenant_id = :tenant",
    )


COHORT_KEYS = ["c.community_id", "c.category_id", "c.source"]
STATUS_COUNTS = ["count(*) AS complaints", OVERDUE]
WORK_ORDER_COUNTS = [
    "count(*) AS received",
    "count(w.signed_at) AS signed",
    f"count(*) FILTER (WHERE w.signed_at <= {SIGNED_BY}) AS signed_on_time",
    "count(w.returned_at) AS returned",
    "count(w.resolved_at) AS resolved",
    "count(*) FILTER (WHERE w.resolved_at <= w.resolve_due_at) AS resolved_on_time",
]
INSERTS = [
    _insert("complaint_day_rollups", ["c.day", *COHORT_KEYS], COHORT_COUNTS, FROM_COMPLAINTS),
    _summed(
        "complaint_month_rollups",
        ["date_trunc('month', c.day)::date AS month", *COHORT_KEYS],
        _names(COHORT_COUNTS),
        "complaint_day_rollups",
    ),
    _insert(
        "complaint_grid_day_rollups",
        [f"{DAY} AS day", "c.community_id", "c.grid_id"],
        [
            "count(*) AS submitted",
            "count(c.resolved_at) AS resolved",
            f"count(*) FILTER (WHERE {_status_is(ComplaintStatus.CLOSED)}) AS closed",
        ],
        "FROM complaints c WHERE c.tenant_id = :tenant",
    ),
    _insert(
        "complaint_status_rollups",
        ["c.community_id", "c.grid_id", "c.category_id", "c.status"],
        STATUS_COUNTS,
        "FROM complaints c WHERE c.tenant_id = :tenant",
    ),
    _summed(
        "complaint_community_status_rollups",
        ["c.community_id", "c.status"],
        _names(STATUS_COUNTS),
        "complaint_status_rollups",
    ),
    _insert(
        "complaint_building_rollups",
        [f"{MONTH} AS month", "c.community_id", "c.grid_id", "c.building_id"],
        ["count(*) AS complaints"],
        "FROM complaints c WHERE c.tenant_id = :tenant AND c.building_id IS NOT NULL",
    ),
    _insert(
        "complaint_cell_rollups",
        [f"{MONTH} AS month", "c.community_id", f"{CELL} AS cell"],
        ["count(*) AS complaints"],
        "FROM complaints c WHERE c.tenant_id = :tenant AND c.latitude IS NOT NULL AND c.longitude IS NOT NULL",
    ),
    _insert(
        "work_order_day_rollups",
        [f"{_shanghai('w.dispatched_at')}::date AS day", "w.community_id", "w.department_id"],
        WORK_ORDER_COUNTS,
        f"FROM work_orders w {DISPATCH_DAY} WHERE w.tenant_id = :tenant",
    ),
    _summed(
        "work_order_month_rollups",
        ["date_trunc('month', c.day)::date AS month", "c.community_id", "c.department_id"],
        _names(WORK_ORDER_COUNTS),
        "work_order_day_rollups",
    ),
]


def calendar_rows(calendar: WorkingCalendar, first: date, last: date) -> dict[str, list[Any]]:
    """Each day from `first` to `last`: whether it is worked, the working days before it (from
    `first`), and the first working day after it."""
    days, working = [first], [calendar.is_working_day(first)]
    while days[-1] <= last or not working[-1]:
        days.append(days[-1] + timedelta(days=1))
        working.append(calendar.is_working_day(days[-1]))
    before, following, running, upcoming = [], [], 0, days[-1]
    for worked in working:
        before.append(running)
        running += worked
    for day, worked in zip(reversed(days), reversed(working), strict=True):
        following.append(upcoming)
        if worked:
            upcoming = day
    following.reverse()
    # The days walked past `last` were walked only to find the working day after it.
    kept = days.index(last) + 1
    return {"days": days[:kept], "working": working[:kept], "before": before[:kept], "next": following[:kept]}


# What the statements above are given besides the tenant.
PARAMETERS = {
    "zone": SHANGHAI.key,
    "day_starts": timedelta(hours=DAY_STARTS.hour, minutes=DAY_STARTS.minute),
    "day_ends": timedelta(hours=DAY_ENDS.hour, minutes=DAY_ENDS.minute),
    "working_day": WORKING_DAY,
    "sign_for": SIGN_FOR,
    "cell": CELL_DEGREES,
}


async def use_calendar(session: AsyncSession, calendar: WorkingCalendar, first: date, last: date) -> None:
    """The table `working_days` for this transaction, from `first` to `last`."""
    await session.execute(text(CALENDAR))
    await session.execute(text(FILL_CALENDAR), calendar_rows(calendar, first, last))


async def count(session: AsyncSession, tenant_id: Any, calendar: WorkingCalendar) -> int:
    """Replaces the tenant's rollups with the rows its complaints and work orders add up to;
    answers how many it wrote."""
    tenant = {"tenant": tenant_id}
    first, last = (await session.execute(text(SPAN), tenant)).one()
    await analytics.clear(session, tenant_id)
    if first is None:
        return 0
    # Each rollup's groups hashed in memory: at 12M complaints, 300,000 days' rows of the cohorts.
    await session.execute(text("SET LOCAL work_mem = '256MB'"))
    await use_calendar(session, calendar, first.astimezone(SHANGHAI).date(), last.astimezone(SHANGHAI).date())
    written = 0
    for insert in INSERTS:
        written += (await session.execute(text(insert), {**tenant, **PARAMETERS})).rowcount
    return written
