"""Test databases: a fresh PostgreSQL database with an owner role for migrations and a plain
app role (no superuser, no BYPASSRLS, owns nothing), or a fresh SQLite file.

Running the migrations takes seconds; copying their result takes a fraction of one. So a session
migrates one template and clones every database it needs from it (the suite's, the demo's, the
plan tests'), except where the migrations themselves are under test. On PostgreSQL the template
is a database of its own that nothing ever connects to after its migration: CREATE DATABASE ...
TEMPLATE refuses a source anyone is connected to.

`python -m tests.provision --check` is what `make test` runs first: it stops with a clear
message when no PostgreSQL answers.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from models import migrations

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
OWNER_ROLE = "wanjia_test_owner"
APP_ROLE = "wanjia_test_app"
ROLE_PASSWORD = "wanjia-test"
# Several checkouts on one machine can run their suites at once, each under its own name.
DATABASE_NAME = os.environ.get("WANJIA_TEST_DATABASE_NAME", "wanjia_test")


@dataclass(frozen=True)
class ProvisionedDatabase:
    app_url: str
    owner_url: str
    backend: str
    # The migrated template this database was cloned from: modules that need a database of
    # their own clone it too (clone).
    template: ProvisionedDatabase | None = None


def admin_url() -> str:
    return os.environ.get("WANJIA_TEST_DATABASE_URL", DEFAULT_ADMIN_URL)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _async_url(url: str, user: str, database: str) -> str:
    return (
        make_url(url)
        .set(drivername="postgresql+psycopg", username=user, password=ROLE_PASSWORD, database=database)
        .render_as_string(hide_password=False)
    )


def admin_dsn(database: ProvisionedDatabase) -> str:
    """The administering role (a superuser, whom row-level security does not bind) on `database`,
    for what only it may do there."""
    return _libpq(
        make_url(admin_url()).set(database=make_url(database.owner_url).database).render_as_string(hide_password=False)
    )


def check_postgres() -> str | None:
    """None when PostgreSQL answers as a role that can create roles and databases, else why not."""
    try:
        with psycopg.connect(_libpq(admin_url()), connect_timeout=5) as connection:
            can = connection.execute(
                "SELECT rolsuper OR (rolcreaterole AND rolcreatedb) FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
    except psycopg.Error as error:
        return f"cannot connect to PostgreSQL at {make_url(admin_url()).render_as_string()}: {error}".strip()
    if not can or not can[0]:
        return "the role in WANJIA_TEST_DATABASE_URL must be able to create roles and databases"
    return None


def create_postgres_database(name: str, template: str | None = None) -> ProvisionedDatabase:
    with psycopg.connect(_libpq(admin_url()), autocommit=True) as connection:
        for role, options in (
            (OWNER_ROLE, sql.SQL("")),
            (APP_ROLE, sql.SQL(" NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")),
        ):
            exists = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            verb = sql.SQL("ALTER") if exists else sql.SQL("CREATE")
            connection.execute(
                sql.SQL("{} ROLE {} LOGIN PASSWORD {}{}").format(
                    verb, sql.Identifier(role), sql.Literal(ROLE_PASSWORD), options
                )
            )
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}{}").format(
                sql.Identifier(name),
                sql.Identifier(OWNER_ROLE),
                sql.SQL(" TEMPLATE {}").format(sql.Identifier(template)) if template else sql.SQL(""),
            )
        )
    return ProvisionedDatabase(
        app_url=_async_url(admin_url(), APP_ROLE, name),
        owner_url=_async_url(admin_url(), OWNER_ROLE, name),
        backend="postgresql",
    )


def drop_postgres_database(name: str) -> None:
    with psycopg.connect(_libpq(admin_url()), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def create_sqlite_database(path: Path) -> ProvisionedDatabase:
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    url = f"sqlite+aiosqlite:///{path}"
    return ProvisionedDatabase(app_url=url, owner_url=url, backend="sqlite")


def create_database(backend: str, name: str, directory: Path) -> ProvisionedDatabase:
    if backend == "postgresql":
        return create_postgres_database(name)
    return create_sqlite_database(directory / f"{name}.db")


def migrate(database: ProvisionedDatabase) -> None:
    migrations.upgrade(database.owner_url, app_role=APP_ROLE if database.backend == "postgresql" else None)


def create_template(backend: str, name: str, directory: Path) -> ProvisionedDatabase:
    """`name`_template, migrated to the head, for clone: drop it when the session ends."""
    template = create_database(backend, f"{name}_template", directory)
    migrate(template)
    return template


def clone(template: ProvisionedDatabase, name: str, directory: Path) -> ProvisionedDatabase:
    """A fresh database `name` (on SQLite, a file in `directory`) holding what the migrated
    `template` holds, owned and granted as a migrated one is; it remembers its template."""
    if template.backend == "postgresql":
        created = create_postgres_database(name, template=make_url(template.owner_url).database)
    else:
        created = create_sqlite_database(directory / f"{name}.db")
        # The backup API copies a consistent database whatever its write-ahead log holds.
        with (
            closing(sqlite3.connect(str(make_url(template.owner_url).database))) as source,
            closing(sqlite3.connect(str(make_url(created.owner_url).database))) as target,
        ):
            source.backup(target)
    return ProvisionedDatabase(created.app_url, created.owner_url, created.backend, template=template)


def drop(database: ProvisionedDatabase) -> None:
    """Drops a PostgreSQL database; a SQLite file goes with the session's temporary directory."""
    if database.backend == "postgresql":
        drop_postgres_database(str(make_url(database.owner_url).database))


if __name__ == "__main__":
    if "--check" in sys.argv:
        problem = check_postgres()
        if problem:
            print(
                f"make test: {problem}\n"
                "The suite runs against PostgreSQL as well as SQLite. Start the local server\n"
                "(pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start), or point\n"
                "WANJIA_TEST_DATABASE_URL at one, e.g. postgresql://postgres@127.0.0.1:5432/postgres",
                file=sys.stderr,
            )
            sys.exit(1)
        print(f"PostgreSQL for tests: {make_url(admin_url()).render_as_string()}")
