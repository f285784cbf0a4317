"""What the catalogue announces to the packages above it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rathaus.events import DomainEvent
from rathaus.localized import Localized


@dataclass(frozen=True, slots=True, kw_only=True)
class ClosureDeclared(DomainEvent):
    """An office is closed for [start, end); bookings inside must give way."""

    office_id: int
    closure_id: int
    start: datetime
    end: datetime
    reason: Localized
