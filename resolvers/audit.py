"""The audit log of full views: noted while a request resolves, written once at its end
(tenants.context), read by tenant admins."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from models.audit import AuditedField, AuditedValue, FullView, FullViewEntry, SubjectKind
from models.people import Role, User
from resolvers.pagination import Page, PageRequest, paginate
from resolvers.permissions import allowed_to
from resolvers.rows import Selection
from tenants.context import RequestContext


def whole_value(
    ctx: RequestContext,
    value: str,
    kind: SubjectKind,
    subject_id: uuid.UUID,
    field: AuditedField,
    *,
    owner_id: uuid.UUID | None,
) -> str:
    """A whole value for the caller, audited if it reaches them; `owner_id` is the account the
    value belongs to, if any: a person seeing their own is not audited."""
    if ctx.viewer is None or ctx.viewer.user_id == owner_id:
        return value
    ctx.made_whole_values = True
    return AuditedValue(value, FullView(kind, subject_id, field))


# What an admin calls each, in files (resolvers.exports).
FIELD_NAMES = {AuditedField.PHONE: "手机号码", AuditedField.ID_NUMBER: "身份证号码"}
SUBJECT_KIND_NAMES = {SubjectKind.PERSON: "注册用户", SubjectKind.HOUSEHOLD_MEMBER: "住户成员档案"}


@dataclass(frozen=True, slots=True)
class FullViewRow:
    id: uuid.UUID
    viewer_id: uuid.UUID
    viewer_name: str
    subject_kind: SubjectKind
    subject_id: uuid.UUID
    field: AuditedField
    viewed_at: datetime


@dataclass(frozen=True)
class FullViewFilter:
    viewer_id: uuid.UUID | None = None
    subject_id: uuid.UUID | None = None
    field: AuditedField | None = None
    since: datetime | None = None
    before: datetime | None = None


FULL_VIEW = Selection(
    FullViewRow,
    select(
        FullViewEntry.id,
        FullViewEntry.viewer_id,
        User.name.label("viewer_name"),
        FullViewEntry.subject_kind,
        FullViewEntry.subject_id,
        FullViewEntry.field,
        FullViewEntry.viewed_at,
    ).join(User, (User.tenant_id == FullViewEntry.tenant_id) & (User.id == FullViewEntry.viewer_id)),
)


@allowed_to(Role.TENANT_ADMIN)
async def list_full_views(ctx: RequestContext, query: FullViewFilter, page: PageRequest) -> Page[FullViewRow]:
    """Newest first. Reading the log shows no phone or ID number, so it logs nothing itself."""
    views = FULL_VIEW
    if query.viewer_id is not None:
        views = views.where(FullViewEntry.viewer_id == query.viewer_id)
    if query.subject_id is not None:
        views = views.where(FullViewEntry.subject_id == query.subject_id)
    if query.field is not None:
        views = views.where(FullViewEntry.field == query.field)
    if query.since is not None:
        views = views.where(FullViewEntry.viewed_at >= query.since)
    if query.before is not None:
        views = views.where(FullViewEntry.viewed_at < query.before)
    return await paginate(ctx, views, (FullViewEntry.id,), page, descending=True)
