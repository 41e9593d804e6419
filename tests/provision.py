"""Test databases: a fresh PostgreSQL database with an owner role for migrations and a plain
app role (no superuser, no BYPASSRLS, owns nothing), or a fresh SQLite file.

`python -m tests.provision --check` is what `make test` runs first: it stops with a clear
message when no PostgreSQL answers.
"""

from __future__ import annotations

import os
import sys
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


def create_postgres_database(name: str) -> ProvisionedDatabase:
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
            sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(OWNER_ROLE))
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
