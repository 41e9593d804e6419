"""`wanjia serve` hands its options to uvicorn: the served app's factory (the sweeps in it, the
startup heap frozen) and as many worker processes as asked for."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from server import cli


@pytest.mark.parametrize(("options", "workers"), [([], 1), (["--workers", "2"], 2)])
def test_serve_runs_the_served_app_with_the_workers_asked_for(
    options: list[str], workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(cli.uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    result = CliRunner().invoke(cli.app, ["serve", "--port", "8123", *options], env={"WANJIA_ENV": "test"})
    assert result.exit_code == 0, result.output
    [(args, kwargs)] = calls
    assert args == ("server.app:create_served_app",)
    assert kwargs["factory"] is True and kwargs["port"] == 8123 and kwargs["workers"] == workers
    assert kwargs["timeout_worker_healthcheck"] == cli.WORKER_START_SECONDS > 5, "time to import the app"


@pytest.mark.parametrize("workers", ["0", "two"])
def test_serve_refuses_a_worker_count_that_is_not_a_positive_number(
    workers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli.uvicorn, "run", lambda *args, **kwargs: pytest.fail("nothing is served"))
    result = CliRunner().invoke(cli.app, ["serve", "--workers", workers], env={"WANJIA_ENV": "test"})
    assert result.exit_code == 2
