"""Configurations for tests, built in code: small, explicit and independent of the demo file."""

from __future__ import annotations

from typing import Any

import msgspec

from rathaus.offices.config import Config, check


def make_config(
    *,
    counters: list[dict[str, Any]] | None = None,
    hours: dict[str, list[str]] | None = None,
    services: list[dict[str, Any]] | None = None,
    **office: Any,
) -> Config:
    """One office "amt" (Europe/Berlin, 15-minute slots, no lead time) with services a (15 min) and b (30 min)."""
    raw: dict[str, Any] = {
        "services": services
        or [
            {"slug": "a", "name": {"de": "Dienst A", "en": "Service A"}, "duration_minutes": 15},
            {"slug": "b", "name": {"de": "Dienst B", "en": "Service B"}, "duration_minutes": 30},
        ],
        "bundles": [],
        "offices": [
            {
                "slug": "amt",
                "name": {"de": "Testamt", "en": "Test office"},
                "timezone": "Europe/Berlin",
                "slot_minutes": 15,
                "lead_time_minutes": 0,
                "horizon_days": 60,
                "hours": hours or {d: ["08:00-12:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
                "counters": counters or [{"name": "Counter 1", "services": ["a", "b"]}],
                **office,
            }
        ],
    }
    config = msgspec.convert(raw, Config)
    problems = check(config)
    assert not problems, problems
    return config


def booking_body(start: str, *, services: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """A valid booking request for office "amt"."""
    body: dict[str, Any] = {
        "office": "amt",
        "services": services or ["a"],
        "start": start,
        "name": "Erika Mustermann",
        "email": "erika@example.org",
    }
    body.update(extra)
    return body
