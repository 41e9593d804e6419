"""Keyed hashes (HMAC-SHA256 with the app's secret) for values kept only to be found again:
codes, phones and client addresses in throttles. A plain hash of a phone or a six-digit code is
reversed by trying them all; without the secret, a copy of the table reveals nothing."""

from __future__ import annotations

import hashlib
import hmac


def keyed_digest(secret: str, *parts: str) -> str:
    return hmac.new(secret.encode(), "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()
