"""The benchmark database, set up the way the README's "Running on PostgreSQL" section says: an
owner role that runs migrations and owns the tables, and an app role that owns nothing and
cannot bypass row-level security.

Only databases named `wanjia_bench*` are ever created or dropped here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get("WANJIA_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
OWNER_ROLE = "wanjia_bench_owner"
APP_ROLE = "wanjia_bench_app"
ROLE_PASSWORD = "wanjia-bench"
DEFAULT_NAME = "wanjia_bench"
LOADED_MARK = "loaded by bench.load"  # the comment on a database whose load completed


@dataclass(frozen=True)
class BenchDatabase:
    name: str = DEFAULT_NAME

    def __post_init__(self) -> None:
        if not self.name.startswith("wanjia_bench"):
            raise ValueError("benchmark databases are named wanjia_bench*, so no other database is touched")

    def url(self, role: str, *, driver: str = "postgresql+psycopg") -> str:
        """SQLAlchemy URL (psycopg 3 driver) or, with driver="postgresql", a libpq one."""
        return (
            make_url(ADMIN_URL)
            .set(drivername=driver, username=role, password=ROLE_PASSWORD, database=self.name)
            .render_as_string(hide_password=False)
        )

    @property
    def owner_url(self) -> str:
        return self.url(OWNER_ROLE)

    @property
    def app_url(self) -> str:
        return self.url(APP_ROLE)

    @property
    def owner_dsn(self) -> str:
        return self.url(OWNER_ROLE, driver="postgresql")

    @property
    def app_dsn(self) -> str:
        return self.url(APP_ROLE, driver="postgresql")

    def recreate(self) -> None:
        """Drops and creates the database; (re)creates both roles."""
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            for role, options in (
                (OWNER_ROLE, ""),
                (APP_ROLE, " NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"),
            ):
                exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
                admin.execute(
                    sql.SQL("{} ROLE {} LOGIN PASSWORD {}" + options).format(
                        sql.SQL("ALTER" if exists else "CREATE"), sql.Identifier(role), sql.Literal(ROLE_PASSWORD)
                    )
                )
        self.drop()
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(self.name), sql.Identifier(OWNER_ROLE))
            )

    def mark_loaded(self) -> None:
        """Marks the database complete: what a load does last, so that one killed halfway is
        never measured."""
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(self.name), sql.Literal(LOADED_MARK))
            )

    def is_loaded(self) -> bool:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            found = admin.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (self.name,)
            ).fetchone()
        return found is not None and found[0] == LOADED_MARK

    def drop(self) -> None:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))
