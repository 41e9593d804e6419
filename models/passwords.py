"""Password hashing with argon2id. Cost is a parameter so tests and demo data can be quick
while production keeps the library's recommended profile.

A check costs tens of milliseconds of CPU and as much memory as configured, so it never runs on
the event loop: it runs in a small pool of threads (argon2 releases the GIL), and each lane (a
street office) may hold only part of that pool, so one office's login storm queues behind
itself while the others' checks still find a free thread.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

if TYPE_CHECKING:
    from models.settings import Settings

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128

T = TypeVar("T")


class Passwords:
    def __init__(self, *, time_cost: int = 3, memory_kib: int = 64 * 1024, threads: int = 2) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="argon2")
        self._lane_share = max(1, threads - 1)
        self._lanes: weakref.WeakValueDictionary[Hashable, asyncio.Semaphore] = weakref.WeakValueDictionary()
        # Verified against when the phone is unknown, so that "no such account" costs as much
        # time as "wrong password" and the two cannot be told apart.
        self._decoy_hash = self._hasher.hash("wanjia-decoy-password")

    @classmethod
    def from_settings(cls, settings: Settings) -> Passwords:
        return cls(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            threads=settings.password_hash_threads,
        )

    async def hash(self, password: str, *, lane: Hashable = None) -> str:
        return await self._in_pool(lane, self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str, *, lane: Hashable = None) -> bool:
        """False for a wrong password, and for no account at all (`password_hash` None) after the
        same work."""
        return await self._in_pool(lane, self._verify, password_hash, password)

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._decoy_hash, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    async def _in_pool(self, lane: Hashable, work: Callable[..., T], *args: object) -> T:
        share = self._lanes.get(lane)
        if share is None:
            share = self._lanes[lane] = asyncio.Semaphore(self._lane_share)
        async with share:
            return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
