"""graphql-transport-ws with one promise added: a `pong` answers a `ping` only once every
operation the client started before that ping is running, a subscription meaning listening for
its events. A client (or a test) that must not miss an event sends a ping after subscribing and
waits for the pong, instead of guessing how long the server needs."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import PingMessage, SubscribeMessage

from models.broker import announce_listening
from tenants.context import RequestContext


class TransportWSHandler(BaseGraphQLTransportWSHandler[RequestContext, Any]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._starting: list[tuple[asyncio.Event, asyncio.Task[None]]] = []
        self._pongs: set[asyncio.Task[None]] = set()

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        listening = asyncio.Event()
        # The operation's task is created inside and copies this context: the broker finds the
        # event there when the subscription registers.
        token = announce_listening.set(listening.set)
        try:
            await super().handle_subscribe(message)
        finally:
            announce_listening.reset(token)
        self._starting = [(e, t) for e, t in self._starting if not (e.is_set() or t.done())]
        operation = self.operations.get(message["id"])
        if operation is not None and operation.task is not None:
            self._starting.append((listening, operation.task))

    async def handle_ping(self, message: PingMessage) -> None:
        starting, self._starting = self._starting, []
        # Answered from a task of its own, so the connection goes on reading messages meanwhile.
        pong = asyncio.create_task(self._pong_once_started(starting, message))
        self._pongs.add(pong)
        pong.add_done_callback(self._pongs.discard)

    async def _pong_once_started(
        self, starting: list[tuple[asyncio.Event, asyncio.Task[None]]], message: PingMessage
    ) -> None:
        for listening, task in starting:
            # A query, or a subscription refused before it listened, ends instead.
            waiter = asyncio.ensure_future(listening.wait())
            await asyncio.wait({waiter, task}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
        # The client may have gone meanwhile; there is nobody left to answer.
        with contextlib.suppress(Exception):
            await super().handle_ping(message)

    async def shutdown(self) -> None:
        for pong in list(self._pongs):
            pong.cancel()
        await super().shutdown()
