"""Queries answered by one statement that builds their JSON (schema.compiled, on PostgreSQL)
answer exactly what the resolvers answer, as each caller, in each tenant: the same data, the
same errors. What a shape cannot say is answered the usual way; on SQLite nothing is compiled."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import DateTime, Uuid, literal, select, true, update
from starlette.applications import Starlette
from strawberry import relay

from models.audit import AuditedField, FullViewEntry
from models.bookings import BookingStatus, Room, RoomBooking
from models.calendar import SHANGHAI
from models.complaints import (
    Complaint,
    ComplaintAction,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintSource,
    ComplaintStatus,
)
from models.notifications import Notification, NotificationKind, SubjectType
from models.people import User
from resolvers import bookings, organisation
from resolvers.compiled import (
    MAX_TYPE_NAME,
    PLANNED_AGAIN,
    PLANNED_ONCE,
    Audited,
    Column,
    Edge,
    Node,
    NotCompiled,
    PageShape,
    RecordShape,
    Shown,
    _global_id,
    _moment,
    statement_for,
)
from schema import batched
from schema.build import build_schema
from schema.compiled import COMPILABLE, compiled_answer
from schema.scalars import serialize_datetime
from tenants.context import RequestContext
from tenants.sessions import open_session
from tests.conftest import BACKEND, COMMUNITY_ADMIN, TENANT_ADMIN, WORKER_1, _handle
from tests.support import Api, Clock, TenantHandle, answered_alike, fresh_phone, staff, statements_of
from tests.test_batched_execution import not_compiled
from tests.test_subscriptions import receive, send, signed_in

TREE = """query Tree($n: Int!, $g: Int) { communities(first: $n) { __typename edges { __typename node { __typename id name code
  ...Cells } } pageInfo { hasNextPage hasPreviousPage } } }
fragment Cells on Community { cells: grids(first: $g) { edges { node { id code
  buildings(first: 1) { edges { node { id name units } } pageInfo { more: hasNextPage } } } } } }"""
COMPILED = BACKEND == "postgresql"


async def alike(api: Api, monkeypatch: pytest.MonkeyPatch, query: str, variables: Any = None, **kwargs: Any) -> Any:
    """The answer, asserted equal to the one the resolvers give."""
    resolved = (batched, "compiled_answer", not_compiled)
    return await answered_alike(api, monkeypatch, resolved, query, variables, **kwargs)


async def compiled(api: Api, monkeypatch: pytest.MonkeyPatch, query: str, variables: Any, **kwargs: Any) -> bool:
    """Whether the query was answered by one statement that builds its JSON."""
    answers = []

    async def watched(*arguments: Any) -> Any:
        answers.append(await compiled_answer(*arguments))
        return answers[-1]

    with monkeypatch.context() as patched:
        patched.setattr(batched, "compiled_answer", watched)
        assert "errors" not in await api.run(query, variables, **kwargs)
    return answers != [None]


async def test_the_tree_is_answered_as_the_resolvers_answer_it_by_each_caller_in_each_tenant(
    api: Api, alpha: TenantHandle, beta: TenantHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    callers: list[dict[str, Any]] = [
        {"tenant": "alpha"},
        {"token": await api.token("alpha", TENANT_ADMIN)},
        {"token": await api.token("alpha", WORKER_1)},
        {"tenant": "beta"},
    ]
    seen = []
    for caller in callers:
        for variables in ({"n": 1}, {"n": 5, "g": 1}, {"n": 2, "g": 100}):
            body = await alike(api, monkeypatch, TREE, variables, **caller)
            assert "errors" not in body
            seen.append({edge["node"]["code"] for edge in body["data"]["communities"]["edges"]})
    assert seen[-1] and not seen[-1] & set(alpha.communities), "beta's tree holds none of alpha's"


@pytest.fixture(scope="session")
async def empty_office(app: Starlette) -> TenantHandle:
    """A street office with one community and nothing else: no department, no grid."""
    manifest = {"slug": "kongbai", "name": "空白街道", "departments": [], "categories": [], "staff": []}
    return await _handle(app, {**manifest, "communities": [{"code": "K1", "name": "空白社区", "grids": []}]})


@pytest.mark.parametrize(
    "query",
    [
        "{ departments { __typename } }",
        "{ departments(first: 1) { edges { node { name } } pageInfo { hasNextPage hasPreviousPage } } }",
        "{ communities { edges { node { code grids { __typename } } } } }",
        "{ communities { edges { node { code grids { edges { node { code } } pageInfo { hasNextPage } } } } } }",
    ],
)
async def test_an_empty_list_is_an_empty_connection_as_the_resolvers_answer_it(
    api: Api, empty_office: TenantHandle, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    body = await alike(api, monkeypatch, query, tenant=empty_office.slug)
    assert "errors" not in body and None not in body["data"].values()


async def test_two_lists_are_answered_as_the_resolvers_answer_them(
    api: Api, alpha: TenantHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = """{ d: departments { edges { node { id code name } } pageInfo { hasNextPage } }
      communities(first: 1) { edges { node { name } } } }"""
    body = await alike(api, monkeypatch, query, tenant="alpha")
    assert body["data"]["d"]["edges"] and body["data"]["communities"]["edges"]


async def test_the_tree_is_one_statement_on_postgresql(
    api: Api, alpha: TenantHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements = await api.statements(TREE, {"n": 5, "g": 5}, tenant="alpha")
    monkeypatch.setattr(batched, "compiled_answer", not_compiled)
    resolved = await api.statements(TREE, {"n": 5, "g": 5}, tenant="alpha")
    # One for the tree where the resolvers need one per level (and SQLite answers that way).
    assert resolved - statements == (2 if COMPILED else 0)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ communities(first: 2) { edges { cursor node { name } } } }", None),
        ("{ communities(first: 2) { totalCount edges { node { name } } } }", None),
        ("{ communities(first: 2) { pageInfo { endCursor } } }", None),
        ("{ communities(first: 2) { edges { node { name contactCard { address } } } } }", None),
        ("query($c: String) { communities(first: 1, after: $c) { edges { node { name } } } }", {"c": None}),
        *(
            (
                "query($no: Boolean!) { communities(first: 2) { edges { node { name @skip(if: $no) code } } } }",
                {"no": no},
            )
            for no in (True, False)
        ),
        ("{ communities(first: 2) { __typename } }", None),
        ("{ communities(first: 5) { pageInfo { hasPreviousPage __typename } } }", None),
        ("{ communities(first: 2) { edges { node { grids(first: 5) { __typename } } } } }", None),
        ("{ communities(first: 0) { edges { node { name } } } }", None),
        ("{ communities(first: 1000) { edges { node { name } } } }", None),
        (
            "{ communities(first: 1) { edges { node { name } } } complaintCategories(first: 1) { edges { node { name } } } }",
            None,
        ),
    ],
)
async def test_the_edges_of_what_a_shape_can_say_are_answered_as_the_resolvers_answer_them(
    api: Api, alpha: TenantHandle, monkeypatch: pytest.MonkeyPatch, query: str, variables: Any
) -> None:
    """What a shape cannot say (a cursor, a count, another field, a page out of bounds, a list
    not declared, a field under a directive) goes to the resolvers; what it can (a field
    skipped, a null `after`) is compiled: the same answer either way."""
    await alike(api, monkeypatch, query, variables, tenant="alpha")


async def test_without_a_tenant_the_tree_is_the_same_error(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    body = await alike(api, monkeypatch, "{ communities(first: 1) { edges { node { name } } } }")
    assert body["errors"][0]["extensions"]["code"] == "TENANT_REQUIRED"


async def test_the_tree_over_a_websocket_is_what_http_answers(api: Api, alpha: TenantHandle, live_server: str) -> None:
    """Over HTTP a compiled answer goes into the response as the database wrote it; a websocket
    carries it decoded, the same data."""
    token = await api.token("alpha", WORKER_1)
    over_http = await api.data(TREE, {"n": 2, "g": 2}, token=token)
    async with signed_in(live_server, token) as socket:
        await send(
            socket, {"id": "tree", "type": "subscribe", "payload": {"query": TREE, "variables": {"n": 2, "g": 2}}}
        )
        answer = await receive(socket)
    assert answer["type"] == "next" and answer["payload"]["data"] == over_http


async def test_a_caller_of_the_schema_itself_gets_the_tree_decoded(app: Starlette, alpha: TenantHandle) -> None:
    services = app.state.services
    caller = await services.directory.identify(
        authorization=None, tenant_header="alpha", host=None, base_domain=None, secret="", now=services.clock()
    )
    ctx = RequestContext(services=services, request_id="test", tenant=caller.tenant, viewer=None)
    result = await build_schema().execute(TREE, variable_values={"n": 2, "g": 1}, context_value=ctx)
    assert result.errors is None and isinstance(result.data, dict)
    assert [edge["node"]["code"] for edge in result.data["communities"]["edges"]] == sorted(alpha.communities)[:2]


def test_no_compiled_column_is_a_whole_value_the_audit_log_must_see() -> None:
    """A compiled answer goes out as the database wrote it: note_full_views never sees it. A
    whole value in it is a listing's `Audited` column, whose views the statement lists."""
    audited = {field.value for field in AuditedField}
    assert {column for columns in COMPILABLE.columns.values() for column in columns} & audited == set()


@pytest.mark.parametrize(
    "node",
    [
        Node((("worker", Column("worker_id", True)),)),  # not a column of the communities' selection
        Node((("name", Column("name", True)), ("grids", PageShape(organisation.BUILDINGS_OF_GRID, 1, ())))),
    ],
    ids=["a column the listing does not select", "a listing nested under the wrong parent"],
)
def test_a_shape_the_listings_cannot_answer_is_refused_before_any_sql(node: Node) -> None:
    shape = PageShape(organisation.COMMUNITIES, 1, (("edges", Edge((("node", node),))),))
    with pytest.raises(NotCompiled):
        statement_for((("communities", shape),))


def test_a_record_showing_a_whole_value_is_refused_before_any_sql() -> None:
    """Only a root page lists the whole values it shows for the audit log: a record that could
    show one is left to the resolvers, whose answer is audited."""
    whole = Shown(Room.name.label("shown_name"), audited=Audited(Room.id, true(), AuditedField.PHONE))
    record = replace(bookings.ROOM_RECORD, shown=(whole,))
    shape = RecordShape(record, (("name", Column("name", True)),), record_id=uuid.uuid4())
    with pytest.raises(NotCompiled):
        statement_for((("node", shape),))


async def test_a_global_id_is_written_as_strawberry_writes_it_up_to_the_longest_type_name(app: Starlette) -> None:
    """PostgreSQL's base64 ends a line after 57 bytes: a longer "Type:uuid" is not compiled."""
    row_id = uuid.UUID(int=2**128 - 1)
    longest = "T" * MAX_TYPE_NAME
    with pytest.raises(NotCompiled):
        _global_id(longest + "x", literal(row_id, Uuid()))
    if BACKEND == "postgresql":
        async with app.state.services.engine.connect() as connection:
            written = await connection.scalar(select(_global_id(longest, literal(row_id, Uuid()))))
        assert written == relay.to_base64(longest, str(row_id))


# SQL written for PostgreSQL only: there is nothing to compare on SQLite.
if COMPILED:

    @pytest.mark.parametrize(
        "moment",
        [
            datetime(1900, 6, 1, 12, 0, 0, tzinfo=UTC),  # local mean time, an offset with seconds
            datetime(1940, 7, 1, 3, 30, tzinfo=UTC),  # summer time of 1940
            datetime(1988, 7, 1, 3, 30, 59, 999_999, tzinfo=UTC),  # summer time of 1986-1991, to the floor
            datetime(1991, 9, 14, 17, 30, tzinfo=UTC),  # the last summer time's last half hour
            datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),  # before the epoch, to the floor
            datetime(2026, 11, 30, 16, 0, tzinfo=UTC),
        ],
    )
    async def test_a_moment_is_written_as_the_datetime_scalar_writes_it(app: Starlette, moment: datetime) -> None:
        async with app.state.services.engine.connect() as connection:
            written = await connection.scalar(select(_moment(literal(moment, DateTime(timezone=True)))))
        assert written == serialize_datetime(moment)


MINE = """query Mine($n: Int) { complaints(first: $n, order: NEWEST) { __typename
  edges { node { id title content status source isPublic address resolution rating feedback acknowledgeDueAt
    resolveDueAt submittedAt updatedAt acknowledgedAt resolvedAt closedAt
    category { id code name acknowledgeHours resolveDays } grid { id code name } handler { __typename id name phone } } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
SUBMIT = """mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) {
  complaint { id } errors { code } } }"""
ACCEPT = """mutation($input: ComplaintStepInput!) { acceptComplaint(input: $input) { errors { code } } }"""


@pytest.fixture(scope="module")
async def resident(app: Starlette, api: Api, alpha: TenantHandle) -> tuple[str, uuid.UUID]:
    """A resident of A1-G1 with three complaints, the newest with no handler and one handled
    by the resident themself (their phone whole to them): their phone and id."""
    phone = fresh_phone()
    registered = await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], name="周阿姨", phone=phone)
    token = await api.token("alpha", phone)
    categories = await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", tenant="alpha")
    category = categories["complaintCategories"]["edges"][0]["node"]["id"]
    ids = []
    for title in ("楼道灯不亮", "垃圾未清运", "窗户漏风"):
        draft = {"title": title, "content": f"{title}，请尽快处理。", "categoryId": category}
        submitted = (await api.data(SUBMIT, {"input": {"complaint": draft}}, token=token))["submitComplaint"]
        assert submitted["errors"] == []
        ids.append(uuid.UUID(relay.from_base64(submitted["complaint"]["id"])[1]))
    me = uuid.UUID(relay.from_base64(registered["resident"]["id"])[1])
    async with open_session(app.state.services.sessions, alpha.id) as session, session.begin():
        await session.execute(update(Complaint).where(Complaint.id == ids[0]).values(handler_id=me))
        await session.execute(update(Complaint).where(Complaint.id == ids[-1]).values(handler_id=None))
    return phone, me


async def test_a_residents_own_complaints_are_answered_as_the_resolvers_answer_them(
    api: Api, resident: tuple[str, uuid.UUID], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every column as its type writes it (enums by name, times in China Standard Time), the
    handler absent, masked, or the resident themself with their phone whole; compiled on
    PostgreSQL."""
    phone, _ = resident
    token = await api.token("alpha", phone)
    for n in (1, 2, 100):
        body = await alike(api, monkeypatch, MINE, {"n": n}, token=token)
        assert "errors" not in body
    edges = body["data"]["complaints"]["edges"]
    assert [e["node"]["title"] for e in edges] == ["窗户漏风", "垃圾未清运", "楼道灯不亮"]
    assert [(e["node"]["handler"] or {}).get("phone") for e in edges] == [
        None,
        "139****0011",
        phone,
    ], "no handler; the grid worker's masked; the resident's own whole"
    assert await compiled(api, monkeypatch, MINE, {"n": 5}, token=token) == COMPILED


async def test_the_end_cursor_of_a_compiled_page_pages_on_as_the_resolvers_cursor_does(
    api: Api, resident: tuple[str, uuid.UUID], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await api.token("alpha", resident[0])
    page = await alike(api, monkeypatch, MINE, {"n": 1}, token=token)
    after = """query($c: String!) { complaints(first: 5, order: NEWEST, after: $c) { edges { node { title } } } }"""
    following = await api.data(after, {"c": page["data"]["complaints"]["pageInfo"]["endCursor"]}, token=token)
    assert [e["node"]["title"] for e in following["complaints"]["edges"]] == ["垃圾未清运", "楼道灯不亮"]


@pytest.mark.parametrize(
    "query",
    [
        "{ complaints(first: 5) { edges { node { title } } } }",
        "{ complaints(first: 5, order: NEWEST, filter: {statuses: [SUBMITTED]}) { edges { node { title } } } }",
        "{ complaints(first: 5, order: NEWEST, filter: null) { edges { node { title status } } } }",
        "{ complaints(first: 5, order: NEWEST) { edges { cursor node { title } } } }",
        "{ complaints(first: 5, order: NEWEST) { totalCount edges { node { title } } } }",
        "{ complaints(first: 5, order: NEWEST) { edges { node { title overdue } } } }",
        "{ complaints(first: 5, order: NEWEST) { edges { node { resident { name phone } } } } }",
        "{ complaints(first: 5, order: NEWEST) { edges { node { latitude viewerCan { withdraw } } } } }",
        "{ complaints(first: 0, order: NEWEST) { edges { node { title } } } }",
        # More fields in one object than PostgreSQL passes json_build_object arguments.
        "{ complaints(first: 5, order: NEWEST) { edges { node { "
        + " ".join(f"t{i}: title" for i in range(30))
        + " id title content status source isPublic address resolution rating feedback acknowledgeDueAt"
        + " resolveDueAt submittedAt updatedAt acknowledgedAt resolvedAt closedAt category { name }"
        + " grid { name } handler { name } __typename } } } }",
    ],
)
async def test_the_edges_of_what_a_residents_shape_can_say_are_answered_as_the_resolvers_answer_them(
    api: Api, resident: tuple[str, uuid.UUID], monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    await alike(api, monkeypatch, query, token=await api.token("alpha", resident[0]))


@pytest.mark.parametrize("caller", [WORKER_1, COMMUNITY_ADMIN, TENANT_ADMIN])
async def test_other_callers_complaints_are_the_resolvers_and_none_of_them_is_compiled(
    api: Api, resident: tuple[str, uuid.UUID], monkeypatch: pytest.MonkeyPatch, caller: str
) -> None:
    """The listing is the scope of a caller who is only a resident: anyone else's complaints
    (a handler's, an admin's, with whole phones to audit) are the resolvers' to answer."""
    token = await api.token("alpha", caller)
    assert not await compiled(api, monkeypatch, MINE, {"n": 5}, token=token)
    body = await alike(api, monkeypatch, MINE, {"n": 50}, token=token)
    assert body["data"]["complaints"]["edges"]


async def test_a_resident_with_no_complaints_gets_an_empty_page_without_cursors(
    api: Api, alpha: TenantHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = fresh_phone()
    await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], name="钱先生", phone=phone)
    body = await alike(api, monkeypatch, MINE, {"n": 5}, token=await api.token("alpha", phone))
    assert body["data"]["complaints"]["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }


MONDAY = date(2026, 11, 30)


def shanghai_at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


INBOX = """query Inbox($n: Int, $statuses: [ComplaintStatus!]) { complaints(first: $n, order: DEADLINE,
  filter: {statuses: $statuses}) { __typename
  edges { node { id title status overdue resolveDueAt acknowledgeDueAt category { name } grid { id name }
    resident { __typename id name phone } handler { name phone }
    timeline(first: 3) { edges { node { __typename action actorName fromStatus toStatus note at } }
      pageInfo { hasNextPage endCursor } } } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
OPEN_STATUSES = ["SUBMITTED", "ACCEPTED", "IN_PROGRESS", "REOPENED"]
INBOX_WORKER, OTHER_WORKER, GRIDLESS_WORKER = "13900000081", "13900000082", "13900000083"
# A grid worker who is also the community's admin: the inbox's compiled read is not theirs.
WORKER_AND_ADMIN = "13900000084"
INBOX_ADMIN = "13900000091"


@dataclass
class Inbox:
    """A street office whose grid worker INBOX_WORKER works two grids, OTHER_WORKER a third and
    GRIDLESS_WORKER none, and the people their complaints show, by name their ids."""

    office: TenantHandle
    people: dict[str, uuid.UUID]
    now: datetime


@pytest.fixture(scope="module")
async def inbox(app: Starlette, api: Api) -> Inbox:
    """Complaints of every kind an inbox tells apart: handled by the worker in their grids and in
    another's, in their grids handled by another or by no one, in another's grid handled by
    another, closed, dispatched to a department; overdue by the resolve or the acknowledge
    deadline, due now, or not; deadlines tied, with and without a fraction of a second;
    reported by a resident, by the worker themself (handled by them or by another), by no one
    (found on inspection); handled by a worker who works no grid; timelines longer than a page,
    by people and by the system; a lane (another's grid, submitted) longer than a page of one
    while the other lanes are empty."""
    grids = [("Q1-G1", INBOX_WORKER), ("Q1-G2", INBOX_WORKER), ("Q1-G3", OTHER_WORKER)]
    manifest = {
        "slug": "qingshan",
        "name": "青山街道",
        "departments": [],
        "categories": [{"code": "environment", "name": "环境卫生", "acknowledge_hours": 4, "resolve_days": 3}],
        "staff": [
            staff(INBOX_ADMIN, "青山街道管理员", {"role": "tenant_admin"}),
            staff(INBOX_WORKER, "网格员甲", {"role": "grid_worker"}),
            staff(OTHER_WORKER, "网格员乙", {"role": "grid_worker"}),
            staff(GRIDLESS_WORKER, "网格员丙", {"role": "grid_worker"}),
            staff(
                WORKER_AND_ADMIN, "网格员丁", {"role": "grid_worker"}, {"role": "community_admin", "community": "Q1"}
            ),
        ],
        "communities": [
            {
                "code": "Q1",
                "name": "青山社区",
                "grids": [
                    {
                        "code": code,
                        "name": f"青山{code[-1]}网格",
                        "worker": worker,
                        "buildings": [{"code": f"{code}-B1", "name": "1号楼"}],
                    }
                    for code, worker in grids
                ],
            }
        ],
    }
    office = await _handle(app, manifest)
    for name in ("李大爷", "王阿姨"):
        await api.register_resident(office.slug, office.buildings["Q1-G1-B1"], name=name, phone=fresh_phone())
    # The tests stop the clock here: near the real time, for the tokens they sign in for.
    now = datetime.now(UTC).replace(microsecond=0)
    day, hour, fraction = timedelta(days=1), timedelta(hours=1), timedelta(microseconds=123_456)
    async with open_session(app.state.services.sessions, office.id) as session, session.begin():
        people = dict((await session.execute(select(User.name, User.id))).all())
        category = await session.scalar(select(ComplaintCategory.id))
        worker, other, gridless = people["网格员甲"], people["网格员乙"], people["网格员丙"]
        items = [
            # title, grid, handler, resident, status, resolve due, acknowledge due, events
            ("楼道堆物", "Q1-G1", worker, "李大爷", ComplaintStatus.IN_PROGRESS, now - day, now - 3 * day, 5),
            ("路灯不亮", "Q1-G1", other, "王阿姨", ComplaintStatus.ACCEPTED, now + 2 * day, now - day, 2),
            ("井盖松动", "Q1-G1", None, "王阿姨", ComplaintStatus.SUBMITTED, now + 2 * day, now, 0),
            ("树枝折断", "Q1-G2", worker, "王阿姨", ComplaintStatus.IN_PROGRESS, now, now - day, 1),
            ("噪音扰民", "Q1-G2", None, "李大爷", ComplaintStatus.SUBMITTED, now + 3 * day, now - hour, 1),
            ("违章搭建", "Q1-G3", worker, "王阿姨", ComplaintStatus.REOPENED, now + fraction, now - day, 3),
            ("占道经营", "Q1-G3", other, "李大爷", ComplaintStatus.IN_PROGRESS, now - 2 * day, now - 3 * day, 1),
            ("绿化损毁", "Q1-G1", worker, "李大爷", ComplaintStatus.CLOSED, now - 5 * day, now - 6 * day, 4),
            ("电梯故障", "Q1-G2", worker, "网格员甲", ComplaintStatus.SUBMITTED, now + 4 * day, now + day, 1),
            ("消防通道", "Q1-G1", None, None, ComplaintStatus.IN_PROGRESS, now + 5 * day, now - day, 2),
            ("垃圾满溢", "Q1-G3", None, "王阿姨", ComplaintStatus.SUBMITTED, now + 6 * day, now + day, 0),
            ("楼顶漏水", "Q1-G3", None, "李大爷", ComplaintStatus.SUBMITTED, now + 7 * day, now + day, 0),
            ("雨棚破损", "Q1-G1", other, "网格员甲", ComplaintStatus.ACCEPTED, now + 8 * day, now - day, 0),
            ("管道堵塞", "Q1-G1", worker, "李大爷", ComplaintStatus.DISPATCHED, now - day, now - 2 * day, 1),
            ("外墙脱落", "Q1-G2", gridless, "王阿姨", ComplaintStatus.IN_PROGRESS, now + day, now - day, 0),
        ]
        for title, grid, handler, resident, status, resolve_due, acknowledge_due, events in items:
            item = Complaint(
                title=title,
                content=f"{title}，请尽快处理。",
                source=ComplaintSource.APP if resident else ComplaintSource.INSPECTION,
                category_id=category,
                grid_id=office.grids[grid],
                community_id=office.communities["Q1"],
                building_id=office.buildings[f"{grid}-B1"],
                resident_id=people[resident] if resident else None,
                filed_by_id=people[resident] if resident else worker,
                handler_id=handler,
                status=status,
                acknowledge_due_at=acknowledge_due,
                resolve_due_at=resolve_due,
                submitted_at=now - 7 * day,
                updated_at=now - day,
            )
            session.add(item)
            await session.flush()
            for n in range(events):
                session.add(
                    ComplaintEvent(
                        complaint_id=item.id,
                        action=ComplaintAction.SUPERVISE if n % 2 else ComplaintAction.SUBMIT,
                        actor_id=None if n == 1 else handler or worker,
                        from_status=None if n == 0 else status,
                        to_status=status,
                        note=f"第{n + 1}步" if n % 3 else None,
                        created_at=now - 7 * day + n * timedelta(hours=1, microseconds=n),
                    )
                )
    return Inbox(office, people, now)


@pytest.mark.parametrize(
    "statuses", [OPEN_STATUSES, ["SUBMITTED"], ["CLOSED", "IN_PROGRESS"], ["DISPATCHED", "DISPATCHED"], [], None]
)
@pytest.mark.parametrize("caller", [INBOX_WORKER, OTHER_WORKER, GRIDLESS_WORKER])
async def test_a_grid_workers_inbox_is_answered_as_the_resolvers_answer_it(
    api: Api, clock: Clock, inbox: Inbox, monkeypatch: pytest.MonkeyPatch, caller: str, statuses: list[str] | None
) -> None:
    """Every page size, every status filter, each worker: the same items in the same order, the
    same phones (whole to the handler), overdue flags, timelines and cursors; compiled on
    PostgreSQL."""
    token = await api.token(inbox.office.slug, caller)
    with clock.at(inbox.now):
        for n in (1, 2, 3, 4, 100):
            body = await alike(api, monkeypatch, INBOX, {"n": n, "statuses": statuses}, token=token)
            assert "errors" not in body
        for n in (1, 100):
            assert await compiled(api, monkeypatch, INBOX, {"n": n, "statuses": statuses}, token=token) == COMPILED
    if caller != GRIDLESS_WORKER and statuses != ["DISPATCHED", "DISPATCHED"]:
        assert body["data"]["complaints"]["edges"], "each worker has items in each filter"


@pytest.mark.parametrize("statuses", [OPEN_STATUSES, None])
async def test_a_grid_worker_with_another_role_gets_the_resolvers_inbox(
    api: Api, clock: Clock, inbox: Inbox, monkeypatch: pytest.MonkeyPatch, statuses: list[str] | None
) -> None:
    """Their scope is their grids' and their community's: not the compiled read's."""
    token = await api.token(inbox.office.slug, WORKER_AND_ADMIN)
    with clock.at(inbox.now):
        body = await alike(api, monkeypatch, INBOX, {"n": 100, "statuses": statuses}, token=token)
        assert not await compiled(api, monkeypatch, INBOX, {"n": 100, "statuses": statuses}, token=token)
    assert len(body["data"]["complaints"]["edges"]) > 5, "the whole community's"


async def test_the_inbox_shows_what_it_should_to_its_grid_worker(api: Api, clock: Clock, inbox: Inbox) -> None:
    """What the comparison with the resolvers rests on: the worker's own and their grids' open
    items by deadline, none of another's grid they do not handle; the resident's phone whole on
    what they handle; overdue by either deadline."""
    token = await api.token(inbox.office.slug, INBOX_WORKER)
    with clock.at(inbox.now):
        body = await api.data(INBOX, {"n": 100, "statuses": OPEN_STATUSES}, token=token)
    nodes = [edge["node"] for edge in body["complaints"]["edges"]]
    assert [n["title"] for n in nodes] == [
        "楼道堆物",
        "树枝折断",
        "违章搭建",
        "外墙脱落",
        "路灯不亮",
        "井盖松动",
        "噪音扰民",
        "电梯故障",
        "消防通道",
        "雨棚破损",
    ]
    # Due now is not overdue yet, by either deadline.
    assert [n["overdue"] for n in nodes] == [True, False, False, False, False, False, True, False, False, False]
    phones = {n["title"]: (n["resident"] or {}).get("phone") for n in nodes}
    assert "*" not in phones["楼道堆物"] + phones["违章搭建"] + phones["电梯故障"] + phones["雨棚破损"]
    assert "****" in phones["路灯不亮"] and "****" in phones["外墙脱落"] and phones["消防通道"] is None
    assert [len(n["timeline"]["edges"]) for n in nodes[:3]] == [3, 1, 3]
    assert nodes[0]["timeline"]["pageInfo"]["hasNextPage"]


async def audited_subjects(app: Starlette, office: TenantHandle, ask: Any) -> list[uuid.UUID]:
    """Whose whole values the audit log records for what `ask()` asks, sorted."""
    async with open_session(app.state.services.sessions, office.id) as session:
        before = set((await session.scalars(select(FullViewEntry.id))).all())
    await ask()
    async with open_session(app.state.services.sessions, office.id) as session:
        rows = (await session.execute(select(FullViewEntry.id, FullViewEntry.subject_id))).all()
    return sorted(subject for row_id, subject in rows if row_id not in before)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (INBOX, {"n": 100, "statuses": OPEN_STATUSES}),
        (INBOX, {"n": 1, "statuses": OPEN_STATUSES}),
        ("{ complaints(first: 5, order: DEADLINE) { edges { node { title resident { name } } } } }", None),
        (
            "{ complaints(first: 5, order: DEADLINE) { edges { node { a: resident { phone } b: resident { p: phone } } } } }",
            None,
        ),
    ],
    ids=["the inbox", "its first item", "no phone asked", "phones asked twice"],
)
@pytest.mark.parametrize("caller", [INBOX_WORKER, OTHER_WORKER])
async def test_the_whole_phones_an_inbox_shows_are_audited_as_the_resolvers_audit_them(
    app: Starlette,
    api: Api,
    clock: Clock,
    inbox: Inbox,
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    variables: dict[str, Any] | None,
    caller: str,
) -> None:
    """Once per person whose phone reached the response whole, but the worker's own (another
    worker handling what the first reported sees theirs)."""
    token = await api.token(inbox.office.slug, caller)

    async def ask() -> None:
        assert "errors" not in await api.run(query, variables, token=token)

    with clock.at(inbox.now):
        answered = await audited_subjects(app, inbox.office, ask)
        monkeypatch.setattr(batched, "compiled_answer", not_compiled)
        resolved = await audited_subjects(app, inbox.office, ask)
    assert answered == resolved
    if "phone" in query and variables and variables["n"] > 1:
        seen = {"李大爷", "王阿姨"} | ({"网格员甲"} if caller == OTHER_WORKER else set())
        assert answered == sorted(inbox.people[name] for name in seen)


@pytest.mark.parametrize(
    "query",
    [
        "{ complaints(first: 5, order: DEADLINE, filter: {overdue: true}) { edges { node { title } } } }",
        "{ complaints(first: 5, order: NEWEST) { edges { node { title } } } }",
        "{ complaints(first: 5, order: DEADLINE) { edges { cursor node { title } } } }",
        "{ complaints(first: 5, order: DEADLINE) { edges { node { title timeline(first: 2) { totalCount } } } } }",
        "{ complaints(first: 5, order: DEADLINE) { edges { node { title timeline { edges { node { at } } } } } } }",
        "{ complaints(first: 5, order: DEADLINE) { edges { node { title attachments { id } } } } }",
        "{ complaints(first: 5, order: DEADLINE, filter: {statuses: []}) { edges { node { title status } } } }",
    ],
)
@pytest.mark.parametrize("caller", [INBOX_WORKER, INBOX_ADMIN])
async def test_the_edges_of_what_an_inbox_shape_can_say_are_answered_as_the_resolvers_answer_them(
    api: Api, clock: Clock, inbox: Inbox, monkeypatch: pytest.MonkeyPatch, query: str, caller: str
) -> None:
    with clock.at(inbox.now):
        await alike(api, monkeypatch, query, token=await api.token(inbox.office.slug, caller))


async def test_an_inbox_is_one_statement_on_postgresql(
    api: Api, clock: Clock, inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The items, their timelines and the audit of the phones shown, where the resolvers read the
    worker's grids, the items and the timelines apart."""
    token = await api.token(inbox.office.slug, INBOX_WORKER)
    variables = {"n": 20, "statuses": OPEN_STATUSES}
    with clock.at(inbox.now):
        statements = await api.statements(INBOX, variables, token=token)
        monkeypatch.setattr(batched, "compiled_answer", not_compiled)
        resolved = await api.statements(INBOX, variables, token=token)
    assert resolved - statements == (2 if COMPILED else 0)


NOTIFICATIONS = """query Notifications($n: Int) { unreadNotificationCount notifications(first: $n) {
  edges { node { __typename id kind title body createdAt read subject { __typename id } } }
  pageInfo { hasNextPage hasPreviousPage endCursor } } }"""


async def tell(app: Starlette, tenant: uuid.UUID, phone: str, subject_type: SubjectType, subject_id: uuid.UUID) -> None:
    """A notification for the user with this phone about this subject, already read (no unread
    count to keep)."""
    async with open_session(app.state.services.sessions, tenant) as session, session.begin():
        recipient = (await session.execute(select(User.id).where(User.phone == phone))).scalar_one()
        session.add(
            Notification(
                recipient_id=recipient,
                kind=NotificationKind.COMPLAINT_NEW,
                title="测试通知",
                body=f"关于 {subject_type.value}",
                subject_type=subject_type,
                subject_id=subject_id,
                read_at=datetime.now(UTC),
            )
        )


async def test_notifications_are_planned_once_and_left_to_the_resolvers_planned_as_always(
    app: Starlette, api: Api, inbox: Inbox
) -> None:
    """A grid worker's notifications run on the plan PostgreSQL makes for any caller (set for
    the transaction just before): at ten million complaints it planned the page anew for every
    request. A page left to the resolvers (a notification about a resident) has them plan as
    always: the setting is undone right after the compiled statement."""
    # The worker of no grid: no other test reads their notifications.
    worker = await api.token(inbox.office.slug, GRIDLESS_WORKER)

    async def sent_for_a_page() -> tuple[list[str], list[int]]:
        with statements_of(app) as sent:
            await api.data(NOTIFICATIONS, {"n": 3}, token=worker)
        texts = [statement for statement, _ in sent]
        return texts, [i for i, text in enumerate(texts) if "json_build_object" in text]

    for _ in range(3):
        await tell(app, inbox.office.id, GRIDLESS_WORKER, SubjectType.COMPLAINT, uuid.uuid4())
    texts, built = await sent_for_a_page()
    if COMPILED:
        assert len(built) == 1 and texts[built[0] - 1] == PLANNED_ONCE and PLANNED_AGAIN not in texts
    else:
        assert built == [] and PLANNED_ONCE not in texts

    await tell(app, inbox.office.id, GRIDLESS_WORKER, SubjectType.RESIDENT, inbox.people["李大爷"])
    texts, built = await sent_for_a_page()
    if COMPILED:
        assert len(built) == 1 and texts[built[0] - 1] == PLANNED_ONCE and texts[built[0] + 1] == PLANNED_AGAIN
        assert len(texts) > built[0] + 2  # the resolvers' statements
    else:
        assert built == [] and PLANNED_AGAIN not in texts


async def test_notifications_are_answered_as_the_resolvers_answer_them_and_compiled_while_about_complaints(
    app: Starlette, api: Api, alpha: TenantHandle, resident: tuple[str, uuid.UUID], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A grid worker's notifications about the complaints of their grid (subjects they see), a
    complaint that is not there (a null subject); the resident's, about their complaints. A page
    with a subject of another type (one the compiled read does not judge the visibility of) is
    the resolvers' to answer, the same either way."""
    worker = await api.token("alpha", WORKER_1)
    await tell(app, alpha.id, WORKER_1, SubjectType.COMPLAINT, uuid.uuid4())
    body = await alike(api, monkeypatch, NOTIFICATIONS, {"n": 3}, token=worker)
    subjects = [edge["node"]["subject"] for edge in body["data"]["notifications"]["edges"]]
    assert subjects[0] is None and all(subject["__typename"] == "Complaint" for subject in subjects[1:])
    assert await compiled(api, monkeypatch, NOTIFICATIONS, {"n": 3}, token=worker) == COMPILED

    mine = await api.data(MINE, {"n": 2}, token=await api.token("alpha", resident[0]))
    handled = mine["complaints"]["edges"][1]["node"]["id"]  # the one the grid worker handles
    accepted = await api.data(ACCEPT, {"input": {"complaintId": handled}}, token=worker)
    assert accepted["acceptComplaint"]["errors"] == []
    own = await api.token("alpha", resident[0])
    body = await alike(api, monkeypatch, NOTIFICATIONS, {"n": 10}, token=own)
    assert body["data"]["unreadNotificationCount"] == 1 and body["data"]["notifications"]["edges"][0]["node"]["subject"]
    assert await compiled(api, monkeypatch, NOTIFICATIONS, {"n": 10}, token=own) == COMPILED

    await tell(app, alpha.id, WORKER_1, SubjectType.RESIDENT, resident[1])
    for n in (1, 2, 50):
        await alike(api, monkeypatch, NOTIFICATIONS, {"n": n}, token=worker)
    assert not await compiled(api, monkeypatch, NOTIFICATIONS, {"n": 1}, token=worker)


@pytest.mark.parametrize(
    "query",
    [
        "{ notifications(first: 5, unreadOnly: true) { edges { node { title } } } }",
        "{ notifications(first: 5) { edges { node { title subject { id ... on Complaint { title } } } } } }",
        "{ unreadNotificationCount notifications(first: 5) { totalCount } }",
        "{ a: unreadNotificationCount b: unreadNotificationCount }",
    ],
)
@pytest.mark.parametrize("caller", [WORKER_1, TENANT_ADMIN])
async def test_the_edges_of_what_a_notifications_shape_can_say_are_answered_as_the_resolvers_answer_them(
    api: Api, resident: tuple[str, uuid.UUID], monkeypatch: pytest.MonkeyPatch, query: str, caller: str
) -> None:
    await alike(api, monkeypatch, query, token=await api.token("alpha", caller))


async def test_anonymous_notifications_are_the_same_error(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    body = await alike(api, monkeypatch, NOTIFICATIONS, {"n": 1}, tenant="alpha")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


SLOTS = """query Slots($id: ID!, $from: Date!, $to: Date!) { node(id: $id) { __typename id
  ... on Room { name capacity requiresApproval slotMinutes minNoticeHours maxDaysAhead maxDurationMinutes weeklyQuotaHours
    freeSlots(fromDate: $from, toDate: $to) { __typename startsAt endsAt } } } }"""
ODD, PLAIN = "多功能厅", "小会议室"


@pytest.fixture(scope="module")
async def odd_rooms(app: Starlette) -> tuple[TenantHandle, dict[str, str]]:
    """A street office of its own with two rooms, by name their ids. ODD holds every rule free
    slots read: spans out of their order, overlapping (slots twice), off the slot grid, to
    midnight, shorter than a slot, malformed or closing before they open; a closed date;
    bookings pending, approved (across two slots, across midnight) and not holding their slot
    (cancelled, rejected). PLAIN has slots of an hour, a weekday's hours stored as a text
    rather than a list, and a booking at a time ODD is free."""
    rules = {"capacity": 40, "min_notice_hours": 3, "max_days_ahead": 5}
    rooms = [{"name": ODD, "slot_minutes": 30, **rules}, {"name": PLAIN, "slot_minutes": 60, **rules}]
    manifest = {
        "slug": "huayuan",
        "name": "花园街道",
        "departments": [],
        "categories": [],
        "staff": [staff("13900000099", "花园社区管理员", {"role": "tenant_admin"})],
        "communities": [{"code": "H1", "name": "花园社区", "grids": [], "rooms": rooms}],
    }
    office = await _handle(app, manifest)
    hours = {
        ODD: {
            "mon": ["14:00-17:00", "09:10-12:00", "10:00-11:00"],
            "tue": ["19:30-24:00", "9:00-12:00", "12:00-09:00"],
            "wed": ["00:00-24:00"],
            "thu": ["09:00-10:00"],
            "fri": [],
            "sat": ["08:00-08:15"],
            "sun": ["13:00-18:00"],
        },
        PLAIN: {"mon": ["09:00-12:00"], "tue": ["08:30-11:00", "19:00-22:00"], "sun": "13:00-18:00"},
    }
    wednesday, tuesday = MONDAY + timedelta(days=2), MONDAY + timedelta(days=1)
    bookings = [
        (ODD, shanghai_at(MONDAY, 14), shanghai_at(MONDAY, 15), BookingStatus.PENDING),
        (ODD, shanghai_at(MONDAY, 16, 15), shanghai_at(MONDAY, 16, 45), BookingStatus.APPROVED),
        (ODD, shanghai_at(tuesday, 20), shanghai_at(tuesday, 20, 30), BookingStatus.CANCELLED),
        (ODD, shanghai_at(tuesday, 21), shanghai_at(tuesday, 21, 30), BookingStatus.REJECTED),
        (ODD, shanghai_at(tuesday, 23), shanghai_at(wednesday, 1), BookingStatus.APPROVED),
        (PLAIN, shanghai_at(tuesday, 20), shanghai_at(tuesday, 21), BookingStatus.APPROVED),
    ]
    async with open_session(app.state.services.sessions, office.id) as session, session.begin():
        ids = dict((await session.execute(select(Room.name, Room.id))).all())
        holder = await session.scalar(select(User.id))
        for name, room_hours in hours.items():
            closed = [(MONDAY - timedelta(days=1)).isoformat()] if name == ODD else []
            await session.execute(
                update(Room).where(Room.id == ids[name]).values(opening_hours=room_hours, closed_dates=closed)
            )
        for name, starts, ends, status in bookings:
            session.add(
                RoomBooking(
                    room_id=ids[name],
                    resident_id=holder,
                    purpose="排练",
                    attendees=10,
                    starts_at=starts,
                    ends_at=ends,
                    status=status,
                )
            )
    return office, {name: relay.to_base64("Room", str(room_id)) for name, room_id in ids.items()}


@pytest.fixture
def odd_room(odd_rooms: tuple[TenantHandle, dict[str, str]], clock: Clock) -> Iterator[tuple[TenantHandle, str]]:
    """ODD, on a clock stopped the morning of MONDAY: its slots move with the clock."""
    office, rooms = odd_rooms
    with clock.at(shanghai_at(MONDAY, 8).astimezone(UTC)):
        yield office, rooms[ODD]


@pytest.mark.parametrize(
    "now",
    [shanghai_at(MONDAY, 8), shanghai_at(MONDAY, 12, 10), shanghai_at(MONDAY - timedelta(days=3), 23, 30)],
    ids=["before the day", "mid-day", "days before"],
)
async def test_a_rooms_free_slots_are_answered_as_the_resolvers_answer_them(
    api: Api,
    clock: Clock,
    odd_rooms: tuple[TenantHandle, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    now: datetime,
) -> None:
    """Every rule, for windows the notice, the horizon and a closed date cut into: the same
    slots, in the same order (a slot twice where spans overlap), compiled on PostgreSQL."""
    office, rooms = odd_rooms
    seen: dict[str, list[str]] = {ODD: [], PLAIN: []}
    with clock.at(now.astimezone(UTC)):
        for name, room in rooms.items():
            for first, last in ((0, 0), (0, 6), (-2, 2), (0, 30), (3, 3), (6, 9)):
                days = {
                    "from": (MONDAY + timedelta(days=first)).isoformat(),
                    "to": (MONDAY + timedelta(days=last)).isoformat(),
                }
                body = await alike(api, monkeypatch, SLOTS, {"id": room, **days}, tenant=office.slug)
                seen[name] += [slot["startsAt"] for slot in body["data"]["node"]["freeSlots"]]
                assert await compiled(api, monkeypatch, SLOTS, {"id": room, **days}, tenant=office.slug) == COMPILED
    odd = seen[ODD]
    assert len(odd) > len(set(odd)), "overlapping spans offer a slot twice"
    # Free: a cancelled booking, a rejected one, and another room's.
    assert {"2026-12-01T20:00:00+08:00", "2026-12-01T21:00:00+08:00"} <= set(odd)
    assert "2026-11-30T14:00:00+08:00" not in odd and "2026-11-30T16:00:00+08:00" not in odd
    assert "2026-12-01T22:30:00+08:00" in odd and "2026-12-02T00:30:00+08:00" not in odd
    plain = seen[PLAIN]
    assert "2026-12-01T09:00:00+08:00" in plain and "2026-12-01T09:30:00+08:00" not in plain
    assert "2026-12-01T21:00:00+08:00" in plain and "2026-12-01T20:00:00+08:00" not in plain


@pytest.mark.parametrize(
    ("first", "last"),
    [("0001-01-01", "0001-01-02"), ("9999-12-30", "9999-12-31"), ("2026-11-20", "2026-11-29")],
    ids=["the first days", "the last days", "days gone by"],
)
async def test_a_window_no_slot_can_be_in_is_empty_as_the_resolvers_answer_it(
    api: Api, odd_room: tuple[TenantHandle, str], monkeypatch: pytest.MonkeyPatch, first: str, last: str
) -> None:
    office, room = odd_room
    variables = {"id": room, "from": first, "to": last}
    body = await alike(api, monkeypatch, SLOTS, variables, tenant=office.slug)
    assert body["data"]["node"]["freeSlots"] == []
    assert await compiled(api, monkeypatch, SLOTS, variables, tenant=office.slug) == COMPILED


@pytest.mark.parametrize(
    ("first", "last"),
    [(0, -1), (0, 31)],
    ids=["to before from", "more than 31 days"],
)
async def test_a_refused_window_of_free_slots_is_the_resolvers_error(
    api: Api, odd_room: tuple[TenantHandle, str], monkeypatch: pytest.MonkeyPatch, first: int, last: int
) -> None:
    office, room = odd_room
    days = {"from": (MONDAY + timedelta(days=first)).isoformat(), "to": (MONDAY + timedelta(days=last)).isoformat()}
    body = await alike(api, monkeypatch, SLOTS, {"id": room, **days}, tenant=office.slug)
    assert body["errors"][0]["extensions"]["code"] == "INVALID"


@pytest.mark.parametrize(
    "query",
    [
        "query($id: ID!) { node(id: $id) { id ... on Room { name } } }",
        "query($id: ID!) { node(id: $id) { ... on Room { name facilities community { name } } } }",
        "query($id: ID!) { node(id: $id) { ... on Community { name } ... on Room { capacity } } }",
        """query($id: ID!, $d: Date!) { node(id: $id) { ... on Room { a: freeSlots(fromDate: $d, toDate: $d) { startsAt }
          b: freeSlots(fromDate: "2026-12-01", toDate: "2026-12-01") { endsAt } } } }""",
        "query($id: ID!) { a: node(id: $id) { id } b: node(id: $id) { id } }",
        "query($id: ID!) { node(id: $id) { id } communities(first: 1) { edges { node { name } } } }",
    ],
)
@pytest.mark.parametrize("which", ["the room", "another office's room", "a community", "malformed", "not a uuid"])
async def test_the_edges_of_what_a_record_shape_can_say_are_answered_as_the_resolvers_answer_them(
    api: Api,
    alpha: TenantHandle,
    odd_room: tuple[TenantHandle, str],
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    which: str,
) -> None:
    office, room = odd_room
    elsewhere = (await api.data("{ rooms(first: 1) { edges { node { id } } } }", tenant="alpha"))["rooms"]
    ids = {
        "the room": room,
        "another office's room": elsewhere["edges"][0]["node"]["id"],
        "a community": relay.to_base64("Community", str(office.communities["H1"])),
        "malformed": "Room:not-a-uuid",
        "not a uuid": relay.to_base64("Room", "not-a-uuid"),
    }
    await alike(api, monkeypatch, query, {"id": ids[which], "d": MONDAY.isoformat()}, tenant=office.slug)


async def test_a_rooms_free_slots_are_one_statement_planned_once_on_postgresql(
    app: Starlette, api: Api, odd_room: tuple[TenantHandle, str]
) -> None:
    """The room and its slots in one statement, run on the plan PostgreSQL makes for any window
    (set for the transaction just before): planned again for each window, the same plan cost a
    third of the statement's time. The resolvers read the room and its bookings apart."""
    office, room = odd_room
    variables = {"id": room, "from": MONDAY.isoformat(), "to": (MONDAY + timedelta(days=6)).isoformat()}
    with statements_of(app) as sent:
        await api.data(SLOTS, variables, tenant=office.slug)
    texts = [statement for statement, _ in sent]
    built = [i for i, text in enumerate(texts) if "json_build_object" in text]
    if COMPILED:
        assert len(built) == 1 and texts[built[0] - 1] == PLANNED_ONCE and texts.count(PLANNED_ONCE) == 1
    else:
        assert built == [] and PLANNED_ONCE not in texts
