"""The bound: each named request's answer, the very JSON wanjia gives, made by one hand-written
SQL statement (json_build_object / json_agg) behind a bare Starlette endpoint.

    uvicorn bench.bound:create_app --factory   (bench/run.py starts it)

It connects as the app role under the same row-level security, verifies the same access token
(or takes the tenant from X-Tenant), and runs the statement in a transaction with
app.tenant_id set (and PostgreSQL's JIT compiler off), pipelined into one round trip. It knows nothing else: no schema, no
validation, no per-field resolvers, so it is what the database and the network cost on their
own. POST /{request name}; the body is ignored (the request is fixed).

Environment: WANJIA_DATABASE_URL (the app role, a libpq URL), WANJIA_SECRET_KEY.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import jwt
from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.requests import INBOX_STATUSES, OPEN_STATUSES, SEARCH


def iso(column: str) -> str:
    """A timestamp as wanjia shows it: China Standard Time, to the whole second (cut, not rounded)."""
    local = f"date_trunc('second', {column} AT TIME ZONE 'Asia/Shanghai')"
    return f"to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || '+08:00'"


def gid(type_name: str, column: str) -> str:
    """A Relay global id: base64 of "Type:uuid"."""
    return typed_gid(f"'{type_name}'", column)


def typed_gid(type_column: str, column: str) -> str:
    """A Relay global id whose type name is in a column too (a notification's subject)."""
    return f"translate(encode(convert_to({type_column} || ':' || {column}::text, 'UTF8'), 'base64'), E'\\n', '')"


def cursor(*values: str) -> str:
    """wanjia's keyset cursor: base64url (unpadded) of the compact JSON list of the sort key."""
    parts = " || '\",\"' || ".join(values)
    raw = f"'[\"' || {parts} || '\"]'"
    return f"translate(encode(convert_to({raw}, 'UTF8'), 'base64'), E'+/=\\n', '-_')"


def utc(column: str) -> str:
    """A timestamp as a cursor keeps it: UTC, Python's isoformat() (microseconds when there are any)."""
    local = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN {column} IS NULL THEN NULL ELSE to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        f"CASE WHEN date_trunc('second', {column}) = {column} THEN '' ELSE to_char({local}, '.US') END "
        f"|| '+00:00' END"
    )


def masked(phone: str) -> str:
    return f"left({phone}, 3) || '****' || right({phone}, 4)"


def paged(rows: str, order: str) -> str:
    """The WITH clause of a page of 20: `r` has up to 21 rows (so we know if there is a next page),
    `s` the 20 shown."""
    return f"WITH r AS ({rows}), s AS (SELECT * FROM r ORDER BY {order} LIMIT 20)"


def page(node: str, order: str, end_cursor: str) -> str:
    """A connection (edges and pageInfo) over `paged`: `node` is a json expression over row s."""
    return f"""json_build_object(
  'edges', COALESCE((SELECT json_agg(json_build_object('node', {node}) ORDER BY {order}) FROM s), '[]'),
  'pageInfo', json_build_object(
    'hasNextPage', (SELECT count(*) > 20 FROM r),
    'endCursor', (SELECT {end_cursor} FROM s ORDER BY {_reverse(order)} LIMIT 1)))"""


def _reverse(order: str) -> str:
    parts = [part.strip() for part in order.split(",")]
    return ", ".join(part.removesuffix(" DESC") if part.endswith(" DESC") else f"{part} DESC" for part in parts)


OVERDUE = (
    "(s.status = ANY(%(open)s) AND (s.resolve_due_at < now() "
    "OR (s.status = 'submitted' AND s.acknowledge_due_at < now())))"
)
ROWS_INBOX = """SELECT c.* FROM complaints c WHERE c.tenant_id = %(tenant)s AND c.status = ANY(%(statuses)s)
  AND (c.handler_id = %(me)s OR c.grid_id IN (SELECT g.id FROM grids g WHERE g.tenant_id = %(tenant)s
                                              AND g.worker_id = %(me)s))
  ORDER BY c.resolve_due_at, c.id LIMIT 21"""
ROWS_SEARCH = """SELECT c.* FROM complaints c WHERE c.tenant_id = %(tenant)s
  AND (c.title LIKE %(pattern)s OR c.content LIKE %(pattern)s)
  ORDER BY c.resolve_due_at, c.id LIMIT 21"""
ROWS_MINE = """SELECT c.* FROM complaints c WHERE c.tenant_id = %(tenant)s AND c.resident_id = %(me)s
  ORDER BY c.id DESC LIMIT 21"""
ROWS_NOTIFICATIONS = """SELECT n.* FROM notifications n WHERE n.tenant_id = %(tenant)s AND n.recipient_id = %(me)s
  ORDER BY n.id DESC LIMIT 21"""
SQL: dict[str, str] = {
    "inbox": f"""{paged(ROWS_INBOX, "resolve_due_at, id")}
SELECT json_build_object('data', json_build_object('complaints', {
        page(
            f'''json_build_object('id', {gid("Complaint", "s.id")}, 'title', s.title, 'status', upper(s.status),
  'overdue', {OVERDUE}, 'resolveDueAt', {iso("s.resolve_due_at")},
  'category', (SELECT json_build_object('name', cat.name) FROM complaint_categories cat
               WHERE cat.tenant_id = s.tenant_id AND cat.id = s.category_id),
  'resident', (SELECT json_build_object('name', u.name,
                 'phone', CASE WHEN u.id = %(me)s OR s.handler_id = %(me)s THEN u.phone ELSE {masked("u.phone")} END)
               FROM users u WHERE u.tenant_id = s.tenant_id AND u.id = s.resident_id),
  'grid', (SELECT json_build_object('name', g.name) FROM grids g WHERE g.tenant_id = s.tenant_id AND g.id = s.grid_id),
  'timeline', json_build_object('edges', COALESCE((
     SELECT json_agg(json_build_object('node', json_build_object('action', upper(e.action), 'actorName', a.name,
                     'note', e.note, 'at', {iso("e.created_at")})) ORDER BY e.id)
     FROM (SELECT * FROM complaint_events e WHERE e.tenant_id = s.tenant_id AND e.complaint_id = s.id
           ORDER BY e.id LIMIT 10) e
     LEFT JOIN users a ON a.tenant_id = e.tenant_id AND a.id = e.actor_id), '[]')))''',
            "resolve_due_at, id",
            cursor(utc("s.resolve_due_at"), "s.id::text"),
        )
    }))::text""",
    "tree": f"""SELECT json_build_object('data', json_build_object('communities', json_build_object('edges', COALESCE(
  json_agg(json_build_object('node', json_build_object('id', {gid("Community", "c.id")}, 'name', c.name,
    'grids', json_build_object('edges', COALESCE((
      SELECT json_agg(json_build_object('node', json_build_object('id', {gid("Grid", "g.id")}, 'name', g.name,
        'buildings', json_build_object('edges', COALESCE((
          SELECT json_agg(json_build_object('node', json_build_object('id', {gid("Building", "b.id")},
                          'name', b.name, 'units', b.units)) ORDER BY b.code, b.id)
          FROM (SELECT * FROM buildings b WHERE b.tenant_id = %(tenant)s AND b.grid_id = g.id
                ORDER BY b.code, b.id LIMIT 5) b), '[]')))) ORDER BY g.code, g.id)
      FROM (SELECT * FROM grids g WHERE g.tenant_id = %(tenant)s AND g.community_id = c.id
            ORDER BY g.code, g.id LIMIT 20) g), '[]')))) ORDER BY c.code, c.id), '[]'))))::text
FROM (SELECT * FROM communities c WHERE c.tenant_id = %(tenant)s ORDER BY c.code, c.id LIMIT 10) c""",
    "counts": f"""WITH counted AS (
  SELECT status, count(*) AS n FROM complaints WHERE tenant_id = %(tenant)s GROUP BY status)
SELECT json_build_object('data', json_build_object('complaintCounts', json_build_object(
  'total', (SELECT COALESCE(sum(n), 0) FROM counted),
  'overdue', (SELECT count(*) FROM complaints s WHERE s.tenant_id = %(tenant)s AND {OVERDUE}),
  'byStatus', COALESCE((SELECT json_agg(json_build_object('status', upper(status), 'count', n) ORDER BY status)
                        FROM counted), '[]'))))::text""",
    "search": f"""{paged(ROWS_SEARCH, "resolve_due_at, id")}
SELECT json_build_object('data', json_build_object('complaints', {
        page(
            f'''json_build_object('id', {gid("Complaint", "s.id")}, 'title', s.title, 'status', upper(s.status),
  'resolveDueAt', {iso("s.resolve_due_at")},
  'category', (SELECT json_build_object('name', cat.name) FROM complaint_categories cat
               WHERE cat.tenant_id = s.tenant_id AND cat.id = s.category_id))''',
            "resolve_due_at, id",
            cursor(utc("s.resolve_due_at"), "s.id::text"),
        )
    }))::text""",
    "mine": f"""{paged(ROWS_MINE, "id DESC")}
SELECT json_build_object('data', json_build_object('complaints', {
        page(
            f'''json_build_object('id', {gid("Complaint", "s.id")}, 'title', s.title, 'status', upper(s.status),
  'submittedAt', {iso("s.submitted_at")}, 'resolveDueAt', {iso("s.resolve_due_at")},
  'category', (SELECT json_build_object('name', cat.name) FROM complaint_categories cat
               WHERE cat.tenant_id = s.tenant_id AND cat.id = s.category_id),
  'handler', (SELECT json_build_object('name', u.name,
                'phone', CASE WHEN u.id = %(me)s THEN u.phone ELSE {masked("u.phone")} END)
              FROM users u WHERE u.tenant_id = s.tenant_id AND u.id = s.handler_id))''',
            "id DESC",
            cursor("s.id::text"),
        )
    }))::text""",
    # Slots of slot_minutes inside each day's opening hours, not on a closed date, overlapping no
    # pending or approved booking, between the minimum notice and the booking horizon.
    "slots": f"""WITH room AS (SELECT * FROM rooms WHERE tenant_id = %(tenant)s AND id = %(room)s),
taken AS (
  SELECT b.starts_at, b.ends_at FROM room_bookings b
  WHERE b.tenant_id = %(tenant)s AND b.room_id = %(room)s AND b.status IN ('pending', 'approved')
    AND b.starts_at < (%(to)s::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
    AND b.ends_at > %(from)s::date::timestamp AT TIME ZONE 'Asia/Shanghai'),
slots AS (
  SELECT start, start + make_interval(mins => room.slot_minutes) AS finish
  FROM room,
       generate_series(%(from)s::date::timestamp, %(to)s::date::timestamp, interval '1 day') AS day,
       json_array_elements_text(room.opening_hours ->
         (ARRAY['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])[extract(isodow FROM day)::int]) AS span,
       generate_series(
         (day::date + split_part(span, '-', 1)::time) AT TIME ZONE 'Asia/Shanghai',
         (day::date + split_part(span, '-', 2)::time) AT TIME ZONE 'Asia/Shanghai'
           - make_interval(mins => room.slot_minutes),
         make_interval(mins => room.slot_minutes)) AS start
  WHERE NOT room.closed_dates::jsonb ? day::date::text
    AND start BETWEEN now() + make_interval(hours => room.min_notice_hours)
                  AND now() + make_interval(days => room.max_days_ahead)
    AND NOT EXISTS (
      SELECT 1 FROM taken WHERE taken.starts_at < start + make_interval(mins => room.slot_minutes)
                            AND start < taken.ends_at))
SELECT json_build_object('data', json_build_object('node', (
  SELECT json_build_object('name', room.name, 'freeSlots', COALESCE((
    SELECT json_agg(json_build_object('startsAt', {iso("start")}, 'endsAt', {iso("finish")}) ORDER BY start)
    FROM slots), '[]')) FROM room)))::text""",
    "review": f"""SELECT json_build_object('data', json_build_object('residentsAwaitingReview', json_build_object(
  'edges', COALESCE(json_agg(json_build_object('node', json_build_object('id', {gid("Resident", "p.id")},
    'name', u.name, 'phone', u.phone, 'room', p.room, 'building', json_build_object('name', b.name),
    'grid', json_build_object('name', g.name))) ORDER BY p.id), '[]'))))::text
FROM (SELECT * FROM resident_profiles p WHERE p.tenant_id = %(tenant)s AND p.status = 'pending'
      ORDER BY p.id LIMIT 50) p
JOIN users u ON u.tenant_id = p.tenant_id AND u.id = p.id
JOIN buildings b ON b.tenant_id = p.tenant_id AND b.id = p.building_id
JOIN grids g ON g.tenant_id = b.tenant_id AND g.id = b.grid_id""",
    "notifications": f"""{paged(ROWS_NOTIFICATIONS, "id DESC")}
SELECT json_build_object('data', json_build_object(
  'unreadNotificationCount', (SELECT count(*) FROM notifications WHERE tenant_id = %(tenant)s
                              AND recipient_id = %(me)s AND read_at IS NULL),
  'notifications', {
        page(
            f'''json_build_object('id', {gid("Notification", "s.id")}, 'kind', upper(s.kind), 'title', s.title,
  'body', s.body, 'subject', CASE WHEN s.subject_id IS NULL THEN NULL
    ELSE json_build_object('id', {typed_gid("s.subject_type", "s.subject_id")}) END,
  'createdAt', {iso("s.created_at")}, 'read', s.read_at IS NOT NULL)''',
            "id DESC",
            cursor("s.id::text"),
        )
    }))::text""",
}


def parameters(tenant_id: str, user_id: str | None, body: dict[str, Any]) -> dict[str, Any]:
    variables = body.get("variables") or {}
    return {
        "tenant": tenant_id,
        "me": user_id,
        "statuses": list(INBOX_STATUSES),
        "open": list(OPEN_STATUSES),
        "pattern": f"%{SEARCH}%",
        "room": variables.get("roomId"),
        "from": variables.get("from"),
        "to": variables.get("to"),
    }


def create_app() -> Starlette:
    secret = os.environ["WANJIA_SECRET_KEY"]
    # Never prepared: PostgreSQL would switch a prepared statement to a generic plan after five
    # runs, and for some of these (notifications) that plan is a hundred times slower.
    pool = AsyncConnectionPool(
        os.environ["WANJIA_DATABASE_URL"], min_size=4, max_size=10, kwargs={"prepare_threshold": None}, open=False
    )
    tenants: dict[str, str] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await pool.open()
        async with pool.connection() as connection:
            cursor = await connection.execute("SELECT slug, id::text FROM tenants WHERE status = 'active'")
            tenants.update(dict(await cursor.fetchall()))
        yield
        await pool.close()

    async def answer(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in SQL:
            return JSONResponse({"errors": [{"message": "unknown request"}]}, 404)
        header = request.headers.get("authorization", "")
        user_id = None
        if header.startswith("Bearer "):
            try:
                claims = jwt.decode(header[7:], secret, algorithms=["HS256"])
            except jwt.PyJWTError:
                return JSONResponse({"errors": [{"message": "invalid token"}]}, 401)
            tenant_id, user_id = claims["tid"], claims["sub"]
        else:
            tenant_id = tenants.get(request.headers.get("x-tenant", ""), "")
            if not tenant_id:
                return JSONResponse({"errors": [{"message": "unknown tenant"}]}, 404)
        body = await request.json() if await request.body() else {}
        async with pool.connection() as connection, connection.pipeline(), connection.transaction():
            # JIT and parallel workers off, as wanjia's connections have them (models.database):
            # compiling costs more than these statements take to run (hundreds of ms for the
            # slot series, whose row counts the planner cannot know), and so does starting workers.
            await connection.execute(
                "SELECT set_config('app.tenant_id', %s, true), set_config('jit', 'off', true), "
                "set_config('max_parallel_workers_per_gather', '0', true)",
                (tenant_id,),
            )
            result = await connection.execute(SQL[name], parameters(tenant_id, user_id, body))
            row = await result.fetchone()
        return Response(row[0], media_type="application/json")

    return Starlette(routes=[Route("/{name}", answer, methods=["POST"])], lifespan=lifespan)
