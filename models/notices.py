"""Notices (通知公告): a message to the residents of the street office, of a community, of some
grids or of some buildings, with read receipts (and "已阅" confirmations when asked for).

Who a notice reaches is never stored person by person: it is the verified residents whose
building lies in its target, computed in SQL when asked (`in_audience`), so a resident who moves
in sees the notices of their new building and the counts follow.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    ForeignKeyConstraint,
    Index,
    SQLColumnExpression,
    String,
    Text,
    UniqueConstraint,
    and_,
    exists,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, enum_column, tenant_index, utcnow


class NoticeScope(enum.StrEnum):
    STREET = "street"  # every resident of the street office
    COMMUNITY = "community"
    GRIDS = "grids"
    BUILDINGS = "buildings"


class Notice(TenantOwned, Base):
    """`community_id` is the community its target lies in (NULL only for the street office's)."""

    __tablename__ = "notices"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "community_id"], ["communities.tenant_id", "communities.id"]),
        ForeignKeyConstraint(["tenant_id", "author_id"], ["users.tenant_id", "users.id"]),
        CheckConstraint("(scope = 'street') = (community_id IS NULL)", name="community_unless_street"),
        Index("ix_notices_community", "tenant_id", "community_id", "id"),
        Index("ix_notices_public", "tenant_id", "is_public", "id"),
        tenant_index("author_id", "id"),
    )

    scope: Mapped[NoticeScope] = mapped_column(enum_column(NoticeScope))
    community_id: Mapped[uuid.UUID | None] = mapped_column()
    author_id: Mapped[uuid.UUID] = mapped_column()
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    requires_confirmation: Mapped[bool] = mapped_column(default=False)
    # Shown to anyone, signed in or not (a water cut, a vaccination day); else to its audience.
    is_public: Mapped[bool] = mapped_column(default=False)
    posted_at: Mapped[datetime] = mapped_column(default=utcnow)


class NoticeTarget(TenantOwned, Base):
    """One grid or one building a GRIDS or BUILDINGS notice is for."""

    __tablename__ = "notice_targets"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "notice_id"], ["notices.tenant_id", "notices.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "grid_id"], ["grids.tenant_id", "grids.id"]),
        ForeignKeyConstraint(["tenant_id", "building_id"], ["buildings.tenant_id", "buildings.id"]),
        CheckConstraint("(grid_id IS NULL) <> (building_id IS NULL)", name="grid_or_building"),
        tenant_index("notice_id"),
        tenant_index("grid_id"),
        tenant_index("building_id"),
    )

    notice_id: Mapped[uuid.UUID] = mapped_column()
    grid_id: Mapped[uuid.UUID | None] = mapped_column()
    building_id: Mapped[uuid.UUID | None] = mapped_column()


class NoticeReceipt(TenantOwned, Base):
    """A resident has read a notice (and, if it asked, confirmed it: 已阅)."""

    __tablename__ = "notice_receipts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "notice_id", "user_id"),
        ForeignKeyConstraint(["tenant_id", "notice_id"], ["notices.tenant_id", "notices.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        Index("ix_notice_receipts_notice", "tenant_id", "notice_id", "read_at", "id"),
    )

    notice_id: Mapped[uuid.UUID] = mapped_column()
    user_id: Mapped[uuid.UUID] = mapped_column()
    read_at: Mapped[datetime] = mapped_column()
    confirmed_at: Mapped[datetime | None] = mapped_column()


def in_audience(
    building_id: SQLColumnExpression[uuid.UUID],
    grid_id: SQLColumnExpression[uuid.UUID],
    community_id: SQLColumnExpression[uuid.UUID | None],
) -> ColumnElement[bool]:
    """Whether a notice (the `Notice` of the enclosing query) reaches whoever lives in the
    building `building_id`, of grid `grid_id` in `community_id`."""
    # Everything but the targets comes from the enclosing queries, however deep they nest.
    targeted = (
        exists()
        .where(
            NoticeTarget.tenant_id == Notice.tenant_id,
            NoticeTarget.notice_id == Notice.id,
            or_(NoticeTarget.building_id == building_id, NoticeTarget.grid_id == grid_id),
        )
        .correlate_except(NoticeTarget)
    )
    return or_(
        Notice.scope == NoticeScope.STREET,
        and_(Notice.scope == NoticeScope.COMMUNITY, Notice.community_id == community_id),
        and_(Notice.scope.in_((NoticeScope.GRIDS, NoticeScope.BUILDINGS)), targeted),
    )
