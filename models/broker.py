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
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from models.database import when_committed

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
        try:
            yield queue
        finally:
            self._queues[key].discard(queue)
            if not self._queues[key]:
                del self._queues[key]


class LocalBroker:
    """One process: deliveries wait on the session until it commits, then go to the hub."""

    def __init__(self) -> None:
        self.hub = _Hub()

    async def publish(self, session: AsyncSession, delivery: Delivery) -> None:
        sync = session.sync_session
        pending: list[Delivery] = sync.info.setdefault(_PENDING, [])
        if not pending:
            # Not at a savepoint's release: a subscriber reading the notification then would
            # not find it yet.
            when_committed(sync, lambda: self._deliver(sync), otherwise=lambda: sync.info.pop(_PENDING, None))
        pending.append(delivery)

    def _deliver(self, session: Session) -> None:
        for delivery in session.info.pop(_PENDING, []):
            self.hub.deliver(delivery)

    def subscription(
        self, tenant_id: uuid.UUID, recipient_id: uuid.UUID
    ) -> contextlib.AbstractAsyncContextManager[asyncio.Queue[Delivery]]:
        return self.hub.subscription(tenant_id, recipient_id)

    async def close(self) -> None:
        return None


class PostgresBroker:
    """Many processes: NOTIFY inside the writing transaction, one LISTEN connection per process."""

    def __init__(self, database_url: str) -> None:
        self.hub = _Hub()
        self._conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    async def publish(self, session: AsyncSession, delivery: Delivery) -> None:
        await session.execute(select(func.pg_notify(CHANNEL, delivery.encode())))

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
