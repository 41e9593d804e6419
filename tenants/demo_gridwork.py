"""Demo grid work: a month of check-ins and inspection rounds for the grid workers of the
manifest's first community (the README's grid worker among them), so `myWorkday`, attendance
and the admin's overview show a lived-in month: mostly on time, some late, a missing day, a punch
away from the grid; two rounds a week each, a few problems filed as complaints, most resolved,
the README worker's latest still open.

Rows are written set-based (one INSERT per table), and punches are judged with the same
geometry the API uses, so the demo's "outside" is what a real check-in there would say.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.attendance import Punch, PunchKind, PunchPlace, Shift
from models.base import new_id, utcnow
from models.calendar import SHANGHAI, WorkingCalendar
from models.complaints import (
    Complaint,
    ComplaintAction,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintSource,
    ComplaintStatus,
)
from models.geometry import GeoPoint, nearest, polygon_of
from models.inspections import Checklist, ChecklistItem, Finding, FindingOutcome, InspectionRound, RoundStatus
from models.organisation import Community, Grid
from tenants.sessions import TENANT_KEY

DAYS = 30
WORKERS = 6  # of the first community's grids, in code order: the README's worker is the first
TOLERANCE_METRES = 50
PROBLEM_NOTES = {
    "fire-exit": "消防通道被两辆私家车占用。",
    "stairwell": "2单元三楼楼道堆放旧家具和纸箱。",
    "e-bike": "1号楼一楼有电动车飞线充电。",
    "facilities": "广场西侧两盏路灯不亮。",
    "sanitation": "垃圾分类投放点满溢，未及时清运。",
}


@dataclass
class Made:
    """Rows made for the set-based inserts at the end, table by table."""

    rounds: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    complaints: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def _at(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), SHANGHAI)


async def add_grid_work(session: AsyncSession, seed: str, community_code: str) -> None:
    chooser = random.Random(f"gridwork-{seed}")
    first_community = await session.scalar(select(Community.id).where(Community.code == community_code))
    grids = (
        await session.execute(
            select(Grid.id, Grid.worker_id, Grid.boundary, Grid.community_id)
            .where(Grid.community_id == first_community, Grid.worker_id.is_not(None), Grid.boundary.is_not(None))
            .order_by(Grid.code)
            .limit(WORKERS)
        )
    ).all()
    checklist = await session.scalar(select(Checklist.id).where(Checklist.code == "daily"))
    if not grids or checklist is None:
        return
    items = (
        await session.execute(
            select(ChecklistItem.id, ChecklistItem.code, ChecklistItem.label, ChecklistItem.category_id)
            .where(ChecklistItem.checklist_id == checklist)
            .order_by(ChecklistItem.position)
        )
    ).all()
    categories = {c.id: c for c in (await session.scalars(select(ComplaintCategory))).all()}
    now = utcnow()
    today = now.astimezone(SHANGHAI).date()
    calendar = WorkingCalendar()
    shapes = {g.id: polygon_of(g.boundary) for g in grids}
    shifts: list[dict[str, Any]] = []
    punches: list[dict[str, Any]] = []
    made = Made()

    def spot(grid_id: uuid.UUID, away: bool) -> GeoPoint:
        inside = shapes[grid_id].representative_point()
        if away:  # a few hundred metres off: a meeting at the street office, a neighbour's grid
            return GeoPoint(inside.x + chooser.uniform(0.003, 0.006), inside.y - chooser.uniform(0.002, 0.004))
        return GeoPoint(inside.x + chooser.uniform(-0.0003, 0.0003), inside.y + chooser.uniform(-0.0002, 0.0002))

    def punch(shift_id: uuid.UUID, grid: Any, kind: PunchKind, at: datetime, away: bool) -> bool:
        point = spot(grid.id, away)
        found = nearest(point, [(grid.id, shapes[grid.id])])
        assert found is not None
        outside = found.distance_metres > TOLERANCE_METRES
        punches.append(
            {
                "id": new_id(),
                "shift_id": shift_id,
                "kind": kind,
                "at": at,
                "longitude": round(point.longitude, 6),
                "latitude": round(point.latitude, 6),
                "accuracy_metres": float(chooser.choice([8, 10, 15, 20, 30])),
                "place": PunchPlace.OUTSIDE if outside else PunchPlace.INSIDE,
                "grid_id": grid.id,
                "distance_metres": round(found.distance_metres, 1),
                "storage_key": None,
            }
        )
        return outside

    days = [today - timedelta(days=offset) for offset in range(DAYS, 0, -1)]
    round_days = [d for d in days if d.weekday() in (1, 3) and calendar.is_working_day(d)]
    for index, grid in enumerate(grids):
        for day in days:
            if not calendar.is_working_day(day):
                continue
            roll = chooser.random()
            if roll < 0.05:
                continue  # a day without a check-in
            late = roll > 0.88
            minute = chooser.randint(35, 59) if late else chooser.randint(5, 29)
            checked_in = _at(day, 8, minute, chooser.randint(0, 59))
            # Up to yesterday: today's check-in is the README's to make.
            checked_out = _at(day, 17, chooser.randint(30, 59))
            shift_id = new_id()
            away = chooser.random() < 0.06
            outside = punch(shift_id, grid, PunchKind.CHECK_IN, checked_in, away)
            outside = punch(shift_id, grid, PunchKind.CHECK_OUT, checked_out, False) or outside
            shifts.append(
                {
                    "id": shift_id,
                    "worker_id": grid.worker_id,
                    "work_date": day,
                    "checked_in_at": checked_in,
                    "checked_out_at": checked_out,
                    "outside": outside,
                }
            )
            if day in round_days:
                # The README's worker's latest round found a hazard that is still open.
                hazard = index == 0 and day == round_days[-1]
                _round(grid, day, hazard, checklist, items, categories, calendar, chooser, made)
    # Core inserts skip the session's tenant stamping (tenants.sessions): the rows carry it.
    tenant_id = session.info[TENANT_KEY]
    for table, rows in (
        (Shift, shifts),
        (Punch, punches),
        (InspectionRound, made.rounds),
        (Complaint, made.complaints),
        (ComplaintEvent, made.events),
        (Finding, made.findings),
    ):
        if rows:
            await session.execute(insert(table), [{"tenant_id": tenant_id, **row} for row in rows])


def _round(
    grid: Any,
    day: date,
    hazard: bool,
    checklist: uuid.UUID,
    items: Sequence[Any],
    categories: dict[uuid.UUID, Any],
    calendar: WorkingCalendar,
    chooser: random.Random,
    made: Made,
) -> None:
    """A round walked in the afternoon; now and then an item with a problem, filed as a complaint
    of the grid (resolved a few days later, or, if recent, still open)."""
    started = _at(day, 14, chooser.randint(0, 59))
    round_id = new_id()
    made.rounds.append(
        {
            "id": round_id,
            "checklist_id": checklist,
            "grid_id": grid.id,
            "community_id": grid.community_id,
            "worker_id": grid.worker_id,
            "status": RoundStatus.FINISHED,
            "started_at": started,
            "ended_at": started + timedelta(minutes=10 * len(items)),
            "version": 1,
        }
    )
    problem_at = chooser.randrange(len(items)) if chooser.random() < 0.3 or hazard else None
    for position, item in enumerate(items):
        at = started + timedelta(minutes=10 * position + 5)
        complaint_id = None
        if position == problem_at:
            complaint_id = _complaint(grid, item, categories[item.category_id], at, calendar, hazard, made)
        made.findings.append(
            {
                "id": new_id(),
                "round_id": round_id,
                "item_id": item.id,
                "outcome": FindingOutcome.PROBLEM if complaint_id else FindingOutcome.FINE,
                "note": PROBLEM_NOTES.get(item.code, item.label) if complaint_id else None,
                "longitude": None,
                "latitude": None,
                "storage_key": None,
                "complaint_id": complaint_id,
                "recorded_at": at,
            }
        )


def _complaint(
    grid: Any,
    item: Any,
    category: Any,
    at: datetime,
    calendar: WorkingCalendar,
    still_open: bool,
    made: Made,
) -> uuid.UUID:
    complaint_id = new_id()
    resolved_at = calendar.working_days_after(at, 2) - timedelta(hours=3)
    resolved = resolved_at < utcnow() and not still_open
    note = PROBLEM_NOTES.get(item.code, item.label)
    made.complaints.append(
        {
            "id": complaint_id,
            "resident_id": None,
            "filed_by_id": grid.worker_id,
            "source": ComplaintSource.INSPECTION,
            "category_id": category.id,
            "title": f"巡检发现：{item.label}"[:50],
            "content": note,
            "building_id": None,
            "address": "巡检途中发现",
            "latitude": None,
            "longitude": None,
            "grid_id": grid.id,
            "community_id": grid.community_id,
            "handler_id": grid.worker_id,
            "department_id": None,
            "status": ComplaintStatus.RESOLVED if resolved else ComplaintStatus.ACCEPTED,
            "is_public": False,
            "acknowledge_due_at": calendar.working_hours_after(at, category.acknowledge_hours),
            "resolve_due_at": calendar.working_days_after(at, category.resolve_days),
            "acknowledged_at": at,
            "resolved_at": resolved_at if resolved else None,
            "resolution": "已现场整改完毕。" if resolved else None,
            "submitted_at": at,
            "updated_at": resolved_at if resolved else at,
            "version": 1,
        }
    )
    steps: list[tuple[ComplaintAction, ComplaintStatus | None, ComplaintStatus, datetime]] = [
        (ComplaintAction.SUBMIT, None, ComplaintStatus.SUBMITTED, at)
    ]
    steps.append((ComplaintAction.ACCEPT, ComplaintStatus.SUBMITTED, ComplaintStatus.ACCEPTED, at))
    if resolved:
        started = at + timedelta(minutes=30)
        steps.append((ComplaintAction.START_WORK, ComplaintStatus.ACCEPTED, ComplaintStatus.IN_PROGRESS, started))
        steps.append((ComplaintAction.RESOLVE, ComplaintStatus.IN_PROGRESS, ComplaintStatus.RESOLVED, resolved_at))
    made.events.extend(
        {
            "id": new_id(),
            "complaint_id": complaint_id,
            "action": action,
            "actor_id": grid.worker_id,
            "from_status": before,
            "to_status": after,
            "note": None,
            "created_at": moment,
        }
        for action, before, after, moment in steps
    )
    return complaint_id
