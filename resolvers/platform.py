"""Platform admins: created by `wanjia platform create-admin`, signed in without `X-Tenant`.

Their access token names no street office (models.platform.NO_TENANT), so every use case of a
street office refuses them (TENANT_REQUIRED) and only the platform's own answer: the dashboard
of figures summed over street offices (resolvers.analytics.platform_dashboard).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

from sqlalchemy import Row, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import ErrorCode
from models.people import Role, normalise_phone
from models.platform import NO_TENANT, PlatformAdmin
from models.throttles import PlatformThrottle
from resolvers.auth import lift_lock, throttled_check
from resolvers.errors import DomainError, InputCheck, fail
from tenants.context import RequestContext
from tenants.tokens import Viewer, issue_access_token

INVALID_CREDENTIALS = "手机号或密码错误。"


@contextlib.asynccontextmanager
async def platform_work(ctx: RequestContext, *, writes: bool) -> AsyncIterator[RequestContext]:
    """A unit of work bound to no street office: the caller's own (a command's), or one opened
    for this call, since a GraphQL request without X-Tenant runs without one."""
    if ctx.tenant is not None:
        raise fail(ErrorCode.FORBIDDEN, "平台的功能请不要指明街道（X-Tenant）。")
    if ctx.session is not None:
        yield ctx
        return
    async with ctx.unit_of_work(writes=writes) as work:
        yield work


@contextlib.asynccontextmanager
async def platform_session(ctx: RequestContext, *, writes: bool) -> AsyncIterator[AsyncSession]:
    async with platform_work(ctx, writes=writes) as work:
        yield work_session(work)


def work_session(work: RequestContext) -> AsyncSession:
    assert work.session is not None
    return work.session


async def login(ctx: RequestContext, phone: str, password: str, *, client: str) -> tuple[str, int]:
    """An access token of the platform (no refresh token: a platform admin signs in again).
    Throttled and locked out like a street office's sign-in, in the platform's own counts; a
    wrong phone and a wrong password take the same work and the same answer."""
    normalised = normalise_phone(phone) or phone.strip()[:32]
    async with platform_work(ctx, writes=True) as work:

        async def admin_of_this_password() -> Row[uuid.UUID, str, int] | None:
            found = (
                await work_session(work).execute(
                    select(PlatformAdmin.id, PlatformAdmin.password_hash, PlatformAdmin.session_version).where(
                        PlatformAdmin.phone == normalised
                    )
                )
            ).one_or_none()
            password_ok = await work.passwords.verify(found.password_hash if found else None, password)
            return found if password_ok else None

        try:
            found = await throttled_check(work, normalised, client, admin_of_this_password)
        except DomainError as locked:
            refusal: DomainError | None = locked
        else:
            refusal = None if found else fail(ErrorCode.INVALID_CREDENTIALS, INVALID_CREDENTIALS, "password")
    # Raised once the unit of work has kept the failure's count.
    if refusal is not None:
        raise refusal
    assert found is not None
    viewer = Viewer(
        user_id=found.id,
        tenant_id=NO_TENANT,
        roles=frozenset({Role.PLATFORM_ADMIN}),
        session_version=found.session_version,
    )
    seconds = ctx.settings.access_token_seconds
    token = issue_access_token(
        viewer, secret=ctx.settings.secret_key or "", now=ctx.clock(), ttl=timedelta(seconds=seconds)
    )
    return token, seconds


async def create_admin(ctx: RequestContext, phone: str, name: str, password: str) -> str:
    """`wanjia platform create-admin`: a new platform admin, or the same phone's password and name
    replaced and its sign-in lock-out lifted."""
    check = InputCheck()
    normalised = normalise_phone(phone)
    check.require(normalised is not None, "phone", "请填写正确的手机号。")
    check.require(len(password) >= 8, "password", "密码至少 8 位。")
    check.text(name, "name", "姓名", max_length=50)
    check.done()
    assert normalised is not None
    async with platform_work(ctx, writes=True) as work:
        session = work_session(work)
        admin = await session.scalar(select(PlatformAdmin).where(PlatformAdmin.phone == normalised))
        if admin is None:
            admin = PlatformAdmin(phone=normalised, name=name, password_hash="")
            session.add(admin)
        else:
            admin.session_version += 1
        admin.name = name
        admin.password_hash = await ctx.passwords.hash(password)
        # Whoever kept failing to sign in as them no longer keeps them out.
        await lift_lock(work, normalised)
        await session.flush()
    return normalised


async def sweep(ctx: RequestContext) -> int:
    """Forgets the platform's throttles whose window is over."""
    async with platform_session(ctx, writes=True) as session:
        result = await session.execute(delete(PlatformThrottle).where(PlatformThrottle.window_ends_at <= ctx.clock()))
    return int(result.rowcount)  # type: ignore[attr-defined]
