"""How a street office is organised: communities → grids → buildings → households; departments."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import JSON, Float, ForeignKeyConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, tenant_index


class Community(TenantOwned, Base):
    """社区: a neighbourhood committee area."""

    __tablename__ = "communities"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))


class Grid(TenantOwned, Base):
    """网格: the smallest management cell, served by one grid worker."""

    __tablename__ = "grids"
    __table_args__ = (
        tenant_index("community_id"),
        tenant_index("worker_id"),
        UniqueConstraint("tenant_id", "code"),
        ForeignKeyConstraint(["tenant_id", "community_id"], ["communities.tenant_id", "communities.id"]),
        ForeignKeyConstraint(["tenant_id", "worker_id"], ["users.tenant_id", "users.id"]),
    )

    community_id: Mapped[uuid.UUID] = mapped_column()
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    worker_id: Mapped[uuid.UUID | None] = mapped_column()
    # A GeoJSON Polygon in GCJ-02 (models.geometry); None until the office draws it.
    boundary: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class Building(TenantOwned, Base):
    """楼栋: a residential building inside a grid."""

    __tablename__ = "buildings"
    __table_args__ = (
        tenant_index("grid_id"),
        UniqueConstraint("tenant_id", "code"),
        ForeignKeyConstraint(["tenant_id", "grid_id"], ["grids.tenant_id", "grids.id"]),
    )

    grid_id: Mapped[uuid.UUID] = mapped_column()
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    units: Mapped[int] = mapped_column(Integer, default=1)
    # GCJ-02 (models.geometry).
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)


class Household(TenantOwned, Base):
    """户: one dwelling in a building."""

    __tablename__ = "households"
    __table_args__ = (
        UniqueConstraint("tenant_id", "building_id", "room"),
        ForeignKeyConstraint(["tenant_id", "building_id"], ["buildings.tenant_id", "buildings.id"]),
    )

    building_id: Mapped[uuid.UUID] = mapped_column()
    room: Mapped[str] = mapped_column(String(32))


class Department(TenantOwned, Base):
    """职能部门: a government unit that takes dispatched work."""

    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
