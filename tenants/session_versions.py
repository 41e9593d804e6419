"""Whether a verified access token still stands: its user's session version (bumped on sign-out,
password or role change, stolen refresh token) and the user still active; for a platform admin,
the version bumped when `wanjia platform create-admin` replaces their password.

Every signed-in request asks, so answers are cached for a few seconds; a sign-out in this
process forgets its user at once, other processes notice within the cache time, and a token
newer than the answer cached (signed in again since) is never refused by it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.people import User
from models.platform import NO_TENANT, PlatformAdmin
from tenants.sessions import open_session
from tenants.tokens import Viewer

Key = tuple[uuid.UUID, uuid.UUID]
# Far more than the users active within a few seconds; past it the cache starts over.
MAX_ENTRIES = 100_000


class SessionVersions:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime], *, ttl_seconds: float
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_seconds)
        # (tenant, user) -> (session version, or None when the user is gone or suspended; read at)
        self._known: dict[Key, tuple[int | None, datetime]] = {}

    async def stands(self, viewer: Viewer) -> bool:
        key = (viewer.tenant_id, viewer.user_id)
        now = self._clock()
        cached = self._known.get(key)
        # abs(): a clock set back (tests do) must not make an old entry look fresh. Versions only
        # grow: a token newer than the entry was issued after it was read (a sign-in after a
        # role change made elsewhere), so the entry is out of date, not the token.
        if cached is None or abs(now - cached[1]) >= self._ttl or _newer(viewer.session_version, cached[0]):
            cached = (await self._read(*key), now)
            if len(self._known) >= MAX_ENTRIES:
                self._known.clear()
            self._known[key] = cached
        return cached[0] == viewer.session_version

    def forget(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> None:
        self._known.pop((tenant_id, user_id), None)

    async def _read(self, tenant_id: uuid.UUID, user_id: uuid.UUID) -> int | None:
        if tenant_id == NO_TENANT:
            async with open_session(self._sessions, None) as session:
                found: int | None = await session.scalar(
                    select(PlatformAdmin.session_version).where(PlatformAdmin.id == user_id)
                )
                return found
        async with open_session(self._sessions, tenant_id) as session:
            row = (
                await session.execute(select(User.session_version, User.is_active).where(User.id == user_id))
            ).one_or_none()
        return row.session_version if row is not None and row.is_active else None


def _newer(version: int, known: int | None) -> bool:
    return known is not None and version > known
