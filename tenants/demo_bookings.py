"""Demo room bookings and service appointments, in every state, so the admins' queues, a room's
calendar and a staff member's work list all have something in them."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.appointments import (
    Appointment,
    AppointmentAction,
    AppointmentEvent,
    AppointmentStatus,
    AppointmentType,
    ContactMethod,
)
from models.base import new_id, utcnow
from models.bookings import BookingStatus, Room, RoomBooking, RoomRules
from models.calendar import SHANGHAI, WorkingCalendar
from models.organisation import Building, Grid
from models.people import ResidentProfile, Role, RoleGrant

PURPOSES = ["广场舞排练", "老年大学书法课", "楼栋议事会", "亲子读书会", "志愿者培训", "合唱团排练", "党员学习会"]
DESCRIPTIONS = {
    "mediation": "与楼上邻居因漏水赔偿问题产生纠纷，协商未果，希望社区调解。",
    "legal-aid": "被拖欠工资三个月，想咨询如何申请法律援助。",
    "notary": "需要办理房屋继承公证，想了解需要准备哪些材料。",
    "judge": "小额借款纠纷，想咨询诉讼流程。",
    "petition": "反映小区加装电梯意见不一致的问题。",
    "counselling": "孩子升学压力大，情绪低落，希望预约心理咨询。",
}
# Past bookings end in these states; future ones are pending, approved, rejected or cancelled.
PAST = [BookingStatus.COMPLETED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW, BookingStatus.CANCELLED]
FUTURE = [
    BookingStatus.APPROVED,
    BookingStatus.APPROVED,
    BookingStatus.PENDING,
    BookingStatus.REJECTED,
    BookingStatus.CANCELLED,
]


async def add_bookings(session: AsyncSession, seed: str) -> None:
    chooser = random.Random(seed)
    residents = list((await session.scalars(select(ResidentProfile.id))).all())
    now = utcnow()
    today = now.astimezone(SHANGHAI).date()
    bookings = []
    for room in (await session.scalars(select(Room))).all():
        # One booking a day at most per room, inside its opening hours, so none overlap.
        rules = RoomRules.of(room)
        for offset in range(-7, 10):
            day = today + timedelta(days=offset)
            grid = rules.slot_grid(day)
            if not grid or chooser.random() < 0.4:
                continue
            # The day's first slots, up to two hours of them back to back: a booking the room's
            # rules would have accepted.
            starts, ends = grid[0]
            for slot_start, slot_end in grid[1:]:
                if slot_start != ends or slot_end - starts > timedelta(minutes=min(room.max_duration_minutes, 120)):
                    break
                ends = slot_end
            status = chooser.choice(PAST if ends < now else FUTURE)
            if status == BookingStatus.PENDING and not room.requires_approval:
                status = BookingStatus.APPROVED
            bookings.append(
                RoomBooking(
                    id=new_id(),
                    room_id=room.id,
                    resident_id=chooser.choice(residents),
                    purpose=chooser.choice(PURPOSES),
                    attendees=min(room.capacity, chooser.randint(2, 20)),
                    starts_at=starts,
                    ends_at=ends,
                    status=status,
                    answer_due_at=WorkingCalendar().working_hours_after(now, 8)
                    if status == BookingStatus.PENDING
                    else None,
                    reason={BookingStatus.REJECTED: "当天已安排社区活动", BookingStatus.CANCELLED: "活动改期"}.get(
                        status
                    ),
                    created_at=starts - timedelta(days=3),
                )
            )
    session.add_all(bookings)
    await session.flush()


async def add_appointments(session: AsyncSession, seed: str) -> None:
    chooser = random.Random(seed)
    residents = (
        await session.execute(
            select(ResidentProfile.id, Grid.community_id)
            .join(
                Building,
                (Building.tenant_id == ResidentProfile.tenant_id) & (Building.id == ResidentProfile.building_id),
            )
            .join(Grid, (Grid.tenant_id == Building.tenant_id) & (Grid.id == Building.grid_id))
        )
    ).all()
    staff = (
        await session.execute(select(RoleGrant.user_id, RoleGrant.department_id).where(RoleGrant.role == Role.STAFF))
    ).all()
    calendar = WorkingCalendar()
    now = utcnow()
    items, events = [], []
    for kind in (await session.scalars(select(AppointmentType))).all():
        candidates = [s.user_id for s in staff if kind.department_id in (None, s.department_id)]
        for status in AppointmentStatus:
            resident = chooser.choice(residents)
            created = now - timedelta(days=chooser.uniform(0.5, 10))
            item = Appointment(
                id=new_id(),
                type_id=kind.id,
                resident_id=resident.id,
                community_id=resident.community_id,
                description=DESCRIPTIONS.get(kind.code, "希望预约相关服务。"),
                preferred_times=chooser.sample(["工作日上午", "工作日下午", "周六上午", "晚上七点后"], 2),
                status=status,
                created_at=created,
                updated_at=created,
            )
            events.append(
                AppointmentEvent(
                    id=new_id(),
                    appointment_id=item.id,
                    action=AppointmentAction.SUBMIT,
                    actor_id=resident.id,
                    to_status=AppointmentStatus.SUBMITTED,
                    created_at=created,
                )
            )
            if status not in (AppointmentStatus.SUBMITTED, AppointmentStatus.CANCELLED):
                item.assignee_id = chooser.choice(candidates)
                assigned = created + timedelta(hours=2)
                item.contact_due_at = calendar.working_hours_after(assigned, 8)
                events.append(
                    AppointmentEvent(
                        id=new_id(),
                        appointment_id=item.id,
                        action=AppointmentAction.ASSIGN,
                        to_status=AppointmentStatus.ASSIGNED,
                        from_status=AppointmentStatus.SUBMITTED,
                        created_at=assigned,
                    )
                )
            if status in (AppointmentStatus.CONTACTED, AppointmentStatus.SCHEDULED, AppointmentStatus.COMPLETED):
                item.contacted_at = created + timedelta(hours=5)
                item.contact_method = ContactMethod.PHONE
            if status in (AppointmentStatus.SCHEDULED, AppointmentStatus.COMPLETED):
                item.scheduled_at = (
                    now + timedelta(days=2) if status == AppointmentStatus.SCHEDULED else created + timedelta(days=1)
                )
            if status == AppointmentStatus.COMPLETED:
                item.outcome = "已当面办理，居民表示满意。"
            items.append(item)
    session.add_all(items)
    await session.flush()
    session.add_all(events)
    await session.flush()
