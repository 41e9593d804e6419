"""The ASGI application: the GraphQL endpoint, GraphiQL's assets, health and readiness."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from models.base import utcnow
from models.broker import broker_for
from models.database import create_engine
from models.migrations import current_revision, head_revision
from models.passwords import Passwords
from models.settings import Settings, load_settings
from models.sms import PhoneCodeSender, sender_for
from models.storage import LocalDirectoryStorage, signature_valid
from models.wechat import WechatClient
from schema.build import Protections, build_schema
from server.graphiql import graphiql_asset
from server.http import GraphQLEndpoint, Services
from server.jobs import run_periodically
from server.observability import BodySizeLimit, RequestLog
from tenants.directory import TenantDirectory
from tenants.identity import Identity
from tenants.session_versions import SessionVersions
from tenants.sessions import session_factory


def create_app(
    settings: Settings | None = None,
    *,
    scope_queries: bool = True,
    clock: Callable[[], datetime] = utcnow,
    run_jobs: bool = False,
    phone_code_sender: PhoneCodeSender | None = None,
) -> Starlette:
    """`scope_queries=False` exists for the isolation tests only (see tenants.sessions).
    `run_jobs` runs the periodic sweeps inside this process (`wanjia serve` turns it on).
    `phone_code_sender` replaces the one the settings choose (tests keep what is sent)."""
    settings = settings or load_settings()
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    sessions = session_factory(engine, scope_queries=scope_queries)
    session_versions = SessionVersions(sessions, clock, ttl_seconds=settings.session_recheck_seconds)
    services = Services(
        settings=settings,
        sessions=sessions,
        directory=TenantDirectory(engine, ttl_seconds=settings.tenant_cache_seconds, session_versions=session_versions),
        passwords=Passwords.from_settings(settings),
        broker=broker_for(settings.database_url),
        storage=LocalDirectoryStorage(settings.upload_dir),
        clock=clock,
        identity=Identity(
            session_versions=session_versions,
            phone_codes=phone_code_sender or sender_for(settings),
            wechat=WechatClient(settings.wechat_timeout_seconds),
        ),
    )
    schema = build_schema(
        Protections(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            production=settings.is_production,
        )
    )
    graphql = GraphQLEndpoint(schema, services)

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> JSONResponse:
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            revision = await current_revision(engine)
        except Exception:
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        if revision != head_revision():
            return JSONResponse({"status": "unavailable", "database": "migrations pending"}, 503)
        return JSONResponse({"status": "ok"})

    async def download(request: Request) -> Response:
        key = request.path_params["key"]
        params = request.query_params
        valid = signature_valid(
            key, params.get("expires", ""), params.get("signature", ""), secret=settings.secret_key or ""
        )
        path = services.storage.path_of(key) if valid else None
        if path is None:
            return JSONResponse(
                {"errors": [{"message": "链接无效或已过期。", "extensions": {"code": "NOT_FOUND"}}]}, 404
            )
        return FileResponse(path, headers={"Cache-Control": "private, max-age=60"})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        sweeper = asyncio.create_task(run_periodically(services, settings.jobs_interval_seconds)) if run_jobs else None
        yield
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        await services.broker.close()
        services.passwords.close()
        await services.identity.close()
        await engine.dispose()

    app = Starlette(
        routes=[
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),
            Route("/graphiql/{name}", graphiql_asset),
            Route("/files/{key:path}", download),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        middleware=[
            Middleware(RequestLog),
            Middleware(
                BodySizeLimit, max_bytes=settings.max_body_bytes, max_upload_bytes=settings.max_upload_request_bytes
            ),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.engine = engine
    return app


def create_served_app() -> Starlette:
    """What `wanjia serve` runs: the app with the periodic sweeps inside it."""
    return create_app(run_jobs=True)
