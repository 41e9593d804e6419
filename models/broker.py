"""Live delivery of notifications to connected subscribers.

On PostgreSQL, `pg_notify` is sent inside the transaction that writes the notification, so it
goes out only if that transaction commits, and every server process LISTENing on the channel
hears it: a notification raised in one process reaches a subscriber connected to another. On
SQLite (one process) an in-process hub serves, fed after commit.

The message carries ids only; subscribers read the notification itself through their own
tenant-scoped session, so row-level security applies to what they receive.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

import psycopg
from sqlalchemy import Text, bindparam, event, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

CHANNEL = "wanjia_notifications"
_PENDING = "wanjia_pending_notifications"
logger = logging.getLogger("wanjia.broker")


@dataclass(frozen=True)
class Delivery:
    tenant_id: uuid.UUID
    recipient_id: uuid.UUID
    notification_id: uuid.UUID

    def encode(self) -> str:
        return json.dumps({"t": str(self.tenant_id), "r": str(self.recipient_id), "n": str(self.notification_id)})

    @classmethod
    def decode(cls, payload: str) -> Delivery:
        data = json.loads(payload)
        return cls(uuid.UUID(data["t"]), uuid.UUID(data["r"]), uuid.UUID(data["n"]))


# A transport that wants to know when a subscription is listening sets this for the task that
# runs it (server.websockets: a pong answers only once the subscriptions before it listen).
announce_listening: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "wanjia_announce_listening", default=None
)


class _Hub:
    """Queues of this process's subscribers, by tenant and recipient."""

    def __init__(self) -> None:
        self._queues: dict[tuple[uuid.UUID, uuid.UUID], set[asyncio.Queue[Delivery]]] = defaultdict(set)

    def deliver(self, delivery: Delivery) -> None:
        for queue in list(self._queues.get((delivery.tenant_id, delivery.recipient_id), ())):
            queue.put_nowait(delivery)

    @contextlib.asynccontextmanager
    async def subscription(
        self, tenant_id: uuid.UUID, recipient_id: uuid.UUID
    ) -> AsyncIterator[asyncio.Queue[Delivery]]:
        queue: asyncio.Queue[Delivery] = asyncio.Queue()
        key = (tenant_id, recipient_id)
        self._queues[key].add(queue)
        announce = announce_listening.get()
        if announce is not None:
            announce()
        try:
            yield queue
        finally:
            self._queues[key].discard(queue)
            if not self._queues[key]:
                del self._queues[key]


class LocalBroker:
    """One process: deliveries wait until the session's outermost transaction commits, then go
    to the hub. A savepoint's release is not a commit (SQLAlchemy still calls its listeners
    `after_commit`): delivered then, a subscriber would read before the row is there to read.
    Deliveries made inside a savepoint that rolls back are dropped with it."""

    def __init__(self) -> None:
        self.hub = _Hub()

    async def publish(self, session: AsyncSession, delivery: Delivery) -> None:
        sync = session.sync_session
        if not event.contains(sync, "after_commit", self._after_commit):
            # For the session's life (a unit of work's): a listener cannot leave while it is called.
            event.listen(sync, "after_commit", self._after_commit)
            event.listen(sync, "after_soft_rollback", self._after_rollback)
        transaction = sync.get_nested_transaction() or sync.get_transaction()
        sync.info.setdefault(_PENDING, []).append((transaction, delivery))

    async def publish_all(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            await self.publish(session, delivery)

    def _after_commit(self, session: Session) -> None:
        released = session.get_nested_transaction()
        pending: list[tuple[SessionTransaction | None, Delivery]] = session.info.get(_PENDING, [])
        if released is not None:
            # Now part of the enclosing transaction: they live or die with it.
            session.info[_PENDING] = [(released.parent if t is released else t, d) for t, d in pending]
            return
        session.info.pop(_PENDING, None)
        for _, delivery in pending:
            self.hub.deliver(delivery)

    def _after_rollback(self, session: Session, previous: SessionTransaction) -> None:
        if previous.nested:
            pending = session.info.get(_PENDING, [])
            session.info[_PENDING] = [(t, d) for t, d in pending if not _within(t, previous)]
        else:
            session.info.pop(_PENDING, None)

    def subscription(
        self, tenant_id: uuid.UUID, recipient_id: uuid.UUID
    ) -> contextlib.AbstractAsyncContextManager[asyncio.Queue[Delivery]]:
        return self.hub.subscription(tenant_id, recipient_id)

    async def close(self) -> None:
        return None


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


class PostgresBroker:
    """Many processes: NOTIFY inside the writing transaction, one LISTEN connection per process."""

    def __init__(self, database_url: str) -> None:
        self.hub = _Hub()
        self._conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    async def publish(self, session: AsyncSession, delivery: Delivery) -> None:
        await session.execute(select(func.pg_notify(CHANNEL, delivery.encode())))

    async def publish_all(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        """One statement for every delivery: a notice to a street office is thousands."""
        if deliveries:
            payloads = bindparam("payloads", [d.encode() for d in deliveries], type_=ARRAY(Text))
            await session.execute(
                text("SELECT pg_notify(:channel, payload) FROM unnest(:payloads) AS payload").bindparams(
                    payloads, channel=CHANNEL
                )
            )

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    async for notice in connection.notifies():
                        try:
                            self.hub.deliver(Delivery.decode(notice.payload))
                        except (ValueError, KeyError):
                            logger.warning("ignored a malformed notification payload")
            except (psycopg.OperationalError, OSError):
                self._listening.clear()
                logger.warning("notification listener lost its connection; reconnecting", exc_info=True)
                await asyncio.sleep(1)

    async def ready(self) -> None:
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen())
        await self._listening.wait()

    @contextlib.asynccontextmanager
    async def subscription(
        self, tenant_id: uuid.UUID, recipient_id: uuid.UUID
    ) -> AsyncIterator[asyncio.Queue[Delivery]]:
        await self.ready()
        async with self.hub.subscription(tenant_id, recipient_id) as queue:
            yield queue

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener


Broker = LocalBroker | PostgresBroker


def broker_for(database_url: str) -> Broker:
    if make_url(database_url).get_backend_name() == "postgresql":
        return PostgresBroker(database_url)
    return LocalBroker()
