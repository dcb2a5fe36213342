"""Factories that build objects for tests (Indico style: code, not fixture files)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import UTC, datetime, time

from visits.booking import Citizen
from visits.extensions import db
from visits.models import Absence, Role, Service, StaffUser, WeeklyHours
from visits.staff_accounts import create_user

_numbers = itertools.count(1)

WORKDAYS_8_TO_12 = [(d, time(8), time(12)) for d in range(5)]
STAFF_PASSWORD = "correct-horse-battery"


class Factories:
    def __init__(self, app) -> None:
        self.app = app

    def service(self, **fields) -> Service:
        n = next(_numbers)
        values = dict(
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
            video=True,
            address="",
            min_notice_minutes=0,
            horizon_days=60,
            active=True,
            created_at=datetime.now(UTC),
        )
        values.update(fields)
        service = Service(**values)
        db.session.add(service)
        db.session.commit()
        return service

    def clerk(
        self,
        services: Iterable[Service] = (),
        hours: Iterable[tuple[int, time, time]] = WORKDAYS_8_TO_12,
        *,
        email: str | None = None,
        name: str | None = None,
        role: Role = Role.CLERK,
        password: str = STAFF_PASSWORD,
    ) -> StaffUser:
        n = next(_numbers)
        user = create_user(email or f"clerk{n}@stadt.test", name or f"Clerk {n}", password, role)
        user.services = list(services)
        user.weekly_hours = [WeeklyHours(weekday=d, start_time=s, end_time=e) for d, s, e in hours]
        db.session.commit()
        return user

    def admin(self, **kwargs) -> StaffUser:
        return self.clerk(hours=(), role=Role.ADMIN, **kwargs)

    def absence(self, clerk: StaffUser, start: datetime, end: datetime, reason: str = "") -> Absence:
        absence = Absence(
            clerk_id=clerk.id, start_at=start, end_at=end, reason=reason, created_at=datetime.now(UTC)
        )
        db.session.add(absence)
        db.session.commit()
        return absence

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
