"""Home visits (入户走访): recorded by the grid worker of the household (or an admin over it),
with findings that may become complaints filed on the household's behalf; care visits due and
overdue by the street office's care tags; coverage per grid.

Care frequencies live in the tenant's settings, not in a table, so "overdue" is computed in SQL
from them: the settings' few distinct frequencies become one condition each, which reads the
same on PostgreSQL and SQLite (no interval arithmetic of either dialect).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, literal, or_, select, union_all

from models.calendar import SHANGHAI
from models.complaints import ComplaintSource
from models.errors import ErrorCode
from models.households import HouseholdMember, HouseholdMemberTag
from models.notifications import NotificationKind, Subject, SubjectType
from models.organisation import Building, Grid, Household
from models.people import ResidentProfile, ResidentStatus, Role
from models.visits import CareReminder, HouseholdVisit, VisitFinding, VisitKind, VisitPhoto
from resolvers import complaints
from resolvers.errors import InputCheck, fail, not_found
from resolvers.households import CURRENT, HOUSEHOLD, care_frequencies, managed, manages
from resolvers.loaders import groups_by_key, loader, pages_by_parent
from resolvers.notifications import admins_of, notify
from resolvers.pagination import Page, PageRequest, checked, paginate
from resolvers.permissions import ADMINS, allowed_to, session_of, viewer_of, visible_rows
from resolvers.rows import Selection, one_of
from resolvers.uploads import IncomingFiles, receive
from tenants.context import RequestContext
from tenants.tokens import Viewer

# A visit recorded "now" on a phone whose clock runs a little ahead is still now.
CLOCK_SKEW = timedelta(minutes=10)


KIND_NAMES = {
    VisitKind.ROUTINE: "日常走访",
    VisitKind.CARE: "关爱走访",
    VisitKind.DISPUTE: "矛盾调解",
    VisitKind.POLICY: "政策宣传",
}


@dataclass(frozen=True, slots=True)
class VisitRow:
    id: uuid.UUID
    household_id: uuid.UUID
    worker_id: uuid.UUID
    kind: VisitKind
    visited_at: datetime
    latitude: float | None
    longitude: float | None
    notes: str
    follow_up_on: date | None


@dataclass(frozen=True, slots=True)
class FindingRow:
    id: uuid.UUID
    visit_id: uuid.UUID
    description: str
    complaint_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class PhotoRow:
    id: uuid.UUID
    visit_id: uuid.UUID
    kind: str
    content_type: str
    size: int
    storage_key: str


@dataclass(frozen=True, slots=True)
class CareDueRow:
    household_id: uuid.UUID
    every_days: int
    since: datetime
    last_visited_at: datetime | None

    @property
    def due_at(self) -> datetime:
        return (self.last_visited_at or self.since) + timedelta(days=self.every_days)


@dataclass(frozen=True, slots=True)
class CoverageRow:
    grid_id: uuid.UUID
    households: int
    visited: int
    care_households: int
    overdue: int


VISIT = Selection(
    VisitRow,
    select(
        HouseholdVisit.id,
        HouseholdVisit.household_id,
        HouseholdVisit.worker_id,
        HouseholdVisit.kind,
        HouseholdVisit.visited_at,
        HouseholdVisit.latitude,
        HouseholdVisit.longitude,
        HouseholdVisit.notes,
        HouseholdVisit.follow_up_on,
    )
    .join(Household, (Household.tenant_id == HouseholdVisit.tenant_id) & (Household.id == HouseholdVisit.household_id))
    .join(Building, (Building.tenant_id == Household.tenant_id) & (Building.id == Household.building_id))
    .join(Grid, (Grid.tenant_id == Building.tenant_id) & (Grid.id == Building.grid_id)),
)
FINDING = Selection(
    FindingRow,
    select(VisitFinding.id, VisitFinding.visit_id, VisitFinding.description, VisitFinding.complaint_id).order_by(
        VisitFinding.id
    ),
)
PHOTO = Selection(
    PhotoRow,
    select(
        VisitPhoto.id,
        VisitPhoto.visit_id,
        VisitPhoto.kind,
        VisitPhoto.content_type,
        VisitPhoto.size,
        VisitPhoto.storage_key,
    ).order_by(VisitPhoto.id),
)
# Newest first: ids are time-ordered, and a visit is recorded soon after it happened.
VISIT_ORDER = (HouseholdVisit.id,)


def _visible_visits(viewer: Viewer) -> ColumnElement[bool]:
    return visible_rows(
        viewer,
        {
            Role.COMMUNITY_ADMIN: lambda v: Grid.community_id.in_(v.community_ids),
            Role.GRID_WORKER: lambda v: or_(Grid.worker_id == v.user_id, HouseholdVisit.worker_id == v.user_id),
        },
    )


async def _visits_by_id(ctx: RequestContext, ids: list[uuid.UUID], viewer: Viewer) -> list[VisitRow | None]:
    rows = await VISIT.where(_visible_visits(viewer), one_of(ctx, HouseholdVisit.id, ids)).all(session_of(ctx))
    found = {row.id: row for row in rows}
    return [found.get(i) for i in ids]


class Loaders:
    visits = _visits_by_id  # per viewer
    findings = groups_by_key(FINDING, VisitFinding.visit_id)
    photos = groups_by_key(PHOTO, VisitPhoto.visit_id)
    visits_of_households = pages_by_parent(VISIT, HouseholdVisit.household_id, VISIT_ORDER)


# --- care visits due ----------------------------------------------------------------------------


def _care_households(ctx: RequestContext) -> tuple[Select[uuid.UUID, int, datetime], list[int]] | None:
    """Each household with a current member whose tag asks for visits: its most demanding
    frequency and since when its members live there. None if the office's tags ask for none."""
    assert ctx.tenant is not None
    asking = {tag: days for tag, days in care_frequencies(ctx.tenant.settings).items() if days}
    if not asking:
        return None
    frequencies = union_all(
        *(select(literal(tag).label("tag"), literal(days).label("days")) for tag, days in sorted(asking.items()))
    ).subquery("care_frequencies")
    care = (
        select(
            HouseholdMember.household_id.label("household_id"),
            func.min(frequencies.c.days).label("every_days"),
            func.min(HouseholdMember.moved_in_at).label("since"),
        )
        .join(
            HouseholdMemberTag,
            (HouseholdMemberTag.tenant_id == HouseholdMember.tenant_id)
            & (HouseholdMemberTag.member_id == HouseholdMember.id),
        )
        .join(frequencies, frequencies.c.tag == HouseholdMemberTag.tag)
        .where(CURRENT)
        .group_by(HouseholdMember.household_id)
    )
    return care, sorted(set(asking.values()))


def _care_due(ctx: RequestContext, by: datetime) -> Selection[CareDueRow] | None:
    """Care households whose next visit is due at or before `by`, joined to their grid."""
    found = _care_households(ctx)
    if found is None:
        return None
    care_query, distinct_days = found
    care = care_query.subquery("care")
    last = (
        select(HouseholdVisit.household_id, func.max(HouseholdVisit.visited_at).label("last_visited_at"))
        .group_by(HouseholdVisit.household_id)
        .subquery("last_visits")
    )
    reference = func.coalesce(last.c.last_visited_at, care.c.since)
    due = or_(false(), *(and_(care.c.every_days == d, reference <= by - timedelta(days=d)) for d in distinct_days))
    return Selection(
        CareDueRow,
        select(care.c.household_id, care.c.every_days, care.c.since, last.c.last_visited_at)
        .select_from(care)
        .join(Household, Household.id == care.c.household_id)
        .join(Building, (Building.tenant_id == Household.tenant_id) & (Building.id == Household.building_id))
        .join(Grid, (Grid.tenant_id == Building.tenant_id) & (Grid.id == Building.grid_id))
        .outerjoin(last, last.c.household_id == care.c.household_id)
        .where(due),
    )


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def care_visits_due(
    ctx: RequestContext, page: PageRequest, within_days: int = 0, *, asked_at: datetime | None = None
) -> Page[CareDueRow]:
    """Care households of the caller's grids (or community) due for a visit within `within_days`
    (0: overdue now). What a grid worker's day lists as visits due. `asked_at`: the moment that
    counts as now, for an export made later than asked (resolvers.exports)."""
    if not 0 <= within_days <= 31:
        raise fail(ErrorCode.INVALID, "天数应为 0–31。", "withinDays")
    due = _care_due(ctx, (asked_at or ctx.clock()) + timedelta(days=within_days))
    if due is None:
        return Page.empty()
    return await paginate(ctx, due.where(managed(viewer_of(ctx))), (Household.id,), page)


async def care_visits_due_by_worker(ctx: RequestContext, worker_ids: list[uuid.UUID]) -> list[int]:
    """For the workday of each worker (a DataLoader's batch): care households of their grids
    due for a visit by this time tomorrow, what careVisitsDue(withinDays: 1) lists to them."""
    due = _care_due(ctx, ctx.clock() + timedelta(days=1))
    if due is None:
        return [0] * len(worker_ids)
    stmt = (
        due.stmt.with_only_columns(Grid.worker_id, func.count())
        .where(Grid.worker_id.in_(worker_ids))
        .group_by(Grid.worker_id)
    )
    counted = {row[0]: int(row[1]) for row in (await session_of(ctx).execute(stmt)).all()}
    return [counted.get(worker, 0) for worker in worker_ids]


# --- recording ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingDraft:
    description: str
    file_as_complaint: bool = False
    category_id: uuid.UUID | None = None


@dataclass(frozen=True)
class VisitDraft:
    household_id: uuid.UUID
    kind: VisitKind
    visited_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None
    notes: str = ""
    follow_up_on: date | None = None
    findings: Sequence[FindingDraft] = ()


async def _filed_for(ctx: RequestContext, household_id: uuid.UUID) -> uuid.UUID | None:
    """The resident a finding is filed for: the household's first verified member with an account."""
    return await session_of(ctx).scalar(
        select(HouseholdMember.user_id)
        .join(
            ResidentProfile,
            (ResidentProfile.tenant_id == HouseholdMember.tenant_id) & (ResidentProfile.id == HouseholdMember.user_id),
        )
        .where(
            HouseholdMember.household_id == household_id,
            CURRENT,
            ResidentProfile.status == ResidentStatus.VERIFIED,
        )
        .order_by(HouseholdMember.id)
        .limit(1)
    )


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def record_visit(ctx: RequestContext, draft: VisitDraft, photos: IncomingFiles) -> uuid.UUID:
    session = session_of(ctx)
    viewer = viewer_of(ctx)
    household = await HOUSEHOLD.where(Household.id == draft.household_id).one_or_none(session)
    if household is None or not manages(ctx, household.community_id, household.worker_id):
        raise not_found("住户", "householdId")
    now = ctx.clock()
    check = InputCheck()
    visited_at = draft.visited_at or now
    check.require(visited_at <= now + CLOCK_SKEW, "visitedAt", "走访时间不能晚于现在。")
    check.require(visited_at >= now - timedelta(days=31), "visitedAt", "只能补录一个月内的走访。")
    if (draft.latitude is None) != (draft.longitude is None):
        check.require(False, "latitude", "经纬度须同时提供。")
    elif draft.latitude is not None and draft.longitude is not None:
        check.require(3.8 <= draft.latitude <= 53.6, "latitude", "纬度不在有效范围内。")
        check.require(73.4 <= draft.longitude <= 135.1, "longitude", "经度不在有效范围内。")
    notes = draft.notes.strip()
    check.require(len(notes) <= 1000, "notes", "走访记录不能超过 1000 字。")
    if draft.follow_up_on is not None:
        check.require(draft.follow_up_on >= visited_at.date(), "followUpOn", "回访日期不能早于走访日期。")
    check.require(len(draft.findings) <= 20, "findings", "一次走访最多记录 20 个问题。")
    descriptions = [
        check.text(finding.description, f"findings.{i}.description", "问题描述", max_length=500)
        for i, finding in enumerate(draft.findings)
    ]
    for i, finding in enumerate(draft.findings):
        if finding.file_as_complaint:
            check.require(finding.category_id is not None, f"findings.{i}.categoryId", "转为诉求须选择诉求类别。")
    check.done()
    stored = await receive(ctx, photos, "photos", "photoIds")
    visit = HouseholdVisit(
        household_id=household.id,
        worker_id=viewer.user_id,
        kind=draft.kind,
        visited_at=visited_at,
        latitude=draft.latitude,
        longitude=draft.longitude,
        notes=notes,
        follow_up_on=draft.follow_up_on,
        recorded_at=now,
    )
    session.add(visit)
    await session.flush()
    session.add_all(
        VisitPhoto(
            visit_id=visit.id,
            kind=file.media.kind,
            content_type=file.media.content_type,
            size=file.size,
            storage_key=file.key,
        )
        for file in stored
    )
    resident_id = await _filed_for(ctx, household.id) if any(f.file_as_complaint for f in draft.findings) else None
    for finding, description in zip(draft.findings, descriptions, strict=True):
        complaint_id = None
        if finding.file_as_complaint:
            complaint_id = await complaints.file_on_behalf(
                ctx,
                complaints.Draft(
                    title=description[:50],
                    content=f"入户走访发现：{description}",
                    category_id=finding.category_id,
                    building_id=household.building_id,
                    address=f"{household.room}室",
                ),
                IncomingFiles(),
                resident_id=resident_id,
                source=ComplaintSource.VISIT,
            )
        session.add(VisitFinding(visit_id=visit.id, description=description, complaint_id=complaint_id))
    await session.flush()
    return visit.id


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitFilter:
    household_id: uuid.UUID | None = None
    grid_id: uuid.UUID | None = None
    worker_id: uuid.UUID | None = None
    kind: VisitKind | None = None
    since: datetime | None = None
    before: datetime | None = None


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def visit(ctx: RequestContext, visit_id: uuid.UUID) -> VisitRow | None:
    return await loader(ctx, Loaders.visits, viewer_of(ctx)).load(visit_id)


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def list_visits(ctx: RequestContext, query: VisitFilter, page: PageRequest) -> Page[VisitRow]:
    visits = VISIT.where(_visible_visits(viewer_of(ctx)))
    if query.household_id is not None:
        visits = visits.where(HouseholdVisit.household_id == query.household_id)
    if query.grid_id is not None:
        visits = visits.where(Grid.id == query.grid_id)
    if query.worker_id is not None:
        visits = visits.where(HouseholdVisit.worker_id == query.worker_id)
    if query.kind is not None:
        visits = visits.where(HouseholdVisit.kind == query.kind)
    if query.since is not None:
        visits = visits.where(HouseholdVisit.visited_at >= query.since)
    if query.before is not None:
        visits = visits.where(HouseholdVisit.visited_at < query.before)
    return await paginate(ctx, visits, VISIT_ORDER, page, descending=True)


async def visits_of(ctx: RequestContext, household_id: uuid.UUID, page: PageRequest) -> Page[VisitRow]:
    """Of a household the caller manages (checked by the caller: households.manages)."""
    return await loader(ctx, Loaders.visits_of_households, checked(ctx, page)).load(household_id)


async def findings_of(ctx: RequestContext, visit_id: uuid.UUID) -> list[FindingRow]:
    return await loader(ctx, Loaders.findings).load(visit_id)


async def photos_of(ctx: RequestContext, visit_id: uuid.UUID) -> list[PhotoRow]:
    return await loader(ctx, Loaders.photos).load(visit_id)


# --- coverage -----------------------------------------------------------------------------------


async def _coverage(
    ctx: RequestContext, grid_ids: list[uuid.UUID], since: datetime, before: datetime
) -> list[CoverageRow]:
    """Three statements for a whole page of grids: households, those visited, care overdue."""
    session = session_of(ctx)
    per_grid = select(Building.grid_id, func.count(func.distinct(Household.id))).join(
        Building, (Building.tenant_id == Household.tenant_id) & (Building.id == Household.building_id)
    )
    totals = dict(
        (await session.execute(per_grid.where(Building.grid_id.in_(grid_ids)).group_by(Building.grid_id))).all()
    )
    visited_in_period = exists().where(
        HouseholdVisit.tenant_id == Household.tenant_id,
        HouseholdVisit.household_id == Household.id,
        HouseholdVisit.visited_at >= since,
        HouseholdVisit.visited_at < before,
    )
    visited = dict(
        (
            await session.execute(
                per_grid.where(Building.grid_id.in_(grid_ids), visited_in_period).group_by(Building.grid_id)
            )
        ).all()
    )
    care: dict[uuid.UUID, int] = {}
    overdue: dict[uuid.UUID, int] = {}
    found = _care_households(ctx)
    if found is not None:
        care_query = found[0].subquery("care")
        care = dict(
            (
                await session.execute(
                    select(Building.grid_id, func.count())
                    .select_from(care_query)
                    .join(Household, Household.id == care_query.c.household_id)
                    .join(
                        Building, (Building.tenant_id == Household.tenant_id) & (Building.id == Household.building_id)
                    )
                    .where(Building.grid_id.in_(grid_ids))
                    .group_by(Building.grid_id)
                )
            ).all()
        )
        due = _care_due(ctx, ctx.clock())
        assert due is not None
        overdue = dict(
            (
                await session.execute(
                    due.stmt.with_only_columns(Grid.id, func.count()).where(Grid.id.in_(grid_ids)).group_by(Grid.id)
                )
            ).all()
        )
    return [
        CoverageRow(
            grid_id=g,
            households=totals.get(g, 0),
            visited=visited.get(g, 0),
            care_households=care.get(g, 0),
            overdue=overdue.get(g, 0),
        )
        for g in grid_ids
    ]


@allowed_to(Role.GRID_WORKER, *ADMINS)
async def coverage(
    ctx: RequestContext, community_id: uuid.UUID | None, since: datetime, before: datetime, page: PageRequest
) -> Page[CoverageRow]:
    """Per grid of the caller's scope (a grid worker's grids, a community admin's community):
    households visited in [since, before) out of all, care households overdue now."""
    if before <= since:
        raise fail(ErrorCode.INVALID, "结束时间应晚于开始时间。", "before")
    viewer = viewer_of(ctx)
    grids = Selection(
        _GridKey,
        select(Grid.id).where(
            visible_rows(
                viewer,
                {
                    Role.COMMUNITY_ADMIN: lambda v: Grid.community_id.in_(v.community_ids),
                    Role.GRID_WORKER: lambda v: Grid.worker_id == v.user_id,
                },
            )
        ),
    )
    if community_id is not None:
        grids = grids.where(Grid.community_id == community_id)
    keys = await paginate(ctx, grids, (Grid.code, Grid.id), page)
    rows = await _coverage(ctx, [key.id for key in keys.rows], since, before)
    return Page(
        rows=rows,
        cursors=keys.cursors,
        has_next_page=keys.has_next_page,
        has_previous_page=keys.has_previous_page,
        total=keys.total,
    )


@dataclass(frozen=True, slots=True)
class _GridKey:
    id: uuid.UUID


# --- the sweep ----------------------------------------------------------------------------------


async def sweep(ctx: RequestContext) -> int:
    """Tells each overdue care household's grid worker and admins, once per missed visit (a
    reminder newer than the household's last visit stops another). Returns how many."""
    session = session_of(ctx)
    now = ctx.clock()
    due = _care_due(ctx, now)
    if due is None:
        return 0
    overdue = await due.all(session)
    if not overdue:
        return 0
    reminded = {
        row.household_id: row.at
        for row in (
            await session.execute(
                select(CareReminder.household_id, func.max(CareReminder.reminded_at).label("at"))
                .where(CareReminder.household_id.in_([row.household_id for row in overdue]))
                .group_by(CareReminder.household_id)
            )
        ).all()
    }
    places = {
        row.id: row
        for row in await HOUSEHOLD.where(Household.id.in_([row.household_id for row in overdue])).all(session)
    }
    told = 0
    for row in overdue:
        last_reminder = reminded.get(row.household_id)
        if last_reminder is not None and last_reminder >= (row.last_visited_at or row.since):
            continue
        place = places[row.household_id]
        await notify(
            ctx,
            [place.worker_id, *(await admins_of(ctx, place.community_id))],
            kind=NotificationKind.CARE_VISIT_OVERDUE,
            title="关爱走访超期",
            body=f"{place.room}室应于{row.due_at.astimezone(SHANGHAI):%m月%d日}前走访，已超期。",
            subject=Subject(SubjectType.HOUSEHOLD, row.household_id),
        )
        session.add(CareReminder(household_id=row.household_id, reminded_at=now))
        told += 1
    await session.flush()
    return told
