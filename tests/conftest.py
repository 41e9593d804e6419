"""The suite runs once per backend: WANJIA_TEST_BACKEND=postgresql or sqlite (make test runs both)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime

import httpx
import pytest
from click.testing import Result
from hypothesis import settings as hypothesis_settings
from sqlalchemy import select
from starlette.applications import Starlette
from typer.testing import CliRunner

from models.organisation import Building, Community, Grid
from models.settings import Settings
from server import cli
from server.app import create_app
from tenants.context import unit_of_work
from tenants.manifests import parse_manifest
from tenants.onboarding import onboard
from tests import codes
from tests.gridwork import MAPPED
from tests.local_servers import serving
from tests.provision import DATABASE_NAME, ProvisionedDatabase, clone, create_template, drop
from tests.support import TEXTS, Api, Clock, TenantHandle, staff

BACKEND = os.environ.get("WANJIA_TEST_BACKEND", "sqlite")
if BACKEND not in ("postgresql", "sqlite"):
    raise pytest.UsageError(f"WANJIA_TEST_BACKEND must be postgresql or sqlite, not {BACKEND!r}")

# Row-level security, a server that restarts and the benchmark's loader are PostgreSQL's; on
# SQLite there is nothing for those tests to test.
collect_ignore = (
    []
    if BACKEND == "postgresql"
    else [
        "test_row_level_security.py",
        "test_database_restart.py",
        "test_prepared_statements.py",
        "test_bench_load.py",
    ]
)


def pytest_report_header() -> str:
    return f"wanjia test backend: {BACKEND}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that use no database (pure rules, the SDL, the docs, the front end's types) run
    once, with SQLite, the backend that needs nothing installed: on PostgreSQL they would test
    nothing more."""
    if BACKEND != "postgresql":
        return
    once = [item for item in items if not _uses_the_backend(item)]
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = [item for item in items if _uses_the_backend(item)]


def _uses_the_backend(item: pytest.Item) -> bool:
    # The suite's database, or one a module makes for itself (a scratch database, the demo's).
    module = getattr(item, "module", None)
    return "database" in getattr(item, "fixturenames", ()) or getattr(module, "BACKEND", None) is not None


# Hypothesis fails an example that runs longer than its deadline (200 ms by default): a timing
# assertion, which a loaded machine fails at random. The suite asserts no timings.
hypothesis_settings.register_profile("wanjia", deadline=None)
hypothesis_settings.load_profile("wanjia")


@pytest.fixture(autouse=True)
def answered_codes_are_in_the_contract() -> Iterator[None]:
    """Every error code any response of any test carried is a value of the SDL's ErrorCode:
    the dynamic half of tests/test_error_codes.py, over the whole suite."""
    codes.seen.clear()
    yield
    unknown = codes.seen - codes.in_the_sdl()
    assert not unknown, f"answered codes missing from ErrorCode in schema/schema.graphql: {sorted(unknown)}"


ALPHA = {
    "slug": "alpha",
    "name": "阿尔法街道",
    "settings": {
        "community_contacts": {
            "A1": {
                "address": "阿尔法街道东风路 1 号",
                "office_phone": "0472-5100001",
                "office_hours": "周一至周五 8:30–12:00、14:30–18:00",
                "latitude": 40.6571,
                "longitude": 109.8402,
            }
        }
    },
    "departments": [{"code": "justice", "name": "司法所"}, {"code": "civil", "name": "民政办"}],
    "categories": [{"code": "environment", "name": "环境卫生", "acknowledge_hours": 4, "resolve_days": 3}],
    "appointment_types": [
        {"code": "mediation", "name": "人民调解", "department": "justice"},
        {"code": "counselling", "name": "心理咨询", "room": {"community": "A1", "name": "调解室"}},
    ],
    "communities": [
        {
            "code": "A1",
            "name": "东风社区",
            "grids": [
                {
                    "code": "A1-G1",
                    "name": "东风一网格",
                    "worker": "13900000011",
                    "buildings": [
                        {"code": "A1-G1-B1", "name": "1号楼", "units": 2},
                        {"code": "A1-G1-B2", "name": "2号楼"},
                    ],
                },
                {
                    "code": "A1-G2",
                    "name": "东风二网格",
                    "worker": "13900000012",
                    "buildings": [{"code": "A1-G2-B1", "name": "3号楼"}],
                },
            ],
            "rooms": [
                {
                    "name": "活动室",
                    "capacity": 30,
                    "requires_approval": False,
                    "opening_hours": {d: ["08:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                    "closed_dates": ["2026-12-05"],
                    "slot_minutes": 30,
                    "min_notice_hours": 2,
                    "max_days_ahead": 14,
                    "max_duration_minutes": 180,
                    "weekly_quota_hours": 6,
                },
                {
                    "name": "调解室",
                    "capacity": 8,
                    "opening_hours": {d: ["09:00-12:00", "13:30-17:30"] for d in ("mon", "tue", "wed", "thu", "fri")},
                    "slot_minutes": 60,
                    "min_notice_hours": 24,
                    "max_days_ahead": 60,
                    "max_duration_minutes": 120,
                    "weekly_quota_hours": 20,
                },
            ],
        },
        {
            "code": "A2",
            "name": "西湖社区",
            "grids": [
                {
                    "code": "A2-G1",
                    "name": "西湖一网格",
                    "worker": "13900000013",
                    "buildings": [{"code": "A2-G1-B1", "name": "5号楼"}],
                },
                {"code": "A2-G2", "name": "西湖二网格", "buildings": [{"code": "A2-G2-B1", "name": "7号楼"}]},
            ],
        },
    ],
    "staff": [
        staff("13900000001", "街道管理员甲", {"role": "tenant_admin"}),
        staff("13900000002", "社区管理员甲", {"role": "community_admin", "community": "A1"}),
        staff("13900000011", "网格员一", {"role": "grid_worker"}),
        staff("13900000012", "网格员二", {"role": "grid_worker"}),
        staff("13900000013", "网格员三", {"role": "grid_worker"}),
        staff("13900000021", "司法所干部", {"role": "staff", "department": "justice"}),
        staff("13900000022", "民政办干部", {"role": "staff", "department": "civil"}),
        staff("13900000003", "社区管理员乙", {"role": "community_admin", "community": "A2"}),
    ],
}

# The same phones as in ALPHA belong to other people here: accounts are per street office.
BETA = {
    "slug": "beta",
    "name": "贝塔街道",
    "departments": [{"code": "police", "name": "派出所"}],
    "categories": [{"code": "roads", "name": "道路设施", "acknowledge_hours": 8, "resolve_days": 5}],
    "communities": [
        {
            "code": "B1",
            "name": "南山社区",
            "grids": [
                {
                    "code": "B1-G1",
                    "name": "南山一网格",
                    "worker": "13900000011",
                    "buildings": [{"code": "B1-G1-B1", "name": "9号楼"}],
                }
            ],
        }
    ],
    "staff": [
        staff("13900000001", "街道管理员乙", {"role": "tenant_admin"}),
        staff("13900000011", "网格员乙", {"role": "grid_worker"}),
    ],
}

TENANT_ADMIN = "13900000001"
COMMUNITY_ADMIN = "13900000002"
OTHER_COMMUNITY_ADMIN = "13900000003"  # of A2, where no room and none of the fixtures' items are
WORKER_1 = "13900000011"
WORKER_2 = "13900000012"
WORKER_3 = "13900000013"
STAFF = "13900000021"
OTHER_STAFF = "13900000022"


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProvisionedDatabase]:
    """The suite's database, cloned from a migrated template that modules needing a database of
    their own clone as well (database.template, tests.provision.clone)."""
    directory = tmp_path_factory.mktemp("db")
    template = create_template(BACKEND, DATABASE_NAME, directory)
    try:
        created = clone(template, DATABASE_NAME, directory)
        yield created
        drop(created)
    finally:
        drop(template)


@pytest.fixture(scope="session")
def clock() -> Clock:
    return Clock()


def settings_for(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "database_url": database_url,
        "secret_key": "test-secret-key-that-is-long-enough-0123456789",
        "personal_data_key": "test-personal-data-key-that-is-long-enough-0123456789",
        "argon2_time_cost": 1,
        "argon2_memory_kib": 64,
        "login_failure_delay_seconds": 0,
        # The whole suite registers its residents from one address, each phone maybe twice:
        # tests/test_phone_codes.py checks the real limits on an app of its own.
        "phone_code_max_per_client": 1_000_000,
        "phone_code_resend_seconds": 0,
        # Caches expire on the app's clock only when a test moves it, never because the machine
        # is slow: the statement-count tests would otherwise count a reload now and then.
        "tenant_cache_seconds": 3600,
        "session_recheck_seconds": 120,
        # One app serves the whole suite, mostly as street office "alpha": tests/test_rate_limits.py
        # checks the real buckets on apps of its own.
        "rate_limit_per_tenant": "1000000/60s",
        "rate_limit_per_account": "1000000/60s",
        "rate_limit_per_ip": "1000000/60s",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def settings(database: ProvisionedDatabase, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return settings_for(database.app_url, upload_dir=tmp_path_factory.mktemp("uploads"))


@pytest.fixture(scope="session")
async def app(settings: Settings, clock: Clock) -> AsyncIterator[Starlette]:
    application = create_app(settings, clock=clock.now, phone_code_sender=TEXTS)
    yield application
    await application.state.engine.dispose()


async def _handle(app: Starlette, manifest: dict[str, object]) -> TenantHandle:
    services = app.state.services
    report = await onboard(services, parse_manifest(manifest, "test"))
    services.directory.forget()
    handle = TenantHandle(slug=str(manifest["slug"]), id=report.tenant_id)
    tenant = await services.directory.by_id(report.tenant_id)
    async with unit_of_work(services, tenant=tenant, viewer=None, writes=False) as ctx:
        session = ctx.session
        assert session is not None
        handle.communities = dict((await session.execute(select(Community.code, Community.id))).all())
        handle.grids = dict((await session.execute(select(Grid.code, Grid.id))).all())
        handle.buildings = dict((await session.execute(select(Building.code, Building.id))).all())
    return handle


@pytest.fixture(scope="session")
async def alpha(app: Starlette) -> TenantHandle:
    return await _handle(app, ALPHA)


@pytest.fixture(scope="session")
async def beta(app: Starlette) -> TenantHandle:
    return await _handle(app, BETA)


@pytest.fixture(scope="session")
async def mapped(app: Starlette) -> TenantHandle:
    """A street office drawn on the map, with working hours and a checklist (tests.gridwork)."""
    return await _handle(app, MAPPED)


@pytest.fixture(scope="session")
async def api(app: Starlette, clock: Clock, alpha: TenantHandle, beta: TenantHandle) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield Api(client, clock)


@pytest.fixture(scope="session")
def live_server(settings: Settings, clock: Clock, alpha: TenantHandle) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 for the tests that need a real socket (websockets,
    a browser): one server for the session, in a thread of this process with an engine and a
    broker of its own, on the test's clock; used once uvicorn has said it is listening."""
    with serving(create_app(settings, clock=clock.now, phone_code_sender=TEXTS)) as url:
        yield url


Wanjia = Callable[..., Awaitable[Result]]


@pytest.fixture
def wanjia(database: ProvisionedDatabase, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Wanjia:
    """Runs a `wanjia` command on the test database, at a moment of the test's choosing, in a
    thread of its own: the command runs its own event loop, as it does from a shell."""

    async def run(*args: str, at: datetime | None = None, input: str | None = None, **env: str) -> Result:
        if at is not None:
            monkeypatch.setattr(cli, "clock", lambda: at)
        environment = {
            "WANJIA_ENV": "test",
            "WANJIA_DATABASE_URL": database.app_url,
            "WANJIA_MIGRATION_DATABASE_URL": database.owner_url,
            "WANJIA_SECRET_KEY": settings.secret_key or "",
            "WANJIA_PERSONAL_DATA_KEY": settings.personal_data_key.get_secret_value()
            if settings.personal_data_key
            else "",
            "WANJIA_UPLOAD_DIR": str(settings.upload_dir),
            "WANJIA_ARGON2_TIME_COST": str(settings.argon2_time_cost),
            "WANJIA_ARGON2_MEMORY_KIB": str(settings.argon2_memory_kib),
            **env,
        }
        return await asyncio.to_thread(CliRunner().invoke, cli.app, list(args), input=input, env=environment)

    return run
