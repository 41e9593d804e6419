"""Notifications: created for the people who must act or would want to know, persisted, and
pushed live to whoever of them is connected."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, case, func, insert, select, update

from models.base import new_id
from models.broker import Delivery
from models.errors import ErrorCode
from models.notifications import Notification, NotificationKind, Subject, SubjectType, UnreadNotifications
from models.people import Role, RoleGrant
from resolvers.compiled import TENANT, VIEWER, Listing, Shown, Value
from resolvers.errors import fail
from resolvers.loaders import groups_by_key, loader
from resolvers.pagination import Page, PageRequest, paginate
from resolvers.permissions import allowed_to, session_of, viewer_of
from resolvers.rows import Selection, one_of
from tenants.context import RequestContext

# What each kind means, for the schema's descriptions.
KIND_NAMES = {
    NotificationKind.COMPLAINT_NEW: "新的诉求待受理（或改派给您）",
    NotificationKind.COMPLAINT_STATUS: "您的诉求有了进展",
    NotificationKind.COMPLAINT_DISPATCHED: "新的派单到了本部门",
    NotificationKind.COMPLAINT_RETURNED: "工单被部门退回",
    NotificationKind.COMPLAINT_SUPERVISED: "诉求被督办",
    NotificationKind.COMPLAINT_CONFIRMED: "居民已确认并评价",
    NotificationKind.COMPLAINT_REOPENED: "诉求被居民退回重办",
    NotificationKind.COMPLAINT_WITHDRAWN: "诉求被居民撤回",
    NotificationKind.COMPLAINT_OVERDUE: "诉求超期",
    NotificationKind.BOOKING_PENDING: "活动室预约待审核",
    NotificationKind.BOOKING_DECIDED: "活动室预约的审核结果",
    NotificationKind.BOOKING_CANCELLED: "活动室预约被取消",
    NotificationKind.BOOKING_OVERDUE: "活动室预约超时未审核",
    NotificationKind.APPOINTMENT_NEW: "新的预约待分拣",
    NotificationKind.APPOINTMENT_ASSIGNED: "分派给您的预约任务",
    NotificationKind.APPOINTMENT_STATUS: "您的预约有了进展",
    NotificationKind.APPOINTMENT_CANCELLED: "预约已取消",
    NotificationKind.APPOINTMENT_OVERDUE: "预约超时未联系",
    NotificationKind.RESIDENT_REGISTERED: "有居民扫您的工作牌完成了登记，待核实",
    NotificationKind.VOLUNTEER_APPLIED: "新的志愿者申请待审核",
    NotificationKind.VOLUNTEER_DECIDED: "志愿者申请的审核结果",
    NotificationKind.VOLUNTEER_SIGNED_UP: "志愿活动有新的报名",
    NotificationKind.VOLUNTEER_SIGNUP_CANCELLED: "志愿活动有人取消报名",
    NotificationKind.VOLUNTEER_PROMOTED: "候补转为正式报名",
    NotificationKind.VOLUNTEER_ACTIVITY_CHANGED: "报名的志愿活动有变动",
    NotificationKind.VOLUNTEER_ACTIVITY_CANCELLED: "报名的志愿活动已取消",
    NotificationKind.VOLUNTEER_ACTIVITY_REMINDER: "报名的志愿活动即将开始",
    NotificationKind.SERVICE_APPLICATION_NEW: "新的办事申请待审核",
    NotificationKind.SERVICE_APPLICATION_STATUS: "您的办事申请有了进展",
    NotificationKind.SERVICE_APPLICATION_OVERDUE: "办事申请超过办理时限",
    NotificationKind.CHECK_IN_MISSING: "网格员到截止时间未签到",
    NotificationKind.CARE_VISIT_OVERDUE: "关爱对象的入户走访超期",
    NotificationKind.BUILDING_LEADER_APPOINTED: "您被任命为楼栋长",
    NotificationKind.BUILDING_LEADER_DISMISSED: "您的楼栋长职务已免去",
    NotificationKind.NOTICE_POSTED: "新的通知公告",
}


@dataclass(frozen=True, slots=True)
class NotificationRow:
    id: uuid.UUID
    kind: NotificationKind
    title: str
    body: str
    subject_type: SubjectType | None
    subject_id: uuid.UUID | None
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
        Notification.subject_type,
        Notification.subject_id,
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
    kind: NotificationKind,
    title: str,
    body: str,
    subject: Subject | None = None,
) -> None:
    """Tells `recipients` about `subject` (a domain's item, which the recipient can open): one
    INSERT and one live announcement for all of them, however many they are (a notice to a
    whole street office reaches thousands)."""
    session = session_of(ctx)
    assert ctx.tenant is not None
    acting = ctx.viewer.user_id if ctx.viewer else None
    # Nobody is told about what they did themselves.
    unique = sorted({r for r in recipients if r is not None and r != acting})
    if not unique:
        return
    now = ctx.clock()
    rows: list[dict[str, Any]] = [
        {
            "tenant_id": ctx.tenant.id,
            "id": new_id(),
            "recipient_id": r,
            "kind": kind,
            "title": title[:100],
            "body": body[:500],
            "subject_type": subject.type if subject else None,
            "subject_id": subject.id if subject else None,
            "created_at": now,
            "read_at": None,
        }
        for r in unique
    ]
    await session.execute(insert(Notification), rows)
    for recipient in unique:
        ctx.change_unread(recipient, 1)
    await ctx.broker.publish_all(session, [Delivery(ctx.tenant.id, row["recipient_id"], row["id"]) for row in rows])


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


async def _mine(ctx: RequestContext, ids: list[uuid.UUID], viewer_id: uuid.UUID) -> list[NotificationRow | None]:
    mine = NOTIFICATION.where(one_of(ctx, Notification.id, ids), Notification.recipient_id == viewer_id)
    found = {row.id: row for row in await mine.all(session_of(ctx))}
    return [found.get(i) for i in ids]


class Loaders:
    """This domain's batches: one statement per kind per request (resolvers.loaders.loader)."""

    notifications = _mine  # per recipient
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
async def notification(ctx: RequestContext, notification_id: uuid.UUID) -> NotificationRow | None:
    """One of the caller's own notifications; anyone else's looks like none at all."""
    viewer = viewer_of(ctx)
    return await loader(ctx, Loaders.notifications, viewer.user_id).load(notification_id)


@allowed_to(*Role)
async def unread_count(ctx: RequestContext) -> int:
    """One row, however many the caller has left unread (models.notifications.UnreadNotifications),
    and what this unit of work has changed of it, which is stored only at its end."""
    me = viewer_of(ctx).user_id
    stored = await session_of(ctx).scalar(select(UnreadNotifications.unread).where(UnreadNotifications.user_id == me))
    return int(stored or 0) + ctx.unread_changes[me]


# The compiled reads' (resolvers.compiled): the caller's unread count as stored.
UNREAD_COUNT = Value(
    func.coalesce(
        select(UnreadNotifications.unread)
        .where(UnreadNotifications.tenant_id == TENANT, UnreadNotifications.user_id == VIEWER)
        .scalar_subquery(),
        0,
    ),
    unread_count,
)


def compiled_unread_count(ctx: RequestContext) -> Value | None:
    """unread_count as one SQL value, unless this unit of work changed the count: what it
    changed is pending, stored only at its end."""
    pending = ctx.viewer is not None and ctx.unread_changes[ctx.viewer.user_id] != 0
    return None if pending else UNREAD_COUNT


def compiled_notifications(role: Role, subject_type: SubjectType, visible: ColumnElement[bool]) -> Listing:
    """The caller's notifications newest first, as my_notifications pages them, for a caller
    whose one role is `role`: with `read`, and the id of each subject of `subject_type` the
    caller may see (`visible`, a condition on Notification.subject_id) as
    `<subject type>_subject_id`. A page with a subject of another type is left to the resolvers.
    Planned once: at ten million complaints PostgreSQL planned the page anew for every request
    (0.4 ms, as much as running it), every plan the same."""
    shown = case((and_(Notification.subject_type == subject_type, visible), Notification.subject_id))
    return Listing(
        NOTIFICATION.where(Notification.recipient_id == VIEWER),
        (Notification.id,),
        my_notifications,
        descending=True,
        viewer_roles=frozenset({role}),
        shown=(
            Shown(Notification.read_at.is_not(None).label("read"), nullable=False),
            Shown(shown.label(f"{subject_type.name.lower()}_subject_id")),
        ),
        unanswered=Notification.subject_type.is_not(None) & (Notification.subject_type != subject_type),
        planned_once=True,
    )


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
    # An UPDATE answers with a cursor result (its row count); Session.execute is typed for any statement.
    result = cast(CursorResult[Any], await session_of(ctx).execute(stmt))
    marked = int(result.rowcount or 0)
    ctx.change_unread(viewer_of(ctx).user_id, -marked)
    return marked


async def live(ctx: RequestContext) -> AsyncGenerator[NotificationRow, None]:
    """The caller's notifications as they are made. Each is read in a unit of work of its own,
    begun after the delivery arrived, so it sees the commit that announced it."""
    if ctx.viewer is None or ctx.tenant is None:
        raise fail(ErrorCode.UNAUTHENTICATED, "请先登录。")
    async with ctx.broker.subscription(ctx.tenant.id, ctx.viewer.user_id) as queue:
        while True:
            delivery = await queue.get()
            async with ctx.unit_of_work(writes=False) as event:
                row = await _delivered(event, delivery.notification_id)
                if row is not None:
                    # Its fields (its subject, say) resolve on the subscription's context while
                    # this unit of work is open: the next event is awaited only once they have.
                    with ctx.reading_through(event):
                        yield row


@allowed_to(*Role)
async def _delivered(ctx: RequestContext, notification_id: uuid.UUID) -> NotificationRow | None:
    """The notification a live delivery points at, if it is the caller's."""
    mine = NOTIFICATION.where(Notification.id == notification_id, Notification.recipient_id == viewer_of(ctx).user_id)
    return await mine.one_or_none(session_of(ctx))
