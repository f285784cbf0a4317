"""Writing every office's feeds to a directory that a city web server or CDN serves as static files."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from rathaus import i18n
from rathaus.notify.calendar import service
from rathaus.offices.catalog import Catalog
from rathaus.runtime import Runtime


def file_name(kind: str, language: str) -> str:
    """closures.ics, closures.en.ics, hours.ics, …, hours.jsonld, embed.html (the default language unmarked)."""
    _, stem, extension = service.RENDERINGS[kind]
    return f"{stem}.{extension}" if language == i18n.DEFAULT_LANGUAGE else f"{stem}.{language}.{extension}"


def write_if_changed(path: Path, data: bytes) -> bool:
    """Replace `path` atomically with `data` unless it already holds exactly that; True if written."""
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as output:
            output.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)  # readers see the old file or the new one, never half of one
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


async def export_feeds(runtime: Runtime, directory: Path, *, cache: service.FeedCache | None = None) -> list[Path]:
    """Write the feeds of every office under `directory`/<office>/; returns the files that changed."""
    now = runtime.clock.now()
    cache = cache or service.FeedCache()
    async with runtime.read_session_maker() as session:
        snapshot = await runtime.get(Catalog).get(session, now=now)
    changed = []
    for slug in sorted(snapshot.offices):
        for kind in service.RENDERINGS:
            for language in i18n.languages():
                rendered = await service.feed(
                    runtime.read_session_maker,
                    catalog=runtime.get(Catalog),
                    cache=cache,
                    office_slug=slug,
                    kind=kind,
                    language=language,
                    public_base_url=runtime.settings.public_base_url,
                    now=now,
                )
                path = directory / slug / file_name(kind, language)
                if write_if_changed(path, rendered.body):
                    changed.append(path)
    return changed
