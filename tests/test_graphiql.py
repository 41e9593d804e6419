"""GraphiQL works with no internet access: real headless Chromium, every request to anything but
this server blocked, a query run in the page, the answer seen."""

from __future__ import annotations

import os
from urllib.parse import urlparse

from playwright.sync_api import Route, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def test_graphiql_runs_a_query_with_every_outside_request_blocked(live_server: str) -> None:
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
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page()
            page.route("**/*", only_local)
            page.goto(f"{live_server}/graphql?tenant=alpha", wait_until="networkidle")
            page.locator(".graphiql-execute-button").click()
            page.locator(".graphiql-response").get_by_text("阿尔法街道").wait_for(timeout=15_000)
            answer = page.locator(".graphiql-response").inner_text()
        finally:
            browser.close()
    assert "东风社区" in answer
    assert outside == []
