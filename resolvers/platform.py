"""Platform admins: created by `wanjia platform create-admin`, signed in without `X-Tenant`.

Their access token names no street office (models.platform.NO_TENANT), so every use case of a
street office refuses them (TENANT_REQUIRED) and only the platform's own answer: the dashboard
of figures summed over street offices (resolvers.analytics.platform_dashboard).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import ErrorCode
from models.people import Role, normalise_phone
from models.platform import NO_TENANT, PlatformAdmin
from resolvers.errors import InputCheck, fail
from tenants.context import RequestContext
from tenants.tokens import Viewer, issue_access_token

INVALID_CREDENTIALS = "手机号或密码错误。"


@contextlib.asynccontextmanager
async def platform_session(ctx: RequestContext, *, writes: bool) -> AsyncIterator[AsyncSession]:
    """A session bound to no street office: the caller's own (a command's unit of work), or one
    opened for this call, since a GraphQL request without X-Tenant runs without one."""
    if ctx.tenant is not None:
        raise fail(ErrorCode.FORBIDDEN, "平台的功能请不要指明街道（X-Tenant）。")
    if ctx.session is not None:
        yield ctx.session
        return
    async with ctx.unit_of_work(writes=writes) as work:
        assert work.session is not None
        yield work.session


async def login(ctx: RequestContext, phone: str, password: str) -> tuple[str, int]:
    """An access token of the platform (no refresh token: a platform admin signs in again).
    A wrong phone and a wrong password take the same work and the same answer."""
    normalised = normalise_phone(phone) or phone.strip()[:32]
    async with platform_session(ctx, writes=False) as session:
        found = (
            await session.execute(
                select(PlatformAdmin.id, PlatformAdmin.password_hash, PlatformAdmin.session_version).where(
                    PlatformAdmin.phone == normalised
                )
            )
        ).one_or_none()
    if not await ctx.passwords.verify(found.password_hash if found else None, password):
        await asyncio.sleep(ctx.settings.login_failure_delay_seconds)
        raise fail(ErrorCode.INVALID_CREDENTIALS, INVALID_CREDENTIALS, "password")
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
    replaced."""
    check = InputCheck()
    normalised = normalise_phone(phone)
    check.require(normalised is not None, "phone", "请填写正确的手机号。")
    check.require(len(password) >= 8, "password", "密码至少 8 位。")
    check.text(name, "name", "姓名", max_length=50)
    check.done()
    assert normalised is not None
    async with platform_session(ctx, writes=True) as session:
        admin = await session.scalar(select(PlatformAdmin).where(PlatformAdmin.phone == normalised))
        if admin is None:
            admin = PlatformAdmin(phone=normalised, name=name, password_hash="")
            session.add(admin)
        else:
            admin.session_version += 1
        admin.name = name
        admin.password_hash = await ctx.passwords.hash(password)
        await session.flush()
    return normalised
