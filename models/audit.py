"""The audit log of full views: every time a whole phone or ID number is shown to someone other
than the person it belongs to, who saw whose, which field, when.

Views are collected from the response that carries them and written at its end in one INSERT
(`full_view_rows`), so a page of a hundred people costs one statement, not a hundred. The log is
append-only: nothing in the application updates or deletes it.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, enum_column, new_id, tenant_index


class AuditedField(enum.StrEnum):
    PHONE = "phone"
    ID_NUMBER = "id_number"


class SubjectKind(enum.StrEnum):
    """Whose value was shown: an account (a resident, a grid worker) or a household member's
    record (people without an account have one too)."""

    PERSON = "Person"
    HOUSEHOLD_MEMBER = "HouseholdMember"


@dataclass(frozen=True)
class FullView:
    subject_kind: SubjectKind
    subject_id: uuid.UUID
    field: AuditedField


class AuditedValue(str):
    """A whole value that is logged only if the response carries it: the schema notes its view
    when it finds it in the response (schema.extensions.note_full_views), so an object built
    with a phone nobody selected logs nothing."""

    view: FullView

    def __new__(cls, value: str, view: FullView) -> AuditedValue:
        made = super().__new__(cls, value)
        made.view = view
        return made


class FullViewEntry(TenantOwned, Base):
    __tablename__ = "full_view_audit"
    __table_args__ = (
        tenant_index("viewed_at"),
        tenant_index("viewer_id", "viewed_at"),
        tenant_index("subject_id", "viewed_at"),
        ForeignKeyConstraint(["tenant_id", "viewer_id"], ["users.tenant_id", "users.id"]),
    )

    viewer_id: Mapped[uuid.UUID] = mapped_column()
    # No foreign key: the subject is an account or a household member's record.
    subject_kind: Mapped[SubjectKind] = mapped_column(enum_column(SubjectKind))
    subject_id: Mapped[uuid.UUID] = mapped_column()
    field: Mapped[AuditedField] = mapped_column(enum_column(AuditedField))
    viewed_at: Mapped[datetime] = mapped_column()
    request_id: Mapped[str] = mapped_column(String(64))


def full_view_rows(
    views: Iterable[FullView], *, tenant_id: uuid.UUID, viewer_id: uuid.UUID, at: datetime, request_id: str
) -> list[dict[str, Any]]:
    """The rows of one request's views, for a single multi-row INSERT."""
    return [
        {
            "tenant_id": tenant_id,
            "id": new_id(),
            "viewer_id": viewer_id,
            "subject_kind": view.subject_kind,
            "subject_id": view.subject_id,
            "field": view.field,
            "viewed_at": at,
            "request_id": request_id[:64],
        }
        for view in sorted(views, key=lambda v: (v.subject_kind, str(v.subject_id), v.field))
    ]
