"""Codes sent by SMS to prove a phone: six digits, good for a few minutes and a few attempts,
spent once used. Only a keyed hash of the code is stored, under a keyed hash of the phone and
purpose, so the table reveals neither codes nor phones; a new code for the same phone and
purpose replaces the old one."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, tenant_index
from models.digests import keyed_digest

CODE_DIGITS = 6


class CodePurpose(enum.StrEnum):
    REGISTER = "register"
    BIND_WECHAT = "bind_wechat"
    RESET_PASSWORD = "reset_password"


class PhoneCode(TenantOwned, Base):
    __tablename__ = "phone_codes"
    __table_args__ = (UniqueConstraint("tenant_id", "subject"), tenant_index("expires_at"))

    subject: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_subject(secret: str, phone: str, purpose: CodePurpose) -> str:
    return keyed_digest(secret, "phone-code", phone, purpose.value)


def code_digest(secret: str, subject: str, code: str) -> str:
    return keyed_digest(secret, "code", subject, code)
