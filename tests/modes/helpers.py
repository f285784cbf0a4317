"""An office offering advice on site, by phone and by video, with a counter per kind of capacity."""

from __future__ import annotations

from typing import Any

from rathaus.offices.config import Config
from tests.factories import make_config

VIDEO_TEMPLATE = "https://meet.stadt.example/rathaus-{room}"
START = "2027-01-12T09:00:00+01:00"  # Tuesday; the clock stands at Monday 07:00 Berlin
SERVICES = [
    {"slug": "a", "name": {"de": "Ausweis", "en": "ID card"}, "duration_minutes": 15},
    {
        "slug": "b",
        "name": {"de": "Beratung", "en": "Advice"},
        "duration_minutes": 30,
        "modes": ["on_site", "phone", "video"],
    },
]
# Capacity per mode at one time: on site 1 (the counter), video 2 (the video desk and the caseworker), phone 1.
COUNTERS = [
    {"name": "Schalter 1", "services": ["a", "b"]},
    {"name": "Videoplatz", "services": ["b"], "modes": ["video"]},
    {"name": "Sachbearbeitung", "services": ["b"], "modes": ["phone", "video"]},
]


def modes_config(**office: Any) -> Config:
    """Office "amt": service a only on site, advice b on site, by phone and by video."""
    return make_config(services=SERVICES, counters=COUNTERS, **office)
