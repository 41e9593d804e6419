"""Notifications: created for the people who must act or would want to know, persisted, and
pushed live to whoever of them is connected."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from models.broker import Delivery
from models.notifications import Notification
from models.people import Role, RoleGrant
from resolvers.errors import fail
from resolvers.loaders import groups_by_key, loader
from resolvers.pagination import Page, PageRequest, paginate
from resolvers.permissions import allowed_to, session_of, viewer_of
from resolvers.rows import Selection
from tenants.context import RequestContext


@dataclass(frozen=True, slots=True)
class NotificationRow:
    id: uuid.UUID
    kind: str
    title: str
    body: str
    complaint_id: uuid.UUID | None
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True, slots=True)
class StaffGrantRow:
    department_id: uuid.UUID | None
    user_id: uuid.UUID


NOTIFICATION = Selection(
    NotificationRow,
    select(
        Notification.id,
        Notification.kind,
        Notification.title,
        Notification.body,
        Notification.complaint_id,
        Notification.created_at,
        Notification.read_at,
    ),
)
STAFF_GRANT = Selection(
    StaffGrantRow, select(RoleGrant.department_id, RoleGrant.user_id).where(RoleGrant.role == Role.STAFF)
)


async def notify(
    ctx: RequestContext,
    recipients: Iterable[uuid.UUID | None],
    *,
    kind: str,
    title: str,
    body: str,
    complaint_id: uuid.UUID | None = None,
) -> None:
    session = session_of(ctx)
    assert ctx.tenant is not None
    acting = ctx.viewer.user_id if ctx.viewer else None
    # Nobody is told about what they did themselves.
    unique = {r for r in recipients if r is not None and r != acting}
    rows = [
        Notification(
            recipient_id=r,
            kind=kind,
            title=title[:100],
            body=body[:500],
            complaint_id=complaint_id,
            created_at=ctx.clock(),
        )
        for r in sorted(unique)
    ]
    session.add_all(rows)
    await session.flush()
    for row in rows:
        await ctx.broker.publish(session, Delivery(ctx.tenant.id, row.recipient_id, row.id))


async def _admins(ctx: RequestContext, community_ids: list[uuid.UUID]) -> list[list[uuid.UUID]]:
    rows = (
        await session_of(ctx).execute(
            select(RoleGrant.user_id, RoleGrant.role, RoleGrant.community_id).where(
                ((RoleGrant.role == Role.COMMUNITY_ADMIN) & RoleGrant.community_id.in_(community_ids))
                | (RoleGrant.role == Role.TENANT_ADMIN)
            )
        )
    ).all()
    tenant_admins = [r.user_id for r in rows if r.role == Role.TENANT_ADMIN]
    return [[r.user_id for r in rows if r.community_id == c] + tenant_admins for c in community_ids]


class Loaders:
    """This domain's batches: one statement per kind per request (resolvers.loaders.loader)."""

    admins_of_communities = _admins
    staff_of_departments = groups_by_key(STAFF_GRANT, RoleGrant.department_id)


async def admins_of(ctx: RequestContext, community_id: uuid.UUID) -> list[uuid.UUID]:
    """The community's admins and the tenant's admins."""
    return await loader(ctx, Loaders.admins_of_communities).load(community_id)


async def staff_of(ctx: RequestContext, department_id: uuid.UUID) -> list[uuid.UUID]:
    return [row.user_id for row in await loader(ctx, Loaders.staff_of_departments).load(department_id)]


@allowed_to(*Role)
async def my_notifications(ctx: RequestContext, page: PageRequest, unread_only: bool) -> Page[NotificationRow]:
    mine = NOTIFICATION.where(Notification.recipient_id == viewer_of(ctx).user_id)
    if unread_only:
        mine = mine.where(Notification.read_at.is_(None))
    return await paginate(ctx, mine, (Notification.id,), page, descending=True)


@allowed_to(*Role)
async def unread_count(ctx: RequestContext) -> int:
    stmt = select(func.count()).where(
        Notification.recipient_id == viewer_of(ctx).user_id, Notification.read_at.is_(None)
    )
    return int(await session_of(ctx).scalar(stmt) or 0)


@allowed_to(*Role)
async def mark_read(ctx: RequestContext, notification_ids: list[uuid.UUID] | None) -> int:
    """Marks the caller's own notifications read (all of them when no ids are given); ids of
    others' notifications are ignored, not reported."""
    stmt = (
        update(Notification)
        .where(Notification.recipient_id == viewer_of(ctx).user_id, Notification.read_at.is_(None))
        .values(read_at=ctx.clock())
    )
    if notification_ids is not None:
        stmt = stmt.where(Notification.id.in_(notification_ids))
    result = await session_of(ctx).execute(stmt)
    return int(result.rowcount or 0)


async def live(ctx: RequestContext) -> AsyncIterator[NotificationRow]:
    """The caller's notifications as they are made. Each is read in a unit of work of its own,
    begun after the delivery arrived, so it sees the commit that announced it."""
    if ctx.viewer is None or ctx.tenant is None:
        raise fail("UNAUTHENTICATED", "请先登录。")
    async with ctx.broker.subscription(ctx.tenant.id, ctx.viewer.user_id) as queue:
        while True:
            delivery = await queue.get()
            async with ctx.unit_of_work(writes=False) as event:
                row = await _delivered(event, delivery.notification_id)
            if row is not None:
                yield row


@allowed_to(*Role)
async def _delivered(ctx: RequestContext, notification_id: uuid.UUID) -> NotificationRow | None:
    """The notification a live delivery points at, if it is the caller's."""
    mine = NOTIFICATION.where(Notification.id == notification_id, Notification.recipient_id == viewer_of(ctx).user_id)
    return await mine.one_or_none(session_of(ctx))
