"""The platform's own accounts: platform admins, who belong to no street office.

They sign in without `X-Tenant` and see figures summed over street offices, never a row of
one; so their table is global, like `tenants`, and holds nothing of any tenant.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, new_id, utcnow

# The tenant id in a platform admin's access token: no street office has it.
NO_TENANT = uuid.UUID(int=0)


class PlatformAdmin(Base):
    __tablename__ = "platform_admins"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(200))
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
