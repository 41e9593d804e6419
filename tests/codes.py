"""The error codes responses carried during a test, read off every HTTP response any client of
the suite received (in-process or over the network), for the check in tests/conftest.py."""

from __future__ import annotations

import functools
import json
from typing import Any

import httpx
from graphql import GraphQLEnumType, build_schema

from schema.build import SDL_PATH

seen: set[str] = set()


@functools.cache
def in_the_sdl() -> frozenset[str]:
    enum = build_schema(SDL_PATH.read_text(encoding="utf-8")).type_map["ErrorCode"]
    assert isinstance(enum, GraphQLEnumType)
    return frozenset(enum.values)


def found_in(value: Any) -> set[str]:
    """Codes of GraphQL errors (`extensions.code`) and of user errors (`code` beside `message`)."""
    found: set[str] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            code = item.get("code")
            if isinstance(code, str) and "message" in item:
                found.add(code)
            extensions = item.get("extensions")
            if isinstance(extensions, dict) and isinstance(extensions.get("code"), str):
                found.add(extensions["code"])
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


def record(response: httpx.Response) -> None:
    if "json" not in response.headers.get("content-type", "") or b'"code"' not in response.content:
        return
    try:
        body = json.loads(response.content)
    except ValueError:
        return
    seen.update(found_in(body))


def _recording_async(send: Any) -> Any:
    async def send_and_record(self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = await send(self, request, **kwargs)
        if not kwargs.get("stream"):
            record(response)
        return response

    return send_and_record


def _recording(send: Any) -> Any:
    def send_and_record(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = send(self, request, **kwargs)
        if not kwargs.get("stream"):
            record(response)
        return response

    return send_and_record


httpx.AsyncClient.send = _recording_async(httpx.AsyncClient.send)  # type: ignore[method-assign]
httpx.Client.send = _recording(httpx.Client.send)  # type: ignore[method-assign]
