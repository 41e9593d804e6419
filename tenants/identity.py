"""What signing people in needs besides the database, built once per app and handed to every
request context."""

from __future__ import annotations

from dataclasses import dataclass

from tenants.session_versions import SessionVersions


@dataclass(frozen=True)
class Identity:
    session_versions: SessionVersions
