"""A clerk reaches only their own things; anonymous visitors reach nothing."""

from __future__ import annotations

from datetime import time

import pytest

from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.models import Absence, Appointment, Status, WeeklyHours

from .conftest import STAFF_PAGES, berlin, login


@pytest.fixture
def two_clerks(factories, monday):
    own = factories.service(name_de="Wohngeldberatung")
    other = factories.service(name_de="Bewohnerparkausweis")
    anna = factories.clerk([own], name="Anna Schmidt")
    ben = factories.clerk([other], name="Ben Berger")
    appointment = booking.book_for_caller(
        own, berlin(monday, 9), factories.citizen(name="Greta Geheim", note="Rollstuhl"), clerk=anna, now=clock.now()
    )
    absence = factories.absence(anna, berlin(monday, 11), berlin(monday, 12), "Teamsitzung")
    return anna, ben, appointment, absence


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_anonymous_is_redirected_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


def test_anonymous_posts_change_nothing(client, two_clerks):
    _, _, appointment, _ = two_clerks
    response = client.post(f"/staff/appointments/{appointment.id}/cancel", data={"message": "weg"})
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    db.session.refresh(appointment)
    assert appointment.status == Status.CONFIRMED


def test_other_clerks_appointment_is_404_on_every_route(client, two_clerks):
    anna, ben, appointment, absence = two_clerks
    hours_id = db.session.scalar(db.select(WeeklyHours.id).where(WeeklyHours.clerk_id == anna.id))
    login(client, ben.email)
    a = appointment.id
    for method, path, data in [
        ("get", f"/staff/appointments/{a}", None),
        ("post", f"/staff/appointments/{a}/note", {"internal_note": "x"}),
        ("post", f"/staff/appointments/{a}/mark", {"outcome": "attended"}),
        ("post", f"/staff/appointments/{a}/cancel", {"message": "weg"}),
        ("post", f"/staff/conflicts/{a}", {"action": "keep"}),
        ("get", f"/staff/hours/{hours_id}", None),
        ("post", f"/staff/hours/{hours_id}", {"weekday": "0", "start": "08:00", "end": "09:00"}),
        ("post", f"/staff/hours/{hours_id}/delete", None),
        ("post", f"/staff/absences/{absence.id}/delete", None),
    ]:
        response = getattr(client, method)(path, data=data)
        assert response.status_code == 404, path
        assert "Greta" not in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Appointment, a).status == Status.CONFIRMED
    assert db.session.get(Appointment, a).internal_note == ""
    assert db.session.get(WeeklyHours, hours_id).start_time == time(8)
    assert db.session.get(Absence, absence.id) is not None


def test_other_clerks_appointments_are_not_in_my_agenda(client, two_clerks, monday):
    _, ben, _, _ = two_clerks
    login(client, ben.email)
    page = client.get(f"/staff/?view=week&date={monday.isoformat()}").get_data(as_text=True)
    assert "Greta Geheim" not in page


def test_admin_sees_every_clerks_appointment(client, factories, two_clerks, monday):
    _, _, appointment, _ = two_clerks
    admin = factories.admin()
    login(client, admin.email)
    assert "Greta Geheim" in client.get(f"/staff/appointments/{appointment.id}").get_data(as_text=True)
    assert "Greta Geheim" in client.get(f"/staff/?date={monday.isoformat()}").get_data(as_text=True)
