"""The named requests, each as wanjia's GraphQL document and the PostGraphile document that asks
the same of the database (the bound's hand-written SQL is in bench.bound), plus who asks it.

PostGraphile knows nothing of wanjia's roles: the tenant reaches it as app.tenant_id (row-level
security, as for wanjia), and a role's scope is written as a filter equal to wanjia's (a grid
worker: complaints they handle or of a grid they work; a resident: their own). What wanjia
computes in Python (free slots, `overdue`, masked phones) a PostGraphile client would compute
from the rows it asks for here.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from bench.offices import staff_phone

SHANGHAI = ZoneInfo("Asia/Shanghai")
BIG_OFFICE = "xingfulu"
INBOX_STATUSES = ("submitted", "accepted", "in_progress", "reopened")
OPEN_STATUSES = ("submitted", "accepted", "in_progress", "dispatched", "reopened")
ALL_STATUSES = (*OPEN_STATUSES, "resolved", "closed", "rejected", "withdrawn")
SEARCH = "楼道"


@dataclass(frozen=True)
class Person:
    id: str
    phone: str


@dataclass(frozen=True)
class Subjects:
    """Who and what the requests are about, found in the loaded data."""

    tenant_id: str
    slug: str
    grid_worker: Person  # of the grid with the most open complaints
    tenant_admin: Person
    resident: Person  # the one with the most complaints
    room_id: str  # the room with the most bookings holding a slot in the coming week
    first_day: date  # the coming week, China Standard Time
    last_day: date

    def person(self, role: str) -> Person | None:
        return {"grid_worker": self.grid_worker, "tenant_admin": self.tenant_admin, "resident": self.resident}.get(role)


def find_subjects(owner_dsn: str, slug: str = BIG_OFFICE) -> Subjects:
    with psycopg.connect(owner_dsn, autocommit=True) as connection:
        tenant_id = str(connection.execute("SELECT id FROM tenants WHERE slug = %s", (slug,)).fetchone()[0])
        # Row-level security binds the owner as well (FORCE).
        connection.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant_id,))

        def one(query: str, *params: object) -> tuple[Any, ...]:
            row = connection.execute(query, params).fetchone()
            if row is None:
                raise SystemExit(f"no data for the benchmark in {slug}: load it first (python -m bench.load)")
            return tuple(str(v) if isinstance(v, uuid.UUID) else v for v in row)

        worker = one(
            "SELECT u.id, u.phone FROM complaints c JOIN grids g ON g.tenant_id = c.tenant_id AND g.id = c.grid_id "
            "JOIN users u ON u.tenant_id = g.tenant_id AND u.id = g.worker_id "
            "WHERE c.status = ANY(%s) GROUP BY u.id, u.phone ORDER BY count(*) DESC LIMIT 1",
            list(INBOX_STATUSES),
        )
        admin = one("SELECT id, phone FROM users WHERE phone = %s", staff_phone(0, 1, 0))
        resident = one(
            "SELECT u.id, u.phone FROM complaints c JOIN users u ON u.tenant_id = c.tenant_id AND u.id = c.resident_id "
            "GROUP BY u.id, u.phone ORDER BY count(*) DESC LIMIT 1"
        )
        tomorrow = datetime.now(SHANGHAI).date() + timedelta(days=1)
        first = datetime.combine(tomorrow, datetime.min.time(), SHANGHAI)
        room = one(
            "SELECT r.id FROM rooms r LEFT JOIN room_bookings b ON b.tenant_id = r.tenant_id AND b.room_id = r.id "
            "AND b.status IN ('pending', 'approved') AND b.starts_at >= %s AND b.starts_at < %s "
            "GROUP BY r.id ORDER BY count(b.id) DESC, r.id LIMIT 1",
            first,
            first + timedelta(days=7),
        )
    return Subjects(
        tenant_id=tenant_id,
        slug=slug,
        grid_worker=Person(*worker),
        tenant_admin=Person(*admin),
        resident=Person(*resident),
        room_id=room[0],
        first_day=tomorrow,
        last_day=tomorrow + timedelta(days=6),
    )


def global_id(type_name: str, value: str) -> str:
    """A Relay id as wanjia (strawberry) makes it."""
    return base64.b64encode(f"{type_name}:{value}".encode()).decode()


def row_id(global_value: str) -> str:
    return base64.b64decode(global_value).decode().split(":", 1)[1]


@dataclass(frozen=True)
class Document:
    query: str
    variables: Callable[[Subjects], dict[str, Any]] = lambda _: {}

    def body(self, subjects: Subjects) -> dict[str, Any]:
        return {"query": self.query, "variables": self.variables(subjects)}


@dataclass(frozen=True)
class NamedRequest:
    name: str
    label: str
    role: str  # grid_worker, tenant_admin, resident or anonymous
    wanjia: Document
    postgraphile: Document
    # The rows each answer is made of, in order: the two must agree.
    wanjia_rows: Callable[[dict[str, Any]], Any]
    postgraphile_rows: Callable[[dict[str, Any]], Any]
    # What the bound (bench.bound) needs to know beyond the caller: the room and dates.
    bound_variables: Callable[[Subjects], dict[str, Any]] = lambda _: {}


def _ids(edges: list[dict[str, Any]]) -> list[str]:
    return [row_id(edge["node"]["id"]) for edge in edges]


def _now(_: Subjects) -> dict[str, Any]:
    return {"now": datetime.now(UTC).isoformat()}


REQUESTS = [
    NamedRequest(
        name="inbox",
        label="grid worker inbox",
        role="grid_worker",
        wanjia=Document(
            """query Inbox { complaints(first: 20, order: DEADLINE,
  filter: {statuses: [SUBMITTED, ACCEPTED, IN_PROGRESS, REOPENED]}) {
  edges { node { id title status overdue resolveDueAt category { name } resident { name phone } grid { name }
    timeline(first: 10) { edges { node { action actorName note at } } } } }
  pageInfo { hasNextPage endCursor } } }"""
        ),
        postgraphile=Document(
            """query Inbox($me: UUID!, $statuses: [String!]!) { complaints(first: 20,
  orderBy: [RESOLVE_DUE_AT_ASC, ID_ASC],
  filter: {status: {in: $statuses}, or: [{handlerId: {equalTo: $me}}, {tenantGrid: {workerId: {equalTo: $me}}}]}) {
  nodes { id title status resolveDueAt acknowledgeDueAt tenantCategory { name } tenantResident { name phone }
    tenantGrid { name }
    complaintEventsByTenantIdAndComplaintId(first: 10, orderBy: ID_ASC) {
      nodes { action note createdAt tenantActor { name } } } }
  pageInfo { hasNextPage endCursor } } }""",
            lambda s: {"me": s.grid_worker.id, "statuses": list(INBOX_STATUSES)},
        ),
        wanjia_rows=lambda d: [
            (row_id(e["node"]["id"]), len(e["node"]["timeline"]["edges"])) for e in d["complaints"]["edges"]
        ],
        postgraphile_rows=lambda d: [
            (n["id"], len(n["complaintEventsByTenantIdAndComplaintId"]["nodes"])) for n in d["complaints"]["nodes"]
        ],
    ),
    NamedRequest(
        name="tree",
        label="organisation tree (anonymous)",
        role="anonymous",
        wanjia=Document(
            """query Tree { communities(first: 10) { edges { node { id name
  grids(first: 20) { edges { node { id name buildings(first: 5) { edges { node { id name units } } } } } } } } } }"""
        ),
        postgraphile=Document(
            """query Tree { communities(first: 10, orderBy: [CODE_ASC, ID_ASC]) { nodes { id name
  gridsByTenantIdAndCommunityId(first: 20, orderBy: [CODE_ASC, ID_ASC]) { nodes { id name
    buildingsByTenantIdAndGridId(first: 5, orderBy: [CODE_ASC, ID_ASC]) { nodes { id name units } } } } } } }"""
        ),
        wanjia_rows=lambda d: [
            row_id(b["node"]["id"])
            for c in d["communities"]["edges"]
            for g in c["node"]["grids"]["edges"]
            for b in g["node"]["buildings"]["edges"]
        ],
        postgraphile_rows=lambda d: [
            b["id"]
            for c in d["communities"]["nodes"]
            for g in c["gridsByTenantIdAndCommunityId"]["nodes"]
            for b in g["buildingsByTenantIdAndGridId"]["nodes"]
        ],
    ),
    NamedRequest(
        name="counts",
        label="complaintCounts (tenant admin)",
        role="tenant_admin",
        wanjia=Document("query Counts { complaintCounts { total overdue byStatus { status count } } }"),
        # One count per status (a closed set), faster here than pg-aggregates' groupedAggregates
        # with distinctCount (1.0–2.0 s against 0.3 s at a million complaints).
        postgraphile=Document(
            "query Counts($now: Datetime!, $open: [String!]!) {"
            + "".join(f' {s}: complaints(condition: {{status: "{s}"}}) {{ totalCount }}' for s in ALL_STATUSES)
            + """ overdue: complaints(filter: {status: {in: $open}, or: [{resolveDueAt: {lessThan: $now}},
    {status: {equalTo: "submitted"}, acknowledgeDueAt: {lessThan: $now}}]}) { totalCount } }""",
            lambda _: {**_now(_), "open": list(OPEN_STATUSES)},
        ),
        wanjia_rows=lambda d: sorted(
            (c["status"].lower(), c["count"]) for c in d["complaintCounts"]["byStatus"] if c["count"]
        ),
        postgraphile_rows=lambda d: sorted((s, d[s]["totalCount"]) for s in ALL_STATUSES if d[s]["totalCount"]),
    ),
    NamedRequest(
        name="search",
        label=f'search "{SEARCH}" (tenant admin)',
        role="tenant_admin",
        wanjia=Document(
            """query Search($search: String!) { complaints(first: 20, filter: {search: $search}) {
  edges { node { id title status resolveDueAt category { name } } } pageInfo { hasNextPage endCursor } } }""",
            lambda _: {"search": SEARCH},
        ),
        postgraphile=Document(
            """query Search($search: String!) { complaints(first: 20, orderBy: [RESOLVE_DUE_AT_ASC, ID_ASC],
  filter: {or: [{title: {includes: $search}}, {content: {includes: $search}}]}) {
  nodes { id title status resolveDueAt tenantCategory { name } } pageInfo { hasNextPage endCursor } } }""",
            lambda _: {"search": SEARCH},
        ),
        wanjia_rows=lambda d: _ids(d["complaints"]["edges"]),
        postgraphile_rows=lambda d: [n["id"] for n in d["complaints"]["nodes"]],
    ),
    NamedRequest(
        name="mine",
        label="resident's own complaints",
        role="resident",
        wanjia=Document(
            """query Mine { complaints(first: 20, order: NEWEST) {
  edges { node { id title status submittedAt resolveDueAt category { name } handler { name phone } } }
  pageInfo { hasNextPage endCursor } } }"""
        ),
        postgraphile=Document(
            """query Mine($me: UUID!) { complaints(first: 20, orderBy: ID_DESC, condition: {residentId: $me}) {
  nodes { id title status submittedAt resolveDueAt tenantCategory { name } tenantHandler { name phone } }
  pageInfo { hasNextPage endCursor } } }""",
            lambda s: {"me": s.resident.id},
        ),
        wanjia_rows=lambda d: _ids(d["complaints"]["edges"]),
        postgraphile_rows=lambda d: [n["id"] for n in d["complaints"]["nodes"]],
    ),
    NamedRequest(
        name="slots",
        label="a room's free slots (7 days)",
        role="resident",
        wanjia=Document(
            """query Slots($room: ID!, $from: Date!, $to: Date!) { node(id: $room) { ... on Room {
  name freeSlots(fromDate: $from, toDate: $to) { startsAt endsAt } } } }""",
            lambda s: {
                "room": global_id("Room", s.room_id),
                "from": s.first_day.isoformat(),
                "to": s.last_day.isoformat(),
            },
        ),
        postgraphile=Document(
            """query Slots($tenant: UUID!, $room: UUID!, $from: Datetime!, $to: Datetime!) {
  room(tenantId: $tenant, id: $room) { name openingHours closedDates slotMinutes minNoticeHours maxDaysAhead
    roomBookingsByTenantIdAndRoomId(filter: {status: {in: ["pending", "approved"]},
      startsAt: {lessThan: $to}, endsAt: {greaterThan: $from}}) { nodes { startsAt endsAt } } } }""",
            lambda s: {
                "tenant": s.tenant_id,
                "room": s.room_id,
                "from": datetime.combine(s.first_day, datetime.min.time(), SHANGHAI).isoformat(),
                "to": datetime.combine(s.last_day + timedelta(days=1), datetime.min.time(), SHANGHAI).isoformat(),
            },
        ),
        wanjia_rows=lambda d: d["node"]["name"],
        postgraphile_rows=lambda d: d["room"]["name"],
        bound_variables=lambda s: {
            "roomId": s.room_id,
            "from": s.first_day.isoformat(),
            "to": s.last_day.isoformat(),
        },
    ),
    NamedRequest(
        name="review",
        label="residents awaiting review (50)",
        role="tenant_admin",
        wanjia=Document(
            """query Review { residentsAwaitingReview(first: 50) {
  edges { node { id name phone room building { name } grid { name } } } } }"""
        ),
        postgraphile=Document(
            """query Review { residentProfiles(first: 50, orderBy: ID_ASC, condition: {status: "pending"}) {
  nodes { id room userByTenantIdAndId { name phone } tenantBuilding { name tenantGrid { name } } } } }"""
        ),
        wanjia_rows=lambda d: _ids(d["residentsAwaitingReview"]["edges"]),
        postgraphile_rows=lambda d: [n["id"] for n in d["residentProfiles"]["nodes"]],
    ),
    NamedRequest(
        name="notifications",
        label="notifications (grid worker)",
        role="grid_worker",
        wanjia=Document(
            """query Notifications { unreadNotificationCount notifications(first: 20) {
  edges { node { id kind title body subject { id } createdAt read } } pageInfo { hasNextPage endCursor } } }"""
        ),
        postgraphile=Document(
            """query Notifications($me: UUID!) {
  unread: notifications(condition: {recipientId: $me}, filter: {readAt: {isNull: true}}) { totalCount }
  notifications(first: 20, orderBy: ID_DESC, condition: {recipientId: $me}) {
    nodes { id kind title body subjectType subjectId createdAt readAt } pageInfo { hasNextPage endCursor } } }""",
            lambda s: {"me": s.grid_worker.id},
        ),
        wanjia_rows=lambda d: (
            d["unreadNotificationCount"],
            [row_id(e["node"]["id"]) for e in d["notifications"]["edges"]],
        ),
        postgraphile_rows=lambda d: (d["unread"]["totalCount"], [n["id"] for n in d["notifications"]["nodes"]]),
    ),
]
BY_NAME = {request.name: request for request in REQUESTS}
