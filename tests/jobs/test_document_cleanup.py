"""Documents go with the appointment: retention deletes rows and files with the personal
data, and the sweep deletes them as soon as the appointment will not take place."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from tests.conftest import berlin, next_weekday
from visits import jobs
from visits.booking import documents
from visits.booking import operations as booking
from visits.extensions import db
from visits.models import Status
from visits.models.documents import AppointmentDocument

from ..documents import pdf, png
from .conftest import booked_online

MONDAY = next_weekday(date(2030, 3, 4), 0)
DAY = timedelta(days=1)


def rows() -> list[AppointmentDocument]:
    db.session.expire_all()
    return list(db.session.scalars(select(AppointmentDocument)))


def test_retention_deletes_the_documents_rows_and_files(app, video, clerk):
    appointment = booked_online(video, berlin(MONDAY, 10), ahead=2 * DAY)
    before = appointment.start_at - DAY
    paths = [
        documents.path_of(documents.hand_in(appointment, filename="a.pdf", data=pdf(), now=before)),
        documents.path_of(documents.hand_in(appointment, filename="b.png", data=png(), now=before)),
    ]
    booking.mark(appointment, Status.ATTENDED, by=clerk, now=appointment.end_at)
    assert jobs.anonymise_old(appointment.end_at + 29 * DAY) == 0
    assert len(rows()) == 2 and all(path.is_file() for path in paths)

    assert jobs.anonymise_old(appointment.end_at + 30 * DAY) == 1
    assert rows() == [] and not any(path.exists() for path in paths)


def test_retention_leaves_other_appointments_documents_alone(app, video, clerk):
    old = booked_online(video, berlin(MONDAY, 10), ahead=2 * DAY)
    later = booked_online(video, berlin(MONDAY + 60 * DAY, 10), ahead=2 * DAY)
    documents.hand_in(old, filename="alt.pdf", data=pdf(), now=old.start_at - DAY)
    kept = documents.hand_in(later, filename="neu.pdf", data=pdf(), now=later.start_at - DAY)
    jobs.anonymise_old(old.end_at + 30 * DAY)
    assert [row.id for row in rows()] == [kept.id] and documents.path_of(kept).is_file()


def test_an_expired_holds_documents_are_deleted_by_the_sweep(app, video, clerk, factories):
    now = berlin(MONDAY, 10) - 3 * DAY
    held = booking.hold(video, berlin(MONDAY, 10), factories.citizen(), now=now).appointment
    path = documents.path_of(documents.hand_in(held, filename="a.pdf", data=pdf(), now=now))
    later = held.hold_expires_at + timedelta(minutes=1)
    assert jobs.discard_documents(later) == 0  # a hold that ran out is swept first ...
    jobs.expire_holds(later)
    assert jobs.discard_documents(later) == 1  # ... then its files go
    assert rows() == [] and not path.exists()
