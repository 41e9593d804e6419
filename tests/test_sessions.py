"""An access token stands only while its grounds do: signing out, a role change, a suspended
account or a stolen refresh token end it at once (or within the short re-check time for
changes made elsewhere), not at its expiry."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
import websockets
from sqlalchemy import update
from starlette.applications import Starlette

from models.people import User
from models.tenants import Tenant, TenantStatus
from server.app import create_app
from tenants.manifests import parse_manifest
from tenants.onboarding import onboard
from tenants.sessions import open_session
from tests.conftest import ALPHA, OTHER_STAFF
from tests.local_servers import serving
from tests.support import Api, Clock, TenantHandle, fresh_phone

ME = "{ me { name roles { role } } }"
LOGOUT = "mutation($t: String!) { logout(input: {refreshToken: $t}) { ok } }"
REFRESH = "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { tokens { accessToken refreshToken } errors { code } } }"


async def signed_in(api: Api, alpha: TenantHandle) -> tuple[str, dict[str, str]]:
    phone = fresh_phone()
    registered = await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], phone=phone)
    assert registered["errors"] == []
    return phone, registered["tokens"]


async def refused(api: Api, token: str) -> bool:
    response = await api.post(ME, token=token)
    if response.status_code == 401:
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        return True
    assert response.status_code == 200, response.text
    return False


async def test_after_logout_the_access_token_is_refused_at_once(api: Api, alpha: TenantHandle) -> None:
    _, tokens = await signed_in(api, alpha)
    assert not await refused(api, tokens["accessToken"])
    await api.data(LOGOUT, {"t": tokens["refreshToken"]}, tenant="alpha")
    assert await refused(api, tokens["accessToken"])


async def test_other_devices_sign_in_again_with_their_own_refresh_token(api: Api, alpha: TenantHandle) -> None:
    phone, phone_tokens = await signed_in(api, alpha)
    computer = (await api.login("alpha", phone))["tokens"]
    await api.data(LOGOUT, {"t": phone_tokens["refreshToken"]}, tenant="alpha")
    assert await refused(api, computer["accessToken"])
    renewed = (await api.data(REFRESH, {"t": computer["refreshToken"]}, tenant="alpha"))["refreshToken"]
    assert renewed["errors"] == []
    assert not await refused(api, renewed["tokens"]["accessToken"])


async def test_a_suspended_account_is_refused_within_the_recheck_time(
    api: Api, app: Starlette, alpha: TenantHandle, clock: Clock, settings
) -> None:  # type: ignore[no-untyped-def]
    phone, tokens = await signed_in(api, alpha)
    assert not await refused(api, tokens["accessToken"])
    async with open_session(app.state.services.sessions, alpha.id) as session, session.begin():
        await session.execute(update(User).where(User.phone == phone).values(is_active=False))
    with clock.later(timedelta(seconds=settings.session_recheck_seconds)):
        assert await refused(api, tokens["accessToken"])
        refreshed = (await api.data(REFRESH, {"t": tokens["refreshToken"]}, tenant="alpha"))["refreshToken"]
        assert refreshed["errors"][0]["code"] == "INVALID_REFRESH_TOKEN"


@contextlib.asynccontextmanager
async def other_staff_made_a_grid_worker(api: Api, app: Starlette) -> AsyncIterator[None]:
    """OTHER_STAFF's role changed by onboarding alpha again (as another process might), and put
    back afterwards, which ends the account's tokens again: the suite's cached one too."""
    services = app.state.services
    manifest = copy.deepcopy(ALPHA)
    for member in manifest["staff"]:
        if member["phone"] == OTHER_STAFF:
            member["roles"] = [{"role": "grid_worker"}]
    try:
        await onboard(services, parse_manifest(manifest, "alpha.toml"))
        yield
    finally:
        await onboard(services, parse_manifest(ALPHA, "alpha.toml"))
        api.forget_token("alpha", OTHER_STAFF)


async def test_a_role_change_ends_the_tokens_that_carry_the_old_roles(
    api: Api, app: Starlette, clock: Clock, settings
) -> None:  # type: ignore[no-untyped-def]
    token = (await api.login("alpha", OTHER_STAFF))["tokens"]["accessToken"]
    assert (await api.data(ME, token=token))["me"]["roles"] == [{"role": "STAFF"}]
    async with other_staff_made_a_grid_worker(api, app):
        with clock.later(timedelta(seconds=settings.session_recheck_seconds)):
            assert await refused(api, token)
            again = (await api.login("alpha", OTHER_STAFF))["tokens"]["accessToken"]
            assert (await api.data(ME, token=again))["me"]["roles"] == [{"role": "GRID_WORKER"}]


async def test_signing_in_again_after_a_role_change_works_at_once(api: Api, app: Starlette) -> None:
    """The old token's version is still cached when the role changes: the new sign-in's token is
    newer, and stands at once."""
    old = (await api.login("alpha", OTHER_STAFF))["tokens"]["accessToken"]
    assert (await api.data(ME, token=old))["me"]["roles"] == [{"role": "STAFF"}]
    async with other_staff_made_a_grid_worker(api, app):
        again = (await api.login("alpha", OTHER_STAFF))["tokens"]["accessToken"]
        assert (await api.data(ME, token=again))["me"]["roles"] == [{"role": "GRID_WORKER"}]


async def test_a_reused_refresh_token_also_ends_the_access_tokens_of_its_family(api: Api, alpha: TenantHandle) -> None:
    _, tokens = await signed_in(api, alpha)
    rotated = (await api.data(REFRESH, {"t": tokens["refreshToken"]}, tenant="alpha"))["refreshToken"]["tokens"]
    replay = (await api.data(REFRESH, {"t": tokens["refreshToken"]}, tenant="alpha"))["refreshToken"]
    assert replay["errors"][0]["code"] == "INVALID_REFRESH_TOKEN"
    assert await refused(api, rotated["accessToken"])


# Live subscriptions: the app served for real in a thread of this process (sharing the test's
# clock), re-checking every few hundredths of a second.

SUBSCRIBE = "subscription { notifications { kind } }"


@pytest.fixture
def live(settings, clock: Clock, alpha: TenantHandle) -> Iterator[tuple[str, Starlette]]:  # type: ignore[no-untyped-def]
    quick = settings.model_copy(update={"session_recheck_seconds": 0.05, "tenant_cache_seconds": 0.05})
    app = create_app(quick, clock=clock.now)
    with serving(app) as url:
        yield url.replace("http://", "ws://") + "/graphql", app


async def subscribed(url: str, token: str) -> websockets.ClientConnection:
    socket = await websockets.connect(url, subprotocols=["graphql-transport-ws"])
    await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "connection_ack"
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    return socket


async def close_code(socket: websockets.ClientConnection) -> int:
    try:
        while True:
            await asyncio.wait_for(socket.recv(), 10)
    except websockets.ConnectionClosed as closed:
        assert closed.rcvd is not None
        return closed.rcvd.code


async def test_a_subscription_ends_when_its_token_expires(
    live, api: Api, alpha: TenantHandle, clock: Clock, settings
) -> None:  # type: ignore[no-untyped-def]
    url, _ = live
    _, tokens = await signed_in(api, alpha)
    socket = await subscribed(url, tokens["accessToken"])
    with clock.later(timedelta(seconds=settings.access_token_seconds + 1)):
        assert await close_code(socket) == 4403


async def test_a_subscription_ends_when_its_user_signs_out(live, api: Api, alpha: TenantHandle) -> None:  # type: ignore[no-untyped-def]
    url, _ = live
    _, tokens = await signed_in(api, alpha)
    socket = await subscribed(url, tokens["accessToken"])
    await api.data(LOGOUT, {"t": tokens["refreshToken"]}, tenant="alpha")
    assert await close_code(socket) == 4403


async def test_a_subscription_ends_when_its_street_office_is_suspended(live, app: Starlette, api: Api) -> None:  # type: ignore[no-untyped-def]
    url, _ = live
    services = app.state.services
    office = copy.deepcopy(ALPHA) | {"slug": f"live-{uuid.uuid4().hex[:8]}", "name": "直播街道"}
    await onboard(services, parse_manifest(office, "live.toml"))
    services.directory.forget()
    token = (await api.login(office["slug"], OTHER_STAFF))["tokens"]["accessToken"]
    socket = await subscribed(url, token)
    async with services.sessions() as session, session.begin():
        await session.execute(update(Tenant).where(Tenant.slug == office["slug"]).values(status=TenantStatus.SUSPENDED))
    assert await close_code(socket) == 4403


async def test_a_subscription_whose_sign_in_stands_stays_open_through_its_rechecks(
    live, api: Api, alpha: TenantHandle, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    url, app = live
    directory = app.state.services.directory
    rechecked = threading.Event()
    calls = 0
    identify = directory.identify

    async def counted(**kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        caller = await identify(**kwargs)
        if calls >= 4:  # the connection's own sign-in, then three re-checks
            rechecked.set()
        return caller

    monkeypatch.setattr(directory, "identify", counted)
    _, tokens = await signed_in(api, alpha)
    socket = await subscribed(url, tokens["accessToken"])
    assert await asyncio.to_thread(rechecked.wait, 10)
    await socket.send(json.dumps({"type": "ping"}))
    assert json.loads(await asyncio.wait_for(socket.recv(), 10)) == {"type": "pong"}
    await socket.close()
