"""Where uploaded files live: one small interface, a local-directory backend (the embedded
default), and signed URLs for downloads.

A signed URL names the key and an expiry and carries an HMAC of both, so only callers the
API handed one to can fetch the file, and only for a while. The expiry is rounded up to a
window, so the same file has the same URL for a whole window: a client's image cache keeps
working across requests, and the link still dies.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode

PARTIAL = ".partial"


@dataclass(frozen=True)
class StoredObject:
    key: str
    modified_at: datetime


class Storage(Protocol):
    def save(self, key: str, data: bytes | bytearray) -> None: ...

    def writing(self, key: str) -> contextlib.AbstractContextManager[Path]: ...

    def delete(self, key: str) -> None: ...

    def path_of(self, key: str) -> Path | None: ...

    def prefixes(self) -> list[str]: ...

    def objects(self, prefix: str) -> Iterator[StoredObject]: ...

    def writable(self) -> bool: ...


class LocalDirectoryStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError("storage key escapes the storage root")
        return path

    def save(self, key: str, data: bytes | bytearray) -> None:
        with self.writing(key) as partial:
            partial.write_bytes(data)

    @contextlib.contextmanager
    def writing(self, key: str) -> Iterator[Path]:
        """A path to write the file at `key` to, bit by bit (a long export), under a temporary
        name renamed when the block ends, so a reader never sees half a file; a write that fails
        (a full disk) takes its partial file with it."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(path.suffix + PARTIAL)
        try:
            yield partial
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def path_of(self, key: str) -> Path | None:
        try:
            path = self._path(key)
        except ValueError:
            return None
        return path if path.is_file() else None

    def objects(self, prefix: str) -> Iterator[StoredObject]:
        """Every file under `prefix` (a partial one left by a crash included), with when it was
        last written."""
        folder = self._path(prefix)
        for path in folder.rglob("*") if folder.is_dir() else ():
            if path.is_file():
                modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                yield StoredObject(path.relative_to(self.root).as_posix(), modified)

    def prefixes(self) -> list[str]:
        """The top-level folders: one per tenant."""
        return sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []

    def writable(self) -> bool:
        """Whether a file can be written now: a full disk or a read-only mount says no."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".writable-") as probe:
                probe.write(b"0")
                probe.flush()
        except OSError:
            return False
        return True


def _signature(key: str, expires: int, secret: str) -> str:
    return hmac.new(secret.encode(), f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()


def signed_path(key: str, *, secret: str, window_seconds: int, now: datetime) -> tuple[str, int]:
    """The download path for `key`, the same for every request within one window and valid for
    one to two windows; and its expiry (Unix time)."""
    expires = (int(now.timestamp()) // window_seconds + 2) * window_seconds
    return f"/files/{key}?{urlencode({'expires': expires, 'signature': _signature(key, expires, secret)})}", expires


def signature_valid(key: str, expires: str, signature: str, *, secret: str, now: datetime) -> bool:
    if not expires.isdigit() or int(expires) < now.timestamp():
        return False
    return hmac.compare_digest(_signature(key, int(expires), secret), signature)
