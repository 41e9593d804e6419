"""Exports through the endpoint and the signed download: a list's file (CSV, XLSX parsed back),
masked or whole by role and choice, the record of who exported what, the job's lifecycle and
progress, a restart mid-way, the monthly report as PDF, and nothing for wrong roles, other
tenants, forged or expired links."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import openpyxl
import pytest
from starlette.applications import Starlette

from resolvers.exports import LEASE
from server.exports import ExportRunner
from tests.conftest import COMMUNITY_ADMIN, OTHER_COMMUNITY_ADMIN, STAFF, TENANT_ADMIN, WORKER_1
from tests.gridwork import ADMIN, C1_ADMIN, C2_ADMIN, W1, W3, W4
from tests.support import Api, Clock, TenantHandle, fresh_phone, gid
from tests.test_guides import applied
from tests.test_guides import created as created_guide
from tests.test_guides import resident as guide_resident
from tests.test_households import fresh_room, id_number, member, register_household
from tests.test_inspections import record_item, start_round
from tests.test_leaders import NOW as LEADERS_NOW
from tests.test_leaders import leader_of
from tests.test_visits import record as record_visit
from tests.test_volunteers import CREATE as CREATE_ACTIVITY
from tests.test_volunteers import NOW as VOLUNTEERS_NOW
from tests.test_volunteers import fields as activity_fields
from tests.test_volunteers import published as published_activity

FIELDS = """id subject format status filter wholePersonalData rowsDone rowsTotal rowsTotalIsCapped failure
  requestedByName fileName expiresAt downloadUrl"""
REQUEST = f"""mutation($input: RequestExportInput!) {{
  requestExport(input: $input) {{ export {{ {FIELDS} }} errors {{ field code message }} }} }}"""
REPORT = f"""mutation($input: RequestMonthlyReportInput!) {{
  requestMonthlyReport(input: $input) {{ export {{ {FIELDS} }} errors {{ field code message }} }} }}"""
NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on Export {{ {FIELDS} }} }} }}"
LIST = f"{{ exports(first: 100) {{ totalCount edges {{ node {{ {FIELDS} }} }} }} }}"
SUBMIT = "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { errors { code } } }"
COMPLAINT_HEADERS = [
    "标题", "类别", "状态", "来源", "网格", "地址", "反映人", "反映人电话", "提交时间", "受理期限", "办结期限",
    "办结时间", "处理人", "处理人电话", "办理结果", "评分",
]  # fmt: skip


class Complaints:
    """Five complaints of one resident of A1-G1 (东风社区), all carrying a word no other test uses."""

    def __init__(self, api: Api, tag: str, phone: str, category: str) -> None:
        self.api = api
        self.tag = tag
        self.phone = phone
        self.category = category

    def request(self, file_format: str = "CSV", **extra: Any) -> dict[str, Any]:
        return {"list": "COMPLAINTS", "format": file_format, "complaints": {"search": self.tag}, **extra}


@pytest.fixture(scope="module")
async def filed(api: Api, alpha: TenantHandle) -> Complaints:
    phone = fresh_phone()
    registered = await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], name="王小明", phone=phone)
    assert registered["errors"] == []
    categories = await api.data("{ complaintCategories(first: 10) { edges { node { id } } } }", tenant="alpha")
    category = categories["complaintCategories"]["edges"][0]["node"]["id"]
    tag = f"导出{uuid.uuid4().hex[:8]}"
    token = await api.token("alpha", phone)
    for i in range(5):
        draft = {"title": f"{tag} 楼道灯坏了 {i}", "content": "晚上看不见台阶。", "categoryId": category}
        body = await api.data(SUBMIT, {"input": {"complaint": draft}}, token=token)
        assert body["submitComplaint"]["errors"] == []
    return Complaints(api, tag, phone, category)


@pytest.fixture
def runner(app: Starlette) -> ExportRunner:
    return ExportRunner(app.state.services, poll_seconds=3600)


async def ask(api: Api, phone: str, input: dict[str, Any], tenant: str = "alpha") -> dict[str, Any]:
    data = await api.data(REQUEST, {"input": input}, token=await api.token(tenant, phone))
    return data["requestExport"]


async def node(api: Api, phone: str, export_id: str, tenant: str = "alpha") -> dict[str, Any] | None:
    return (await api.data(NODE, {"id": export_id}, token=await api.token(tenant, phone)))["node"]


async def made(api: Api, runner: ExportRunner, phone: str, input: dict[str, Any]) -> dict[str, Any]:
    asked = await ask(api, phone, input)
    assert asked["errors"] == [], asked
    await runner.run_once()
    done = await node(api, phone, asked["export"]["id"])
    assert done is not None and done["status"] == "READY", done
    return done


async def download(api: Api, url: str) -> tuple[bytes, str]:
    response = await api.client.get(url)
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    name = unquote(disposition.split("filename*=utf-8''")[1]) if "filename*=" in disposition else disposition
    return response.content, name


async def exported_rows(
    api: Api, runner: ExportRunner, admin: str, input: dict[str, Any], headers: list[str], tenant: str = "alpha"
) -> list[list[str]]:
    """A CSV export asked for as `admin`, made by the runner and read back: its rows, under `headers`."""
    asked = await ask(api, admin, {"format": "CSV", **input}, tenant=tenant)
    assert asked["errors"] == [], asked
    return await rows_made(api, runner, admin, asked, headers, tenant)


async def rows_made(
    api: Api, runner: ExportRunner, admin: str, asked: dict[str, Any], headers: list[str], tenant: str = "alpha"
) -> list[list[str]]:
    """The rows of an export asked for earlier, once the runner has made it."""
    await runner.run_once()
    done = await node(api, admin, asked["export"]["id"], tenant=tenant)
    assert done is not None and done["status"] == "READY", done
    header, *rows = csv_rows((await download(api, done["downloadUrl"]))[0])
    assert header == headers
    return rows


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode())  # Excel reads Chinese only with the BOM
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def xlsx_rows(content: bytes) -> tuple[str, list[list[Any]]]:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    sheet = book.worksheets[0]
    return sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)]


async def test_a_csv_export_has_chinese_headers_the_filtered_rows_and_masked_people(
    api: Api, filed: Complaints, runner: ExportRunner
) -> None:
    asked = await ask(api, TENANT_ADMIN, filed.request())
    assert asked["errors"] == []
    queued = asked["export"]
    assert queued["status"] == "QUEUED" and queued["rowsDone"] == 0 and queued["rowsTotal"] == 5
    assert queued["downloadUrl"] is None and not queued["wholePersonalData"]
    await runner.run_once()
    done = await node(api, TENANT_ADMIN, queued["id"])
    assert done is not None and done["status"] == "READY" and done["rowsDone"] == 5
    content, name = await download(api, done["downloadUrl"])
    assert name == done["fileName"] and name.startswith("诉求-已脱敏-") and name.endswith(".csv")
    header, *rows = csv_rows(content)
    assert header == COMPLAINT_HEADERS and header[:3] == ["标题", "类别", "状态"]
    assert sorted(r[0] for r in rows) == [f"{filed.tag} 楼道灯坏了 {i}" for i in range(5)]
    person = {header[i]: rows[0][i] for i in range(len(header))}
    assert person["状态"] == "待受理" and person["网格"] == "东风一网格"
    assert person["反映人"] == "王*明" and person["反映人电话"] == f"{filed.phone[:3]}****{filed.phone[-4:]}"
    assert filed.phone not in content.decode("utf-8-sig")


async def test_an_xlsx_export_asked_whole_shows_people_whole_to_admins_over_them(
    api: Api, filed: Complaints, runner: ExportRunner
) -> None:
    for admin in (TENANT_ADMIN, COMMUNITY_ADMIN):
        done = await made(api, runner, admin, filed.request("XLSX", wholePersonalData=True))
        content, name = await download(api, done["downloadUrl"])
        assert name.startswith("诉求-含完整个人信息-") and name.endswith(".xlsx")
        title, (header, *rows) = xlsx_rows(content)
        assert title == "诉求（含完整个人信息）" and header == COMPLAINT_HEADERS
        assert len(rows) == 5 and {r[header.index("反映人")] for r in rows} == {"王小明"}
        assert {r[header.index("反映人电话")] for r in rows} == {filed.phone}


async def test_a_community_admin_exports_their_communitys_rows_only(
    api: Api, filed: Complaints, runner: ExportRunner
) -> None:
    done = await made(api, runner, OTHER_COMMUNITY_ADMIN, filed.request(wholePersonalData=True))
    assert done["rowsTotal"] == 0 and done["rowsDone"] == 0
    content, _ = await download(api, done["downloadUrl"])
    assert csv_rows(content) == [COMPLAINT_HEADERS]


async def test_every_export_is_recorded_for_the_tenant_admin_and_only_their_own_for_others(
    api: Api, filed: Complaints, runner: ExportRunner
) -> None:
    mine = await made(api, runner, COMMUNITY_ADMIN, filed.request(wholePersonalData=True))
    theirs = await made(api, runner, TENANT_ADMIN, filed.request())
    records = (await api.data(LIST, token=await api.token("alpha", TENANT_ADMIN)))["exports"]["edges"]
    record = next(e["node"] for e in records if e["node"]["id"] == mine["id"])
    assert record["requestedByName"] == "社区管理员甲" and record["wholePersonalData"] is True
    assert record["rowsDone"] == 5 and f'"search": "{filed.tag}"' in record["filter"]
    assert record["subject"] == "COMPLAINTS" and record["format"] == "CSV"
    assert record["downloadUrl"] is None  # the record is not the file: only its requester fetches it
    own = (await api.data(LIST, token=await api.token("alpha", COMMUNITY_ADMIN)))["exports"]["edges"]
    ids = {e["node"]["id"] for e in own}
    assert mine["id"] in ids and theirs["id"] not in ids
    assert {e["node"]["requestedByName"] for e in own} == {"社区管理员甲"}


async def test_text_that_a_spreadsheet_would_run_as_a_formula_stays_text(
    api: Api, filed: Complaints, runner: ExportRunner
) -> None:
    token = await api.token("alpha", filed.phone)
    marker = uuid.uuid4().hex[:8]  # not the fixture's tag: its five complaints stay five
    formula = f'=HYPERLINK("http://x.cn/{marker}","点我")'
    draft = {"title": formula, "content": "看起来像公式的标题。", "categoryId": filed.category}
    assert (await api.data(SUBMIT, {"input": {"complaint": draft}}, token=token))["submitComplaint"]["errors"] == []
    only = {"list": "COMPLAINTS", "complaints": {"search": marker}}
    as_csv = await made(api, runner, TENANT_ADMIN, {**only, "format": "CSV"})
    _, row = csv_rows((await download(api, as_csv["downloadUrl"]))[0])
    assert row[0] == "'" + formula
    as_xlsx = await made(api, runner, TENANT_ADMIN, {**only, "format": "XLSX"})
    book = openpyxl.load_workbook(io.BytesIO((await download(api, as_xlsx["downloadUrl"]))[0]))
    cell = book.worksheets[0]["A2"]
    assert cell.value == formula and cell.data_type == "s"


async def test_the_list_of_exports_costs_the_same_statements_whatever_its_length(
    api: Api, filed: Complaints, runner: ExportRunner
) -> None:
    token = await api.token("alpha", TENANT_ADMIN)
    for _ in range(3):
        assert (await ask(api, TENANT_ADMIN, filed.request()))["errors"] == []
    page = f"query($first: Int!) {{ exports(first: $first) {{ edges {{ node {{ {FIELDS} }} }} }} }}"
    one = await api.statements(page, {"first": 1}, token=token)
    assert await api.statements(page, {"first": 3}, token=token) == one
    await runner.run_once()


@pytest.mark.parametrize("phone", [WORKER_1, STAFF, "resident"])
async def test_other_roles_may_not_export(api: Api, filed: Complaints, phone: str) -> None:
    caller = filed.phone if phone == "resident" else phone
    asked = await ask(api, caller, filed.request())
    assert asked["export"] is None and [e["code"] for e in asked["errors"]] == ["FORBIDDEN"]
    listed = await api.run(LIST, token=await api.token("alpha", caller))
    assert listed["data"] is None and listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    report = await api.data(REPORT, {"input": {"month": "2026-01"}}, token=await api.token("alpha", COMMUNITY_ADMIN))
    assert [e["code"] for e in report["requestMonthlyReport"]["errors"]] == ["FORBIDDEN"]


@pytest.mark.parametrize(
    ("input", "field", "code"),
    [
        ({"list": "MONTHLY_REPORT", "format": "PDF"}, "list", "INVALID"),
        ({"list": "COMPLAINTS", "format": "PDF"}, "format", "INVALID"),
        ({"list": "COMPLAINTS", "format": "CSV", "roomBookings": {}}, "roomBookings", "INVALID"),
        (
            {"list": "COMPLAINTS", "format": "CSV", "complaints": {"communityId": "bm90LWFuLWlk"}},
            "complaints.communityId",
            "INVALID_ID",
        ),
        ({"list": "COMPLAINTS", "format": "CSV", "complaints": {"search": "长" * 51}}, "complaints.search", "INVALID"),
        (
            {"list": "VOLUNTEERS", "format": "XLSX", "volunteers": {"communityId": "bm90LWFuLWlk"}},
            "volunteers.communityId",
            "INVALID_ID",
        ),
        ({"list": "TALLY", "format": "CSV"}, "inspectionTally.startedFrom", "INVALID"),
        ({"list": "COVERAGE", "format": "CSV"}, "visitCoverage.since", "INVALID"),
    ],
)
async def test_bad_input_is_named_field_by_field_and_nothing_is_queued(
    api: Api, input: dict[str, Any], field: str, code: str
) -> None:
    token = await api.token("alpha", TENANT_ADMIN)
    before = (await api.data(LIST, token=token))["exports"]["totalCount"]
    asked = await ask(api, TENANT_ADMIN, input)
    assert asked["export"] is None and [(e["field"], e["code"]) for e in asked["errors"]] == [(field, code)]
    assert all(re.search(r"[\u4e00-\u9fff]", e["message"]) for e in asked["errors"])
    assert (await api.data(LIST, token=token))["exports"]["totalCount"] == before


async def test_a_link_works_only_as_signed_for_its_tenant_and_until_it_expires(
    api: Api, filed: Complaints, runner: ExportRunner, clock: Clock, beta: TenantHandle
) -> None:
    done = await made(api, runner, TENANT_ADMIN, filed.request())
    url = urlsplit(done["downloadUrl"])
    _, _, tenant_id, export_id = url.path.split("/")
    expires = int(re.findall(r"expires=(\d+)", url.query)[0])
    longer = url.query.replace(f"expires={expires}", f"expires={expires + 3600}")
    assert await node(api, TENANT_ADMIN, done["id"], tenant="beta") is None  # beta's admin: no such export
    forged = [
        f"/exports/{beta.id}/{export_id}?{url.query}",  # the same signature under another tenant
        f"/exports/{tenant_id}/{uuid.uuid4()}?{url.query}",  # another export
        f"{url.path}?{url.query[:-4]}0000",  # a signature changed
        f"{url.path}?{longer}",  # valid for longer than signed
        f"{url.path}",
        f"/exports/{tenant_id}/not-an-id?{url.query}",
    ]
    for path in forged:
        response = await api.client.get(path)
        assert response.status_code == 404 and response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert "export" not in response.text.lower()
    assert (await api.client.get(f"{url.path}?{url.query}")).status_code == 200
    with clock.later(timedelta(hours=25)):
        assert (await api.client.get(f"{url.path}?{url.query}")).status_code == 404
        await runner.run_once()  # deletes the file; the record stays
        expired = await node(api, TENANT_ADMIN, done["id"])
    assert expired is not None and expired["status"] == "EXPIRED" and expired["downloadUrl"] is None
    assert expired["rowsDone"] == 5
    assert (await api.client.get(f"{url.path}?{url.query}")).status_code == 404


async def test_a_job_reports_its_progress_page_by_page(api: Api, app: Starlette, filed: Complaints) -> None:
    seen: list[dict[str, Any]] = []

    async def look(export_id: uuid.UUID) -> None:
        found = await node(api, TENANT_ADMIN, gid("Export", export_id))
        assert found is not None
        seen.append(found)

    runner = ExportRunner(app.state.services, poll_seconds=3600, page_size=2, after_page=look)
    asked = await ask(api, TENANT_ADMIN, filed.request("XLSX"))
    await runner.run_once()
    assert [(s["status"], s["rowsDone"], s["rowsTotal"]) for s in seen] == [
        ("RUNNING", 2, 5),
        ("RUNNING", 4, 5),
        ("RUNNING", 5, 5),
    ]
    done = await node(api, TENANT_ADMIN, asked["export"]["id"])
    assert done is not None and done["status"] == "READY" and done["rowsDone"] == 5
    _, (_, *rows) = xlsx_rows((await download(api, done["downloadUrl"]))[0])
    assert len(rows) == 5


class Crash(BaseException):
    """The process dying mid-export: nothing of the runner gets to record it."""


async def test_an_export_whose_process_died_is_made_again_after_its_lease(
    api: Api, app: Starlette, filed: Complaints, clock: Clock
) -> None:
    async def die(_: uuid.UUID) -> None:
        raise Crash

    fresh = ExportRunner(app.state.services, poll_seconds=3600)
    await fresh.run_once()  # nothing else waiting: the crash hits this export
    asked = await ask(api, TENANT_ADMIN, filed.request())
    with pytest.raises(Crash):
        await ExportRunner(app.state.services, poll_seconds=3600, page_size=2, after_page=die).run_once()
    stuck = await node(api, TENANT_ADMIN, asked["export"]["id"])
    assert stuck is not None and (stuck["status"], stuck["rowsDone"]) == ("RUNNING", 2)
    await fresh.run_once()  # still within its lease: another process may be making it
    assert (await node(api, TENANT_ADMIN, asked["export"]["id"]) or {})["status"] == "RUNNING"
    with clock.later(LEASE + timedelta(minutes=1)):
        await fresh.run_once()
    done = await node(api, TENANT_ADMIN, asked["export"]["id"])
    assert done is not None and (done["status"], done["rowsDone"]) == ("READY", 5)
    header, *rows = csv_rows((await download(api, done["downloadUrl"]))[0])
    assert header == COMPLAINT_HEADERS and len(rows) == 5


@pytest.fixture
async def serving(app: Starlette) -> AsyncIterator[ExportRunner]:
    runner = ExportRunner(app.state.services, poll_seconds=3600)
    task = asyncio.create_task(runner.run())
    yield runner
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_runner_in_the_server_starts_an_export_as_soon_as_its_request_commits(
    api: Api, filed: Complaints, serving: ExportRunner
) -> None:
    before = serving.made
    asked = await ask(api, TENANT_ADMIN, filed.request())
    # Its next poll is an hour away: only the request's own signal can start it in time.
    async with asyncio.timeout(60):
        await serving.wait_for_made(before + 1)
    done = await node(api, TENANT_ADMIN, asked["export"]["id"])
    assert done is not None and done["status"] == "READY"


async def test_the_monthly_report_is_queued_made_as_pdf_and_fetched(
    api: Api, filed: Complaints, runner: ExportRunner, clock: Clock
) -> None:
    month = clock.now().strftime("%Y-%m")
    token = await api.token("alpha", TENANT_ADMIN)
    asked = (await api.data(REPORT, {"input": {"month": month}}, token=token))["requestMonthlyReport"]
    assert asked["errors"] == [] and asked["export"]["subject"] == "MONTHLY_REPORT"
    assert asked["export"]["format"] == "PDF" and asked["export"]["rowsTotal"] is None
    await runner.run_once()
    done = await node(api, TENANT_ADMIN, asked["export"]["id"])
    assert done is not None and done["status"] == "READY", done
    content, name = await download(api, done["downloadUrl"])
    assert name == f"月报-{month}.pdf"
    assert content.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", content)) >= 2


@pytest.mark.parametrize(("month", "field"), [("2026-13", "month"), ("11/2026", "month"), ("2999-01", "month")])
async def test_a_report_month_must_be_a_past_or_present_month(api: Api, month: str, field: str) -> None:
    token = await api.token("alpha", TENANT_ADMIN)
    asked = (await api.data(REPORT, {"input": {"month": month}}, token=token))["requestMonthlyReport"]
    assert asked["export"] is None and [(e["field"], e["code"]) for e in asked["errors"]] == [(field, "INVALID")]


@pytest.mark.parametrize(
    ("subject", "first_headers"),
    [
        ("BOOKINGS", ["场地", "用途", "人数"]),
        ("APPOINTMENTS", ["事项", "说明", "状态"]),
        ("VOLUNTEERS", ["姓名", "电话", "状态"]),
        ("PEOPLE", ["姓名", "与户主关系", "身份证号"]),
        ("HAZARDS", ["发现时间", "网格", "检查项"]),
    ],
)
async def test_each_admin_list_exports_with_its_chinese_headers(
    api: Api, runner: ExportRunner, subject: str, first_headers: list[str]
) -> None:
    done = await made(api, runner, TENANT_ADMIN, {"list": subject, "format": "XLSX"})
    title, (header, *rows) = xlsx_rows((await download(api, done["downloadUrl"]))[0])
    assert header[:3] == first_headers and title.endswith("（已脱敏）")
    assert len(rows) == done["rowsDone"]


async def test_population_records_export_masked_or_whole_and_never_by_id_number(
    api: Api, alpha: TenantHandle, runner: ExportRunner
) -> None:
    number, phone = id_number("19800101"), fresh_phone()
    registered = await register_household(
        api, alpha, member("李秀兰", idNumber=number, phone=phone, birthDate="1980-01-01")
    )
    assert registered["errors"] == []
    people = {"buildingId": gid("Building", alpha.buildings["A1-G1-B1"])}
    masked = await made(api, runner, TENANT_ADMIN, {"list": "PEOPLE", "format": "CSV", "people": people})
    content, name = await download(api, masked["downloadUrl"])
    assert name.startswith("人口信息-已脱敏-")
    header, *rows = csv_rows(content)
    assert header == ["姓名", "与户主关系", "身份证号", "电话", "出生年份", "居住类型", "迁入时间", "迁出时间"]
    mine = [r for r in rows if r[2] == f"{number[:3]}{'*' * 11}{number[-4:]}"]
    assert len(mine) == 1 and mine[0][:6] == [
        "李*兰",
        "户主",
        mine[0][2],
        f"{phone[:3]}****{phone[-4:]}",
        "1980",
        "户籍",
    ]
    assert number not in content.decode("utf-8-sig") and phone not in content.decode("utf-8-sig")
    whole = await made(
        api, runner, TENANT_ADMIN, {"list": "PEOPLE", "format": "XLSX", "people": people, "wholePersonalData": True}
    )
    _, (_, *cells) = xlsx_rows((await download(api, whole["downloadUrl"]))[0])
    assert [r[:4] for r in cells if r[2] == number] == [["李秀兰", "户主", number, phone]]
    elsewhere = await made(
        api,
        runner,
        OTHER_COMMUNITY_ADMIN,
        {"list": "PEOPLE", "format": "CSV", "people": people, "wholePersonalData": True},
    )
    assert elsewhere["rowsDone"] == 0  # 东风社区's building: not the 西湖社区 admin's people
    by_number = await ask(api, TENANT_ADMIN, {"list": "PEOPLE", "format": "CSV", "people": {"idNumber": number}})
    assert by_number["export"] is None
    assert [(e["field"], e["code"]) for e in by_number["errors"]] == [("people.idNumber", "INVALID")]


CHECK_IN = "mutation($input: PunchInput!) { checkIn(input: $input) { errors { code } } }"
CHECK_OUT = "mutation($input: PunchInput!) { checkOut(input: $input) { errors { code } } }"
ATTENDANCE_HEADERS = [
    "日期",
    "网格员",
    "电话",
    "工作日",
    "出勤",
    "签到时间",
    "签退时间",
    "工作时长（小时）",
    "网格外打卡",
]


async def test_grid_workers_attendance_of_a_day_exports_as_communityworkdays_shows_it(
    api: Api, clock: Clock, alpha: TenantHandle, runner: ExportRunner
) -> None:
    """东风社区 (A1) has 网格员一 (A1-G1) and 网格员二 (A1-G2). On Wednesday 17 March 2027 the first
    checks in at 08:20 and out at 17:40 (560 minutes), the second checks in at 09:05 (late; work
    starts at 08:30) and has not checked out. Alpha's grids have no boundary drawn: not outside."""
    worker_2 = "13900000012"
    for phone, when, mutation in (
        (WORKER_1, "2027-03-17T08:20:00+08:00", CHECK_IN),
        (worker_2, "2027-03-17T09:05:00+08:00", CHECK_IN),
        (WORKER_1, "2027-03-17T17:40:00+08:00", CHECK_OUT),
    ):
        with clock.at(datetime.fromisoformat(when)):
            here = {"input": {"longitude": 120.15, "latitude": 30.27, "accuracyMetres": 10}}
            body = await api.data(mutation, here, token=await api.token("alpha", phone))
            assert next(iter(body.values()))["errors"] == []
    dongfeng = gid("Community", alpha.communities["A1"])
    with clock.at(datetime.fromisoformat("2027-03-17T18:00:00+08:00")):
        # The day left out is the day it was asked on, whenever the job runs.
        asked = await ask(
            api, TENANT_ADMIN, {"list": "ATTENDANCE", "format": "CSV", "communityWorkdays": {"communityId": dongfeng}}
        )
        assert asked["errors"] == [] and asked["export"]["rowsTotal"] == 2
        assert '"day": "2027-03-17"' in asked["export"]["filter"]
    with clock.at(datetime.fromisoformat("2027-03-18T09:00:00+08:00")):
        await runner.run_once()
        done = await node(api, TENANT_ADMIN, asked["export"]["id"])
        assert done is not None and done["status"] == "READY" and done["rowsDone"] == 2
        content, name = await download(api, done["downloadUrl"])
        assert name.startswith("网格员考勤-已脱敏-") and name.endswith(".csv")
        header, *rows = csv_rows(content)
        assert header == ATTENDANCE_HEADERS
        assert sorted(rows) == [
            [
                "2027-03-17",
                "网格员一",
                "139****0011",
                "是",
                "正常",
                "2027-03-17 08:20",
                "2027-03-17 17:40",
                "9.3",
                "否",
            ],
            ["2027-03-17", "网格员二", "139****0012", "是", "迟到", "2027-03-17 09:05", "", "0.0", "否"],
        ]
        assert WORKER_1 not in content.decode("utf-8-sig")
        # Whole, to the community's own admin, who sees the workers' phones whole in the API.
        workdays = {"communityId": dongfeng, "date": "2027-03-17"}
        whole = await made(
            api,
            runner,
            COMMUNITY_ADMIN,
            {"list": "ATTENDANCE", "format": "XLSX", "wholePersonalData": True, "communityWorkdays": workdays},
        )
        title, (header, *cells) = xlsx_rows((await download(api, whole["downloadUrl"]))[0])
        assert title == "网格员考勤（含完整个人信息）" and header == ATTENDANCE_HEADERS
        assert sorted((r[1], r[2], r[4]) for r in cells) == [
            ("网格员一", WORKER_1, "正常"),
            ("网格员二", worker_2, "迟到"),
        ]
        # Another community's admin may not export 东风社区's workers, and the filter must name a community.
        refused = await ask(
            api, OTHER_COMMUNITY_ADMIN, {"list": "ATTENDANCE", "format": "CSV", "communityWorkdays": workdays}
        )
        assert refused["export"] is None
        assert [(e["field"], e["code"]) for e in refused["errors"]] == [("communityWorkdays.communityId", "NOT_FOUND")]
        unnamed = await ask(api, TENANT_ADMIN, {"list": "ATTENDANCE", "format": "CSV"})
        assert [(e["field"], e["code"]) for e in unnamed["errors"]] == [("communityWorkdays.communityId", "INVALID")]
        for phone in (WORKER_1, STAFF):
            other = await ask(api, phone, {"list": "ATTENDANCE", "format": "CSV", "communityWorkdays": workdays})
            assert other["export"] is None and [e["code"] for e in other["errors"]] == ["FORBIDDEN"], phone


async def test_a_month_of_attendance_exports_each_worker_s_every_day_up_to_the_day_asked(
    api: Api, clock: Clock, alpha: TenantHandle, runner: ExportRunner
) -> None:
    """March 2027 begins on a Monday. 网格员一 checks in on Friday the 5th at 08:20 and out at
    17:40, and on Saturday the 6th at 09:00 (a rest day) without checking out; 网格员二 never
    does. Asked on Sunday the 7th for "that month", run two days later: the 1st to the 7th."""
    for when, mutation in (
        ("2027-03-05T08:20:00+08:00", CHECK_IN),
        ("2027-03-05T17:40:00+08:00", CHECK_OUT),
        ("2027-03-06T09:00:00+08:00", CHECK_IN),
    ):
        with clock.at(datetime.fromisoformat(when)):
            here = {"input": {"longitude": 120.15, "latitude": 30.27, "accuracyMetres": 10}}
            body = await api.data(mutation, here, token=await api.token("alpha", WORKER_1))
            assert next(iter(body.values()))["errors"] == []
    month = {"communityId": gid("Community", alpha.communities["A1"]), "month": "2027-03-20"}
    with clock.at(datetime.fromisoformat("2027-03-07T12:00:00+08:00")):
        asked = await ask(api, TENANT_ADMIN, {"list": "ATTENDANCE", "format": "CSV", "communityWorkdays": month})
        assert asked["errors"] == [] and asked["export"]["rowsTotal"] == 2 * 7
    with clock.at(datetime.fromisoformat("2027-03-09T09:00:00+08:00")):
        await runner.run_once()
        done = await node(api, TENANT_ADMIN, asked["export"]["id"])
        assert done is not None and done["status"] == "READY" and done["rowsDone"] == 2 * 7
        header, *rows = csv_rows((await download(api, done["downloadUrl"]))[0])
    assert header == ATTENDANCE_HEADERS
    days = [f"2027-03-0{d}" for d in range(1, 8)]
    assert sorted((r[0], r[1], r[4], r[7]) for r in rows) == sorted(
        [
            *((day, "网格员一", "缺卡", "0.0") for day in days[:4]),
            ("2027-03-05", "网格员一", "正常", "9.3"),
            ("2027-03-06", "网格员一", "休息日出勤", "0.0"),
            ("2027-03-07", "网格员一", "休息", "0.0"),
            *((day, "网格员二", "缺卡", "0.0") for day in days[:5]),
            *((day, "网格员二", "休息", "0.0") for day in days[5:]),
        ]
    )


@pytest.mark.parametrize(
    ("month", "field"),
    [
        ({"month": "2027-03-01", "date": "2027-03-02"}, "communityWorkdays.month"),  # one or the other
        ({"month": "2027-04-01"}, "communityWorkdays.month"),  # not begun when asked
    ],
)
async def test_a_month_of_attendance_is_refused_with_a_day_or_before_it_begins(
    api: Api, clock: Clock, alpha: TenantHandle, month: dict[str, str], field: str
) -> None:
    workdays = {"communityId": gid("Community", alpha.communities["A1"]), **month}
    with clock.at(datetime.fromisoformat("2027-03-07T12:00:00+08:00")):
        refused = await ask(api, TENANT_ADMIN, {"list": "ATTENDANCE", "format": "CSV", "communityWorkdays": workdays})
    assert refused["export"] is None
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [(field, "INVALID")]


HAZARD_HEADERS = ["发现时间", "网格", "检查项", "情况", "诉求状态", "经度", "纬度"]


async def test_open_hazards_export_as_openhazards_shows_them_in_each_admin_s_scope(
    api: Api, mapped: TenantHandle, runner: ExportRunner
) -> None:
    """A worker of 万青一网格 (community C1) finds the stairwell blocked on a round: a complaint
    is filed, still waiting. The office's admin and C1's admin export it; C2's admin exports
    nothing of it; a worker may not export."""
    token = await api.token("mapped", W1)
    started, items = await start_round(api, token, mapped)
    note = f"{uuid.uuid4().hex[:6]}号楼道堆放纸箱"
    found = await record_item(
        api, token, started["id"], items["stairwell"], "PROBLEM", note=note, longitude=109.841, latitude=40.651
    )
    assert found["errors"] == []
    grid = {"gridId": gid("Grid", mapped.grids["C1-G1"])}
    rows_of = {}
    for phone, hazards in ((ADMIN, grid), (C1_ADMIN, {}), (C2_ADMIN, {})):
        input = {"list": "HAZARDS", "openHazards": hazards}
        rows = await exported_rows(api, runner, phone, input, HAZARD_HEADERS, tenant="mapped")
        rows_of[phone] = [row[1:] for row in rows if row[3] == note]
    ours = ["万青一网格", "楼道无堆物", note, "待受理", "109.841", "40.651"]
    assert rows_of == {ADMIN: [ours], C1_ADMIN: [ours], C2_ADMIN: []}
    refused = await ask(api, W1, {"list": "HAZARDS", "format": "CSV"}, tenant="mapped")
    assert refused["export"] is None and [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    elsewhere = await ask(
        api, C2_ADMIN, {"list": "HAZARDS", "format": "CSV", "openHazards": {"gridId": "nonsense"}}, tenant="mapped"
    )
    assert [(e["field"], e["code"]) for e in elsewhere["errors"]] == [("openHazards.gridId", "INVALID_ID")]


REGISTRATION_HEADERS = ["姓名", "电话", "身份证号", "网格", "楼栋", "房号", "注册时间"]


async def test_registrations_awaiting_review_export_masked_or_whole_in_each_admin_s_scope(
    api: Api, alpha: TenantHandle, runner: ExportRunner
) -> None:
    """A resident of 东风社区's 1号楼 registers and waits for review: the office's admin exports
    them masked, 东风社区's admin whole (as the API shows them), 西湖社区's admin not at all."""
    phone = fresh_phone()
    registered = await api.register_resident(
        "alpha", alpha.buildings["A1-G1-B1"], phone=phone, name="赵丽华", room="2-302"
    )
    assert registered["errors"] == []

    async def exported(admin: str, whole: bool) -> list[list[str]]:
        input = {"list": "REGISTRATIONS", "wholePersonalData": whole}
        rows = await exported_rows(api, runner, admin, input, REGISTRATION_HEADERS)
        return [row[:6] for row in rows if row[5] == "2-302" and row[1][-4:] == phone[-4:]]

    masked = ["赵*华", f"{phone[:3]}****{phone[-4:]}", "", "东风一网格", "1号楼", "2-302"]
    assert await exported(TENANT_ADMIN, whole=False) == [masked]
    assert await exported(COMMUNITY_ADMIN, whole=True) == [["赵丽华", phone, "", "东风一网格", "1号楼", "2-302"]]
    assert await exported(OTHER_COMMUNITY_ADMIN, whole=True) == []
    refused = await ask(api, WORKER_1, {"list": "REGISTRATIONS", "format": "CSV"})
    assert refused["export"] is None and [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    filtered = await ask(api, TENANT_ADMIN, {"list": "REGISTRATIONS", "format": "CSV", "complaints": {"overdue": True}})
    assert [(e["field"], e["code"]) for e in filtered["errors"]] == [("complaints", "INVALID")]


VISIT_HEADERS = ["走访时间", "类型", "楼栋", "房号", "网格员", "走访记录", "约定回访", "经度", "纬度"]


async def test_household_visits_export_with_the_household_and_the_worker_in_each_admin_s_scope(
    api: Api, alpha: TenantHandle, runner: ExportRunner
) -> None:
    """网格员一 calls at a household of 东风社区's 1号楼 (a care visit, a call-back agreed):
    the office's admin exports it with the list's own filter (care visits), 东风社区's admin
    too, 西湖社区's admin sees none of it; a grid worker may not export."""
    room = fresh_room()
    household = (await register_household(api, alpha, member("孙阿婆"), room=room))["household"]
    notes = f"{room}：老人独居，身体尚好。"
    visited = await record_visit(
        api, household["id"], kind="CARE", latitude=40.657, longitude=109.84, notes=notes, followUpOn="2027-01-05"
    )
    assert visited["errors"] == []

    async def exported(admin: str, filter: dict[str, Any]) -> list[list[str]]:
        rows = await exported_rows(api, runner, admin, {"list": "VISITS", "householdVisits": filter}, VISIT_HEADERS)
        return [row[1:] for row in rows if row[5] == notes]

    ours = ["关爱走访", "1号楼", room, "网格员一", notes, "2027-01-05", "109.84", "40.657"]
    assert await exported(TENANT_ADMIN, {"kind": "CARE"}) == [ours]
    assert await exported(TENANT_ADMIN, {"kind": "DISPUTE"}) == []
    assert await exported(COMMUNITY_ADMIN, {}) == [ours]
    assert await exported(OTHER_COMMUNITY_ADMIN, {}) == []
    refused = await ask(api, WORKER_1, {"list": "VISITS", "format": "CSV"})
    assert refused["export"] is None and [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]


APPLICATION_HEADERS = [
    "事项",
    "申请人",
    "申请人电话",
    "用途",
    "状态",
    "审核环节",
    "提交时间",
    "办理时限",
    "办结时间",
    "说明",
]


async def test_service_applications_export_with_the_list_s_filter_masked_or_whole(
    api: Api, alpha: TenantHandle, runner: ExportRunner
) -> None:
    """王小明 of 东风社区 applies for a certificate under a new guide; it waits for the
    community's review. Exported as the list shows it to each admin, with its own filter."""
    title = f"居住证明{uuid.uuid4().hex[:4]}"
    phone = await guide_resident(api, alpha)
    made = await applied(api, phone, await created_guide(api, title=title))
    assert made["errors"] == [], made

    async def exported(admin: str, filter: dict[str, Any], whole: bool = False) -> list[list[str]]:
        input = {"list": "APPLICATIONS", "serviceApplications": filter, "wholePersonalData": whole}
        rows = await exported_rows(api, runner, admin, input, APPLICATION_HEADERS)
        return [row[:6] for row in rows if row[0] == title]

    masked = [title, "王*明", f"{phone[:3]}****{phone[-4:]}", "办理子女入学", "审核中", "社区审核"]
    assert await exported(TENANT_ADMIN, {"statuses": ["IN_REVIEW"]}) == [masked]
    assert await exported(TENANT_ADMIN, {"statuses": ["APPROVED"]}) == []
    assert await exported(COMMUNITY_ADMIN, {}, whole=True) == [[title, "王小明", phone, *masked[3:]]]
    assert await exported(OTHER_COMMUNITY_ADMIN, {}, whole=True) == []
    refused = await ask(api, WORKER_1, {"list": "APPLICATIONS", "format": "CSV"})
    assert refused["export"] is None and [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]


ROUND_HEADERS = ["开始时间", "结束时间", "网格", "网格员", "检查表", "状态", "已查项", "发现问题", "已办结"]


async def test_inspection_rounds_export_with_the_list_s_filter_in_each_admin_s_scope(
    api: Api, mapped: TenantHandle, runner: ExportRunner
) -> None:
    """The worker of 万青四网格 (community C1) starts a round and records one item fine."""
    token = await api.token("mapped", W4)
    started, items = await start_round(api, token, mapped, grid="C1-G4")
    assert (await record_item(api, token, started["id"], items["fire-exit"], "FINE"))["errors"] == []
    grid = {"gridId": gid("Grid", mapped.grids["C1-G4"])}

    async def exported(admin: str, filter: dict[str, Any]) -> list[list[str]]:
        input = {"list": "ROUNDS", "inspectionRounds": filter}
        rows = await exported_rows(api, runner, admin, input, ROUND_HEADERS, tenant="mapped")
        return [row[1:] for row in rows if row[2] == "万青四网格" and row[5] == "巡检中"]

    ours = ["", "万青四网格", "网格员丁", started["checklistName"], "巡检中", "1/3", "0", "0"]
    assert await exported(ADMIN, {**grid, "statuses": ["IN_PROGRESS"]}) == [ours]
    assert await exported(ADMIN, {**grid, "statuses": ["FINISHED"]}) == []
    assert await exported(C1_ADMIN, {}) == [ours]
    assert await exported(C2_ADMIN, {}) == []


LEADER_HEADERS = ["楼栋", "姓名", "电话", "任期开始", "任期结束", "在任", "任命时间", "免职时间", "免职原因"]


async def test_building_leaders_export_masked_or_whole_in_each_admin_s_scope(
    api: Api, clock: Clock, alpha: TenantHandle, runner: ExportRunner
) -> None:
    """东风社区's admin appoints a verified resident of 2号楼 (1 December 2026 to 30 November 2027)."""
    with clock.at(LEADERS_NOW):
        phone, _ = await leader_of(api, alpha)

        async def exported(admin: str, whole: bool) -> list[list[str]]:
            input = {"list": "LEADERS", "buildingLeaders": {}, "wholePersonalData": whole}
            rows = await exported_rows(api, runner, admin, input, LEADER_HEADERS)
            return [row[:6] for row in rows if row[2][-4:] == phone[-4:]]

        term = ["2026-12-01", "2027-11-30", "是"]
        masked = ["2号楼", "楼*长", f"{phone[:3]}****{phone[-4:]}", *term]
        assert await exported(TENANT_ADMIN, whole=False) == [masked]
        assert await exported(COMMUNITY_ADMIN, whole=True) == [["2号楼", "楼栋长", phone, *term]]
        assert await exported(OTHER_COMMUNITY_ADMIN, whole=True) == []


async def listed(api: Api, phone: str, query: str, variables: dict[str, Any], tenant: str = "alpha") -> list[Any]:
    """The nodes of the one list `query` asks for, as `phone` sees it."""
    (found,) = (await api.data(query, variables, token=await api.token(tenant, phone))).values()
    return [edge["node"] for edge in found["edges"]]


def minute(value: str | None) -> str:
    """A time as the API answers it (China Standard Time), as a file shows it."""
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M") if value else ""


async def refused(api: Api, phone: str, input: dict[str, Any], tenant: str = "alpha") -> None:
    """FORBIDDEN, and nothing queued: the office's record of exports is as it was."""
    record = await api.token(tenant, TENANT_ADMIN)
    before = (await api.data(LIST, token=record))["exports"]["totalCount"]
    asked = await ask(api, phone, {"format": "CSV", **input}, tenant=tenant)
    assert asked["export"] is None and [e["code"] for e in asked["errors"]] == ["FORBIDDEN"]
    assert (await api.data(LIST, token=record))["exports"]["totalCount"] == before


STAFF_HEADERS = ["姓名", "部门"]
STAFF_LIST = (
    "query($d: ID) { staffMembers(first: 100, departmentId: $d) { edges { node { name department { id name } } } } }"
)


async def test_department_staff_export_as_staffmembers_lists_them_to_admins_only(
    api: Api, runner: ExportRunner
) -> None:
    """The office's department staff (司法所, 民政办), all or of one department, as `staffMembers`
    lists them to either admin; a grid worker may not export them."""

    def rows(nodes: list[Any]) -> list[list[str]]:
        return [[n["name"], n["department"]["name"] if n["department"] else ""] for n in nodes]

    everyone = await listed(api, TENANT_ADMIN, STAFF_LIST, {"d": None})
    justice = next(n["department"] for n in everyone if n["department"]["name"] == "司法所")
    of_justice = await listed(api, TENANT_ADMIN, STAFF_LIST, {"d": justice["id"]})
    assert rows(of_justice) == [["司法所干部", "司法所"]] and ["民政办干部", "民政办"] in rows(everyone)
    for admin in (TENANT_ADMIN, COMMUNITY_ADMIN):
        assert await exported_rows(api, runner, admin, {"list": "STAFF"}, STAFF_HEADERS) == rows(everyone)
    one = {"list": "STAFF", "staffMembers": {"departmentId": justice["id"]}}
    assert await exported_rows(api, runner, COMMUNITY_ADMIN, one, STAFF_HEADERS) == rows(of_justice)
    await refused(api, WORKER_1, {"list": "STAFF"})


ACTIVITY_HEADERS = [
    "活动", "社区", "志愿队伍", "地点", "开始时间", "结束时间", "报名截止", "招募人数", "已报名", "所需特长",
    "每小时积分", "状态", "取消原因", "发布时间", "完成时间",
]  # fmt: skip
ACTIVITY_LIST = """query($f: VolunteerActivityFilter) { volunteerActivities(first: 100, filter: $f) { edges { node {
  title community { name } team { name } place startsAt endsAt signupDeadline capacity placesTaken requiredSkills
  pointsPerHour status reason publishedAt completedAt } } } }"""
ACTIVITY_STATUS = {"DRAFT": "草稿", "PUBLISHED": "招募中", "COMPLETED": "已结束", "CANCELLED": "已取消"}


def activity_row(n: dict[str, Any]) -> list[str]:
    return [
        n["title"],
        n["community"]["name"] if n["community"] else "全街道",
        n["team"]["name"] if n["team"] else "",
        n["place"],
        minute(n["startsAt"]),
        minute(n["endsAt"]),
        minute(n["signupDeadline"]),
        str(n["capacity"]),
        str(n["placesTaken"]),
        "、".join(n["requiredSkills"]),
        str(n["pointsPerHour"]),
        ACTIVITY_STATUS[n["status"]],
        n["reason"] or "",
        minute(n["publishedAt"]),
        minute(n["completedAt"]),
    ]


async def test_volunteer_activities_export_with_the_list_s_filter_drafts_to_their_organisers_only(
    api: Api, alpha: TenantHandle, clock: Clock, runner: ExportRunner
) -> None:
    """东风社区's admin drafts one activity and publishes another: each admin exports what
    `volunteerActivities` shows them with the same filter; 西湖社区's admin does not see the draft."""
    with clock.at(VOLUNTEERS_NOW):
        draft_title, published_title = f"导出草稿{uuid.uuid4().hex[:6]}", f"导出活动{uuid.uuid4().hex[:6]}"
        where = {"communityId": gid("Community", alpha.communities["A1"])}
        drafted = await api.data(
            CREATE_ACTIVITY,
            {"input": {"activity": activity_fields(20, title=draft_title), **where}},
            token=await api.token("alpha", COMMUNITY_ADMIN),
        )
        assert drafted["createVolunteerActivity"]["errors"] == []
        await published_activity(api, alpha, 21, title=published_title)

        async def exported(admin: str, filter: dict[str, Any]) -> list[list[str]]:
            expected = [activity_row(n) for n in await listed(api, admin, ACTIVITY_LIST, {"f": filter})]
            input = {"list": "ACTIVITIES", "volunteerActivities": filter}
            rows = await exported_rows(api, runner, admin, input, ACTIVITY_HEADERS)
            assert rows == expected
            return [row for row in rows if row[0] in (draft_title, published_title)]

        drafts = {**where, "statuses": ["DRAFT"]}
        assert [(r[0], r[1], r[11]) for r in await exported(COMMUNITY_ADMIN, drafts)] == [
            (draft_title, "东风社区", "草稿")
        ]
        assert [(r[0], r[11]) for r in await exported(TENANT_ADMIN, {**where, "statuses": ["PUBLISHED"]})] == [
            (published_title, "招募中")
        ]
        assert await exported(OTHER_COMMUNITY_ADMIN, {"statuses": ["DRAFT"]}) == []
        await refused(api, WORKER_1, {"list": "ACTIVITIES"})


TALLY_HEADERS = ["网格", "网格员", "巡检次数", "已完成", "发现问题", "未办结隐患"]
TALLY_LIST = """query($from: DateTime!, $to: DateTime!, $c: ID) {
  inspectionTally(startedFrom: $from, startedTo: $to, communityId: $c, first: 100) {
    edges { node { grid { name } worker { name } rounds roundsFinished problems hazardsOpen } } } }"""


async def test_inspection_tally_exports_per_grid_as_inspectiontally_counts_in_each_admin_s_scope(
    api: Api, mapped: TenantHandle, runner: ExportRunner
) -> None:
    """The worker of 万青三网格 (community C1) starts a round: each admin's export counts the
    grids `inspectionTally` shows them over the same hours; C2's admin has no C1 grid."""
    token = await api.token("mapped", W3)
    started, items = await start_round(api, token, mapped, grid="C1-G3")
    assert (await record_item(api, token, started["id"], items["fire-exit"], "FINE"))["errors"] == []
    now = datetime.now(UTC)
    window = {
        "startedFrom": (now - timedelta(hours=1)).isoformat(),
        "startedTo": (now + timedelta(hours=1)).isoformat(),
    }

    async def exported(admin: str, community: str | None = None) -> dict[str, list[str]]:
        variables = {"from": window["startedFrom"], "to": window["startedTo"], "c": community}
        expected = [
            [n["grid"]["name"], n["worker"]["name"] if n["worker"] else "", *(str(n[k]) for k in TALLY_COUNTS)]
            for n in await listed(api, admin, TALLY_LIST, variables, tenant="mapped")
        ]
        input = {"list": "TALLY", "inspectionTally": {**window, "communityId": community}}
        rows = await exported_rows(api, runner, admin, input, TALLY_HEADERS, tenant="mapped")
        assert rows == expected
        return {row[0]: row[1:] for row in rows}

    office = await exported(ADMIN)
    assert office["万青三网格"][:2] == ["网格员丙", "1"] and "青松一网格" in office
    assert (await exported(C1_ADMIN))["万青三网格"] == office["万青三网格"]
    assert "万青三网格" not in await exported(C2_ADMIN)
    assert set(await exported(ADMIN, gid("Community", mapped.communities["C2"]))) == {"青松一网格"}
    await refused(api, W3, {"list": "TALLY", "inspectionTally": window}, tenant="mapped")


TALLY_COUNTS = ("rounds", "roundsFinished", "problems", "hazardsOpen")
HOUSEHOLD_HEADERS = ["楼栋", "房号", "网格", "网格员"]
HOUSEHOLD_LIST = (
    "query($f: PopulationFilter) { households(first: 100, filter: $f) { edges { node { room building { name } } } } }"
)


async def test_households_export_with_the_list_s_filter_in_each_admin_s_scope_and_never_by_id_number(
    api: Api, alpha: TenantHandle, runner: ExportRunner
) -> None:
    """Two households of 东风社区's 1号楼, one with a member who lives alone: exported with
    `households`' own filter as it lists them, where 网格员一 serves; not to 西湖社区's admin."""
    alone, other = fresh_room(), fresh_room()
    assert (await register_household(api, alpha, member("钱大妈", careTags=["独居老人"]), room=alone))["errors"] == []
    assert (await register_household(api, alpha, member("孙大爷"), room=other))["errors"] == []
    building = {"buildingId": gid("Building", alpha.buildings["A1-G1-B1"])}
    cared = {**building, "careTag": "独居老人"}

    async def exported(admin: str, filter: dict[str, Any]) -> list[list[str]]:
        expected = [
            [n["building"]["name"], n["room"], "东风一网格", "网格员一"]
            for n in await listed(api, admin, HOUSEHOLD_LIST, {"f": filter})
        ]
        rows = await exported_rows(api, runner, admin, {"list": "HOUSEHOLDS", "households": filter}, HOUSEHOLD_HEADERS)
        assert rows == expected
        return [row for row in rows if row[1] in (alone, other)]

    assert await exported(TENANT_ADMIN, cared) == [["1号楼", alone, "东风一网格", "网格员一"]]
    assert [row[1] for row in await exported(COMMUNITY_ADMIN, building)] == sorted([alone, other])
    assert await exported(OTHER_COMMUNITY_ADMIN, building) == []
    by_number = await ask(
        api, TENANT_ADMIN, {"list": "HOUSEHOLDS", "format": "CSV", "households": {"idNumber": id_number("19500101")}}
    )
    assert by_number["export"] is None
    assert [(e["field"], e["code"]) for e in by_number["errors"]] == [("households.idNumber", "INVALID")]
    await refused(api, WORKER_1, {"list": "HOUSEHOLDS"})


CARE_DUE_HEADERS = ["楼栋", "房号", "网格", "网格员", "走访周期（天）", "上次走访", "应访时间", "已超期"]
CARE_DUE_LIST = """query($days: Int!) { careVisitsDue(first: 100, withinDays: $days) { edges { node {
  everyDays lastVisitedAt dueAt overdue household { room building { name } } } } } }"""


def care_due_row(n: dict[str, Any]) -> list[str]:
    """A household of 东风一网格 due for a care visit, as a file shows it."""
    home = n["household"]
    due = [str(n["everyDays"]), minute(n["lastVisitedAt"]), minute(n["dueAt"]), "是" if n["overdue"] else "否"]
    return [home["building"]["name"], home["room"], "东风一网格", "网格员一", *due]


async def test_care_visits_due_export_counts_the_days_from_when_it_was_asked(
    api: Api, alpha: TenantHandle, clock: Clock, runner: ExportRunner
) -> None:
    """郑奶奶 of 东风社区's 1号楼 lives alone (a visit every 7 days): due within a week, as
    `careVisitsDue` lists her; overdue only once the week is out, even for an export made
    later than it was asked; never to 西湖社区's admin."""
    room = fresh_room()
    assert (await register_household(api, alpha, member("郑奶奶", careTags=["独居老人"]), room=room))["errors"] == []

    def ours(rows: list[list[str]]) -> list[list[str]]:
        return [row for row in rows if row[1] == room]

    async def expected(admin: str, days: int) -> list[list[str]]:
        return ours([care_due_row(n) for n in await listed(api, admin, CARE_DUE_LIST, {"days": days})])

    def input(days: int) -> dict[str, Any]:
        return {"list": "CARE_DUE", "careVisitsDue": {"withinDays": days}}

    within_a_week = await expected(COMMUNITY_ADMIN, 7)
    assert [row[4:] for row in within_a_week] == [["7", "", within_a_week[0][6], "否"]]
    assert ours(await exported_rows(api, runner, COMMUNITY_ADMIN, input(7), CARE_DUE_HEADERS)) == within_a_week
    assert ours(await exported_rows(api, runner, OTHER_COMMUNITY_ADMIN, input(7), CARE_DUE_HEADERS)) == []
    overdue_now = await ask(api, COMMUNITY_ADMIN, {"format": "CSV", **input(0)})
    assert overdue_now["errors"] == []
    with clock.later(timedelta(days=8)):
        assert ours(await rows_made(api, runner, COMMUNITY_ADMIN, overdue_now, CARE_DUE_HEADERS)) == []
        overdue = await expected(TENANT_ADMIN, 0)
        assert [row[7] for row in overdue] == ["是"]
        assert ours(await exported_rows(api, runner, TENANT_ADMIN, input(0), CARE_DUE_HEADERS)) == overdue
    await refused(api, WORKER_1, input(0))


COVERAGE_HEADERS = ["网格", "网格员", "住户数", "已走访", "走访率（%）", "关爱户", "超期未访"]
COVERAGE_LIST = """query($since: DateTime!, $before: DateTime!, $c: ID) {
  visitCoverage(since: $since, before: $before, communityId: $c, first: 100) {
    edges { node { grid { name worker { name } } households visited rate careHouseholds overdue } } } }"""


async def test_visit_coverage_exports_per_grid_as_visitcoverage_counts_in_each_admin_s_scope(
    api: Api, alpha: TenantHandle, runner: ExportRunner
) -> None:
    """网格员一 calls at a care household of 东风一网格: each admin's export counts the grids
    `visitCoverage` shows them over the same hours; 西湖社区's admin has no 东风社区 grid."""
    household = (await register_household(api, alpha, member("周阿姨", careTags=["独居老人"])))["household"]
    assert (await record_visit(api, household["id"]))["errors"] == []
    now = datetime.now(UTC)
    period = {"since": (now - timedelta(hours=1)).isoformat(), "before": (now + timedelta(hours=1)).isoformat()}

    async def exported(admin: str, community: str | None = None) -> dict[str, list[str]]:
        nodes = await listed(api, admin, COVERAGE_LIST, {**period, "c": community})
        input = {"list": "COVERAGE", "visitCoverage": {**period, "communityId": community}}
        rows = await exported_rows(api, runner, admin, input, COVERAGE_HEADERS)
        assert [[*row[:4], *row[5:]] for row in rows] == [
            [n["grid"]["name"], n["grid"]["worker"]["name"] if n["grid"]["worker"] else ""]
            + [str(n[k]) for k in ("households", "visited", "careHouseholds", "overdue")]
            for n in nodes
        ]
        assert [float(row[4]) for row in rows] == [pytest.approx(n["rate"] * 100, abs=0.01) for n in nodes]
        return {row[0]: row[1:] for row in rows}

    office = await exported(TENANT_ADMIN)
    ours = office["东风一网格"]
    assert ours[0] == "网格员一" and int(ours[2]) >= 1 and 0 < float(ours[3]) <= 100
    assert int(ours[4]) > int(ours[5]), "the care household just visited is not overdue"
    community = await exported(COMMUNITY_ADMIN)
    assert community["东风一网格"] == ours
    other = await exported(OTHER_COMMUNITY_ADMIN)
    assert other and not set(other) & set(community)
    assert await exported(TENANT_ADMIN, gid("Community", alpha.communities["A2"])) == other
    await refused(api, WORKER_1, {"list": "COVERAGE", "visitCoverage": period})


FULL_VIEW_HEADERS = ["查看人", "查看时间", "查看内容", "对象类型"]
FULL_VIEW_LIST = """query($f: FullViewAuditFilter) { fullViewAudit(first: 100, filter: $f) { edges { node {
  viewerName viewedAt field subjectKind } } } }"""
AUDITED = {"PHONE": "手机号码", "ID_NUMBER": "身份证号码", "PERSON": "注册用户", "HOUSEHOLD_MEMBER": "住户成员档案"}


async def test_the_full_view_audit_exports_what_fullviewaudit_shows_to_tenant_admins_only(
    api: Api, alpha: TenantHandle, runner: ExportRunner
) -> None:
    """网格员一 registers a household member with a phone, and 东风社区's admin looks at it whole:
    the tenant admin exports those two views as `fullViewAudit` shows them, no one's phone or
    name in it; a community admin may not export the log."""
    phone = fresh_phone()
    done = await register_household(api, alpha, member("审计导出", phone=phone))
    subject = done["household"]["members"]["edges"][0]["node"]["id"]
    seen = await api.data(
        "query($id: ID!) { node(id: $id) { ... on HouseholdMember { phone } } }",
        {"id": subject},
        token=await api.token("alpha", COMMUNITY_ADMIN),
    )
    assert seen["node"]["phone"] == phone

    async def exported(filter: dict[str, Any]) -> list[list[str]]:
        expected = [
            [n["viewerName"], minute(n["viewedAt"]), AUDITED[n["field"]], AUDITED[n["subjectKind"]]]
            for n in await listed(api, TENANT_ADMIN, FULL_VIEW_LIST, {"f": filter})
        ]
        input = {"list": "FULL_VIEWS", "fullViewAudit": filter}
        asked = await ask(api, TENANT_ADMIN, {"format": "CSV", **input})
        assert asked["errors"] == [], asked
        rows = await rows_made(api, runner, TENANT_ADMIN, asked, FULL_VIEW_HEADERS)
        content = "".join("".join(row) for row in rows)
        assert phone not in content and "审计导出" not in content
        assert rows == expected
        return rows

    views = await exported({"subjectId": subject})
    assert sorted((r[0], r[2], r[3]) for r in views) == [
        ("社区管理员甲", "手机号码", "住户成员档案"),
        ("网格员一", "手机号码", "住户成员档案"),
    ]
    assert await exported({"subjectId": subject, "field": "ID_NUMBER"}) == []
    await refused(api, COMMUNITY_ADMIN, {"list": "FULL_VIEWS", "fullViewAudit": {"subjectId": subject}})
