"""Short signed tokens for QR codes: a payload of a few bytes and an HMAC of it.

A QR code is scanned more reliably the fewer characters it holds, so these are binary payloads
(ids as their 16 bytes, times as seconds) in URL-safe base64 with a 128-bit tag, about a third
of a JWT's length. Each kind of token signs with a key of its own, derived from the server's
secret and the kind's name, so a token of one kind is never taken for another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

TAG_BYTES = 16


def _key(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), f"wanjia-seal:{purpose}".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def seal(payload: bytes, *, secret: str, purpose: str) -> str:
    tag = hmac.new(_key(secret, purpose), payload, hashlib.sha256).digest()[:TAG_BYTES]
    return _b64(payload + tag)


def unseal(token: str, *, secret: str, purpose: str) -> bytes | None:
    """The payload, or None for anything not sealed by us for this purpose."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) <= TAG_BYTES:
        return None
    payload, tag = raw[:-TAG_BYTES], raw[-TAG_BYTES:]
    expected = hmac.new(_key(secret, purpose), payload, hashlib.sha256).digest()[:TAG_BYTES]
    return payload if hmac.compare_digest(tag, expected) else None
