"""The slot engine: weekly hours + absences + bookings + now -> the free slots of a service.

Pure Python (no Flask, no database), so the booking rules can be tested in microseconds and
reused by the web pages, the API and the call-centre view alike.

How time is handled, and why:

* Clerks work by the clock on the wall of the town hall. A rule "Monday 08:00-12:00" is
  local time in ``tz`` on every Monday, including the days the clocks change (last Sunday
  of March and of October in Germany), so its UTC instants differ from day to day.
* A wall time becomes an instant as **the first moment the clocks in ``tz`` show that time
  or a later one**. For an ordinary time that is simply that time. For a time that happens
  twice (02:30 on the autumn day the clocks go back) it is the first occurrence, like
  PEP 495 ``fold=0``. For a time that never happens (02:30 on the spring day the clocks
  jump from 02:00 to 03:00) it is the moment of the jump, 03:00 local: a window 02:30-04:00
  on that day is 03:00-04:00 local, one hour. This mapping never runs backwards, so rules
  that overlap or touch on the wall still overlap or touch as instants, and days never
  overlap each other.
* Inside, instants are integers: microseconds since the Unix epoch, datetime's own
  resolution, so no rounding rule is needed anywhere. Datetimes are built only for the
  output. All comparisons are of instants, whatever time zone an input datetime carries.

The grid: a slot takes a clerk's time from ``start - buffer_before`` to ``end +
buffer_after`` (its blocked range). Slots of one window lie back to back from the window's
start, one blocked range after the other, so bookings pack without gaps. Bookings and
absences hide slots but never shift the grid: citizens see the same times every day.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Container, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["Interval", "ServiceRules", "Slot", "WeeklyRule", "blocked_range", "free_slots"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_SECOND = timedelta(seconds=1)
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


@dataclass(frozen=True, slots=True)
class Interval:
    """Time a clerk is not available: half-open [start, end), aware datetimes in any zone."""

    clerk_id: int
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


@dataclass(frozen=True, slots=True)
class Slot:
    """A bookable start time and every clerk who could take it."""

    start: datetime  # aware, UTC
    end: datetime  # start + duration, UTC
    clerk_ids: tuple[int, ...]  # every clerk free for exactly this slot, ascending


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
) -> list[Slot]:
    """The free slots of ``service`` on the local days ``first_day``..``last_day``.

    ``booked`` holds the blocked ranges of active appointments (their buffers included);
    rules, absences and bookings of clerks not in ``clerk_ids`` are ignored, as are rules
    for other services. A slot is offered when its whole blocked range lies in one of the
    clerk's windows, touches no absence or booking, and it starts no earlier than
    ``now + min_notice`` and no later than ``now + horizon``. Slots of several clerks at the
    same instant become one Slot naming all of them. The result does not depend on the
    order of the inputs; every input may be a one-shot iterator."""
    step, before, duration = _grid(service)
    earliest = _instant(now + service.min_notice)
    latest = _instant(now + service.horizon)
    if earliest > latest:
        return []
    days = _working_days(first_day, last_day, holidays, earliest, latest, tz)
    clerks = sorted(set(clerk_ids))
    listed = set(clerks)
    hours = _hours_by_clerk(rules, listed, service.id)
    blocked = _blocked_by_clerk([absences, booked], listed)

    free_at: dict[int, list[int]] = {}
    wall = _WallClock(tz)
    for clerk in clerks:
        weekly = hours.get(clerk)
        if not weekly:
            continue
        starts, ends = blocked.get(clerk, ((), ()))
        for window_start, window_end in _windows(weekly, days, wall):
            # Grid positions k with the slot start inside [earliest, latest] and the blocked
            # range [window_start + k*step, window_start + (k+1)*step) inside the window.
            first = max(0, _ceil_div(earliest - before - window_start, step))
            last = min(
                (window_end - window_start) // step - 1,
                (latest - before - window_start) // step,
            )
            if first > last:
                continue
            for piece_start, piece_end in _free_pieces(window_start, window_end, starts, ends):
                k_from = max(first, _ceil_div(piece_start - window_start, step))
                k_to = min(last, (piece_end - window_start) // step - 1)
                for k in range(k_from, k_to + 1):
                    free_at.setdefault(window_start + before + k * step, []).append(clerk)

    return [
        Slot(_datetime(start), _datetime(start + duration), tuple(free_at[start]))
        for start in sorted(free_at)
    ]


def _grid(service: ServiceRules) -> tuple[int, int, int]:
    """(step, buffer_before, duration) in microseconds; refuses rules that make no sense.

    The step is the whole blocked range, so appointments booked on the grid pack exactly."""
    duration = service.duration // _MICROSECOND
    before = service.buffer_before // _MICROSECOND
    after = service.buffer_after // _MICROSECOND
    if duration <= 0:
        raise ValueError(f"service {service.id}: duration must be positive")
    if before < 0 or after < 0 or service.min_notice < timedelta(0):
        # A negative notice would offer slots in the past; negative buffers would overlap.
        raise ValueError(f"service {service.id}: buffers and minimum notice must not be negative")
    return before + duration + after, before, duration


def _instant(moment: datetime) -> int:
    """Microseconds since the epoch; a naive datetime is refused, it would be a bug about time."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime given where an instant is needed: {moment!r}")
    return (moment - _EPOCH) // _MICROSECOND


def _datetime(instant: int) -> datetime:
    return _EPOCH + timedelta(microseconds=instant)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _working_days(
    first_day: date,
    last_day: date,
    holidays: Collection[date],
    earliest: int,
    latest: int,
    tz: ZoneInfo,
) -> list[date]:
    """The requested local days that are not public holidays and can hold a bookable slot.

    Days wholly before ``now + min_notice`` or after ``now + horizon`` are skipped (with a
    day's margin, the exact cut is per slot), so asking for a year costs no more than the
    horizon."""
    if not isinstance(holidays, Container):
        holidays = frozenset(holidays)
    day = max(first_day, _datetime(earliest).astimezone(tz).date() - _ONE_DAY)
    end = min(last_day, _datetime(latest).astimezone(tz).date() + _ONE_DAY)
    days = []
    while day <= end:
        if day not in holidays:
            days.append(day)
        day += _ONE_DAY
    return days


_Hours = tuple[date | None, date | None, time, time]


def _hours_by_clerk(
    rules: Iterable[WeeklyRule], listed: set[int], service_id: int
) -> dict[int, list[list[_Hours]]]:
    """The rules that apply to this service, per clerk and weekday (a list of 7 lists)."""
    hours: dict[int, list[list[_Hours]]] = {}
    for rule in rules:
        if rule.clerk_id not in listed:
            continue
        if rule.service_ids is not None and service_id not in rule.service_ids:
            continue
        week = hours.setdefault(rule.clerk_id, [[] for _ in range(7)])
        week[rule.weekday].append((rule.valid_from, rule.valid_until, rule.start, rule.end))
    return hours


def _blocked_by_clerk(
    sources: list[Iterable[Interval]], listed: set[int]
) -> dict[int, tuple[list[int], list[int]]]:
    """Absences and bookings per clerk, merged into sorted disjoint [start, end) instants.

    Returned as two parallel lists (starts, ends) so a window can find its first obstacle
    with one bisection instead of comparing every slot with every booking."""
    raw: dict[int, list[tuple[int, int]]] = {}
    for source in sources:
        for interval in source:
            if interval.clerk_id not in listed:
                continue
            start, end = _instant(interval.start), _instant(interval.end)
            if start < end:
                raw.setdefault(interval.clerk_id, []).append((start, end))
    merged: dict[int, tuple[list[int], list[int]]] = {}
    for clerk, intervals in raw.items():
        intervals.sort()
        starts: list[int] = []
        ends: list[int] = []
        for start, end in intervals:
            if ends and start <= ends[-1]:
                # Overlapping or touching: one obstacle (touching ones leave no room anyway).
                if end > ends[-1]:
                    ends[-1] = end
            else:
                starts.append(start)
                ends.append(end)
        merged[clerk] = (starts, ends)
    return merged


def _windows(
    weekly: list[list[_Hours]], days: list[date], wall: _WallClock
) -> Iterable[tuple[int, int]]:
    """A clerk's availability windows as instants, one day after the other.

    Rules of one day that overlap or touch (08-10 and 10-12) become one window, so the grid
    runs through 10:00 as if it were one rule. Windows of different days are not merged:
    each day's grid starts at that day's first working hour."""
    for day in days:
        todays = []
        for valid_from, valid_until, start, end in weekly[day.weekday()]:
            if (valid_from is None or valid_from <= day) and (
                valid_until is None or day <= valid_until
            ):
                window_start, window_end = wall.instant(day, start), wall.instant(day, end)
                if window_start < window_end:
                    todays.append((window_start, window_end))
        if len(todays) > 1:
            todays.sort()
            joined = [todays[0]]
            for window_start, window_end in todays[1:]:
                last_start, last_end = joined[-1]
                if window_start <= last_end:
                    joined[-1] = (last_start, max(last_end, window_end))
                else:
                    joined.append((window_start, window_end))
            todays = joined
        yield from todays


def _free_pieces(
    window_start: int, window_end: int, starts: list[int], ends: list[int]
) -> Iterable[tuple[int, int]]:
    """The parts of a window that no absence or booking touches (obstacles merged, sorted)."""
    cursor = window_start
    index = bisect_right(ends, window_start)  # first obstacle that ends after the window opens
    while index < len(starts) and starts[index] < window_end:
        if starts[index] > cursor:
            yield cursor, starts[index]
        cursor = max(cursor, ends[index])
        if cursor >= window_end:
            return
        index += 1
    yield cursor, window_end


class _WallClock:
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
            found = self._seen[key] = _instant(_first_moment_showing(day, at, self._tz))
        return found


def _first_moment_showing(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The first moment the clocks in ``tz`` show ``at`` on ``day`` or a later wall time.

    A wall time that survives the round trip through UTC exists; with fold=0 its first
    occurrence is taken (the autumn hour that happens twice). One that does not survive
    lies in the spring gap: the answer is the moment the clocks jump over it."""
    local = datetime.combine(day, at, tzinfo=tz)  # fold=0: offset in force before a change
    if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None):
        return local
    # In the gap, fold=1 reads the wall time with the offset after the jump, which puts it
    # before the jump; fold=0 reads it with the offset before, which puts it after.
    return _moment_of_change(
        local.replace(fold=1).astimezone(UTC), local.astimezone(UTC), tz
    ).astimezone(tz)


def _moment_of_change(before: datetime, after: datetime, tz: ZoneInfo) -> datetime:
    """The first whole second in (before, after] with the offset in force at ``after``.

    tz database changes happen on whole seconds; a gap is at most a day, so this bisection
    takes at most 17 steps, and only for wall times that do not exist."""
    target = after.astimezone(tz).utcoffset()
    before -= timedelta(microseconds=before.microsecond)  # still before the change
    low, high = 0, (after - before) // _SECOND  # the change lies in (before + low, before + high]
    while high - low > 1:
        middle = (low + high) // 2
        if (before + middle * _SECOND).astimezone(tz).utcoffset() == target:
            high = middle
        else:
            low = middle
    return before + high * _SECOND
