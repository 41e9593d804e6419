"""GraphiQL works with no internet access: real headless Chromium, every request to anything but
this server blocked, a query run in the page, the answer seen."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import httpx
import pytest
from playwright.sync_api import Route, sync_playwright

from tests.conftest import settings_for
from tests.provision import ProvisionedDatabase
from tests.support import TenantHandle

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(database: ProvisionedDatabase, alpha: TenantHandle) -> Iterator[str]:
    port = free_port()
    settings = settings_for(database.app_url)
    env = {**os.environ, "WANJIA_ENV": "test", "WANJIA_DATABASE_URL": database.app_url, "WANJIA_SECRET_KEY": settings.secret_key}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory", "--port", str(port), "--log-level", "warning"],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_graphiql_runs_a_query_with_every_outside_request_blocked(server: str) -> None:
    outside: list[str] = []

    def only_local(route: Route) -> None:
        if urlparse(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        try:
            page = browser.new_page()
            page.route("**/*", only_local)
            page.goto(f"{server}/graphql?tenant=alpha", wait_until="networkidle")
            page.locator(".graphiql-execute-button").click()
            page.locator(".graphiql-response").get_by_text("阿尔法街道").wait_for(timeout=15_000)
            answer = page.locator(".graphiql-response").inner_text()
        finally:
            browser.close()
    assert "东风社区" in answer
    assert outside == []
