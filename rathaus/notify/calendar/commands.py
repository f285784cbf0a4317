"""`rathaus feeds export DIR`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from rathaus.notify.calendar.export import export_feeds


@click.group()
def feeds() -> None:
    """Calendar feeds."""


@feeds.command("export")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
def export(directory: Path) -> None:
    """Write every office's closure and opening-hours feeds (de, en) into DIRECTORY/<office>/."""
    from rathaus.app import build_services
    from rathaus.settings import Settings

    async def run() -> list[Path]:
        services = build_services(Settings.from_env())
        try:
            return await export_feeds(services, directory)
        finally:
            await services.dispose()

    changed = asyncio.run(run())
    click.echo(f"{len(changed)} feed file(s) written to {directory}")
