"""The slot engine: weekly hours + absences + bookings + now -> the free slots of a service.

Pure Python (no Flask, no database), so the booking rules can be tested in microseconds and
reused by the web pages, the API and the call-centre view alike.

How time is handled, and why:

* Clerks work by the clock on the wall of the town hall. A rule "Monday 08:00-12:00" is
  local time in ``tz`` on every Monday, including the days the clocks change (last Sunday
  of March and of October in Germany), so its UTC instants differ from day to day.
* A wall time becomes an instant as **the first moment the clocks in ``tz`` show that time
  or a later one** (``wallclock.py``, which the clerks' pages use too): the clerk arrives when the clock first shows the start of their hours
  and leaves when it first shows the end. For an ordinary time that is simply that time.
  For a time that happens twice (02:30 on the autumn day the clocks go back from 03:00 to
  02:00) it is the first occurrence, like PEP 495 ``fold=0``; hours 01:00-04:00 on that
  night last four real hours, as they do for anyone working by the clock. For a time that
  never happens (02:30 on the spring day the clocks jump from 02:00 to 03:00) it is the
  moment of the jump, 03:00 local: hours 02:30-04:00 on that day are 03:00-04:00, and hours
  02:00-03:00 give no slots. This mapping never runs backwards, so rules that overlap or
  touch on the wall still overlap or touch as instants, and days never overlap each other.
* Inside, instants are integers: microseconds since the Unix epoch, datetime's own
  resolution, so no rounding rule is needed anywhere. Datetimes are built only for the
  output. All comparisons are of instants, whatever time zone an input datetime carries.

The grid: a slot takes a clerk's time from ``start - buffer_before`` to ``end +
buffer_after`` (its blocked range). Slots of one window lie back to back from the window's
start, one blocked range after the other, so bookings pack without gaps. Bookings and
absences hide slots but never shift the grid: citizens see the same times every day.

Where, and for whom: each rule names the location its hours are worked at (None: hours
without a location, for video and phone only) and whether they are *reserved* (kept for
bookings by staff and the phone centre). An on-site listing uses only hours at a location
(one given location, or any) and each slot names its location; slots of two locations at
the same instant are two Slots. Any other listing uses every rule and its slots name no
location. Hours of one location and kind (reserved or not) make a clerk's windows of their
own, each with its own grid. A closing (a closing day of a location) closes only the hours
at that location. A department may also keep a share of every clerk's day (``share.py``):
those slots of unreserved hours count as reserved. A slot whose clerks all come from reserved
hours or the share is ``reserved``; for the public (``reserved_hidden_after`` given) reserved
hours and the share offer only starts up to that moment.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Collection, Container, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from visits.booking.share import kept_by_clerk
from visits.booking.windows import EPOCH as _EPOCH
from visits.booking.windows import MICROSECOND as _MICROSECOND
from visits.booking.windows import WallClock, Week, weeks_by_clerk, windows_on
from visits.booking.windows import as_datetime as _datetime
from visits.booking.windows import instant as _instant

__all__ = ["Closing", "Interval", "ServiceRules", "Slot", "WeeklyRule", "blocked_range", "free_slots"]

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class WeeklyRule:
    """A clerk's regular working hours on one weekday, in local wall-clock time."""

    clerk_id: int
    weekday: int  # 0 = Monday ... 6 = Sunday (date.weekday())
    start: time  # local wall-clock time in tz, e.g. time(8, 0)
    end: time  # local, end > start (same day)
    valid_from: date | None = None  # inclusive, None = open
    valid_until: date | None = None  # inclusive, None = open
    service_ids: frozenset[int] | None = None  # None = every service; else only these
    location_id: int | None = None  # where the hours are worked; None = no location (video/phone only)
    reserved: bool = False  # kept for bookings by staff and the phone centre


@dataclass(frozen=True, slots=True)
class Interval:
    """Time a clerk is not available: half-open [start, end), aware datetimes in any zone."""

    clerk_id: int
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Closing:
    """A location closed (a closing day, or part of one): half-open [start, end), aware.
    It closes the hours worked at that location, not a clerk's hours without a location."""

    location_id: int
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class ServiceRules:
    """What the slot engine needs to know about a service."""

    id: int
    duration: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=60)
    # A combination of services (booking/combination.py): the services whose hours it
    # needs, every one of them; empty: just ``id``.
    combines: frozenset[int] = frozenset()
    # The department's share (``share.py``): percent of each clerk's day kept like reserved hours.
    reserved_share: int = 0


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable start time and every clerk who could take it."""

    start: datetime  # aware, UTC
    end: datetime  # start + duration, UTC
    clerk_ids: tuple[int, ...]  # every clerk free for exactly this slot, ascending
    location_id: int | None = None  # where (on-site listings); None: no location
    reserved: bool = False  # every clerk of it is free only in reserved hours or the share


def blocked_range(start: datetime, end: datetime, service: ServiceRules) -> tuple[datetime, datetime]:
    """[start - buffer_before, end + buffer_after): the time an appointment takes from a clerk.

    Stored with each appointment, so a later change to the service's buffers does not
    free or block time around appointments that were already booked."""
    return start - service.buffer_before, end + service.buffer_after


def free_slots(
    service: ServiceRules,
    clerk_ids: Iterable[int],
    rules: Iterable[WeeklyRule],
    absences: Iterable[Interval],
    booked: Iterable[Interval],
    holidays: Collection[date],
    first_day: date,
    last_day: date,
    now: datetime,
    tz: ZoneInfo,
    *,
    on_site: bool = False,
    location_id: int | None = None,
    closings: Iterable[Closing] = (),
    reserved_hidden_after: datetime | None = None,
) -> list[Slot]:
    """The free slots of ``service`` on the local days ``first_day``..``last_day``.

    ``booked`` holds the blocked ranges of active appointments (their buffers included);
    rules, absences and bookings of clerks not in ``clerk_ids`` are ignored, as are rules
    for other services. A slot is offered when its whole blocked range lies in one of the
    clerk's windows, touches no absence or booking, and it starts no earlier than
    ``now + min_notice`` and no later than ``now + horizon``. Slots of several clerks at the
    same instant (and place) become one Slot naming all of them. The result does not depend on the
    order of the inputs; every input may be a one-shot iterator. Wall times on the days the
    clocks change are read as the module docstring says; naive datetimes are refused.

    ``on_site``: only hours at a location count (``location_id``, or any when None), and
    each slot names its location. ``closings`` close the hours at their location.
    ``reserved_hidden_after`` (the public's view): reserved hours and the department's share
    (``service.reserved_share``) offer no start after it."""
    grid = _Grid.of(service, now)
    days = _working_days(first_day, last_day, holidays, grid, tz)
    clerks = sorted(set(clerk_ids))
    listed = set(clerks)
    rules = rules if isinstance(rules, list) else list(rules)
    places = _rules_by_place(rules, on_site, location_id)
    needs = service.combines or frozenset((service.id,))
    blocked = _blocked_by_clerk((absences, booked), listed)
    closed = _closed_by_location(closings, {location for location, _ in places})
    reserved_grid = grid
    if reserved_hidden_after is not None:
        reserved_grid = replace(grid, latest=min(grid.latest, _instant(reserved_hidden_after)))

    # (listed location, reserved) -> start -> clerks; how many groups of hours fed each
    found: dict[tuple[int | None, bool], defaultdict[int, list[int]]] = {}
    fed: defaultdict[tuple[int | None, bool], int] = defaultdict(int)
    windows_of: dict[Week, list[tuple[int, int]]] = {}  # most clerks share their hours
    wall = WallClock(tz)
    share = service.reserved_share
    kept = kept_by_clerk(rules, listed, needs, days, wall, grid.before, grid.step, share) if share else {}
    for (location, reserved), place_rules in places.items():
        weeks = weeks_by_clerk(place_rules, listed, needs)
        if not weeks:
            continue
        place = (location if on_site else None, reserved)
        free_at = found.setdefault(place, defaultdict(list))
        fed[place] += 1
        kept_at = found.setdefault((place[0], True), defaultdict(list)) if kept and not reserved else None
        its_grid = reserved_grid if reserved else grid
        closed_here = closed.get(location) if location is not None else None
        for clerk in clerks:  # ascending, so every slot lists its clerks in order
            week = weeks.get(clerk)
            if week is None:
                continue
            windows = windows_of.get(week)
            if windows is None:
                windows = windows_of[week] = windows_on(week, days, wall)
            starts, ends = blocked.get(clerk, _NOTHING_BLOCKED)
            if closed_here:
                starts, ends = _merged([*zip(starts, ends, strict=True), *closed_here])
            kept_here = kept.get(clerk) if kept_at is not None else None
            for window_start, window_end in windows:
                for starts_in_piece in its_grid.free_starts(window_start, window_end, starts, ends):
                    if not kept_here:
                        for start in starts_in_piece:
                            free_at[start].append(clerk)
                        continue
                    for start in starts_in_piece:  # the share: reserved, for the public until released
                        if (location, start) not in kept_here:
                            free_at[start].append(clerk)
                        elif start <= reserved_grid.latest:
                            kept_at[start].append(clerk)

    duration = timedelta(microseconds=grid.duration)
    if len(found) == 1 and max(fed.values()) == 1:  # the usual office: one kind of hours, one place
        ((location, reserved), free_at), = found.items()
        return [
            Slot(begin, begin + duration, tuple(free_at[start]), location, reserved)
            for start in sorted(free_at)
            for begin in (_EPOCH + timedelta(microseconds=start),)
        ]
    clerks_at: dict[tuple[int, int | None], set[int]] = {}
    open_at: set[tuple[int, int | None]] = set()  # instants and places a clerk has unreserved
    for (location, reserved), free_at in found.items():
        for start, ids in free_at.items():
            key = (start, location)
            clerks_at.setdefault(key, set()).update(ids)
            if not reserved:
                open_at.add(key)
    return [
        Slot(begin, begin + duration, tuple(sorted(clerks_at[key])), key[1], key not in open_at)
        for key in sorted(clerks_at, key=_time_then_place)
        for begin in (_datetime(key[0]),)
    ]


def _time_then_place(key: tuple[int, int | None]) -> tuple[int, int]:
    """Slots by time; at one instant the slot without a location first, then by location."""
    start, location = key
    return start, -1 if location is None else location


def _rules_by_place(
    rules: Iterable[WeeklyRule], on_site: bool, location_id: int | None
) -> dict[tuple[int | None, bool], list[WeeklyRule]]:
    """The rules a listing uses, per (location, reserved): on site only hours at a location
    (``location_id``, or any), otherwise all of them."""
    rules = rules if isinstance(rules, list) else list(rules)
    kinds = {(rule.location_id, rule.reserved) for rule in rules}
    if len(kinds) == 1:  # the usual office: all hours alike, no second pass
        ((location, reserved),) = kinds
        if not on_site or (location is not None and location_id in (None, location)):
            return {(location, reserved): rules}
        return {}
    places: dict[tuple[int | None, bool], list[WeeklyRule]] = {}
    for rule in rules:
        if on_site and (rule.location_id is None or location_id not in (None, rule.location_id)):
            continue
        places.setdefault((rule.location_id, rule.reserved), []).append(rule)
    return places


def _closed_by_location(closings: Iterable[Closing], locations: set[int | None]) -> dict[int, list[tuple[int, int]]]:
    """The closings of the locations in use, as instants."""
    found: dict[int, list[tuple[int, int]]] = {}
    for closing in closings:
        if closing.location_id in locations:
            found.setdefault(closing.location_id, []).append((_instant(closing.start), _instant(closing.end)))
    return found


@dataclass(frozen=True, slots=True)
class _Grid:
    """The service's grid and the bookable span, in microseconds since the epoch.

    ``step`` is the whole blocked range (buffer_before + duration + buffer_after), so
    appointments booked on the grid pack exactly, without gaps."""

    step: int
    before: int
    duration: int
    earliest: int  # now + min_notice: first bookable start
    latest: int  # now + horizon: last bookable start

    @classmethod
    def of(cls, service: ServiceRules, now: datetime) -> _Grid:
        """Refuses rules that make no sense: they are a configuration error, not "no slots"."""
        duration = service.duration // _MICROSECOND
        before = service.buffer_before // _MICROSECOND
        after = service.buffer_after // _MICROSECOND
        if duration <= 0:
            raise ValueError(f"service {service.id}: duration must be positive")
        if before < 0 or after < 0 or service.min_notice < timedelta(0):
            # A negative notice would offer slots in the past; negative buffers would overlap.
            raise ValueError(f"service {service.id}: buffers and minimum notice must not be negative")
        if not 0 <= service.reserved_share <= 100:
            raise ValueError(f"service {service.id}: the reserved share is a percentage, 0 to 100")
        return cls(
            step=before + duration + after,
            before=before,
            duration=duration,
            earliest=_instant(now + service.min_notice),
            latest=_instant(now + service.horizon),
        )

    def free_starts(
        self, window_start: int, window_end: int, starts: Sequence[int], ends: Sequence[int]
    ) -> list[range]:
        """The bookable slot starts of one window, as ranges, given the clerk's obstacles.

        Grid position k blocks [window_start + k*step, window_start + (k+1)*step). The window
        is cut at every absence or booking (``starts``/``ends``: merged, sorted); a slot is
        free when its blocked range fits in one of the pieces left. That is arithmetic per
        piece, not a comparison of every slot with every booking."""
        step, before = self.step, self.before
        # Positions that fit the window and start within [earliest, latest].
        first = max(0, -((window_start + before - self.earliest) // step))
        last = min((window_end - window_start) // step, (self.latest - before - window_start) // step + 1)
        if first >= last:
            return []
        found = []
        piece_start = window_start
        index = bisect_right(ends, window_start)  # first obstacle still going on at the opening
        count = len(starts)
        while True:
            obstacle = starts[index] if index < count else window_end
            piece_end = obstacle if obstacle < window_end else window_end
            k_from = -((window_start - piece_start) // step)  # first k with its range in the piece
            k_to = (piece_end - window_start) // step  # one past the last
            if k_from < first:
                k_from = first
            if k_to > last:
                k_to = last
            if k_from < k_to:
                base = window_start + before
                found.append(range(base + k_from * step, base + k_to * step, step))
            if piece_end == window_end or k_to == last:
                return found
            piece_start = ends[index]
            index += 1


_NOTHING_BLOCKED: tuple[Sequence[int], Sequence[int]] = ((), ())


def _working_days(
    first_day: date, last_day: date, holidays: Collection[date], grid: _Grid, tz: ZoneInfo
) -> list[date]:
    """The requested local days that are not public holidays and can hold a bookable slot.

    Days wholly before ``now + min_notice`` or after ``now + horizon`` are skipped (with a
    day's margin, the exact cut is per slot), so asking for a year costs no more than the
    horizon."""
    if not isinstance(holidays, Container):
        holidays = frozenset(holidays)
    day = max(first_day, _datetime(grid.earliest).astimezone(tz).date() - _ONE_DAY)
    end = min(last_day, _datetime(grid.latest).astimezone(tz).date() + _ONE_DAY)
    days = []
    while day <= end:
        if day not in holidays:
            days.append(day)
        day += _ONE_DAY
    return days


def _blocked_by_clerk(
    sources: Iterable[Iterable[Interval]], listed: set[int]
) -> dict[int, tuple[list[int], list[int]]]:
    """Absences and bookings per clerk, merged into sorted disjoint [start, end) instants.

    Returned as two parallel lists (starts, ends) so a window finds its first obstacle with
    one bisection. This runs over every booking of the horizon, so the instants are taken
    inline; a naive datetime fails the subtraction and is refused."""
    raw: dict[int, list[tuple[int, int]]] = {clerk: [] for clerk in listed}
    epoch, microsecond = _EPOCH, _MICROSECOND
    try:
        for source in sources:
            for interval in source:
                found = raw.get(interval.clerk_id)
                if found is not None:
                    found.append(
                        ((interval.start - epoch) // microsecond, (interval.end - epoch) // microsecond)
                    )
    except TypeError as error:
        raise ValueError(f"absences and bookings need aware datetimes: {error}") from error
    return {clerk: _merged(intervals) for clerk, intervals in raw.items() if intervals}


def _merged(intervals: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Overlapping or touching intervals become one (touching ones leave no room anyway)."""
    intervals.sort()
    starts: list[int] = []
    ends: list[int] = []
    for start, end in intervals:
        if start >= end:
            continue  # empty: blocks nothing
        if ends and start <= ends[-1]:
            if end > ends[-1]:
                ends[-1] = end
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends
