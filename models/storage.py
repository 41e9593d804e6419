"""Where uploaded files live: one small interface, a local-directory backend (the embedded
default), and short-lived signed URLs for downloads.

A signed URL names the key and an expiry and carries an HMAC of both, so only callers the
API handed one to can fetch the file, and only for a few minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode


class Storage(Protocol):
    def save(self, key: str, data: bytes) -> None: ...

    def delete(self, key: str) -> None: ...

    def path_of(self, key: str) -> Path | None: ...


class LocalDirectoryStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError("storage key escapes the storage root")
        return path

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + ".partial")
        partial.write_bytes(data)
        os.replace(partial, path)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def path_of(self, key: str) -> Path | None:
        try:
            path = self._path(key)
        except ValueError:
            return None
        return path if path.is_file() else None


def _signature(key: str, expires: int, secret: str) -> str:
    return hmac.new(secret.encode(), f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()


def signed_url(key: str, *, secret: str, seconds: int, now: float | None = None) -> str:
    expires = int((now if now is not None else time.time()) + seconds)
    return f"/files/{key}?{urlencode({'expires': expires, 'signature': _signature(key, expires, secret)})}"


def signature_valid(key: str, expires: str, signature: str, *, secret: str, now: float | None = None) -> bool:
    if not expires.isdigit() or int(expires) < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(_signature(key, int(expires), secret), signature)
