"""The documents a citizen handed in, on the clerk's side: listed on the appointment's page,
opened as a download with safe headers by the appointment's clerk or an administrator, and
by nobody else."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from visits.booking import documents
from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.models import AuditEvent

from ..documents import pdf
from .conftest import berlin, login


@pytest.fixture
def service(factories):
    return factories.service(duration_minutes=30, video=True)


@pytest.fixture
def appointment(service, clerk, monday, factories):
    booked = booking.book_for_caller(service, berlin(monday, 9), factories.citizen(), clerk=clerk, now=clock.now())
    assert booked.clerk_id == clerk.id  # the only clerk so far: ask for ``colleague`` after this
    return booked


@pytest.fixture
def document(appointment):
    return documents.hand_in(appointment, filename="Mietvertrag März.pdf", data=pdf(), now=clock.now())


def url(document) -> str:
    return f"/staff/appointments/{document.appointment_id}/documents/{document.id}"


def test_the_clerk_downloads_the_pdf_as_an_attachment_with_safe_headers(clerk_client, document):
    response = clerk_client.get(url(document))
    assert response.status_code == 200
    assert response.data == pdf()
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"Mietvertrag Marz.pdf\"; filename*=UTF-8''Mietvertrag%20M%C3%A4rz.pdf"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_opening_a_document_is_recorded_in_the_audit_log(clerk_client, document, clerk):
    clerk_client.get(url(document))
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "document_opened"))
    assert event.actor_id == clerk.id and event.object_id == document.appointment_id
    assert event.details == {"document_id": document.id}


def test_the_appointment_page_lists_the_documents_with_a_download_link(clerk_client, document):
    shown = clerk_client.get(f"/staff/appointments/{document.appointment_id}").get_data(as_text=True)
    assert "Mietvertrag März.pdf" in shown and f'href="{url(document)}"' in shown


def test_another_clerk_gets_a_404_and_no_file(client, document, colleague):
    login(client, colleague.email)
    response = client.get(url(document))
    assert response.status_code == 404 and pdf() not in response.data


def test_without_login_there_is_no_file_only_the_way_to_the_login(client, document):
    response = client.get(url(document))
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/staff/login"
    assert pdf() not in response.data


def test_an_administrator_may_open_every_clerks_documents(client, factories, document):
    admin = factories.admin()
    login(client, admin.email)
    response = client.get(url(document))
    assert response.status_code == 200 and response.data == pdf()


def test_a_document_of_another_appointment_is_a_404_under_this_one(clerk_client, service, clerk, monday, factories, document):
    other = booking.book_for_caller(service, berlin(monday, 10), factories.citizen(), clerk=clerk, now=clock.now())
    assert clerk_client.get(f"/staff/appointments/{other.id}/documents/{document.id}").status_code == 404


def test_a_cancelled_appointments_documents_are_deleted_by_the_job(clerk_client, appointment, document):
    from visits import jobs

    path, address = documents.path_of(document), url(document)
    assert path.is_file()
    booking.cancel(appointment, now=clock.now())
    assert jobs.discard_documents(clock.now() + timedelta(minutes=1)) == 1
    assert not path.exists() and documents.of_appointment(appointment) == []
    assert clerk_client.get(address).status_code == 404
