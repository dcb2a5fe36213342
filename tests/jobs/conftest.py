"""Helpers for the job tests: appointments put straight into the database (the jobs only
read rows), and the environment a scheduler subprocess needs to share this test's
database and mail server."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from visits.booking import links
from visits.booking import operations as booking
from visits.extensions import db
from visits.models import Appointment, OutboxMessage, Service, StaffUser, Status

from ..factories import Factories

ROOT = Path(__file__).resolve().parents[2]


def confirmed_appointment(
    service: Service,
    clerk: StaffUser,
    start: datetime,
    *,
    confirmed_at: datetime,
    email: str | None = "erika@example.org",
    language: str = "de",
    status: Status = Status.CONFIRMED,
) -> Appointment:
    """A confirmed appointment as visits.booking.operations leaves it, without asking the slot engine
    (the subprocess tests book relative to the real clock, at any hour)."""
    uid = links.new_uid()
    end = start + timedelta(minutes=service.duration_minutes)
    appointment = Appointment(
        reference=links.new_reference(),
        uid=uid,
        service_id=service.id,
        clerk_id=clerk.id,
        start_at=start,
        end_at=end,
        blocked_from=start,
        blocked_until=end,
        status=status,
        sequence=0,
        citizen_name="Erika Mustermann",
        citizen_email=email,
        language=language,
        manage_token_hash=links.token_hash(links.derive_token("manage", uid)),
        join_token_hash=links.token_hash(links.derive_token("join", uid)),
        room=links.new_room_name() if service.video else None,
        confirmed_at=confirmed_at,
        created_at=confirmed_at,
        updated_at=confirmed_at,
    )
    db.session.add(appointment)
    return appointment


@pytest.fixture
def video(factories):
    """A video service (without a clerk: tests add theirs, or use ``clerk``)."""
    return factories.service(video=True)


@pytest.fixture
def clerk(factories, video):
    return factories.clerk([video])


def booked_online(service: Service, start: datetime, *, ahead: timedelta = timedelta(days=1), **citizen) -> Appointment:
    """A confirmed appointment, booked on the web ``ahead`` of its start."""
    return booking.book_confirmed(
        service, start, Factories.citizen(**citizen), now=start - ahead, via="web"
    ).appointment


def outbox_rows(kind: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))
    )


@pytest.fixture
def worker_env(app_config, smtp_server, tmp_path) -> dict[str, str]:
    """Environment for `python scheduler.py` & co. against this test's database and SMTP."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV"))}
    env.update(
        DATABASE_URL=app_config["SQLALCHEMY_DATABASE_URI"],
        SECRET_KEY=app_config["SECRET_KEY"],
        PUBLIC_BASE_URL=app_config["PUBLIC_BASE_URL"],
        TIMEZONE=app_config["TIMEZONE"],
        MAIL_DIR=str(tmp_path / "mail"),
        SMTP_HOST=smtp_server.host,
        SMTP_PORT=str(smtp_server.port),
        SMTP_TLS="off",
        SMTP_USER="",
        SMTP_PASSWORD="",
        JITSI_DOMAIN=app_config["JITSI_DOMAIN"],
        JITSI_APP_ID=app_config["JITSI_APP_ID"],
        JITSI_APP_SECRET=app_config["JITSI_APP_SECRET"],
        JOB_INTERVAL_SECONDS="1",
        OUTBOX_INTERVAL_SECONDS="1",
        REMINDER_OFFSETS="24h,1h",
        LOG_FORMAT="text",
        LOG_LEVEL="INFO",
        RUN_JOBS_IN_PROCESS="false",
        SCHEDULER_METRICS_PORT="0",
        # ROOT first; then what the suite put there (tests/timeshift: the suite's clock).
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    return env
