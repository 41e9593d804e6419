"""Building leaders (楼栋长): residents appointed by their community as the contact person of
one or more buildings, for a term.

A leader's reach (the residents of their buildings, the complaints of those buildings as a
copy, notices to them) exists only while a term is served: between its first and last day
(China Standard Time) and not dismissed. Every check reads `serving` against the caller's clock,
so a dismissal or the end of a term takes effect at the next request, whatever the token says.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    Date,
    ForeignKeyConstraint,
    Index,
    Select,
    String,
    and_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, enum_column, tenant_index, utcnow
from models.calendar import SHANGHAI


class LeaderAction(enum.StrEnum):
    APPOINT = "appoint"
    DISMISS = "dismiss"


class BuildingLeader(TenantOwned, Base):
    """One term of one resident as the leader of one building. A leader of three buildings has
    three rows; a new term after the last one ends is a new row."""

    __tablename__ = "building_leaders"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "building_id"], ["buildings.tenant_id", "buildings.id"]),
        ForeignKeyConstraint(["tenant_id", "community_id"], ["communities.tenant_id", "communities.id"]),
        ForeignKeyConstraint(["tenant_id", "appointed_by_id"], ["users.tenant_id", "users.id"]),
        ForeignKeyConstraint(["tenant_id", "dismissed_by_id"], ["users.tenant_id", "users.id"]),
        CheckConstraint("starts_on <= ends_on", name="term_in_order"),
        Index("ix_building_leaders_user", "tenant_id", "user_id", "ends_on"),
        Index("ix_building_leaders_building", "tenant_id", "building_id", "ends_on"),
        tenant_index("community_id", "id"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column()
    building_id: Mapped[uuid.UUID] = mapped_column()
    # The building's community, kept on the term: its admins appoint and see it.
    community_id: Mapped[uuid.UUID] = mapped_column()
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    appointed_by_id: Mapped[uuid.UUID] = mapped_column()
    appointed_at: Mapped[datetime] = mapped_column(default=utcnow)
    dismissed_by_id: Mapped[uuid.UUID | None] = mapped_column()
    dismissed_at: Mapped[datetime | None] = mapped_column()
    dismissal_reason: Mapped[str | None] = mapped_column(String(200))


class BuildingLeaderEvent(TenantOwned, Base):
    """One step on a term's timeline."""

    __tablename__ = "building_leader_events"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "term_id"], ["building_leaders.tenant_id", "building_leaders.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "actor_id"], ["users.tenant_id", "users.id"]),
        Index("ix_building_leader_events_term", "tenant_id", "term_id", "id"),
    )

    term_id: Mapped[uuid.UUID] = mapped_column()
    action: Mapped[LeaderAction] = mapped_column(enum_column(LeaderAction))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def local_date(moment: datetime) -> date:
    """The day it is in China Standard Time: terms begin and end on local days."""
    return moment.astimezone(SHANGHAI).date()


def serving(now: datetime) -> ColumnElement[bool]:
    """Terms being served at `now`: begun, not over, not dismissed."""
    today = local_date(now)
    return and_(
        BuildingLeader.dismissed_at.is_(None), BuildingLeader.starts_on <= today, BuildingLeader.ends_on >= today
    )


def led_buildings(user_id: uuid.UUID, now: datetime) -> Select[Any]:
    """The buildings this person leads at `now`, as a SELECT to use inside a condition."""
    return select(BuildingLeader.building_id).where(BuildingLeader.user_id == user_id, serving(now))
