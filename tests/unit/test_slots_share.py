"""A department's reserved share: a percentage of every clerk's slots of a day is kept for
staff and the phone centre, spread evenly, fixed before anyone books, and offered to the
public only from its release on, exactly like reserved hours. Examples first, then
properties on random weeks (the naive reference is in test_slots_places.py)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_slots import BERLIN, MONDAY, PROPERTY, at, engine, hours, local_starts, service
from tests.unit.test_slots_places import (
    ANNEX,
    NOW,
    TOWN_HALL,
    described,
    placed_cases,
    reference_grid,
    run_placed,
)

Interval = engine.Interval
free_slots = engine.free_slots

MORNING = [hours(MONDAY, 8, 12, 1, location_id=TOWN_HALL)]  # eight half-hour slots


def listed(rules=MORNING, *, share=25, minutes=30, clerks=(1,), booked=(), now=NOW, **where):
    return free_slots(
        service(minutes, reserved_share=share),
        clerks,
        rules,
        (),
        booked,
        (),
        MONDAY,
        MONDAY,
        now,
        BERLIN,
        on_site=True,
        **where,
    )


def kept(found) -> list[str]:
    return [start for start, slot in zip(local_starts(found), found, strict=True) if slot.reserved]


def test_a_quarter_keeps_every_fourth_slot_of_the_day():
    assert kept(listed(share=25)) == ["09:30", "11:30"]
    assert kept(listed(share=50)) == ["08:30", "09:30", "10:30", "11:30"]
    assert kept(listed(share=0)) == []
    assert len(kept(listed(share=100))) == 8


def test_the_share_rounds_down_so_a_short_day_may_keep_nothing():
    short = [hours(MONDAY, 8, 9, 1, location_id=TOWN_HALL)]  # two slots
    assert kept(listed(short, share=40)) == []
    assert kept(listed(short, share=50)) == ["08:30"]


def test_a_booking_does_not_move_the_share():
    eight = Interval(1, at(MONDAY, 8), at(MONDAY, 8, 30))
    assert kept(listed(booked=[eight])) == ["09:30", "11:30"]


def test_the_share_follows_the_listings_grid():
    """An hour-long service (or two services combined) has four slots: a half keeps two."""
    assert kept(listed(share=50, minutes=60)) == ["09:00", "11:00"]


def test_the_share_counts_a_clerks_hours_at_every_location_together():
    rules = [hours(MONDAY, 8, 9, 1, location_id=TOWN_HALL), hours(MONDAY, 10, 11, 1, location_id=ANNEX)]
    assert described(listed(rules, share=50)) == [
        ("08:00", TOWN_HALL, (1,), False),
        ("08:30", TOWN_HALL, (1,), True),
        ("10:00", ANNEX, (1,), False),
        ("10:30", ANNEX, (1,), True),
    ]
    assert kept(listed(rules, share=50, location_id=ANNEX)) == ["10:30"]  # the same, whichever place is asked


def test_reserved_hours_are_not_counted_in_the_share():
    rules = [*MORNING, hours(MONDAY, 12, 14, 1, location_id=TOWN_HALL, reserved=True)]
    assert kept(listed(rules, share=25)) == ["09:30", "11:30", "12:00", "12:30", "13:00", "13:30"]


def test_the_public_gets_a_share_slot_only_from_its_release():
    staff = listed()
    public = listed(reserved_hidden_after=at(MONDAY, 9, 29))
    assert local_starts(public) == ["08:00", "08:30", "09:00", "10:00", "10:30", "11:00"]
    assert listed(reserved_hidden_after=at(MONDAY, 9, 30)) == [
        s for s in staff if local_starts([s]) != ["11:30"]
    ]


def test_a_share_slot_of_one_clerk_goes_to_the_public_with_the_other_clerk():
    rules = [hours(MONDAY, 8, 10, 1, location_id=TOWN_HALL), hours(MONDAY, 8, 10, 2, location_id=TOWN_HALL)]
    staff = described(listed(rules, clerks=(1, 2)))
    assert staff[3] == ("09:30", TOWN_HALL, (1, 2), True)
    public = described(listed(rules, clerks=(1, 2), reserved_hidden_after=NOW))
    assert [start for start, *_ in public] == ["08:00", "08:30", "09:00"]


def test_a_share_outside_0_to_100_is_refused():
    for share in (-1, 101):
        try:
            listed(share=share)
        except ValueError:
            continue
        raise AssertionError(f"share {share} accepted")


# --- properties -------------------------------------------------------------------------------


def unreserved_on_site(case):
    """The case's hours all unreserved and at a location, nothing booked or away, every slot
    of the grid bookable: each slot of one clerk is then one Slot."""
    rules = [
        dataclasses.replace(rule, reserved=False, location_id=rule.location_id or TOWN_HALL)
        for rule in case["rules"]
    ]
    svc = dataclasses.replace(case["service"], min_notice=timedelta(0), horizon=timedelta(days=60))
    return {
        **case,
        "rules": rules,
        "service": svc,
        "absences": [],
        "booked": [],
        "closings": [],
        "on_site": True,
        "location_id": None,
        "hidden_after": None,
        "now": case["now"] - timedelta(days=5),
    }


@PROPERTY
@given(placed_cases())
def test_each_clerk_day_keeps_exactly_its_share_spread_evenly(case):
    case = unreserved_on_site(case)
    percent = case["service"].reserved_share
    for clerk in case["clerks"]:
        found = run_placed({**case, "clerks": [clerk]})
        by_day: dict = {}
        for slot in found:
            by_day.setdefault(slot.start.astimezone(case["tz"]).date(), []).append(slot)
        for day, slots in by_day.items():
            assert len(slots) == len(reference_grid(case, clerk, day))
            flags = [slot.reserved for slot in sorted(slots, key=lambda s: (s.start, s.location_id))]
            # evenly: every first m slots of the day hold floor(m*p/100) of the share
            for m in range(len(flags) + 1):
                assert sum(flags[:m]) == m * percent // 100, (day, m, flags)


@PROPERTY
@given(placed_cases(), st.integers(0, 3))
def test_which_slots_are_kept_depends_neither_on_bookings_nor_on_when_and_which_day_is_asked(case, later):
    # On site and one clerk at a time: each slot of the listing is one (start, location) of the clerk.
    case = {**case, "on_site": True}
    for clerk in case["clerks"]:
        mine = {**case, "clerks": [clerk], "hidden_after": None}
        asked = {(s.start, s.location_id): s.reserved for s in run_placed(mine)}
        day = case["first_day"] + timedelta(days=min(later, (case["last_day"] - case["first_day"]).days))
        quiet = {
            **unreserved_on_site(case),
            "rules": case["rules"],
            "clerks": [clerk],
            "first_day": day,
            "last_day": day,
            "on_site": case["on_site"],
            "location_id": case["location_id"],
        }
        for slot in run_placed(quiet):
            key = (slot.start, slot.location_id)
            if key in asked:
                assert asked[key] == slot.reserved


@PROPERTY
@given(placed_cases())
def test_staff_always_get_every_share_slot(case):
    staff = run_placed({**case, "hidden_after": None})
    without_share = run_placed(
        {**case, "hidden_after": None, "service": dataclasses.replace(case["service"], reserved_share=0)}
    )
    assert [(s.start, s.location_id, s.clerk_ids) for s in staff] == [
        (s.start, s.location_id, s.clerk_ids) for s in without_share
    ]
