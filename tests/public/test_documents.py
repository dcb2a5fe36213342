"""Documents before a video appointment: the citizen hands in PDF, JPEG and PNG files on
the manage page; the type is read from the content, the limits hold, every refusal is a
clear message at the form, and the files lie under random names in DOCUMENTS_DIR."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select

from visits import settings
from visits.booking import links
from visits.booking import operations as booking
from visits.extensions import db
from visits.models.documents import AppointmentDocument

from ..conftest import berlin
from ..documents import EICAR, EXECUTABLE, clamd_stand_in, pdf, pdf_of_size, png
from .conftest import MONDAY, NOW, page


@pytest.fixture
def appointment(service, factories, traveller):
    held = booking.hold(service, berlin(MONDAY, 8), factories.citizen(), now=NOW).appointment
    return booking.confirm(held, now=NOW)


def manage_url(appointment) -> str:
    return f"/termin/{links.derive_token('manage', appointment.uid)}"


def hand_in(client, appointment, data: bytes, name: str = "Mietvertrag.pdf", content_type: str = "application/pdf"):
    return client.post(
        manage_url(appointment) + "/unterlagen",
        data={"document": (io.BytesIO(data), name, content_type)},
        content_type="multipart/form-data",
    )


def stored() -> list[AppointmentDocument]:
    db.session.expire_all()
    return list(db.session.scalars(select(AppointmentDocument).order_by(AppointmentDocument.id)))


def files() -> list[Path]:
    folder = Path(settings.current().documents_dir)
    return sorted(folder.iterdir()) if folder.exists() else []


def test_a_small_pdf_is_handed_in_and_listed_on_the_manage_page(client, appointment):
    response = hand_in(client, appointment, pdf())
    assert response.status_code == 303
    shown = page(client.get(manage_url(appointment)))
    assert "Mietvertrag.pdf" in shown and "wurde eingereicht" in shown
    (document,) = stored()
    assert (document.content_type, document.size_bytes) == ("application/pdf", len(pdf()))
    assert files() == [Path(settings.current().documents_dir) / document.storage_name]
    assert files()[0].read_bytes() == pdf()


def test_an_executable_renamed_pdf_is_refused_whatever_its_name_and_type_say(client, appointment):
    response = hand_in(client, appointment, EXECUTABLE, name="Mietvertrag.pdf", content_type="application/pdf")
    assert response.status_code == 422
    assert "keine PDF-, JPEG- oder PNG-Datei" in page(response)
    assert stored() == [] and files() == []


def test_a_file_over_the_size_limit_is_refused(client, appointment, reconfigure):
    reconfigure(DOCUMENT_MAX_BYTES=2048)
    response = hand_in(client, appointment, pdf(padding=4000))
    assert response.status_code == 413
    assert "Diese Datei ist zu groß" in page(response) and "2 KB" in page(response)
    assert stored() == [] and files() == []


def test_a_body_beyond_the_request_limit_gets_the_same_message_at_the_form(client, appointment, app):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    response = hand_in(client, appointment, pdf(padding=10_000))
    assert response.status_code == 413
    assert "Diese Datei ist zu groß" in page(response) and 'id="document"' in page(response)
    assert stored() == []


def test_by_default_a_document_of_the_full_size_limit_is_taken(client, appointment):
    limit = settings.current().document_max_bytes
    assert limit == 10 * 1024 * 1024
    assert hand_in(client, appointment, pdf_of_size(limit)).status_code == 303
    assert stored()[0].size_bytes == limit


@pytest.mark.parametrize(
    ("name", "data", "shown"),
    [("../../etc/passwd.pdf", pdf(), "passwd.pdf"), ("..\\x.png", png(), "x.png")],
)
def test_a_path_in_the_name_is_dropped_and_the_file_lies_under_a_random_name(client, appointment, name, data, shown):
    assert hand_in(client, appointment, data, name=name, content_type="image/png").status_code == 303
    (document,) = stored()
    assert document.display_name == shown
    (path,) = files()
    assert path.name == document.storage_name and len(path.name) == 32 and shown not in path.name
    assert path.parent == Path(settings.current().documents_dir)
    assert f">{shown}<" in page(client.get(manage_url(appointment))) and name not in page(client.get(manage_url(appointment)))


def test_a_name_that_claims_another_type_gets_the_extension_of_the_content(client, appointment):
    hand_in(client, appointment, png(), name="Scan\x07.pdf\x1b", content_type="application/pdf")
    assert stored()[0].display_name == "Scan.pdf.png" and stored()[0].content_type == "image/png"


def test_more_files_than_allowed_are_refused(client, appointment, reconfigure):
    reconfigure(DOCUMENTS_MAX_PER_APPOINTMENT=2)
    assert hand_in(client, appointment, pdf("eins")).status_code == 303
    assert hand_in(client, appointment, pdf("zwei")).status_code == 303
    response = hand_in(client, appointment, pdf("drei"))
    assert response.status_code == 422
    assert "bereits 2 Dateien eingereicht" in page(response)
    assert len(stored()) == 2 and len(files()) == 2


def test_an_empty_file_or_none_chosen_is_refused(client, appointment):
    empty = hand_in(client, appointment, b"", name="leer.pdf")
    nothing = client.post(manage_url(appointment) + "/unterlagen", data={}, content_type="multipart/form-data")
    for response in (empty, nothing):
        assert response.status_code == 422 and "Wählen Sie eine Datei" in page(response)
    assert stored() == []


def test_refusals_speak_the_citizens_language(client, appointment):
    client.get(manage_url(appointment) + "?lang=en")
    response = hand_in(client, appointment, EXECUTABLE)
    assert "This file is not a PDF, JPEG or PNG file" in page(response)


def test_the_citizen_deletes_a_document_and_its_file_is_gone(client, appointment):
    hand_in(client, appointment, pdf())
    (document,) = stored()
    response = client.post(f"{manage_url(appointment)}/unterlagen/{document.id}/loeschen")
    assert response.status_code == 303
    assert stored() == [] and files() == []
    shown = page(client.get(manage_url(appointment)))
    assert "Das Dokument wurde gelöscht." in shown and "<td>Mietvertrag.pdf</td>" not in shown


def test_a_cancelled_appointment_takes_no_documents(client, appointment):
    booking.cancel(appointment, now=NOW)
    assert 'name="document"' not in page(client.get(manage_url(appointment)))
    response = hand_in(client, appointment, pdf())
    assert response.status_code == 409 and "nur für einen bevorstehenden Videotermin" in page(response)
    assert stored() == []


def test_an_on_site_appointment_offers_no_upload(client, factories, traveller):
    on_site = factories.service(slug="vor-ort", video=False, address="Rathaus, Zimmer 1")
    factories.clerk([on_site])
    held = booking.hold(on_site, berlin(MONDAY, 9), factories.citizen(), now=NOW).appointment
    assert 'name="document"' not in page(client.get(manage_url(held)))
    assert hand_in(client, held, pdf()).status_code == 409


def test_with_a_virus_scanner_a_clean_file_is_scanned_by_instream_and_taken(client, appointment, reconfigure):
    with clamd_stand_in() as clamd:
        reconfigure(CLAMD_SOCKET=str(clamd.path))
        assert hand_in(client, appointment, pdf()).status_code == 303
    assert clamd.scanned == [pdf()] and len(stored()) == 1


def test_the_virus_scanner_refuses_the_eicar_test_file(client, appointment, reconfigure):
    with clamd_stand_in() as clamd:
        reconfigure(CLAMD_SOCKET=str(clamd.path))
        response = hand_in(client, appointment, EICAR, name="rechnung.pdf")
    assert response.status_code == 422
    assert "Virenprüfung" in page(response) and "Schädliches" in page(response)
    assert clamd.scanned == [EICAR] and stored() == [] and files() == []


def test_when_the_virus_scanner_cannot_be_reached_the_upload_is_refused(client, appointment, reconfigure):
    with clamd_stand_in() as clamd:
        gone = str(clamd.path)
    reconfigure(CLAMD_SOCKET=gone)
    response = hand_in(client, appointment, pdf())
    assert response.status_code == 503
    assert "funktioniert gerade nicht" in page(response)
    assert stored() == [] and files() == []
