"""Fill a fresh PostgreSQL database `wanjia_bench` with a city's worth of street offices.

    .venv/bin/python -m bench.load --complaints 1000000 --tenants 3

1. Drops and creates the database and its two roles as the README's production set-up does
   (bench.database), then runs the project's own migrations as the owner, granting the app role.
2. Onboards the street offices through the project's own onboarding (tenants.onboarding) from
   generated manifests (bench.offices), as the app role: the big office (10 communities × 20 grids
   × 5 buildings) and `--tenants - 1` smaller ones.
3. Bulk-inserts with binary COPY, as the owner, in one transaction: residents (users, role grants,
   households, resident profiles), complaints with their timelines and notifications, room
   bookings, appointments with their timelines. The big office gets `--complaints`, every other
   office `--other-complaints`.
4. VACUUM (ANALYZE) as the owner, as autovacuum would have done on a database that grew slowly.
5. Counts every office's rollups from what was loaded, the rows `wanjia rollups rebuild` would
   write (COPY goes round the lifecycle steps that keep them), so that counts and dashboards
   answer from the loaded data: in SQL, one INSERT … SELECT a rollup table (bench.rollups).
   Then analyses them.

What the data looks like, and why:
- Skew: grids and buildings are weighted Zipf-like (a few hot grids hold several times the
  average), residents' activity too (most file a handful, a few file hundreds).
- Lifecycle: 3% open (submitted, accepted, in progress, dispatched, reopened), ~1% resolved
  awaiting confirmation, most closed, some rejected or withdrawn. Every timeline is the one its
  status implies; every deadline is counted in Chinese working time; items that went past a
  deadline were flagged (overdue_at, a timeline step, notifications; again for the resolve
  deadline if the first was the acknowledgement's), and resolved items older than the
  auto-close limit are closed, exactly as `wanjia jobs run` leaves them. So the
  sweep `wanjia serve` runs at start finds (almost) nothing to do and the data is in the steady
  state a running system would be in.
- Ids are UUIDv7 like models.base.new_id makes, stamped with the row's own time (as if created
  then), so "newest first" and timeline order by id agree with the timestamps.
- One argon2 hash of the demo password (production cost) for every account.

Loading and constraints: COPY FROM is refused on a table whose row-level security is FORCEd, so
the load lifts FORCE on the tables it fills and sets it again at the end. It also drops the
secondary indexes and foreign keys of the tables it fills, copies in one transaction, then
recreates them from their catalogue definitions on two connections at once (each index, and
each table's foreign keys, in a transaction of its own), which validates every row in bulk:
semantics are unchanged, only the order of work differs, and it is 2.5 times faster than COPY
with every index and foreign key in place (`--keep-constraints`: 28k against 73k rows/s here,
at 220,000 complaints). A load that fails after the copy drops the database rather than leave
it without its indexes, constraints or FORCE, and only a load that completed marks the database
loaded (bench.run and bench.soak ask for it). Rows are made by child processes (two by default,
each making every other batch: making them is the slower side) while the server copies the
batch before, in COPY's binary format: each value packed by its column's type in the catalogue
(ids as their 16 bytes, times as microseconds), which the server stores without parsing.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import math
import multiprocessing
import operator
import queue
import random
import struct
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NamedTuple

import chinese_calendar
import psycopg

from bench import rollups
from bench.database import APP_ROLE, BenchDatabase
from bench.offices import BIG, DEMO_PASSWORD, SMALL, manifest, resident_phone
from bench.texts import (
    APPOINTMENT_DESCRIPTIONS,
    CATEGORY_SHARE,
    DISPATCH_NOTE,
    FEEDBACK,
    PURPOSES,
    REJECT_NOTE,
    REOPEN_NOTE,
    Stories,
    person_name,
)
from models import migrations
from models.analytics import ROLLUPS
from models.settings import Settings
from resolvers.deadlines import calendar_of
from resolvers.permissions import session_of
from tenants.context import Services, unit_of_work
from tenants.onboarding import onboard

DAY = 86400.0
HOUR = 3600.0
SHANGHAI_OFFSET = 8 * HOUR  # China Standard Time has no daylight saving
EPOCH = date(1970, 1, 1)
BATCH = 10_000  # complaints per COPY batch
AUTO_CLOSE_DAYS = 7  # the offices' complaint_auto_close_days (the manifest default)
REBUILDERS = 2  # connections building indexes and foreign keys at once, one per core

COLUMNS = {
    "users": "tenant_id, id, phone, name, password_hash, is_active, created_at",
    "households": "tenant_id, id, building_id, room",
    "resident_profiles": "tenant_id, id, building_id, room, household_id, status, rejection_reason, id_number, "
    "registered_at, reviewed_at",
    "role_grants": "tenant_id, id, user_id, role, community_id, department_id",
    "complaints": "tenant_id, id, resident_id, filed_by_id, source, category_id, title, content, building_id, "
    "address, latitude, longitude, grid_id, community_id, handler_id, department_id, department_accepted_at, "
    "status, is_public, acknowledge_due_at, resolve_due_at, acknowledged_at, resolved_at, closed_at, overdue_at, "
    "resolution, rating, feedback, submitted_at, updated_at, version",
    "complaint_events": "tenant_id, id, complaint_id, action, actor_id, from_status, to_status, note, created_at",
    "work_orders": "tenant_id, id, complaint_id, department_id, community_id, dispatched_at, resolve_due_at, "
    "signed_at, returned_at, resolved_at",
    "notifications": "tenant_id, id, recipient_id, kind, title, body, subject_type, subject_id, created_at, read_at",
    "room_bookings": "tenant_id, id, room_id, resident_id, series_id, purpose, attendees, starts_at, ends_at, "
    "status, answer_due_at, overdue_at, decided_by_id, decided_at, reason, created_at, version",
    "appointments": "tenant_id, id, type_id, resident_id, community_id, description, preferred_times, status, "
    "assignee_id, contact_due_at, contacted_at, contact_method, scheduled_at, outcome, overdue_at, created_at, "
    "updated_at, version",
    "appointment_events": "tenant_id, id, appointment_id, action, actor_id, from_status, to_status, note, created_at",
}
# Filled by COPY; everything else (tenants, organisation, staff) comes from onboarding.
LOADED = tuple(COLUMNS)
# Filled as well, by complaints' triggers (migration 0018): its trigram index is rebuilt once too.
FILLED = (*LOADED, "complaints_search")


# --- values as binary COPY fields ----------------------------------------------------------------
# Binary rather than text: the server then takes ids and times as they are stored instead of
# parsing them (a fifth of its time), and the producers pack them instead of formatting them.

PG_EPOCH = 946_684_800  # 2000-01-01 UTC: PostgreSQL counts timestamps in microseconds from it
NULL_FIELD = b"\xff\xff\xff\xff"  # a field of length -1
TRUE, FALSE = b"\x00\x00\x00\x01\x01", b"\x00\x00\x00\x01\x00"
_length = struct.Struct(">i").pack
_ID_LENGTH = _length(16)
_integer = struct.Struct(">ii").pack
_double = struct.Struct(">id").pack
_microseconds = struct.Struct(">iq").pack

Encoder = Callable[[Any], bytes]


def _id_field(value: bytes | None) -> bytes:
    return NULL_FIELD if value is None else _ID_LENGTH + value


@functools.lru_cache(maxsize=1 << 16)  # most texts recur: statuses, actions, titles, notifications
def _text_field(value: str | None) -> bytes:
    if value is None:
        return NULL_FIELD
    data = value.encode()
    return _length(len(data)) + data


def _time_field(moment: float | None) -> bytes:
    if moment is None:
        return NULL_FIELD
    seconds = int(moment)
    return _microseconds(8, (seconds - PG_EPOCH) * 1_000_000 + int((moment - seconds) * 1e6))


def _integer_field(value: int | None) -> bytes:
    return NULL_FIELD if value is None else _integer(4, value)


def _double_field(value: float | None) -> bytes:
    return NULL_FIELD if value is None else _double(8, value)


def _boolean_field(value: bool) -> bytes:
    return TRUE if value else FALSE


# By the column's type in the catalogue (its udt_name).
ENCODERS: dict[str, Encoder] = {
    "uuid": _id_field,
    "varchar": _text_field,
    "text": _text_field,
    "json": _text_field,
    "timestamptz": _time_field,
    "int4": _integer_field,
    "float8": _double_field,
    "bool": _boolean_field,
}

# The random part of ids, seeded with each batch's own generator (OfficeData._seed): two
# processes making the same batch make the same ids.
_id_bits = random.Random()
_getrandbits = _id_bits.getrandbits


def uuid7_at(moment: float) -> bytes:
    """A UUIDv7 (RFC 9562) whose timestamp is `moment`: 48 bits of milliseconds, version 7, 74
    random bits, variant 10; the layout models.base.new_id (uuid6.uuid7) produces. Its 16 bytes."""
    rand = _getrandbits(74)
    value = (
        (int(moment * 1000) << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0x2 << 62) | (rand & 0x3FFF_FFFF_FFFF_FFFF)
    )
    return value.to_bytes(16)


# --- working time (deadlines), as the app counts it: 09:00–17:00 on official working days -------


class WorkingTime:
    def __init__(self) -> None:
        self._working: dict[int, bool] = {}

    def is_working(self, day: int) -> bool:
        known = self._working.get(day)
        if known is None:
            calendar_day = EPOCH + timedelta(days=day)
            try:
                known = chinese_calendar.is_workday(calendar_day)
            except NotImplementedError:
                known = calendar_day.weekday() < 5
            self._working[day] = known
        return known

    def days_after(self, moment: float, days: int) -> float:
        """The end (17:00) of the `days`-th working day after the day of `moment`."""
        day = int((moment + SHANGHAI_OFFSET) // DAY)
        counted = 0
        while counted < days:
            day += 1
            counted += self.is_working(day)
        return day * DAY + 17 * HOUR - SHANGHAI_OFFSET

    def hours_after(self, moment: float, hours: float) -> float:
        local, remaining = moment + SHANGHAI_OFFSET, hours * HOUR
        while True:
            day = int(local // DAY)
            opens, closes = day * DAY + 9 * HOUR, day * DAY + 17 * HOUR
            if not self.is_working(day) or local >= closes:
                local = (day + 1) * DAY + 9 * HOUR
                continue
            local = max(local, opens)
            if local + remaining <= closes:
                return local + remaining - SHANGHAI_OFFSET
            remaining -= closes - local
            local = (day + 1) * DAY + 9 * HOUR


# --- what onboarding made, read back ------------------------------------------------------------

Id = bytes  # a UUID's 16 bytes, as binary COPY takes it


@dataclass
class Building:
    id: Id
    units: int
    grid: Grid


@dataclass
class Grid:
    id: Id
    community_id: Id
    worker_id: Id | None
    buildings: list[Building] = field(default_factory=list)


@dataclass
class Office:
    index: int
    tenant_id: str
    slug: str
    grids: list[Grid]
    categories: list[tuple[Id, str, int, int, Id | None]]  # id, code, ack hours, resolve days, department
    departments: list[Id]
    department_staff: dict[Id, list[Id]]
    community_admins: dict[Id, list[Id]]
    rooms: list[dict[str, Any]]
    appointment_types: list[tuple[Id, str, Id | None]]  # id, code, department


def read_office(connection: psycopg.Connection, index: int, slug: str) -> Office:
    """As the owner; row-level security binds the owner too (FORCE), so the tenant is set."""
    tenant_id = str(connection.execute("SELECT id FROM tenants WHERE slug = %s", (slug,)).fetchone()[0])
    connection.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant_id,))

    def rows(query: str) -> list[tuple[Any, ...]]:
        return [tuple(v.bytes if isinstance(v, uuid.UUID) else v for v in row) for row in connection.execute(query)]

    grids = {g: Grid(g, c, w) for g, c, w in rows("SELECT id, community_id, worker_id FROM grids ORDER BY code")}
    for b, g, units in rows("SELECT id, grid_id, units FROM buildings ORDER BY code"):
        grids[g].buildings.append(Building(b, units, grids[g]))
    grants = rows("SELECT user_id, role, community_id, department_id FROM role_grants")
    department_staff: dict[Id, list[Id]] = {}
    community_admins: dict[Id, list[Id]] = {}
    for user, role, community, department in grants:
        if role == "staff":
            department_staff.setdefault(department, []).append(user)
        elif role == "community_admin":
            community_admins.setdefault(community, []).append(user)
    rooms = [
        dict(
            zip(
                (
                    "id",
                    "community_id",
                    "requires_approval",
                    "opening_hours",
                    "slot_minutes",
                    "capacity",
                    "max_days_ahead",
                ),
                r,
                strict=True,
            )
        )
        for r in rows(
            "SELECT id, community_id, requires_approval, opening_hours, slot_minutes, capacity, max_days_ahead FROM rooms"
        )
    ]
    office = Office(
        index=index,
        tenant_id=tenant_id,
        slug=slug,
        grids=list(grids.values()),
        categories=rows(
            "SELECT id, code, acknowledge_hours, resolve_days, default_department_id FROM complaint_categories"
        ),
        departments=[r[0] for r in rows("SELECT id FROM departments ORDER BY code")],
        department_staff=department_staff,
        community_admins=community_admins,
        rooms=rooms,
        appointment_types=rows("SELECT id, code, department_id FROM appointment_types"),
    )
    connection.execute("SELECT set_config('app.tenant_id', '', false)")
    return office


# --- generating rows ------------------------------------------------------------------------------

OPEN = {"submitted", "accepted", "in_progress", "dispatched", "reopened"}
# Final status: weight (per cent). Recent ones (open, or resolved within the auto-close limit) were
# submitted in the last weeks; the others anywhere in the office's history.
RECENT = [
    ("submitted", 0.5),
    ("accepted", 0.6),
    ("in_progress", 1.0),
    ("dispatched", 0.7),
    ("reopened", 0.2),
    ("resolved", 1.0),
]
HISTORIC = [("closed", 91.0), ("rejected", 3.0), ("withdrawn", 2.0)]


@dataclass
class Resident:
    id: Id
    building: Building
    community_id: Id


# A batch's rows in COPY's binary format, table by table: (table, data, rows).
Batch = list[tuple[str, bytes, int]]

COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # the signature, no flags, no header extension
COPY_TRAILER = b"\xff\xff"


class Chunk:
    """Rows of one table in COPY's binary format, built row by row: each value as its column's
    encoder packs it (None for NULL)."""

    def __init__(self, table: str, encoders: tuple[Encoder, ...]) -> None:
        self.table = table
        self.encoders = encoders
        self.field_count = struct.pack(">h", len(encoders))
        self.parts = [COPY_HEADER]
        self.rows = 0

    def add(self, *values: Any) -> None:
        if len(values) != len(self.encoders):
            raise ValueError(f"{self.table}: {len(values)} values for {len(self.encoders)} columns")
        self.parts.append(self.field_count)
        self.parts += map(operator.call, self.encoders, values)
        self.rows += 1

    def payload(self) -> tuple[str, bytes, int]:
        data = b"".join([*self.parts, COPY_TRAILER]) if self.rows else b""
        return self.table, data, self.rows


class OfficeData:
    """Every generated row of one office, yielded in batches whose parents come first."""

    def __init__(
        self,
        office: Office,
        complaints: int,
        now: float,
        years: float,
        password_hash: str,
        encoders: dict[str, tuple[Encoder, ...]],
    ) -> None:
        self.o = office
        self.encoders = encoders
        self.complaints = complaints
        self.now = now
        self.span = years * 365 * DAY
        self.password_hash = password_hash
        self.rand: random.Random
        self._seed(f"bench-{office.index}")
        self.work = WorkingTime()
        self.stories = Stories(self.rand)
        self.tid = uuid.UUID(office.tenant_id).bytes
        # A few hot grids (weight 1/sqrt(rank)) and inside each grid a hot building (1/rank), over
        # a shuffled order so that the hot ones are not simply the first codes.
        grids = office.grids[:]
        self.rand.shuffle(grids)
        weights = []
        self.buildings: list[Building] = []
        for rank, grid in enumerate(grids):
            inner = [1 / (b + 1) for b in range(len(grid.buildings))]
            self.rand.shuffle(inner)
            for building, w in zip(grid.buildings, inner, strict=True):
                self.buildings.append(building)
                weights.append(w / sum(inner) / math.sqrt(rank + 1))
        self.building_weights = _cumulative(weights)
        codes = {c[1]: c for c in office.categories}
        self.category_list = [codes[code] for code in CATEGORY_SHARE]
        self.category_weights = _cumulative(list(CATEGORY_SHARE.values()))
        self.residents: list[Resident] = []

    def batches(self) -> list[Callable[[], Batch]]:
        """Every batch of the office in order, each made when called, with a random generator of
        its own: a batch is the same whichever process makes it and whatever that process made
        before, so several processes can share the making. Complaints come in the order they were
        submitted, as a table that grew over the years holds them (and so do the id indexes, which
        then only grow at their right edge)."""
        rand, now = self.rand, self.now
        # Every process makes the residents and the recent items' times: later batches draw on them.
        residents = self._residents()
        recent = round(self.complaints * sum(w for _, w in RECENT) / 100)
        historic = self.complaints - recent
        late = []
        finals, weights = zip(*RECENT, strict=True)
        for final in rand.choices(finals, weights, k=recent):
            age = (
                rand.uniform(0.1, 6.5) * DAY if final == "resolved" else min(rand.expovariate(1 / (3 * DAY)), 120 * DAY)
            )
            late.append((final, now - 60 - age))
        late.sort(key=lambda item: item[1])

        def historic_batch(start: int) -> Callable[[], Batch]:
            def make() -> Batch:
                count = min(BATCH, historic - start)
                finals, weights = zip(*HISTORIC, strict=True)
                # Stratified and increasing; more of them lately (density rising linearly to now).
                moments = [self._historic(start + i + self.rand.random(), historic) for i in range(count)]
                return self._complaints(list(zip(self.rand.choices(finals, weights, k=count), moments, strict=True)))

            return make

        makers = [
            lambda: residents,
            *(historic_batch(start) for start in range(0, historic, BATCH)),
            *(functools.partial(self._complaints, late[start : start + BATCH]) for start in range(0, recent, BATCH)),
            self._bookings,
            self._appointments,
        ]
        return [self._seeded(number, make) for number, make in enumerate(makers)]

    def _seeded(self, number: int, make: Callable[[], Batch]) -> Callable[[], Batch]:
        def seeded() -> Batch:
            self._seed(f"bench-{self.o.index}-{number}")
            return make()

        return seeded

    def _chunk(self, table: str) -> Chunk:
        return Chunk(table, self.encoders[table])

    def _seed(self, label: str) -> None:
        self.rand = random.Random(label)
        _id_bits.seed(f"{label}-ids")

    def _historic(self, position: float, count: int) -> float:
        return self.now - self.span * (1 - math.sqrt(position / count))

    # residents ---------------------------------------------------------------------------------

    def _residents(self) -> Batch:
        rand, tid = self.rand, self.tid
        # At least enough that the tenant admin's page of 50 residents awaiting review (7% of
        # them) is full in the smallest office too, as it is in a big one.
        count = max(1000, self.complaints // 20)
        users, grants, households, profiles = (
            self._chunk("users"),
            self._chunk("role_grants"),
            self._chunk("households"),
            self._chunk("resident_profiles"),
        )
        homes: dict[tuple[Id, str], Id] = {}
        for n, building in enumerate(rand.choices(self.buildings, cum_weights=self.building_weights, k=count)):
            registered = self._historic(n + rand.random(), count) - DAY
            user_id = uuid7_at(registered)
            room = f"{rand.randint(1, building.units)}-{rand.randint(1, 18)}0{rand.randint(1, 4)}"
            roll = rand.random()
            status = "verified" if roll < 0.9 else ("pending" if roll < 0.97 else "rejected")
            household = None
            if status == "verified":
                household = homes.get((building.id, room))
                if household is None:
                    household = homes[(building.id, room)] = uuid7_at(registered)
                    households.add(tid, household, building.id, room)
            reviewed = registered + rand.uniform(HOUR, 2 * DAY) if status != "pending" else None
            users.add(
                tid,
                user_id,
                resident_phone(self.o.index, n),
                person_name(rand),
                self.password_hash,
                True,
                registered,
            )
            grants.add(tid, uuid7_at(registered), user_id, "resident", None, None)
            profiles.add(
                tid,
                user_id,
                building.id,
                room,
                household,
                status,
                "查无此房号" if status == "rejected" else None,
                None,
                registered,
                reviewed,
            )
            self.residents.append(Resident(user_id, building, building.grid.community_id))
        # Activity: most residents file a handful, a few file hundreds.
        rand.shuffle(self.residents)
        self.resident_weights = _cumulative([1 / math.sqrt(i + 10) for i in range(len(self.residents))])
        return [users.payload(), households.payload(), profiles.payload(), grants.payload()]

    # complaints --------------------------------------------------------------------------------

    def _complaints(self, items: list[tuple[str, float]]) -> Batch:
        """`items`: (final status, when submitted)."""
        rand = self.rand
        complaints, events, notes = (
            self._chunk("complaints"),
            self._chunk("complaint_events"),
            self._chunk("notifications"),
        )
        orders = self._chunk("work_orders")
        categories = rand.choices(self.category_list, cum_weights=self.category_weights, k=len(items))
        residents = rand.choices(self.residents, cum_weights=self.resident_weights, k=len(items))
        for (final, submitted), category, resident in zip(items, categories, residents, strict=True):
            self._complaint(final, submitted, category, resident, complaints, events, notes, orders)
        return [complaints.payload(), events.payload(), notes.payload(), orders.payload()]

    def _complaint(
        self,
        final: str,
        submitted: float,
        category: tuple[Id, str, int, int, Id | None],
        resident: Resident | None,
        complaints: Chunk,
        events: Chunk,
        notes: Chunk,
        orders: Chunk,
    ) -> None:
        rand, now, tid = self.rand, self.now, self.tid
        category_id, code, ack_hours, resolve_days, default_department = category
        title, content, reply = rand.choice(self.stories.by_category[code])
        roll = rand.random()
        if roll < 0.80:
            source, building = "app", resident.building  # type: ignore[union-attr]
        elif roll < 0.92:
            source, building = rand.choice(("phone", "visit")), resident.building  # type: ignore[union-attr]
        else:
            source, resident = "inspection", None
            building = rand.choices(self.buildings, cum_weights=self.building_weights)[0]
        grid = building.grid
        handler = grid.worker_id or rand.choice(self.o.community_admins[grid.community_id])
        filed_by = resident.id if source == "app" else handler  # type: ignore[union-attr]
        dispatched = rand.random() < 0.25
        department = default_department or rand.choice(self.o.departments)
        department_staff = self.o.department_staff.get(department, [])
        dept_actor = rand.choice(department_staff) if department_staff else handler
        resident_id = resident.id if resident else None
        if resident_id is None and final in ("reopened", "withdrawn"):
            final = "in_progress"  # only a resident reopens or withdraws

        # The steps after submission: (action, status after, actor, seconds since the previous step)
        resolve_gap = rand.uniform(0.1, 1.4) * resolve_days * 1.4 * DAY
        accept = ("accept", "accepted", handler, rand.uniform(0.05, 1.3) * ack_hours * HOUR)
        start = ("start_work", "in_progress", handler, rand.uniform(600, DAY))
        to_department = [
            ("dispatch", "dispatched", handler, rand.uniform(HOUR, DAY)),
            ("department_accept", "dispatched", dept_actor, rand.uniform(600, 12 * HOUR)),
        ]
        if dispatched:
            resolved = [accept, *to_department, ("resolve", "resolved", dept_actor, resolve_gap)]
        else:
            resolved = [accept, start, ("resolve", "resolved", handler, resolve_gap)]
        if resident_id is None:
            ending = ("auto_close", "closed", None, AUTO_CLOSE_DAYS * DAY + rand.uniform(1, 300))
        elif rand.random() < 0.65:
            ending = ("confirm", "closed", resident_id, rand.uniform(HOUR, 5 * DAY))
        else:
            ending = ("auto_close", "closed", None, AUTO_CLOSE_DAYS * DAY + rand.uniform(1, 300))
        steps = {
            "submitted": [],
            "accepted": [accept],
            "in_progress": [accept, start],
            "dispatched": [accept, *to_department[: 1 + (rand.random() < 0.6)]],
            "reopened": [*resolved, ("reopen", "reopened", resident_id, rand.uniform(HOUR, 5 * DAY))],
            "resolved": resolved,
            "closed": [*resolved, ending],
            "rejected": [accept] * (rand.random() < 0.5)
            + [("reject", "rejected", handler, rand.uniform(600, 2 * DAY))],
            "withdrawn": [("withdraw", "withdrawn", resident_id, rand.uniform(600, DAY))],
        }[final]

        # Recent items' steps are squeezed into the time since submission; a historic item that
        # would still be under way is moved back until it is not.
        total = sum(s[3] for s in steps)
        scale = 1.0
        if final in OPEN or final == "resolved":
            scale = min(1.0, (now - 60 - submitted) / total) if total else 1.0
        else:
            submitted = min(submitted, now - 60 - total)
        ack_due = self.work.hours_after(submitted, ack_hours)
        resolve_due = self.work.days_after(submitted, resolve_days)

        timeline = [("submit", None, "submitted", filed_by, submitted, None)]
        moment, status = submitted, "submitted"
        fields: dict[str, Any] = {}
        for action, after, actor, gap in steps:
            moment += gap * scale
            note = {"reject": REJECT_NOTE, "reopen": REOPEN_NOTE, "dispatch": DISPATCH_NOTE, "resolve": reply}.get(
                action
            )
            if action == "accept":
                fields["acknowledged_at"] = moment
            elif action == "dispatch":
                fields["department_id"] = department
                fields["dispatched_at"] = moment
            elif action == "department_accept":
                fields["department_accepted_at"] = moment
            elif action == "resolve":
                fields["resolved_at"] = moment
            elif action == "confirm":
                note = rand.choice(FEEDBACK)
                fields["rating"] = rand.choices((5, 4, 3, 2, 1), (70, 18, 7, 3, 2))[0]
                fields["feedback"] = note
                fields["closed_at"] = moment
            elif action == "auto_close":
                note = "居民未在期限内确认，自动关闭"
                fields["closed_at"] = moment
            timeline.append((action, status, after, actor, moment, note))
            status = after

        # Flagged overdue as the sweep (every 5 minutes, resolvers.complaints.sweep) would have:
        # for the acknowledgement if still submitted when it came past that deadline; for the
        # resolve deadline if open when it came past that one (or once reopened), and, if flagged
        # for the acknowledgement before, once no longer submitted.
        left_submitted = timeline[1][4] if len(timeline) > 1 else math.inf
        left_open = next((t[4] for t in timeline if t[2] in ("resolved", "rejected", "withdrawn")), math.inf)
        reopened_at = next((t[4] for t in timeline if t[0] == "reopen"), None)

        def swept(late: float) -> float | None:
            """When the sweep found it open past `late`, if it has yet."""
            found = late + rand.uniform(1, 300)
            if found >= left_open:
                if reopened_at is None:
                    return None
                found = max(late, reopened_at) + rand.uniform(1, 300)
            return found if found < now - 1 else None

        flags: list[tuple[float, str]] = []
        if ack_due < left_submitted:
            found = ack_due + rand.uniform(1, 300)
            if found < min(left_submitted, now - 1):
                flags.append((found, "办理" if resolve_due < found else "受理"))
        if not flags or flags[0][1] == "受理":
            found = swept(max(resolve_due, left_submitted) if flags else resolve_due)
            if found is not None:
                flags.append((found, "办理"))
        overdue_at = None
        for flagged, deadline in flags:
            overdue_at = flagged
            during = next(t[2] for t in reversed(timeline) if t[4] <= flagged)
            timeline.append(("mark_overdue", during, during, None, flagged, f"已超过{deadline}期限"))
            timeline.sort(key=lambda t: t[4])

        complaint_id = uuid7_at(submitted)
        if "dispatched_at" in fields:
            orders.add(
                tid,
                uuid7_at(fields["dispatched_at"]),
                complaint_id,
                department,
                grid.community_id,
                fields["dispatched_at"],
                resolve_due,
                fields.get("department_accepted_at"),
                None,
                fields.get("resolved_at"),
            )
        for action, before, after, actor, at, note in timeline:
            events.add(tid, uuid7_at(at), complaint_id, action, actor, before, after, note, at)
        self._notifications(
            notes, complaint_id, title, timeline, handler, resident_id, grid, fields.get("department_id")
        )
        inspection = source == "inspection"
        complaints.add(
            tid,
            complaint_id,
            resident_id,
            filed_by,
            source,
            category_id,
            title,
            content,
            building.id,
            f"{building.id[:2].hex()}附近" if inspection else None,
            None,
            None,
            grid.id,
            grid.community_id,
            handler,
            fields.get("department_id"),
            fields.get("department_accepted_at"),
            status,
            rand.random() < 0.4,
            ack_due,
            resolve_due,
            fields.get("acknowledged_at"),
            fields.get("resolved_at"),
            fields.get("closed_at"),
            overdue_at,
            reply if "resolved_at" in fields else None,
            fields.get("rating"),
            fields.get("feedback"),
            submitted,
            timeline[-1][4],
            len(timeline),
        )

    def _notifications(
        self,
        notes: Chunk,
        complaint_id: Id,
        title: str,
        timeline: list[tuple[Any, ...]],
        handler: Id,
        resident_id: Id | None,
        grid: Grid,
        department: Id | None,
    ) -> None:
        """Who the app tells about each step (never the one who took it)."""
        told: list[tuple[Id | None, str, str, str, float, Id | None]] = []
        for action, _before, _after, actor, at, note in timeline:
            if action == "submit":
                told.append((handler, "complaint_new", "新的诉求", f"“{title}”待受理。", at, actor))
            elif action == "resolve":
                told.append(
                    (resident_id, "complaint_status", "诉求进展", f"您的诉求“{title}”已办结，请确认并评价。", at, actor)
                )
            elif action == "reject":
                told.append(
                    (resident_id, "complaint_status", "诉求进展", f"您的诉求“{title}”不予受理：{note}。", at, actor)
                )
            elif action == "auto_close":
                told.append((resident_id, "complaint_status", "诉求进展", f"您的诉求“{title}”已自动关闭。", at, actor))
            elif action == "confirm":
                told.append((handler, "complaint_confirmed", "居民已评价", f"“{title}”已获评价。", at, actor))
            elif action == "dispatch" and department:
                for staff in self.o.department_staff.get(department, []):
                    told.append((staff, "complaint_dispatched", "新的派单", f"“{title}”已派至本部门。", at, actor))
            elif action == "mark_overdue":
                for recipient in [handler, *self.o.community_admins.get(grid.community_id, [])]:
                    told.append((recipient, "complaint_overdue", "诉求超期", f"“{title}”{note}。", at, None))
        for recipient, kind, heading, body, at, actor in told:
            if recipient is None or recipient == actor:
                continue
            read = None
            if at < self.now - 14 * DAY or self.rand.random() < 0.5:
                read = min(at + self.rand.uniform(60, 2 * DAY), self.now - 1)
            notes.add(self.tid, uuid7_at(at), recipient, kind, heading, body, "Complaint", complaint_id, at, read)

    # room bookings -----------------------------------------------------------------------------

    def _bookings(self) -> Batch:
        """Past and coming bookings; none overlap (the exclusion constraint only covers pending
        and approved ones, but a room's calendar has no double bookings at all)."""
        rand, now, tid = self.rand, self.now, self.tid
        chunk = self._chunk("room_bookings")
        taken: set[tuple[Id, int]] = set()
        rooms = self.o.rooms
        target = max(200, self.complaints // 25)
        history = min(self.span, 365 * DAY)
        weekdays = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        made = attempts = 0
        while made < target and attempts < target * 20:
            attempts += 1
            room = rand.choice(rooms)
            day = int((now + SHANGHAI_OFFSET) // DAY) + rand.randint(-int(history // DAY), room["max_days_ahead"] - 1)
            spans = room["opening_hours"].get(weekdays[(EPOCH + timedelta(days=day)).weekday()], [])
            if not spans:
                continue
            opens, closes = (int(x[:2]) * 60 + int(x[3:]) for x in rand.choice(spans).split("-"))
            step = room["slot_minutes"]
            slots = rand.randint(1, max(1, min(3, 120 // step)))
            first = opens // step + rand.randint(0, max(0, (closes - opens) // step - slots))
            wanted = [(room["id"], day * 10_000 + first + k) for k in range(slots)]
            if any(w in taken for w in wanted) or (first + slots) * step > closes:
                continue
            taken.update(wanted)
            starts = day * DAY + first * step * 60 - SHANGHAI_OFFSET
            ends = starts + slots * step * 60
            if starts < now + 2 * HOUR and ends > now:
                continue  # under way or too soon to book: leave it out rather than invent its state
            approval = room["requires_approval"]
            if ends < now:
                status = rand.choices(("completed", "no_show", "cancelled", "rejected"), (70, 8, 17, 5 * approval))[0]
                created = starts - rand.uniform(3 * HOUR, 10 * DAY)
            else:
                status = rand.choices(
                    ("approved", "pending", "cancelled", "rejected"), (65, 20 * approval, 10, 5 * approval)
                )[0]
                created = min(now - 60, starts - 2 * HOUR) - rand.uniform(
                    0, 3 * DAY if status == "pending" else 10 * DAY
                )
            decided = approval and status in ("approved", "rejected", "completed", "no_show")
            admins = self.o.community_admins.get(room["community_id"], [])
            decider = rand.choice(admins) if decided and admins else None
            decided_at = min(created + rand.uniform(HOUR, DAY), now - 1) if decider else None
            answer_due = self.work.hours_after(created, 8) if status == "pending" else None
            overdue = answer_due + rand.uniform(1, 300) if answer_due and answer_due + 300 < now else None
            resident = rand.choice(self.residents)
            chunk.add(
                tid,
                uuid7_at(created),
                room["id"],
                resident.id,
                None,
                rand.choice(PURPOSES),
                rand.randint(1, room["capacity"]),
                starts,
                ends,
                status,
                answer_due,
                overdue,
                decider,
                decided_at,
                {"rejected": "当天已安排社区活动", "cancelled": "活动改期"}.get(status),
                created,
                1 + bool(decider),
            )
            made += 1
        return [chunk.payload()]

    # appointments ------------------------------------------------------------------------------

    def _appointments(self) -> Batch:
        rand, now, tid = self.rand, self.now, self.tid
        appointments, events = self._chunk("appointments"), self._chunk("appointment_events")
        every_staff = [s for staff in self.o.department_staff.values() for s in staff]
        for _ in range(max(100, self.complaints // 50)):
            type_id, code, department = rand.choice(self.o.appointment_types)
            resident = rand.choice(self.residents)
            recent = rand.random() < 0.1
            created = now - (
                rand.uniform(60, 10 * DAY) if recent else rand.uniform(10 * DAY, min(self.span, 2 * 365 * DAY))
            )
            final = (
                rand.choice(("submitted", "assigned", "contacted", "scheduled", "cancelled"))
                if recent
                else rand.choices(("completed", "cancelled"), (85, 15))[0]
            )
            path = {
                "submitted": [],
                "assigned": ["assign"],
                "contacted": ["assign", "contact"],
                "scheduled": ["assign", "contact", "schedule"],
                "completed": ["assign", "contact", "schedule", "complete"],
                "cancelled": ["assign"] * (rand.random() < 0.5) + ["cancel"],
            }[final]
            staff = self.o.department_staff.get(department) or every_staff
            assignee = rand.choice(staff) if "assign" in path else None
            appointment_id = uuid7_at(created)
            moment, status = created, "submitted"
            room_left = max(60.0, now - 60 - created)
            gaps = [rand.uniform(HOUR, 2 * DAY) for _ in path]
            scale = min(1.0, room_left / sum(gaps)) if gaps else 1.0
            timeline = [("submit", None, "submitted", resident.id, created)]
            values: dict[str, Any] = {}
            for step, gap in zip(path, gaps, strict=True):
                moment += gap * scale
                after = {
                    "assign": "assigned",
                    "contact": "contacted",
                    "schedule": "scheduled",
                    "complete": "completed",
                    "cancel": "cancelled",
                }[step]
                actor = {
                    "assign": rand.choice(self.o.community_admins.get(resident.community_id, [None])),
                    "cancel": resident.id,
                }.get(step, assignee)
                if step == "assign":
                    values["contact_due_at"] = self.work.hours_after(moment, 8)
                elif step == "contact":
                    values["contacted_at"] = moment
                    values["contact_method"] = rand.choice(("phone", "visit", "sms", "wechat"))
                elif step == "schedule":
                    values["scheduled_at"] = moment + rand.uniform(DAY, 5 * DAY)
                elif step == "complete":
                    values["outcome"] = "已办结，当事人表示满意。"
                timeline.append((step, status, after, actor, moment))
                status = after
            overdue = None
            due = values.get("contact_due_at")
            if status == "assigned" and due is not None and due + 300 < now:
                overdue = due + rand.uniform(1, 300)
                timeline.append(("mark_overdue", "assigned", "assigned", None, overdue))
            for step, before, after, actor, at in timeline:
                events.add(tid, uuid7_at(at), appointment_id, step, actor, before, after, None, at)
            appointments.add(
                tid,
                appointment_id,
                type_id,
                resident.id,
                resident.community_id,
                APPOINTMENT_DESCRIPTIONS.get(code, "希望预约咨询。"),
                "[]",
                status,
                assignee,
                values.get("contact_due_at"),
                values.get("contacted_at"),
                values.get("contact_method"),
                values.get("scheduled_at"),
                values.get("outcome"),
                overdue,
                created,
                timeline[-1][4],
                len(timeline),
            )
        return [appointments.payload(), events.payload()]


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


# --- the load --------------------------------------------------------------------------------------


def _produce(
    plans: list[tuple[Office, int]],
    now: float,
    years: float,
    password_hash: str,
    encoders: dict[str, tuple[Encoder, ...]],
    part: int,
    parts: int,
    out: Any,
) -> None:
    """Makes the `part`-th of every `parts` batches of the offices in turn."""
    try:
        number = 0
        for office, complaints in plans:
            for make in OfficeData(office, complaints, now, years, password_hash, encoders).batches():
                if number % parts == part:
                    out.put(make())
                number += 1
        out.put(None)
    except BaseException:
        out.put(traceback.format_exc())


def _encoders(connection: psycopg.Connection) -> dict[str, tuple[Encoder, ...]]:
    """The encoders of each loaded table's columns, by the types the catalogue gives them."""
    types = {
        (table, column): type_name
        for table, column, type_name in connection.execute(
            "SELECT table_name, column_name, udt_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = ANY(%s)",
            (list(LOADED),),
        )
    }
    return {
        table: tuple(ENCODERS[types[table, column]] for column in columns.split(", "))
        for table, columns in COLUMNS.items()
    }


class Definition(NamedTuple):
    """A foreign key or an index of a table, as the catalogue defines it."""

    table: str
    name: str
    definition: str


def _definitions(connection: psycopg.Connection) -> tuple[list[Definition], list[Definition]]:
    """Foreign keys of the loaded tables and secondary indexes of the filled ones, as the catalogue
    defines them."""
    foreign_keys = connection.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s) ORDER BY 1, 2",
        (list(LOADED),),
    ).fetchall()
    indexes = connection.execute(
        "SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
        "FROM pg_index i WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1, 2",
        (list(FILLED),),
    ).fetchall()
    return [Definition(*row) for row in foreign_keys], [Definition(*row) for row in indexes]


# Each user's unread count (models.notifications.UnreadNotifications), which the app keeps as it
# notifies and marks read, counted once from what was copied.
UNREAD_NOTIFICATIONS = """
INSERT INTO unread_notifications (tenant_id, id, user_id, unread)
SELECT tenant_id, gen_random_uuid(), recipient_id, count(*) FROM notifications WHERE read_at IS NULL
GROUP BY tenant_id, recipient_id
"""


def bulk_load(
    db: BenchDatabase,
    plans: list[tuple[Office, int]],
    now: float,
    years: float,
    password_hash: str,
    rebuild: bool,
    producers: int,
) -> dict[str, int]:
    counts = dict.fromkeys(LOADED, 0)
    with psycopg.connect(db.owner_dsn) as connection:
        encoders = _encoders(connection)
    context = multiprocessing.get_context("fork")
    # Each producer makes every `producers`-th batch; they are copied in order, taken in turn.
    made = [context.Queue(maxsize=2) for _ in range(producers)]
    processes = [
        context.Process(
            target=_produce, args=(plans, now, years, password_hash, encoders, part, producers, out), daemon=True
        )
        for part, out in enumerate(made)
    ]
    for process in processes:
        process.start()
    with psycopg.connect(db.owner_dsn) as connection, connection.cursor() as cursor:
        # For this session only: counting the unread notifications hashes in memory.
        cursor.execute("SET work_mem = '256MB'")
        # Foreign keys are validated as the owner too, so the tables they point at lose FORCE as well.
        forced = [
            name
            for (name,) in cursor.execute(
                "SELECT relname FROM pg_class WHERE relforcerowsecurity AND relnamespace = 'public'::regnamespace"
            )
        ]
        for table in forced:
            cursor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        foreign_keys, indexes = _definitions(connection) if rebuild else ([], [])
        for key in foreign_keys:
            cursor.execute(f"ALTER TABLE {key.table} DROP CONSTRAINT {key.name}")
        for index in indexes:
            cursor.execute(f"DROP INDEX {index.name}")
        started = time.perf_counter()
        for number in itertools.count():
            batch = _next_batch(made[number % producers])
            if batch is None:
                # The first producer to end ends after the last batch: the others end too.
                for out in made:
                    if out is not made[number % producers] and _next_batch(out) is not None:
                        raise SystemExit("a row generator made more batches than there are")
                break
            for table, data, rows in batch:
                if rows:
                    with cursor.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN (FORMAT binary)") as copy:
                        copy.write(data)
                    counts[table] += rows
            print(f"\r  {sum(counts.values()):>12,} rows, {time.perf_counter() - started:6.0f} s", end="", flush=True)
        print()
        cursor.execute(UNREAD_NOTIFICATIONS)
        # Validated after the commit, several tables at once: VALIDATE locks out fewer statements than ADD.
        for key in foreign_keys:
            cursor.execute(f"ALTER TABLE {key.table} ADD CONSTRAINT {key.name} {key.definition} NOT VALID")
        connection.commit()
    copied = time.perf_counter() - started
    rebuilt = time.perf_counter()
    try:
        if rebuild:
            _rebuild(db, indexes, foreign_keys)
        with psycopg.connect(db.owner_dsn) as connection:
            for table in forced:
                connection.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    except BaseException:
        db.drop()  # rather than leave a database without its indexes, constraints or FORCE to be measured
        raise
    if rebuild:
        print(f"  COPY {copied:.0f} s, indexes and foreign keys rebuilt in {time.perf_counter() - rebuilt:.0f} s")
    for process in processes:
        process.join()
    return counts


def _rebuild(db: BenchDatabase, indexes: list[Definition], foreign_keys: list[Definition]) -> None:
    """Builds the indexes and validates the foreign keys (added NOT VALID) on `REBUILDERS`
    connections at once: the indexes first, largest table first, then each table's foreign keys
    in one transaction, largest table first. On the first failure the others stop taking work.

    Validating a table's foreign keys locks that table only (the tables they point at stay open
    to all but ALTER TABLE), so tables are validated side by side. A connection that takes a
    table another is building an index on waits for it: every statement locks one table against
    the others, so no two wait on each other."""
    with psycopg.connect(db.owner_dsn, autocommit=True) as connection:
        # Not relpages: VACUUM has not counted the copied tables yet.
        size: dict[str, int] = dict(
            connection.execute(
                "SELECT relname, pg_relation_size(oid) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            )
        )
    work: queue.SimpleQueue[list[str]] = queue.SimpleQueue()
    # A trigram index takes several times as long to build as a btree over as large a table.
    for index in sorted(
        indexes, key=lambda index: (-size[index.table] * (8 if " USING gin " in index.definition else 1), index.name)
    ):
        work.put([index.definition])
    for table in sorted({key.table for key in foreign_keys}, key=lambda table: (-size[table], table)):
        work.put([f"ALTER TABLE {table} VALIDATE CONSTRAINT {key.name}" for key in foreign_keys if key.table == table])
    stop = threading.Event()
    pool = ThreadPoolExecutor(REBUILDERS)
    running = [pool.submit(_run_statements, db, work, stop) for _ in range(REBUILDERS)]
    try:
        for future in wait(running, return_when=FIRST_EXCEPTION).done:
            future.result()
    finally:
        stop.set()
        # Not waiting for a statement still running: the caller drops the database under it.
        pool.shutdown(wait=False)


def _run_statements(db: BenchDatabase, work: queue.SimpleQueue[list[str]], stop: threading.Event) -> None:
    with psycopg.connect(db.owner_dsn, autocommit=True) as connection:
        # For this session only: index builds sort in memory, validating foreign keys hashes in memory.
        connection.execute("SET maintenance_work_mem = '512MB'")
        connection.execute("SET work_mem = '256MB'")
        while not stop.is_set():
            try:
                statements = work.get_nowait()
            except queue.Empty:
                return
            with connection.transaction():
                for statement in statements:
                    connection.execute(statement)


def _next_batch(made: Any) -> Batch | None:
    try:
        batch = made.get(timeout=600)
    except queue.Empty:
        raise SystemExit("a row generator stopped answering") from None
    if isinstance(batch, str):
        raise SystemExit(f"generating rows failed:\n{batch}")
    return batch


def count_rollups(db: BenchDatabase) -> dict[str, int]:
    """Every office's rollups counted by the database from what was loaded (bench.rollups: the
    rows `wanjia rollups rebuild` writes, which the suite checks), rows written per office, then
    analysed as autovacuum would a while later (ANALYZE is the owner's to run)."""
    with psycopg.connect(db.owner_dsn, autocommit=True) as connection:
        slugs = [slug for (slug,) in connection.execute("SELECT slug FROM tenants ORDER BY slug")]
    written = asyncio.run(_count_rollups(db, slugs))
    with psycopg.connect(db.owner_dsn, autocommit=True) as connection:
        for table in ROLLUPS:
            connection.execute(f"ANALYZE {table.__tablename__}")
    return written


async def _count_rollups(db: BenchDatabase, slugs: list[str]) -> dict[str, int]:
    services = Services.start(Settings(database_url=db.app_url), pool_size=1)
    try:
        written = {}
        for slug in slugs:
            tenant = await services.directory.by_slug(slug)
            async with unit_of_work(services, tenant=tenant, viewer=None, writes=True) as ctx:
                written[slug] = await rollups.count(session_of(ctx), ctx.tenant_id, calendar_of(ctx))
        return written
    finally:
        await services.close()


async def _onboard_all(db: BenchDatabase, tenants: int) -> tuple[list[str], str]:
    """Onboards the offices as the app role; returns their slugs and the one hash of the demo
    password (argon2 at production cost) that every account shares."""
    services = Services.start(Settings(database_url=db.app_url), pool_size=2)
    try:
        shared_hashes = {DEMO_PASSWORD: await services.passwords.hash(DEMO_PASSWORD)}
        slugs = []
        for index in range(tenants):
            office = manifest(index, BIG if index == 0 else SMALL)
            await onboard(services, office, shared_hashes=shared_hashes)
            slugs.append(office.slug)
        return slugs, shared_hashes[DEMO_PASSWORD]
    finally:
        await services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--complaints", type=int, default=1_000_000, help="complaints of the big street office")
    parser.add_argument("--other-complaints", type=int, help="complaints of each other office (default: a tenth)")
    parser.add_argument("--tenants", type=int, default=3, help="street offices, the big one included")
    parser.add_argument("--years", type=float, default=3.0, help="how far back the history goes")
    parser.add_argument("--database", default="wanjia_bench")
    parser.add_argument(
        "--producers",
        type=int,
        default=2,
        help="processes making the rows while the server copies them (the making is the slower side)",
    )
    parser.add_argument(
        "--keep-constraints",
        action="store_true",
        help="COPY with every index and foreign key in place (about 2.5 times slower) instead of dropping the "
        "secondary indexes and foreign keys and recreating (so validating) them after the copy",
    )
    args = parser.parse_args()
    others = args.complaints // 10 if args.other_complaints is None else args.other_complaints
    db = BenchDatabase(args.database)

    started = time.perf_counter()
    db.recreate()
    migrations.upgrade(db.owner_url, app_role=APP_ROLE)
    slugs, demo_hash = asyncio.run(_onboard_all(db, args.tenants))
    with psycopg.connect(db.owner_dsn, autocommit=True) as connection:
        offices = [read_office(connection, i, slug) for i, slug in enumerate(slugs)]
    set_up = time.perf_counter() - started
    print(f"database, migrations and onboarding of {len(slugs)} offices: {set_up:.0f} s")

    plans = [(office, args.complaints if office.index == 0 else others) for office in offices]
    loading = time.perf_counter()
    counts = bulk_load(db, plans, time.time(), args.years, demo_hash, not args.keep_constraints, args.producers)
    loaded = time.perf_counter() - loading
    vacuuming = time.perf_counter()
    with psycopg.connect(db.owner_dsn, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
    vacuumed = time.perf_counter() - vacuuming
    counting = time.perf_counter()
    rollup_rows = count_rollups(db)
    counted = time.perf_counter() - counting

    total = sum(counts.values())
    for table, rows in counts.items():
        print(f"  {table:<20} {rows:>12,}")
    complaints = counts["complaints"]
    print(
        f"loaded {total:,} rows ({complaints:,} complaints) in {loaded:.0f} s: "
        f"{total / loaded:,.0f} rows/s, {complaints / loaded:,.0f} complaints/s; VACUUM (ANALYZE) {vacuumed:.0f} s"
    )
    print(f"rollups counted ({sum(rollup_rows.values()):,} rows) in {counted:.0f} s")
    db.mark_loaded()
    print(f"total {time.perf_counter() - started:.0f} s; database {db.name}, offices: {', '.join(slugs)}")


if __name__ == "__main__":
    main()
