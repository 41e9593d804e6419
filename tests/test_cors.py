"""Browser pages on other sites may call the API when the platform or their street office allows
their origin; every other origin gets no CORS header at all."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from models.settings import Settings
from server.app import create_app
from tenants.manifests import ManifestError, parse_manifest
from tenants.onboarding import onboard
from tests.conftest import ALPHA
from tests.support import GRAPHQL_RESPONSE, Clock

CONSOLE = "https://console.wanjia.example"  # the platform's admin console
H5 = "https://h5.alpha.example"  # alpha's resident pages
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type, x-tenant, graphql-require-preflight",
}


@pytest.fixture
async def client(settings: Settings, clock: Clock, alpha, beta) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    """The app with the platform's console allowed, and alpha allowing its H5 site for the test."""
    app: Starlette = create_app(
        Settings.model_validate({**settings.model_dump(), "cors_origins": CONSOLE}), clock=clock.now
    )
    services = app.state.services
    await onboard(services, parse_manifest({**ALPHA, "settings": {"allowed_origins": [H5]}}, "test"))
    services.directory.forget()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            yield http
    finally:
        await onboard(services, parse_manifest(ALPHA, "test"))
        await app.state.engine.dispose()


async def graphql(client: httpx.AsyncClient, origin: str, tenant: str) -> httpx.Response:
    return await client.post(
        "/graphql",
        json={"query": "{ tenant { slug } }"},
        headers={"Origin": origin, "X-Tenant": tenant, "Accept": GRAPHQL_RESPONSE},
    )


@pytest.mark.parametrize("origin", [CONSOLE, H5])
async def test_an_allowed_origin_gets_the_preflight_answer_the_app_needs(
    client: httpx.AsyncClient, origin: str
) -> None:
    response = await client.options("/graphql", headers={"Origin": origin, **PREFLIGHT})
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == origin
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["access-control-allow-methods"].split(",")}
    allowed = {h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "x-tenant", "graphql-require-preflight", "accept"} <= allowed
    assert int(response.headers["access-control-max-age"]) > 0
    assert "access-control-allow-credentials" not in response.headers
    assert "origin" in response.headers["vary"].lower()


@pytest.mark.parametrize("origin", ["https://evil.example", "https://h5.alpha.example.evil", "null"])
async def test_any_other_origin_gets_no_cors_header(client: httpx.AsyncClient, origin: str) -> None:
    preflight = await client.options("/graphql", headers={"Origin": origin, **PREFLIGHT})
    request = await graphql(client, origin, "alpha")
    shared = {
        name: [h for h in response.headers if h.startswith("access-control-")]
        for name, response in (("preflight", preflight), ("request", request))
    }
    assert shared == {"preflight": [], "request": []}
    assert preflight.status_code == 403 and request.status_code == 200


async def test_a_response_is_shared_with_its_street_offices_origins_and_the_platforms(
    client: httpx.AsyncClient,
) -> None:
    own = await graphql(client, H5, "alpha")
    other_office = await graphql(client, H5, "beta")
    platform = await graphql(client, CONSOLE, "beta")
    assert own.headers["access-control-allow-origin"] == H5
    exposed = {h.strip().lower() for h in own.headers["access-control-expose-headers"].split(",")}
    assert {"x-request-id", "retry-after"} <= exposed
    assert "access-control-allow-origin" not in other_office.headers
    assert platform.headers["access-control-allow-origin"] == CONSOLE


async def test_an_error_before_the_street_office_is_known_is_readable_by_an_allowed_page(
    client: httpx.AsyncClient,
) -> None:
    unknown = await graphql(client, H5, "no-such-office")
    expired = await client.post(
        "/graphql",
        json={"query": "{ me { name } }"},
        headers={"Origin": H5, "Authorization": "Bearer expired.token.here", "Accept": GRAPHQL_RESPONSE},
    )
    assert unknown.status_code == 404 and unknown.headers["access-control-allow-origin"] == H5
    assert expired.status_code == 401 and expired.headers["access-control-allow-origin"] == H5


@pytest.mark.parametrize(
    "origin",
    ["https://h5.example/path", "h5.example", "https://h5.example/", "ftp://h5.example", "https://H5.example"],
)
def test_a_manifest_allows_only_plain_origins(origin: str) -> None:
    with pytest.raises(ManifestError) as refused:
        parse_manifest({**ALPHA, "settings": {"allowed_origins": [origin]}}, "test.toml")
    assert "settings.allowed_origins" in str(refused.value)


async def test_a_page_of_an_allowed_origin_may_upload_a_file_and_read_the_answer(client: httpx.AsyncClient) -> None:
    preflight = await client.options("/uploads", headers={"Origin": H5, **PREFLIGHT})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == H5
    refused = await client.post("/uploads", headers={"Origin": H5, "X-Tenant": "alpha"})
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == H5
    other = await client.options("/uploads", headers={"Origin": "https://evil.example", **PREFLIGHT})
    assert other.status_code == 403 and "access-control-allow-origin" not in other.headers
