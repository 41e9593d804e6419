"""Inspection rounds (巡检记录): a grid worker walks a grid with one of the office's checklists,
records each item as fine or a problem (where, a note, a photo), and finishes the round. A
problem becomes a complaint in that grid (source `inspection`), linked from the finding; the
complaint's own lifecycle says whether the hazard is still open.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Float, ForeignKeyConstraint, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, enum_column, tenant_index
from models.lifecycle import Lifecycle, transition


class Checklist(TenantOwned, Base):
    """A tenant-defined checklist (from the manifest): 消防通道, 楼道堆物, 公共设施 …"""

    __tablename__ = "inspection_checklists"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))


class ChecklistItem(TenantOwned, Base):
    __tablename__ = "inspection_checklist_items"
    __table_args__ = (
        UniqueConstraint("tenant_id", "checklist_id", "code"),
        ForeignKeyConstraint(
            ["tenant_id", "checklist_id"], ["inspection_checklists.tenant_id", "inspection_checklists.id"]
        ),
        # A problem found with this item is filed in this category.
        ForeignKeyConstraint(
            ["tenant_id", "category_id"], ["complaint_categories.tenant_id", "complaint_categories.id"]
        ),
    )

    checklist_id: Mapped[uuid.UUID] = mapped_column()
    code: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    category_id: Mapped[uuid.UUID] = mapped_column()


class RoundStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    FINISHED = "finished"
    ABANDONED = "abandoned"


class RoundAction(enum.StrEnum):
    RECORD_ITEM = "record_item"
    FINISH = "finish"
    ABANDON = "abandon"


class RoundParty(enum.StrEnum):
    INSPECTOR = "inspector"  # the grid worker walking it
    ADMIN = "admin"  # community admin of its grid's community, or a tenant admin
    SYSTEM = "system"  # takes no step of a round today; named so viewerCan knows none is the sweep's


_S, _A, _P = RoundStatus, RoundAction, RoundParty
ROUND_LIFECYCLE: Lifecycle[RoundStatus, RoundAction, RoundParty] = Lifecycle(
    (
        transition(_A.RECORD_ITEM, {_S.IN_PROGRESS}, None, _P.INSPECTOR),
        transition(_A.FINISH, {_S.IN_PROGRESS}, _S.FINISHED, _P.INSPECTOR),
        transition(_A.ABANDON, {_S.IN_PROGRESS}, _S.ABANDONED, _P.INSPECTOR, _P.ADMIN),
    )
)


class InspectionRound(TenantOwned, Base):
    __tablename__ = "inspection_rounds"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "checklist_id"], ["inspection_checklists.tenant_id", "inspection_checklists.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "grid_id"], ["grids.tenant_id", "grids.id"]),
        ForeignKeyConstraint(["tenant_id", "community_id"], ["communities.tenant_id", "communities.id"]),
        ForeignKeyConstraint(["tenant_id", "worker_id"], ["users.tenant_id", "users.id"]),
        Index("ix_inspection_rounds_worker", "tenant_id", "worker_id", "started_at"),
        Index("ix_inspection_rounds_grid", "tenant_id", "grid_id", "started_at"),
        Index("ix_inspection_rounds_community", "tenant_id", "community_id", "started_at"),
    )

    checklist_id: Mapped[uuid.UUID] = mapped_column()
    grid_id: Mapped[uuid.UUID] = mapped_column()
    community_id: Mapped[uuid.UUID] = mapped_column()
    worker_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[RoundStatus] = mapped_column(enum_column(RoundStatus), default=RoundStatus.IN_PROGRESS)
    started_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class FindingOutcome(enum.StrEnum):
    FINE = "fine"
    PROBLEM = "problem"


class Finding(TenantOwned, Base):
    """One checklist item as found on a round: once per item."""

    __tablename__ = "inspection_findings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "round_id", "item_id"),
        ForeignKeyConstraint(
            ["tenant_id", "round_id"], ["inspection_rounds.tenant_id", "inspection_rounds.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["tenant_id", "item_id"], ["inspection_checklist_items.tenant_id", "inspection_checklist_items.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "complaint_id"], ["complaints.tenant_id", "complaints.id"]),
        UniqueConstraint("tenant_id", "complaint_id"),
        tenant_index("outcome", "complaint_id"),
    )

    round_id: Mapped[uuid.UUID] = mapped_column()
    item_id: Mapped[uuid.UUID] = mapped_column()
    outcome: Mapped[FindingOutcome] = mapped_column(enum_column(FindingOutcome))
    note: Mapped[str | None] = mapped_column(String(500))
    longitude: Mapped[float | None] = mapped_column(Float)
    latitude: Mapped[float | None] = mapped_column(Float)
    # The photo's file; named storage_key so `wanjia media sweep` knows it is in use.
    storage_key: Mapped[str | None] = mapped_column(String(200))
    # The complaint a problem became.
    complaint_id: Mapped[uuid.UUID | None] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column()
