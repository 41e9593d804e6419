"""Deadlines counted in working time of the Chinese calendar.

Which days are worked is decided, in this order, by:
1. the tenant's own overrides (its settings' `calendar_overrides`);
2. the platform's holiday table (`official_calendar_days`), which operators fill from the State
   Council's yearly notice with `wanjia calendar import`, so a new year needs no release: a
   listed day is a holiday or a make-up working day, and in a year the table covers, any other
   day is worked Monday to Friday;
3. the `chinesecalendar` package, for the years it knows;
4. weekends alone, with a warning once per year: a missing calendar must never stop a complaint
   from being filed. `/readyz` and `wanjia tenants list` warn ahead (`years_without_calendar`).

Working hours are 09:00–17:00 China Standard Time on working days.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
from sqlalchemy import Boolean, Integer, String, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY_STARTS = time(9, 0)
DAY_ENDS = time(17, 0)
HOLIDAY_NAME_MAX = 50
LONGEST_HOLIDAY_DAYS = 31

logger = logging.getLogger("wanjia.calendar")
_years_warned: set[int] = set()


class OfficialCalendarDay(Base):
    """One day of the State Council's holiday schedule: a holiday, or a make-up working day
    (调休上班) on a weekend. Platform-wide: every street office keeps the same national
    holidays (a tenant's own exceptions are its `calendar_overrides`)."""

    __tablename__ = "official_calendar_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    # The notice that set it: the 2024 notice's New Year holiday began on 30 December 2023.
    schedule_year: Mapped[int] = mapped_column(Integer)
    is_working_day: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(HOLIDAY_NAME_MAX))


@dataclass(frozen=True)
class OfficialCalendar:
    """The platform's holiday table as read into memory: the days it lists and the years whose
    schedule it holds."""

    days: Mapping[date, bool] = field(default_factory=dict)
    years: frozenset[int] = frozenset()

    @classmethod
    def of(cls, rows: Iterable[Any]) -> OfficialCalendar:
        """From rows with `day`, `schedule_year` and `is_working_day`."""
        rows = list(rows)
        return cls({r.day: r.is_working_day for r in rows}, frozenset(r.schedule_year for r in rows))


async def load_official_calendar(connection: AsyncConnection | AsyncSession) -> OfficialCalendar:
    days = OfficialCalendarDay
    return OfficialCalendar.of(
        (await connection.execute(select(days.day, days.schedule_year, days.is_working_day))).all()
    )


def package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def years_without_calendar(today: date, official: OfficialCalendar) -> list[int]:
    """This year, and from 1 December the next one too, when neither the platform's table nor
    the package knows their holidays."""
    years = [today.year, today.year + 1] if today.month == 12 else [today.year]
    return [year for year in years if year not in official.years and not package_covers(year)]


@dataclass(frozen=True)
class WorkingCalendar:
    official: OfficialCalendar = field(default_factory=OfficialCalendar)
    overrides: Mapping[date, bool] = field(default_factory=dict)

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day in self.official.days:
            return self.official.days[day]
        if day.year in self.official.years:
            return day.weekday() < 5
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in _years_warned:
                _years_warned.add(day.year)
                logger.warning(
                    "no official holiday calendar for %s: counting weekends and tenant overrides only; "
                    "import the year's schedule with `wanjia calendar import`",
                    day.year,
                )
            return day.weekday() < 5

    def working_days_after(self, start: datetime, days: int) -> datetime:
        """The end of the `days`-th working day after the day of `start`."""
        day = start.astimezone(SHANGHAI).date()
        counted = 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return datetime.combine(day, DAY_ENDS, SHANGHAI)

    def working_days_between(self, first: date, last: date) -> int:
        """How many working days come after `first` and before `last`."""
        day, counted = first + timedelta(days=1), 0
        while day < last:
            counted += self.is_working_day(day)
            day += timedelta(days=1)
        return counted

    def working_hours_after(self, start: datetime, hours: float) -> datetime:
        """The moment `hours` working hours after `start` (time outside working hours is skipped)."""
        moment = start.astimezone(SHANGHAI)
        remaining = timedelta(hours=hours)
        while True:
            day = moment.date()
            opens = datetime.combine(day, DAY_STARTS, SHANGHAI)
            closes = datetime.combine(day, DAY_ENDS, SHANGHAI)
            if not self.is_working_day(day) or moment >= closes:
                moment = datetime.combine(day + timedelta(days=1), DAY_STARTS, SHANGHAI)
                continue
            moment = max(moment, opens)
            if moment + remaining <= closes:
                return moment + remaining
            remaining -= closes - moment
            moment = datetime.combine(day + timedelta(days=1), DAY_STARTS, SHANGHAI)


# --- the schedule file operators import ---------------------------------------------------------


class ScheduleError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Schedule:
    """One year's notice: its holidays by name, each with its days off and make-up working days."""

    year: int
    days: dict[date, tuple[bool, str]]  # day -> (is a working day, holiday name)


def parse_schedule(text: str, source: str) -> Schedule:
    """A TOML file (see calendars/2026.example.toml):

        year = 2026
        [[holidays]]
        name = "春节"
        from = 2026-02-15
        to = 2026-02-23                       # optional: a one-day holiday has `from` only
        workdays = [2026-02-14, 2026-02-28]   # optional: make-up working days (调休上班)

    Every problem is reported as `source: key.path: what is wrong`."""
    problems: list[tuple[str, str]] = []
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScheduleError([f"{source}: {error}"]) from error
    year = raw.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        raise ScheduleError([f"{source}: year: 须为 2000–2100 之间的年份"])
    # A notice may start the New Year holiday in the December before, or end it in the January after.
    earliest, latest = date(year - 1, 12, 1), date(year + 1, 1, 31)
    days: dict[date, tuple[bool, str]] = {}

    def add(day: object, working: bool, name: str, path: str) -> None:
        if not isinstance(day, date) or isinstance(day, datetime):
            problems.append((path, "须为日期，如 2026-02-15"))
        elif not earliest <= day <= latest:
            problems.append((path, f"{day} 不在 {year} 年的安排之内"))
        elif day in days:
            problems.append((path, f"{day} 重复出现"))
        else:
            days[day] = (working, name)

    for key in raw.keys() - {"year", "holidays"}:
        problems.append((key, "未知的字段"))
    holidays = raw.get("holidays", [])
    if not isinstance(holidays, list) or not holidays:
        problems.append(("holidays", "须至少列出一个节日（[[holidays]]）"))
        holidays = []
    for index, holiday in enumerate(holidays):
        path = f"holidays[{index}]"
        if not isinstance(holiday, dict):
            problems.append((path, "须为表"))
            continue
        for key in holiday.keys() - {"name", "from", "to", "workdays"}:
            problems.append((f"{path}.{key}", "未知的字段"))
        name = holiday.get("name")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= HOLIDAY_NAME_MAX:
            problems.append((f"{path}.name", f"须为 1–{HOLIDAY_NAME_MAX} 个字符的节日名称"))
            name = ""
        first, last = holiday.get("from"), holiday.get("to", holiday.get("from"))
        if not isinstance(first, date) or not isinstance(last, date):
            problems.append((f"{path}.from", "须为日期，如 2026-02-15（to 可省略）"))
        elif not 0 <= (last - first).days < LONGEST_HOLIDAY_DAYS:
            problems.append((f"{path}.to", f"须在 from 之后 {LONGEST_HOLIDAY_DAYS} 天以内"))
        else:
            for offset in range((last - first).days + 1):
                add(first + timedelta(days=offset), False, name.strip(), f"{path}.from")
        workdays = holiday.get("workdays", [])
        if not isinstance(workdays, list):
            problems.append((f"{path}.workdays", "须为日期列表"))
            workdays = []
        for position, day in enumerate(workdays):
            add(day, True, name.strip(), f"{path}.workdays[{position}]")
    if problems:
        raise ScheduleError([f"{source}: {path}: {what}" for path, what in problems])
    return Schedule(year=year, days=days)


async def replace_schedule(session: AsyncSession, schedule: Schedule, source: str) -> None:
    """Puts one year's schedule in place of what the table held for that year (a corrected notice
    is simply imported again)."""
    days = OfficialCalendarDay
    clashes = (
        await session.execute(
            select(days.day, days.schedule_year).where(
                days.day.in_(list(schedule.days)), days.schedule_year != schedule.year
            )
        )
    ).all()
    if clashes:
        raise ScheduleError([f"{source}: {row.day} 已在 {row.schedule_year} 年的安排中" for row in sorted(clashes)])
    await session.execute(delete(days).where(days.schedule_year == schedule.year))
    session.add_all(
        days(day=day, schedule_year=schedule.year, is_working_day=working, name=name)
        for day, (working, name) in sorted(schedule.days.items())
    )
    await session.flush()
