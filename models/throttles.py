"""Throttles: how many times something was tried (a password for one phone from one address,
codes sent to one phone, …) within a fixed window, counted by the database so that concurrent
attempts cannot slip past the count.

Rows are found by a keyed hash of what they count, so the table holds neither phones nor
client addresses.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, new_id, tenant_index


class Counts:
    key: Mapped[str] = mapped_column(String(64))
    hits: Mapped[int] = mapped_column(Integer)
    window_ends_at: Mapped[datetime] = mapped_column()


class Throttle(Counts, TenantOwned, Base):
    __tablename__ = "throttles"
    __table_args__ = (UniqueConstraint("tenant_id", "key"), tenant_index("window_ends_at"))


class PlatformThrottle(Counts, Base):
    """The platform's own counts (platform admins signing in), in a global table like
    `platform_admins`: they belong to no street office."""

    __tablename__ = "platform_throttles"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(64), unique=True)
