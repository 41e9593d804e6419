"""Service appointments: types, the resident's request, triage and follow-up."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry import relay

from models.appointments import LIFECYCLE, AppointmentAction, AppointmentParty, AppointmentStatus, ContactMethod
from resolvers import appointments, organisation, people
from schema.common import (
    Connection,
    Info,
    ScopedNode,
    UserError,
    attempt,
    connection,
    decode_id,
    mirror_enum,
    nodes_by_id,
    page_request,
    referenced,
    shanghai,
    viewer_can,
)
from schema.organisation import Department, Person

if TYPE_CHECKING:  # see mirror_enum
    AppointmentStatusType = AppointmentStatus
else:
    AppointmentStatusType = mirror_enum(
        AppointmentStatus,
        appointments.APPOINTMENT_STATUS_NAMES,
        name="AppointmentStatus",
        description="Where an appointment stands.",
    )
if TYPE_CHECKING:  # see mirror_enum
    AppointmentActionType = AppointmentAction
else:
    AppointmentActionType = mirror_enum(
        AppointmentAction,
        appointments.APPOINTMENT_STEP_NAMES,
        name="AppointmentAction",
        description="A step on an appointment's timeline.",
    )
if TYPE_CHECKING:  # see mirror_enum
    ContactMethodType = ContactMethod
else:
    ContactMethodType = mirror_enum(
        ContactMethod,
        appointments.CONTACT_METHODS,
        name="ContactMethod",
        description="How the staff member reached the resident.",
    )


APPOINTMENT_CAN = viewer_can(
    "AppointmentViewerCan",
    "Appointment",
    LIFECYCLE,
    system=AppointmentParty.SYSTEM,
    mutations={
        AppointmentAction.ASSIGN: "assignAppointment",
        AppointmentAction.CONTACT: "recordAppointmentContact",
        AppointmentAction.SCHEDULE: "scheduleAppointment",
        AppointmentAction.COMPLETE: "completeAppointment",
        AppointmentAction.CANCEL: "cancelAppointment",
    },
)
if TYPE_CHECKING:  # made at run time from the lifecycle (viewer_can)
    AppointmentViewerCan = object
else:
    AppointmentViewerCan = APPOINTMENT_CAN.type


@strawberry.type(description="预约事项: a kind of service residents can ask for. Public.")
class AppointmentType(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    code: str
    name: str
    department_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_row(cls, row: appointments.AppointmentTypeRow) -> AppointmentType:
        return cls(id=row.id, code=row.code, name=row.name, department_id=row.department_id)

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[AppointmentType | None]:
        return await nodes_by_id(node_ids, lambda i: appointments.kind(info.context, i), cls.from_row)

    @strawberry.field(description="The department that handles it, if one does.")
    async def department(self, info: Info) -> Department | None:
        if self.department_id is None:
            return None
        return Department.from_row(referenced(await organisation.department(info.context, self.department_id)))


@strawberry.type(description="A department staff member, for admins triaging appointments.")
class StaffMember(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    name: str
    department_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_row(cls, row: people.StaffMemberRow) -> StaffMember:
        return cls(id=row.id, name=row.name, department_id=row.department_id)

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[StaffMember | None]:
        return await nodes_by_id(node_ids, lambda i: people.staff_member(info.context, i), cls.from_row)

    @strawberry.field
    async def department(self, info: Info) -> Department | None:
        if self.department_id is None:
            return None
        return Department.from_row(referenced(await organisation.department(info.context, self.department_id)))


@strawberry.type(description="One step on an appointment's timeline.")
class AppointmentEvent:
    action: AppointmentActionType
    actor_name: str | None
    from_status: AppointmentStatusType | None
    to_status: AppointmentStatusType
    note: str | None
    at: datetime


@strawberry.type(
    description="预约: a resident's request for a service. Confidential: only the resident, the assigned staff member and admins see it."
)
class Appointment(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    description: str
    preferred_times: list[str]
    status: AppointmentStatusType
    contact_due_at: datetime | None = strawberry.field(
        description="Assigned appointments are contacted within one working day."
    )
    overdue: bool
    contacted_at: datetime | None
    contact_method: ContactMethodType | None
    scheduled_at: datetime | None
    outcome: str | None
    created_at: datetime
    row: strawberry.Private[appointments.AppointmentRow]

    @classmethod
    def from_row(cls, info: Info, row: appointments.AppointmentRow) -> Appointment:
        return cls(
            id=row.id,
            description=row.description,
            preferred_times=list(row.preferred_times or []),
            status=AppointmentStatusType(row.status),
            contact_due_at=shanghai(row.contact_due_at),
            overdue=appointments.is_overdue(row, info.context.clock()),
            contacted_at=shanghai(row.contacted_at),
            contact_method=ContactMethodType(row.contact_method) if row.contact_method else None,
            scheduled_at=shanghai(row.scheduled_at),
            outcome=row.outcome,
            created_at=shanghai(row.created_at),
            row=row,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[Appointment | None]:
        return await nodes_by_id(
            node_ids, lambda i: appointments.appointment(info.context, i), lambda r: cls.from_row(info, r)
        )

    @strawberry.field
    def resident(self, info: Info) -> Person:
        phone = people.shown_phone(info.context, self.row.resident_id, self.row.resident_phone, self.row.community_id)
        return Person(id=self.row.resident_id, name=self.row.resident_name, phone=phone)

    @strawberry.field(description="What the caller may do to it now.")
    def viewer_can(self, info: Info) -> AppointmentViewerCan:
        return APPOINTMENT_CAN.of(appointments.viewer_can(info.context, self.row))

    @strawberry.field(description="The kind of service asked for.")
    def type(self) -> AppointmentType:
        return AppointmentType(
            id=self.row.type_id,
            code=self.row.type_code,
            name=self.row.type_name,
            department_id=self.row.type_department_id,
        )

    @strawberry.field(description="The staff member it is assigned to, once it is.")
    def assignee(self, info: Info) -> Person | None:
        if self.row.assignee_id is None or self.row.assignee_name is None or self.row.assignee_phone is None:
            return None
        phone = people.shown_phone(info.context, self.row.assignee_id, self.row.assignee_phone)
        return Person(id=self.row.assignee_id, name=self.row.assignee_name, phone=phone)

    @strawberry.field(description="Every step so far, oldest first.")
    async def timeline(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[AppointmentEvent]:
        page = await appointments.timeline(info.context, self.id, page_request(info, first, after))
        return connection(
            page,
            lambda e: AppointmentEvent(
                action=AppointmentActionType(e.action),
                actor_name=e.actor_name,
                from_status=AppointmentStatusType(e.from_status) if e.from_status else None,
                to_status=AppointmentStatusType(e.to_status),
                note=e.note,
                at=shanghai(e.created_at),
            ),
        )


@strawberry.input
class AppointmentFilter:
    statuses: list[AppointmentStatusType] | None = None
    unassigned: bool | None = None
    overdue: bool | None = strawberry.field(
        default=None, description="Assigned and not contacted within one working day."
    )


def appointment_filter(value: AppointmentFilter | None) -> appointments.AppointmentFilter:
    if value is None:
        return appointments.AppointmentFilter()
    return appointments.AppointmentFilter(
        statuses=tuple(AppointmentStatus(s.value) for s in value.statuses or ()),
        unassigned=value.unassigned,
        overdue=value.overdue,
    )


@strawberry.type
class Query:
    @strawberry.field(description="The kinds of appointment residents can ask for. Public.")
    async def appointment_types(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[AppointmentType]:
        return connection(
            await appointments.list_types(info.context, page_request(info, first, after)), AppointmentType.from_row
        )

    @strawberry.field(
        description="A resident's own appointments; a staff member's assigned ones; admins' community or street office (queues: unassigned, overdue). Newest first."
    )
    async def appointments(
        self, info: Info, filter: AppointmentFilter | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[Appointment]:
        page = await appointments.list_appointments(
            info.context, appointment_filter(filter), page_request(info, first, after)
        )
        return connection(page, lambda row: Appointment.from_row(info, row))

    @strawberry.field(description="Department staff (admins only), to triage appointments to.")
    async def staff_members(
        self,
        info: Info,
        department_id: relay.GlobalID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[StaffMember]:
        department = decode_id(department_id, "Department", "departmentId") if department_id else None
        return connection(
            await people.list_staff(info.context, department, page_request(info, first, after)), StaffMember.from_row
        )


@strawberry.input
class RequestAppointmentInput:
    type_id: relay.GlobalID
    description: str = strawberry.field(description="The situation, 5–500 characters. Confidential.")
    preferred_times: list[str] = strawberry.field(description="1–5 times that suit, e.g. 工作日上午.")


@strawberry.input
class AssignAppointmentInput:
    appointment_id: relay.GlobalID
    staff_id: relay.GlobalID = strawberry.field(description="A StaffMember of the type's department, if it has one.")


@strawberry.input
class RecordAppointmentContactInput:
    appointment_id: relay.GlobalID
    contacted_at: datetime
    method: ContactMethodType
    note: str | None = None


@strawberry.input
class ScheduleAppointmentInput:
    appointment_id: relay.GlobalID
    scheduled_at: datetime
    note: str | None = None


@strawberry.input
class CompleteAppointmentInput:
    appointment_id: relay.GlobalID
    outcome: str


@strawberry.input
class CancelAppointmentInput:
    appointment_id: relay.GlobalID
    reason: str


@strawberry.type
class AppointmentPayload:
    appointment: Appointment | None
    errors: list[UserError]


async def _respond(info: Info, action: Callable[[], Awaitable[uuid.UUID]]) -> AppointmentPayload:
    outcome = await attempt(info, action)
    row = await appointments.appointment(info.context, outcome.value) if outcome.value else None
    return AppointmentPayload(appointment=Appointment.from_row(info, row) if row else None, errors=outcome.errors)


def _id(value: relay.GlobalID) -> uuid.UUID:
    return decode_id(value, "Appointment", "appointmentId")


@strawberry.type
class Mutation:
    @strawberry.mutation(description="A resident asks for a service appointment.")
    async def request_appointment(self, info: Info, input: RequestAppointmentInput) -> AppointmentPayload:
        return await _respond(
            info,
            lambda: appointments.request(
                info.context,
                decode_id(input.type_id, "AppointmentType", "typeId"),
                input.description,
                input.preferred_times,
            ),
        )

    @strawberry.mutation(
        description="分拣: an admin gives the appointment to a staff member, who must contact the resident within one working day."
    )
    async def assign_appointment(self, info: Info, input: AssignAppointmentInput) -> AppointmentPayload:
        return await _respond(
            info,
            lambda: appointments.assign(
                info.context, _id(input.appointment_id), decode_id(input.staff_id, "StaffMember", "staffId")
            ),
        )

    @strawberry.mutation(description="The assigned staff member records when and how they reached the resident.")
    async def record_appointment_contact(self, info: Info, input: RecordAppointmentContactInput) -> AppointmentPayload:
        return await _respond(
            info,
            lambda: appointments.record_contact(
                info.context,
                _id(input.appointment_id),
                input.contacted_at,
                ContactMethod(input.method.value),
                input.note,
            ),
        )

    @strawberry.mutation(description="The assigned staff member records the agreed time.")
    async def schedule_appointment(self, info: Info, input: ScheduleAppointmentInput) -> AppointmentPayload:
        return await _respond(
            info, lambda: appointments.schedule(info.context, _id(input.appointment_id), input.scheduled_at, input.note)
        )

    @strawberry.mutation(description="The assigned staff member records the outcome.")
    async def complete_appointment(self, info: Info, input: CompleteAppointmentInput) -> AppointmentPayload:
        return await _respond(
            info, lambda: appointments.complete(info.context, _id(input.appointment_id), input.outcome)
        )

    @strawberry.mutation(description="The resident, the assigned staff member or an admin cancels, with a reason.")
    async def cancel_appointment(self, info: Info, input: CancelAppointmentInput) -> AppointmentPayload:
        return await _respond(info, lambda: appointments.cancel(info.context, _id(input.appointment_id), input.reason))
