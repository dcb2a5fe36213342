"""A clerk's weekly hours as windows of instants: what the slot engine (``slots.py``) and the
reserved share (``share.py``) lay their grids on.

Pure Python like the engine. An instant is an integer, microseconds since the Unix epoch
(datetime's own resolution, so no rounding rule is needed anywhere); wall times become
instants as ``wallclock.py`` says, and the module docstring of ``slots.py`` explains."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from visits.booking.wallclock import first_moment_showing

if TYPE_CHECKING:
    from visits.booking.slots import WeeklyRule

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

Hours = tuple[date | None, date | None, time, time]  # valid_from, valid_until, start, end
Week = tuple[tuple[Hours, ...], ...]  # the hours of Monday ... Sunday


def instant(moment: datetime) -> int:
    """Microseconds since the epoch; a naive datetime is refused, it would be a bug about time."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime given where an instant is needed: {moment!r}")
    return (moment - EPOCH) // MICROSECOND


def as_datetime(instant: int) -> datetime:
    return EPOCH + timedelta(microseconds=instant)


def weeks_by_clerk(
    rules: Iterable[WeeklyRule], listed: set[int], service_ids: frozenset[int]
) -> dict[int, Week]:
    """The rules that apply to all of these services, per clerk, as a hashable week.

    Hashable, so clerks with the same hours share one computation of their windows."""
    days_by_clerk: dict[int, list[list[Hours]]] = {}
    for rule in rules:
        if rule.clerk_id not in listed:
            continue
        if rule.service_ids is not None and not service_ids <= rule.service_ids:
            continue
        week = days_by_clerk.get(rule.clerk_id)
        if week is None:
            week = days_by_clerk[rule.clerk_id] = [[] for _ in range(7)]
        week[rule.weekday].append((rule.valid_from, rule.valid_until, rule.start, rule.end))
    return {
        clerk: tuple(tuple(sorted(hours, key=_hours_order)) for hours in week)
        for clerk, week in days_by_clerk.items()
    }


def _hours_order(hours: Hours) -> tuple:
    """Sorts hours whatever their validity (None and dates do not compare)."""
    valid_from, valid_until, start, end = hours
    return (start, end, valid_from or date.min, valid_until or date.max)


def windows_on(week: Week, days: list[date], wall: WallClock) -> list[tuple[int, int]]:
    """A clerk's availability windows as instants, one day after the other.

    Rules of one day that overlap or touch (08-10 and 10-12) become one window, so the grid
    runs through 10:00 as if it were one rule. Windows of different days are not merged:
    each day's grid starts at that day's first working hour."""
    windows: list[tuple[int, int]] = []
    for day in days:
        todays = []
        for valid_from, valid_until, start, end in week[day.weekday()]:
            if (valid_from is None or valid_from <= day) and (valid_until is None or day <= valid_until):
                window_start, window_end = wall.instant(day, start), wall.instant(day, end)
                if window_start < window_end:
                    todays.append((window_start, window_end))
        todays.sort()
        windows.extend(_joined(todays))
    return windows


def _joined(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted windows of one day, overlapping or touching ones joined."""
    if len(windows) < 2:
        return windows
    joined = [windows[0]]
    for start, end in windows[1:]:
        last_start, last_end = joined[-1]
        if start <= last_end:
            if end > last_end:
                joined[-1] = (last_start, end)
        else:
            joined.append((start, end))
    return joined


class WallClock:
    """Turns (local day, wall time) into instants, remembering the ones already asked.

    Twenty clerks mostly share the same few working hours, so each distinct time of each day
    goes through zoneinfo once."""

    __slots__ = ("_tz", "_seen")

    def __init__(self, tz: ZoneInfo) -> None:
        self._tz = tz
        self._seen: dict[tuple[date, time], int] = {}

    def instant(self, day: date, at: time) -> int:
        key = (day, at)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = instant(first_moment_showing(day, at, self._tz))
        return found
