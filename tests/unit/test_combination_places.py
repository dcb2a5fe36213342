"""Composite appointments where the city works: the slots the engine finds for several services,
each with its persons (``combination.combined``), when clerks work at several locations and
without one, in public and reserved hours, with a department's share, closing days, absences
and bookings. Properties on random weeks around the clock changes; the naive reference is the
one of test_slots_places.py, given only the hours open to every service of the combination."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_slots import CHANGES, MINUTE, PROPERTY, engine, overlaps, reference_windows
from tests.unit.test_slots_places import ANNEX, TOWN_HALL, reference_placed, reference_share, run_placed
from visits.booking.combination import combined

Closing = engine.Closing
Interval = engine.Interval
ServiceRules = engine.ServiceRules
WeeklyRule = engine.WeeklyRule

DEPOT = 30  # a third location
SERVICE_IDS = (1, 2, 3)
LOCATIONS = (TOWN_HALL, ANNEX, DEPOT)

# Module-level strategies of plain numbers, turned into rules and intervals by the case: drawing
# them is several times cheaper than building strategies per example.
HOURS = st.tuples(
    st.integers(0, 3),  # clerk: the case's first, second, third, or every one (slots of several)
    st.integers(0, 2),  # day of the listing
    st.integers(0, 22) | st.sampled_from([0, 1, 2, 3, 8]),  # start hour; the clocks change at night
    st.sampled_from([0, 0, 15, 30, 45]),
    st.integers(1, 40),  # quarters of an hour
    st.none() | st.just(frozenset(SERVICE_IDS)) | st.frozensets(st.sampled_from(SERVICE_IDS), min_size=1),
    st.integers(0, 3),  # 0: without a location, else the case's first, second, third
    st.sampled_from([False, False, True]),  # reserved
)
# near someone's hours: which hours, 5-minute steps from their start, 5-minute steps long
NEAR = st.tuples(st.integers(0, 99), st.integers(-12, 60), st.integers(1, 30))
AWAY = st.tuples(st.integers(0, 3), NEAR, st.booleans())  # clerk, when, in UTC
ONE_SERVICE = st.tuples(
    st.integers(1, 6),  # 5-minute steps
    st.integers(0, 4),  # buffer before, 5-minute steps
    st.integers(0, 4),  # buffer after
    st.sampled_from([0] * 12 + [60, 600, 2000]),  # minimum notice, minutes: the largest counts
    st.sampled_from([60 * 24] * 12 + [24, 48, 72]),  # horizon, hours: the smallest counts
)


@st.composite
def composite_cases(draw):
    """Random days around the clock changes for 2-3 services with 1-3 persons each, clerks with
    hours at 1-3 locations (some without one), reserved hours, a share, closings of a whole
    day or part of one, absences and bookings, and a listing's where and for whom."""
    tz, change = draw(st.sampled_from(CHANGES))
    first_day = change - timedelta(days=draw(st.integers(0, 2)))
    days = [first_day + timedelta(days=n) for n in range(draw(st.integers(1, 3)))]
    clerks = draw(st.sampled_from([(1,), (1, 2), (2, 1, 3)]))
    places = draw(st.lists(st.sampled_from(LOCATIONS), min_size=1, max_size=3, unique=True))

    rules = []
    for clerk, day, hour, minute, quarters, offered, place, reserved in draw(
        st.lists(HOURS, min_size=1, max_size=10)
    ):
        start = time(hour, minute)
        end = min(hour * 60 + minute + 15 * quarters, 23 * 60 + 45)
        rule = WeeklyRule(
            clerks[clerk % len(clerks)],
            days[day % len(days)].weekday(),
            start,
            time(end // 60, end % 60),
            service_ids=offered,
            location_id=[None, *places][place % (len(places) + 1)],
            reserved=reserved,
        )
        rules += [dataclasses.replace(rule, clerk_id=c) for c in clerks] if clerk == 3 else [rule]

    def near(which, offset, length) -> tuple[datetime, datetime]:
        """Elapsed time from near someone's hours (wall-clock arithmetic could run backwards)."""
        rule = rules[which % len(rules)]
        day = next((d for d in days if d.weekday() == rule.weekday), days[0])
        start = datetime.combine(day, rule.start, tzinfo=tz).astimezone(UTC) + 5 * offset * MINUTE
        return start, start + 5 * length * MINUTE

    def away(clerk, hours_near, in_utc) -> Interval:
        """An absence or booking near someone's hours, in UTC or local time; clerk 4 is never listed."""
        start, end = near(*hours_near)
        zone = UTC if in_utc else tz
        return Interval([*clerks, 4][clerk % (len(clerks) + 1)], start.astimezone(zone), end.astimezone(zone))

    absences = [away(*drawn) for drawn in draw(st.lists(AWAY, max_size=3))]
    booked = [away(*drawn) for drawn in draw(st.lists(AWAY, max_size=6))]

    closings = []
    for place, day, whole, hours_near in draw(
        st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.booleans(), NEAR), max_size=4)
    ):
        location = places[place % len(places)]
        if whole:  # a closing day (Rosenmontag): local midnight to midnight
            day = days[day % len(days)]
            start, end = (datetime.combine(d, time(0), tzinfo=tz) for d in (day, day + timedelta(days=1)))
        else:  # part of a day (a staff meeting afternoon)
            start, end = near(*hours_near)
        closings.append(Closing(location, start, end))

    share = draw(st.sampled_from([0, 0, 25, 50, 100]) | st.integers(0, 100))
    items = []
    for service_id in draw(st.lists(st.sampled_from(SERVICE_IDS), min_size=2, max_size=3, unique=True)):
        steps, before, after, notice, horizon = draw(ONE_SERVICE)
        rules_of = ServiceRules(
            id=service_id,
            duration=5 * steps * MINUTE,
            buffer_before=5 * before * MINUTE,
            buffer_after=5 * after * MINUTE,
            min_notice=notice * MINUTE,
            horizon=timedelta(hours=horizon),
            reserved_share=share,  # the department's, the same for all its services
        )
        items.append((rules_of, draw(st.integers(1, 3))))
    now = datetime.combine(first_day, time(0), tzinfo=tz) + timedelta(
        seconds=draw(st.integers(-2 * 86400, 0) | st.integers(0, 10 * 3600))
    )
    return {
        "tz": tz,
        "first_day": days[0],
        "last_day": days[-1],
        "clerks": list(clerks),
        "holidays": set(draw(st.sampled_from([(), (), (), (days[0],), (days[-1],)]))),
        "now": now,
        "items": items,
        "service": combined(items),
        "rules": rules,
        "places": places,
        "absences": absences,
        "booked": booked,
        "closings": closings,
        "on_site": draw(st.booleans()),
        "location_id": draw(st.none() | st.sampled_from(places)),
        "hidden_after": draw(st.none() | st.integers(-24, 80).map(lambda h: now + timedelta(hours=h))),
    }


def needed(case) -> frozenset[int]:
    return frozenset(service.id for service, _persons in case["items"])


def open_to_all(case):
    """The case as one service in the reference's terms: only the hours open to every service
    of the combination (naively: each rule on its own), which then serve "the" service."""
    rules = [
        dataclasses.replace(rule, service_ids=None)
        for rule in case["rules"]
        if rule.service_ids is None or needed(case) <= rule.service_ids
    ]
    return {**case, "rules": rules, "service": dataclasses.replace(case["service"], combines=frozenset())}


def windows_at(case, clerk, day, location, reserved):
    """The clerk's contiguous hours of the day at ``location`` (None: without one) of one kind,
    open to every service of the combination."""
    group = [r for r in open_to_all(case)["rules"] if (r.location_id, r.reserved) == (location, reserved)]
    return reference_windows(group, clerk, day, case["service"].id, case["tz"])


def fitting_hours(case, slot, clerk) -> list[tuple[int | None, bool]]:
    """The (location, reserved) hours of the clerk in which the slot's whole blocked range lies
    in one window, clear of the clerk's absences and bookings and of the closings there."""
    blocked_start, blocked_end = engine.blocked_range(slot.start, slot.end, case["service"])
    day = slot.start.astimezone(case["tz"]).date()
    obstacles = [o for o in case["absences"] + case["booked"] if o.clerk_id == clerk]
    kinds = {(rule.location_id, rule.reserved) for rule in case["rules"]}
    return [
        (location, reserved)
        for location, reserved in kinds
        if (location is not None or not case["on_site"])
        and (not case["on_site"] or location == slot.location_id)
        and not any(
            overlaps(blocked_start, blocked_end, o.start, o.end)
            for o in obstacles + [c for c in case["closings"] if c.location_id == location]
        )
        and any(
            ws <= blocked_start and blocked_end <= we
            for ws, we in windows_at(case, clerk, day, location, reserved)
        )
    ]


def keys(found) -> list[tuple]:
    return [(s.start, s.end, s.clerk_ids, s.location_id, s.reserved) for s in found]


@PROPERTY
@given(composite_cases())
def test_an_on_site_composite_slot_lies_in_one_window_at_its_location_open_to_all_and_clear_of_everything(
    case,
):
    case = {**case, "on_site": True}
    total = sum((service.duration * persons for service, persons in case["items"]), start=timedelta(0))
    for slot in run_placed(case):
        assert slot.location_id in case["places"] and case["location_id"] in (None, slot.location_id)
        assert slot.end - slot.start == total
        blocked_start, blocked_end = engine.blocked_range(slot.start, slot.end, case["service"])
        for clerk in slot.clerk_ids:
            assert fitting_hours(case, slot, clerk), (slot, clerk)
            for obstacle in case["absences"] + case["booked"]:
                if obstacle.clerk_id == clerk:
                    assert not overlaps(blocked_start, blocked_end, obstacle.start, obstacle.end)
        for closing in case["closings"]:
            if closing.location_id == slot.location_id:
                assert not overlaps(blocked_start, blocked_end, closing.start, closing.end)


@PROPERTY
@given(composite_cases())
def test_the_public_never_gets_a_composite_slot_of_reserved_hours_or_the_share_before_its_release(case):
    hidden_after = case["hidden_after"] or case["now"]
    case = {**case, "hidden_after": hidden_after}
    for slot in run_placed(case):
        if slot.start <= hidden_after:
            continue
        assert not slot.reserved
        day = slot.start.astimezone(case["tz"]).date()
        for clerk in slot.clerk_ids:
            kept = reference_share(open_to_all(case), clerk, day)
            fitting = fitting_hours(case, slot, clerk)
            assert any(not reserved and (slot.start, location) not in kept for location, reserved in fitting)


@PROPERTY
@given(composite_cases())
def test_public_and_staff_get_exactly_the_composite_slots_of_the_naive_reference(case):
    reference = open_to_all(case)
    assert keys(run_placed(case)) == reference_placed(reference)
    staff = {**case, "hidden_after": None}
    assert keys(run_placed(staff)) == reference_placed({**reference, "hidden_after": None})


@PROPERTY
@given(composite_cases())
def test_a_location_filter_gives_that_locations_composite_slots_and_video_slots_name_none(case):
    anywhere = run_placed({**case, "on_site": True, "location_id": None})
    for location in case["places"]:
        there = run_placed({**case, "on_site": True, "location_id": location})
        assert keys(there) == keys([s for s in anywhere if s.location_id == location])
    video = run_placed({**case, "on_site": False})
    assert all(slot.location_id is None for slot in video)
    by_video = {(s.start, clerk) for s in video for clerk in s.clerk_ids}
    assert {(s.start, clerk) for s in anywhere for clerk in s.clerk_ids} <= by_video
