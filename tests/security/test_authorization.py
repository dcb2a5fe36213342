"""The authorization walk: every staff and admin route, GET and POST, as anonymous,
as clerk A, as clerk B and as admin. Nobody reaches what is not theirs (anonymous: the redirect
to the login page; a clerk on an admin page: 403; clerk B on clerk A's objects: 404; and none
of the other person's data in the body).

The walk is generic: it reads ``app.url_map``, so a route added later is walked too. Path
arguments are filled with objects that belong to clerk A (A's appointment, absence, weekly
hours; for the admin routes: a service, A's account, an API key, a failed mail, a booking
pause, a location and its closing day). A route with an argument the walk does not know fails the test until an object for
it is added to ``OWNED_BY_A`` below."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from urllib.parse import urlsplit

import pytest

from visits.admin import api_keys, places
from visits.booking import documents, guests
from visits.booking import operations as booking
from visits.core import clock
from visits.extensions import db
from visits.models import (
    Absence,
    ApiKey,
    Appointment,
    ClosingDay,
    OutboxMessage,
    Service,
    StaffUser,
    Status,
    WeeklyHours,
)
from visits.web.staff import access as staff_access

from ..conftest import berlin
from ..documents import pdf

# Staff routes a visitor without login may use.
PUBLIC = {"staff.login"}
# Logging out ends at the login page, for everyone.
LOGOUT = {"staff.logout"}
# Routes under /admin that clerks use as well (booking pauses: clerks may lift them too).
CLERK_ALSO = {"admin.pauses", "admin.pause_lift"}
# An administrator sees every clerk's appointments, but weekly hours and absences stay the
# clerk's own, and only the clerk decides a conflict of their own calendar: for these the
# administrator, too, gets a 404 on clerk A's objects.
ADMIN_NOT_ON_CLERKS_OWN = {
    "staff.hours_edit",
    "staff.hours_delete",
    "staff.absence_delete",
    "staff.conflict_resolve",
}
# The walk must reach at least this many (route, method) pairs: an empty or broken URL map fails.
MINIMUM_WALKED = 40
REFUSED = {403, 404}
ADMIN_ONLY = 403  # a clerk on an admin page: the page exists, it is not for them
NOT_YOURS = 404  # someone else's object: as if it did not exist

CITIZEN_NAME = "Greta Geheimnisvoll"
CITIZEN_EMAIL = "greta.geheim@example.org"
CITIZEN_PHONE = "+49 211 5550199"
CITIZEN_NOTE = "Gebaerdendolmetscherin erbeten"
INTERNAL_NOTE = "Akte 4711 vertraulich"
ABSENCE_REASON = "Zahnarzttermin Privat"
GUEST_NAME = "Gisela Gebaerdendolmetsch"
DOCUMENT_NAME = "Greta Ausweis vertraulich.pdf"
DOCUMENT_TEXT = "Ausweisnummer L01X00T47"


@dataclass
class World:
    clerk_a: object
    clerk_b: object
    admin: object
    args: dict[str, int]
    secrets: tuple[str, ...]
    monday: date


@pytest.fixture
def client(factories):
    """A client that forgets one person's cached user before the next request."""
    return factories.staff_client()


@pytest.fixture
def world(app, factories) -> World:
    monday = factories.working_monday()
    service = factories.service(name_de="Wohngeldberatung", video=True)
    clerk_a = factories.clerk([service], name="Anna Amsel", email="anna.a@stadt.example")
    clerk_b = factories.clerk([service], name="Bernd Bussard", email="bernd.b@stadt.example")
    admin = factories.admin(name="Ada Admin", email="ada.admin@stadt.example")

    citizen = factories.citizen(
        name=CITIZEN_NAME, email=CITIZEN_EMAIL, phone=CITIZEN_PHONE, note=CITIZEN_NOTE
    )
    appointment = booking.book_for_caller(service, berlin(monday, 9), citizen, clerk=clerk_a, now=clock.now())
    assert appointment.clerk_id == clerk_a.id
    appointment.internal_note = INTERNAL_NOTE
    db.session.commit()
    # An interpreter invited to A's video appointment: B can neither see nor remove them.
    guests.invite(
        appointment, name=GUEST_NAME, email="gisela@example.org", role="sign_language", by=clerk_a, now=clock.now()
    )
    document = documents.hand_in(appointment, filename=DOCUMENT_NAME, data=pdf(DOCUMENT_TEXT), now=clock.now())
    # A's absence overlaps the appointment, so it is also on A's conflicts page.
    absence = factories.absence(clerk_a, berlin(monday, 8, 30), berlin(monday, 10), ABSENCE_REASON)
    hours = db.session.scalar(
        db.select(WeeklyHours).where(WeeklyHours.clerk_id == clerk_a.id, WeeklyHours.weekday == 0)
    )
    hours.end_time = time(11, 45)  # something only A set
    db.session.commit()

    key, _plain = api_keys.create("Portal Alpha", admin, now=clock.now())
    failed = factories.failed_mail(CITIZEN_EMAIL)
    pause = factories.booking_pause("pausiert@example.org")
    location = places.default_location()
    closing = places.add_closing_day(location, places.Closing(monday, reason_de="Rosenmontag"), admin, now=clock.now())
    args = {
        "appointment_id": appointment.id,
        "absence_id": absence.id,
        "hours_id": hours.id,
        "service_id": service.id,
        "user_id": clerk_a.id,
        "key_id": key.id,
        "message_id": failed.id,
        "pause_id": pause.id,
        "document_id": document.id,
        "location_id": location.id,
        "closing_day_id": closing.id,
        "department_id": location.department_id,
    }
    secrets = (
        CITIZEN_NAME,
        CITIZEN_EMAIL,
        CITIZEN_PHONE,
        CITIZEN_NOTE,
        INTERNAL_NOTE,
        ABSENCE_REASON,
        GUEST_NAME,
        DOCUMENT_NAME,
        DOCUMENT_TEXT,
        appointment.reference,
    )
    return World(clerk_a, clerk_b, admin, args, secrets, monday)


def staff_routes(app) -> list[tuple]:
    """(endpoint, method, url, path args) for every rule under /staff and /admin, and join.clerk."""
    found = []
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith(("/staff", "/admin")) or rule.endpoint == "join.clerk"):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, rule))
    return sorted(found, key=lambda item: (item[2].rule, item[1]))


def _url(app, rule, args: dict[str, int], monday: date) -> str:
    unknown = set(rule.arguments) - set(args)
    assert not unknown, f"{rule.rule}: add an object owned by clerk A for {sorted(unknown)} to the walk"
    with app.test_request_context():
        path = app.url_for(rule.endpoint, **{name: args[name] for name in rule.arguments})
    # The agenda shows a day (or week): the one with A's appointment.
    return f"{path}?date={monday.isoformat()}&view=week"


def _request(client, method: str, url: str, user=None):
    """One request as ``user`` (None: anonymous), logged in the way Flask-Login keeps it."""
    with client.session_transaction() as session:
        session.clear()
        if user is not None:
            session["_user_id"] = str(user.id)
            session["_fresh"] = True
            session.update(staff_access.session_fields(user, now=clock.now()))
    if method == "GET":
        return client.get(url)
    return client.post(url, data={})


def _leaks(response, secrets) -> list[str]:
    body = response.get_data(as_text=True)
    return [secret for secret in secrets if secret in body]


def _to_login(response) -> bool:
    """Flask-Login's answer to a request without login (login_view): 302 to the login page."""
    return response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/staff/login"


def _answer(response) -> str:
    return f"{response.status_code} {response.headers.get('Location', '')}".rstrip()


def test_walk_every_staff_and_admin_route(app, client, world):
    routes = staff_routes(app)
    endpoints = {endpoint for endpoint, _m, _r in routes}
    assert {"staff.agenda", "staff.appointment", "admin.index", "admin.staff", "join.clerk"} <= endpoints
    assert {"staff.appointment_guest_invite", "staff.appointment_guest_remove"} <= endpoints
    assert len(routes) >= MINIMUM_WALKED, f"only {len(routes)} routes walked"

    # The check can fail: A sees A's appointment (the citizen's name) on A's own pages.
    own = _request(client, "GET", f"/staff/appointments/{world.args['appointment_id']}", world.clerk_a)
    assert own.status_code == 200 and CITIZEN_NAME in own.get_data(as_text=True)
    assert GUEST_NAME in own.get_data(as_text=True)
    appointment_id, document_id = world.args["appointment_id"], world.args["document_id"]
    file = _request(client, "GET", f"/staff/appointments/{appointment_id}/documents/{document_id}", world.clerk_a)
    assert file.status_code == 200 and DOCUMENT_TEXT.encode() in file.data

    problems: list[str] = []
    walked = 0
    for endpoint, method, rule in routes:
        url = _url(app, rule, world.args, world.monday)
        has_objects = bool(rule.arguments)
        is_admin_route = endpoint.startswith("admin.") and endpoint not in CLERK_ALSO
        walked += 1

        # anonymous: to the login page, nothing shown
        response = _request(client, method, url)
        if endpoint not in PUBLIC and not _to_login(response):
            problems.append(f"anonymous {method} {url}: {_answer(response)}, expected 302 to /staff/login")
        if leaked := _leaks(response, world.secrets):
            problems.append(f"anonymous {method} {url} shows {leaked}")

        # clerk B: refused on A's objects and on admin pages; own pages without A's data
        response = _request(client, method, url, world.clerk_b)
        if (has_objects and endpoint not in CLERK_ALSO) or is_admin_route:
            expected = ADMIN_ONLY if is_admin_route else NOT_YOURS
            if response.status_code != expected:
                problems.append(f"clerk B {method} {url}: {_answer(response)}, expected {expected}")
        elif response.status_code >= 500 or (_to_login(response) and endpoint not in LOGOUT):
            problems.append(f"clerk B {method} {url}: {response.status_code}")
        if leaked := _leaks(response, world.secrets):
            problems.append(f"clerk B {method} {url} shows {leaked}")

        # clerk A: refused on admin pages (A's own objects are theirs)
        if is_admin_route:
            response = _request(client, method, url, world.clerk_a)
            if response.status_code != ADMIN_ONLY:
                problems.append(f"clerk A {method} {url}: {_answer(response)}, expected {ADMIN_ONLY}")
            if leaked := _leaks(response, world.secrets):
                problems.append(f"clerk A {method} {url} shows {leaked}")

    # Nothing that anonymous or clerk B sent changed A's things.
    db.session.expire_all()
    appointment = db.session.get(Appointment, world.args["appointment_id"])
    assert appointment.status == Status.CONFIRMED and appointment.internal_note == INTERNAL_NOTE
    assert guests.active_guest(appointment).name == GUEST_NAME
    assert db.session.get(WeeklyHours, world.args["hours_id"]).end_time == time(11, 45)
    assert db.session.get(Absence, world.args["absence_id"]) is not None
    assert db.session.get(ApiKey, world.args["key_id"]).active
    assert db.session.get(OutboxMessage, world.args["message_id"]).status == "failed"

    # admin: allowed everywhere (after the others, since the admin's POSTs change things)
    for endpoint, method, rule in routes:
        url = _url(app, rule, world.args, world.monday)
        response = _request(client, method, url, world.admin)
        if endpoint in ADMIN_NOT_ON_CLERKS_OWN:
            expected_ok = response.status_code == NOT_YOURS
        else:
            expected_ok = response.status_code < 500 and response.status_code not in {401, *REFUSED}
            expected_ok = expected_ok and (endpoint in LOGOUT or not _to_login(response))
        if not expected_ok:
            problems.append(f"admin {method} {url}: {_answer(response)}")

    assert walked >= MINIMUM_WALKED
    assert not problems, "\n".join(problems)


def test_admin_sees_every_clerks_appointments_on_the_agenda(app, client, world):
    """The positive side of the walk: what the admin may see is really there."""
    response = _request(client, "GET", f"/staff/?date={world.monday.isoformat()}&view=week", world.admin)
    assert response.status_code == 200 and CITIZEN_NAME in response.get_data(as_text=True)
    clerk_b_view = _request(
        client, "GET", f"/staff/?date={world.monday.isoformat()}&view=week", world.clerk_b
    )
    assert clerk_b_view.status_code == 200 and CITIZEN_NAME not in clerk_b_view.get_data(as_text=True)


# -- department administrators ---------------------------------------------------------------

# Path arguments that name an object of a department: in the department walk they name
# department B's objects once, and department B's objects answer 404 to A's administrator.
DEPARTMENT_BOUND = {"service_id", "user_id", "location_id", "closing_day_id"}
B_SERVICE = "Fahrerlaubnis Umtausch"
B_CLERK = "Bruno Behörde"
B_CLOSING = "Betriebsausflug Verkehrsamt"


@dataclass
class Departments:
    """World's department A (the default one, with clerk A) and a department B with a
    service, a clerk, a location and a closing day of its own; the administrator of A."""

    admin_a: object
    args_b: dict[str, int]


@pytest.fixture
def departments(app, factories, world) -> Departments:
    department_b = factories.department("verkehrsamt", "Straßenverkehrsamt", "Road traffic office", location="haus-b")
    location_b = department_b.locations[0]
    service_b = factories.service(name_de=B_SERVICE, department_id=department_b.id, location_id=location_b.id)
    clerk_b = factories.clerk([service_b], name=B_CLERK, email="bruno@stadt.example", department=department_b)
    closing_b = places.add_closing_day(
        location_b, places.Closing(world.monday, reason_de=B_CLOSING), world.admin, now=clock.now()
    )
    admin_a = factories.department_admin(name="Dora Fachbereich", email="dora@stadt.example")
    args_b = {
        **world.args,
        "service_id": service_b.id,
        "user_id": clerk_b.id,
        "location_id": location_b.id,
        "closing_day_id": closing_b.id,
    }
    return Departments(admin_a, args_b)


def _access(app, endpoint: str) -> str:
    """The access level a route declares (visits/web/admin/access.py); /staff routes: "staff"."""
    return getattr(app.view_functions[endpoint], "_access", "admin" if endpoint.startswith("admin.") else "staff")


def test_walk_as_the_administrator_of_department_a(app, client, world, departments):
    """A's department administrator: department B's objects answer 404 (and show nothing of B),
    city-only pages 403, clerk A's calendar objects 404 (they are clerk A's); A's services,
    locations, closing days and clerks open."""
    routes = staff_routes(app)
    admin_a = departments.admin_a
    b_secrets = (B_SERVICE, B_CLERK, B_CLOSING)
    city_only = {endpoint for endpoint, _m, _r in routes if _access(app, endpoint) == "admin"}
    assert {"admin.departments", "admin.department_edit", "admin.api_key_list", "admin.audit_log",
            "admin.mails", "admin.video"} <= city_only  # fmt: skip
    problems: list[str] = []

    # Department B's objects first (nothing may change there), by GET and POST.
    for endpoint, method, rule in routes:
        if not set(rule.arguments) & DEPARTMENT_BOUND or endpoint in city_only:
            continue
        url = _url(app, rule, departments.args_b, world.monday)
        response = _request(client, method, url, admin_a)
        if response.status_code != NOT_YOURS:
            problems.append(f"admin of A {method} {url} (department B): {_answer(response)}, expected 404")
        if leaked := _leaks(response, b_secrets):
            problems.append(f"admin of A {method} {url} shows {leaked}")
    db.session.expire_all()
    assert db.session.get(Service, departments.args_b["service_id"]).active
    assert db.session.get(StaffUser, departments.args_b["user_id"]).active
    assert db.session.get(ClosingDay, departments.args_b["closing_day_id"]) is not None

    # Then everything with department A's objects.
    for endpoint, method, rule in routes:
        url = _url(app, rule, world.args, world.monday)
        response = _request(client, method, url, admin_a)
        access = _access(app, endpoint)
        if endpoint in city_only:
            expected_ok = response.status_code == ADMIN_ONLY
        elif endpoint.startswith("admin.") or not rule.arguments:
            expected_ok = response.status_code < 500 and response.status_code not in {401, *REFUSED}
            expected_ok = expected_ok and (endpoint in LOGOUT or not _to_login(response))
        else:  # clerk A's appointments, hours, absences: not this administrator's
            expected_ok = response.status_code == NOT_YOURS
        if not expected_ok:
            problems.append(f"admin of A ({access}) {method} {url}: {_answer(response)}")
        # (B's service is public: the phone booking on /staff offers every service.)
        if leaked := _leaks(response, (*world.secrets, *(b_secrets if endpoint.startswith("admin.") else ()))):
            problems.append(f"admin of A {method} {url} shows {leaked}")
    assert not problems, "\n".join(problems)


def test_the_city_admin_sees_every_department_and_a_department_admin_only_their_own(app, client, world, departments):
    lists = ("/admin/services", "/admin/staff", "/admin/locations", "/admin/")
    city = " ".join(_request(client, "GET", url, world.admin).get_data(as_text=True) for url in lists)
    assert B_SERVICE in city and B_CLERK in city and "Haus-B" in city
    own = [_request(client, "GET", url, departments.admin_a) for url in lists]
    assert all(response.status_code == 200 for response in own)
    body = " ".join(response.get_data(as_text=True) for response in own)
    assert "Wohngeldberatung" in body and "Anna Amsel" in body
    assert B_SERVICE not in body and B_CLERK not in body and "Haus-B" not in body
    # A department administrator does not manage administrators: the city admin is not listed.
    assert "Ada Admin" not in body and "Ada Admin" in city
