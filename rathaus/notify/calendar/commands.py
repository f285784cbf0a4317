"""`rathaus feeds export DIR`."""

from __future__ import annotations

from pathlib import Path

import click

from rathaus.notify.calendar.export import export_feeds
from rathaus.runtime import launcher


@click.group()
def feeds() -> None:
    """Calendar feeds."""


@feeds.command("export")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
def export(directory: Path) -> None:
    """Write every office's closure and opening-hours feeds (de, en) into DIRECTORY/<office>/."""
    changed = launcher().run(lambda runtime: export_feeds(runtime, directory))
    click.echo(f"{len(changed)} feed file(s) written to {directory}")
