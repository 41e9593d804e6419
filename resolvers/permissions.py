"""The one permission mechanism: use cases declare who may call them with `@allowed_to`.

A refused caller learns only that they may not: never whether the thing they asked about
exists in another tenant or another scope.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import ColumnElement, false, or_, true
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import ErrorCode
from models.people import Role
from resolvers.errors import DomainError, fail
from tenants.context import RequestContext
from tenants.tokens import Viewer

P = ParamSpec("P")
R = TypeVar("R")

ADMINS = (Role.COMMUNITY_ADMIN, Role.TENANT_ADMIN)
ANYONE = None


def session_of(ctx: RequestContext) -> AsyncSession:
    if ctx.tenant is None or ctx.session is None:
        raise fail(ErrorCode.TENANT_REQUIRED, "请通过 X-Tenant 请求头或子域名指明街道。")
    return ctx.session


def viewer_of(ctx: RequestContext) -> Viewer:
    session_of(ctx)
    if ctx.viewer is None:
        raise fail(ErrorCode.UNAUTHENTICATED, "请先登录。")
    return ctx.viewer


def allowed_to(
    *roles: Role | None,
) -> Callable[
    [Callable[Concatenate[RequestContext, P], Awaitable[R]]],
    Callable[Concatenate[RequestContext, P], Awaitable[R]],
]:
    """`@allowed_to(ANYONE)`: any caller of a named tenant, signed in or not;
    `@allowed_to(Role.X, ...)`: signed-in callers holding one of these roles."""

    def decorate(
        use_case: Callable[Concatenate[RequestContext, P], Awaitable[R]],
    ) -> Callable[Concatenate[RequestContext, P], Awaitable[R]]:
        @functools.wraps(use_case)
        async def guarded(ctx: RequestContext, /, *args: P.args, **kwargs: P.kwargs) -> R:
            require(ctx, *roles)
            return await use_case(ctx, *args, **kwargs)

        guarded.allowed_roles = roles  # type: ignore[attr-defined]
        return guarded

    return decorate


def roles_of(use_case: Callable[..., object]) -> tuple[Role | None, ...]:
    """The roles `allowed_to` admits to a use case it guards."""
    roles: tuple[Role | None, ...] = getattr(use_case, "allowed_roles")  # noqa: B009
    return roles


def require(ctx: RequestContext, *roles: Role | None) -> None:
    """What `allowed_to(*roles)` checks before its use case runs: raises the caller's error."""
    if ANYONE in roles:
        session_of(ctx)
    elif not viewer_of(ctx).has_any(*roles):  # type: ignore[arg-type]
        raise fail(ErrorCode.FORBIDDEN, "没有权限执行此操作。")


def permits(ctx: RequestContext, *roles: Role | None) -> bool:
    """Whether `allowed_to(*roles)` lets this caller in."""
    try:
        require(ctx, *roles)
    except DomainError:
        return False
    return True


def visible_rows(
    viewer: Viewer, by_role: Mapping[Role, Callable[[Viewer], ColumnElement[bool]]]
) -> ColumnElement[bool]:
    """The one way a list is scoped to its caller: a tenant admin sees every row of the tenant;
    anyone else the rows that any of their roles grants (`by_role`), and nothing otherwise."""
    if Role.TENANT_ADMIN in viewer.roles:
        return true()
    return or_(false(), *(condition(viewer) for role, condition in by_role.items() if role in viewer.roles))
