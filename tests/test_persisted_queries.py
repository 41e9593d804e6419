"""Automatic persisted queries as Apollo's link speaks them, stored for every process; and the
trusted-documents mode that runs only a front-end build's registered operations."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from models.settings import Settings
from schema.build import build_schema
from server.app import create_app
from server.persisted_queries import DocumentsError, read_documents
from tests.conftest import Wanjia
from tests.support import GRAPHQL_RESPONSE, Api, Clock

HEADERS = {"Accept": GRAPHQL_RESPONSE, "X-Tenant": "alpha"}
SCHEMA = build_schema()._schema


def fresh_query(selection: str = "tenant { slug }") -> str:
    """A document no other test has stored: the store is one for the whole platform."""
    return f"query Q{uuid.uuid4().hex} {{ {selection} }}"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(digest: str) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def by_hash(client: httpx.AsyncClient, digest: str, **headers: str) -> httpx.Response:
    return await client.post("/graphql", json={"extensions": persisted(digest)}, headers={**HEADERS, **headers})


async def with_text(client: httpx.AsyncClient, query: str, digest: str | None = None) -> httpx.Response:
    body = {"query": query, "extensions": persisted(digest or sha256(query))}
    return await client.post("/graphql", json=body, headers=HEADERS)


@pytest.fixture
async def make_client(settings: Settings, clock: Clock, alpha) -> AsyncIterator:  # type: ignore[no-untyped-def, type-arg]
    """Clients of separate app instances (as separate processes would be) on one database."""
    apps: list[Starlette] = []
    clients: list[httpx.AsyncClient] = []

    async def make(**changes: object) -> httpx.AsyncClient:
        app = create_app(Settings.model_validate({**settings.model_dump(), **changes}), clock=clock.now)
        apps.append(app)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
    for app in apps:
        await app.state.engine.dispose()


async def test_the_apollo_link_round_trip_over_post_and_then_get(api: Api) -> None:
    query = fresh_query()
    digest = sha256(query)
    unknown = await by_hash(api.client, digest)
    assert unknown.status_code == 200
    assert unknown.json()["errors"] == [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
    assert "no-cache" in unknown.headers["cache-control"]
    stored = await with_text(api.client, query)
    assert stored.json()["data"] == {"tenant": {"slug": "alpha"}}
    again = await by_hash(api.client, digest)
    over_get = await api.client.get("/graphql", params={"extensions": json.dumps(persisted(digest))}, headers=HEADERS)
    for response in (again, over_get):
        assert response.status_code == 200 and response.json()["data"] == {"tenant": {"slug": "alpha"}}


async def test_every_process_finds_what_another_stored(make_client) -> None:  # type: ignore[no-untyped-def]
    one, other = await make_client(), await make_client()
    query = fresh_query()
    assert (await with_text(one, query)).status_code == 200
    assert (await by_hash(other, sha256(query))).json()["data"] == {"tenant": {"slug": "alpha"}}


async def test_a_hash_that_does_not_match_the_text_is_refused_and_nothing_stored(api: Api) -> None:
    query, other = fresh_query(), fresh_query()
    refused = await with_text(api.client, query, sha256(other))
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "PROVIDED_SHA_DOES_NOT_MATCH"
    for digest in (sha256(query), sha256(other)):
        assert (await by_hash(api.client, digest)).json()["errors"][0]["extensions"]["code"] == (
            "PERSISTED_QUERY_NOT_FOUND"
        )


@pytest.mark.parametrize(
    "extensions",
    [
        {"persistedQuery": {"version": 2, "sha256Hash": "a" * 64}},
        {"persistedQuery": {"version": 1, "sha256Hash": "not hex"}},
        {"persistedQuery": "a" * 64},
        {"persistedQuery": {"version": 1}},
    ],
    ids=["version", "not a sha256", "not an object", "no hash"],
)
async def test_a_malformed_persisted_query_is_a_400(api: Api, extensions: dict[str, object]) -> None:
    response = await api.client.post("/graphql", json={"extensions": extensions}, headers=HEADERS)
    assert response.status_code == 400 and response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


NESTED = "communities(first: 100) { edges { node { grids(first: 100) { edges { node { buildings(first: 100) { edges { cursor } } } } } } } }"


@pytest.mark.parametrize(
    ("selection", "code"),
    [
        (NESTED, "QUERY_TOO_COSTLY"),
        (
            "communities(first: 1) { edges { node { "
            + "grids(first: 1) { edges { node { community { " * 4
            + "name"
            + " } } } }" * 4
            + " } } }",
            None,
        ),
    ],
    ids=["too costly", "too deep"],
)
async def test_a_document_sent_by_hash_obeys_every_limit_and_is_not_stored_when_refused(
    api: Api, selection: str, code: str | None
) -> None:
    query = fresh_query(selection)
    refused = await with_text(api.client, query)
    assert refused.status_code == 400 and "data" not in refused.json()
    if code:
        assert refused.json()["errors"][0]["extensions"]["code"] == code
    later = await by_hash(api.client, sha256(query))
    assert later.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_introspection_stays_banned_in_production_by_hash_too(make_client) -> None:  # type: ignore[no-untyped-def]
    client = await make_client(env="production")
    query = fresh_query("__schema { types { name } }")
    refused = await with_text(client, query)
    assert refused.status_code == 400 and "introspection" in refused.text.lower()
    assert (await by_hash(client, sha256(query))).json()["errors"][0]["message"] == "PersistedQueryNotFound"


async def test_a_mutation_by_hash_over_get_is_405(api: Api) -> None:
    mutation = f'mutation M{uuid.uuid4().hex} {{ logout(input: {{refreshToken: "x"}}) {{ ok }} }}'
    assert (await with_text(api.client, mutation)).json()["data"] == {"logout": {"ok": True}}
    over_get = await api.client.get(
        "/graphql", params={"extensions": json.dumps(persisted(sha256(mutation)))}, headers=HEADERS
    )
    assert over_get.status_code == 405


async def register(app: Starlette, *queries: str) -> None:
    await app.state.persisted.register({sha256(q): q for q in queries})


async def test_trusted_documents_mode_runs_only_registered_operations(make_client) -> None:  # type: ignore[no-untyped-def]
    open_client = await make_client()
    strict = await make_client(trusted_documents_only=True)
    strict_app = strict._transport.app  # type: ignore[attr-defined]
    registered, automatic, unknown = fresh_query(), fresh_query(), fresh_query()
    await register(strict_app, registered)
    assert (await with_text(open_client, automatic)).status_code == 200  # stored by a client, not trusted

    by_text = await strict.post("/graphql", json={"query": registered}, headers=HEADERS)
    hashed = await by_hash(strict, sha256(registered))
    for response in (by_text, hashed):
        assert response.status_code == 200 and response.json()["data"] == {"tenant": {"slug": "alpha"}}

    freeform = await strict.post("/graphql", json={"query": unknown}, headers=HEADERS)
    apq = await with_text(strict, unknown)
    for response in (freeform, apq):
        assert response.status_code == 403
        assert response.json()["errors"][0]["extensions"]["code"] == "OPERATION_NOT_TRUSTED"
    assert (await by_hash(strict, sha256(automatic))).json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert (await by_hash(open_client, sha256(unknown))).json()["errors"][0]["message"] == "PersistedQueryNotFound"


async def test_a_registered_document_is_still_held_to_the_cost_limit(make_client) -> None:  # type: ignore[no-untyped-def]
    strict = await make_client(trusted_documents_only=True)
    costly = fresh_query(NESTED)
    await register(strict._transport.app, costly)  # type: ignore[attr-defined]
    response = await by_hash(strict, sha256(costly))
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


async def test_documents_register_reads_the_formats_front_end_builds_emit_all_or_nothing(
    make_client,
    tmp_path: Path,
    wanjia: Wanjia,  # type: ignore[no-untyped-def]
) -> None:
    codegen, apollo, file_text = fresh_query(), fresh_query(), fresh_query() + "\n"
    files = [tmp_path / "persisted-documents.json", tmp_path / "manifest.json", tmp_path / "tenant.graphql"]
    files[0].write_text(json.dumps({sha256(codegen): codegen}))
    files[1].write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": sha256(apollo), "name": "Q", "type": "query", "body": apollo}],
            }
        )
    )
    files[2].write_text(file_text)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({sha256("another"): fresh_query()}))
    failed = await wanjia("documents", "register", *map(str, [*files, bad]))
    assert failed.exit_code == 1 and "bad.json" in failed.stderr
    done = await wanjia("documents", "register", *map(str, files))
    assert done.exit_code == 0 and "新增 3" in done.stdout, done.output  # the failed run wrote nothing
    strict = await make_client(trusted_documents_only=True)
    for query in (codegen, apollo, file_text):
        assert (await by_hash(strict, sha256(query))).json()["data"] == {"tenant": {"slug": "alpha"}}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ({sha256("another"): "{ tenant { slug } }"}, "sha256"),
        ({sha256("{ nope }"): "{ nope }"}, "nope"),
        ({sha256("{ tenant "): "{ tenant "}, "Syntax Error"),
        (["not", "a", "map"], "格式"),
        ({"format": "apollo-persisted-query-manifest", "operations": [{"name": "Q"}]}, "manifest.json"),
    ],
    ids=["hash mismatch", "not valid for the schema", "does not parse", "unknown format", "manifest without ids"],
)
def test_a_bad_documents_file_is_refused_with_where_and_why(tmp_path: Path, content: object, problem: str) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(content))
    with pytest.raises(DocumentsError) as refused:
        read_documents([path], SCHEMA)
    assert problem in str(refused.value) and str(path) in str(refused.value)


@pytest.mark.parametrize("accept", ["*/*", "application/json", None])
async def test_a_hash_over_get_is_answered_as_graphql_whatever_the_accept_header(api: Api, accept: str | None) -> None:
    """Apollo's persisted-query link sends `Accept: */*`; a GraphQL request over GET is never the
    IDE page, which only a browser opening /graphql itself gets."""
    query = fresh_query()
    assert (await with_text(api.client, query)).status_code == 200
    headers = {"X-Tenant": "alpha", **({"Accept": accept} if accept else {})}
    response = await api.client.get(
        "/graphql", params={"extensions": json.dumps(persisted(sha256(query)))}, headers=headers
    )
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["data"] == {"tenant": {"slug": "alpha"}}
    page = await api.client.get("/graphql", headers={"Accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
