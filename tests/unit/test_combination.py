"""Several services in one appointment (visits/booking/combination.py) and the slots the
engine finds for them: which services combine, the combined rules, and that a composite
slot lies inside one stretch of hours open to all its services and never overlaps an
absence or booking of its clerk. Pure: no database, no app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from visits.booking.combination import CombinationRefused, check, combined, common_clerks
from visits.booking.slots import Interval, ServiceRules, WeeklyRule, blocked_range, free_slots

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 5, 4)
MINUTE = timedelta(minutes=1)


@dataclass
class Offered:
    id: int
    max_persons: int = 1
    combinable: bool = True
    department_id: int | None = 1
    modes: tuple[str, ...] = ("on_site", "video")


ANMELDUNG = ServiceRules(id=1, duration=15 * MINUTE, buffer_after=5 * MINUTE, min_notice=60 * MINUTE)
AUSWEIS = ServiceRules(
    id=2, duration=20 * MINUTE, buffer_before=10 * MINUTE, horizon=timedelta(days=30)
)
PARKEN = ServiceRules(id=3, duration=10 * MINUTE, min_notice=24 * 60 * MINUTE)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


def slots_of(rules, services, *, clerks=(1,), absences=(), booked=(), day=MONDAY):
    return free_slots(
        service=combined(services),
        clerk_ids=clerks,
        rules=rules,
        absences=absences,
        booked=booked,
        holidays=(),
        first_day=day,
        last_day=day,
        now=at(day - timedelta(days=2), 0),
        tz=BERLIN,
    )


# --- which services combine -------------------------------------------------------------


def test_one_service_within_its_maximum_is_fine_even_when_not_combinable():
    check([(Offered(1, max_persons=3, combinable=False), 3)])


def test_more_persons_than_the_service_takes_are_refused_with_its_maximum():
    with pytest.raises(CombinationRefused) as refused:
        check([(Offered(1), 1), (Offered(2, max_persons=2), 3)])
    assert (refused.value.code, refused.value.service_id, refused.value.limit) == ("too_many_persons", 2, 2)


def test_a_service_the_admin_did_not_mark_combinable_is_refused_in_a_combination():
    with pytest.raises(CombinationRefused) as refused:
        check([(Offered(1), 1), (Offered(2, combinable=False), 1)])
    assert (refused.value.code, refused.value.service_id) == ("not_combinable", 2)


def test_services_of_another_department_do_not_combine():
    with pytest.raises(CombinationRefused) as refused:
        check([(Offered(1), 1), (Offered(2, department_id=7), 1)])
    assert refused.value.code == "not_combinable"


def test_services_without_a_way_to_meet_in_common_do_not_combine():
    # Video-only advice and an on-site-only ID card: one appointment would have no mode.
    check([(Offered(1, modes=("video", "on_site")), 1), (Offered(2, modes=("on_site",)), 1)])
    with pytest.raises(CombinationRefused) as refused:
        check([(Offered(1, modes=("video",)), 1), (Offered(2, modes=("on_site", "phone")), 1)])
    assert (refused.value.code, refused.value.service_id) == ("not_combinable", 2)


def test_the_same_service_twice_is_refused():
    with pytest.raises(CombinationRefused) as refused:
        check([(Offered(1, max_persons=4), 1), (Offered(1, max_persons=4), 2)])
    assert refused.value.code == "duplicate_service"


def test_no_service_at_all_is_refused():
    with pytest.raises(CombinationRefused) as refused:
        check([])
    assert refused.value.code == "no_service"


# --- the combined rules -----------------------------------------------------------------


def test_one_service_for_one_person_keeps_its_own_rules():
    assert combined([(AUSWEIS, 1)]) is AUSWEIS


def test_durations_add_up_per_person_and_the_strictest_limits_win():
    rules = combined([(ANMELDUNG, 1), (AUSWEIS, 2), (PARKEN, 1)])
    assert rules.duration == (15 + 2 * 20 + 10) * MINUTE
    assert (rules.buffer_before, rules.buffer_after) == (10 * MINUTE, 5 * MINUTE)
    assert rules.min_notice == 24 * 60 * MINUTE
    assert rules.horizon == timedelta(days=30)
    assert rules.combines == {1, 2, 3}


def test_only_clerks_offering_every_service_remain():
    assert common_clerks([[1, 2, 3], [3, 2], [2, 3, 9]]) == [2, 3]


# --- slots of a combination -------------------------------------------------------------


def test_a_family_gets_one_slot_of_the_summed_length_with_the_largest_buffers():
    rules = [WeeklyRule(1, MONDAY.weekday(), time(8), time(10))]
    found = slots_of(rules, [(ANMELDUNG, 1), (AUSWEIS, 2)])
    # 10 min before + 55 min + 5 min after: a 70-minute step, one fits in two hours.
    assert [(s.start, s.end) for s in found] == [(at(MONDAY, 8, 10).astimezone(UTC), at(MONDAY, 9, 5).astimezone(UTC))]


def test_hours_kept_for_one_of_the_services_only_do_not_count():
    rules = [
        WeeklyRule(1, MONDAY.weekday(), time(8), time(10), service_ids=frozenset({1})),
        WeeklyRule(1, MONDAY.weekday(), time(13), time(15), service_ids=frozenset({1, 2, 5})),
    ]
    found = slots_of(rules, [(ANMELDUNG, 1), (AUSWEIS, 2)])
    assert [s.start.astimezone(BERLIN).strftime("%H:%M") for s in found] == ["13:10"]
    assert slots_of(rules, [(ANMELDUNG, 1)])[0].start == at(MONDAY, 8).astimezone(UTC)


def test_a_booking_in_the_middle_of_the_window_leaves_no_room_for_the_whole_family():
    rules = [WeeklyRule(1, MONDAY.weekday(), time(8), time(10))]
    booked = [Interval(1, at(MONDAY, 9, 0), at(MONDAY, 9, 10))]
    assert slots_of(rules, [(ANMELDUNG, 1), (AUSWEIS, 2)], booked=booked) == []
    assert slots_of(rules, [(ANMELDUNG, 1)], booked=booked)  # one person still fits


# --- properties ---------------------------------------------------------------------------

SERVICES = {
    1: ServiceRules(id=1, duration=15 * MINUTE, buffer_after=5 * MINUTE),
    2: ServiceRules(id=2, duration=20 * MINUTE, buffer_before=10 * MINUTE),
    3: ServiceRules(id=3, duration=10 * MINUTE),
}
DAYS = [MONDAY + timedelta(days=n) for n in range(3)]


@st.composite
def offices(draw):
    clerks = (1, 2, 3)
    rules = []
    for _ in range(draw(st.integers(1, 8))):
        start = draw(st.integers(6, 16))
        end = draw(st.integers(start + 1, 19))
        offered = draw(st.none() | st.frozensets(st.sampled_from([1, 2, 3]), min_size=1))
        rules.append(
            WeeklyRule(draw(st.sampled_from(clerks)), draw(st.sampled_from(DAYS)).weekday(), time(start), time(end),
                       service_ids=offered)
        )

    @st.composite
    def intervals(draw_):
        start = at(draw_(st.sampled_from(DAYS)), draw_(st.integers(6, 18)), 5 * draw_(st.integers(0, 11)))
        return Interval(draw_(st.sampled_from(clerks)), start, start + 5 * draw_(st.integers(1, 30)) * MINUTE)

    ids = draw(st.lists(st.sampled_from([1, 2, 3]), min_size=1, max_size=3, unique=True))
    items = [(SERVICES[i], draw(st.integers(1, 3))) for i in ids]
    return {
        "rules": rules,
        "items": items,
        "absences": draw(st.lists(intervals(), max_size=3)),
        "booked": draw(st.lists(intervals(), max_size=6)),
    }


def _windows(rules, clerk: int, day: date, needed: frozenset[int]) -> list[tuple[datetime, datetime]]:
    """Contiguous hours of the clerk on the day open to every needed service (naive reference)."""
    spans = sorted(
        (at(day, rule.start.hour), at(day, rule.end.hour))
        for rule in rules
        if rule.clerk_id == clerk and rule.weekday == day.weekday()
        and (rule.service_ids is None or needed <= rule.service_ids)
    )
    joined: list[list[datetime]] = []
    for start, end in spans:
        if joined and start <= joined[-1][1]:
            joined[-1][1] = max(joined[-1][1], end)
        else:
            joined.append([start, end])
    return [(start, end) for start, end in joined]


@settings(deadline=None, max_examples=300, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(offices())
def test_a_composite_slot_lies_in_one_stretch_open_to_all_its_services_and_overlaps_nothing(office):
    rules = combined(office["items"])
    needed = frozenset(service.id for service, _persons in office["items"])
    found = free_slots(
        service=rules, clerk_ids=(1, 2, 3), rules=office["rules"], absences=office["absences"],
        booked=office["booked"], holidays=(), first_day=DAYS[0], last_day=DAYS[-1],
        now=at(DAYS[0] - timedelta(days=1), 0), tz=BERLIN,
    )
    total = sum((service.duration * persons for service, persons in office["items"]), start=timedelta(0))
    for slot in found:
        assert slot.end - slot.start == total
        blocked_start, blocked_end = blocked_range(slot.start, slot.end, rules)
        day = slot.start.astimezone(BERLIN).date()
        for clerk in slot.clerk_ids:
            assert any(
                start <= blocked_start and blocked_end <= end for start, end in _windows(office["rules"], clerk, day, needed)
            )
            for obstacle in office["absences"] + office["booked"]:
                if obstacle.clerk_id == clerk:
                    assert obstacle.end <= blocked_start or blocked_end <= obstacle.start
