"""Password hashing is slow on purpose, so it runs in a bounded pool of threads: the event loop
keeps serving other requests meanwhile, and one street office's login storm takes only its share
of the pool.

A gate replaces the hash check: it holds every storm password until the test opens it, and
notes if it had to give up waiting (which happens only when the check ran on the event loop
itself, stalling the very request that would open it)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher

from models.passwords import Passwords
from tests.conftest import WORKER_2
from tests.support import PASSWORD, Api

STORM = "storm-wrong-password"


class Gate:
    def __init__(self) -> None:
        self.open = threading.Event()
        self.entered = threading.Event()
        self.gave_up = False
        self.threads: set[int] = set()

    def hold(self) -> None:
        self.threads.add(threading.get_ident())
        self.entered.set()
        if not self.open.wait(timeout=10):
            self.gave_up = True


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    gate = Gate()
    verify = PasswordHasher.verify

    def gated(self: PasswordHasher, hash: str, password: str | bytes) -> bool:
        if password == STORM:
            gate.hold()
        return verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", gated)
    yield gate
    gate.open.set()


async def test_another_street_office_is_served_while_a_login_is_being_checked(api: Api, gate: Gate) -> None:
    storm = asyncio.create_task(api.login("alpha", WORKER_2, STORM))
    assert await asyncio.to_thread(gate.entered.wait, 10)
    other = await api.data("{ tenant { name } }", tenant="beta")
    assert other == {"tenant": {"name": "贝塔街道"}}
    assert not storm.done()
    gate.open.set()
    assert (await storm)["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert not gate.gave_up
    assert threading.get_ident() not in gate.threads


async def test_a_login_storm_in_one_street_office_leaves_pool_room_for_the_others(gate: Gate) -> None:
    passwords = Passwords(time_cost=1, memory_kib=64, threads=2)
    stored = await passwords.hash(PASSWORD)
    storm = [asyncio.create_task(passwords.verify(stored, STORM, lane="alpha")) for _ in range(8)]
    await asyncio.sleep(0)  # one turn of the loop: every storm check has asked for a thread
    assert await asyncio.to_thread(gate.entered.wait, 10)
    assert await passwords.verify(stored, PASSWORD, lane="beta")
    assert not any(check.done() for check in storm)
    gate.open.set()
    assert not any(await asyncio.gather(*storm))
    assert not gate.gave_up
    passwords.close()
