"""The endpoint speaks GraphQL over HTTP as the specification says, with protections on."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette

from resolvers import organisation
from server.app import create_app
from tests.conftest import settings_for
from tests.provision import ProvisionedDatabase
from tests.support import GRAPHQL_RESPONSE, Api, Clock, TenantHandle, sent_by_a_client_gone

JSON = "application/json"


async def post(
    api: Api, body: object, accept: str | None = GRAPHQL_RESPONSE, content_type: str = JSON
) -> httpx.Response:
    headers = {"Content-Type": content_type, "X-Tenant": "alpha"}
    if accept:
        headers["Accept"] = accept
    content = body if isinstance(body, (str, bytes)) else httpx.Request("POST", "/", json=body).content
    return await api.client.post("/graphql", content=content, headers=headers)


@pytest.mark.parametrize(
    "query",
    [
        "{ communities(first: 1) { edges ",
        "{ noSuchField }",
        "query($n: Int!) { communities(first: $n) { edges { cursor } } }",
    ],
    ids=["parse error", "validation error", "missing variable"],
)
async def test_request_errors_are_400_without_data_for_graphql_response_json(api: Api, query: str) -> None:
    response = await post(api, {"query": query})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in response.json() and response.json()["errors"]


async def test_request_errors_stay_200_for_plain_json_clients(api: Api) -> None:
    response = await post(api, {"query": "{ noSuchField }"}, accept=JSON)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(JSON)
    assert response.json()["errors"]


async def test_no_accept_header_means_application_json(api: Api) -> None:
    response = await post(api, {"query": "{ tenant { slug } }"}, accept=None)
    assert response.status_code == 200 and response.headers["content-type"].startswith(JSON)
    assert response.json()["data"] == {"tenant": {"slug": "alpha"}}


async def test_a_field_error_during_execution_is_200_with_data(api: Api) -> None:
    response = await post(api, {"query": "{ tenant { slug } communities(first: 1000) { edges { cursor } } }"})
    body = response.json()
    # communities is non-null, so its error nulls the whole of data; data is still there.
    assert response.status_code == 200
    assert "data" in body and body["errors"][0]["path"] == ["communities"]


async def test_unacceptable_accept_is_406(api: Api) -> None:
    response = await post(api, {"query": "{ tenant { slug } }"}, accept="application/xml")
    assert response.status_code == 406


async def test_a_body_that_is_not_json_is_415(api: Api) -> None:
    response = await post(
        api, "query=%7B%20tenant%20%7B%20slug%20%7D%20%7D", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415


async def test_queries_work_over_get_but_mutations_are_405(api: Api) -> None:
    headers = {"Accept": GRAPHQL_RESPONSE, "X-Tenant": "alpha"}
    query = await api.client.get("/graphql", params={"query": "{ tenant { slug } }"}, headers=headers)
    assert query.status_code == 200 and query.json()["data"] == {"tenant": {"slug": "alpha"}}
    mutation = await api.client.get(
        "/graphql", params={"query": 'mutation { logout(input: {refreshToken: "x"}) { ok } }'}, headers=headers
    )
    assert mutation.status_code == 405 and mutation.headers["allow"] == "POST"


async def test_malformed_json_is_400(api: Api) -> None:
    response = await post(api, '{"query": ')
    assert response.status_code == 400 and response.json()["errors"]


async def test_errors_do_not_suggest_field_names(api: Api) -> None:
    response = await post(api, {"query": "{ communitie(first: 1) { edges { cursor } } }"})
    assert "Did you mean" not in response.text and "communities" not in response.text


async def test_deep_queries_are_refused(api: Api) -> None:
    level = "grids(first: 1) { edges { node { community { %s } } } }"
    selection = "name"
    for _ in range(4):
        selection = level % selection
    deep = f"{{ communities(first: 1) {{ edges {{ node {{ {selection} }} }} }} }}"
    response = await post(api, {"query": deep})
    assert response.status_code == 400 and "depth" in response.text


async def test_too_many_aliases_are_refused(api: Api) -> None:
    aliases = " ".join(f"t{i}: tenant {{ slug }}" for i in range(31))
    response = await post(api, {"query": f"{{ {aliases} }}"})
    assert response.status_code == 400


async def test_too_many_tokens_are_refused(api: Api) -> None:
    fields = " ".join("__typename" for _ in range(3001))
    response = await post(api, {"query": f"{{ {fields} }}"})
    assert response.status_code == 400


async def test_an_oversized_body_is_413(api: Api) -> None:
    response = await post(api, {"query": "{ tenant { slug } }", "variables": {"pad": "x" * (1024 * 1024)}})
    assert response.status_code == 413


async def test_an_oversized_body_of_undeclared_length_is_413(api: Api) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"query": "{ tenant { slug } }", "variables": {"pad": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}}'

    response = await api.client.post(
        "/graphql",
        content=chunks(),
        headers={"Content-Type": JSON, "X-Tenant": "alpha", "Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 413 and response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_unexpected_errors_are_masked_with_the_request_id(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_: object) -> None:
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(organisation, "list_communities", broken)
    with caplog.at_level("ERROR", logger="wanjia.errors"):
        response = await post(api, {"query": "{ communities(first: 1) { edges { cursor } } }"})
    error = response.json()["errors"][0]
    assert "secret internals" not in response.text
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert response.headers["x-request-id"] in error["message"]
    assert any("secret internals" in (r.exc_text or str(r.exc_info)) for r in caplog.records)


async def test_introspection_and_the_ide_are_off_in_production(database: ProvisionedDatabase, clock: Clock) -> None:
    settings = settings_for(database.app_url, env="production")
    app = create_app(settings, clock=clock.now)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        introspection = await client.post(
            "/graphql", json={"query": "{ __schema { types { name } } }"}, headers={"Accept": GRAPHQL_RESPONSE}
        )
        ide = await client.get("/graphql", headers={"Accept": "text/html"})
    await app.state.engine.dispose()
    assert introspection.status_code == 400 and "introspection" in introspection.text.lower()
    assert ide.status_code != 200 or "GraphiQL" not in ide.text


async def test_introspection_works_outside_production(api: Api) -> None:
    response = await post(api, {"query": "{ __schema { queryType { name } } }"})
    assert response.json()["data"] == {"__schema": {"queryType": {"name": "Query"}}}


async def test_health_and_readiness(api: Api, clock: Clock) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    # A day whose year, and the next, have a holiday calendar: no warnings (tests/test_calendar.py).
    with clock.at(datetime(2026, 6, 1, tzinfo=UTC)):
        ready = await api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ok"}


async def test_readiness_fails_when_the_database_is_unreachable(clock: Clock) -> None:
    app = create_app(settings_for("postgresql+psycopg://nobody@127.0.0.1:1/none"), clock=clock.now)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        response = await client.get("/readyz")
    await app.state.engine.dispose()
    assert response.status_code == 503


async def test_the_ide_page_loads_only_from_this_server(api: Api) -> None:
    page = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "GraphiQL" in page.text
    assert "http://" not in page.text and "https://" not in page.text
    assets = ("react.js", "react-dom.js", "graphiql.js", "graphiql.css")
    served = {asset: (await api.client.get(f"/graphiql/{asset}")).status_code for asset in assets}
    assert served == dict.fromkeys(assets, 200)
    assert (await api.client.get("/graphiql/../../settings.py")).status_code == 404


async def test_a_media_type_refused_with_q_zero_is_not_served(api: Api) -> None:
    response = await post(api, {"query": "{ tenant { slug } }"}, accept=f"{GRAPHQL_RESPONSE};q=0, application/json")
    assert response.status_code == 200 and response.headers["content-type"].startswith(JSON)
    refused = await post(api, {"query": "{ tenant { slug } }"}, accept="application/json;q=0")
    assert refused.status_code == 406


async def test_a_client_gone_before_its_request_arrived_whole_is_not_an_error(
    app: Starlette, alpha: TenantHandle, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {"Content-Type": "application/json", "Accept": GRAPHQL_RESPONSE, "X-Tenant": "alpha"}
    with caplog.at_level(logging.WARNING):
        sent = await sent_by_a_client_gone(app, "/graphql", headers)
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 499
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR] == []
