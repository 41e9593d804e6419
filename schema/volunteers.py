"""Volunteering (志愿服务): registrations, teams, activities, sign-ups, check-in, hours, points."""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from models.errors import ErrorCode
from models.volunteers import (
    ActivityAction,
    ActivityStatus,
    Availability,
    PointsEntryKind,
    SignupAction,
    SignupStatus,
    VolunteerStatus,
)
from resolvers import organisation, people, volunteers
from resolvers.errors import DomainError, Issue
from resolvers.pagination import Page
from resolvers.uploads import IncomingFiles
from schema.common import (
    Connection,
    Info,
    ScopedNode,
    UserError,
    attempt,
    connection,
    decode_id,
    mirror_enum,
    nodes_by_id,
    page_request,
    referenced,
    shanghai,
)
from schema.cost import cost
from schema.organisation import Community, Person
from schema.uploads import ATTACHMENT_IDS_DESCRIPTION, download_url, incoming_files

if TYPE_CHECKING:  # see mirror_enum
    VolunteerStatusType = VolunteerStatus
else:
    VolunteerStatusType = mirror_enum(
        VolunteerStatus,
        volunteers.VOLUNTEER_STATUS_NAMES,
        name="VolunteerStatus",
        description="Where a volunteer registration stands.",
    )
if TYPE_CHECKING:  # see mirror_enum
    AvailabilityType = Availability
else:
    AvailabilityType = mirror_enum(
        Availability,
        volunteers.AVAILABILITY_NAMES,
        name="VolunteerAvailability",
        description="When a volunteer can help.",
    )
if TYPE_CHECKING:  # see mirror_enum
    ActivityStatusType = ActivityStatus
else:
    ActivityStatusType = mirror_enum(
        ActivityStatus,
        volunteers.ACTIVITY_STATUS_NAMES,
        name="VolunteerActivityStatus",
        description="Where a volunteer activity stands.",
    )
if TYPE_CHECKING:  # see mirror_enum
    ActivityActionType = ActivityAction
else:
    ActivityActionType = mirror_enum(
        ActivityAction,
        volunteers.ACTIVITY_ACTION_NAMES,
        name="VolunteerActivityAction",
        description="A step on an activity's timeline, or one a caller may take now (viewerCan).",
    )
if TYPE_CHECKING:  # see mirror_enum
    SignupStatusType = SignupStatus
else:
    SignupStatusType = mirror_enum(
        SignupStatus,
        volunteers.SIGNUP_STATUS_NAMES,
        name="VolunteerSignupStatus",
        description="Where a sign-up stands.",
    )
if TYPE_CHECKING:  # see mirror_enum
    SignupActionType = SignupAction
else:
    SignupActionType = mirror_enum(
        SignupAction,
        volunteers.SIGNUP_ACTION_NAMES,
        name="VolunteerSignupAction",
        description="A step the caller may take on a sign-up now (viewerCan).",
    )
if TYPE_CHECKING:  # see mirror_enum
    PointsEntryKindType = PointsEntryKind
else:
    PointsEntryKindType = mirror_enum(
        PointsEntryKind, volunteers.POINTS_KIND_NAMES, name="VolunteerPointsKind", description="Why points moved."
    )


@strawberry.enum(description="What a check-in code (or the organiser) records.")
class AttendanceStep(enum.Enum):
    CHECK_IN = strawberry.enum_value("check_in", description="签到")
    CHECK_OUT = strawberry.enum_value("check_out", description="签退")


ATTENDANCE = {
    AttendanceStep.CHECK_IN: volunteers.Attendance.CHECK_IN,
    AttendanceStep.CHECK_OUT: volunteers.Attendance.CHECK_OUT,
}


@strawberry.enum(description="What a ranking orders by.")
class RankingMeasure(enum.Enum):
    HOURS = strawberry.enum_value("hours", description="服务时长")
    POINTS = strawberry.enum_value("points", description="获得积分")


def _hours(minutes: int | None) -> float | None:
    return None if minutes is None else round(minutes / 60, 2)


@strawberry.type(description="One row of a volunteer's points ledger (append-only).")
class PointsEntry:
    kind: PointsEntryKindType
    minutes: int = strawberry.field(description="Service minutes this row adds (negative: taken back).")
    points: int = strawberry.field(description="Points this row adds (negative: adjusted down or redeemed).")
    note: str | None
    at: datetime


@strawberry.type(description="志愿者: a resident's volunteer registration, as the caller may see it.")
class Volunteer(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    name: str
    phone: str = strawberry.field(description="Masked unless the caller is the volunteer or an admin over them.")
    skills: list[str]
    availability: list[AvailabilityType]
    availability_note: str | None
    party_member_reporting: bool = strawberry.field(description="在职党员到社区报到.")
    work_unit: str | None = strawberry.field(description="A reporting Party member's employer.")
    status: VolunteerStatusType
    reason: str | None = strawberry.field(description="Why the application was rejected.")
    applied_at: datetime
    decided_at: datetime | None
    service_hours: float = strawberry.field(description="Hours served in all, as the ledger adds them up.")
    points_balance: int = strawberry.field(description="Points earned less points redeemed.")
    points_earned: int
    community_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, info: Info, row: volunteers.VolunteerRow) -> Volunteer:
        return cls(
            id=row.id,
            name=row.name,
            phone=people.shown_phone(info.context, row.id, row.phone, row.community_id),
            skills=list(row.skills or []),
            availability=[AvailabilityType(a) for a in row.availability or []],
            availability_note=row.availability_note,
            party_member_reporting=row.party_member_reporting,
            work_unit=row.work_unit,
            status=VolunteerStatusType(row.status),
            reason=row.reason,
            applied_at=shanghai(row.applied_at),
            decided_at=shanghai(row.decided_at),
            service_hours=_hours(row.total_minutes) or 0.0,
            points_balance=row.points_balance,
            points_earned=row.points_earned,
            community_id=row.community_id,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[Volunteer | None]:
        return await nodes_by_id(
            node_ids, lambda i: volunteers.volunteer(info.context, i), lambda r: cls.from_row(info, r)
        )

    @strawberry.field
    async def community(self, info: Info) -> Community:
        return Community.from_row(referenced(await organisation.community(info.context, self.community_id)))

    @strawberry.field(description="Points earned, adjusted and redeemed, newest first.")
    async def points_ledger(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[PointsEntry]:
        page = await volunteers.ledger(info.context, self.id, page_request(info, first, after))
        return connection(
            page,
            lambda r: PointsEntry(
                kind=PointsEntryKindType(r.kind),
                minutes=r.minutes,
                points=r.points,
                note=r.note,
                at=shanghai(r.created_at),
            ),
        )


@strawberry.type(description="A member of a volunteer team.")
class VolunteerTeamMember:
    volunteer_id: relay.GlobalID
    name: str
    phone: str = strawberry.field(description="Masked unless the caller may see it whole.")
    is_leader: bool
    joined_at: datetime


@strawberry.type(description="志愿服务队: a community's volunteer team; its leaders organise its activities.")
class VolunteerTeam(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    name: str
    description: str
    community_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: volunteers.TeamRow) -> VolunteerTeam:
        return cls(id=row.id, name=row.name, description=row.description, community_id=row.community_id)

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[VolunteerTeam | None]:
        return await nodes_by_id(node_ids, lambda i: volunteers.team(info.context, i), cls.from_row)

    @strawberry.field
    async def community(self, info: Info) -> Community:
        return Community.from_row(referenced(await organisation.community(info.context, self.community_id)))

    @strawberry.field(description="Members, leaders included (signed-in callers).")
    async def members(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[VolunteerTeamMember]:
        page = await volunteers.team_members(info.context, self.id, page_request(info, first, after))
        return connection(
            page,
            lambda r: VolunteerTeamMember(
                volunteer_id=relay.GlobalID("Volunteer", str(r.volunteer_id)),
                name=r.name,
                phone=people.shown_phone(info.context, r.volunteer_id, r.phone, r.community_id),
                is_leader=r.is_leader,
                joined_at=shanghai(r.joined_at),
            ),
        )


@strawberry.type(description="One step on a volunteer activity's timeline.")
class VolunteerActivityEvent:
    action: ActivityActionType
    actor_name: str | None = strawberry.field(description="Who took the step; null for the system.")
    from_status: ActivityStatusType | None
    to_status: ActivityStatusType
    note: str | None = strawberry.field(description="What changed, or why.")
    at: datetime


@strawberry.type(description="志愿者招募: a volunteer activity.")
class VolunteerActivity(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    title: str
    description: str
    place: str
    starts_at: datetime
    ends_at: datetime
    signup_deadline: datetime
    capacity: int
    places_taken: int
    places_left: int
    required_skills: list[str]
    points_per_hour: int
    status: ActivityStatusType
    reason: str | None = strawberry.field(description="Why it was cancelled.")
    published_at: datetime | None
    completed_at: datetime | None
    street_wide: bool = strawberry.field(
        description="Of the whole street office, open to every community's volunteers."
    )
    row: strawberry.Private[volunteers.ActivityRow]

    @classmethod
    def from_row(cls, row: volunteers.ActivityRow) -> VolunteerActivity:
        return cls(
            id=row.id,
            title=row.title,
            description=row.description,
            place=row.place,
            starts_at=shanghai(row.starts_at),
            ends_at=shanghai(row.ends_at),
            signup_deadline=shanghai(row.signup_deadline),
            capacity=row.capacity,
            places_taken=row.taken,
            places_left=max(0, row.capacity - row.taken),
            required_skills=list(row.required_skills or []),
            points_per_hour=row.points_per_hour,
            status=ActivityStatusType(row.status),
            reason=row.reason,
            published_at=shanghai(row.published_at),
            completed_at=shanghai(row.completed_at),
            street_wide=row.community_id is None,
            row=row,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[VolunteerActivity | None]:
        return await nodes_by_id(node_ids, lambda i: volunteers.activity(info.context, i), cls.from_row)

    @strawberry.field(description="Its community; null for an activity of the whole street office.")
    async def community(self, info: Info) -> Community | None:
        if self.row.community_id is None:
            return None
        return Community.from_row(referenced(await organisation.community(info.context, self.row.community_id)))

    @strawberry.field(description="The team organising it, if any.")
    async def team(self, info: Info) -> VolunteerTeam | None:
        if self.row.team_id is None:
            return None
        found = await volunteers.team(info.context, self.row.team_id)
        return VolunteerTeam.from_row(found) if found else None

    @strawberry.field(description="The cover image (a signed URL), if it has one.")
    def cover_url(self, info: Info) -> str | None:
        return download_url(info, self.row.storage_key) if self.row.storage_key else None

    @strawberry.field(description="Volunteers waiting for a place, in line.")
    async def waitlist_length(self, info: Info) -> int:
        return await volunteers.waiting_count(info.context, self.id)

    @strawberry.field(description="The steps the caller may take on it now.", metadata=cost(items=len(ActivityAction)))
    async def viewer_can(self, info: Info) -> list[ActivityActionType]:
        actions = await volunteers.viewer_can_on_activity(info.context, self.row)
        return [ActivityActionType(a.value) for a in sorted(actions)]

    @strawberry.field(description="The caller's own sign-up for it, if they have one.")
    async def my_signup(self, info: Info) -> VolunteerSignup | None:
        found = await volunteers.own_signup(info.context, self.id)
        return VolunteerSignup.from_row(found) if found else None

    @strawberry.field(description="Its sign-ups in line order: for its organisers, empty for anyone else.")
    async def signups(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[VolunteerSignup]:
        page = await volunteers.signups_of(info.context, self.row, page_request(info, first, after))
        nothing: Page[volunteers.SignupRow] = Page.empty()
        return connection(page or nothing, VolunteerSignup.from_row)

    @strawberry.field(description="Its steps, oldest first.")
    async def timeline(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[VolunteerActivityEvent]:
        page = await volunteers.timeline(info.context, self.id, page_request(info, first, after))
        return connection(
            page,
            lambda r: VolunteerActivityEvent(
                action=ActivityActionType(r.action),
                actor_name=r.actor_name,
                from_status=ActivityStatusType(r.from_status) if r.from_status else None,
                to_status=ActivityStatusType(r.to_status),
                note=r.note,
                at=shanghai(r.created_at),
            ),
        )


@strawberry.type(description="A volunteer's place, or place in line, in an activity.")
class VolunteerSignup(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    status: SignupStatusType
    queued_at: datetime = strawberry.field(description="When they signed up: the order of the waiting list.")
    checked_in_at: datetime | None
    checked_out_at: datetime | None
    service_hours: float | None = strawberry.field(description="Hours served inside the activity's time.")
    points: int | None
    adjustment_reason: str | None = strawberry.field(description="Why the organiser adjusted the hours.")
    cancelled_at: datetime | None
    reason: str | None = strawberry.field(description="Why it was cancelled.")
    row: strawberry.Private[volunteers.SignupRow]

    @classmethod
    def from_row(cls, row: volunteers.SignupRow) -> VolunteerSignup:
        return cls(
            id=row.id,
            status=SignupStatusType(row.status),
            queued_at=shanghai(row.queued_at),
            checked_in_at=shanghai(row.checked_in_at),
            checked_out_at=shanghai(row.checked_out_at),
            service_hours=_hours(row.minutes),
            points=row.points,
            adjustment_reason=row.adjustment_reason,
            cancelled_at=shanghai(row.cancelled_at),
            reason=row.reason,
            row=row,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[VolunteerSignup | None]:
        return await nodes_by_id(node_ids, lambda i: volunteers.signup(info.context, i), cls.from_row)

    @strawberry.field
    async def activity(self, info: Info) -> VolunteerActivity | None:
        found = await volunteers.activity(info.context, self.row.activity_id)
        return VolunteerActivity.from_row(found) if found else None

    @strawberry.field(description="Who signed up; the phone masked unless the caller may see it whole.")
    def volunteer(self, info: Info) -> Person:
        phone = people.shown_phone(
            info.context, self.row.volunteer_id, self.row.volunteer_phone, self.row.volunteer_community_id
        )
        return Person(id=self.row.volunteer_id, name=self.row.volunteer_name, phone=phone)

    @strawberry.field(description="The steps the caller may take on it now.", metadata=cost(items=len(SignupAction)))
    async def viewer_can(self, info: Info) -> list[SignupActionType]:
        actions = await volunteers.viewer_can_on_signup(info.context, self.row)
        return [SignupActionType(a.value) for a in sorted(actions)]


@strawberry.type(description="One place in a community's monthly ranking (光荣榜).")
class VolunteerRanking:
    rank: int
    name: str = strawberry.field(description="王*明: whole only to the volunteer themself and admins over them.")
    service_hours: float
    points: int
    is_me: bool


@strawberry.type(description="A short-lived check-in code for the organiser's app to show as a QR code.")
class CheckInCode:
    code: str = strawberry.field(description="What the volunteer's app sends back (scanVolunteerActivityCode).")
    qr_payload: str = strawberry.field(description="The text to render as the QR code.")
    step: AttendanceStep
    expires_at: datetime


@strawberry.input
class VolunteerFilter:
    statuses: list[VolunteerStatusType] | None = None
    community_id: relay.GlobalID | None = None
    party_member_reporting: bool | None = strawberry.field(default=None, description="Only 在职党员 (or only others).")


def volunteer_filter(value: VolunteerFilter | None) -> volunteers.VolunteerFilter:
    if value is None:
        return volunteers.VolunteerFilter()
    return volunteers.VolunteerFilter(
        statuses=tuple(VolunteerStatus(s.value) for s in value.statuses or ()),
        community_id=decode_id(value.community_id, "Community", "filter.communityId") if value.community_id else None,
        party_member_reporting=value.party_member_reporting,
    )


@strawberry.input
class VolunteerActivityFilter:
    community_id: relay.GlobalID | None = strawberry.field(
        default=None,
        description="A community's activities and the whole street office's (what its residents may join).",
    )
    team_id: relay.GlobalID | None = None
    statuses: list[ActivityStatusType] | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None


def activity_filter(given: VolunteerActivityFilter | None) -> volunteers.ActivityFilter:
    """The list's filter as its use case takes it (also an export's, resolvers.exports)."""
    if given is None:
        return volunteers.ActivityFilter()
    return volunteers.ActivityFilter(
        community_id=decode_id(given.community_id, "Community", "filter.communityId") if given.community_id else None,
        team_id=decode_id(given.team_id, "VolunteerTeam", "filter.teamId") if given.team_id else None,
        statuses=tuple(ActivityStatus(s.value) for s in given.statuses or ()),
        starts_from=given.starts_from,
        starts_before=given.starts_before,
    )


MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def _month(value: str) -> int:
    matched = MONTH.match(value)
    if matched is None:
        raise DomainError(Issue(ErrorCode.INVALID, "月份格式应为 2026-12。", "month"))
    return int(matched[1]) * 100 + int(matched[2])


@strawberry.type
class Query:
    @strawberry.field(
        description="Skills volunteers pick from (free tags are accepted too). Public.", metadata=cost(items=100)
    )
    async def volunteer_skills(self, info: Info) -> list[str]:
        return await volunteers.skill_choices(info.context)

    @strawberry.field(description="The caller's own volunteer registration (residents); null before they apply.")
    async def my_volunteer_profile(self, info: Info) -> Volunteer | None:
        row = await volunteers.my_registration(info.context)
        return Volunteer.from_row(info, row) if row else None

    @strawberry.field(
        description="Admins: their community's volunteers, by application time (PENDING: the review queue)."
    )
    async def volunteers(
        self, info: Info, filter: VolunteerFilter | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[Volunteer]:
        page = await volunteers.list_volunteers(
            info.context, volunteer_filter(filter), page_request(info, first, after)
        )
        return connection(page, lambda r: Volunteer.from_row(info, r))

    @strawberry.field(description="Volunteer teams, optionally of one community. Public.")
    async def volunteer_teams(
        self, info: Info, community_id: relay.GlobalID | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[VolunteerTeam]:
        community = decode_id(community_id, "Community", "communityId") if community_id else None
        page = await volunteers.list_teams(info.context, community, page_request(info, first, after))
        return connection(page, VolunteerTeam.from_row)

    @strawberry.field(
        description="Volunteer activities by start time; public but for drafts, which only their organisers see."
    )
    async def volunteer_activities(
        self,
        info: Info,
        filter: VolunteerActivityFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[VolunteerActivity]:
        page = await volunteers.list_activities(info.context, activity_filter(filter), page_request(info, first, after))
        return connection(page, VolunteerActivity.from_row)

    @strawberry.field(description="The caller's own sign-ups, latest activity first (residents).")
    async def my_volunteer_signups(
        self,
        info: Info,
        statuses: list[SignupStatusType] | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[VolunteerSignup]:
        wanted = tuple(SignupStatus(s.value) for s in statuses or ())
        page = await volunteers.my_signups(info.context, wanted, page_request(info, first, after))
        return connection(page, VolunteerSignup.from_row)

    @strawberry.field(
        description="A community's volunteers of one month (2026-12), by hours or points earned. Signed-in callers."
    )
    async def volunteer_rankings(
        self,
        info: Info,
        community_id: relay.GlobalID,
        month: str,
        by: RankingMeasure = RankingMeasure.HOURS,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[VolunteerRanking]:
        community = decode_id(community_id, "Community", "communityId")
        page = await volunteers.rankings(
            info.context, community, _month(month), by is RankingMeasure.POINTS, page_request(info, first, after)
        )
        viewer = info.context.viewer

        def entry(row: volunteers.RankingRow) -> VolunteerRanking:
            whole = people.sees_full_contact(info.context, row.volunteer_id, community)
            return VolunteerRanking(
                rank=row.rank,
                name=row.name if whole else volunteers.mask_name(row.name),
                service_hours=_hours(row.minutes) or 0.0,
                points=row.points,
                is_me=viewer is not None and viewer.user_id == row.volunteer_id,
            )

        return connection(page, entry)

    @strawberry.field(description="An organiser's check-in (or check-out) code for an activity, to show as a QR code.")
    async def check_in_code(
        self, info: Info, activity_id: relay.GlobalID, step: AttendanceStep = AttendanceStep.CHECK_IN
    ) -> CheckInCode:
        found = await volunteers.check_in_code(
            info.context, decode_id(activity_id, "VolunteerActivity", "activityId"), ATTENDANCE[step]
        )
        return CheckInCode(
            code=found.token,
            qr_payload=f"wanjia:checkin:{found.token}",
            step=step,
            expires_at=shanghai(found.expires_at),
        )


# --- mutations -------------------------------------------------------------------------------


@strawberry.input(description="A volunteer application, or changes to one (the whole form).")
class ApplyAsVolunteerInput:
    skills: list[str] = strawberry.field(description="From volunteerSkills, or the applicant's own tags (1–10).")
    availability: list[AvailabilityType]
    availability_note: str | None = None
    party_member_reporting: bool = strawberry.field(default=False, description="在职党员到社区报到.")
    work_unit: str | None = strawberry.field(default=None, description="A reporting Party member's employer.")


@strawberry.input
class VolunteerDecisionInput:
    volunteer_id: relay.GlobalID
    reason: str | None = strawberry.field(default=None, description="Required when rejecting; shown to the applicant.")


@strawberry.type
class VolunteerPayload:
    volunteer: Volunteer | None
    errors: list[UserError]


@strawberry.input
class CreateVolunteerTeamInput:
    community_id: relay.GlobalID
    name: str
    description: str = ""


@strawberry.input
class VolunteerTeamMemberInput:
    team_id: relay.GlobalID
    volunteer_id: relay.GlobalID
    leader: bool = False


@strawberry.input
class RemoveVolunteerTeamMemberInput:
    team_id: relay.GlobalID
    volunteer_id: relay.GlobalID


@strawberry.type
class VolunteerTeamPayload:
    team: VolunteerTeam | None
    errors: list[UserError]


@strawberry.input(description="An activity's fields, as the organiser's form sends them.")
class VolunteerActivityFields:
    title: str
    description: str
    place: str
    starts_at: datetime
    ends_at: datetime
    signup_deadline: datetime
    capacity: int
    required_skills: list[str] = strawberry.field(default_factory=list)
    points_per_hour: int = 10


@strawberry.input(
    description="A draft activity: of a team (its leaders or admins), of a community (its admins) or, with neither, of the whole street office (tenant admins)."
)
class CreateVolunteerActivityInput:
    activity: VolunteerActivityFields
    community_id: relay.GlobalID | None = None
    team_id: relay.GlobalID | None = None
    cover: Upload | None = strawberry.field(default=None, description="A cover photo (GraphQL multipart).")
    cover_id: relay.GlobalID | None = strawberry.field(default=None, description=ATTACHMENT_IDS_DESCRIPTION)


@strawberry.input
class UpdateVolunteerActivityInput:
    activity_id: relay.GlobalID
    activity: VolunteerActivityFields
    cover: Upload | None = None
    cover_id: relay.GlobalID | None = strawberry.field(default=None, description=ATTACHMENT_IDS_DESCRIPTION)
    remove_cover: bool = False


@strawberry.input
class VolunteerActivityStepInput:
    activity_id: relay.GlobalID


@strawberry.input
class CancelVolunteerActivityInput:
    activity_id: relay.GlobalID
    reason: str = strawberry.field(description="Shown to its volunteers.")


@strawberry.type
class VolunteerActivityPayload:
    activity: VolunteerActivity | None
    errors: list[UserError]


@strawberry.input
class SignUpForVolunteerActivityInput:
    activity_id: relay.GlobalID


@strawberry.input
class CancelVolunteerSignupInput:
    signup_id: relay.GlobalID
    reason: str | None = strawberry.field(default=None, description="Required of organisers; shown to the volunteer.")


@strawberry.input
class ScanVolunteerActivityCodeInput:
    code: str = strawberry.field(description="The scanned check-in code (CheckInCode.code or its QR payload).")


@strawberry.input
class RecordVolunteerAttendanceInput:
    signup_id: relay.GlobalID
    step: AttendanceStep


@strawberry.input
class AdjustVolunteerHoursInput:
    signup_id: relay.GlobalID
    minutes: int = strawberry.field(description="The minutes served, at most the activity's length.")
    reason: str


@strawberry.type
class VolunteerSignupPayload:
    signup: VolunteerSignup | None
    errors: list[UserError]


@strawberry.input
class RedeemVolunteerPointsInput:
    volunteer_id: relay.GlobalID
    points: int
    note: str = strawberry.field(description="What they were exchanged for.")


def _volunteer_id(value: relay.GlobalID) -> uuid.UUID:
    return decode_id(value, "Volunteer", "volunteerId")


def _activity_id(value: relay.GlobalID) -> uuid.UUID:
    return decode_id(value, "VolunteerActivity", "activityId")


def _signup_id(value: relay.GlobalID) -> uuid.UUID:
    return decode_id(value, "VolunteerSignup", "signupId")


def _draft(fields: VolunteerActivityFields) -> volunteers.ActivityDraft:
    return volunteers.ActivityDraft(
        title=fields.title,
        description=fields.description,
        place=fields.place,
        starts_at=fields.starts_at,
        ends_at=fields.ends_at,
        signup_deadline=fields.signup_deadline,
        capacity=fields.capacity,
        required_skills=tuple(fields.required_skills),
        points_per_hour=fields.points_per_hour,
    )


def _cover(upload: Upload | None, upload_id: relay.GlobalID | None) -> IncomingFiles:
    return incoming_files([upload] if upload else [], [upload_id] if upload_id else [], "coverId")


async def _volunteer_payload(info: Info, action: Callable[[], Awaitable[uuid.UUID]]) -> VolunteerPayload:
    outcome = await attempt(info, action)
    row = await volunteers.volunteer(info.context, outcome.value) if outcome.value else None
    return VolunteerPayload(volunteer=Volunteer.from_row(info, row) if row else None, errors=outcome.errors)


async def _team_payload(info: Info, action: Callable[[], Awaitable[uuid.UUID]]) -> VolunteerTeamPayload:
    outcome = await attempt(info, action)
    row = await volunteers.team(info.context, outcome.value) if outcome.value else None
    return VolunteerTeamPayload(team=VolunteerTeam.from_row(row) if row else None, errors=outcome.errors)


async def _activity_payload(info: Info, action: Callable[[], Awaitable[uuid.UUID]]) -> VolunteerActivityPayload:
    outcome = await attempt(info, action)
    row = await volunteers.activity(info.context, outcome.value) if outcome.value else None
    return VolunteerActivityPayload(activity=VolunteerActivity.from_row(row) if row else None, errors=outcome.errors)


async def _signup_payload(info: Info, action: Callable[[], Awaitable[uuid.UUID]]) -> VolunteerSignupPayload:
    outcome = await attempt(info, action)
    row = await volunteers.signup(info.context, outcome.value) if outcome.value else None
    return VolunteerSignupPayload(signup=VolunteerSignup.from_row(row) if row else None, errors=outcome.errors)


def _scanned(code: str) -> str:
    """The code itself, whether the app sends it or the whole QR payload."""
    return code.strip().removeprefix("wanjia:checkin:")


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="A resident applies to volunteer (again after a rejection), or edits their registration."
    )
    async def apply_as_volunteer(self, info: Info, input: ApplyAsVolunteerInput) -> VolunteerPayload:
        application = volunteers.Application(
            skills=tuple(input.skills),
            availability=tuple(Availability(a.value) for a in input.availability),
            availability_note=input.availability_note,
            party_member_reporting=input.party_member_reporting,
            work_unit=input.work_unit,
        )
        return await _volunteer_payload(info, lambda: volunteers.apply(info.context, application))

    @strawberry.mutation(description="A community admin approves a volunteer application.")
    async def approve_volunteer(self, info: Info, input: VolunteerDecisionInput) -> VolunteerPayload:
        return await _volunteer_payload(
            info,
            lambda: volunteers.decide_volunteer(
                info.context, _volunteer_id(input.volunteer_id), approve=True, reason=None
            ),
        )

    @strawberry.mutation(description="A community admin rejects a volunteer application, with a reason.")
    async def reject_volunteer(self, info: Info, input: VolunteerDecisionInput) -> VolunteerPayload:
        return await _volunteer_payload(
            info,
            lambda: volunteers.decide_volunteer(
                info.context, _volunteer_id(input.volunteer_id), approve=False, reason=input.reason
            ),
        )

    @strawberry.mutation(description="An admin records points a volunteer exchanged (never more than their balance).")
    async def redeem_volunteer_points(self, info: Info, input: RedeemVolunteerPointsInput) -> VolunteerPayload:
        return await _volunteer_payload(
            info,
            lambda: volunteers.redeem_points(info.context, _volunteer_id(input.volunteer_id), input.points, input.note),
        )

    @strawberry.mutation(description="A community admin creates a volunteer team.")
    async def create_volunteer_team(self, info: Info, input: CreateVolunteerTeamInput) -> VolunteerTeamPayload:
        return await _team_payload(
            info,
            lambda: volunteers.create_team(
                info.context, decode_id(input.community_id, "Community", "communityId"), input.name, input.description
            ),
        )

    @strawberry.mutation(
        description="An admin adds an approved volunteer to a team, or makes them (no longer) a leader."
    )
    async def set_volunteer_team_member(self, info: Info, input: VolunteerTeamMemberInput) -> VolunteerTeamPayload:
        return await _team_payload(
            info,
            lambda: volunteers.set_team_member(
                info.context,
                decode_id(input.team_id, "VolunteerTeam", "teamId"),
                _volunteer_id(input.volunteer_id),
                input.leader,
            ),
        )

    @strawberry.mutation(description="An admin removes a member from a team.")
    async def remove_volunteer_team_member(
        self, info: Info, input: RemoveVolunteerTeamMemberInput
    ) -> VolunteerTeamPayload:
        return await _team_payload(
            info,
            lambda: volunteers.remove_team_member(
                info.context, decode_id(input.team_id, "VolunteerTeam", "teamId"), _volunteer_id(input.volunteer_id)
            ),
        )

    @strawberry.mutation(description="An organiser drafts an activity (published with publishVolunteerActivity).")
    async def create_volunteer_activity(
        self, info: Info, input: CreateVolunteerActivityInput
    ) -> VolunteerActivityPayload:
        async def create() -> uuid.UUID:
            return await volunteers.create_activity(
                info.context,
                _draft(input.activity),
                community_id=decode_id(input.community_id, "Community", "communityId") if input.community_id else None,
                team_id=decode_id(input.team_id, "VolunteerTeam", "teamId") if input.team_id else None,
                cover=_cover(input.cover, input.cover_id),
            )

        return await _activity_payload(info, create)

    @strawberry.mutation(
        description="An organiser edits a draft or published activity; once published, its volunteers are told what changed."
    )
    async def update_volunteer_activity(
        self, info: Info, input: UpdateVolunteerActivityInput
    ) -> VolunteerActivityPayload:
        async def change() -> uuid.UUID:
            return await volunteers.update_activity(
                info.context,
                _activity_id(input.activity_id),
                _draft(input.activity),
                cover=_cover(input.cover, input.cover_id),
                remove_cover=input.remove_cover,
            )

        return await _activity_payload(info, change)

    @strawberry.mutation(description="An organiser publishes a draft: volunteers may sign up until the deadline.")
    async def publish_volunteer_activity(
        self, info: Info, input: VolunteerActivityStepInput
    ) -> VolunteerActivityPayload:
        return await _activity_payload(
            info, lambda: volunteers.publish_activity(info.context, _activity_id(input.activity_id))
        )

    @strawberry.mutation(description="An organiser cancels an activity, with a reason its volunteers are told.")
    async def cancel_volunteer_activity(
        self, info: Info, input: CancelVolunteerActivityInput
    ) -> VolunteerActivityPayload:
        return await _activity_payload(
            info, lambda: volunteers.cancel_activity(info.context, _activity_id(input.activity_id), input.reason)
        )

    @strawberry.mutation(
        description="An organiser ends an activity once begun: still checked in are checked out, no-shows marked absent."
    )
    async def complete_volunteer_activity(
        self, info: Info, input: VolunteerActivityStepInput
    ) -> VolunteerActivityPayload:
        return await _activity_payload(
            info, lambda: volunteers.complete_activity(info.context, _activity_id(input.activity_id))
        )

    @strawberry.mutation(
        description="An approved volunteer signs up: a place if one is free, else the waiting list. Never two overlapping activities."
    )
    async def sign_up_for_volunteer_activity(
        self, info: Info, input: SignUpForVolunteerActivityInput
    ) -> VolunteerSignupPayload:
        return await _signup_payload(info, lambda: volunteers.sign_up(info.context, _activity_id(input.activity_id)))

    @strawberry.mutation(
        description="The volunteer cancels before the start, or an organiser with a reason; the waiting list moves up."
    )
    async def cancel_volunteer_signup(self, info: Info, input: CancelVolunteerSignupInput) -> VolunteerSignupPayload:
        return await _signup_payload(
            info, lambda: volunteers.cancel_signup(info.context, _signup_id(input.signup_id), input.reason)
        )

    @strawberry.mutation(description="A volunteer checks in or out with the code scanned from the organiser's app.")
    async def scan_volunteer_activity_code(
        self, info: Info, input: ScanVolunteerActivityCodeInput
    ) -> VolunteerSignupPayload:
        return await _signup_payload(info, lambda: volunteers.check_in_with_code(info.context, _scanned(input.code)))

    @strawberry.mutation(description="An organiser checks a volunteer in or out on their behalf.")
    async def record_volunteer_attendance(
        self, info: Info, input: RecordVolunteerAttendanceInput
    ) -> VolunteerSignupPayload:
        return await _signup_payload(
            info,
            lambda: volunteers.record_attendance(info.context, _signup_id(input.signup_id), ATTENDANCE[input.step]),
        )

    @strawberry.mutation(description="An organiser corrects the hours a volunteer served, with a reason.")
    async def adjust_volunteer_hours(self, info: Info, input: AdjustVolunteerHoursInput) -> VolunteerSignupPayload:
        return await _signup_payload(
            info,
            lambda: volunteers.adjust_hours(info.context, _signup_id(input.signup_id), input.minutes, input.reason),
        )
