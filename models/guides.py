"""Service guides (便民服务): the street office's catalogue of administrative services, each kept
in versions, and the applications residents make online (办理) for the kinds that take one,
passing one, two or three review levels by kind; a community certificate (社区证明) that passes
ends in a certificate anyone can check by its code.

The rules here hold whatever the caller: which kinds take applications and through which levels,
how text is made searchable (one normal form on both databases), the lifecycles.
"""

from __future__ import annotations

import base64
import enum
import re
import secrets
import unicodedata
import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, enum_column, utcnow
from models.complaints import AttachmentKind
from models.lifecycle import Lifecycle, transition

# --- kinds and levels ------------------------------------------------------------------------


class GuideKind(enum.StrEnum):
    """The seed's six kinds, in the order the home screen lists them."""

    POLICY = "policy"  # 政策解读
    COMMUNITY_DIRECT = "community_direct"  # 社区直办
    COMMUNITY_CERTIFICATE = "community_certificate"  # 社区证明
    TWO_LEVEL = "two_level"  # 二级审批
    THREE_LEVEL = "three_level"  # 三级审批
    OTHER = "other"  # 其他


class ReviewLevel(enum.StrEnum):
    COMMUNITY = "community"  # the applicant's community admins
    STREET_OFFICE = "street_office"  # the street office: tenant admins
    DEPARTMENT = "department"  # staff of the department the guide names


_K, _L = GuideKind, ReviewLevel
LEVELS: dict[GuideKind, tuple[ReviewLevel, ...]] = {
    _K.POLICY: (),
    _K.COMMUNITY_DIRECT: (_L.COMMUNITY,),
    _K.COMMUNITY_CERTIFICATE: (_L.COMMUNITY,),
    _K.TWO_LEVEL: (_L.COMMUNITY, _L.STREET_OFFICE),
    _K.THREE_LEVEL: (_L.COMMUNITY, _L.STREET_OFFICE, _L.DEPARTMENT),
    _K.OTHER: (),
}


def takes_applications(kind: GuideKind) -> bool:
    return bool(LEVELS[kind])


def next_level(kind: GuideKind, level: ReviewLevel) -> ReviewLevel | None:
    """The level an approval at `level` passes the application on to; None at the last one."""
    levels = LEVELS[kind]
    at = levels.index(level)
    return levels[at + 1] if at + 1 < len(levels) else None


def issues_certificate(kind: GuideKind) -> bool:
    return kind is GuideKind.COMMUNITY_CERTIFICATE


# --- search ----------------------------------------------------------------------------------

# A term shorter than this cannot use a trigram index (pg_trgm's or FTS5's trigram tokenizer):
# it is matched by a plain substring scan instead, with the same result.
TRIGRAM = 3
SEARCH_MAX = 50


def searchable(text: str) -> str:
    """The one normal form guides are stored and searched in, on both databases: NFKC (full-width
    letters and digits become ASCII) and case-folded, so neither database's own idea of case or
    width decides what matches."""
    return unicodedata.normalize("NFKC", text).casefold()


def search_terms(query: str) -> list[str]:
    """A query's terms: separated by spaces, each of which a guide must contain."""
    return list(dict.fromkeys(searchable(query).split()))


def search_document(title: str, parts: Iterable[str]) -> str:
    """Everything a guide is searched by, one field a line, so no term (which has no spaces)
    matches across two fields."""
    return "\n".join(searchable(p) for p in (title, *parts) if p)


# --- guides ----------------------------------------------------------------------------------


class GuideStatus(enum.StrEnum):
    DRAFT = "draft"  # never published
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"  # taken down; its published version is kept


class GuideAction(enum.StrEnum):
    EDIT = "edit"  # a new version, published only when PUBLISH says so
    PUBLISH = "publish"
    UNPUBLISH = "unpublish"


class GuideParty(enum.StrEnum):
    EDITOR = "editor"  # a tenant admin


_GS, _GA, _GP = GuideStatus, GuideAction, GuideParty
GUIDE_LIFECYCLE: Lifecycle[GuideStatus, GuideAction, GuideParty] = Lifecycle(
    (
        transition(_GA.EDIT, set(_GS), None, _GP.EDITOR),
        # From PUBLISHED too: publishing the newest version over the one shown.
        transition(_GA.PUBLISH, set(_GS), _GS.PUBLISHED, _GP.EDITOR),
        transition(_GA.UNPUBLISH, {_GS.PUBLISHED}, _GS.UNPUBLISHED, _GP.EDITOR),
    )
)


class ServiceGuide(TenantOwned, Base):
    """A guide: its kind, the department a third-level approval goes to, and which of its
    versions is the newest and which is published."""

    __tablename__ = "service_guides"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "department_id"], ["departments.tenant_id", "departments.id"]),
        ForeignKeyConstraint(["tenant_id", "created_by_id"], ["users.tenant_id", "users.id"]),
        CheckConstraint("(kind = 'three_level') = (department_id IS NOT NULL)", name="department_for_third_level_only"),
        CheckConstraint("published_version IS NULL OR published_version <= latest_version", name="published_exists"),
        Index("ix_service_guides_listing", "tenant_id", "status", "kind", "id"),
    )

    kind: Mapped[GuideKind] = mapped_column(enum_column(GuideKind))
    department_id: Mapped[uuid.UUID | None] = mapped_column()
    status: Mapped[GuideStatus] = mapped_column(enum_column(GuideStatus), default=GuideStatus.DRAFT)
    latest_version: Mapped[int] = mapped_column(Integer, default=1)
    published_version: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[datetime | None] = mapped_column()
    created_by_id: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}


class ServiceGuideVersion(TenantOwned, Base):
    """One version of a guide's text. Never changed once written: an edit is a new version, so
    an application keeps pointing at the materials it was made against."""

    __tablename__ = "service_guide_versions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "guide_id", "number"),
        ForeignKeyConstraint(
            ["tenant_id", "guide_id"], ["service_guides.tenant_id", "service_guides.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "edited_by_id"], ["users.tenant_id", "users.id"]),
        CheckConstraint("time_limit_days >= 0", name="time_limit_not_negative"),
    )

    guide_id: Mapped[uuid.UUID] = mapped_column()
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(String(500))
    conditions: Mapped[str] = mapped_column(Text)
    materials: Mapped[list[str]] = mapped_column(JSON, default=list)
    steps: Mapped[list[str]] = mapped_column(JSON, default=list)
    where_to_go: Mapped[str] = mapped_column(String(200))
    office_hours: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(50))
    fees: Mapped[str] = mapped_column(String(200))
    time_limit_days: Mapped[int] = mapped_column(Integer)
    # searchable() forms: the title, for ranking title hits first, and every field, a line each
    # (PostgreSQL: a pg_trgm GIN index; SQLite: an FTS5 trigram table kept by triggers).
    search_title: Mapped[str] = mapped_column(String(100))
    search_text: Mapped[str] = mapped_column(Text)
    edited_by_id: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- applications ----------------------------------------------------------------------------


class ApplicationStatus(enum.StrEnum):
    IN_REVIEW = "in_review"  # at `level`
    RETURNED = "returned"  # to the applicant for more material
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"  # its certificate was revoked after issue


class ApplicationAction(enum.StrEnum):
    SUBMIT = "submit"
    FORWARD = "forward"  # approved at this level, on to the next
    APPROVE = "approve"  # approved at the last level: done (a certificate issued, for 社区证明)
    RETURN = "return"
    REJECT = "reject"
    RESUBMIT = "resubmit"
    WITHDRAW = "withdraw"
    REVOKE = "revoke"
    MARK_OVERDUE = "mark_overdue"


class ApplicationParty(enum.StrEnum):
    APPLICANT = "applicant"
    REVIEWER = "reviewer"  # an approver of the level the application is at
    SYSTEM = "system"


_AS, _AA, _AP = ApplicationStatus, ApplicationAction, ApplicationParty
OPEN = frozenset({_AS.IN_REVIEW, _AS.RETURNED})
# Whether FORWARD or APPROVE applies at a level, and whether there is a certificate to revoke,
# are the steps' own guards (resolvers.guides): the level is not a state of its own.
APPLICATION_LIFECYCLE: Lifecycle[ApplicationStatus, ApplicationAction, ApplicationParty] = Lifecycle(
    (
        transition(_AA.FORWARD, {_AS.IN_REVIEW}, None, _AP.REVIEWER),
        transition(_AA.APPROVE, {_AS.IN_REVIEW}, _AS.APPROVED, _AP.REVIEWER),
        transition(_AA.RETURN, {_AS.IN_REVIEW}, _AS.RETURNED, _AP.REVIEWER),
        transition(_AA.REJECT, {_AS.IN_REVIEW}, _AS.REJECTED, _AP.REVIEWER),
        # Back to the level that returned it, with the time limit counted afresh (补正).
        transition(_AA.RESUBMIT, {_AS.RETURNED}, _AS.IN_REVIEW, _AP.APPLICANT),
        transition(_AA.WITHDRAW, OPEN, _AS.WITHDRAWN, _AP.APPLICANT),
        transition(_AA.REVOKE, {_AS.APPROVED}, _AS.REVOKED, _AP.REVIEWER),
        # Past its time limit: the level holding it is told once (督办); again at the next level.
        transition(_AA.MARK_OVERDUE, {_AS.IN_REVIEW}, None, _AP.SYSTEM),
    )
)


class ServiceApplication(TenantOwned, Base):
    """An application made online for a guide. Kind, levels and department are the guide's at
    the time it was made (a guide edited later does not move it)."""

    __tablename__ = "service_applications"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "guide_id"], ["service_guides.tenant_id", "service_guides.id"]),
        ForeignKeyConstraint(
            ["tenant_id", "guide_version_id"], ["service_guide_versions.tenant_id", "service_guide_versions.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "applicant_id"], ["users.tenant_id", "users.id"]),
        ForeignKeyConstraint(["tenant_id", "community_id"], ["communities.tenant_id", "communities.id"]),
        ForeignKeyConstraint(["tenant_id", "department_id"], ["departments.tenant_id", "departments.id"]),
        Index("ix_service_applications_applicant", "tenant_id", "applicant_id", "id"),
        Index("ix_service_applications_community", "tenant_id", "community_id", "id"),
        Index("ix_service_applications_queue", "tenant_id", "status", "level", "due_at"),
    )

    guide_id: Mapped[uuid.UUID] = mapped_column()
    guide_version_id: Mapped[uuid.UUID] = mapped_column()
    applicant_id: Mapped[uuid.UUID] = mapped_column()
    community_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[GuideKind] = mapped_column(enum_column(GuideKind))
    department_id: Mapped[uuid.UUID | None] = mapped_column()
    status: Mapped[ApplicationStatus] = mapped_column(enum_column(ApplicationStatus))
    level: Mapped[ReviewLevel] = mapped_column(enum_column(ReviewLevel))
    # How many levels it has reached (1–3): who may see it (resolvers.guides).
    reached: Mapped[int] = mapped_column(Integer, default=1)
    purpose: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(500))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column()
    overdue_at: Mapped[datetime | None] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    row_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": row_version}


class ServiceApplicationEvent(TenantOwned, Base):
    __tablename__ = "service_application_events"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "application_id"],
            ["service_applications.tenant_id", "service_applications.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(["tenant_id", "actor_id"], ["users.tenant_id", "users.id"]),
        Index("ix_service_application_events_application", "tenant_id", "application_id", "id"),
    )

    application_id: Mapped[uuid.UUID] = mapped_column()
    action: Mapped[ApplicationAction] = mapped_column(enum_column(ApplicationAction))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    level: Mapped[ReviewLevel] = mapped_column(enum_column(ReviewLevel))
    from_status: Mapped[ApplicationStatus | None] = mapped_column(enum_column(ApplicationStatus))
    to_status: Mapped[ApplicationStatus] = mapped_column(enum_column(ApplicationStatus))
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ServiceApplicationFile(TenantOwned, Base):
    """A photo of one required material, sent with the application or a resubmission."""

    __tablename__ = "service_application_files"
    __table_args__ = (
        UniqueConstraint("tenant_id", "storage_key"),
        ForeignKeyConstraint(
            ["tenant_id", "application_id"],
            ["service_applications.tenant_id", "service_applications.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "event_id"], ["service_application_events.tenant_id", "service_application_events.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "uploaded_by_id"], ["users.tenant_id", "users.id"]),
        Index("ix_service_application_files_application", "tenant_id", "application_id", "id"),
    )

    application_id: Mapped[uuid.UUID] = mapped_column()
    event_id: Mapped[uuid.UUID] = mapped_column()
    material: Mapped[str] = mapped_column(String(100))
    kind: Mapped[AttachmentKind] = mapped_column(enum_column(AttachmentKind))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[uuid.UUID] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# A certificate's code: 80 random bits in base32, unguessable and short enough to type from
# paper; shown in groups of four.
CODE_BYTES = 10
CHECK_PATH = "/certificates/check"


def new_certificate_code() -> str:
    return base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode()


def display_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normal_code(typed: str) -> str:
    """A code as typed or scanned (any case, with or without its dashes) as stored."""
    return re.sub(r"[\s-]", "", typed).upper()


def check_link(check_page: str, tenant_slug: str, code: str) -> str:
    """What a certificate's QR code carries: the check page, naming the street office and code."""
    return f"{check_page}?tenant={tenant_slug}&code={display_code(code)}"


def issuer_of(office: str, community: str) -> str:
    return f"{office}{community}居民委员会"


def certificate_statement(name: str, community: str, building: str, room: str, title: str, purpose: str) -> str:
    return f"兹证明{name}系本社区居民，现居住于{community}{building}{room}室。\n出具事项：{title}。\n用途：{purpose}。"


class ServiceCertificate(TenantOwned, Base):
    """The certificate a 社区证明 ends in: what it says as issued (never rewritten), its PDF,
    and the code its QR code carries, by which anyone can check it."""

    __tablename__ = "service_certificates"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        UniqueConstraint("tenant_id", "application_id"),
        ForeignKeyConstraint(
            ["tenant_id", "application_id"], ["service_applications.tenant_id", "service_applications.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "community_id"], ["communities.tenant_id", "communities.id"]),
    )

    application_id: Mapped[uuid.UUID] = mapped_column()
    community_id: Mapped[uuid.UUID] = mapped_column()
    code: Mapped[str] = mapped_column(String(32))
    holder_name: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(100))
    statement: Mapped[str] = mapped_column(String(1000))
    issuer: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column()
    storage_key: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoke_reason: Mapped[str | None] = mapped_column(String(200))
