"""Volunteering: registrations and their review, teams, activities and their lifecycle, sign-ups
with a waiting list, check-in by QR code, service hours, the points ledger and rankings.

Who sees what. Activities that are not drafts are public inside the street office (anonymous
callers included), like its rooms; drafts only to their organisers. A volunteer's registration
is theirs and their community admins' (the tenant admin's too); a sign-up is its volunteer's
and the activity's organisers'. Organisers are the admins over the activity's community (the
tenant admins for an activity of the whole street office) and the leaders of its team.

Races. Places are counted on the activity's row (`taken`) and only moved by a conditional
UPDATE (`taken < capacity`), under a CHECK that `taken` never exceeds the capacity: of any
number of sign-ups for the last place, one gets it and the rest queue. The activity's row lock
also orders a cancellation and the promotion of the head of the waiting list. A volunteer's
overlapping activities are refused by an exclusion constraint on PostgreSQL; on SQLite every
writing transaction takes the write lock up front, so the check before writing holds.
"""

from __future__ import annotations

import enum
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlalchemy.orm.exc import StaleDataError

from models.base import new_id
from models.calendar import SHANGHAI
from models.database import breaks_an_exclusion
from models.errors import ErrorCode
from models.lifecycle import TransitionRefused
from models.notifications import NotificationKind, Subject, SubjectType
from models.organisation import Building, Grid
from models.people import ResidentProfile, Role, RoleGrant, User
from models.seals import seal, unseal
from models.volunteers import (
    ACTIVITY_LIFECYCLE,
    HOLDING,
    SEATED,
    SIGNUP_LIFECYCLE,
    VOLUNTEER_LIFECYCLE,
    ActivityAction,
    ActivityParty,
    ActivityStatus,
    Availability,
    PointsEntryKind,
    SignupAction,
    SignupParty,
    SignupStatus,
    Volunteer,
    VolunteerAction,
    VolunteerActivity,
    VolunteerActivityEvent,
    VolunteerMonthlyTotal,
    VolunteerParty,
    VolunteerPointsEntry,
    VolunteerSignup,
    VolunteerStatus,
    VolunteerTeam,
    VolunteerTeamMember,
    points_for,
    served_minutes,
    service_month,
)
from resolvers import organisation
from resolvers.deadlines import tenant_settings
from resolvers.errors import DomainError, InputCheck, fail, not_found, refused
from resolvers.loaders import batch_by_key, loader, pages_per_parent
from resolvers.notifications import admins_of, notify
from resolvers.pagination import Page, PageRequest, checked, paginate
from resolvers.permissions import ADMINS, ANYONE, allowed_to, session_of, viewer_of, visible_rows
from resolvers.rows import Selection, one_of
from resolvers.uploads import IncomingFiles, receive_photo
from resolvers.upserts import upsert
from tenants.context import RequestContext
from tenants.tokens import Viewer

VOLUNTEER_STATUS_NAMES = {
    VolunteerStatus.PENDING: "待审核",
    VolunteerStatus.APPROVED: "已通过",
    VolunteerStatus.REJECTED: "未通过",
}
VOLUNTEER_ACTION_NAMES = {
    VolunteerAction.APPROVE: "审核",
    VolunteerAction.REJECT: "审核",
    VolunteerAction.REAPPLY: "重新申请",
    VolunteerAction.UPDATE_PROFILE: "修改资料",
}
AVAILABILITY_NAMES = {
    Availability.WEEKDAY_MORNING: "工作日上午",
    Availability.WEEKDAY_AFTERNOON: "工作日下午",
    Availability.WEEKDAY_EVENING: "工作日晚上",
    Availability.WEEKEND_MORNING: "周末上午",
    Availability.WEEKEND_AFTERNOON: "周末下午",
    Availability.WEEKEND_EVENING: "周末晚上",
}
ACTIVITY_STATUS_NAMES = {
    ActivityStatus.DRAFT: "草稿",
    ActivityStatus.PUBLISHED: "招募中",
    ActivityStatus.COMPLETED: "已结束",
    ActivityStatus.CANCELLED: "已取消",
}
ACTIVITY_ACTION_NAMES = {
    ActivityAction.CREATE: "创建",
    ActivityAction.UPDATE: "修改",
    ActivityAction.PUBLISH: "发布",
    ActivityAction.SIGN_UP: "报名",
    ActivityAction.CANCEL: "取消",
    ActivityAction.COMPLETE: "结束",
    ActivityAction.REMIND: "活动前提醒",
}
SIGNUP_STATUS_NAMES = {
    SignupStatus.WAITLISTED: "候补中",
    SignupStatus.CONFIRMED: "已报名",
    SignupStatus.CHECKED_IN: "已签到",
    SignupStatus.SERVED: "已签退",
    SignupStatus.CANCELLED: "已取消",
    SignupStatus.ABSENT: "未到场",
}
SIGNUP_ACTION_NAMES = {
    SignupAction.PROMOTE: "候补转正",
    SignupAction.CANCEL: "取消报名",
    SignupAction.CHECK_IN: "签到",
    SignupAction.CHECK_OUT: "签退",
    SignupAction.ADJUST_HOURS: "调整时长",
    SignupAction.MARK_ABSENT: "记为未到场",
}
POINTS_KIND_NAMES = {
    PointsEntryKind.EARNED: "服务获得",
    PointsEntryKind.ADJUSTED: "时长调整",
    PointsEntryKind.REDEEMED: "积分兑换",
}

CHECK_IN_EARLY = timedelta(minutes=30)
AUTO_COMPLETE_AFTER = timedelta(days=1)
REMIND_AHEAD = timedelta(days=1)
LONGEST_ACTIVITY = timedelta(hours=24)
MAX_SKILLS = 10
CHECK_IN_SEAL = "volunteer-check-in"


# --- rows ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VolunteerRow:
    id: uuid.UUID
    name: str
    phone: str
    community_id: uuid.UUID
    skills: list[str]
    availability: list[str]
    availability_note: str | None
    party_member_reporting: bool
    work_unit: str | None
    status: VolunteerStatus
    reason: str | None
    applied_at: datetime
    decided_at: datetime | None
    total_minutes: int
    points_balance: int
    points_earned: int


@dataclass(frozen=True, slots=True)
class TeamRow:
    id: uuid.UUID
    community_id: uuid.UUID
    name: str
    description: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TeamMemberRow:
    id: uuid.UUID
    team_id: uuid.UUID
    volunteer_id: uuid.UUID
    is_leader: bool
    joined_at: datetime
    name: str
    phone: str
    community_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class ActivityRow:
    id: uuid.UUID
    community_id: uuid.UUID | None
    team_id: uuid.UUID | None
    title: str
    description: str
    place: str
    starts_at: datetime
    ends_at: datetime
    signup_deadline: datetime
    capacity: int
    taken: int
    required_skills: list[str]
    points_per_hour: int
    storage_key: str | None
    status: ActivityStatus
    reason: str | None
    published_at: datetime | None
    completed_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ActivityEventRow:
    id: uuid.UUID
    activity_id: uuid.UUID
    action: ActivityAction
    actor_name: str | None
    from_status: ActivityStatus | None
    to_status: ActivityStatus
    note: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SignupRow:
    id: uuid.UUID
    activity_id: uuid.UUID
    volunteer_id: uuid.UUID
    status: SignupStatus
    queued_at: datetime
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    minutes: int | None
    points: int | None
    adjustment_reason: str | None
    cancelled_at: datetime | None
    reason: str | None
    volunteer_name: str
    volunteer_phone: str
    volunteer_community_id: uuid.UUID
    activity_community_id: uuid.UUID | None
    activity_team_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class LedgerRow:
    id: uuid.UUID
    volunteer_id: uuid.UUID
    kind: PointsEntryKind
    minutes: int
    points: int
    signup_id: uuid.UUID | None
    note: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RankingRow:
    volunteer_id: uuid.UUID
    name: str
    minutes: int
    points: int
    rank: int


@dataclass(frozen=True, slots=True)
class CountRow:
    activity_id: uuid.UUID
    count: int


VOLUNTEER = Selection(
    VolunteerRow,
    select(
        Volunteer.id,
        User.name,
        User.phone,
        Volunteer.community_id,
        Volunteer.skills,
        Volunteer.availability,
        Volunteer.availability_note,
        Volunteer.party_member_reporting,
        Volunteer.work_unit,
        Volunteer.status,
        Volunteer.reason,
        Volunteer.applied_at,
        Volunteer.decided_at,
        Volunteer.total_minutes,
        Volunteer.points_balance,
        Volunteer.points_earned,
    ).join(User, (User.tenant_id == Volunteer.tenant_id) & (User.id == Volunteer.id)),
)
TEAM = Selection(
    TeamRow,
    select(
        VolunteerTeam.id,
        VolunteerTeam.community_id,
        VolunteerTeam.name,
        VolunteerTeam.description,
        VolunteerTeam.created_at,
    ),
)
TEAM_MEMBER = Selection(
    TeamMemberRow,
    select(
        VolunteerTeamMember.id,
        VolunteerTeamMember.team_id,
        VolunteerTeamMember.volunteer_id,
        VolunteerTeamMember.is_leader,
        VolunteerTeamMember.joined_at,
        User.name,
        User.phone,
        Volunteer.community_id,
    )
    .join(
        Volunteer,
        (Volunteer.tenant_id == VolunteerTeamMember.tenant_id) & (Volunteer.id == VolunteerTeamMember.volunteer_id),
    )
    .join(User, (User.tenant_id == Volunteer.tenant_id) & (User.id == Volunteer.id)),
)
ACTIVITY = Selection(
    ActivityRow,
    select(
        VolunteerActivity.id,
        VolunteerActivity.community_id,
        VolunteerActivity.team_id,
        VolunteerActivity.title,
        VolunteerActivity.description,
        VolunteerActivity.place,
        VolunteerActivity.starts_at,
        VolunteerActivity.ends_at,
        VolunteerActivity.signup_deadline,
        VolunteerActivity.capacity,
        VolunteerActivity.taken,
        VolunteerActivity.required_skills,
        VolunteerActivity.points_per_hour,
        VolunteerActivity.storage_key,
        VolunteerActivity.status,
        VolunteerActivity.reason,
        VolunteerActivity.published_at,
        VolunteerActivity.completed_at,
        VolunteerActivity.created_at,
        VolunteerActivity.updated_at,
    ),
)
ACTIVITY_EVENT = Selection(
    ActivityEventRow,
    select(
        VolunteerActivityEvent.id,
        VolunteerActivityEvent.activity_id,
        VolunteerActivityEvent.action,
        User.name.label("actor_name"),
        VolunteerActivityEvent.from_status,
        VolunteerActivityEvent.to_status,
        VolunteerActivityEvent.note,
        VolunteerActivityEvent.created_at,
    ).outerjoin(
        User, (User.tenant_id == VolunteerActivityEvent.tenant_id) & (User.id == VolunteerActivityEvent.actor_id)
    ),
)
SIGNUP = Selection(
    SignupRow,
    select(
        VolunteerSignup.id,
        VolunteerSignup.activity_id,
        VolunteerSignup.volunteer_id,
        VolunteerSignup.status,
        VolunteerSignup.queued_at,
        VolunteerSignup.checked_in_at,
        VolunteerSignup.checked_out_at,
        VolunteerSignup.minutes,
        VolunteerSignup.points,
        VolunteerSignup.adjustment_reason,
        VolunteerSignup.cancelled_at,
        VolunteerSignup.reason,
        User.name.label("volunteer_name"),
        User.phone.label("volunteer_phone"),
        Volunteer.community_id.label("volunteer_community_id"),
        VolunteerActivity.community_id.label("activity_community_id"),
        VolunteerActivity.team_id.label("activity_team_id"),
    )
    .join(
        VolunteerActivity,
        (VolunteerActivity.tenant_id == VolunteerSignup.tenant_id)
        & (VolunteerActivity.id == VolunteerSignup.activity_id),
    )
    .join(
        Volunteer, (Volunteer.tenant_id == VolunteerSignup.tenant_id) & (Volunteer.id == VolunteerSignup.volunteer_id)
    )
    .join(User, (User.tenant_id == Volunteer.tenant_id) & (User.id == Volunteer.id)),
)
LEDGER = Selection(
    LedgerRow,
    select(
        VolunteerPointsEntry.id,
        VolunteerPointsEntry.volunteer_id,
        VolunteerPointsEntry.kind,
        VolunteerPointsEntry.minutes,
        VolunteerPointsEntry.points,
        VolunteerPointsEntry.signup_id,
        VolunteerPointsEntry.note,
        VolunteerPointsEntry.created_at,
    ),
)
SIGNUP_ORDER = (VolunteerSignup.queued_at, VolunteerSignup.id)
ACTIVITY_ORDER = (VolunteerActivity.starts_at, VolunteerActivity.id)


# --- who is what -----------------------------------------------------------------------------


def _teams_led_by(viewer: Viewer) -> Select[uuid.UUID]:
    return select(VolunteerTeamMember.team_id).where(
        VolunteerTeamMember.volunteer_id == viewer.user_id, VolunteerTeamMember.is_leader.is_(True)
    )


def _organised_by(viewer: Viewer) -> ColumnElement[bool]:
    """The activities this caller organises."""
    return visible_rows(
        viewer,
        {
            Role.COMMUNITY_ADMIN: lambda v: VolunteerActivity.community_id.in_(v.community_ids),
            Role.RESIDENT: lambda v: VolunteerActivity.team_id.in_(_teams_led_by(v)),
        },
    )


def _activities_in_scope(viewer: Viewer | None) -> ColumnElement[bool]:
    public = VolunteerActivity.status != ActivityStatus.DRAFT
    return public if viewer is None else or_(public, _organised_by(viewer))


def _volunteers_in_scope(viewer: Viewer) -> ColumnElement[bool]:
    return visible_rows(
        viewer,
        {
            Role.COMMUNITY_ADMIN: lambda v: Volunteer.community_id.in_(v.community_ids),
            Role.RESIDENT: lambda v: Volunteer.id == v.user_id,
        },
    )


def _signups_in_scope(viewer: Viewer) -> ColumnElement[bool]:
    return visible_rows(
        viewer,
        {
            Role.COMMUNITY_ADMIN: lambda v: VolunteerActivity.community_id.in_(v.community_ids),
            Role.RESIDENT: lambda v: or_(
                VolunteerSignup.volunteer_id == v.user_id, VolunteerActivity.team_id.in_(_teams_led_by(v))
            ),
        },
    )


def people_shown(viewer: Viewer, now: datetime) -> Select[Any]:
    """Who signed up for the activities the caller sees signups of (people.visible_person)."""
    activity = (VolunteerActivity.tenant_id == VolunteerSignup.tenant_id) & (
        VolunteerActivity.id == VolunteerSignup.activity_id
    )
    return select(VolunteerSignup.volunteer_id).join(VolunteerActivity, activity).where(_signups_in_scope(viewer))


def administers_activity(viewer: Viewer | None, community_id: uuid.UUID | None) -> bool:
    """An admin over the activity: of its community, or a tenant admin (the only ones over an
    activity of the whole street office)."""
    return viewer is not None and viewer.administers(community_id)


async def _volunteers(ctx: RequestContext, ids: list[uuid.UUID], viewer: Viewer) -> list[VolunteerRow | None]:
    rows = await VOLUNTEER.where(one_of(ctx, Volunteer.id, ids), _volunteers_in_scope(viewer)).all(session_of(ctx))
    found = {row.id: row for row in rows}
    return [found.get(i) for i in ids]


async def _activities(ctx: RequestContext, ids: list[uuid.UUID], viewer: Viewer | None) -> list[ActivityRow | None]:
    rows = await ACTIVITY.where(one_of(ctx, VolunteerActivity.id, ids), _activities_in_scope(viewer)).all(
        session_of(ctx)
    )
    found = {row.id: row for row in rows}
    return [found.get(i) for i in ids]


async def _teams_led(ctx: RequestContext, user_ids: list[uuid.UUID]) -> list[frozenset[uuid.UUID]]:
    rows = (
        await session_of(ctx).execute(
            select(VolunteerTeamMember.volunteer_id, VolunteerTeamMember.team_id).where(
                VolunteerTeamMember.volunteer_id.in_(user_ids), VolunteerTeamMember.is_leader.is_(True)
            )
        )
    ).all()
    return [frozenset(r.team_id for r in rows if r.volunteer_id == u) for u in user_ids]


async def _own_signups(ctx: RequestContext, activity_ids: list[uuid.UUID], viewer: Viewer) -> list[SignupRow | None]:
    rows = await SIGNUP.where(
        VolunteerSignup.activity_id.in_(activity_ids), VolunteerSignup.volunteer_id == viewer.user_id
    ).all(session_of(ctx))
    found = {row.activity_id: row for row in rows}
    return [found.get(i) for i in activity_ids]


async def _waiting(ctx: RequestContext, activity_ids: list[uuid.UUID]) -> list[int]:
    rows = (
        await session_of(ctx).execute(
            select(VolunteerSignup.activity_id, func.count())
            .where(VolunteerSignup.activity_id.in_(activity_ids), VolunteerSignup.status == SignupStatus.WAITLISTED)
            .group_by(VolunteerSignup.activity_id)
        )
    ).all()
    counts = {row[0]: int(row[1]) for row in rows}
    return [counts.get(i, 0) for i in activity_ids]


async def _signup_pages(
    ctx: RequestContext, activity_ids: list[uuid.UUID], viewer: Viewer, page: PageRequest
) -> list[Page[SignupRow]]:
    pages = await pages_per_parent(
        ctx, SIGNUP.where(_signups_in_scope(viewer)), VolunteerSignup.activity_id, activity_ids, SIGNUP_ORDER, page
    )
    return [pages[i] for i in activity_ids]


async def _timelines(
    ctx: RequestContext, activity_ids: list[uuid.UUID], page: PageRequest
) -> list[Page[ActivityEventRow]]:
    pages = await pages_per_parent(
        ctx, ACTIVITY_EVENT, VolunteerActivityEvent.activity_id, activity_ids, (VolunteerActivityEvent.id,), page
    )
    return [pages[i] for i in activity_ids]


async def _member_pages(ctx: RequestContext, team_ids: list[uuid.UUID], page: PageRequest) -> list[Page[TeamMemberRow]]:
    pages = await pages_per_parent(
        ctx, TEAM_MEMBER, VolunteerTeamMember.team_id, team_ids, (VolunteerTeamMember.id,), page
    )
    return [pages[i] for i in team_ids]


class Loaders:
    """This domain's batches: one statement per kind per request (resolvers.loaders.loader)."""

    volunteers = _volunteers  # per viewer
    activities = _activities  # per viewer
    teams = batch_by_key(TEAM, VolunteerTeam.id)
    teams_led = _teams_led
    own_signups = _own_signups  # per viewer
    waiting = _waiting
    signups = _signup_pages  # per viewer and page
    timelines = _timelines  # per page
    members = _member_pages  # per page


async def _led_teams(ctx: RequestContext) -> frozenset[uuid.UUID]:
    if ctx.viewer is None or Role.RESIDENT not in ctx.viewer.roles:
        return frozenset()
    return await loader(ctx, Loaders.teams_led).load(ctx.viewer.user_id)


async def _my_registration(ctx: RequestContext) -> VolunteerRow | None:
    if ctx.viewer is None or Role.RESIDENT not in ctx.viewer.roles:
        return None
    return await loader(ctx, Loaders.volunteers, ctx.viewer).load(ctx.viewer.user_id)


async def activity_parties(ctx: RequestContext, row: ActivityRow | VolunteerActivity) -> set[ActivityParty]:
    """What the caller is to an activity (no statement beyond the request's batched ones)."""
    found: set[ActivityParty] = set()
    if administers_activity(ctx.viewer, row.community_id) or (
        row.team_id is not None and row.team_id in await _led_teams(ctx)
    ):
        found.add(ActivityParty.ORGANISER)
    me = await _my_registration(ctx)
    if me is not None and me.status is VolunteerStatus.APPROVED and row.community_id in (None, me.community_id):
        found.add(ActivityParty.VOLUNTEER)
    return found


async def viewer_can_on_activity(ctx: RequestContext, row: ActivityRow) -> frozenset[ActivityAction]:
    return ACTIVITY_LIFECYCLE.available(row.status, await activity_parties(ctx, row))


def signup_parties(ctx: RequestContext, row: SignupRow, organiser: bool) -> set[SignupParty]:
    found: set[SignupParty] = set()
    if ctx.viewer is not None and row.volunteer_id == ctx.viewer.user_id:
        found.add(SignupParty.VOLUNTEER)
    if organiser:
        found.add(SignupParty.ORGANISER)
    return found


async def organises(ctx: RequestContext, community_id: uuid.UUID | None, team_id: uuid.UUID | None) -> bool:
    return administers_activity(ctx.viewer, community_id) or (team_id is not None and team_id in await _led_teams(ctx))


async def viewer_can_on_signup(ctx: RequestContext, row: SignupRow) -> frozenset[SignupAction]:
    organiser = await organises(ctx, row.activity_community_id, row.activity_team_id)
    return SIGNUP_LIFECYCLE.available(row.status, signup_parties(ctx, row, organiser))


# --- registrations ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Application:
    skills: tuple[str, ...]
    availability: tuple[Availability, ...]
    availability_note: str | None
    party_member_reporting: bool
    work_unit: str | None


@dataclass(frozen=True)
class VolunteerFilter:
    statuses: tuple[VolunteerStatus, ...] = ()
    community_id: uuid.UUID | None = None
    party_member_reporting: bool | None = None


@allowed_to(ANYONE)
async def skill_choices(ctx: RequestContext) -> list[str]:
    return list(tenant_settings(ctx).volunteer_skills)


def _skills(check: InputCheck, skills: Sequence[str], field: str) -> list[str]:
    cleaned = list(dict.fromkeys(s.strip() for s in skills if s.strip()))
    check.require(len(cleaned) <= MAX_SKILLS, field, f"最多填写 {MAX_SKILLS} 项技能。")
    check.require(all(len(s) <= 20 for s in cleaned), field, "每项技能不超过 20 个字。")
    return cleaned


@allowed_to(Role.RESIDENT, *ADMINS)
async def volunteer(ctx: RequestContext, volunteer_id: uuid.UUID) -> VolunteerRow | None:
    return await loader(ctx, Loaders.volunteers, viewer_of(ctx)).load(volunteer_id)


@allowed_to(Role.RESIDENT)
async def my_registration(ctx: RequestContext) -> VolunteerRow | None:
    return await _my_registration(ctx)


@allowed_to(*ADMINS)
async def list_volunteers(ctx: RequestContext, query: VolunteerFilter, page: PageRequest) -> Page[VolunteerRow]:
    """Admins' list: their community's volunteers (the review queue with status PENDING)."""
    found = VOLUNTEER.where(_volunteers_in_scope(viewer_of(ctx)))
    if query.statuses:
        found = found.where(Volunteer.status.in_(query.statuses))
    if query.community_id is not None:
        found = found.where(Volunteer.community_id == query.community_id)
    if query.party_member_reporting is not None:
        found = found.where(Volunteer.party_member_reporting.is_(query.party_member_reporting))
    return await paginate(ctx, found, (Volunteer.applied_at, Volunteer.id), page)


@allowed_to(Role.RESIDENT)
async def apply(ctx: RequestContext, application: Application) -> uuid.UUID:
    """A resident applies (again, after a rejection), or edits their registration: skills,
    availability, and whether they are a Party member reporting to the community. A new or
    renewed application waits for their community's admins."""
    session = session_of(ctx)
    viewer = viewer_of(ctx)
    check = InputCheck()
    skills = _skills(check, application.skills, "skills")
    check.require(bool(skills), "skills", "请至少选择或填写一项技能。")
    note = application.availability_note.strip() if application.availability_note else None
    if note:
        check.text(note, "availabilityNote", "时间说明", max_length=200)
    work_unit = application.work_unit.strip() if application.work_unit else None
    if work_unit:
        check.text(work_unit, "workUnit", "工作单位", max_length=100)
    check.require(
        application.party_member_reporting or not work_unit, "workUnit", "只有到社区报到的在职党员需填写工作单位。"
    )
    check.done()
    community_id = await session.scalar(
        select(Grid.community_id)
        .join(Building, (Building.tenant_id == Grid.tenant_id) & (Building.grid_id == Grid.id))
        .join(
            ResidentProfile,
            (ResidentProfile.tenant_id == Building.tenant_id) & (ResidentProfile.building_id == Building.id),
        )
        .where(ResidentProfile.id == viewer.user_id)
    )
    if community_id is None:
        raise not_found("居民")
    row = await session.get(Volunteer, (ctx.tenant_id, viewer.user_id))
    now = ctx.clock()
    tell_admins = True
    if row is None:
        row = Volunteer(id=viewer.user_id, community_id=community_id, status=VolunteerStatus.PENDING, applied_at=now)
        session.add(row)
    else:
        action = VolunteerAction.REAPPLY if row.status is VolunteerStatus.REJECTED else VolunteerAction.UPDATE_PROFILE
        row.status = _volunteer_step(row.status, action, {VolunteerParty.APPLICANT})
        tell_admins = action is VolunteerAction.REAPPLY
        if tell_admins:
            row.community_id = community_id
            row.applied_at = now
            row.reason = None
            row.decided_at = None
            row.decided_by_id = None
    row.skills = skills
    row.availability = [a.value for a in dict.fromkeys(application.availability)]
    row.availability_note = note or None
    row.party_member_reporting = application.party_member_reporting
    row.work_unit = work_unit or None
    await _flush_volunteer(ctx)
    if tell_admins:
        await notify(
            ctx,
            await admins_of(ctx, community_id),
            kind=NotificationKind.VOLUNTEER_APPLIED,
            title="新的志愿者申请",
            body=f"有居民申请成为志愿者，技能：{'、'.join(skills)}。",
            subject=Subject(SubjectType.VOLUNTEER, row.id),
        )
    return row.id


def _volunteer_step(status: VolunteerStatus, action: VolunteerAction, parties: set[VolunteerParty]) -> VolunteerStatus:
    try:
        return VOLUNTEER_LIFECYCLE.next_state(action, status, parties)
    except TransitionRefused as refusal:
        raise refused(
            refusal,
            thing="志愿者申请",
            states=VOLUNTEER_STATUS_NAMES,
            actions=VOLUNTEER_ACTION_NAMES,
            field="volunteerId",
        ) from refusal


async def _flush_volunteer(ctx: RequestContext) -> None:
    try:
        await session_of(ctx).flush()
    except (StaleDataError, IntegrityError) as error:
        raise fail(ErrorCode.CONFLICT, "该志愿者信息刚刚被他人修改，请刷新后重试。", "volunteerId") from error


@allowed_to(*ADMINS)
async def decide_volunteer(
    ctx: RequestContext, volunteer_id: uuid.UUID, *, approve: bool, reason: str | None
) -> uuid.UUID:
    check = InputCheck()
    if not approve:
        reason = check.text(reason or "", "reason", "不通过的理由", min_length=2, max_length=200)
    check.done()
    viewer = viewer_of(ctx)
    row = await session_of(ctx).scalar(
        select(Volunteer).where(Volunteer.id == volunteer_id, _volunteers_in_scope(viewer))
    )
    if row is None or not viewer.administers(row.community_id):
        raise not_found("志愿者", "volunteerId")
    action = VolunteerAction.APPROVE if approve else VolunteerAction.REJECT
    row.status = _volunteer_step(row.status, action, {VolunteerParty.ADMIN})
    row.reason = None if approve else reason
    row.decided_by_id = viewer.user_id
    row.decided_at = ctx.clock()
    await _flush_volunteer(ctx)
    await notify(
        ctx,
        [row.id],
        kind=NotificationKind.VOLUNTEER_DECIDED,
        title="志愿者申请结果",
        body="您的志愿者申请已通过，欢迎报名参加志愿活动。" if approve else f"您的志愿者申请未通过：{reason}",
        subject=Subject(SubjectType.VOLUNTEER, row.id),
    )
    return row.id


# --- teams -----------------------------------------------------------------------------------


@allowed_to(ANYONE)
async def list_teams(ctx: RequestContext, community_id: uuid.UUID | None, page: PageRequest) -> Page[TeamRow]:
    teams = TEAM if community_id is None else TEAM.where(VolunteerTeam.community_id == community_id)
    return await paginate(ctx, teams, (VolunteerTeam.name, VolunteerTeam.id), page)


@allowed_to(ANYONE)
async def team(ctx: RequestContext, team_id: uuid.UUID) -> TeamRow | None:
    return await loader(ctx, Loaders.teams).load(team_id)


@allowed_to(*Role)
async def team_members(ctx: RequestContext, team_id: uuid.UUID, page: PageRequest) -> Page[TeamMemberRow]:
    """Names of a team's members, for anyone signed in; phones are masked unless the caller may
    see them whole (resolvers.people.shown_phone)."""
    return await loader(ctx, Loaders.members, checked(ctx, page)).load(team_id)


@allowed_to(*ADMINS)
async def create_team(ctx: RequestContext, community_id: uuid.UUID, name: str, description: str) -> uuid.UUID:
    if not viewer_of(ctx).administers(community_id) or await organisation.community(ctx, community_id) is None:
        raise not_found("社区", "communityId")
    check = InputCheck()
    name = check.text(name, "name", "队伍名称", max_length=50)
    description = check.text(description, "description", "队伍简介", min_length=0, max_length=500)
    check.done()
    row = VolunteerTeam(
        community_id=community_id, name=name, description=description, created_by_id=viewer_of(ctx).user_id
    )
    row.created_at = ctx.clock()
    session_of(ctx).add(row)
    try:
        await session_of(ctx).flush()
    except IntegrityError as error:
        raise fail(ErrorCode.NAME_TAKEN, "本社区已有同名志愿队伍。", "name") from error
    return row.id


async def _team_to_change(ctx: RequestContext, team_id: uuid.UUID) -> TeamRow:
    found = await team(ctx, team_id)
    if found is None or not viewer_of(ctx).administers(found.community_id):
        raise not_found("志愿队伍", "teamId")
    return found


@allowed_to(*ADMINS)
async def set_team_member(ctx: RequestContext, team_id: uuid.UUID, volunteer_id: uuid.UUID, leader: bool) -> uuid.UUID:
    """Adds an approved volunteer of the team's community to it, or changes whether they lead it."""
    session = session_of(ctx)
    found = await _team_to_change(ctx, team_id)
    member = await volunteer(ctx, volunteer_id)
    if member is None or member.community_id != found.community_id:
        raise not_found("志愿者", "volunteerId")
    if member.status is not VolunteerStatus.APPROVED:
        raise fail(ErrorCode.NOT_APPROVED, "该志愿者尚未通过审核。", "volunteerId")
    row = await session.scalar(
        select(VolunteerTeamMember).where(
            VolunteerTeamMember.team_id == team_id, VolunteerTeamMember.volunteer_id == volunteer_id
        )
    )
    if row is None:
        row = VolunteerTeamMember(team_id=team_id, volunteer_id=volunteer_id, joined_at=ctx.clock())
        session.add(row)
    row.is_leader = leader
    try:
        await session.flush()
    except IntegrityError as error:
        raise fail(ErrorCode.CONFLICT, "该志愿者刚刚被他人加入队伍，请刷新后重试。", "volunteerId") from error
    return team_id


@allowed_to(*ADMINS)
async def remove_team_member(ctx: RequestContext, team_id: uuid.UUID, volunteer_id: uuid.UUID) -> uuid.UUID:
    await _team_to_change(ctx, team_id)
    session = session_of(ctx)
    row = await session.scalar(
        select(VolunteerTeamMember).where(
            VolunteerTeamMember.team_id == team_id, VolunteerTeamMember.volunteer_id == volunteer_id
        )
    )
    if row is None:
        raise not_found("队员", "volunteerId")
    await session.delete(row)
    await session.flush()
    return team_id


# --- activities: reading ---------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityFilter:
    community_id: uuid.UUID | None = None
    statuses: tuple[ActivityStatus, ...] = ()
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    team_id: uuid.UUID | None = None


@allowed_to(ANYONE)
async def activity(ctx: RequestContext, activity_id: uuid.UUID) -> ActivityRow | None:
    return await loader(ctx, Loaders.activities, ctx.viewer).load(activity_id)


@allowed_to(ANYONE)
async def list_activities(ctx: RequestContext, query: ActivityFilter, page: PageRequest) -> Page[ActivityRow]:
    """Activities by start time. With a community, its own and the whole street office's (what
    its residents may join); drafts only for their organisers."""
    found = ACTIVITY.where(_activities_in_scope(ctx.viewer))
    if query.community_id is not None:
        found = found.where(
            or_(VolunteerActivity.community_id == query.community_id, VolunteerActivity.community_id.is_(None))
        )
    if query.team_id is not None:
        found = found.where(VolunteerActivity.team_id == query.team_id)
    if query.statuses:
        found = found.where(VolunteerActivity.status.in_(query.statuses))
    if query.starts_from is not None:
        found = found.where(VolunteerActivity.starts_at >= query.starts_from)
    if query.starts_before is not None:
        found = found.where(VolunteerActivity.starts_at < query.starts_before)
    return await paginate(ctx, found, ACTIVITY_ORDER, page)


async def waiting_count(ctx: RequestContext, activity_id: uuid.UUID) -> int:
    """Only reached through an activity the caller could see."""
    return await loader(ctx, Loaders.waiting).load(activity_id)


async def timeline(ctx: RequestContext, activity_id: uuid.UUID, page: PageRequest) -> Page[ActivityEventRow]:
    """Only reached through an activity the caller could see."""
    return await loader(ctx, Loaders.timelines, checked(ctx, page)).load(activity_id)


async def own_signup(ctx: RequestContext, activity_id: uuid.UUID) -> SignupRow | None:
    if ctx.viewer is None or Role.RESIDENT not in ctx.viewer.roles:
        return None
    return await loader(ctx, Loaders.own_signups, ctx.viewer).load(activity_id)


async def signups_of(ctx: RequestContext, found: ActivityRow, page: PageRequest) -> Page[SignupRow] | None:
    """An activity's sign-ups in line order, for its organisers (None for anyone else)."""
    if ctx.viewer is None or not await organises(ctx, found.community_id, found.team_id):
        return None
    return await loader(ctx, Loaders.signups, ctx.viewer, checked(ctx, page)).load(found.id)


@allowed_to(Role.RESIDENT, *ADMINS)
async def signup(ctx: RequestContext, signup_id: uuid.UUID) -> SignupRow | None:
    return await SIGNUP.where(VolunteerSignup.id == signup_id, _signups_in_scope(viewer_of(ctx))).one_or_none(
        session_of(ctx)
    )


@allowed_to(Role.RESIDENT)
async def my_signups(ctx: RequestContext, statuses: tuple[SignupStatus, ...], page: PageRequest) -> Page[SignupRow]:
    mine = SIGNUP.where(VolunteerSignup.volunteer_id == viewer_of(ctx).user_id)
    if statuses:
        mine = mine.where(VolunteerSignup.status.in_(statuses))
    return await paginate(ctx, mine, (VolunteerSignup.starts_at, VolunteerSignup.id), page, descending=True)


# --- activities: organising ------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityDraft:
    title: str
    description: str
    place: str
    starts_at: datetime
    ends_at: datetime
    signup_deadline: datetime
    capacity: int
    required_skills: tuple[str, ...]
    points_per_hour: int


def _check_draft(check: InputCheck, draft: ActivityDraft, now: datetime | None) -> ActivityDraft:
    """`now` None: the start is not being moved, so it need not be in the future."""
    title = check.text(draft.title, "title", "标题", max_length=100)
    description = check.text(draft.description, "description", "活动介绍", max_length=2000)
    place = check.text(draft.place, "place", "地点", max_length=200)
    skills = _skills(check, draft.required_skills, "requiredSkills")
    if check.require(draft.starts_at < draft.ends_at, "endsAt", "结束时间须晚于开始时间。"):
        check.require(draft.ends_at - draft.starts_at <= LONGEST_ACTIVITY, "endsAt", "单次活动不超过 24 小时。")
    if now is not None:
        check.require(draft.starts_at > now, "startsAt", "开始时间须在当前时间之后。")
    check.require(draft.signup_deadline <= draft.starts_at, "signupDeadline", "报名截止时间不能晚于开始时间。")
    check.require(1 <= draft.capacity <= 1000, "capacity", "招募人数应为 1–1000。")
    check.require(0 <= draft.points_per_hour <= 100, "pointsPerHour", "每小时积分应为 0–100。")
    return ActivityDraft(
        title=title,
        description=description,
        place=place,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        signup_deadline=draft.signup_deadline,
        capacity=draft.capacity,
        required_skills=tuple(skills),
        points_per_hour=draft.points_per_hour,
    )


def _apply_draft(row: VolunteerActivity, draft: ActivityDraft) -> None:
    row.title = draft.title
    row.description = draft.description
    row.place = draft.place
    row.starts_at = draft.starts_at
    row.ends_at = draft.ends_at
    row.signup_deadline = draft.signup_deadline
    row.capacity = draft.capacity
    row.required_skills = list(draft.required_skills)
    row.points_per_hour = draft.points_per_hour


def _record(
    ctx: RequestContext,
    row: VolunteerActivity,
    action: ActivityAction,
    before: ActivityStatus | None,
    note: str | None = None,
) -> None:
    session_of(ctx).add(
        VolunteerActivityEvent(
            activity_id=row.id,
            action=action,
            actor_id=ctx.viewer.user_id if ctx.viewer else None,
            from_status=before,
            to_status=row.status,
            note=note,
            created_at=ctx.clock(),
        )
    )


@allowed_to(Role.RESIDENT, *ADMINS)
async def create_activity(
    ctx: RequestContext,
    draft: ActivityDraft,
    *,
    community_id: uuid.UUID | None,
    team_id: uuid.UUID | None,
    cover: IncomingFiles,
) -> uuid.UUID:
    """A draft activity: of a team (its leaders or the admins over its community), of a community
    (its admins) or, with neither, of the whole street office (tenant admins)."""
    session = session_of(ctx)
    viewer = viewer_of(ctx)
    if team_id is not None:
        found = await team(ctx, team_id)
        if found is None or not await organises(ctx, found.community_id, team_id):
            raise not_found("志愿队伍", "teamId")
        if community_id not in (None, found.community_id):
            raise fail(ErrorCode.INVALID, "队伍的活动只能属于队伍所在社区。", "communityId")
        community_id = found.community_id
    elif community_id is not None and await organisation.community(ctx, community_id) is None:
        raise not_found("社区", "communityId")
    elif not administers_activity(viewer, community_id):
        raise fail(ErrorCode.FORBIDDEN, "您不能在此范围发布志愿活动。", "communityId")
    check = InputCheck()
    draft = _check_draft(check, draft, ctx.clock())
    check.done()
    cover_key = await _cover(ctx, cover)
    now = ctx.clock()
    row = VolunteerActivity(
        community_id=community_id,
        team_id=team_id,
        organiser_id=viewer.user_id,
        status=ActivityStatus.DRAFT,
        storage_key=cover_key,
        taken=0,
        created_at=now,
        updated_at=now,
    )
    _apply_draft(row, draft)
    session.add(row)
    await session.flush()
    _record(ctx, row, ActivityAction.CREATE, None)
    await session.flush()
    return row.id


async def _cover(ctx: RequestContext, cover: IncomingFiles) -> str | None:
    return await receive_photo(ctx, cover, "cover", "coverId", "封面")


@dataclass
class _Activity:
    row: VolunteerActivity
    parties: set[ActivityParty]


async def _activity_to_change(ctx: RequestContext, activity_id: uuid.UUID) -> _Activity:
    row = await session_of(ctx).scalar(_locked(activity_id).where(_activities_in_scope(viewer_of(ctx))))
    if row is None:
        raise not_found("志愿活动", "activityId")
    return _Activity(row, await activity_parties(ctx, row))


def _locked(activity_id: uuid.UUID) -> Select[VolunteerActivity]:
    """The activity, its row locked for the rest of the transaction (PostgreSQL; SQLite's
    writers already hold the database's write lock): every change to its places, its time or
    its state is made by one transaction at a time, in order."""
    return select(VolunteerActivity).where(VolunteerActivity.id == activity_id).with_for_update()


def _activity_step(found: _Activity, action: ActivityAction) -> ActivityStatus:
    try:
        return ACTIVITY_LIFECYCLE.next_state(action, found.row.status, found.parties)
    except TransitionRefused as refusal:
        raise refused(
            refusal,
            thing="志愿活动",
            states=ACTIVITY_STATUS_NAMES,
            actions=ACTIVITY_ACTION_NAMES,
            field="activityId",
        ) from refusal


async def _save_activity(ctx: RequestContext) -> None:
    try:
        await session_of(ctx).flush()
    except StaleDataError as error:
        raise fail(ErrorCode.CONFLICT, "该活动刚刚被他人修改，请刷新后重试。", "activityId") from error
    except IntegrityError as error:  # the capacity check lost a race with a sign-up
        raise fail(
            ErrorCode.CAPACITY_BELOW_TAKEN, "报名人数刚刚发生变化，招募人数不能少于已报名人数。", "capacity"
        ) from error


async def _holders(ctx: RequestContext, activity_id: uuid.UUID, statuses: Sequence[SignupStatus]) -> list[uuid.UUID]:
    return list(
        (
            await session_of(ctx).scalars(
                select(VolunteerSignup.volunteer_id).where(
                    VolunteerSignup.activity_id == activity_id, VolunteerSignup.status.in_(statuses)
                )
            )
        ).all()
    )


def when(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%m月%d日 %H:%M")


async def _clashing_volunteers(ctx: RequestContext, activity_id: uuid.UUID, starts: datetime, ends: datetime) -> int:
    """Volunteers holding this activity who hold another one overlapping the new window."""
    other = aliased(VolunteerSignup)
    return int(
        await session_of(ctx).scalar(
            select(func.count(func.distinct(VolunteerSignup.volunteer_id)))
            .join(
                other,
                and_(
                    other.tenant_id == VolunteerSignup.tenant_id,
                    other.volunteer_id == VolunteerSignup.volunteer_id,
                    other.activity_id != VolunteerSignup.activity_id,
                ),
            )
            .where(
                VolunteerSignup.activity_id == activity_id,
                VolunteerSignup.status.in_(HOLDING),
                other.status.in_(HOLDING),
                other.starts_at < ends,
                other.ends_at > starts,
            )
        )
        or 0
    )


def _time_clash(count: int) -> DomainError:
    return fail(
        ErrorCode.TIME_CLASH, f"有 {count} 名已报名的志愿者在新时段另有活动，请先与其沟通或取消其报名。", "startsAt"
    )


@allowed_to(Role.RESIDENT, *ADMINS)
async def update_activity(
    ctx: RequestContext,
    activity_id: uuid.UUID,
    draft: ActivityDraft,
    *,
    cover: IncomingFiles,
    remove_cover: bool,
) -> uuid.UUID:
    """An organiser edits a draft or a published activity (all its fields, as the form sends
    them). Once published, its volunteers are told what changed; more places promote the
    waiting list; fewer than are taken is refused."""
    session = session_of(ctx)
    found = await _activity_to_change(ctx, activity_id)
    row = found.row
    status = _activity_step(found, ActivityAction.UPDATE)
    check = InputCheck()
    draft = _check_draft(check, draft, None if draft.starts_at == row.starts_at else ctx.clock())
    check.done()
    if draft.capacity < row.taken:
        raise fail(ErrorCode.CAPACITY_BELOW_TAKEN, f"已有 {row.taken} 人报名，招募人数不能少于此数。", "capacity")
    moved = (draft.starts_at, draft.ends_at) != (row.starts_at, row.ends_at)
    changes = [
        label
        for label, differs in (
            (f"时间改为 {when(draft.starts_at)}–{when(draft.ends_at)}", moved),
            (f"地点改为 {draft.place}", draft.place != row.place),
            (f"标题改为“{draft.title}”", draft.title != row.title),
        )
        if differs
    ]
    if moved:
        clashes = await _clashing_volunteers(ctx, row.id, draft.starts_at, draft.ends_at)
        if clashes:
            raise _time_clash(clashes)
        row.reminded_at = None
    cover_key = await _cover(ctx, cover)
    if cover_key is not None:
        row.storage_key = cover_key
    elif remove_cover:
        row.storage_key = None
    grown = draft.capacity > row.capacity
    _apply_draft(row, draft)
    row.status = status
    row.updated_at = ctx.clock()
    _record(ctx, row, ActivityAction.UPDATE, status, "；".join(changes) or None)
    await _save_activity(ctx)
    if moved:
        try:
            await session.execute(
                update(VolunteerSignup)
                .where(VolunteerSignup.activity_id == row.id)
                .values(starts_at=draft.starts_at, ends_at=draft.ends_at)
                .execution_options(synchronize_session=False)
            )
        except IntegrityError as error:
            if breaks_an_exclusion(error):
                raise _time_clash(1) from error
            raise
    if row.status is ActivityStatus.PUBLISHED:
        if grown:
            await _promote(ctx, row.id, row.title)
        if changes:
            await notify(
                ctx,
                await _holders(ctx, row.id, (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED)),
                kind=NotificationKind.VOLUNTEER_ACTIVITY_CHANGED,
                title="志愿活动有变更",
                body=f"“{row.title}”：{'；'.join(changes)}。",
                subject=Subject(SubjectType.VOLUNTEER_ACTIVITY, row.id),
            )
    return row.id


@allowed_to(Role.RESIDENT, *ADMINS)
async def publish_activity(ctx: RequestContext, activity_id: uuid.UUID) -> uuid.UUID:
    found = await _activity_to_change(ctx, activity_id)
    row = found.row
    status = _activity_step(found, ActivityAction.PUBLISH)
    if row.signup_deadline <= ctx.clock():
        raise fail(ErrorCode.SIGNUP_CLOSED, "报名截止时间已过，请先修改活动时间。", "activityId")
    row.status = status
    row.published_at = row.updated_at = ctx.clock()
    _record(ctx, row, ActivityAction.PUBLISH, ActivityStatus.DRAFT)
    await _save_activity(ctx)
    return row.id


@allowed_to(Role.RESIDENT, *ADMINS)
async def cancel_activity(ctx: RequestContext, activity_id: uuid.UUID, reason: str) -> uuid.UUID:
    """Cancels the activity and every sign-up of it (their time is free again); its volunteers
    are told why."""
    check = InputCheck()
    reason = check.text(reason, "reason", "取消理由", min_length=2, max_length=200)
    check.done()
    found = await _activity_to_change(ctx, activity_id)
    row = found.row
    before = row.status
    row.status = _activity_step(found, ActivityAction.CANCEL)
    row.reason = reason
    row.updated_at = ctx.clock()
    _record(ctx, row, ActivityAction.CANCEL, before, reason)
    await _save_activity(ctx)
    told = await _holders(ctx, row.id, (SignupStatus.CONFIRMED, SignupStatus.WAITLISTED))
    await session_of(ctx).execute(
        update(VolunteerSignup)
        .where(VolunteerSignup.activity_id == row.id, VolunteerSignup.status.in_(HOLDING))
        .values(status=SignupStatus.CANCELLED, cancelled_at=ctx.clock(), reason="活动已取消")
        .execution_options(synchronize_session=False)
    )
    await session_of(ctx).execute(
        update(VolunteerActivity)
        .where(VolunteerActivity.id == row.id)
        .values(taken=0)
        .execution_options(synchronize_session=False)
    )
    await notify(
        ctx,
        told,
        kind=NotificationKind.VOLUNTEER_ACTIVITY_CANCELLED,
        title="志愿活动已取消",
        body=f"您报名的“{row.title}”（{when(row.starts_at)}）已取消：{reason}",
        subject=Subject(SubjectType.VOLUNTEER_ACTIVITY, row.id),
    )
    return row.id


@allowed_to(Role.RESIDENT, *ADMINS)
async def complete_activity(ctx: RequestContext, activity_id: uuid.UUID) -> uuid.UUID:
    """Once it has begun: volunteers still checked in are checked out at its end (or now), those
    who never came are marked absent, and the waiting list is let go."""
    found = await _activity_to_change(ctx, activity_id)
    if ctx.clock() < found.row.starts_at:
        raise fail(ErrorCode.NOT_NOW, "活动开始后才能结束。", "activityId")
    await _complete(ctx, found)
    return found.row.id


async def _complete(ctx: RequestContext, found: _Activity) -> None:
    row = found.row
    before = row.status
    row.status = _activity_step(found, ActivityAction.COMPLETE)
    row.completed_at = row.updated_at = ctx.clock()
    _record(ctx, row, ActivityAction.COMPLETE, before)
    await _save_activity(ctx)
    session = session_of(ctx)
    still_in = (
        await session.scalars(
            select(VolunteerSignup).where(
                VolunteerSignup.activity_id == row.id, VolunteerSignup.status == SignupStatus.CHECKED_IN
            )
        )
    ).all()
    for each in still_in:
        await _check_out(ctx, each, row, {SignupParty.SYSTEM}, at=min(ctx.clock(), row.ends_at))
    await session.execute(
        update(VolunteerSignup)
        .where(VolunteerSignup.activity_id == row.id, VolunteerSignup.status == SignupStatus.CONFIRMED)
        .values(
            status=SIGNUP_LIFECYCLE.next_state(SignupAction.MARK_ABSENT, SignupStatus.CONFIRMED, {SignupParty.SYSTEM})
        )
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(VolunteerSignup)
        .where(VolunteerSignup.activity_id == row.id, VolunteerSignup.status == SignupStatus.WAITLISTED)
        .values(status=SignupStatus.CANCELLED, cancelled_at=ctx.clock(), reason="活动已结束，候补未转正")
        .execution_options(synchronize_session=False)
    )


# --- signing up ------------------------------------------------------------------------------


async def _take_place(ctx: RequestContext, activity_id: uuid.UUID) -> bool:
    """One of the activity's places, if one is free: the conditional UPDATE is the whole guard
    (it waits for the row lock of anyone else taking or freeing a place, then re-reads)."""
    taken = await session_of(ctx).scalar(
        update(VolunteerActivity)
        .where(
            VolunteerActivity.id == activity_id,
            VolunteerActivity.status == ActivityStatus.PUBLISHED,
            VolunteerActivity.taken < VolunteerActivity.capacity,
        )
        .values(taken=VolunteerActivity.taken + 1)
        .returning(VolunteerActivity.taken)
        .execution_options(synchronize_session=False)
    )
    return taken is not None


async def _free_place(ctx: RequestContext, activity_id: uuid.UUID) -> None:
    await session_of(ctx).execute(
        update(VolunteerActivity)
        .where(VolunteerActivity.id == activity_id)
        .values(taken=VolunteerActivity.taken - 1)
        .execution_options(synchronize_session=False)
    )


async def _promote(ctx: RequestContext, activity_id: uuid.UUID, title: str) -> None:
    """While places are free, the head of the waiting list takes one. Called holding the
    activity's row lock (a place was just freed, or the capacity changed), so nobody new can
    take the place first."""
    session = session_of(ctx)
    while True:
        head = await session.scalar(
            select(VolunteerSignup)
            .where(VolunteerSignup.activity_id == activity_id, VolunteerSignup.status == SignupStatus.WAITLISTED)
            .order_by(*SIGNUP_ORDER)
            .limit(1)
        )
        if head is None or not await _take_place(ctx, activity_id):
            return
        head.status = SIGNUP_LIFECYCLE.next_state(SignupAction.PROMOTE, head.status, {SignupParty.SYSTEM})
        await _save_signup(ctx)
        await notify(
            ctx,
            [head.volunteer_id],
            kind=NotificationKind.VOLUNTEER_PROMOTED,
            title="候补转为正式报名",
            body=f"有人取消了报名，您已从候补转为“{title}”的正式志愿者。",
            subject=Subject(SubjectType.VOLUNTEER_ACTIVITY, activity_id),
        )


async def _save_signup(ctx: RequestContext) -> None:
    try:
        await session_of(ctx).flush()
    except StaleDataError as error:
        raise fail(ErrorCode.CONFLICT, "该报名刚刚被他人处理，请刷新后重试。", "signupId") from error


def _overlap(title: str | None) -> DomainError:
    detail = f"与您已报名的“{title}”时间冲突" if title else "与您已报名的其他活动时间冲突"
    return fail(ErrorCode.OVERLAPPING, f"{detail}，不能同时参加。", "activityId")


@allowed_to(Role.RESIDENT)
async def sign_up(ctx: RequestContext, activity_id: uuid.UUID) -> uuid.UUID:
    """An approved volunteer signs up: a place if one is free, else the end of the waiting list.
    Refused if it overlaps another activity they hold (waiting-list places included)."""
    session = session_of(ctx)
    viewer = viewer_of(ctx)
    found = await activity(ctx, activity_id)
    if found is None:
        raise not_found("志愿活动", "activityId")
    me = await _my_registration(ctx)
    if me is None or me.status is not VolunteerStatus.APPROVED:
        raise fail(ErrorCode.NOT_A_VOLUNTEER, "请先申请成为志愿者，审核通过后即可报名。", "activityId")
    if found.community_id not in (None, me.community_id):
        raise fail(ErrorCode.OTHER_COMMUNITY, "该活动只面向本社区的志愿者。", "activityId")
    try:
        ACTIVITY_LIFECYCLE.next_state(ActivityAction.SIGN_UP, found.status, await activity_parties(ctx, found))
    except TransitionRefused as refusal:
        raise refused(
            refusal, thing="志愿活动", states=ACTIVITY_STATUS_NAMES, actions=ACTIVITY_ACTION_NAMES, field="activityId"
        ) from refusal
    await session.execute(_locked(activity_id))
    now = ctx.clock()
    if now >= found.signup_deadline:
        raise fail(ErrorCode.SIGNUP_CLOSED, f"报名已于 {when(found.signup_deadline)} 截止。", "activityId")
    missing = [s for s in found.required_skills if s not in me.skills]
    if missing:
        raise fail(ErrorCode.SKILLS_REQUIRED, f"该活动需要以下技能：{'、'.join(missing)}。", "activityId")
    existing = await session.scalar(
        select(VolunteerSignup).where(
            VolunteerSignup.activity_id == activity_id, VolunteerSignup.volunteer_id == viewer.user_id
        )
    )
    if existing is not None and existing.status in HOLDING:
        raise fail(ErrorCode.ALREADY_SIGNED_UP, "您已报名该活动。", "activityId")
    clash = await session.scalar(
        select(VolunteerActivity.title)
        .join(
            VolunteerSignup,
            (VolunteerSignup.tenant_id == VolunteerActivity.tenant_id)
            & (VolunteerSignup.activity_id == VolunteerActivity.id),
        )
        .where(
            VolunteerSignup.volunteer_id == viewer.user_id,
            VolunteerSignup.status.in_(HOLDING),
            VolunteerSignup.activity_id != activity_id,
            VolunteerSignup.starts_at < found.ends_at,
            VolunteerSignup.ends_at > found.starts_at,
        )
        .limit(1)
    )
    if clash is not None:
        raise _overlap(clash)
    seated = await _take_place(ctx, activity_id)
    row = existing or VolunteerSignup(activity_id=activity_id, volunteer_id=viewer.user_id, created_at=now)
    row.status = SignupStatus.CONFIRMED if seated else SignupStatus.WAITLISTED
    row.starts_at, row.ends_at = found.starts_at, found.ends_at
    row.queued_at = now
    row.cancelled_at = row.reason = None
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as error:
        if breaks_an_exclusion(error):
            raise _overlap(None) from error
        raise fail(ErrorCode.ALREADY_SIGNED_UP, "您已报名该活动。", "activityId") from error
    except StaleDataError as error:
        raise fail(ErrorCode.ALREADY_SIGNED_UP, "您已报名该活动。", "activityId") from error
    await notify(
        ctx,
        await _organisers(ctx, found),
        kind=NotificationKind.VOLUNTEER_SIGNED_UP,
        title="志愿活动有新报名",
        body=f"“{found.title}”{'新增一名志愿者' if seated else '新增一名候补志愿者'}。",
        subject=Subject(SubjectType.VOLUNTEER_ACTIVITY, found.id),
    )
    return row.id


async def _organisers(ctx: RequestContext, found: ActivityRow) -> list[uuid.UUID]:
    """Who is told of sign-ups: the team's leaders for a team's activity, else the admins."""
    if found.team_id is not None:
        return list(
            (
                await session_of(ctx).scalars(
                    select(VolunteerTeamMember.volunteer_id).where(
                        VolunteerTeamMember.team_id == found.team_id, VolunteerTeamMember.is_leader.is_(True)
                    )
                )
            ).all()
        )
    if found.community_id is None:
        return list(
            (await session_of(ctx).scalars(select(RoleGrant.user_id).where(RoleGrant.role == Role.TENANT_ADMIN))).all()
        )
    return await admins_of(ctx, found.community_id)


@dataclass
class _Signup:
    row: VolunteerSignup
    activity: VolunteerActivity
    parties: set[SignupParty]


async def _signup_to_change(ctx: RequestContext, signup_id: uuid.UUID) -> _Signup:
    found = (
        await session_of(ctx).execute(
            select(VolunteerSignup, VolunteerActivity)
            .join(
                VolunteerActivity,
                (VolunteerActivity.tenant_id == VolunteerSignup.tenant_id)
                & (VolunteerActivity.id == VolunteerSignup.activity_id),
            )
            .where(VolunteerSignup.id == signup_id, _signups_in_scope(viewer_of(ctx)))
        )
    ).one_or_none()
    if found is None:
        raise not_found("报名", "signupId")
    row, parent = found
    organiser = await organises(ctx, parent.community_id, parent.team_id)
    parties = {SignupParty.ORGANISER} if organiser else set()
    if row.volunteer_id == viewer_of(ctx).user_id:
        parties.add(SignupParty.VOLUNTEER)
    return _Signup(row, parent, parties)


def _signup_step(found: _Signup, action: SignupAction) -> SignupStatus:
    try:
        return SIGNUP_LIFECYCLE.next_state(action, found.row.status, found.parties)
    except TransitionRefused as refusal:
        raise refused(
            refusal, thing="报名", states=SIGNUP_STATUS_NAMES, actions=SIGNUP_ACTION_NAMES, field="signupId"
        ) from refusal


@allowed_to(Role.RESIDENT, *ADMINS)
async def cancel_signup(ctx: RequestContext, signup_id: uuid.UUID, reason: str | None) -> uuid.UUID:
    """The volunteer cancels before the start; an organiser removes a sign-up with a reason. A
    place freed goes to the head of the waiting list in the same transaction."""
    found = await _signup_to_change(ctx, signup_id)
    row = found.row
    mine = SignupParty.VOLUNTEER in found.parties
    check = InputCheck()
    if not mine:
        reason = check.text(reason or "", "reason", "取消理由", min_length=2, max_length=200)
    check.done()
    seated = row.status in SEATED
    row.status = _signup_step(found, SignupAction.CANCEL)
    if SignupParty.ORGANISER not in found.parties and ctx.clock() >= found.activity.starts_at:
        raise fail(ErrorCode.TOO_LATE, "活动已开始，不能再取消报名。", "signupId")
    row.cancelled_at = ctx.clock()
    row.reason = reason.strip() if reason and reason.strip() else None
    await _save_signup(ctx)
    if seated:
        await _free_place(ctx, row.activity_id)
        if found.activity.status is ActivityStatus.PUBLISHED and ctx.clock() < found.activity.starts_at:
            await _promote(ctx, row.activity_id, found.activity.title)
    if not mine:
        await notify(
            ctx,
            [row.volunteer_id],
            kind=NotificationKind.VOLUNTEER_SIGNUP_CANCELLED,
            title="志愿活动报名被取消",
            body=f"您报名的“{found.activity.title}”已被组织者取消：{reason}",
            subject=Subject(SubjectType.VOLUNTEER_ACTIVITY, row.activity_id),
        )
    return row.id


# --- on site: check-in codes, attendance, hours ----------------------------------------------


class Attendance(enum.Enum):
    """What a volunteer's scan (or the organiser on their behalf) records."""

    CHECK_IN = b"I"
    CHECK_OUT = b"O"


@dataclass(frozen=True)
class CheckInCode:
    token: str
    expires_at: datetime
    purpose: Attendance


_CODE = struct.Struct(">16s16scI")  # tenant, activity, purpose, expiry (Unix seconds)


@allowed_to(Role.RESIDENT, *ADMINS)
async def check_in_code(ctx: RequestContext, activity_id: uuid.UUID, purpose: Attendance) -> CheckInCode:
    """A short-lived signed code for the organiser's app to show as a QR code; volunteers scan
    it to check in (or out). A fresh one is asked for before it runs out."""
    found = await activity(ctx, activity_id)
    if found is None or not await organises(ctx, found.community_id, found.team_id):
        raise not_found("志愿活动", "activityId")
    if found.status is not ActivityStatus.PUBLISHED:
        raise fail(
            ErrorCode.INVALID_TRANSITION,
            f"该活动当前状态为“{ACTIVITY_STATUS_NAMES[found.status]}”，不能签到。",
            "activityId",
        )
    assert ctx.tenant is not None
    expires = ctx.clock() + timedelta(seconds=ctx.settings.check_in_code_seconds)
    payload = _CODE.pack(ctx.tenant.id.bytes, activity_id.bytes, purpose.value, int(expires.timestamp()))
    token = seal(payload, secret=ctx.settings.secret_key or "", purpose=CHECK_IN_SEAL)
    return CheckInCode(token=token, expires_at=expires, purpose=purpose)


def _read_code(ctx: RequestContext, token: str) -> tuple[uuid.UUID, Attendance]:
    """The activity and purpose of a code made in this street office and still valid; every
    other code (forged, expired, another office's) answers alike."""
    payload = unseal(token.strip(), secret=ctx.settings.secret_key or "", purpose=CHECK_IN_SEAL)
    invalid = fail(ErrorCode.INVALID_CODE, "签到码无效或已过期，请扫描组织者手机上的最新签到码。", "code")
    if payload is None or len(payload) != _CODE.size:
        raise invalid
    tenant, activity_bytes, purpose, expires = _CODE.unpack(payload)
    if ctx.tenant is None or tenant != ctx.tenant.id.bytes or expires <= ctx.clock().timestamp():
        raise invalid
    try:
        return uuid.UUID(bytes=activity_bytes), Attendance(purpose)
    except ValueError as error:
        raise invalid from error


@allowed_to(Role.RESIDENT)
async def check_in_with_code(ctx: RequestContext, code: str) -> uuid.UUID:
    activity_id, purpose = _read_code(ctx, code)
    signup_id = await session_of(ctx).scalar(
        select(VolunteerSignup.id).where(
            VolunteerSignup.activity_id == activity_id, VolunteerSignup.volunteer_id == viewer_of(ctx).user_id
        )
    )
    if signup_id is None:
        raise fail(ErrorCode.NOT_SIGNED_UP, "您没有报名该活动。", "code")
    return await _attend(ctx, signup_id, purpose, field="code")


@allowed_to(Role.RESIDENT, *ADMINS)
async def record_attendance(ctx: RequestContext, signup_id: uuid.UUID, purpose: Attendance) -> uuid.UUID:
    """The organiser checks a volunteer in or out on their behalf (no phone, a failed scan)."""
    found = await _signup_to_change(ctx, signup_id)
    if SignupParty.ORGANISER not in found.parties:
        raise fail(ErrorCode.FORBIDDEN, "只有活动组织者可以代为签到、签退。")
    return await _attend(ctx, signup_id, purpose, field="signupId", found=found)


async def _attend(
    ctx: RequestContext, signup_id: uuid.UUID, purpose: Attendance, *, field: str, found: _Signup | None = None
) -> uuid.UUID:
    found = found or await _signup_to_change(ctx, signup_id)
    parent = found.activity
    now = ctx.clock()
    if parent.status is not ActivityStatus.PUBLISHED:
        raise fail(
            ErrorCode.NOT_NOW, f"该活动当前状态为“{ACTIVITY_STATUS_NAMES[parent.status]}”，不能签到或签退。", field
        )
    if purpose is Attendance.CHECK_IN:
        found.row.status = _signup_step(found, SignupAction.CHECK_IN)
        if not parent.starts_at - CHECK_IN_EARLY <= now <= parent.ends_at:
            raise fail(ErrorCode.NOT_NOW, "只能在活动开始前 30 分钟至结束前签到。", field)
        found.row.checked_in_at = now
        await _save_signup(ctx)
    else:
        await _check_out(ctx, found.row, parent, found.parties, at=now)
    return found.row.id


async def _check_out(
    ctx: RequestContext,
    row: VolunteerSignup,
    parent: VolunteerActivity,
    parties: set[SignupParty],
    *,
    at: datetime,
) -> None:
    """Checks out and earns the hours served inside the activity's window, and their points."""
    try:
        row.status = SIGNUP_LIFECYCLE.next_state(SignupAction.CHECK_OUT, row.status, parties)
    except TransitionRefused as refusal:
        raise refused(
            refusal, thing="报名", states=SIGNUP_STATUS_NAMES, actions=SIGNUP_ACTION_NAMES, field="signupId"
        ) from refusal
    assert row.checked_in_at is not None
    row.checked_out_at = at
    row.minutes = served_minutes(row.checked_in_at, at, parent.starts_at, parent.ends_at)
    row.points = points_for(row.minutes, parent.points_per_hour)
    await _save_signup(ctx)
    await _credit(
        ctx,
        volunteer_id=row.volunteer_id,
        kind=PointsEntryKind.EARNED,
        minutes=row.minutes,
        points=row.points,
        signup_id=row.id,
        month=service_month(parent.starts_at),
        note=parent.title[:200],
    )


@allowed_to(Role.RESIDENT, *ADMINS)
async def adjust_hours(ctx: RequestContext, signup_id: uuid.UUID, minutes: int, reason: str) -> uuid.UUID:
    """An organiser corrects the minutes a volunteer served (at most the activity's length),
    with a reason; the difference in hours and points goes on the ledger as a new row."""
    check = InputCheck()
    reason = check.text(reason, "reason", "调整理由", min_length=2, max_length=200)
    check.done()
    found = await _signup_to_change(ctx, signup_id)
    row, parent = found.row, found.activity
    row.status = _signup_step(found, SignupAction.ADJUST_HOURS)
    longest = int((parent.ends_at - parent.starts_at) / timedelta(minutes=1))
    if not 0 <= minutes <= longest:
        raise fail(ErrorCode.INVALID, f"服务时长应为 0–{longest} 分钟。", "minutes")
    before_minutes, before_points = row.minutes or 0, row.points or 0
    row.minutes = minutes
    row.points = points_for(minutes, parent.points_per_hour)
    row.adjustment_reason = reason
    await _save_signup(ctx)
    await _credit(
        ctx,
        volunteer_id=row.volunteer_id,
        kind=PointsEntryKind.ADJUSTED,
        minutes=minutes - before_minutes,
        points=row.points - before_points,
        signup_id=row.id,
        month=service_month(parent.starts_at),
        note=reason,
    )
    return row.id


async def _credit(
    ctx: RequestContext,
    *,
    volunteer_id: uuid.UUID,
    kind: PointsEntryKind,
    minutes: int,
    points: int,
    signup_id: uuid.UUID | None,
    month: int | None,
    note: str | None,
) -> None:
    """One ledger row, and the totals it moves, in the same transaction. Points are never
    overdrawn: the balance moves only if it stays at or above zero."""
    session = session_of(ctx)
    earned = 0 if kind is PointsEntryKind.REDEEMED else points
    moved = await session.execute(
        update(Volunteer)
        .where(Volunteer.id == volunteer_id, Volunteer.points_balance + points >= 0)
        .values(
            total_minutes=Volunteer.total_minutes + minutes,
            points_earned=Volunteer.points_earned + earned,
            points_balance=Volunteer.points_balance + points,
        )
        .returning(Volunteer.community_id)
        .execution_options(synchronize_session=False)
    )
    community_id = moved.scalar()
    if community_id is None:
        raise fail(ErrorCode.INSUFFICIENT_POINTS, "积分余额不足。", "points")
    session.add(
        VolunteerPointsEntry(
            volunteer_id=volunteer_id,
            kind=kind,
            minutes=minutes,
            points=points,
            signup_id=signup_id,
            note=note,
            actor_id=ctx.viewer.user_id if ctx.viewer else None,
            created_at=ctx.clock(),
        )
    )
    await session.flush()
    if month is None or kind is PointsEntryKind.REDEEMED:
        return
    assert ctx.tenant is not None
    insert = await upsert(session, VolunteerMonthlyTotal)
    await session.execute(
        insert.values(
            tenant_id=ctx.tenant.id,
            id=new_id(),
            volunteer_id=volunteer_id,
            community_id=community_id,
            month=month,
            minutes=minutes,
            points=points,
        ).on_conflict_do_update(
            index_elements=[
                VolunteerMonthlyTotal.tenant_id,
                VolunteerMonthlyTotal.volunteer_id,
                VolunteerMonthlyTotal.month,
            ],
            set_={
                "minutes": VolunteerMonthlyTotal.minutes + insert.excluded.minutes,
                "points": VolunteerMonthlyTotal.points + insert.excluded.points,
            },
        )
    )


@allowed_to(*ADMINS)
async def redeem_points(ctx: RequestContext, volunteer_id: uuid.UUID, points: int, note: str) -> uuid.UUID:
    """An admin records points spent (爱心超市, a certificate): never more than the balance,
    however many redemptions run at once."""
    check = InputCheck()
    check.require(1 <= points <= 100_000, "points", "兑换积分应为 1–100000。")
    note = check.text(note, "note", "兑换说明", min_length=2, max_length=200)
    check.done()
    found = await volunteer(ctx, volunteer_id)
    if found is None or not viewer_of(ctx).administers(found.community_id):
        raise not_found("志愿者", "volunteerId")
    await _credit(
        ctx,
        volunteer_id=volunteer_id,
        kind=PointsEntryKind.REDEEMED,
        minutes=0,
        points=-points,
        signup_id=None,
        month=None,
        note=note,
    )
    return volunteer_id


async def ledger(ctx: RequestContext, volunteer_id: uuid.UUID, page: PageRequest) -> Page[LedgerRow]:
    """Only reached through a volunteer the caller could see; newest first."""
    return await paginate(
        ctx,
        LEDGER.where(VolunteerPointsEntry.volunteer_id == volunteer_id),
        (VolunteerPointsEntry.id,),
        page,
        descending=True,
    )


# --- rankings --------------------------------------------------------------------------------


def mask_name(name: str) -> str:
    """王小明 → 王*明, 李雷 → 李*: enough for neighbours to recognise, not to look up."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


@allowed_to(*Role)
async def rankings(
    ctx: RequestContext, community_id: uuid.UUID, month: int, by_points: bool, page: PageRequest
) -> Page[RankingRow]:
    """A community's volunteers of one month, by hours or by points earned (光荣榜), from the
    maintained monthly totals: one index range, however many activities there were."""
    measure = VolunteerMonthlyTotal.points if by_points else VolunteerMonthlyTotal.minutes
    ranked = (
        select(
            VolunteerMonthlyTotal.volunteer_id,
            User.name,
            VolunteerMonthlyTotal.minutes,
            VolunteerMonthlyTotal.points,
            func.rank().over(order_by=measure.desc()).label("rank"),
        )
        .join(
            User, (User.tenant_id == VolunteerMonthlyTotal.tenant_id) & (User.id == VolunteerMonthlyTotal.volunteer_id)
        )
        .where(
            VolunteerMonthlyTotal.community_id == community_id,
            VolunteerMonthlyTotal.month == month,
            measure > 0,
        )
        .subquery()
    )
    selection = Selection(
        RankingRow, select(ranked.c.volunteer_id, ranked.c.name, ranked.c.minutes, ranked.c.points, ranked.c["rank"])
    )
    order = (ranked.c.points if by_points else ranked.c.minutes, ranked.c.volunteer_id)
    return await paginate(ctx, selection, order, page, descending=True)  # type: ignore[arg-type]


# --- the sweep -------------------------------------------------------------------------------


@dataclass
class SweepReport:
    reminded: int = 0
    completed: int = 0


async def sweep(ctx: RequestContext) -> SweepReport:
    """Reminds the volunteers of activities starting within a day (once: reminded_at), and
    completes activities a day past their end that nobody completed. Idempotent."""
    session = session_of(ctx)
    now = ctx.clock()
    report = SweepReport()
    due = (
        await session.scalars(
            select(VolunteerActivity).where(
                VolunteerActivity.status.in_(ACTIVITY_LIFECYCLE.sources(ActivityAction.REMIND, ActivityParty.SYSTEM)),
                VolunteerActivity.reminded_at.is_(None),
                VolunteerActivity.starts_at > now,
                VolunteerActivity.starts_at <= now + REMIND_AHEAD,
            )
        )
    ).all()
    for row in due:
        ACTIVITY_LIFECYCLE.next_state(ActivityAction.REMIND, row.status, {ActivityParty.SYSTEM})
        row.reminded_at = now
        _record(ctx, row, ActivityAction.REMIND, row.status)
        await notify(
            ctx,
            await _holders(ctx, row.id, (SignupStatus.CONFIRMED,)),
            kind=NotificationKind.VOLUNTEER_ACTIVITY_REMINDER,
            title="志愿活动提醒",
            body=f"您报名的“{row.title}”将于 {when(row.starts_at)} 在{row.place}开始，请准时参加。",
            subject=Subject(SubjectType.VOLUNTEER_ACTIVITY, row.id),
        )
        report.reminded += 1
    await session.flush()
    stale = (
        await session.scalars(
            select(VolunteerActivity).where(
                VolunteerActivity.status.in_(ACTIVITY_LIFECYCLE.sources(ActivityAction.COMPLETE, ActivityParty.SYSTEM)),
                VolunteerActivity.ends_at <= now - AUTO_COMPLETE_AFTER,
            )
        )
    ).all()
    for row in stale:
        await _complete(ctx, _Activity(row, {ActivityParty.SYSTEM}))
        report.completed += 1
    return report
