"""Access tokens: short-lived JWTs (HS256 only; the algorithm is never taken from the token)
carrying the user, the tenant, the user's roles with their scopes, and the user's session
version, which every request compares with the database's (tenants.session_versions)."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import jwt

from models.people import Role

ALGORITHM = "HS256"


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class Viewer:
    """Who is calling: the verified claims of their access token."""

    user_id: uuid.UUID
    tenant_id: uuid.UUID
    roles: frozenset[Role]
    community_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    department_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    session_version: int = 0

    def has_any(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)

    def administers(self, community_id: uuid.UUID | None) -> bool:
        """An admin over this community: its community admin, or the tenant admin."""
        return Role.TENANT_ADMIN in self.roles or (
            Role.COMMUNITY_ADMIN in self.roles and community_id in self.community_ids
        )


def issue_access_token(viewer: Viewer, *, secret: str, now: datetime, ttl: timedelta) -> str:
    claims = {
        "sub": str(viewer.user_id),
        "tid": str(viewer.tenant_id),
        "roles": sorted(viewer.roles),
        "communities": sorted(str(c) for c in viewer.community_ids),
        "departments": sorted(str(d) for d in viewer.department_ids),
        "sv": viewer.session_version,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "typ": "access",
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_access_token(token: str, *, secret: str, now: datetime) -> Viewer:
    """Expiry is checked against the app's own clock (injectable), not the library's, on every
    call; the signature and the claims are verified once per token (`_verified`)."""
    viewer, expires = _verified(token, secret)
    if expires <= now.timestamp():
        raise InvalidToken("expired")
    return viewer


@functools.lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> tuple[Viewer, int]:
    """The viewer a token names and when it expires, once its signature and claims hold. A
    client sends the same token with every request until it expires, and verifying it again
    cost each of them 0.1 ms. What is refused is not kept."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "tid", "exp", "typ", "sv"], "verify_exp": False, "verify_iat": False},
        )
        if claims["typ"] != "access":
            raise InvalidToken("not an access token")
        if not isinstance(claims["exp"], int):
            raise InvalidToken("no expiry")
        if not isinstance(claims["sv"], int):
            raise InvalidToken("no session version")
        viewer = Viewer(
            user_id=uuid.UUID(claims["sub"]),
            tenant_id=uuid.UUID(claims["tid"]),
            roles=frozenset(Role(r) for r in claims.get("roles", [])),
            community_ids=frozenset(uuid.UUID(c) for c in claims.get("communities", [])),
            department_ids=frozenset(uuid.UUID(d) for d in claims.get("departments", [])),
            session_version=claims["sv"],
        )
    except (jwt.PyJWTError, ValueError, KeyError) as error:
        raise InvalidToken(str(error)) from error
    return viewer, claims["exp"]


@dataclass(frozen=True)
class WechatBinding:
    """A WeChat user not yet linked to an account, as WeChat told us: what `bindPhone` (or a
    registration) links once the phone is proved. Handed to the client signed, for a few
    minutes, in place of anything stored."""

    tenant_id: uuid.UUID
    app_id: str
    openid: str
    unionid: str | None


def issue_binding_ticket(binding: WechatBinding, *, secret: str, now: datetime, ttl: timedelta) -> str:
    claims = {
        "tid": str(binding.tenant_id),
        "app": binding.app_id,
        "oid": binding.openid,
        "uid": binding.unionid,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "typ": "wechat-binding",
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_binding_ticket(token: str, *, secret: str, now: datetime) -> WechatBinding:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["tid", "app", "oid", "exp", "typ"], "verify_exp": False, "verify_iat": False},
        )
        if claims["typ"] != "wechat-binding":
            raise InvalidToken("not a binding ticket")
        if not isinstance(claims["exp"], int) or claims["exp"] <= now.timestamp():
            raise InvalidToken("expired")
        return WechatBinding(
            tenant_id=uuid.UUID(claims["tid"]),
            app_id=str(claims["app"]),
            openid=str(claims["oid"]),
            unionid=claims.get("uid") if isinstance(claims.get("uid"), str) else None,
        )
    except (jwt.PyJWTError, ValueError, KeyError) as error:
        raise InvalidToken(str(error)) from error
