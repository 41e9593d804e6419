"""The periodic sweeps: they outlive a database error, readiness tells when they stall, the CLI
says when a tenant's sweep failed, and maintenance commands run one at a time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from typer.testing import CliRunner

from models.locks import exclusive
from resolvers import bookings
from server.app import create_app
from server.cli import app as cli
from tenants.context import RequestContext
from tenants.manifests import MANIFESTS_DIR
from tests.conftest import Wanjia, settings_for
from tests.provision import ProvisionedDatabase
from tests.support import Clock, TenantHandle

NOON = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
SHORT_WAIT = 0.2


def database_error() -> OperationalError:
    return OperationalError("SELECT tenants.id FROM tenants", {}, Exception("server closed the connection"))


async def test_the_sweeper_outlives_a_database_error_and_readiness_reports_it_stalled(
    database: ProvisionedDatabase, alpha: TenantHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    database_down = True
    with clock.at(NOON):
        app = create_app(settings_for(database.app_url, jobs_interval_seconds=1), clock=clock.now, run_jobs=True)
        directory = app.state.services.directory
        listing = directory.all

        async def tenants() -> Any:
            if database_down:
                raise database_error()
            return await listing()

        monkeypatch.setattr(directory, "all", tenants)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
        ):
            assert (await client.get("/readyz")).status_code == 200  # just started: not late yet
            with clock.at(NOON + timedelta(seconds=3)):
                stalled = await client.get("/readyz")
                database_down = False
                await app.state.sweeper.wait_for_completions(1)
                recovered = await client.get("/readyz")
    await app.state.engine.dispose()
    assert (stalled.status_code, stalled.json()) == (503, {"status": "unavailable", "sweep": "stalled"})
    assert recovered.status_code == 200


def test_jobs_run_exits_non_zero_when_one_tenant_sweep_fails_and_still_sweeps_the_others(
    database: ProvisionedDatabase, alpha: TenantHandle, beta: TenantHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    sweep = bookings.sweep

    async def failing_for_beta(ctx: RequestContext) -> int:
        if ctx.tenant is not None and ctx.tenant.slug == "beta":
            raise database_error()
        return await sweep(ctx)

    monkeypatch.setattr(bookings, "sweep", failing_for_beta)
    result = CliRunner().invoke(cli, ["jobs", "run"], env=_env(database))
    assert result.exit_code == 1
    assert "alpha：诉求超期" in result.output and "beta：清扫失败，详见日志。" in result.output


@pytest.fixture(params=["migrate", "tenants onboard", "jobs run"])
def command(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param


async def test_a_second_run_of_a_maintenance_command_says_so_in_one_line(
    database: ProvisionedDatabase, alpha: TenantHandle, command: str, wanjia: Wanjia
) -> None:
    arguments = command.split() + ([str(MANIFESTS_DIR / "qingshanlu.toml")] if command == "tenants onboard" else [])
    # The first run holds the lock for real; the second gives up sooner than the default 3 s.
    async with exclusive(database.app_url, command, wait_seconds=SHORT_WAIT):
        second = await wanjia(*arguments, WANJIA_MAINTENANCE_LOCK_WAIT_SECONDS=str(SHORT_WAIT))
    assert second.exit_code == 1
    assert second.stdout.strip() == f"另一个 wanjia {command} 正在运行，请等它结束后再试。"
    assert isinstance(second.exception, SystemExit)  # typer.Exit: a refusal, not a crash


def _env(database: ProvisionedDatabase) -> dict[str, str]:
    return {
        **os.environ,
        "WANJIA_ENV": "test",
        "WANJIA_DATABASE_URL": database.app_url,
        "WANJIA_MIGRATION_DATABASE_URL": database.owner_url,
        "WANJIA_ARGON2_TIME_COST": "1",
        "WANJIA_ARGON2_MEMORY_KIB": "64",
    }
