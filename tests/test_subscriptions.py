"""Notifications stream live over graphql-transport-ws. On PostgreSQL the mutation runs in
another app than the one the subscriber is connected to (its own engine and broker: LISTEN/NOTIFY
carries it); on SQLite, one app serves both (the in-process broker).

Nothing here sleeps: after subscribing, a test pings and waits for the pong, which the server
sends only once every subscription started before the ping is listening (server.websockets)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy.exc import OperationalError
from starlette.applications import Starlette
from strawberry import relay

from models.broker import Delivery, LocalBroker
from models.people import Role
from resolvers.errors import DomainError, fail
from schema.build import build_schema
from tenants.context import RequestContext, unit_of_work
from tenants.tokens import Viewer
from tests.conftest import BACKEND, COMMUNITY_ADMIN, TENANT_ADMIN, WORKER_1
from tests.support import Api, Clock, TenantHandle, fresh_phone

SUBSCRIBE = "subscription { notifications { kind title body subject { id ... on Complaint { title status } } } }"
SUBMIT = (
    "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { complaint { id } errors { code } } }"
)


async def submit_complaint(api: Api, alpha: TenantHandle, through: Api | None = None) -> tuple[str, str]:
    """Registers a resident here (where the SMS code can be read) and submits `through` a
    server: the resident's token and the complaint's id."""
    resident = (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]
    categories = await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", tenant="alpha")
    draft = {
        "title": "电梯异响",
        "content": "2号楼电梯运行时有异响。",
        "categoryId": categories["complaintCategories"]["edges"][0]["node"]["id"],
    }
    result = await (through or api).data(SUBMIT, {"input": {"complaint": draft}}, token=resident)
    return resident, result["submitComplaint"]["complaint"]["id"]


@contextlib.asynccontextmanager
async def elsewhere(api: Api, live_server: str) -> AsyncIterator[Api]:
    """Where a mutation a subscriber hears runs: on PostgreSQL the test's app (the subscriber is
    on the live server's); on SQLite the live server itself, the only app its broker reaches."""
    if BACKEND == "postgresql":
        yield api
        return
    async with httpx.AsyncClient(base_url=live_server) as client:
        yield Api(client)


async def submit_elsewhere(api: Api, alpha: TenantHandle, live_server: str) -> str:
    async with elsewhere(api, live_server) as through:
        return (await submit_complaint(api, alpha, through=through))[1]


async def send(socket: Any, message: dict[str, Any]) -> None:
    await socket.send(json.dumps(message))


async def receive(socket: Any) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), 10))
    return message


@contextlib.asynccontextmanager
async def signed_in(live_server: str, token: str) -> AsyncIterator[Any]:
    url = live_server.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:
        await send(socket, {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        assert (await receive(socket))["type"] == "connection_ack"
        yield socket


async def until_listening(socket: Any) -> list[dict[str, Any]]:
    """Pings, and returns what arrived before the pong."""
    await send(socket, {"type": "ping"})
    arrived = []
    while (message := await receive(socket))["type"] != "pong":
        arrived.append(message)
    return arrived


def subscribe(operation_id: str, query: str) -> dict[str, Any]:
    return {"id": operation_id, "type": "subscribe", "payload": {"query": query}}


def new_complaint(complaint_id: str) -> dict[str, Any]:
    return {
        "kind": "COMPLAINT_NEW",
        "title": "新的诉求",
        "body": "“电梯异响”待受理。",
        "subject": {"id": complaint_id, "title": "电梯异响", "status": "SUBMITTED"},
    }


async def test_the_grid_worker_hears_each_new_complaint_live(api: Api, alpha: TenantHandle, live_server: str) -> None:
    token = await api.token("alpha", WORKER_1)
    # One server process, one subscriber after another: the pool's connections are warm by the
    # second round, when a read racing the writer's commit used to find nothing.
    heard, told = [], []
    for _ in range(3):
        async with signed_in(live_server, token) as socket:
            await send(socket, subscribe("1", SUBSCRIBE))
            before = await until_listening(socket)
            complaint_id = await submit_elsewhere(api, alpha, live_server)
            message = await receive(socket)
        heard.append((before, message.get("id"), message.get("type"), message.get("payload", {}).get("data")))
        told.append(([], "1", "next", {"notifications": new_complaint(complaint_id)}))
    assert heard == told


BOOKER = "subscription { notifications { kind subject { ... on RoomBooking { resident { name phone } } } } }"
REQUEST_BOOKING = "mutation($input: RequestRoomBookingInput!) { requestRoomBooking(input: $input) { booking { id } errors { code } } }"
CANCEL_BOOKING = "mutation($input: RoomBookingReasonInput!) { cancelRoomBooking(input: $input) { errors { code } } }"
FULL_VIEWS = """query($filter: FullViewAuditFilter) { fullViewAudit(first: 10, filter: $filter) {
  edges { node { viewerName field } } } }"""


async def test_a_whole_phone_shown_by_a_live_event_is_in_the_audit_log(
    api: Api, alpha: TenantHandle, live_server: str, clock: Clock
) -> None:
    rooms = await api.data("{ rooms(first: 10) { edges { node { id name } } } }", tenant="alpha")
    room = next(e["node"]["id"] for e in rooms["rooms"]["edges"] if e["node"]["name"] == "调解室")
    # A Wednesday morning within the room's 60 days ahead that no other test books.
    booking = {"roomId": room, "purpose": "邻里调解", "attendees": 3}
    booking |= {"startsAt": "2027-01-27T09:00:00+08:00", "endsAt": "2027-01-27T10:00:00+08:00"}
    phone = fresh_phone()
    with clock.at(datetime(2026, 12, 1, 1, 0, tzinfo=UTC)):
        registered = await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], name="预约人", phone=phone)
        async with signed_in(live_server, await api.token("alpha", COMMUNITY_ADMIN)) as socket:
            await send(socket, subscribe("1", BOOKER))
            assert await until_listening(socket) == []
            async with elsewhere(api, live_server) as through:
                resident = registered["tokens"]["accessToken"]
                requested = await through.data(REQUEST_BOOKING, {"input": booking}, token=resident)
            assert requested["requestRoomBooking"]["errors"] == []
            message = await receive(socket)
        admin = await api.token("alpha", TENANT_ADMIN)
        # The slot is free again for the next run of this test (`pytest --count`).
        booking_id = requested["requestRoomBooking"]["booking"]["id"]
        cancelled = await api.data(CANCEL_BOOKING, {"input": {"bookingId": booking_id}}, token=resident)
        assert cancelled["cancelRoomBooking"]["errors"] == []
    event = message["payload"]["data"]["notifications"]
    assert event == {"kind": "BOOKING_PENDING", "subject": {"resident": {"name": "预约人", "phone": phone}}}
    subject = relay.to_base64("Person", relay.from_base64(registered["resident"]["id"])[1])
    views = await api.data(FULL_VIEWS, {"filter": {"subjectId": subject}}, token=admin)
    assert [e["node"] for e in views["fullViewAudit"]["edges"]] == [{"viewerName": "社区管理员甲", "field": "PHONE"}]


async def test_a_query_and_a_subscription_at_once_on_one_socket_each_get_their_answer(
    api: Api, alpha: TenantHandle, live_server: str
) -> None:
    token = await api.token("alpha", WORKER_1)
    async with signed_in(live_server, token) as socket:
        await send(socket, subscribe("live", SUBSCRIBE))
        await send(socket, subscribe("me", "{ me { name } unreadNotificationCount }"))
        await send(socket, subscribe("inbox", "{ complaints(first: 5) { edges { node { id } } } }"))
        answers = await until_listening(socket)
        while len([m for m in answers if m["type"] == "complete"]) < 2:
            answers.append(await receive(socket))
        complaint_id = await submit_elsewhere(api, alpha, live_server)
        live = await receive(socket)
    by_operation = {(m["id"], m["type"]): m.get("payload") for m in answers}
    assert set(by_operation) == {("me", "next"), ("me", "complete"), ("inbox", "next"), ("inbox", "complete")}
    me, inbox = by_operation["me", "next"], by_operation["inbox", "next"]
    assert "errors" not in me and "errors" not in inbox
    assert me["data"]["me"] == {"name": "网格员一"} and isinstance(me["data"]["unreadNotificationCount"], int)
    assert live["id"] == "live" and live["payload"]["data"]["notifications"] == new_complaint(complaint_id)


async def test_errors_over_a_websocket_are_presented_as_over_http(api: Api, live_server: str) -> None:
    async with signed_in(live_server, await api.token("alpha", WORKER_1)) as socket:
        await send(socket, subscribe("1", "{ complaints(first: 1000) { edges { node { id } } } }"))
        answer = await receive(socket)
    [error] = answer["payload"]["errors"]
    assert (error["message"], error["extensions"]) == ("每页条数应为 1–100。", {"code": "INVALID", "field": "first"})


async def test_an_unexpected_failure_in_a_subscription_reaches_the_client_masked(
    app: Starlette, alpha: TenantHandle
) -> None:
    class UnreachableBroker(LocalBroker):
        def subscription(self, tenant_id: uuid.UUID, recipient_id: uuid.UUID) -> Any:
            raise OperationalError("LISTEN wanjia_notifications", {}, Exception("connection to 10.0.0.7 refused"))

    services = dataclasses.replace(app.state.services, broker=UnreachableBroker())
    caller = RequestContext(
        services=services,
        request_id="req-1",
        tenant=await services.directory.by_id(alpha.id),
        viewer=Viewer(user_id=uuid.uuid4(), tenant_id=alpha.id, roles=frozenset({Role.GRID_WORKER})),
    )
    stream = await build_schema().subscribe(SUBSCRIBE, context_value=caller)
    result = await anext(stream)  # type: ignore[arg-type]
    assert [(e.message, e.extensions) for e in result.errors] == [
        ("服务暂时不可用，请稍后再试。（请求编号：req-1）", {"code": "SERVICE_UNAVAILABLE", "requestId": "req-1"})
    ]


async def test_a_live_delivery_waits_for_the_outermost_commit_and_dies_with_its_savepoint(
    app: Starlette, alpha: TenantHandle
) -> None:
    services = app.state.services
    broker, recipient = LocalBroker(), uuid.uuid4()
    kept, undone = (Delivery(alpha.id, recipient, uuid.uuid4()) for _ in range(2))
    tenant = await services.directory.by_id(alpha.id)
    async with broker.subscription(alpha.id, recipient) as queue:
        async with unit_of_work(services, tenant=tenant, viewer=None, writes=True) as ctx:
            assert ctx.session is not None
            async with ctx.write_step():
                await broker.publish(ctx.session, kept)
            with pytest.raises(DomainError):
                async with ctx.write_step():
                    await broker.publish(ctx.session, undone)
                    raise fail("INVALID", "撤销这一步。")
            # A released savepoint is not a commit: a subscriber reading now would find nothing.
            assert queue.empty()
        assert queue.get_nowait() == kept and queue.empty()


async def test_a_subscription_without_a_valid_token_is_refused(live_server: str) -> None:
    url = live_server.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:
        await send(socket, {"type": "connection_init", "payload": {"Authorization": "Bearer forged"}})
        try:
            await asyncio.wait_for(socket.recv(), 10)
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4403
        else:
            raise AssertionError("the connection should have been refused")
