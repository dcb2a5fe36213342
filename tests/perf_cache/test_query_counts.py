"""Every staff and administration page that lists something runs as many SQL statements for
30 rows as for 3: a page whose cost grows with its rows (one query per row, the slot
engine per row) gets slow exactly when the office is busy.

Each case builds a page with 3 rows of what it lists, counts the statements one request
runs, adds 27 rows, counts again and checks that the page shows all 30. The pages come
from the app's URL map (GET routes under /staff and /admin); the test below it fails when
a new one appears that no case here covers. Not counted, because they list nothing: the
login and password forms, one appointment, one set of hours, the forms for a new or one
service or staff member, and the video status (read from the configuration)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, time, timedelta

import pytest
from flask import current_app
from sqlalchemy import event

from visits.admin import api_keys, places
from visits.booking import operations as booking
from visits.clerks import absences as clerk_absences
from visits.clerks import hours as clerk_hours
from visits.core import audit, clock
from visits.extensions import db
from visits.models import Absence, Appointment, Department, Location

from ..days import berlin
from ..factories import Factories

FEW, MANY = 3, 30
ALL_DAY = [(d, time(6), time(22)) for d in range(5)]

# GET pages under /staff and /admin that show one thing or a form, not a list.
NOT_LISTS = {
    "staff.login",
    "staff.password",
    "staff.appointment",
    "staff.document",  # one file, a download
    "staff.hours_edit",
    "admin.service_new",
    "admin.service_edit",
    "admin.staff_new",
    "admin.staff_edit",
    "admin.video",
    "admin.location_new",
    "admin.location_edit",
    "admin.department_new",
    "admin.department_edit",
}


@contextmanager
def counted() -> Iterator[list[str]]:
    """The SQL statements sent to the database while the block runs."""
    statements: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def statements_of(client, url: str) -> tuple[list[str], str]:
    """The statements of one GET request, and the page it answered (spaces collapsed)."""
    # In an app context of its own the request gets a session of its own, empty as on a
    # server: the test's session holds the rows it built and would answer lazy loads from
    # memory, hiding them. Its open transaction ends first (SQLite lets one writer in).
    db.session.commit()
    with current_app.app_context(), counted() as statements:
        response = client.get(url)
    assert response.status_code == 200, url
    return statements, " ".join(response.get_data(as_text=True).split())


@dataclass
class Page:
    """A logged-in client, the page's address, and ``add(i)``: one more row of what the
    page lists, returning a text the page then shows for that row."""

    client: object
    url: str
    add: Callable[[int], str]


def _client(factories: Factories, user):
    return Factories.login(factories.staff_client(), user)


def _pinned(appointment: Appointment, clerk) -> Appointment:
    """The appointment moved to ``clerk`` (booking picks the clerk by fair order)."""
    appointment.clerk_id = clerk.id
    db.session.commit()
    return appointment


def _slot(monday: date, i: int, per_day: int = 30) -> tuple[date, int]:
    """The i-th half hour from 06:00, ``per_day`` to a day from ``monday`` on."""
    return monday + timedelta(days=i // per_day), 6 * 60 + 30 * (i % per_day)


def _at(monday: date, i: int, per_day: int = 30):
    day, minutes = _slot(monday, i, per_day)
    return berlin(day, 0) + timedelta(minutes=minutes)


# -- staff pages -------------------------------------------------------------------------


def agenda_of_a_clerk(factories: Factories, monday: date) -> Page:
    service = factories.service()
    clerk = factories.clerk([service], hours=ALL_DAY)

    def add(i: int) -> str:
        citizen = factories.citizen(name=f"Bürgerin {i}")
        return booking.book_for_caller(service, _at(monday, i), citizen, clerk=clerk, now=clock.now()).reference

    return Page(_client(factories, clerk), f"/staff/?date={monday}", add)


def agenda_of_everyone(factories: Factories, monday: date) -> Page:
    """An administrator's day of every clerk: one appointment with each of the clerks."""
    service = factories.service()
    admin = factories.admin()

    def add(i: int) -> str:
        clerk = factories.clerk([service], name=f"Sachbearbeiterin {i}")
        found = booking.book_for_caller(service, berlin(monday, 9), factories.citizen(), clerk=admin, now=clock.now())
        return f"{_pinned(found, clerk).reference}</span></td>"

    return Page(_client(factories, admin), f"/staff/?date={monday}", add)


def agenda_week(factories: Factories, monday: date) -> Page:
    """A clerk's week: appointments and absences on every workday."""
    service = factories.service()
    clerk = factories.clerk([service], hours=ALL_DAY)

    def add(i: int) -> str:
        day = monday + timedelta(days=i % 5)
        start = berlin(day, 6) + timedelta(minutes=30 * (i // 5))
        booking.book_for_caller(service, start, factories.citizen(), clerk=clerk, now=clock.now())
        factories.absence(clerk, berlin(day, 22, 10), berlin(day, 22, 20), reason=f"Sitzung {i}")
        return f"(Sitzung {i})"

    return Page(_client(factories, clerk), f"/staff/?view=week&date={monday}", add)


def hours(factories: Factories, monday: date) -> Page:
    """Weekly hours, each for a service of its own, and the preview of every service."""
    clerk = factories.clerk(hours=())

    def add(i: int) -> str:
        service = factories.service(name_de=f"Leistung {i:02d}")
        clerk.services.append(service)
        db.session.commit()
        start = time(6 + i // 5 * 2)
        spec = clerk_hours.HoursSpec(i % 5, start, time(start.hour + 1), service_ids=frozenset({service.id}))
        clerk_hours.add_weekly_hours(clerk, spec, by=clerk, now=clock.now())
        return f"<strong>Leistung {i:02d}</strong>"

    return Page(_client(factories, clerk), "/staff/hours", add)


def absences(factories: Factories, monday: date) -> Page:
    clerk = factories.clerk()

    def add(i: int) -> str:
        day = monday + timedelta(days=i)
        factories.absence(clerk, berlin(day, 13), berlin(day, 14), reason=f"Fortbildung {i}")
        return f"Fortbildung {i}<"

    return Page(_client(factories, clerk), "/staff/absences", add)


def conflicts(factories: Factories, monday: date) -> Page:
    """Appointments of two services on three days, all outside the clerk's hours: each one
    lists the colleagues free at its time (one is, one is away all week)."""
    services = [factories.service(), factories.service()]
    clerk = factories.clerk(services, hours=())
    free = factories.clerk(services, hours=ALL_DAY, name="Jonas Weber")
    away = factories.clerk(services, hours=ALL_DAY, name="Bea Besetzt")
    factories.absence(away, berlin(monday, 0), berlin(monday + timedelta(days=7), 0))

    def add(i: int) -> str:
        service = services[i % 2]
        found = booking.book_for_caller(service, _at(monday, i, per_day=10), factories.citizen(), clerk=free, now=clock.now())
        choice = f'<option value="{free.id}">Jonas Weber</option>'
        return f'<select id="colleague-{_pinned(found, clerk).id}" name="colleague"> {choice}'

    return Page(_client(factories, clerk), "/staff/conflicts", add)


def phone_booking(factories: Factories, monday: date) -> Page:
    """The services to choose from, one of them chosen with its free slots."""
    chosen = factories.service()
    clerk = factories.clerk([chosen])

    def add(i: int) -> str:
        return factories.service(name_de=f"Leistung {i:02d}").name_de

    return Page(_client(factories, clerk), f"/staff/phone-booking?service={chosen.id}&week={monday}", add)


def calendar(factories: Factories, monday: date) -> Page:
    """Busy times from the clerk's uploaded calendar."""
    clerk = factories.clerk()

    def add(i: int) -> str:
        day = monday + timedelta(days=i)
        db.session.add(
            Absence(
                clerk_id=clerk.id,
                start_at=berlin(day, 15),
                end_at=berlin(day, 16),
                reason=f"Termin {i}",
                source=clerk_absences.CALENDAR_SOURCE,
                created_at=clock.now(),
            )
        )
        db.session.commit()
        return f": Termin {i}<"

    return Page(_client(factories, clerk), "/staff/calendar", add)


# -- administration pages ----------------------------------------------------------------


def overview(factories: Factories, monday: date) -> Page:
    """The overview counts failed mails and booking pauses (it shows the counts only)."""

    def add(i: int) -> str:
        factories.failed_mail(f"person{i}@example.org")
        factories.booking_pause(f"person{i}@example.org")
        return ""

    return Page(_client(factories, factories.admin()), "/admin/", add)


def services(factories: Factories, monday: date) -> Page:
    """Services, each with the number of clerks who offer it."""
    clerk = factories.clerk()

    def add(i: int) -> str:
        service = factories.service(name_de=f"Leistung {i:02d}")
        clerk.services.append(service)
        db.session.commit()
        return f">Leistung {i:02d}<"

    return Page(_client(factories, factories.admin()), "/admin/services", add)


def staff(factories: Factories, monday: date) -> Page:
    """Staff members, each with the services they offer."""

    def add(i: int) -> str:
        factories.clerk([factories.service(name_de=f"Leistung {i:02d}")], name=f"Mitarbeiterin {i}")
        return f"Leistung {i:02d}<"

    return Page(_client(factories, factories.admin()), "/admin/staff", add)


def audit_log(factories: Factories, monday: date) -> Page:
    """Events by many staff members (each also in the filter's choice of actors)."""

    def add(i: int) -> str:
        person = factories.clerk(name=f"Mitarbeiterin {i}")
        audit.record(f"test.action_{i}", at=clock.now(), actor=person, obj=person)
        db.session.commit()
        return f"<code>test.action_{i}</code>"

    return Page(_client(factories, factories.admin()), "/admin/audit", add)


def api_key_list(factories: Factories, monday: date) -> Page:
    admin = factories.admin()

    def add(i: int) -> str:
        api_keys.create(f"Portal {i}", admin, now=clock.now())
        return f">Portal {i}<"

    return Page(_client(factories, admin), "/admin/api-keys", add)


def mails(factories: Factories, monday: date) -> Page:
    def add(i: int) -> str:
        return factories.failed_mail(f"person{i}@example.org").recipient

    return Page(_client(factories, factories.admin()), "/admin/mails", add)


def pauses(factories: Factories, monday: date) -> Page:
    def add(i: int) -> str:
        return factories.booking_pause(f"person{i}@example.org").email

    return Page(_client(factories, factories.admin()), "/admin/pauses", add)


def reports(factories: Factories, monday: date) -> Page:
    """Appointments of many services in the chosen week, counted per service."""
    clerk = factories.clerk(hours=ALL_DAY)

    def add(i: int) -> str:
        service = factories.service(name_de=f"Leistung {i:02d}")
        clerk.services.append(service)
        db.session.commit()
        booking.book_for_caller(service, _at(monday, i), factories.citizen(), clerk=clerk, now=clock.now())
        return f">Leistung {i:02d}<"

    url = f"/admin/reports?date_from={monday}&date_until={monday + timedelta(days=6)}"
    return Page(_client(factories, factories.admin()), url, add)


def locations(factories: Factories, monday: date) -> Page:
    """Locations of several departments, each with a closing day."""
    admin = factories.admin()

    def add(i: int) -> str:
        department = Department(slug=f"amt-{i}", name_de=f"Amt {i}", name_en=f"Office {i}")
        location = Location(slug=f"ort-{i}", name_de=f"Standort {i:02d}", name_en=f"Site {i}", department=department)
        db.session.add(location)
        db.session.commit()
        places.add_closing_day(location, places.Closing(monday, reason_de="Rosenmontag"), admin, now=clock.now())
        return f">Standort {i:02d}<"

    return Page(_client(factories, admin), "/admin/locations", add)


def closing_days(factories: Factories, monday: date) -> Page:
    admin = factories.admin()
    location = places.default_location()
    db.session.commit()

    def add(i: int) -> str:
        closing = places.Closing(monday + timedelta(days=i), reason_de=f"Schließung {i:02d}")
        places.add_closing_day(location, closing, admin, now=clock.now())
        return f"Schließung {i:02d}<"

    return Page(_client(factories, admin), f"/admin/locations/{location.id}/closing-days", add)


def departments(factories: Factories, monday: date) -> Page:
    """Departments, each with its locations."""

    def add(i: int) -> str:
        factories.department(f"amt-{i}", f"Amt {i:02d}", location=f"ort-{i}")
        return f">Amt {i:02d}<"

    return Page(_client(factories, factories.admin()), "/admin/departments", add)


def services_of_a_department(factories: Factories, monday: date) -> Page:
    """A department administrator's services: theirs only, however many the city has."""
    mine = factories.department("amt-a", "Amt A", location="ort-a")
    other = factories.department("amt-b", "Amt B", location="ort-b")

    def add(i: int) -> str:
        for department in (mine, other):
            location_id = department.locations[0].id
            factories.service(name_de=f"Leistung {department.slug} {i:02d}", department_id=department.id, location_id=location_id)
        return f">Leistung amt-a {i:02d}<"

    return Page(_client(factories, factories.department_admin(mine)), "/admin/services", add)


PAGES: dict[str, tuple[str, Callable[[Factories, date], Page]]] = {
    "agenda_of_a_clerk": ("staff.agenda", agenda_of_a_clerk),
    "agenda_of_everyone": ("staff.agenda", agenda_of_everyone),
    "agenda_week": ("staff.agenda", agenda_week),
    "hours": ("staff.hours", hours),
    "absences": ("staff.absences", absences),
    "conflicts": ("staff.conflicts", conflicts),
    "phone_booking": ("staff.phone_booking", phone_booking),
    "calendar": ("staff.calendar", calendar),
    "overview": ("admin.index", overview),
    "services": ("admin.services", services),
    "staff": ("admin.staff", staff),
    "audit_log": ("admin.audit_log", audit_log),
    "api_keys": ("admin.api_key_list", api_key_list),
    "mails": ("admin.mails", mails),
    "pauses": ("admin.pauses", pauses),
    "reports": ("admin.reports", reports),
    "locations": ("admin.locations", locations),
    "closing_days": ("admin.closing_days", closing_days),
    "departments": ("admin.departments", departments),
    "services_of_a_department": ("admin.services", services_of_a_department),
}


@pytest.fixture
def monday(factories) -> date:
    return factories.working_monday()


@pytest.mark.parametrize("case", PAGES)
def test_a_list_page_runs_as_many_statements_for_30_rows_as_for_3(case, factories, monday):
    page = PAGES[case][1](factories, monday)
    for i in range(FEW):
        page.add(i)
    few, _ = statements_of(page.client, page.url)
    shown = [page.add(i) for i in range(FEW, MANY)]
    many, html = statements_of(page.client, page.url)
    assert [text for text in shown if text not in html] == []
    assert len(many) == len(few), f"{len(few)} statements for {FEW} rows, {len(many)} for {MANY}"


def test_every_list_page_of_staff_and_administration_is_counted(app):
    listed = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and rule.rule.startswith(("/staff", "/admin"))
    }
    counted_pages = {endpoint for endpoint, _build in PAGES.values()}
    assert listed - NOT_LISTS - counted_pages == set()
