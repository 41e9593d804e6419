"""Declarative base and the shape every tenant-owned table shares.

Every tenant-owned table has `tenant_id` first in its primary key, and every foreign key between
tenant-owned tables carries `tenant_id`, so a row can never point into another tenant and the
schema can be distributed by `tenant_id` (Citus) without change.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import uuid6
from sqlalchemy import DateTime, Enum, ForeignKey, Index, Integer, MetaData, TypeDecorator, Uuid
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


def _columns_but_tenant(constraint: object, _table: object) -> str:
    """Names constraints by their columns less `tenant_id`, which every one carries; keeps names
    under PostgreSQL's 63-character limit and unique when two keys point at one table."""
    names = [column.name for column in constraint.columns if column.name != "tenant_id"]  # type: ignore[attr-defined]
    return "_".join(names or ["tenant_id"])


NAMING_CONVENTION: dict[str, str | Callable[[Any, Any], str]] = {
    "columns_but_tenant": _columns_but_tenant,
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(columns_but_tenant)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(columns_but_tenant)s",
    "pk": "pk_%(table_name)s",
}


def new_id() -> uuid.UUID:
    """Time-ordered UUIDv7: index-friendly, and reveals nothing about another tenant's volumes."""
    return uuid6.uuid7()


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, always hands back an aware UTC datetime (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class WholeMinutesBetween(FunctionElement[int]):
    """`WholeMinutesBetween(start, end)`: the minutes from one moment to the other, to the
    nearest, in SQL, so that a sum over many rows is made by the database: each dialect says it
    its own way. For moments on whole minutes, as booked slots are."""

    type = Integer()
    inherit_cache = True
    name = "whole_minutes_between"


@compiles(WholeMinutesBetween, "postgresql")
def _whole_minutes_postgresql(element: WholeMinutesBetween, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(round(EXTRACT(EPOCH FROM ({end}) - ({start})) / 60) AS INTEGER)"


@compiles(WholeMinutesBetween, "sqlite")
def _whole_minutes_sqlite(element: WholeMinutesBetween, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(round((julianday({end}) - julianday({start})) * 1440) AS INTEGER)"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime, uuid.UUID: Uuid}


def enum_column(enum_type: type[enum.Enum], length: int = 32) -> Enum:
    """Enums stored as their values in a plain string column: a new member needs no ALTER TYPE,
    and SQLite and PostgreSQL store them alike."""
    return Enum(enum_type, native_enum=False, length=length, values_callable=lambda members: [m.value for m in members])


def tenant_index(*columns: str) -> Index:
    """Every index leads with tenant_id: a tenant's rows sit together, and the index stays
    usable when tables are distributed by tenant."""
    return Index(None, "tenant_id", *columns)


class TenantOwned:
    """Mixin for every table whose rows belong to one tenant (all but `tenants`)."""

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, sort_order=-2)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id, sort_order=-1)
