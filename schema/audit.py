"""The audit log of whole phones and ID numbers shown to someone other than their owner."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from models.audit import AuditedField, SubjectKind
from resolvers import audit
from schema.common import Connection, Info, connection, decode_id, mirror_enum, page_request, shanghai

if TYPE_CHECKING:  # see mirror_enum
    AuditedFieldType = AuditedField
else:
    AuditedFieldType = mirror_enum(
        AuditedField,
        {AuditedField.PHONE: "手机号码", AuditedField.ID_NUMBER: "身份证号码"},
        name="AuditedField",
        description="Which whole value was shown.",
    )
if TYPE_CHECKING:  # see mirror_enum
    SubjectKindType = SubjectKind
else:
    SubjectKindType = mirror_enum(
        SubjectKind,
        {SubjectKind.PERSON: "注册用户（Person）", SubjectKind.HOUSEHOLD_MEMBER: "住户成员档案（HouseholdMember）"},
        name="AuditSubjectKind",
        description="Whose value it was: an account, or a household member's record.",
    )


@strawberry.type(description="One whole value shown to someone other than its owner: who saw whose, which, when.")
class FullViewAuditEntry:
    viewer_id: strawberry.Private[uuid.UUID]
    viewer_name: str
    subject_kind: SubjectKindType
    subject_id: relay.GlobalID = strawberry.field(description="The Person or HouseholdMember whose value it was.")
    field: AuditedFieldType
    viewed_at: datetime

    @classmethod
    def from_row(cls, row: audit.FullViewRow) -> FullViewAuditEntry:
        return cls(
            viewer_id=row.viewer_id,
            viewer_name=row.viewer_name,
            subject_kind=SubjectKindType(row.subject_kind),
            subject_id=relay.GlobalID(row.subject_kind.value, str(row.subject_id)),
            field=AuditedFieldType(row.field),
            viewed_at=shanghai(row.viewed_at),
        )

    @strawberry.field(description="Who saw it, as a global id of a Person.")
    def viewer(self) -> relay.GlobalID:
        return relay.GlobalID("Person", str(self.viewer_id))


@strawberry.input
class FullViewAuditFilter:
    viewer_id: relay.GlobalID | None = strawberry.field(default=None, description="A Person: who saw.")
    subject_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A Person or a HouseholdMember: whose."
    )
    field: AuditedFieldType | None = None
    since: datetime | None = None
    before: datetime | None = None


def full_view_filter(given: FullViewAuditFilter | None) -> audit.FullViewFilter:
    """The list's filter as its use case takes it (also an export's, resolvers.exports)."""
    if given is None:
        return audit.FullViewFilter()
    subject = None
    if given.subject_id is not None:
        kind = "HouseholdMember" if given.subject_id.type_name == "HouseholdMember" else "Person"
        subject = decode_id(given.subject_id, kind, "filter.subjectId")
    return audit.FullViewFilter(
        viewer_id=decode_id(given.viewer_id, "Person", "filter.viewerId") if given.viewer_id else None,
        subject_id=subject,
        field=AuditedField(given.field.value) if given.field else None,
        since=given.since,
        before=given.before,
    )


@strawberry.type
class Query:
    @strawberry.field(description="Tenant admins: the audit log of whole phones and ID numbers shown, newest first.")
    async def full_view_audit(
        self, info: Info, filter: FullViewAuditFilter | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[FullViewAuditEntry]:
        page = await audit.list_full_views(info.context, full_view_filter(filter), page_request(info, first, after))
        return connection(page, FullViewAuditEntry.from_row)
