"""`POST /uploads`: one file per call, as a WeChat mini-program's `wx.uploadFile` sends it
(multipart with a single file field), answered with an id that a mutation then names
(`attachmentIds`) instead of sending the file itself.

The file goes through the same checks as one sent with a mutation (resolvers.uploads). A
bearer token is required: a form another site posts from a browser cannot carry one, which is
what keeps forged uploads out (the GraphQL endpoint needs its preflight header for the same
reason). It is rate-limited as the GraphQL endpoint is, and shared with the same browser origins.
Errors have the shape of GraphQL errors and a proper status.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.relay import to_base64

from models.errors import ErrorCode
from resolvers import uploads
from resolvers.errors import DomainError
from schema.scalars import serialize_datetime
from schema.uploads import UPLOAD_ID_TYPE
from server.http import client_gone, error_body, too_many_requests
from server.ratelimit import RateLimited, RateLimiter, client_address
from tenants.context import Services, unit_of_work
from tenants.directory import Caller, NotAuthenticated, TenantNotFound

STATUS_BY_CODE = {
    ErrorCode.UNSUPPORTED_FILE: 415,
    ErrorCode.FILE_TOO_LARGE: 413,
    ErrorCode.IMAGE_TOO_LARGE: 413,
    ErrorCode.FORBIDDEN: 403,
}


def _error(status: int, code: ErrorCode, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(message, code), status, headers=headers)


class UploadEndpoint:
    """An ASGI app rather than a function endpoint, so every method reaches it and a wrong one
    gets a JSON 405 like every other error here."""

    def __init__(self, services: Services, limiter: RateLimiter) -> None:
        self.services = services
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        services, settings = self.services, self.services.settings
        if request.method != "POST":
            return _error(405, ErrorCode.METHOD_NOT_ALLOWED, "请用 POST 上传文件。", {"Allow": "POST"})
        if not request.headers.get("authorization"):
            return _error(401, ErrorCode.UNAUTHENTICATED, "请先登录。", {"WWW-Authenticate": "Bearer"})
        try:
            caller = await services.directory.identify(
                authorization=request.headers.get("authorization"),
                tenant_header=request.headers.get("x-tenant"),
                host=request.headers.get("host"),
                base_domain=settings.base_domain,
                secret=settings.secret_key or "",
                now=services.clock(),
            )
        except NotAuthenticated:
            return _error(
                401,
                ErrorCode.UNAUTHENTICATED,
                "登录已失效，请重新登录。",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        except TenantNotFound:
            return _error(404, ErrorCode.TENANT_NOT_FOUND, "未找到该街道。")
        request.state.tenant = caller.tenant.slug if caller.tenant else None
        peer = request.client.host if request.client else None
        try:
            await self.limiter.check(
                client=client_address(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies),
                tenant=caller.tenant,
                viewer=caller.viewer,
            )
        except RateLimited as limited:
            return too_many_requests(limited)
        request.state.operation_name = "upload"
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "multipart/form-data":
            return _error(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, "请以 multipart/form-data 上传一个文件。")
        try:
            async with request.form(max_files=1, max_fields=20) as form:
                files = [value for value in form.values() if isinstance(value, UploadFile)]
                if len(files) != 1:
                    return _error(400, ErrorCode.BAD_REQUEST, "每次请上传一个文件。")
                return await self._store(request, caller, files[0])
        except HTTPException as error:
            # Starlette's own refusals: a malformed body, or more than one file.
            return _error(400, ErrorCode.BAD_REQUEST, f"上传请求无效：{error.detail}")
        except ClientDisconnect:
            return client_gone()

    async def _store(self, request: Request, caller: Caller, file: UploadFile) -> JSONResponse:
        services = self.services
        assert caller.tenant is not None
        request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
        try:
            async with unit_of_work(
                services,
                tenant=caller.tenant,
                viewer=caller.viewer,
                writes=True,
                request_id=request_id,
                request=request,
            ) as ctx:
                row = await uploads.upload_ahead(ctx, file)
        except DomainError as error:
            issue = error.issues[0]
            return _error(STATUS_BY_CODE.get(issue.code, 400), issue.code, issue.message)
        expires = row.created_at + timedelta(hours=services.settings.unclaimed_upload_hours)
        return JSONResponse(
            {
                "id": to_base64(UPLOAD_ID_TYPE, str(row.id)),
                "kind": row.kind.value.upper(),
                "contentType": row.content_type,
                "size": row.size,
                "expiresAt": serialize_datetime(expires),
            },
            201,
        )
