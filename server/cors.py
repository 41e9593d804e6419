"""Cross-origin calls from browsers: an admin console or an H5 page served from another site.

Origins are allowed platform-wide (WANJIA_CORS_ORIGINS) and by each street office in its
manifest (`allowed_origins`). A response that belongs to a street office is shared only with
its origins and the platform's; a preflight, and an error before the street office is known,
carry no tenant (the browser sends neither token nor X-Tenant with them), so they are answered
for an origin that some street office allows. Other origins get no CORS header at all.
Credentials are never allowed: the API signs in with bearer tokens, not cookies.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.http.websocket_origin import normalize_origin

from tenants.directory import TenantDirectory, TenantInfo

ALLOWED_METHODS = "GET, POST"
ALLOWED_HEADERS = "Authorization, Content-Type, Accept, X-Tenant, GraphQL-Require-Preflight, Apollo-Require-Preflight"
# What a browser app may read besides the basic headers: the id to quote when reporting a
# problem, and how long to wait after a 429.
EXPOSED_HEADERS = "X-Request-Id, Retry-After"
# How long a browser may reuse a preflight answer (Chromium caps it at two hours).
MAX_AGE = "7200"


def origins(values: Iterable[str]) -> set[str]:
    """As browsers send them: lowercase, default port left out ("null" and junk dropped)."""
    return {normal for value in values if (normal := normalize_origin(value)) is not None}


def tenant_origins(tenant: TenantInfo) -> set[str]:
    return origins(tenant.settings.allowed_origins)


class Cors:
    def __init__(
        self, app: ASGIApp, *, allowed: Iterable[str], directory: TenantDirectory, paths: Iterable[str]
    ) -> None:
        self.app = app
        self.origins = origins(allowed)
        self.directory = directory
        self.paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(origin, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers.add_vary_header("Origin")
                if await self.allows(origin, scope.get("state", {}).get("tenant")):
                    response_headers["Access-Control-Allow-Origin"] = origin
                    response_headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def allows(self, origin: str, tenant_slug: str | None) -> bool:
        """By the platform, else by the request's street office, else (none known) by any."""
        wanted = normalize_origin(origin)
        if wanted is None:
            return False
        if wanted in self.origins:
            return True
        try:
            if tenant_slug is not None:
                tenant = await self.directory.by_slug(tenant_slug)
                return tenant is not None and wanted in tenant_origins(tenant)
            return any(wanted in tenant_origins(tenant) for tenant in await self.directory.all())
        except Exception:  # the directory's database is down: the platform's origins still work
            return False

    async def _preflight(self, origin: str, send: Send) -> None:
        if await self.allows(origin, None):
            headers = {
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": MAX_AGE,
                "Vary": "Origin",
            }
            status = 204
        else:
            headers, status = {"Vary": "Origin"}, 403
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": b""})
