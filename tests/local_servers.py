"""Real servers on 127.0.0.1 for the tests that need a network peer: the app itself (for
websockets) or a stand-in of a third party (WeChat, an SMS provider). Each runs under uvicorn in
a thread of the test process, so it shares the test's clock, and is used once it has said it is
listening."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self._ready.set()


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """The app served at the base URL yielded, until the block ends."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    ready = threading.Event()
    server = _Server(uvicorn.Config(app, log_level="warning", lifespan="on"), ready)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[listener])), daemon=True)
    thread.start()
    try:
        if not ready.wait(timeout=30):
            raise RuntimeError("the local server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()
