"""The suite's calendar: one fixed "today", and the days tests book on, chosen on purpose.

The whole suite runs at ``NOW`` (09:00 Berlin time on ``TODAY``) and ticks on from there:
tests/conftest.py starts the clock there before the first test, and every Python process
the suite starts (gunicorn, schedulers, workers) is moved to the same moment by
tests/timeshift/sitecustomize.py. So no result depends on the day the suite runs; CI proves
it by running the suite under libfaketime on other days (.ci/run).

``TODAY`` sits in a quiet stretch of June: no public holiday in North Rhine-Westphalia (the
state the tests use), no DST change and no year end for two months. The hard days are not
left to chance either; named tests travel to them:

- ``CHRISTMAS_MONDAY``: 25 and 26 December 2028 fall on Monday and Tuesday, and
  ``NEW_YEAR_MONDAY`` (1 January 2029) is a Monday too: two weeks in a row with holidays
  on workdays, and a week that crosses into the next year.
- ``SPRING_DST_SUNDAY``: Europe/Berlin goes from +01:00 to +02:00 on Easter Sunday 2027,
  between Good Friday and Easter Monday.
- ``AUTUMN_DST_SUNDAY``: back to +01:00, the day before All Saints' Day (a holiday in NRW).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(day: date, hour: int, minute: int = 0) -> datetime:
    """A Europe/Berlin wall-clock time on ``day`` as an aware instant in UTC."""
    return datetime.combine(day, time(hour, minute), BERLIN).astimezone(UTC)


def next_weekday(start: date, weekday: int) -> date:
    """The first date on or after ``start`` that falls on ``weekday`` (0 = Monday)."""
    return start + timedelta(days=(weekday - start.weekday()) % 7)


TODAY = date(2027, 6, 7)  # a Monday
NOW = berlin(TODAY, 9)

# The Monday most tests book on: two weeks ahead, a whole working week and more.
BOOKING_MONDAY = TODAY + timedelta(days=14)

# Hostile days, for the tests named after them.
GOOD_FRIDAY = date(2027, 3, 26)
SPRING_DST_SUNDAY = date(2027, 3, 28)  # 02:00 +01:00 -> 03:00 +02:00 (Easter Sunday)
EASTER_MONDAY = date(2027, 3, 29)
AUTUMN_DST_SUNDAY = date(2027, 10, 31)  # 03:00 +02:00 -> 02:00 +01:00
ALL_SAINTS_MONDAY = date(2027, 11, 1)
CHRISTMAS_MONDAY = date(2028, 12, 25)  # Christmas Day; Tuesday 26 is the second day
NEW_YEAR_MONDAY = date(2029, 1, 1)
