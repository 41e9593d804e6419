"""A websocket lives no longer than the sign-in it was opened with: at every re-check it asks
again whether the token still stands (not expired, its session not ended, the user still
active, the street office not suspended) and closes with 4403 when it does not.

The check runs beside the connection, not inside a subscription's resolver, so every
subscription of the connection ends, whatever it is waiting for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from starlette.websockets import WebSocket, WebSocketState

logger = logging.getLogger("wanjia.subscriptions")

FORBIDDEN = 4403


async def close_when_signed_out(
    websocket: WebSocket, still_signed_in: Callable[[], Awaitable[bool]], interval_seconds: float
) -> None:
    while _open(websocket):
        await asyncio.sleep(interval_seconds)
        if not _open(websocket):
            return
        try:
            signed_in = await still_signed_in()
        except Exception:
            # The database may be away for a moment; the next re-check decides.
            logger.warning("could not re-check a subscription's sign-in", exc_info=True)
            continue
        if not signed_in:
            await websocket.close(code=FORBIDDEN, reason="Forbidden")
            return


def _open(websocket: WebSocket) -> bool:
    return (
        websocket.client_state == WebSocketState.CONNECTED and websocket.application_state == WebSocketState.CONNECTED
    )
