"""Dashboard latency at scale: after `python -m bench.load` (which counts the rollups of every
office), time each dashboard as each admin role asks it (tenant, community and platform admin),
through the whole GraphQL stack in process (no HTTP server, no wrk: one request at a time, what a
dashboard user waits for).

    .venv/bin/python -m bench.load --complaints 1000000 --database wanjia_bench_analytics
    .venv/bin/python -m bench.dashboards --database wanjia_bench_analytics

Prints, per dashboard and role, p50 and p95 over --calls calls after a warm-up (and with
--rebuild, the time to count the rollups again first). Nothing asserts a figure; the target is
a p95 under 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import httpx

from bench.database import BenchDatabase
from bench.load import count_rollups
from bench.offices import DEMO_PASSWORD, staff_phone
from bench.requests import BIG_OFFICE
from models.settings import Settings
from resolvers import platform
from server.app import create_app
from tenants.context import Services, unit_of_work

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


PLATFORM = """query($period: DashboardPeriod!, $on: Date) { platformDashboard(period: $period, on: $on) {
  figures { submitted closureRate } overdueNow residents workOrders { received signedOnTimeRate onTimeResolveRate }
  services { utilisation bookings } volunteers { hoursServed activeVolunteers }
  offices { slug figures { submitted closed closureRate onTimeResolveRate satisfaction { averageRating } } overdueNow residents
    services { utilisation noShows } volunteers { hoursServed } } } }"""
LOGIN = """mutation($p: String!, $w: String!) { login(input: {phone: $p, password: $w}) {
  tokens { accessToken } errors { code } } }"""
PLATFORM_LOGIN = """mutation($p: String!, $w: String!) { platformLogin(input: {phone: $p, password: $w}) {
  accessToken errors { code } } }"""
PLATFORM_ADMIN = ("13600000001", "平台管理员")


async def _platform_admin(services: Services) -> str:
    """The bench's platform admin (made again with the demo password on every run); its phone."""
    phone, name = PLATFORM_ADMIN
    async with unit_of_work(services, tenant=None, viewer=None, writes=True) as ctx:
        await platform.create_admin(ctx, phone, name, DEMO_PASSWORD)
    return phone


async def main(database: str, calls: int) -> None:
    db = BenchDatabase(database)
    settings = Settings(
        database_url=db.app_url,
        env="production",
        secret_key="bench-" + "x" * 40,
        personal_data_key="bench-personal-" + "y" * 32,  # type: ignore[arg-type]
    )
    app = create_app(settings)
    # As `wanjia serve` does (server.app.create_served_app): without it, every full collection
    # walks the 300,000 objects of the modules and the schema again, and the dashboards that
    # read many rows set collections off often enough to show in their tail.
    gc.collect()
    gc.freeze()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client,
    ):

        async def ask(query: str, variables: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
            response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
            body: dict[str, Any] = response.json()
            if response.status_code != 200 or body.get("errors"):
                raise SystemExit(f"{query[:40]}…: {response.status_code} {body}")
            return body["data"]

        today = date.today()
        in_office = {"X-Tenant": BIG_OFFICE}
        signed_in = {}
        for role, phone in ROLES.items():
            login = await ask(LOGIN, {"p": phone, "w": DEMO_PASSWORD}, in_office)
            signed_in[role] = {**in_office, "Authorization": f"Bearer {login['login']['tokens']['accessToken']}"}
        platform_phone = await _platform_admin(app.state.services)
        login = await ask(PLATFORM_LOGIN, {"p": platform_phone, "w": DEMO_PASSWORD}, {})
        signed_in["platform admin"] = {"Authorization": f"Bearer {login['platformLogin']['accessToken']}"}

        month, week = {"period": "MONTH", "on": str(today)}, {"period": "WEEK", "on": str(today)}
        yesterday = {"period": "DAY", "on": str(today - timedelta(days=1))}
        office_dashboards = [
            ("complaintDashboard MONTH", COMPLAINTS, month),
            ("complaintDashboard WEEK", COMPLAINTS, week),
            ("complaintDashboard DAY", COMPLAINTS, yesterday),
            ("userDashboard MONTH", USERS, month),
            ("departmentDashboard MONTH", DEPARTMENTS, month),
            ("departmentDashboard WEEK", DEPARTMENTS, week),
            ("serviceDashboard MONTH", SERVICES, month),
            ("volunteerDashboard MONTH", VOLUNTEERS, month),
            ("complaintCounts", COUNTS, {}),
        ]
        asked = [(role, *dashboard) for role in ROLES for dashboard in office_dashboards]
        asked += [("platform admin", f"platformDashboard {p['period']}", PLATFORM, p) for p in (month, week)]
        print(f"{'dashboard':<34} {'as':<16} {'p50 ms':>8} {'p95 ms':>8}")
        for role, name, query, variables in asked:
            p50, p95 = await _timed(lambda q=query, v=variables, h=signed_in[role]: ask(q, v, h), calls)  # type: ignore[misc]
            print(f"{name:<34} {role:<16} {p50:>8.1f} {p95:>8.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="wanjia_bench")
    parser.add_argument("--calls", type=int, default=40, help="timed calls per dashboard and role")
    parser.add_argument("--rebuild", action="store_true", help="count the rollups again first (bench.load did)")
    args = parser.parse_args()
    if args.rebuild:
        started = time.perf_counter()
        rows = count_rollups(BenchDatabase(args.database))
        print(f"rollups counted ({sum(rows.values()):,} rows) in {time.perf_counter() - started:.1f} s")
    asyncio.run(main(args.database, args.calls))
