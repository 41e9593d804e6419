"""News (魅力街道 / 社区大事小情): articles of the street office or of one community, written
by its admins, published and withdrawn.

An article's body is rich text from an editor in the admins' browser and is shown in residents'
apps: it is cleaned on the way in (`sanitised_body`) to a small allow-list, so what is stored is
safe to render as HTML wherever it goes.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import nh3
from sqlalchemy import ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TenantOwned, enum_column, utcnow
from models.lifecycle import Lifecycle, transition


class ArticleStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


class ArticleAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    PUBLISH = "publish"
    WITHDRAW = "withdraw"


class ArticleParty(enum.StrEnum):
    """What a caller is to one article."""

    EDITOR = "editor"  # an admin over its community (a tenant admin for the street office's)


_S, _A, _P = ArticleStatus, ArticleAction, ArticleParty
ARTICLE_LIFECYCLE: Lifecycle[ArticleStatus, ArticleAction, ArticleParty] = Lifecycle(
    (
        transition(_A.UPDATE, {_S.DRAFT, _S.PUBLISHED, _S.WITHDRAWN}, None, _P.EDITOR),
        transition(_A.PUBLISH, {_S.DRAFT, _S.WITHDRAWN}, _S.PUBLISHED, _P.EDITOR),
        transition(_A.WITHDRAW, {_S.PUBLISHED}, _S.WITHDRAWN, _P.EDITOR),
    )
)


class Article(TenantOwned, Base):
    """`community_id` NULL: an article of the whole street office."""

    __tablename__ = "articles"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "community_id"], ["communities.tenant_id", "communities.id"]),
        ForeignKeyConstraint(["tenant_id", "author_id"], ["users.tenant_id", "users.id"]),
        # The public list: published, pinned first, newest first.
        Index("ix_articles_listing", "tenant_id", "status", "pinned", "listed_at", "id"),
        Index("ix_articles_community", "tenant_id", "community_id", "status"),
    )

    community_id: Mapped[uuid.UUID | None] = mapped_column()
    author_id: Mapped[uuid.UUID] = mapped_column()
    title: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    # The cover image's file; named storage_key so `wanjia media sweep` knows it is in use.
    storage_key: Mapped[str | None] = mapped_column(String(200))
    pinned: Mapped[bool] = mapped_column(default=False)
    status: Mapped[ArticleStatus] = mapped_column(enum_column(ArticleStatus), default=ArticleStatus.DRAFT)
    published_at: Mapped[datetime | None] = mapped_column()
    # What lists sort by after pinning, newest first: when it was last published, or written if
    # it never was (a draft in an editor's list).
    listed_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class ArticleEvent(TenantOwned, Base):
    """One step on an article's timeline."""

    __tablename__ = "article_events"
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "article_id"], ["articles.tenant_id", "articles.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["tenant_id", "actor_id"], ["users.tenant_id", "users.id"]),
        Index("ix_article_events_article", "tenant_id", "article_id", "id"),
    )

    article_id: Mapped[uuid.UUID] = mapped_column()
    action: Mapped[ArticleAction] = mapped_column(enum_column(ArticleAction))
    actor_id: Mapped[uuid.UUID] = mapped_column()
    from_status: Mapped[ArticleStatus | None] = mapped_column(enum_column(ArticleStatus))
    to_status: Mapped[ArticleStatus] = mapped_column(enum_column(ArticleStatus))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# What an article may contain: paragraphs, headings, emphasis, lists, quotes, links and images.
# No scripts, styles, frames, forms or event handlers (nh3 drops every attribute not listed, and
# the content of <script> and <style> with the tag); links and images only over http(s).
ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "h2",
        "h3",
        "h4",
        "strong",
        "em",
        "u",
        "s",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "img",
        "figure",
        "figcaption",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https"})


def sanitised_body(html: str) -> str:
    """The body as it may be stored and shown: only ALLOWED_TAGS with ALLOWED_ATTRIBUTES, URLs
    only with ALLOWED_URL_SCHEMES, links opened without access to the app's page."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


def plain_text(html: str) -> str:
    """The body's words without markup (for a summary, a notification)."""
    return " ".join(nh3.clean(html, tags=set()).split())
