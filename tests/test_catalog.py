"""Every tenant-owned table, as the database has it, keeps the tenancy invariants. A new table
that forgets one fails here."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Inspector

from models.database import create_engine
from tests.provision import ProvisionedDatabase

# Not tenant-owned: the tenant registry itself, Alembic's bookkeeping, GraphQL documents known by
# their hash (front-end code shared by every street office, naming no tenant's data), and the State
# Council's holiday schedule, the same for every street office (a tenant's own exceptions are its
# calendar_overrides), and the platform's own admins, who belong to no street office.
GLOBAL_TABLES = {
    "tenants",
    "alembic_version",
    "persisted_queries",
    "official_calendar_days",
    "platform_admins",
    "platform_throttles",
}


def _search_indexes(connection: Connection) -> set[str]:
    """SQLite's full-text indexes (FTS5 virtual tables and the shadow tables they keep): indexes of
    a tenant-owned table, read only joined to it, not tables of rows of their own."""
    if connection.dialect.name != "sqlite":
        return set()
    virtual = connection.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'"
    ).scalars()
    names = set(virtual)
    shadows = connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'").scalars()
    return names | {name for name in shadows if any(name.startswith(f"{v}_") for v in names)}


@pytest.fixture(scope="module")
async def catalog(database: ProvisionedDatabase) -> dict[str, dict[str, Any]]:
    engine = create_engine(database.owner_url)

    def read(connection: Connection) -> dict[str, dict[str, Any]]:
        inspector: Inspector = inspect(connection)
        skipped = GLOBAL_TABLES | _search_indexes(connection)
        return {
            table: {
                "columns": {c["name"]: c for c in inspector.get_columns(table)},
                "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
                "foreign_keys": inspector.get_foreign_keys(table),
                "unique": [u["column_names"] for u in inspector.get_unique_constraints(table)]
                + [i["column_names"] for i in inspector.get_indexes(table) if i["unique"]],
            }
            for table in inspector.get_table_names()
            if table not in skipped
        }

    async with engine.connect() as connection:
        tables = await connection.run_sync(read)
    await engine.dispose()
    return tables


def tables(catalog: dict[str, dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    assert len(catalog) >= 10, "the catalog looks empty: were migrations run?"
    yield from sorted(catalog.items())


def test_every_table_has_a_non_null_tenant_id_leading_its_primary_key(catalog: dict[str, dict[str, Any]]) -> None:
    offenders = [
        table
        for table, info in tables(catalog)
        if "tenant_id" not in info["columns"]
        or info["columns"]["tenant_id"]["nullable"] is not False
        or info["primary_key"][:1] != ["tenant_id"]
    ]
    assert offenders == []


def test_every_foreign_key_between_tenant_tables_carries_tenant_id(catalog: dict[str, dict[str, Any]]) -> None:
    offenders = []
    for table, info in tables(catalog):
        for key in info["foreign_keys"]:
            if key["referred_table"] == "tenants":
                if key["constrained_columns"] != ["tenant_id"]:
                    offenders.append(f"{table} -> tenants")
                continue
            pairs = dict(zip(key["constrained_columns"], key["referred_columns"], strict=True))
            if pairs.get("tenant_id") != "tenant_id":
                offenders.append(f"{table} -> {key['referred_table']}")
    assert offenders == []


def test_every_unique_constraint_includes_tenant_id(catalog: dict[str, dict[str, Any]]) -> None:
    offenders = [
        f"{table}: unique {columns}"
        for table, info in tables(catalog)
        for columns in info["unique"]
        if "tenant_id" not in columns
    ]
    assert offenders == []


def test_ids_are_uuids_not_sequences(catalog: dict[str, dict[str, Any]]) -> None:
    offenders = [
        table
        for table, info in tables(catalog)
        if "INT" in str(info["columns"]["id"]["type"]).upper() or info["columns"]["id"].get("autoincrement") is True
    ]
    assert offenders == []


@pytest.fixture(scope="module")
async def indexes(database: ProvisionedDatabase) -> dict[str, list[list[str]]]:
    engine = create_engine(database.owner_url)

    def read(connection: Connection) -> dict[str, list[list[str]]]:
        inspector: Inspector = inspect(connection)
        skipped = GLOBAL_TABLES | _search_indexes(connection)
        return {
            table: [index["column_names"] for index in inspector.get_indexes(table)]
            for table in inspector.get_table_names()
            if table not in skipped
        }

    async with engine.connect() as connection:
        found = await connection.run_sync(read)
    await engine.dispose()
    return found


def test_every_index_leads_with_tenant_id(indexes: dict[str, list[list[str]]]) -> None:
    assert any(indexes.values())
    offenders = [
        f"{table}: index on {index_columns}"
        for table, columns in sorted(indexes.items())
        for index_columns in columns
        if index_columns[:1] != ["tenant_id"]
    ]
    assert offenders == []
