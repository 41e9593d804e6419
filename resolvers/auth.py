"""Signing in and out: login with lock-out, refresh-token rotation with reuse detection,
logout, and the self-service of passwords (change, and reset with a code sent to the phone).

Failed password checks are counted here, per call, so ten aliased `login` fields in one request
count as ten attempts.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import delete, select, update

from models.auth import RefreshToken
from models.database import when_committed
from models.errors import ErrorCode
from models.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from models.people import Role, RoleGrant, User, normalise_phone
from models.phone_codes import CodePurpose, PhoneCode
from models.throttles import Throttle
from resolvers import throttles
from resolvers.errors import DomainError, InputCheck, Issue, fail
from resolvers.permissions import ANYONE, allowed_to, session_of, viewer_of
from resolvers.phone_codes import prove_phone
from tenants.context import RequestContext
from tenants.tokens import Viewer, issue_access_token

INVALID_CREDENTIALS = "手机号或密码错误。"
INVALID_REFRESH = "登录状态已失效，请重新登录。"
ACCOUNT_DISABLED = "该账户已停用，请联系街道。"

Account = TypeVar("Account")


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def viewer_of_account(ctx: RequestContext, user_id: uuid.UUID) -> Viewer:
    assert ctx.tenant is not None
    session = session_of(ctx)
    # The account's version and its grants in one statement: a row per grant, one without any.
    rows = (
        await session.execute(
            select(User.session_version, RoleGrant.role, RoleGrant.community_id, RoleGrant.department_id)
            .outerjoin(RoleGrant, RoleGrant.user_id == User.id)
            .where(User.id == user_id)
        )
    ).all()
    grants = [row for row in rows if row.role is not None]
    return Viewer(
        user_id=user_id,
        tenant_id=ctx.tenant.id,
        roles=frozenset(Role(g.role) for g in grants),
        community_ids=frozenset(g.community_id for g in grants if g.community_id),
        department_ids=frozenset(g.department_id for g in grants if g.department_id),
        session_version=rows[0].session_version if rows else 0,
    )


async def issue_tokens(ctx: RequestContext, user_id: uuid.UUID, family_id: uuid.UUID | None = None) -> Tokens:
    now = ctx.clock()
    settings = ctx.settings
    refresh = secrets.token_urlsafe(32)
    session_of(ctx).add(
        RefreshToken(
            user_id=user_id,
            family_id=family_id or uuid.uuid4(),
            token_hash=_digest(refresh),
            issued_at=now,
            expires_at=now + timedelta(days=settings.refresh_token_days),
        )
    )
    await session_of(ctx).flush()
    access = issue_access_token(
        await viewer_of_account(ctx, user_id),
        secret=settings.secret_key or "",
        now=now,
        ttl=timedelta(seconds=settings.access_token_seconds),
    )
    return Tokens(access_token=access, refresh_token=refresh, expires_in=settings.access_token_seconds)


async def end_sessions(ctx: RequestContext, user_id: uuid.UUID) -> None:
    """Every access token the user holds stops working: the next request of each is refused.
    This process forgets the cached version once the change is committed (not before, or a
    request in between could cache the old one again)."""
    session = session_of(ctx)
    assert ctx.tenant is not None
    tenant_id = ctx.tenant.id
    await session.execute(update(User).where(User.id == user_id).values(session_version=User.session_version + 1))
    versions = ctx.identity.session_versions
    when_committed(session.sync_session, lambda: versions.forget(tenant_id, user_id))


@allowed_to(ANYONE)
async def login(ctx: RequestContext, phone: str, password: str, *, client: str) -> Tokens:
    user = await _password_check(ctx, normalise_phone(phone) or phone.strip()[:32], password, client)
    if user is None:
        raise DomainError(Issue(ErrorCode.INVALID_CREDENTIALS, INVALID_CREDENTIALS), keep_changes=True)
    return await issue_tokens(ctx, user.id)


async def _password_check(ctx: RequestContext, phone: str, password: str, client: str) -> User | None:
    """The active user whose phone and password these are, or None (the failure counted).

    Phones with and without an account take exactly the same steps, statements and password
    work (a decoy hash), so neither the answer nor its timing tells them apart."""

    async def user_of_this_password() -> User | None:
        user = await session_of(ctx).scalar(select(User).where(User.phone == phone))
        password_ok = await ctx.passwords.verify(user.password_hash if user else None, password, lane=ctx.tenant_id)
        return user if user is not None and password_ok and user.is_active else None

    return await throttled_check(ctx, phone, client, user_of_this_password)


async def throttled_check(
    ctx: RequestContext, phone: str, client: str, check: Callable[[], Awaitable[Account | None]]
) -> Account | None:
    """What `check` finds for this phone's password, or None (the failure counted).

    Two throttles: per phone and client address, a few checks and then a lock, so that one
    stranger cannot guess on, nor lock the resident out of their own phone; per phone across all
    addresses, a longer count that slows every check down and, far above what one stranger can
    reach, locks the phone for everyone for a while (a reset by SMS code still works, and for a
    platform admin `wanjia platform create-admin` again). Counts
    are taken before the check, so a burst of concurrent attempts gets no more checks than the
    limit. The counts are the street office's, or the platform's in a unit of work of no street
    office (platform admins).
    """
    settings = ctx.settings
    per_client = throttles.key_of(ctx, "login", phone, client)
    per_phone = throttles.key_of(ctx, "login-phone", phone)

    everywhere = await throttles.current(ctx, per_phone)
    if everywhere.over(settings.login_account_max_failures):
        raise _locked(ctx, everywhere)
    await asyncio.sleep(settings.login_failure_delay_seconds * min(everywhere.hits, 10))
    from_here = await throttles.hit(ctx, per_client, timedelta(minutes=settings.login_lock_minutes))
    if from_here.over(settings.login_max_failures):
        raise _locked(ctx, from_here)

    found = await check()
    if found is None:
        await throttles.hit(ctx, per_phone, timedelta(minutes=settings.login_account_window_minutes))
        return None
    await throttles.forget(ctx, per_client)
    return found


def _locked(ctx: RequestContext, count: throttles.Count) -> DomainError:
    minutes = max(1, int((count.window_ends_at - ctx.clock()).total_seconds() // 60) + 1)
    return DomainError(
        Issue(ErrorCode.ACCOUNT_LOCKED, f"登录失败次数过多，账户已暂时锁定，请 {minutes} 分钟后再试。"),
        keep_changes=True,
    )


def check_new_password(check: InputCheck, password: str, field: str) -> None:
    check.require(len(password) >= MIN_PASSWORD_LENGTH, field, f"密码至少 {MIN_PASSWORD_LENGTH} 位。")
    check.require(len(password) <= MAX_PASSWORD_LENGTH, field, f"密码不能超过 {MAX_PASSWORD_LENGTH} 位。")


@allowed_to(ANYONE)
async def change_password(ctx: RequestContext, current_password: str, new_password: str, *, client: str) -> Tokens:
    """The signed-in user changes their password, proving the current one (throttled like a
    login). Every other session ends; this device gets fresh tokens."""
    viewer = viewer_of(ctx)
    check = InputCheck()
    check_new_password(check, new_password, "newPassword")
    check.done()
    phone = await session_of(ctx).scalar(select(User.phone).where(User.id == viewer.user_id))
    user = await _password_check(ctx, phone or "", current_password, client)
    if user is None:
        raise DomainError(Issue(ErrorCode.WRONG_PASSWORD, "当前密码不正确。", "currentPassword"), keep_changes=True)
    return await _new_password(ctx, user, new_password)


@allowed_to(ANYONE)
async def reset_password(ctx: RequestContext, phone: str, phone_code: str, new_password: str, *, client: str) -> Tokens:
    """A forgotten password, replaced after proving the phone with a code sent to it: every
    session ends, the lock-out of this phone is lifted, and the caller is signed in."""
    check = InputCheck()
    number = normalise_phone(phone)
    check.require(number is not None, "phone", "请输入有效的中国大陆手机号码。", ErrorCode.INVALID_PHONE)
    check_new_password(check, new_password, "newPassword")
    check.done()
    assert number is not None
    await prove_phone(ctx, number, CodePurpose.RESET_PASSWORD, phone_code)
    user = await session_of(ctx).scalar(select(User).where(User.phone == number))
    if user is None:
        # The caller proved the phone is theirs: telling them it has no account reveals nothing.
        raise fail(ErrorCode.NO_ACCOUNT, "该手机号尚未注册。", "phone")
    if not user.is_active:
        raise fail(ErrorCode.ACCOUNT_DISABLED, ACCOUNT_DISABLED)
    await lift_lock(ctx, number, client)
    return await _new_password(ctx, user, new_password)


async def lift_lock(ctx: RequestContext, phone: str, client: str | None = None) -> None:
    """Forgets the failed sign-ins of this phone (everywhere, and from `client` if named)."""
    keys = [throttles.key_of(ctx, "login-phone", phone)]
    if client is not None:
        keys.append(throttles.key_of(ctx, "login", phone, client))
    await throttles.forget(ctx, *keys)


async def _new_password(ctx: RequestContext, user: User, password: str) -> Tokens:
    user.password_hash = await ctx.passwords.hash(password, lane=ctx.tenant_id)
    await session_of(ctx).execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=ctx.clock())
    )
    await end_sessions(ctx, user.id)
    return await issue_tokens(ctx, user.id)


async def _revoke_family(ctx: RequestContext, family_id: uuid.UUID) -> None:
    await session_of(ctx).execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=ctx.clock())
    )


async def _lock_account(ctx: RequestContext, user_id: uuid.UUID) -> None:
    """Every change to an account's refresh tokens takes the account's row first, so all of them
    lock in one order: account, then tokens. Without it, replays of a stolen token, the refresh
    that won, a sign-out and a new password each locked the family's rows in their own order
    (an UPDATE that waited keeps its row even when it then matches nothing) and deadlocked."""
    await session_of(ctx).execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))


async def _stolen(ctx: RequestContext, family_id: uuid.UUID, user_id: uuid.UUID) -> DomainError:
    """A spent token came back: it was copied. The whole family goes, thief's and owner's alike,
    and so do the access tokens already handed out."""
    await _revoke_family(ctx, family_id)
    await end_sessions(ctx, user_id)
    return DomainError(Issue(ErrorCode.INVALID_REFRESH_TOKEN, INVALID_REFRESH, "refreshToken"), keep_changes=True)


@allowed_to(ANYONE)
async def refresh(ctx: RequestContext, refresh_token: str) -> Tokens:
    """Rotates the refresh token. Spending it is one conditional UPDATE, after the account's row
    is locked, so of two concurrent refreshes exactly one wins (the other waits for the lock and
    then finds the token spent); the loser counts as reuse. A family with any revoked token is
    dead, which also catches a child issued at the very moment its family was being revoked."""
    session = session_of(ctx)
    now = ctx.clock()
    digest = _digest(refresh_token)
    owner = await session.scalar(select(RefreshToken.user_id).where(RefreshToken.token_hash == digest))
    if owner is None:
        raise fail(ErrorCode.INVALID_REFRESH_TOKEN, INVALID_REFRESH, "refreshToken")
    await _lock_account(ctx, owner)
    spent = (
        await session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.token_hash == digest,
                RefreshToken.used_at.is_(None),
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .values(used_at=now)
            .returning(RefreshToken.user_id, RefreshToken.family_id)
        )
    ).one_or_none()
    if spent is None:
        stored = (
            await session.execute(
                select(RefreshToken.user_id, RefreshToken.family_id, RefreshToken.used_at).where(
                    RefreshToken.token_hash == digest
                )
            )
        ).one_or_none()
        if stored is not None and stored.used_at is not None:
            raise await _stolen(ctx, stored.family_id, stored.user_id)
        raise fail(ErrorCode.INVALID_REFRESH_TOKEN, INVALID_REFRESH, "refreshToken")
    family_revoked = await session.scalar(
        select(RefreshToken.id)
        .where(RefreshToken.family_id == spent.family_id, RefreshToken.revoked_at.is_not(None))
        .limit(1)
    )
    if family_revoked is not None:
        raise await _stolen(ctx, spent.family_id, spent.user_id)
    active = await session.scalar(select(User.is_active).where(User.id == spent.user_id))
    if not active:
        raise fail(ErrorCode.INVALID_REFRESH_TOKEN, INVALID_REFRESH, "refreshToken")
    return await issue_tokens(ctx, spent.user_id, spent.family_id)


@allowed_to(ANYONE)
async def logout(ctx: RequestContext, refresh_token: str) -> None:
    """Revokes the token's family and ends the user's access tokens (on every device: the others
    get new ones with their own refresh tokens). An unknown token succeeds too: nothing to
    reveal."""
    stored = (
        await session_of(ctx).execute(
            select(RefreshToken.family_id, RefreshToken.user_id).where(
                RefreshToken.token_hash == _digest(refresh_token)
            )
        )
    ).one_or_none()
    if stored is not None:
        await _lock_account(ctx, stored.user_id)
        await _revoke_family(ctx, stored.family_id)
        await end_sessions(ctx, stored.user_id)


async def sweep(ctx: RequestContext) -> int:
    """Forgets throttles whose window is over and codes past their time: both are dead weight
    (a new attempt starts a new window; an expired code proves nothing). Returns rows removed."""
    session = session_of(ctx)
    now = ctx.clock()
    throttled = await session.execute(delete(Throttle).where(Throttle.window_ends_at <= now))
    codes = await session.execute(delete(PhoneCode).where(PhoneCode.expires_at <= now))
    return int(throttled.rowcount + codes.rowcount)  # type: ignore[attr-defined]
