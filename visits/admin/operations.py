"""What administrators do: services, staff accounts, failed mails, the audit log, reports.

Every change is recorded in the audit trail in the same transaction as the change itself.
The pages in ``web/admin/`` only parse input, call one function here and render."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from visits import settings
from visits.admin import places
from visits.clerks import accounts as staff_accounts
from visits.clerks import throttle
from visits.core import audit
from visits.core.refusals import Refused
from visits.core.slugs import SLUG_PATTERN as SLUG_PATTERN  # the admin form shows it
from visits.core.slugs import is_slug
from visits.extensions import db, transaction
from visits.models import Appointment, AuditEvent, Location, OutboxMessage, Role, Service, StaffUser, Status

# Fields of a service an administrator edits (the order is the form's).
SERVICE_FIELDS = (
    "slug",
    "name_de",
    "name_en",
    "description_de",
    "description_en",
    "documents_de",
    "documents_en",
    "duration_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "video",
    "address",
    "min_notice_minutes",
    "horizon_days",
    "active",
    "max_persons",
    "combinable",
)


class AdminError(Refused):
    """A change to services or staff accounts the rules do not allow."""


# ----------------------------------------------------------------------------- services


def all_services() -> list[Service]:
    """Every service, the bookable ones first; with their clerks (the list counts them)."""
    return list(
        db.session.scalars(
            select(Service)
            .options(selectinload(Service.clerks))
            .order_by(Service.active.desc(), Service.name_de)
        )
    )


def _check_service(values: dict[str, Any], service: Service | None) -> None:
    slug = values["slug"]
    if not is_slug(slug):
        raise AdminError("slug_invalid", "slug")
    taken = db.session.scalar(select(Service.id).where(Service.slug == slug))
    if taken is not None and (service is None or taken != service.id):
        raise AdminError("slug_taken", "slug")
    if not values["video"] and not values["address"].strip():
        raise AdminError("address_required", "address")


def save_service(
    values: dict[str, Any], by: StaffUser, service: Service | None = None, *, now: datetime
) -> Service:
    """Create a service (``service`` None) or change one; records which fields changed.

    ``values["location_id"]`` (optional) is where it is held; without one a new service is
    held at the default location. The service belongs to its location's department."""
    location_id = values.get("location_id")
    values = {k: values[k] for k in SERVICE_FIELDS}
    values["slug"] = values["slug"].strip().lower()
    _check_service(values, service)
    location = db.session.get(Location, location_id) if location_id else None
    if location_id and location is None:
        raise AdminError("location_unknown", "location_id")
    with transaction():
        if location is None and (service is None or service.location_id is None):
            location = places.default_location()
        if location is not None:
            values["location_id"] = location.id
            values["department_id"] = location.department_id
        if service is None:
            service = Service(created_at=now, **values)
            db.session.add(service)
            db.session.flush()
            audit.record("service.created", at=now, actor=by, obj=service, slug=service.slug)
        else:
            changed = sorted(k for k, v in values.items() if getattr(service, k) != v)
            for key, value in values.items():
                setattr(service, key, value)
            if changed:
                audit.record(
                    "service.updated", at=now, actor=by, obj=service, slug=service.slug, fields=",".join(changed)
                )
    return service


def deactivate_service(service: Service, by: StaffUser, *, now: datetime) -> Service:
    """No new bookings for the service; appointments already booked stay as they are."""
    with transaction():
        if service.active:
            service.active = False
            audit.record("service.deactivated", at=now, actor=by, obj=service, slug=service.slug)
    return service


# ----------------------------------------------------------------------------- staff


def all_staff() -> list[StaffUser]:
    """Every staff member, the active ones first; with the services each offers."""
    return list(
        db.session.scalars(
            select(StaffUser)
            .options(selectinload(StaffUser.services))
            .order_by(StaffUser.active.desc(), StaffUser.name)
        )
    )


def initial_password() -> str:
    """A random password of 20 characters (about 120 bits), shown once to the admin."""
    return secrets.token_urlsafe(15)


def invite(
    email: str, name: str, role: str, services: list[Service], by: StaffUser, *, now: datetime
) -> tuple[StaffUser, str]:
    """A new clerk or admin with a generated initial password (returned, never stored plain).
    It expires after STAFF_INITIAL_PASSWORD_HOURS and must be replaced at the first login."""
    password = initial_password()
    with transaction():
        try:
            user = staff_accounts.create_user(email, name, password, role, now=now)
        except staff_accounts.AccountError as exc:
            raise AdminError("email_taken" if "exists" in str(exc) else "role_invalid", "email") from exc
        user.password_expires_at = now + timedelta(hours=settings.current().staff_initial_password_hours)
        user.department_id = places.default_location().department_id
        user.services = list(services)
        db.session.flush()
        audit.record("staff.invited", at=now, actor=by, obj=user, email=user.email, role=user.role)
    return user, password


def _active_admins() -> int:
    return (
        db.session.scalar(
            select(func.count(StaffUser.id)).where(StaffUser.role == Role.ADMIN, StaffUser.active.is_(True))
        )
        or 0
    )


def update_staff(
    user: StaffUser,
    name: str,
    role: str,
    services: list[Service],
    by: StaffUser,
    *,
    now: datetime,
) -> StaffUser:
    """Name, role and offered services of a staff member."""
    if role not in (Role.CLERK, Role.ADMIN):
        raise AdminError("role_invalid", "role")
    if user.role == Role.ADMIN and role != Role.ADMIN and user.active and _active_admins() <= 1:
        raise AdminError("last_admin", "role")
    changed = []
    name = name.strip() or user.name
    with transaction():
        if name != user.name:
            user.name, changed = name, [*changed, "name"]
        if role != user.role:
            user.role, changed = role, [*changed, "role"]
        before = sorted(s.id for s in user.services)
        after = sorted(s.id for s in services)
        if before != after:
            user.services = list(services)
            changed.append("services")
        if changed:
            audit.record(
                "staff.updated",
                at=now,
                actor=by,
                obj=user,
                email=user.email,
                fields=",".join(changed),
                role=user.role,
                services=",".join(str(i) for i in after),
            )
    return user


def set_active(user: StaffUser, active: bool, by: StaffUser, *, now: datetime) -> StaffUser:
    """Deactivate (logged out at once, cannot log in) or reactivate a staff account.

    The last active administrator cannot be deactivated: nobody could undo it."""
    if user.active == active:
        return user
    if not active and user.role == Role.ADMIN and _active_admins() <= 1:
        raise AdminError("last_admin")
    with transaction():
        user.active = active
        if not active:
            staff_accounts.end_sessions(user)  # reactivating later revives none of them
        audit.record(
            "staff.reactivated" if active else "staff.deactivated", at=now, actor=by, obj=user, email=user.email
        )
    return user


def reset_password(user: StaffUser, by: StaffUser, *, now: datetime) -> str:
    """A new generated password for ``user``; shown once. The old password and every session
    stop working, a failed-login lock on the account is lifted, and a mail tells the person.
    The new password expires after STAFF_INITIAL_PASSWORD_HOURS and only lets its holder
    choose their own."""
    from visits.mail.staff_notices import KIND_RESET, enqueue_password_notice

    password = initial_password()
    with transaction():
        staff_accounts.hand_out_password(
            user, password, now=now, hours=settings.current().staff_initial_password_hours
        )
        audit.record("staff.password_reset", at=now, actor=by, obj=user, email=user.email)
        enqueue_password_notice(user, KIND_RESET, now=now)
    throttle.forget_account(user.email)
    return password


# ----------------------------------------------------------------------------- mails


def failed_mails() -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == "failed")
            .order_by(OutboxMessage.next_attempt_at.desc(), OutboxMessage.id.desc())
        )
    )


def retry_mail(message: OutboxMessage, by: StaffUser, *, now: datetime) -> OutboxMessage:
    """Back to the queue, due now, with a fresh count of attempts."""
    with transaction():
        if message.status == "failed":
            message.status = "pending"
            message.attempts = 0
            message.next_attempt_at = now
            audit.record("mail.retried", at=now, actor=by, obj=message, kind=message.kind)
    return message


# ----------------------------------------------------------------------------- audit log


@dataclass(frozen=True)
class AuditFilter:
    actor_id: int | None = None
    action: str | None = None
    date_from: date | None = None
    date_until: date | None = None


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone)


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def audit_page(flt: AuditFilter, zone: ZoneInfo, *, page: int = 1, per_page: int = 50):
    """One page of audit events, the newest first (a Flask-SQLAlchemy Pagination)."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if flt.actor_id is not None:
        query = query.where(AuditEvent.actor_id == flt.actor_id)
    if flt.action:
        query = query.where(AuditEvent.action == flt.action)
    if flt.date_from:
        query = query.where(AuditEvent.at >= _day_start(flt.date_from, zone))
    if flt.date_until:
        query = query.where(AuditEvent.at < _day_start(flt.date_until + timedelta(days=1), zone))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


# ----------------------------------------------------------------------------- reports

REPORT_STATUSES = tuple(Status)


@dataclass(frozen=True)
class ReportRow:
    service: Service
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def report(first: date, last: date, zone: ZoneInfo) -> tuple[list[ReportRow], dict[str, int]]:
    """Appointments starting between ``first`` and ``last`` (local days, both included),
    counted per service and status; plus the totals per status."""
    rows = db.session.execute(
        select(Appointment.service_id, Appointment.status, func.count(Appointment.id))
        .where(
            Appointment.start_at >= _day_start(first, zone),
            Appointment.start_at < _day_start(last + timedelta(days=1), zone),
        )
        .group_by(Appointment.service_id, Appointment.status)
    ).all()
    per_service: dict[int, dict[str, int]] = {}
    for service_id, status, count in rows:
        per_service.setdefault(service_id, {})[status] = count
    services = {s.id: s for s in all_services()}
    result = [
        ReportRow(services[sid], {st: counts.get(st, 0) for st in REPORT_STATUSES})
        for sid, counts in per_service.items()
        if sid in services
    ]
    result.sort(key=lambda r: r.service.name_de)
    totals = {st: sum(r.counts[st] for r in result) for st in REPORT_STATUSES}
    return result, totals
