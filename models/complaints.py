"""Complaints (开门纳谏 / 随手拍): a resident's issue, handled to a rated resolution.

The lifecycle lives here as data: which action moves which state to which, and who may take
it. Who a caller *is* to a complaint (its resident, its handler, staff of the department it
was dispatched to, an admin over it) is decided by the resolvers; the rules below only say
what each of those may do.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, enum_column, utcnow


class ComplaintCategory(TenantOwned, Base):
    """A category with its deadlines: acknowledge in working hours, resolve in working days."""

    __tablename__ = "complaint_categories"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        ForeignKeyConstraint(["tenant_id", "default_department_id"], ["departments.tenant_id", "departments.id"]),
        CheckConstraint("acknowledge_hours > 0", name="acknowledge_positive"),
        CheckConstraint("resolve_days > 0", name="resolve_positive"),
    )

    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(50))
    acknowledge_hours: Mapped[int] = mapped_column(Integer)
    resolve_days: Mapped[int] = mapped_column(Integer)
    default_department_id: Mapped[uuid.UUID | None] = mapped_column()


class ComplaintStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    DISPATCHED = "dispatched"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    REOPENED = "reopened"
    WITHDRAWN = "withdrawn"


OPEN = frozenset(
    {
        ComplaintStatus.SUBMITTED,
        ComplaintStatus.ACCEPTED,
        ComplaintStatus.IN_PROGRESS,
        ComplaintStatus.DISPATCHED,
        ComplaintStatus.REOPENED,
    }
)


class ComplaintSource(enum.StrEnum):
    APP = "app"
    PHONE = "phone"
    VISIT = "visit"
    INSPECTION = "inspection"


class Action(enum.StrEnum):
    SUBMIT = "submit"
    ACCEPT = "accept"
    START_WORK = "start_work"
    RESOLVE = "resolve"
    REJECT = "reject"
    DISPATCH = "dispatch"
    DEPARTMENT_ACCEPT = "department_accept"
    RETURN_TO_GRID = "return_to_grid"
    REASSIGN = "reassign"
    SUPERVISE = "supervise"
    CONFIRM = "confirm"
    REOPEN = "reopen"
    WITHDRAW = "withdraw"
    MARK_OVERDUE = "mark_overdue"
    AUTO_CLOSE = "auto_close"


class Party(enum.StrEnum):
    """What a caller is to one complaint."""

    RESIDENT = "resident"  # the resident who reported it
    HANDLER = "handler"  # the grid worker handling it
    DEPARTMENT = "department"  # staff of the department it is dispatched to
    ADMIN = "admin"  # community admin of its community, or a tenant admin
    SYSTEM = "system"  # the periodic job


@dataclass(frozen=True)
class Rule:
    action: Action
    sources: frozenset[ComplaintStatus]
    target: ComplaintStatus | None  # None: the status stays as it is
    parties: frozenset[Party]


def _rule(action: Action, sources: set[ComplaintStatus], target: ComplaintStatus | None, *parties: Party) -> Rule:
    return Rule(action, frozenset(sources), target, frozenset(parties))


S = ComplaintStatus
P = Party
RULES = (
    _rule(Action.ACCEPT, {S.SUBMITTED}, S.ACCEPTED, P.HANDLER, P.ADMIN),
    _rule(Action.START_WORK, {S.ACCEPTED, S.REOPENED}, S.IN_PROGRESS, P.HANDLER, P.ADMIN),
    _rule(Action.RESOLVE, {S.IN_PROGRESS}, S.RESOLVED, P.HANDLER, P.ADMIN),
    _rule(Action.RESOLVE, {S.DISPATCHED}, S.RESOLVED, P.DEPARTMENT),
    _rule(Action.REJECT, {S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.REOPENED}, S.REJECTED, P.HANDLER, P.ADMIN),
    _rule(Action.DISPATCH, {S.ACCEPTED, S.IN_PROGRESS, S.REOPENED}, S.DISPATCHED, P.HANDLER, P.ADMIN),
    _rule(Action.DEPARTMENT_ACCEPT, {S.DISPATCHED}, None, P.DEPARTMENT),
    _rule(Action.RETURN_TO_GRID, {S.DISPATCHED}, S.IN_PROGRESS, P.DEPARTMENT),
    _rule(Action.REASSIGN, set(OPEN), None, P.ADMIN),
    _rule(Action.SUPERVISE, set(OPEN), None, P.ADMIN),
    _rule(Action.CONFIRM, {S.RESOLVED}, S.CLOSED, P.RESIDENT),
    _rule(Action.REOPEN, {S.RESOLVED}, S.REOPENED, P.RESIDENT),
    _rule(Action.WITHDRAW, {S.SUBMITTED}, S.WITHDRAWN, P.RESIDENT),
    _rule(Action.MARK_OVERDUE, set(OPEN), None, P.SYSTEM),
    _rule(Action.AUTO_CLOSE, {S.RESOLVED}, S.CLOSED, P.SYSTEM),
)


class TransitionRefused(Exception):
    """`reason` is "state" when no rule starts from the current status, "party" when the
    caller is not one of those the step belongs to."""

    def __init__(self, reason: str, action: Action, status: ComplaintStatus) -> None:
        super().__init__(f"{action} refused ({reason}) in {status}")
        self.reason = reason
        self.action = action
        self.status = status


def next_status(action: Action, status: ComplaintStatus, parties: set[Party]) -> ComplaintStatus:
    """The status after `action`, or TransitionRefused. The caller's party matters first only
    when the step could happen now, so a wrong state is named as such to everyone."""
    from_here = [rule for rule in RULES if rule.action == action and status in rule.sources]
    if not from_here:
        raise TransitionRefused("state", action, status)
    for rule in from_here:
        if rule.parties & parties:
            return rule.target or status
    raise TransitionRefused("party", action, status)


class Complaint(TenantOwned, Base):
    __tablename__ = "complaints"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "resident_id"], ["users.tenant_id", "users.id"]),
        ForeignKeyConstraint(["tenant_id", "filed_by_id"], ["users.tenant_id", "users.id"]),
        ForeignKeyConstraint(["tenant_id", "handler_id"], ["users.tenant_id", "users.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "category_id"], ["complaint_categories.tenant_id", "complaint_categories.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "building_id"], ["buildings.tenant_id", "buildings.id"]),
        ForeignKeyConstraint(["tenant_id", "grid_id"], ["grids.tenant_id", "grids.id"]),
        ForeignKeyConstraint(["tenant_id", "community_id"], ["communities.tenant_id", "communities.id"]),
        ForeignKeyConstraint(["tenant_id", "department_id"], ["departments.tenant_id", "departments.id"]),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        Index("ix_complaints_grid_queue", "tenant_id", "grid_id", "status", "resolve_due_at"),
        Index("ix_complaints_community_queue", "tenant_id", "community_id", "status", "resolve_due_at"),
        Index("ix_complaints_department_queue", "tenant_id", "department_id", "status", "resolve_due_at"),
        Index("ix_complaints_resident", "tenant_id", "resident_id", "id"),
        Index("ix_complaints_open_deadlines", "tenant_id", "status", "resolve_due_at"),
    )

    resident_id: Mapped[uuid.UUID | None] = mapped_column()
    filed_by_id: Mapped[uuid.UUID] = mapped_column()
    source: Mapped[ComplaintSource] = mapped_column(enum_column(ComplaintSource))
    category_id: Mapped[uuid.UUID] = mapped_column()
    title: Mapped[str] = mapped_column(String(50))
    content: Mapped[str] = mapped_column(Text)
    building_id: Mapped[uuid.UUID | None] = mapped_column()
    address: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    grid_id: Mapped[uuid.UUID] = mapped_column()
    community_id: Mapped[uuid.UUID] = mapped_column()
    handler_id: Mapped[uuid.UUID | None] = mapped_column()
    department_id: Mapped[uuid.UUID | None] = mapped_column()
    department_accepted_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[ComplaintStatus] = mapped_column(enum_column(ComplaintStatus), default=ComplaintStatus.SUBMITTED)
    is_public: Mapped[bool] = mapped_column(default=False)
    acknowledge_due_at: Mapped[datetime] = mapped_column()
    resolve_due_at: Mapped[datetime] = mapped_column()
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    overdue_at: Mapped[datetime | None] = mapped_column()
    resolution: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None] = mapped_column(Integer)
    feedback: Mapped[str | None] = mapped_column(String(500))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Optimistic concurrency: every change bumps it, and a change made from a stale read fails.
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class ComplaintEvent(TenantOwned, Base):
    """One step on a complaint's timeline: who did what, when, with a note."""

    __tablename__ = "complaint_events"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "complaint_id"], ["complaints.tenant_id", "complaints.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "actor_id"], ["users.tenant_id", "users.id"]),
        Index("ix_complaint_events_complaint", "tenant_id", "complaint_id", "id"),
    )

    complaint_id: Mapped[uuid.UUID] = mapped_column()
    action: Mapped[Action] = mapped_column(enum_column(Action))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    from_status: Mapped[ComplaintStatus | None] = mapped_column(enum_column(ComplaintStatus))
    to_status: Mapped[ComplaintStatus] = mapped_column(enum_column(ComplaintStatus))
    note: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AttachmentKind(enum.StrEnum):
    IMAGE = "image"
    VIDEO = "video"


class Attachment(TenantOwned, Base):
    """A photo or video of a complaint or of one of its timeline steps, stored by key."""

    __tablename__ = "attachments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "storage_key"),
        ForeignKeyConstraint(
            ["tenant_id", "complaint_id"], ["complaints.tenant_id", "complaints.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "event_id"], ["complaint_events.tenant_id", "complaint_events.id"]),
        ForeignKeyConstraint(["tenant_id", "uploaded_by_id"], ["users.tenant_id", "users.id"]),
        Index("ix_attachments_complaint", "tenant_id", "complaint_id"),
    )

    complaint_id: Mapped[uuid.UUID] = mapped_column()
    event_id: Mapped[uuid.UUID | None] = mapped_column()
    kind: Mapped[AttachmentKind] = mapped_column(enum_column(AttachmentKind))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[uuid.UUID] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
