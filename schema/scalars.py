"""The scalars as the contract states them: what each looks like on the wire, with the
specification it follows (`@specifiedBy`), so generated clients can map each to a type.

Times leave the server in one shape only: RFC 3339 in China Standard Time, whole seconds,
`2026-12-01T09:00:00+08:00`. A time sent in must say its offset (`Z` or `±hh:mm`): a time
without one means different moments to different clients.
"""

from __future__ import annotations

import functools
import math
from datetime import date, datetime
from typing import Any

from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.file_uploads import Upload
from strawberry.types.scalar import ScalarDefinition

from models.calendar import SHANGHAI

RFC_3339 = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
MULTIPART = "https://github.com/jaydenseric/graphql-multipart-request-spec"


def serialize_datetime(value: datetime) -> str:
    # To the whole second: the floor of the moment's POSIX time, which (unlike the datetime
    # itself, whose equality ignores `fold`) tells apart the two moments of a repeated hour.
    return _written(math.floor(value.timestamp()))


# Converting a moment to China Standard Time and writing it costs microseconds each, and a page
# repeats them: a room's week of free slots writes 336, the same ones every time it is asked.
# Each second is written once while it stays in use.
@functools.lru_cache(maxsize=2**16)
def _written(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, SHANGHAI).isoformat()


def parse_datetime(value: object) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None and "T" in value.upper():
            return parsed
    raise StrawberryInputCoercionError(
        f"时间格式应为 RFC 3339 且带时区，如 2026-12-01T09:00:00+08:00，而不是 {str(value)[:40]!r}。"
    )


def parse_date(value: object) -> date:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise StrawberryInputCoercionError(f"日期格式应为 2026-12-01，而不是 {str(value)[:40]!r}。")


def _unchanged(value: Any) -> Any:
    return value


DATE_TIME = ScalarDefinition(
    name="DateTime",
    description=(
        "A moment, as RFC 3339 `date-time`. Answers are always China Standard Time to the whole "
        "second: `2026-12-01T09:00:00+08:00`. Sent values must carry an offset (`Z` or `+08:00`); "
        "fractions of a second are accepted and kept."
    ),
    specified_by_url=RFC_3339,
    serialize=serialize_datetime,
    parse_value=parse_datetime,
    parse_literal=None,
    origin=datetime,
)
DATE = ScalarDefinition(
    name="Date",
    description="A calendar day in China Standard Time, as RFC 3339 `full-date`: `2026-12-01`.",
    specified_by_url=RFC_3339,
    serialize=date.isoformat,
    parse_value=parse_date,
    parse_literal=None,
    origin=date,
)
UPLOAD = ScalarDefinition(
    name="Upload",
    description=(
        "A file of a GraphQL multipart request (the variable is null in `operations`, the file is "
        "mapped to it by `map`). Input only. From a WeChat mini-program, send each file to "
        "`POST /uploads` first and name its id in `attachmentIds` instead."
    ),
    specified_by_url=MULTIPART,
    serialize=_unchanged,
    parse_value=_unchanged,
    parse_literal=None,
    origin=Upload,
)

OVERRIDES: dict[object, ScalarDefinition] = {datetime: DATE_TIME, date: DATE, Upload: UPLOAD}
