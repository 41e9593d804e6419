"""Token buckets per client address (anonymous), per account (signed in) and per street office,
answered with 429, Retry-After and RATE_LIMITED; in this process, or shared through Redis.

Limits are generous by default; these tests set them low and move the app's clock to refill."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
import redis.asyncio as redis
from starlette.applications import Starlette

from models.settings import Settings
from server.app import create_app
from server.ratelimit import client_address
from tests.conftest import TENANT_ADMIN, WORKER_1
from tests.media_files import photo
from tests.support import GRAPHQL_RESPONSE, Api, Clock

REDIS_URL = "redis://127.0.0.1:6379/0"
QUERY = {"query": "{ tenant { slug } }"}
Open = Callable[..., Awaitable[Starlette]]


def reconfigured(settings: Settings, **changes: object) -> Settings:
    """The test settings with some changed, written as in the environment (`"3/60s"`)."""
    return Settings.model_validate({**settings.model_dump(), **changes})


@pytest.fixture(params=["memory", "redis"])
async def limited_app(
    request: pytest.FixtureRequest, settings: Settings, clock: Clock, alpha, beta
) -> AsyncIterator[Open]:  # type: ignore[no-untyped-def]
    """Makes apps with low limits; with Redis, apps made by one test share their buckets (as
    the processes of one deployment do) and no other test's."""
    shared = {"redis_url": REDIS_URL, "redis_prefix": f"test-{uuid.uuid4().hex}"} if request.param == "redis" else {}
    if shared:
        probe = redis.Redis.from_url(REDIS_URL)
        try:
            await probe.ping()
        except redis.ConnectionError as error:
            raise RuntimeError("the Redis tests need redis-server on 127.0.0.1:6379 (.ci/run starts it)") from error
        finally:
            await probe.aclose()
    made: list[Starlette] = []

    async def make(**limits: object) -> Starlette:
        app = create_app(reconfigured(settings, **shared, **limits), clock=clock.now)
        made.append(app)
        return app

    yield make
    for app in made:
        await app.state.limiter.buckets.close()
        await app.state.engine.dispose()


@asynccontextmanager
async def client_of(app: Starlette, address: str = "203.0.113.1") -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def ask(client: httpx.AsyncClient, tenant: str | None = "alpha", **headers: str) -> httpx.Response:
    sent = {"Accept": GRAPHQL_RESPONSE, **({"X-Tenant": tenant} if tenant else {}), **headers}
    return await client.post("/graphql", json=QUERY, headers=sent)


async def test_an_anonymous_address_gets_429_with_retry_after_once_its_bucket_is_empty(
    limited_app: Open, clock: Clock
) -> None:
    app = await limited_app(rate_limit_per_ip="3/60s")
    async with client_of(app) as client:
        assert [(await ask(client)).status_code for _ in range(3)] == [200, 200, 200]
        refused = await ask(client)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "20"
        assert refused.json()["errors"][0]["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 20}
        assert "x-request-id" in refused.headers
        with clock.later(timedelta(seconds=20)):
            assert (await ask(client)).status_code == 200
            assert (await ask(client)).status_code == 429


async def test_one_address_does_not_use_up_another(limited_app: Open) -> None:
    app = await limited_app(rate_limit_per_ip="2/60s")
    async with client_of(app, "203.0.113.1") as first, client_of(app, "203.0.113.2") as second:
        assert [(await ask(first)).status_code for _ in range(3)] == [200, 200, 429]
        assert (await ask(second)).status_code == 200


async def test_a_signed_in_account_has_its_own_bucket_not_its_address(api: Api, limited_app: Open) -> None:
    worker = await api.token("alpha", WORKER_1)
    admin = await api.token("alpha", TENANT_ADMIN)
    app = await limited_app(rate_limit_per_ip="1/60s", rate_limit_per_account="2/60s")
    async with client_of(app) as client:
        assert [(await ask(client)).status_code for _ in range(2)] == [200, 429]
        as_worker = [(await ask(client, Authorization=f"Bearer {worker}")).status_code for _ in range(3)]
        assert as_worker == [200, 200, 429]
        assert (await ask(client, Authorization=f"Bearer {admin}")).status_code == 200


async def test_a_street_office_is_limited_as_a_whole_and_no_other_with_it(limited_app: Open) -> None:
    app = await limited_app(rate_limit_per_tenant="3/60s")
    statuses = []
    for n in range(4):
        async with client_of(app, f"198.51.100.{n}") as client:
            statuses.append((await ask(client)).status_code)
    assert statuses == [200, 200, 200, 429]
    async with client_of(app, "198.51.100.9") as client:
        assert (await ask(client, tenant="beta")).status_code == 200


async def test_processes_sharing_redis_share_their_buckets(limited_app: Open, request: pytest.FixtureRequest) -> None:
    one = await limited_app(rate_limit_per_ip="3/60s")
    other = await limited_app(rate_limit_per_ip="3/60s")
    async with client_of(one) as first, client_of(other) as second:
        statuses = [(await ask(first)).status_code, (await ask(second)).status_code, (await ask(first)).status_code]
        last = (await ask(second)).status_code
    assert statuses == [200, 200, 200]
    # Separate processes without Redis each have their own buckets.
    assert last == (429 if "redis" in request.node.callspec.id else 200)


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        ("203.0.113.7", "198.51.100.1", [], "203.0.113.7"),
        ("10.0.0.2", "198.51.100.1", ["10.0.0.0/8"], "198.51.100.1"),
        ("10.0.0.2", "1.1.1.1, 198.51.100.1, 10.0.0.3", ["10.0.0.0/8"], "198.51.100.1"),
        ("203.0.113.7", "198.51.100.1", ["10.0.0.0/8"], "203.0.113.7"),
        ("10.0.0.2", None, ["10.0.0.0/8"], "10.0.0.2"),
        ("::1", "2001:db8::1", ["::1"], "2001:db8::1"),
    ],
    ids=["not trusted", "trusted proxy", "spoofed hops left of the proxy", "untrusted peer", "no header", "IPv6"],
)
def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy(
    peer: str, forwarded: str | None, trusted: list[str], client: str
) -> None:
    assert client_address(peer, forwarded, trusted) == client


async def test_forwarded_addresses_are_separate_callers_only_behind_a_trusted_proxy(limited_app: Open) -> None:
    untrusting = await limited_app(rate_limit_per_ip="1/60s")
    trusting = await limited_app(rate_limit_per_ip="1/60s", trusted_proxies="10.0.0.0/8")
    async with client_of(untrusting, "10.0.0.2") as client:
        spoofed = [(await ask(client, **{"X-Forwarded-For": f"198.51.100.{n}"})).status_code for n in range(2)]
    async with client_of(trusting, "10.0.0.3") as client:
        proxied = [(await ask(client, **{"X-Forwarded-For": f"198.51.100.{n}"})).status_code for n in range(2)]
    assert spoofed == [200, 429] and proxied == [200, 200]


async def test_an_unreachable_redis_lets_requests_through(settings: Settings, clock: Clock, alpha) -> None:  # type: ignore[no-untyped-def]
    app = create_app(
        reconfigured(settings, redis_url="redis://127.0.0.1:1/0", rate_limit_per_ip="1/60s"), clock=clock.now
    )
    async with client_of(app) as client:
        statuses = [(await ask(client)).status_code for _ in range(2)]
    await app.state.limiter.buckets.close()
    await app.state.engine.dispose()
    assert statuses == [200, 200]


async def test_uploads_spend_the_same_account_bucket_as_graphql(api: Api, limited_app: Open) -> None:
    worker = await api.token("alpha", WORKER_1)
    app = await limited_app(rate_limit_per_account="2/60s")
    signed_in = {"Authorization": f"Bearer {worker}", "X-Tenant": "alpha"}
    async with client_of(app) as client:
        assert (await ask(client, **signed_in)).status_code == 200
        file = {"file": ("photo.jpg", photo("image/jpeg"), "image/jpeg")}
        assert (await client.post("/uploads", files=file, headers=signed_in)).status_code == 201
        refused = await client.post("/uploads", files=file, headers=signed_in)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "30"
    assert refused.json()["errors"][0]["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 30}
