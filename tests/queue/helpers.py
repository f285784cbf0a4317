"""A small office for queue tests: two counters, three services, opening 08:00-12:00 (Europe/Berlin)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from rathaus.offices.config import Config
from tests.conftest import Harness
from tests.factories import booking_body, make_config
from tests.staff_helpers import staff_token

# Monday 2027-01-11, 08:00 in Berlin (+01:00): the office has just opened.
OPENING = datetime(2027, 1, 11, 7, 0, tzinfo=UTC)
SERVICES = [
    {"slug": "a", "name": {"de": "Dienst A", "en": "Service A"}, "duration_minutes": 15},
    {"slug": "b", "name": {"de": "Dienst B", "en": "Service B"}, "duration_minutes": 30},
    {"slug": "c", "name": {"de": "Nur mit Termin", "en": "By appointment"}, "duration_minutes": 15, "walk_ins": False},
]


def queue_config(**office: Any) -> Config:
    counters = office.pop("counters", None) or [
        {"name": "Schalter 1", "services": ["a", "b", "c"]},
        {"name": "Schalter 2", "services": ["a"]},
    ]
    return make_config(services=SERVICES, counters=counters, **office)


def two_offices() -> Config:
    """The queue office "amt" and a copy of it, "zwei"."""
    raw = msgspec.to_builtins(queue_config())
    raw["offices"].append({**raw["offices"][0], "slug": "zwei", "name": {"de": "Zweitamt", "en": "Second office"}})
    return msgspec.convert(raw, Config)


class Desk:
    """The front desk of office "amt" through the HTTP API, as a logged-in clerk."""

    def __init__(self, harness: Harness, token: str) -> None:
        self.harness = harness
        self.headers = {"Authorization": f"Bearer {token}"}

    @classmethod
    async def open(cls, harness: Harness, config: Config | None = None, *, username: str = "desk") -> Desk:
        harness.clock.set(OPENING)
        await harness.load(config or queue_config())
        return cls(harness, await staff_token(harness, username, role="desk"))

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return await self.harness.client.post(path, json=body or {}, headers=self.headers)

    async def walk_in(self, *services: str, **extra: Any) -> Any:
        return await self.post("/api/v1/offices/amt/queue/walk-ins", {"services": list(services or ["a"]), **extra})

    async def check_in(self, code: str) -> Any:
        return await self.post("/api/v1/offices/amt/queue/check-in", {"code": code})

    async def call_next(self, counter: str = "Schalter 1") -> Any:
        return await self.post("/api/v1/offices/amt/queue/call-next", {"counter": counter})

    async def ticket_action(self, ticket_id: int, action: str, body: dict[str, Any] | None = None) -> Any:
        return await self.post(f"/api/v1/tickets/{ticket_id}/{action}", body)

    async def queue(self) -> Any:
        answer = await self.harness.client.get("/api/v1/offices/amt/queue", headers=self.headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def book(self, start: str, *, services: list[str] | None = None, **extra: Any) -> str:
        """Book an appointment (as a citizen would, at an earlier time) and return its code."""
        now = self.harness.clock.now()
        self.harness.clock.set(datetime(2027, 1, 4, 12, 0, tzinfo=UTC))
        try:
            answer = await self.harness.client.post(
                "/api/v1/bookings", json=booking_body(start, services=services, **extra)
            )
        finally:
            self.harness.clock.set(now)
        assert answer.status_code == 201, answer.text
        code: str = answer.json()["code"]
        return code
