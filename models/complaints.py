"""Complaints (开门纳谏 / 随手拍). For now: the tenant's categories and their deadlines."""

from __future__ import annotations

import uuid

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned


class ComplaintCategory(TenantOwned, Base):
    """A category with its deadlines: acknowledge in working hours, resolve in working days."""

    __tablename__ = "complaint_categories"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        ForeignKeyConstraint(
            ["tenant_id", "default_department_id"], ["departments.tenant_id", "departments.id"]
        ),
        CheckConstraint("acknowledge_hours > 0", name="acknowledge_positive"),
        CheckConstraint("resolve_days > 0", name="resolve_positive"),
    )

    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(50))
    acknowledge_hours: Mapped[int] = mapped_column(Integer)
    resolve_days: Mapped[int] = mapped_column(Integer)
    default_department_id: Mapped[uuid.UUID | None] = mapped_column()
