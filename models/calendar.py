"""Deadlines counted in working time of the Chinese calendar.

Working days follow the official holiday calendar, make-up working days included (the
`chinesecalendar` package), then the tenant's own overrides. For a year the package does not
cover yet, weekends and the overrides alone decide, and a warning says so once per year: a
missing calendar must never stop a complaint from being filed.

Working hours are 09:00–17:00 China Standard Time on working days.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY_STARTS = time(9, 0)
DAY_ENDS = time(17, 0)

logger = logging.getLogger("wanjia.calendar")
_years_warned: set[int] = set()


@dataclass(frozen=True)
class WorkingCalendar:
    overrides: Mapping[date, bool] = field(default_factory=dict)

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            if day.year not in _years_warned:
                _years_warned.add(day.year)
                logger.warning(
                    "no official holiday calendar for %s yet: counting weekends and tenant overrides only; "
                    "upgrade chinesecalendar or add overrides",
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
