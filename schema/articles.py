"""News (魅力街道): articles, public once published, written and published by admins."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from models.articles import ARTICLE_LIFECYCLE, ArticleAction, ArticleStatus
from resolvers import articles, organisation
from schema.common import (
    Connection,
    Info,
    ScopedNode,
    UserError,
    attempt,
    connection,
    decode_id,
    mirror_enum,
    nodes_by_id,
    page_request,
    referenced,
    shanghai,
    viewer_can,
)
from schema.organisation import Community
from schema.uploads import download_url, incoming_files

if TYPE_CHECKING:  # see mirror_enum
    ArticleStatusType = ArticleStatus
else:
    ArticleStatusType = mirror_enum(
        ArticleStatus, articles.STATUS_NAMES, name="ArticleStatus", description="Where an article stands."
    )
if TYPE_CHECKING:  # see mirror_enum
    ArticleActionType = ArticleAction
else:
    ArticleActionType = mirror_enum(
        ArticleAction, articles.ACTION_NAMES, name="ArticleAction", description="A step on an article's timeline."
    )
ARTICLE_CAN = viewer_can(
    "ArticleViewerCan",
    "Article",
    ARTICLE_LIFECYCLE,
    mutations={
        ArticleAction.UPDATE: "updateArticle",
        ArticleAction.PUBLISH: "publishArticle",
        ArticleAction.WITHDRAW: "withdrawArticle",
    },
)
if TYPE_CHECKING:  # made at run time from the lifecycle (viewer_can)
    ArticleViewerCan = object
else:
    ArticleViewerCan = ARTICLE_CAN.type


@strawberry.type(description="One step of an article: written, changed, published, withdrawn.")
class ArticleEvent:
    action: ArticleActionType
    actor_name: str | None
    from_status: ArticleStatusType | None
    to_status: ArticleStatusType
    at: datetime


@strawberry.type(
    description="魅力街道: an article of a community or of the whole street office. Published ones are public."
)
class Article(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    title: str
    summary: str
    body: str = strawberry.field(
        description="Rich text as HTML, already cleaned to a small allow-list (paragraphs, headings, emphasis, lists, quotes, http(s) links and images): safe to render."
    )
    author_name: str
    pinned: bool
    status: ArticleStatusType
    published_at: datetime | None
    updated_at: datetime
    street_wide: bool = strawberry.field(description="Of the whole street office rather than one community.")
    row: strawberry.Private[articles.ArticleRow]

    @classmethod
    def from_row(cls, row: articles.ArticleRow) -> Article:
        return cls(
            id=row.id,
            title=row.title,
            summary=row.summary,
            body=row.body,
            author_name=row.author_name,
            pinned=row.pinned,
            status=ArticleStatusType(row.status),
            published_at=shanghai(row.published_at),
            updated_at=shanghai(row.updated_at),
            street_wide=row.community_id is None,
            row=row,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[Article | None]:
        return await nodes_by_id(node_ids, lambda i: articles.article(info.context, i), cls.from_row)

    @strawberry.field(description="Its community; null for an article of the whole street office.")
    async def community(self, info: Info) -> Community | None:
        if self.row.community_id is None:
            return None
        return Community.from_row(referenced(await organisation.community(info.context, self.row.community_id)))

    @strawberry.field(description="The cover image (a signed URL), if it has one.")
    def cover_url(self, info: Info) -> str | None:
        return download_url(info, self.row.storage_key) if self.row.storage_key else None

    @strawberry.field(description="What the caller may do to it now.")
    def viewer_can(self, info: Info) -> ArticleViewerCan:
        return ARTICLE_CAN.of(articles.viewer_can(info.context, self.row))

    @strawberry.field(description="Its steps, oldest first: for its editors; empty for readers.")
    async def timeline(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[ArticleEvent]:
        page = await articles.timeline(info.context, self.row, page_request(info, first, after))
        return connection(
            page,
            lambda r: ArticleEvent(
                action=ArticleActionType(r.action),
                actor_name=r.actor_name,
                from_status=ArticleStatusType(r.from_status) if r.from_status else None,
                to_status=ArticleStatusType(r.to_status),
                at=shanghai(r.created_at),
            ),
        )


@strawberry.input(description="Narrows the articles the caller sees.")
class ArticleFilter:
    community_id: relay.GlobalID | None = strawberry.field(
        default=None, description="A community's articles and the street office's."
    )
    street_only: bool = strawberry.field(default=False, description="The street office's own articles only.")
    statuses: list[ArticleStatusType] | None = strawberry.field(
        default=None, description="Drafts and withdrawn ones appear only for their editors."
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="Articles, pinned first then newest: published ones for anyone (signed in or not), with the drafts and withdrawn ones the caller may edit."
    )
    async def articles(
        self, info: Info, filter: ArticleFilter | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[Article]:
        wanted = filter or ArticleFilter()
        query = articles.ArticleFilter(
            community_id=decode_id(wanted.community_id, "Community", "filter.communityId")
            if wanted.community_id is not None
            else None,
            street_only=wanted.street_only,
            statuses=tuple(ArticleStatus(s.value) for s in wanted.statuses or ()),
        )
        return connection(
            await articles.list_articles(info.context, query, page_request(info, first, after)), Article.from_row
        )


@strawberry.input(description="An article's content.")
class ArticleFields:
    title: str
    body: str = strawberry.field(
        description="HTML from a rich-text editor; anything outside the allow-list (scripts, styles, event handlers, javascript: URLs) is removed."
    )
    summary: str | None = strawberry.field(default=None, description="Shown in lists; the body's first words if none.")
    pinned: bool = strawberry.field(default=False, description="Listed before the others.")
    cover_id: relay.GlobalID | None = strawberry.field(
        default=None, description="The cover image, uploaded before (`POST /uploads`)."
    )


@strawberry.input
class CreateArticleInput:
    community_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Its community; none for the whole street office (tenant admins)."
    )
    article: ArticleFields


@strawberry.input
class UpdateArticleInput:
    article_id: relay.GlobalID
    article: ArticleFields
    remove_cover: bool = strawberry.field(default=False, description="Take the cover away (when no coverId is given).")


@strawberry.input
class ArticleStepInput:
    article_id: relay.GlobalID


@strawberry.type
class ArticlePayload:
    article: Article | None
    errors: list[UserError]


def _draft(fields: ArticleFields) -> articles.ArticleDraft:
    return articles.ArticleDraft(title=fields.title, body=fields.body, summary=fields.summary, pinned=fields.pinned)


def _article_id(value: relay.GlobalID) -> uuid.UUID:
    return decode_id(value, "Article", "articleId")


async def _payload(info: Info, action: Callable[[], Awaitable[uuid.UUID]]) -> ArticlePayload:
    outcome = await attempt(info, action)
    row = await articles.article(info.context, outcome.value) if outcome.value else None
    return ArticlePayload(article=Article.from_row(row) if row else None, errors=outcome.errors)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="An admin writes a draft article (published with publishArticle).")
    async def create_article(self, info: Info, input: CreateArticleInput) -> ArticlePayload:
        async def create() -> uuid.UUID:
            community_id = (
                decode_id(input.community_id, "Community", "communityId") if input.community_id is not None else None
            )
            cover = incoming_files([], [input.article.cover_id] if input.article.cover_id else [], "coverId")
            return await articles.create(info.context, _draft(input.article), cover, community_id=community_id)

        return await _payload(info, create)

    @strawberry.mutation(description="An editor changes an article (a published one stays published).")
    async def update_article(self, info: Info, input: UpdateArticleInput) -> ArticlePayload:
        async def change() -> uuid.UUID:
            cover = incoming_files([], [input.article.cover_id] if input.article.cover_id else [], "coverId")
            return await articles.update(
                info.context,
                _article_id(input.article_id),
                _draft(input.article),
                cover,
                remove_cover=input.remove_cover,
            )

        return await _payload(info, change)

    @strawberry.mutation(description="An editor publishes a draft or a withdrawn article: public from now.")
    async def publish_article(self, info: Info, input: ArticleStepInput) -> ArticlePayload:
        return await _payload(info, lambda: articles.publish(info.context, _article_id(input.article_id)))

    @strawberry.mutation(description="An editor withdraws a published article: only its editors see it again.")
    async def withdraw_article(self, info: Info, input: ArticleStepInput) -> ArticlePayload:
        return await _payload(info, lambda: articles.withdraw(info.context, _article_id(input.article_id)))
