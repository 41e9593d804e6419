"""`wanjia demo` loads on both databases, covers every state, and the README's accounts work."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

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
