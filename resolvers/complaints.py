"""Complaints: a resident's report routed to their grid worker, handled, perhaps dispatched to a
department, resolved, and confirmed and rated by the resident: every step on a timeline, every
step allowed only to the party that owns it (models.complaints.LIFECYCLE).

Who sees which complaints (docs/domain.md, "Roles"): residents their own; grid workers those of
their grids and those they handle; staff those dispatched to their department; community
admins their community's; tenant admins all.
"""

from __future__ import annotations

import enum
import functools
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Row,
    Select,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.orm.exc import StaleDataError

from models.analytics import ComplaintCommunityStatusRollup
from models.audit import AuditedField
from models.complaints import (
    LIFECYCLE,
    OPEN,
    POSTGRESQL_SEARCH_INDEX,
    SEARCH_INDEX_CAP,
    SEARCH_MIN_LENGTH,
    SQLITE_SEARCH_INDEX,
    UNFLAGGED_UNACKNOWLEDGED,
    UNSETTLED_OPEN,
    Attachment,
    AttachmentKind,
    Complaint,
    ComplaintAction,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintParty,
    ComplaintSource,
    ComplaintStatus,
    WorkOrder,
)
from models.database import is_postgresql
from models.errors import ErrorCode
from models.leaders import led_buildings
from models.notifications import NotificationKind, Subject, SubjectType
from models.organisation import Building, Department, Grid
from models.people import ResidentProfile, ResidentStatus, Role, User, masked_phone
from resolvers import rollups
from resolvers.compiled import NOW, PAGE_ROWS, TENANT, VIEWER, Audited, Listing, Shown
from resolvers.deadlines import calendar_of, tenant_settings
from resolvers.errors import DomainError, InputCheck, fail, not_found
from resolvers.loaders import batch_by_key, groups_by_key, loader, pages_by_parent
from resolvers.notifications import admins_of, notify, staff_of
from resolvers.pagination import Page, PageRequest, checked, paginate, paginate_lanes, picked_from_lanes
from resolvers.people import resident as visible_resident
from resolvers.permissions import ADMINS, ANYONE, allowed_to, session_of, viewer_of, visible_rows
from resolvers.rows import Selection, one_of, one_of_found, written_in
from resolvers.steps import Steps
from resolvers.uploads import IncomingFiles, StoredFile, receive
from tenants.context import RequestContext
from tenants.tokens import Viewer

# What residents and staff call each status and step: in messages and the schema's descriptions.
STATUS_NAMES = {
    ComplaintStatus.SUBMITTED: "待受理",
    ComplaintStatus.ACCEPTED: "已受理",
    ComplaintStatus.IN_PROGRESS: "处理中",
    ComplaintStatus.DISPATCHED: "已派单",
    ComplaintStatus.RESOLVED: "已办结",
    ComplaintStatus.CLOSED: "已关闭",
    ComplaintStatus.REJECTED: "不予受理",
    ComplaintStatus.REOPENED: "重新办理",
    ComplaintStatus.WITHDRAWN: "已撤回",
}

SOURCE_NAMES = {
    ComplaintSource.APP: "居民在小程序提交",
    ComplaintSource.PHONE: "电话反映",
    ComplaintSource.VISIT: "走访收集",
    ComplaintSource.INSPECTION: "巡查发现",
    ComplaintSource.BUILDING_LEADER: "楼栋长代为反映",
}

ACTION_NAMES = {
    ComplaintAction.SUBMIT: "提交",
    ComplaintAction.ACCEPT: "受理",
    ComplaintAction.START_WORK: "开始处理",
    ComplaintAction.RESOLVE: "办结",
    ComplaintAction.REJECT: "不予受理",
    ComplaintAction.DISPATCH: "派单",
    ComplaintAction.DEPARTMENT_ACCEPT: "部门签收",
    ComplaintAction.RETURN_TO_GRID: "退回网格",
    ComplaintAction.REASSIGN: "改派",
    ComplaintAction.SUPERVISE: "督办",
    ComplaintAction.CONFIRM: "确认评价",
    ComplaintAction.REOPEN: "重新办理",
    ComplaintAction.WITHDRAW: "撤回",
    ComplaintAction.MARK_OVERDUE: "超期",
    ComplaintAction.AUTO_CLOSE: "自动关闭",
}


ResidentUser = aliased(User, name="resident_user")
HandlerUser = aliased(User, name="handler_user")


@dataclass(frozen=True, slots=True)
class ComplaintRow:
    id: uuid.UUID
    title: str
    content: str
    status: ComplaintStatus
    source: ComplaintSource
    is_public: bool
    address: str | None
    latitude: float | None
    longitude: float | None
    resolution: str | None
    rating: int | None
    feedback: str | None
    acknowledge_due_at: datetime
    resolve_due_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    submitted_at: datetime
    updated_at: datetime
    resident_id: uuid.UUID | None
    handler_id: uuid.UUID | None
    department_id: uuid.UUID | None
    department_accepted_at: datetime | None
    building_id: uuid.UUID | None
    grid_id: uuid.UUID
    community_id: uuid.UUID
    category_id: uuid.UUID
    # To-one relations joined into the list query itself.
    category_code: str
    category_name: str
    category_acknowledge_hours: int
    category_resolve_days: int
    grid_code: str
    grid_name: str
    grid_worker_id: uuid.UUID | None
    resident_name: str | None
    resident_phone: str | None
    handler_name: str | None
    handler_phone: str | None


@dataclass(frozen=True, slots=True)
class CategoryRow:
    id: uuid.UUID
    code: str
    name: str
    acknowledge_hours: int
    resolve_days: int
    default_department_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class EventRow:
    id: uuid.UUID
    complaint_id: uuid.UUID
    action: ComplaintAction
    actor_id: uuid.UUID | None
    from_status: ComplaintStatus | None
    to_status: ComplaintStatus
    note: str | None
    created_at: datetime
    actor_name: str | None


@dataclass(frozen=True, slots=True)
class AttachmentRow:
    id: uuid.UUID
    complaint_id: uuid.UUID
    event_id: uuid.UUID | None
    kind: AttachmentKind
    content_type: str
    size: int
    storage_key: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PublicComplaintRow:
    """What the public feed shows: nothing about who reported it."""

    id: uuid.UUID
    title: str
    content: str
    resolution: str | None
    resolved_at: datetime | None
    rating: int | None
    category_name: str


COMPLAINT = Selection(
    ComplaintRow,
    select(
        Complaint.id,
        Complaint.title,
        Complaint.content,
        Complaint.status,
        Complaint.source,
        Complaint.is_public,
        Complaint.address,
        Complaint.latitude,
        Complaint.longitude,
        Complaint.resolution,
        Complaint.rating,
        Complaint.feedback,
        Complaint.acknowledge_due_at,
        Complaint.resolve_due_at,
        Complaint.acknowledged_at,
        Complaint.resolved_at,
        Complaint.closed_at,
        Complaint.submitted_at,
        Complaint.updated_at,
        Complaint.resident_id,
        Complaint.handler_id,
        Complaint.department_id,
        Complaint.department_accepted_at,
        Complaint.building_id,
        Complaint.grid_id,
        Complaint.community_id,
        Complaint.category_id,
        ComplaintCategory.code.label("category_code"),
        ComplaintCategory.name.label("category_name"),
        ComplaintCategory.acknowledge_hours.label("category_acknowledge_hours"),
        ComplaintCategory.resolve_days.label("category_resolve_days"),
        Grid.code.label("grid_code"),
        Grid.name.label("grid_name"),
        Grid.worker_id.label("grid_worker_id"),
        ResidentUser.name.label("resident_name"),
        ResidentUser.phone.label("resident_phone"),
        HandlerUser.name.label("handler_name"),
        HandlerUser.phone.label("handler_phone"),
    )
    .join(
        ComplaintCategory,
        (ComplaintCategory.tenant_id == Complaint.tenant_id) & (ComplaintCategory.id == Complaint.category_id),
    )
    .join(Grid, (Grid.tenant_id == Complaint.tenant_id) & (Grid.id == Complaint.grid_id))
    .outerjoin(
        ResidentUser, (ResidentUser.tenant_id == Complaint.tenant_id) & (ResidentUser.id == Complaint.resident_id)
    )
    .outerjoin(HandlerUser, (HandlerUser.tenant_id == Complaint.tenant_id) & (HandlerUser.id == Complaint.handler_id)),
)
CATEGORY = Selection(
    CategoryRow,
    select(
        ComplaintCategory.id,
        ComplaintCategory.code,
        ComplaintCategory.name,
        ComplaintCategory.acknowledge_hours,
        ComplaintCategory.resolve_days,
        ComplaintCategory.default_department_id,
    ),
)
EVENT = Selection(
    EventRow,
    select(
        ComplaintEvent.id,
        ComplaintEvent.complaint_id,
        ComplaintEvent.action,
        ComplaintEvent.actor_id,
        ComplaintEvent.from_status,
        ComplaintEvent.to_status,
        ComplaintEvent.note,
        ComplaintEvent.created_at,
        User.name.label("actor_name"),
    ).outerjoin(User, (User.tenant_id == ComplaintEvent.tenant_id) & (User.id == ComplaintEvent.actor_id)),
)
ATTACHMENT = Selection(
    AttachmentRow,
    select(
        Attachment.id,
        Attachment.complaint_id,
        Attachment.event_id,
        Attachment.kind,
        Attachment.content_type,
        Attachment.size,
        Attachment.storage_key,
        Attachment.created_at,
    ),
)
PUBLIC_COMPLAINT = Selection(
    PublicComplaintRow,
    select(
        Complaint.id,
        Complaint.title,
        Complaint.content,
        Complaint.resolution,
        Complaint.resolved_at,
        Complaint.rating,
        ComplaintCategory.name.label("category_name"),
    ).join(
        ComplaintCategory,
        (ComplaintCategory.tenant_id == Complaint.tenant_id) & (ComplaintCategory.id == Complaint.category_id),
    ),
)

TITLE_MAX = 50
CONTENT_MAX = 1000
NOTE_MAX = 1000


@dataclass(frozen=True)
class Draft:
    """What a new complaint says and where it is."""

    title: str
    content: str
    category_id: uuid.UUID | None
    building_id: uuid.UUID | None = None
    address: str | None = None
    grid_id: uuid.UUID | None = None
    latitude: float | None = None
    longitude: float | None = None
    is_public: bool = False


@dataclass(frozen=True)
class Filter:
    """Narrows the caller's complaints; a place outside their scope simply matches none."""

    statuses: tuple[ComplaintStatus, ...] = ()
    sources: tuple[ComplaintSource, ...] = ()
    community_id: uuid.UUID | None = None
    grid_id: uuid.UUID | None = None
    department_id: uuid.UUID | None = None
    category_id: uuid.UUID | None = None
    overdue: bool | None = None
    submitted_from: datetime | None = None
    submitted_to: datetime | None = None
    search: str | None = None


@dataclass
class SweepReport:
    marked_overdue: int = 0
    closed: int = 0


# --- who sees what, who is who --------------------------------------------------------------


def in_scope(viewer: Viewer, now: datetime) -> ColumnElement[bool]:
    """`now`: a building leader sees their buildings' complaints (a copy, read-only) only
    while they serve a term there."""
    return visible_rows(
        viewer,
        {
            Role.COMMUNITY_ADMIN: lambda v: Complaint.community_id.in_(v.community_ids),
            Role.GRID_WORKER: lambda v: _worked_by(v.user_id),
            Role.STAFF: lambda v: Complaint.department_id.in_(v.department_ids),
            Role.RESIDENT: lambda v: _reported_by(v.user_id),
            Role.BUILDING_LEADER: lambda v: Complaint.building_id.in_(led_buildings(v.user_id, now)),
        },
    )


def _reported_by(user_id: uuid.UUID | BindParameter[uuid.UUID]) -> ColumnElement[bool]:
    return Complaint.resident_id == user_id


def _worked_by(user_id: uuid.UUID | BindParameter[uuid.UUID], *among_grids: ColumnElement[bool]) -> ColumnElement[bool]:
    """Handled by the grid worker, or in a grid they work (of those `among_grids` admits)."""
    grids = select(Grid.id).where(Grid.worker_id == user_id, *among_grids)
    return or_(Complaint.handler_id == user_id, Complaint.grid_id.in_(grids))


def people_shown(viewer: Viewer, now: datetime) -> Select[Any]:
    """Who reported the complaints in the caller's scope: shown to them (people.visible_person)."""
    return select(Complaint.resident_id).where(in_scope(viewer, now))


def parties(viewer: Viewer, complaint: Complaint | ComplaintRow) -> set[ComplaintParty]:
    found: set[ComplaintParty] = set()
    if Role.RESIDENT in viewer.roles and complaint.resident_id == viewer.user_id:
        found.add(ComplaintParty.RESIDENT)
    if Role.GRID_WORKER in viewer.roles and complaint.handler_id == viewer.user_id:
        found.add(ComplaintParty.HANDLER)
    if Role.STAFF in viewer.roles and complaint.department_id in viewer.department_ids:
        found.add(ComplaintParty.DEPARTMENT)
    if viewer.administers(complaint.community_id):
        found.add(ComplaintParty.ADMIN)
    return found


def overdue_condition(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """is_overdue in SQL, at a moment or at a compiled read's NOW; its statuses written in
    (written_in), as a compiled read's statement needs them."""
    return and_(
        written_in(Complaint.status, OPEN),
        or_(
            Complaint.resolve_due_at < now,
            and_(written_in(Complaint.status, {ComplaintStatus.SUBMITTED}), Complaint.acknowledge_due_at < now),
        ),
    )


async def count_overdue(session: AsyncSession, scope: ColumnElement[bool], now: datetime) -> int:
    """How many open complaints in `scope` are past a deadline now, counted among the open items
    (an index range of (status, resolve_due_at) per open status): for the scopes the status
    rollups do not key (a grid worker's, a department's, a resident's own)."""
    past_resolve = [
        select(func.count())
        .select_from(Complaint)
        .where(scope, Complaint.status == status, Complaint.resolve_due_at < now)
        for status in sorted(OPEN)
    ]
    unacknowledged = (
        select(func.count())
        .select_from(Complaint)
        .where(
            scope,
            Complaint.status == ComplaintStatus.SUBMITTED,
            Complaint.resolve_due_at >= now,
            Complaint.acknowledge_due_at < now,
        )
    )
    counts = union_all(*past_resolve, unacknowledged).subquery()
    return int(await session.scalar(select(func.coalesce(func.sum(counts.c[0]), 0))) or 0)


def unsettled_past_a_deadline(column: InstrumentedAttribute[Any], now: datetime) -> CompoundSelect[Any]:
    """`column` of the open complaints past a deadline that the sweep has not settled
    (models.complaints.UNSETTLED_OPEN): what it has still to flag. Each part is read through its
    own partial index, a range of the deadlines already past: the unacknowledged past that
    deadline whatever their resolve deadline, and the others past their resolve deadline."""
    past_acknowledge = and_(text(UNFLAGGED_UNACKNOWLEDGED), Complaint.acknowledge_due_at < now)
    return union_all(
        select(column).where(past_acknowledge),
        select(column).where(text(UNSETTLED_OPEN), Complaint.resolve_due_at < now, ~past_acknowledge),
    )


async def count_overdue_in(session: AsyncSession, communities: Collection[uuid.UUID] | None, now: datetime) -> int:
    """How many open complaints of these communities (None: the whole street office) are past a
    deadline now: the ones flagged overdue for good from the community status rollups, the others from
    the partial indexes of the unsettled (models.complaints.UNSETTLED_OPEN), which hold only what
    turned overdue since the sweep last ran. Flat however many overdue items there are.

    The unsettled are read for the whole office and told apart by community here: narrowed by
    community in SQL, the planner would walk a community's whole queue instead, as it cannot know
    how few items those indexes hold."""
    rollup = ComplaintCommunityStatusRollup
    flagged = select(rollup.community_id, func.sum(rollup.overdue))
    if communities is not None:
        flagged = flagged.where(rollup.community_id.in_(communities))
    late = unsettled_past_a_deadline(Complaint.community_id, now).subquery()
    counted = union_all(
        flagged.group_by(rollup.community_id),
        select(late.c.community_id, func.count()).group_by(late.c.community_id),
    )
    rows = (await session.execute(counted)).all()
    return sum(int(n or 0) for community, n in rows if communities is None or community in communities)


def is_overdue(row: ComplaintRow, now: datetime) -> bool:
    if row.status not in OPEN:
        return False
    return row.resolve_due_at < now or (row.status == ComplaintStatus.SUBMITTED and row.acknowledge_due_at < now)


# --- each step's own rule beyond the lifecycle (read by the mutations and by viewer_can) ------


def _signed_for(ctx: RequestContext, item: Complaint | ComplaintRow, _: object) -> DomainError | None:
    if item.status == ComplaintStatus.DISPATCHED and item.department_accepted_at is None:
        return fail(ErrorCode.INVALID_TRANSITION, "部门尚未签收该工单，签收后才能办结。", "complaintId")
    return None


def _not_yet_signed(ctx: RequestContext, item: Complaint | ComplaintRow, _: object) -> DomainError | None:
    if item.department_accepted_at is not None:
        return fail(ErrorCode.INVALID_TRANSITION, "该工单已签收。", "complaintId")
    return None


def _within_reopen_window(ctx: RequestContext, item: Complaint | ComplaintRow, _: object) -> DomainError | None:
    window = tenant_settings(ctx).complaint_reopen_days
    if item.resolved_at is not None and ctx.clock() - item.resolved_at > timedelta(days=window):
        return fail(
            ErrorCode.REOPEN_WINDOW_PASSED, f"办结超过 {window} 天的诉求不能重新办理，请提交新的诉求。", "complaintId"
        )
    return None


STEPS = Steps(
    LIFECYCLE,
    thing="诉求",
    states=STATUS_NAMES,
    actions=ACTION_NAMES,
    field="complaintId",
    guards={
        ComplaintAction.RESOLVE: _signed_for,
        ComplaintAction.DEPARTMENT_ACCEPT: _not_yet_signed,
        ComplaintAction.REOPEN: _within_reopen_window,
    },
)


def viewer_can(ctx: RequestContext, row: ComplaintRow) -> frozenset[ComplaintAction]:
    """The steps the caller may take on this complaint now (no query: the row has what it takes)."""
    if ctx.viewer is None:
        return frozenset()
    return STEPS.available(ctx, row, parties(ctx.viewer, row))


async def _complaints(ctx: RequestContext, ids: list[uuid.UUID], viewer: Viewer) -> list[ComplaintRow | None]:
    found = {
        row.id: row
        for row in await COMPLAINT.where(one_of(ctx, Complaint.id, ids), in_scope(viewer, ctx.clock())).all(
            session_of(ctx)
        )
    }
    return [found.get(i) for i in ids]


class Loaders:
    """This domain's batches: one statement per kind per request (resolvers.loaders.loader)."""

    categories = batch_by_key(CATEGORY, ComplaintCategory.id)
    complaints = _complaints  # per viewer
    timelines = pages_by_parent(EVENT, ComplaintEvent.complaint_id, (ComplaintEvent.id,))
    attachments = groups_by_key(ATTACHMENT.order_by(Attachment.id), Attachment.complaint_id)
    attachments_by_id = batch_by_key(ATTACHMENT, Attachment.id)


# --- categories ------------------------------------------------------------------------------


@allowed_to(ANYONE)
async def list_categories(ctx: RequestContext, page: PageRequest) -> Page[CategoryRow]:
    return await paginate(ctx, CATEGORY, (ComplaintCategory.code, ComplaintCategory.id), page)


@allowed_to(ANYONE)
async def category(ctx: RequestContext, category_id: uuid.UUID) -> CategoryRow | None:
    return await loader(ctx, Loaders.categories).load(category_id)


@allowed_to(Role.TENANT_ADMIN)
async def update_category(
    ctx: RequestContext,
    category_id: uuid.UUID,
    *,
    name: str,
    acknowledge_hours: int,
    resolve_days: int,
    default_department_id: uuid.UUID | None,
) -> uuid.UUID:
    """New deadlines apply to complaints submitted from now on."""
    session = session_of(ctx)
    check = InputCheck()
    name = check.text(name, "name", "类别名称", max_length=50)
    check.require(1 <= acknowledge_hours <= 720, "acknowledgeHours", "受理时限应为 1–720 个工作小时。")
    check.require(1 <= resolve_days <= 365, "resolveDays", "办结时限应为 1–365 个工作日。")
    if default_department_id is not None:
        exists = await session.scalar(select(Department.id).where(Department.id == default_department_id))
        check.require(exists is not None, "defaultDepartmentId", "请从列表中选择职能部门。")
    found = await session.get(ComplaintCategory, (ctx.tenant_id, category_id))
    check.require(found is not None, "categoryId", "未找到该诉求类别。", ErrorCode.NOT_FOUND)
    check.done()
    assert found is not None
    found.name = name
    found.acknowledge_hours = acknowledge_hours
    found.resolve_days = resolve_days
    found.default_department_id = default_department_id
    await session.flush()
    return found.id


# --- reading ---------------------------------------------------------------------------------


@allowed_to(*Role)
async def complaint(ctx: RequestContext, complaint_id: uuid.UUID) -> ComplaintRow | None:
    """A complaint the caller may see, or None: out of scope looks exactly like not there."""
    viewer = viewer_of(ctx)
    return await loader(ctx, Loaders.complaints, viewer).load(complaint_id)


class ComplaintOrder(enum.StrEnum):
    DEADLINE = "deadline"
    NEWEST = "newest"
    LAST_UPDATED = "last_updated"


ORDER_NAMES = {
    ComplaintOrder.DEADLINE: "办结期限最近的在前（网格员的待办）",
    ComplaintOrder.NEWEST: "最新提交的在前",
    ComplaintOrder.LAST_UPDATED: "最近有进展的在前",
}
# Each order's keyset (ending with the id, so every row has a place) and its direction; a
# cursor carries the values of its row's keyset, so it pages on only in the order it came from.
ORDERS: dict[ComplaintOrder, tuple[tuple[InstrumentedAttribute[Any], ...], bool]] = {
    ComplaintOrder.DEADLINE: ((Complaint.resolve_due_at, Complaint.id), False),
    ComplaintOrder.NEWEST: ((Complaint.id,), True),
    ComplaintOrder.LAST_UPDATED: ((Complaint.updated_at, Complaint.id), True),
}


def _conditions(query: Filter, now: datetime) -> list[ColumnElement[bool]]:
    """The filter as conditions on the complaints table alone, but for the search
    (search_condition) and the statuses, which the deadline order's lanes each take as one
    status (list_complaints)."""
    conditions: list[ColumnElement[bool]] = []
    if query.sources:
        conditions.append(Complaint.source.in_(query.sources))
    if query.community_id is not None:
        conditions.append(Complaint.community_id == query.community_id)
    if query.grid_id is not None:
        conditions.append(Complaint.grid_id == query.grid_id)
    if query.department_id is not None:
        conditions.append(Complaint.department_id == query.department_id)
    if query.category_id is not None:
        conditions.append(Complaint.category_id == query.category_id)
    if query.overdue is not None:
        condition = overdue_condition(now)
        conditions.append(condition if query.overdue else ~condition)
    if query.submitted_from is not None:
        conditions.append(Complaint.submitted_at >= query.submitted_from)
    if query.submitted_to is not None:
        conditions.append(Complaint.submitted_at < query.submitted_to)
    return conditions


async def search_condition(ctx: RequestContext, text: str) -> ColumnElement[bool]:
    """Title or content holds `text`, ignoring the case of Latin letters: the same answer on both
    databases, the index's ids checked against the text again on complaints (under their own
    row-level security on PostgreSQL).

    Shorter than three characters, text has no trigram: it is matched on the rows the list walks
    in its own order (for a word as common as 楼道, a page after a few hundred rows, whatever the
    size of the table). Longer text is first looked up in a trigram index. On SQLite, the FTS5
    table, inside the list's statement. On PostgreSQL, complaints_matching() (migration 0018:
    row-level security keeps the planner from serving ILIKE from an index on complaints, so the
    function reads an indexed copy as its owner, filtered by the transaction's tenant), in a
    statement of its own that stops after SEARCH_INDEX_CAP ids: a rare word's few complaints are
    then read by id, flat in the size of the table; a common one's are not all fetched, and the
    list walks its order as for a short word, where a page comes soon."""
    found = or_(Complaint.title.icontains(text, autoescape=True), Complaint.content.icontains(text, autoescape=True))
    if len(text) < SEARCH_MIN_LENGTH:
        return found
    if not is_postgresql(ctx.settings.database_url):
        phrase = '"' + text.replace('"', '""') + '"'
        indexed = select(SQLITE_SEARCH_INDEX.c.complaint_id).where(
            literal_column(SQLITE_SEARCH_INDEX.name).op("MATCH")(phrase)
        )
        return and_(Complaint.id.in_(indexed), found)
    matching = select(POSTGRESQL_SEARCH_INDEX(text)).limit(SEARCH_INDEX_CAP + 1)
    ids = (await session_of(ctx).scalars(matching)).all()
    if len(ids) > SEARCH_INDEX_CAP:
        return found
    return and_(one_of(ctx, Complaint.id, ids), found)


async def _scope_lanes(ctx: RequestContext, viewer: Viewer) -> list[ColumnElement[bool]]:
    """in_scope as a union of equalities on the leading columns of the queue indexes (tenant,
    community, grid, handler, department, resident), so that each can be walked as one index
    range (resolvers.pagination.paginate_lanes). A grid worker's grids are read here (one
    statement): they change when grids are reassigned, so no token carries them."""
    if Role.TENANT_ADMIN in viewer.roles:
        return [true()]
    lanes: list[ColumnElement[bool]] = []
    if Role.COMMUNITY_ADMIN in viewer.roles:
        lanes += [Complaint.community_id == c for c in sorted(viewer.community_ids)]
    if Role.GRID_WORKER in viewer.roles:
        grids = (await session_of(ctx).scalars(select(Grid.id).where(Grid.worker_id == viewer.user_id))).all()
        lanes += [Complaint.handler_id == viewer.user_id, *(Complaint.grid_id == grid for grid in sorted(grids))]
    if Role.STAFF in viewer.roles:
        lanes += [Complaint.department_id == d for d in sorted(viewer.department_ids)]
    if Role.RESIDENT in viewer.roles:
        lanes.append(Complaint.resident_id == viewer.user_id)
    if Role.BUILDING_LEADER in viewer.roles:
        led = (await session_of(ctx).scalars(led_buildings(viewer.user_id, ctx.clock()))).all()
        lanes += [Complaint.building_id == building for building in sorted(led)]
    return lanes


@allowed_to(*Role)
async def list_complaints(
    ctx: RequestContext, query: Filter, page: PageRequest, order: ComplaintOrder
) -> Page[ComplaintRow]:
    """The caller's complaints: a resident's own, a grid worker's inbox, a department's work
    orders, an admin's community or tenant; in one of ORDERS. By deadline, the list is merged
    from one index range per lane of the caller's scope and status (the queue indexes lead with
    tenant, place or person, and status, then the deadline), so a page costs the same at ten
    thousand complaints as at ten million."""
    check = InputCheck()
    if query.search is not None:
        check.text(query.search, "filter.search", "搜索词", max_length=50)
    check.done()
    viewer = viewer_of(ctx)
    conditions = _conditions(query, ctx.clock())
    if query.search and query.search.strip():
        conditions.append(await search_condition(ctx, query.search.strip()))
    in_statuses = [Complaint.status.in_(query.statuses)] if query.statuses else []
    mine = COMPLAINT.where(in_scope(viewer, ctx.clock()), *in_statuses, *conditions)
    keyset, descending = ORDERS[order]
    if order is not ComplaintOrder.DEADLINE:
        return await paginate(ctx, mine, keyset, page, descending=descending)
    # Each lane is one status: with the list of statuses beside it, PostgreSQL reads a queue
    # index for any of them and can no longer take its rows in deadline order, so it read the
    # whole lane (a grid's 4,400 items in progress at 10M) and sorted it for one page.
    if Role.TENANT_ADMIN in viewer.roles and not query.statuses:
        # The whole office in any status is one range of ix_complaints_deadlines: one walk, where
        # one per status found a common word's page after nine walks of a few hundred rows.
        lanes = [select(*keyset).where(*conditions)]
    else:
        lanes = [
            select(*keyset).where(lane, Complaint.status == status, *conditions)
            for lane in await _scope_lanes(ctx, viewer)
            for status in query.statuses or tuple(ComplaintStatus)
        ]
    return await paginate_lanes(ctx, mine, lanes, keyset, page, rows=COMPLAINT)


# in_scope of a caller who has only one of these roles, the caller as VIEWER: what a compiled
# read (resolvers.compiled) may show them. It states the tenant itself, which the session
# adds to ORM statements.
CALLERS_COMPLAINTS = {
    Role.RESIDENT: _reported_by(VIEWER),
    Role.GRID_WORKER: _worked_by(VIEWER, Grid.tenant_id == TENANT),
}


def caller_sees_complaint(
    role: Role, complaint_id: ColumnElement[Any] | InstrumentedAttribute[Any]
) -> ColumnElement[bool]:
    """Whether a caller whose one role is `role` sees the complaint (as complaint() finds it):
    null if there is none. The complaint's own row is judged (a scalar subquery, read by its
    key), where an EXISTS was planned as one pass over every complaint the caller sees."""
    judged = select(CALLERS_COMPLAINTS[role]).where(Complaint.tenant_id == TENANT, Complaint.id == complaint_id)
    return judged.scalar_subquery()


_RESIDENT_SEEN_WHOLE = or_(Complaint.resident_id == VIEWER, Complaint.handler_id == VIEWER)

# What a compiled read shows a caller who is only a resident or only a grid worker beside the
# columns of COMPLAINT, by the rules the resolvers show them with (is_overdue at the request's
# clock; schema.complaints' phones): the handler's phone whole only to the handler themself,
# the resident's to the resident and to the grid worker handling the item, audited.
SHOWN_TO_ONE_ROLE = (
    Shown(overdue_condition(NOW).label("overdue"), nullable=False),
    Shown(
        case((Complaint.handler_id == VIEWER, HandlerUser.phone), else_=masked_phone(HandlerUser.phone)).label(
            "handler_shown_phone"
        )
    ),
    Shown(
        case((_RESIDENT_SEEN_WHOLE, ResidentUser.phone), else_=masked_phone(ResidentUser.phone)).label(
            "resident_shown_phone"
        ),
        audited=Audited(
            Complaint.resident_id, and_(_RESIDENT_SEEN_WHOLE, Complaint.resident_id != VIEWER), AuditedField.PHONE
        ),
    ),
)

# A resident's own complaints newest first, as the compiled reads build them: the scope and order
# list_complaints pages a caller who is only a resident with.
RESIDENTS_OWN_NEWEST = Listing(
    COMPLAINT.where(CALLERS_COMPLAINTS[Role.RESIDENT]),
    ORDERS[ComplaintOrder.NEWEST][0],
    list_complaints,
    descending=ORDERS[ComplaintOrder.NEWEST][1],
    viewer_roles=frozenset({Role.RESIDENT}),
    shown=SHOWN_TO_ONE_ROLE,
)


@functools.cache
def grid_workers_inbox(statuses: frozenset[ComplaintStatus]) -> Listing:
    """A grid worker's complaints in these statuses by deadline, as the compiled reads build
    them: list_complaints' lanes (one index range per status of what they handle and of each
    grid they work, each stopped at the page's rows), merged. At most one listing per set of
    statuses."""
    keyset, descending = ORDERS[ComplaintOrder.DEADLINE]

    def walked(*lane: ColumnElement[bool]) -> Select[Any]:
        return select(*keyset).where(Complaint.tenant_id == TENANT, *lane).order_by(*keyset).limit(PAGE_ROWS)

    worked = select(Grid.id).where(Grid.tenant_id == TENANT, Grid.worker_id == VIEWER).subquery("worked")
    lanes: list[Select[Any]] = []
    for status in sorted(statuses):
        handled = walked(Complaint.handler_id == VIEWER, written_in(Complaint.status, {status})).subquery()
        in_grid = walked(Complaint.grid_id == worked.c.id, written_in(Complaint.status, {status})).lateral()
        lanes += [select(*handled.c), select(*in_grid.c).select_from(worked.join(in_grid, true()))]
    return Listing(
        COMPLAINT.where(Complaint.id.in_(picked_from_lanes(lanes, keyset, PAGE_ROWS))),
        keyset,
        list_complaints,
        descending=descending,
        viewer_roles=frozenset({Role.GRID_WORKER}),
        shown=SHOWN_TO_ONE_ROLE,
        merges_lanes=True,
    )


@allowed_to(*Role)
async def counts_by_status(ctx: RequestContext) -> tuple[dict[ComplaintStatus, int], int]:
    """For a badge: how many of the caller's complaints are in each status, and how many overdue.
    An admin's whole community or street office is read from the rollups and the unsettled
    deadlines (count_overdue_in); a resident's own, a grid worker's or a department's items,
    which the rollups do not key, from the complaints."""
    session = session_of(ctx)
    viewer = viewer_of(ctx)
    if Role.TENANT_ADMIN in viewer.roles or viewer.roles == {Role.COMMUNITY_ADMIN}:
        communities = None if Role.TENANT_ADMIN in viewer.roles else frozenset(viewer.community_ids)
        rollup = ComplaintCommunityStatusRollup
        counted = select(rollup.status, func.sum(rollup.complaints))
        if communities is not None:
            counted = counted.where(rollup.community_id.in_(communities))
        rows = (await session.execute(counted.group_by(rollup.status))).all()
        overdue = await count_overdue_in(session, communities, ctx.clock())
    else:
        scope = in_scope(viewer, ctx.clock())
        rows = (
            await session.execute(select(Complaint.status, func.count()).where(scope).group_by(Complaint.status))
        ).all()
        overdue = await count_overdue(session, scope, ctx.clock())
    return {ComplaintStatus(status): int(count) for status, count in rows if count}, overdue


@allowed_to(ANYONE)
async def public_feed(ctx: RequestContext, community_id: uuid.UUID, page: PageRequest) -> Page[PublicComplaintRow]:
    """晒一晒: resolved items their residents allowed to be shown, without who reported them."""
    shown = PUBLIC_COMPLAINT.where(
        Complaint.community_id == community_id,
        Complaint.is_public.is_(True),
        Complaint.status.in_((ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED)),
    )
    return await paginate(ctx, shown, (Complaint.id,), page, descending=True)


@allowed_to(*Role)
async def timeline(ctx: RequestContext, complaint_id: uuid.UUID, page: PageRequest) -> Page[EventRow]:
    """Only reached through a complaint the caller could see."""
    return await loader(ctx, Loaders.timelines, checked(ctx, page)).load(complaint_id)


# A complaint's timeline, under a compiled page of complaints (resolvers.compiled).
TIMELINE = Listing(
    EVENT,
    (ComplaintEvent.id,),
    timeline,
    parent=ComplaintEvent.complaint_id,
    shown=(Shown(ComplaintEvent.created_at.label("at"), nullable=False),),
)


async def attachments(ctx: RequestContext, complaint_id: uuid.UUID) -> list[AttachmentRow]:
    """Only reached through a complaint the caller could see."""
    return await loader(ctx, Loaders.attachments).load(complaint_id)


@allowed_to(*Role)
async def attachment(ctx: RequestContext, attachment_id: uuid.UUID) -> AttachmentRow | None:
    """A photo or video of a complaint the caller may see, or None."""
    found: AttachmentRow | None = await loader(ctx, Loaders.attachments_by_id).load(attachment_id)
    if found is None or await complaint(ctx, found.complaint_id) is None:
        return None
    return found


# --- submitting ------------------------------------------------------------------------------


def _attach(ctx: RequestContext, complaint_id: uuid.UUID, event_id: uuid.UUID, files: list[StoredFile]) -> None:
    """The rows of files already stored (resolvers.uploads), on the complaint and its step."""
    assert ctx.viewer is not None
    session_of(ctx).add_all(
        Attachment(
            complaint_id=complaint_id,
            event_id=event_id,
            kind=stored.media.kind,
            content_type=stored.media.content_type,
            size=stored.size,
            storage_key=stored.key,
            uploaded_by_id=ctx.viewer.user_id,
            created_at=ctx.clock(),
        )
        for stored in files
    )


def _check_draft(check: InputCheck, draft: Draft) -> tuple[str, str, str | None]:
    title = check.text(draft.title, "title", "标题", max_length=TITLE_MAX)
    content = check.text(draft.content, "content", "内容", max_length=CONTENT_MAX)
    address = draft.address.strip() if draft.address else None
    if address is not None:
        check.text(address, "address", "地址", max_length=200)
    if (draft.latitude is None) != (draft.longitude is None):
        check.require(False, "latitude", "经纬度须同时提供。")
    elif draft.latitude is not None and draft.longitude is not None:
        # Mainland China's extent, WGS-84; a point outside it is a client error.
        check.require(3.8 <= draft.latitude <= 53.6, "latitude", "纬度不在有效范围内。")
        check.require(73.4 <= draft.longitude <= 135.1, "longitude", "经度不在有效范围内。")
    return title, content, address


# A grid as routing sees it: id, community_id, worker_id.
GridPlace = Row[uuid.UUID, uuid.UUID, uuid.UUID | None]


async def _routing(
    ctx: RequestContext, check: InputCheck, draft: Draft, home_building: uuid.UUID | None
) -> tuple[uuid.UUID | None, GridPlace | None]:
    """The building (if any) and the grid the complaint goes to: the building's grid; else the
    grid named with an address; else the resident's own building's grid."""
    session = session_of(ctx)
    building_id = draft.building_id
    if building_id is None and draft.grid_id is None:
        building_id = home_building
    grid_id = draft.grid_id
    if building_id is not None:
        grid_id = await session.scalar(select(Building.grid_id).where(Building.id == building_id))
        check.require(grid_id is not None, "buildingId", "请从列表中选择楼栋。")
    elif grid_id is None:
        check.require(False, "buildingId", "请选择楼栋，或填写地址并选择网格。")
    grid = None
    if grid_id is not None:
        grid = (
            await session.execute(select(Grid.id, Grid.community_id, Grid.worker_id).where(Grid.id == grid_id))
        ).one_or_none()
        check.require(grid is not None, "gridId", "请从列表中选择网格。")
    if draft.building_id is None and draft.grid_id is not None:
        check.require(bool(draft.address and draft.address.strip()), "address", "不在楼栋内的事项请填写地址。")
    return building_id, grid


def _files_into(viewer: Viewer, grid: GridPlace) -> bool:
    """May this grid worker or admin file a complaint into `grid`: a tenant admin anywhere, a
    community admin in their community, a grid worker in the grids they serve."""
    return viewer.administers(grid.community_id) or (
        Role.GRID_WORKER in viewer.roles and grid.worker_id == viewer.user_id
    )


async def _create(
    ctx: RequestContext,
    draft: Draft,
    files: IncomingFiles,
    *,
    resident_id: uuid.UUID | None,
    home_building: uuid.UUID | None,
    source: ComplaintSource,
) -> uuid.UUID:
    session = session_of(ctx)
    viewer = viewer_of(ctx)
    check = InputCheck()
    title, content, address = _check_draft(check, draft)
    category = None
    if draft.category_id is not None:
        category = await session.get(ComplaintCategory, (ctx.tenant_id, draft.category_id))
    check.require(category is not None, "categoryId", "请从列表中选择诉求类别。")
    building_id, grid = await _routing(ctx, check, draft, home_building)
    # A leader's relay was checked against the buildings they lead (_relay).
    staff_filed = source not in (ComplaintSource.APP, ComplaintSource.BUILDING_LEADER)
    if staff_filed and grid is not None and not _files_into(viewer, grid):
        # Staff file only where they serve; residents report wherever they see a problem.
        place = "buildingId" if draft.building_id else "gridId" if draft.grid_id else "residentId"
        check.require(False, place, "只能登记到您负责的网格或管理的社区。", ErrorCode.OUT_OF_SCOPE)
    check.done()
    stored = await receive(ctx, files)
    assert category is not None and grid is not None

    now = ctx.clock()
    calendar = calendar_of(ctx)
    item = Complaint(
        resident_id=resident_id,
        filed_by_id=viewer.user_id,
        source=source,
        category_id=category.id,
        title=title,
        content=content,
        building_id=building_id,
        address=address,
        latitude=draft.latitude,
        longitude=draft.longitude,
        grid_id=grid.id,
        community_id=grid.community_id,
        handler_id=grid.worker_id,
        is_public=draft.is_public,
        acknowledge_due_at=calendar.working_hours_after(now, category.acknowledge_hours),
        resolve_due_at=calendar.working_days_after(now, category.resolve_days),
        submitted_at=now,
        updated_at=now,
    )
    session.add(item)
    await session.flush()
    await rollups.created(ctx, item).record()
    event = ComplaintEvent(
        complaint_id=item.id,
        action=ComplaintAction.SUBMIT,
        actor_id=viewer.user_id,
        to_status=ComplaintStatus.SUBMITTED,
        created_at=now,
    )
    session.add(event)
    await session.flush()
    # A grid without a worker falls to the community's admins.
    recipients = [grid.worker_id] if grid.worker_id else await admins_of(ctx, grid.community_id)
    await notify(
        ctx,
        recipients,
        kind=NotificationKind.COMPLAINT_NEW,
        title="新的诉求",
        body=f"“{title}”待受理。",
        subject=Subject(SubjectType.COMPLAINT, item.id),
    )
    _attach(ctx, item.id, event.id, stored)
    await session.flush()
    return item.id


@allowed_to(Role.RESIDENT)
async def submit(ctx: RequestContext, draft: Draft, files: IncomingFiles) -> uuid.UUID:
    viewer = viewer_of(ctx)
    home = await session_of(ctx).scalar(select(ResidentProfile.building_id).where(ResidentProfile.id == viewer.user_id))
    return await _create(ctx, draft, files, resident_id=viewer.user_id, home_building=home, source=ComplaintSource.APP)


@allowed_to(Role.GRID_WORKER, Role.BUILDING_LEADER, *ADMINS)
async def file_on_behalf(
    ctx: RequestContext,
    draft: Draft,
    files: IncomingFiles,
    *,
    resident_id: uuid.UUID | None,
    source: ComplaintSource,
) -> uuid.UUID:
    """A grid worker or admin files a complaint heard by phone or on a visit, or found on an
    inspection (then with no resident); a building leader relays one for a resident of a
    building they lead (BUILDING_LEADER): it is that resident's, about that building."""
    if source is ComplaintSource.APP:
        raise fail(ErrorCode.INVALID, "代为登记的来源应为电话、走访、巡查或楼栋长代为反映。", "source")
    if source is ComplaintSource.BUILDING_LEADER:
        return await _relay(ctx, draft, files, resident_id)
    if not viewer_of(ctx).has_any(Role.GRID_WORKER, *ADMINS):
        raise fail(ErrorCode.FORBIDDEN, "楼栋长代为反映时，来源应为“楼栋长代为反映”。", "source")
    home = None
    if resident_id is not None:
        found = await visible_resident(ctx, resident_id)
        if found is None:
            raise not_found("居民", "residentId")
        home = found.building_id
    return await _create(ctx, draft, files, resident_id=resident_id, home_building=home, source=source)


async def _relay(ctx: RequestContext, draft: Draft, files: IncomingFiles, resident_id: uuid.UUID | None) -> uuid.UUID:
    viewer = viewer_of(ctx)
    if Role.BUILDING_LEADER not in viewer.roles:
        raise fail(ErrorCode.FORBIDDEN, "只有楼栋长可以代为反映。", "source")
    if resident_id is None:
        raise fail(ErrorCode.INVALID, "请选择代为反映的居民。", "residentId")
    home = await session_of(ctx).scalar(
        select(ResidentProfile.building_id).where(
            ResidentProfile.id == resident_id,
            ResidentProfile.status == ResidentStatus.VERIFIED,
            ResidentProfile.building_id.in_(led_buildings(viewer.user_id, ctx.clock())),
        )
    )
    if home is None:
        raise not_found("居民", "residentId")
    if draft.grid_id is not None or draft.building_id not in (None, home):
        raise fail(ErrorCode.OUT_OF_SCOPE, "楼栋长代为反映的诉求属于该居民所在的楼栋。", "buildingId")
    return await _create(
        ctx,
        replace(draft, building_id=home),
        files,
        resident_id=resident_id,
        home_building=home,
        source=ComplaintSource.BUILDING_LEADER,
    )


# --- the lifecycle ---------------------------------------------------------------------------


async def _visible(ctx: RequestContext, complaint_id: uuid.UUID) -> Complaint:
    viewer = viewer_of(ctx)
    found = await session_of(ctx).scalar(
        select(Complaint).where(Complaint.id == complaint_id, in_scope(viewer, ctx.clock()))
    )
    if found is None:
        raise not_found("诉求", "complaintId")
    return found


async def _act(
    ctx: RequestContext,
    complaint_id: uuid.UUID,
    action: ComplaintAction,
    *,
    note: str | None = None,
    change: Callable[[Complaint], None] = lambda _: None,
) -> tuple[Complaint, ComplaintEvent]:
    """Checks the step is this caller's to take now (STEPS: the lifecycle and the step's own
    guard), takes it, and writes it on the timeline.
    Two people acting on the same item at once: the second's write finds the version changed
    (or, on SQLite, waits and then sees the new state) and is refused."""
    session = session_of(ctx)
    item = await _visible(ctx, complaint_id)
    before = item.status
    after = STEPS.next_state(ctx, action, item, parties(viewer_of(ctx), item))
    counted = rollups.tracked(ctx, item)
    now = ctx.clock()
    item.status = after
    item.updated_at = now
    change(item)
    event = ComplaintEvent(
        complaint_id=item.id,
        action=action,
        actor_id=viewer_of(ctx).user_id,
        from_status=before,
        to_status=after,
        note=note,
        created_at=now,
    )
    session.add(event)
    try:
        await session.flush()
    except StaleDataError as error:
        raise fail(ErrorCode.CONFLICT, "该诉求刚刚被他人处理，请刷新后重试。", "complaintId") from error
    await counted.record()
    return item, event


async def _work_order_step(ctx: RequestContext, item: Complaint, change: Callable[[WorkOrder], None]) -> None:
    """The step's mark on the complaint's open work order (the department's figures), counted
    in the rollups in the same transaction."""
    session = session_of(ctx)
    order = await session.scalar(
        select(WorkOrder).where(
            WorkOrder.complaint_id == item.id, WorkOrder.returned_at.is_(None), WorkOrder.resolved_at.is_(None)
        )
    )
    if order is None:  # only data loaded around the app lacks it: the step itself still stands
        return
    counted = rollups.tracked(ctx, order)
    change(order)
    await session.flush()
    await counted.record()


def _note(check: InputCheck, value: str | None, field_name: str, label: str, *, required: bool) -> str | None:
    if value is None or not value.strip():
        check.require(not required, field_name, f"请填写{label}。")
        return None
    return check.text(value, field_name, label, max_length=NOTE_MAX)


async def _tell_resident(ctx: RequestContext, item: Complaint, what: str) -> None:
    await notify(
        ctx,
        [item.resident_id],
        kind=NotificationKind.COMPLAINT_STATUS,
        title="诉求进展",
        body=f"您的诉求“{item.title}”{what}。",
        subject=Subject(SubjectType.COMPLAINT, item.id),
    )


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def accept(ctx: RequestContext, complaint_id: uuid.UUID) -> uuid.UUID:
    def acknowledge(item: Complaint) -> None:
        item.acknowledged_at = ctx.clock()
        item.handler_id = item.handler_id or viewer_of(ctx).user_id

    item, _ = await _act(ctx, complaint_id, ComplaintAction.ACCEPT, change=acknowledge)
    await _tell_resident(ctx, item, "已受理")
    return item.id


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def start_work(ctx: RequestContext, complaint_id: uuid.UUID) -> uuid.UUID:
    item, _ = await _act(ctx, complaint_id, ComplaintAction.START_WORK)
    await _tell_resident(ctx, item, "正在处理")
    return item.id


@allowed_to(Role.GRID_WORKER, Role.STAFF, *ADMINS)
async def resolve(ctx: RequestContext, complaint_id: uuid.UUID, reply: str, files: IncomingFiles) -> uuid.UUID:
    check = InputCheck()
    reply_text = _note(check, reply, "reply", "办理结果", required=True)
    check.done()
    stored = await receive(ctx, files)

    def record(item: Complaint) -> None:
        item.resolution = reply_text
        item.resolved_at = ctx.clock()

    item, event = await _act(ctx, complaint_id, ComplaintAction.RESOLVE, note=reply_text, change=record)
    if event.from_status == ComplaintStatus.DISPATCHED:
        await _work_order_step(ctx, item, lambda order: setattr(order, "resolved_at", item.resolved_at))
    await _tell_resident(ctx, item, "已办结，请确认并评价")
    _attach(ctx, item.id, event.id, stored)
    await session_of(ctx).flush()
    return item.id


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def reject(ctx: RequestContext, complaint_id: uuid.UUID, reason: str) -> uuid.UUID:
    check = InputCheck()
    reason_text = _note(check, reason, "reason", "不予受理的理由", required=True)
    check.done()
    item, _ = await _act(ctx, complaint_id, ComplaintAction.REJECT, note=reason_text)
    await _tell_resident(ctx, item, f"不予受理：{reason_text}")
    return item.id


def _due_in(check: InputCheck, days: int, field_name: str) -> int:
    check.require(1 <= days <= 60, field_name, "期限应为 1–60 个工作日。")
    return days


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def dispatch(
    ctx: RequestContext, complaint_id: uuid.UUID, department_id: uuid.UUID | None, due_in_days: int, note: str | None
) -> uuid.UUID:
    """立项派单: made a work order and sent to a department, with a new resolve deadline."""
    check = InputCheck()
    note_text = _note(check, note, "note", "派单说明", required=False)
    _due_in(check, due_in_days, "dueInWorkingDays")
    department = None
    if department_id is not None:
        department = await session_of(ctx).scalar(select(Department.id).where(Department.id == department_id))
    check.require(department is not None, "departmentId", "请从列表中选择职能部门。")
    check.done()
    assert department is not None

    def send(item: Complaint) -> None:
        item.dispatch_count += 1
        item.department_id = department
        item.department_accepted_at = None
        item.resolve_due_at = calendar_of(ctx).working_days_after(ctx.clock(), due_in_days)
        item.overdue_at = None

    item, _ = await _act(ctx, complaint_id, ComplaintAction.DISPATCH, note=note_text, change=send)
    order = WorkOrder(
        complaint_id=item.id,
        department_id=department,
        community_id=item.community_id,
        dispatched_at=item.updated_at,
        resolve_due_at=item.resolve_due_at,
    )
    session_of(ctx).add(order)
    await session_of(ctx).flush()
    await rollups.created(ctx, order).record()
    await notify(
        ctx,
        await staff_of(ctx, department),
        kind=NotificationKind.COMPLAINT_DISPATCHED,
        title="新的派单",
        body=f"“{item.title}”已派至本部门。",
        subject=Subject(SubjectType.COMPLAINT, item.id),
    )
    await _tell_resident(ctx, item, "已转交职能部门办理")
    return item.id


@allowed_to(Role.STAFF)
async def department_accept(ctx: RequestContext, complaint_id: uuid.UUID) -> uuid.UUID:
    def sign(item: Complaint) -> None:
        item.department_accepted_at = ctx.clock()

    item, _ = await _act(ctx, complaint_id, ComplaintAction.DEPARTMENT_ACCEPT, change=sign)
    await _work_order_step(ctx, item, lambda order: setattr(order, "signed_at", item.department_accepted_at))
    await notify(
        ctx,
        [item.handler_id],
        kind=NotificationKind.COMPLAINT_STATUS,
        title="部门已签收",
        body=f"“{item.title}”已由职能部门签收。",
        subject=Subject(SubjectType.COMPLAINT, item.id),
    )
    return item.id


@allowed_to(Role.STAFF)
async def return_to_grid(ctx: RequestContext, complaint_id: uuid.UUID, reason: str) -> uuid.UUID:
    check = InputCheck()
    reason_text = _note(check, reason, "reason", "退回理由", required=True)
    check.done()

    def back(item: Complaint) -> None:
        item.department_id = None
        item.department_accepted_at = None

    item, _ = await _act(ctx, complaint_id, ComplaintAction.RETURN_TO_GRID, note=reason_text, change=back)
    await _work_order_step(ctx, item, lambda order: setattr(order, "returned_at", item.updated_at))
    await notify(
        ctx,
        [item.handler_id],
        kind=NotificationKind.COMPLAINT_RETURNED,
        title="工单被退回",
        body=f"“{item.title}”被部门退回：{reason_text}",
        subject=Subject(SubjectType.COMPLAINT, item.id),
    )
    return item.id


@allowed_to(*ADMINS)
async def reassign(ctx: RequestContext, complaint_id: uuid.UUID, grid_id: uuid.UUID, note: str | None) -> uuid.UUID:
    """Moves the item to another grid, and so to that grid's worker."""
    viewer = viewer_of(ctx)
    check = InputCheck()
    note_text = _note(check, note, "note", "改派说明", required=False)
    grid = (
        await session_of(ctx).execute(select(Grid.id, Grid.community_id, Grid.worker_id).where(Grid.id == grid_id))
    ).one_or_none()
    if check.require(grid is not None, "gridId", "请从列表中选择网格。"):
        assert grid is not None
        in_scope = viewer.administers(grid.community_id)
        check.require(in_scope, "gridId", "请从您管理范围内的网格中选择。", ErrorCode.OUT_OF_SCOPE)
        check.require(not in_scope or grid.worker_id is not None, "gridId", "该网格还没有网格员。")
    check.done()
    assert grid is not None

    def move(item: Complaint) -> None:
        item.grid_id = grid.id
        item.community_id = grid.community_id
        item.handler_id = grid.worker_id

    item, _ = await _act(ctx, complaint_id, ComplaintAction.REASSIGN, note=note_text, change=move)
    await notify(
        ctx,
        [grid.worker_id],
        kind=NotificationKind.COMPLAINT_NEW,
        title="改派给您的诉求",
        body=f"“{item.title}”已改派给您。",
        subject=Subject(SubjectType.COMPLAINT, item.id),
    )
    return item.id


@allowed_to(*ADMINS)
async def supervise(ctx: RequestContext, complaint_id: uuid.UUID, note: str, due_in_days: int) -> uuid.UUID:
    """督办: an admin's note and a new deadline, sent to whoever holds the item."""
    check = InputCheck()
    note_text = _note(check, note, "note", "督办意见", required=True)
    _due_in(check, due_in_days, "dueInWorkingDays")
    check.done()

    def escalate(item: Complaint) -> None:
        item.resolve_due_at = calendar_of(ctx).working_days_after(ctx.clock(), due_in_days)
        item.overdue_at = None

    item, _ = await _act(ctx, complaint_id, ComplaintAction.SUPERVISE, note=note_text, change=escalate)
    if item.status == ComplaintStatus.DISPATCHED:
        await _work_order_step(ctx, item, lambda order: setattr(order, "resolve_due_at", item.resolve_due_at))
    holders = [item.handler_id] + (await staff_of(ctx, item.department_id) if item.department_id else [])
    await notify(
        ctx,
        holders,
        kind=NotificationKind.COMPLAINT_SUPERVISED,
        title="督办",
        body=f"“{item.title}”被督办：{note_text}",
        subject=Subject(SubjectType.COMPLAINT, item.id),
    )
    return item.id


@allowed_to(Role.RESIDENT)
async def confirm(ctx: RequestContext, complaint_id: uuid.UUID, rating: int, comment: str | None) -> uuid.UUID:
    check = InputCheck()
    check.require(1 <= rating <= 5, "rating", "评分应为 1–5 分。")
    comment_text = _note(check, comment, "comment", "评价", required=False)
    if comment_text is not None:
        check.require(len(comment_text) <= 500, "comment", "评价不能超过 500 个字符。")
    check.done()

    def close(item: Complaint) -> None:
        item.rating = rating
        item.feedback = comment_text
        item.closed_at = ctx.clock()

    item, _ = await _act(ctx, complaint_id, ComplaintAction.CONFIRM, note=comment_text, change=close)
    await notify(
        ctx,
        [item.handler_id],
        kind=NotificationKind.COMPLAINT_CONFIRMED,
        title="居民已评价",
        body=f"“{item.title}”获评 {rating} 分。",
        subject=Subject(SubjectType.COMPLAINT, item.id),
    )
    return item.id


@allowed_to(Role.RESIDENT)
async def reopen(ctx: RequestContext, complaint_id: uuid.UUID, reason: str) -> uuid.UUID:
    check = InputCheck()
    reason_text = _note(check, reason, "reason", "重新办理的理由", required=True)
    check.done()

    def count(item: Complaint) -> None:
        item.reopen_count += 1

    item, _ = await _act(ctx, complaint_id, ComplaintAction.REOPEN, note=reason_text, change=count)
    await notify(
        ctx,
        [item.handler_id],
        kind=NotificationKind.COMPLAINT_REOPENED,
        title="诉求被退回重办",
        body=f"“{item.title}”：{reason_text}",
        subject=Subject(SubjectType.COMPLAINT, item.id),
    )
    return item.id


@allowed_to(Role.RESIDENT)
async def withdraw(ctx: RequestContext, complaint_id: uuid.UUID) -> uuid.UUID:
    item, _ = await _act(ctx, complaint_id, ComplaintAction.WITHDRAW)
    await notify(
        ctx,
        [item.handler_id],
        kind=NotificationKind.COMPLAINT_WITHDRAWN,
        title="诉求已撤回",
        body=f"“{item.title}”已被居民撤回。",
        subject=Subject(SubjectType.COMPLAINT, item.id),
    )
    return item.id


# --- the periodic sweep ----------------------------------------------------------------------


async def sweep(ctx: RequestContext) -> SweepReport:
    """Run by `wanjia jobs run` for one tenant, as the system: flags overdue items (timeline and
    notifications to the handler and the admins) once a deadline, and closes resolved items left
    unconfirmed past the tenant's limit. Safe to run any number of times.

    An item flagged for a late acknowledgement is flagged again once it is acknowledged and past
    its resolve deadline: the handler hears of the second deadline too, and the item is then
    overdue for good (counted by the status rollups), so the live part of the overdue count holds
    only what turned overdue since the last sweep (models.complaints.UNSETTLED_OPEN)."""
    session = session_of(ctx)
    now = ctx.clock()
    report = SweepReport()
    unsettled = unsettled_past_a_deadline(Complaint.id, now)
    overdue = (await session.scalars(select(Complaint).where(one_of_found(ctx, Complaint.id, unsettled)))).all()
    for item in overdue:
        deadline = "办理" if item.resolve_due_at < now else "受理"
        await _system_step(
            ctx, item, ComplaintAction.MARK_OVERDUE, f"已超过{deadline}期限", lambda i: setattr(i, "overdue_at", now)
        )
        recipients = [item.handler_id, *(await admins_of(ctx, item.community_id))]
        if item.department_id:
            recipients += await staff_of(ctx, item.department_id)
        await notify(
            ctx,
            recipients,
            kind=NotificationKind.COMPLAINT_OVERDUE,
            title="诉求超期",
            body=f"“{item.title}”已超过{deadline}期限。",
            subject=Subject(SubjectType.COMPLAINT, item.id),
        )
        report.marked_overdue += 1
    limit = now - timedelta(days=tenant_settings(ctx).complaint_auto_close_days)
    closing = LIFECYCLE.sources(ComplaintAction.AUTO_CLOSE, ComplaintParty.SYSTEM)
    unconfirmed = (
        await session.scalars(select(Complaint).where(Complaint.status.in_(closing), Complaint.resolved_at < limit))
    ).all()
    for item in unconfirmed:
        await _system_step(
            ctx,
            item,
            ComplaintAction.AUTO_CLOSE,
            "居民未在期限内确认，自动关闭",
            lambda i: setattr(i, "closed_at", now),
        )
        await notify(
            ctx,
            [item.resident_id],
            kind=NotificationKind.COMPLAINT_STATUS,
            title="诉求进展",
            body=f"您的诉求“{item.title}”已自动关闭。",
            subject=Subject(SubjectType.COMPLAINT, item.id),
        )
        report.closed += 1
    await session.flush()
    return report


async def _system_step(
    ctx: RequestContext, item: Complaint, action: ComplaintAction, note: str, change: Callable[[Complaint], None]
) -> None:
    """A step the sweep takes, through the same lifecycle as everyone's, on the timeline and in
    the rollups."""
    counted = rollups.tracked(ctx, item)
    before = item.status
    item.status = LIFECYCLE.next_state(action, before, {ComplaintParty.SYSTEM})
    if item.status != before:
        item.updated_at = ctx.clock()
    change(item)
    session_of(ctx).add(
        ComplaintEvent(
            complaint_id=item.id,
            action=action,
            from_status=before,
            to_status=item.status,
            note=note,
            created_at=ctx.clock(),
        )
    )
    await counted.record()
