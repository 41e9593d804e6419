"""Notifications: the caller's inbox, marking read, and the live stream."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from models.notifications import NotificationKind
from resolvers import notifications
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
    shanghai,
)
from schema.cost import cost
from schema.ids import resolve_node

if TYPE_CHECKING:  # see mirror_enum
    NotificationKindType = NotificationKind
else:
    NotificationKindType = mirror_enum(
        NotificationKind,
        notifications.KIND_NAMES,
        name="NotificationKind",
        description="Why the caller is told: pick an icon or a sound by it.",
    )


@strawberry.type(description="Something the caller must act on or would want to know. Only its recipient sees it.")
class Notification(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    kind: NotificationKindType
    title: str
    body: str
    created_at: datetime
    read: bool
    row: strawberry.Private[notifications.NotificationRow]

    @classmethod
    def from_row(cls, row: notifications.NotificationRow) -> Notification:
        return cls(
            id=row.id,
            kind=NotificationKindType(row.kind.value),
            title=row.title,
            body=row.body,
            created_at=shanghai(row.created_at),
            read=row.read_at is not None,
            row=row,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[Notification | None]:
        return await nodes_by_id(node_ids, lambda i: notifications.notification(info.context, i), cls.from_row)

    @strawberry.field(
        description="What it is about (a Complaint, RoomBooking, Appointment, …), for the app to open; null if there is none or the caller may no longer see it."
    )
    async def subject(self, info: Info) -> relay.Node | None:
        if self.row.subject_type is None or self.row.subject_id is None:
            return None
        return await resolve_node(info, relay.GlobalID(self.row.subject_type.value, str(self.row.subject_id)))


@strawberry.type
class Query:
    @strawberry.field(description="The caller's notifications, newest first.")
    async def notifications(
        self, info: Info, unread_only: bool = False, first: int | None = None, after: str | None = None
    ) -> Connection[Notification]:
        page = await notifications.my_notifications(info.context, page_request(info, first, after), unread_only)
        return connection(page, Notification.from_row)

    @strawberry.field(description="How many of the caller's notifications are unread.", metadata=cost(weight=10))
    async def unread_notification_count(self, info: Info) -> int:
        return await notifications.unread_count(info.context)


@strawberry.input
class MarkNotificationsReadInput:
    notification_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Which to mark; all of the caller's when omitted."
    )


@strawberry.type
class MarkNotificationsReadPayload:
    marked: int
    unread_count: int
    errors: list[UserError]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Marks the caller's notifications read.")
    async def mark_notifications_read(
        self, info: Info, input: MarkNotificationsReadInput
    ) -> MarkNotificationsReadPayload:
        async def mark() -> int:
            ids = None
            if input.notification_ids is not None:
                ids = [decode_id(i, "Notification", "notificationIds") for i in input.notification_ids]
            return await notifications.mark_read(info.context, ids)

        outcome = await attempt(info, mark)
        unread = await notifications.unread_count(info.context) if info.context.viewer else 0
        return MarkNotificationsReadPayload(marked=outcome.value or 0, unread_count=unread, errors=outcome.errors)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The caller's new notifications as they happen (graphql-transport-ws; sign in with an `Authorization` entry in connection_init's payload)."
    )
    async def notifications(self, info: Info) -> AsyncGenerator[Notification, None]:
        async with contextlib.aclosing(notifications.live(info.context)) as rows:
            async for row in rows:
                yield Notification.from_row(row)


__all__ = ["Mutation", "Notification", "Query", "Subscription"]
