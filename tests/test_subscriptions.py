"""Notifications stream live over graphql-transport-ws. On PostgreSQL the mutation runs in
another process than the one the subscriber is connected to (LISTEN/NOTIFY carries it); on
SQLite, one process serves both (the in-process broker)."""

from __future__ import annotations

import asyncio
import json

import httpx
import websockets

from tests.conftest import BACKEND, WORKER_1
from tests.support import Api, TenantHandle

SUBSCRIBE = "subscription { notifications { kind title body complaintId } }"
SUBMIT = (
    "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { complaint { id } errors { code } } }"
)


async def submit_complaint(api: Api, alpha: TenantHandle, through: Api | None = None) -> str:
    """Registers a resident here (where the SMS code can be read) and submits `through` a server."""
    resident = (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]
    categories = await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", tenant="alpha")
    draft = {
        "title": "电梯异响",
        "content": "2号楼电梯运行时有异响。",
        "categoryId": categories["complaintCategories"]["edges"][0]["node"]["id"],
    }
    result = await (through or api).data(SUBMIT, {"input": {"complaint": draft}}, token=resident)
    return result["submitComplaint"]["complaint"]["id"]


async def test_the_grid_worker_receives_a_new_complaint_live(api: Api, alpha: TenantHandle, live_server: str) -> None:
    token = await api.token("alpha", WORKER_1)
    url = live_server.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        await asyncio.sleep(1)  # the subscription is registered before anything is published

        if BACKEND == "postgresql":
            complaint_id = await submit_complaint(api, alpha)  # this process; the subscriber is in another
        else:
            async with httpx.AsyncClient(base_url=live_server) as client:
                complaint_id = await submit_complaint(api, alpha, through=Api(client))

        message = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert message["type"] == "next" and message["id"] == "1"
    assert message["payload"]["data"]["notifications"] == {
        "kind": "complaint_new",
        "title": "新的诉求",
        "body": "“电梯异响”待受理。",
        "complaintId": complaint_id,
    }


async def test_a_subscription_without_a_valid_token_is_refused(live_server: str) -> None:
    url = live_server.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer forged"}}))
        try:
            await asyncio.wait_for(socket.recv(), 10)
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4403
        else:
            raise AssertionError("the connection should have been refused")
