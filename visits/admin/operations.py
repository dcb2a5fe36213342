"""What administrators do: services, staff accounts, failed mails, the audit log (the report:
``visits.admin.reports``).

Every change is recorded in the audit trail in the same transaction as the change itself.
The pages in ``web/admin/`` only parse input, call one function here and render. What a
department administrator may list and change is narrowed by ``visits.admin.scope``: the
listings take the acting user, the changes refuse a department that is not theirs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from visits import settings
from visits.admin import places, scope
from visits.clerks import accounts as staff_accounts
from visits.clerks import throttle
from visits.core import audit
from visits.core.refusals import Refused
from visits.core.slugs import SLUG_PATTERN as SLUG_PATTERN  # the admin form shows it
from visits.core.slugs import is_slug
from visits.extensions import db, transaction
from visits.models import (
    AuditEvent,
    Department,
    Location,
    Mode,
    OutboxMessage,
    Role,
    Service,
    StaffUser,
)

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
    "modes",
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


def all_services(user: StaffUser | None = None) -> list[Service]:
    """Every service (of the departments ``user`` manages, if given), the bookable ones
    first; with their clerks (the list counts them) and their department."""
    query = (
        select(Service)
        .options(selectinload(Service.clerks), selectinload(Service.department))
        .order_by(Service.active.desc(), Service.name_de)
    )
    if user is not None:
        query = scope.limit(query, user, Service.department_id)
    return list(db.session.scalars(query))


def _check_service(values: dict[str, Any], service: Service | None) -> None:
    slug = values["slug"]
    if not is_slug(slug):
        raise AdminError("slug_invalid", "slug")
    taken = db.session.scalar(select(Service.id).where(Service.slug == slug))
    if taken is not None and (service is None or taken != service.id):
        raise AdminError("slug_taken", "slug")
    if not values["modes"]:
        raise AdminError("modes_required", "modes")
    if Mode.ON_SITE in values["modes"] and not values["address"].strip():
        raise AdminError("address_required", "address")


def _service_place(
    department_id: int | None, location_id: int | None, by: StaffUser, service: Service | None
) -> tuple[int, Location | None]:
    """The department and location a saved service belongs to.

    The department is the one chosen (``department_id``), else the chosen location's, else
    the service's own, else the default one; ``by`` must manage it. The location, if
    chosen, must be of that department; without one the service keeps its location if it
    is of that department, else is held at the department's first location (none if the
    department has none)."""
    location = db.session.get(Location, location_id) if location_id else None
    if location_id and (location is None or not scope.in_scope(by, location)):
        raise AdminError("location_unknown", "location_id")
    if department_id is None:
        if location is not None:
            department_id = location.department_id
        elif service is not None and service.department_id is not None:
            department_id = service.department_id
        else:
            department_id = places.default_location().department_id
    if db.session.get(Department, department_id) is None or not scope.may_use_department(by, department_id):
        raise AdminError("department_unknown", "department_id")
    if location is not None and location.department_id != department_id:
        raise AdminError("location_not_of_department", "location_id")
    if location is None and service is not None and service.location is not None:
        location = service.location if service.location.department_id == department_id else None
    if location is None:
        location = places.first_location(department_id)
    return department_id, location


def save_service(
    values: dict[str, Any], by: StaffUser, service: Service | None = None, *, now: datetime
) -> Service:
    """Create a service (``service`` None) or change one; records which fields changed.

    ``values["department_id"]`` and ``values["location_id"]`` (both optional) say whose
    service it is and where it is held (``_service_place``); a department administrator
    saves services of their own department only."""
    department_id, location_id = values.get("department_id"), values.get("location_id")
    values = {k: values[k] for k in SERVICE_FIELDS}
    values["slug"] = values["slug"].strip().lower()
    # In the order on site, video, phone, whatever order they came in; unknown words dropped.
    values["modes"] = [mode for mode in Mode if mode in set(values["modes"] or ())]
    _check_service(values, service)
    with transaction():
        values["department_id"], location = _service_place(department_id, location_id, by, service)
        values["location_id"] = location.id if location is not None else None
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


def all_staff(user: StaffUser | None = None) -> list[StaffUser]:
    """Every staff member (whom ``user`` manages, if given: a department administrator
    their department's clerks), the active ones first; with the services each offers and
    their department."""
    query = (
        select(StaffUser)
        .options(selectinload(StaffUser.services), selectinload(StaffUser.department))
        .order_by(StaffUser.active.desc(), StaffUser.name)
    )
    if user is not None and scope.departments_of(user) is not None:
        query = scope.limit(query, user, StaffUser.department_id).where(StaffUser.role == Role.CLERK)
    return list(db.session.scalars(query))


def initial_password() -> str:
    """A random password of 20 characters (about 120 bits), shown once to the admin."""
    return secrets.token_urlsafe(15)


def _check_role_and_department(role: str, department_id: int | None, by: StaffUser) -> int:
    """The department a staff member is put into; refuses a role or department ``by`` may
    not give: a department administrator makes clerks of their own department only."""
    if role not in tuple(Role):
        raise AdminError("role_invalid", "role")
    if not by.is_admin and role != Role.CLERK:
        raise AdminError("role_not_yours", "role")
    if department_id is None:
        department_id = by.department_id if by.is_department_admin else places.default_location().department_id
    if db.session.get(Department, department_id) is None or not scope.may_use_department(by, department_id):
        raise AdminError("department_unknown", "department_id")
    return department_id


def invite(
    email: str,
    name: str,
    role: str,
    services: list[Service],
    by: StaffUser,
    *,
    now: datetime,
    department_id: int | None = None,
) -> tuple[StaffUser, str]:
    """A new clerk, department administrator or city administrator of ``department_id``
    (the default department, or a department administrator's own, when None) with a
    generated initial password (returned, never stored plain). It expires after
    STAFF_INITIAL_PASSWORD_HOURS and must be replaced at the first login."""
    department_id = _check_role_and_department(role, department_id, by)
    password = initial_password()
    with transaction():
        try:
            user = staff_accounts.create_user(email, name, password, role, now=now, department_id=department_id)
        except staff_accounts.AccountError as exc:
            raise AdminError("email_taken" if "exists" in str(exc) else "role_invalid", "email") from exc
        user.password_expires_at = now + timedelta(hours=settings.current().staff_initial_password_hours)
        user.services = list(services)
        db.session.flush()
        audit.record(
            "staff.invited", at=now, actor=by, obj=user, email=user.email, role=user.role, department=department_id
        )
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
    department_id: int | None = None,
) -> StaffUser:
    """Name, role, department and offered services of a staff member (``department_id``
    None: the one they belong to)."""
    department_id = _check_role_and_department(role, department_id or user.department_id, by)
    if user.role == Role.ADMIN and role != Role.ADMIN and user.active and _active_admins() <= 1:
        raise AdminError("last_admin", "role")
    changed = []
    name = name.strip() or user.name
    with transaction():
        if name != user.name:
            user.name, changed = name, [*changed, "name"]
        if role != user.role:
            user.role, changed = role, [*changed, "role"]
        if department_id != user.department_id:
            user.department_id, changed = department_id, [*changed, "department"]
        # Services of departments ``by`` does not manage stay as they are (not shown to them).
        services = [*services, *(s for s in user.services if not scope.in_scope(by, s) and s not in services)]
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


@dataclass(frozen=True)
class Figures:
    """What the overview counts of the departments an administrator manages."""

    bookable_services: int
    active_staff: int
    locations: int


def figures(user: StaffUser) -> Figures:
    """Bookable services, active staff (a department administrator: clerks) and locations
    of the departments ``user`` manages: three counts, whatever their number."""

    def count(query, column) -> int:
        return db.session.scalar(scope.limit(query, user, column)) or 0

    staff = select(func.count(StaffUser.id)).where(StaffUser.active.is_(True))
    if scope.departments_of(user) is not None:
        staff = staff.where(StaffUser.role == Role.CLERK)
    return Figures(
        bookable_services=count(
            select(func.count(Service.id)).where(Service.active.is_(True)), Service.department_id
        ),
        active_staff=count(staff, StaffUser.department_id),
        locations=count(select(func.count(Location.id)), Location.department_id),
    )


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
