"""The slot engine, read like the booking rules: one behaviour per test, then properties
checked against a deliberately naive reference on random weeks around the clock changes."""

from __future__ import annotations

import dataclasses
import importlib.util
import random
import sys
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def _load_slot_engine():
    """The engine by file path: it is pure, so its tests need neither Flask nor the app
    package (whose __init__ builds the Flask app)."""
    path = Path(__file__).resolve().parents[2] / "visits" / "booking" / "slots.py"
    spec = importlib.util.spec_from_file_location("_visits_slots_under_test", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


engine = _load_slot_engine()
Interval = engine.Interval
ServiceRules = engine.ServiceRules
Slot = engine.Slot
WeeklyRule = engine.WeeklyRule
blocked_range = engine.blocked_range
free_slots = engine.free_slots

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
MONDAY = date(2026, 3, 2)
SPRING_FORWARD = date(2026, 3, 29)  # Berlin: 02:00 CET -> 03:00 CEST
FALL_BACK = date(2026, 10, 25)  # Berlin: 03:00 CEST -> 02:00 CET
MINUTE = timedelta(minutes=1)


# --- factories ---------------------------------------------------------------------------


def at(day: date, hour: int, minute: int = 0, tz: ZoneInfo = BERLIN) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def service(minutes: int = 30, **rules) -> ServiceRules:
    return ServiceRules(id=1, duration=timedelta(minutes=minutes), **rules)


def hours(day: date, start: int, end: int, clerk: int = 1, **more) -> WeeklyRule:
    """Working hours on the weekday of ``day``, whole hours local time."""
    return WeeklyRule(clerk, day.weekday(), time(start), time(end), **more)


def slots(
    rules,
    *,
    day: date = MONDAY,
    last_day: date | None = None,
    svc: ServiceRules | None = None,
    clerks=(1,),
    absences=(),
    booked=(),
    holidays=(),
    now: datetime | None = None,
    tz: ZoneInfo = BERLIN,
) -> list[Slot]:
    return free_slots(
        service=svc or service(),
        clerk_ids=clerks,
        rules=rules,
        absences=absences,
        booked=booked,
        holidays=holidays,
        first_day=day,
        last_day=last_day or day,
        now=now or at(day - timedelta(days=1), 0, tz=tz),
        tz=tz,
    )


def local_starts(found: list[Slot], tz: ZoneInfo = BERLIN) -> list[str]:
    return [s.start.astimezone(tz).strftime("%H:%M") for s in found]


# --- local time and the clock changes ----------------------------------------------------


def test_clerk_working_8_to_12_gets_8am_local_slots_on_a_normal_day():
    found = slots([hours(MONDAY, 8, 12)], svc=service(60))
    assert local_starts(found) == ["08:00", "09:00", "10:00", "11:00"]
    assert found[0].start == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def test_clerk_working_8_to_12_gets_8am_local_slots_on_spring_forward_day():
    found = slots([hours(SPRING_FORWARD, 8, 12)], day=SPRING_FORWARD, svc=service(60))
    assert local_starts(found) == ["08:00", "09:00", "10:00", "11:00"]
    assert found[0].start == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)  # CEST, UTC+2


def test_clerk_working_8_to_12_gets_8am_local_slots_on_fall_back_day():
    found = slots([hours(FALL_BACK, 8, 12)], day=FALL_BACK, svc=service(60))
    assert local_starts(found) == ["08:00", "09:00", "10:00", "11:00"]
    assert found[0].start == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)  # CET, UTC+1


def test_same_rule_keeps_local_time_across_the_clock_change_week():
    week = [SPRING_FORWARD + timedelta(days=n) for n in range(-3, 4)]
    rules = [hours(day, 8, 9) for day in week]
    found = slots(rules, day=week[0], last_day=week[-1], svc=service(60))
    assert local_starts(found) == ["08:00"] * 7
    assert [s.start.hour for s in found] == [7, 7, 7, 6, 6, 6, 6]  # UTC hour moves


def test_hours_that_start_in_the_spring_gap_begin_when_the_clocks_jump():
    """02:30 does not exist on that night: the clerk starts at the jump, 03:00 local."""
    rule = WeeklyRule(1, SPRING_FORWARD.weekday(), time(2, 30), time(4, 0))
    found = slots([rule], day=SPRING_FORWARD)
    assert local_starts(found) == ["03:00", "03:30"]


def test_hours_wholly_inside_the_spring_gap_give_no_slots():
    rule = WeeklyRule(1, SPRING_FORWARD.weekday(), time(2, 0), time(3, 0))
    assert slots([rule], day=SPRING_FORWARD) == []


def test_repeated_autumn_hour_is_worked_twice_by_the_clock():
    """01:00-04:00 by the clock on the night the clocks go back lasts four real hours."""
    rule = WeeklyRule(1, FALL_BACK.weekday(), time(1, 0), time(4, 0))
    found = slots([rule], day=FALL_BACK, svc=service(60))
    assert [s.start.astimezone(BERLIN).isoformat() for s in found] == [
        "2026-10-25T01:00:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T03:00:00+01:00",
    ]


def test_hours_starting_in_the_repeated_autumn_hour_begin_at_its_first_occurrence():
    """The clerk arrives when the clock first shows 02:30 and leaves when it shows 03:30."""
    rule = WeeklyRule(1, FALL_BACK.weekday(), time(2, 30), time(3, 30))
    found = slots([rule], day=FALL_BACK)
    assert [s.start.astimezone(BERLIN).isoformat() for s in found] == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T02:30:00+01:00",
        "2026-10-25T03:00:00+01:00",
    ]


def test_slots_are_utc():
    found = slots([hours(MONDAY, 8, 9)])
    assert all(s.start.tzinfo is UTC and s.end.tzinfo is UTC for s in found)


def test_intervals_in_any_time_zone_compare_as_instants():
    in_utc = Interval(1, datetime(2026, 3, 2, 8, 0, tzinfo=UTC), datetime(2026, 3, 2, 8, 30, tzinfo=UTC))
    in_berlin = Interval(1, at(MONDAY, 9, 0), at(MONDAY, 9, 30))  # the same half hour
    assert slots([hours(MONDAY, 8, 12)], booked=[in_utc]) == slots([hours(MONDAY, 8, 12)], booked=[in_berlin])
    assert "09:00" not in local_starts(slots([hours(MONDAY, 8, 12)], booked=[in_utc]))


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="naive"):
        slots([hours(MONDAY, 8, 12)], now=datetime(2026, 3, 1, 12, 0))


# --- the grid ----------------------------------------------------------------------------


def test_slots_fill_the_window_back_to_back():
    found = slots([hours(MONDAY, 8, 10)])
    assert local_starts(found) == ["08:00", "08:30", "09:00", "09:30"]
    assert all(s.end - s.start == timedelta(minutes=30) for s in found)


def test_a_slot_must_end_by_the_end_of_the_window():
    found = slots([hours(MONDAY, 8, 10)], svc=service(45))
    assert local_starts(found) == ["08:00", "08:45"]  # 09:30-10:15 would overrun


def test_touching_rules_merge_into_one_window():
    found = slots([hours(MONDAY, 8, 10), hours(MONDAY, 10, 12)], svc=service(45))
    assert local_starts(found) == ["08:00", "08:45", "09:30", "10:15", "11:00"]


def test_overlapping_rules_merge_into_one_window():
    found = slots([hours(MONDAY, 9, 12), hours(MONDAY, 8, 11)], svc=service(45))
    assert local_starts(found) == ["08:00", "08:45", "09:30", "10:15", "11:00"]


def test_rule_inside_a_longer_one_keeps_the_longer_window():
    found = slots([hours(MONDAY, 8, 12), hours(MONDAY, 9, 10)], svc=service(60))
    assert local_starts(found) == ["08:00", "09:00", "10:00", "11:00"]


def test_separate_rules_of_one_day_each_start_their_own_grid():
    found = slots([hours(MONDAY, 8, 10), hours(MONDAY, 13, 14)], svc=service(45))
    assert local_starts(found) == ["08:00", "08:45", "13:00"]


def test_buffers_pack_back_to_back():
    svc = service(30, buffer_before=timedelta(minutes=5), buffer_after=timedelta(minutes=10))
    found = slots([hours(MONDAY, 8, 12)], svc=svc)
    assert local_starts(found) == ["08:05", "08:50", "09:35", "10:20", "11:05"]
    ranges = [blocked_range(s.start, s.end, svc) for s in found]
    assert ranges[0][0] == at(MONDAY, 8, 0)
    assert all(ranges[n][1] == ranges[n + 1][0] for n in range(len(ranges) - 1))
    assert ranges[-1][1] == at(MONDAY, 11, 45)


def test_blocked_range_adds_the_buffers_on_both_sides():
    svc = service(30, buffer_before=timedelta(minutes=5), buffer_after=timedelta(minutes=10))
    assert blocked_range(at(MONDAY, 9, 0), at(MONDAY, 9, 30), svc) == (
        at(MONDAY, 8, 55),
        at(MONDAY, 9, 40),
    )


# --- notice and horizon ------------------------------------------------------------------


def test_minimum_notice_hides_near_slots():
    svc = service(min_notice=timedelta(hours=1))
    found = slots([hours(MONDAY, 8, 12)], svc=svc, now=at(MONDAY, 8, 40))
    assert local_starts(found)[0] == "10:00"  # 09:30 is 50 minutes away


def test_slot_exactly_at_minimum_notice_is_offered():
    svc = service(min_notice=timedelta(hours=1))
    found = slots([hours(MONDAY, 8, 12)], svc=svc, now=at(MONDAY, 8, 30))
    assert local_starts(found)[0] == "09:30"


def test_slots_in_the_past_are_never_offered():
    now = at(MONDAY, 10, 0) + timedelta(microseconds=1)
    assert local_starts(slots([hours(MONDAY, 8, 12)], now=now))[0] == "10:30"


def test_horizon_hides_far_slots():
    svc = service(horizon=timedelta(days=2))
    rules = [hours(MONDAY + timedelta(days=n), 8, 10) for n in range(3)]
    found = slots(rules, svc=svc, last_day=MONDAY + timedelta(days=2), now=at(MONDAY, 8, 30))
    last = found[-1].start
    assert last == at(MONDAY + timedelta(days=2), 8, 30)  # exactly at the horizon: offered


def test_a_year_asked_for_is_cut_at_the_horizon():
    svc = service(60, horizon=timedelta(days=7))
    found = slots([hours(MONDAY, 8, 9)], svc=svc, last_day=MONDAY + timedelta(days=365))
    assert len(found) == 1


# --- days, absences and bookings ---------------------------------------------------------


def test_holiday_has_no_slots():
    tuesday = MONDAY + timedelta(days=1)
    rules = [hours(MONDAY, 8, 9), hours(tuesday, 8, 9)]
    found = slots(rules, svc=service(60), last_day=tuesday, holidays={tuesday})
    assert [s.start.date() for s in found] == [MONDAY]


def test_only_the_requested_days_are_returned():
    rules = [hours(MONDAY + timedelta(days=n), 8, 9) for n in range(7)]
    found = slots(rules, svc=service(60), day=MONDAY + timedelta(days=2), last_day=MONDAY + timedelta(days=4))
    assert [s.start.date().day for s in found] == [4, 5, 6]


def test_absence_hides_overlapping_slots():
    absence = Interval(1, at(MONDAY, 9, 10), at(MONDAY, 10, 0))
    found = slots([hours(MONDAY, 8, 11)], absences=[absence])
    assert local_starts(found) == ["08:00", "08:30", "10:00", "10:30"]


def test_booking_inside_a_longer_absence_does_not_shorten_it():
    absence = Interval(1, at(MONDAY, 9, 0), at(MONDAY, 11, 0))
    booking = Interval(1, at(MONDAY, 9, 30), at(MONDAY, 10, 0))
    found = slots([hours(MONDAY, 8, 12)], absences=[absence], booked=[booking])
    assert local_starts(found) == ["08:00", "08:30", "11:00", "11:30"]


def test_touching_booking_is_not_overlap():
    booking = Interval(1, at(MONDAY, 9, 0), at(MONDAY, 9, 30))
    found = slots([hours(MONDAY, 8, 11)], booked=[booking])
    assert local_starts(found) == ["08:00", "08:30", "09:30", "10:00", "10:30"]


def test_booking_overlapping_a_buffer_hides_the_slot():
    svc = service(30, buffer_before=timedelta(minutes=5), buffer_after=timedelta(minutes=10))
    booking = Interval(1, at(MONDAY, 8, 40), at(MONDAY, 8, 50))  # inside 08:05's after-buffer
    found = slots([hours(MONDAY, 8, 11)], svc=svc, booked=[booking])
    assert local_starts(found) == ["09:35", "10:20"]  # 08:50's before-buffer touches it too


def test_odd_booking_hides_slots_but_does_not_shift_the_grid():
    booking = Interval(1, at(MONDAY, 8, 10), at(MONDAY, 8, 40))
    found = slots([hours(MONDAY, 8, 10)], booked=[booking])
    assert local_starts(found) == ["09:00", "09:30"]


def test_rule_for_other_service_is_ignored():
    assert slots([hours(MONDAY, 8, 9, service_ids=frozenset({2}))]) == []
    assert len(slots([hours(MONDAY, 8, 9, service_ids=frozenset({1, 2}))])) == 2


def test_validity_range_is_inclusive():
    week = [MONDAY + timedelta(days=n) for n in range(5)]
    rules = [hours(day, 8, 9, valid_from=week[1], valid_until=week[3]) for day in week]
    found = slots(rules, svc=service(60), last_day=week[-1])
    assert [s.start.date() for s in found] == week[1:4]


def test_clerks_not_listed_are_ignored_with_their_absences_and_bookings():
    rules = [hours(MONDAY, 8, 9, clerk=1), hours(MONDAY, 8, 9, clerk=2)]
    busy_two = Interval(2, at(MONDAY, 8, 0), at(MONDAY, 9, 0))
    found = slots(rules, svc=service(60), clerks=[1], booked=[busy_two], absences=[busy_two])
    assert [s.clerk_ids for s in found] == [(1,)]


# --- several clerks, order ---------------------------------------------------------------


def test_two_clerks_merge_into_one_slot_with_both_ids():
    rules = [hours(MONDAY, 8, 9, clerk=7), hours(MONDAY, 8, 9, clerk=3)]
    found = slots(rules, svc=service(60), clerks=[7, 3])
    assert found == [Slot(at(MONDAY, 8).astimezone(UTC), at(MONDAY, 9).astimezone(UTC), (3, 7))]


def test_slot_names_only_the_clerks_free_for_it():
    rules = [hours(MONDAY, 8, 10, clerk=1), hours(MONDAY, 8, 10, clerk=2)]
    booking = Interval(1, at(MONDAY, 9, 0), at(MONDAY, 10, 0))
    found = slots(rules, svc=service(60), clerks=[1, 2], booked=[booking])
    assert [(local_starts([s])[0], s.clerk_ids) for s in found] == [("08:00", (1, 2)), ("09:00", (2,))]


def test_clerks_on_different_grids_give_separate_slots():
    rules = [hours(MONDAY, 8, 9, clerk=1), WeeklyRule(2, MONDAY.weekday(), time(8, 15), time(9, 15))]
    found = slots(rules, svc=service(60), clerks=[1, 2])
    assert [(local_starts([s])[0], s.clerk_ids) for s in found] == [("08:00", (1,)), ("08:15", (2,))]


def test_order_is_stable_when_inputs_shuffled():
    rules = [hours(MONDAY + timedelta(days=d), 8, 12, clerk=c) for d in range(5) for c in (1, 2, 3)]
    rules += [hours(MONDAY, 13, 15, clerk=2), hours(MONDAY, 14, 16, clerk=2)]
    booked = [Interval(c, at(MONDAY, 8 + c), at(MONDAY, 9 + c)) for c in (1, 2, 3)]
    absences = [Interval(2, at(MONDAY, 14, 10), at(MONDAY, 14, 50))]
    friday = MONDAY + timedelta(days=4)
    expected = slots(rules, clerks=[1, 2, 3], booked=booked, absences=absences, last_day=friday)
    shuffle = random.Random(7).shuffle
    for _ in range(20):
        for items in (rules, booked, absences):
            shuffle(items)
        clerks = [3, 1, 2, 1]
        shuffle(clerks)
        assert slots(rules, clerks=clerks, booked=booked, absences=absences, last_day=friday) == expected


def test_inputs_may_be_one_shot_generators():
    rules = [hours(MONDAY, 8, 10, clerk=1), hours(MONDAY, 8, 10, clerk=2)]
    booked = [Interval(1, at(MONDAY, 8), at(MONDAY, 9))]
    expected = slots(rules, clerks=[1, 2], booked=booked, holidays=[MONDAY + timedelta(days=1)])
    found = slots(
        (r for r in rules),
        clerks=(c for c in [1, 2]),
        booked=(b for b in booked),
        absences=(a for a in []),
        holidays=(d for d in [MONDAY + timedelta(days=1)]),
    )
    assert found == expected and len(found) == 4


def test_service_without_duration_is_refused():
    with pytest.raises(ValueError):
        slots([hours(MONDAY, 8, 9)], svc=service(0))


# --- properties against a naive reference ------------------------------------------------
#
# The reference is written for obviousness, not speed: it finds "the first moment the clock
# shows a wall time" by walking the clock in quarter hours (rules here are on quarter hours,
# and so are the clock changes of the zones used), builds every grid position, and compares
# every candidate with every absence and booking as datetimes.

# The 2026 clock changes of each zone, and an ordinary week.
CHANGES = [
    (BERLIN, SPRING_FORWARD),
    (BERLIN, FALL_BACK),
    (NEW_YORK, date(2026, 3, 8)),
    (NEW_YORK, date(2026, 11, 1)),
    (BERLIN, MONDAY),
]
QUARTER = timedelta(minutes=15)


@cache
def reference_moment(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The first moment the clock in ``tz`` shows ``wall`` on ``day`` or later."""
    wanted = datetime.combine(day, wall)
    moment = datetime.combine(day, time(0), tzinfo=UTC) - timedelta(hours=15)
    while moment.astimezone(tz).replace(tzinfo=None) < wanted:
        moment += QUARTER
    return moment


def reference_windows(rules, clerk, day, service_id, tz):
    windows = sorted(
        (reference_moment(day, r.start, tz), reference_moment(day, r.end, tz))
        for r in rules
        if r.clerk_id == clerk
        and r.weekday == day.weekday()
        and (r.valid_from is None or r.valid_from <= day)
        and (r.valid_until is None or day <= r.valid_until)
        and (r.service_ids is None or service_id in r.service_ids)
    )
    merged: list[list[datetime]] = []
    for start, end in windows:
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def overlaps(a_start, a_end, b_start, b_end) -> bool:
    return a_start < b_end and b_start < a_end


def reference_slots(case) -> list[tuple[datetime, datetime, tuple[int, ...]]]:
    svc, tz = case["service"], case["tz"]
    step = svc.buffer_before + svc.duration + svc.buffer_after
    obstacles = case["absences"] + case["booked"]
    free: dict[datetime, set[int]] = {}
    day = case["first_day"]
    while day <= case["last_day"]:
        for clerk in case["clerks"]:
            if day in case["holidays"]:
                continue
            for window_start, window_end in reference_windows(case["rules"], clerk, day, svc.id, tz):
                blocked_start = window_start
                while blocked_start + step <= window_end:
                    start = blocked_start + svc.buffer_before
                    blocked_end = blocked_start + step
                    if case["now"] + svc.min_notice <= start <= case["now"] + svc.horizon and not any(
                        o.clerk_id == clerk and overlaps(blocked_start, blocked_end, o.start, o.end)
                        for o in obstacles
                    ):
                        free.setdefault(start, set()).add(clerk)
                    blocked_start += step
        day += timedelta(days=1)
    return [(s, s + svc.duration, tuple(sorted(free[s]))) for s in sorted(free)]


@st.composite
def cases(draw):
    tz, change = draw(st.sampled_from(CHANGES))
    first_day = change - timedelta(days=draw(st.integers(0, 3)))
    last_day = first_day + timedelta(days=draw(st.integers(0, 3)))
    days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    clerks = draw(st.sampled_from([[1], [2, 1], [1, 2, 3], [3, 2]]))
    near = st.sampled_from([first_day + timedelta(days=n) for n in range(-2, 6)])
    hour = st.integers(0, 22) | st.sampled_from([0, 1, 2, 3])  # the clocks change at night

    @st.composite
    def rules(draw):
        """One rule, or the same hours for every listed clerk (so slots get several ids)."""
        start = time(draw(hour), draw(st.sampled_from([0, 0, 0, 15, 30, 45])))
        end_minutes = min(start.hour * 60 + start.minute + 15 * draw(st.integers(1, 40)), 23 * 60 + 45)
        rule = WeeklyRule(
            clerk_id=draw(st.sampled_from([*clerks, 4])),  # 4 is never listed
            weekday=draw(st.sampled_from([d.weekday() for d in days] * 3 + list(range(7)))),
            start=start,
            end=time(end_minutes // 60, end_minutes % 60),
            valid_from=draw(st.none() | st.none() | near),
            valid_until=draw(st.none() | st.none() | near),
            service_ids=draw(st.none() | st.none() | st.frozensets(st.integers(1, 2), max_size=2)),
        )
        if draw(st.booleans()):
            return [rule]
        return [dataclasses.replace(rule, clerk_id=clerk) for clerk in clerks]

    all_rules = [rule for group in draw(st.lists(rules(), min_size=1, max_size=8)) for rule in group]

    @st.composite
    def intervals(draw):
        """Absences and bookings near working hours, in UTC or local time."""
        rule = draw(st.sampled_from(all_rules))
        day = draw(st.sampled_from([d for d in days if d.weekday() == rule.weekday] or days))
        start = datetime.combine(day, rule.start, tzinfo=tz) + 5 * draw(st.integers(-12, 60)) * MINUTE
        # The length is elapsed time (wall-clock arithmetic across the spring gap could make
        # an interval of no length at all, which blocks nothing).
        end = (start.astimezone(UTC) + 5 * draw(st.integers(1, 48)) * MINUTE).astimezone(tz)
        zone = draw(st.sampled_from([UTC, tz]))
        clerk = draw(st.sampled_from([*clerks, 4]))
        return Interval(clerk, start.astimezone(zone), end.astimezone(zone))

    five_minutes = st.integers(0, 4).map(lambda n: n * 5 * MINUTE)
    svc = ServiceRules(
        id=1,
        duration=5 * draw(st.integers(1, 24)) * MINUTE,
        buffer_before=draw(five_minutes),
        buffer_after=draw(five_minutes),
        min_notice=draw(st.just(0) | st.integers(0, 600) | st.integers(0, 4000)) * MINUTE,
        horizon=draw(st.just(60 * 24 * 60) | st.integers(0, 7 * 24 * 60)) * MINUTE,
    )
    now = datetime.combine(first_day, time(0), tzinfo=tz) + timedelta(
        seconds=draw(st.integers(-2 * 86400, 12 * 3600)), microseconds=draw(st.integers(0, 999_999))
    )
    return {
        "tz": tz,
        "first_day": first_day,
        "last_day": last_day,
        "clerks": clerks,
        "rules": all_rules,
        "absences": draw(st.lists(intervals(), max_size=4)),
        "booked": draw(st.lists(intervals(), max_size=8)),
        "holidays": set(draw(st.lists(st.sampled_from(days), max_size=1))),
        "service": svc,
        "now": now.astimezone(draw(st.sampled_from([UTC, tz]))),
    }


def run(case, order: random.Random | None = None) -> list[Slot]:
    """free_slots on the case; with ``order``, every input shuffled and given as a generator."""

    def feed(items):
        items = list(items)
        if order is not None:
            order.shuffle(items)
        return (item for item in items)

    return free_slots(
        service=case["service"],
        clerk_ids=feed(case["clerks"]),
        rules=feed(case["rules"]),
        absences=feed(case["absences"]),
        booked=feed(case["booked"]),
        holidays=case["holidays"],
        first_day=case["first_day"],
        last_day=case["last_day"],
        now=case["now"],
        tz=case["tz"],
    )


PROPERTY = settings(
    deadline=None,
    max_examples=200,
    database=None,  # leave no .hypothesis folder in the tree
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY
@given(cases())
def test_no_offered_slot_breaks_a_booking_rule(case):
    svc, tz = case["service"], case["tz"]
    found = run(case)
    starts = [s.start for s in found]
    assert starts == sorted(set(starts))
    for slot in found:
        assert slot.start.tzinfo is UTC and slot.end - slot.start == svc.duration
        assert list(slot.clerk_ids) == sorted(set(slot.clerk_ids)) and slot.clerk_ids
        assert set(slot.clerk_ids) <= set(case["clerks"])
        assert case["now"] <= case["now"] + svc.min_notice <= slot.start <= case["now"] + svc.horizon
        day = slot.start.astimezone(tz).date()
        assert day not in case["holidays"]
        assert case["first_day"] <= day <= case["last_day"]
        blocked_start, blocked_end = blocked_range(slot.start, slot.end, svc)
        for clerk in slot.clerk_ids:
            for obstacle in case["absences"] + case["booked"]:
                if obstacle.clerk_id == clerk:
                    assert not overlaps(blocked_start, blocked_end, obstacle.start, obstacle.end)
            windows = reference_windows(case["rules"], clerk, day, svc.id, tz)
            assert any(ws <= blocked_start and blocked_end <= we for ws, we in windows)


@PROPERTY
@given(cases(), st.randoms(use_true_random=False))
def test_offers_exactly_what_the_naive_reference_offers_in_any_input_order(case, order):
    expected = reference_slots(case)
    assert [(s.start, s.end, s.clerk_ids) for s in run(case)] == expected
    assert [(s.start, s.end, s.clerk_ids) for s in run(case, order)] == expected
