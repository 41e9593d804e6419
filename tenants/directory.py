"""Finding the request's tenant: by the verified token, by `X-Tenant`, or by subdomain.

A token of tenant A that names tenant B gets exactly the answer a tenant that does not exist
gets, so a caller learns nothing about which other tenants exist.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from models.calendar import OfficialCalendar, load_official_calendar
from models.people import Role
from models.platform import NO_TENANT
from models.tenants import Tenant, TenantStatus
from tenants.manifests import SettingsSpec
from tenants.session_versions import SessionVersions
from tenants.tokens import InvalidToken, Viewer, read_access_token


@dataclass(frozen=True)
class TenantInfo:
    id: uuid.UUID
    slug: str
    name: str
    # Read through the manifest's typed spec: its defaults are the only defaults.
    settings: SettingsSpec = field(default_factory=SettingsSpec, hash=False, compare=False)
    # The platform's holiday table, loaded with the tenants: deadline arithmetic reads it
    # from memory, never with a query of its own.
    holidays: OfficialCalendar = field(default_factory=OfficialCalendar, hash=False, compare=False)


logger = logging.getLogger("wanjia.tenants")


class TenantNotFound(Exception):
    """The named tenant does not exist, is suspended, or is not the caller's."""


class NotAuthenticated(Exception):
    """The bearer token is malformed, forged or expired, or its session has ended."""


@dataclass(frozen=True)
class Caller:
    tenant: TenantInfo | None
    viewer: Viewer | None


class TenantDirectory:
    """Active tenants by slug and id, and the holiday table, cached briefly: every request asks,
    they rarely change."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Callable[[], datetime],
        ttl_seconds: float = 30.0,
        session_versions: SessionVersions | None = None,
    ) -> None:
        self._engine = engine
        # The services' clock, not the wall's: a request's statements then never depend on how
        # long the previous one took (the statement-count tests count them).
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_seconds)
        self._session_versions = session_versions
        self._loaded_at: datetime | None = None
        self._by_slug: dict[str, TenantInfo] = {}
        self._by_id: dict[uuid.UUID, TenantInfo] = {}
        self._holidays = OfficialCalendar()

    def forget(self) -> None:
        self._loaded_at = None

    async def _refresh_if_stale(self) -> None:
        now = self._clock()
        # abs(): a clock set back (tests do) must not make an old answer look fresh.
        if self._loaded_at is not None and abs(now - self._loaded_at) < self._ttl:
            return
        async with self._engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(Tenant.id, Tenant.slug, Tenant.name, Tenant.settings).where(
                        Tenant.status == TenantStatus.ACTIVE
                    )
                )
            ).all()
            holidays = await load_official_calendar(connection)
        tenants = [
            TenantInfo(
                id=row.id, slug=row.slug, name=row.name, settings=_settings(row.slug, row.settings), holidays=holidays
            )
            for row in rows
        ]
        self._holidays = holidays
        self._by_slug = {t.slug: t for t in tenants}
        self._by_id = {t.id: t for t in tenants}
        self._loaded_at = now

    async def official_calendar(self) -> OfficialCalendar:
        await self._refresh_if_stale()
        return self._holidays

    async def all(self) -> list[TenantInfo]:
        await self._refresh_if_stale()
        return list(self._by_id.values())

    async def by_slug(self, slug: str) -> TenantInfo | None:
        await self._refresh_if_stale()
        return self._by_slug.get(slug)

    async def by_id(self, tenant_id: uuid.UUID) -> TenantInfo | None:
        await self._refresh_if_stale()
        return self._by_id.get(tenant_id)

    async def identify(
        self,
        *,
        authorization: str | None,
        tenant_header: str | None,
        host: str | None,
        base_domain: str | None,
        secret: str,
        now: datetime,
    ) -> Caller:
        named_slug = tenant_header or _subdomain(host, base_domain)
        named = await self.by_slug(named_slug) if named_slug else None
        if named_slug and named is None:
            raise TenantNotFound
        token = _bearer(authorization)
        if token is None:
            return Caller(tenant=named, viewer=None)
        try:
            viewer = read_access_token(token, secret=secret, now=now)
        except InvalidToken as error:
            raise NotAuthenticated from error
        if viewer.tenant_id == NO_TENANT:
            # A platform admin works across street offices, never inside one.
            if named is not None or Role.PLATFORM_ADMIN not in viewer.roles:
                raise TenantNotFound
            own = None
        else:
            own = await self.by_id(viewer.tenant_id)
            if own is None or (named is not None and named.id != own.id):
                raise TenantNotFound
        if self._session_versions is not None and not await self._session_versions.stands(viewer):
            raise NotAuthenticated
        return Caller(tenant=own, viewer=viewer)


def _settings(slug: str, stored: dict[str, Any] | None) -> SettingsSpec:
    """As onboarding stored them; should they not parse, the defaults, so one office's bad row
    cannot stop every office's requests."""
    try:
        return SettingsSpec.model_validate(stored or {})
    except ValidationError:
        logger.warning("settings of tenant %s do not parse; using the defaults", slug, exc_info=True)
        return SettingsSpec()


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated
    return token.strip()


def _subdomain(host: str | None, base_domain: str | None) -> str | None:
    if not host or not base_domain:
        return None
    hostname = host.split(":", 1)[0].lower()
    suffix = "." + base_domain.lower()
    if not hostname.endswith(suffix):
        return None
    label = hostname[: -len(suffix)]
    return label if label and "." not in label else None
