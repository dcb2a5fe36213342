"""The administration pages in a real browser (Debian's chromium): no axe violations of
WCAG 2.1 AA, in German and English, including a form showing its errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from visits.booking import documents, guests
from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.models import RoomPresence

from ..browser.support import axe_violations, open_page
from ..conftest import berlin
from ..documents import pdf
from ..factories import Factories
from .test_operations import _failed_mail, _pause

pytestmark = pytest.mark.browser

PAGES = [
    "/admin/",
    "/admin/services",
    "/admin/services/new",
    "/admin/staff",
    "/admin/staff/new",
    "/admin/api-keys",
    "/admin/mails",
    "/admin/pauses",
    "/admin/video",
    "/admin/reports",
    "/admin/audit",
    "/admin/locations",
    "/admin/locations/new",
]


@pytest.fixture
def filled(factories, admin):
    service = factories.service(name_de="Wohngeld")
    factories.clerk([service], name="Carla Clerk")
    _failed_mail(clock.now())
    _pause()


def test_admin_pages_have_no_accessibility_violations(browser, admin_client, filled):
    found = {}
    for path in PAGES:
        for lang in ("de", "en"):
            page = open_page(browser, admin_client, f"{path}?lang={lang}")
            if problems := axe_violations(page):
                found[f"{path} ({lang})"] = problems
            page.context.close()
    assert found == {}


def test_form_with_errors_is_accessible_and_links_to_the_fields(browser, admin_client, filled):
    page = open_page(browser, admin_client, "/admin/services/new?lang=en")
    page.get_by_label("Address part (slug)").fill("Not Valid!")
    page.get_by_role("button", name="Save").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert "lower-case letters" in summary.inner_text() and "Enter the German name." in summary.inner_text()
    summary.get_by_role("link", name="Enter the German name.").click()
    assert page.evaluate("document.activeElement.id") == "name_de"
    assert axe_violations(page) == []
    page.context.close()


def test_an_appointment_with_a_guest_presence_and_documents_is_accessible(
    browser, admin_client, factories, reconfigure
):
    """The staff appointment page with its guest and documents sections, and the agenda with
    the citizen's presence, as an administrator (who sees every clerk's) in both languages."""
    reconfigure(JITSI_EVENTS_TOKEN="presence-is-reported-0123456789")
    service = factories.service(name_de="Wohngeld", video=True)
    factories.clerk([service], name="Carla Clerk")
    now = clock.now()
    start = berlin(factories.working_monday(), 9)
    appointment = booking.confirm(booking.hold(service, start, factories.citizen(), now=now).appointment, now=now)
    guests.invite(appointment, name="Ingrid Interpretin", email="ingrid@example.org", role="sign_language", now=now)
    documents.hand_in(appointment, filename="Mietvertrag.pdf", data=pdf(), now=now)
    db.session.add(RoomPresence(appointment_id=appointment.id, place="lobby", who="citizen", occupant_jid="c@x/1", joined_at=now))
    db.session.commit()
    agenda = f"/staff/?date={start.date().isoformat()}"
    shown = german_pages_shown_clean(browser, admin_client, [f"/staff/appointments/{appointment.id}", agenda])
    assert "Ingrid Interpretin" in shown[0] and "Mietvertrag.pdf" in shown[0]
    assert "Wartet im Warteraum" in shown[1]


def test_a_location_and_its_closing_days_are_accessible(browser, admin_client, admin, factories):
    from datetime import time

    from visits.admin import places

    location = places.default_location()
    day = factories.working_monday()
    places.add_closing_day(location, places.Closing(day=day, reason_de="Rosenmontag"), admin, now=clock.now())
    places.add_closing_day(
        location,
        places.Closing(day=day + timedelta(days=1), from_time=time(13), reason_de="Personalversammlung"),
        admin,
        now=clock.now(),
    )
    db.session.commit()
    paths = [f"/admin/locations/{location.id}", f"/admin/locations/{location.id}/closing-days"]
    shown = german_pages_shown_clean(browser, admin_client, paths)
    assert "Personalversammlung" in shown[1]


def test_the_department_pages_are_accessible(browser, admin_client, factories):
    department = factories.department("verkehrsamt", "Straßenverkehrsamt", "Road traffic office", location="haus-b")
    paths = ["/admin/departments", "/admin/departments/new", f"/admin/departments/{department.id}"]
    shown = german_pages_shown_clean(browser, admin_client, paths)
    assert "Straßenverkehrsamt" in shown[0] and "Haus-B" in shown[0]


def test_a_department_admins_pages_are_accessible(browser, client, factories):
    """What a department administrator sees: their department's overview, staff and service forms."""
    department = factories.department("verkehrsamt", "Straßenverkehrsamt", "Road traffic office", location="haus-b")
    factories.clerk(name="Carla Clerk", department=department)
    admin_a = factories.department_admin(department, name="Dora Fachbereich")
    Factories.login(client, admin_a)
    paths = ["/admin/", "/admin/staff", "/admin/staff/new", "/admin/services/new", "/admin/locations"]
    shown = german_pages_shown_clean(browser, client, paths)
    assert "Sie verwalten den Fachbereich Straßenverkehrsamt." in shown[0]
    assert "Carla Clerk" in shown[1] and "Fachbereiche" not in shown[0]


def german_pages_shown_clean(browser, client, paths: list[str]) -> list[str]:
    """Open each path in German and English; fail on any axe violation; the German pages' HTML."""
    found, german = {}, []
    for path in paths:
        for lang in ("de", "en"):
            page = open_page(browser, client, f"{path}{'&' if '?' in path else '?'}lang={lang}")
            assert page.first_status == 200, path
            if lang == "de":
                german.append(page.content())
            if problems := axe_violations(page):
                found[f"{path} ({lang})"] = problems
            page.context.close()
    assert found == {}
    return german
