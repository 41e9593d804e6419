"""Files sent ahead of the mutation that uses them (`POST /uploads`, one file per call, as
`wx.uploadFile` sends them), waiting to be claimed by id."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, enum_column, tenant_index, utcnow
from models.complaints import AttachmentKind


class PendingUpload(TenantOwned, Base):
    """A stored file no mutation has named yet. Only its uploader can claim it, and claiming
    deletes the row: the file then belongs to the row that names it (an attachment). One left
    unclaimed expires, and the media sweep removes it with its file."""

    __tablename__ = "pending_uploads"
    __table_args__ = (
        UniqueConstraint("tenant_id", "storage_key"),
        ForeignKeyConstraint(["tenant_id", "uploader_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        tenant_index("uploader_id"),
        tenant_index("created_at"),
    )

    uploader_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[AttachmentKind] = mapped_column(enum_column(AttachmentKind))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
