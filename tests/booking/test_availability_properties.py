"""Property-based tests of the availability engine against a brute-force reading of the rules."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rathaus.booking.availability import free_slots, within_booking_window
from rathaus.localized import Localized
from rathaus.offices.rules import ClosureRule, OfficeRules, Window, day_bounds

ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
# Days with a clock change in one of the zones, and ordinary ones.
DAYS = [date(2027, 3, 28), date(2027, 10, 31), date(2027, 3, 14), date(2027, 4, 4), date(2027, 1, 11), date(2027, 6, 2)]


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, object]:
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    step = draw(st.sampled_from([5, 10, 15, 30]))
    day = draw(st.sampled_from(DAYS))
    windows = []
    for _ in range(draw(st.integers(0, 3))):
        opens = draw(st.integers(0, 1440 // step - 2)) * step
        closes = min(opens + draw(st.integers(1, 600 // step)) * step, 1440 - step)
        if opens < closes:
            windows.append(Window(time(opens // 60, opens % 60), time(closes // 60, closes % 60)))
    start_of_day, end_of_day = day_bounds(day, zone)
    minutes = st.integers(0, int((end_of_day - start_of_day).total_seconds() // 60))
    closures = []
    for i in range(draw(st.integers(0, 3))):
        a, b = sorted((draw(minutes), draw(minutes)))
        if a < b:
            closures.append(
                ClosureRule(
                    i,
                    start_of_day + timedelta(minutes=a),
                    start_of_day + timedelta(minutes=b),
                    False,
                    Localized(de="x"),
                    True,
                )
            )
    counters = list(range(1, draw(st.integers(1, 3)) + 1))
    busy = {
        c: {
            start_of_day + timedelta(minutes=draw(st.integers(0, 1440 // step)) * step)
            for _ in range(draw(st.integers(0, 12)))
        }
        for c in counters
    }
    rules = OfficeRules(
        id=1,
        slug="x",
        name=Localized(de="x"),
        tz=zone,
        slot=timedelta(minutes=step),
        lead=timedelta(minutes=draw(st.integers(0, 240))),
        horizon=timedelta(days=30),
        buffer=timedelta(0),
        walk_in_cutoff=None,
        verification="off",
        hold=timedelta(minutes=15),
        weekly={day.weekday(): windows},
        special={},
        closures=tuple(closures),
        counters=(),
    )
    return {
        "rules": rules,
        "day": day,
        "length": timedelta(minutes=draw(st.integers(1, 120))),
        "buffer": timedelta(minutes=draw(st.sampled_from([0, 0, 5, 10]))),
        "counters": counters,
        "busy": busy,
        "now": start_of_day + timedelta(minutes=draw(minutes)),
    }


def compute(s: dict[str, object]) -> list[datetime]:
    rules = s["rules"]
    assert isinstance(rules, OfficeRules)
    intervals = rules.open_intervals(s["day"])  # type: ignore[arg-type]
    found = free_slots(
        open_intervals=intervals,
        closures=rules.closures,
        step=rules.slot,
        length=s["length"],  # type: ignore[arg-type]
        claim_span=s["length"] + s["buffer"],  # type: ignore[operator]
        counters=s["counters"],  # type: ignore[arg-type]
        busy=s["busy"],  # type: ignore[arg-type]
    )
    now = s["now"]
    return [x.start for x in within_booking_window(found, earliest=now + rules.lead, latest=now + rules.horizon)]  # type: ignore[operator]


def brute_force(s: dict[str, object]) -> list[datetime]:
    """Every minute of the day, judged by the rules' definitions one by one."""
    rules: OfficeRules = s["rules"]  # type: ignore[assignment]
    day: date = s["day"]  # type: ignore[assignment]
    length: timedelta = s["length"]  # type: ignore[assignment]
    step = rules.slot
    span = -(-(length + s["buffer"]) // step) * step  # type: ignore[operator]
    earliest = s["now"] + rules.lead  # type: ignore[operator]
    start_of_day, end_of_day = day_bounds(day, rules.tz)
    intervals = rules.open_intervals(day)
    result = []
    t = start_of_day
    while t < end_of_day:
        inside = [(o, c) for o, c in intervals if o <= t and t + length <= c]
        on_grid = any((t - o) % step == timedelta(0) for o, _ in inside)
        closed = any(c.start < t + length and t < c.end for c in rules.closures)
        free = any(
            not any(cell < t + span and t < cell + step for cell in s["busy"][counter])  # type: ignore[index]
            for counter in s["counters"]  # type: ignore[attr-defined]
        )
        if on_grid and not closed and free and t >= earliest:
            result.append(t)
        t += timedelta(minutes=1)
    return result


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_slots_are_exactly_what_the_rules_allow(s: dict[str, object]) -> None:
    assert compute(s) == brute_force(s)


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_no_slot_breaks_a_rule(s: dict[str, object]) -> None:
    rules: OfficeRules = s["rules"]  # type: ignore[assignment]
    length: timedelta = s["length"]  # type: ignore[assignment]
    intervals = rules.open_intervals(s["day"])  # type: ignore[arg-type]
    starts = compute(s)
    assert starts == sorted(set(starts)), "slots are unique and ordered"
    for start in starts:
        end = start + length
        assert start.tzinfo is UTC or start.utcoffset() == timedelta(0)
        assert any(o <= start and end <= c for o, c in intervals), "inside the hours, ending by closing time"
        assert not any(c.start < end and start < c.end for c in rules.closures), "outside every closure"
        assert start >= s["now"] + rules.lead, "not inside the lead time"  # type: ignore[operator]
        claimed = [start + rules.slot * i for i in range(-(-(length + s["buffer"]) // rules.slot))]  # type: ignore[operator]
        assert any(
            not set(claimed) & s["busy"][counter]  # type: ignore[index]
            for counter in s["counters"]  # type: ignore[attr-defined]
        ), "free on at least one able counter"
        local = start.astimezone(rules.tz)
        assert local.replace(tzinfo=None) - datetime.combine(local.date(), time()) >= timedelta(0)
