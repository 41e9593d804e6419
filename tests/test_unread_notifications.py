"""A user's unread count is kept as a counter (models.notifications.UnreadNotifications): it must
say what the notifications themselves say through every change, undone step and race."""

from __future__ import annotations

import asyncio
import base64
import uuid

from starlette.applications import Starlette

from models.notifications import NotificationKind
from resolvers.errors import fail
from resolvers.notifications import notify
from tenants.context import RequestContext, unit_of_work
from tests.conftest import BACKEND, COMMUNITY_ADMIN, WORKER_1
from tests.support import Api, TenantHandle
from tests.test_subscriptions import submit_complaint

UNREAD = "{ unreadNotificationCount notifications(first: 100, unreadOnly: true) { edges { node { id } } } }"
MARK = "mutation($ids: [ID!]) { markNotificationsRead(input: {notificationIds: $ids}) { marked unreadCount } }"


async def unread(api: Api, token: str) -> tuple[int, list[str]]:
    """The count, and the unread notifications it counts."""
    data = await api.data(UNREAD, token=token)
    return data["unreadNotificationCount"], [edge["node"]["id"] for edge in data["notifications"]["edges"]]


async def user_id(api: Api, token: str) -> uuid.UUID:
    node_id = (await api.data("{ me { id } }", token=token))["me"]["id"]
    return uuid.UUID(base64.b64decode(node_id).decode().split(":", 1)[1])


async def test_the_count_follows_what_is_sent_and_read(api: Api, alpha: TenantHandle) -> None:
    worker = await api.token("alpha", WORKER_1)
    await api.data(MARK, {"ids": None}, token=worker)
    assert await unread(api, worker) == (0, [])
    for _ in range(3):
        await submit_complaint(api, alpha)
    count, ids = await unread(api, worker)
    assert count == len(ids) == 3
    marked = await api.data(MARK, {"ids": ids[:1]}, token=worker)
    assert marked["markNotificationsRead"] == {"marked": 1, "unreadCount": 2}
    await api.data(MARK, {"ids": ids[:1]}, token=worker)  # read already: counted once
    assert await unread(api, worker) == (2, ids[1:])
    marked = await api.data(MARK, {"ids": None}, token=worker)
    assert marked["markNotificationsRead"] == {"marked": 2, "unreadCount": 0}
    await submit_complaint(api, alpha)
    count, ids = await unread(api, worker)
    assert count == len(ids) == 1


async def test_notifications_undone_with_their_step_are_not_counted(
    app: Starlette, api: Api, alpha: TenantHandle
) -> None:
    worker = await api.token("alpha", WORKER_1)
    await api.data(MARK, {"ids": None}, token=worker)  # what earlier tests left unread may fill a page
    before, _ = await unread(api, worker)
    recipient = await user_id(api, worker)
    tenant = await app.state.services.directory.by_id(alpha.id)
    async with unit_of_work(app.state.services, tenant=tenant, viewer=None, writes=True) as ctx:
        async with ctx.write_step():
            await _tell(ctx, [recipient], "留下的通知")
        try:
            async with ctx.write_step():
                await _tell(ctx, [recipient], "撤销的通知")
                raise fail("INVALID", "撤销这一步。")
        except Exception as error:
            assert "撤销这一步" in str(error)
    count, ids = await unread(api, worker)
    assert count == len(ids) == before + 1


async def test_units_of_work_telling_the_same_people_in_other_orders_all_commit_and_count(
    app: Starlette, api: Api, alpha: TenantHandle
) -> None:
    """Each tells one person, then waits until the other has told the other person, then tells
    the first one's: kept row by row as they went, the counts would wait on each other in a
    circle (PostgreSQL; SQLite takes the write lock at the start, so there they run in turn)."""
    tokens = [await api.token("alpha", phone) for phone in (WORKER_1, COMMUNITY_ADMIN)]
    people = [await user_id(api, token) for token in tokens]
    for token in tokens:  # what earlier tests left unread may fill a page
        await api.data(MARK, {"ids": None}, token=token)
    before = [(await unread(api, token))[0] for token in tokens]
    tenant = await app.state.services.directory.by_id(alpha.id)
    told_first = [asyncio.Event(), asyncio.Event()]

    async def tell(first: int) -> None:
        async with unit_of_work(app.state.services, tenant=tenant, viewer=None, writes=True) as ctx:
            await _tell(ctx, [people[first]], "先通知")
            told_first[first].set()
            if BACKEND == "postgresql":
                await told_first[1 - first].wait()
            await _tell(ctx, [people[1 - first]], "再通知")

    if BACKEND == "postgresql":
        await asyncio.gather(tell(0), tell(1))
    else:
        await tell(0)
        await tell(1)
    for token, earlier in zip(tokens, before, strict=True):
        count, ids = await unread(api, token)
        assert count == len(ids) == earlier + 2


async def _tell(ctx: RequestContext, recipients: list[uuid.UUID], title: str) -> None:
    await notify(ctx, recipients, kind=NotificationKind.COMPLAINT_STATUS, title=title, body=title)
