"""What every resolver receives: the request's tenant, caller, scoped session, clock and loaders."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.broker import Broker
from models.passwords import Passwords
from models.storage import Storage
from tenants.directory import TenantInfo
from tenants.identity import Identity
from tenants.sessions import open_session
from tenants.tokens import Viewer

if TYPE_CHECKING:
    from models.settings import Settings

Clock = Callable[[], datetime]


@dataclass
class RequestContext:
    request_id: str
    settings: Settings
    clock: Clock
    passwords: Passwords
    broker: Broker
    storage: Storage
    tenant: TenantInfo | None
    viewer: Viewer | None
    sessions: async_sessionmaker[AsyncSession]
    identity: Identity
    # Opened for the operation's execution (schema.extensions.TenantTransaction), else None.
    session: AsyncSession | None = None
    # Per-request DataLoaders, created on first use by resolvers.loaders.
    loaders: dict[Any, Any] = field(default_factory=dict)
    # The HTTP request and response, for the schema layer only (headers, status).
    request: Any = None
    response: Any = None
    # A websocket's connection_init payload (subscriptions sign in with it).
    connection_params: dict[str, Any] | None = None

    @property
    def tenant_id(self) -> uuid.UUID | None:
        return self.tenant.id if self.tenant else None

    @contextlib.asynccontextmanager
    async def short_session(self) -> AsyncIterator[AsyncSession]:
        """A session of its own for one read outside an operation's transaction (a
        subscription's events arrive long after its operation started)."""
        async with open_session(self.sessions, self.tenant_id) as session:
            self.session = session
            try:
                yield session
            finally:
                self.session = None
