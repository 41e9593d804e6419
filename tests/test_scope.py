"""In my street office but outside my scope: every mutation that names a place or a person
checks it against the caller's scope, answers a typed error, and writes nothing. A grid worker
files only into the grids they serve, a community admin only into their community; an item of
another grid or community is not there at all (NOT_FOUND), as if it belonged to another office.
Residents report wherever they see a problem: `submitComplaint` takes any place of the office."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from graphql import build_schema
from starlette.applications import Starlette
from strawberry.relay import from_base64

from models.bookings import BookingStatus, RoomBooking
from schema.build import SDL_PATH
from tenants.context import unit_of_work
from tests.conftest import (
    COMMUNITY_ADMIN,
    OTHER_COMMUNITY_ADMIN,
    OTHER_STAFF,
    TENANT_ADMIN,
    WORKER_1,
    WORKER_2,
)
from tests.support import Api, TenantHandle, fresh_phone, gid

MUTATIONS = build_schema(SDL_PATH.read_text(encoding="utf-8")).mutation_type
assert MUTATIONS is not None


@pytest.fixture(scope="module")
async def items(api: Api, app: Starlette, alpha: TenantHandle) -> dict[str, Any]:
    """In community A1, grid A1-G1: a resident's complaint, a pending registration, a pending
    room booking and an appointment assigned to the justice office's staff member."""
    phone = fresh_phone()
    reporter = await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], phone=phone)
    pending = await api.register_resident("alpha", alpha.buildings["A1-G1-B2"])
    token = await api.token("alpha", phone)
    category = (await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", tenant="alpha"))[
        "complaintCategories"
    ]["edges"][0]["node"]["id"]
    departments = await api.data("{ departments(first: 10) { edges { node { id code } } } }", tenant="alpha")
    beta_departments = await api.data("{ departments(first: 1) { edges { node { id } } } }", tenant="beta")
    complaint = await api.data(
        "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { complaint { id } } }",
        {"input": {"complaint": {"title": "范围", "content": "管辖范围之外", "categoryId": category}}},
        token=token,
    )
    kinds = await api.data("{ appointmentTypes(first: 10) { edges { node { id code } } } }", tenant="alpha")
    asked = await api.data(
        "mutation($input: RequestAppointmentInput!) { requestAppointment(input: $input) { appointment { id } } }",
        {
            "input": {
                "typeId": next(
                    e["node"]["id"] for e in kinds["appointmentTypes"]["edges"] if e["node"]["code"] == "mediation"
                ),
                "description": "需要法律援助的情况说明。",
                "preferredTimes": ["工作日"],
            }
        },
        token=token,
    )
    admin = await api.token("alpha", TENANT_ADMIN)
    staff = await api.data("{ staffMembers(first: 10) { edges { node { id name } } } }", token=admin)
    staff_ids = {e["node"]["name"]: e["node"]["id"] for e in staff["staffMembers"]["edges"]}
    appointment_id = asked["requestAppointment"]["appointment"]["id"]
    assigned = await api.data(
        "mutation($input: AssignAppointmentInput!) { assignAppointment(input: $input) { errors { code } } }",
        {"input": {"appointmentId": appointment_id, "staffId": staff_ids["司法所干部"]}},
        token=admin,
    )
    assert assigned["assignAppointment"]["errors"] == []
    rooms = await api.data("{ rooms(first: 10) { edges { node { id name } } } }", tenant="alpha")
    room = next(e["node"]["id"] for e in rooms["rooms"]["edges"] if e["node"]["name"] == "调解室")
    booking_id = uuid.uuid4()
    starts = datetime(2027, 6, 1, 2, 0, tzinfo=UTC)
    services = app.state.services
    async with unit_of_work(services, tenant=await services.directory.by_id(alpha.id), viewer=None, writes=True) as ctx:
        assert ctx.session is not None
        ctx.session.add(
            RoomBooking(
                id=booking_id,
                room_id=uuid.UUID(from_base64(room)[1]),
                resident_id=uuid.UUID(from_base64(reporter["resident"]["id"])[1]),
                purpose="范围",
                attendees=2,
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                status=BookingStatus.PENDING,
                created_at=starts - timedelta(days=3),
            )
        )
    return {
        "complaint": complaint["submitComplaint"]["complaint"]["id"],
        "reporter": reporter["resident"]["id"],
        "pending": pending["resident"]["id"],
        "booking": gid("RoomBooking", booking_id),
        "appointment": appointment_id,
        "room": room,
        "category": category,
        "justice": next(e["node"]["id"] for e in departments["departments"]["edges"] if e["node"]["code"] == "justice"),
        "beta department": beta_departments["departments"]["edges"][0]["node"]["id"],
        "civil staff": staff_ids["民政办干部"],
        "grid A1-G1": gid("Grid", alpha.grids["A1-G1"]),
        "grid A2-G1": gid("Grid", alpha.grids["A2-G1"]),
        "building A2": gid("Building", alpha.buildings["A2-G1-B1"]),
    }


STATE = """query($complaint: ID!, $pending: ID!, $booking: ID!, $appointment: ID!, $room: ID!, $category: ID!) {
  complaints(first: 1) { totalCount }
  c: node(id: $complaint) { ... on Complaint { status grid { id } handler { id } department { id } updatedAt } }
  r: node(id: $pending) { ... on Resident { status rejectionReason } }
  b: node(id: $booking) { ... on RoomBooking { status reason } }
  a: node(id: $appointment) { ... on Appointment { status assignee { id } contactedAt } }
  room: node(id: $room) { ... on Room { name capacity } }
  category: node(id: $category) { ... on ComplaintCategory { name resolveDays } }
}"""


async def state(api: Api, items: dict[str, Any]) -> dict[str, Any]:
    """What any of the mutations below could have changed, as the tenant admin sees it."""
    variables = {k: items[k] for k in ("complaint", "pending", "booking", "appointment", "room", "category")}
    return await api.data(STATE, variables, token=await api.token("alpha", TENANT_ADMIN))


def draft(items: dict[str, Any], **where: Any) -> dict[str, Any]:
    return {
        "title": "代为登记",
        "content": "电话反映的问题",
        "categoryId": items["category"],
        "address": "路口",
        **where,
    }


ROOM = {
    "name": "调解室",
    "capacity": 99,
    "facilities": [],
    "requiresApproval": True,
    "openingHours": [{"weekday": "MON", "opens": "09:00", "closes": "12:00"}],
    "closedDates": [],
    "slotMinutes": 60,
    "minNoticeHours": 24,
    "maxDaysAhead": 60,
    "maxDurationMinutes": 120,
    "weeklyQuotaHours": 20,
}
Input = Callable[[dict[str, Any]], dict[str, Any]]
CASES: list[tuple[str, str, str, Input, str, str | None]] = [
    # (what, caller, mutation, input, code, field)
    (
        "a grid worker files into a grid they do not serve",
        WORKER_2,
        "fileComplaint",
        lambda i: {"source": "PHONE", "complaint": draft(i, gridId=i["grid A1-G1"])},
        "OUT_OF_SCOPE",
        "gridId",
    ),
    (
        "a grid worker files into a building of another community",
        WORKER_1,
        "fileComplaint",
        lambda i: {"source": "VISIT", "complaint": draft(i, buildingId=i["building A2"])},
        "OUT_OF_SCOPE",
        "buildingId",
    ),
    (
        "a community admin files into another community",
        COMMUNITY_ADMIN,
        "fileComplaint",
        lambda i: {"source": "INSPECTION", "complaint": draft(i, gridId=i["grid A2-G1"])},
        "OUT_OF_SCOPE",
        "gridId",
    ),
    (
        "a community admin files for a resident of another community",
        OTHER_COMMUNITY_ADMIN,
        "fileComplaint",
        lambda i: {"source": "PHONE", "residentId": i["reporter"], "complaint": draft(i, gridId=i["grid A2-G1"])},
        "NOT_FOUND",
        "residentId",
    ),
    (
        "a community admin reassigns into another community",
        COMMUNITY_ADMIN,
        "reassignComplaint",
        lambda i: {"complaintId": i["complaint"], "gridId": i["grid A2-G1"]},
        "OUT_OF_SCOPE",
        "gridId",
    ),
    (
        "a community admin reassigns another community's complaint",
        OTHER_COMMUNITY_ADMIN,
        "reassignComplaint",
        lambda i: {"complaintId": i["complaint"], "gridId": i["grid A2-G1"]},
        "NOT_FOUND",
        "complaintId",
    ),
    (
        "a grid worker dispatches another grid's complaint",
        WORKER_2,
        "dispatchComplaint",
        lambda i: {"complaintId": i["complaint"], "departmentId": i["justice"], "dueInWorkingDays": 3},
        "NOT_FOUND",
        "complaintId",
    ),
    (
        "a handler dispatches to a department of another street office",
        WORKER_1,
        "dispatchComplaint",
        lambda i: {"complaintId": i["complaint"], "departmentId": i["beta department"], "dueInWorkingDays": 3},
        "INVALID",
        "departmentId",
    ),
    (
        "a grid worker verifies a resident of another grid",
        WORKER_2,
        "verifyResident",
        lambda i: {"residentId": i["pending"]},
        "NOT_FOUND",
        "residentId",
    ),
    (
        "a community admin rejects a resident of another community",
        OTHER_COMMUNITY_ADMIN,
        "rejectResident",
        lambda i: {"residentId": i["pending"], "reason": "查无此人"},
        "NOT_FOUND",
        "residentId",
    ),
    (
        "a community admin edits another community's room",
        OTHER_COMMUNITY_ADMIN,
        "updateRoom",
        lambda i: {"roomId": i["room"], **ROOM},
        "NOT_FOUND",
        "roomId",
    ),
    (
        "a community admin approves a booking of another community",
        OTHER_COMMUNITY_ADMIN,
        "approveRoomBooking",
        lambda i: {"bookingId": i["booking"]},
        "NOT_FOUND",
        "bookingId",
    ),
    (
        "a community admin rejects a booking of another community",
        OTHER_COMMUNITY_ADMIN,
        "rejectRoomBooking",
        lambda i: {"bookingId": i["booking"], "reason": "不行"},
        "NOT_FOUND",
        "bookingId",
    ),
    (
        "a community admin cancels a booking of another community",
        OTHER_COMMUNITY_ADMIN,
        "cancelRoomBooking",
        lambda i: {"bookingId": i["booking"], "reason": "不行"},
        "NOT_FOUND",
        "bookingId",
    ),
    (
        "a community admin triages an appointment of another community",
        OTHER_COMMUNITY_ADMIN,
        "assignAppointment",
        lambda i: {"appointmentId": i["appointment"], "staffId": i["civil staff"]},
        "NOT_FOUND",
        "appointmentId",
    ),
    (
        "an admin gives an appointment to staff of a department that does not handle it",
        COMMUNITY_ADMIN,
        "assignAppointment",
        lambda i: {"appointmentId": i["appointment"], "staffId": i["civil staff"]},
        "INVALID",
        "staffId",
    ),
    (
        "staff record contact on an appointment assigned to someone else",
        OTHER_STAFF,
        "recordAppointmentContact",
        lambda i: {"appointmentId": i["appointment"], "contactedAt": "2026-01-01T09:00:00+08:00", "method": "PHONE"},
        "NOT_FOUND",
        "appointmentId",
    ),
    (
        "a community admin cancels an appointment of another community",
        OTHER_COMMUNITY_ADMIN,
        "cancelAppointment",
        lambda i: {"appointmentId": i["appointment"], "reason": "不行"},
        "NOT_FOUND",
        "appointmentId",
    ),
    (
        "a community admin edits the street office's complaint category",
        COMMUNITY_ADMIN,
        "updateComplaintCategory",
        lambda i: {"categoryId": i["category"], "name": "改名", "acknowledgeHours": 1, "resolveDays": 1},
        "FORBIDDEN",
        None,
    ),
]


@pytest.mark.parametrize(
    ("caller", "mutation", "make_input", "code", "field"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
async def test_outside_the_callers_scope_is_a_typed_error_and_writes_nothing(
    api: Api, items: dict[str, Any], caller: str, mutation: str, make_input: Input, code: str, field: str | None
) -> None:
    assert MUTATIONS is not None
    input_type = MUTATIONS.fields[mutation].args["input"].type
    before = await state(api, items)
    answer = await api.data(
        f"mutation($input: {input_type}) {{ {mutation}(input: $input) {{ errors {{ field code }} }} }}",
        {"input": make_input(items)},
        token=await api.token("alpha", caller),
    )
    assert {"field": field, "code": code} in answer[mutation]["errors"], answer
    assert await state(api, items) == before


async def test_each_place_in_scope_is_still_taken(api: Api, items: dict[str, Any]) -> None:
    """The same filings from inside the caller's scope go through: the check refuses only what it must."""
    filed = "mutation($input: FileComplaintInput!) { fileComplaint(input: $input) { complaint { grid { id } } errors { code } } }"
    places = {
        WORKER_1: {"gridId": items["grid A1-G1"]},
        COMMUNITY_ADMIN: {"gridId": items["grid A1-G1"]},
        TENANT_ADMIN: {"buildingId": items["building A2"]},
    }
    refused = {}
    for caller, where in places.items():
        answer = await api.data(
            filed,
            {"input": {"source": "PHONE", "complaint": draft(items, **where)}},
            token=await api.token("alpha", caller),
        )
        refused[caller] = answer["fileComplaint"]["errors"]
    assert refused == {caller: [] for caller in places}
    own_resident = await api.data(
        filed,
        {"input": {"source": "VISIT", "residentId": items["reporter"], "complaint": draft(items)}},
        token=await api.token("alpha", WORKER_1),
    )
    assert own_resident["fileComplaint"]["complaint"]["grid"]["id"] == items["grid A1-G1"]
