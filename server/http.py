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
import logging
import uuid
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import ClientDisconnect, Request
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

from models.errors import ErrorCode
from schema.build import UNPRINTABLE
from schema.compiled import EncodedJSON
from schema.extensions import present
from server.cors import origins
from server.graphiql import graphiql_page
from server.live_sessions import close_when_signed_out
from server.observability import BodyTooLarge
from server.persisted_queries import SHA256, PersistedQueries, sha256_of
from server.ratelimit import RateLimited, RateLimiter, client_address
from server.websockets import TransportWSHandler
from tenants.context import RequestContext, Services
from tenants.directory import Caller, NotAuthenticated, TenantNotFound

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
# A browser sends a multipart form to any site without asking first; a custom header makes it
# ask (a CORS preflight), so a forged upload from another site never reaches a mutation.
UPLOAD_GUARD_HEADERS = ("graphql-require-preflight", "apollo-require-preflight")
# The HTTP status of a response without data (the operation did not run), by its error's code.
SERVER_ERROR_STATUS = {ErrorCode.SERVICE_UNAVAILABLE: 503, ErrorCode.INTERNAL_SERVER_ERROR: 500}
logger = logging.getLogger("wanjia.errors")


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


def error_body(message: str, code: ErrorCode, **extensions: Any) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


def too_many_requests(limited: RateLimited, media_type: str = JSON) -> JSONResponse:
    seconds = limited.retry_after_seconds
    return JSONResponse(
        error_body(f"请求过于频繁，请 {seconds} 秒后再试。", ErrorCode.RATE_LIMITED, retryAfter=seconds),
        429,
        headers={"Retry-After": str(seconds)},
        media_type=media_type,
    )


class Refused(Exception):
    """A request answered before GraphQL runs, with its own status and error code."""

    def __init__(self, status: int, message: str, code: ErrorCode, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers


# Apollo's client asks again with the document's text on this message or code; like Apollo
# Server, answered with 200 (older clients turn persisted queries off on a 4xx) and never cached.
PERSISTED_QUERY_NOT_FOUND = Refused(
    200,
    "PersistedQueryNotFound",
    ErrorCode.PERSISTED_QUERY_NOT_FOUND,
    {"Cache-Control": "private, no-cache, must-revalidate"},
)


CLIENT_CLOSED_REQUEST = 499


def client_gone() -> Response:
    """The answer to a client gone before its request arrived whole: nobody reads it, and nothing
    went wrong here. 499 in the request log, as nginx names it."""
    return Response(status_code=CLIENT_CLOSED_REQUEST)


class GraphQLEndpoint(GraphQL[RequestContext, Any]):
    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(
        self, schema: BaseSchema, services: Services, *, limiter: RateLimiter, persisted: PersistedQueries
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None if services.settings.is_production else "graphiql",
            multipart_uploads_enabled=True,
            subscription_protocols=("graphql-transport-ws",),
        )
        self.services = services
        self.limiter = limiter
        self.persisted = persisted
        # Subscriptions from pages on other sites: the platform's origins (server.cors).
        self.allowed_origins = frozenset(origins(services.settings.cors_origins))
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
                error_body("未找到该街道。", ErrorCode.TENANT_NOT_FOUND), 404, media_type=media_type or JSON
            )
        except NotAuthenticated:
            response = JSONResponse(
                error_body("登录已失效，请重新登录。", ErrorCode.UNAUTHENTICATED),
                401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                media_type=media_type or JSON,
            )
        except Refused as refused:
            response = JSONResponse(
                error_body(refused.message, refused.code),
                refused.status,
                headers=refused.headers,
                media_type=media_type or JSON,
            )
        except RateLimited as limited:
            response = too_many_requests(limited, media_type or JSON)
        except BodyTooLarge:
            raise  # answered 413 by the middleware that raised it
        except ClientDisconnect:
            response = client_gone()
        except Exception as error:  # outside the operation (the tenant lookup, say): still a GraphQL response
            response = self._unexpected(error, scope, media_type or JSON)
        await response(scope, receive, send)

    def _unexpected(self, error: Exception, scope: Scope, media_type: str) -> Response:
        request_id = scope.get("state", {}).get("request_id", "-")
        logger.error("unexpected error outside the operation (request %s)", request_id, exc_info=error)
        presented = present(
            GraphQLError(str(error), original_error=error),
            request_id,
            production=self.services.settings.is_production,
        )
        code = (presented.extensions or {})["code"]
        return JSONResponse({"errors": [presented.formatted]}, SERVER_ERROR_STATUS[code], media_type=media_type)

    def encode_json(self, data: object) -> str:
        """The response's JSON, with the data a compiled read wrote (schema.compiled) put in as
        it is: each stands in as a placeholder no answer can hold (a NUL, which no stored text
        has), replaced once encoded."""
        written: list[str] = []
        marker = f"\x00{uuid.uuid4().hex}:"

        def stand_in(value: object) -> str:
            if not isinstance(value, EncodedJSON):
                raise TypeError(f"{type(value).__name__} is not JSON serializable")
            written.append(value.text)
            return f"{marker}{len(written) - 1}"

        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=stand_in)
        for index, value in enumerate(written):
            text = text.replace(json.dumps(f"{marker}{index}"), value, 1)
        return text

    def decode_json(self, data: str | bytes) -> object:
        if isinstance(data, bytes):
            try:
                data = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise HTTPException(400, "请求体不是有效的 UTF-8 文本。") from error
        try:
            value = json.loads(data)
        except RecursionError as error:
            raise HTTPException(400, "请求的 JSON 嵌套过深。") from error
        if not isinstance(value, (dict, list)):
            raise HTTPException(400, "请求须为 JSON 对象。")
        return value

    def should_render_graphql_ide(self, request: Any) -> bool:
        """The IDE for a browser opening /graphql; never for a GraphQL request over GET, which a
        client may send with `Accept: */*` (Apollo's persisted queries send only `extensions`)."""
        is_operation = any(request.query_params.get(name) is not None for name in ("query", "extensions"))
        return not is_operation and super().should_render_graphql_ide(request)

    def _wants_ide(self, request: Request) -> bool:
        return self.graphql_ide is not None and self.should_render_graphql_ide(self.request_adapter_class(request))

    @staticmethod
    def _http_error(error: HTTPException, media_type: str) -> Response:
        codes = {
            400: ErrorCode.BAD_REQUEST,
            404: ErrorCode.NOT_FOUND,
            405: ErrorCode.METHOD_NOT_ALLOWED,
            406: ErrorCode.NOT_ACCEPTABLE,
            415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        }
        headers = {"Allow": "POST"} if error.status_code == 405 else None
        body = error_body(error.reason, codes.get(error.status_code, ErrorCode.BAD_REQUEST))
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

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> RequestContext:
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
            peer = request.client.host if request.client else None
            client = client_address(peer, headers.get("x-forwarded-for"), services.settings.trusted_proxies)
            await self.limiter.check(client=client, tenant=caller.tenant, viewer=caller.viewer)
        request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
        return RequestContext(
            services=services,
            request_id=request_id,
            tenant=caller.tenant,
            viewer=caller.viewer,
            request=request,
            response=response,
        )

    async def on_ws_connect(self, context: RequestContext) -> None:
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
        data = await super().parse_http_body(request)
        for item in data if isinstance(data, list) else [data]:
            if not isinstance(item.operation_name, (str, type(None))):
                raise HTTPException(400, "operationName 须为字符串。")
            if _unprintable(item.query, item.operation_name, item.variables, item.extensions):
                raise HTTPException(400, "请求中含有不允许的字符（NUL 或不成对的代理项）。")
        return data

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
        query, to_store = await self._document(request_data)
        try:
            result = await self.schema.execute(
                query,
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
        if to_store is not None and not _not_run(result):
            # Stored only once it has passed validation and the cost limit, so that no client can
            # fill the store with documents that never run.
            await self.persisted.store(to_store, query)  # type: ignore[arg-type]
        return result

    async def _document(self, request_data: GraphQLRequestData) -> tuple[str | None, str | None]:
        """The document to run, and the hash to store it under once it has run (see
        server.persisted_queries)."""
        trusted_only = self.services.settings.trusted_documents_only
        extensions = request_data.extensions if isinstance(request_data.extensions, dict) else {}
        persisted = extensions.get("persistedQuery")
        query = request_data.query
        if persisted is None:
            if trusted_only and query is not None:
                await self._require_trusted(sha256_of(query))
            return query, None
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if not isinstance(digest, str) or not SHA256.match(digest.lower()) or persisted.get("version") != 1:
            raise Refused(400, "persistedQuery 须为 {version: 1, sha256Hash: 64 位十六进制}。", ErrorCode.BAD_REQUEST)
        digest = digest.lower()
        if query is None:
            found = await self.persisted.find(digest)
            if found is None or (trusted_only and not found.trusted):
                raise PERSISTED_QUERY_NOT_FOUND
            return found.text, None
        if sha256_of(query) != digest:
            raise Refused(400, "provided sha does not match query", ErrorCode.PROVIDED_SHA_DOES_NOT_MATCH)
        if trusted_only:
            await self._require_trusted(digest)
            return query, None
        return query, digest

    async def _require_trusted(self, digest: str) -> None:
        found = await self.persisted.find(digest)
        if found is None or not found.trusted:
            raise Refused(403, "本服务只执行已登记的操作（trusted documents）。", ErrorCode.OPERATION_NOT_TRUSTED)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        body = await super().process_result(request, result)
        not_run = _not_run(result)
        if not_run:
            # The operation never ran, or its transaction failed: the specification says no
            # `data` entry at all.
            body.pop("data", None)
        media_type = negotiate(request.headers.get("accept")) or JSON
        sub_response: Response = request.state.graphql_response
        sub_response.media_type = media_type
        if not_run and media_type == GRAPHQL_RESPONSE:
            codes = [(e.extensions or {}).get("code") for e in result.errors or []]
            sub_response.status_code = max((SERVER_ERROR_STATUS.get(c, 400) for c in codes), default=400)  # type: ignore[arg-type]
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

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(graphiql_page(default_tenant=request.query_params.get("tenant")))


def _not_run(result: ExecutionResult) -> bool:
    """The operation never ran (a request error), or its transaction failed."""
    return result.data is None and bool(result.errors) and all(e.path is None for e in result.errors or [])


def _unprintable(*values: object) -> bool:
    """NUL or a lone surrogate anywhere in the request: PostgreSQL cannot store the one, and
    the other cannot be encoded in any answer."""
    pending = list(values)
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if UNPRINTABLE.search(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False
