"""Building leaders (楼栋长): appointed and dismissed by their community's admins, shown on the
board to everyone, and reaching the residents and complaints of their buildings while they serve.

The role travels in the leader's access token like any other (a grant of `building_leader`,
given on the first appointment and taken on the last dismissal, each ending the person's
sessions so their next token says so); which buildings it reaches is read from the terms being
served at each request (models.leaders.serving), so a term that ends needs nobody to act.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, delete, exists, select
from sqlalchemy.exc import IntegrityError

from models.database import breaks_an_exclusion
from models.errors import ErrorCode
from models.leaders import BuildingLeader, BuildingLeaderEvent, LeaderAction, local_date, serving
from models.notifications import NotificationKind, Subject, SubjectType
from models.organisation import Building, Grid
from models.people import ResidentProfile, ResidentStatus, Role, RoleGrant, User
from resolvers.auth import end_sessions
from resolvers.errors import InputCheck, fail, not_found
from resolvers.loaders import loader, pages_per_parent
from resolvers.notifications import notify
from resolvers.pagination import Page, PageRequest, checked, paginate
from resolvers.people import RESIDENT, ResidentRow
from resolvers.permissions import ADMINS, ANYONE, allowed_to, session_of, viewer_of, visible_rows
from resolvers.rows import Selection, one_of
from tenants.context import RequestContext
from tenants.tokens import Viewer

ACTION_NAMES = {LeaderAction.APPOINT: "任命", LeaderAction.DISMISS: "免去"}
REASON_MAX = 200
# How long one term may last: a community's leaders are re-appointed every few years.
LONGEST_TERM_DAYS = 5 * 366
ALREADY_LEADER = "该居民在所选任期内已是该楼栋的楼栋长。"


@dataclass(frozen=True, slots=True)
class TermRow:
    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    phone: str
    building_id: uuid.UUID
    community_id: uuid.UUID
    starts_on: date
    ends_on: date
    appointed_at: datetime
    dismissed_at: datetime | None
    dismissal_reason: str | None


@dataclass(frozen=True, slots=True)
class TermEventRow:
    id: uuid.UUID
    action: LeaderAction
    actor_name: str | None
    note: str | None
    created_at: datetime


TERM = Selection(
    TermRow,
    select(
        BuildingLeader.id,
        BuildingLeader.user_id,
        User.name,
        User.phone,
        BuildingLeader.building_id,
        BuildingLeader.community_id,
        BuildingLeader.starts_on,
        BuildingLeader.ends_on,
        BuildingLeader.appointed_at,
        BuildingLeader.dismissed_at,
        BuildingLeader.dismissal_reason,
    ).join(User, (User.tenant_id == BuildingLeader.tenant_id) & (User.id == BuildingLeader.user_id)),
)
TERM_EVENT = Selection(
    TermEventRow,
    select(
        BuildingLeaderEvent.id,
        BuildingLeaderEvent.action,
        User.name.label("actor_name"),
        BuildingLeaderEvent.note,
        BuildingLeaderEvent.created_at,
    ).outerjoin(User, (User.tenant_id == BuildingLeaderEvent.tenant_id) & (User.id == BuildingLeaderEvent.actor_id)),
)
TERM_ORDER = (BuildingLeader.id,)
RESIDENT_ORDER = (ResidentProfile.id,)
VERIFIED_RESIDENT = RESIDENT.where(ResidentProfile.status == ResidentStatus.VERIFIED)


def is_serving(row: TermRow, now: datetime) -> bool:
    today = local_date(now)
    return row.dismissed_at is None and row.starts_on <= today <= row.ends_on


def _terms_in_scope(viewer: Viewer | None, now: datetime) -> ColumnElement[bool]:
    """Terms being served are on the public board; admins see every term of their community,
    a leader their own."""
    if viewer is None:
        return serving(now)
    return serving(now) | visible_rows(
        viewer,
        {
            Role.COMMUNITY_ADMIN: lambda v: BuildingLeader.community_id.in_(v.community_ids),
            Role.RESIDENT: lambda v: BuildingLeader.user_id == v.user_id,
        },
    )


def _administered(viewer: Viewer) -> ColumnElement[bool]:
    return visible_rows(viewer, {Role.COMMUNITY_ADMIN: lambda v: BuildingLeader.community_id.in_(v.community_ids)})


async def _serving_of_buildings(
    ctx: RequestContext, building_ids: list[uuid.UUID], page: PageRequest
) -> list[Page[TermRow]]:
    pages = await pages_per_parent(
        ctx, TERM.where(serving(ctx.clock())), BuildingLeader.building_id, building_ids, TERM_ORDER, page
    )
    return [pages[building_id] for building_id in building_ids]


async def _terms(ctx: RequestContext, ids: list[uuid.UUID], viewer: Viewer | None) -> list[TermRow | None]:
    rows = await TERM.where(one_of(ctx, BuildingLeader.id, ids), _terms_in_scope(viewer, ctx.clock())).all(
        session_of(ctx)
    )
    found = {row.id: row for row in rows}
    return [found.get(i) for i in ids]


async def _timelines(ctx: RequestContext, term_ids: list[uuid.UUID], page: PageRequest) -> list[Page[TermEventRow]]:
    pages = await pages_per_parent(
        ctx, TERM_EVENT, BuildingLeaderEvent.term_id, term_ids, (BuildingLeaderEvent.id,), page
    )
    return [pages[term_id] for term_id in term_ids]


async def _residents_of_buildings(
    ctx: RequestContext, building_ids: list[uuid.UUID], page: PageRequest
) -> list[Page[ResidentRow]]:
    pages = await pages_per_parent(
        ctx, VERIFIED_RESIDENT, ResidentProfile.building_id, building_ids, RESIDENT_ORDER, page
    )
    return [pages[building_id] for building_id in building_ids]


class Loaders:
    """This domain's batches: one statement per kind per request (resolvers.loaders.loader)."""

    serving_of_buildings = _serving_of_buildings  # per page
    terms = _terms  # per viewer
    timelines = _timelines  # per page
    residents_of_buildings = _residents_of_buildings  # per page


# --- reading ---------------------------------------------------------------------------------


@allowed_to(ANYONE)
async def leaders_of_building(ctx: RequestContext, building_id: uuid.UUID, page: PageRequest) -> Page[TermRow]:
    """The building's leaders serving now, as the board shows them to anyone."""
    return await loader(ctx, Loaders.serving_of_buildings, checked(ctx, page)).load(building_id)


@allowed_to(ANYONE)
async def term(ctx: RequestContext, term_id: uuid.UUID) -> TermRow | None:
    return await loader(ctx, Loaders.terms, ctx.viewer).load(term_id)


@allowed_to(*ADMINS)
async def list_terms(
    ctx: RequestContext,
    page: PageRequest,
    *,
    community_id: uuid.UUID | None,
    building_id: uuid.UUID | None,
    serving_only: bool,
) -> Page[TermRow]:
    """An admin's register of leaders, past and present, newest appointment first."""
    viewer = viewer_of(ctx)
    now = ctx.clock()
    found = TERM.where(_administered(viewer))
    if community_id is not None:
        found = found.where(BuildingLeader.community_id == community_id)
    if building_id is not None:
        found = found.where(BuildingLeader.building_id == building_id)
    if serving_only:
        found = found.where(serving(now))
    return await paginate(ctx, found, TERM_ORDER, page, descending=True)


@allowed_to(Role.RESIDENT)
async def my_terms(ctx: RequestContext, page: PageRequest) -> Page[TermRow]:
    """The caller's own terms as a leader, past, present and to come."""
    mine = TERM.where(BuildingLeader.user_id == viewer_of(ctx).user_id)
    return await paginate(ctx, mine, TERM_ORDER, page, descending=True)


@allowed_to(ANYONE)
async def timeline(ctx: RequestContext, row: TermRow, page: PageRequest) -> Page[TermEventRow]:
    """A term's appointments and dismissal: for admins over it and the leader themself."""
    viewer = ctx.viewer
    if viewer is None or not (viewer.administers(row.community_id) or viewer.user_id == row.user_id):
        return Page.empty()
    return await loader(ctx, Loaders.timelines, checked(ctx, page)).load(row.id)


@allowed_to(ANYONE)
async def residents_of_term(ctx: RequestContext, row: TermRow, page: PageRequest) -> Page[ResidentRow]:
    """The verified residents of the term's building: for its leader while they serve it, and
    for admins over it; phones masked as for grid workers (people.shown_phone). Nothing for
    anyone else, who sees the term on the board."""
    viewer = ctx.viewer
    if viewer is None:
        return Page.empty()
    if not viewer.administers(row.community_id) and not (
        viewer.user_id == row.user_id and Role.BUILDING_LEADER in viewer.roles and is_serving(row, ctx.clock())
    ):
        return Page.empty()
    return await loader(ctx, Loaders.residents_of_buildings, checked(ctx, page)).load(row.building_id)


# --- appointing and dismissing ---------------------------------------------------------------


async def _has_grant(ctx: RequestContext, user_id: uuid.UUID) -> bool:
    grant = select(RoleGrant.id).where(RoleGrant.user_id == user_id, RoleGrant.role == Role.BUILDING_LEADER)
    return bool(await session_of(ctx).scalar(select(exists(grant))))


@allowed_to(*ADMINS)
async def appoint(
    ctx: RequestContext, *, resident_id: uuid.UUID, building_id: uuid.UUID, starts_on: date, ends_on: date
) -> uuid.UUID:
    """An admin over the building's community appoints one of the tenant's verified residents
    as its leader for a term (the days included). A term may begin later, not earlier than
    today; one resident holds at most one term at a time over one building."""
    session = session_of(ctx)
    viewer = viewer_of(ctx)
    now = ctx.clock()
    check = InputCheck()
    place = (
        await session.execute(
            select(Building.id, Grid.community_id)
            .join(Grid, (Grid.tenant_id == Building.tenant_id) & (Grid.id == Building.grid_id))
            .where(Building.id == building_id)
        )
    ).one_or_none()
    check.require(place is not None, "buildingId", "请从列表中选择楼栋。", ErrorCode.NOT_FOUND)
    if place is not None:
        check.require(
            viewer.administers(place.community_id), "buildingId", "只能任命本社区楼栋的楼栋长。", ErrorCode.OUT_OF_SCOPE
        )
    resident = await session.scalar(
        select(ResidentProfile.id).where(
            ResidentProfile.id == resident_id, ResidentProfile.status == ResidentStatus.VERIFIED
        )
    )
    check.require(resident is not None, "residentId", "请选择本街道已核实的居民。", ErrorCode.NOT_FOUND)
    check.require(starts_on >= local_date(now), "startsOn", "任期不能从过去开始。")
    check.require(starts_on <= ends_on, "endsOn", "任期结束日期应不早于开始日期。")
    check.require((ends_on - starts_on).days <= LONGEST_TERM_DAYS, "endsOn", "一届任期最长五年。")
    check.done()
    assert place is not None
    overlapping = select(BuildingLeader.id).where(
        BuildingLeader.user_id == resident_id,
        BuildingLeader.building_id == building_id,
        BuildingLeader.dismissed_at.is_(None),
        BuildingLeader.starts_on <= ends_on,
        BuildingLeader.ends_on >= starts_on,
    )
    if await session.scalar(select(exists(overlapping))):
        raise fail(ErrorCode.ALREADY_LEADER, ALREADY_LEADER, "residentId")
    row = BuildingLeader(
        user_id=resident_id,
        building_id=building_id,
        community_id=place.community_id,
        starts_on=starts_on,
        ends_on=ends_on,
        appointed_by_id=viewer.user_id,
        appointed_at=now,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as error:
        # An appointment of the same resident and building made at the same moment won.
        if breaks_an_exclusion(error):
            raise fail(ErrorCode.ALREADY_LEADER, ALREADY_LEADER, "residentId") from error
        raise
    _record(ctx, row.id, LeaderAction.APPOINT, f"任期 {starts_on.isoformat()} 至 {ends_on.isoformat()}")
    if not await _has_grant(ctx, resident_id):
        session.add(RoleGrant(user_id=resident_id, role=Role.BUILDING_LEADER))
        # Access tokens carry roles: the leader's next one (after a refresh) carries this one.
        await end_sessions(ctx, resident_id)
    await session.flush()
    await notify(
        ctx,
        [resident_id],
        kind=NotificationKind.BUILDING_LEADER_APPOINTED,
        title="楼栋长任命",
        body=f"您被任命为楼栋长，任期 {starts_on.isoformat()} 至 {ends_on.isoformat()}。",
        subject=Subject(SubjectType.BUILDING_LEADER, row.id),
    )
    return row.id


@allowed_to(*ADMINS)
async def dismiss(ctx: RequestContext, *, term_id: uuid.UUID, reason: str) -> uuid.UUID:
    """An admin over the term's community ends it now, with a reason the leader is told. Their
    reach over that building ends with this request's commit; the role itself goes with their
    last term."""
    session = session_of(ctx)
    viewer = viewer_of(ctx)
    now = ctx.clock()
    check = InputCheck()
    reason = check.text(reason, "reason", "免职原因", max_length=REASON_MAX)
    check.done()
    row = await session.scalar(
        select(BuildingLeader).where(
            BuildingLeader.id == term_id,
            _administered(viewer),
        )
    )
    if row is None:
        raise not_found("楼栋长任期", "leaderId")
    if row.dismissed_at is not None or row.ends_on < local_date(now):
        raise fail(ErrorCode.INVALID_TRANSITION, "该任期已结束，不能再免去。", "leaderId")
    row.dismissed_at = now
    row.dismissed_by_id = viewer.user_id
    row.dismissal_reason = reason
    await session.flush()
    _record(ctx, row.id, LeaderAction.DISMISS, reason)
    remaining = select(BuildingLeader.id).where(
        BuildingLeader.user_id == row.user_id,
        BuildingLeader.dismissed_at.is_(None),
        BuildingLeader.ends_on >= local_date(now),
    )
    if not await session.scalar(select(exists(remaining))):
        await session.execute(
            delete(RoleGrant).where(RoleGrant.user_id == row.user_id, RoleGrant.role == Role.BUILDING_LEADER)
        )
        await end_sessions(ctx, row.user_id)
    await session.flush()
    await notify(
        ctx,
        [row.user_id],
        kind=NotificationKind.BUILDING_LEADER_DISMISSED,
        title="楼栋长免职",
        body=f"您的楼栋长职务已免去：{reason}",
        subject=Subject(SubjectType.BUILDING_LEADER, row.id),
    )
    return row.id


def _record(ctx: RequestContext, term_id: uuid.UUID, action: LeaderAction, note: str | None) -> None:
    session_of(ctx).add(
        BuildingLeaderEvent(
            term_id=term_id, action=action, actor_id=viewer_of(ctx).user_id, note=note, created_at=ctx.clock()
        )
    )
