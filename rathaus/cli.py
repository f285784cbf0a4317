"""The `rathaus` command."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus import migrate
from rathaus.booking import service as bookings
from rathaus.errors import RathausError
from rathaus.jobs import run_unit
from rathaus.offices import service as offices_service
from rathaus.offices.config import ConfigError, read_config
from rathaus.packages import WIRINGS
from rathaus.runtime import Launcher, Runtime, launcher
from rathaus.staff import service as staff

DEMO = Path(__file__).parent / "demo" / "buergeramt.toml"
# The staff account the demo creates (never in production): printed when the demo is loaded.
DEMO_STAFF = ("demo", "rathaus-demo-staff")


async def _load(runtime: Runtime, path: Path) -> str:
    """Apply a configuration file in one transaction; the operator's summary line."""
    config = read_config(path)
    now = runtime.clock.now()
    catalog = runtime.get(offices_service.Catalog)

    async def apply(session: AsyncSession) -> str:
        report = await offices_service.load_config(session, catalog=catalog, config=config, now=now)
        cancelled = await bookings.cancelled_by_closures(session, closure_ids=report.new_closures)
        return report.summary(len(cancelled))

    summary: str = await run_unit(runtime, apply)
    return summary


async def _prepare(runtime: Runtime, *, demo: bool) -> str:
    """Migrate, and load the demo data into a database that has no office yet."""
    await migrate.upgrade(runtime.engine)
    if not demo:
        return "migrated"
    async with runtime.session_maker() as session:
        existing = await offices_service.office_count(session)
    if existing:
        return "migrated; offices exist, demo not loaded"
    loaded = await _load(runtime, DEMO)
    if runtime.settings.is_production:
        return f"migrated; demo loaded ({loaded})"
    username, password = DEMO_STAFF
    slugs = [office.slug for office in read_config(DEMO).offices]
    now = runtime.clock.now()

    async def create(session: AsyncSession) -> object:
        office_ids = await offices_service.office_ids(session, slugs=slugs)
        return await staff.create_user(
            session, username=username, password=password, role="admin", office_ids=office_ids, now=now
        )

    await run_unit(runtime, create)
    return f"migrated; demo loaded ({loaded}); staff pages at /staff, user {username!r}, password {password!r}"


@click.group()
@click.pass_context
def main(context: click.Context) -> None:
    """rathaus: appointments and walk-in queues for citizen-service offices."""
    context.obj = Launcher(WIRINGS)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int)
@click.option("--demo/--no-demo", default=None, help="Load the demo office into an empty database [RATHAUS_LOAD_DEMO].")
def serve(host: str, port: int, workers: int, demo: bool | None) -> None:
    """Apply migrations, load the demo into an empty database, and serve."""
    from rathaus import serving

    start = launcher()
    settings = start.settings()
    if workers > 1 and settings.is_sqlite:
        # Each worker is an instance of its own, and only PostgreSQL carries queue changes between instances.
        raise click.UsageError(
            "--workers above 1 needs PostgreSQL: on SQLite each worker's boards and ticket pages would show only "
            "the changes made through that worker"
        )
    message = start.run(lambda runtime: _prepare(runtime, demo=settings.load_demo if demo is None else demo), settings)
    click.echo(f"rathaus: {message}; serving on http://{host}:{port} (API docs at /schema)")
    serving.serve(host=host, port=port, workers=workers, grace_seconds=settings.shutdown_grace_seconds)


def _add_package_commands() -> None:
    for package in WIRINGS:
        for command in package.commands:
            main.add_command(command)


@main.group()
def db() -> None:
    """Database migrations."""


@db.command()
def upgrade() -> None:
    """Apply all migrations."""
    launcher().run(lambda runtime: migrate.upgrade(runtime.engine))
    click.echo("database is up to date")


@db.command()
def check() -> None:
    """Compare the models with the migrated database (exit 1 on a difference)."""
    differences = launcher().run(lambda runtime: migrate.pending_differences(runtime.engine))
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
        summary = launcher().run(lambda runtime: _load(runtime, file))
    except ConfigError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"{len(error.problems)} problem(s); nothing was changed") from None
    click.echo(summary)


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

    async def create(session: AsyncSession, now: datetime) -> object:
        office_ids = await offices_service.office_ids(session, slugs=list(offices))
        return await staff.create_user(
            session, username=username, password=password, role=role, office_ids=office_ids, now=now
        )

    try:
        launcher().run(lambda runtime: run_unit(runtime, lambda session: create(session, runtime.clock.now())))
    except RathausError as error:
        raise click.ClickException(error.message("en")) from None
    click.echo(f"staff user {username} ({role}) saved")


_add_package_commands()
