"""Counting SQL statements on the wire, the same way for every server: a TCP proxy between a
server and PostgreSQL that counts the statements clients send (a simple-protocol Query, or an
extended-protocol Execute), BEGIN, COMMIT and set_config included.

Used only while counting (each named request sent a few times, one after the other); the timed
runs connect to PostgreSQL directly.
"""

from __future__ import annotations

import asyncio
import struct
import threading

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
STATEMENTS = {ord("Q"), ord("E")}


class StatementCounter:
    """Listens on 127.0.0.1:`port` (0: any free port) and forwards to `upstream`."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.count = 0
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> StatementCounter:
        self._thread.start()
        self._ready.wait()
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _close(self) -> None:
        """Closes every connection, so that each forwarding task ends on its own."""
        current = asyncio.current_task()
        for writer in self._writers:
            writer.close()
        await asyncio.gather(*(t for t in asyncio.all_tasks() if t is not current), return_exceptions=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._connect, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _connect(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*self.upstream)
        self._writers |= {client_writer, server_writer}
        await asyncio.gather(
            self._from_client(client_reader, server_writer), _pipe(server_reader, client_writer), return_exceptions=True
        )

    async def _from_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._forward(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed its connection (or the counter is closing)
        finally:
            writer.close()  # the client went away: so does its server connection

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Untyped messages first: SSL/GSS encryption requests (PostgreSQL answers N here, as it
        # runs without TLS on loopback), then the startup message. Typed messages after that.
        while True:
            length = struct.unpack("!I", await reader.readexactly(4))[0]
            body = await reader.readexactly(length - 4)
            writer.write(struct.pack("!I", length) + body)
            await writer.drain()
            if struct.unpack("!I", body[:4])[0] not in (SSL_REQUEST, GSSENC_REQUEST):
                break
        while True:
            header = await reader.readexactly(5)
            body = await reader.readexactly(struct.unpack("!I", header[1:])[0] - 4)
            if header[0] in STATEMENTS:
                self.count += 1
            writer.write(header + body)
            await writer.drain()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()
