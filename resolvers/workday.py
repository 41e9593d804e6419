"""A grid worker's working day, for the worker (`myWorkday`) and for the admins of their
community (every worker of it, for one day): the shift, what waits for them, what they did.

Every figure is batched over the workers of a page (one statement per figure), so an admin's
overview costs the same for five workers as for fifty.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from models.attendance import local_day
from models.calendar import SHANGHAI
from models.complaints import Complaint, ComplaintStatus
from models.inspections import InspectionRound
from models.organisation import Building, Grid
from models.people import ResidentProfile, ResidentStatus, Role, User
from resolvers import visits
from resolvers.errors import not_found
from resolvers.loaders import loader
from resolvers.pagination import Page, PageRequest, paginate
from resolvers.permissions import ADMINS, allowed_to, session_of, viewer_of
from resolvers.rows import Selection
from tenants.context import RequestContext

# Waiting on the grid worker: not yet taken, taken, being handled, or reopened by the resident.
WAITING = (ComplaintStatus.SUBMITTED, ComplaintStatus.ACCEPTED, ComplaintStatus.IN_PROGRESS, ComplaintStatus.REOPENED)


@dataclass(frozen=True, slots=True)
class WorkerRow:
    id: uuid.UUID
    name: str
    phone: str


@dataclass(frozen=True)
class Workday:
    worker: WorkerRow
    day: date


WORKER = Selection(WorkerRow, select(User.id, User.name, User.phone))


def week_of(day: date) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday, in Shanghai."""
    monday = day - timedelta(days=day.weekday())
    start = datetime.combine(monday, datetime.min.time(), SHANGHAI)
    return start, start + timedelta(days=7)


@allowed_to(Role.GRID_WORKER)
async def my_workday(ctx: RequestContext, day: date | None) -> Workday:
    worker = await WORKER.where(User.id == viewer_of(ctx).user_id).one_or_none(session_of(ctx))
    assert worker is not None
    return Workday(worker, day or local_day(ctx.clock()))


@allowed_to(*ADMINS)
async def community_workdays(
    ctx: RequestContext, community_id: uuid.UUID, day: date | None, page: PageRequest, *, field: str = "communityId"
) -> tuple[date, Page[WorkerRow]]:
    """Every worker serving a grid of the community, by name. `field` names the community in a
    refusal (an export passes it as its filter's)."""
    if not viewer_of(ctx).administers(community_id):
        raise not_found("社区", field)
    workers = WORKER.where(User.id.in_(select(Grid.worker_id).where(Grid.community_id == community_id)))
    return day or local_day(ctx.clock()), await paginate(ctx, workers, (User.name, User.id), page)


async def _counted(ctx: RequestContext, stmt: object, worker_ids: list[uuid.UUID]) -> list[int]:
    counted = {row[0]: row[1] for row in (await session_of(ctx).execute(stmt)).all()}  # type: ignore[call-overload]
    return [int(counted.get(w, 0)) for w in worker_ids]


async def _waiting(ctx: RequestContext, worker_ids: list[uuid.UUID]) -> list[int]:
    stmt = (
        select(Complaint.handler_id, func.count())
        .where(Complaint.handler_id.in_(worker_ids), Complaint.status.in_(WAITING))
        .group_by(Complaint.handler_id)
    )
    return await _counted(ctx, stmt, worker_ids)


async def _to_verify(ctx: RequestContext, worker_ids: list[uuid.UUID]) -> list[int]:
    stmt = (
        select(Grid.worker_id, func.count())
        .select_from(ResidentProfile)
        .join(
            Building, (Building.tenant_id == ResidentProfile.tenant_id) & (Building.id == ResidentProfile.building_id)
        )
        .join(Grid, (Grid.tenant_id == Building.tenant_id) & (Grid.id == Building.grid_id))
        .where(Grid.worker_id.in_(worker_ids), ResidentProfile.status == ResidentStatus.PENDING)
        .group_by(Grid.worker_id)
    )
    return await _counted(ctx, stmt, worker_ids)


async def _rounds_between(
    ctx: RequestContext, worker_ids: list[uuid.UUID], start: datetime, end: datetime
) -> list[int]:
    stmt = (
        select(InspectionRound.worker_id, func.count())
        .where(
            InspectionRound.worker_id.in_(worker_ids),
            InspectionRound.started_at >= start,
            InspectionRound.started_at < end,
        )
        .group_by(InspectionRound.worker_id)
    )
    return await _counted(ctx, stmt, worker_ids)


# The figures below are of a worker the caller was given by my_workday or community_workdays.


async def complaints_waiting(ctx: RequestContext, worker_id: uuid.UUID) -> int:
    return await loader(ctx, _waiting).load(worker_id)


async def registrations_to_verify(ctx: RequestContext, worker_id: uuid.UUID) -> int:
    return await loader(ctx, _to_verify).load(worker_id)


async def care_visits_due(ctx: RequestContext, worker_id: uuid.UUID) -> int:
    return await loader(ctx, visits.care_visits_due_by_worker).load(worker_id)


async def rounds_in_week(ctx: RequestContext, worker_id: uuid.UUID, day: date) -> int:
    return await loader(ctx, _rounds_between, *week_of(day)).load(worker_id)


async def rounds_on(ctx: RequestContext, worker_id: uuid.UUID, day: date) -> int:
    start = datetime.combine(day, datetime.min.time(), SHANGHAI)
    return await loader(ctx, _rounds_between, start, start + timedelta(days=1)).load(worker_id)
