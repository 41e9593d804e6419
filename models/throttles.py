"""Throttles: how many times something was tried (a password for one phone from one address,
codes sent to one phone, …) within a fixed window, counted by the database so that concurrent
attempts cannot slip past the count.

Rows are found by a keyed hash of what they count, so the table holds neither phones nor
client addresses.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, tenant_index


class Throttle(TenantOwned, Base):
    __tablename__ = "throttles"
    __table_args__ = (UniqueConstraint("tenant_id", "key"), tenant_index("window_ends_at"))

    key: Mapped[str] = mapped_column(String(64))
    hits: Mapped[int] = mapped_column(Integer)
    window_ends_at: Mapped[datetime] = mapped_column()
