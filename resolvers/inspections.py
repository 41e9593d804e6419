"""Inspection rounds (巡检记录): a grid worker starts a round in one of their grids with one of
the office's checklists, records each item as fine or a problem, and finishes once every item is
recorded. A problem is filed at once as a complaint in the round's grid (source INSPECTION)
through the complaints' own use case, so it is routed, timed and closed like any other; the
finding keeps the complaint's id, and the complaint's status says whether the hazard is open.

Who sees rounds: grid workers the rounds of their grids and their own; community admins their
community's; tenant admins all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from models.complaints import OPEN, Attachment, Complaint, ComplaintSource, ComplaintStatus
from models.errors import ErrorCode
from models.geometry import GeoPoint, in_china
from models.inspections import (
    ROUND_LIFECYCLE,
    Checklist,
    ChecklistItem,
    Finding,
    FindingOutcome,
    InspectionRound,
    RoundAction,
    RoundParty,
    RoundStatus,
)
from models.organisation import Grid
from models.people import Role
from resolvers import complaints
from resolvers.errors import DomainError, InputCheck, fail, not_found
from resolvers.loaders import batch_by_key, groups_by_key, loader, pages_by_parent
from resolvers.pagination import Page, PageRequest, checked, paginate
from resolvers.permissions import ADMINS, allowed_to, session_of, viewer_of, visible_rows
from resolvers.rows import Selection, one_of
from resolvers.steps import Steps
from resolvers.uploads import IncomingFiles, receive_photo
from tenants.context import RequestContext
from tenants.tokens import Viewer

STATUS_NAMES = {RoundStatus.IN_PROGRESS: "巡检中", RoundStatus.FINISHED: "已完成", RoundStatus.ABANDONED: "已放弃"}
ACTION_NAMES = {RoundAction.RECORD_ITEM: "记录检查项", RoundAction.FINISH: "完成巡检", RoundAction.ABANDON: "放弃巡检"}
OUTCOME_NAMES = {FindingOutcome.FINE: "正常", FindingOutcome.PROBLEM: "有问题"}
# A problem's complaint in one of these no longer needs anyone's work.
SETTLED = frozenset({ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED})


def _all_recorded(ctx: RequestContext, item: RoundRow, _: object) -> DomainError | None:
    if item.items_recorded < item.items_total:
        return fail(
            ErrorCode.INVALID_TRANSITION,
            f"还有 {item.items_total - item.items_recorded} 个检查项未记录，不能完成巡检。",
            "roundId",
        )
    return None


def _items_left(ctx: RequestContext, item: RoundRow, _: object) -> DomainError | None:
    if item.items_recorded >= item.items_total:
        return fail(ErrorCode.INVALID_TRANSITION, "所有检查项都已记录，请完成巡检。", "itemId")
    return None


STEPS: Steps[RoundStatus, RoundAction, RoundParty] = Steps(
    ROUND_LIFECYCLE,
    thing="巡检",
    states=STATUS_NAMES,
    actions=ACTION_NAMES,
    field="roundId",
    guards={RoundAction.RECORD_ITEM: _items_left, RoundAction.FINISH: _all_recorded},
)


@dataclass(frozen=True, slots=True)
class ChecklistRow:
    id: uuid.UUID
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class ItemRow:
    id: uuid.UUID
    checklist_id: uuid.UUID
    code: str
    label: str
    position: int


@dataclass(frozen=True, slots=True)
class RoundRow:
    id: uuid.UUID
    checklist_id: uuid.UUID
    grid_id: uuid.UUID
    community_id: uuid.UUID
    worker_id: uuid.UUID
    status: RoundStatus
    started_at: datetime
    ended_at: datetime | None
    checklist_name: str
    items_total: int
    items_recorded: int
    problems: int
    problems_settled: int


@dataclass(frozen=True, slots=True)
class FindingRow:
    id: uuid.UUID
    round_id: uuid.UUID
    item_id: uuid.UUID
    outcome: FindingOutcome
    note: str | None
    longitude: float | None
    latitude: float | None
    storage_key: str | None
    complaint_id: uuid.UUID | None
    recorded_at: datetime
    item_label: str
    complaint_status: ComplaintStatus | None
    grid_id: uuid.UUID


CHECKLIST = Selection(ChecklistRow, select(Checklist.id, Checklist.code, Checklist.name))
ITEM = Selection(
    ItemRow,
    select(
        ChecklistItem.id, ChecklistItem.checklist_id, ChecklistItem.code, ChecklistItem.label, ChecklistItem.position
    ),
)

_items_total = (
    select(func.count())
    .where(ChecklistItem.checklist_id == InspectionRound.checklist_id)
    .correlate(InspectionRound)
    .scalar_subquery()
)
_recorded = (
    select(func.count()).select_from(Finding).where(Finding.round_id == InspectionRound.id).correlate(InspectionRound)
)
_problems = _recorded.where(Finding.outcome == FindingOutcome.PROBLEM)
_settled = _problems.join(
    Complaint, (Complaint.tenant_id == Finding.tenant_id) & (Complaint.id == Finding.complaint_id)
).where(Complaint.status.in_(SETTLED))
ROUND = Selection(
    RoundRow,
    select(
        InspectionRound.id,
        InspectionRound.checklist_id,
        InspectionRound.grid_id,
        InspectionRound.community_id,
        InspectionRound.worker_id,
        InspectionRound.status,
        InspectionRound.started_at,
        InspectionRound.ended_at,
        Checklist.name.label("checklist_name"),
        _items_total.label("items_total"),
        _recorded.scalar_subquery().label("items_recorded"),
        _problems.scalar_subquery().label("problems"),
        _settled.scalar_subquery().label("problems_settled"),
    ).join(
        Checklist,
        (Checklist.tenant_id == InspectionRound.tenant_id) & (Checklist.id == InspectionRound.checklist_id),
    ),
)
FINDING = Selection(
    FindingRow,
    select(
        Finding.id,
        Finding.round_id,
        Finding.item_id,
        Finding.outcome,
        Finding.note,
        Finding.longitude,
        Finding.latitude,
        Finding.storage_key,
        Finding.complaint_id,
        Finding.recorded_at,
        ChecklistItem.label.label("item_label"),
        Complaint.status.label("complaint_status"),
        InspectionRound.grid_id,
    )
    .join(ChecklistItem, (ChecklistItem.tenant_id == Finding.tenant_id) & (ChecklistItem.id == Finding.item_id))
    .join(InspectionRound, (InspectionRound.tenant_id == Finding.tenant_id) & (InspectionRound.id == Finding.round_id))
    .outerjoin(Complaint, (Complaint.tenant_id == Finding.tenant_id) & (Complaint.id == Finding.complaint_id)),
)
FINDING_ORDER = (Finding.recorded_at, Finding.id)


def in_scope(viewer: Viewer) -> ColumnElement[bool]:
    return visible_rows(
        viewer,
        {
            Role.COMMUNITY_ADMIN: lambda v: InspectionRound.community_id.in_(v.community_ids),
            Role.GRID_WORKER: lambda v: or_(
                InspectionRound.worker_id == v.user_id,
                InspectionRound.grid_id.in_(select(Grid.id).where(Grid.worker_id == v.user_id)),
            ),
        },
    )


def parties(viewer: Viewer, item: RoundRow) -> set[RoundParty]:
    found = set()
    if Role.GRID_WORKER in viewer.roles and item.worker_id == viewer.user_id:
        found.add(RoundParty.INSPECTOR)
    if viewer.administers(item.community_id):
        found.add(RoundParty.ADMIN)
    return found


def viewer_can(ctx: RequestContext, row: RoundRow) -> frozenset[RoundAction]:
    viewer = viewer_of(ctx)
    return STEPS.available(ctx, row, parties(viewer, row))


async def _rounds(ctx: RequestContext, ids: list[uuid.UUID], viewer: Viewer) -> list[RoundRow | None]:
    found = {
        r.id: r for r in await ROUND.where(one_of(ctx, InspectionRound.id, ids), in_scope(viewer)).all(session_of(ctx))
    }
    return [found.get(i) for i in ids]


async def _round_of_complaints(ctx: RequestContext, complaint_ids: list[uuid.UUID]) -> list[uuid.UUID | None]:
    rows = (
        await session_of(ctx).execute(
            select(Finding.complaint_id, Finding.round_id).where(Finding.complaint_id.in_(complaint_ids))
        )
    ).all()
    found = {row.complaint_id: row.round_id for row in rows}
    return [found.get(i) for i in complaint_ids]


class Loaders:
    checklists = batch_by_key(CHECKLIST, Checklist.id)
    items = batch_by_key(ITEM, ChecklistItem.id)
    items_of_checklists = groups_by_key(ITEM.order_by(ChecklistItem.position), ChecklistItem.checklist_id)
    rounds = _rounds  # per viewer
    findings_of_rounds = pages_by_parent(FINDING, Finding.round_id, FINDING_ORDER)
    round_of_complaints = _round_of_complaints


# --- reading ----------------------------------------------------------------------------------

STAFF_WHO_INSPECT = (Role.GRID_WORKER, *ADMINS)


@allowed_to(*STAFF_WHO_INSPECT)
async def list_checklists(ctx: RequestContext, page: PageRequest) -> Page[ChecklistRow]:
    return await paginate(ctx, CHECKLIST, (Checklist.code, Checklist.id), page)


@allowed_to(*STAFF_WHO_INSPECT)
async def checklist(ctx: RequestContext, checklist_id: uuid.UUID) -> ChecklistRow | None:
    return await loader(ctx, Loaders.checklists).load(checklist_id)


@allowed_to(*STAFF_WHO_INSPECT)
async def checklist_item(ctx: RequestContext, item_id: uuid.UUID) -> ItemRow | None:
    return await loader(ctx, Loaders.items).load(item_id)


async def items_of(ctx: RequestContext, checklist_id: uuid.UUID) -> list[ItemRow]:
    """A checklist's items in order (a checklist is only reached through a scoped use case)."""
    return await loader(ctx, Loaders.items_of_checklists).load(checklist_id)


@allowed_to(*Role)
async def inspection_round(ctx: RequestContext, round_id: uuid.UUID) -> RoundRow | None:
    viewer = viewer_of(ctx)
    return await loader(ctx, Loaders.rounds, viewer).load(round_id)


@allowed_to(*Role)
async def finding(ctx: RequestContext, finding_id: uuid.UUID) -> FindingRow | None:
    return await FINDING.where(Finding.id == finding_id, in_scope(viewer_of(ctx))).one_or_none(session_of(ctx))


async def round_of_complaint(ctx: RequestContext, complaint_id: uuid.UUID) -> RoundRow | None:
    """The round a complaint was found on, if the caller may see it."""
    round_id = await loader(ctx, Loaders.round_of_complaints).load(complaint_id)
    return await inspection_round(ctx, round_id) if round_id is not None and ctx.viewer else None


async def findings_of(ctx: RequestContext, round_id: uuid.UUID, page: PageRequest) -> Page[FindingRow]:
    """Of a round the caller was given by `inspection_round` (the type is reached only so)."""
    return await loader(ctx, Loaders.findings_of_rounds, checked(ctx, page)).load(round_id)


@dataclass(frozen=True)
class RoundFilter:
    worker_id: uuid.UUID | None = None
    grid_id: uuid.UUID | None = None
    community_id: uuid.UUID | None = None
    statuses: tuple[RoundStatus, ...] = ()
    started_from: datetime | None = None
    started_to: datetime | None = None


@allowed_to(*STAFF_WHO_INSPECT)
async def list_rounds(ctx: RequestContext, query: RoundFilter, page: PageRequest) -> Page[RoundRow]:
    """Newest first, inside the caller's scope: by worker, grid, community and time."""
    rounds = ROUND.where(in_scope(viewer_of(ctx)))
    if query.worker_id:
        rounds = rounds.where(InspectionRound.worker_id == query.worker_id)
    if query.grid_id:
        rounds = rounds.where(InspectionRound.grid_id == query.grid_id)
    if query.community_id:
        rounds = rounds.where(InspectionRound.community_id == query.community_id)
    if query.statuses:
        rounds = rounds.where(InspectionRound.status.in_(query.statuses))
    if query.started_from:
        rounds = rounds.where(InspectionRound.started_at >= query.started_from)
    if query.started_to:
        rounds = rounds.where(InspectionRound.started_at < query.started_to)
    return await paginate(ctx, rounds, (InspectionRound.started_at, InspectionRound.id), page, descending=True)


@allowed_to(*STAFF_WHO_INSPECT)
async def open_hazards(
    ctx: RequestContext, grid_id: uuid.UUID | None, community_id: uuid.UUID | None, page: PageRequest
) -> Page[FindingRow]:
    """Problems found on rounds whose complaints are still open, oldest first."""
    hazards = FINDING.where(in_scope(viewer_of(ctx)), Complaint.status.in_(OPEN))
    if grid_id:
        hazards = hazards.where(InspectionRound.grid_id == grid_id)
    if community_id:
        hazards = hazards.where(InspectionRound.community_id == community_id)
    return await paginate(ctx, hazards, FINDING_ORDER, page)


@dataclass(frozen=True, slots=True)
class GridTallyRow:
    grid_id: uuid.UUID
    worker_id: uuid.UUID | None
    rounds: int
    rounds_finished: int
    problems: int
    hazards_open: int


def _grids_in_scope(viewer: Viewer) -> ColumnElement[bool]:
    return visible_rows(
        viewer,
        {
            Role.COMMUNITY_ADMIN: lambda v: Grid.community_id.in_(v.community_ids),
            Role.GRID_WORKER: lambda v: Grid.worker_id == v.user_id,
        },
    )


@allowed_to(*STAFF_WHO_INSPECT)
async def tally_by_grid(
    ctx: RequestContext, community_id: uuid.UUID | None, started_from: datetime, started_to: datetime, page: PageRequest
) -> Page[GridTallyRow]:
    """Per grid in the caller's scope, by code: the rounds started in the window, finished, the
    problems they found and how many of those are still open."""
    in_window = (
        (InspectionRound.grid_id == Grid.id)
        & (InspectionRound.started_at >= started_from)
        & (InspectionRound.started_at < started_to)
    )
    rounds = select(func.count()).select_from(InspectionRound).where(in_window).correlate(Grid)
    found = (
        select(func.count())
        .select_from(Finding)
        .join(
            InspectionRound, (InspectionRound.tenant_id == Finding.tenant_id) & (InspectionRound.id == Finding.round_id)
        )
        .where(in_window, Finding.outcome == FindingOutcome.PROBLEM)
        .correlate(Grid)
    )
    still_open = found.join(
        Complaint, (Complaint.tenant_id == Finding.tenant_id) & (Complaint.id == Finding.complaint_id)
    ).where(Complaint.status.in_(OPEN))
    tally = Selection(
        GridTallyRow,
        select(
            Grid.id.label("grid_id"),
            Grid.worker_id,
            rounds.scalar_subquery().label("rounds"),
            rounds.where(InspectionRound.status == RoundStatus.FINISHED).scalar_subquery().label("rounds_finished"),
            found.scalar_subquery().label("problems"),
            still_open.scalar_subquery().label("hazards_open"),
        ).where(_grids_in_scope(viewer_of(ctx))),
    )
    if community_id:
        tally = tally.where(Grid.community_id == community_id)
    return await paginate(ctx, tally, (Grid.code, Grid.id), page)


# --- walking a round --------------------------------------------------------------------------


@allowed_to(Role.GRID_WORKER)
async def start_round(ctx: RequestContext, grid_id: uuid.UUID, checklist_id: uuid.UUID) -> uuid.UUID:
    session = session_of(ctx)
    viewer = viewer_of(ctx)
    grid = (
        await session.execute(select(Grid.id, Grid.community_id, Grid.worker_id).where(Grid.id == grid_id))
    ).one_or_none()
    if grid is None:
        raise not_found("网格", "gridId")
    if grid.worker_id != viewer.user_id:
        raise fail(ErrorCode.OUT_OF_SCOPE, "只能在您负责的网格巡检。", "gridId")
    if await checklist(ctx, checklist_id) is None:
        raise not_found("巡检清单", "checklistId")
    row = InspectionRound(
        checklist_id=checklist_id,
        grid_id=grid_id,
        community_id=grid.community_id,
        worker_id=viewer.user_id,
        status=RoundStatus.IN_PROGRESS,
        started_at=ctx.clock(),
    )
    session.add(row)
    await session.flush()
    return row.id


async def _to_change(ctx: RequestContext, round_id: uuid.UUID, action: RoundAction) -> tuple[InspectionRound, RoundRow]:
    viewer = viewer_of(ctx)
    found = await inspection_round(ctx, round_id)
    row = await session_of(ctx).get(InspectionRound, (ctx.tenant_id, round_id)) if found else None
    if found is None or row is None:
        raise not_found("巡检", "roundId")
    row.status = STEPS.next_state(ctx, action, found, parties(viewer, found))
    return row, found


@dataclass(frozen=True)
class FindingDraft:
    item_id: uuid.UUID
    outcome: FindingOutcome
    note: str | None = None
    longitude: float | None = None
    latitude: float | None = None
    building_id: uuid.UUID | None = None
    address: str | None = None


def _checked_finding(draft: FindingDraft) -> str | None:
    check = InputCheck()
    note = check.text(draft.note or "", "note", "说明", min_length=0, max_length=500) or None
    if draft.outcome is FindingOutcome.PROBLEM:
        check.require(note is not None, "note", "有问题的检查项请写明情况。")
    if (draft.longitude is None) != (draft.latitude is None):
        check.require(False, "latitude", "经纬度须同时提供。")
    elif draft.longitude is not None and draft.latitude is not None:
        check.require(
            in_china(GeoPoint(draft.longitude, draft.latitude)),
            "longitude",
            "位置不在有效范围内（应为 GCJ-02 经纬度）。",
        )
    check.done()
    return note


async def _item(ctx: RequestContext, checklist_id: uuid.UUID, item_id: uuid.UUID) -> Row[str, uuid.UUID]:
    found = (
        await session_of(ctx).execute(
            select(ChecklistItem.label, ChecklistItem.category_id).where(
                ChecklistItem.id == item_id, ChecklistItem.checklist_id == checklist_id
            )
        )
    ).one_or_none()
    if found is None:
        raise not_found("检查项", "itemId")
    return found


@allowed_to(Role.GRID_WORKER)
async def record_item(ctx: RequestContext, round_id: uuid.UUID, draft: FindingDraft, photo: IncomingFiles) -> uuid.UUID:
    """Records one item of the round; a problem is filed as a complaint in the round's grid
    (with the photo), found by its inspector."""
    session = session_of(ctx)
    row, found = await _to_change(ctx, round_id, RoundAction.RECORD_ITEM)
    note = _checked_finding(draft)
    item = await _item(ctx, row.checklist_id, draft.item_id)
    complaint_id = None
    key = None
    if draft.outcome is FindingOutcome.PROBLEM:
        complaint_id = await complaints.file_on_behalf(
            ctx,
            complaints.Draft(
                title=f"巡检发现：{item.label}"[: complaints.TITLE_MAX],
                content=note or item.label,
                category_id=item.category_id,
                building_id=draft.building_id,
                grid_id=None if draft.building_id else row.grid_id,
                address=draft.address or "巡检途中发现",
                latitude=draft.latitude,
                longitude=draft.longitude,
            ),
            photo,
            resident_id=None,
            source=ComplaintSource.INSPECTION,
        )
        key = await session.scalar(
            select(Attachment.storage_key).where(Attachment.complaint_id == complaint_id).limit(1)
        )
    else:
        key = await receive_photo(ctx, photo, "photo", "photoId", "照片")
    session.add(
        Finding(
            round_id=round_id,
            item_id=draft.item_id,
            outcome=draft.outcome,
            note=note,
            longitude=draft.longitude,
            latitude=draft.latitude,
            storage_key=key,
            complaint_id=complaint_id,
            recorded_at=ctx.clock(),
        )
    )
    try:
        await session.flush()
    except (IntegrityError, StaleDataError) as error:
        raise fail(ErrorCode.DUPLICATE, "该检查项已记录。", "itemId") from error
    return found.id


@allowed_to(Role.GRID_WORKER)
async def finish_round(ctx: RequestContext, round_id: uuid.UUID) -> uuid.UUID:
    return await _end(ctx, round_id, RoundAction.FINISH)


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def abandon_round(ctx: RequestContext, round_id: uuid.UUID) -> uuid.UUID:
    return await _end(ctx, round_id, RoundAction.ABANDON)


async def _end(ctx: RequestContext, round_id: uuid.UUID, action: RoundAction) -> uuid.UUID:
    row, _ = await _to_change(ctx, round_id, action)
    row.ended_at = ctx.clock()
    try:
        await session_of(ctx).flush()
    except StaleDataError as error:
        raise fail(ErrorCode.CONFLICT, "该巡检刚刚被他人修改，请刷新后重试。", "roundId") from error
    return round_id


def people_shown(viewer: Viewer, now: datetime) -> Select[Any]:
    """The inspectors of rounds in the caller's scope: shown to them (people.visible_person)."""
    return select(InspectionRound.worker_id).where(in_scope(viewer))
