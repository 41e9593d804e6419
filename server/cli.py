"""The `wanjia` command: serve, migrate, onboard tenants, load the demo, export the schema."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.engine import make_url

from models import migrations
from models.database import create_engine, is_postgresql
from models.passwords import Passwords
from models.settings import Settings, load_settings
from models.tenants import Tenant, TenantStatus
from schema.build import SDL_PATH, printed_sdl
from server.app import create_app
from server.jobs import run_jobs
from server.observability import configure_logging
from tenants.demo import load_demo
from tenants.manifests import ManifestError, load_manifest
from tenants.onboarding import onboard
from tenants.sessions import session_factory

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
app.add_typer(jobs_app, name="jobs")
console = Console()
T = TypeVar("T")


def _settings() -> Settings:
    try:
        return load_settings()
    except ValueError as error:
        console.print(f"[red]配置错误：{error}[/red]")
        raise typer.Exit(2) from error


def _with_database(settings: Settings, work: Callable[..., Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(settings.database_url, pool_size=2)
        try:
            return await work(
                session_factory(engine),
                Passwords.from_settings(settings),
            )
        finally:
            await engine.dispose()

    return asyncio.run(run())


def app_role(settings: Settings) -> str | None:
    """The role to grant table access to, when the app connects as another role than migrations."""
    if not is_postgresql(settings.database_url):
        return None
    app_user = make_url(settings.database_url).username
    return app_user if app_user != make_url(settings.migration_url).username else None


@app.command()
def migrate(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Bring the database schema up to date (the only way any schema is created)."""
    settings = _settings()
    migrations.upgrade(settings.migration_url, revision, app_role=app_role(settings))
    console.print(f"数据库已迁移到 {revision}。")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Worker processes."),
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
        log_config=None,
        access_log=False,
    )


@app.command()
def demo(if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing if any tenant exists already.")) -> None:
    """Onboard the demo street offices with residents and an account for every role."""
    settings = _settings()

    async def work(sessions, passwords) -> list[str]:  # type: ignore[no-untyped-def]
        if if_empty:
            async with sessions() as session:
                if await session.scalar(select(Tenant.id).limit(1)) is not None:
                    return []
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("载入演示数据", total=None)
            return await load_demo(sessions, passwords, lambda n: progress.advance(task, n))

    slugs = _with_database(settings, work)
    console.print(f"演示数据已就绪：{', '.join(slugs)}" if slugs else "已有数据，跳过演示数据。")


@tenants_app.command("onboard")
def tenants_onboard(manifest_file: Path = typer.Argument(..., help="The tenant's TOML manifest.")) -> None:
    """Create or update a street office from its manifest, in one transaction."""
    settings = _settings()
    try:
        manifest = load_manifest(manifest_file)
    except ManifestError as error:
        for problem in error.problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1) from error

    async def work(sessions, passwords):  # type: ignore[no-untyped-def]
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"导入 {manifest.name}", total=manifest.size() + 1)
            return await onboard(sessions, manifest, passwords, lambda n: progress.advance(task, n))

    report = _with_database(settings, work)
    console.print(
        f"{manifest.name}（{manifest.slug}）：新建 {report.created}，更新 {report.updated}，未变 {report.unchanged}。"
    )


def _set_status(slug: str, status: TenantStatus) -> None:
    settings = _settings()

    async def work(sessions, _passwords) -> bool:  # type: ignore[no-untyped-def]
        async with sessions() as session, session.begin():
            tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
            if tenant is None:
                return False
            tenant.status = status
            return True

    if not _with_database(settings, work):
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
    """List the street offices with their status."""
    settings = _settings()

    async def work(sessions, _passwords):  # type: ignore[no-untyped-def]
        async with sessions() as session:
            return (await session.execute(select(Tenant.slug, Tenant.name, Tenant.status).order_by(Tenant.slug))).all()

    table = Table("slug", "name", "status")
    for row in _with_database(settings, work):
        table.add_row(row.slug, row.name, row.status.value)
    console.print(table)


@jobs_app.command("run")
def jobs_run() -> None:
    """Sweep every street office once: flag overdue complaints (once), close unconfirmed ones."""
    settings = _settings()

    async def work() -> None:
        app = create_app(settings)
        try:
            reports = await run_jobs(app.state.services)
        finally:
            await app.state.engine.dispose()
        for slug, report in sorted(reports.items()):
            console.print(
                f"{slug}：诉求超期 {report.complaints.marked_overdue}，自动关闭 {report.complaints.closed}，"
                f"预约超时未审核 {report.bookings_overdue}，预约超时未联系 {report.appointments_overdue}"
            )

    asyncio.run(work())


@schema_app.command("export")
def schema_export(
    output: Path = typer.Option(SDL_PATH, help="Where to write the SDL."),
    check: bool = typer.Option(False, "--check", help="Only check that the file is current; exit 1 if not."),
) -> None:
    """Print the schema's SDL to schema/schema.graphql (the contract front ends review)."""
    sdl = printed_sdl()
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else ""
        if current != sdl:
            console.print(f"{output} 已过期：请运行 wanjia schema export。")
            raise typer.Exit(1)
        return
    output.write_text(sdl, encoding="utf-8")
    console.print(f"已写入 {output}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
