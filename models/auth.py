"""Refresh tokens: stored hashed, rotated on use, grouped in families so that reuse of an old
token (a sign of theft) revokes every token descended from the same login. WeChat identities:
who may sign in with WeChat as whom."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, tenant_index, utcnow


class RefreshToken(TenantOwned, Base):
    __tablename__ = "refresh_tokens"
    __table_args__ = (
        tenant_index("user_id"),
        tenant_index("family_id"),
        UniqueConstraint("tenant_id", "token_hash"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column()
    family_id: Mapped[uuid.UUID] = mapped_column()
    token_hash: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class WechatIdentity(TenantOwned, Base):
    """A WeChat user (their openid in one mini-program) linked to an account, after they proved
    the account's phone. One link per account and mini-program; a street office may run its own
    mini-program, and openids differ between mini-programs."""

    __tablename__ = "wechat_identities"
    __table_args__ = (
        UniqueConstraint("tenant_id", "app_id", "openid"),
        UniqueConstraint("tenant_id", "user_id", "app_id"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column()
    app_id: Mapped[str] = mapped_column(String(32))
    openid: Mapped[str] = mapped_column(String(64))
    unionid: Mapped[str | None] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
