"""The ASGI application: the GraphQL endpoint, GraphiQL's assets, health and readiness."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from models.base import utcnow
from models.calendar import SHANGHAI, years_without_calendar
from models.errors import ErrorCode
from models.migrations import current_revision, head_revision
from models.settings import Settings, load_settings
from models.sms import PhoneCodeSender
from models.storage import signature_valid
from schema.build import Protections, build_schema
from server.cors import Cors
from server.exports import ExportDownload, ExportRunner
from server.graphiql import graphiql_asset
from server.http import GraphQLEndpoint, error_body
from server.jobs import Sweeper
from server.observability import BodySizeLimit, RequestLog
from server.persisted_queries import PersistedQueries
from server.ratelimit import RateLimiter
from server.uploads import UploadEndpoint
from tenants.context import Services


def create_app(
    settings: Settings | None = None,
    *,
    scope_queries: bool = True,
    clock: Callable[[], datetime] = utcnow,
    run_jobs: bool = False,
    phone_code_sender: PhoneCodeSender | None = None,
) -> Starlette:
    """`scope_queries=False` exists for the isolation tests only (see tenants.sessions).
    `run_jobs` runs the periodic sweeps and the export runner inside this process (`wanjia serve`
    turns it on).
    `phone_code_sender` replaces the one the settings choose (tests keep what is sent)."""
    settings = settings or load_settings()
    services = Services.start(settings, clock=clock, scope_queries=scope_queries, phone_code_sender=phone_code_sender)
    engine = services.engine
    sweeper = Sweeper(services, settings.jobs_interval_seconds) if run_jobs else None
    exporter = ExportRunner(services, settings.exports_poll_seconds) if run_jobs else None
    limiter = RateLimiter.for_settings(settings, clock)
    persisted = PersistedQueries(engine, clock)
    schema = build_schema(
        Protections(
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_cost=settings.max_query_cost,
            default_page_size=settings.default_page_size,
            max_page_size=settings.max_page_size,
            production=settings.is_production,
        )
    )
    graphql = GraphQLEndpoint(schema, services, limiter=limiter, persisted=persisted)

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
        if not await asyncio.to_thread(services.storage.writable):
            return JSONResponse({"status": "unavailable", "uploads": "not writable"}, 503)
        if sweeper is not None and sweeper.stalled:
            return JSONResponse({"status": "unavailable", "sweep": "stalled"}, 503)
        today = services.clock().astimezone(SHANGHAI).date()
        missing = years_without_calendar(today, await services.directory.official_calendar())
        warnings = [
            f"no official holiday calendar for {year}: deadlines count weekends only; run `wanjia calendar import`"
            for year in missing
        ]
        return JSONResponse({"status": "ok", **({"warnings": warnings} if warnings else {})})

    async def download(request: Request) -> Response:
        key = request.path_params["key"]
        params = request.query_params
        now = services.clock()
        expires = params.get("expires", "")
        valid = signature_valid(key, expires, params.get("signature", ""), secret=settings.secret_key or "", now=now)
        path = services.storage.path_of(key) if valid else None
        if path is None:
            return JSONResponse(error_body("链接无效或已过期。", ErrorCode.NOT_FOUND), 404)
        # Cached no longer than the link is valid; the file under a key never changes.
        max_age = int(expires) - int(now.timestamp())
        return FileResponse(
            path, headers={"Cache-Control": f"private, max-age={max_age}", "X-Content-Type-Options": "nosniff"}
        )

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        running = [asyncio.create_task(job.run()) for job in (sweeper, exporter) if job is not None]
        yield
        for task in running:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await limiter.buckets.close()
        await services.close()

    app = Starlette(
        routes=[
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),
            Route("/graphiql/{name}", graphiql_asset),
            Route("/files/{key:path}", download),
            Route("/exports/{tenant_id}/{export_id}", ExportDownload(services)),
            Route("/uploads", UploadEndpoint(services, limiter)),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        middleware=[
            Middleware(RequestLog),
            Middleware(
                Cors, allowed=settings.cors_origins, directory=services.directory, paths={"/graphql", "/uploads"}
            ),
            Middleware(
                BodySizeLimit, max_bytes=settings.max_body_bytes, max_upload_bytes=settings.max_upload_request_bytes
            ),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.engine = engine
    app.state.sweeper = sweeper
    app.state.exporter = exporter
    app.state.limiter = limiter
    app.state.persisted = persisted
    return app


def create_served_app() -> Starlette:
    """What `wanjia serve` runs: the app with the periodic sweeps inside it.

    What exists once it is built (modules, the schema, the mappers: some 300,000 objects) lives
    as long as the process, so it is moved out of the collector's generations (`gc.freeze`):
    otherwise every full collection walks it again, which cost a request of the organisation
    tree, whose thousands of objects set collections off, about a fifth of its CPU time."""
    app = create_app(run_jobs=True)
    gc.collect()
    gc.freeze()
    return app
