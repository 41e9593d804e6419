"""Sign in with WeChat: the code from `wx.login()` is exchanged with WeChat (here a stand-in on
127.0.0.1, over real HTTP); a WeChat user not yet linked proves a phone by SMS code and is linked
to that phone's account, or registers with it; afterwards WeChat alone signs them in."""

from __future__ import annotations

import copy
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from pydantic import SecretStr
from sqlalchemy import update
from starlette.applications import Starlette

from models.people import User
from models.settings import Settings
from server.app import create_app
from tenants.manifests import ManifestError, parse_manifest
from tenants.onboarding import onboard
from tenants.sessions import open_session
from tests.conftest import BETA, WORKER_2
from tests.local_servers import serving
from tests.support import PASSWORD, TEXTS, Api, Clock, TenantHandle, fresh_phone, gid
from tests.wechat_standin import SESSION_KEY, WechatStandIn

PLATFORM_APP, PLATFORM_SECRET = "wx00000000000000a1", "platform-secret-never-logged"
OWN_APP, OWN_SECRET = "wx00000000000000b2", "own-secret-never-logged"

LOGIN = """mutation($code: String!) { loginWithWechat(input: {code: $code}) {
  tokens { accessToken } bindingTicket errors { field code message } } }"""
BIND = """mutation($input: BindPhoneInput!) { bindPhone(input: $input) {
  tokens { accessToken } errors { field code message } } }"""
REGISTER = """mutation($input: RegisterResidentInput!) { registerResident(input: $input) {
  resident { id } tokens { accessToken } errors { field code message } } }"""
ME = "{ me { phone } }"
# A street office that runs its own mini-program.
OWN_OFFICE = copy.deepcopy(BETA) | {"slug": "zijin", "name": "紫金街道", "settings": {"wechat": {"app_id": OWN_APP}}}


@pytest.fixture(scope="module")
def wechat() -> Iterator[tuple[WechatStandIn, str]]:
    stand_in = WechatStandIn({PLATFORM_APP: PLATFORM_SECRET, OWN_APP: OWN_SECRET})
    with serving(stand_in.app()) as url:
        yield stand_in, url
        stand_in.release_hanging()


def with_wechat(settings: Settings, url: str, **changes: Any) -> Settings:
    return settings.model_copy(
        update={
            "wechat_api_base": url,
            "wechat_app_id": PLATFORM_APP,
            "wechat_app_secret": SecretStr(PLATFORM_SECRET),
            "wechat_app_secrets": {OWN_APP: SecretStr(OWN_SECRET)},
            "wechat_timeout_seconds": 2.0,
            **changes,
        }
    )


@pytest.fixture(scope="module")
async def wechat_app(
    wechat, settings: Settings, clock: Clock, alpha: TenantHandle, beta: TenantHandle
) -> AsyncIterator[Starlette]:  # type: ignore[no-untyped-def]
    app = create_app(with_wechat(settings, wechat[1]), clock=clock.now, phone_code_sender=TEXTS)
    services = app.state.services
    await onboard(services, parse_manifest(OWN_OFFICE, "zijin.toml"))
    services.directory.forget()
    yield app
    await app.state.engine.dispose()


@pytest.fixture
async def api(wechat_app: Starlette, clock: Clock) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=wechat_app), base_url="http://testserver") as http:
        yield Api(http, clock)


async def sign_in(api: Api, code: str, tenant: str = "alpha") -> dict[str, Any]:
    return (await api.data(LOGIN, {"code": code}, tenant=tenant))["loginWithWechat"]


async def bind(api: Api, ticket: str, phone: str, code: str, tenant: str = "alpha") -> dict[str, Any]:
    values = {"bindingTicket": ticket, "phone": phone, "phoneCode": code}
    return (await api.data(BIND, {"input": values}, tenant=tenant))["bindPhone"]


async def phone_of(api: Api, token: str) -> str:
    return (await api.data(ME, token=token))["me"]["phone"]


async def resident(api: Api, alpha: TenantHandle) -> str:
    phone = fresh_phone()
    assert (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], phone=phone))["errors"] == []
    return phone


async def test_a_resident_links_their_wechat_once_and_then_signs_in_with_it_alone(
    api: Api, alpha: TenantHandle, wechat
) -> None:  # type: ignore[no-untyped-def]
    stand_in, _ = wechat
    phone = await resident(api, alpha)
    first = await sign_in(api, stand_in.code_for("xiaoming"))
    assert first["tokens"] is None and first["errors"] == [] and first["bindingTicket"]
    bound = await bind(api, first["bindingTicket"], phone, await api.phone_code("alpha", phone, "BIND_WECHAT"))
    assert bound["errors"] == []
    assert await phone_of(api, bound["tokens"]["accessToken"]) == phone

    code = stand_in.code_for("xiaoming")
    later = await sign_in(api, code)
    assert later["bindingTicket"] is None and later["errors"] == []
    assert await phone_of(api, later["tokens"]["accessToken"]) == phone
    assert stand_in.calls[-1] == {
        "appid": PLATFORM_APP,
        "secret": PLATFORM_SECRET,
        "js_code": code,
        "grant_type": "authorization_code",
    }


async def test_a_newcomer_registers_with_the_same_code_and_their_wechat(api: Api, alpha: TenantHandle, wechat) -> None:  # type: ignore[no-untyped-def]
    stand_in, _ = wechat
    phone = fresh_phone()
    ticket = (await sign_in(api, stand_in.code_for("newcomer")))["bindingTicket"]
    code = await api.phone_code("alpha", phone, "BIND_WECHAT")
    not_yet = await bind(api, ticket, phone, code)
    assert [e["code"] for e in not_yet["errors"]] == ["NO_ACCOUNT"]
    values = {
        "phone": phone,
        "phoneCode": code,
        "password": PASSWORD,
        "name": "新居民",
        "buildingId": gid("Building", alpha.buildings["A1-G1-B1"]),
        "room": "1-102",
        "wechatTicket": ticket,
    }
    registered = (await api.data(REGISTER, {"input": values}, tenant="alpha"))["registerResident"]
    assert registered["errors"] == []
    later = await sign_in(api, stand_in.code_for("newcomer"))
    assert await phone_of(api, later["tokens"]["accessToken"]) == phone


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("not-a-code", {"field": "code", "code": "WECHAT_CODE_INVALID"}),
        ("busy", {"field": None, "code": "WECHAT_BUSY"}),
        ("throttled", {"field": None, "code": "WECHAT_RATE_LIMITED"}),
        ("risky", {"field": None, "code": "WECHAT_REFUSED"}),
        ("", {"field": "code", "code": "WECHAT_CODE_INVALID"}),
    ],
)
async def test_wechat_refusals_are_answered_in_the_callers_terms(
    api: Api, code: str, error: dict[str, str | None]
) -> None:
    answer = await sign_in(api, code)
    assert answer["tokens"] is None and answer["bindingTicket"] is None
    assert [{"field": e["field"], "code": e["code"]} for e in answer["errors"]] == [error]
    assert answer["errors"][0]["message"]


async def test_a_code_works_once(api: Api, wechat) -> None:  # type: ignore[no-untyped-def]
    stand_in, _ = wechat
    code = stand_in.code_for("once")
    assert (await sign_in(api, code))["errors"] == []
    assert [e["code"] for e in (await sign_in(api, code))["errors"]] == ["WECHAT_CODE_INVALID"]


@pytest.mark.parametrize("trouble", ["wrong secret", "nobody listening", "no answer in time"])
async def test_when_wechat_cannot_be_used_the_resident_is_told_to_retry_and_the_operator_is_told_why(
    wechat, settings: Settings, clock: Clock, trouble: str, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    stand_in, url = wechat
    changes: dict[str, Any] = {
        "wrong secret": {"wechat_app_secret": SecretStr("not-the-secret")},
        "nobody listening": {"wechat_api_base": "http://127.0.0.1:9"},
        "no answer in time": {"wechat_timeout_seconds": 0.3},
    }[trouble]
    code = "hang" if trouble == "no answer in time" else stand_in.code_for("unlucky")
    app = create_app(with_wechat(settings, url, **changes), clock=clock.now)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        with caplog.at_level(logging.WARNING, logger="wanjia.wechat"):
            answer = await sign_in(Api(http, clock), code)
    await app.state.engine.dispose()
    assert [e["code"] for e in answer["errors"]] == ["WECHAT_UNAVAILABLE"]
    logged = [r.msg for r in caplog.records if r.name == "wanjia.wechat"]
    assert logged and all(record["app_id"] == PLATFORM_APP for record in logged)


async def test_a_street_office_may_run_its_own_mini_program(api: Api, wechat) -> None:  # type: ignore[no-untyped-def]
    stand_in, _ = wechat
    await sign_in(api, stand_in.code_for("laowang"), tenant="zijin")
    call = stand_in.calls[-1]
    assert (call["appid"], call["secret"]) == (OWN_APP, OWN_SECRET)
    ticket = (await sign_in(api, stand_in.code_for("laowang"), tenant="zijin"))["bindingTicket"]
    claims = jwt.decode(ticket, options={"verify_signature": False})
    assert (claims["app"], claims["oid"]) == (OWN_APP, WechatStandIn.openid(OWN_APP, "laowang"))


async def test_a_link_in_one_street_office_signs_in_nowhere_else(api: Api, alpha: TenantHandle, wechat) -> None:  # type: ignore[no-untyped-def]
    stand_in, _ = wechat
    phone = await resident(api, alpha)
    ticket = (await sign_in(api, stand_in.code_for("traveller")))["bindingTicket"]
    assert (await bind(api, ticket, phone, await api.phone_code("alpha", phone, "BIND_WECHAT")))["errors"] == []
    elsewhere = await sign_in(api, stand_in.code_for("traveller"), tenant="beta")
    assert elsewhere["tokens"] is None and elsewhere["bindingTicket"]
    misused = await bind(api, ticket, phone, "000000", tenant="beta")
    assert [e["code"] for e in misused["errors"]] == ["WECHAT_TICKET_INVALID"]


@pytest.mark.parametrize("ticket", ["forged", "expired", "an access token"])
async def test_a_binding_ticket_must_be_genuine_and_fresh(
    api: Api, alpha: TenantHandle, wechat, clock: Clock, ticket: str
) -> None:  # type: ignore[no-untyped-def]
    stand_in, _ = wechat
    phone = await resident(api, alpha)
    genuine = (await sign_in(api, stand_in.code_for("someone")))["bindingTicket"]
    code = await api.phone_code("alpha", phone, "BIND_WECHAT")
    presented = {
        "forged": jwt.encode(
            jwt.decode(genuine, options={"verify_signature": False}), "a-secret-that-is-not-the-apps-0123456789"
        ),
        "expired": genuine,
        "an access token": await api.token("alpha", phone),
    }[ticket]
    later = timedelta(minutes=11 if ticket == "expired" else 0)
    with clock.later(later):
        answer = await bind(api, presented, phone, code)
    assert [e["code"] for e in answer["errors"]] == ["WECHAT_TICKET_INVALID"]


async def test_binding_needs_the_code_sent_for_binding(api: Api, alpha: TenantHandle, wechat) -> None:  # type: ignore[no-untyped-def]
    stand_in, _ = wechat
    phone = await resident(api, alpha)
    ticket = (await sign_in(api, stand_in.code_for("hasty")))["bindingTicket"]
    wrong_purpose = await api.phone_code("alpha", phone, "RESET_PASSWORD")
    assert [e["code"] for e in (await bind(api, ticket, phone, wrong_purpose))["errors"]] == ["CODE_INVALID"]


async def test_linking_another_wechat_replaces_the_first(api: Api, alpha: TenantHandle, wechat) -> None:  # type: ignore[no-untyped-def]
    stand_in, _ = wechat
    phone = await resident(api, alpha)
    bound = {}
    for wechat_user in ("old-phone", "new-phone"):
        ticket = (await sign_in(api, stand_in.code_for(wechat_user)))["bindingTicket"]
        bound[wechat_user] = (await bind(api, ticket, phone, await api.phone_code("alpha", phone, "BIND_WECHAT")))[
            "errors"
        ]
    assert bound == {"old-phone": [], "new-phone": []}
    assert (await sign_in(api, stand_in.code_for("new-phone")))["tokens"]
    assert (await sign_in(api, stand_in.code_for("old-phone")))["bindingTicket"]


async def test_neither_the_session_key_nor_the_secret_nor_the_code_is_logged(
    api: Api, alpha: TenantHandle, wechat, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    stand_in, _ = wechat
    phone = await resident(api, alpha)
    code = stand_in.code_for("careful")
    with caplog.at_level(logging.DEBUG):
        ticket = (await sign_in(api, code))["bindingTicket"]
        await bind(api, ticket, phone, await api.phone_code("alpha", phone, "BIND_WECHAT"))
        await sign_in(api, "busy")
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert caplog.records
    assert [secret for secret in (SESSION_KEY, PLATFORM_SECRET, code) if secret in logged] == []


async def test_a_street_office_without_wechat_says_so(settings: Settings, clock: Clock, alpha: TenantHandle) -> None:
    app = create_app(settings, clock=clock.now)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        answer = await sign_in(Api(http, clock), "ok.anyone.1")
    await app.state.engine.dispose()
    assert [e["code"] for e in answer["errors"]] == ["WECHAT_NOT_CONFIGURED"]


async def test_a_disabled_account_is_not_signed_in_by_wechat(
    api: Api, wechat_app: Starlette, alpha: TenantHandle, wechat
) -> None:  # type: ignore[no-untyped-def]
    stand_in, _ = wechat
    phone = await resident(api, alpha)
    ticket = (await sign_in(api, stand_in.code_for("leaver")))["bindingTicket"]
    await bind(api, ticket, phone, await api.phone_code("alpha", phone, "BIND_WECHAT"))
    async with open_session(wechat_app.state.services.sessions, alpha.id) as session, session.begin():
        await session.execute(update(User).where(User.phone == phone).values(is_active=False))
    assert [e["code"] for e in (await sign_in(api, stand_in.code_for("leaver")))["errors"]] == ["ACCOUNT_DISABLED"]


@pytest.mark.parametrize(
    ("wechat_settings", "problem"),
    [
        ({"app_id": "not-an-app-id"}, "settings.wechat.app_id"),
        ({"app_id": OWN_APP, "api_base": "http://api.example.com"}, "settings.wechat.api_base"),
        ({"app_id": OWN_APP, "secret": "in the manifest"}, "settings.wechat.secret"),
    ],
)
def test_a_manifest_names_a_mini_program_but_never_its_secret(wechat_settings: dict[str, str], problem: str) -> None:
    manifest = copy.deepcopy(OWN_OFFICE) | {"settings": {"wechat": wechat_settings}}
    with pytest.raises(ManifestError) as error:
        parse_manifest(manifest, "zijin.toml")
    assert [p.split(": ")[1] for p in error.value.problems] == [problem]


async def test_linking_to_someone_elses_phone_needs_the_code_sent_to_it(api: Api, wechat) -> None:  # type: ignore[no-untyped-def]
    stand_in, _ = wechat
    ticket = (await sign_in(api, stand_in.code_for("impostor")))["bindingTicket"]
    answer = await bind(api, ticket, WORKER_2, "000000")
    assert [e["code"] for e in answer["errors"]] == ["CODE_INVALID"]


async def test_an_address_sending_made_up_codes_is_stopped_before_wechat_is_asked(
    wechat_app: Starlette, wechat, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    stand_in, _ = wechat
    limit = wechat_app.state.services.settings.wechat_login_max_failures

    def from_address(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=wechat_app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    async with from_address("203.0.113.77") as guesser, from_address("203.0.113.78") as neighbour:
        guesses = [await sign_in(Api(guesser, clock), f"made-up-{n}") for n in range(limit)]
        assert {e["code"] for answer in guesses for e in answer["errors"]} == {"WECHAT_CODE_INVALID"}
        asked = len(stand_in.calls)
        stopped = await sign_in(Api(guesser, clock), stand_in.code_for("guesser"))
        assert [e["code"] for e in stopped["errors"]] == ["WECHAT_RATE_LIMITED"]
        assert len(stand_in.calls) == asked
        assert (await sign_in(Api(neighbour, clock), stand_in.code_for("neighbour")))["errors"] == []
        with clock.later(timedelta(minutes=wechat_app.state.services.settings.login_lock_minutes)):
            assert (await sign_in(Api(guesser, clock), stand_in.code_for("guesser")))["errors"] == []
