"""How long the slot engine takes for a busy office: run by hand, ``python bench/slots.py``.

The office: one 30-minute service offered by 20 clerks, Monday to Friday 08:00-12:00 and
13:00-16:00 (Europe/Berlin) for 8 weeks from 2 March 2026, which takes in the spring clock
change and the Easter holidays of NRW. Every clerk has a few days of leave and some hours of
other duties, and half of the remaining slots are booked (random.Random(42), so every run
sees the same office). Each scope gets the absences and bookings its database query would
load (visits/booking/availability.py), and is timed 200 times. Target: whole horizon p95 <= 20 ms.

The composite case: a family books three 30-minute services (3, 4 and 5, which every clerk
offers in the same hours) for two persons each, a 3-hour appointment, in the same office
with half of its single slots booked (visits/booking/combination.py gives the rules). Here
the 20 clerks work at three locations (7, 7 and 6 clerks; their weekly hours name the
location), and the family is on site: listed at any location (each slot naming its
location) and at one chosen location.
"""

from __future__ import annotations

import importlib.util
import random
import statistics
import sys
import time as clock
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _load_slot_engine():
    """visits/booking/slots.py by file path: the engine is pure, and the benchmark must not depend
    on Flask or on the app package being importable at the moment."""
    spec = importlib.util.spec_from_file_location(
        "_visits_slots_bench", ROOT / "visits" / "booking" / "slots.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def _load_combination():
    """visits/booking/combination.py by file path, for the same reason (it needs no import of slots)."""
    spec = importlib.util.spec_from_file_location(
        "_visits_combination_bench", ROOT / "visits" / "booking" / "combination.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


slots = _load_slot_engine()
combination = _load_combination()

BERLIN = ZoneInfo("Europe/Berlin")
FIRST_DAY = date(2026, 3, 2)  # a Monday
WEEKS = 8
LAST_DAY = FIRST_DAY + timedelta(weeks=WEEKS, days=-1)
HOLIDAYS = {date(2026, 4, 3), date(2026, 4, 6)}  # Good Friday, Easter Monday (NW)
NOW = datetime(2026, 3, 2, 7, 0, tzinfo=BERLIN)
CLERKS = list(range(101, 121))
SERVICE = slots.ServiceRules(id=1, duration=timedelta(minutes=30))
COMPOSITE = combination.combined(
    [(slots.ServiceRules(id=service, duration=timedelta(minutes=30)), 2) for service in (3, 4, 5)]
)
# Three locations (Location ids) and who works where in the composite case.
LOCATIONS = (1, 2, 3)
CHOSEN_LOCATION = LOCATIONS[0]
REPETITIONS = 200


def weekly_rules() -> list:
    rules = []
    for clerk in CLERKS:
        for weekday in range(5):
            rules.append(slots.WeeklyRule(clerk, weekday, time(8), time(12)))
            rules.append(slots.WeeklyRule(clerk, weekday, time(13), time(16)))
        # Hours for another service only: the engine has to skip them.
        rules.append(slots.WeeklyRule(clerk, 5, time(9), time(12), service_ids=frozenset({2})))
    return rules


def located(rules: list) -> list:
    """The same hours, worked at one of the three locations per clerk (7, 7 and 6 clerks)."""
    where = {clerk: LOCATIONS[n * len(LOCATIONS) // len(CLERKS)] for n, clerk in enumerate(CLERKS)}
    return [replace(rule, location_id=where[rule.clerk_id]) for rule in rules]


def absences(rng: random.Random) -> list:
    """Three days of leave and six stretches of other duties per clerk."""
    found = []
    days = [FIRST_DAY + timedelta(days=n) for n in range(WEEKS * 7)]
    for clerk in CLERKS:
        for day in rng.sample(days, 3):
            start = datetime.combine(day, time(0), BERLIN)
            found.append(
                slots.Interval(clerk, start, datetime.combine(day + timedelta(days=1), time(0), BERLIN))
            )
        for day in rng.sample(days, 6):
            start = datetime.combine(day, time(rng.randrange(8, 15), rng.choice([0, 15, 30, 45])), BERLIN)
            found.append(
                slots.Interval(clerk, start, start + timedelta(minutes=rng.choice([60, 90, 120, 180])))
            )
    return found


def bookings(rng: random.Random, rules: list, away: list) -> list:
    """Half of every clerk's free slots, as blocked ranges (this service has no buffers)."""
    free = slots.free_slots(SERVICE, CLERKS, rules, away, [], HOLIDAYS, FIRST_DAY, LAST_DAY, NOW, BERLIN)
    pairs = [(slot, clerk) for slot in free for clerk in slot.clerk_ids]
    chosen = rng.sample(pairs, len(pairs) // 2)
    return [slots.Interval(clerk, *slots.blocked_range(s.start, s.end, SERVICE)) for s, clerk in chosen]


def loaded(intervals: list, first_day: date, last_day: date) -> list:
    """What availability.absences()/booked() would load for these days (a day's margin)."""
    start = datetime.combine(first_day - timedelta(days=1), time(0), BERLIN)
    end = datetime.combine(last_day + timedelta(days=2), time(0), BERLIN)
    return [i for i in intervals if i.start < end and i.end > start]


def timed(run: Callable[[], list]) -> tuple[float, float, int]:
    """(p50 ms, p95 ms, slot count) over REPETITIONS runs after a short warm-up."""
    for _ in range(5):
        run()
    durations = []
    for _ in range(REPETITIONS):
        began = clock.perf_counter()
        found = run()
        durations.append((clock.perf_counter() - began) * 1000)
    cuts = statistics.quantiles(durations, n=100, method="inclusive")
    return cuts[49], cuts[94], len(found)


def main() -> None:
    rng = random.Random(42)
    rules = weekly_rules()
    away = absences(rng)
    booked = bookings(rng, rules, away)
    print(
        f"{len(CLERKS)} clerks, {WEEKS} weeks from {FIRST_DAY}, {len(rules)} weekly rules, "
        f"{len(away)} absences, {len(booked)} bookings; {REPETITIONS} runs each"
    )
    scopes = {
        "one day": (FIRST_DAY + timedelta(days=1), FIRST_DAY + timedelta(days=1)),
        "one week": (FIRST_DAY, FIRST_DAY + timedelta(days=6)),
        "whole horizon": (FIRST_DAY, LAST_DAY),
    }
    results = {}
    for name, (first, last) in scopes.items():
        day_away, day_booked = loaded(away, first, last), loaded(booked, first, last)

        def run(first=first, last=last, day_away=day_away, day_booked=day_booked) -> list:
            return slots.free_slots(
                SERVICE, CLERKS, rules, day_away, day_booked, HOLIDAYS, first, last, NOW, BERLIN
            )

        p50, p95, count = timed(run)
        results[name] = p95
        print(
            f"{name:>14}: p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   {count:4d} slots "
            f"({len(day_booked)} bookings, {len(day_away)} absences loaded)"
        )
    day_away, day_booked = loaded(away, FIRST_DAY, LAST_DAY), loaded(booked, FIRST_DAY, LAST_DAY)
    at_locations = located(rules)
    composite_cases = {
        "any location": None,
        f"location {CHOSEN_LOCATION}": CHOSEN_LOCATION,
    }
    for name, location_id in composite_cases.items():

        def run_composite(location_id=location_id) -> list:
            where = {"on_site": True, "location_id": location_id}
            return slots.free_slots(
                COMPOSITE,
                CLERKS,
                at_locations,
                day_away,
                day_booked,
                HOLIDAYS,
                FIRST_DAY,
                LAST_DAY,
                NOW,
                BERLIN,
                **where,
            )

        p50, p95, count = timed(run_composite)
        print(
            f"{'composite':>14}: p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   {count:4d} slots "
            f"(3 services x 2 persons, on site, {name}, whole horizon)"
        )
    verdict = "met" if results["whole horizon"] <= 20 else "MISSED"
    print(f"target whole horizon p95 <= 20 ms: {verdict}")


if __name__ == "__main__":
    main()
