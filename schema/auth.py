"""Login, token refresh and logout."""

from __future__ import annotations

import strawberry

from resolvers import auth
from schema.common import Info, Outcome, UserError, attempt


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


@strawberry.type
class AuthPayload:
    tokens: AuthTokens | None
    errors: list[UserError]


@strawberry.type
class LogoutPayload:
    ok: bool
    errors: list[UserError]


def client_address(info: Info) -> str:
    """The caller's address as the server saw it (behind a reverse proxy, uvicorn takes it from
    X-Forwarded-For only when the proxy is trusted: `--forwarded-allow-ips`)."""
    request = info.context.request
    client = getattr(request, "client", None)
    return client.host if client else "unknown"


def _payload(outcome: Outcome[auth.Tokens]) -> AuthPayload:
    tokens = AuthTokens.from_tokens(outcome.value) if outcome.value else None
    return AuthPayload(tokens=tokens, errors=outcome.errors)


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
