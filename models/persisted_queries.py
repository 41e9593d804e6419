"""GraphQL documents known by their sha256, so clients may send the hash instead of the text.

Platform-wide, not tenant-owned: a document is front-end code that names no tenant's data, and
every street office runs the same apps. `trusted` marks documents registered from a front-end
build (`wanjia documents register`), the only ones run in trusted-documents mode; the others
were registered by clients through the automatic persisted queries protocol.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class PersistedQuery(Base):
    __tablename__ = "persisted_queries"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    trusted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
