"""Notices (通知公告): posted to the street office, a community, grids or buildings; read and,
where asked, confirmed (已阅) by the residents they reach; counted for whoever posted them.

A notice's audience is computed, never listed person by person (models.notices.in_audience):
telling them is one INSERT of notifications from one SELECT, and "how many have not read" is one
aggregate over the audience for every notice of a page at once.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select

from models.base import new_id
from models.errors import ErrorCode
from models.leaders import led_buildings
from models.notices import Notice, NoticeReceipt, NoticeScope, NoticeTarget, in_audience
from models.notifications import NotificationKind, Subject, SubjectType
from models.organisation import Building, Community, Grid
from models.people import ResidentProfile, ResidentStatus, Role, User
from resolvers.errors import InputCheck, fail, not_found
from resolvers.loaders import loader, pages_per_parent
from resolvers.notifications import notify
from resolvers.pagination import Page, PageRequest, checked, paginate
from resolvers.permissions import ADMINS, ANYONE, allowed_to, session_of, viewer_of, visible_rows
from resolvers.rows import Selection, one_of
from resolvers.upserts import upsert
from tenants.context import RequestContext
from tenants.tokens import Viewer

SCOPE_NAMES = {
    NoticeScope.STREET: "全街道",
    NoticeScope.COMMUNITY: "一个社区",
    NoticeScope.GRIDS: "指定网格",
    NoticeScope.BUILDINGS: "指定楼栋",
}
TITLE_MAX = 100
BODY_MAX = 5000
MAX_TARGETS = 100


@dataclass(frozen=True, slots=True)
class NoticeRow:
    id: uuid.UUID
    scope: NoticeScope
    community_id: uuid.UUID | None
    author_id: uuid.UUID
    author_name: str
    title: str
    body: str
    requires_confirmation: bool
    is_public: bool
    posted_at: datetime


@dataclass(frozen=True, slots=True)
class ReceiptRow:
    id: uuid.UUID
    notice_id: uuid.UUID
    user_id: uuid.UUID
    name: str
    phone: str
    read_at: datetime
    confirmed_at: datetime | None
    # Where the reader lives now (admins over it see their phone whole).
    community_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class TargetRow:
    notice_id: uuid.UUID
    grid_id: uuid.UUID | None
    building_id: uuid.UUID | None


@dataclass(frozen=True)
class ReadCounts:
    audience: int
    read: int
    confirmed: int

    @property
    def unread(self) -> int:
        return self.audience - self.read


NOTICE = Selection(
    NoticeRow,
    select(
        Notice.id,
        Notice.scope,
        Notice.community_id,
        Notice.author_id,
        User.name.label("author_name"),
        Notice.title,
        Notice.body,
        Notice.requires_confirmation,
        Notice.is_public,
        Notice.posted_at,
    ).join(User, (User.tenant_id == Notice.tenant_id) & (User.id == Notice.author_id)),
)
RECEIPT = Selection(
    ReceiptRow,
    select(
        NoticeReceipt.id,
        NoticeReceipt.notice_id,
        NoticeReceipt.user_id,
        User.name,
        User.phone,
        NoticeReceipt.read_at,
        NoticeReceipt.confirmed_at,
        Grid.community_id,
    )
    .join(User, (User.tenant_id == NoticeReceipt.tenant_id) & (User.id == NoticeReceipt.user_id))
    .outerjoin(ResidentProfile, (ResidentProfile.tenant_id == User.tenant_id) & (ResidentProfile.id == User.id))
    .outerjoin(
        Building, (Building.tenant_id == ResidentProfile.tenant_id) & (Building.id == ResidentProfile.building_id)
    )
    .outerjoin(Grid, (Grid.tenant_id == Building.tenant_id) & (Grid.id == Building.grid_id)),
)
RECEIPT_ORDER = (NoticeReceipt.read_at, NoticeReceipt.id)
TARGET = Selection(TargetRow, select(NoticeTarget.notice_id, NoticeTarget.grid_id, NoticeTarget.building_id))
# The verified residents and where they live, for audiences.
_HOMES = (
    select(ResidentProfile.id)
    .join(Building, (Building.tenant_id == ResidentProfile.tenant_id) & (Building.id == ResidentProfile.building_id))
    .join(Grid, (Grid.tenant_id == Building.tenant_id) & (Grid.id == Building.grid_id))
    .where(ResidentProfile.status == ResidentStatus.VERIFIED)
)


def _reaches(user_id: uuid.UUID) -> ColumnElement[bool]:
    """The notice (of the enclosing query) reaches this person as a verified resident."""
    return exists(
        _HOMES.where(ResidentProfile.id == user_id, in_audience(Building.id, Grid.id, Grid.community_id)).correlate(
            Notice
        )
    )


def _administered(viewer: Viewer) -> ColumnElement[bool]:
    return visible_rows(viewer, {Role.COMMUNITY_ADMIN: lambda v: Notice.community_id.in_(v.community_ids)})


def _in_scope(viewer: Viewer | None) -> ColumnElement[bool]:
    """Anyone: public notices. A resident: those that reach their home. Whoever posted one, and
    the admins over it: theirs. Grid workers: the street office's and their communities'."""
    if viewer is None:
        return Notice.is_public.is_(True)
    served = select(Grid.community_id).where(Grid.worker_id == viewer.user_id)
    return or_(
        Notice.is_public,
        Notice.author_id == viewer.user_id,
        _administered(viewer),
        visible_rows(
            viewer,
            {
                Role.RESIDENT: lambda v: _reaches(v.user_id),
                Role.GRID_WORKER: lambda v: or_(Notice.scope == NoticeScope.STREET, Notice.community_id.in_(served)),
            },
        ),
    )


def oversees(viewer: Viewer | None, row: NoticeRow) -> bool:
    """Who sees a notice's receipts and counts: whoever posted it and the admins over it."""
    return viewer is not None and (viewer.user_id == row.author_id or viewer.administers(row.community_id))


async def _notices(ctx: RequestContext, ids: list[uuid.UUID], viewer: Viewer | None) -> list[NoticeRow | None]:
    found = {
        row.id: row for row in await NOTICE.where(one_of(ctx, Notice.id, ids), _in_scope(viewer)).all(session_of(ctx))
    }
    return [found.get(i) for i in ids]


def _audience(*columns: Any) -> Select[Any]:
    """`columns` over the notices (of the WHERE the caller adds) joined with each verified
    resident they reach."""
    return (
        select(*columns)
        .select_from(Notice)
        .join(
            ResidentProfile,
            (ResidentProfile.tenant_id == Notice.tenant_id) & (ResidentProfile.status == ResidentStatus.VERIFIED),
        )
        .join(
            Building, (Building.tenant_id == ResidentProfile.tenant_id) & (Building.id == ResidentProfile.building_id)
        )
        .join(Grid, (Grid.tenant_id == Building.tenant_id) & (Grid.id == Building.grid_id))
        .where(in_audience(Building.id, Grid.id, Grid.community_id))
    )


async def _counts(ctx: RequestContext, ids: list[uuid.UUID]) -> list[ReadCounts]:
    """For every notice of the batch in one statement: its audience now, how many of them have
    read it and how many confirmed (a receipt of someone who has since moved away counts no more)."""
    receipt = (
        (NoticeReceipt.tenant_id == Notice.tenant_id)
        & (NoticeReceipt.notice_id == Notice.id)
        & (NoticeReceipt.user_id == ResidentProfile.id)
    )
    stmt = (
        _audience(
            Notice.id,
            func.count(ResidentProfile.id),
            func.count(NoticeReceipt.id),
            func.count(NoticeReceipt.confirmed_at),
        )
        .outerjoin(NoticeReceipt, receipt)
        .where(one_of(ctx, Notice.id, ids))
        .group_by(Notice.id)
    )
    counted = {row[0]: ReadCounts(row[1], row[2], row[3]) for row in (await session_of(ctx).execute(stmt)).all()}
    return [counted.get(i, ReadCounts(0, 0, 0)) for i in ids]


async def _own_receipts(ctx: RequestContext, ids: list[uuid.UUID], user_id: uuid.UUID) -> list[ReceiptRow | None]:
    mine = RECEIPT.where(one_of(ctx, NoticeReceipt.notice_id, ids), NoticeReceipt.user_id == user_id)
    found = {row.notice_id: row for row in await mine.all(session_of(ctx))}
    return [found.get(i) for i in ids]


async def _targets(ctx: RequestContext, ids: list[uuid.UUID]) -> list[list[TargetRow]]:
    grouped: dict[uuid.UUID, list[TargetRow]] = {i: [] for i in ids}
    for row in (
        await TARGET.where(one_of(ctx, NoticeTarget.notice_id, ids)).order_by(NoticeTarget.id).all(session_of(ctx))
    ):
        grouped[row.notice_id].append(row)
    return [grouped[i] for i in ids]


async def _receipts(ctx: RequestContext, ids: list[uuid.UUID], page: PageRequest) -> list[Page[ReceiptRow]]:
    pages = await pages_per_parent(ctx, RECEIPT, NoticeReceipt.notice_id, ids, RECEIPT_ORDER, page)
    return [pages[i] for i in ids]


class Loaders:
    """This domain's batches: one statement per kind per request (resolvers.loaders.loader)."""

    notices = _notices  # per viewer
    counts = _counts
    own_receipts = _own_receipts  # per viewer
    targets = _targets
    receipts = _receipts  # per page


# --- reading ---------------------------------------------------------------------------------


@allowed_to(ANYONE)
async def list_notices(ctx: RequestContext, page: PageRequest, *, posted_by_me: bool) -> Page[NoticeRow]:
    """The notices the caller sees (_in_scope), newest first; or only those they posted."""
    found = NOTICE.where(_in_scope(ctx.viewer))
    if posted_by_me:
        found = found.where(Notice.author_id == viewer_of(ctx).user_id)
    return await paginate(ctx, found, (Notice.id,), page, descending=True)


@allowed_to(ANYONE)
async def notice(ctx: RequestContext, notice_id: uuid.UUID) -> NoticeRow | None:
    return await loader(ctx, Loaders.notices, ctx.viewer).load(notice_id)


@allowed_to(ANYONE)
async def read_counts(ctx: RequestContext, row: NoticeRow) -> ReadCounts | None:
    """For whoever posted it and the admins over it; None for anyone else."""
    if not oversees(ctx.viewer, row):
        return None
    return await loader(ctx, Loaders.counts).load(row.id)


@allowed_to(ANYONE)
async def receipts(ctx: RequestContext, row: NoticeRow, page: PageRequest) -> Page[ReceiptRow]:
    """Who has read it, first readers first: for whoever posted it and the admins over it."""
    if not oversees(ctx.viewer, row):
        return Page.empty()
    return await loader(ctx, Loaders.receipts, checked(ctx, page)).load(row.id)


@allowed_to(ANYONE)
async def own_receipt(ctx: RequestContext, notice_id: uuid.UUID) -> ReceiptRow | None:
    if ctx.viewer is None:
        return None
    return await loader(ctx, Loaders.own_receipts, ctx.viewer.user_id).load(notice_id)


@allowed_to(ANYONE)
async def targets(ctx: RequestContext, notice_id: uuid.UUID) -> list[TargetRow]:
    return await loader(ctx, Loaders.targets).load(notice_id)


# --- posting ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeDraft:
    title: str
    body: str
    scope: NoticeScope
    community_id: uuid.UUID | None = None
    grid_ids: tuple[uuid.UUID, ...] = ()
    building_ids: tuple[uuid.UUID, ...] = ()
    requires_confirmation: bool = False
    is_public: bool = False


class _Place(enum.Enum):
    GRID = "gridIds"
    BUILDING = "buildingIds"


async def _community_of(ctx: RequestContext, check: InputCheck, draft: NoticeDraft) -> uuid.UUID | None:
    """The one community the notice's target lies in (None for the street office), checked
    against the caller's reach: tenant admins anywhere, community admins in their community,
    building leaders in the buildings they lead and nowhere else."""
    session = session_of(ctx)
    viewer = viewer_of(ctx)
    admin = viewer.has_any(*ADMINS)
    if draft.scope is NoticeScope.STREET:
        check.require(
            Role.TENANT_ADMIN in viewer.roles, "scope", "只有街道管理员能向全街道发布通知。", ErrorCode.FORBIDDEN
        )
        return None
    if draft.scope is NoticeScope.COMMUNITY:
        found = draft.community_id and await session.scalar(
            select(Community.id).where(Community.id == draft.community_id)
        )
        if not check.require(bool(found), "communityId", "请从列表中选择社区。", ErrorCode.NOT_FOUND):
            return None
        check.require(
            admin and viewer.administers(draft.community_id),
            "communityId",
            "只能向您管理的社区发布通知。",
            ErrorCode.OUT_OF_SCOPE,
        )
        return draft.community_id
    place = _Place.GRID if draft.scope is NoticeScope.GRIDS else _Place.BUILDING
    wanted = draft.grid_ids if place is _Place.GRID else draft.building_ids
    if not check.require(
        1 <= len(set(wanted)) <= MAX_TARGETS,
        place.value,
        f"请选择 1–{MAX_TARGETS} 个{'网格' if place is _Place.GRID else '楼栋'}。",
    ):
        return None
    if place is _Place.GRID:
        rows = (await session.execute(select(Grid.id, Grid.community_id).where(Grid.id.in_(wanted)))).all()
    else:
        rows = (
            await session.execute(
                select(Building.id, Grid.community_id)
                .join(Grid, (Grid.tenant_id == Building.tenant_id) & (Grid.id == Building.grid_id))
                .where(Building.id.in_(wanted))
            )
        ).all()
    if not check.require(len(rows) == len(set(wanted)), place.value, "请从列表中选择。", ErrorCode.NOT_FOUND):
        return None
    communities: set[uuid.UUID] = {row.community_id for row in rows}
    if not check.require(len(communities) == 1, place.value, "一条通知只能发给同一社区内的网格或楼栋。"):
        return None
    (community_id,) = communities
    if admin and viewer.administers(community_id):
        return community_id
    if place is _Place.BUILDING and Role.BUILDING_LEADER in viewer.roles:
        led = set((await session.scalars(led_buildings(viewer.user_id, ctx.clock()))).all())
        check.require(set(wanted) <= led, place.value, "楼栋长只能向自己负责的楼栋发布通知。", ErrorCode.OUT_OF_SCOPE)
        return community_id
    check.require(False, place.value, "只能向您管理范围内的网格或楼栋发布通知。", ErrorCode.OUT_OF_SCOPE)
    return None


@allowed_to(Role.BUILDING_LEADER, *ADMINS)
async def post(ctx: RequestContext, draft: NoticeDraft) -> uuid.UUID:
    """Posts the notice and tells its audience (one statement to find them, one to tell them)."""
    session = session_of(ctx)
    viewer = viewer_of(ctx)
    check = InputCheck()
    title = check.text(draft.title, "title", "标题", max_length=TITLE_MAX)
    body = check.text(draft.body, "body", "正文", max_length=BODY_MAX)
    community_id = await _community_of(ctx, check, draft)
    check.done()
    row = Notice(
        scope=draft.scope,
        community_id=community_id,
        author_id=viewer.user_id,
        title=title,
        body=body,
        requires_confirmation=draft.requires_confirmation,
        is_public=draft.is_public,
        posted_at=ctx.clock(),
    )
    session.add(row)
    await session.flush()
    if draft.scope is NoticeScope.GRIDS:
        session.add_all(NoticeTarget(notice_id=row.id, grid_id=g) for g in sorted(set(draft.grid_ids)))
    elif draft.scope is NoticeScope.BUILDINGS:
        session.add_all(NoticeTarget(notice_id=row.id, building_id=b) for b in sorted(set(draft.building_ids)))
    await session.flush()
    audience = _audience(ResidentProfile.id).where(Notice.id == row.id)
    await notify(
        ctx,
        (await session.scalars(audience)).all(),
        kind=NotificationKind.NOTICE_POSTED,
        title=title,
        body="请查看并确认已阅。" if draft.requires_confirmation else body[:100],
        subject=Subject(SubjectType.NOTICE, row.id),
    )
    return row.id


# --- receipts --------------------------------------------------------------------------------


async def _reaching(ctx: RequestContext, notice_id: uuid.UUID) -> Notice:
    """The notice, if it reaches the caller as a resident (else NOT_FOUND or NOT_IN_AUDIENCE)."""
    viewer = viewer_of(ctx)
    row = await session_of(ctx).scalar(select(Notice).where(Notice.id == notice_id, _in_scope(viewer)))
    if row is None:
        raise not_found("通知", "noticeId")
    if not await session_of(ctx).scalar(
        select(exists(select(Notice.id).where(Notice.id == notice_id, _reaches(viewer.user_id))))
    ):
        raise fail(ErrorCode.NOT_IN_AUDIENCE, "该通知不是发给您的。", "noticeId")
    return row


async def _receipt(ctx: RequestContext, notice_id: uuid.UUID, *, confirm: bool) -> uuid.UUID:
    """Creates the caller's receipt or adds the confirmation to it, in one statement, whatever
    runs beside it: the first read time is kept."""
    assert ctx.tenant is not None
    now = ctx.clock()
    statement = (await upsert(session_of(ctx), NoticeReceipt)).values(
        tenant_id=ctx.tenant.id,
        id=new_id(),
        notice_id=notice_id,
        user_id=viewer_of(ctx).user_id,
        read_at=now,
        confirmed_at=now if confirm else None,
    )
    if confirm:
        statement = statement.on_conflict_do_update(
            index_elements=["tenant_id", "notice_id", "user_id"],
            set_={"confirmed_at": func.coalesce(NoticeReceipt.confirmed_at, now)},
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=["tenant_id", "notice_id", "user_id"])
    await session_of(ctx).execute(statement)
    return notice_id


@allowed_to(Role.RESIDENT)
async def mark_read(ctx: RequestContext, notice_id: uuid.UUID) -> uuid.UUID:
    await _reaching(ctx, notice_id)
    return await _receipt(ctx, notice_id, confirm=False)


@allowed_to(Role.RESIDENT)
async def confirm(ctx: RequestContext, notice_id: uuid.UUID) -> uuid.UUID:
    """已阅: only for a notice that asks for it."""
    row = await _reaching(ctx, notice_id)
    if not row.requires_confirmation:
        raise fail(ErrorCode.INVALID, "该通知不需要确认已阅。", "noticeId")
    return await _receipt(ctx, notice_id, confirm=True)
