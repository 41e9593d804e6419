"""Proving a phone with a code sent to it by SMS: requesting one, limited per phone and per client
address, answered the same whether or not the phone has an account (no account is looked up),
and spending it, with a few attempts per code."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, update

from models.base import new_id
from models.errors import ErrorCode
from models.people import ascii_digits, normalise_phone
from models.phone_codes import CodePurpose, PhoneCode, code_digest, code_subject, new_code
from models.sms import CodeText, SmsUnavailable
from resolvers import throttles
from resolvers.errors import DomainError, Issue, fail
from resolvers.permissions import ANYONE, allowed_to, session_of
from resolvers.upserts import upsert
from tenants.context import RequestContext

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class CodeSent:
    retry_after_seconds: int


def phone_of(raw: str, field: str = "phone") -> str:
    phone = normalise_phone(raw)
    if phone is None:
        raise fail(ErrorCode.INVALID_PHONE, "请输入有效的中国大陆手机号码。", field)
    return phone


@allowed_to(ANYONE)
async def request_phone_code(ctx: RequestContext, phone: str, purpose: CodePurpose, *, client: str) -> CodeSent:
    settings = ctx.settings
    secret = settings.secret_key or ""
    number = phone_of(phone)
    resend = await throttles.hit(
        ctx,
        throttles.key_of(ctx, "code-resend", number, purpose),
        timedelta(seconds=settings.phone_code_resend_seconds),
    )
    if resend.over(1):
        seconds = max(1, int((resend.window_ends_at - ctx.clock()).total_seconds()) + 1)
        raise fail(ErrorCode.CODE_TOO_SOON, f"验证码已发送，请 {seconds} 秒后再获取。")
    for count, limit in (
        (
            await throttles.hit(ctx, throttles.key_of(ctx, "code-phone", number), HOUR),
            settings.phone_code_max_per_phone,
        ),
        (
            await throttles.hit(ctx, throttles.key_of(ctx, "code-client", client), HOUR),
            settings.phone_code_max_per_client,
        ),
    ):
        if count.over(limit):
            minutes = max(1, int((count.window_ends_at - ctx.clock()).total_seconds() // 60) + 1)
            raise fail(ErrorCode.TOO_MANY_CODES, f"获取验证码过于频繁，请 {minutes} 分钟后再试。")

    assert ctx.tenant is not None
    code = new_code()
    subject = code_subject(secret, number, purpose)
    session = session_of(ctx)
    fresh = {"code_hash": code_digest(secret, subject, code), "expires_at": ctx.clock() + _lifetime(ctx), "attempts": 0}
    await session.execute(
        (await upsert(session, PhoneCode))
        .values(tenant_id=ctx.tenant.id, id=new_id(), subject=subject, **fresh)
        .on_conflict_do_update(index_elements=[PhoneCode.tenant_id, PhoneCode.subject], set_=fresh)
    )
    text = CodeText(number, code, purpose, settings.phone_code_minutes, signature=ctx.tenant.name)
    try:
        await ctx.identity.phone_codes.send(text)
    except SmsUnavailable as error:
        raise fail(ErrorCode.SMS_UNAVAILABLE, "短信发送失败，请稍后再试。") from error
    return CodeSent(retry_after_seconds=settings.phone_code_resend_seconds)


def _lifetime(ctx: RequestContext) -> timedelta:
    return timedelta(minutes=ctx.settings.phone_code_minutes)


async def prove_phone(ctx: RequestContext, phone: str, purpose: CodePurpose, code: str) -> None:
    """Spends the phone's code for this purpose, or fails with CODE_INVALID. Every attempt is
    counted in one conditional UPDATE, so concurrent guesses get no more tries than allowed; a
    wrong guess is kept even though the mutation fails. A later failure of the same mutation
    rolls the spending back, so the code still works for the corrected form."""
    secret = ctx.settings.secret_key or ""
    subject = code_subject(secret, phone, purpose)
    session = session_of(ctx)
    stored = await session.scalar(
        update(PhoneCode)
        .where(
            PhoneCode.subject == subject,
            PhoneCode.expires_at > ctx.clock(),
            PhoneCode.attempts < ctx.settings.phone_code_max_attempts,
        )
        .values(attempts=PhoneCode.attempts + 1)
        .returning(PhoneCode.code_hash)
    )
    given = code_digest(secret, subject, ascii_digits(code).strip())
    if stored is None or not hmac.compare_digest(stored, given):
        raise DomainError(
            Issue(ErrorCode.CODE_INVALID, "验证码错误或已失效，请重新获取。", "phoneCode"), keep_changes=True
        )
    await session.execute(delete(PhoneCode).where(PhoneCode.subject == subject))
