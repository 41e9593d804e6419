"""The GraphQL endpoint, following the GraphQL-over-HTTP specification.

Strawberry answers 200 to every well-formed request. The specification asks more of a server
that speaks `application/graphql-response+json`: a request error (the document does not parse
or validate, or the variables do not fit) is a 4xx with no `data`; a mutation over GET is 405;
a body that is neither JSON nor multipart is 415; an Accept header the server cannot satisfy
is 406. Plain `application/json` clients keep getting 200 for GraphQL errors, as the
specification allows for them.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from models.broker import Broker
from models.passwords import Passwords
from models.settings import Settings
from models.storage import Storage
from server.graphiql import graphiql_page
from server.live_sessions import close_when_signed_out
from tenants.context import RequestContext
from tenants.directory import Caller, NotAuthenticated, TenantDirectory, TenantNotFound
from tenants.identity import Identity

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
# A browser sends a multipart form to any site without asking first; a custom header makes it
# ask (a CORS preflight), so a forged upload from another site never reaches a mutation.
UPLOAD_GUARD_HEADERS = ("graphql-require-preflight", "apollo-require-preflight")


@dataclass(frozen=True)
class Services:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    directory: TenantDirectory
    passwords: Passwords
    broker: Broker
    storage: Storage
    clock: Callable[[], datetime]
    identity: Identity

    def context(self, request_id: str, caller: Caller, request: Any = None, response: Any = None) -> RequestContext:
        return RequestContext(
            request_id=request_id,
            settings=self.settings,
            clock=self.clock,
            passwords=self.passwords,
            broker=self.broker,
            storage=self.storage,
            tenant=caller.tenant,
            viewer=caller.viewer,
            sessions=self.sessions,
            identity=self.identity,
            request=request,
            response=response,
        )


def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header, or None when none can be served."""
    if not accept:
        return JSON
    offered = set()
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if _quality(params) > 0:
            offered.add(media.lower())
    if GRAPHQL_RESPONSE in offered:
        return GRAPHQL_RESPONSE
    if offered & {JSON, "application/*", "*/*"}:
        return JSON
    return None


def _quality(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


def error_body(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


class GraphQLEndpoint(GraphQL):
    def __init__(self, schema: BaseSchema, services: Services) -> None:
        super().__init__(
            schema,
            graphql_ide=None if services.settings.is_production else "graphiql",
            multipart_uploads_enabled=True,
            subscription_protocols=("graphql-transport-ws",),
        )
        self.services = services
        # The re-checks of open websockets (server.live_sessions), kept from garbage collection.
        self._watches: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        media_type = negotiate(request.headers.get("accept"))
        try:
            if media_type is None and not self._wants_ide(request):
                raise HTTPException(406, f"请求的 Accept 无法满足；本服务返回 {GRAPHQL_RESPONSE} 或 {JSON}。")
            response = await self.run(request)
        except HTTPException as error:
            response = self._http_error(error, media_type or JSON)
        except TenantNotFound:
            response = JSONResponse(
                error_body("未找到该街道。", "TENANT_NOT_FOUND"), 404, media_type=media_type or JSON
            )
        except NotAuthenticated:
            response = JSONResponse(
                error_body("登录已失效，请重新登录。", "UNAUTHENTICATED"),
                401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                media_type=media_type or JSON,
            )
        await response(scope, receive, send)

    def encode_json(self, data: object) -> str:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    def _wants_ide(self, request: Request) -> bool:
        return self.graphql_ide is not None and self.should_render_graphql_ide(self.request_adapter_class(request))

    @staticmethod
    def _http_error(error: HTTPException, media_type: str) -> Response:
        codes = {
            400: "BAD_REQUEST",
            404: "NOT_FOUND",
            405: "METHOD_NOT_ALLOWED",
            406: "NOT_ACCEPTABLE",
            415: "UNSUPPORTED_MEDIA_TYPE",
        }
        headers = {"Allow": "POST"} if error.status_code == 405 else None
        body = error_body(error.reason, codes.get(error.status_code, "BAD_REQUEST"))
        return JSONResponse(body, error.status_code, headers=headers, media_type=media_type)

    async def _identify(self, authorization: str | None, tenant: str | None, host: str | None) -> Caller:
        settings = self.services.settings
        return await self.services.directory.identify(
            authorization=authorization,
            tenant_header=tenant,
            host=host,
            base_domain=settings.base_domain,
            secret=settings.secret_key or "",
            now=self.services.clock(),
        )

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> RequestContext:  # type: ignore[override]
        services = self.services
        if isinstance(request, WebSocket):
            # Subscriptions sign in with connection_init's payload (on_ws_connect): browsers cannot
            # set headers on a websocket.
            caller = Caller(tenant=None, viewer=None)
        else:
            headers = request.headers
            caller = await self._identify(headers.get("authorization"), headers.get("x-tenant"), headers.get("host"))
            request.state.tenant = caller.tenant.slug if caller.tenant else None
            request.state.graphql_response = response
        request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
        return services.context(request_id, caller, request, response)

    async def on_ws_connect(self, context: RequestContext) -> None:  # type: ignore[override]
        params = {str(k).lower(): v for k, v in (context.connection_params or {}).items()}
        handshake = context.request.headers
        credentials = (
            params.get("authorization") or handshake.get("authorization"),
            params.get("x-tenant") or handshake.get("x-tenant"),
            handshake.get("host"),
        )
        try:
            caller = await self._identify(*credentials)
        except (TenantNotFound, NotAuthenticated) as error:
            raise ConnectionRejectionError from error
        if caller.viewer is None:
            raise ConnectionRejectionError
        context.tenant, context.viewer = caller.tenant, caller.viewer

        async def still_signed_in() -> bool:
            try:
                await self._identify(*credentials)
            except (TenantNotFound, NotAuthenticated):
                return False
            return True

        watch = asyncio.create_task(
            close_when_signed_out(context.request, still_signed_in, self.services.settings.session_recheck_seconds)
        )
        self._watches.add(watch)
        watch.add_done_callback(self._watches.discard)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST":
            content_type = (request.content_type or "").split(";")[0].strip().lower()
            if content_type == "multipart/form-data":
                if not any(request.headers.get(name) for name in UPLOAD_GUARD_HEADERS):
                    raise HTTPException(400, "上传文件的请求须带 GraphQL-Require-Preflight 请求头。")
            elif content_type != JSON:
                raise HTTPException(415, "请求体须为 application/json（上传文件时为 multipart/form-data）。")
        return await super().parse_http_body(request)

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: RequestContext,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        request.state.operation_name = request_data.operation_name
        allowed = OperationType.from_http(request_adapter.method)
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as error:
            if request_adapter.method == "GET":
                raise HTTPException(405, "GET 请求只能执行查询；变更请使用 POST。") from error
            raise HTTPException(400, error.as_http_error_reason(request_adapter.method)) from error
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except MissingQueryError as error:
            raise HTTPException(400, "请求中没有 GraphQL 查询。") from error

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:  # type: ignore[override]
        body = await super().process_result(request, result)
        request_error = result.data is None and bool(result.errors) and all(e.path is None for e in result.errors)
        if request_error:
            # The operation never ran: the specification says no `data` entry at all.
            body.pop("data", None)
        media_type = negotiate(request.headers.get("accept")) or JSON
        sub_response: Response = request.state.graphql_response
        sub_response.media_type = media_type
        if request_error and media_type == GRAPHQL_RESPONSE:
            sub_response.status_code = 400
        return body

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = Response(
            self.encode_json(response_data),
            status_code=sub_response.status_code or 200,
            media_type=sub_response.media_type or JSON,
        )
        response.headers.raw.extend(h for h in sub_response.headers.raw if h[0] != b"content-type")
        return response

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:  # type: ignore[override]
        return HTMLResponse(graphiql_page(default_tenant=request.query_params.get("tenant")))
