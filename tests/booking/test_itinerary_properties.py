"""Itinerary proposals against a brute-force search over every choice of slots, on small cases."""

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from rathaus.booking.itinerary import Part, Proposal, StepOptions, propose, valid

BERLIN = ZoneInfo("Europe/Berlin")
OFFICES = ["a", "b", "c"]
MONDAY = datetime(2027, 1, 11, 7, 0, tzinfo=UTC)  # 08:00 in Berlin


def local_day(_office: str, instant: datetime) -> date:
    return instant.astimezone(BERLIN).date()


@st.composite
def cases(draw: st.DrawFn) -> dict[str, object]:
    minutes = {pair: draw(st.integers(0, 90)) for pair in itertools.permutations(OFFICES, 2)}
    steps = []
    for i in range(draw(st.integers(1, 3))):
        key = f"s{i}"
        after = frozenset(draw(st.sets(st.sampled_from([f"s{j}" for j in range(i)]))) if i else frozenset())
        offices = draw(st.lists(st.sampled_from(OFFICES), min_size=1, max_size=2, unique=True))
        length = timedelta(minutes=draw(st.sampled_from([15, 30, 45])))
        slots = {}
        for office in offices:
            # Slot starts on a quarter-hour grid from 08:00 over three days, some of them overnight-free.
            quarters = draw(st.sets(st.integers(0, 3 * 96 - 1), max_size=5))
            starts = sorted(MONDAY + timedelta(minutes=15 * q) for q in quarters)
            slots[office] = [(start, start + length) for start in starts]
        steps.append(StepOptions(key, after, slots))
    return {"steps": steps, "minutes": minutes, "max_days": draw(st.integers(1, 3))}


def brute_force(steps: list[StepOptions], travel: object, max_days: int) -> list[Proposal]:
    choices = [[(step.key, office, slot) for office, slots in step.slots.items() for slot in slots] for step in steps]
    best: dict[date, Proposal] = {}
    for pick in itertools.product(*choices):
        parts = sorted((Part(key, office, start, end) for key, office, (start, end) in pick), key=lambda p: p.start)
        if not valid(parts, steps, travel=travel, local_day=local_day, max_days=max_days):  # type: ignore[arg-type]
            continue
        first, last = local_day("", parts[0].start), local_day("", parts[-1].start)
        proposal = Proposal(first, (last - first).days + 1, tuple(parts))
        if first not in best or proposal.key() < best[first].key():
            best[first] = proposal
    return [best[day] for day in sorted(best)]


@settings(max_examples=300, deadline=None)
@given(cases())
def test_proposals_are_the_best_valid_itinerary_of_each_day(case: dict[str, object]) -> None:
    steps: list[StepOptions] = case["steps"]  # type: ignore[assignment]
    minutes: dict[tuple[str, str], int] = case["minutes"]  # type: ignore[assignment]
    max_days: int = case["max_days"]  # type: ignore[assignment]

    def travel(origin: str, target: str) -> timedelta:
        return timedelta() if origin == target else timedelta(minutes=minutes[origin, target])

    proposals = propose(steps, travel=travel, local_day=local_day, max_days=max_days, limit=100)

    assert proposals == brute_force(steps, travel, max_days)
    for proposal in proposals:
        # Travel time between offices, the order of the steps and the span hold in every proposal.
        assert valid(proposal.parts, steps, travel=travel, local_day=local_day, max_days=max_days)
        for before, after in itertools.pairwise(proposal.parts):
            assert after.start >= before.end + travel(before.office, after.office)


def test_one_day_is_preferred_and_travel_decides_the_order() -> None:
    day = MONDAY
    at = [day + timedelta(minutes=m) for m in range(0, 600, 15)]
    register = StepOptions("register", frozenset(), {"mitte": [(t, t + timedelta(minutes=15)) for t in at[:4]]})
    car = StepOptions("car", frozenset({"register"}), {"kfz": [(t, t + timedelta(minutes=20)) for t in at[:6]]})

    def travel(origin: str, target: str) -> timedelta:
        return timedelta(minutes=30) if origin != target else timedelta()

    [proposal] = propose([car, register], travel=travel, local_day=local_day, max_days=1, limit=5)

    assert [(p.step, p.office, p.start) for p in proposal.parts] == [
        ("register", "mitte", at[0]),
        ("car", "kfz", at[3]),  # 08:15 end + 30 minutes' travel = 08:45
    ]
    assert proposal.days == 1
