"""Sign in with WeChat (a mini-program's `wx.login` code): a WeChat user already linked to an
account is signed in at once; one not yet linked gets a binding ticket and proves a phone with
an SMS code (`bind_phone`, or a registration carrying the ticket), which links them for good."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError

from models.auth import WechatIdentity
from models.errors import ErrorCode
from models.people import User
from models.phone_codes import CodePurpose
from models.wechat import MiniProgram, WechatError, mini_program_for
from resolvers import throttles
from resolvers.auth import ACCOUNT_DISABLED, Tokens, issue_tokens
from resolvers.deadlines import tenant_settings
from resolvers.errors import DomainError, fail
from resolvers.permissions import ANYONE, allowed_to, session_of
from resolvers.phone_codes import phone_of, prove_phone
from tenants.context import RequestContext
from tenants.tokens import InvalidToken, WechatBinding, issue_binding_ticket, read_binding_ticket

MAX_CODE_LENGTH = 128
CODE_INVALID = "微信登录凭证无效或已过期，请重新进入小程序。"


@dataclass(frozen=True)
class WechatSignIn:
    """Either tokens (a linked user) or a ticket to link one (not yet linked)."""

    tokens: Tokens | None
    binding_ticket: str | None


def _mini_program(ctx: RequestContext) -> MiniProgram:
    assert ctx.tenant is not None
    own = tenant_settings(ctx).wechat
    program = mini_program_for(ctx.settings, own.app_id if own else None, own.api_base if own else None)
    if program is None:
        raise fail(ErrorCode.WECHAT_NOT_CONFIGURED, "本街道尚未开通微信登录。")
    return program


@allowed_to(ANYONE)
async def login_with_wechat(ctx: RequestContext, code: str, *, client: str) -> WechatSignIn:
    program = _mini_program(ctx)
    code = code.strip()
    if not 0 < len(code) <= MAX_CODE_LENGTH:
        raise fail(ErrorCode.WECHAT_CODE_INVALID, CODE_INVALID, "code")
    invalid_codes = throttles.key_of(ctx, "wechat-invalid-code", client)
    if (await throttles.current(ctx, invalid_codes)).over(ctx.settings.wechat_login_max_failures - 1):
        raise fail(ErrorCode.WECHAT_RATE_LIMITED, "微信登录请求过于频繁，请稍后再试。")
    try:
        wechat_user = await ctx.identity.wechat.user_of(program, code)
    except WechatError as error:
        refusal = _refusal(error)
        if error.reason == "invalid_code":
            await throttles.hit(ctx, invalid_codes, timedelta(minutes=ctx.settings.login_lock_minutes))
            refusal.keep_changes = True
        raise refusal from error
    session = session_of(ctx)
    linked = (
        await session.execute(
            select(User.id, User.is_active)
            .join(WechatIdentity, (WechatIdentity.tenant_id == User.tenant_id) & (WechatIdentity.user_id == User.id))
            .where(WechatIdentity.app_id == program.app_id, WechatIdentity.openid == wechat_user.openid)
        )
    ).one_or_none()
    if linked is not None:
        if not linked.is_active:
            raise fail(ErrorCode.ACCOUNT_DISABLED, ACCOUNT_DISABLED)
        return WechatSignIn(tokens=await issue_tokens(ctx, linked.id), binding_ticket=None)
    assert ctx.tenant is not None
    binding = WechatBinding(ctx.tenant.id, program.app_id, wechat_user.openid, wechat_user.unionid)
    ticket = issue_binding_ticket(
        binding,
        secret=ctx.settings.secret_key or "",
        now=ctx.clock(),
        ttl=timedelta(minutes=ctx.settings.wechat_binding_minutes),
    )
    return WechatSignIn(tokens=None, binding_ticket=ticket)


def _refusal(error: WechatError) -> DomainError:
    match error.reason:
        case "invalid_code":
            return fail(ErrorCode.WECHAT_CODE_INVALID, CODE_INVALID, "code")
        case "rate_limited":
            return fail(ErrorCode.WECHAT_RATE_LIMITED, "微信登录请求过于频繁，请稍后再试。")
        case "busy":
            return fail(ErrorCode.WECHAT_BUSY, "微信服务繁忙，请稍后再试。")
        case "refused":
            return fail(ErrorCode.WECHAT_REFUSED, "微信提示当前账号存在风险，暂不能用微信登录。")
        case _:
            return fail(ErrorCode.WECHAT_UNAVAILABLE, "暂时无法连接微信，请稍后再试。")


def read_binding(ctx: RequestContext, ticket: str, field: str) -> WechatBinding:
    """The ticket's WeChat user, if the ticket is this street office's, unexpired and genuine."""
    try:
        binding = read_binding_ticket(ticket, secret=ctx.settings.secret_key or "", now=ctx.clock())
    except InvalidToken as error:
        raise fail(ErrorCode.WECHAT_TICKET_INVALID, "微信登录已超时，请重新进入小程序。", field) from error
    if ctx.tenant is None or binding.tenant_id != ctx.tenant.id:
        raise fail(ErrorCode.WECHAT_TICKET_INVALID, "微信登录已超时，请重新进入小程序。", field)
    return binding


@allowed_to(ANYONE)
async def bind_phone(ctx: RequestContext, binding_ticket: str, phone: str, phone_code: str) -> Tokens:
    """Links the ticket's WeChat user to the account of the phone they prove, and signs in. A
    phone without an account answers NO_ACCOUNT and leaves the code unspent: the client then
    registers with the same code and the ticket."""
    binding = read_binding(ctx, binding_ticket, "bindingTicket")
    number = phone_of(phone)
    await prove_phone(ctx, number, CodePurpose.BIND_WECHAT, phone_code)
    user = (await session_of(ctx).execute(select(User.id, User.is_active).where(User.phone == number))).one_or_none()
    if user is None:
        raise fail(ErrorCode.NO_ACCOUNT, "该手机号尚未注册，请先注册。", "phone")
    if not user.is_active:
        raise fail(ErrorCode.ACCOUNT_DISABLED, ACCOUNT_DISABLED)
    await link(ctx, user.id, binding)
    return await issue_tokens(ctx, user.id)


async def link(ctx: RequestContext, user_id: uuid.UUID, binding: WechatBinding) -> None:
    """The WeChat user now signs in as this account, and this account only through them (in
    this mini-program): a link either side had before is replaced."""
    session = session_of(ctx)
    await session.execute(
        delete(WechatIdentity).where(
            WechatIdentity.app_id == binding.app_id,
            or_(WechatIdentity.openid == binding.openid, WechatIdentity.user_id == user_id),
        )
    )
    session.add(WechatIdentity(user_id=user_id, app_id=binding.app_id, openid=binding.openid, unionid=binding.unionid))
    try:
        await session.flush()
    except IntegrityError as error:  # the same WeChat user linking twice at the same moment
        raise fail(ErrorCode.WECHAT_ALREADY_LINKED, "该微信刚刚绑定了账户，请重新进入小程序。") from error
