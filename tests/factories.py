"""Factories that build objects for tests (Indico style: code, not fixture files)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from flask import g

from visits.admin import places
from visits.clerks.accounts import create_user
from visits.core import clock
from visits.core.citizen import Citizen
from visits.extensions import db
from visits.models import (
    Absence,
    BookingPause,
    Department,
    Location,
    Mode,
    OutboxMessage,
    Role,
    Service,
    StaffUser,
    WeeklyHours,
)

from . import days

_numbers = itertools.count(1)

WORKDAYS_8_TO_12 = [(d, time(8), time(12)) for d in range(5)]
STAFF_PASSWORD = "correct-horse-battery"

# The service most tests book: its names and documents appear in pages and mails.
HOUSING_BENEFIT = dict(
    slug="wohngeld",
    name_de="Wohngeldberatung",
    name_en="Housing benefit advice",
    documents_de="Personalausweis\nMietvertrag",
    documents_en="ID card\nTenancy agreement",
)

# A family's visit (composite appointments): residence registration for one, ID cards for
# two, in one appointment; both combinable services of the default department.
ANMELDUNG = dict(
    slug="anmeldung",
    name_de="Anmeldung",
    name_en="Registration",
    documents_de="Wohnungsgeberbestätigung",
    documents_en="Landlord's confirmation",
    duration_minutes=15,
    buffer_after_minutes=5,
    combinable=True,
)
PERSONALAUSWEIS = dict(
    slug="personalausweis",
    name_de="Personalausweis",
    name_en="ID card",
    documents_de="Biometrisches Passfoto\nGeburtsurkunde",
    documents_en="Biometric passport photo\nBirth certificate",
    duration_minutes=20,
    buffer_before_minutes=10,
    max_persons=4,
    combinable=True,
)


def _stored(model, defaults: dict, fields: dict):
    """A row of ``model`` from ``defaults`` overridden by ``fields``, committed."""
    row = model(**{**defaults, **fields})
    db.session.add(row)
    db.session.commit()
    return row


class Factories:
    def __init__(self, app) -> None:
        self.app = app

    def service(self, **fields) -> Service:
        """A service held at the default location (of the default department) unless
        ``location_id`` says otherwise."""
        n = next(_numbers)
        location = places.default_location()
        defaults = dict(
            slug=f"service-{n}",
            name_de=f"Dienstleistung {n}",
            name_en=f"Service {n}",
            description_de="Beschreibung",
            description_en="Description",
            documents_de="Personalausweis",
            documents_en="ID card",
            duration_minutes=30,
            buffer_before_minutes=0,
            buffer_after_minutes=0,
            address="",
            min_notice_minutes=0,
            horizon_days=60,
            active=True,
            created_at=clock.now(),
            location_id=location.id,
            department_id=location.department_id,
        )
        # ``video=True|False`` as before modes: video, or on site; ``modes=[...]`` says it outright.
        modes = fields.pop("modes", None)
        if modes is None:
            modes = [Mode.VIDEO] if fields.pop("video", True) else [Mode.ON_SITE]
        defaults.update(offers_on_site=Mode.ON_SITE in modes, offers_video=Mode.VIDEO in modes,
                        offers_phone=Mode.PHONE in modes)
        return _stored(Service, defaults, fields)

    def clerk(
        self,
        services: Iterable[Service] = (),
        hours: Iterable[tuple[int, time, time]] = WORKDAYS_8_TO_12,
        *,
        email: str | None = None,
        name: str | None = None,
        role: Role = Role.CLERK,
        password: str = STAFF_PASSWORD,
        department: Department | None = None,
        location_id: int | None | str = "default",
        reserved: bool = False,
    ) -> StaffUser:
        """A staff member of ``department`` (default: the default department) whose ``hours``
        are worked at the default location (``location_id``: another one, or None for hours
        without a location), reserved for the phone centre if ``reserved``."""
        n = next(_numbers)
        department_id = department.id if department is not None else places.default_location().department_id
        user = create_user(
            email or f"clerk{n}@stadt.test", name or f"Clerk {n}", password, role, now=clock.now(),
            department_id=department_id,
        )
        user.services = list(services)
        if location_id == "default":
            location_id = places.default_location().id
        user.weekly_hours = [
            WeeklyHours(weekday=d, start_time=s, end_time=e, location_id=location_id, reserved=reserved)
            for d, s, e in hours
        ]
        db.session.commit()
        return user

    def admin(self, **kwargs) -> StaffUser:
        return self.clerk(hours=(), role=Role.ADMIN, **kwargs)

    def department_admin(self, department: Department | None = None, **kwargs) -> StaffUser:
        """A department administrator (Fachbereichs-Admin) of ``department`` (default: the default one)."""
        return self.clerk(hours=(), role=Role.DEPARTMENT_ADMIN, department=department, **kwargs)

    @staticmethod
    def department(slug: str, name_de: str, name_en: str = "", *, location: str | None = None) -> Department:
        """A department, with a location of its own named ``location`` (slug and name) if given."""
        department = Department(slug=slug, name_de=name_de, name_en=name_en or name_de, active=True)
        db.session.add(department)
        if location is not None:
            db.session.add(Location(slug=location, name_de=location.title(), name_en=location.title(), department=department))
        db.session.commit()
        return department

    def absence(self, clerk: StaffUser, start: datetime, end: datetime, reason: str = "") -> Absence:
        fields = dict(clerk_id=clerk.id, start_at=start, end_at=end, reason=reason)
        return _stored(Absence, {"created_at": clock.now()}, fields)

    @staticmethod
    def booking_pause(email: str = "erika@example.org", *, now: datetime | None = None, **fields) -> BookingPause:
        """An address paused for 30 days from ``now`` (default: the clock's now)."""
        now = now or clock.now()
        return _stored(BookingPause, dict(email=email, paused_until=now + timedelta(days=30), created_at=now), fields)

    @staticmethod
    def failed_mail(recipient: str = "erika@example.org", *, now: datetime | None = None, **fields) -> OutboxMessage:
        """A mail the outbox gave up on after every attempt (at ``now``)."""
        now = now or clock.now()
        defaults = dict(
            dedupe_key=f"confirmation:{next(_numbers)}:0",
            message_id=f"<m{next(_numbers)}@visits.test>",
            kind="confirmation",
            recipient=recipient,
            subject="Ihr Termin",
            body="...",
            status="failed",
            attempts=8,
            next_attempt_at=now,
            last_error="550 mailbox unavailable",
            created_at=now,
        )
        return _stored(OutboxMessage, defaults, fields)

    @staticmethod
    def working_monday(weeks_ahead: int = 2) -> date:
        """The Monday ``weeks_ahead`` weeks after the suite's today: a working week (tests/days.py)."""
        return days.TODAY + timedelta(weeks=weeks_ahead)

    def staff_client(self):
        """A test client for people who log in and out: tests keep one app context open and
        Flask reuses it for every request, so ``g`` (where Flask-Login caches the user and
        Flask-WTF the CSRF token) would carry one request's user or token into the next.
        Forget them at the start of each request, as a real server does."""

        @self.app.before_request
        def _forget_cached_user() -> None:
            g.pop("_login_user", None)
            g.pop("csrf_token", None)
            g.pop("_flask_babel", None)  # Flask-Babel's locale of the previous request

        return self.app.test_client()

    @staticmethod
    def citizen(**fields) -> Citizen:
        n = next(_numbers)
        values = dict(name=f"Erika Mustermann {n}", email=f"erika{n}@example.org", language="de")
        values.update(fields)
        return Citizen(**values)

    @staticmethod
    def login(client, user: StaffUser, password: str = STAFF_PASSWORD):
        """Log ``user`` in through the staff login form; returns the same client."""
        response = client.post("/staff/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, "login failed"
        return client
