"""Weekly hours, absences, the free-slot preview and the conflict flow: a change never
silently strands a booked appointment."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from visits.booking import availability
from visits.booking import operations as booking
from visits.clerks import conflicts as clerk_conflicts
from visits.clerks import hours as clerk_hours
from visits.core import clock
from visits.extensions import db
from visits.models import Absence, AuditEvent, OutboxMessage, Status, WeeklyHours

from .conftest import berlin


def hours_of(clerk):
    return db.session.scalars(
        select(WeeklyHours).where(WeeklyHours.clerk_id == clerk.id).order_by(WeeklyHours.weekday)
    ).all()


def monday_hours(clerk):
    return next(h for h in hours_of(clerk) if h.weekday == 0)


@pytest.fixture
def booked(factories, service, clerk, monday):
    """A confirmed appointment on Monday 09:00-09:30 with the clerk (hours 08:00-12:00)."""
    return booking.book_for_caller(
        service, berlin(monday, 9), factories.citizen(name="Paula Plan"), clerk=clerk, now=clock.now()
    )


def test_clerk_adds_hours_for_some_services_and_the_preview_shows_the_slots(
    clerk_client, factories, clerk, service, monday
):
    other = factories.service(name_de="Bewohnerparkausweis")
    clerk.services.append(other)
    db.session.commit()
    response = clerk_client.post(
        "/staff/hours",
        data={"weekday": "5", "start": "09:00", "end": "10:00", "services": [str(other.id)]},
    )
    assert response.status_code == 302
    saturday = next(h for h in hours_of(clerk) if h.weekday == 5)
    assert (saturday.start_time, saturday.end_time) == (time(9), time(10))
    assert [s.id for s in saturday.services] == [other.id]
    saturday_date = monday + timedelta(days=5)
    slots = availability.free_slots(other, saturday_date, saturday_date, clock.now())
    assert [s.start for s in slots] == [berlin(saturday_date, 9), berlin(saturday_date, 9, 30)]
    assert availability.free_slots(service, saturday_date, saturday_date, clock.now()) == []
    page = clerk_client.get("/staff/hours?weeks=4").get_data(as_text=True)
    preview = page.split('id="preview"')[1]
    assert "Bewohnerparkausweis</strong>: 09:00, 09:30" in preview
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.action == "hours.added")).actor_id == clerk.id
    )


def test_hours_that_end_before_they_start_are_refused_with_a_linked_error(clerk_client, clerk):
    before = len(hours_of(clerk))
    response = clerk_client.post("/staff/hours", data={"weekday": "2", "start": "12:00", "end": "08:00"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'class="error-summary"' in page and 'href="#end"' in page
    assert 'aria-describedby="end-hint end-error"' in page
    assert "Das Ende muss nach dem Beginn liegen." in page
    assert len(hours_of(clerk)) == before


def test_shortening_hours_lists_the_stranded_appointment_and_keep_settles_it(clerk_client, clerk, booked):
    monday_row = monday_hours(clerk)
    response = clerk_client.post(
        f"/staff/hours/{monday_row.id}", data={"weekday": "0", "start": "10:00", "end": "12:00"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/conflicts"
    page = clerk_client.get("/staff/conflicts").get_data(as_text=True)
    assert booked.reference in page and "Paula Plan" in page
    assert "Außerhalb Ihrer Sprechzeiten" in page
    # the appointment is still booked: nothing happened to it silently
    db.session.refresh(booked)
    assert booked.status == Status.CONFIRMED
    clerk_client.post(f"/staff/conflicts/{booked.id}", data={"action": "keep"})
    assert f'id="conflict-{booked.id}"' not in clerk_client.get("/staff/conflicts").get_data(as_text=True)
    db.session.refresh(booked)
    assert booked.status == Status.CONFIRMED and booked.clerk_id == clerk.id


def test_a_kept_appointment_comes_back_when_a_new_absence_strands_it(clerk_client, clerk, booked, monday):
    monday_row = monday_hours(clerk)
    clerk_client.post(
        f"/staff/hours/{monday_row.id}", data={"weekday": "0", "start": "10:00", "end": "12:00"}
    )
    clerk_client.post(f"/staff/conflicts/{booked.id}", data={"action": "keep"})
    response = clerk_client.post(
        "/staff/absences", data={"kind": "days", "start_date": monday.isoformat(), "reason": "Urlaub"}
    )
    assert response.headers["Location"] == "/staff/conflicts"
    assert f'id="conflict-{booked.id}"' in clerk_client.get("/staff/conflicts").get_data(as_text=True)


def test_absence_strands_the_appointment_and_cancel_mails_the_citizen(clerk_client, clerk, booked, monday):
    response = clerk_client.post(
        "/staff/absences",
        data={"kind": "hours", "start_date": monday.isoformat(), "start_time": "08:30", "end_time": "10:00"},
    )
    assert response.headers["Location"] == "/staff/conflicts"
    page = clerk_client.get("/staff/conflicts").get_data(as_text=True)
    assert booked.reference in page and "In Ihrer Abwesenheit" in page
    clerk_client.post(
        f"/staff/conflicts/{booked.id}",
        data={"action": "cancel", "message": "Ich bin auf einer Fortbildung."},
    )
    db.session.refresh(booked)
    assert booked.status == Status.CANCELLED
    assert booked.cancel_reason == "Ich bin auf einer Fortbildung."
    mail = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.appointment_id == booked.id, OutboxMessage.kind == "cancellation"
        )
    )
    assert mail is not None and mail.recipient == booked.citizen_email


def test_cancel_needs_a_message(clerk_client, clerk, booked, monday):
    clerk_client.post("/staff/absences", data={"kind": "days", "start_date": monday.isoformat()})
    clerk_client.post(f"/staff/conflicts/{booked.id}", data={"action": "cancel", "message": ""})
    db.session.refresh(booked)
    assert booked.status == Status.CONFIRMED


def test_stranded_appointment_is_handed_to_a_free_colleague(
    clerk_client, clerk, colleague, booked, monday, factories
):
    busy = factories.clerk([booked.service], name="Bea Besetzt")
    factories.absence(busy, berlin(monday, 0), berlin(monday, 23))
    clerk_client.post("/staff/absences", data={"kind": "days", "start_date": monday.isoformat()})
    page = clerk_client.get("/staff/conflicts").get_data(as_text=True)
    assert "Jonas Weber" in page and "Bea Besetzt" not in page
    response = clerk_client.post(
        f"/staff/conflicts/{booked.id}", data={"action": "reassign", "colleague": str(colleague.id)}
    )
    assert response.status_code == 302
    db.session.refresh(booked)
    assert booked.clerk_id == colleague.id and booked.status == Status.CONFIRMED
    assert f'id="conflict-{booked.id}"' not in clerk_client.get("/staff/conflicts").get_data(as_text=True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "appointment.reassigned"))
    assert event.details["to_clerk"] == colleague.id


def test_handing_to_a_colleague_who_is_not_free_is_refused(clerk_client, clerk, booked, monday, factories):
    busy = factories.clerk([booked.service], name="Bea Besetzt")
    factories.absence(busy, berlin(monday, 0), berlin(monday, 23))
    clerk_client.post("/staff/absences", data={"kind": "days", "start_date": monday.isoformat()})
    clerk_client.post(f"/staff/conflicts/{booked.id}", data={"action": "reassign", "colleague": str(busy.id)})
    db.session.refresh(booked)
    assert booked.clerk_id == clerk.id


def test_whole_day_absence_covers_local_midnight_to_midnight(clerk_client, clerk, monday):
    clerk_client.post(
        "/staff/absences",
        data={
            "kind": "days",
            "start_date": monday.isoformat(),
            "end_date": (monday + timedelta(days=1)).isoformat(),
        },
    )
    absence = db.session.scalar(select(Absence).where(Absence.clerk_id == clerk.id))
    assert absence.start_at == berlin(monday, 0)
    assert absence.end_at == berlin(monday + timedelta(days=2), 0)


def test_absence_hours_need_both_times(clerk_client, clerk, monday):
    response = clerk_client.post(
        "/staff/absences", data={"kind": "hours", "start_date": monday.isoformat(), "start_time": "09:00"}
    )
    assert response.status_code == 400
    assert db.session.scalar(select(Absence).where(Absence.clerk_id == clerk.id)) is None


def test_absences_page_shows_public_holidays_of_the_state(clerk_client):
    page = clerk_client.get("/staff/absences").get_data(as_text=True)
    assert "Feiertage (NW)" in page
    assert "Neujahr" in page or "Weihnachtstag" in page


def test_stranded_detection_is_plain_python_on_the_database(app, clerk, booked):
    clerk_hours.remove_weekly_hours(monday_hours(clerk), by=clerk, now=clock.now())
    (stranded,) = clerk_conflicts.stranded_appointments(clerk, clock.now())
    assert stranded.appointment.id == booked.id and stranded.outside_hours


def test_a_second_click_on_cancel_is_harmless(clerk_client, clerk, booked, monday):
    clerk_client.post("/staff/absences", data={"kind": "days", "start_date": monday.isoformat()})
    data = {"action": "cancel", "message": "Leider krank."}
    clerk_client.post(f"/staff/conflicts/{booked.id}", data=data)
    again = clerk_client.post(f"/staff/conflicts/{booked.id}", data=data)
    assert again.status_code == 302
    page = clerk_client.get(again.headers["Location"]).get_data(as_text=True)
    assert "keine Entscheidung mehr nötig" in page
    mails = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.appointment_id == booked.id, OutboxMessage.kind == "cancellation"
        )
    ).all()
    assert len(mails) == 1


def test_an_unreadable_time_gets_a_german_message(clerk_client):
    response = clerk_client.post("/staff/hours", data={"weekday": "2", "start": "25:99", "end": "08:00"})
    assert response.status_code == 400
    assert "Geben Sie eine Uhrzeit wie 08:00 ein." in response.get_data(as_text=True)
