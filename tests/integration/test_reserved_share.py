"""A department's reserved share, end to end: with a quarter kept, every fourth time of a
clerk's day (09:30 and 11:30 of 08:00-12:00) is refused to the public by API and form, is
listed and booked by the phone centre, stays the same when others book, and reaches the
public exactly when it is released (48 hours before it starts, even from a cached listing)."""

from __future__ import annotations

# ruff: noqa: F811 (tests take the imported fixtures as arguments)
from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import select

from visits.extensions import db
from visits.models import Appointment, Department, Status

from .. import days
from ..staff.conftest import login

# The fixtures ausweis, monday and town_hall are that module's (imported, so pytest finds them).
from .test_reserved_and_locations import RELEASE, api_slots, ausweis, monday, town_hall  # noqa: F401
from .test_reserved_and_locations import api_booking as booking_at_the_hour

PUBLIC_TIMES = ["08:00", "08:30", "09:00", "10:00", "10:30", "11:00"]


@pytest.fixture
def clerk(factories, ausweis, town_hall):
    """Works Monday to Friday 08:00-12:00 at the town hall; the department keeps a quarter."""
    department = db.session.get(Department, town_hall.department_id)
    department.reserved_share_percent = 25
    db.session.commit()
    return factories.clerk([ausweis], name="Jonas Weber")


def times(client, day: date) -> list[str]:
    return [s["start"][11:16] for s in api_slots(client, day)]


def api_booking(client, day: date, hour: int, minute: int = 0, **more):
    """``test_reserved_and_locations.api_booking`` at any minute."""
    return booking_at_the_hour(client, day, hour, start=days.berlin(day, hour, minute).isoformat(), **more)


def test_every_fourth_time_is_refused_to_the_public_by_api_and_form(client, clerk, monday):
    assert times(client, monday) == PUBLIC_TIMES
    response = api_booking(client, monday, 9, 30)
    assert response.status_code == 409 and response.get_json()["type"].endswith("slot-unavailable")

    start = days.berlin(monday, 9, 30).strftime("%Y-%m-%dT%H:%M:%SZ")
    sent = client.post(
        "/dienstleistungen/ausweis/buchen",
        data={
            "start": start,
            "name": "Erika Mustermann",
            "email": "erika@example.org",
            "language": "de",
            "consent": "y",
        },
    )
    assert sent.status_code == 409
    assert db.session.scalar(select(Appointment)) is None


def test_the_phone_centre_sees_and_books_a_time_of_the_share(
    client, factories, clerk, ausweis, town_hall, monday
):
    login(client, factories.clerk([], name="Bürgertelefon").email)
    url = f"/staff/phone-booking?service={ausweis.id}&week={monday.isoformat()}"
    page = client.get(url).get_data(as_text=True)
    value = f"{days.berlin(monday, 9, 30).isoformat()}@{town_hall.id}"
    assert f'value="{value}"' in page and "reserviert" in page

    response = client.post(
        url, data={"start": value, "name": "Karl Anrufer", "phone": "0221 123456", "language": "de"}
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    appointment = db.session.scalar(select(Appointment))
    assert appointment.status == Status.CONFIRMED and appointment.clerk_id == clerk.id
    assert appointment.start_at == days.berlin(monday, 9, 30) and appointment.booked_via == "phone"


def test_a_booking_does_not_move_the_share(client, clerk, monday):
    assert api_booking(client, monday, 8).status_code == 201
    assert times(client, monday) == PUBLIC_TIMES[1:]  # 09:30 stays kept, 10:00 stays public
    assert api_booking(client, monday, 9, 30, email="max@example.org").status_code == 409


def test_a_time_of_the_share_reaches_the_public_at_its_release_even_from_the_cached_listing(
    client, clerk, monday
):
    half_past_eleven = days.berlin(monday, 11, 30)
    # Half a minute before, well inside the cached listing's lifetime (SLOT_CACHE_SECONDS, 60).
    with time_machine.travel(half_past_eleven - RELEASE - timedelta(seconds=30), tick=False) as traveller:
        assert times(client, monday) == ["08:00", "08:30", "09:00", "09:30", "10:00", "10:30", "11:00"]
        traveller.shift(timedelta(seconds=30))  # 11:30 is 48 hours away: released, no write needed
        assert times(client, monday) == [*PUBLIC_TIMES[:3], "09:30", *PUBLIC_TIMES[3:], "11:30"]
        assert api_booking(client, monday, 11, 30).status_code == 201


def test_a_changed_share_reaches_the_cached_public_listing_at_once(
    client, factories, ausweis, town_hall, monday
):
    factories.clerk([ausweis])
    assert len(times(client, monday)) == 8
    department = db.session.get(Department, town_hall.department_id)
    department.reserved_share_percent = 25
    db.session.commit()
    assert times(client, monday) == PUBLIC_TIMES
