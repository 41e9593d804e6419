"""Bookings (预约服务). For now: the rooms a community offers."""

from __future__ import annotations

import uuid

from sqlalchemy import JSON, CheckConstraint, ForeignKeyConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned


class Room(TenantOwned, Base):
    __tablename__ = "rooms"
    __table_args__ = (
        UniqueConstraint("tenant_id", "community_id", "name"),
        ForeignKeyConstraint(
            ["tenant_id", "community_id"], ["communities.tenant_id", "communities.id"]
        ),
        CheckConstraint("capacity > 0", name="capacity_positive"),
    )

    community_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(100))
    capacity: Mapped[int] = mapped_column(Integer)
    facilities: Mapped[list] = mapped_column(JSON, default=list)
    requires_approval: Mapped[bool] = mapped_column(default=True)
