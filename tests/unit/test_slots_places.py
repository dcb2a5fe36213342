"""The slot engine with places and reserved hours: a slot lies in one contiguous window of
its clerk at one location, a closing day closes only its location's hours, and reserved
hours are the public's only from their release on (staff always have them), and so are the
slots of a department's reserved share. One behaviour per test, then the same properties
against a naive reference on random weeks."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_slots import (
    BERLIN,
    MONDAY,
    PROPERTY,
    at,
    cases,
    engine,
    hours,
    local_starts,
    overlaps,
    reference_windows,
    service,
)

Closing = engine.Closing
Interval = engine.Interval
free_slots = engine.free_slots

TOWN_HALL, ANNEX = 10, 20
NOW = at(MONDAY - timedelta(days=3), 8)


def listed(rules, *, clerks=(1, 2), absences=(), booked=(), now=NOW, **where):
    return free_slots(
        service(), clerks, rules, absences, booked, (), MONDAY, MONDAY, now, BERLIN, **where
    )


def described(found) -> list[tuple[str, int | None, tuple[int, ...], bool]]:
    return [
        (start, slot.location_id, slot.clerk_ids, slot.reserved)
        for start, slot in zip(local_starts(found), found, strict=True)
    ]


# --- where ---------------------------------------------------------------------------------


def test_two_locations_at_the_same_time_are_two_slots_each_naming_its_clerks():
    rules = [hours(MONDAY, 8, 9, 1, location_id=ANNEX), hours(MONDAY, 8, 9, 2, location_id=TOWN_HALL)]
    assert described(listed(rules, on_site=True)) == [
        ("08:00", TOWN_HALL, (2,), False),
        ("08:00", ANNEX, (1,), False),
        ("08:30", TOWN_HALL, (2,), False),
        ("08:30", ANNEX, (1,), False),
    ]


def test_an_on_site_listing_at_one_location_uses_only_its_hours():
    rules = [hours(MONDAY, 8, 9, 1, location_id=ANNEX), hours(MONDAY, 10, 11, 2, location_id=TOWN_HALL)]
    assert local_starts(listed(rules, on_site=True, location_id=ANNEX)) == ["08:00", "08:30"]


def test_an_on_site_listing_leaves_out_hours_without_a_location():
    rules = [hours(MONDAY, 8, 9, 1), hours(MONDAY, 10, 11, 2, location_id=TOWN_HALL)]
    assert local_starts(listed(rules, on_site=True)) == ["10:00", "10:30"]


def test_a_video_listing_uses_every_hour_and_its_slots_name_no_location():
    rules = [hours(MONDAY, 8, 9, 1), hours(MONDAY, 8, 9, 2, location_id=TOWN_HALL)]
    assert described(listed(rules)) == [("08:00", None, (1, 2), False), ("08:30", None, (1, 2), False)]


def test_hours_at_two_locations_do_not_join_into_one_window():
    """09:00-09:45 at one place and 09:45-10:30 at another: no 45-minute slot across both."""
    rules = [hours(MONDAY, 8, 9, 1, location_id=TOWN_HALL), hours(MONDAY, 9, 10, 1, location_id=ANNEX)]
    found = free_slots(service(90), (1,), rules, (), (), (), MONDAY, MONDAY, NOW, BERLIN)
    assert found == []


# --- closing days ------------------------------------------------------------------------------


def test_a_closing_day_closes_only_the_hours_at_its_location():
    rules = [
        hours(MONDAY, 8, 9, 1, location_id=TOWN_HALL),
        hours(MONDAY, 8, 9, 2, location_id=ANNEX),
        hours(MONDAY, 10, 11, 1),  # without a location: not closed
    ]
    closed = [Closing(TOWN_HALL, at(MONDAY, 0), at(MONDAY + timedelta(days=1), 0))]
    assert described(listed(rules, closings=closed, on_site=True)) == [
        ("08:00", ANNEX, (2,), False),
        ("08:30", ANNEX, (2,), False),
    ]
    assert described(listed(rules, closings=closed)) == [
        ("08:00", None, (2,), False),
        ("08:30", None, (2,), False),
        ("10:00", None, (1,), False),
        ("10:30", None, (1,), False),
    ]


# --- reserved hours -------------------------------------------------------------------------


def test_reserved_hours_are_hidden_from_the_public_until_their_release():
    rules = [hours(MONDAY, 8, 10, 1, location_id=TOWN_HALL, reserved=True)]
    staff = listed(rules, on_site=True)
    assert [s.reserved for s in staff] == [True] * 4
    assert listed(rules, on_site=True, reserved_hidden_after=at(MONDAY, 8, 59)) == staff[:2]
    assert listed(rules, on_site=True, reserved_hidden_after=at(MONDAY, 9)) == staff[:3]  # released at 9:00 - 48 h
    assert listed(rules, on_site=True, reserved_hidden_after=at(MONDAY, 7)) == []


def test_a_time_with_public_and_reserved_hours_goes_to_the_public_only_with_the_public_clerk():
    rules = [
        hours(MONDAY, 8, 9, 1, location_id=TOWN_HALL, reserved=True),
        hours(MONDAY, 8, 9, 2, location_id=TOWN_HALL),
    ]
    assert described(listed(rules, on_site=True)) == [
        ("08:00", TOWN_HALL, (1, 2), False),
        ("08:30", TOWN_HALL, (1, 2), False),
    ]
    assert described(listed(rules, on_site=True, reserved_hidden_after=NOW)) == [
        ("08:00", TOWN_HALL, (2,), False),
        ("08:30", TOWN_HALL, (2,), False),
    ]


# --- properties against a naive reference --------------------------------------------------

PLACES = [None, TOWN_HALL, ANNEX]


@st.composite
def placed_cases(draw):
    """``cases()`` with a location and a kind for every rule, closings, and a listing's where and whom."""
    case = draw(cases())
    rules = [
        dataclasses.replace(rule, location_id=draw(st.sampled_from(PLACES)), reserved=draw(st.booleans()))
        for rule in case["rules"]
    ]

    @st.composite
    def closings(draw):
        rule = draw(st.sampled_from(rules))
        day = case["first_day"] + timedelta(days=draw(st.integers(0, (case["last_day"] - case["first_day"]).days)))
        start = datetime.combine(day, rule.start, tzinfo=case["tz"]) + timedelta(minutes=15 * draw(st.integers(-4, 12)))
        return Closing(draw(st.sampled_from([TOWN_HALL, ANNEX, 30])), start, start + timedelta(minutes=15 * draw(st.integers(1, 96))))

    hidden_after = draw(st.none() | st.integers(-24, 120).map(lambda h: case["now"] + timedelta(hours=h)))
    share = draw(st.sampled_from([0, 0, 25, 50, 100]) | st.integers(0, 100))
    return {
        **case,
        "service": dataclasses.replace(case["service"], reserved_share=share),
        "rules": rules,
        "closings": draw(st.lists(closings(), max_size=3)),
        "on_site": draw(st.booleans()),
        "location_id": draw(st.sampled_from([None, TOWN_HALL, ANNEX])),
        "hidden_after": hidden_after,
    }


def run_placed(case):
    return free_slots(
        service=case["service"],
        clerk_ids=case["clerks"],
        rules=case["rules"],
        absences=case["absences"],
        booked=case["booked"],
        holidays=case["holidays"],
        first_day=case["first_day"],
        last_day=case["last_day"],
        now=case["now"],
        tz=case["tz"],
        on_site=case["on_site"],
        location_id=case["location_id"],
        closings=case["closings"],
        reserved_hidden_after=case["hidden_after"],
    )


def used_places(case):
    """The (location, reserved) groups of hours the listing uses."""
    found = {(rule.location_id, rule.reserved) for rule in case["rules"]}
    if case["on_site"]:
        found = {
            (location, reserved)
            for location, reserved in found
            if location is not None and case["location_id"] in (None, location)
        }
    return found


def clear_of_everything(case, clerk, location, blocked_start, blocked_end) -> bool:
    obstacles = [o for o in case["absences"] + case["booked"] if o.clerk_id == clerk]
    obstacles += [c for c in case["closings"] if location is not None and c.location_id == location]
    return not any(overlaps(blocked_start, blocked_end, o.start, o.end) for o in obstacles)


def reference_grid(case, clerk, day) -> list[tuple[datetime, int | None]]:
    """Every (start, location) of the clerk's unreserved hours of the day, at any location,
    whatever is booked, in the share's order: by start, hours without a location first."""
    svc, tz = case["service"], case["tz"]
    step = svc.buffer_before + svc.duration + svc.buffer_after
    grid = []
    for location in {rule.location_id for rule in case["rules"]}:
        group = [r for r in case["rules"] if r.location_id == location and not r.reserved]
        for window_start, window_end in reference_windows(group, clerk, day, svc.id, case["tz"]):
            blocked_start = window_start
            while blocked_start + step <= window_end:
                grid.append((blocked_start + svc.buffer_before, location))
                blocked_start += step
    return sorted(grid, key=lambda slot: (slot[0].astimezone(tz).timestamp(), -1 if slot[1] is None else slot[1]))


def reference_share(case, clerk, day) -> set[tuple[datetime, int | None]]:
    """The kept slots: the j-th of floor(n*p/100) is slot ceil(100*j/p) of the n."""
    grid, percent = reference_grid(case, clerk, day), case["service"].reserved_share
    wanted = len(grid) * percent // 100
    return {grid[-(-100 * j // percent) - 1] for j in range(1, wanted + 1)}


def reference_placed(case):
    svc, tz = case["service"], case["tz"]
    step = svc.buffer_before + svc.duration + svc.buffer_after
    free: dict[tuple[datetime, int | None], dict[int, bool]] = {}
    day = case["first_day"]
    while day <= case["last_day"]:
        for clerk in case["clerks"]:
            if day in case["holidays"]:
                continue
            kept = reference_share(case, clerk, day)
            for location, reserved in used_places(case):
                group = [r for r in case["rules"] if (r.location_id, r.reserved) == (location, reserved)]
                for window_start, window_end in reference_windows(group, clerk, day, svc.id, tz):
                    blocked_start = window_start
                    while blocked_start + step <= window_end:
                        start = blocked_start + svc.buffer_before
                        held = reserved or (start, location) in kept
                        hidden = held and case["hidden_after"] is not None and start > case["hidden_after"]
                        if (
                            case["now"] + svc.min_notice <= start <= case["now"] + svc.horizon
                            and not hidden
                            and clear_of_everything(case, clerk, location, blocked_start, blocked_start + step)
                        ):
                            place = location if case["on_site"] else None
                            kinds = free.setdefault((start, place), {})
                            kinds[clerk] = kinds.get(clerk, True) and held
                        blocked_start += step
        day += timedelta(days=1)
    order = sorted(free, key=lambda key: (key[0], -1 if key[1] is None else key[1]))
    return [(s, s + svc.duration, tuple(sorted(free[(s, p)])), p, all(free[(s, p)].values())) for s, p in order]


@PROPERTY
@given(placed_cases())
def test_every_slot_lies_in_one_window_of_its_clerk_at_one_place_clear_of_everything(case):
    svc, tz = case["service"], case["tz"]
    for slot in run_placed(case):
        blocked_start, blocked_end = slot.start - svc.buffer_before, slot.end + svc.buffer_after
        day = slot.start.astimezone(tz).date()
        if case["on_site"]:
            assert slot.location_id is not None and case["location_id"] in (None, slot.location_id)
        else:
            assert slot.location_id is None
        for clerk in slot.clerk_ids:
            fitting = [
                (location, reserved)
                for location, reserved in used_places(case)
                if (not case["on_site"] or location == slot.location_id)
                and clear_of_everything(case, clerk, location, blocked_start, blocked_end)
                and any(
                    ws <= blocked_start and blocked_end <= we
                    for ws, we in reference_windows(
                        [r for r in case["rules"] if (r.location_id, r.reserved) == (location, reserved)],
                        clerk, day, svc.id, tz,
                    )
                )
            ]
            assert fitting, (slot, clerk)
            if case["hidden_after"] is not None and slot.start > case["hidden_after"]:
                kept = reference_share(case, clerk, day)
                # never a reserved one early, nor one of the share
                assert any(not reserved and (slot.start, location) not in kept for location, reserved in fitting)


@PROPERTY
@given(placed_cases())
def test_offers_exactly_what_the_naive_reference_offers_per_place_and_kind(case):
    found = [(s.start, s.end, s.clerk_ids, s.location_id, s.reserved) for s in run_placed(case)]
    assert found == reference_placed(case)


@PROPERTY
@given(placed_cases())
def test_staff_see_every_slot_the_public_sees_and_reserved_ones_more(case):
    public = run_placed(case)
    staff = run_placed({**case, "hidden_after": None})
    offered = {(s.start, s.location_id): set(s.clerk_ids) for s in staff}
    for slot in public:
        assert set(slot.clerk_ids) <= offered[(slot.start, slot.location_id)]
    if case["hidden_after"] is not None:
        released = [s for s in staff if s.start <= case["hidden_after"]]
        assert [(s.start, s.location_id, s.clerk_ids) for s in released] == [
            (s.start, s.location_id, s.clerk_ids) for s in public if s.start <= case["hidden_after"]
        ]
