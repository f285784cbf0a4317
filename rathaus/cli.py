"""The `rathaus` command."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import click
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus import migrate
from rathaus.booking._load import LoadReport, load_config
from rathaus.booking.config import ConfigError, read_config
from rathaus.booking.models import Office
from rathaus.errors import RathausError
from rathaus.jobs import run_unit
from rathaus.settings import Settings, SettingsError
from rathaus.staff import service as staff
from rathaus.web import Services

DEMO = Path(__file__).parent / "demo" / "buergeramt.toml"
T = TypeVar("T")


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def _with_services(work: Callable[[Services], Awaitable[T]]) -> T:
    """Run `work` with the app's services, disposing the engine afterwards."""
    from rathaus.app import build_services

    async def run() -> T:
        services = build_services(_settings())
        try:
            return await work(services)
        finally:
            await services.dispose()

    return asyncio.run(run())


async def _load(services: Services, path: Path) -> LoadReport:
    config = read_config(path)
    now = services.clock.now()

    async def apply(session: AsyncSession) -> LoadReport:
        return await load_config(session, ctx=services.booking, config=config, now=now)

    report = await run_unit(services, apply)
    assert isinstance(report, LoadReport)
    return report


async def _prepare(services: Services, *, demo: bool) -> str:
    """Migrate, and load the demo data into a database that has no office yet."""
    await migrate.upgrade(services.engine)
    if not demo:
        return "migrated"
    async with services.session_maker() as session:
        offices = await session.scalar(select(func.count()).select_from(Office))
    if offices:
        return "migrated; offices exist, demo not loaded"
    report = await _load(services, DEMO)
    return f"migrated; demo loaded ({report.summary()})"


@click.group()
def main() -> None:
    """rathaus: appointments and walk-in queues for citizen-service offices."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--demo/--no-demo", default=None, help="Load the demo office into an empty database [RATHAUS_LOAD_DEMO].")
def serve(host: str, port: int, workers: int, demo: bool | None) -> None:
    """Apply migrations, load the demo into an empty database, and serve."""
    import uvicorn

    settings = _settings()
    message = _with_services(lambda s: _prepare(s, demo=settings.load_demo if demo is None else demo))
    click.echo(f"rathaus: {message}; serving on http://{host}:{port} (API docs at /schema)")
    # No access log: request lines carry booking codes and ?token= secrets.
    uvicorn.run(
        "rathaus.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
        # Boards and ticket pages hold event streams open; they reconnect to another instance by themselves.
        timeout_graceful_shutdown=5,
    )


def _add_package_commands() -> None:
    from rathaus.app import PACKAGES

    for package in PACKAGES:
        for command in package.commands:
            main.add_command(command)


@main.group()
def db() -> None:
    """Database migrations."""


@db.command()
def upgrade() -> None:
    """Apply all migrations."""
    _with_services(lambda s: migrate.upgrade(s.engine))
    click.echo("database is up to date")


@db.command()
def check() -> None:
    """Compare the models with the migrated database (exit 1 on a difference)."""
    differences = _with_services(lambda s: migrate.pending_differences(s.engine))
    for difference in differences:
        click.echo(repr(difference))
    if differences:
        sys.exit(1)
    click.echo("models and migrations agree")


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def load(file: Path) -> None:
    """Create or update offices, services, bundles, counters, hours and closures from a TOML file."""
    try:
        report = _with_services(lambda s: _load(s, file))
    except ConfigError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"{len(error.problems)} problem(s); nothing was changed") from None
    click.echo(report.summary())


@main.group()
def users() -> None:
    """Staff accounts."""


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(staff.ROLES), required=True)
@click.option("--office", "offices", multiple=True, required=True, help="Office slug (repeatable).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user(username: str, role: str, offices: tuple[str, ...], password_stdin: bool) -> None:
    """Create a staff account (or reset its password, role and offices)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def work(services: Services) -> object:
        now = services.clock.now()
        return await run_unit(
            services,
            lambda s: staff.create_user(
                s, username=username, password=password, role=role, office_slugs=list(offices), now=now
            ),
        )

    try:
        _with_services(work)
    except RathausError as error:
        raise click.ClickException(error.message("en")) from None
    click.echo(f"staff user {username} ({role}) saved")


_add_package_commands()
