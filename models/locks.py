"""One run at a time of a maintenance command, across processes and machines.

PostgreSQL: a session-level advisory lock, held by a connection of its own for as long as the
command runs (and let go by the server if the process dies). SQLite: an exclusive transaction on
a lock file beside the database, by the same locking the database itself uses. Either way the
second run waits `wait_seconds` for the first (the setting WANJIA_MAINTENANCE_LOCK_WAIT_SECONDS),
then gives up with `AlreadyRunning`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import sqlite3
from collections.abc import AsyncIterator

import psycopg
from psycopg import errors
from sqlalchemy.engine import make_url


class AlreadyRunning(Exception):
    """Another run of the same command holds the lock."""


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(f"wanjia:{name}".encode()).digest()[:8], "big", signed=True)


@contextlib.asynccontextmanager
async def exclusive(database_url: str, name: str, *, wait_seconds: float) -> AsyncIterator[None]:
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as connection:
            # At least 1 ms: a lock_timeout of 0 would mean waiting for ever.
            await connection.execute(f"SET lock_timeout = '{max(1, round(wait_seconds * 1000))}ms'")
            try:
                await connection.execute("SELECT pg_advisory_lock(%s)", (_key(name),))
            except errors.LockNotAvailable as error:
                raise AlreadyRunning(name) from error
            yield
        return
    if not url.database or url.database == ":memory:":
        # An in-memory database lives and dies with this one process.
        yield
        return
    path = f"{url.database}.{re.sub(r'[^a-z0-9]+', '-', name.lower())}.lock"
    lock = await asyncio.to_thread(_take_sqlite_lock, path, wait_seconds)
    try:
        yield
    finally:
        lock.close()


def _take_sqlite_lock(path: str, wait_seconds: float) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=wait_seconds, isolation_level=None, check_same_thread=False)
    try:
        connection.execute("BEGIN EXCLUSIVE")
    except sqlite3.OperationalError as error:
        connection.close()
        raise AlreadyRunning(path) from error
    return connection
