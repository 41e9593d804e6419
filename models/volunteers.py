"""Volunteering (志愿服务): residents registered as volunteers, teams, activities they sign up
for, the hours they serve and the points those earn.

Three rules hold in the database, whatever the caller checked before:
- an activity never has more confirmed places than its capacity: `taken` counts them on the
  activity's own row (CHECK taken <= capacity) and is only ever moved by a conditional UPDATE;
- one volunteer never holds two activities that overlap in time: an exclusion constraint on
  PostgreSQL (the sign-up carries its activity's window), a write transaction taken up front on
  SQLite;
- the points ledger is append-only: triggers refuse UPDATE and DELETE of its rows.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timedelta

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, enum_column, tenant_index, utcnow
from models.calendar import SHANGHAI
from models.lifecycle import Lifecycle, transition

# --- volunteers ------------------------------------------------------------------------------


class VolunteerStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class VolunteerAction(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REAPPLY = "reapply"
    UPDATE_PROFILE = "update_profile"


class VolunteerParty(enum.StrEnum):
    """What a caller is to one volunteer registration."""

    APPLICANT = "applicant"  # the resident themself
    ADMIN = "admin"  # community admin of the volunteer's community, or a tenant admin


_VS, _VA, _VP = VolunteerStatus, VolunteerAction, VolunteerParty
VOLUNTEER_LIFECYCLE: Lifecycle[VolunteerStatus, VolunteerAction, VolunteerParty] = Lifecycle(
    (
        transition(_VA.APPROVE, {_VS.PENDING}, _VS.APPROVED, _VP.ADMIN),
        transition(_VA.REJECT, {_VS.PENDING}, _VS.REJECTED, _VP.ADMIN),
        transition(_VA.REAPPLY, {_VS.REJECTED}, _VS.PENDING, _VP.APPLICANT),
        transition(_VA.UPDATE_PROFILE, {_VS.PENDING, _VS.APPROVED}, None, _VP.APPLICANT),
    )
)


class Availability(enum.StrEnum):
    WEEKDAY_MORNING = "weekday_morning"
    WEEKDAY_AFTERNOON = "weekday_afternoon"
    WEEKDAY_EVENING = "weekday_evening"
    WEEKEND_MORNING = "weekend_morning"
    WEEKEND_AFTERNOON = "weekend_afternoon"
    WEEKEND_EVENING = "weekend_evening"


class Volunteer(TenantOwned, Base):
    """A resident's registration as a volunteer; shares its id with the user. The community is
    the one they lived in when they applied: their activities and rankings are that community's."""

    __tablename__ = "volunteers"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "community_id"], ["communities.tenant_id", "communities.id"]),
        ForeignKeyConstraint(["tenant_id", "decided_by_id"], ["users.tenant_id", "users.id"]),
        CheckConstraint("total_minutes >= 0", name="minutes_not_negative"),
        CheckConstraint("points_balance >= 0", name="balance_not_negative"),
        tenant_index("community_id", "status"),
    )

    community_id: Mapped[uuid.UUID] = mapped_column()
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    availability: Mapped[list[str]] = mapped_column(JSON, default=list)
    availability_note: Mapped[str | None] = mapped_column(String(200))
    # 在职党员到社区报到: a Party member employed elsewhere who reports to serve where they live.
    party_member_reporting: Mapped[bool] = mapped_column(default=False)
    work_unit: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[VolunteerStatus] = mapped_column(enum_column(VolunteerStatus), default=VolunteerStatus.PENDING)
    reason: Mapped[str | None] = mapped_column(String(200))
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column()
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Kept with every ledger row, in the same statement that writes it (never recomputed).
    total_minutes: Mapped[int] = mapped_column(Integer, default=0)
    points_balance: Mapped[int] = mapped_column(Integer, default=0)
    points_earned: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


# --- teams -----------------------------------------------------------------------------------


class VolunteerTeam(TenantOwned, Base):
    __tablename__ = "volunteer_teams"
    __table_args__ = (
        UniqueConstraint("tenant_id", "community_id", "name"),
        ForeignKeyConstraint(["tenant_id", "community_id"], ["communities.tenant_id", "communities.id"]),
        ForeignKeyConstraint(["tenant_id", "created_by_id"], ["users.tenant_id", "users.id"]),
    )

    community_id: Mapped[uuid.UUID] = mapped_column()
    name: Mapped[str] = mapped_column(String(50))
    description: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[uuid.UUID] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VolunteerTeamMember(TenantOwned, Base):
    __tablename__ = "volunteer_team_members"
    __table_args__ = (
        UniqueConstraint("tenant_id", "team_id", "volunteer_id"),
        ForeignKeyConstraint(["tenant_id", "team_id"], ["volunteer_teams.tenant_id", "volunteer_teams.id"]),
        ForeignKeyConstraint(["tenant_id", "volunteer_id"], ["volunteers.tenant_id", "volunteers.id"]),
        tenant_index("volunteer_id"),
    )

    team_id: Mapped[uuid.UUID] = mapped_column()
    volunteer_id: Mapped[uuid.UUID] = mapped_column()
    is_leader: Mapped[bool] = mapped_column(default=False)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- activities ------------------------------------------------------------------------------


class ActivityStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ActivityAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"  # in PUBLISHED: the activity changed, and its volunteers are told
    PUBLISH = "publish"
    SIGN_UP = "sign_up"
    CANCEL = "cancel"
    COMPLETE = "complete"
    REMIND = "remind"


class ActivityParty(enum.StrEnum):
    """What a caller is to one activity."""

    ORGANISER = "organiser"  # an admin over its community (tenant admin for street-wide), or its team's leader
    VOLUNTEER = "volunteer"  # an approved volunteer who may take part (its community's, or anyone's if street-wide)
    SYSTEM = "system"  # the periodic sweep


_AS, _AA, _AP = ActivityStatus, ActivityAction, ActivityParty
ACTIVITY_LIFECYCLE: Lifecycle[ActivityStatus, ActivityAction, ActivityParty] = Lifecycle(
    (
        transition(_AA.UPDATE, {_AS.DRAFT, _AS.PUBLISHED}, None, _AP.ORGANISER),
        transition(_AA.PUBLISH, {_AS.DRAFT}, _AS.PUBLISHED, _AP.ORGANISER),
        transition(_AA.SIGN_UP, {_AS.PUBLISHED}, None, _AP.VOLUNTEER),
        transition(_AA.CANCEL, {_AS.DRAFT, _AS.PUBLISHED}, _AS.CANCELLED, _AP.ORGANISER),
        transition(_AA.COMPLETE, {_AS.PUBLISHED}, _AS.COMPLETED, _AP.ORGANISER, _AP.SYSTEM),
        # The reminder the day before: once (reminded_at), again only if the time moves.
        transition(_AA.REMIND, {_AS.PUBLISHED}, None, _AP.SYSTEM),
    )
)


class VolunteerActivity(TenantOwned, Base):
    """志愿者招募: an activity recruiting volunteers. `community_id` NULL: the whole street office's."""

    __tablename__ = "volunteer_activities"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "community_id"], ["communities.tenant_id", "communities.id"]),
        ForeignKeyConstraint(["tenant_id", "team_id"], ["volunteer_teams.tenant_id", "volunteer_teams.id"]),
        ForeignKeyConstraint(["tenant_id", "organiser_id"], ["users.tenant_id", "users.id"]),
        CheckConstraint("starts_at < ends_at", name="ends_after_start"),
        CheckConstraint("signup_deadline <= starts_at", name="deadline_before_start"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        # The seat counter: the only guard the database needs against overbooking.
        CheckConstraint("taken >= 0 AND taken <= capacity", name="taken_within_capacity"),
        CheckConstraint("points_per_hour >= 0", name="points_not_negative"),
        Index("ix_volunteer_activities_listing", "tenant_id", "status", "starts_at"),
        Index("ix_volunteer_activities_community", "tenant_id", "community_id", "starts_at"),
        tenant_index("team_id"),
    )

    community_id: Mapped[uuid.UUID | None] = mapped_column()
    team_id: Mapped[uuid.UUID | None] = mapped_column()
    organiser_id: Mapped[uuid.UUID] = mapped_column()
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    signup_deadline: Mapped[datetime] = mapped_column()
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    required_skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    points_per_hour: Mapped[int] = mapped_column(Integer, default=10)
    # The cover image's file; named storage_key so `wanjia media sweep` knows it is in use.
    storage_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[ActivityStatus] = mapped_column(enum_column(ActivityStatus), default=ActivityStatus.DRAFT)
    reason: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
    reminded_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class VolunteerActivityEvent(TenantOwned, Base):
    """One step on an activity's timeline."""

    __tablename__ = "volunteer_activity_events"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "activity_id"], ["volunteer_activities.tenant_id", "volunteer_activities.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "actor_id"], ["users.tenant_id", "users.id"]),
        Index("ix_volunteer_activity_events_activity", "tenant_id", "activity_id", "id"),
    )

    activity_id: Mapped[uuid.UUID] = mapped_column()
    action: Mapped[ActivityAction] = mapped_column(enum_column(ActivityAction))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    from_status: Mapped[ActivityStatus | None] = mapped_column(enum_column(ActivityStatus))
    to_status: Mapped[ActivityStatus] = mapped_column(enum_column(ActivityStatus))
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- sign-ups --------------------------------------------------------------------------------


class SignupStatus(enum.StrEnum):
    WAITLISTED = "waitlisted"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    SERVED = "served"
    CANCELLED = "cancelled"
    ABSENT = "absent"


# The states that hold the volunteer's time: the exclusion constraint covers exactly these.
HOLDING = (SignupStatus.WAITLISTED, SignupStatus.CONFIRMED, SignupStatus.CHECKED_IN, SignupStatus.SERVED)
# The states that hold one of the activity's places (counted by `taken`).
SEATED = (SignupStatus.CONFIRMED, SignupStatus.CHECKED_IN, SignupStatus.SERVED)


class SignupAction(enum.StrEnum):
    PROMOTE = "promote"
    CANCEL = "cancel"
    CHECK_IN = "check_in"
    CHECK_OUT = "check_out"
    ADJUST_HOURS = "adjust_hours"
    MARK_ABSENT = "mark_absent"


class SignupParty(enum.StrEnum):
    VOLUNTEER = "volunteer"  # the volunteer who signed up
    ORGANISER = "organiser"  # an organiser of the activity
    SYSTEM = "system"  # promotion from the waiting list, completion of the activity


_SS, _SA, _SP = SignupStatus, SignupAction, SignupParty
SIGNUP_LIFECYCLE: Lifecycle[SignupStatus, SignupAction, SignupParty] = Lifecycle(
    (
        transition(_SA.PROMOTE, {_SS.WAITLISTED}, _SS.CONFIRMED, _SP.SYSTEM),
        transition(_SA.CANCEL, {_SS.WAITLISTED, _SS.CONFIRMED}, _SS.CANCELLED, _SP.VOLUNTEER, _SP.ORGANISER),
        transition(_SA.CHECK_IN, {_SS.CONFIRMED}, _SS.CHECKED_IN, _SP.VOLUNTEER, _SP.ORGANISER),
        transition(_SA.CHECK_OUT, {_SS.CHECKED_IN}, _SS.SERVED, _SP.VOLUNTEER, _SP.ORGANISER, _SP.SYSTEM),
        transition(_SA.ADJUST_HOURS, {_SS.SERVED}, None, _SP.ORGANISER),
        transition(_SA.MARK_ABSENT, {_SS.CONFIRMED}, _SS.ABSENT, _SP.SYSTEM),
    )
)


class VolunteerSignup(TenantOwned, Base):
    """A volunteer's place (or place in line) in an activity. One row per volunteer and
    activity: signing up again after cancelling reuses it, at the end of the line."""

    __tablename__ = "volunteer_signups"
    __table_args__ = (
        UniqueConstraint("tenant_id", "activity_id", "volunteer_id"),
        ForeignKeyConstraint(
            ["tenant_id", "activity_id"], ["volunteer_activities.tenant_id", "volunteer_activities.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "volunteer_id"], ["volunteers.tenant_id", "volunteers.id"]),
        CheckConstraint("starts_at < ends_at", name="ends_after_start"),
        CheckConstraint("minutes IS NULL OR minutes >= 0", name="minutes_not_negative"),
        Index("ix_volunteer_signups_line", "tenant_id", "activity_id", "status", "queued_at", "id"),
        Index("ix_volunteer_signups_volunteer", "tenant_id", "volunteer_id", "starts_at"),
    )

    activity_id: Mapped[uuid.UUID] = mapped_column()
    volunteer_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[SignupStatus] = mapped_column(enum_column(SignupStatus))
    # The activity's window, kept equal to it, for the no-overlap constraint.
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    queued_at: Mapped[datetime] = mapped_column()
    checked_in_at: Mapped[datetime | None] = mapped_column()
    checked_out_at: Mapped[datetime | None] = mapped_column()
    minutes: Mapped[int | None] = mapped_column(Integer)
    points: Mapped[int | None] = mapped_column(Integer)
    adjustment_reason: Mapped[str | None] = mapped_column(String(200))
    cancelled_at: Mapped[datetime | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


def served_minutes(checked_in_at: datetime, checked_out_at: datetime, starts_at: datetime, ends_at: datetime) -> int:
    """Whole minutes between check-in and check-out that fall inside the activity's window:
    coming early or staying late earns nothing extra."""
    start = max(checked_in_at, starts_at)
    end = min(checked_out_at, ends_at)
    return max(0, int((end - start) / timedelta(minutes=1)))


def points_for(minutes: int, points_per_hour: int) -> int:
    """Points for served minutes, rounded down to a whole point."""
    return minutes * points_per_hour // 60


def service_month(moment: datetime) -> int:
    """The month (yyyymm, China Standard Time) that hours served at `moment` count towards."""
    local = moment.astimezone(SHANGHAI)
    return local.year * 100 + local.month


# --- points ----------------------------------------------------------------------------------


class PointsEntryKind(enum.StrEnum):
    EARNED = "earned"
    ADJUSTED = "adjusted"
    REDEEMED = "redeemed"


class VolunteerPointsEntry(TenantOwned, Base):
    """The points ledger: append-only (the migration's triggers refuse UPDATE and DELETE). A
    correction is a new ADJUSTED row; a balance is the sum of rows, kept on the volunteer."""

    __tablename__ = "volunteer_points_ledger"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "volunteer_id"], ["volunteers.tenant_id", "volunteers.id"]),
        ForeignKeyConstraint(["tenant_id", "signup_id"], ["volunteer_signups.tenant_id", "volunteer_signups.id"]),
        ForeignKeyConstraint(["tenant_id", "actor_id"], ["users.tenant_id", "users.id"]),
        Index("ix_volunteer_points_ledger_volunteer", "tenant_id", "volunteer_id", "id"),
    )

    volunteer_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[PointsEntryKind] = mapped_column(enum_column(PointsEntryKind))
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[int] = mapped_column(Integer)
    signup_id: Mapped[uuid.UUID | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(String(200))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class VolunteerMonthlyTotal(TenantOwned, Base):
    """Hours and points earned per volunteer and month, kept with every EARNED or ADJUSTED
    ledger row, so a community's monthly ranking is one index range."""

    __tablename__ = "volunteer_monthly_totals"
    __table_args__ = (
        UniqueConstraint("tenant_id", "volunteer_id", "month"),
        ForeignKeyConstraint(["tenant_id", "volunteer_id"], ["volunteers.tenant_id", "volunteers.id"]),
        ForeignKeyConstraint(["tenant_id", "community_id"], ["communities.tenant_id", "communities.id"]),
        Index(
            "ix_volunteer_monthly_totals_by_minutes", "tenant_id", "community_id", "month", "minutes", "volunteer_id"
        ),
        Index("ix_volunteer_monthly_totals_by_points", "tenant_id", "community_id", "month", "points", "volunteer_id"),
    )

    volunteer_id: Mapped[uuid.UUID] = mapped_column()
    community_id: Mapped[uuid.UUID] = mapped_column()
    month: Mapped[int] = mapped_column(Integer)
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    points: Mapped[int] = mapped_column(Integer, default=0)
