"""No password, phone, identity card number or password hash reaches the log, whatever path an
error takes: canary values are sent through each and the whole log is searched for them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from resolvers import people
from server.observability import log_sink, redact
from tests.conftest import ALPHA
from tests.support import GRAPHQL_RESPONSE, Api, fresh_phone, gid

CANARY_PASSWORD = "Canary-Pass-8e1f"
CANARY_ID_NUMBER = "11010519491231002X"
REGISTER = "mutation($input: RegisterResidentInput!) { registerResident(input: $input) { errors { code } } }"
LOGIN = "mutation($input: LoginInput!) { login(input: $input) { errors { code } } }"


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    """The application's own sink, on the root logger, capturing every logger from INFO up."""
    captured = io.StringIO()
    sink = log_sink(captured)
    root = logging.getLogger()
    level = root.level
    root.addHandler(sink)
    root.setLevel(logging.INFO)
    try:
        yield captured
    finally:
        root.removeHandler(sink)
        root.setLevel(level)


async def test_personal_data_sent_through_every_error_path_never_reaches_the_log(
    api: Api, alpha, log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    phone = fresh_phone()
    building = gid("Building", alpha.buildings["A1-G1-B1"])
    registration = {
        "phone": phone,
        "phoneCode": await api.phone_code("alpha", phone),
        "password": CANARY_PASSWORD,
        "name": "金丝雀",
        "buildingId": building,
        "room": "1-101",
        "idNumber": CANARY_ID_NUMBER,
    }
    hashes: list[str] = []

    # Variables of the wrong type: coercion errors quote the whole input.
    await api.post(LOGIN, {"input": {"phone": phone, "password": [CANARY_PASSWORD]}}, tenant="alpha")
    await api.post(REGISTER, {"input": {**registration, "buildingId": {"id": building}}}, tenant="alpha")
    await api.post(REGISTER, {"input": {**registration, "room": 101}}, tenant="alpha")
    # The same over GET, where variables travel in the URL.
    await api.client.get(
        "/graphql",
        params={
            "query": "query($n: Int) { communities(first: $n) { edges { cursor } } }",
            "variables": f'{{"n": "{phone}"}}',
        },
        headers={"Accept": GRAPHQL_RESPONSE, "X-Tenant": "alpha"},
    )
    # Literals of the wrong type: validation errors quote them.
    await api.post(
        f'mutation {{ login(input: {{phone: {phone}, password: "{CANARY_PASSWORD}"}}) {{ ok: __typename }} }}',
        tenant="alpha",
    )
    # Bytes the server refuses.
    await api.post(LOGIN, {"input": {"phone": phone, "password": CANARY_PASSWORD + "\x00"}}, tenant="alpha")

    # A statement the database refuses, with the new account's hash and phone as parameters
    # (PostgreSQL also quotes the failing row in its own message).
    async def failing_insert(ctx, *, phone: str, password: str, **_: object) -> None:  # type: ignore[no-untyped-def]
        hashes.append(await ctx.passwords.hash(password))
        await ctx.session.execute(
            text(
                "INSERT INTO users (tenant_id, id, phone, name, password_hash, is_active, created_at) "
                "VALUES (:tenant, :id, :phone, NULL, :hash, true, :now)"
            ),
            {
                "tenant": str(ctx.tenant_id),
                "id": "01000000-0000-7000-8000-00000000c0de",
                "phone": phone,
                "hash": hashes[-1],
                "now": ctx.clock(),
            },
        )

    monkeypatch.setattr(people, "register_resident", failing_insert)
    failed = await api.post(REGISTER, {"input": registration}, tenant="alpha")
    assert failed.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"

    # An unexpected exception that quotes what it was given.
    async def quoting(ctx, *, phone: str, id_number: str, password: str, **_: object) -> None:  # type: ignore[no-untyped-def]
        raise ValueError(f"cannot register {phone} with {id_number}: password={password!r}")

    monkeypatch.setattr(people, "register_resident", quoting)
    await api.post(REGISTER, {"input": registration}, tenant="alpha")

    written = log.getvalue()
    assert written.count("unexpected error") >= 2 and '"event": "request"' in written
    canaries = [CANARY_PASSWORD, phone, CANARY_ID_NUMBER, *hashes, *(h.rsplit("$", 2)[-2] for h in hashes)]
    assert [canary for canary in canaries if canary in written] == []


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("Variable '$input' got invalid value {'password': 'x'}; Expected type", "got invalid value"),
        ("DETAIL:  Key (tenant_id, phone)=(a, 13800138000) already exists.", "DETAIL:"),
        (
            "Failing row contains (a, b, 13800138000, null, $argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA).",
            "Failing row",
        ),
        ("[parameters: ('13800138000', 'secret')]", "[parameters:"),
        ("refresh_token='abc.def' for user", "refresh_token="),
        ("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "Bearer"),
        ('GET /graphql?query=%7Bx%7D&variables=%7B%22p%22%3A%22secret%22%7D HTTP/1.1" 200', "GET /graphql?query="),
    ],
)
def test_quoted_input_is_redacted_and_the_rest_kept(line: str, kept: str) -> None:
    redacted = redact(line)
    assert kept in redacted
    secrets = ("13800138000", "'x'", "secret", "argon2id$v", "abc.def", "eyJzdWIi")
    assert [s for s in secrets if s in redacted] == [], redacted


def test_phones_and_id_numbers_are_masked_but_request_ids_kept() -> None:
    phone = ALPHA["staff"][0]["phone"]  # type: ignore[index]
    request_id = "a1380013800b4c3e9d2f1e0a7b6c5d4e"
    redacted = redact(f"{phone} {CANARY_ID_NUMBER} {request_id}")
    assert phone not in redacted and f"{phone[:3]}****{phone[-4:]}" in redacted
    assert CANARY_ID_NUMBER not in redacted and request_id in redacted


@pytest.mark.parametrize("padding", [0, 200], ids=["short line", "long line"])
def test_a_line_is_redacted_however_often_it_is_logged(padding: int) -> None:
    line = f"/files/{'x' * padding}?phone=13800138000"
    assert [redact(line) for _ in range(3)] == [f"/files/{'x' * padding}?phone=138****8000"] * 3
