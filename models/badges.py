"""Grid workers' badges (工作牌): the QR code a worker wears, which a resident scans to register
in the worker's grid.

A badge's token is signed and never expires; it stops working when its worker's badge version
moves on (`revokeBadge`, a lost badge) or when the worker no longer serves its grid.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, tenant_index, utcnow


class WorkerBadge(TenantOwned, Base):
    """A grid worker's badge version: tokens carrying an older one are revoked. No row: version 1."""

    __tablename__ = "worker_badges"
    __table_args__ = (
        UniqueConstraint("tenant_id", "worker_id"),
        ForeignKeyConstraint(["tenant_id", "worker_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
    )

    worker_id: Mapped[uuid.UUID] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)


class BadgeRegistration(TenantOwned, Base):
    """A resident who registered by scanning a badge: whose badge, for which grid. Shares its id
    with the resident."""

    __tablename__ = "badge_registrations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "id"], ["resident_profiles.tenant_id", "resident_profiles.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "worker_id"], ["users.tenant_id", "users.id"]),
        ForeignKeyConstraint(["tenant_id", "grid_id"], ["grids.tenant_id", "grids.id"]),
        tenant_index("worker_id"),
    )

    worker_id: Mapped[uuid.UUID] = mapped_column()
    grid_id: Mapped[uuid.UUID] = mapped_column()
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
