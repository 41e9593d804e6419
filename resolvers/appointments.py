"""Service appointments: a resident asks; an admin triages it to a staff member (分拣); the
staff member contacts the resident within one working day (else it is overdue and
supervised), agrees a time, and records the outcome.

Descriptions and notes are confidential: the resident, the assigned staff member and admins
see appointments at all; grid workers and other staff do not.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.orm import aliased
from sqlalchemy.orm.exc import StaleDataError

from models.appointments import (
    LIFECYCLE,
    Appointment,
    AppointmentAction,
    AppointmentEvent,
    AppointmentParty,
    AppointmentStatus,
    AppointmentType,
    ContactMethod,
)
from models.errors import ErrorCode
from models.notifications import NotificationKind, Subject, SubjectType
from models.organisation import Building, Grid
from models.people import ResidentProfile, Role, RoleGrant, User
from resolvers.deadlines import calendar_of
from resolvers.errors import InputCheck, fail, not_found
from resolvers.loaders import batch_by_key, loader, pages_by_parent
from resolvers.notifications import admins_of, notify
from resolvers.pagination import Page, PageRequest, checked, paginate
from resolvers.permissions import ADMINS, ANYONE, allowed_to, session_of, viewer_of, visible_rows
from resolvers.rows import Selection, one_of
from resolvers.steps import Steps
from tenants.context import RequestContext
from tenants.tokens import Viewer

# What residents and staff call each status and step: in messages and the schema's descriptions.
APPOINTMENT_STATUS_NAMES = {
    AppointmentStatus.SUBMITTED: "待分拣",
    AppointmentStatus.ASSIGNED: "已分派",
    AppointmentStatus.CONTACTED: "已联系",
    AppointmentStatus.SCHEDULED: "已约定时间",
    AppointmentStatus.COMPLETED: "已办结",
    AppointmentStatus.CANCELLED: "已取消",
}

APPOINTMENT_STEP_NAMES = {
    AppointmentAction.SUBMIT: "提交预约",
    AppointmentAction.ASSIGN: "分拣",
    AppointmentAction.CONTACT: "联系居民",
    AppointmentAction.SCHEDULE: "约定时间",
    AppointmentAction.COMPLETE: "办结",
    AppointmentAction.CANCEL: "取消",
    AppointmentAction.MARK_OVERDUE: "超时未联系",
}


Resident = aliased(User, name="appointment_resident")
Assignee = aliased(User, name="appointment_assignee")


@dataclass(frozen=True, slots=True)
class AppointmentTypeRow:
    id: uuid.UUID
    code: str
    name: str
    department_id: uuid.UUID | None
    room_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class AppointmentRow:
    id: uuid.UUID
    type_id: uuid.UUID
    resident_id: uuid.UUID
    community_id: uuid.UUID
    description: str
    preferred_times: list[str]
    status: AppointmentStatus
    assignee_id: uuid.UUID | None
    contact_due_at: datetime | None
    contacted_at: datetime | None
    contact_method: ContactMethod | None
    scheduled_at: datetime | None
    outcome: str | None
    created_at: datetime
    updated_at: datetime
    type_code: str
    type_name: str
    type_department_id: uuid.UUID | None
    type_room_id: uuid.UUID | None
    resident_name: str
    resident_phone: str
    assignee_name: str | None
    assignee_phone: str | None


@dataclass(frozen=True, slots=True)
class EventRow:
    id: uuid.UUID
    appointment_id: uuid.UUID
    action: AppointmentAction
    from_status: AppointmentStatus | None
    to_status: AppointmentStatus
    note: str | None
    created_at: datetime
    actor_name: str | None


KIND = Selection(
    AppointmentTypeRow,
    select(
        AppointmentType.id,
        AppointmentType.code,
        AppointmentType.name,
        AppointmentType.department_id,
        AppointmentType.room_id,
    ),
)
APPOINTMENT = Selection(
    AppointmentRow,
    select(
        Appointment.id,
        Appointment.type_id,
        Appointment.resident_id,
        Appointment.community_id,
        Appointment.description,
        Appointment.preferred_times,
        Appointment.status,
        Appointment.assignee_id,
        Appointment.contact_due_at,
        Appointment.contacted_at,
        Appointment.contact_method,
        Appointment.scheduled_at,
        Appointment.outcome,
        Appointment.created_at,
        Appointment.updated_at,
        AppointmentType.code.label("type_code"),
        AppointmentType.name.label("type_name"),
        AppointmentType.department_id.label("type_department_id"),
        AppointmentType.room_id.label("type_room_id"),
        Resident.name.label("resident_name"),
        Resident.phone.label("resident_phone"),
        Assignee.name.label("assignee_name"),
        Assignee.phone.label("assignee_phone"),
    )
    .join(
        AppointmentType,
        (AppointmentType.tenant_id == Appointment.tenant_id) & (AppointmentType.id == Appointment.type_id),
    )
    .join(Resident, (Resident.tenant_id == Appointment.tenant_id) & (Resident.id == Appointment.resident_id))
    .outerjoin(Assignee, (Assignee.tenant_id == Appointment.tenant_id) & (Assignee.id == Appointment.assignee_id)),
)
EVENT = Selection(
    EventRow,
    select(
        AppointmentEvent.id,
        AppointmentEvent.appointment_id,
        AppointmentEvent.action,
        AppointmentEvent.from_status,
        AppointmentEvent.to_status,
        AppointmentEvent.note,
        AppointmentEvent.created_at,
        User.name.label("actor_name"),
    ).outerjoin(User, (User.tenant_id == AppointmentEvent.tenant_id) & (User.id == AppointmentEvent.actor_id)),
)

CONTACT_WITHIN_HOURS = 8  # one working day
CONTACT_METHODS = {
    ContactMethod.PHONE: "电话",
    ContactMethod.VISIT: "上门",
    ContactMethod.SMS: "短信",
    ContactMethod.WECHAT: "微信",
}


@dataclass(frozen=True)
class AppointmentFilter:
    statuses: tuple[AppointmentStatus, ...] = ()
    unassigned: bool | None = None
    overdue: bool | None = None


# --- types -----------------------------------------------------------------------------------


@allowed_to(ANYONE)
async def list_types(ctx: RequestContext, page: PageRequest) -> Page[AppointmentTypeRow]:
    return await paginate(ctx, KIND, (AppointmentType.code, AppointmentType.id), page)


@allowed_to(ANYONE)
async def kind(ctx: RequestContext, type_id: uuid.UUID) -> AppointmentTypeRow | None:
    return await loader(ctx, Loaders.kinds).load(type_id)


# --- who sees which --------------------------------------------------------------------------


def _in_scope(viewer: Viewer) -> ColumnElement[bool]:
    return visible_rows(
        viewer,
        {
            Role.COMMUNITY_ADMIN: lambda v: Appointment.community_id.in_(v.community_ids),
            Role.STAFF: lambda v: Appointment.assignee_id == v.user_id,
            Role.RESIDENT: lambda v: Appointment.resident_id == v.user_id,
        },
    )


def people_shown(viewer: Viewer, now: datetime) -> Select[Any]:
    """Who asked for the appointments in the caller's scope: shown to them (people.visible_person)."""
    return select(Appointment.resident_id).where(_in_scope(viewer))


# Overdue: not contacted in time, in a state the sweep flags from (assigned).
_LATE_STATES = LIFECYCLE.sources(AppointmentAction.MARK_OVERDUE, AppointmentParty.SYSTEM)


def _overdue(now: datetime) -> ColumnElement[bool]:
    return and_(Appointment.status.in_(_LATE_STATES), Appointment.contact_due_at < now)


def is_overdue(row: AppointmentRow, now: datetime) -> bool:
    return row.status in _LATE_STATES and row.contact_due_at is not None and row.contact_due_at < now


async def _appointments(ctx: RequestContext, ids: list[uuid.UUID], viewer: Viewer) -> list[AppointmentRow | None]:
    rows = await APPOINTMENT.where(one_of(ctx, Appointment.id, ids), _in_scope(viewer)).all(session_of(ctx))
    found = {row.id: row for row in rows}
    return [found.get(i) for i in ids]


class Loaders:
    """This domain's batches: one statement per kind per request (resolvers.loaders.loader)."""

    kinds = batch_by_key(KIND, AppointmentType.id)
    appointments = _appointments  # per viewer
    timelines = pages_by_parent(EVENT, AppointmentEvent.appointment_id, (AppointmentEvent.id,))


@allowed_to(Role.RESIDENT, Role.STAFF, *ADMINS)
async def appointment(ctx: RequestContext, appointment_id: uuid.UUID) -> AppointmentRow | None:
    viewer = viewer_of(ctx)
    return await loader(ctx, Loaders.appointments, viewer).load(appointment_id)


@allowed_to(Role.RESIDENT, Role.STAFF, *ADMINS)
async def list_appointments(ctx: RequestContext, query: AppointmentFilter, page: PageRequest) -> Page[AppointmentRow]:
    """A resident's own; a staff member's assigned; admins' queues (unassigned, overdue)."""
    mine = APPOINTMENT.where(_in_scope(viewer_of(ctx)))
    if query.statuses:
        mine = mine.where(Appointment.status.in_(query.statuses))
    if query.unassigned is not None:
        mine = mine.where(
            Appointment.assignee_id.is_(None) if query.unassigned else Appointment.assignee_id.is_not(None)
        )
    if query.overdue is not None:
        condition = _overdue(ctx.clock())
        mine = mine.where(condition if query.overdue else ~condition)
    return await paginate(ctx, mine, (Appointment.id,), page, descending=True)


async def timeline(ctx: RequestContext, appointment_id: uuid.UUID, page: PageRequest) -> Page[EventRow]:
    """Only reached through an appointment the caller could see."""
    return await loader(ctx, Loaders.timelines, checked(ctx, page)).load(appointment_id)


# --- requesting and handling -----------------------------------------------------------------


@allowed_to(Role.RESIDENT)
async def request(ctx: RequestContext, type_id: uuid.UUID, description: str, preferred_times: list[str]) -> uuid.UUID:
    session = session_of(ctx)
    viewer = viewer_of(ctx)
    check = InputCheck()
    text = check.text(description, "description", "情况说明", min_length=5, max_length=500)
    times = [t.strip() for t in preferred_times if t.strip()]
    check.require(1 <= len(times) <= 5, "preferredTimes", "请填写 1–5 个方便的时间。")
    check.require(all(len(t) <= 50 for t in times), "preferredTimes", "每个时间说明不超过 50 个字符。")
    found = await kind(ctx, type_id)
    check.require(found is not None, "typeId", "请从列表中选择预约事项。")
    community_id = await session.scalar(
        select(Grid.community_id)
        .join(Building, (Building.tenant_id == Grid.tenant_id) & (Building.grid_id == Grid.id))
        .join(
            ResidentProfile,
            (ResidentProfile.tenant_id == Building.tenant_id) & (ResidentProfile.building_id == Building.id),
        )
        .where(ResidentProfile.id == viewer.user_id)
    )
    check.require(community_id is not None, "typeId", "请先完成居民登记。")
    check.done()
    assert found is not None and community_id is not None  # done() refused their absence
    now = ctx.clock()
    item = Appointment(
        type_id=type_id,
        resident_id=viewer.user_id,
        community_id=community_id,
        description=text,
        preferred_times=times,
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    await session.flush()
    session.add(
        AppointmentEvent(
            appointment_id=item.id,
            action=AppointmentAction.SUBMIT,
            actor_id=viewer.user_id,
            to_status=AppointmentStatus.SUBMITTED,
            created_at=now,
        )
    )
    await session.flush()
    await notify(
        ctx,
        await admins_of(ctx, community_id),
        kind=NotificationKind.APPOINTMENT_NEW,
        title="新的预约待分拣",
        body=f"{found.name}：待分拣",
        subject=Subject(SubjectType.APPOINTMENT, item.id),
    )
    return item.id


def parties(viewer: Viewer, appointment: Appointment | AppointmentRow) -> set[AppointmentParty]:
    """What the caller is to one appointment."""
    found: set[AppointmentParty] = set()
    if appointment.resident_id == viewer.user_id:
        found.add(AppointmentParty.RESIDENT)
    if appointment.assignee_id == viewer.user_id:
        found.add(AppointmentParty.ASSIGNEE)
    if viewer.administers(appointment.community_id):
        found.add(AppointmentParty.ADMIN)
    return found


# No step has a rule of its own beyond the lifecycle (whom an appointment may go to is a
# question of the input, asked by `assign`).
STEPS = Steps(
    LIFECYCLE,
    thing="预约",
    states=APPOINTMENT_STATUS_NAMES,
    actions=APPOINTMENT_STEP_NAMES,
    field="appointmentId",
)


def viewer_can(ctx: RequestContext, row: AppointmentRow) -> frozenset[AppointmentAction]:
    """The steps the caller may take on this appointment now (no query)."""
    if ctx.viewer is None:
        return frozenset()
    return STEPS.available(ctx, row, parties(ctx.viewer, row))


async def _step(
    ctx: RequestContext,
    appointment_id: uuid.UUID,
    action: AppointmentAction,
    *,
    note: str | None = None,
    change: Callable[[Appointment], None] = lambda _: None,
) -> Appointment:
    """Takes `action` if the lifecycle lets this caller take it now, and writes it on the
    timeline. Two people acting at once: the second's write finds the version changed."""
    session = session_of(ctx)
    viewer = viewer_of(ctx)
    item = await session.scalar(select(Appointment).where(Appointment.id == appointment_id, _in_scope(viewer)))
    if item is None:
        raise not_found("预约", "appointmentId")
    before = item.status
    after = STEPS.next_state(ctx, action, item, parties(viewer, item))
    now = ctx.clock()
    item.status = after
    item.updated_at = now
    change(item)
    session.add(
        AppointmentEvent(
            appointment_id=item.id,
            action=action,
            actor_id=viewer.user_id,
            from_status=before,
            to_status=after,
            note=note,
            created_at=now,
        )
    )
    try:
        await session.flush()
    except StaleDataError as error:
        raise fail(ErrorCode.CONFLICT, "该预约刚刚被他人处理，请刷新后重试。", "appointmentId") from error
    return item


@allowed_to(*ADMINS)
async def assign(ctx: RequestContext, appointment_id: uuid.UUID, staff_id: uuid.UUID) -> uuid.UUID:
    """分拣: to a staff member (of the type's department, when it has one)."""
    session = session_of(ctx)
    visible = await appointment(ctx, appointment_id)
    if visible is None:
        raise not_found("预约", "appointmentId")
    grants = select(RoleGrant.department_id).where(RoleGrant.user_id == staff_id, RoleGrant.role == Role.STAFF)
    departments = set((await session.scalars(grants)).all())
    department = visible.type_department_id
    suitable = bool(departments) and (department is None or department in departments)
    if not suitable:
        raise fail(ErrorCode.INVALID, "请选择承办该事项的部门工作人员。", "staffId")

    def hand_over(item: Appointment) -> None:
        item.assignee_id = staff_id
        item.contact_due_at = calendar_of(ctx).working_hours_after(ctx.clock(), CONTACT_WITHIN_HOURS)
        item.overdue_at = None

    item = await _step(ctx, appointment_id, AppointmentAction.ASSIGN, change=hand_over)
    await notify(
        ctx,
        [staff_id],
        kind=NotificationKind.APPOINTMENT_ASSIGNED,
        title="新的预约任务",
        body=f"{visible.type_name}：请在一个工作日内联系居民。",
        subject=Subject(SubjectType.APPOINTMENT, item.id),
    )
    await notify(
        ctx,
        [item.resident_id],
        kind=NotificationKind.APPOINTMENT_STATUS,
        title="预约进展",
        body=f"您的{visible.type_name}预约已安排工作人员，将尽快与您联系。",
        subject=Subject(SubjectType.APPOINTMENT, item.id),
    )
    return item.id


@allowed_to(Role.STAFF)
async def record_contact(
    ctx: RequestContext, appointment_id: uuid.UUID, contacted_at: datetime, method: ContactMethod, note: str | None
) -> uuid.UUID:
    check = InputCheck()
    check.require(contacted_at <= ctx.clock(), "contactedAt", "联系时间不能晚于现在。")
    text = check.text(note, "note", "联系记录", max_length=1000) if note and note.strip() else None
    check.done()

    def record(item: Appointment) -> None:
        item.contacted_at = contacted_at
        item.contact_method = method

    item = await _step(ctx, appointment_id, AppointmentAction.CONTACT, note=text, change=record)
    return item.id


@allowed_to(Role.STAFF)
async def schedule(ctx: RequestContext, appointment_id: uuid.UUID, at: datetime, note: str | None) -> uuid.UUID:
    check = InputCheck()
    check.require(at > ctx.clock(), "scheduledAt", "约定时间须晚于现在。")
    text = check.text(note, "note", "说明", max_length=1000) if note and note.strip() else None
    check.done()

    def agree(item: Appointment) -> None:
        item.scheduled_at = at

    item = await _step(ctx, appointment_id, AppointmentAction.SCHEDULE, note=text, change=agree)
    await notify(
        ctx,
        [item.resident_id],
        kind=NotificationKind.APPOINTMENT_STATUS,
        title="预约时间已确定",
        body="您的预约时间已确定，请按时前往。",
        subject=Subject(SubjectType.APPOINTMENT, item.id),
    )
    return item.id


@allowed_to(Role.STAFF)
async def complete(ctx: RequestContext, appointment_id: uuid.UUID, outcome: str) -> uuid.UUID:
    check = InputCheck()
    text = check.text(outcome, "outcome", "办理结果", max_length=1000)
    check.done()

    def finish(item: Appointment) -> None:
        item.outcome = text

    item = await _step(ctx, appointment_id, AppointmentAction.COMPLETE, note=text, change=finish)
    await notify(
        ctx,
        [item.resident_id],
        kind=NotificationKind.APPOINTMENT_STATUS,
        title="预约已办结",
        body="您的预约事项已办结。",
        subject=Subject(SubjectType.APPOINTMENT, item.id),
    )
    return item.id


@allowed_to(Role.RESIDENT, Role.STAFF, *ADMINS)
async def cancel(ctx: RequestContext, appointment_id: uuid.UUID, reason: str) -> uuid.UUID:
    check = InputCheck()
    text = check.text(reason, "reason", "取消理由", max_length=200)
    check.done()
    item = await _step(ctx, appointment_id, AppointmentAction.CANCEL, note=text)
    await notify(
        ctx,
        [item.resident_id, item.assignee_id],
        kind=NotificationKind.APPOINTMENT_CANCELLED,
        title="预约已取消",
        body=f"预约已取消：{text}",
        subject=Subject(SubjectType.APPOINTMENT, item.id),
    )
    return item.id


async def sweep(ctx: RequestContext) -> int:
    """Assigned appointments not contacted within one working day: flagged once, and the
    staff member and the admins told (督办)."""
    session = session_of(ctx)
    now = ctx.clock()
    late = (await session.scalars(select(Appointment).where(_overdue(now), Appointment.overdue_at.is_(None)))).all()
    for item in late:
        before = item.status
        item.status = LIFECYCLE.next_state(AppointmentAction.MARK_OVERDUE, before, {AppointmentParty.SYSTEM})
        item.overdue_at = now
        session.add(
            AppointmentEvent(
                appointment_id=item.id,
                action=AppointmentAction.MARK_OVERDUE,
                from_status=before,
                to_status=item.status,
                note="超过一个工作日未联系居民",
                created_at=now,
            )
        )
        await notify(
            ctx,
            [item.assignee_id, *(await admins_of(ctx, item.community_id))],
            kind=NotificationKind.APPOINTMENT_OVERDUE,
            title="预约超时未联系",
            body="有预约超过一个工作日未联系居民，请督办。",
            subject=Subject(SubjectType.APPOINTMENT, item.id),
        )
    await session.flush()
    return len(late)
