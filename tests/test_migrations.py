"""Alembic is the only way any schema is made: up, all the way down, and up again."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from models import Base, migrations
from models.database import create_engine
from tenants import context
from tests.conftest import BACKEND
from tests.provision import APP_ROLE, DATABASE_NAME, create_database, drop_postgres_database


async def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return names


@pytest.fixture
def scratch(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = create_database(BACKEND, f"{DATABASE_NAME}_migrations", tmp_path)
    yield database
    if database.backend == "postgresql":
        drop_postgres_database(f"{DATABASE_NAME}_migrations")


def test_upgrade_downgrade_upgrade(scratch) -> None:  # type: ignore[no-untyped-def]
    # Synchronous: Alembic's environment runs its own event loop.
    role = APP_ROLE if scratch.backend == "postgresql" else None
    models = set(Base.metadata.tables)

    migrations.upgrade(scratch.owner_url, app_role=role)
    assert models <= asyncio.run(table_names(scratch.owner_url))
    migrations.downgrade(scratch.owner_url, "base", app_role=role)
    assert asyncio.run(table_names(scratch.owner_url)) <= {"alembic_version"}
    migrations.upgrade(scratch.owner_url, app_role=role)
    assert models <= asyncio.run(table_names(scratch.owner_url))


async def test_notifications_keep_their_complaint_across_0009_both_ways(scratch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """0009 moved `complaint_id` into the generic subject (type and id) and back on the way down."""
    import httpx
    from sqlalchemy import text

    from server.app import create_app
    from tests.conftest import ALPHA, WORKER_1, _handle, settings_for
    from tests.support import TEXTS, Api

    role = APP_ROLE if scratch.backend == "postgresql" else None
    await asyncio.to_thread(migrations.upgrade, scratch.owner_url, app_role=role)
    app = create_app(settings_for(scratch.app_url, upload_dir=tmp_path), phone_code_sender=TEXTS)
    alpha = await _handle(app, ALPHA)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        api = Api(client)
        resident = (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]
        category = (await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", tenant="alpha"))[
            "complaintCategories"
        ]["edges"][0]["node"]["id"]
        await api.data(
            "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { errors { code } } }",
            {"input": {"complaint": {"title": "井盖缺失", "content": "路口井盖缺失。", "categoryId": category}}},
            token=resident,
        )
        assert (await api.token("alpha", WORKER_1)) is not None
    await app.state.engine.dispose()
    engine = create_engine(scratch.owner_url)

    async def column(query: str) -> list[tuple[object, ...]]:
        async with engine.connect() as connection:
            if scratch.backend == "postgresql":  # row-level security binds the owner too
                await connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(alpha.id)})
            return [tuple(row) for row in (await connection.execute(text(query))).all()]

    complaints = await column("SELECT id FROM complaints")
    subjects = await column("SELECT subject_type, subject_id FROM notifications")
    assert subjects == [("Complaint", complaints[0][0])]
    await asyncio.to_thread(migrations.downgrade, scratch.owner_url, "0008", app_role=role)
    assert await column("SELECT complaint_id FROM notifications") == complaints
    await asyncio.to_thread(migrations.upgrade, scratch.owner_url, app_role=role)
    assert await column("SELECT subject_type, subject_id FROM notifications") == subjects
    await engine.dispose()


async def test_terms_that_already_overlap_leave_the_first_appointed_standing_across_0020(
    scratch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Before 0020 two admins appointing at once could make two overlapping terms; the upgrade
    keeps the first and dismisses the other (PostgreSQL, where the constraint comes); SQLite,
    which never made such terms (its writers wait in line), keeps both as they are."""
    import httpx
    from sqlalchemy import text

    from server.app import create_app
    from tests.conftest import ALPHA, COMMUNITY_ADMIN, WORKER_1, _handle, settings_for
    from tests.support import TEXTS, Api, gid

    role = APP_ROLE if scratch.backend == "postgresql" else None
    await asyncio.to_thread(migrations.upgrade, scratch.owner_url, "0019", app_role=role)

    # The app of 0019's day kept no unread counts: their table comes with 0026.
    async def no_unread_counts(*_: object) -> None:
        return None

    monkeypatch.setattr(context, "_count_unread", no_unread_counts)
    app = create_app(settings_for(scratch.app_url, upload_dir=tmp_path), phone_code_sender=TEXTS)
    alpha = await _handle(app, ALPHA)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        api = Api(client)
        resident = (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["resident"]["id"]
        verify = "mutation($id: ID!) { verifyResident(input: {residentId: $id}) { errors { code } } }"
        assert (await api.data(verify, {"id": resident}, token=await api.token("alpha", WORKER_1)))["verifyResident"][
            "errors"
        ] == []
        appoint = (
            "mutation($input: AppointBuildingLeaderInput!) { appointBuildingLeader(input: $input) { errors { code } } }"
        )
        term = {"residentId": resident, "buildingId": gid("Building", alpha.buildings["A1-G1-B1"])}
        term |= {"startsOn": "2027-01-01", "endsOn": "2027-12-31"}
        appointed = await api.data(appoint, {"input": term}, token=await api.token("alpha", COMMUNITY_ADMIN))
        assert appointed["appointBuildingLeader"]["errors"] == []
    await app.state.engine.dispose()
    engine = create_engine(scratch.owner_url)

    async def run(statement: str) -> list[tuple[object, ...]]:
        async with engine.begin() as connection:
            if scratch.backend == "postgresql":  # row-level security binds the owner too
                await connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(alpha.id)})
            result = await connection.execute(text(statement))
            return [tuple(row) for row in result.all()] if result.returns_rows else []

    # The race's second term: a copy of the first, appointed a moment later.
    columns = "tenant_id, user_id, building_id, community_id, starts_on, ends_on, appointed_by_id"
    await run(
        f"INSERT INTO building_leaders (id, {columns}, appointed_at) "
        f"SELECT '00000000-0000-4000-8000-000000000001', {columns}, appointed_at + interval '1 second' "
        "FROM building_leaders"
        if scratch.backend == "postgresql"
        else f"INSERT INTO building_leaders (id, {columns}, appointed_at) "
        f"SELECT '00000000000040008000000000000001', {columns}, appointed_at FROM building_leaders"
    )
    await engine.dispose()
    await asyncio.to_thread(migrations.upgrade, scratch.owner_url, app_role=role)
    engine = create_engine(scratch.owner_url)
    standing = await run("SELECT dismissed_at IS NULL FROM building_leaders ORDER BY appointed_at, id")
    await engine.dispose()
    assert standing == ([(True,), (False,)] if scratch.backend == "postgresql" else [(True,), (True,)])


async def _an_office_with_an_overdue_complaint(scratch, tmp_path: Path) -> uuid.UUID:  # type: ignore[no-untyped-def]
    """Migrated to the head: street office alpha, with one complaint the sweep flagged overdue."""
    import httpx

    from server.app import create_app
    from server.jobs import run_jobs
    from tests.conftest import ALPHA, _handle, settings_for
    from tests.support import TEXTS, Api, Clock

    role = APP_ROLE if scratch.backend == "postgresql" else None
    await asyncio.to_thread(migrations.upgrade, scratch.owner_url, app_role=role)
    clock = Clock()
    app = create_app(settings_for(scratch.app_url, upload_dir=tmp_path), clock=clock.now, phone_code_sender=TEXTS)
    alpha = await _handle(app, ALPHA)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        api = Api(client, clock)
        resident = (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"]))["tokens"]["accessToken"]
        category = (await api.data("{ complaintCategories(first: 1) { edges { node { id } } } }", tenant="alpha"))[
            "complaintCategories"
        ]["edges"][0]["node"]["id"]
        submitted = await api.data(
            "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) { errors { code } } }",
            {"input": {"complaint": {"title": "井盖缺失", "content": "路口井盖缺失。", "categoryId": category}}},
            token=resident,
        )
        assert submitted["submitComplaint"]["errors"] == []
        with clock.later(timedelta(days=30)):
            assert (await run_jobs(app.state.services)).reports["alpha"].complaints.marked_overdue == 1
    await app.state.engine.dispose()
    return alpha.id


async def _read_as_owner(scratch, tenant_id: uuid.UUID, query: str) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    engine = create_engine(scratch.owner_url)
    async with engine.connect() as connection:
        if scratch.backend == "postgresql":  # row-level security binds the owner too
            await connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
        rows = [tuple(row) for row in (await connection.execute(text(query))).all()]
    await engine.dispose()
    return rows


async def test_complaints_already_flagged_overdue_are_counted_into_the_rollups_across_0021(
    scratch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """0021 adds the status rollups' overdue counter: the upgrade counts in the complaints the
    sweep flagged before it, in every street office (the owner reads and writes past row-level
    security for it)."""
    role = APP_ROLE if scratch.backend == "postgresql" else None
    alpha = await _an_office_with_an_overdue_complaint(scratch, tmp_path)
    overdue_counted = "SELECT sum(overdue) FROM complaint_status_rollups"
    assert await _read_as_owner(scratch, alpha, overdue_counted) == [(1,)]
    await asyncio.to_thread(migrations.downgrade, scratch.owner_url, "0020", app_role=role)
    await asyncio.to_thread(migrations.upgrade, scratch.owner_url, app_role=role)
    assert await _read_as_owner(scratch, alpha, overdue_counted) == [(1,)]


async def test_the_rollups_per_community_and_status_are_filled_from_the_status_rollups_across_0024(
    scratch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """What the upgrade writes is what the rollups kept since would hold: per community and
    status, the complaints and the overdue of every office (read past row-level security)."""
    role = APP_ROLE if scratch.backend == "postgresql" else None
    alpha = await _an_office_with_an_overdue_complaint(scratch, tmp_path)
    per_community = (
        "SELECT community_id, status, complaints, overdue FROM complaint_community_status_rollups "
        "WHERE complaints > 0 ORDER BY community_id, status"
    )
    kept = await _read_as_owner(scratch, alpha, per_community)
    assert [row[1:] for row in kept] == [("submitted", 1, 1)]
    await asyncio.to_thread(migrations.downgrade, scratch.owner_url, "0023", app_role=role)
    await asyncio.to_thread(migrations.upgrade, scratch.owner_url, app_role=role)
    assert await _read_as_owner(scratch, alpha, per_community) == kept


async def test_each_users_unread_notifications_are_counted_across_0026(scratch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The counts the upgrade writes are the unread notifications of each user (read past
    row-level security), as the counts kept since say."""
    role = APP_ROLE if scratch.backend == "postgresql" else None
    alpha = await _an_office_with_an_overdue_complaint(scratch, tmp_path)
    counted = "SELECT user_id, unread FROM unread_notifications WHERE unread > 0 ORDER BY user_id"
    unread = "SELECT recipient_id, count(*) FROM notifications WHERE read_at IS NULL GROUP BY recipient_id ORDER BY recipient_id"
    kept = await _read_as_owner(scratch, alpha, counted)
    assert len(kept) > 1 and kept == await _read_as_owner(scratch, alpha, unread)
    await asyncio.to_thread(migrations.downgrade, scratch.owner_url, "0025", app_role=role)
    await asyncio.to_thread(migrations.upgrade, scratch.owner_url, app_role=role)
    assert await _read_as_owner(scratch, alpha, counted) == kept
