"""Periodic work: `wanjia jobs run` (from cron) and the sweeper inside `wanjia serve`.

Each tenant is swept in a unit of work of its own, as the system. Every sweep is idempotent, so
two runs overlapping, or a run right after another, change nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from resolvers import appointments, attendance, auth, bookings, complaints, guides, platform, visits, volunteers
from tenants.context import Services, unit_of_work
from tenants.directory import TenantInfo

logger = logging.getLogger("wanjia.jobs")

# After a failed run the sweeper tries again this soon, then twice as long each time, up to
# its interval: a database that is back in a minute costs a minute of sweeps, not five.
FIRST_RETRY_SECONDS = 5.0
# What a failed run names when the platform's own sweep failed (no street office has this slug).
PLATFORM = "(platform)"


@dataclass
class SweepReport:
    complaints: complaints.SweepReport
    bookings_overdue: int
    appointments_overdue: int
    identity_rows_expired: int
    volunteers: volunteers.SweepReport
    check_ins_missing: int
    care_visits_overdue: int
    service_applications_overdue: int

    @property
    def anything(self) -> bool:
        c = self.complaints
        counts = (
            c.marked_overdue,
            c.closed,
            self.bookings_overdue,
            self.appointments_overdue,
            self.identity_rows_expired,
            self.volunteers.reminded,
            self.volunteers.completed,
            self.check_ins_missing,
            self.care_visits_overdue,
            self.service_applications_overdue,
        )
        return any(counts)


@dataclass
class SweepRun:
    reports: dict[str, SweepReport] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    platform_rows_expired: int = 0


async def sweep_tenant(services: Services, tenant: TenantInfo) -> SweepReport:
    async with unit_of_work(services, tenant=tenant, viewer=None, writes=True, request_id=_job_id()) as ctx:
        return SweepReport(
            complaints=await complaints.sweep(ctx),
            bookings_overdue=await bookings.sweep(ctx),
            appointments_overdue=await appointments.sweep(ctx),
            identity_rows_expired=await auth.sweep(ctx),
            volunteers=await volunteers.sweep(ctx),
            check_ins_missing=await attendance.sweep(ctx),
            care_visits_overdue=await visits.sweep(ctx),
            service_applications_overdue=await guides.sweep(ctx),
        )


async def run_jobs(services: Services) -> SweepRun:
    """Sweeps every active tenant, then the platform's own rows; one failing does not keep the
    others waiting. Raises only if the tenants cannot be listed at all."""
    services.directory.forget()
    run = SweepRun()
    for tenant in await services.directory.all():
        try:
            run.reports[tenant.slug] = report = await sweep_tenant(services, tenant)
        except Exception:
            logger.exception("sweep failed for tenant %s", tenant.slug)
            run.failed.append(tenant.slug)
            continue
        if report.anything:
            logger.info({"event": "sweep", "tenant": tenant.slug, **asdict(report)})
    try:
        async with unit_of_work(services, tenant=None, viewer=None, writes=True, request_id=_job_id()) as ctx:
            run.platform_rows_expired = await platform.sweep(ctx)
    except Exception:
        logger.exception("sweep failed for the platform")
        run.failed.append(PLATFORM)
    return run


def _job_id() -> str:
    return f"job-{uuid.uuid4().hex}"


class Sweeper:
    """The sweeps inside a serving process: every interval, sooner again after a failure, never
    giving up. Readiness asks it whether a sweep completed (every tenant swept) lately."""

    def __init__(self, services: Services, interval_seconds: float) -> None:
        self.services = services
        self.interval_seconds = interval_seconds
        self.started_at = services.clock()
        self.completed_at: datetime | None = None
        self.completions = 0
        self._changed = asyncio.Condition()

    async def run(self) -> None:
        failures = 0
        while True:
            try:
                completed = not (await run_jobs(self.services)).failed
            except Exception:
                logger.exception("sweep could not list the tenants")
                completed = False
            if completed:
                failures = 0
                await self._completed()
            else:
                failures += 1
            await asyncio.sleep(self._pause(failures))

    def _pause(self, failures: int) -> float:
        if failures == 0:
            return self.interval_seconds
        return min(self.interval_seconds, FIRST_RETRY_SECONDS * 2.0 ** (failures - 1))

    async def _completed(self) -> None:
        async with self._changed:
            self.completed_at = self.services.clock()
            self.completions += 1
            self._changed.notify_all()

    async def wait_for_completions(self, count: int) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.completions >= count)

    @property
    def stalled(self) -> bool:
        """No sweep completed within two intervals (since start, if none ever has)."""
        since = self.completed_at or self.started_at
        return self.services.clock() - since > timedelta(seconds=2 * self.interval_seconds)
