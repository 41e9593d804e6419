"""Tenant-scoped database sessions: isolation enforced twice.

1. Application: every ORM statement run through a `ScopedTenantSession` gets
   `tenant_id = <request's tenant>` added for every tenant-owned entity in it (so no resolver
   has to remember). New rows get the tenant stamped on flush in every tenant session.
2. PostgreSQL: every transaction begins with `set_config('app.tenant_id', ..., true)`, which the
   row-level security policies read. `true` makes it transaction-local: a session-level SET
   would survive on the pooled connection into the next request, maybe another tenant's.
"""

from __future__ import annotations

import functools
import uuid

from sqlalchemy import Uuid, event, type_coerce
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import LoaderCriteriaOption, ORMExecuteState, Session, SessionTransaction, with_loader_criteria

from models.base import TenantOwned
from models.database import WRITES

TENANT_KEY = "tenant_id"
# In the driver's own words (psycopg): sent once per transaction, it need not be compiled or cached.
SET_DATABASE_TENANT = "SELECT set_config('app.tenant_id', %(tenant_id)s, true)"
# A reading unit of work's transaction is read-only besides (tenants.context.unit_of_work).
SET_READING_TENANT = (
    "SELECT set_config('app.tenant_id', %(tenant_id)s, true), set_config('transaction_read_only', 'on', true)"
)


class CrossTenantWrite(RuntimeError):
    """A row of one tenant was about to be written in another tenant's session."""


class TenantSession(Session):
    """Sets the row-level-security tenant at the start of every transaction, and stamps the
    tenant on new rows."""


@event.listens_for(TenantSession, "after_begin")
def _set_database_tenant(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    # A savepoint begins inside a transaction that has the setting already.
    if transaction.nested:
        return
    if connection.dialect.name != "postgresql":
        return
    tenant_id = session.info.get(TENANT_KEY)
    if connection.get_execution_options().get(WRITES) is False:
        # No tenant reads as none at all, as when the setting is left unset.
        connection.exec_driver_sql(SET_READING_TENANT, {"tenant_id": str(tenant_id) if tenant_id else ""})
    elif tenant_id is not None:
        connection.exec_driver_sql(SET_DATABASE_TENANT, {"tenant_id": str(tenant_id)})


class ScopedTenantSession(TenantSession):
    """Also filters every ORM statement by tenant."""


@event.listens_for(ScopedTenantSession, "do_orm_execute")
def _filter_by_tenant(state: ORMExecuteState) -> None:
    if state.is_column_load or state.is_relationship_load:
        return
    state.statement = state.statement.options(_tenant_criteria(state.session.info.get(TENANT_KEY)))


@functools.lru_cache(maxsize=4096)
def _tenant_criteria(tenant_id: uuid.UUID | None) -> LoaderCriteriaOption:
    """One option per tenant, built once: building one analyses its lambda (SQLAlchemy calls it
    on a stand-in entity and inspects its closure), a cost no statement should pay again."""
    if tenant_id is None:
        # Fails closed: a session without a tenant sees no tenant-owned row at all.
        return with_loader_criteria(TenantOwned, lambda cls: cls.tenant_id.is_(None), include_aliases=True)
    return with_loader_criteria(
        # Typed explicitly: the lambda's closure value otherwise binds untyped, and SQLite
        # cannot take a bare UUID.
        TenantOwned,
        lambda cls: cls.tenant_id == type_coerce(tenant_id, Uuid()),
        include_aliases=True,
    )


@event.listens_for(TenantSession, "before_flush")
def _stamp_tenant(session: Session, _context: object, _instances: object) -> None:
    tenant_id = session.info.get(TENANT_KEY)
    for row in [*session.new, *session.dirty]:
        if not isinstance(row, TenantOwned):
            continue
        if row.tenant_id is None and tenant_id is not None:
            row.tenant_id = tenant_id
        elif row.tenant_id != tenant_id:
            raise CrossTenantWrite(f"{type(row).__name__} of another tenant in this session")


def session_factory(engine: AsyncEngine, *, scope_queries: bool = True) -> async_sessionmaker[AsyncSession]:
    """`scope_queries=False` leaves only PostgreSQL's row-level security between tenants: the
    isolation tests use it to prove that layer holds on its own."""
    return async_sessionmaker(
        engine,
        expire_on_commit=False,
        sync_session_class=ScopedTenantSession if scope_queries else TenantSession,
    )


def open_session(factory: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID | None) -> AsyncSession:
    return factory(info={TENANT_KEY: tenant_id})


async def bind_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Points an open session at a tenant mid-transaction (onboarding creates the tenant first).
    Not inside a savepoint: rolling back to it would undo the database's setting."""
    session.info[TENANT_KEY] = tenant_id
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await connection.exec_driver_sql(SET_DATABASE_TENANT, {"tenant_id": str(tenant_id)})
