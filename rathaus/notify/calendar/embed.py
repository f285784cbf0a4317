"""What a city website embeds: schema.org JSON-LD of the opening hours and a small accessible HTML snippet."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

from babel.dates import get_day_names

from rathaus import i18n, templating
from rathaus.offices.rules import OfficeRules
from rathaus.offices.schema_org import exceptions, json_ld


def json_ld_bytes(office: OfficeRules, *, today: date, language: str, url: str) -> bytes:
    """The JSON-LD document as bytes (sorted keys: the same catalog gives the same bytes)."""
    return json.dumps(
        json_ld(office, today=today, language=language, url=url), ensure_ascii=False, sort_keys=True, indent=1
    ).encode()


def html_snippet(office: OfficeRules, *, today: date, language: str, url: str, cutoff: timedelta) -> bytes:
    """An HTML fragment: weekly hours with walk-in cut-offs, the coming exceptions, and the JSON-LD."""
    language = i18n.choose(language)
    day_names = get_day_names("wide", locale=i18n.babel_locale(language))
    names = [day_names[weekday] for weekday in range(7)]
    weekly = [
        (names[weekday], [(f"{w.opens:%H:%M}", f"{w.closes:%H:%M}", _until(w.closes, cutoff)) for w in windows])
        for weekday, windows in sorted(office.weekly.items())
    ]
    html = templating.render(
        "calendar/embed.html.j2",
        language,
        slug=office.slug,
        office=office.name.get(language),
        address=str(office.extra.get("address", "")),
        weekly=weekly,
        exceptions=exceptions(office, today=today, language=language)[:20],
        day_names=names,
        json_ld=json.dumps(
            json_ld(office, today=today, language=language, url=url), ensure_ascii=False, sort_keys=True
        ).replace("<", "\\u003c"),
        url=url,
    )
    return html.encode()


def _until(closes: Any, cutoff: timedelta) -> str:
    moment = datetime.combine(date(2000, 1, 1), closes) - cutoff
    return f"{moment:%H:%M}"
