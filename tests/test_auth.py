"""Signing in: login, lock-out, refresh rotation with reuse detection, logout, tokens."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from models.people import Role
from tenants.tokens import InvalidToken, Viewer, issue_access_token, read_access_token
from tests.conftest import COMMUNITY_ADMIN, STAFF, WORKER_2
from tests.support import PASSWORD, Api, Clock, TenantHandle, fresh_phone

ME = "{ me { name phone roles { role community { code } department { name } } } }"
REFRESH = "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { tokens { accessToken refreshToken } errors { field code message } } }"
LOGOUT = "mutation($t: String!) { logout(input: {refreshToken: $t}) { ok errors { code } } }"


async def test_staff_sign_in_and_see_their_roles_and_scopes(api: Api) -> None:
    admin = await api.data(ME, token=await api.token("alpha", COMMUNITY_ADMIN))
    assert admin["me"] == {
        "name": "社区管理员甲",
        "phone": COMMUNITY_ADMIN,
        "roles": [{"role": "COMMUNITY_ADMIN", "community": {"code": "A1"}, "department": None}],
    }
    staff = await api.data(ME, token=await api.token("alpha", STAFF))
    assert staff["me"]["roles"] == [{"role": "STAFF", "community": None, "department": {"name": "司法所"}}]


async def test_access_tokens_are_short_lived_hs256_jwts(api: Api) -> None:
    result = await api.login("alpha", WORKER_2)
    header = jwt.get_unverified_header(result["tokens"]["accessToken"])
    claims = jwt.decode(result["tokens"]["accessToken"], options={"verify_signature": False})
    assert header["alg"] == "HS256"
    assert claims["exp"] - claims["iat"] == result["tokens"]["expiresIn"] == 15 * 60


async def test_wrong_password_and_unknown_phone_get_the_same_answer(api: Api) -> None:
    wrong = await api.login("alpha", WORKER_2, "not-the-password")
    unknown = await api.login("alpha", "13111111111", "not-the-password")
    assert (
        wrong
        == unknown
        == {"tokens": None, "errors": [{"field": None, "code": "INVALID_CREDENTIALS", "message": "手机号或密码错误。"}]}
    )


async def test_ten_aliased_logins_count_as_ten_attempts_and_lock_the_account(api: Api, alpha: TenantHandle) -> None:
    phone = fresh_phone()
    assert not (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], phone=phone))["errors"]
    attempts = " ".join(
        f'a{i}: login(input: {{phone: "{phone}", password: "wrong-password-{i}"}}) {{ errors {{ code }} }}'
        for i in range(10)
    )
    body = await api.data(f"mutation {{ {attempts} }}", tenant="alpha")
    codes = [body[f"a{i}"]["errors"][0]["code"] for i in range(10)]
    assert codes == ["INVALID_CREDENTIALS"] * 5 + ["ACCOUNT_LOCKED"] * 5
    # Locked means locked: the right password does not get in either, until the lock ends.
    assert (await api.login("alpha", phone))["errors"][0]["code"] == "ACCOUNT_LOCKED"


async def test_the_lock_lifts_after_its_time(api: Api, alpha: TenantHandle, clock: Clock) -> None:
    phone = fresh_phone()
    await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], phone=phone)
    for _ in range(5):
        await api.login("alpha", phone, "wrong-password")
    assert (await api.login("alpha", phone))["errors"][0]["code"] == "ACCOUNT_LOCKED"
    with clock.later(timedelta(minutes=16)):
        assert (await api.login("alpha", phone))["errors"] == []


async def test_refresh_rotates_and_reusing_a_spent_token_revokes_the_whole_chain(api: Api) -> None:
    first = (await api.login("alpha", WORKER_2))["tokens"]
    second = (await api.data(REFRESH, {"t": first["refreshToken"]}, tenant="alpha"))["refreshToken"]
    assert second["errors"] == [] and second["tokens"]["refreshToken"] != first["refreshToken"]
    third = (await api.data(REFRESH, {"t": second["tokens"]["refreshToken"]}, tenant="alpha"))["refreshToken"]
    assert third["errors"] == []
    # Someone replays the first token: it is refused, and so is the newest one of the chain.
    replay = (await api.data(REFRESH, {"t": first["refreshToken"]}, tenant="alpha"))["refreshToken"]
    assert replay["errors"][0]["code"] == "INVALID_REFRESH_TOKEN"
    newest = (await api.data(REFRESH, {"t": third["tokens"]["refreshToken"]}, tenant="alpha"))["refreshToken"]
    assert newest["errors"][0]["code"] == "INVALID_REFRESH_TOKEN"


@pytest.mark.parametrize("racers", [2, 6])
async def test_of_concurrent_refreshes_of_one_token_exactly_one_wins_and_the_reuse_revokes_its_child(
    api: Api, racers: int
) -> None:
    tokens = (await api.login("alpha", WORKER_2))["tokens"]
    answers = await asyncio.gather(
        *(api.data(REFRESH, {"t": tokens["refreshToken"]}, tenant="alpha") for _ in range(racers))
    )
    winners = [a["refreshToken"]["tokens"] for a in answers if not a["refreshToken"]["errors"]]
    assert len(winners) == 1
    child = (await api.data(REFRESH, {"t": winners[0]["refreshToken"]}, tenant="alpha"))["refreshToken"]
    assert child["errors"][0]["code"] == "INVALID_REFRESH_TOKEN"


async def test_replays_refreshes_and_a_sign_out_of_one_family_at_once_all_get_an_answer(api: Api) -> None:
    """Every path that touches a family's tokens at the same moment: refreshes of its newest token,
    replays of a spent older one, a sign-out. Each gets its answer (none the unexpected error of a
    deadlock), at most one refresh wins, and the family is dead afterwards."""
    first = (await api.login("alpha", WORKER_2))["tokens"]["refreshToken"]
    newest = (await api.data(REFRESH, {"t": first}, tenant="alpha"))["refreshToken"]["tokens"]["refreshToken"]
    racing = [
        *(api.post(REFRESH, {"t": newest}, tenant="alpha") for _ in range(4)),
        *(api.post(REFRESH, {"t": first}, tenant="alpha") for _ in range(4)),
        api.post(LOGOUT, {"t": first}, tenant="alpha"),
    ]
    answers = [response.json() for response in await asyncio.gather(*racing)]
    assert [answer.get("errors") for answer in answers] == [None] * len(racing), answers
    refreshed = [answer["data"]["refreshToken"] for answer in answers[:-1]]
    assert len([r for r in refreshed if not r["errors"]]) <= 1
    after = [(await api.data(REFRESH, {"t": t}, tenant="alpha"))["refreshToken"] for t in (first, newest)]
    assert [r["errors"][0]["code"] for r in after] == ["INVALID_REFRESH_TOKEN"] * 2


async def test_logout_revokes_the_refresh_token(api: Api) -> None:
    tokens = (await api.login("alpha", WORKER_2))["tokens"]
    assert (await api.data(LOGOUT, {"t": tokens["refreshToken"]}, tenant="alpha"))["logout"] == {
        "ok": True,
        "errors": [],
    }
    refused = (await api.data(REFRESH, {"t": tokens["refreshToken"]}, tenant="alpha"))["refreshToken"]
    assert refused["errors"][0]["code"] == "INVALID_REFRESH_TOKEN"


async def test_a_refresh_token_does_not_work_in_another_tenant(api: Api) -> None:
    tokens = (await api.login("alpha", WORKER_2))["tokens"]
    refused = (await api.data(REFRESH, {"t": tokens["refreshToken"]}, tenant="beta"))["refreshToken"]
    assert refused["errors"][0]["code"] == "INVALID_REFRESH_TOKEN"


SECRET = "a-secret-of-the-test-a-secret-of-the-test"
CLAIMS = {"sub": "01000000-0000-7000-8000-000000000000", "tid": "01000000-0000-7000-8000-000000000000", "typ": "access"}
SOON, LATELY = timedelta(minutes=5), timedelta(minutes=-1)
BAD_TOKENS: dict[str, Callable[[str, datetime], str]] = {
    "forged": lambda _, now: jwt.encode({**CLAIMS, "exp": now + SOON}, "another-secret-another-secret-123", "HS256"),
    "expired": lambda secret, now: jwt.encode({**CLAIMS, "exp": now + LATELY}, secret, algorithm="HS256"),
    "unsigned": lambda _, now: jwt.encode({**CLAIMS, "exp": now + SOON}, None, algorithm="none"),
    "not a JWT": lambda _, now: "not-a-jwt",
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
async def test_forged_or_expired_tokens_are_401(api: Api, settings, clock: Clock, kind: str) -> None:  # type: ignore[no-untyped-def]
    token = BAD_TOKENS[kind](settings.secret_key, clock.now())
    response = await api.post("{ me { name } }", token=token)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_anonymous_me_is_null(api: Api) -> None:
    assert await api.data("{ me { name } }", tenant="alpha") == {"me": None}


async def test_password_never_reaches_the_request_log(api: Api, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level("INFO", logger="wanjia.requests"):
        await api.login("alpha", WORKER_2, PASSWORD)
    lines = [r.msg for r in caplog.records if r.name == "wanjia.requests"]
    assert len(lines) == 1
    assert PASSWORD not in str(lines) and WORKER_2 not in str(lines)
    assert {"request_id", "tenant", "operation", "duration_ms", "sql_statements", "status"} <= set(lines[0])
    assert lines[0]["tenant"] == "alpha" and lines[0]["sql_statements"] > 0


ISSUED = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _read_once() -> str:
    """A token read once already, as each of a client's requests reads it."""
    viewer = Viewer(user_id=uuid.uuid4(), tenant_id=uuid.uuid4(), roles=frozenset({Role.RESIDENT}))
    token = issue_access_token(viewer, secret=SECRET, now=ISSUED, ttl=timedelta(minutes=15))
    assert read_access_token(token, secret=SECRET, now=ISSUED) == viewer
    return token


def test_a_token_read_before_is_refused_once_it_expires() -> None:
    with pytest.raises(InvalidToken):
        read_access_token(_read_once(), secret=SECRET, now=ISSUED + timedelta(minutes=15))


def test_a_token_read_before_is_refused_under_another_secret() -> None:
    with pytest.raises(InvalidToken):
        read_access_token(_read_once(), secret=SECRET[::-1], now=ISSUED)
