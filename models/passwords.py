"""Password hashing with argon2id. Cost is a parameter so tests and demo data can be quick
while production keeps the library's recommended profile."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8


class Passwords:
    def __init__(self, *, time_cost: int = 3, memory_kib: int = 64 * 1024) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        # Verified against when the phone is unknown, so that "no such account" costs as much
        # time as "wrong password" and the two cannot be told apart.
        self._decoy_hash = self._hasher.hash("wanjia-decoy-password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._decoy_hash, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False
