"""Complaints (开门纳谏 / 随手拍): a resident's issue, handled to a rated resolution.

The lifecycle lives here as data (models.lifecycle): which action moves which state to which,
and which party may take it. Who a caller *is* to a complaint (its resident, its handler, staff
of the department it was dispatched to, an admin over it) is decided by the resolvers.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    column,
    func,
    table,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, enum_column, utcnow
from models.lifecycle import Lifecycle, transition


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
    BUILDING_LEADER = "building_leader"  # relayed by the resident's building leader


class ComplaintAction(enum.StrEnum):
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


class ComplaintParty(enum.StrEnum):
    """What a caller is to one complaint."""

    RESIDENT = "resident"  # the resident who reported it
    HANDLER = "handler"  # the grid worker handling it
    DEPARTMENT = "department"  # staff of the department it is dispatched to
    ADMIN = "admin"  # community admin of its community, or a tenant admin
    SYSTEM = "system"  # the periodic sweep


_S = ComplaintStatus
_A = ComplaintAction
_P = ComplaintParty
LIFECYCLE: Lifecycle[ComplaintStatus, ComplaintAction, ComplaintParty] = Lifecycle(
    (
        transition(_A.ACCEPT, {_S.SUBMITTED}, _S.ACCEPTED, _P.HANDLER, _P.ADMIN),
        transition(_A.START_WORK, {_S.ACCEPTED, _S.REOPENED}, _S.IN_PROGRESS, _P.HANDLER, _P.ADMIN),
        transition(_A.RESOLVE, {_S.IN_PROGRESS}, _S.RESOLVED, _P.HANDLER, _P.ADMIN),
        transition(_A.RESOLVE, {_S.DISPATCHED}, _S.RESOLVED, _P.DEPARTMENT),
        transition(
            _A.REJECT, {_S.SUBMITTED, _S.ACCEPTED, _S.IN_PROGRESS, _S.REOPENED}, _S.REJECTED, _P.HANDLER, _P.ADMIN
        ),
        transition(_A.DISPATCH, {_S.ACCEPTED, _S.IN_PROGRESS, _S.REOPENED}, _S.DISPATCHED, _P.HANDLER, _P.ADMIN),
        transition(_A.DEPARTMENT_ACCEPT, {_S.DISPATCHED}, None, _P.DEPARTMENT),
        transition(_A.RETURN_TO_GRID, {_S.DISPATCHED}, _S.IN_PROGRESS, _P.DEPARTMENT),
        transition(_A.REASSIGN, OPEN, None, _P.ADMIN),
        transition(_A.SUPERVISE, OPEN, None, _P.ADMIN),
        transition(_A.CONFIRM, {_S.RESOLVED}, _S.CLOSED, _P.RESIDENT),
        transition(_A.REOPEN, {_S.RESOLVED}, _S.REOPENED, _P.RESIDENT),
        transition(_A.WITHDRAW, {_S.SUBMITTED}, _S.WITHDRAWN, _P.RESIDENT),
        transition(_A.MARK_OVERDUE, OPEN, None, _P.SYSTEM),
        transition(_A.AUTO_CLOSE, {_S.RESOLVED}, _S.CLOSED, _P.SYSTEM),
    )
)


def _listed(statuses: frozenset[ComplaintStatus]) -> str:
    return ", ".join(f"'{status.value}'" for status in sorted(statuses))


# "Overdue now" is counted in two parts (resolvers.complaints.count_overdue_in). An open complaint
# the sweep flagged while its deadline could not move back without clearing the flag (still
# unacknowledged, or flagged after its resolve deadline) stays overdue until it leaves that state,
# so the status rollups count it (`overdue_for_good`) as they count it by status. The others, the
# ones the sweep has not reached yet and the ones flagged only for a late acknowledgement (which
# it flags again once they are acknowledged and past their resolve deadline), are counted live
# through two partial indexes that hold nothing else: each range read is the items past a
# deadline since the sweep last ran, however many overdue items there are in all. The statements
# carry these predicates word for word, as SQLite wants to use a partial index.
UNSETTLED_OPEN = (
    f"status IN ({_listed(OPEN)}) "
    f"AND (overdue_at IS NULL OR (status <> '{ComplaintStatus.SUBMITTED.value}' AND resolve_due_at >= overdue_at))"
)
UNFLAGGED_UNACKNOWLEDGED = f"status = '{ComplaintStatus.SUBMITTED.value}' AND overdue_at IS NULL"


def overdue_for_good(item: Complaint | Any) -> bool:
    """Open and flagged overdue in a state that keeps it overdue: the complement, among open
    complaints, of UNSETTLED_OPEN."""
    if item.status not in OPEN or item.overdue_at is None:
        return False
    return bool(item.status == ComplaintStatus.SUBMITTED or item.resolve_due_at < item.overdue_at)


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
        # The queues end with the id, the deadline order's tiebreak: a lane is read in its
        # order and stops at the page, however many items the lane holds.
        Index("ix_complaints_grid_queue", "tenant_id", "grid_id", "status", "resolve_due_at", "id"),
        Index("ix_complaints_community_queue", "tenant_id", "community_id", "status", "resolve_due_at", "id"),
        Index("ix_complaints_department_queue", "tenant_id", "department_id", "status", "resolve_due_at", "id"),
        Index("ix_complaints_handler_queue", "tenant_id", "handler_id", "status", "resolve_due_at", "id"),
        Index("ix_complaints_resident", "tenant_id", "resident_id", "id"),
        Index("ix_complaints_open_deadlines", "tenant_id", "status", "resolve_due_at", "id"),
        # The whole office by deadline, whatever the status: an admin's list without a status
        # filter (a search) walks it once rather than once per status.
        Index("ix_complaints_deadlines", "tenant_id", "resolve_due_at", "id"),
        Index(
            "ix_complaints_unsettled_deadlines",
            "tenant_id",
            "resolve_due_at",
            postgresql_where=text(UNSETTLED_OPEN),
            sqlite_where=text(UNSETTLED_OPEN),
        ),
        Index(
            "ix_complaints_unflagged_acknowledge_deadlines",
            "tenant_id",
            "acknowledge_due_at",
            postgresql_where=text(UNFLAGGED_UNACKNOWLEDGED),
            sqlite_where=text(UNFLAGGED_UNACKNOWLEDGED),
        ),
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
    # How often it was reopened and made a work order: the rollups' reopen and dispatch rates
    # are kept from these, so a rebuild finds them on the complaint itself.
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    dispatch_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
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
    action: Mapped[ComplaintAction] = mapped_column(enum_column(ComplaintAction))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    from_status: Mapped[ComplaintStatus | None] = mapped_column(enum_column(ComplaintStatus))
    to_status: Mapped[ComplaintStatus] = mapped_column(enum_column(ComplaintStatus))
    note: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkOrder(TenantOwned, Base):
    """One dispatch of a complaint to a department (立项派单), kept when the complaint moves on: a
    returned work order stays counted against the department that returned it, and a complaint
    sent again makes a second one. At most one is open (neither returned nor resolved) at a time.
    The community is the complaint's when it was dispatched."""

    __tablename__ = "work_orders"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "complaint_id"], ["complaints.tenant_id", "complaints.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "department_id"], ["departments.tenant_id", "departments.id"]),
        ForeignKeyConstraint(["tenant_id", "community_id"], ["communities.tenant_id", "communities.id"]),
        Index("ix_work_orders_complaint", "tenant_id", "complaint_id"),
    )

    complaint_id: Mapped[uuid.UUID] = mapped_column()
    department_id: Mapped[uuid.UUID] = mapped_column()
    community_id: Mapped[uuid.UUID] = mapped_column()
    dispatched_at: Mapped[datetime] = mapped_column()
    # The complaint's resolve deadline while the department holds it (a supervision moves both).
    resolve_due_at: Mapped[datetime] = mapped_column()
    signed_at: Mapped[datetime | None] = mapped_column()
    returned_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()


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


# The indexes of complaint titles and contents, kept by triggers: on SQLite an FTS5 table with
# the trigram tokenizer (migration 0015); on PostgreSQL a pg_trgm GIN index on a copy beside
# complaints, read through a function that runs as the owner, because row-level security keeps
# the planner from serving ILIKE from an index for the app role (0018). Trigrams find
# substrings of three characters or more; shorter ones are matched on the rows a list walks.
# A word found more than SEARCH_INDEX_CAP times is common enough for a walk to meet a page of
# it soon (resolvers.complaints.search_condition).
SQLITE_SEARCH_INDEX = table("complaints_search", column("complaint_id"))
POSTGRESQL_SEARCH_INDEX = func.complaints_matching
SEARCH_MIN_LENGTH = 3
SEARCH_INDEX_CAP = 1000
