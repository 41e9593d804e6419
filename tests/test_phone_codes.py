"""Proving a phone by SMS code: texted through a pluggable sender, hashed at rest, good for a few
minutes and a few attempts, limited per phone and per client address, and answered the same
whether or not the phone has an account.

The limits are checked on an app of this module's own with the default settings (the shared
test app lifts them, since the whole suite registers from one address)."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from models.phone_codes import CodePurpose, PhoneCode
from models.settings import Settings
from models.sms import CodeText, HttpSender, LoggingSender, NoSender, SmsUnavailable, sender_for
from server.app import create_app
from tenants.sessions import open_session
from tests.conftest import WORKER_2, settings_for
from tests.local_servers import serving
from tests.provision import ProvisionedDatabase
from tests.support import PASSWORD, REQUEST_PHONE_CODE, Api, CapturedTexts, Clock, TenantHandle, fresh_phone, gid

REGISTER = """mutation($input: RegisterResidentInput!) { registerResident(input: $input) {
  resident { id } errors { field code message } } }"""
RESET = """mutation($input: ResetPasswordInput!) { resetPassword(input: $input) {
  tokens { accessToken refreshToken } errors { field code message } } }"""
DEFAULTS = {
    name: Settings.model_fields[name].default for name in ("phone_code_max_per_client", "phone_code_resend_seconds")
}
_addresses = itertools.count(1)

Connect = Callable[..., AbstractAsyncContextManager[Api]]


@pytest.fixture(scope="module")
async def texts() -> CapturedTexts:
    return CapturedTexts()


@pytest.fixture(scope="module")
async def strict_app(settings: Settings, clock: Clock, texts: CapturedTexts, alpha: TenantHandle, beta: TenantHandle):  # type: ignore[no-untyped-def]
    app = create_app(settings.model_copy(update=DEFAULTS), clock=clock.now, phone_code_sender=texts)
    yield app
    await app.state.engine.dispose()


@pytest.fixture
def connect(strict_app: Starlette, clock: Clock, texts: CapturedTexts) -> Connect:
    @asynccontextmanager
    async def client(address: str | None = None) -> AsyncIterator[Api]:
        n = next(_addresses)
        address = address or f"198.51.100.{n % 250 + 1}"
        transport = httpx.ASGITransport(app=strict_app, client=(address, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Api(http, clock, texts)

    return client


async def request_code(api: Api, phone: str, purpose: str = "REGISTER", tenant: str = "alpha") -> dict[str, Any]:
    body = await api.data(REQUEST_PHONE_CODE, {"input": {"phone": phone, "purpose": purpose}}, tenant=tenant)
    return body["requestPhoneCode"]


async def register(api: Api, alpha: TenantHandle, phone: str, code: str, tenant: str = "alpha") -> list[dict[str, Any]]:
    values = {
        "phone": phone,
        "phoneCode": code,
        "password": PASSWORD,
        "name": "钱七",
        "buildingId": gid("Building", alpha.buildings["A1-G1-B1"]),
        "room": "2-202",
    }
    return (await api.data(REGISTER, {"input": values}, tenant=tenant))["registerResident"]["errors"]


def codes_of(errors: list[dict[str, Any]]) -> list[str]:
    return [e["code"] for e in errors]


async def test_a_code_proves_the_phone_once(connect: Connect, alpha: TenantHandle, texts: CapturedTexts) -> None:
    phone = fresh_phone()
    async with connect() as api:
        assert await request_code(api, phone) == {"retryAfterSeconds": 60, "errors": []}
        [text] = [t for t in texts.sent if t.phone == phone]
        assert (text.purpose, text.minutes, text.signature, len(text.code)) == (
            CodePurpose.REGISTER,
            5,
            "阿尔法街道",
            6,
        )
        assert await register(api, alpha, phone, text.code) == []
        spent = await register(api, alpha, fresh_phone(), text.code)
        assert codes_of(spent) == ["CODE_INVALID"]


@pytest.mark.parametrize("purpose", ["REGISTER", "BIND_WECHAT", "RESET_PASSWORD"])
async def test_asking_for_a_code_answers_alike_with_or_without_an_account(
    connect: Connect, texts: CapturedTexts, purpose: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def ask(phone: str) -> tuple[dict[str, Any], list[CodePurpose], int]:
        already = len(texts.sent)
        async with connect() as api:
            caplog.clear()
            with caplog.at_level("INFO", logger="wanjia.requests"):
                answer = await request_code(api, phone, purpose)
            [line] = [r.msg for r in caplog.records if r.name == "wanjia.requests"]
        return answer, [t.purpose for t in texts.sent[already:] if t.phone == phone], line["sql_statements"]

    assert await ask(WORKER_2) == await ask(fresh_phone())


async def test_a_wrong_code_counts_and_the_code_dies_after_five_tries(
    connect: Connect, alpha: TenantHandle, texts: CapturedTexts
) -> None:
    phone = fresh_phone()
    async with connect() as api:
        await request_code(api, phone)
        code = texts.latest_code(phone)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        guesses = [codes_of(await register(api, alpha, phone, wrong)) for _ in range(5)]
        assert guesses == [["CODE_INVALID"]] * 5
        assert codes_of(await register(api, alpha, phone, code)) == ["CODE_INVALID"]


async def test_concurrent_guesses_get_no_more_tries_than_five(
    connect: Connect, alpha: TenantHandle, texts: CapturedTexts
) -> None:
    phone = fresh_phone()
    async with connect() as api:
        await request_code(api, phone)
        code = texts.latest_code(phone)
        guesses = [f"{(int(code) + i) % 10**6:06d}" for i in range(1, 21)]
        await asyncio.gather(*(register(api, alpha, phone, guess) for guess in guesses))
        assert codes_of(await register(api, alpha, phone, code)) == ["CODE_INVALID"]


async def test_a_code_expires_after_five_minutes(
    connect: Connect, alpha: TenantHandle, texts: CapturedTexts, clock: Clock
) -> None:
    phone = fresh_phone()
    async with connect() as api:
        await request_code(api, phone)
        with clock.later(timedelta(minutes=5, seconds=1)):
            assert codes_of(await register(api, alpha, phone, texts.latest_code(phone))) == ["CODE_INVALID"]


@pytest.mark.parametrize(
    ("asked_for", "tenant"), [("RESET_PASSWORD", "alpha"), ("BIND_WECHAT", "alpha"), ("REGISTER", "beta")]
)
async def test_a_code_proves_only_its_purpose_in_its_street_office(
    connect: Connect, alpha: TenantHandle, texts: CapturedTexts, asked_for: str, tenant: str
) -> None:
    phone = fresh_phone()
    async with connect() as api:
        await request_code(api, phone, asked_for, tenant=tenant)
        assert codes_of(await register(api, alpha, phone, texts.latest_code(phone))) == ["CODE_INVALID"]


async def test_a_new_code_replaces_the_one_before(
    connect: Connect, alpha: TenantHandle, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = iter(["111111", "222222"])
    monkeypatch.setattr("resolvers.phone_codes.new_code", lambda: next(codes))
    phone = fresh_phone()
    async with connect() as api:
        await request_code(api, phone)
        with clock.later(timedelta(seconds=61)):
            await request_code(api, phone)
            assert codes_of(await register(api, alpha, phone, "111111")) == ["CODE_INVALID"]
            assert await register(api, alpha, phone, "222222") == []


async def test_another_code_for_the_same_phone_waits_a_minute(connect: Connect, clock: Clock) -> None:
    phone = fresh_phone()
    async with connect() as api:
        await request_code(api, phone)
        again = await request_code(api, phone)
        assert again["retryAfterSeconds"] is None and codes_of(again["errors"]) == ["CODE_TOO_SOON"]
        assert "秒后" in again["errors"][0]["message"]
        assert (await request_code(api, phone, "RESET_PASSWORD"))["errors"] == []
        with clock.later(timedelta(seconds=61)):
            assert (await request_code(api, phone))["errors"] == []


async def test_a_phone_gets_at_most_five_codes_an_hour(connect: Connect, clock: Clock) -> None:
    phone = fresh_phone()
    answers = []
    for minute in range(6):
        with clock.later(timedelta(minutes=minute * 2)):
            async with connect() as api:
                answers.append(codes_of((await request_code(api, phone))["errors"]))
    assert answers == [[]] * 5 + [["TOO_MANY_CODES"]]
    with clock.later(timedelta(minutes=61)):
        async with connect() as api:
            assert (await request_code(api, phone))["errors"] == []


async def test_one_address_gets_at_most_twenty_codes_an_hour(connect: Connect) -> None:
    async with connect("192.0.2.77") as api:
        answers = [codes_of((await request_code(api, fresh_phone()))["errors"]) for _ in range(21)]
    assert answers == [[]] * 20 + [["TOO_MANY_CODES"]]
    async with connect("192.0.2.78") as elsewhere:
        assert (await request_code(elsewhere, fresh_phone()))["errors"] == []


@pytest.mark.parametrize("phone", ["12345678901", "1380013800", "13800138000x", ""])
async def test_a_code_is_only_sent_to_a_mainland_mobile(connect: Connect, phone: str) -> None:
    async with connect() as api:
        answer = await request_code(api, phone)
    assert answer["errors"] == [
        {"field": "phone", "code": "INVALID_PHONE", "message": "请输入有效的中国大陆手机号码。"}
    ]


async def test_codes_and_phones_are_not_kept_in_the_clear(
    connect: Connect, strict_app: Starlette, alpha: TenantHandle, texts: CapturedTexts
) -> None:
    phone = fresh_phone()
    async with connect() as api:
        await request_code(api, phone)
    code = texts.latest_code(phone)
    async with open_session(strict_app.state.services.sessions, alpha.id) as session:
        rows = (await session.execute(select(PhoneCode.subject, PhoneCode.code_hash))).all()
    stored = json.dumps([list(row) for row in rows])
    assert rows and phone not in stored and code not in stored


async def test_registration_with_a_taken_phone_says_so_only_after_the_code(
    connect: Connect, alpha: TenantHandle, texts: CapturedTexts, clock: Clock
) -> None:
    phone = fresh_phone()
    async with connect() as api:
        await request_code(api, phone)
        assert await register(api, alpha, phone, texts.latest_code(phone)) == []
        assert codes_of(await register(api, alpha, phone, "000000")) == ["CODE_INVALID"]
        with clock.later(timedelta(seconds=61)):
            await request_code(api, phone)
            assert codes_of(await register(api, alpha, phone, texts.latest_code(phone))) == ["PHONE_TAKEN"]


async def test_the_development_sender_writes_the_code_to_the_log_and_only_there(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("INFO", logger="wanjia.sms"):
        await LoggingSender().send(CodeText("13912345678", "042917", CodePurpose.REGISTER, 5, "阿尔法街道"))
    [record] = [r for r in caplog.records if r.name == "wanjia.sms"]
    assert record.msg["code"] == "042917" and record.msg["phone"] == "139****5678"
    assert "13912345678" not in str(record.msg)


def test_production_without_a_provider_refuses_to_send_rather_than_log(database: ProvisionedDatabase) -> None:
    assert isinstance(sender_for(settings_for(database.app_url, env="production")), NoSender)
    assert isinstance(sender_for(settings_for(database.app_url)), LoggingSender)


class Provider:
    """A stand-in SMS provider's HTTP endpoint: keeps what it was asked to send."""

    def __init__(self) -> None:
        self.received: list[tuple[str | None, dict[str, Any]]] = []
        self.failing = False

    async def send(self, request: Request) -> JSONResponse:
        if self.failing:
            return JSONResponse({"error": "quota exceeded"}, 503)
        self.received.append((request.headers.get("authorization"), await request.json()))
        return JSONResponse({"ok": True})


async def test_the_http_sender_hands_the_code_to_the_provider(
    settings: Settings, clock: Clock, alpha: TenantHandle
) -> None:
    provider = Provider()
    with serving(Starlette(routes=[Route("/send", provider.send, methods=["POST"])])) as url:
        app = create_app(
            settings.model_copy(update={"sms_http_url": f"{url}/send", "sms_http_token": SecretStr("provider-token")}),
            clock=clock.now,
        )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            api = Api(http, clock)
            phone = fresh_phone()
            assert (await request_code(api, phone))["errors"] == []
            [(authorization, body)] = provider.received
            assert authorization == "Bearer provider-token"
            assert body["phone"] == phone and body["template"] == "register" and body["signature"] == "阿尔法街道"
            assert await register(api, alpha, phone, body["params"]["code"]) == []

            provider.failing = True
            failed = await request_code(api, fresh_phone())
            assert codes_of(failed["errors"]) == ["SMS_UNAVAILABLE"]
        await app.state.engine.dispose()


async def test_a_code_typed_in_full_width_digits_still_proves_the_phone(
    connect: Connect, alpha: TenantHandle, texts: CapturedTexts
) -> None:
    phone = fresh_phone()
    async with connect() as api:
        await request_code(api, phone)
        full_width = texts.latest_code(phone).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        assert await register(api, alpha, phone, full_width) == []


async def test_nothing_is_logged_by_the_http_path_but_the_failure(caplog: pytest.LogCaptureFixture) -> None:
    provider = Provider()
    provider.failing = True
    with serving(Starlette(routes=[Route("/send", provider.send, methods=["POST"])])) as url:
        sender = HttpSender(f"{url}/send", "t", 5)
        with caplog.at_level(logging.DEBUG), pytest.raises(SmsUnavailable):
            await sender.send(CodeText("13912345678", "042917", CodePurpose.REGISTER, 5, "阿尔法街道"))
        await sender.close()
    assert not any("042917" in r.getMessage() or "13912345678" in r.getMessage() for r in caplog.records)
