"""A clerk's wall-clock time on a local day as an instant: the one conversion that the
slot engine, the conflicts page, absences and the agenda all use.

A wall time stands for the first moment the clocks in the zone show that time or a later
one. An ordinary time is simply that time; one that happens twice (02:30 on the autumn day
the clocks go back) is its first occurrence, like PEP 495 ``fold=0``; one that never
happens (02:30 on the spring day the clocks jump from 02:00 to 03:00) is the moment of the
jump. The mapping never runs backwards, so wall times in order stay in order as instants.
Plain Python (``zoneinfo``), no Flask."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_SECOND = timedelta(seconds=1)


def wall_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The instant (aware, UTC) a clerk's wall time ``at`` on ``day`` stands for, read as the
    slot engine reads weekly hours: the first moment the clocks show ``at`` or later. So a
    window from 02:30 on the spring-forward day opens when the clocks jump to 03:00, and an
    autumn 02:30 is its first occurrence. Everything that compares bookings with weekly
    hours uses this, so no page calls a slot the engine offered "outside hours"."""
    return first_moment_showing(day, at, tz).astimezone(UTC)


def wall_period(day: date, start: time | None, end: time | None, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants (aware, UTC) of the wall-clock span ``start``..``end`` on ``day``, as a
    location's closing day gives it: None is the start or the end of the day."""
    opens = wall_instant(day, start or time.min, tz)
    closes = wall_instant(day, end, tz) if end is not None else wall_instant(day + timedelta(days=1), time.min, tz)
    return opens, closes


def first_moment_showing(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The first moment the clocks in ``tz`` show ``at`` on ``day`` or a later wall time.

    A wall time that survives the round trip through UTC exists; with fold=0 its first
    occurrence is taken (the autumn hour that happens twice). One that does not survive
    lies in the spring gap: the answer is the moment the clocks jump over it."""
    local = datetime.combine(day, at, tzinfo=tz)  # fold=0: offset in force before a change
    if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == local.replace(tzinfo=None):
        return local
    # In the gap, fold=1 reads the wall time with the offset after the jump, which puts it
    # before the jump; fold=0 reads it with the offset before, which puts it after.
    return _moment_of_change(local.replace(fold=1).astimezone(UTC), local.astimezone(UTC), tz).astimezone(tz)


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
