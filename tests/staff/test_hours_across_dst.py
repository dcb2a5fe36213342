"""Weekly hours read one way everywhere: the conflicts page agrees with the slot engine on
the night the clocks jump forward."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from tests.days import BERLIN, SPRING_DST_SUNDAY, berlin
from visits.booking import availability, wallclock
from visits.booking import operations as booking
from visits.clerks import conflicts as clerk_conflicts

BEFORE = berlin(SPRING_DST_SUNDAY - timedelta(days=6), 9)


def test_a_wall_time_in_the_spring_gap_is_the_moment_the_clocks_jump():
    # 02:30 never shows on 28 March 2027: the window opens when 02:00 becomes 03:00 (01:00Z)
    assert wallclock.wall_instant(SPRING_DST_SUNDAY, time(2, 30), BERLIN) == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    assert wallclock.wall_instant(SPRING_DST_SUNDAY, time(3, 30), BERLIN) == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)


def test_the_first_slot_after_the_jump_is_within_the_clerks_hours(factories):
    service = factories.service()
    clerk = factories.clerk([service], hours=[(SPRING_DST_SUNDAY.weekday(), time(2, 30), time(4, 0))])
    offered = availability.free_slots(service, SPRING_DST_SUNDAY, SPRING_DST_SUNDAY, BEFORE)
    first = offered[0].start
    assert first == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)  # 03:00 summer time
    booking.book_for_caller(service, first, factories.citizen(), clerk=clerk, now=BEFORE)
    conflicts = clerk_conflicts.stranded_appointments(clerk, BEFORE, include_kept=True)
    assert [c.appointment.start_at for c in conflicts if c.outside_hours] == []
