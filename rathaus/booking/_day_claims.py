"""The claims of an office's day held in memory, and the cells a transaction claims and frees.

Whatever writes `slot_claim` rows reports each change with `note_claimed` / `note_freed` in the same session;
once that transaction commits, the availability cache moves its cached days by exactly those cells instead of
reading them again. A transaction that reported nothing for an office (or lost part of its work to a rolled back
savepoint) leaves the cache to forget that office's days, as before: the report is an optimisation, never needed
for correctness, and the database stays the judge of every claim.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from rathaus.offices.rules import OfficeRules

_NOTES_KEY = "rathaus_cell_changes"
_UNSURE_KEY = "rathaus_cell_changes_unsure"
# Cells after a day's last closing that its slots may still need (an appointment's buffer reaching past closing).
_TAIL = timedelta(hours=12)
_LOG_LENGTH = 2_000


@dataclass(frozen=True, slots=True)
class CellChange:
    """Cells of one counter that a committed transaction claimed (`claimed`) or freed."""

    counter_id: int
    cells: tuple[datetime, ...]
    claimed: bool


def note_claimed(session: AsyncSession, *, office_id: int, counter_id: int, cells: Iterable[datetime]) -> None:
    """Report cells this transaction claimed for an office (they are busy once it commits)."""
    _note(session, office_id, CellChange(counter_id, tuple(cells), claimed=True))


def note_freed(session: AsyncSession, *, office_id: int, counter_id: int, cells: Iterable[datetime]) -> None:
    """Report cells this transaction freed (deleted their claim rows; free once it commits)."""
    _note(session, office_id, CellChange(counter_id, tuple(cells), claimed=False))


def _note(session: AsyncSession, office_id: int, change: CellChange) -> None:
    notes: dict[int, list[CellChange]] = session.sync_session.info.setdefault(_NOTES_KEY, {})
    notes.setdefault(office_id, []).append(change)


def take_changes(session: AsyncSession, office_id: int) -> list[CellChange] | None:
    """The office's reported changes in order, once (later calls get []); None if they may be incomplete."""
    info = session.sync_session.info
    notes: dict[int, list[CellChange]] = info.get(_NOTES_KEY, {})
    if info.get(_UNSURE_KEY) or office_id not in notes:
        return None
    changes, notes[office_id] = notes[office_id], []
    return changes


@event.listens_for(Session, "after_soft_rollback")
def _savepoint_rolled_back(session: Session, previous: SessionTransaction) -> None:
    if previous.nested and session.info.get(_NOTES_KEY):
        session.info[_UNSURE_KEY] = True  # some reported cells may have been undone with the savepoint


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # after the commit hooks ran, or on rollback: nothing carries over
        session.info.pop(_NOTES_KEY, None)
        session.info.pop(_UNSURE_KEY, None)


@dataclass(frozen=True, slots=True)
class DayClaims:
    """The busy cells of every counter of an office in [start, end) around one local day: as the database showed
    them at `as_of`, moved by this instance's changes up to number `seq` of the office's change log."""

    start: datetime
    end: datetime
    busy: Mapping[int, frozenset[datetime]]
    as_of: datetime
    generation: tuple[int, int]
    seq: int

    def moved(self, changes: Iterable[CellChange], seq: int) -> DayClaims:
        """These claims after `changes` (in commit order); the same `busy` object if none falls inside."""
        busy: dict[int, frozenset[datetime]] | None = None
        for change in changes:
            inside = [cell for cell in change.cells if self.start <= cell < self.end]
            if not inside:
                continue
            busy = dict(self.busy) if busy is None else busy
            cells = busy.get(change.counter_id, frozenset())
            busy[change.counter_id] = cells.union(inside) if change.claimed else cells.difference(inside)
        return replace(self, seq=seq) if busy is None else replace(self, busy=busy, seq=seq)


def day_range(office: OfficeRules, day: date) -> tuple[datetime, datetime] | None:
    """The cells a day's slots are computed from, or None if the office is closed that day."""
    intervals = office.open_intervals(day)
    return (intervals[0][0], intervals[-1][1] + _TAIL) if intervals else None


@dataclass
class ChangeLog:
    """One office's changes seen on this instance: `generation` counts changes not known cell by cell (they void
    its cached days), `seq` numbers the ones that are (the last `_LOG_LENGTH` of them are kept)."""

    generation: int = 0
    seq: int = 0
    changes: deque[tuple[int, CellChange]] = field(default_factory=lambda: deque(maxlen=_LOG_LENGTH))

    def record(self, changes: Iterable[CellChange]) -> None:
        for change in changes:
            self.seq += 1
            self.changes.append((self.seq, change))

    def since(self, seq: int) -> list[CellChange] | None:
        """The changes after number `seq`, or None if the log no longer reaches back that far."""
        if seq == self.seq:
            return []
        if not self.changes or self.changes[0][0] > seq + 1:
            return None
        return [change for number, change in self.changes if number > seq]


def spread(
    rows: Iterable[Any], office: OfficeRules, ranges: Mapping[date, tuple[datetime, datetime]]
) -> dict[date, dict[int, set[datetime]]]:
    """(counter, cell) rows sorted into the days whose range holds the cell (its own local day or the one before,
    whose range reaches past midnight by `_TAIL`)."""
    found: dict[date, dict[int, set[datetime]]] = {day: {} for day in ranges}
    for counter_id, cell in rows:
        local = office.local_day(cell)
        for day in (local, local - timedelta(days=1)):
            span = ranges.get(day)
            if span is not None and span[0] <= cell < span[1]:
                found[day].setdefault(counter_id, set()).add(cell)
    return found
