"""Service guides (便民服务) and the applications residents make online (办理).

Guides. Tenant admins write them; every edit is a new version, and what anyone else reads is the
published one: public inside the street office, anonymous callers included. Tenant admins read
(and search) the newest version, which is the published one unless they have edited since.

Search. A query's terms (split at spaces) must each be a substring of the guide, its title hits
first. Both databases answer the same, because both store and search the one normal form of
models.guides.searchable and both match substrings exactly: PostgreSQL by LIKE served by a
pg_trgm GIN index; SQLite through its FTS5 trigram table, except for terms of one or two
characters, which no trigram can hold: those are matched by LIKE on the versions themselves (a
street office has a few hundred guides at most).

Applications. A resident applies for a published guide of a kind that takes applications,
with files for each of its required materials. The application passes the kind's levels in
order (community admins, then the street office's tenant admins, then the staff of the
department the guide names); the level holding it approves (on to the next level, or done at
the last), returns it for more material (the resident resubmits, back to that level) or
rejects it, each with a reason where it matters. The guide's time limit, in working days, runs
from the submission and afresh from a resubmission (补正); an application past it is flagged
once per level by the sweep and its reviewers told (督办). A 社区证明 approved ends in a
certificate (models.guide_certificates) checked by anyone through its code.

Who sees applications: the applicant their own; community admins their community's (every
application starts there); staff those that reached their department; tenant admins all of the
street office's (they supervise), though each reviewer acts only at their own level.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Uuid, and_, case, column, false, or_, select, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.orm.exc import StaleDataError

from models.errors import ErrorCode
from models.guide_certificates import CertificateText, render_certificate
from models.guides import (
    APPLICATION_LIFECYCLE,
    GUIDE_LIFECYCLE,
    LEVELS,
    SEARCH_MAX,
    TRIGRAM,
    ApplicationAction,
    ApplicationParty,
    ApplicationStatus,
    GuideAction,
    GuideKind,
    GuideParty,
    GuideStatus,
    ReviewLevel,
    ServiceApplication,
    ServiceApplicationEvent,
    ServiceApplicationFile,
    ServiceCertificate,
    ServiceGuide,
    ServiceGuideVersion,
    certificate_statement,
    check_link,
    display_code,
    issuer_of,
    issues_certificate,
    new_certificate_code,
    next_level,
    normal_code,
    search_document,
    search_terms,
    searchable,
    takes_applications,
)
from models.notifications import NotificationKind, Subject, SubjectType
from models.organisation import Building, Community, Department, Grid
from models.people import ResidentProfile, Role, RoleGrant, User
from resolvers.deadlines import calendar_of
from resolvers.errors import DomainError, InputCheck, Issue, fail, not_found
from resolvers.loaders import groups_by_key, loader, pages_by_parent
from resolvers.notifications import notify
from resolvers.pagination import Page, PageRequest, checked, paginate
from resolvers.permissions import ANYONE, allowed_to, session_of, viewer_of, visible_rows
from resolvers.rows import Selection, one_of
from resolvers.steps import Steps
from resolvers.uploads import IncomingFiles, StoredFile, receive, store_generated
from resolvers.volunteers import mask_name
from tenants.context import RequestContext
from tenants.tokens import Viewer

KIND_NAMES = {
    GuideKind.POLICY: "政策解读",
    GuideKind.COMMUNITY_DIRECT: "社区直办",
    GuideKind.COMMUNITY_CERTIFICATE: "社区证明",
    GuideKind.TWO_LEVEL: "二级审批",
    GuideKind.THREE_LEVEL: "三级审批",
    GuideKind.OTHER: "其他",
}
LEVEL_NAMES = {
    ReviewLevel.COMMUNITY: "社区审核",
    ReviewLevel.STREET_OFFICE: "街道审核",
    ReviewLevel.DEPARTMENT: "职能部门审批",
}
GUIDE_STATUS_NAMES = {
    GuideStatus.DRAFT: "草稿",
    GuideStatus.PUBLISHED: "已发布",
    GuideStatus.UNPUBLISHED: "已下架",
}
GUIDE_ACTION_NAMES = {
    GuideAction.EDIT: "修改",
    GuideAction.PUBLISH: "发布",
    GuideAction.UNPUBLISH: "下架",
}
APPLICATION_STATUS_NAMES = {
    ApplicationStatus.IN_REVIEW: "审核中",
    ApplicationStatus.RETURNED: "退回补正",
    ApplicationStatus.APPROVED: "已办结",
    ApplicationStatus.REJECTED: "不予办理",
    ApplicationStatus.WITHDRAWN: "已撤回",
    ApplicationStatus.REVOKED: "证明已撤销",
}
APPLICATION_ACTION_NAMES = {
    ApplicationAction.SUBMIT: "提交申请",
    ApplicationAction.FORWARD: "审核通过，报上一级",
    ApplicationAction.APPROVE: "审批通过",
    ApplicationAction.RETURN: "退回补正",
    ApplicationAction.REJECT: "不予办理",
    ApplicationAction.RESUBMIT: "补正后重新提交",
    ApplicationAction.WITHDRAW: "撤回申请",
    ApplicationAction.REVOKE: "撤销证明",
    ApplicationAction.MARK_OVERDUE: "超过办理时限",
}

MAX_MATERIALS = 20
MAX_STEPS = 20
MAX_TIME_LIMIT_DAYS = 60
PHONE = re.compile(r"^[0-9０-９+()（）\- 转、]{5,50}$")

Applicant = aliased(User, name="service_applicant")
Editor = aliased(User, name="service_guide_editor")


# --- rows ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GuideRow:
    id: uuid.UUID
    kind: GuideKind
    department_id: uuid.UUID | None
    status: GuideStatus
    latest_version: int
    published_version: int | None
    published_at: datetime | None
    updated_at: datetime
    version_id: uuid.UUID
    number: int
    title: str
    summary: str
    conditions: str
    materials: list[str]
    steps: list[str]
    where_to_go: str
    office_hours: str
    phone: str
    fees: str
    time_limit_days: int


@dataclass(frozen=True, slots=True)
class VersionRow:
    id: uuid.UUID
    guide_id: uuid.UUID
    number: int
    title: str
    created_at: datetime
    editor_name: str | None


@dataclass(frozen=True, slots=True)
class ApplicationRow:
    id: uuid.UUID
    guide_id: uuid.UUID
    applicant_id: uuid.UUID
    community_id: uuid.UUID
    kind: GuideKind
    department_id: uuid.UUID | None
    status: ApplicationStatus
    level: ReviewLevel
    purpose: str
    reason: str | None
    submitted_at: datetime
    due_at: datetime | None
    decided_at: datetime | None
    updated_at: datetime
    guide_title: str
    materials: list[str]
    time_limit_days: int
    applicant_name: str
    applicant_phone: str


@dataclass(frozen=True, slots=True)
class EventRow:
    id: uuid.UUID
    application_id: uuid.UUID
    action: ApplicationAction
    level: ReviewLevel
    from_status: ApplicationStatus | None
    to_status: ApplicationStatus
    note: str | None
    created_at: datetime
    actor_name: str | None


@dataclass(frozen=True, slots=True)
class FileRow:
    id: uuid.UUID
    application_id: uuid.UUID
    material: str
    content_type: str
    size: int
    storage_key: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CertificateRow:
    id: uuid.UUID
    application_id: uuid.UUID
    code: str
    title: str
    holder_name: str
    issuer: str
    issued_at: datetime
    storage_key: str
    revoked_at: datetime | None
    revoke_reason: str | None


@dataclass(frozen=True, slots=True)
class CertificateCheck:
    """What anyone holding the code learns: that it is genuine, and what the paper says, the
    holder's name masked. Nothing else of the application or the person."""

    code: str
    title: str
    holder: str
    issuer: str
    issued_at: datetime
    revoked_at: datetime | None


def _guide_selection(shown: Any) -> Selection[GuideRow]:
    """Guides with one of their versions: `shown` names which (the published or the newest)."""
    version = (
        (ServiceGuideVersion.tenant_id == ServiceGuide.tenant_id)
        & (ServiceGuideVersion.guide_id == ServiceGuide.id)
        & (ServiceGuideVersion.number == shown)
    )
    return Selection(
        GuideRow,
        select(
            ServiceGuide.id,
            ServiceGuide.kind,
            ServiceGuide.department_id,
            ServiceGuide.status,
            ServiceGuide.latest_version,
            ServiceGuide.published_version,
            ServiceGuide.published_at,
            ServiceGuide.updated_at,
            ServiceGuideVersion.id.label("version_id"),
            ServiceGuideVersion.number,
            ServiceGuideVersion.title,
            ServiceGuideVersion.summary,
            ServiceGuideVersion.conditions,
            ServiceGuideVersion.materials,
            ServiceGuideVersion.steps,
            ServiceGuideVersion.where_to_go,
            ServiceGuideVersion.office_hours,
            ServiceGuideVersion.phone,
            ServiceGuideVersion.fees,
            ServiceGuideVersion.time_limit_days,
        ).join(ServiceGuideVersion, version),
    )


PUBLISHED_GUIDE = _guide_selection(ServiceGuide.published_version).where(ServiceGuide.status == GuideStatus.PUBLISHED)
NEWEST_GUIDE = _guide_selection(ServiceGuide.latest_version)
VERSION = Selection(
    VersionRow,
    select(
        ServiceGuideVersion.id,
        ServiceGuideVersion.guide_id,
        ServiceGuideVersion.number,
        ServiceGuideVersion.title,
        ServiceGuideVersion.created_at,
        Editor.name.label("editor_name"),
    ).outerjoin(
        Editor, (Editor.tenant_id == ServiceGuideVersion.tenant_id) & (Editor.id == ServiceGuideVersion.edited_by_id)
    ),
)
APPLICATION = Selection(
    ApplicationRow,
    select(
        ServiceApplication.id,
        ServiceApplication.guide_id,
        ServiceApplication.applicant_id,
        ServiceApplication.community_id,
        ServiceApplication.kind,
        ServiceApplication.department_id,
        ServiceApplication.status,
        ServiceApplication.level,
        ServiceApplication.purpose,
        ServiceApplication.reason,
        ServiceApplication.submitted_at,
        ServiceApplication.due_at,
        ServiceApplication.decided_at,
        ServiceApplication.updated_at,
        ServiceGuideVersion.title.label("guide_title"),
        ServiceGuideVersion.materials,
        ServiceGuideVersion.time_limit_days,
        Applicant.name.label("applicant_name"),
        Applicant.phone.label("applicant_phone"),
    )
    .join(
        ServiceGuideVersion,
        (ServiceGuideVersion.tenant_id == ServiceApplication.tenant_id)
        & (ServiceGuideVersion.id == ServiceApplication.guide_version_id),
    )
    .join(
        Applicant,
        (Applicant.tenant_id == ServiceApplication.tenant_id) & (Applicant.id == ServiceApplication.applicant_id),
    ),
)
EVENT = Selection(
    EventRow,
    select(
        ServiceApplicationEvent.id,
        ServiceApplicationEvent.application_id,
        ServiceApplicationEvent.action,
        ServiceApplicationEvent.level,
        ServiceApplicationEvent.from_status,
        ServiceApplicationEvent.to_status,
        ServiceApplicationEvent.note,
        ServiceApplicationEvent.created_at,
        User.name.label("actor_name"),
    ).outerjoin(
        User, (User.tenant_id == ServiceApplicationEvent.tenant_id) & (User.id == ServiceApplicationEvent.actor_id)
    ),
)
FILE = Selection(
    FileRow,
    select(
        ServiceApplicationFile.id,
        ServiceApplicationFile.application_id,
        ServiceApplicationFile.material,
        ServiceApplicationFile.content_type,
        ServiceApplicationFile.size,
        ServiceApplicationFile.storage_key,
        ServiceApplicationFile.created_at,
    ),
)
CERTIFICATE = Selection(
    CertificateRow,
    select(
        ServiceCertificate.id,
        ServiceCertificate.application_id,
        ServiceCertificate.code,
        ServiceCertificate.title,
        ServiceCertificate.holder_name,
        ServiceCertificate.issuer,
        ServiceCertificate.issued_at,
        ServiceCertificate.storage_key,
        ServiceCertificate.revoked_at,
        ServiceCertificate.revoke_reason,
    ),
)

# SQLite's full-text index of versions (migration 0013): not a mapped table, so the session's
# tenant filter does not reach it; the tenant is named in every query of it.
SEARCH_INDEX = table(
    "service_guide_versions_fts", column("tenant_id", Uuid()), column("version_id", Uuid()), column("search_text")
)


# --- guides: reading -------------------------------------------------------------------------


def _edits(viewer: Viewer | None) -> bool:
    return viewer is not None and Role.TENANT_ADMIN in viewer.roles


def _guides_for(viewer: Viewer | None) -> Selection[GuideRow]:
    return NEWEST_GUIDE if _edits(viewer) else PUBLISHED_GUIDE


def _like(column_: InstrumentedAttribute[str], term: str) -> ColumnElement[bool]:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column_.like(f"%{escaped}%", escape="\\")


def _contains(ctx: RequestContext, term: str) -> ColumnElement[bool]:
    """Versions whose text contains `term` (already in the searchable form)."""
    if len(term) < TRIGRAM or session_of(ctx).get_bind().dialect.name != "sqlite":
        return _like(ServiceGuideVersion.search_text, term)
    phrase = '"' + term.replace('"', '""') + '"'
    indexed = select(SEARCH_INDEX.c.version_id).where(
        SEARCH_INDEX.c.tenant_id == ctx.tenant_id,
        column("service_guide_versions_fts").op("MATCH")(phrase),
    )
    return ServiceGuideVersion.id.in_(indexed)


def _checked_search(search: str | None) -> list[str]:
    if search is None:
        return []
    if len(search) > SEARCH_MAX:
        raise fail(ErrorCode.INVALID, f"搜索词不超过 {SEARCH_MAX} 个字。", "search")
    return search_terms(search)


@allowed_to(ANYONE)
async def list_guides(
    ctx: RequestContext, kind: GuideKind | None, search: str | None, page: PageRequest
) -> Page[GuideRow]:
    """Guides of a kind, or all; with a search, those containing every term, title hits first."""
    found = _guides_for(ctx.viewer)
    if kind is not None:
        found = found.where(ServiceGuide.kind == kind)
    terms = _checked_search(search)
    if not terms:
        return await paginate(ctx, found, (ServiceGuide.id,), page)
    found = found.where(*(_contains(ctx, term) for term in terms))
    title_hit = and_(*(_like(ServiceGuideVersion.search_title, term) for term in terms))
    rank = case((title_hit, 0), else_=1)
    # paginate orders by any column expression (it labels and compares them); its signature names only mapped columns.
    return await paginate(ctx, found, (rank, ServiceGuide.id), page)  # type: ignore[arg-type]


async def _guides(ctx: RequestContext, ids: list[uuid.UUID], editor: bool) -> list[GuideRow | None]:
    shown = NEWEST_GUIDE if editor else PUBLISHED_GUIDE
    found = {row.id: row for row in await shown.where(one_of(ctx, ServiceGuide.id, ids)).all(session_of(ctx))}
    return [found.get(i) for i in ids]


@allowed_to(ANYONE)
async def guide(ctx: RequestContext, guide_id: uuid.UUID) -> GuideRow | None:
    return await loader(ctx, Loaders.guides, _edits(ctx.viewer)).load(guide_id)


async def versions(ctx: RequestContext, guide_id: uuid.UUID, page: PageRequest) -> Page[VersionRow] | None:
    """A guide's versions, newest last, for its editors (None for anyone else)."""
    if not _edits(ctx.viewer):
        return None
    return await loader(ctx, Loaders.versions, checked(ctx, page)).load(guide_id)


def guide_viewer_can(ctx: RequestContext, row: GuideRow) -> frozenset[GuideAction]:
    parties = {GuideParty.EDITOR} if _edits(ctx.viewer) else set()
    return GUIDE_STEPS.available(ctx, row, parties)


def may_apply(ctx: RequestContext, row: GuideRow) -> bool:
    """What `applyForService` would accept of the caller now (its input aside)."""
    return (
        ctx.viewer is not None
        and Role.RESIDENT in ctx.viewer.roles
        and row.status is GuideStatus.PUBLISHED
        and takes_applications(row.kind)
    )


# --- guides: writing -------------------------------------------------------------------------


@dataclass(frozen=True)
class GuideContent:
    title: str
    summary: str
    conditions: str
    materials: tuple[str, ...]
    steps: tuple[str, ...]
    where_to_go: str
    office_hours: str
    phone: str
    fees: str
    time_limit_days: int


def _items(check: InputCheck, items: Sequence[str], field: str, label: str, most: int, longest: int) -> list[str]:
    cleaned = [item.strip() for item in items if item.strip()]
    check.require(len(cleaned) <= most, field, f"{label}最多 {most} 项。")
    check.require(all(len(item) <= longest for item in cleaned), field, f"每项{label}不超过 {longest} 个字。")
    check.require(len(set(cleaned)) == len(cleaned), field, f"{label}有重复项。", ErrorCode.DUPLICATE)
    return cleaned


def _checked_content(check: InputCheck, kind: GuideKind, content: GuideContent) -> GuideContent:
    """Every field is plain text, kept as written (a client shows it as text, never as markup)."""
    applies = takes_applications(kind)
    materials = _items(check, content.materials, "guide.materials", "所需材料", MAX_MATERIALS, 100)
    if applies:
        check.require(bool(materials), "guide.materials", "可在线办理的事项至少列出一项所需材料。")
    steps = _items(check, content.steps, "guide.steps", "办理步骤", MAX_STEPS, 300)
    phone = content.phone.strip()
    check.require(bool(PHONE.match(phone)), "guide.phone", "咨询电话只能包含数字、空格、括号、“-”和“转”。")
    least = 1 if applies else 0
    check.require(
        least <= content.time_limit_days <= MAX_TIME_LIMIT_DAYS,
        "guide.timeLimitDays",
        f"办理时限应为 {least}–{MAX_TIME_LIMIT_DAYS} 个工作日。",
    )
    return GuideContent(
        title=check.text(content.title, "guide.title", "标题", min_length=2, max_length=100),
        summary=check.text(content.summary, "guide.summary", "简介", max_length=500),
        conditions=check.text(content.conditions, "guide.conditions", "办理条件", max_length=2000),
        materials=tuple(materials),
        steps=tuple(steps),
        where_to_go=check.text(content.where_to_go, "guide.whereToGo", "办理地点", max_length=200),
        office_hours=check.text(content.office_hours, "guide.officeHours", "办公时间", max_length=100),
        phone=phone,
        fees=check.text(content.fees, "guide.fees", "收费标准", max_length=200),
        time_limit_days=content.time_limit_days,
    )


def _version(guide_id: uuid.UUID, number: int, content: GuideContent, editor: uuid.UUID | None) -> ServiceGuideVersion:
    return ServiceGuideVersion(
        guide_id=guide_id,
        number=number,
        title=content.title,
        summary=content.summary,
        conditions=content.conditions,
        materials=list(content.materials),
        steps=list(content.steps),
        where_to_go=content.where_to_go,
        office_hours=content.office_hours,
        phone=content.phone,
        fees=content.fees,
        time_limit_days=content.time_limit_days,
        search_title=searchable(content.title),
        search_text=search_document(
            content.title,
            [content.summary, content.conditions, *content.materials, *content.steps, content.where_to_go],
        ),
        edited_by_id=editor,
    )


async def _checked_department(
    ctx: RequestContext, check: InputCheck, kind: GuideKind, department_id: uuid.UUID | None
) -> None:
    if kind is GuideKind.THREE_LEVEL:
        known: Department | bool | None = department_id is not None and await session_of(ctx).get(
            Department, (ctx.tenant_id, department_id)
        )
        check.require(bool(known), "departmentId", "三级审批事项须指定承办的职能部门。")
    else:
        check.require(department_id is None, "departmentId", "只有三级审批事项由职能部门审批。")


@allowed_to(Role.TENANT_ADMIN)
async def create_guide(
    ctx: RequestContext, kind: GuideKind, department_id: uuid.UUID | None, content: GuideContent
) -> uuid.UUID:
    """A new guide, as a draft (version 1): published by `publish_guide`."""
    check = InputCheck()
    content = _checked_content(check, kind, content)
    await _checked_department(ctx, check, kind, department_id)
    check.done()
    session = session_of(ctx)
    now = ctx.clock()
    editor = viewer_of(ctx).user_id
    row = ServiceGuide(
        kind=kind, department_id=department_id, created_by_id=editor, created_at=now, updated_at=now, latest_version=1
    )
    session.add(row)
    await session.flush()
    first = _version(row.id, 1, content, editor)
    first.created_at = now
    session.add(first)
    await session.flush()
    return row.id


async def _guide_step(
    ctx: RequestContext, guide_id: uuid.UUID, action: GuideAction, change: Callable[[ServiceGuide], None]
) -> ServiceGuide:
    session = session_of(ctx)
    row = await session.get(ServiceGuide, (ctx.tenant_id, guide_id))
    if row is None:
        raise not_found("办事指南", "guideId")
    row.status = GUIDE_STEPS.next_state(ctx, action, row, {GuideParty.EDITOR})
    row.updated_at = ctx.clock()
    change(row)
    try:
        await session.flush()
    except StaleDataError as error:
        raise fail(ErrorCode.CONFLICT, "该办事指南刚刚被他人修改，请刷新后重试。", "guideId") from error
    return row


@allowed_to(Role.TENANT_ADMIN)
async def edit_guide(
    ctx: RequestContext, guide_id: uuid.UUID, department_id: uuid.UUID | None, content: GuideContent
) -> uuid.UUID:
    """A new version; readers keep the published one until it is published too."""
    session = session_of(ctx)
    current = await session.get(ServiceGuide, (ctx.tenant_id, guide_id))
    if current is None:
        raise not_found("办事指南", "guideId")
    check = InputCheck()
    content = _checked_content(check, current.kind, content)
    await _checked_department(ctx, check, current.kind, department_id)
    check.done()

    def new_version(row: ServiceGuide) -> None:
        row.latest_version += 1
        row.department_id = department_id
        version = _version(row.id, row.latest_version, content, viewer_of(ctx).user_id)
        version.created_at = row.updated_at
        session.add(version)

    try:
        await _guide_step(ctx, guide_id, GuideAction.EDIT, new_version)
    except IntegrityError as error:
        raise fail(ErrorCode.CONFLICT, "该办事指南刚刚被他人修改，请刷新后重试。", "guideId") from error
    return guide_id


@allowed_to(Role.TENANT_ADMIN)
async def publish_guide(ctx: RequestContext, guide_id: uuid.UUID) -> uuid.UUID:
    def publish(row: ServiceGuide) -> None:
        row.published_version = row.latest_version
        row.published_at = row.updated_at

    await _guide_step(ctx, guide_id, GuideAction.PUBLISH, publish)
    return guide_id


@allowed_to(Role.TENANT_ADMIN)
async def unpublish_guide(ctx: RequestContext, guide_id: uuid.UUID) -> uuid.UUID:
    await _guide_step(ctx, guide_id, GuideAction.UNPUBLISH, lambda _: None)
    return guide_id


def _nothing_to_publish(_: RequestContext, row: Any, __: frozenset[GuideParty]) -> DomainError | None:
    if row.status is GuideStatus.PUBLISHED and row.published_version == row.latest_version:
        return fail(ErrorCode.INVALID_TRANSITION, "该办事指南已发布，且没有未发布的修改。", "guideId")
    return None


GUIDE_STEPS = Steps(
    GUIDE_LIFECYCLE,
    thing="办事指南",
    states=GUIDE_STATUS_NAMES,
    actions=GUIDE_ACTION_NAMES,
    field="guideId",
    guards={GuideAction.PUBLISH: _nothing_to_publish},
)


# --- applications: who sees and who acts -----------------------------------------------------

_REACHED_DEPARTMENT = LEVELS[GuideKind.THREE_LEVEL].index(ReviewLevel.DEPARTMENT) + 1


def _in_scope(viewer: Viewer) -> ColumnElement[bool]:
    return visible_rows(
        viewer,
        {
            Role.RESIDENT: lambda v: ServiceApplication.applicant_id == v.user_id,
            Role.COMMUNITY_ADMIN: lambda v: ServiceApplication.community_id.in_(v.community_ids),
            Role.STAFF: lambda v: and_(
                ServiceApplication.reached >= _REACHED_DEPARTMENT,
                ServiceApplication.department_id.in_(v.department_ids),
            ),
        },
    )


def _awaiting(viewer: Viewer) -> ColumnElement[bool]:
    """In review at a level the caller reviews."""
    at = ServiceApplication.level
    mine: list[ColumnElement[bool]] = [false()]
    if Role.COMMUNITY_ADMIN in viewer.roles:
        mine.append(and_(at == ReviewLevel.COMMUNITY, ServiceApplication.community_id.in_(viewer.community_ids)))
    if Role.TENANT_ADMIN in viewer.roles:
        mine.append(at == ReviewLevel.STREET_OFFICE)
    if Role.STAFF in viewer.roles:
        mine.append(and_(at == ReviewLevel.DEPARTMENT, ServiceApplication.department_id.in_(viewer.department_ids)))
    return and_(ServiceApplication.status == ApplicationStatus.IN_REVIEW, or_(*mine))


def people_shown(viewer: Viewer, now: datetime) -> Select[Any]:
    """Applicants of the applications in the caller's scope (people.visible_person); which
    applications are in scope does not change with `now`."""
    return select(ServiceApplication.applicant_id).where(_in_scope(viewer))


def reviews(viewer: Viewer, level: ReviewLevel, community_id: uuid.UUID, department_id: uuid.UUID | None) -> bool:
    if level is ReviewLevel.COMMUNITY:
        return Role.COMMUNITY_ADMIN in viewer.roles and community_id in viewer.community_ids
    if level is ReviewLevel.STREET_OFFICE:
        return Role.TENANT_ADMIN in viewer.roles
    return Role.STAFF in viewer.roles and department_id in viewer.department_ids


def parties(viewer: Viewer, item: ServiceApplication | ApplicationRow) -> set[ApplicationParty]:
    found: set[ApplicationParty] = set()
    if item.applicant_id == viewer.user_id:
        found.add(ApplicationParty.APPLICANT)
    if reviews(viewer, item.level, item.community_id, item.department_id):
        found.add(ApplicationParty.REVIEWER)
    return found


def _last_level_only(_: RequestContext, item: Any, __: frozenset[ApplicationParty]) -> DomainError | None:
    if next_level(item.kind, item.level) is not None:
        return fail(ErrorCode.INVALID_TRANSITION, "本级审核通过后还须报上一级审批。", "applicationId")
    return None


def _not_last_level(_: RequestContext, item: Any, __: frozenset[ApplicationParty]) -> DomainError | None:
    if next_level(item.kind, item.level) is None:
        return fail(ErrorCode.INVALID_TRANSITION, "已是最后一级审批，请直接审批通过。", "applicationId")
    return None


def _certificate_only(_: RequestContext, item: Any, __: frozenset[ApplicationParty]) -> DomainError | None:
    if not issues_certificate(item.kind):
        return fail(ErrorCode.INVALID_TRANSITION, "该事项没有出具证明，无可撤销。", "applicationId")
    return None


APPLICATION_STEPS = Steps(
    APPLICATION_LIFECYCLE,
    thing="办事申请",
    states=APPLICATION_STATUS_NAMES,
    actions=APPLICATION_ACTION_NAMES,
    field="applicationId",
    guards={
        ApplicationAction.FORWARD: _not_last_level,
        ApplicationAction.APPROVE: _last_level_only,
        ApplicationAction.REVOKE: _certificate_only,
    },
)


def application_viewer_can(ctx: RequestContext, row: ApplicationRow) -> frozenset[ApplicationAction]:
    if ctx.viewer is None:
        return frozenset()
    return APPLICATION_STEPS.available(ctx, row, parties(ctx.viewer, row))


def is_overdue(row: ApplicationRow | ServiceApplication, now: datetime) -> bool:
    return row.status is ApplicationStatus.IN_REVIEW and row.due_at is not None and row.due_at < now


# --- applications: reading -------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationFilter:
    statuses: tuple[ApplicationStatus, ...] = ()
    awaiting_my_review: bool | None = None
    overdue: bool | None = None


async def _applications(ctx: RequestContext, ids: list[uuid.UUID], viewer: Viewer) -> list[ApplicationRow | None]:
    rows = await APPLICATION.where(one_of(ctx, ServiceApplication.id, ids), _in_scope(viewer)).all(session_of(ctx))
    found = {row.id: row for row in rows}
    return [found.get(i) for i in ids]


async def _certificates(ctx: RequestContext, application_ids: list[uuid.UUID]) -> list[CertificateRow | None]:
    rows = await CERTIFICATE.where(ServiceCertificate.application_id.in_(application_ids)).all(session_of(ctx))
    found = {row.application_id: row for row in rows}
    return [found.get(i) for i in application_ids]


class Loaders:
    """This domain's batches: one statement per kind per request (resolvers.loaders.loader)."""

    guides = _guides  # per editor or reader
    versions = pages_by_parent(VERSION, ServiceGuideVersion.guide_id, (ServiceGuideVersion.number,))
    applications = _applications  # per viewer
    timelines = pages_by_parent(EVENT, ServiceApplicationEvent.application_id, (ServiceApplicationEvent.id,))
    files = groups_by_key(FILE.order_by(ServiceApplicationFile.id), ServiceApplicationFile.application_id)
    certificates = _certificates


@allowed_to(Role.RESIDENT, Role.STAFF, Role.COMMUNITY_ADMIN, Role.TENANT_ADMIN)
async def application(ctx: RequestContext, application_id: uuid.UUID) -> ApplicationRow | None:
    return await loader(ctx, Loaders.applications, viewer_of(ctx)).load(application_id)


@allowed_to(Role.RESIDENT, Role.STAFF, Role.COMMUNITY_ADMIN, Role.TENANT_ADMIN)
async def list_applications(ctx: RequestContext, query: ApplicationFilter, page: PageRequest) -> Page[ApplicationRow]:
    """A resident's own; a reviewer's scope (`awaiting_my_review`: their queue). Newest first."""
    viewer = viewer_of(ctx)
    found = APPLICATION.where(_in_scope(viewer))
    if query.statuses:
        found = found.where(ServiceApplication.status.in_(query.statuses))
    if query.awaiting_my_review is not None:
        awaiting = _awaiting(viewer)
        found = found.where(awaiting if query.awaiting_my_review else ~awaiting)
    if query.overdue is not None:
        late = and_(ServiceApplication.status == ApplicationStatus.IN_REVIEW, ServiceApplication.due_at < ctx.clock())
        found = found.where(late if query.overdue else ~late)
    return await paginate(ctx, found, (ServiceApplication.id,), page, descending=True)


async def timeline(ctx: RequestContext, application_id: uuid.UUID, page: PageRequest) -> Page[EventRow]:
    """Only reached through an application the caller could see."""
    return await loader(ctx, Loaders.timelines, checked(ctx, page)).load(application_id)


async def files(ctx: RequestContext, application_id: uuid.UUID) -> list[FileRow]:
    """Only reached through an application the caller could see."""
    return await loader(ctx, Loaders.files).load(application_id)


async def certificate(ctx: RequestContext, application_id: uuid.UUID) -> CertificateRow | None:
    """Only reached through an application the caller could see: its owner and its reviewers."""
    return await loader(ctx, Loaders.certificates).load(application_id)


@allowed_to(ANYONE)
async def check_certificate(ctx: RequestContext, code: str) -> CertificateCheck | None:
    """Anyone with the code (from the paper or its QR code): the certificate it names, or None
    for a code that names none in this street office."""
    if len(code) > 64:
        return None
    row = await CERTIFICATE.where(ServiceCertificate.code == normal_code(code)).one_or_none(session_of(ctx))
    if row is None:
        return None
    return CertificateCheck(
        code=display_code(row.code),
        title=row.title,
        holder=mask_name(row.holder_name),
        issuer=row.issuer,
        issued_at=row.issued_at,
        revoked_at=row.revoked_at,
    )


# --- applications: steps ---------------------------------------------------------------------


@dataclass(frozen=True)
class MaterialFiles:
    material: str
    upload_ids: tuple[uuid.UUID, ...]


async def _received(
    ctx: RequestContext, required: Sequence[str], given: Sequence[MaterialFiles], *, all_required: bool
) -> list[tuple[str, StoredFile]]:
    """The files of each material named, claimed from `POST /uploads`; every problem at once."""
    issues: list[Issue] = []
    seen: set[str] = set()
    received: list[tuple[str, StoredFile]] = []
    for index, entry in enumerate(given):
        field = f"materials.{index}"
        name = entry.material.strip()
        if name not in required:
            issues.append(Issue(ErrorCode.INVALID, f"“{name}”不是该事项所需的材料。", f"{field}.material"))
            continue
        if name in seen:
            issues.append(Issue(ErrorCode.DUPLICATE, f"材料“{name}”重复提交。", f"{field}.material"))
            continue
        seen.add(name)
        if not entry.upload_ids:
            issues.append(Issue(ErrorCode.INVALID, f"请为“{name}”上传至少一张照片。", f"{field}.attachmentIds"))
            continue
        try:
            stored = await receive(
                ctx, IncomingFiles(upload_ids=entry.upload_ids), f"{field}.attachmentIds", f"{field}.attachmentIds"
            )
        except DomainError as error:
            issues.extend(error.issues)
            continue
        received += [(name, s) for s in stored]
    missing = [name for name in required if name not in seen]
    if all_required and missing:
        issues.append(Issue(ErrorCode.INVALID, f"还缺少材料：{'、'.join(missing)}。", "materials"))
    if not all_required and not given and not issues:
        issues.append(Issue(ErrorCode.INVALID, "请上传补正的材料。", "materials"))
    if issues:
        raise DomainError(*issues)
    return received


def _attach(ctx: RequestContext, item: ServiceApplication, event_id: uuid.UUID, stored: list[tuple[str, Any]]) -> None:
    session_of(ctx).add_all(
        ServiceApplicationFile(
            application_id=item.id,
            event_id=event_id,
            material=material,
            kind=file.media.kind,
            content_type=file.media.content_type,
            size=file.size,
            storage_key=file.key,
            uploaded_by_id=viewer_of(ctx).user_id,
            created_at=ctx.clock(),
        )
        for material, file in stored
    )


async def _community_of_resident(ctx: RequestContext, user_id: uuid.UUID) -> uuid.UUID | None:
    return await session_of(ctx).scalar(
        select(Grid.community_id)
        .join(Building, (Building.tenant_id == Grid.tenant_id) & (Building.grid_id == Grid.id))
        .join(
            ResidentProfile,
            (ResidentProfile.tenant_id == Building.tenant_id) & (ResidentProfile.building_id == Building.id),
        )
        .where(ResidentProfile.id == user_id)
    )


async def reviewers(ctx: RequestContext, item: ServiceApplication) -> list[uuid.UUID]:
    """Who reviews the level the application is at."""
    grants = select(RoleGrant.user_id)
    if item.level is ReviewLevel.COMMUNITY:
        grants = grants.where(RoleGrant.role == Role.COMMUNITY_ADMIN, RoleGrant.community_id == item.community_id)
    elif item.level is ReviewLevel.STREET_OFFICE:
        grants = grants.where(RoleGrant.role == Role.TENANT_ADMIN)
    else:
        grants = grants.where(RoleGrant.role == Role.STAFF, RoleGrant.department_id == item.department_id)
    return list((await session_of(ctx).scalars(grants)).all())


def _record(
    ctx: RequestContext,
    item: ServiceApplication,
    action: ApplicationAction,
    before: ApplicationStatus | None,
    note: str | None,
    actor: uuid.UUID | None,
) -> ServiceApplicationEvent:
    event = ServiceApplicationEvent(
        application_id=item.id,
        action=action,
        actor_id=actor,
        level=item.level,
        from_status=before,
        to_status=item.status,
        note=note,
        created_at=ctx.clock(),
    )
    session_of(ctx).add(event)
    return event


async def _tell_applicant(ctx: RequestContext, item: ServiceApplication, title: str, body: str) -> None:
    await notify(
        ctx,
        [item.applicant_id],
        kind=NotificationKind.SERVICE_APPLICATION_STATUS,
        title=title,
        body=body,
        subject=Subject(SubjectType.SERVICE_APPLICATION, item.id),
    )


async def _tell_reviewers(ctx: RequestContext, item: ServiceApplication, guide_title: str) -> None:
    await notify(
        ctx,
        await reviewers(ctx, item),
        kind=NotificationKind.SERVICE_APPLICATION_NEW,
        title="新的办事申请待审核",
        body=f"{guide_title}：{LEVEL_NAMES[item.level]}，请在办理时限内处理。",
        subject=Subject(SubjectType.SERVICE_APPLICATION, item.id),
    )


@allowed_to(Role.RESIDENT)
async def apply(
    ctx: RequestContext, guide_id: uuid.UUID, purpose: str, materials: Sequence[MaterialFiles]
) -> uuid.UUID:
    """办理: a resident applies for a published guide, with files for each required material."""
    viewer = viewer_of(ctx)
    # Always against the published version, whoever applies (an editor reads the newest).
    published = (await _guides(ctx, [guide_id], editor=False))[0]
    if published is None:
        raise not_found("办事指南", "guideId")
    if not takes_applications(published.kind):
        raise fail(ErrorCode.INVALID, f"“{KIND_NAMES[published.kind]}”类事项不能在线办理。", "guideId")
    check = InputCheck()
    text = check.text(purpose, "purpose", "办理用途", min_length=2, max_length=200)
    community_id = await _community_of_resident(ctx, viewer.user_id)
    check.require(community_id is not None, "guideId", "请先完成居民登记。")
    check.done()
    assert community_id is not None
    stored = await _received(ctx, published.materials, materials, all_required=True)
    now = ctx.clock()
    item = ServiceApplication(
        guide_id=guide_id,
        guide_version_id=published.version_id,
        applicant_id=viewer.user_id,
        community_id=community_id,
        kind=published.kind,
        department_id=published.department_id,
        status=ApplicationStatus.IN_REVIEW,
        level=LEVELS[published.kind][0],
        reached=1,
        purpose=text,
        submitted_at=now,
        due_at=calendar_of(ctx).working_days_after(now, published.time_limit_days),
        updated_at=now,
    )
    session = session_of(ctx)
    session.add(item)
    await session.flush()
    event = _record(ctx, item, ApplicationAction.SUBMIT, None, text, viewer.user_id)
    await session.flush()
    _attach(ctx, item, event.id, stored)
    await session.flush()
    await _tell_reviewers(ctx, item, published.title)
    return item.id


async def _step(
    ctx: RequestContext,
    application_id: uuid.UUID,
    action: ApplicationAction,
    *,
    note: str | None = None,
    change: Callable[[ServiceApplication], None] = lambda _: None,
) -> tuple[ServiceApplication, ServiceApplicationEvent]:
    """Takes `action` if the lifecycle and its guard let this caller take it now, and writes it
    on the timeline (at the level it was taken at). Two at once: the second gets CONFLICT."""
    session = session_of(ctx)
    viewer = viewer_of(ctx)
    item = await session.scalar(
        select(ServiceApplication).where(ServiceApplication.id == application_id, _in_scope(viewer))
    )
    if item is None:
        raise not_found("办事申请", "applicationId")
    before = item.status
    item.status = APPLICATION_STEPS.next_state(ctx, action, item, parties(viewer, item))
    event = _record(ctx, item, action, before, note, viewer.user_id)
    item.updated_at = ctx.clock()
    change(item)
    try:
        await session.flush()
    except StaleDataError as error:
        raise fail(ErrorCode.CONFLICT, "该办事申请刚刚被他人处理，请刷新后重试。", "applicationId") from error
    return item, event


def _note(check: InputCheck, note: str | None, field: str, label: str) -> str | None:
    return check.text(note, field, label, max_length=500) if note and note.strip() else None


async def _title_of(ctx: RequestContext, item: ServiceApplication) -> str:
    return (
        await session_of(ctx).scalar(
            select(ServiceGuideVersion.title).where(ServiceGuideVersion.id == item.guide_version_id)
        )
        or ""
    )


@allowed_to(Role.COMMUNITY_ADMIN, Role.TENANT_ADMIN, Role.STAFF)
async def forward(ctx: RequestContext, application_id: uuid.UUID, note: str | None) -> uuid.UUID:
    """Approved at this level: on to the next, whose reviewers are told."""
    check = InputCheck()
    text = _note(check, note, "note", "审核意见")
    check.done()

    def up(item: ServiceApplication) -> None:
        following = next_level(item.kind, item.level)
        assert following is not None  # the step's guard
        item.level = following
        item.reached += 1
        item.overdue_at = None

    item, _ = await _step(ctx, application_id, ApplicationAction.FORWARD, note=text, change=up)
    title = await _title_of(ctx, item)
    await _tell_reviewers(ctx, item, title)
    await _tell_applicant(
        ctx, item, "办事申请进展", f"您的“{title}”申请已通过上一级审核，现由{LEVEL_NAMES[item.level]}。"
    )
    return item.id


@allowed_to(Role.COMMUNITY_ADMIN, Role.TENANT_ADMIN, Role.STAFF)
async def approve(ctx: RequestContext, application_id: uuid.UUID, note: str | None, check_page: str) -> uuid.UUID:
    """Approved at the last level: done; a 社区证明 gets its certificate. `check_page` is where
    the certificate's QR code leads (the API's public address + /certificates/check)."""
    check = InputCheck()
    text = _note(check, note, "note", "审批意见")
    check.done()

    def done(item: ServiceApplication) -> None:
        item.decided_at = ctx.clock()
        item.reason = None

    item, _ = await _step(ctx, application_id, ApplicationAction.APPROVE, note=text, change=done)
    title = await _title_of(ctx, item)
    if issues_certificate(item.kind):
        await issue_certificate(ctx, item, title, check_page)
        body = f"您的“{title}”已开具，可在申请详情中下载证明（PDF）。"
    else:
        body = f"您的“{title}”申请已审批通过，办理完成。"
    await _tell_applicant(ctx, item, "办事申请已办结", body)
    return item.id


@allowed_to(Role.COMMUNITY_ADMIN, Role.TENANT_ADMIN, Role.STAFF)
async def return_for_material(ctx: RequestContext, application_id: uuid.UUID, reason: str) -> uuid.UUID:
    check = InputCheck()
    text = check.text(reason, "reason", "需补正的内容", min_length=2, max_length=500)
    check.done()

    def back(item: ServiceApplication) -> None:
        item.reason = text

    item, _ = await _step(ctx, application_id, ApplicationAction.RETURN, note=text, change=back)
    title = await _title_of(ctx, item)
    await _tell_applicant(ctx, item, "办事申请需补正材料", f"您的“{title}”申请需补正：{text}")
    return item.id


@allowed_to(Role.COMMUNITY_ADMIN, Role.TENANT_ADMIN, Role.STAFF)
async def reject(ctx: RequestContext, application_id: uuid.UUID, reason: str) -> uuid.UUID:
    check = InputCheck()
    text = check.text(reason, "reason", "不予办理的理由", min_length=2, max_length=500)
    check.done()

    def refuse(item: ServiceApplication) -> None:
        item.reason = text
        item.decided_at = ctx.clock()

    item, _ = await _step(ctx, application_id, ApplicationAction.REJECT, note=text, change=refuse)
    title = await _title_of(ctx, item)
    await _tell_applicant(ctx, item, "办事申请不予办理", f"您的“{title}”申请不予办理：{text}")
    return item.id


@allowed_to(Role.RESIDENT)
async def resubmit(
    ctx: RequestContext, application_id: uuid.UUID, note: str | None, materials: Sequence[MaterialFiles]
) -> uuid.UUID:
    """The applicant adds what was asked for; back to the level that returned it, with the time
    limit counted afresh."""
    check = InputCheck()
    text = _note(check, note, "note", "补正说明")
    check.done()
    visible = await application(ctx, application_id)
    required = visible.materials if visible is not None else []
    stored = await _received(ctx, required, materials, all_required=False) if visible is not None else []

    def again(item: ServiceApplication) -> None:
        now = ctx.clock()
        item.reason = None
        item.overdue_at = None
        item.due_at = calendar_of(ctx).working_days_after(now, visible.time_limit_days if visible else 0)

    item, event = await _step(ctx, application_id, ApplicationAction.RESUBMIT, note=text, change=again)
    _attach(ctx, item, event.id, stored)
    await session_of(ctx).flush()
    await _tell_reviewers(ctx, item, visible.guide_title if visible else "")
    return item.id


@allowed_to(Role.RESIDENT)
async def withdraw(ctx: RequestContext, application_id: uuid.UUID, reason: str | None) -> uuid.UUID:
    check = InputCheck()
    text = _note(check, reason, "reason", "撤回原因")
    check.done()

    def close(item: ServiceApplication) -> None:
        item.decided_at = ctx.clock()

    item, _ = await _step(ctx, application_id, ApplicationAction.WITHDRAW, note=text, change=close)
    return item.id


@allowed_to(Role.COMMUNITY_ADMIN, Role.TENANT_ADMIN, Role.STAFF)
async def revoke(ctx: RequestContext, application_id: uuid.UUID, reason: str) -> uuid.UUID:
    """The issuing community withdraws a certificate: checking its code says so from now on."""
    check = InputCheck()
    text = check.text(reason, "reason", "撤销理由", min_length=2, max_length=200)
    check.done()
    item, _ = await _step(ctx, application_id, ApplicationAction.REVOKE, note=text)
    issued = await session_of(ctx).scalar(
        select(ServiceCertificate).where(ServiceCertificate.application_id == item.id)
    )
    assert issued is not None  # approved, of a kind that issues one
    issued.revoked_at = ctx.clock()
    issued.revoke_reason = text
    await session_of(ctx).flush()
    await _tell_applicant(ctx, item, "证明已撤销", f"您的“{issued.title}”已被撤销：{text}")
    return item.id


# --- certificates ----------------------------------------------------------------------------


async def issue_certificate(ctx: RequestContext, item: ServiceApplication, title: str, check_page: str) -> None:
    """Writes the certificate's PDF and its row. The PDF is drawn off the event loop; if the
    step's transaction does not commit, the file goes with it."""
    assert ctx.tenant is not None
    session = session_of(ctx)
    person = await session.execute(
        select(User.name, ResidentProfile.room, Building.name.label("building"), Community.name.label("community"))
        .join(ResidentProfile, (ResidentProfile.tenant_id == User.tenant_id) & (ResidentProfile.id == User.id))
        .join(
            Building,
            (Building.tenant_id == ResidentProfile.tenant_id) & (Building.id == ResidentProfile.building_id),
        )
        .join(Community, (Community.tenant_id == User.tenant_id) & (Community.id == item.community_id))
        .where(User.id == item.applicant_id)
    )
    holder = person.one()
    issuer = issuer_of(ctx.tenant.name, holder.community)
    statement = certificate_statement(holder.name, holder.community, holder.building, holder.room, title, item.purpose)
    code = new_certificate_code()
    now = ctx.clock()
    text = CertificateText(
        title=title,
        holder_name=holder.name,
        statement=statement,
        issuer=issuer,
        issued_at=now,
        code=display_code(code),
        check_url=check_link(check_page, ctx.tenant.slug, code),
    )
    pdf = await asyncio.to_thread(render_certificate, text)
    key = f"{ctx.tenant.id}/certificates/{now:%Y/%m}/{uuid.uuid4()}.pdf"
    store_generated(ctx, key, pdf)
    session.add(
        ServiceCertificate(
            application_id=item.id,
            community_id=item.community_id,
            code=code,
            holder_name=holder.name,
            title=title,
            statement=statement,
            issuer=issuer,
            issued_at=now,
            storage_key=key,
        )
    )
    await session.flush()


# --- the sweep -------------------------------------------------------------------------------


async def sweep(ctx: RequestContext) -> int:
    """Applications in review past their time limit: flagged once at each level, and the level's
    reviewers and the tenant admins told (督办)."""
    session = session_of(ctx)
    now = ctx.clock()
    late = (
        await session.scalars(
            select(ServiceApplication).where(
                ServiceApplication.status.in_(
                    APPLICATION_LIFECYCLE.sources(ApplicationAction.MARK_OVERDUE, ApplicationParty.SYSTEM)
                ),
                ServiceApplication.due_at < now,
                ServiceApplication.overdue_at.is_(None),
            )
        )
    ).all()
    supervisors = list(
        (await session.scalars(select(RoleGrant.user_id).where(RoleGrant.role == Role.TENANT_ADMIN))).all()
    )
    for item in late:
        before = item.status
        item.status = APPLICATION_LIFECYCLE.next_state(
            ApplicationAction.MARK_OVERDUE, before, {ApplicationParty.SYSTEM}
        )
        item.overdue_at = now
        _record(ctx, item, ApplicationAction.MARK_OVERDUE, before, "超过办理时限未办结", None)
        await notify(
            ctx,
            [*await reviewers(ctx, item), *supervisors],
            kind=NotificationKind.SERVICE_APPLICATION_OVERDUE,
            title="办事申请超过办理时限",
            body=f"有一件办事申请在{LEVEL_NAMES[item.level]}环节超过办理时限，请督办。",
            subject=Subject(SubjectType.SERVICE_APPLICATION, item.id),
        )
    await session.flush()
    return len(late)
