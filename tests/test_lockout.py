"""Lock-out after failed logins: counted atomically in the database, per account and client
address, with a slower account-wide back-off; the same for phones with and without an account."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from starlette.applications import Starlette

from models.throttles import Throttle
from server.jobs import sweep_tenant
from tenants.sessions import open_session
from tests.support import Api, Clock, TenantHandle, code_of, fresh_phone

_addresses = itertools.count(1)


def fresh_address() -> str:
    """A client address (TEST-NET-3) no other test has used in this run."""
    n = next(_addresses)
    return f"203.0.{113 + n // 250}.{n % 250 + 1}"


@pytest.fixture
def client_at(app: Starlette, clock: Clock):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def connect(address: str) -> AsyncIterator[Api]:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client, clock)

    return connect


class CheckCounter:
    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.count += 1


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[CheckCounter]:
    counter = CheckCounter()
    verify = PasswordHasher.verify

    def counted(self: PasswordHasher, hash: str, password: str | bytes) -> bool:
        counter.add()
        return verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    return counter


async def resident(api: Api, alpha: TenantHandle) -> str:
    phone = fresh_phone()
    assert (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], phone=phone))["errors"] == []
    return phone


async def codes(api: Api, phone: str, passwords: list[str]) -> list[str]:
    results = await asyncio.gather(*(api.login("alpha", phone, p) for p in passwords))
    return [r["errors"][0]["code"] if r["errors"] else "OK" for r in results]


async def test_thirty_concurrent_wrong_passwords_lock_the_account_after_five_checks(
    api: Api, alpha: TenantHandle, client_at, password_checks: CheckCounter
) -> None:
    phone = await resident(api, alpha)
    async with client_at(fresh_address()) as attacker:
        password_checks.count = 0
        answers = await codes(attacker, phone, [f"wrong-password-{i}" for i in range(30)])
        assert sorted(set(answers)) == ["ACCOUNT_LOCKED", "INVALID_CREDENTIALS"]
        assert answers.count("INVALID_CREDENTIALS") == 5
        assert password_checks.count == 5
        assert (await attacker.login("alpha", phone))["errors"][0]["code"] == "ACCOUNT_LOCKED"


async def test_three_bursts_of_ten_leave_the_account_locked(api: Api, alpha: TenantHandle, client_at) -> None:
    phone = await resident(api, alpha)
    async with client_at(fresh_address()) as attacker:
        for burst in range(3):
            await codes(attacker, phone, [f"wrong-{burst}-{i}" for i in range(10)])
        assert (await attacker.login("alpha", phone))["errors"][0]["code"] == "ACCOUNT_LOCKED"


async def test_a_stranger_cannot_lock_a_resident_out_of_their_own_phone(
    api: Api, alpha: TenantHandle, client_at, clock: Clock
) -> None:
    phone = await resident(api, alpha)
    async with client_at(fresh_address()) as stranger, client_at(fresh_address()) as own_phone:
        answered = {}
        for window in range(3):
            with clock.later(timedelta(minutes=16 * window)):
                for _ in range(8):
                    await stranger.login("alpha", phone, "guessing")
                answered[window] = (
                    code_of(await stranger.login("alpha", phone)),
                    (await own_phone.login("alpha", phone))["errors"],
                )
    assert answered == dict.fromkeys(range(3), ("ACCOUNT_LOCKED", []))


async def test_failures_from_many_addresses_back_the_whole_account_off_for_a_while(
    api: Api, alpha: TenantHandle, client_at, clock: Clock, settings
) -> None:  # type: ignore[no-untyped-def]
    phone = await resident(api, alpha)
    per_address = settings.login_max_failures
    for _ in range(settings.login_account_max_failures // per_address + 1):
        async with client_at(fresh_address()) as attacker:
            for _ in range(per_address):
                await attacker.login("alpha", phone, "guessing")
    async with client_at(fresh_address()) as newcomer:
        assert (await newcomer.login("alpha", phone))["errors"][0]["code"] == "ACCOUNT_LOCKED"
        with clock.later(timedelta(minutes=settings.login_account_window_minutes + 1)):
            assert (await newcomer.login("alpha", phone))["errors"] == []


async def test_phones_with_and_without_an_account_fail_alike(
    api: Api, alpha: TenantHandle, client_at, password_checks: CheckCounter, caplog: pytest.LogCaptureFixture
) -> None:
    known = await resident(api, alpha)
    unknown = fresh_phone()

    async def story(phone: str) -> list[tuple[object, ...]]:
        steps = []
        async with client_at(fresh_address()) as caller:
            for attempt in range(8):
                caplog.clear()
                password_checks.count = 0
                with caplog.at_level("INFO", logger="wanjia.requests"):
                    answer = await caller.login("alpha", phone, f"wrong-{attempt}")
                [line] = [r.msg for r in caplog.records if r.name == "wanjia.requests"]
                steps.append((answer, password_checks.count, line["sql_statements"]))
        return steps

    assert await story(known) == await story(unknown)


async def test_the_sweep_forgets_what_no_longer_counts(
    api: Api, app: Starlette, alpha: TenantHandle, client_at, clock: Clock
) -> None:  # type: ignore[no-untyped-def]
    services = app.state.services
    tenant = await services.directory.by_id(alpha.id)

    async def kept() -> int:
        async with open_session(services.sessions, alpha.id) as session:
            return await session.scalar(select(func.count()).select_from(Throttle))

    async with client_at(fresh_address()) as caller:
        await caller.login("alpha", fresh_phone(), "wrong")
    await sweep_tenant(services, tenant)
    before = await kept()
    with clock.later(timedelta(minutes=61)):
        report = await sweep_tenant(services, tenant)
    assert report.identity_rows_expired >= 2 and await kept() <= before - 2
