"""Demo data for the embedded default: a few services, two clerks with weekly hours, an admin."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import select

from visits import settings
from visits.admin import places
from visits.clerks.accounts import create_user
from visits.extensions import db, transaction
from visits.models import Role, Service, StaffUser, WeeklyHours

SERVICES = [
    dict(
        slug="wohngeld-beratung",
        name_de="Wohngeldberatung",
        name_en="Housing benefit advice",
        description_de="Persönliche Beratung zum Wohngeld per Videoanruf.",
        description_en="Personal advice on housing benefit by video call.",
        documents_de="Personalausweis oder Reisepass\nMietvertrag\nEinkommensnachweise der letzten drei Monate",
        documents_en="ID card or passport\nTenancy agreement\nProof of income for the last three months",
        duration_minutes=30,
        buffer_after_minutes=0,
        modes=["video"],
    ),
    dict(
        slug="bewohnerparkausweis",
        name_de="Bewohnerparkausweis",
        name_en="Residents' parking permit",
        description_de="Antrag auf einen Bewohnerparkausweis, per Videoanruf.",
        description_en="Application for a residents' parking permit, by video call.",
        documents_de="Personalausweis\nFahrzeugschein (Zulassungsbescheinigung Teil I)",
        documents_en="ID card\nVehicle registration certificate (part I)",
        duration_minutes=20,
        modes=["video"],
    ),
    dict(
        slug="personalausweis",
        name_de="Personalausweis beantragen",
        name_en="Apply for an ID card",
        description_de="Antrag auf einen neuen Personalausweis im Bürgerbüro.",
        description_en="Application for a new ID card at the citizens' office.",
        documents_de="Bisheriger Ausweis\nEin aktuelles biometrisches Passfoto",
        documents_en="Current ID card\nA recent biometric passport photo",
        duration_minutes=30,
        modes=["on_site", "phone"],
        address="Bürgerbüro, Rathausplatz 1, 12345 Musterstadt",
        max_persons=4,
        combinable=True,
    ),
    dict(
        slug="anmeldung",
        name_de="Wohnsitz anmelden",
        name_en="Register your address",
        description_de="Anmeldung nach einem Umzug, im Bürgerbüro; mit dem Personalausweis in einem Termin buchbar.",
        description_en="Registration after a move, at the citizens' office; can be booked with the ID card in one appointment.",
        documents_de="Personalausweis oder Reisepass\nWohnungsgeberbestätigung",
        documents_en="ID card or passport\nLandlord's confirmation",
        duration_minutes=15,
        modes=["on_site"],
        address="Bürgerbüro, Rathausplatz 1, 12345 Musterstadt",
        max_persons=6,
        combinable=True,
    ),
]

CLERKS = [
    ("anna.schmidt@stadt.example", "Anna Schmidt", "demo-clerk-anna"),
    ("jonas.weber@stadt.example", "Jonas Weber", "demo-clerk-jonas"),
]
ADMIN = ("admin@stadt.example", "Verwaltung Admin", "demo-admin-pass")

# Mon-Fri 08:00-12:00, Tue and Thu also 14:00-18:00 (local time).
HOURS = [(d, time(8), time(12)) for d in range(5)] + [(d, time(14), time(18)) for d in (1, 3)]


class DemoInProduction(RuntimeError):
    """The demo's passwords are published (in this file): never on a production site."""


def seed_demo(*, now: datetime) -> list[tuple[str, str, str]]:
    """Add the demo data if it is not there yet; returns (role, email, password) to print.
    Refused in production (PUBLIC_BASE_URL https)."""
    if settings.current().public_base_url.startswith("https://"):
        raise DemoInProduction("seed-demo refuses to run in production (PUBLIC_BASE_URL is https)")
    credentials = []
    with transaction():
        if db.session.scalar(select(Service).where(Service.slug == SERVICES[0]["slug"])) is None:
            location = places.default_location()
            held_at = {"location_id": location.id, "department_id": location.department_id}
            for spec in SERVICES:
                db.session.add(Service(created_at=now, min_notice_minutes=60, horizon_days=60, **held_at, **spec))
            db.session.flush()
        services = list(
            db.session.scalars(select(Service).where(Service.slug.in_([s["slug"] for s in SERVICES])))
        )
        for email, name, password in CLERKS:
            clerk = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
            if clerk is None:
                clerk = create_user(email, name, password, Role.CLERK, now=now)
                clerk.services = services
                at = places.default_location().id  # on-site services need hours at a location
                clerk.weekly_hours = [
                    WeeklyHours(weekday=d, start_time=s, end_time=e, location_id=at) for d, s, e in HOURS
                ]
            credentials.append(("clerk", email, password))
        email, name, password = ADMIN
        if db.session.scalar(select(StaffUser).where(StaffUser.email == email)) is None:
            create_user(email, name, password, Role.ADMIN, now=now)
        credentials.append(("admin", email, password))
    return credentials
