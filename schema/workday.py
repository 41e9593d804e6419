"""The grid worker's working day (`myWorkday`) and an admin's view of every worker of a
community for one day (`communityWorkdays`)."""

from __future__ import annotations

import datetime
import uuid
from datetime import date

import strawberry
from strawberry import relay

from resolvers import attendance, people, workday
from schema.attendance import AttendanceDay, Shift
from schema.common import Connection, Info, connection, decode_id, page_request
from schema.organisation import Person


@strawberry.type(description="A grid worker's day: their shift, what waits for them, what they did.")
class Workday:
    date: datetime.date  # the field's name hides the type in the class body
    worker_id: strawberry.Private[uuid.UUID]
    worker_name: strawberry.Private[str]
    worker_phone: strawberry.Private[str]

    @classmethod
    def of(cls, worker: workday.WorkerRow, day: datetime.date) -> Workday:
        return cls(date=day, worker_id=worker.id, worker_name=worker.name, worker_phone=worker.phone)

    @strawberry.field
    def worker(self, info: Info) -> Person:
        return Person(
            id=self.worker_id,
            name=self.worker_name,
            phone=people.shown_phone(info.context, self.worker_id, self.worker_phone),
        )

    @strawberry.field(description="The day's attendance: on time, late, missing (after the cut-off), outside.")
    async def attendance(self, info: Info) -> AttendanceDay:
        return AttendanceDay.from_row(await attendance.day_of(info.context, self.worker_id, self.date))

    @strawberry.field(description="The shift of that day: the open one, else the last; null if none.")
    async def shift(self, info: Info) -> Shift | None:
        found = await attendance.shift_of_day(info.context, self.worker_id, self.date)
        return Shift.from_row(found) if found else None

    @strawberry.field(
        description="Complaints waiting on the worker now (to accept, being handled, reopened): open them with complaints(filter: {statuses: …})."
    )
    async def complaints_waiting(self, info: Info) -> int:
        return await workday.complaints_waiting(info.context, self.worker_id)

    @strawberry.field(
        description="Residents of the worker's grids waiting for their registration to be verified (residentsAwaitingReview)."
    )
    async def registrations_to_verify(self, info: Info) -> int:
        return await workday.registrations_to_verify(info.context, self.worker_id)

    @strawberry.field(
        description="Care households of the worker's grids due for a home visit by this time tomorrow or overdue: open them with careVisitsDue(withinDays: 1)."
    )
    async def visits_due(self, info: Info) -> int:
        return await workday.care_visits_due(info.context, self.worker_id)

    @strawberry.field(description="Inspection rounds the worker started that day.")
    async def rounds_today(self, info: Info) -> int:
        return await workday.rounds_on(info.context, self.worker_id, self.date)

    @strawberry.field(description="Inspection rounds the worker started in that day's week (Monday to Sunday).")
    async def rounds_this_week(self, info: Info) -> int:
        return await workday.rounds_in_week(info.context, self.worker_id, self.date)


@strawberry.type
class Query:
    @strawberry.field(description="A grid worker's own working day (today unless `date` is given).")
    async def my_workday(self, info: Info, date: date | None = None) -> Workday:
        found = await workday.my_workday(info.context, date)
        return Workday.of(found.worker, found.day)

    @strawberry.field(
        description="Every grid worker of a community, for one day (today unless `date` is given), by name: its community admins and tenant admins."
    )
    async def community_workdays(
        self,
        info: Info,
        community_id: relay.GlobalID,
        date: date | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Workday]:
        day, page = await workday.community_workdays(
            info.context, decode_id(community_id, "Community", "communityId"), date, page_request(info, first, after)
        )
        return connection(page, lambda worker: Workday.of(worker, day))
