"""People: login identities, their roles and scopes, and residents' registration.

Phone and ID numbers are personal data: they are stored whole (a login needs the phone) and
shown through `mask_phone` / `mask_id_number` to anyone who has no need for the whole value.
"""

from __future__ import annotations

import enum
import re
import unicodedata
import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    ForeignKeyConstraint,
    Integer,
    String,
    UniqueConstraint,
    case,
    func,
    literal_column,
)
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column

from models.base import Base, TenantOwned, enum_column, tenant_index, utcnow


class Role(enum.StrEnum):
    RESIDENT = "resident"
    GRID_WORKER = "grid_worker"
    STAFF = "staff"
    COMMUNITY_ADMIN = "community_admin"
    TENANT_ADMIN = "tenant_admin"
    PLATFORM_ADMIN = "platform_admin"
    # Scoped to the buildings of the terms they serve (models.leaders), not by this grant.
    BUILDING_LEADER = "building_leader"


# The roles a street office's manifest grants its staff; the others the app grants (a resident
# registering, a leader appointed) or the platform (its admins).
MANIFEST_ROLES = frozenset({Role.GRID_WORKER, Role.STAFF, Role.COMMUNITY_ADMIN, Role.TENANT_ADMIN})


class ResidentStatus(enum.StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class User(TenantOwned, Base):
    """A login identity inside one tenant; the same phone may exist in two tenants."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "phone"),)

    phone: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    # In every access token; bumped when the user signs out, changes password or roles, or is
    # suspended, so that tokens issued before stop working at once instead of at their expiry.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoleGrant(TenantOwned, Base):
    """One role of a user, with its scope: a community for community admins, a department for
    staff. Grid workers' scope is the grids whose `worker_id` names them; building leaders' the
    buildings of the terms they serve (models.leaders)."""

    __tablename__ = "role_grants"
    __table_args__ = (
        tenant_index("user_id"),
        UniqueConstraint("tenant_id", "user_id", "role", "community_id", "department_id"),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "community_id"], ["communities.tenant_id", "communities.id"]),
        ForeignKeyConstraint(["tenant_id", "department_id"], ["departments.tenant_id", "departments.id"]),
        CheckConstraint("(role = 'community_admin') = (community_id IS NOT NULL)", name="community_scope"),
        CheckConstraint("(role = 'staff') = (department_id IS NOT NULL)", name="department_scope"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column()
    role: Mapped[Role] = mapped_column(enum_column(Role))
    community_id: Mapped[uuid.UUID | None] = mapped_column()
    department_id: Mapped[uuid.UUID | None] = mapped_column()


class ResidentProfile(TenantOwned, Base):
    """A resident's registration: where they say they live, and the grid worker's verdict.

    Shares its id with the user. The building gives the grid and so the resident's own grid
    worker (专属网格员); the household is linked when the grid worker verifies them.
    """

    __tablename__ = "resident_profiles"
    __table_args__ = (
        tenant_index("building_id"),
        tenant_index("household_id"),
        ForeignKeyConstraint(["tenant_id", "id"], ["users.tenant_id", "users.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "building_id"], ["buildings.tenant_id", "buildings.id"]),
        ForeignKeyConstraint(["tenant_id", "household_id"], ["households.tenant_id", "households.id"]),
    )

    building_id: Mapped[uuid.UUID] = mapped_column()
    room: Mapped[str] = mapped_column(String(32))
    household_id: Mapped[uuid.UUID | None] = mapped_column()
    status: Mapped[ResidentStatus] = mapped_column(enum_column(ResidentStatus), default=ResidentStatus.PENDING)
    rejection_reason: Mapped[str | None] = mapped_column(String(200))
    id_number: Mapped[str | None] = mapped_column(String(18))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_at: Mapped[datetime | None] = mapped_column()


# The number segments mainland carriers assign to mobiles (13x, 145–149, 15x but 154, 162/165–167,
# 170–178, 18x, 19x but 194): a plausible-looking 140 or 154 number is no mobile.
MAINLAND_MOBILE = re.compile(r"1(?:3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9[0-35-9])\d{8}", re.ASCII)
_SEPARATORS = re.compile(r"[ \t-]")


def ascii_digits(raw: str) -> str:
    """NFKC (full-width １ → 1), then every other script's decimal digit (Arabic-Indic ٠,
    Devanagari ०, …) as its ASCII digit, so look-alike numbers are one number."""
    folded = unicodedata.normalize("NFKC", raw)
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in folded)


def normalise_phone(raw: str) -> str | None:
    """The 11 ASCII digits of a mainland mobile number, or None if it is not one. Spaces, hyphens
    and a leading +86 are allowed; anything else (letters, invisible characters) is not."""
    digits = _SEPARATORS.sub("", ascii_digits(raw).strip()).removeprefix("+86")
    return digits if MAINLAND_MOBILE.fullmatch(digits) else None


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


def masked_phone(phone: ColumnElement[str] | InstrumentedAttribute[str]) -> ColumnElement[str]:
    """mask_phone in SQL, for a statement that builds its answer (resolvers.compiled)."""
    return case(
        (
            func.char_length(phone) >= 7,
            func.concat(func.left(phone, 3), literal_column("'****'"), func.right(phone, 4)),
        ),
        else_=literal_column("'****'"),
    )


ID_NUMBER = re.compile(r"\d{17}[\dX]", re.ASCII)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_DIGITS = "10X98765432"


def normalise_id_number(raw: str) -> str | None:
    """An 18-character resident identity card number with a valid check digit, or None."""
    value = ascii_digits(raw).strip().upper()
    if not ID_NUMBER.fullmatch(value):
        return None
    check = ID_CHECK_DIGITS[sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS, strict=True)) % 11]
    return value if value[17] == check else None


def mask_id_number(id_number: str) -> str:
    return f"{id_number[:3]}{'*' * (len(id_number) - 7)}{id_number[-4:]}" if len(id_number) > 7 else "****"
