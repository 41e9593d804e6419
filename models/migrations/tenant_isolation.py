"""Row-level security for tenant-owned tables, for migrations to call on every new table.

The policy reads the transaction-local `app.tenant_id`. NULLIF matters: once a transaction that
set it ends, PostgreSQL leaves the setting as '' rather than unset, and ''::uuid would error
instead of failing closed. With no tenant set the policy compares to NULL and sees no rows.
"""

from __future__ import annotations

from typing import Any

from alembic import op
from sqlalchemy import Executable

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"


def enable_tenant_isolation(table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})"
    )


def disable_tenant_isolation(table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def read_across_tenants(statement: Executable, *tables: str) -> list[tuple[Any, ...]]:
    """The rows of every tenant that `statement` reads from `tables`. Migrations run as the
    owner, whom row-level security binds too (FORCE): it is lifted for the read."""
    connection = op.get_bind()
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:
        for table in tables:
            op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    rows = [tuple(row) for row in connection.execute(statement)]
    if postgresql:
        for table in tables:
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    return rows
