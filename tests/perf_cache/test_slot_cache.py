"""The cached slot listing (visits/booking/slot_cache.py) never offers a slot that a committed change
took away: in the same instance, across two instances sharing Redis (or, on one host, the
generation file), as holds run out and as time passes; and it can be switched off."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import update

from visits import create_app
from visits.booking import availability, holidays
from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.models import Appointment, Service, StaffUser, WeeklyHours

from .. import days
from ..conftest import berlin
from ..mailserver import free_port

API = "/api/v1"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def monday(app) -> date:
    day = days.BOOKING_MONDAY
    while holidays.holidays(day, day):
        day += timedelta(days=7)
    return day


@pytest.fixture
def service(factories):
    return factories.service(slug="reisepass", duration_minutes=30)


@pytest.fixture
def clerk(factories, service):
    return factories.clerk([service])


def listed(client, day: date) -> list[str]:
    """Local wall-clock times (HH:MM) the API offers on ``day``."""
    response = client.get(f"{API}/services/reisepass/slots?from={day}&to={day}")
    assert response.status_code == 200, response.get_data(as_text=True)
    _release()
    return [s["start"][11:16] for s in response.get_json()["slots"]]


def _release() -> None:
    """End the test's own transaction: a request to the app whose context the test holds
    runs in the test's session, and SQLite's write lock (BEGIN IMMEDIATE) would keep the
    other instance (or a second connection) waiting."""
    db.session.rollback()


def hold(client, day: date, hh: int, mm: int = 0, email: str = "erika@example.org"):
    response = client.post(
        f"{API}/bookings",
        json={
            "service": "reisepass",
            "start": berlin(day, hh, mm).isoformat(),
            "name": "Erika",
            "email": email,
        },
    )
    _release()
    return response


def behind_the_apps_back(**values) -> None:
    """Change weekly hours on a connection of its own, as psql would: no app sees it."""
    with db.engine.begin() as conn:
        conn.execute(update(WeeklyHours.__table__).values(**values))


def a_change_behind_the_apps_back_shows_at_once(app_config, monday: date) -> None:
    """In an app made from ``app_config`` (nothing cached yet): a change of the hours written
    behind the app's back is on the slot list at once."""
    other = create_app(dict(app_config))
    with other.app_context():
        client = other.test_client()
        assert listed(client, monday)[-1] == "11:30"
        behind_the_apps_back(end_time=time(9))
        assert listed(client, monday)[-1] == "08:30"
        db.session.remove()


def test_a_booking_and_its_cancellation_show_at_once(client, clerk, monday):
    assert "08:00" in listed(client, monday)
    assert listed(client, monday) == listed(client, monday)  # served again, same answer
    assert hold(client, monday, 8).status_code == 201
    assert "08:00" not in listed(client, monday)
    appointment = db.session.query(Appointment).one()
    booking.cancel(appointment, now=clock.now())
    assert "08:00" in listed(client, monday)


def test_the_public_slot_page_shows_a_booking_at_once(client, clerk, monday):
    page = client.get(f"/dienstleistungen/reisepass?week={monday}")
    slot_id = "slot-" + berlin(monday, 8).strftime("%Y%m%dT%H%M%SZ") + '"'  # the radio button
    assert slot_id in page.get_data(as_text=True)
    assert hold(client, monday, 8).status_code == 201
    page = client.get(f"/dienstleistungen/reisepass?week={monday}")
    assert slot_id not in page.get_data(as_text=True)
    assert "slot-" in page.get_data(as_text=True)  # the other slots are still there


def test_changes_of_hours_absences_services_and_staff_show_at_once(client, factories, clerk, service, monday):
    assert listed(client, monday)[-1] == "11:30"
    clerk.weekly_hours[0].end_time = time(10)  # Monday's hours (the factory's first row)
    db.session.commit()
    assert listed(client, monday)[-1] == "09:30"

    factories.absence(clerk, berlin(monday, 8), berlin(monday, 9))
    assert listed(client, monday) == ["09:00", "09:30"]

    other = factories.service(slug="other")
    clerk.services = [other]
    db.session.commit()
    assert listed(client, monday) == []
    clerk.services = [service, other]
    db.session.commit()
    assert listed(client, monday) == ["09:00", "09:30"]

    db.session.get(StaffUser, clerk.id).active = False
    db.session.commit()
    assert listed(client, monday) == []
    db.session.get(StaffUser, clerk.id).active = True
    db.session.commit()
    db.session.get(Service, service.id).active = False
    db.session.commit()
    assert client.get(f"{API}/services/reisepass/slots?from={monday}&to={monday}").status_code == 404


def test_a_hold_that_runs_out_frees_its_slot_without_any_write(app, client, clerk, monday):
    start = datetime.combine(monday - timedelta(days=3), time(10), BERLIN)
    with time_machine.travel(start, tick=False) as traveller:
        assert hold(client, monday, 9).status_code == 201
        assert "09:00" not in listed(client, monday)
        traveller.shift(timedelta(minutes=app.config["HOLD_MINUTES"], seconds=-1))
        assert "09:00" not in listed(client, monday)
        traveller.shift(timedelta(seconds=1))  # hold_expires_at reached: free again
        assert "09:00" in listed(client, monday)


def test_slots_whose_time_has_come_drop_out_within_the_cached_minute(app, client, clerk, monday):
    with time_machine.travel(datetime.combine(monday, time(7, 59, 50), BERLIN), tick=False) as traveller:
        assert listed(client, monday)[:2] == ["08:00", "08:30"]
        traveller.shift(timedelta(seconds=20))  # 08:00:10: the 08:00 slot has begun
        assert listed(client, monday)[:1] == ["08:30"]
        now = clock.now()
        fresh = availability.free_slots(db.session.get(Service, clerk.services[0].id), monday, monday, now)
        assert listed(client, monday) == [s.start.astimezone(BERLIN).strftime("%H:%M") for s in fresh]


def test_a_change_behind_the_apps_back_shows_at_once_with_the_cache_off(app_config, clerk, monday):
    app_config["SLOT_CACHE_ENABLED"] = False
    a_change_behind_the_apps_back_shows_at_once(app_config, monday)


# -- two instances --------------------------------------------------------------------------


@pytest.fixture(params=[pytest.param("redis", marks=pytest.mark.processes), "file"])
def shared_store(request, app_config, tmp_path):
    """Two instances share the generation: through Redis, or (one host) through the file."""
    if request.param == "redis":
        app_config["REDIS_URL"] = request.getfixturevalue("redis_url")
    else:
        app_config["SLOT_CACHE_FILE"] = str(tmp_path / "shared-generation")
    return request.param


def test_a_booking_in_one_instance_shows_at_once_in_the_other(
    shared_store, app, app_config, client, clerk, monday
):
    other = create_app(dict(app_config))
    other_client = other.test_client()
    assert listed(other_client, monday)[-1] == "11:30"  # the other instance has it cached now
    behind_the_apps_back(end_time=time(10))
    assert listed(other_client, monday)[-1] == "11:30", "the other instance serves from its cache"

    assert hold(client, monday, 8).status_code == 201  # booked through the first instance

    after = listed(other_client, monday)
    assert "08:00" not in after
    assert after[-1] == "09:30"  # recomputed: the earlier change is there too
    with other.app_context():
        appointment = db.session.query(Appointment).one()
        booking.cancel(appointment, now=clock.now())  # cancelled through the other instance
        db.session.remove()
    assert "08:00" in listed(client, monday)


def test_without_a_reachable_redis_slots_are_computed_afresh(app_config, clerk, monday):
    app_config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"  # nobody listens there
    a_change_behind_the_apps_back_shows_at_once(app_config, monday)


# -- the refusal fast path -------------------------------------------------------------------


def test_a_taken_slot_is_refused_to_anyone_without_a_key_even_the_same_request_again(client, clerk, monday):
    # Without a key the caller is known only by the address typed: a slot nobody else could
    # have is taken for everyone, so the answer reveals nothing about that address.
    first = hold(client, monday, 8)
    assert first.status_code == 201
    again = hold(client, monday, 8)
    assert again.status_code == 409
    assert again.get_json()["type"].endswith("/slot-unavailable")
    assert db.session.query(Appointment).count() == 1
    refused = hold(client, monday, 8, email="someone.else@example.org")
    assert refused.status_code == 409
    assert refused.get_json()["type"].endswith("/slot-unavailable")


def test_a_slot_taken_by_one_clerk_is_still_booked_with_a_free_colleague(
    client, factories, service, clerk, monday
):
    factories.clerk([service])
    assert hold(client, monday, 8).status_code == 201
    assert hold(client, monday, 8, email="someone.else@example.org").status_code == 201
    assert hold(client, monday, 8, email="third@example.org").status_code == 409
    assert "08:00" not in listed(client, monday)
