"""Dashboard latency at scale: after `python -m bench.load` (which recounts the rollups of every
office), time each dashboard as each admin role asks it, through the whole GraphQL stack in
process (no HTTP server, no wrk: one request at a time, what a dashboard user waits for).

    .venv/bin/python -m bench.load --complaints 1000000 --database wanjia_bench_analytics
    .venv/bin/python -m bench.dashboards --database wanjia_bench_analytics

Prints, per dashboard and role, p50 and p95 over --calls calls after a warm-up (and with
--rebuild, the time to recount the rollups again first). Nothing asserts a figure; the target is
a p95 under 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx

from bench.database import BenchDatabase
from bench.load import recount_rollups
from bench.offices import DEMO_PASSWORD, staff_phone
from bench.requests import BIG_OFFICE
from models.settings import Settings
from server.app import create_app

FIGURES = """figures { submitted closed closureRate onTimeAcknowledgeRate onTimeResolveRate averageHandlingHours
  p90HandlingHours reopenRate satisfaction { rated averageRating distribution { rating count } } }"""
COMPLAINTS = f"""query($period: DashboardPeriod!, $on: Date) {{ complaintDashboard(period: $period, on: $on) {{
  current {{ first last }} {FIGURES} previousFigures {{ submitted closed closureRate }} overdueNow
  byCategory {{ name count previousCount }} byCommunity {{ name count previousCount }}
  byGrid {{ name count previousCount }} bySource {{ source count previousCount }} topGrids {{ name count }}
  topBuildings {{ name count }} risingCategories {{ name count previousCount }}
  heatMap {{ latitude longitude count }} trend {{ first submitted closed }} }} }}"""
USERS = """query($period: DashboardPeriod!, $on: Date) { userDashboard(period: $period, on: $on) {
  figures { registered verified active requests } previousFigures { registered verified active requests }
  residents verifiedResidents pendingNow } }"""
COUNTS = "{ complaintCounts { total overdue byStatus { status count } } }"
WORK_ORDERS = "received signed signedOnTime returned resolved resolvedOnTime"
DEPARTMENTS = f"""query($period: DashboardPeriod!, $on: Date) {{ departmentDashboard(period: $period, on: $on) {{
  figures {{ {WORK_ORDERS} }} previousFigures {{ {WORK_ORDERS} }}
  departments {{ name figures {{ {WORK_ORDERS} }} previousFigures {{ received }} }} }} }}"""
SERVICES = """query($period: DashboardPeriod!, $on: Date) { serviceDashboard(period: $period, on: $on) {
  utilisation byHour { weekday hour openMinutes bookedMinutes } approvals { answered averageHours p90Hours }
  noShows appointmentTypes { name requested completed cancelled open } } }"""
VOLUNTEERS = """query($period: DashboardPeriod!, $on: Date) { volunteerDashboard(period: $period, on: $on) {
  figures { hoursServed activeVolunteers activities } previousFigures { hoursServed } } }"""

ROLES = {"tenant admin": staff_phone(0, 1, 0), "community admin": staff_phone(0, 1, 100)}


async def _timed(call: Callable[[], Any], calls: int) -> tuple[float, float]:
    for _ in range(3):
        await call()
    spent = []
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        spent.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(spent, n=20)
    return statistics.median(spent), cuts[18]


async def main(database: str, calls: int) -> None:
    db = BenchDatabase(database)
    settings = Settings(
        database_url=db.app_url,
        env="production",
        secret_key="bench-" + "x" * 40,
        personal_data_key="bench-personal-" + "y" * 32,  # type: ignore[arg-type]
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client,
    ):
        headers = {"X-Tenant": BIG_OFFICE}

        async def ask(query: str, variables: dict[str, Any], token: str) -> None:
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={**headers, "Authorization": f"Bearer {token}"},
            )
            body = response.json()
            if response.status_code != 200 or body.get("errors"):
                raise SystemExit(f"{query[:40]}…: {response.status_code} {body}")

        today = date.today()
        print(f"{'dashboard':<34} {'as':<16} {'p50 ms':>8} {'p95 ms':>8}")
        for role, phone in ROLES.items():
            login = await client.post(
                "/graphql",
                json={
                    "query": "mutation($p: String!, $w: String!) { login(input: {phone: $p, password: $w}) "
                    "{ tokens { accessToken } errors { code } } }",
                    "variables": {"p": phone, "w": DEMO_PASSWORD},
                },
                headers=headers,
            )
            token = login.json()["data"]["login"]["tokens"]["accessToken"]
            asked = [
                ("complaintDashboard MONTH", COMPLAINTS, {"period": "MONTH", "on": str(today)}),
                ("complaintDashboard WEEK", COMPLAINTS, {"period": "WEEK", "on": str(today)}),
                ("complaintDashboard DAY", COMPLAINTS, {"period": "DAY", "on": str(today - timedelta(days=1))}),
                ("userDashboard MONTH", USERS, {"period": "MONTH", "on": str(today)}),
                ("departmentDashboard MONTH", DEPARTMENTS, {"period": "MONTH", "on": str(today)}),
                ("departmentDashboard WEEK", DEPARTMENTS, {"period": "WEEK", "on": str(today)}),
                ("serviceDashboard MONTH", SERVICES, {"period": "MONTH", "on": str(today)}),
                ("volunteerDashboard MONTH", VOLUNTEERS, {"period": "MONTH", "on": str(today)}),
                ("complaintCounts", COUNTS, {}),
            ]
            for name, query, variables in asked:
                p50, p95 = await _timed(lambda q=query, v=variables, t=token: ask(q, v, t), calls)  # type: ignore[misc]
                print(f"{name:<34} {role:<16} {p50:>8.1f} {p95:>8.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="wanjia_bench")
    parser.add_argument("--calls", type=int, default=40, help="timed calls per dashboard and role")
    parser.add_argument("--rebuild", action="store_true", help="recount the rollups first (bench.load did)")
    args = parser.parse_args()
    if args.rebuild:
        started = time.perf_counter()
        rows = recount_rollups(BenchDatabase(args.database))
        print(f"rollups recounted ({sum(rows.values()):,} rows) in {time.perf_counter() - started:.1f} s")
    asyncio.run(main(args.database, args.calls))
