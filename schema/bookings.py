"""Rooms, their free slots, and room bookings."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry import relay

from models.bookings import LIFECYCLE, BookingAction, BookingParty, BookingStatus, Weekday
from resolvers import bookings, organisation, people
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
from schema.cost import cost
from schema.organisation import Community, Person

if TYPE_CHECKING:  # see mirror_enum
    BookingStatusType = BookingStatus
else:
    BookingStatusType = mirror_enum(
        BookingStatus, bookings.BOOKING_STATUS_NAMES, name="BookingStatus", description="Where a room booking stands."
    )


BOOKING_CAN = viewer_can(
    "RoomBookingViewerCan",
    "RoomBooking",
    LIFECYCLE,
    system=BookingParty.SYSTEM,
    mutations={
        BookingAction.APPROVE: "approveRoomBooking",
        BookingAction.REJECT: "rejectRoomBooking",
        BookingAction.CANCEL: "cancelRoomBooking",
        BookingAction.CHECK_IN: "checkInRoomBooking",
        BookingAction.MARK_NO_SHOW: "markRoomBookingNoShow",
        BookingAction.COMPLETE: "completeRoomBooking",
    },
)
if TYPE_CHECKING:  # made at run time from the lifecycle (viewer_can)
    RoomBookingViewerCan = object
else:
    RoomBookingViewerCan = BOOKING_CAN.type


# Rooms are booked in slots of 15 minutes or more (tenants.manifests.RoomSpec).
SLOTS_PER_DAY = 24 * 60 // 15


def _days(arguments: dict[str, Any]) -> int:
    """Days a free-slot search covers; a range the resolver refuses counts as one."""
    first, last = arguments.get("fromDate"), arguments.get("toDate")
    if not isinstance(first, date) or not isinstance(last, date):
        return 1
    return max(1, min((last - first).days + 1, bookings.MAX_RANGE_DAYS))


if TYPE_CHECKING:  # see mirror_enum
    WeekdayType = Weekday
else:
    WeekdayType = mirror_enum(
        Weekday,
        {
            Weekday.MON: "周一",
            Weekday.TUE: "周二",
            Weekday.WED: "周三",
            Weekday.THU: "周四",
            Weekday.FRI: "周五",
            Weekday.SAT: "周六",
            Weekday.SUN: "周日",
        },
        name="Weekday",
    )
MAX_OPENING_SPANS = bookings.MAX_OPENING_SPANS
TIME_OF_DAY = '"HH:MM", 24-hour, China Standard Time.'


@strawberry.type(description="A span of a weekday during which a room is open.")
class OpeningSpan:
    weekday: WeekdayType
    opens: str = strawberry.field(description=TIME_OF_DAY)
    closes: str = strawberry.field(description=TIME_OF_DAY + ' "24:00" is midnight at the end of the day.')


@strawberry.input(description="A span of a weekday during which a room is open.")
class OpeningSpanInput:
    weekday: WeekdayType
    opens: str = strawberry.field(description=TIME_OF_DAY)
    closes: str = strawberry.field(description=TIME_OF_DAY + ' "24:00" is midnight at the end of the day.')


def opening_spans(hours: dict[str, list[str]]) -> list[OpeningSpan]:
    return [
        OpeningSpan(weekday=WeekdayType(day.value), opens=span[:5], closes=span[6:])
        for day in Weekday
        for span in sorted(hours.get(day.value, []))
    ]


@strawberry.type(description="A free slot of a room.")
class Slot:
    starts_at: datetime
    ends_at: datetime


@strawberry.type(description="活动室 / 功能室: a community room residents can book.")
class Room(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    name: str
    capacity: int
    facilities: list[str]
    requires_approval: bool
    opening_hours: list[OpeningSpan] = strawberry.field(
        description="When it is open, Monday first; a weekday without a span is closed.",
        metadata=cost(items=MAX_OPENING_SPANS),
    )
    closed_dates: list[date]
    slot_minutes: int
    min_notice_hours: int
    max_days_ahead: int
    max_duration_minutes: int
    weekly_quota_hours: int = strawberry.field(description="Hours one resident may hold per week.")
    community_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: bookings.RoomRow) -> Room:
        return cls(
            id=row.id,
            name=row.name,
            capacity=row.capacity,
            facilities=list(row.facilities or []),
            requires_approval=row.requires_approval,
            opening_hours=opening_spans(row.opening_hours or {}),
            closed_dates=[date.fromisoformat(d) for d in row.closed_dates or []],
            slot_minutes=row.slot_minutes,
            min_notice_hours=row.min_notice_hours,
            max_days_ahead=row.max_days_ahead,
            max_duration_minutes=row.max_duration_minutes,
            weekly_quota_hours=row.weekly_quota_hours,
            community_id=row.community_id,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[Room | None]:
        return await nodes_by_id(node_ids, lambda i: bookings.room(info.context, i), cls.from_row)

    @strawberry.field
    async def community(self, info: Info) -> Community:
        return Community.from_row(referenced(await organisation.community(info.context, self.community_id)))

    @strawberry.field(
        description="Bookable slots between two dates (China Standard Time, at most 31 days). Public.",
        metadata=cost(items=lambda arguments: _days(arguments) * SLOTS_PER_DAY),
    )
    async def free_slots(self, info: Info, from_date: date, to_date: date) -> list[Slot]:
        slots = await bookings.free_slots(info.context, self.id, from_date, to_date)
        return [Slot(starts_at=shanghai(s), ends_at=shanghai(e)) for s, e in slots]


@strawberry.type(description="A booking of a room: the resident's own, or any in an admin's community.")
class RoomBooking(ScopedNode):
    id: relay.NodeID[uuid.UUID]
    purpose: str
    attendees: int
    starts_at: datetime
    ends_at: datetime
    status: BookingStatusType
    reason: str | None = strawberry.field(description="Why it was rejected or cancelled.")
    answer_due_at: datetime | None = strawberry.field(
        description="A pending request is answered within one working day."
    )
    recurring: bool = strawberry.field(description="Part of a weekly series.")
    created_at: datetime
    row: strawberry.Private[bookings.BookingRow]

    @classmethod
    def from_row(cls, info: Info, row: bookings.BookingRow) -> RoomBooking:
        return cls(
            id=row.id,
            purpose=row.purpose,
            attendees=row.attendees,
            starts_at=shanghai(row.starts_at),
            ends_at=shanghai(row.ends_at),
            status=BookingStatusType(row.status),
            reason=row.reason,
            answer_due_at=shanghai(row.answer_due_at),
            recurring=row.series_id is not None,
            created_at=shanghai(row.created_at),
            row=row,
        )

    @classmethod
    async def lookup_nodes(cls, info: Info, node_ids: list[str]) -> list[RoomBooking | None]:
        return await nodes_by_id(node_ids, lambda i: bookings.booking(info.context, i), lambda r: cls.from_row(info, r))

    @strawberry.field
    async def room(self, info: Info) -> Room:
        return Room.from_row(referenced(await bookings.room(info.context, self.row.room_id)))

    @strawberry.field(description="What the caller may do to it now.")
    def viewer_can(self, info: Info) -> RoomBookingViewerCan:
        return BOOKING_CAN.of(bookings.viewer_can(info.context, self.row))

    @strawberry.field(description="Who booked; phone masked unless the caller is them or an admin over them.")
    def resident(self, info: Info) -> Person:
        phone = people.shown_phone(info.context, self.row.resident_id, self.row.resident_phone, self.row.community_id)
        return Person(id=self.row.resident_id, name=self.row.resident_name, phone=phone)


@strawberry.input
class RoomBookingFilter:
    statuses: list[BookingStatusType] | None = None
    room_id: relay.GlobalID | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None


def booking_filter(value: RoomBookingFilter | None) -> bookings.BookingFilter:
    if value is None:
        return bookings.BookingFilter()
    return bookings.BookingFilter(
        statuses=tuple(BookingStatus(s.value) for s in value.statuses or ()),
        room_id=decode_id(value.room_id, "Room", "filter.roomId") if value.room_id else None,
        starts_from=value.starts_from,
        starts_before=value.starts_before,
    )


@strawberry.type
class Query:
    @strawberry.field(description="The street office's rooms, optionally of one community. Public.")
    async def rooms(
        self, info: Info, community_id: relay.GlobalID | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[Room]:
        community = decode_id(community_id, "Community", "communityId") if community_id else None
        return connection(
            await bookings.list_rooms(info.context, community, page_request(info, first, after)), Room.from_row
        )

    @strawberry.field(
        description="A resident's own bookings; an admin's community's (a room's calendar, the approval queue), by start time."
    )
    async def room_bookings(
        self, info: Info, filter: RoomBookingFilter | None = None, first: int | None = None, after: str | None = None
    ) -> Connection[RoomBooking]:
        page = await bookings.list_bookings(info.context, booking_filter(filter), page_request(info, first, after))
        return connection(page, lambda row: RoomBooking.from_row(info, row))


@strawberry.input(
    description="A booking request. With repeatWeeklyUntil, the same slot every week until that date, accepted or refused as a whole."
)
class RequestRoomBookingInput:
    room_id: relay.GlobalID
    starts_at: datetime
    ends_at: datetime
    purpose: str
    attendees: int
    repeat_weekly_until: date | None = None


@strawberry.input
class RoomBookingStepInput:
    booking_id: relay.GlobalID


@strawberry.input
class RoomBookingReasonInput:
    booking_id: relay.GlobalID
    reason: str | None = strawberry.field(
        default=None, description="Required of admins rejecting or cancelling; shown to the resident."
    )


@strawberry.input(description="All of a room's settings, as the admin's form sends them.")
class UpdateRoomInput:
    room_id: relay.GlobalID
    name: str
    capacity: int
    facilities: list[str]
    requires_approval: bool
    opening_hours: list[OpeningSpanInput] = strawberry.field(
        description=f"Every span the room is open (at most {MAX_OPENING_SPANS}); a weekday without one is closed."
    )
    closed_dates: list[date]
    slot_minutes: int = strawberry.field(description="15, 30 or 60.")
    min_notice_hours: int
    max_days_ahead: int
    max_duration_minutes: int
    weekly_quota_hours: int


@strawberry.type
class RoomPayload:
    room: Room | None
    errors: list[UserError]


@strawberry.type
class RoomBookingPayload:
    booking: RoomBooking | None
    errors: list[UserError]


async def _respond(info: Info, action: Callable[[], Awaitable[uuid.UUID]]) -> RoomBookingPayload:
    outcome = await attempt(info, action)
    row = await bookings.booking(info.context, outcome.value) if outcome.value else None
    return RoomBookingPayload(booking=RoomBooking.from_row(info, row) if row else None, errors=outcome.errors)


def _booking_id(value: relay.GlobalID) -> uuid.UUID:
    return decode_id(value, "RoomBooking", "bookingId")


@strawberry.type
class Mutation:
    @strawberry.mutation(description="An admin of the room's community edits its name, capacity and booking rules.")
    async def update_room(self, info: Info, input: UpdateRoomInput) -> RoomPayload:
        async def update() -> uuid.UUID:
            settings = bookings.RoomSettings(
                name=input.name,
                capacity=input.capacity,
                facilities=input.facilities,
                requires_approval=input.requires_approval,
                opening_hours=[(Weekday(span.weekday.value), span.opens, span.closes) for span in input.opening_hours],
                closed_dates=input.closed_dates,
                slot_minutes=input.slot_minutes,
                min_notice_hours=input.min_notice_hours,
                max_days_ahead=input.max_days_ahead,
                max_duration_minutes=input.max_duration_minutes,
                weekly_quota_hours=input.weekly_quota_hours,
            )
            return await bookings.update_room(info.context, decode_id(input.room_id, "Room", "roomId"), settings)

        outcome = await attempt(info, update)
        row = await bookings.room(info.context, outcome.value) if outcome.value else None
        return RoomPayload(room=Room.from_row(row) if row else None, errors=outcome.errors)

    @strawberry.mutation(
        description="A resident requests a room. Checked against opening hours, closed dates, notice, horizon, duration, capacity, the weekly quota and other bookings."
    )
    async def request_room_booking(self, info: Info, input: RequestRoomBookingInput) -> RoomBookingPayload:
        return await _respond(
            info,
            lambda: bookings.request_booking(
                info.context,
                bookings.BookingRequest(
                    room_id=decode_id(input.room_id, "Room", "roomId"),
                    starts_at=input.starts_at,
                    ends_at=input.ends_at,
                    purpose=input.purpose,
                    attendees=input.attendees,
                    repeat_weekly_until=input.repeat_weekly_until,
                ),
            ),
        )

    @strawberry.mutation(description="A community admin approves a pending request (a weekly series as a whole).")
    async def approve_room_booking(self, info: Info, input: RoomBookingStepInput) -> RoomBookingPayload:
        return await _respond(
            info, lambda: bookings.decide(info.context, _booking_id(input.booking_id), approve=True, reason=None)
        )

    @strawberry.mutation(description="A community admin rejects a pending request, with a reason.")
    async def reject_room_booking(self, info: Info, input: RoomBookingReasonInput) -> RoomBookingPayload:
        return await _respond(
            info,
            lambda: bookings.decide(info.context, _booking_id(input.booking_id), approve=False, reason=input.reason),
        )

    @strawberry.mutation(description="The resident cancels before the start; an admin cancels with a reason.")
    async def cancel_room_booking(self, info: Info, input: RoomBookingReasonInput) -> RoomBookingPayload:
        return await _respond(info, lambda: bookings.cancel(info.context, _booking_id(input.booking_id), input.reason))

    @strawberry.mutation(description="Check in, from 15 minutes before the start (the resident or an admin).")
    async def check_in_room_booking(self, info: Info, input: RoomBookingStepInput) -> RoomBookingPayload:
        return await _respond(info, lambda: bookings.check_in(info.context, _booking_id(input.booking_id)))

    @strawberry.mutation(description="An admin records that nobody came.")
    async def mark_room_booking_no_show(self, info: Info, input: RoomBookingStepInput) -> RoomBookingPayload:
        return await _respond(info, lambda: bookings.mark_no_show(info.context, _booking_id(input.booking_id)))

    @strawberry.mutation(description="An admin records a checked-in booking as completed.")
    async def complete_room_booking(self, info: Info, input: RoomBookingStepInput) -> RoomBookingPayload:
        return await _respond(info, lambda: bookings.complete(info.context, _booking_id(input.booking_id)))
