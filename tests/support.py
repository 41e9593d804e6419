"""Test helpers: a GraphQL client speaking to the app over HTTP, the test street offices, and
a clock tests can move."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from sqlalchemy import event
from starlette.types import ASGIApp, Message, Scope
from strawberry.relay import to_base64

from models.people import normalise_phone
from models.sms import CodeText

PASSWORD = "Test@2026pw"
GRAPHQL_RESPONSE = "application/graphql-response+json"


class Clock:
    """Real time unless a test moves or stops it; injected into the app as its only clock."""

    def __init__(self) -> None:
        self.offset = timedelta()
        self.stopped_at: datetime | None = None

    def now(self) -> datetime:
        return self.stopped_at or datetime.now(UTC) + self.offset

    @contextlib.contextmanager
    def later(self, delta: timedelta) -> Iterator[None]:
        self.offset = delta
        try:
            yield
        finally:
            self.offset = timedelta()

    @contextlib.contextmanager
    def at(self, moment: datetime) -> Iterator[None]:
        self.stopped_at = moment
        try:
            yield
        finally:
            self.stopped_at = None


_phones = itertools.count(1)


@contextlib.contextmanager
def statements_of(app: Any) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements (text and parameters) `app` sends while the block runs."""
    sent: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    engine = app.state.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", keep)


async def answered_alike(
    api: Api, monkeypatch: Any, other_way: tuple[Any, str, Any], query: str, variables: Any = None, **kwargs: Any
) -> dict[str, Any]:
    """Asks the same twice, as the app answers and with `other_way` (an object, an attribute
    and what to put there instead) in place; asserts the two response bodies are equal and
    returns the first."""
    first = await api.run(query, variables, **kwargs)
    with monkeypatch.context() as patched:
        patched.setattr(*other_way)
        second = await api.run(query, variables, **kwargs)
    assert first == second
    return first


def fresh_phone() -> str:
    """A mobile number no other test has used in this run."""
    return f"150{uuid.uuid4().int % 10**4:04d}{next(_phones):04d}"


class CapturedTexts:
    """A phone-code sender for tests: keeps the texts that would have gone out by SMS."""

    def __init__(self) -> None:
        self.sent: list[CodeText] = []

    async def send(self, text: CodeText) -> None:
        self.sent.append(text)

    async def close(self) -> None:
        return None

    def latest_code(self, phone: str) -> str:
        number = normalise_phone(phone)
        return next(text.code for text in reversed(self.sent) if text.phone == number)


# Every test app sends its codes here (create_app(..., phone_code_sender=TEXTS)).
TEXTS = CapturedTexts()
REQUEST_PHONE_CODE = """mutation($input: RequestPhoneCodeInput!) {
  requestPhoneCode(input: $input) { retryAfterSeconds errors { field code message } } }"""


def staff(phone: str, name: str, *roles: dict[str, str]) -> dict[str, object]:
    """A manifest's staff member who can sign in with PASSWORD."""
    return {"phone": phone, "name": name, "roles": list(roles), "initial_password": PASSWORD}


def gid(type_name: str, value: uuid.UUID) -> str:
    return to_base64(type_name, str(value))


@dataclass
class TenantHandle:
    slug: str
    id: uuid.UUID
    communities: dict[str, uuid.UUID] = field(default_factory=dict)
    grids: dict[str, uuid.UUID] = field(default_factory=dict)
    buildings: dict[str, uuid.UUID] = field(default_factory=dict)


class Api:
    def __init__(self, client: httpx.AsyncClient, clock: Clock | None = None, texts: CapturedTexts = TEXTS) -> None:
        self.client = client
        self.clock = clock
        self.texts = texts
        self._tokens: dict[tuple[str, str], str] = {}

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        tenant: str | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {"Accept": GRAPHQL_RESPONSE}
        if tenant:
            sent["X-Tenant"] = tenant
        if token:
            sent["Authorization"] = f"Bearer {token}"
        sent.update(headers or {})
        return await self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=sent)

    async def upload(
        self,
        query: str,
        variables: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]],
        *,
        token: str,
        guarded: bool = True,
    ) -> httpx.Response:
        """A GraphQL multipart request: `files` maps variable paths to (name, bytes, declared type)."""
        paths = list(files)
        headers = {"Accept": GRAPHQL_RESPONSE, "Authorization": f"Bearer {token}"}
        if guarded:
            headers["GraphQL-Require-Preflight"] = "1"
        return await self.client.post(
            "/graphql",
            data={
                "operations": json.dumps({"query": query, "variables": variables}),
                "map": json.dumps({str(i): [f"variables.{path}"] for i, path in enumerate(paths)}),
            },
            files={str(i): files[path] for i, path in enumerate(paths)},
            headers=headers,
        )

    async def upload_ahead(
        self, name: str, data: bytes, declared: str, *, token: str | None, field: str = "file"
    ) -> httpx.Response:
        """`POST /uploads` as `wx.uploadFile` sends it: one file field and a form field."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.post(
            "/uploads", files={field: (name, data, declared)}, data={"source": "miniprogram"}, headers=headers
        )

    async def run(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        """The response body of an operation that must not fail at the HTTP level."""
        response = await self.post(query, variables, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        body = await self.run(query, variables, **kwargs)
        assert "errors" not in body, body
        return body["data"]

    async def statements(self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> int:
        """The SQL statements one successful request costs (the statement-count tests)."""
        from models.database import counting_statements

        with counting_statements() as counter:
            await self.data(query, variables, **kwargs)
        return counter.count

    async def login(self, tenant: str, phone: str, password: str = PASSWORD) -> dict[str, Any]:
        body = await self.data(
            "mutation($input: LoginInput!) { login(input: $input) { tokens { accessToken refreshToken expiresIn } errors { field code message } } }",
            {"input": {"phone": phone, "password": password}},
            tenant=tenant,
        )
        return body["login"]

    def _expired(self, token: str) -> bool:
        """By the app's clock, which tests move: a token from "yesterday" no longer works."""
        now = self.clock.now() if self.clock else datetime.now(UTC)
        claims = jwt.decode(token, options={"verify_signature": False})
        return claims["exp"] <= now.timestamp() or claims["iat"] > now.timestamp()

    async def token(self, tenant: str, phone: str, password: str = PASSWORD) -> str:
        if (tenant, phone) not in self._tokens or self._expired(self._tokens[(tenant, phone)]):
            result = await self.login(tenant, phone, password)
            assert not result["errors"], result
            self._tokens[(tenant, phone)] = result["tokens"]["accessToken"]
        return self._tokens[(tenant, phone)]

    def forget_token(self, tenant: str, phone: str) -> None:
        """For a test that ends the account's sessions: the next `token()` signs in again."""
        self._tokens.pop((tenant, phone), None)

    async def phone_code(self, tenant: str, phone: str, purpose: str = "REGISTER") -> str:
        """Asks the app to text a code to the phone, and reads it off the captured texts."""
        body = await self.data(REQUEST_PHONE_CODE, {"input": {"phone": phone, "purpose": purpose}}, tenant=tenant)
        assert body["requestPhoneCode"]["errors"] == [], body
        return self.texts.latest_code(phone)

    async def register_resident(
        self, tenant: str, building_id: uuid.UUID, *, phone: str | None = None, name: str = "张三", room: str = "1-101"
    ) -> dict[str, Any]:
        phone = phone or fresh_phone()
        body = await self.data(
            """mutation($input: RegisterResidentInput!) {
                 registerResident(input: $input) {
                   resident { id name phone status room }
                   tokens { accessToken refreshToken }
                   errors { field code message }
                 }
               }""",
            {
                "input": {
                    "phone": phone,
                    "phoneCode": await self.phone_code(tenant, phone),
                    "password": PASSWORD,
                    "name": name,
                    "buildingId": gid("Building", building_id),
                    "room": room,
                }
            },
            tenant=tenant,
        )
        return body["registerResident"]


FRONTEND = Path(__file__).resolve().parent / "frontend"


def frontend_installed() -> Path:
    """tests/frontend/ with its npm packages as its lockfile pins them (`npm ci`, once; after
    that no network is needed)."""
    installed = FRONTEND / "node_modules" / ".package-lock.json"
    lock = FRONTEND / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=FRONTEND, check=True, timeout=600
        )
        installed.touch()
    return FRONTEND


@contextlib.contextmanager
def served(database: Any, tmp_path: Path, **environment: str) -> Iterator[str]:
    """The app served by uvicorn in a process of its own on 127.0.0.1, over `database` (a
    tests.provision.ProvisionedDatabase), until the block ends. The socket is bound and listening
    before uvicorn starts (it takes it by `--fd`), so the first request simply waits in the
    backlog until the app answers: no polling."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(64)
    port = listening.getsockname()[1]
    env = {
        **os.environ,
        "WANJIA_ENV": "test",
        "WANJIA_DATABASE_URL": database.app_url,
        "WANJIA_SECRET_KEY": "served-secret-key-that-is-long-enough-0123456789",
        "WANJIA_UPLOAD_DIR": str(tmp_path / "uploads"),
        **environment,
    }
    command = [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory"]
    with listening:
        process = subprocess.Popen(
            [*command, "--fd", str(listening.fileno()), "--log-level", "warning"],
            env=env,
            pass_fds=(listening.fileno(),),
        )
    url = f"http://127.0.0.1:{port}"
    try:
        assert httpx.get(f"{url}/healthz", timeout=120).status_code == 200
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def code_of(answer: dict[str, Any]) -> str | None:
    """The code of the first error in a mutation's payload (`errors[].code`) or in a response
    (`errors[].extensions.code`), None when there is none. Tests that ask several callers collect
    these into one dict and compare it once, so every caller answered wrongly is reported, not
    only the first (and a caller let through reads None rather than raising IndexError)."""
    errors = answer.get("errors") or []
    if not errors:
        return None
    return errors[0].get("code") or errors[0].get("extensions", {}).get("code")


async def sent_by_a_client_gone(app: ASGIApp, path: str, headers: dict[str, str]) -> list[Message]:
    """What the app sends when a POST's client goes away before its body arrives (a load
    generator stopping mid-request, a phone losing signal): the connection closes at once."""
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-length", b"100")]
        + [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[Message] = []

    async def gone() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, gone, send)
    return sent
