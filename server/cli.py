"""The `wanjia` command: serve, migrate, onboard tenants, load the demo, export the schema,
import the holiday calendar, sweep stored media, register front-end documents.

A command imports what only it uses in its own body: building the GraphQL schema, matplotlib
and the report's analytics took seconds of every run, and cron's `jobs run` or a deploy's
`migrate` need none of them. Here at the top is only what most commands share: the settings,
the services and the maintenance lock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import Row, select
from sqlalchemy.engine import make_url

from models.base import utcnow
from models.calendar import (
    SHANGHAI,
    OfficialCalendar,
    OfficialCalendarDay,
    ScheduleError,
    load_official_calendar,
    parse_schedule,
    replace_schedule,
    years_without_calendar,
)
from models.database import is_postgresql
from models.fonts import NoCjkFont
from models.locks import AlreadyRunning, exclusive
from models.settings import Settings, load_settings
from models.tenants import Tenant, TenantStatus
from server.observability import configure_logging
from tenants.context import Services, unit_of_work

app = typer.Typer(
    help="万家 wanjia: multi-tenant GraphQL platform for community governance.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
tenants_app = typer.Typer(help="Onboard and list street offices (tenants).", no_args_is_help=True)
schema_app = typer.Typer(help="The GraphQL schema's printed SDL.", no_args_is_help=True)
jobs_app = typer.Typer(
    help="Periodic work (overdue complaints, auto-close), safe to run from cron.", no_args_is_help=True
)
app.add_typer(tenants_app, name="tenants")
app.add_typer(schema_app, name="schema")
calendar_app = typer.Typer(
    help="The platform's holiday table (the State Council's yearly notice), read before chinesecalendar.",
    no_args_is_help=True,
)
media_app = typer.Typer(help="Stored photos and videos.", no_args_is_help=True)
documents_app = typer.Typer(
    help="GraphQL documents of front-end builds: persisted queries, trusted-documents mode.", no_args_is_help=True
)
app.add_typer(jobs_app, name="jobs")
app.add_typer(calendar_app, name="calendar")
app.add_typer(media_app, name="media")
app.add_typer(documents_app, name="documents")
report_app = typer.Typer(help="Reports of a street office, as PDF.", no_args_is_help=True)
app.add_typer(report_app, name="report")
platform_app = typer.Typer(help="The platform's own accounts.", no_args_is_help=True)
app.add_typer(platform_app, name="platform")
rollups_app = typer.Typer(help="The dashboards' rollups of complaints.", no_args_is_help=True)
app.add_typer(rollups_app, name="rollups")
qr_app = typer.Typer(help="QR codes to print: grid workers' registration badges.", no_args_is_help=True)
app.add_typer(qr_app, name="qr")
console = Console()
T = TypeVar("T")
# The commands' one clock (as the app's is ctx.clock): tests running them in-process set it.
clock: Callable[[], datetime] = utcnow
WEEKDAYS = "一二三四五六日"


def _settings() -> Settings:
    try:
        return load_settings()
    except ValueError as error:
        console.print(f"[red]配置错误：{error}[/red]")
        raise typer.Exit(2) from error


def _run(settings: Settings, work: Callable[[Services], Awaitable[T]], *, alone_as: str | None = None) -> T:
    """Runs `work` with the process's services; with `alone_as`, only if no other run of that
    command is under way (else one line says so and the command exits 1)."""

    async def run() -> T:
        services = Services.start(settings, pool_size=2)
        try:
            async with _alone(settings, alone_as):
                return await work(services)
        finally:
            await services.close()

    try:
        return asyncio.run(run())
    except AlreadyRunning:
        console.print(f"另一个 wanjia {alone_as} 正在运行，请等它结束后再试。", style="red")
        raise typer.Exit(1) from None


def _alone(settings: Settings, command: str | None) -> contextlib.AbstractAsyncContextManager[None]:
    if command is None:
        return contextlib.nullcontext()
    return exclusive(settings.database_url, command, wait_seconds=settings.maintenance_lock_wait_seconds)


def app_role(settings: Settings) -> str | None:
    """The role to grant table access to, when the app connects as another role than migrations."""
    if not is_postgresql(settings.database_url):
        return None
    app_user = make_url(settings.database_url).username
    return app_user if app_user != make_url(settings.migration_url).username else None


@app.command()
def migrate(
    revision: str = typer.Argument("head", help="Revision to upgrade to; never downgrades."),
    down_to: str | None = typer.Option(
        None, "--down-to", metavar="REV", help="Downgrade to this older revision: newer tables and their data are lost."
    ),
    yes: bool = typer.Option(False, "--yes", help="Downgrade without asking for confirmation."),
) -> None:
    """Bring the database schema up to date (the only way any schema is created), or with
    --down-to take it back to an older revision."""
    from alembic.util import CommandError

    from models import migrations

    settings = _settings()
    url = settings.migration_url
    wanted = down_to if down_to is not None else revision
    try:
        current, target = migrations.database_revision(url), migrations.resolve(wanted)
    except CommandError as error:
        console.print(f"没有“{wanted}”这个迁移版本。", style="red")
        raise typer.Exit(2) from error
    older = target != current and target in migrations.lineage(current)
    if down_to is None and older:
        console.print(
            f"数据库已在 {current}，比 {target or 'base'} 新；wanjia migrate 只做升级。"
            f"降级请用 wanjia migrate --down-to {target or 'base'}。",
            style="red",
            soft_wrap=True,
        )
        raise typer.Exit(1)
    if down_to is not None:
        if target != current and not older:
            console.print(
                f"{target} 比数据库当前的 {current or 'base'} 新；升级请用 wanjia migrate {target}。", style="red"
            )
            raise typer.Exit(1)
        if (
            older
            and not yes
            and not typer.confirm(
                f"将把数据库从 {current} 降级到 {target or 'base'}，之后版本的表及其数据都会删除。确定吗？"
            )
        ):
            console.print(f"已取消，数据库仍在 {current}。")
            raise typer.Exit(1)

    async def work(_: Services) -> None:
        if older:
            await asyncio.to_thread(migrations.downgrade, url, target or "base", app_role=app_role(settings))
        elif down_to is None:
            await asyncio.to_thread(migrations.upgrade, url, wanted, app_role=app_role(settings))

    _run(settings, work, alone_as="migrate")
    console.print(f"数据库已迁移到 {migrations.database_revision(url) or 'base'}。")


WORKER_START_SECONDS = 60


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Worker processes (one per core scales the throughput)."),
) -> None:
    """Serve the GraphQL API (and GraphiQL outside production) with uvicorn."""
    settings = _settings()
    configure_logging(settings.log_level)
    console.print(f"万家 GraphQL: http://{host}:{port}/graphql")
    uvicorn.run(
        "server.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # A worker process imports the whole app before it can answer the supervisor's health
        # check: on a loaded machine that takes longer than uvicorn's 5 s, and workers were killed
        # and started again in a loop, never serving.
        timeout_worker_healthcheck=WORKER_START_SECONDS,
        log_config=None,
        access_log=False,
    )


@app.command()
def demo(if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing if any tenant exists already.")) -> None:
    """Onboard the demo street offices with residents and an account for every role."""
    from tenants.demo import load_demo

    settings = _settings()

    async def work(services: Services) -> list[str]:
        if if_empty:
            async with unit_of_work(services, tenant=None, viewer=None, writes=False) as ctx:
                assert ctx.session is not None
                if await ctx.session.scalar(select(Tenant.id).limit(1)) is not None:
                    return []
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("载入演示数据", total=None)
            return await load_demo(services, lambda n: progress.advance(task, n))

    slugs = _run(settings, work, alone_as="demo")
    console.print(f"演示数据已就绪：{', '.join(slugs)}" if slugs else "已有数据，跳过演示数据。")


@tenants_app.command("onboard")
def tenants_onboard(manifest_file: Path = typer.Argument(..., help="The tenant's TOML manifest.")) -> None:
    """Create or update a street office from its manifest, in one transaction."""
    from tenants.manifests import ManifestError, load_manifest
    from tenants.onboarding import OnboardingReport, onboard

    settings = _settings()
    try:
        manifest = load_manifest(manifest_file)
    except ManifestError as error:
        for problem in error.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1) from error

    async def work(services: Services) -> OnboardingReport:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"导入 {manifest.name}", total=manifest.size() + 1)
            return await onboard(services, manifest, lambda n: progress.advance(task, n))

    report = _run(settings, work, alone_as="tenants onboard")
    console.print(
        f"{manifest.name}（{manifest.slug}）：新建 {report.created}，更新 {report.updated}，未变 {report.unchanged}。"
    )


def _set_status(slug: str, status: TenantStatus) -> None:
    settings = _settings()

    async def work(services: Services) -> bool:
        async with unit_of_work(services, tenant=None, viewer=None, writes=True) as ctx:
            assert ctx.session is not None
            tenant = await ctx.session.scalar(select(Tenant).where(Tenant.slug == slug))
            if tenant is None:
                return False
            tenant.status = status
            return True

    if not _run(settings, work):
        console.print(f"没有 slug 为“{slug}”的街道。", style="red")
        raise typer.Exit(1)
    console.print(
        f"{slug}：{'已暂停服务' if status == TenantStatus.SUSPENDED else '已恢复服务'}（各服务进程在 30 秒内生效）。"
    )


@tenants_app.command("suspend")
def tenants_suspend(slug: str = typer.Argument(..., help="The street office's slug.")) -> None:
    """Stop serving a street office: its requests answer as for an unknown tenant. Data is kept."""
    _set_status(slug, TenantStatus.SUSPENDED)


@tenants_app.command("resume")
def tenants_resume(slug: str = typer.Argument(..., help="The street office's slug.")) -> None:
    """Serve a suspended street office again."""
    _set_status(slug, TenantStatus.ACTIVE)


@tenants_app.command("list")
def tenants_list() -> None:
    """List the street offices with their status, and warn of a year without a holiday calendar."""
    settings = _settings()

    async def work(services: Services) -> tuple[Sequence[Row[str, str, TenantStatus]], OfficialCalendar]:
        async with unit_of_work(services, tenant=None, viewer=None, writes=False) as ctx:
            assert ctx.session is not None
            rows = (
                await ctx.session.execute(select(Tenant.slug, Tenant.name, Tenant.status).order_by(Tenant.slug))
            ).all()
            return rows, await load_official_calendar(ctx.session)

    rows, official = _run(settings, work)
    table = Table("slug", "name", "status")
    for row in rows:
        table.add_row(row.slug, row.name, row.status.value)
    console.print(table)
    _warn_of_missing_calendars(official)


def _warn_of_missing_calendars(official: OfficialCalendar) -> None:
    for year in years_without_calendar(clock().astimezone(SHANGHAI).date(), official):
        console.print(
            f"警告：{year} 年的法定节假日安排尚未导入，期限只按周末计算。"
            f"请按国务院办公厅的通知编写文件并运行 wanjia calendar import。",
            style="yellow",
            soft_wrap=True,
        )


@qr_app.command("badges")
def qr_badges(
    tenant: str = typer.Option(..., "--tenant", help="The street office's slug."),
    out: Path = typer.Option(..., "--out", help="Folder to write the badges to (made if missing)."),
    register_url: str | None = typer.Option(
        None, "--register-url", help="The registration page the QR codes open (default: the settings')."
    ),
) -> None:
    """Render every grid worker's badge of a street office as PNG and SVG, with the worker's
    name and grid: the QR code registers residents into that grid (revocable: `revokeBadge`)."""
    from resolvers.badges import BadgeRow, all_badges
    from server.badges import write_badges

    settings = _settings()
    page = (
        register_url
        or settings.registration_url
        or (settings.public_url and settings.public_url.rstrip("/") + "/register")
    )
    if not page:
        console.print(
            "请设置 WANJIA_REGISTRATION_URL 或 WANJIA_PUBLIC_URL，或用 --register-url 指明注册页地址。", style="red"
        )
        raise typer.Exit(2)

    async def work(services: Services) -> tuple[str, list[BadgeRow]] | None:
        found = await services.directory.by_slug(tenant)
        if found is None:
            return None
        async with unit_of_work(services, tenant=found, viewer=None, writes=False) as ctx:
            return found.name, await all_badges(ctx)

    listed = _run(settings, work)
    if listed is None:
        console.print(f"没有代码为“{tenant}”的街道。", style="red")
        raise typer.Exit(1)
    office, rows = listed
    try:
        written = write_badges(office, rows, page, out)
    except NoCjkFont as error:
        console.print(f"找不到中文字体：{error}", style="red")
        raise typer.Exit(1) from error
    console.print(f"{office}：{len(rows)} 张工作牌，{len(written)} 个文件，写入 {out}")


@report_app.command("monthly")
def report_monthly(
    tenant: str = typer.Option(..., "--tenant", metavar="SLUG"),
    month: str = typer.Option(..., "--month", metavar="YYYY-MM", help="The month, e.g. 2026-11."),
    out: Path | None = typer.Option(None, "--out", help="The PDF to write (default var/reports/SLUG-YYYY-MM.pdf)."),
) -> None:
    """The street office's monthly report: headline figures, charts (volume by category and
    week, closure and on-time rates, hotspots, satisfaction) and the month's late items."""
    from resolvers.analytics import MonthlyReport, monthly_report
    from server.reports import render_monthly_report

    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError as error:
        console.print("月份应写作 YYYY-MM，例如 2026-11。", style="red")
        raise typer.Exit(2) from error
    settings = _settings()
    target = out or Path("var") / "reports" / f"{tenant}-{month}.pdf"

    async def work(services: Services) -> MonthlyReport | None:
        office = await services.directory.by_slug(tenant)
        if office is None:
            return None
        async with unit_of_work(services, tenant=office, viewer=None, writes=False) as ctx:
            return await monthly_report(ctx, first)

    report = _run(settings, work)
    if report is None:
        console.print(f"没有代码为“{tenant}”的街道。", style="red")
        raise typer.Exit(1)
    try:
        written = render_monthly_report(report, target)
    except NoCjkFont as error:
        console.print(f"找不到中文字体：{error}", style="red")
        raise typer.Exit(1) from error
    console.print(f"{report.office} {month} 月报：{written}")


@platform_app.command("create-admin")
def platform_create_admin(
    phone: str = typer.Option(..., "--phone", help="The admin's mobile number, to sign in with."),
    name: str = typer.Option(..., "--name"),
    password: str = typer.Option(
        ..., "--password", prompt=True, hide_input=True, confirmation_prompt=True, envvar="WANJIA_PLATFORM_PASSWORD"
    ),
) -> None:
    """Create a platform admin (or give an existing one a new name and password, ending their
    sessions). They sign in with `platformLogin`, without X-Tenant, and see figures summed over
    street offices only."""
    from resolvers import platform
    from resolvers.errors import DomainError

    settings = _settings()

    async def work(services: Services) -> str:
        async with unit_of_work(services, tenant=None, viewer=None, writes=True) as ctx:
            return await platform.create_admin(ctx, phone, name, password)

    try:
        created = _run(settings, work)
    except DomainError as error:
        for issue in error.issues:
            console.print(f"{issue.field}：{issue.message}", style="red")
        raise typer.Exit(2) from error
    console.print(f"平台管理员 {created} 已就绪：登录时不要指明街道。")


@rollups_app.command("rebuild")
def rollups_rebuild(
    tenant: str | None = typer.Option(None, "--tenant", metavar="SLUG", help="One street office; all if left out."),
) -> None:
    """Recount the rollups from the complaints (after an upgrade, a bulk load or a repair), one
    street office per transaction."""
    from resolvers import rollups

    settings = _settings()

    async def work(services: Services) -> dict[str, int] | None:
        services.directory.forget()
        offices = await services.directory.all()
        if tenant is not None:
            offices = [o for o in offices if o.slug == tenant]
            if not offices:
                return None
        return await rollups.rebuild_offices(services, offices)

    rebuilt = _run(settings, work, alone_as="rollups rebuild")
    if rebuilt is None:
        console.print(f"没有代码为“{tenant}”的街道。", style="red")
        raise typer.Exit(1)
    for slug, rows in sorted(rebuilt.items()):
        console.print(f"{slug}：统计表已重算，{rows} 行")


@jobs_app.command("run")
def jobs_run() -> None:
    """Sweep every street office once: flag overdue complaints (once per deadline), close unconfirmed ones.
    Exits 1 if any street office's sweep failed (the others are still swept)."""
    from server.jobs import run_jobs

    settings = _settings()
    run = _run(settings, run_jobs, alone_as="jobs run")
    for slug, report in sorted(run.reports.items()):
        # One line per street office, whatever the width: cron's logs have no terminal.
        console.print(
            f"{slug}：诉求超期 {report.complaints.marked_overdue}，自动关闭 {report.complaints.closed}，"
            f"预约超时未审核 {report.bookings_overdue}，预约超时未联系 {report.appointments_overdue}，"
            f"志愿活动提醒 {report.volunteers.reminded}，自动结束 {report.volunteers.completed}",
            soft_wrap=True,
        )
    for slug in sorted(run.failed):
        console.print(f"{slug}：清扫失败，详见日志。", style="red")
    if run.failed:
        raise typer.Exit(1)


@schema_app.command("export")
def schema_export(
    output: Path | None = typer.Option(None, help="Where to write the SDL (default schema/schema.graphql)."),
    check: bool = typer.Option(False, "--check", help="Only check that the file is current; exit 1 if not."),
) -> None:
    """Print the schema's SDL to schema/schema.graphql (the contract front ends review)."""
    from schema.build import SDL_PATH, printed_sdl

    output = output or SDL_PATH
    sdl = printed_sdl()
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != sdl:
            console.print(f"{output} 已过期：请运行 wanjia schema export。")
            raise typer.Exit(1)
        return
    output.write_text(sdl, encoding="utf-8")
    console.print(f"已写入 {output}")


@calendar_app.command("import")
def calendar_import(schedule_file: Path = typer.Argument(..., help="One year's schedule (see calendars/).")) -> None:
    """Put a year's holidays and make-up working days in the platform's table, in place of what it
    held for that year. Serving processes use it within 30 seconds."""
    settings = _settings()
    try:
        schedule = parse_schedule(schedule_file.read_text(encoding="utf-8"), str(schedule_file))
    except OSError as error:
        console.print(f"无法读取 {schedule_file}：{error.strerror}", style="red")
        raise typer.Exit(1) from error
    except ScheduleError as error:
        for problem in error.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1) from error

    async def work(services: Services) -> None:
        async with unit_of_work(services, tenant=None, viewer=None, writes=True) as ctx:
            assert ctx.session is not None
            await replace_schedule(ctx.session, schedule, str(schedule_file))

    try:
        _run(settings, work, alone_as="calendar import")
    except ScheduleError as error:
        for problem in error.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1) from error
    off = sum(1 for working, _ in schedule.days.values() if not working)
    console.print(
        f"{schedule.year} 年节假日安排已导入：放假 {off} 天，调休上班 {len(schedule.days) - off} 天"
        f"（各服务进程在 30 秒内生效）。",
        soft_wrap=True,
    )


@calendar_app.command("list")
def calendar_list(year: int | None = typer.Option(None, help="Only the schedule of this year.")) -> None:
    """The platform's holiday table, day by day, and which years have no calendar at all."""
    import chinese_calendar

    settings = _settings()

    async def work(services: Services) -> tuple[Sequence[Row[date, int, bool, str]], OfficialCalendar]:
        days = OfficialCalendarDay
        # Plain rows, not instances: the unit of work ends (and expires what it loaded) before printing.
        query = select(days.day, days.schedule_year, days.is_working_day, days.name).order_by(days.day)
        if year is not None:
            query = query.where(days.schedule_year == year)
        async with unit_of_work(services, tenant=None, viewer=None, writes=False) as ctx:
            assert ctx.session is not None
            return (await ctx.session.execute(query)).all(), await load_official_calendar(ctx.session)

    rows, official = _run(settings, work)
    table = Table("日期", "星期", "安排", "节日", "所属年度")
    for row in rows:
        table.add_row(
            row.day.isoformat(),
            WEEKDAYS[row.day.weekday()],
            "调休上班" if row.is_working_day else "放假",
            row.name,
            str(row.schedule_year),
        )
    console.print(table)
    package_years = sorted({day.year for day in chinese_calendar.holidays})
    console.print(
        f"平台节假日表：{'、'.join(map(str, sorted(official.years))) or '无'}；"
        f"chinesecalendar 包：{package_years[0]}–{package_years[-1]}。"
    )
    _warn_of_missing_calendars(official)


@media_app.command("sweep")
def media_sweep(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would be removed."),
    grace_hours: int = typer.Option(
        24, "--grace-hours", min=1, help="Files younger than this are kept whatever names them (uploads in flight)."
    ),
) -> None:
    """Remove stored files that no row names: expired unclaimed uploads, and files left by a
    crash between writing a file and committing its row. Safe from cron."""
    from server.media_sweep import MediaSweepReport, sweep_media

    settings = _settings()

    async def work(services: Services) -> MediaSweepReport:
        return await sweep_media(
            services.sessions,
            services.storage,
            now=clock(),
            unclaimed_upload_hours=settings.unclaimed_upload_hours,
            grace=timedelta(hours=grace_hours),
            dry_run=dry_run,
        )

    report = _run(settings, work, alone_as="media sweep")
    if dry_run:
        for key in report.removed:
            console.print(key, highlight=False, soft_wrap=True)
    console.print(
        f"{'将删除' if dry_run else '已删除'}：过期未用的上传 {len(report.expired_uploads)} 个，"
        f"无记录引用的文件 {len(report.unreferenced)} 个；未满 {grace_hours} 小时而保留 {report.kept_for_grace} 个。",
        soft_wrap=True,
    )
    if report.unknown_folders:
        console.print(
            f"数据库中没有这些街道，其目录未处理：{'、'.join(report.unknown_folders)}", style="yellow", soft_wrap=True
        )


@documents_app.command("register")
def documents_register(
    files: list[Path] = typer.Argument(
        ..., help="A JSON map of sha256 to document, an Apollo persisted query manifest, or .graphql files."
    ),
) -> None:
    """Register a front-end build's operations by sha256: clients may send the hash alone, and
    with WANJIA_TRUSTED_DOCUMENTS_ONLY they are the only operations run. All or nothing."""
    from schema.build import build_schema
    from server.persisted_queries import DocumentsError, PersistedQueries, read_documents

    settings = _settings()
    try:
        documents = read_documents(files, build_schema()._schema)
    except DocumentsError as error:
        for problem in error.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1) from error

    async def work(services: Services) -> tuple[int, int]:
        return await PersistedQueries(services.engine, clock).register(documents)

    new, known = _run(settings, work)
    console.print(f"已登记 {len(documents)} 个文档：新增 {new}，已有 {known}。")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
