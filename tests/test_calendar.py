"""Working days come from the tenant's overrides, then the platform's holiday table (imported by
operators, no release needed), then the chinesecalendar package, then weekends alone; a year
with no calendar is a warning from 1 December of the year before."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from sqlalchemy import delete
from starlette.applications import Starlette

from models.calendar import (
    OfficialCalendar,
    OfficialCalendarDay,
    ScheduleError,
    WorkingCalendar,
    parse_schedule,
    years_without_calendar,
)
from models.settings import PROJECT_ROOT
from tests.conftest import Wanjia
from tests.support import Api, Clock, TenantHandle

# The story of 2027 (the package knew years up to 2026, and 1 January 2027 counted as worked),
# told with years the package will not know for a long time: it learns each year from the State
# Council's notice, so a test on 2027 itself would break the day it does. The dates are made up.
MADE_UP = """
year = {year}

[[holidays]]
name = "元旦（测试用，非官方）"
from = {year}-01-01
to = {year}-01-03
workdays = [{year}-01-10]
"""
YEAR = 2037
EXAMPLE = PROJECT_ROOT / "calendars" / "2026.example.toml"
SUBMIT = """mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) {
  complaint { acknowledgeDueAt resolveDueAt } errors { code } } }"""
NEW_YEARS_EVE_2330 = datetime(YEAR - 1, 12, 31, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai


def schedule_file(folder: Path, year: int) -> Path:
    path = folder / f"{year}.toml"
    path.write_text(MADE_UP.format(year=year), encoding="utf-8")
    return path


@pytest.fixture
async def made_up(app: Starlette, tmp_path: Path) -> AsyncIterator[Path]:
    """The made-up schedule of YEAR; the table is cleaned afterwards (the suite shares it)."""
    yield schedule_file(tmp_path, YEAR)
    services = app.state.services
    async with services.sessions() as session, session.begin():
        await session.execute(delete(OfficialCalendarDay).where(OfficialCalendarDay.schedule_year >= YEAR - 1))
    services.directory.forget()


async def submit_at(api: Api, clock: Clock, alpha: TenantHandle, moment: datetime) -> dict[str, str]:
    with clock.at(moment):
        token = (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]
        categories = await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", token=token)
        draft = {
            "title": "跨年夜噪音",
            "content": "楼下烟花声不断。",
            "categoryId": categories["complaintCategories"]["edges"][0]["node"]["id"],
        }
        result = await api.data(SUBMIT, {"input": {"complaint": draft}}, token=token)
    return result["submitComplaint"]["complaint"]


async def test_new_years_eve_at_2330_is_acknowledged_after_the_imported_new_year_holiday(
    api: Api, app: Starlette, clock: Clock, alpha: TenantHandle, wanjia: Wanjia, made_up: Path
) -> None:
    # A year no calendar knows: weekends alone decide, so 1 January (a Thursday) is worked.
    fallback = await submit_at(api, clock, alpha, NEW_YEARS_EVE_2330)
    assert fallback["acknowledgeDueAt"] == f"{YEAR}-01-01T13:00:00+08:00"

    imported = await wanjia("calendar", "import", str(made_up))
    assert imported.exit_code == 0, imported.output
    assert f"{YEAR} 年节假日安排已导入：放假 3 天，调休上班 1 天" in imported.output
    app.state.services.directory.forget()  # what every process does within 30 seconds

    complaint = await submit_at(api, clock, alpha, NEW_YEARS_EVE_2330)
    # Off Thursday 1 to Saturday 3, Sunday 4: 4 working hours from Monday 5 January 09:00, and
    # 3 working days: 5, 6 and 7 January.
    assert complaint == {
        "acknowledgeDueAt": f"{YEAR}-01-05T13:00:00+08:00",
        "resolveDueAt": f"{YEAR}-01-07T17:00:00+08:00",
    }


LAST_OF_NOVEMBER = datetime(YEAR - 1, 11, 30, 15, 59, tzinfo=UTC)  # 23:59 in Shanghai


async def test_readiness_warns_of_next_year_without_a_calendar_from_1_december(
    api: Api, app: Starlette, clock: Clock, wanjia: Wanjia, made_up: Path
) -> None:
    assert (await wanjia("calendar", "import", str(schedule_file(made_up.parent, YEAR - 1)))).exit_code == 0
    app.state.services.directory.forget()
    readiness = {}
    for moment in (LAST_OF_NOVEMBER, LAST_OF_NOVEMBER + timedelta(minutes=1)):
        with clock.at(moment):
            ready = await api.client.get("/readyz")
        readiness[moment] = (ready.status_code, ready.json()["status"], str(YEAR) in str(ready.json().get("warnings")))
    assert readiness == {
        LAST_OF_NOVEMBER: (200, "ok", False),
        LAST_OF_NOVEMBER + timedelta(minutes=1): (200, "ok", True),
    }
    assert (await wanjia("calendar", "import", str(made_up))).exit_code == 0
    app.state.services.directory.forget()
    with clock.at(LAST_OF_NOVEMBER + timedelta(days=1)):
        assert (await api.client.get("/readyz")).json() == {"status": "ok"}


async def test_the_tenant_list_warns_of_next_year_without_a_calendar_from_1_december(
    wanjia: Wanjia, made_up: Path
) -> None:
    await wanjia("calendar", "import", str(schedule_file(made_up.parent, YEAR - 1)))
    before = await wanjia("tenants", "list", at=LAST_OF_NOVEMBER)
    assert before.exit_code == 0 and "alpha" in before.output and "警告" not in before.output
    warned = await wanjia("tenants", "list", at=LAST_OF_NOVEMBER + timedelta(minutes=1))
    assert f"警告：{YEAR} 年的法定节假日安排尚未导入" in warned.output
    await wanjia("calendar", "import", str(made_up))
    quiet = await wanjia("tenants", "list", at=LAST_OF_NOVEMBER + timedelta(days=2))
    assert "警告" not in quiet.output


async def test_importing_a_year_again_replaces_it_and_the_list_shows_it(
    wanjia: Wanjia, made_up: Path, tmp_path: Path
) -> None:
    assert (await wanjia("calendar", "import", str(made_up))).exit_code == 0
    corrected = tmp_path / "corrected.toml"
    corrected.write_text(MADE_UP.format(year=YEAR).replace("-01-03\n", "-01-02\n"), encoding="utf-8")
    assert (await wanjia("calendar", "import", str(corrected))).exit_code == 0
    listed = (await wanjia("calendar", "list", "--year", str(YEAR))).output
    assert f"{YEAR}-01-01" in listed and f"{YEAR}-01-02" in listed and f"{YEAR}-01-03" not in listed
    assert "调休上班" in listed and f"{YEAR}-01-10" in listed


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("year = 2027\n", "holidays: 须至少列出一个节日"),
        ('year = "2027"\n[[holidays]]\nname = "x"\nfrom = 2027-01-01\n', "year: 须为 2000–2100 之间的年份"),
        ('year = 2027\n[[holidays]]\nname = ""\nfrom = 2027-01-01\n', "holidays[0].name"),
        ('year = 2027\n[[holidays]]\nname = "x"\nfrom = 2027-01-05\nto = 2027-01-01\n', "holidays[0].to"),
        ('year = 2027\n[[holidays]]\nname = "x"\nfrom = 2029-01-01\n', "不在 2027 年的安排之内"),
        ('year = 2027\n[[holidays]]\nname = "x"\nfrom = 2027-01-01\nworkdays = [2027-01-01]\n', "重复出现"),
        (
            'year = 2027\n[[holidays]]\nname = "x"\nfrom = 2027-01-01\nuntil = 2027-01-02\n',
            "holidays[0].until: 未知的字段",
        ),
        ("year = 2027\n[[holidays]\n", "bad.toml"),
    ],
    ids=[
        "no holidays",
        "year not a number",
        "no name",
        "ends before it starts",
        "another year",
        "twice",
        "typo",
        "not toml",
    ],
)
async def test_a_bad_schedule_file_is_refused_whole_saying_where(
    wanjia: Wanjia, made_up: Path, tmp_path: Path, text: str, problem: str
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("2027", str(YEAR)).replace("2029", str(YEAR + 2)), encoding="utf-8")
    result = await wanjia("calendar", "import", str(bad))
    assert result.exit_code == 1 and problem.replace("2027", str(YEAR)) in result.output
    assert f"{YEAR}-01-01" not in (await wanjia("calendar", "list", "--year", str(YEAR))).output


def test_the_example_file_is_the_2026_schedule_the_package_knows() -> None:
    schedule = parse_schedule(EXAMPLE.read_text(encoding="utf-8"), str(EXAMPLE))
    rows = [
        type("Row", (), {"day": d, "schedule_year": 2026, "is_working_day": w}) for d, (w, _) in schedule.days.items()
    ]
    from_file = WorkingCalendar(OfficialCalendar.of(rows))
    day = date(2026, 1, 1)
    while day.year == 2026:
        assert from_file.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def official(days: dict[date, bool], *years: int) -> OfficialCalendar:
    return OfficialCalendar(days, frozenset(years))


@pytest.mark.parametrize(
    ("calendar", "day", "working"),
    [
        (WorkingCalendar(official({date(2040, 1, 2): False}, 2040), {date(2040, 1, 2): True}), date(2040, 1, 2), True),
        (WorkingCalendar(official({date(2040, 1, 7): True}, 2040)), date(2040, 1, 7), True),
        (WorkingCalendar(official({}, 2040)), date(2040, 1, 2), True),
        (WorkingCalendar(official({date(2026, 10, 1): True}, 2026)), date(2026, 10, 1), True),
        (WorkingCalendar(), date(2026, 10, 1), False),
        (WorkingCalendar(), date(2040, 1, 2), True),
        (WorkingCalendar(), date(2040, 1, 7), False),
    ],
    ids=[
        "the tenant's override first",
        "then the table's make-up working day",
        "a covered year's unlisted weekday is worked",
        "the table before the package",
        "then the package",
        "then weekdays",
        "and weekends are off",
    ],
)
def test_which_source_decides_a_working_day(calendar: WorkingCalendar, day: date, working: bool) -> None:
    assert calendar.is_working_day(day) is working


@pytest.mark.parametrize(
    ("today", "imported", "missing"),
    [
        (date(2026, 11, 30), (), []),
        (date(2040, 11, 30), (2040,), []),
        (date(2040, 12, 1), (2040,), [2041]),
        (date(2040, 12, 1), (2040, 2041), []),
        (date(2041, 3, 1), (), [2041]),
    ],
)
def test_which_years_lack_a_calendar(today: date, imported: tuple[int, ...], missing: list[int]) -> None:
    assert years_without_calendar(today, official({}, *imported)) == missing


def test_a_day_of_another_years_notice_cannot_be_imported_twice() -> None:
    # The 2024 notice began the New Year holiday on 30 December 2023: a day may sit outside its year.
    schedule = parse_schedule('year = 2024\n[[holidays]]\nname = "元旦"\nfrom = 2023-12-30\nto = 2024-01-01\n', "x")
    assert sorted(schedule.days) == [date(2023, 12, 30), date(2023, 12, 31), date(2024, 1, 1)]
    with pytest.raises(ScheduleError):
        parse_schedule('year = 2024\n[[holidays]]\nname = "元旦"\nfrom = 2022-12-30\n', "x")
