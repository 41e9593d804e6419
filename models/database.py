"""Engines for the two backends: PostgreSQL (psycopg 3, pooled) and embedded SQLite (aiosqlite).

Every statement sent to the database bumps the counter of the request it belongs to, so that
request logs and tests can show how many statements one GraphQL request cost.
"""

from __future__ import annotations

import contextvars
import functools
import sqlite3
import time
import typing
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import psycopg
from sqlalchemy import event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry


@dataclass
class StatementCounter:
    count: int = 0
    # The counter this one was opened inside: a test counting around a request sees the
    # statements the request's own counter (the request log's) sees.
    enclosing: StatementCounter | None = None


_current_counter: contextvars.ContextVar[StatementCounter | None] = contextvars.ContextVar(
    "wanjia_statement_counter", default=None
)


@contextmanager
def counting_statements() -> Iterator[StatementCounter]:
    counter = StatementCounter(enclosing=_current_counter.get())
    token = _current_counter.set(counter)
    try:
        yield counter
    finally:
        _current_counter.reset(token)


def _count_statement(*_: object) -> None:
    counter = _current_counter.get()
    while counter is not None:
        counter.count += 1
        counter = counter.enclosing


async def one_row_on_driver(
    connection: AsyncConnection, statements: Sequence[tuple[str, Sequence[Any] | None]]
) -> tuple[Any, ...]:
    """The one row of the last of `statements`, each run in turn on psycopg's own cursor in
    PostgreSQL's placeholders ($1, $2, ...), in which its caller compiled it once. Through
    SQLAlchemy, every call pays for its execution context and result, and psycopg parses the
    text for its own placeholders anew for any statement over 4 KiB (about 0.1 ms for a page
    compiled into 5 KB).

    As for a statement SQLAlchemy runs, the engine's `before_cursor_execute` and
    `after_cursor_execute` listeners (the statement counts) see each statement, and a failure
    is SQLAlchemy's to handle: raised as its error, `handle_error` listeners called, and the
    connection thrown away if it was lost (with the pool's others, as after a restart) or left
    mid-statement by a cancellation. SQLAlchemy's own statement log (`echo`) does not see them."""
    sync = connection.sync_connection
    assert sync is not None  # a session's connection, begun
    driver = typing.cast(psycopg.AsyncConnection[Any], (await connection.get_raw_connection()).driver_connection)
    cursor = psycopg.AsyncRawCursor(driver)
    sql: str | None = None
    parameters: Sequence[Any] | None = None
    try:
        for sql, parameters in statements:
            sync.dispatch.before_cursor_execute(sync, cursor, sql, parameters, None, False)
            await cursor.execute(sql, parameters)
            sync.dispatch.after_cursor_execute(sync, cursor, sql, parameters, None, False)
        rows = await cursor.fetchmany(2)
    except BaseException as error:
        await connection.run_sync(_failed, error, sql, parameters)
        raise  # not reached: SQLAlchemy raises
    finally:
        await cursor.close()
    if len(rows) != 1:
        raise exc.NoResultFound() if not rows else exc.MultipleResultsFound()
    return tuple(rows[0])


def _failed(connection: Connection, error: BaseException, sql: str | None, parameters: Any) -> NoReturn:
    """SQLAlchemy's own handling of a failed statement, which reads the exception being handled:
    raised again in the greenlet it runs in, which has none."""
    try:
        raise error
    except BaseException as failure:
        connection._handle_dbapi_exception(failure, sql, parameters, None, None)


@functools.cache
def is_postgresql(url: str) -> bool:
    """Asked per request by the readers that differ per backend: the URL, one per app, is
    parsed once (2% of the server's time for a room's free slots)."""
    return make_url(url).get_backend_name() == "postgresql"


def ensure_sqlite_directory(url: str) -> None:
    """The embedded database's folder (var/) is made on first use, not shipped."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


# `INSERT … ON CONFLICT DO UPDATE`, which PostgreSQL and SQLite both have, by dialect name.
UPSERT_INSERT: dict[str, Callable[[Any], Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def create_engine(url: str, *, pool_size: int = 10, pool_timeout: float = 30.0) -> AsyncEngine:
    # hide_parameters: a statement's values (phones, password hashes) never enter an exception's
    # text, so no error message or log line can carry them.
    pool = {"pool_size": pool_size, "max_overflow": pool_size, "pool_timeout": pool_timeout, "hide_parameters": True}
    if make_url(url).get_backend_name() == "sqlite":
        ensure_sqlite_directory(url)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **pool)
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_sqlite)
    else:
        engine = create_async_engine(url, connect_args={"options": _server_options(url)}, **pool)
        event.listen(engine.sync_engine.pool, "checkin", _note_checkin)
        event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle)
    event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)
    return engine


def _server_options(url: str) -> str:
    """The connection's server options: PostgreSQL's JIT compiler and parallel workers off, then
    any the URL names, which win. The app's statements read bounded index ranges, but the
    planner cannot always tell how few rows they hold:
    - at ten million complaints their estimated costs pass `jit_above_cost`, and a search paid
      70 ms compiling to run in 11 ms;
    - the overdue count (resolvers.complaints.count_overdue_in) reads the hundred items past a
      deadline since the last sweep, planned for 22,500, so it started two workers: 5.6 ms of
      its 8.3 at 1.2 million complaints, and complaintCounts served 78 requests a second
      instead of 182 (bench/README.md).
    Both pay off for long analytical queries, which the app does not run."""
    given = make_url(url).query.get("options")
    named = " ".join(given) if isinstance(given, tuple) else given or ""
    return f"-c jit=off -c max_parallel_workers_per_gather=0 {named}".strip()


# A pooled connection lent again within this many seconds of its last use is lent without a
# ping. Pinging every checkout (pool_pre_ping) costs a round trip per request (5-10% of the
# test suite's CPU on PostgreSQL); a connection busy a moment ago is alive but for a restart
# under way, which fails the requests in flight anyway and makes the pool replace every one.
PING_AFTER_IDLE_SECONDS = 5.0
_CHECKED_IN_AT = "wanjia_checked_in_at"


def _note_checkin(_dbapi_connection: object, record: ConnectionPoolEntry) -> None:
    record.info[_CHECKED_IN_AT] = time.monotonic()


def _ping_if_idle(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry, _proxy: object) -> None:
    """A connection idle for a while may have been dropped by the server (a restart, an idle
    timeout, a failover): one round trip says, and the pool lends a fresh one instead."""
    checked_in_at = record.info.get(_CHECKED_IN_AT)
    if checked_in_at is None or time.monotonic() - checked_in_at < PING_AFTER_IDLE_SECONDS:
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT 1")
    except Exception as error:
        # As pool_pre_ping does: a dropped connection means a restart, so every older one goes too.
        raise exc.InvalidatePoolError("the database dropped this pooled connection") from error
    finally:
        cursor.close()


WRITES = "wanjia_writes"


def breaks_an_exclusion(error: exc.IntegrityError) -> bool:
    """PostgreSQL refused a row that overlaps another its exclusion constraint keeps apart."""
    return getattr(error.orig, "sqlstate", None) == "23P01"


def is_unavailable(error: BaseException) -> bool:
    """The database cannot be reached or has no connection to spare (as opposed to a statement
    that failed): the caller may simply try again later."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, sqlite3.OperationalError):
            # SQLite reports a missing table as "operational" too; only these mean it is unavailable.
            return any(words in str(seen) for words in _SQLITE_UNAVAILABLE)
        if isinstance(seen, (exc.InterfaceError, exc.TimeoutError, ConnectionError, TimeoutError)):
            return True
        if isinstance(seen, exc.DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, exc.OperationalError) and not isinstance(seen.orig, sqlite3.OperationalError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database", "disk I/O error")


def when_committed(
    session: Session, callback: Callable[[], None], *, otherwise: Callable[[], None] | None = None
) -> None:
    """Runs `callback` once the session's outermost transaction commits, or `otherwise` once it
    rolls back. SQLAlchemy's own after_commit and after_rollback also fire when a savepoint is
    released or rolled back (every mutation runs in one), before anything is visible to other
    connections: those are not the end of the transaction and are passed over here."""
    ended = False

    def finish(session: Session, action: Callable[[], None] | None) -> None:
        nonlocal ended
        if ended or session.in_nested_transaction():
            return
        ended = True
        if action is not None:
            action()

    event.listen(session, "after_commit", lambda s: finish(s, callback))
    event.listen(session, "after_rollback", lambda s: finish(s, otherwise))


def _configure_sqlite(dbapi_connection: object, _record: object) -> None:
    # The sqlite3 module's own transaction handling breaks SAVEPOINT; take it over (below).
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # WAL lets readers go on while one writer writes; the foreign-key pragma is off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    # A transaction that will write takes the write lock up front: a deferred one that upgrades
    # later can fail at once with "database is locked" instead of waiting its turn.
    immediate = connection.get_execution_options().get(WRITES, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
