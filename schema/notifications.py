"""Notifications: the caller's inbox, marking read, and the live stream."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from strawberry import relay

from resolvers import notifications
from schema.common import Info, UserError, attempt, connection, decode_id, page_request, shanghai
from schema.cost import cost


@strawberry.type(description="Something the caller must act on or would want to know.")
class Notification:
    id: strawberry.ID
    kind: str = strawberry.field(
        description="complaint_new, complaint_status, complaint_dispatched, complaint_overdue, …"
    )
    title: str
    body: str
    complaint_id: strawberry.ID | None = strawberry.field(description="Global id of the complaint it is about, if any.")
    created_at: datetime
    read: bool

    @classmethod
    def from_row(cls, row: notifications.NotificationRow) -> Notification:
        return cls(
            id=strawberry.ID(relay.to_base64("Notification", row.id)),
            kind=row.kind,
            title=row.title,
            body=row.body,
            complaint_id=strawberry.ID(relay.to_base64("Complaint", row.complaint_id)) if row.complaint_id else None,
            created_at=shanghai(row.created_at),
            read=row.read_at is not None,
        )


@strawberry.type
class Query:
    @strawberry.field(description="The caller's notifications, newest first.")
    async def notifications(
        self, info: Info, unread_only: bool = False, first: int | None = None, after: str | None = None
    ) -> relay.Connection[Notification]:
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
