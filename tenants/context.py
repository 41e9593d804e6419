"""The unit of work: what every resolver receives, and the only way to reach the database.

An HTTP operation, each operation on a WebSocket, each event a subscription delivers, a
tenant's periodic sweep and a CLI command all run inside `unit_of_work`: one session on one
transaction (with PostgreSQL's `app.tenant_id` set for it), DataLoaders of its own, the clock
and the process's services. Nothing else opens a session, so no two of them share one.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Hashable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

from psycopg.pq import TransactionStatus
from sqlalchemy import Table, exc, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from models.audit import FullView, FullViewEntry, full_view_rows
from models.base import new_id, utcnow
from models.broker import Broker, broker_for
from models.database import WRITES, create_engine
from models.notifications import adding_unread
from models.passwords import Passwords
from models.settings import Settings
from models.sms import PhoneCodeSender, sender_for
from models.storage import LocalDirectoryStorage, Storage
from models.wechat import WechatClient
from tenants.directory import TenantDirectory, TenantInfo
from tenants.identity import Identity
from tenants.session_versions import SessionVersions
from tenants.sessions import open_session, session_factory
from tenants.tokens import Viewer

Clock = Callable[[], datetime]
L = TypeVar("L")


@dataclass(frozen=True)
class Services:
    """What a process holds once and every unit of work shares."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    directory: TenantDirectory
    passwords: Passwords
    broker: Broker
    storage: Storage
    clock: Clock
    identity: Identity
    # Set once an export is queued (after its commit): this process's export runner, if it runs
    # one, starts on it now instead of at its next poll; another process's finds it at its poll.
    exports_queued: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def start(
        cls,
        settings: Settings,
        *,
        clock: Clock = utcnow,
        scope_queries: bool = True,
        pool_size: int | None = None,
        phone_code_sender: PhoneCodeSender | None = None,
    ) -> Services:
        """`scope_queries=False` exists for the isolation tests only (see tenants.sessions).
        `phone_code_sender` replaces the one the settings choose (tests keep what is sent)."""
        engine = create_engine(
            settings.database_url,
            pool_size=pool_size or settings.database_pool_size,
            pool_timeout=settings.database_pool_timeout,
        )
        sessions = session_factory(engine, scope_queries=scope_queries)
        session_versions = SessionVersions(sessions, clock, ttl_seconds=settings.session_recheck_seconds)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            directory=TenantDirectory(
                engine, clock=clock, ttl_seconds=settings.tenant_cache_seconds, session_versions=session_versions
            ),
            passwords=Passwords.from_settings(settings),
            broker=broker_for(settings.database_url),
            storage=LocalDirectoryStorage(settings.upload_dir),
            clock=clock,
            identity=Identity(
                session_versions=session_versions,
                phone_codes=phone_code_sender or sender_for(settings),
                wechat=WechatClient(settings.wechat_timeout_seconds),
            ),
        )

    async def close(self) -> None:
        await self.broker.close()
        self.passwords.close()
        await self.identity.close()
        await self.engine.dispose()


class LoaderCache:
    """A unit of work's DataLoaders, made on first use. Forgotten after every write step: what
    they cached before it may be stale."""

    def __init__(self) -> None:
        self._loaders: dict[Hashable, Any] = {}

    def get(self, key: Hashable, make: Callable[[], L]) -> L:
        if key not in self._loaders:
            self._loaders[key] = make()
        loader: L = self._loaders[key]
        return loader

    def forget(self) -> None:
        self._loaders.clear()


@dataclass
class RequestContext:
    """Who is calling, for which tenant, and (inside a unit of work) the session to do it with."""

    services: Services
    request_id: str
    tenant: TenantInfo | None
    viewer: Viewer | None
    # Open only inside `unit_of_work`.
    session: AsyncSession | None = None
    loaders: LoaderCache = field(default_factory=LoaderCache)
    # The HTTP request and response (or the WebSocket), for the schema and server layers only.
    request: Any = None
    response: Any = None
    # A WebSocket's connection_init payload (subscriptions sign in with it).
    connection_params: dict[str, Any] | None = None
    # Whole phones and ID numbers shown to the caller so far (models.audit), logged at the end.
    full_views: set[FullView] = field(default_factory=set)
    # A resolver made a whole value for this caller (resolvers.audit.whole_value): only then
    # may the response hold one, and only then is it looked for (schema.extensions).
    made_whole_values: bool = False
    # How much each user's unread count has changed so far, added to their counts at the end
    # (models.notifications.UnreadNotifications).
    unread_changes: Counter[uuid.UUID] = field(default_factory=Counter)

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def passwords(self) -> Passwords:
        return self.services.passwords

    @property
    def identity(self) -> Identity:
        return self.services.identity

    @property
    def broker(self) -> Broker:
        return self.services.broker

    @property
    def storage(self) -> Storage:
        return self.services.storage

    @property
    def tenant_id(self) -> uuid.UUID | None:
        return self.tenant.id if self.tenant else None

    def unit_of_work(self, *, writes: bool) -> contextlib.AbstractAsyncContextManager[RequestContext]:
        """A unit of work of its own for the same caller (an operation, a subscription's event)."""
        return unit_of_work(
            self.services,
            tenant=self.tenant,
            viewer=self.viewer,
            writes=writes,
            request_id=self.request_id,
            request=self.request,
            response=self.response,
        )

    @contextlib.contextmanager
    def reading_through(self, other: RequestContext) -> Iterator[None]:
        """This context reads with `other`'s session and loaders for a while: a subscription's
        context while the fields of one event, read in a unit of work of its own, resolve."""
        # The whole values these fields show go into `other`'s log (see log_what_was_shown).
        self.session, self.loaders, self.full_views = other.session, other.loaders, other.full_views
        try:
            yield
        finally:
            self.session, self.loaders, self.full_views = None, LoaderCache(), set()

    async def read_afresh(self) -> None:
        """A reading unit of work's transaction ended (a failed statement may have aborted it)
        and another begun as the first was, before anything else runs in it: fields that read
        at once must find the connection there already. The loaders forget what they read,
        failures included."""
        assert self.session is not None
        await self.session.rollback()
        self.loaders.forget()
        await self.session.connection(execution_options={WRITES: False})

    async def log_what_was_shown(self) -> None:
        """Ends a reading unit of work's reads and logs the whole values they showed, in a short
        transaction of its own. A subscription's event calls it before the event leaves: once
        sent, the subscriber may leave at once, and the work of the event with it."""
        assert self.session is not None
        await _log_after_reading(self, self.session)

    def change_unread(self, user_id: uuid.UUID, by: int) -> None:
        """The user was sent (or read) `by` notifications in this unit of work."""
        self.unread_changes[user_id] += by

    @contextlib.asynccontextmanager
    async def write_step(self, keep: Callable[[BaseException], bool] = lambda _: False) -> AsyncIterator[None]:
        """One write inside the unit of work, in a savepoint: if it raises, what it did is undone
        (unless `keep` says the failure must still be recorded) and the error propagates."""
        if self.session is None:
            yield
            return
        savepoint = await self.session.begin_nested()
        unread_before = self.unread_changes.copy()
        try:
            yield
        except BaseException as error:
            if keep(error):
                await savepoint.commit()
            else:
                await savepoint.rollback()
                self.unread_changes = unread_before
            raise
        else:
            await savepoint.commit()
        finally:
            self.loaders.forget()


@contextlib.asynccontextmanager
async def unit_of_work(
    services: Services,
    *,
    tenant: TenantInfo | None,
    viewer: Viewer | None,
    writes: bool,
    request_id: str | None = None,
    request: Any = None,
    response: Any = None,
) -> AsyncIterator[RequestContext]:
    """Commits at the end if `writes`, else rolls back; whatever raises rolls back.

    `tenant=None` is the platform's own work (onboarding, listing tenants): its session sees no
    tenant's rows until it is pointed at one (tenants.sessions.bind_tenant)."""
    ctx = RequestContext(
        services=services,
        request_id=request_id or uuid.uuid4().hex,
        tenant=tenant,
        viewer=viewer,
        request=request,
        response=response,
    )
    async with open_session(services.sessions, ctx.tenant_id) as session:
        # Begun here: the tenant is set for row-level security before the first statement, and
        # on SQLite work that writes takes the write lock up front.
        await session.connection(execution_options={WRITES: writes})
        ctx.session = session
        try:
            yield ctx
            if writes:
                await _log_full_views(ctx, session)
                await _count_unread(ctx, session)
                await session.commit()
            else:
                await _log_after_reading(ctx, session)
        finally:
            ctx.session = None
            ctx.loaders.forget()


async def _log_after_reading(ctx: RequestContext, session: AsyncSession) -> None:
    await _end_reading(session)
    ctx.unread_changes.clear()  # whatever changed them was rolled back with them
    if ctx.full_views:
        # A reading request writes nothing but this: in a short transaction of its own, after
        # the reads, so the log holds what was actually shown.
        await session.connection(execution_options={WRITES: True})
        await _log_full_views(ctx, session)
        await session.commit()


async def _end_reading(session: AsyncSession) -> None:
    """Ends a reading transaction, keeping nothing. On PostgreSQL it is read-only
    (tenants.sessions), so it commits: psycopg forgets the connection's prepared statements at
    every rollback, and the pages read most would be parsed and planned afresh on every request."""
    if await _sound_and_read_only(session):
        await session.commit()
    else:
        await session.rollback()


async def _sound_and_read_only(session: AsyncSession) -> bool:
    """A PostgreSQL transaction in progress, with no changes the session has not written (a
    commit would try to write them) and not left unusable by a failure or a lost connection (a
    commit would then be a rollback reported as a commit)."""
    if session.get_bind().dialect.name != "postgresql" or session.new or session.dirty or session.deleted:
        return False
    if not session.in_transaction():
        return False
    try:
        driver = (await (await session.connection()).get_raw_connection()).driver_connection
    except exc.PendingRollbackError:
        return False
    return driver is not None and driver.info.transaction_status == TransactionStatus.INTRANS


async def _log_full_views(ctx: RequestContext, session: AsyncSession) -> None:
    """One INSERT for all the request's full views, however many people it showed."""
    if not ctx.full_views or ctx.viewer is None or ctx.tenant is None:
        return
    rows = full_view_rows(
        ctx.full_views,
        tenant_id=ctx.tenant.id,
        viewer_id=ctx.viewer.user_id,
        at=ctx.clock(),
        request_id=ctx.request_id,
    )
    await session.execute(RECORD_FULL_VIEWS, rows)
    ctx.full_views.clear()


async def _count_unread(ctx: RequestContext, session: AsyncSession) -> None:
    """One statement for every user whose unread count changed, the last of the unit of work,
    each user's row taken in one order by every unit of work: two that notify the same people
    in another order, or one more than once, never wait on each other in a circle."""
    changes = sorted((user, by) for user, by in ctx.unread_changes.items() if by)
    ctx.unread_changes.clear()
    if not changes or ctx.tenant is None:
        return
    rows = [{"tenant_id": ctx.tenant.id, "id": new_id(), "user_id": user, "unread": by} for user, by in changes]
    await session.execute(adding_unread((await session.connection()).dialect.name), rows)


# Many parameter sets of one compiled statement, which SQLAlchemy sends as one multi-row INSERT
# ("insertmanyvalues", which needs RETURNING on psycopg): a `.values(rows)` statement was built
# and compiled again for every request, 19 ms for the 50 phones of a review page.
FULL_VIEWS_TABLE = cast(Table, FullViewEntry.__table__)
RECORD_FULL_VIEWS = insert(FULL_VIEWS_TABLE).returning(FULL_VIEWS_TABLE.c.id)
