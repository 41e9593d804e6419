"""Notices (通知公告): posting, reading, confirming (已阅), and who has read."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from models.notices import NoticeScope
from resolvers import notices, organisation, people
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
)
from schema.cost import cost
from schema.organisation import Building, Community, Grid, Person

if TYPE_CHECKING:  # see mirror_enum
    NoticeScopeType = NoticeScope
else:
    NoticeScopeType = mirror_enum(
        NoticeScope, notices.SCOPE_NAMES, name="NoticeScope", description="Whom a notice is for."
    )


@strawberry.type(description="Who has read a notice, and when (已阅: confirmed).")
class NoticeReceipt:
    reader: Person = strawberry.field(description="The resident; phone masked unless the caller is an admin over them.")
    read_at: datetime
    confirmed_at: datetime | None


def _receipt(info: Info, row: notices.ReceiptRow) -> NoticeReceipt:
    phone = people.shown_phone(info.context, row.user_id, row.phone, row.community_id)
    return NoticeReceipt(
        reader=Person(id=row.user_id, name=row.name, phone=phone),
        read_at=shanghai(row.read_at),
        confirmed_at=shanghai(row.confirmed_at),
    )


@strawberry.type(description="How far a notice has been read, over its audience as it is now.")
class NoticeReadCounts:
    audience: int = strawberry.field(description="Verified residents it reaches.")
    read: int
    unread: int = strawberry.field(description="Of its audience, those who have not read it yet.")
    confirmed: int = strawberry.field(description="已阅, for a notice that asks for it.")


@strawberry.type(description="通知公告: a notice to the street office, a community, grids or buildings.")
class Notice(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    scope: NoticeScopeType
    title: str
    body: str
    author_name: str
    requires_confirmation: bool = strawberry.field(description="Its readers are asked to confirm it (已阅).")
    is_public: bool = strawberry.field(description="Shown to anyone, signed in or not.")
    posted_at: datetime
    row: strawberry.Private[notices.NoticeRow]

    @classmethod
    def from_row(cls, row: notices.NoticeRow) -> Notice:
        return cls(
            id=row.id,
            scope=NoticeScopeType(row.scope),
            title=row.title,
            body=row.body,
            author_name=row.author_name,
            requires_confirmation=row.requires_confirmation,
            is_public=row.is_public,
            posted_at=shanghai(row.posted_at),
            row=row,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[Notice | None]:
        return await nodes_by_id(node_ids, lambda i: notices.notice(info.context, i), cls.from_row)

    @strawberry.field(description="The community it is for or lies in; null for the street office's.")
    async def community(self, info: Info) -> Community | None:
        if self.row.community_id is None:
            return None
        return Community.from_row(referenced(await organisation.community(info.context, self.row.community_id)))

    @strawberry.field(description="The grids it is for (scope GRIDS).", metadata=cost(items=notices.MAX_TARGETS))
    async def grids(self, info: Info) -> list[Grid]:
        ids = [t.grid_id for t in await notices.targets(info.context, self.id) if t.grid_id]
        found = await asyncio.gather(*(organisation.grid(info.context, i) for i in ids))
        return [Grid.from_row(row) for row in found if row is not None]

    @strawberry.field(
        description="The buildings it is for (scope BUILDINGS).", metadata=cost(items=notices.MAX_TARGETS)
    )
    async def buildings(self, info: Info) -> list[Building]:
        ids = [t.building_id for t in await notices.targets(info.context, self.id) if t.building_id]
        found = await asyncio.gather(*(organisation.building(info.context, i) for i in ids))
        return [Building.from_row(row) for row in found if row is not None]

    @strawberry.field(description="When the caller read it; null if they have not.")
    async def viewer_read_at(self, info: Info) -> datetime | None:
        own = await notices.own_receipt(info.context, self.id)
        return shanghai(own.read_at) if own else None

    @strawberry.field(description="When the caller confirmed it (已阅); null if they have not.")
    async def viewer_confirmed_at(self, info: Info) -> datetime | None:
        own = await notices.own_receipt(info.context, self.id)
        return shanghai(own.confirmed_at) if own else None

    @strawberry.field(
        description="Read and unread counts: for whoever posted it and the admins over it; null for anyone else."
    )
    async def read_counts(self, info: Info) -> NoticeReadCounts | None:
        counts = await notices.read_counts(info.context, self.row)
        if counts is None:
            return None
        return NoticeReadCounts(
            audience=counts.audience, read=counts.read, unread=counts.unread, confirmed=counts.confirmed
        )

    @strawberry.field(description="Who has read it, first readers first: for whoever posted it and the admins over it.")
    async def receipts(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[NoticeReceipt]:
        page = await notices.receipts(info.context, self.row, page_request(info, first, after))
        return connection(page, lambda r: _receipt(info, r))


@strawberry.type
class Query:
    @strawberry.field(
        description="Notices the caller sees, newest first: public ones for anyone; a resident's those that reach their home; whoever posted them, and admins over them, theirs."
    )
    async def notices(
        self, info: Info, posted_by_me: bool = False, first: int | None = None, after: str | None = None
    ) -> Connection[Notice]:
        page = await notices.list_notices(info.context, page_request(info, first, after), posted_by_me=posted_by_me)
        return connection(page, Notice.from_row)


@strawberry.input(
    description="A notice: to the street office (tenant admins), a community (its admins), grids or buildings of one community (its admins; building leaders to the buildings they lead)."
)
class PostNoticeInput:
    title: str
    body: str
    scope: NoticeScopeType
    community_id: relay.GlobalID | None = strawberry.field(default=None, description="For scope COMMUNITY.")
    grid_ids: list[relay.GlobalID] | None = strawberry.field(default=None, description="For scope GRIDS.")
    building_ids: list[relay.GlobalID] | None = strawberry.field(default=None, description="For scope BUILDINGS.")
    requires_confirmation: bool = strawberry.field(default=False, description="Ask its readers to confirm (已阅).")
    is_public: bool = strawberry.field(default=False, description="Show it to anyone, signed in or not.")


@strawberry.input
class NoticeReceiptInput:
    notice_id: relay.GlobalID


@strawberry.type
class NoticePayload:
    notice: Notice | None
    errors: list[UserError]


async def _payload(info: Info, action: Callable[[], Awaitable[uuid.UUID]]) -> NoticePayload:
    outcome = await attempt(info, action)
    row = await notices.notice(info.context, outcome.value) if outcome.value else None
    return NoticePayload(notice=Notice.from_row(row) if row else None, errors=outcome.errors)


def _notice_id(value: relay.GlobalID) -> uuid.UUID:
    return decode_id(value, "Notice", "noticeId")


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Posts a notice and tells every resident it reaches.")
    async def post_notice(self, info: Info, input: PostNoticeInput) -> NoticePayload:
        async def post() -> uuid.UUID:
            draft = notices.NoticeDraft(
                title=input.title,
                body=input.body,
                scope=NoticeScope(input.scope.value),
                community_id=decode_id(input.community_id, "Community", "communityId") if input.community_id else None,
                grid_ids=tuple(decode_id(g, "Grid", f"gridIds.{i}") for i, g in enumerate(input.grid_ids or ())),
                building_ids=tuple(
                    decode_id(b, "Building", f"buildingIds.{i}") for i, b in enumerate(input.building_ids or ())
                ),
                requires_confirmation=input.requires_confirmation,
                is_public=input.is_public,
            )
            return await notices.post(info.context, draft)

        return await _payload(info, post)

    @strawberry.mutation(description="A resident the notice reaches marks it read (again: nothing changes).")
    async def mark_notice_read(self, info: Info, input: NoticeReceiptInput) -> NoticePayload:
        return await _payload(info, lambda: notices.mark_read(info.context, _notice_id(input.notice_id)))

    @strawberry.mutation(description="已阅: a resident the notice reaches confirms it (a notice that asks for it).")
    async def confirm_notice(self, info: Info, input: NoticeReceiptInput) -> NoticePayload:
        return await _payload(info, lambda: notices.confirm(info.context, _notice_id(input.notice_id)))
