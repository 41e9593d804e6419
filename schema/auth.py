"""Signing in (password, WeChat), tokens, proving a phone by SMS code, and passwords."""

from __future__ import annotations

import enum

import strawberry

from models.phone_codes import CodePurpose
from resolvers import auth, phone_codes, wechat
from schema.common import Info, Outcome, UserError, attempt


@strawberry.enum(name="PhoneCodePurpose", description="What an SMS code will prove the phone for.")
class PhoneCodePurposeType(enum.Enum):
    REGISTER = strawberry.enum_value(CodePurpose.REGISTER.value, description="registerResident")
    BIND_WECHAT = strawberry.enum_value(
        CodePurpose.BIND_WECHAT.value, description="bindPhone, or registerResident with a wechatTicket"
    )
    RESET_PASSWORD = strawberry.enum_value(CodePurpose.RESET_PASSWORD.value, description="resetPassword")


@strawberry.type(description="Tokens of a signed-in session. Send the access token as `Authorization: Bearer …`.")
class AuthTokens:
    access_token: str
    refresh_token: str = strawberry.field(
        description="Single use: `refreshToken` answers a new pair and retires this one."
    )
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")

    @classmethod
    def from_tokens(cls, tokens: auth.Tokens) -> AuthTokens:
        return cls(access_token=tokens.access_token, refresh_token=tokens.refresh_token, expires_in=tokens.expires_in)


@strawberry.input
class LoginInput:
    phone: str
    password: str


@strawberry.input
class RefreshTokenInput:
    refresh_token: str


@strawberry.input
class RequestPhoneCodeInput:
    phone: str = strawberry.field(description="Mainland mobile number.")
    purpose: PhoneCodePurposeType


@strawberry.type(description="The same answer whether or not the phone has an account.")
class RequestPhoneCodePayload:
    retry_after_seconds: int | None = strawberry.field(description="When another code may be requested.")
    errors: list[UserError]


@strawberry.input
class ResetPasswordInput:
    phone: str
    phone_code: str = strawberry.field(description="The code sent for RESET_PASSWORD.")
    new_password: str = strawberry.field(description="At least 8 characters.")


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str = strawberry.field(description="At least 8 characters.")


@strawberry.input
class LoginWithWechatInput:
    code: str = strawberry.field(description="The code `wx.login()` gave the mini-program (single use, 5 minutes).")


@strawberry.type
class WechatLoginPayload:
    tokens: AuthTokens | None = strawberry.field(description="Signed in: this WeChat user is linked to an account.")
    binding_ticket: str | None = strawberry.field(
        description="Not linked yet: pass to `bindPhone` (or `registerResident`) with a phone proved by SMS code, within 10 minutes."
    )
    errors: list[UserError]


@strawberry.input
class BindPhoneInput:
    binding_ticket: str
    phone: str
    phone_code: str = strawberry.field(description="The code sent for BIND_WECHAT.")


@strawberry.type
class AuthPayload:
    tokens: AuthTokens | None
    errors: list[UserError]


@strawberry.type
class LogoutPayload:
    ok: bool
    errors: list[UserError]


def _payload(outcome: Outcome[auth.Tokens]) -> AuthPayload:
    tokens = AuthTokens.from_tokens(outcome.value) if outcome.value else None
    return AuthPayload(tokens=tokens, errors=outcome.errors)


def client_address(info: Info) -> str:
    """The caller's address as the server saw it (behind a reverse proxy, uvicorn takes it from
    X-Forwarded-For only when the proxy is trusted: `--forwarded-allow-ips`)."""
    request = info.context.request
    client = getattr(request, "client", None)
    return client.host if client else "unknown"


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Sign in with phone and password in the street office named by X-Tenant. Repeated failures slow down and then lock the account for a while."
    )
    async def login(self, info: Info, input: LoginInput) -> AuthPayload:
        return _payload(
            await attempt(
                info, lambda: auth.login(info.context, input.phone, input.password, client=client_address(info))
            )
        )

    @strawberry.mutation(
        description="Exchange a refresh token for a new pair. Reusing a spent refresh token signs out every session of that login."
    )
    async def refresh_token(self, info: Info, input: RefreshTokenInput) -> AuthPayload:
        return _payload(await attempt(info, lambda: auth.refresh(info.context, input.refresh_token)))

    @strawberry.mutation(
        description="Sign out: the refresh token and every token rotated from the same login stop working."
    )
    async def logout(self, info: Info, input: RefreshTokenInput) -> LogoutPayload:
        outcome = await attempt(info, lambda: auth.logout(info.context, input.refresh_token))
        return LogoutPayload(ok=not outcome.errors, errors=outcome.errors)

    @strawberry.mutation(
        description="Sends a 6-digit code by SMS to prove the phone. Limited per phone and per client; answers the same whether or not the phone has an account."
    )
    async def request_phone_code(self, info: Info, input: RequestPhoneCodeInput) -> RequestPhoneCodePayload:
        outcome = await attempt(
            info,
            lambda: phone_codes.request_phone_code(
                info.context, input.phone, CodePurpose[input.purpose.name], client=client_address(info)
            ),
        )
        sent = outcome.value
        return RequestPhoneCodePayload(
            retry_after_seconds=sent.retry_after_seconds if sent else None, errors=outcome.errors
        )

    @strawberry.mutation(
        description="A forgotten password: proves the phone with its RESET_PASSWORD code, sets the new password, ends every session and signs in."
    )
    async def reset_password(self, info: Info, input: ResetPasswordInput) -> AuthPayload:
        return _payload(
            await attempt(
                info,
                lambda: auth.reset_password(
                    info.context, input.phone, input.phone_code, input.new_password, client=client_address(info)
                ),
            )
        )

    @strawberry.mutation(
        description="The signed-in user changes their password; every other session ends and this one gets new tokens."
    )
    async def change_password(self, info: Info, input: ChangePasswordInput) -> AuthPayload:
        return _payload(
            await attempt(
                info,
                lambda: auth.change_password(
                    info.context, input.current_password, input.new_password, client=client_address(info)
                ),
            )
        )

    @strawberry.mutation(
        description="Sign in with WeChat in the street office named by X-Tenant: tokens if this WeChat user is linked, else a ticket to link them with a proved phone."
    )
    async def login_with_wechat(self, info: Info, input: LoginWithWechatInput) -> WechatLoginPayload:
        outcome = await attempt(
            info, lambda: wechat.login_with_wechat(info.context, input.code, client=client_address(info))
        )
        signed_in = outcome.value
        tokens = signed_in.tokens if signed_in else None
        return WechatLoginPayload(
            tokens=AuthTokens.from_tokens(tokens) if tokens else None,
            binding_ticket=signed_in.binding_ticket if signed_in else None,
            errors=outcome.errors,
        )

    @strawberry.mutation(
        description="Links the WeChat user of a binding ticket to the account of a phone proved by its BIND_WECHAT code, and signs in. NO_ACCOUNT: register with the same code and the ticket."
    )
    async def bind_phone(self, info: Info, input: BindPhoneInput) -> AuthPayload:
        return _payload(
            await attempt(
                info, lambda: wechat.bind_phone(info.context, input.binding_ticket, input.phone, input.phone_code)
            )
        )
