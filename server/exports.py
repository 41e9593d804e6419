"""Exports in a serving process: the runner that makes queued exports and reports
(resolvers.exports), the CSV and XLSX writers it streams pages into, and `GET /exports/...`, the
signed download.

The queue is the `exports` table, polled, so an export asked for before a restart is made after
it, and one whose process died mid-way is started again once its lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Protocol

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send

from models.errors import ErrorCode
from models.exports import MEDIA_TYPES, ExportFormat, ExportSubject, download_signature_valid
from resolvers import exports
from resolvers.analytics import monthly_report
from resolvers.errors import DomainError
from resolvers.exports import Cell, Job
from server.http import error_body
from tenants.context import RequestContext, Services, unit_of_work
from tenants.directory import TenantInfo

logger = logging.getLogger("wanjia.exports")

FAILED = "导出失败，请稍后重试。"
# A text cell starting with one of these is a formula to a spreadsheet: what a resident typed
# into a complaint must not run on an admin's computer.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Sheet(Protocol):
    def append(self, cells: Sequence[Cell]) -> None: ...

    def close(self) -> None: ...


class CsvSheet:
    """UTF-8 with a byte order mark, which Excel needs to read Chinese."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._file)

    def append(self, cells: Sequence[Cell]) -> None:
        self._writer.writerow(
            ["" if c is None else "'" + c if isinstance(c, str) and c.startswith(FORMULA_STARTS) else c for c in cells]
        )

    def close(self) -> None:
        self._file.close()


class XlsxSheet:
    """openpyxl's write-only workbook: rows go to a temporary file as they come, not to memory."""

    def __init__(self, path: Path, title: str) -> None:
        self._path = path
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title)

    def _cell(self, value: Cell) -> object:
        if not isinstance(value, str):
            return value
        cell = WriteOnlyCell(self._sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # never a formula, whatever it starts with
        return cell

    def append(self, cells: Sequence[Cell]) -> None:
        self._sheet.append([self._cell(value) for value in cells])

    def close(self) -> None:
        self._book.save(self._path)


def open_sheet(job: Job, path: Path) -> Sheet:
    return XlsxSheet(path, job.title) if job.format is ExportFormat.XLSX else CsvSheet(path)


PageHook = Callable[[uuid.UUID], Awaitable[None]]


async def _nothing(_: uuid.UUID) -> None:
    return None


class ExportRunner:
    """Makes every tenant's queued exports, one at a time, at each poll or when woken.
    `page_size` and `after_page` are for tests: small pages, and a look at each one's progress."""

    def __init__(
        self,
        services: Services,
        poll_seconds: float,
        *,
        page_size: int | None = None,
        after_page: PageHook = _nothing,
    ) -> None:
        self.services = services
        self.poll_seconds = poll_seconds
        self.page_size = page_size or services.settings.max_page_size
        self.after_page = after_page
        self.made = 0
        self._wake = services.exports_queued
        self._changed = asyncio.Condition()

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                logger.exception("exports could not list the tenants")
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation that
            # arrives as the event is set, and the runner would outlive its server's shutdown.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_seconds):
                    await self._wake.wait()
            self._wake.clear()

    async def run_once(self) -> None:
        """Every tenant: expired files deleted, then every waiting export made. One tenant
        failing does not keep the others waiting."""
        for tenant in await self.services.directory.all():
            try:
                while (job := await self._next(tenant)) is not None:
                    await self._make(tenant, job)
            except Exception:
                logger.exception("exports failed for tenant %s", tenant.slug)

    async def wait_for_made(self, count: int) -> None:
        """Until this runner has finished `count` exports (made or failed)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.made >= count)

    def _as_system(
        self, tenant: TenantInfo, job: uuid.UUID | None = None
    ) -> contextlib.AbstractAsyncContextManager[RequestContext]:
        request_id = f"export-{job.hex if job else uuid.uuid4().hex}"
        return unit_of_work(self.services, tenant=tenant, viewer=None, writes=True, request_id=request_id)

    async def _next(self, tenant: TenantInfo) -> Job | None:
        """One unit of work per tenant and poll: expired files let go, the next export claimed.
        Files are deleted once their rows say so, so a failure never leaves a row without one."""
        async with self._as_system(tenant) as ctx:
            expired = await exports.expire(ctx)
            job = await exports.claim(ctx)
        for key in expired:
            self.services.storage.delete(key)
        return job

    async def _make(self, tenant: TenantInfo, job: Job) -> None:
        try:
            with self.services.storage.writing(job.storage_key) as path:
                if job.subject is ExportSubject.MONTHLY_REPORT:
                    await self._report(tenant, job, path)
                else:
                    await self._list(tenant, job, path)
        except DomainError as error:  # the list refused its admin: no longer one, say
            failure: str | None = error.issues[0].message
        except Exception:
            logger.exception("export %s failed", job.id)
            failure = FAILED
        else:
            failure = None
        async with self._as_system(tenant, job.id) as ctx:
            if failure is None:
                await exports.finish(ctx, job)
            else:
                await exports.give_up(ctx, job, failure)
        async with self._changed:
            self.made += 1
            self._changed.notify_all()

    async def _list(self, tenant: TenantInfo, job: Job, path: Path) -> None:
        sheet = open_sheet(job, path)
        try:
            sheet.append(job.headers)
            after: str | None = None
            while True:
                # One page per unit of work: its progress is committed, and no transaction
                # stays open for the length of a large export.
                async with unit_of_work(
                    self.services, tenant=tenant, viewer=job.viewer, writes=True, request_id=f"export-{job.id.hex}"
                ) as ctx:
                    chunk = await exports.next_chunk(ctx, job, after, self.page_size)
                    for cells in chunk.cells:
                        sheet.append(cells)
                await self.after_page(job.id)
                if chunk.after is None:
                    break
                after = chunk.after
        finally:
            sheet.close()

    async def _report(self, tenant: TenantInfo, job: Job, path: Path) -> None:
        async with unit_of_work(
            self.services, tenant=tenant, viewer=job.viewer, writes=False, request_id=f"export-{job.id.hex}"
        ) as ctx:
            report = await monthly_report(ctx, job.month)
        # matplotlib and reportlab take a second to load: the first report pays it, not every
        # process that starts.
        from server.reports import render_monthly_report

        # Charts and layout take a while of CPU: off the event loop.
        await asyncio.to_thread(render_monthly_report, report, path)


class ExportDownload:
    """`GET /exports/{tenant}/{export}?expires=…&signature=…`: the file of a finished export.
    Anything wrong (the signature, the expiry, the tenant, the export, the file) answers the same
    404, so a link reveals nothing about exports it was not made for."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.respond(Request(scope, receive))
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
        services = self.services
        missing = JSONResponse(error_body("链接无效或已过期。", ErrorCode.NOT_FOUND), 404)
        try:
            tenant_id = uuid.UUID(request.path_params["tenant_id"])
            export_id = uuid.UUID(request.path_params["export_id"])
        except ValueError:
            return missing
        params = request.query_params
        if not download_signature_valid(
            services.settings.secret_key or "",
            tenant_id,
            export_id,
            params.get("expires", ""),
            params.get("signature", ""),
            now=services.clock(),
        ):
            return missing
        tenant = await services.directory.by_id(tenant_id)
        if tenant is None:
            return missing
        async with unit_of_work(services, tenant=tenant, viewer=None, writes=False) as ctx:
            found = await exports.downloadable(ctx, export_id)
        path = services.storage.path_of(found.storage_key) if found is not None else None
        if found is None or path is None:
            return missing
        return FileResponse(
            path,
            media_type=MEDIA_TYPES[found.format],
            filename=found.file_name,
            headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
        )
