"""Population records (入户登记): the members of each household, their care tags and the history
of every change.

Identity card numbers are the most sensitive thing the platform holds. They are stored only
encrypted (AES-256-GCM, bound to the tenant, so a ciphertext copied into another street office's
row does not open), next to a blind index (a keyed HMAC of the normalised number, per tenant) for
exact lookup. Neither the database nor its backups can read or enumerate them without the key,
which lives in the server's settings, never in the database.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import os
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import JSON, Date, ForeignKeyConstraint, Index, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, enum_column, tenant_index, utcnow
from models.lifecycle import Lifecycle, transition


class ResidenceStatus(enum.StrEnum):
    """How a person belongs to the household's address (户籍 / 常住 / 流动 / 空挂)."""

    HUKOU = "hukou"  # household registration here, living here
    RESIDENT = "resident"  # living here for good, registered elsewhere
    FLOATING = "floating"  # living here for now
    NOMINAL = "nominal"  # registered here, living elsewhere


class HouseholdChange(enum.StrEnum):
    CREATED = "created"
    MEMBER_ADDED = "member_added"
    MEMBER_UPDATED = "member_updated"
    MEMBER_MOVED_OUT = "member_moved_out"
    RESIDENT_JOINED = "resident_joined"


class MemberStatus(enum.StrEnum):
    """Derived from `moved_out_at`: a member is on the household's register until they move out."""

    CURRENT = "current"
    MOVED_OUT = "moved_out"


class MemberAction(enum.StrEnum):
    UPDATE = "update"
    MOVE_OUT = "move_out"


class MemberParty(enum.StrEnum):
    MANAGER = "manager"  # the grid worker of the household's grid, an admin over it
    SYSTEM = "system"  # nothing yet: no sweep changes a member on its own


MEMBER_LIFECYCLE: Lifecycle[MemberStatus, MemberAction, MemberParty] = Lifecycle(
    (
        transition(MemberAction.UPDATE, [MemberStatus.CURRENT], None, MemberParty.MANAGER),
        transition(MemberAction.MOVE_OUT, [MemberStatus.CURRENT], MemberStatus.MOVED_OUT, MemberParty.MANAGER),
    )
)


def member_status(moved_out_at: datetime | None) -> MemberStatus:
    return MemberStatus.CURRENT if moved_out_at is None else MemberStatus.MOVED_OUT


class HouseholdMember(TenantOwned, Base):
    """One person of a household. Moving out sets `moved_out_at`: the row, and its history, stay."""

    __tablename__ = "household_members"
    __table_args__ = (
        tenant_index("household_id"),
        tenant_index("id_number_index"),
        tenant_index("user_id"),
        # One ID number lives in one household at a time, whatever the race between two
        # registrations; moved-out records keep theirs.
        Index(
            "uq_household_members_current_id_number",
            "tenant_id",
            "id_number_index",
            unique=True,
            postgresql_where=text("moved_out_at IS NULL"),
            sqlite_where=text("moved_out_at IS NULL"),
        ),
        ForeignKeyConstraint(["tenant_id", "household_id"], ["households.tenant_id", "households.id"]),
        ForeignKeyConstraint(["tenant_id", "user_id"], ["users.tenant_id", "users.id"]),
    )

    household_id: Mapped[uuid.UUID] = mapped_column()
    name: Mapped[str] = mapped_column(String(50))
    relation: Mapped[str] = mapped_column(String(20))
    id_number_sealed: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    id_number_index: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20))
    birth_date: Mapped[date | None] = mapped_column(Date)
    residence_status: Mapped[ResidenceStatus] = mapped_column(enum_column(ResidenceStatus))
    # The member's own account, once a verified resident of this household is matched to them.
    user_id: Mapped[uuid.UUID | None] = mapped_column()
    moved_in_at: Mapped[datetime] = mapped_column(default=utcnow)
    moved_out_at: Mapped[datetime | None] = mapped_column()

    @property
    def status(self) -> MemberStatus:
        return member_status(self.moved_out_at)


class HouseholdMemberTag(TenantOwned, Base):
    """A care tag (独居老人, 低保 …) of a member, from the street office's list."""

    __tablename__ = "household_member_tags"
    __table_args__ = (
        UniqueConstraint("tenant_id", "member_id", "tag"),
        tenant_index("tag"),
        ForeignKeyConstraint(
            ["tenant_id", "member_id"], ["household_members.tenant_id", "household_members.id"], ondelete="CASCADE"
        ),
    )

    member_id: Mapped[uuid.UUID] = mapped_column()
    tag: Mapped[str] = mapped_column(String(20))


class HouseholdHistoryEntry(TenantOwned, Base):
    """Who changed what of a household, when: `changes` maps each field to [before, after]. An ID
    number's change is recorded as changed, never with its values."""

    __tablename__ = "household_history"
    __table_args__ = (
        tenant_index("household_id", "at"),
        ForeignKeyConstraint(["tenant_id", "household_id"], ["households.tenant_id", "households.id"]),
        ForeignKeyConstraint(["tenant_id", "member_id"], ["household_members.tenant_id", "household_members.id"]),
        ForeignKeyConstraint(["tenant_id", "actor_id"], ["users.tenant_id", "users.id"]),
    )

    household_id: Mapped[uuid.UUID] = mapped_column()
    member_id: Mapped[uuid.UUID | None] = mapped_column()
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    change: Mapped[HouseholdChange] = mapped_column(enum_column(HouseholdChange))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # type: ignore[type-arg]
    at: Mapped[datetime] = mapped_column(default=utcnow)


# --- identity card numbers at rest ---------------------------------------------------------------

NONCE_BYTES = 12


@dataclass(frozen=True)
class IdNumberVault:
    """Seals and opens ID numbers and computes their blind index, with keys derived from one
    secret (models.settings: `personal_data_key`) for each purpose, so the index key reveals
    nothing about the encryption key."""

    secret: bytes

    def _key(self, purpose: str) -> bytes:
        return hmac.new(self.secret, f"wanjia-personal-data:{purpose}".encode(), hashlib.sha256).digest()

    def seal(self, tenant_id: uuid.UUID, id_number: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + AESGCM(self._key("id-number")).encrypt(nonce, id_number.encode(), tenant_id.bytes)

    def open(self, tenant_id: uuid.UUID, sealed: bytes) -> str | None:
        """The number, or None for a ciphertext that is not this tenant's or was tampered with."""
        try:
            return (
                AESGCM(self._key("id-number"))
                .decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], tenant_id.bytes)
                .decode()
            )
        except (InvalidTag, ValueError):
            return None

    def index(self, tenant_id: uuid.UUID, id_number: str) -> str:
        """Per tenant: the same person registered in two street offices is not linkable."""
        return hmac.new(self._key("id-number-index"), tenant_id.bytes + id_number.encode(), hashlib.sha256).hexdigest()


def birth_date_of(id_number: str) -> date | None:
    """The birth date an 18-character ID number carries (digits 7–14)."""
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


# --- age bands, for the population filters -------------------------------------------------------


class AgeBand(enum.StrEnum):
    CHILD = "child"  # under 18
    ADULT = "adult"  # 18–59
    SENIOR = "senior"  # 60–79
    ELDERLY = "elderly"  # 80 and over


_BAND_YEARS: dict[AgeBand, tuple[int, int | None]] = {
    AgeBand.CHILD: (0, 18),
    AgeBand.ADULT: (18, 60),
    AgeBand.SENIOR: (60, 80),
    AgeBand.ELDERLY: (80, None),
}


def _years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def birth_dates_of(band: AgeBand, today: date) -> tuple[date | None, date]:
    """Births in (after, on_or_before]: whoever was born after the first date and on or before
    the second is in the band today."""
    youngest, oldest = _BAND_YEARS[band]
    latest = _years_before(today, youngest)
    earliest = _years_before(today, oldest) if oldest is not None else None
    return earliest, latest
