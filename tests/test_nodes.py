"""Everything with an id is a Node, so normalised caches (Apollo's InMemoryCache, urql's
graphcache) work; `node(id:)` finds each only for callers who may see it, and answers null to
anyone else, in the same street office or another. A notification opens its subject, whatever
domain it belongs to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from graphql import GraphQLObjectType, build_schema

from schema.build import SDL_PATH
from tests.conftest import COMMUNITY_ADMIN, STAFF, TENANT_ADMIN, WORKER_1, WORKER_2
from tests.support import Api, TenantHandle
from tests.test_attachments import png

NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on Person { name phone } ... on Me { name } ... on Attachment { kind url }
  ... on Notification { notificationKind: kind } } }"""
SUBMIT = """mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) {
  complaint { id resident { id phone } handler { id name } attachments { id } } errors { code } } }"""


def test_every_object_type_with_an_id_implements_node() -> None:
    schema = build_schema(SDL_PATH.read_text(encoding="utf-8"))
    node = schema.type_map["Node"]
    with_ids = [t for t in schema.type_map.values() if isinstance(t, GraphQLObjectType) and "id" in t.fields]
    assert not [t.name for t in with_ids if node not in t.interfaces]
    assert {"Notification", "Attachment", "Me", "Person", "AppointmentType", "Complaint"} <= {t.name for t in with_ids}


async def node(api: Api, node_id: str, **auth: Any) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (await api.data(NODE, {"id": node_id}, **auth))["node"]
    return found


@pytest.fixture(scope="module")
async def reported(api: Api, alpha: TenantHandle) -> dict[str, Any]:
    """A resident of A1-G1 reports with a photo; their grid worker is told."""
    registered = await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], name="刘阿姨")
    token = registered["tokens"]["accessToken"]
    categories = await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", tenant="alpha")
    draft = {
        "title": "路灯不亮",
        "content": "2号楼前路灯坏了一周。",
        "categoryId": categories["complaintCategories"]["edges"][0]["node"]["id"],
        "attachments": [None],
    }
    response = await api.upload(
        SUBMIT,
        {"input": {"complaint": draft}},
        {"input.complaint.attachments.0": ("a.png", png(), "image/png")},
        token=token,
    )
    assert response.status_code == 200, response.text
    complaint = response.json()["data"]["submitComplaint"]["complaint"]
    worker = await api.token("alpha", WORKER_1)
    notes = await api.data("{ notifications(first: 1) { edges { node { id subject { id } } } } }", token=worker)
    me = await api.data("{ me { id } }", token=token)
    return {
        "resident": token,
        "complaint": complaint,
        "notification": notes["notifications"]["edges"][0]["node"],
        "me": me["me"]["id"],
    }


async def test_a_notification_is_found_by_its_recipient_only(api: Api, reported: dict[str, Any]) -> None:
    note = reported["notification"]
    assert note["subject"]["id"] == reported["complaint"]["id"]
    found = await node(api, note["id"], token=await api.token("alpha", WORKER_1))
    assert found == {"__typename": "Notification", "id": note["id"], "notificationKind": "COMPLAINT_NEW"}
    outsiders = {"other worker": await api.token("alpha", WORKER_2), "admin": await api.token("alpha", TENANT_ADMIN)}
    seen = {who: await node(api, note["id"], token=token) for who, token in outsiders.items()}
    assert seen == dict.fromkeys(outsiders)
    assert await node(api, note["id"], token=await api.token("beta", WORKER_1)) is None


async def test_an_attachment_is_found_by_those_who_see_its_complaint(api: Api, reported: dict[str, Any]) -> None:
    attachment_id = reported["complaint"]["attachments"][0]["id"]
    shown = {}
    for phone in (WORKER_1, COMMUNITY_ADMIN):
        found = await node(api, attachment_id, token=await api.token("alpha", phone))
        shown[phone] = found and (found["kind"], found["url"].startswith("http"))
    assert shown == dict.fromkeys((WORKER_1, COMMUNITY_ADMIN), ("IMAGE", True))
    assert (await node(api, attachment_id, token=reported["resident"])) is not None
    outsiders: dict[str, dict[str, str]] = {
        "other worker": {"token": await api.token("alpha", WORKER_2)},
        "staff": {"token": await api.token("alpha", STAFF)},
        "beta admin": {"token": await api.token("beta", TENANT_ADMIN)},
        "anonymous": {"tenant": "alpha"},
    }
    seen = {who: await node(api, attachment_id, **caller) for who, caller in outsiders.items()}
    assert seen == dict.fromkeys(outsiders)


async def test_me_is_found_by_the_caller_alone(api: Api, reported: dict[str, Any]) -> None:
    assert (await node(api, reported["me"], token=reported["resident"])) == {
        "__typename": "Me",
        "id": reported["me"],
        "name": "刘阿姨",
    }
    assert await node(api, reported["me"], token=await api.token("alpha", TENANT_ADMIN)) is None


async def test_a_reporter_is_a_person_found_by_those_their_complaint_shows_them_to(
    api: Api, reported: dict[str, Any], alpha: TenantHandle
) -> None:
    person = reported["complaint"]["resident"]
    mine = await node(api, person["id"], token=reported["resident"])
    assert mine is not None and mine["phone"] == person["phone"] and "*" not in mine["phone"]
    handler = await node(api, person["id"], token=await api.token("alpha", WORKER_1))
    assert handler is not None and handler["name"] == "刘阿姨" and "****" in handler["phone"]
    admin = await node(api, person["id"], token=await api.token("alpha", COMMUNITY_ADMIN))
    assert admin is not None and "*" not in admin["phone"]
    other_resident = (await api.register_resident("alpha", alpha.buildings["A1-G1-B2"], name="路人"))["tokens"]
    outsiders: dict[str, dict[str, str]] = {
        "other resident": {"token": other_resident["accessToken"]},
        "other worker": {"token": await api.token("alpha", WORKER_2)},
        "staff": {"token": await api.token("alpha", STAFF)},
        "beta admin": {"token": await api.token("beta", TENANT_ADMIN)},
        "anonymous": {"tenant": "alpha"},
    }
    seen = {who: await node(api, person["id"], **caller) for who, caller in outsiders.items()}
    assert seen == dict.fromkeys(outsiders)


async def test_a_grid_worker_is_a_person_every_signed_in_caller_may_be_shown(
    api: Api, reported: dict[str, Any]
) -> None:
    worker = reported["complaint"]["handler"]
    assert (await node(api, worker["id"], token=reported["resident"])) == {
        "__typename": "Person",
        "id": worker["id"],
        "name": "网格员一",
        "phone": "139****0011",
    }
    assert await node(api, worker["id"], token=await api.token("beta", WORKER_1)) is None
    assert await node(api, worker["id"], tenant="alpha") is None


async def test_a_notification_stops_opening_a_subject_its_recipient_may_no_longer_see(
    api: Api, reported: dict[str, Any], alpha: TenantHandle
) -> None:
    """Reassigned to another grid, the complaint leaves the first grid worker's sight."""
    from tests.support import gid

    admin = await api.token("alpha", TENANT_ADMIN)
    moved = await api.data(
        """mutation($input: ReassignComplaintInput!) { reassignComplaint(input: $input) { errors { code } } }""",
        {"input": {"complaintId": reported["complaint"]["id"], "gridId": gid("Grid", alpha.grids["A1-G2"])}},
        token=admin,
    )
    assert moved["reassignComplaint"]["errors"] == []
    note = await node(api, reported["notification"]["id"], token=await api.token("alpha", WORKER_1))
    assert note is not None
    subject = await api.data(
        "query($id: ID!) { node(id: $id) { ... on Notification { subject { id } } } }",
        {"id": reported["notification"]["id"]},
        token=await api.token("alpha", WORKER_1),
    )
    assert subject["node"]["subject"] is None
    told = await api.data(
        "{ notifications(first: 1) { edges { node { kind subject { __typename id } } } } }",
        token=await api.token("alpha", WORKER_2),
    )
    assert told["notifications"]["edges"][0]["node"] == {
        "kind": "COMPLAINT_NEW",
        "subject": {"__typename": "Complaint", "id": reported["complaint"]["id"]},
    }


async def test_bookings_and_appointments_are_subjects_too(api: Api, alpha: TenantHandle) -> None:
    from tests.test_appointments import ask
    from tests.test_bookings import request, resident

    rooms = await api.data("{ rooms(first: 10) { edges { node { id name } } } }", tenant="alpha")
    room = next(e["node"]["id"] for e in rooms["rooms"]["edges"] if e["node"]["name"] == "调解室")
    booked = await request(api, await resident(api, alpha), room, *await _a_free_hour(api, room), attendees=4)
    assert booked["errors"] == [], booked
    admin = await api.token("alpha", COMMUNITY_ADMIN)
    query = "{ notifications(first: 20) { edges { node { kind subject { __typename id } } } } }"
    pending = await api.data(query, token=admin)
    assert {"kind": "BOOKING_PENDING", "subject": {"__typename": "RoomBooking", "id": booked["booking"]["id"]}} in [
        e["node"] for e in pending["notifications"]["edges"]
    ]
    kinds = await api.data("{ appointmentTypes(first: 10) { edges { node { id code } } } }", tenant="alpha")
    _, asked = await ask(api, alpha, {e["node"]["code"]: e["node"]["id"] for e in kinds["appointmentTypes"]["edges"]})
    told = await api.data(query, token=admin)
    assert {"kind": "APPOINTMENT_NEW", "subject": {"__typename": "Appointment", "id": asked["appointment"]["id"]}} in [
        e["node"] for e in told["notifications"]["edges"]
    ]


async def _a_free_hour(api: Api, room: str) -> tuple[str, str]:
    """The room's first free hour from three days on, as its free slots say (other tests book
    the same room on days near today's)."""
    from models.calendar import SHANGHAI

    first = (datetime.now(UTC) + timedelta(days=3)).astimezone(SHANGHAI).date()
    query = "query($id: ID!, $from: Date!, $to: Date!) { node(id: $id) { ... on Room { freeSlots(fromDate: $from, toDate: $to) { startsAt endsAt } } } }"
    days = {"from": first.isoformat(), "to": (first + timedelta(days=13)).isoformat()}
    slot = (await api.data(query, {"id": room, **days}, tenant="alpha"))["node"]["freeSlots"][0]
    return slot["startsAt"], slot["endsAt"]


def test_every_subject_a_notification_can_name_is_a_node() -> None:
    from models.notifications import SubjectType

    schema = build_schema(SDL_PATH.read_text(encoding="utf-8"))
    node = schema.type_map["Node"]
    found = {subject: schema.type_map.get(subject.value) for subject in SubjectType}
    not_nodes = [s for s, t in found.items() if not (isinstance(t, GraphQLObjectType) and node in t.interfaces)]
    assert not_nodes == []
