"""The benchmark's loader (bench.load) against the project as it now is: a small load, through
the migrations and the onboarding, leaves a database with every index, foreign key and
row-level security the migrations make, whose copied rows the app role reads. Nothing else in
the suite runs the loader, and a migration it does not keep up with would otherwise surface
only when someone benchmarks. (Collected on PostgreSQL only: the loader is PostgreSQL's.)"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bench import database as bench_database
from bench.database import BenchDatabase
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
