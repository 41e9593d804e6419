"""News (魅力街道): articles written by admins (a community's own, or the street office's by its
tenant admins), published for anyone to read, withdrawn when they no longer hold.

Published articles are public, signed in or not; drafts and withdrawn ones only for those who may
edit them. Lists put pinned articles first, then the newest.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm.exc import StaleDataError

from models.articles import (
    ARTICLE_LIFECYCLE,
    Article,
    ArticleAction,
    ArticleEvent,
    ArticleParty,
    ArticleStatus,
    plain_text,
    sanitised_body,
)
from models.complaints import AttachmentKind
from models.errors import ErrorCode
from models.organisation import Community
from models.people import Role, User
from resolvers.errors import InputCheck, fail, not_found
from resolvers.loaders import loader, pages_per_parent
from resolvers.pagination import Page, PageRequest, checked, paginate
from resolvers.permissions import ADMINS, ANYONE, allowed_to, session_of, viewer_of
from resolvers.rows import Selection, one_of
from resolvers.steps import Steps
from resolvers.uploads import IncomingFiles, receive
from tenants.context import RequestContext
from tenants.tokens import Viewer

STATUS_NAMES = {ArticleStatus.DRAFT: "草稿", ArticleStatus.PUBLISHED: "已发布", ArticleStatus.WITHDRAWN: "已撤回"}
ACTION_NAMES = {
    ArticleAction.CREATE: "撰写",
    ArticleAction.UPDATE: "修改",
    ArticleAction.PUBLISH: "发布",
    ArticleAction.WITHDRAW: "撤回",
}
TITLE_MAX = 100
SUMMARY_MAX = 300
BODY_MAX = 50_000

STEPS = Steps(ARTICLE_LIFECYCLE, thing="文章", states=STATUS_NAMES, actions=ACTION_NAMES, field="articleId")


@dataclass(frozen=True, slots=True)
class ArticleRow:
    id: uuid.UUID
    community_id: uuid.UUID | None
    author_id: uuid.UUID
    author_name: str
    title: str
    summary: str
    body: str
    storage_key: str | None
    pinned: bool
    status: ArticleStatus
    published_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ArticleEventRow:
    id: uuid.UUID
    action: ArticleAction
    actor_name: str | None
    from_status: ArticleStatus | None
    to_status: ArticleStatus
    created_at: datetime


ARTICLE = Selection(
    ArticleRow,
    select(
        Article.id,
        Article.community_id,
        Article.author_id,
        User.name.label("author_name"),
        Article.title,
        Article.summary,
        Article.body,
        Article.storage_key,
        Article.pinned,
        Article.status,
        Article.published_at,
        Article.updated_at,
    ).join(User, (User.tenant_id == Article.tenant_id) & (User.id == Article.author_id)),
)
ARTICLE_EVENT = Selection(
    ArticleEventRow,
    select(
        ArticleEvent.id,
        ArticleEvent.action,
        User.name.label("actor_name"),
        ArticleEvent.from_status,
        ArticleEvent.to_status,
        ArticleEvent.created_at,
    ).outerjoin(User, (User.tenant_id == ArticleEvent.tenant_id) & (User.id == ArticleEvent.actor_id)),
)
# Pinned first, then the newest: one keyset, all descending.
ARTICLE_ORDER = (Article.pinned, Article.listed_at, Article.id)


def parties(viewer: Viewer | None, community_id: uuid.UUID | None) -> set[ArticleParty]:
    """An article's editors: the admins over its community; the street office's, its tenant admins."""
    return {ArticleParty.EDITOR} if viewer is not None and viewer.administers(community_id) else set()


def _editable(viewer: Viewer) -> ColumnElement[bool]:
    if Role.TENANT_ADMIN in viewer.roles:
        return Article.id.is_not(None)
    if Role.COMMUNITY_ADMIN in viewer.roles:
        return Article.community_id.in_(viewer.community_ids)
    return Article.id.is_(None)


def _in_scope(viewer: Viewer | None) -> ColumnElement[bool]:
    published = Article.status == ArticleStatus.PUBLISHED
    return published if viewer is None else or_(published, _editable(viewer))


def viewer_can(ctx: RequestContext, row: ArticleRow) -> frozenset[ArticleAction]:
    return STEPS.available(ctx, row, parties(ctx.viewer, row.community_id))


async def _articles(ctx: RequestContext, ids: list[uuid.UUID], viewer: Viewer | None) -> list[ArticleRow | None]:
    rows = await ARTICLE.where(one_of(ctx, Article.id, ids), _in_scope(viewer)).all(session_of(ctx))
    found = {row.id: row for row in rows}
    return [found.get(i) for i in ids]


async def _timelines(ctx: RequestContext, ids: list[uuid.UUID], page: PageRequest) -> list[Page[ArticleEventRow]]:
    pages = await pages_per_parent(ctx, ARTICLE_EVENT, ArticleEvent.article_id, ids, (ArticleEvent.id,), page)
    return [pages[i] for i in ids]


class Loaders:
    """This domain's batches: one statement per kind per request (resolvers.loaders.loader)."""

    articles = _articles  # per viewer
    timelines = _timelines  # per page


@dataclass(frozen=True)
class ArticleFilter:
    community_id: uuid.UUID | None = None
    # The street office's own articles only (community_id IS NULL).
    street_only: bool = False
    statuses: tuple[ArticleStatus, ...] = ()


@allowed_to(ANYONE)
async def list_articles(ctx: RequestContext, query: ArticleFilter, page: PageRequest) -> Page[ArticleRow]:
    """Published articles for anyone, with the drafts and withdrawn ones the caller may edit; a
    community's list holds the street office's articles too."""
    found = ARTICLE.where(_in_scope(ctx.viewer))
    if query.community_id is not None:
        found = found.where(or_(Article.community_id == query.community_id, Article.community_id.is_(None)))
    if query.street_only:
        found = found.where(Article.community_id.is_(None))
    if query.statuses:
        found = found.where(Article.status.in_(query.statuses))
    return await paginate(ctx, found, ARTICLE_ORDER, page, descending=True)


@allowed_to(ANYONE)
async def article(ctx: RequestContext, article_id: uuid.UUID) -> ArticleRow | None:
    return await loader(ctx, Loaders.articles, ctx.viewer).load(article_id)


@allowed_to(ANYONE)
async def timeline(ctx: RequestContext, row: ArticleRow, page: PageRequest) -> Page[ArticleEventRow]:
    """Its steps, for its editors only (readers see the publish time)."""
    if not parties(ctx.viewer, row.community_id):
        return Page.empty()
    return await loader(ctx, Loaders.timelines, checked(ctx, page)).load(row.id)


@dataclass(frozen=True)
class ArticleDraft:
    title: str
    body: str
    summary: str | None = None
    pinned: bool = False


def _checked(check: InputCheck, draft: ArticleDraft) -> tuple[str, str, str]:
    title = check.text(draft.title, "title", "标题", max_length=TITLE_MAX)
    check.require(len(draft.body) <= BODY_MAX, "body", f"正文不能超过 {BODY_MAX} 个字符。")
    body = sanitised_body(draft.body[:BODY_MAX])
    check.require(bool(plain_text(body)) or "<img" in body, "body", "请填写正文。")
    summary = (draft.summary or "").strip() or plain_text(body)[:120]
    check.require(len(summary) <= SUMMARY_MAX, "summary", f"摘要不能超过 {SUMMARY_MAX} 个字符。")
    return title, body, summary


async def _cover(ctx: RequestContext, cover: IncomingFiles) -> str | None:
    stored = await receive(ctx, cover, "cover", "coverId")
    if len(stored) > 1 or any(s.media.kind is not AttachmentKind.IMAGE for s in stored):
        raise fail(ErrorCode.INVALID, "封面须为一张图片。", "coverId")
    return stored[0].key if stored else None


@allowed_to(*ADMINS)
async def create(
    ctx: RequestContext, draft: ArticleDraft, cover: IncomingFiles, *, community_id: uuid.UUID | None
) -> uuid.UUID:
    """A draft: of a community (its admins, or a tenant admin), or of the whole street office
    (no community: tenant admins only)."""
    session = session_of(ctx)
    viewer = viewer_of(ctx)
    check = InputCheck()
    title, body, summary = _checked(check, draft)
    if community_id is not None:
        exists = await session.scalar(select(Community.id).where(Community.id == community_id))
        check.require(exists is not None, "communityId", "请从列表中选择社区。", ErrorCode.NOT_FOUND)
    if not viewer.administers(community_id):
        check.require(False, "communityId", "只能为您管理的社区撰写文章。", ErrorCode.OUT_OF_SCOPE)
    check.done()
    cover_key = await _cover(ctx, cover)
    now = ctx.clock()
    row = Article(
        community_id=community_id,
        author_id=viewer.user_id,
        title=title,
        summary=summary,
        body=body,
        storage_key=cover_key,
        pinned=draft.pinned,
        status=ArticleStatus.DRAFT,
        listed_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    _record(ctx, row, ArticleAction.CREATE, None)
    await session.flush()
    return row.id


async def _step(ctx: RequestContext, article_id: uuid.UUID, action: ArticleAction) -> Article:
    """The article, once STEPS allows the caller this step now; its state moved and recorded."""
    viewer = viewer_of(ctx)
    row = await session_of(ctx).scalar(select(Article).where(Article.id == article_id, _in_scope(viewer)))
    if row is None:
        raise not_found("文章", "articleId")
    before = row.status
    row.status = STEPS.next_state(ctx, action, row, parties(viewer, row.community_id))
    row.updated_at = ctx.clock()
    _record(ctx, row, action, before)
    return row


async def _flush(ctx: RequestContext) -> None:
    try:
        await session_of(ctx).flush()
    except StaleDataError as error:
        raise fail(ErrorCode.CONFLICT, "该文章刚刚被他人修改，请刷新后重试。", "articleId") from error


@allowed_to(*ADMINS)
async def update(
    ctx: RequestContext, article_id: uuid.UUID, draft: ArticleDraft, cover: IncomingFiles, *, remove_cover: bool
) -> uuid.UUID:
    check = InputCheck()
    title, body, summary = _checked(check, draft)
    check.done()
    row = await _step(ctx, article_id, ArticleAction.UPDATE)
    cover_key = await _cover(ctx, cover)
    if cover_key is not None or remove_cover:
        row.storage_key = cover_key
    row.title, row.body, row.summary, row.pinned = title, body, summary, draft.pinned
    await _flush(ctx)
    return row.id


@allowed_to(*ADMINS)
async def publish(ctx: RequestContext, article_id: uuid.UUID) -> uuid.UUID:
    row = await _step(ctx, article_id, ArticleAction.PUBLISH)
    now = ctx.clock()
    row.published_at = now
    row.listed_at = now
    await _flush(ctx)
    return row.id


@allowed_to(*ADMINS)
async def withdraw(ctx: RequestContext, article_id: uuid.UUID) -> uuid.UUID:
    row = await _step(ctx, article_id, ArticleAction.WITHDRAW)
    await _flush(ctx)
    return row.id


def _record(ctx: RequestContext, row: Article, action: ArticleAction, before: ArticleStatus | None) -> None:
    session_of(ctx).add(
        ArticleEvent(
            article_id=row.id,
            action=action,
            actor_id=viewer_of(ctx).user_id,
            from_status=before,
            to_status=row.status,
            created_at=ctx.clock(),
        )
    )
