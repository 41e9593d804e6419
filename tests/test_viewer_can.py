"""`viewerCan` tells the truth: for every state an item can be in (and each step's own condition
either way: a work order signed for or not, a reopen window open or passed, a booking before,
during or after its check-in time) and every role that sees the item, the steps it lists are
exactly the mutations that then succeed. Each mutation is tried for real, from the same state.

The item is put into each state directly in the database (its timeline does not matter here),
and put back after every mutation that succeeded, so one item serves a whole walk."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from graphql import build_schema
from sqlalchemy import update
from starlette.applications import Starlette
from strawberry.relay import from_base64

from models.appointments import Appointment, AppointmentStatus
from models.bookings import BookingStatus, RoomBooking
from models.complaints import Complaint, ComplaintStatus
from schema.appointments import APPOINTMENT_CAN
from schema.bookings import BOOKING_CAN
from schema.build import SDL_PATH
from schema.common import ViewerCan
from schema.complaints import COMPLAINT_CAN
from tenants.context import unit_of_work
from tests.conftest import COMMUNITY_ADMIN, STAFF, TENANT_ADMIN, WORKER_1
from tests.support import Api, Clock, TenantHandle, fresh_phone, gid

MUTATIONS = build_schema(SDL_PATH.read_text(encoding="utf-8")).mutation_type
assert MUTATIONS is not None
# Tuesday 2 March 2027, 09:00 in Shanghai: a working day, and far from other tests' bookings.
NOW = datetime(2027, 3, 2, 1, 0, tzinfo=UTC)


def uuid_of(global_id: str) -> uuid.UUID:
    return uuid.UUID(from_base64(global_id)[1])


@dataclass(frozen=True)
class Walk:
    """One domain's walk: its node, its mutations with valid input, and how to put it in a state."""

    api: Api
    app: Starlette
    tenant_id: uuid.UUID
    model: type
    item_id: str
    can: ViewerCan[Any]
    inputs: dict[str, Callable[[str], dict[str, Any]]]  # mutation → its input, for a caller's role

    async def put(self, values: dict[str, Any]) -> None:
        services = self.app.state.services
        tenant = await services.directory.by_id(self.tenant_id)
        async with unit_of_work(services, tenant=tenant, viewer=None, writes=True) as ctx:
            assert ctx.session is not None
            model: Any = self.model
            await ctx.session.execute(update(model).where(model.id == uuid_of(self.item_id)).values(**values))

    async def listed(self, token: str) -> dict[str, bool]:
        fields = " ".join(self.can.fields.values())
        query = f"query($id: ID!) {{ node(id: $id) {{ ... on {self.model.__name__} {{ viewerCan {{ {fields} }} }} }} }}"
        node = (await self.api.data(query, {"id": self.item_id}, token=token))["node"]
        assert node is not None, "the role walked must see the item"
        listed: dict[str, bool] = node["viewerCan"]
        return listed

    async def accepted(self, token: str, role: str, state: dict[str, Any]) -> dict[str, bool]:
        """Tries every mutation from `state`; puts the item back after each that succeeds."""
        accepted: dict[str, bool] = {}
        for action, mutation in self.can.mutations.items():
            input_type = MUTATIONS.fields[mutation].args["input"].type
            document = f"mutation($input: {input_type}) {{ {mutation}(input: $input) {{ errors {{ code }} }} }}"
            body = await self.api.run(document, {"input": self.inputs[mutation](role)}, token=token)
            errors = body["data"][mutation]["errors"] if body.get("data") else body["errors"]
            accepted[self.can.fields[action]] = errors == []
            if errors == []:
                await self.put(state)
        return accepted

    async def check(self, state: dict[str, Any], roles: dict[str, str]) -> None:
        assert set(self.inputs) == set(self.can.mutations.values()), "every mutation of the item is tried"
        await self.put(state)
        listed, accepted = {}, {}
        for role, phone in roles.items():
            token = await self.api.token("alpha", phone)
            listed[role] = await self.listed(token)
            accepted[role] = await self.accepted(token, role, state)
        assert listed == accepted, state


@pytest.fixture
def frozen(clock: Clock) -> Any:
    with clock.at(NOW):
        yield


@pytest.fixture
async def ids(api: Api, alpha: TenantHandle) -> dict[str, str]:
    departments = await api.data("{ departments(first: 10) { edges { node { id code } } } }", tenant="alpha")
    staff = await api.data(
        "{ staffMembers(first: 10) { edges { node { id name } } } }", token=await api.token("alpha", TENANT_ADMIN)
    )
    return {
        "justice": next(e["node"]["id"] for e in departments["departments"]["edges"] if e["node"]["code"] == "justice"),
        "justice staff": next(
            e["node"]["id"] for e in staff["staffMembers"]["edges"] if e["node"]["name"] == "司法所干部"
        ),
        "other grid": gid("Grid", alpha.grids["A1-G2"]),
    }


async def resident_of_a1(api: Api, alpha: TenantHandle) -> tuple[str, str]:
    """A new resident of grid A1-G1: their phone and user id (global id)."""
    phone = fresh_phone()
    registered = await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], name="walker", phone=phone)
    return phone, registered["resident"]["id"]


# --- complaints ------------------------------------------------------------------------------

COMPLAINT_STATES: dict[str, dict[str, Any]] = {
    "submitted": {"status": ComplaintStatus.SUBMITTED},
    "accepted": {"status": ComplaintStatus.ACCEPTED},
    "in progress": {"status": ComplaintStatus.IN_PROGRESS},
    "dispatched, not signed for": {"status": ComplaintStatus.DISPATCHED, "department_accepted_at": None},
    "dispatched, signed for": {"status": ComplaintStatus.DISPATCHED, "department_accepted_at": NOW},
    "resolved, within the reopen window": {"status": ComplaintStatus.RESOLVED, "resolved_at": NOW - timedelta(days=1)},
    "resolved, past the reopen window": {"status": ComplaintStatus.RESOLVED, "resolved_at": NOW - timedelta(days=30)},
    "closed": {"status": ComplaintStatus.CLOSED},
    "rejected": {"status": ComplaintStatus.REJECTED},
    "reopened": {"status": ComplaintStatus.REOPENED},
    "withdrawn": {"status": ComplaintStatus.WITHDRAWN},
}


@pytest.mark.parametrize("state", COMPLAINT_STATES)
async def test_a_complaints_viewer_can_is_what_its_mutations_accept(
    state: str, api: Api, app: Starlette, alpha: TenantHandle, ids: dict[str, str], frozen: None
) -> None:
    phone, _ = await resident_of_a1(api, alpha)
    category = (await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", tenant="alpha"))[
        "complaintCategories"
    ]["edges"][0]["node"]["id"]
    submitted = await api.data(
        "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { complaint { id grid { id } } } }",
        {"input": {"complaint": {"title": "walk", "content": "every state, every role", "categoryId": category}}},
        token=await api.token("alpha", phone),
    )
    complaint = submitted["submitComplaint"]["complaint"]
    worker = await api.data("{ me { id } }", token=await api.token("alpha", WORKER_1))
    department = uuid_of(ids["justice"])
    # Where it stands besides its status: the handler's grid, the department it went to.
    whole = {
        "grid_id": alpha.grids["A1-G1"],
        "community_id": alpha.communities["A1"],
        "handler_id": uuid_of(worker["me"]["id"]),
        "department_id": department,
        "department_accepted_at": None,
        "resolved_at": None,
        **COMPLAINT_STATES[state],
    }
    step = {"complaintId": complaint["id"]}
    walk = Walk(
        api,
        app,
        alpha.id,
        Complaint,
        complaint["id"],
        COMPLAINT_CAN,
        {
            "acceptComplaint": lambda _: step,
            "startComplaintWork": lambda _: step,
            "dispatchComplaint": lambda _: {**step, "departmentId": ids["justice"], "dueInWorkingDays": 5},
            "acceptWorkOrder": lambda _: step,
            "returnComplaintToGrid": lambda _: {**step, "reason": "不属于本部门"},
            "resolveComplaint": lambda _: {**step, "reply": "已处理"},
            "rejectComplaint": lambda _: {**step, "reason": "重复反映"},
            "reassignComplaint": lambda _: {**step, "gridId": ids["other grid"]},
            "superviseComplaint": lambda _: {**step, "note": "请加快", "dueInWorkingDays": 3},
            "confirmComplaint": lambda _: {**step, "rating": 5},
            "reopenComplaint": lambda _: {**step, "reason": "没有修好"},
            "withdrawComplaint": lambda _: step,
        },
    )
    roles = {
        "resident": phone,
        "handler": WORKER_1,
        "department": STAFF,
        "community admin": COMMUNITY_ADMIN,
        "tenant admin": TENANT_ADMIN,
    }
    await walk.check(whole, roles)


# --- room bookings ---------------------------------------------------------------------------

HOUR = timedelta(hours=1)
BOOKING_STATES: dict[str, dict[str, Any]] = {
    "pending": {"status": BookingStatus.PENDING, "starts_at": NOW + 30 * HOUR},
    "approved, days ahead": {"status": BookingStatus.APPROVED, "starts_at": NOW + 30 * HOUR},
    "approved, check-in open": {"status": BookingStatus.APPROVED, "starts_at": NOW + timedelta(minutes=10)},
    "approved, started 20 minutes ago": {"status": BookingStatus.APPROVED, "starts_at": NOW - timedelta(minutes=20)},
    "rejected": {"status": BookingStatus.REJECTED, "starts_at": NOW + 30 * HOUR},
    "cancelled": {"status": BookingStatus.CANCELLED, "starts_at": NOW + 30 * HOUR},
    "checked in": {"status": BookingStatus.CHECKED_IN, "starts_at": NOW - timedelta(minutes=20)},
    "no show": {"status": BookingStatus.NO_SHOW, "starts_at": NOW - 2 * HOUR},
    "completed": {"status": BookingStatus.COMPLETED, "starts_at": NOW - 2 * HOUR},
}


@pytest.mark.parametrize("state", BOOKING_STATES)
async def test_a_bookings_viewer_can_is_what_its_mutations_accept(
    state: str, api: Api, app: Starlette, alpha: TenantHandle, frozen: None
) -> None:
    phone, resident_id = await resident_of_a1(api, alpha)
    rooms = await api.data("{ rooms(first: 10) { edges { node { id name } } } }", tenant="alpha")
    room = next(e["node"]["id"] for e in rooms["rooms"]["edges"] if e["node"]["name"] == "调解室")
    booking_id = uuid.uuid4()
    starts = BOOKING_STATES[state]["starts_at"]
    services = app.state.services
    async with unit_of_work(services, tenant=await services.directory.by_id(alpha.id), viewer=None, writes=True) as ctx:
        assert ctx.session is not None
        ctx.session.add(
            RoomBooking(
                id=booking_id,
                room_id=uuid_of(room),
                resident_id=uuid_of(resident_id),
                purpose="walk",
                attendees=2,
                starts_at=starts,
                ends_at=starts + HOUR,
                status=BookingStatus.PENDING,
                created_at=NOW - 48 * HOUR,
            )
        )
    step = {"bookingId": gid("RoomBooking", booking_id)}
    with_reason = {**step, "reason": "设备检修"}
    walk = Walk(
        api,
        app,
        alpha.id,
        RoomBooking,
        step["bookingId"],
        BOOKING_CAN,
        {
            "approveRoomBooking": lambda _: step,
            "rejectRoomBooking": lambda _: with_reason,
            "cancelRoomBooking": lambda role: step if role == "resident" else with_reason,
            "checkInRoomBooking": lambda _: step,
            "markRoomBookingNoShow": lambda _: step,
            "completeRoomBooking": lambda _: step,
        },
    )
    values = {**BOOKING_STATES[state], "ends_at": starts + HOUR, "reason": None}
    try:
        await walk.check(values, {"resident": phone, "community admin": COMMUNITY_ADMIN, "tenant admin": TENANT_ADMIN})
    finally:
        # It no longer holds its slot, so the next state's booking may take the same time.
        await walk.put({"status": BookingStatus.CANCELLED})


# --- appointments ----------------------------------------------------------------------------

APPOINTMENT_STATES: dict[str, dict[str, Any]] = {
    "submitted": {"status": AppointmentStatus.SUBMITTED, "assignee_id": None},
    "assigned": {"status": AppointmentStatus.ASSIGNED},
    "contacted": {"status": AppointmentStatus.CONTACTED},
    "scheduled": {"status": AppointmentStatus.SCHEDULED},
    "completed": {"status": AppointmentStatus.COMPLETED},
    "cancelled": {"status": AppointmentStatus.CANCELLED},
}


@pytest.fixture
async def appointment(api: Api, alpha: TenantHandle) -> AsyncIterator[tuple[str, str]]:
    phone, _ = await resident_of_a1(api, alpha)
    kinds = await api.data("{ appointmentTypes(first: 10) { edges { node { id code } } } }", tenant="alpha")
    mediation = next(e["node"]["id"] for e in kinds["appointmentTypes"]["edges"] if e["node"]["code"] == "mediation")
    asked = await api.data(
        "mutation($input: RequestAppointmentInput!) { requestAppointment(input: $input) { appointment { id } } }",
        {"input": {"typeId": mediation, "description": "邻里纠纷需要调解。", "preferredTimes": ["工作日上午"]}},
        token=await api.token("alpha", phone),
    )
    yield phone, asked["requestAppointment"]["appointment"]["id"]


@pytest.mark.parametrize("state", APPOINTMENT_STATES)
async def test_an_appointments_viewer_can_is_what_its_mutations_accept(
    state: str,
    api: Api,
    app: Starlette,
    alpha: TenantHandle,
    ids: dict[str, str],
    appointment: tuple[str, str],
    frozen: None,
) -> None:
    phone, appointment_id = appointment
    step = {"appointmentId": appointment_id}
    walk = Walk(
        api,
        app,
        alpha.id,
        Appointment,
        appointment_id,
        APPOINTMENT_CAN,
        {
            "assignAppointment": lambda _: {**step, "staffId": ids["justice staff"]},
            "recordAppointmentContact": lambda _: {
                **step,
                "contactedAt": (NOW - HOUR).isoformat(),
                "method": "PHONE",
            },
            "scheduleAppointment": lambda _: {**step, "scheduledAt": (NOW + 24 * HOUR).isoformat()},
            "completeAppointment": lambda _: {**step, "outcome": "已调解"},
            "cancelAppointment": lambda _: {**step, "reason": "已自行解决"},
        },
    )
    values = {"assignee_id": uuid_of(ids["justice staff"]), **APPOINTMENT_STATES[state]}
    roles = {"resident": phone, "community admin": COMMUNITY_ADMIN, "tenant admin": TENANT_ADMIN}
    if values["assignee_id"] is not None:
        roles["assignee"] = STAFF
    await walk.check(values, roles)


@pytest.fixture
async def two_of_each(api: Api, app: Starlette, alpha: TenantHandle, appointment: tuple[str, str]) -> None:
    """Two complaints, two bookings, two appointments in street office alpha at least."""
    phone, resident_id = await resident_of_a1(api, alpha)
    token = await api.token("alpha", phone)
    category = (await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", tenant="alpha"))[
        "complaintCategories"
    ]["edges"][0]["node"]["id"]
    kinds = await api.data("{ appointmentTypes(first: 1) { edges { node { id } } } }", tenant="alpha")
    for _ in range(2):
        await api.data(
            "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { errors { code } } }",
            {"input": {"complaint": {"title": "列表", "content": "两条以上", "categoryId": category}}},
            token=token,
        )
    await api.data(
        "mutation($input: RequestAppointmentInput!) { requestAppointment(input: $input) { errors { code } } }",
        {
            "input": {
                "typeId": kinds["appointmentTypes"]["edges"][0]["node"]["id"],
                "description": "第二个预约事项。",
                "preferredTimes": ["周末"],
            }
        },
        token=token,
    )
    rooms = await api.data("{ rooms(first: 1) { edges { node { id } } } }", tenant="alpha")
    services = app.state.services
    async with unit_of_work(services, tenant=await services.directory.by_id(alpha.id), viewer=None, writes=True) as ctx:
        assert ctx.session is not None
        for hours in (100, 200):
            ctx.session.add(
                RoomBooking(
                    room_id=uuid_of(rooms["rooms"]["edges"][0]["node"]["id"]),
                    resident_id=uuid_of(resident_id),
                    purpose="列表",
                    attendees=2,
                    starts_at=NOW + hours * HOUR,
                    ends_at=NOW + (hours + 1) * HOUR,
                    status=BookingStatus.CANCELLED,
                    created_at=NOW,
                )
            )


@pytest.mark.parametrize(
    ("field", "can"),
    [("complaints", COMPLAINT_CAN), ("roomBookings", BOOKING_CAN), ("appointments", APPOINTMENT_CAN)],
)
async def test_viewer_can_adds_no_statement_to_a_list(
    api: Api, field: str, can: ViewerCan[Any], two_of_each: None
) -> None:
    from models.database import counting_statements

    admin = await api.token("alpha", TENANT_ADMIN)

    async def statements(selection: str) -> tuple[int, int]:
        with counting_statements() as counter:
            data = await api.data(f"{{ {field}(first: 50) {{ edges {{ node {{ {selection} }} }} }} }}", token=admin)
        return counter.count, len(data[field]["edges"])

    await statements("id")  # the caller's session is checked once, then remembered for a while
    plain, rows = await statements("id")
    asked, _ = await statements(f"id viewerCan {{ {' '.join(can.fields.values())} }}")
    assert rows > 1 and asked == plain
