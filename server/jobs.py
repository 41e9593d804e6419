"""Periodic work: `wanjia jobs run` (from cron) and the loop inside `wanjia serve`.

Each tenant is swept in its own transaction, as the system. Every sweep is idempotent, so two
runs overlapping, or a run right after another, change nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import asdict, dataclass

from models.database import WRITES
from resolvers import appointments, auth, bookings, complaints
from server.http import Services
from tenants.directory import Caller, TenantInfo
from tenants.sessions import open_session

logger = logging.getLogger("wanjia.jobs")


@dataclass
class SweepReport:
    complaints: complaints.SweepReport
    bookings_overdue: int
    appointments_overdue: int
    identity_rows_expired: int

    @property
    def anything(self) -> bool:
        c = self.complaints
        counts = (
            c.marked_overdue,
            c.closed,
            self.bookings_overdue,
            self.appointments_overdue,
            self.identity_rows_expired,
        )
        return any(counts)


async def sweep_tenant(services: Services, tenant: TenantInfo) -> SweepReport:
    ctx = services.context(f"job-{uuid.uuid4().hex}", Caller(tenant=tenant, viewer=None))
    async with open_session(services.sessions, tenant.id) as session:
        ctx.session = session
        await session.connection(execution_options={WRITES: True})
        report = SweepReport(
            complaints=await complaints.sweep(ctx),
            bookings_overdue=await bookings.sweep(ctx),
            appointments_overdue=await appointments.sweep(ctx),
            identity_rows_expired=await auth.sweep(ctx),
        )
        await session.commit()
    return report


async def run_jobs(services: Services) -> dict[str, SweepReport]:
    services.directory.forget()
    reports = {}
    for tenant in await services.directory.all():
        try:
            reports[tenant.slug] = report = await sweep_tenant(services, tenant)
        except Exception:
            logger.exception("sweep failed for tenant %s", tenant.slug)
            continue
        if report.anything:
            logger.info({"event": "sweep", "tenant": tenant.slug, **asdict(report)})
    return reports


async def run_periodically(services: Services, interval_seconds: float) -> None:
    while True:
        await run_jobs(services)
        await asyncio.sleep(interval_seconds)
