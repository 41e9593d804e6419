"""Scalars say their format, and keep to it: every time an answer carries is RFC 3339 in China
Standard Time to the whole second; a time sent without an offset is refused; no JSON is left
untyped (a room's opening hours are spans of weekdays)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from graphql import GraphQLScalarType, build_schema
from hypothesis import given
from hypothesis import strategies as st

from models.calendar import SHANGHAI
from schema.build import SDL_PATH
from schema.scalars import serialize_datetime
from tests.conftest import WORKER_1
from tests.support import GRAPHQL_RESPONSE, Api, TenantHandle
from tests.test_attachments import png

WHOLE_SECONDS_IN_SHANGHAI = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")


def test_every_custom_scalar_names_its_specification_and_none_is_json() -> None:
    schema = build_schema(SDL_PATH.read_text(encoding="utf-8"))
    custom = {
        name: t
        for name, t in schema.type_map.items()
        if isinstance(t, GraphQLScalarType) and name not in ("String", "Int", "Float", "Boolean", "ID")
    }
    assert set(custom) == {"DateTime", "Date", "Upload"}
    unexplained = [
        name
        for name, scalar in custom.items()
        if not (scalar.specified_by_url and scalar.specified_by_url.startswith("https://"))
        or not (scalar.description and len(scalar.description) > 40)
    ]
    assert unexplained == []
    assert "2026-12-01T09:00:00+08:00" in (custom["DateTime"].description or "")


def times_in(value: Any, key: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [found for k, v in value.items() for found in times_in(v, k)]
    if isinstance(value, list):
        return [found for v in value for found in times_in(v, key)]
    if isinstance(value, str) and (key.endswith("At") or key == "at"):
        return [(key, value)]
    return []


async def test_answers_carry_times_to_the_whole_second_in_china_standard_time(api: Api, alpha: TenantHandle) -> None:
    token = (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]
    category = (await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", tenant="alpha"))[
        "complaintCategories"
    ]["edges"][0]["node"]["id"]
    body = await api.data(
        """mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { complaint {
             id acknowledgeDueAt resolveDueAt submittedAt updatedAt timeline(first: 5) { edges { node { at } } }
           } } }""",
        {"input": {"complaint": {"title": "时间", "content": "整秒与时区", "categoryId": category}}},
        token=token,
    )
    worker = await api.data(
        "{ notifications(first: 1) { edges { node { createdAt } } } }", token=await api.token("alpha", WORKER_1)
    )
    complaint = body["submitComplaint"]["complaint"]
    found = times_in(complaint) + times_in(worker)
    assert len(found) == 6
    assert [(key, value) for key, value in found if not WHOLE_SECONDS_IN_SHANGHAI.match(value)] == []
    uploaded = await api.upload_ahead("a.png", png(), "image/png", token=token)
    assert WHOLE_SECONDS_IN_SHANGHAI.match(uploaded.json()["expiresAt"])


@pytest.mark.parametrize(
    "value", ["2026-12-01T09:00:00", "2026-12-01", "09:00", "2026-12-01 09:00+08:00", "yesterday", 20261201]
)
async def test_a_time_sent_without_its_offset_is_refused(api: Api, value: object) -> None:
    response = await api.client.post(
        "/graphql",
        json={
            "query": "query($from: DateTime!) { roomBookings(filter: {startsFrom: $from}) { edges { cursor } } }",
            "variables": {"from": value},
        },
        headers={"X-Tenant": "alpha", "Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("value", ["2026-12-01T09:00:00+08:00", "2026-12-01T01:00:00Z", "2026-12-01T09:00:00.5+08:00"])
async def test_a_time_with_its_offset_is_taken(api: Api, value: str) -> None:
    token = await api.token("alpha", "13900000002")
    body = await api.run(
        "query($from: DateTime!) { roomBookings(filter: {startsFrom: $from}) { edges { cursor } } }",
        {"from": value},
        token=token,
    )
    assert "errors" not in body


@given(
    moment=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)),
    offset_minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Shanghai"]),
)
def test_a_moment_is_written_the_same_whatever_zone_it_comes_in(
    moment: datetime, offset_minutes: int, zone: str
) -> None:
    """Written texts are remembered by moment: the same moment arriving in another zone, also
    in the hour a change of clocks repeats (told apart by `fold` alone), is written as China
    Standard Time all the same."""
    expected = moment.astimezone(SHANGHAI).replace(microsecond=0).isoformat()
    for elsewhere in (
        moment.astimezone(timezone(timedelta(minutes=offset_minutes))),
        moment.astimezone(ZoneInfo(zone)),
    ):
        assert serialize_datetime(elsewhere) == expected
    assert serialize_datetime(moment) == expected


def test_the_two_moments_of_a_repeated_hour_are_written_an_hour_apart() -> None:
    first, second = (datetime(2025, 10, 26, 2, 30, fold=fold, tzinfo=ZoneInfo("Europe/Berlin")) for fold in (0, 1))
    assert first == second  # as Python compares them in one zone, though an hour apart
    assert (serialize_datetime(first), serialize_datetime(second)) == (
        "2025-10-26T08:30:00+08:00",
        "2025-10-26T09:30:00+08:00",
    )
