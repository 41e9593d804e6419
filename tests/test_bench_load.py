"""The benchmark's loader (bench.load) against the project as it now is: a small load, through
the migrations and the onboarding, leaves a database with every index, foreign key and
row-level security the migrations make, whose copied rows the app role reads, and whose rollups
(counted in SQL by bench.rollups) are the project's recount of those rows. Nothing else in
the suite runs the loader, and a migration it does not keep up with would otherwise surface
only when someone benchmarks. (Collected on PostgreSQL only: the loader is PostgreSQL's.)"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench import database as bench_database
from bench import rollups
from bench.database import BenchDatabase
from models import analytics
from models.calendar import DAY_ENDS, DAY_STARTS, SHANGHAI, WorkingCalendar
from models.settings import Settings
from resolvers.deadlines import calendar_of
from resolvers.permissions import session_of
from tenants.context import RequestContext, Services, unit_of_work
from tests.provision import DATABASE_NAME, ProvisionedDatabase, admin_url

COMPLAINTS, OTHER_COMPLAINTS, YEARS = 300, 30, 3
# Each index's table, columns and kind: a definition rebuilt from the catalogue may word a
# partial index's predicate otherwise than the migration did, to the same effect.
INDEXES = (
    "SELECT indexrelid::regclass::text, indrelid::regclass::text, indkey::text, indisunique, indpred IS NOT NULL, "
    "pg_get_indexdef(indexrelid) LIKE '% USING gin %' FROM pg_index JOIN pg_class ON pg_class.oid = indrelid "
    "WHERE relnamespace = 'public'::regnamespace"
)
ROW_LEVEL_SECURITY = (
    "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relnamespace = 'public'::regnamespace"
)


@pytest.fixture(scope="module")
def loaded(database: ProvisionedDatabase) -> Iterator[BenchDatabase]:
    """A database bench.load filled, on the server the suite's `database` is on, as its admin."""
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(bench_database, "ADMIN_URL", admin_url())
        db = BenchDatabase(f"wanjia_bench_{DATABASE_NAME}")  # one per checkout, as the suite's
        command = [sys.executable, "-m", "bench.load", "--database", db.name, "--tenants", "2", "--years", str(YEARS)]
        command += ["--complaints", str(COMPLAINTS), "--other-complaints", str(OTHER_COMPLAINTS)]
        done = subprocess.run(
            command, env={**os.environ, "WANJIA_BENCH_ADMIN_URL": admin_url()}, capture_output=True, text=True
        )
        try:
            assert done.returncode == 0, done.stdout + done.stderr
            yield db
        finally:
            db.drop()


def test_a_load_leaves_every_index_constraint_and_row_level_security_of_the_migrations(
    loaded: BenchDatabase, database: ProvisionedDatabase
) -> None:
    assert loaded.is_loaded()
    with psycopg.connect(make_url(database.owner_url).set(drivername="postgresql").render_as_string(False)) as migrated:
        expected = {query: set(migrated.execute(query).fetchall()) for query in (INDEXES, ROW_LEVEL_SECURITY)}
    with psycopg.connect(loaded.owner_dsn) as connection:
        assert {query: set(connection.execute(query).fetchall()) for query in expected} == expected
        assert connection.execute("SELECT conname FROM pg_constraint WHERE NOT convalidated").fetchall() == []


def test_the_app_role_reads_each_office_its_copied_complaints_with_ids_made_when_they_were(
    loaded: BenchDatabase,
) -> None:
    now = time.time()
    with psycopg.connect(loaded.owner_dsn) as owner:
        tenants = owner.execute("SELECT id, slug FROM tenants").fetchall()
    counted = {}
    with psycopg.connect(loaded.app_dsn) as connection:
        for tenant_id, slug in tenants:
            connection.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant_id),))
            # Binary COPY: a UUIDv7's first 48 bits are the milliseconds it was made at, here
            # the complaint's submission (to a millisecond: the two are rounded apart).
            (complaints, first, last, stamped_otherwise) = connection.execute(
                "SELECT count(*), min(submitted_at), max(submitted_at), count(*) FILTER (WHERE abs("
                "('x' || substr(replace(id::text, '-', ''), 1, 12))::bit(48)::bigint"
                " - floor(extract(epoch FROM submitted_at) * 1000)) > 1) FROM complaints"
            ).fetchone()
            counted[slug] = complaints
            assert stamped_otherwise == 0
            assert now - YEARS * 366 * 86400 < first.timestamp() <= last.timestamp() < now
    assert sorted(counted.values()) == [OTHER_COMPLAINTS, COMPLAINTS]


def _slugs(loaded: BenchDatabase) -> list[str]:
    with psycopg.connect(loaded.owner_dsn) as owner:
        return [slug for (slug,) in owner.execute("SELECT slug FROM tenants ORDER BY slug")]


@asynccontextmanager
async def _as_office(loaded: BenchDatabase, slug: str) -> AsyncIterator[RequestContext]:
    """A unit of work of the app role in the loaded database, scoped to the office `slug`."""
    services = Services.start(Settings(database_url=loaded.app_url), pool_size=1)
    try:
        tenant = await services.directory.by_slug(slug)
        async with unit_of_work(services, tenant=tenant, viewer=None, writes=True) as ctx:
            yield ctx
    finally:
        await services.close()


async def test_each_office_s_rollups_are_what_the_project_s_recount_makes_of_its_loaded_rows(
    loaded: BenchDatabase,
) -> None:
    for slug in _slugs(loaded):
        async with _as_office(loaded, slug) as ctx:
            session = session_of(ctx)
            recounted = await analytics.recount(session, calendar_of(ctx))
            assert {table for table, _ in recounted} >= set(analytics.ROLLUPS) - {analytics.ComplaintCellRollup}
            assert await analytics.stored(session) == recounted, slug


def _moments(rand: random.Random, count: int) -> list[datetime]:
    """Moments of 2024–2026 (Shanghai), half of them on or a moment either side of a working day's
    start or end, or at midnight."""
    edges = [DAY_STARTS, DAY_ENDS, clock(0)]
    moments = []
    for _ in range(count):
        day = date(2024, 1, 1) + timedelta(days=rand.randrange(1000))
        if rand.random() < 0.5:
            wall = datetime.combine(day, rand.choice(edges)) + timedelta(microseconds=rand.choice((-1, 0, 1)))
        else:
            wall = datetime.combine(day, clock(0)) + timedelta(seconds=rand.uniform(0, 86400))
        moments.append(wall.replace(tzinfo=SHANGHAI).astimezone(UTC))
    return moments


async def test_the_loader_s_working_time_in_sql_is_the_calendar_s(loaded: BenchDatabase) -> None:
    """bench.rollups's working minutes and sign-for deadline against models.calendar's, over
    spans of minutes to weeks across weekends, holidays and a tenant's own overrides."""
    rand = random.Random(2026)
    calendar = WorkingCalendar(overrides={date(2025, 3, 5): False, date(2025, 3, 8): True, date(2026, 5, 9): True})
    starts = _moments(rand, 3000)
    ends = [
        start + timedelta(seconds=rand.choice((-1, 0, 1, 60, 3600, 86400, 30 * 86400)) * rand.random())
        for start in starts
    ]
    ends[::7] = _moments(rand, len(ends[::7]))  # and from one edge to another
    days = [moment.astimezone(SHANGHAI).date() for moment in starts + ends]
    async with _as_office(loaded, _slugs(loaded)[0]) as ctx:
        session = session_of(ctx)
        await rollups.use_calendar(session, calendar, min(days), max(days))
        worked_out = (
            await session.execute(
                text(
                    f"SELECT {rollups.MINUTES}, {rollups.SIGNED_BY} FROM unnest(CAST(:starts AS timestamptz[]),"
                    " CAST(:ends AS timestamptz[])) WITH ORDINALITY AS c(submitted_at, resolved_at, n)"
                    f" {rollups.SPAN_DAYS} CROSS JOIN LATERAL (SELECT c.submitted_at AS dispatched_at) w"
                    f" {rollups.DISPATCH_DAY} ORDER BY n"
                ),
                {"starts": starts, "ends": ends, **rollups.PARAMETERS},
            )
        ).all()
        await session.rollback()
    assert [minutes for minutes, _ in worked_out] == [
        analytics.working_minutes_between(calendar, start, end) for start, end in zip(starts, ends, strict=True)
    ]
    assert [signed_by for _, signed_by in worked_out] == [
        calendar.working_hours_after(start, analytics.SIGN_FOR_WORKING_HOURS) for start in starts
    ]


async def test_the_loader_s_map_cells_are_the_heat_map_s(loaded: BenchDatabase) -> None:
    """bench.rollups's cell of a point against analytics.cell_of, half of the points on a cell's
    edge, where dividing by the cell's size lands a hair either side of a whole number. (The
    loader gives no complaint coordinates, so the rollups test does not reach this rule.)"""
    rand = random.Random(7)
    points = [(round(rand.uniform(-90, 90), 3), round(rand.uniform(-180, 180), 3)) for _ in range(1000)]
    points += [(rand.uniform(40, 41), rand.uniform(109, 111)) for _ in range(1000)]
    latitudes, longitudes = (list(axis) for axis in zip(*points, strict=True))
    async with _as_office(loaded, _slugs(loaded)[0]) as ctx:
        cells = (
            await session_of(ctx).execute(
                text(
                    f"SELECT {rollups.CELL} FROM unnest(CAST(:latitudes AS float8[]), CAST(:longitudes AS float8[]))"
                    " WITH ORDINALITY AS c(latitude, longitude, n) ORDER BY n"
                ),
                {"latitudes": latitudes, "longitudes": longitudes, **rollups.PARAMETERS},
            )
        ).scalars()
        assert list(cells) == [analytics.cell_of(latitude, longitude) for latitude, longitude in points]
