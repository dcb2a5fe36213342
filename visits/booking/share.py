"""A department's reserved share: which of a clerk's slots of a day are kept for bookings by
staff and the phone centre, when the department keeps a percentage of its capacity rather
than (or besides) whole reserved hours.

Pure Python, used by the slot engine (``slots.py``), whose integer instants it takes. The
rule, for one clerk, one local day and one listing's grid (a service, or the combined
duration of several): the slots of the day's unreserved hours, every location together,
ordered by start (at one instant the hours without a location first, then by location), are
numbered 0..n-1; slot i is kept when ``floor((i+1)*p/100) > floor(i*p/100)``. So exactly
``floor(n*p/100)`` of the n are kept, spread evenly over the day (25 %: every fourth, the
fourth first). The grid is numbered before bookings, absences and closings take slots away
and whatever the day the engine is asked, so which slots are kept never changes because
someone booked or because time passed. Kept slots are then treated exactly like slots in
reserved hours: staff have them at once, the public from the department's release on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING

from visits.booking.windows import WallClock, weeks_by_clerk, windows_on

if TYPE_CHECKING:
    from visits.booking.slots import WeeklyRule

__all__ = ["is_kept", "kept_by_clerk", "kept_slots"]

Kept = set[tuple[int | None, int]]  # (location, start) of kept slots


def is_kept(index: int, percent: int) -> bool:
    """Whether slot ``index`` (0-based) of a clerk's day is in a share of ``percent`` %."""
    return (index + 1) * percent // 100 > index * percent // 100


def kept_slots(
    windows_by_location: Mapping[int | None, Sequence[tuple[int, int]]], before: int, step: int, percent: int
) -> Kept:
    """The (location, start) of the kept slots of one clerk's day, given the windows of their
    unreserved hours of that day per location (instants; each window has its own grid of
    ``step`` from its start, a slot starting ``before`` after its blocked range does)."""
    grid = sorted(
        (window_start + before + k * step, -1 if location is None else location, location)
        for location, windows in windows_by_location.items()
        for window_start, window_end in windows
        for k in range((window_end - window_start) // step)
    )
    return {
        (location, start) for index, (start, _order, location) in enumerate(grid) if is_kept(index, percent)
    }


def kept_by_clerk(
    rules: Sequence[WeeklyRule],
    listed: set[int],
    needs: frozenset[int],
    days: Sequence[date],
    wall: WallClock,
    before: int,
    step: int,
    percent: int,
) -> dict[int, Kept]:
    """``kept_slots`` of each listed clerk on each of ``days``, from all their unreserved
    hours that apply to the services ``needs``, at every location: the same whichever
    listing (place, days, now) asks."""
    by_location: defaultdict[int | None, list[WeeklyRule]] = defaultdict(list)
    for rule in rules:
        if not rule.reserved:
            by_location[rule.location_id].append(rule)
    weeks = {location: weeks_by_clerk(group, listed, needs) for location, group in by_location.items()}
    kept: dict[int, Kept] = {}
    for clerk in listed:
        theirs = {location: by_clerk[clerk] for location, by_clerk in weeks.items() if clerk in by_clerk}
        if not theirs:
            continue
        found = kept[clerk] = set()
        for day in days:
            of_day = {location: windows_on(week, [day], wall) for location, week in theirs.items()}
            found |= kept_slots(of_day, before, step, percent)
    return kept
