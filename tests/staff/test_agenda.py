"""The clerk's agenda (day and week, Europe/Berlin) and the appointment page."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.models import AuditEvent, Status

from .. import days
from .conftest import STAFF_PAGES, berlin


@pytest.fixture
def appointment(factories, service, clerk, monday):
    citizen = factories.citizen(name="Erika Muster", note="Gebärdensprachdolmetscher")
    return booking.book_for_caller(service, berlin(monday, 9), citizen, clerk=clerk, now=clock.now())


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_staff_page_renders_in_both_languages(clerk_client, language):
    for path in STAFF_PAGES:
        sep = "&" if "?" in path else "?"
        response = clerk_client.get(f"{path}{sep}lang={language}")
        assert response.status_code == 200, path
        assert f'<html lang="{language}">' in response.get_data(as_text=True)


def test_day_view_shows_the_appointment_in_berlin_time_with_its_details(clerk_client, appointment, monday):
    page = clerk_client.get(f"/staff/?view=day&date={monday.isoformat()}&lang=en").get_data(as_text=True)
    assert "9:00" in page and "9:30" in page  # 09:00 Berlin, whatever UTC says
    assert "Erika Muster" in page
    assert "Gebärdensprachdolmetscher" in page
    assert "confirmed" in page
    assert appointment.service.name_en in page


def test_week_view_lists_the_whole_week(clerk_client, factories, service, clerk, appointment, monday):
    friday = booking.book_for_caller(
        service, berlin(monday + timedelta(days=4), 10), factories.citizen(name="Fritz Freitag"), clerk=clerk, now=clock.now()
    )
    wednesday = (monday + timedelta(days=2)).isoformat()
    page = clerk_client.get(f"/staff/?view=week&date={wednesday}").get_data(as_text=True)
    assert "Erika Muster" in page and "Fritz Freitag" in page
    day_page = clerk_client.get(f"/staff/?view=day&date={monday.isoformat()}").get_data(as_text=True)
    assert "Fritz Freitag" not in day_page
    assert friday.status == Status.CONFIRMED


def test_video_appointment_offers_join_as_moderator_by_post(clerk_client, appointment, monday):
    page = clerk_client.get(f"/staff/?date={monday.isoformat()}").get_data(as_text=True)
    assert f'action="/staff/appointments/{appointment.id}/join"' in page
    assert 'method="post"' in page


def test_clerk_marks_attended_after_the_start_and_it_is_audited(clerk_client, appointment, monday):
    assert "outcome" not in clerk_client.get(f"/staff/appointments/{appointment.id}").get_data(as_text=True)
    with time_machine.travel(berlin(monday, 9, 20), tick=False):
        response = clerk_client.post(
            f"/staff/appointments/{appointment.id}/mark", data={"outcome": "no_show"}
        )
        assert response.status_code == 302
        db.session.refresh(appointment)
        assert appointment.status == Status.NO_SHOW
        clerk_client.post(f"/staff/appointments/{appointment.id}/mark", data={"outcome": "attended"})
    db.session.refresh(appointment)
    assert appointment.status == Status.ATTENDED
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == appointment.id)
    ).all()
    assert "appointment.attended" in actions and "appointment.no_show" in actions


def test_marking_before_the_start_is_refused(clerk_client, appointment):
    clerk_client.post(f"/staff/appointments/{appointment.id}/mark", data={"outcome": "attended"})
    db.session.refresh(appointment)
    assert appointment.status == Status.CONFIRMED


def test_internal_note_is_saved_and_audited(clerk_client, clerk, appointment):
    response = clerk_client.post(
        f"/staff/appointments/{appointment.id}/note", data={"internal_note": "Unterlagen vorab geprüft"}
    )
    assert response.status_code == 302
    assert "Unterlagen vorab geprüft" in clerk_client.get(f"/staff/appointments/{appointment.id}").get_data(
        as_text=True
    )
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "appointment.note_changed"))
    assert event.actor_id == clerk.id and event.object_id == appointment.id


def test_clerk_cancels_with_a_message_to_the_citizen(clerk_client, appointment):
    response = clerk_client.post(
        f"/staff/appointments/{appointment.id}/cancel", data={"message": "Leider bin ich krank."}
    )
    assert response.status_code == 302
    db.session.refresh(appointment)
    assert appointment.status == Status.CANCELLED
    assert appointment.cancel_reason == "Leider bin ich krank."


def test_agenda_shows_public_holidays(clerk_client):
    from datetime import date

    today = days.TODAY
    christmas = date(today.year if (today.month, today.day) <= (12, 25) else today.year + 1, 12, 25)
    page = clerk_client.get(f"/staff/?date={christmas.isoformat()}").get_data(as_text=True)
    assert "Feiertag: Erster Weihnachtstag" in page


def test_a_family_appointment_shows_every_service_with_its_persons(clerk_client, factories, clerk, monday):
    from ..factories import ANMELDUNG, PERSONALAUSWEIS

    anmeldung, ausweis = factories.service(**ANMELDUNG), factories.service(**PERSONALAUSWEIS)
    clerk.services = [*clerk.services, anmeldung, ausweis]
    db.session.commit()
    family = booking.book_for_caller(
        [(anmeldung, 1), (ausweis, 2)], berlin(monday, 8, 10), factories.citizen(name="Familie Yılmaz"),
        clerk=clerk, now=clock.now(),
    )
    agenda = clerk_client.get(f"/staff/?view=day&date={monday.isoformat()}&lang=en").get_data(as_text=True)
    assert "Registration, ID card (2 persons)" in agenda
    page = clerk_client.get(f"/staff/appointments/{family.id}").get_data(as_text=True)
    assert "Registration, ID card (2 persons)" in page
