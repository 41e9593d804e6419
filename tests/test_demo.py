"""`wanjia demo` loads on both databases, covers every state, and the README's accounts work."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from models.calendar import SHANGHAI
from server.app import create_app
from tenants.demo import DEMO_PASSWORD, load_demo
from tests.conftest import BACKEND, settings_for
from tests.provision import DATABASE_NAME, create_database, drop_postgres_database
from tests.provision import migrate as migrate_database
from tests.support import Api, Clock

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture(scope="module")
async def demo_api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    database = create_database(BACKEND, f"{DATABASE_NAME}_demo", tmp_path_factory.mktemp("demo"))
    migrate_database(database)
    app = create_app(
        settings_for(database.app_url, upload_dir=tmp_path_factory.mktemp("demo-uploads")), clock=Clock().now
    )
    services = app.state.services
    await load_demo(services)
    services.directory.forget()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield Api(client)
    await app.state.engine.dispose()
    if database.backend == "postgresql":
        drop_postgres_database(f"{DATABASE_NAME}_demo")


def readme_accounts() -> list[tuple[str, str]]:
    """(tenant slug, phone) of every row of the README's demo account table."""
    accounts, slug = [], None
    for line in README.read_text(encoding="utf-8").splitlines():
        row = re.match(r"^\|\s*(?:[^|`]*`(?P<slug>[a-z-]+)`)?[^|]*\|[^|]*\|\s*(?P<phone>1\d{10})\s*\|$", line)
        if row:
            slug = row.group("slug") or slug
            accounts.append((slug, row.group("phone")))
    return accounts


async def test_every_readme_account_signs_in(demo_api: Api) -> None:
    accounts = readme_accounts()
    assert len(accounts) >= 7
    for slug, phone in accounts:
        result = await demo_api.login(slug, phone, DEMO_PASSWORD)
        assert result["errors"] == [], (slug, phone)


async def test_the_demo_is_shaped_like_the_source_story_and_covers_every_state(demo_api: Api) -> None:
    admin = await demo_api.token("wanqinglu", "13904720001", DEMO_PASSWORD)
    data = await demo_api.data(
        """{ communities(first: 10) { edges { node { grids(first: 100) { edges { cursor } } } } }
             complaintCounts { byStatus { status count } total }
             roomBookings(first: 100) { edges { node { status } } }
             appointments(first: 100) { edges { node { status } } } }""",
        token=admin,
    )
    grids = sum(len(c["node"]["grids"]["edges"]) for c in data["communities"]["edges"])
    assert len(data["communities"]["edges"]) == 7 and grids == 96
    assert {s["status"] for s in data["complaintCounts"]["byStatus"]} == {
        "SUBMITTED",
        "ACCEPTED",
        "IN_PROGRESS",
        "DISPATCHED",
        "RESOLVED",
        "CLOSED",
        "REJECTED",
        "REOPENED",
        "WITHDRAWN",
    }
    assert data["complaintCounts"]["total"] == 300
    assert {"APPROVED", "PENDING", "COMPLETED"} <= {e["node"]["status"] for e in data["roomBookings"]["edges"]}
    assert {e["node"]["status"] for e in data["appointments"]["edges"]} == {
        "SUBMITTED",
        "ASSIGNED",
        "CONTACTED",
        "SCHEDULED",
        "COMPLETED",
        "CANCELLED",
    }


async def test_the_readme_volunteer_examples_run_as_written_against_the_demo(demo_api: Api) -> None:
    section = (
        README.read_text(encoding="utf-8").split("## Volunteers (志愿服务)")[1].split("## Conventions of the API")[0]
    )
    admin = await demo_api.token("wanqinglu", "13904720100", DEMO_PASSWORD)
    lookups = await demo_api.data(
        """{ communities(first: 10) { edges { node { id name } } }
             volunteers(first: 1, filter: {statuses: [PENDING]}) { edges { node { id } } }
             volunteerActivities(first: 100, filter: {statuses: [PUBLISHED]}) { edges { node { id title community { name } } } } }""",
        token=admin,
    )

    def community_named(name: str) -> str:
        return next(e["node"]["id"] for e in lookups["communities"]["edges"] if e["node"]["name"] == name)

    def activity_of(title: str, community: str) -> str:
        return next(
            e["node"]["id"]
            for e in lookups["volunteerActivities"]["edges"]
            if e["node"]["title"] == title and (e["node"]["community"] or {}).get("name") == community
        )

    teams = await demo_api.data(
        "query($c: ID!) { volunteerTeams(communityId: $c, first: 10) { edges { node { id name } } } }",
        {"c": community_named("幸福路社区")},
        tenant="wanqinglu",
    )
    worker = await demo_api.token("wanqinglu", "13904721001", DEMO_PASSWORD)
    values = {
        "<青年路社区 Community id>": community_named("青年路社区"),
        "<Volunteer id>": lookups["volunteers"]["edges"][0]["node"]["id"],
        "<幸福路社区 VolunteerActivity id>": activity_of("理发义剪", "幸福路社区"),
        "<青年路社区 VolunteerActivity id>": activity_of("反诈宣传进楼栋", "青年路社区"),
        "<VolunteerTeam id>": next(
            e["node"]["id"] for e in teams["volunteerTeams"]["edges"] if "红马甲" in e["node"]["name"]
        ),
        "<badge token>": (await demo_api.data("{ myBadges { token } }", token=worker))["myBadges"][0]["token"],
        "<this month>": datetime.now(UTC).astimezone(SHANGHAI).strftime("%Y-%m"),
    }
    examples = re.findall(r"```graphql\n(# (?:as (\d{11})|anonymous).*?)```", section, re.S)
    assert len(examples) >= 9
    for example, phone in examples:
        for placeholder, value in values.items():
            example = example.replace(placeholder, value)
        assert "<" not in example, example
        who = {"token": await demo_api.token("wanqinglu", phone, DEMO_PASSWORD)} if phone else {"tenant": "wanqinglu"}
        data = await demo_api.data(example, **who)
        for payload in data.values():
            assert not isinstance(payload, dict) or payload.get("errors", []) == [], (example, payload)
