"""What a clerk sees of their appointments: the agenda of some local days (with holidays
and absences), one appointment and its internal note, the services they can book for a
caller, and a preview of their own free slots as citizens would see them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from visits.booking import availability, modes
from visits.booking.holidays import holidays as holidays_between
from visits.booking.slots import Slot
from visits.booking.wallclock import wall_instant
from visits.core import audit
from visits.extensions import db, transaction
from visits.models import Absence, Appointment, AppointmentItem, Mode, Service, StaffUser, Status


def local_days(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """The UTC span of the local days first_day..last_day (inclusive)."""
    tz = availability.zone()
    return wall_instant(first_day, time.min, tz), wall_instant(last_day + timedelta(days=1), time.min, tz)


def agenda(clerk_id: int | None, first_day: date, last_day: date) -> list[Appointment]:
    """Appointments on the local days, of one clerk (None: everyone's, for administrators).
    Expired holds never happened and are left out; cancelled ones are shown as such."""
    start, end = local_days(first_day, last_day)
    query = (
        select(Appointment)
        .where(
            Appointment.start_at >= start,
            Appointment.start_at < end,
            Appointment.status != Status.EXPIRED,
        )
        .options(
            selectinload(Appointment.service),
            selectinload(Appointment.clerk),
            selectinload(Appointment.location),
            selectinload(Appointment.items).selectinload(AppointmentItem.service),
        )
        .order_by(Appointment.start_at, Appointment.id)
    )
    if clerk_id is not None:
        query = query.where(Appointment.clerk_id == clerk_id)
    return list(db.session.scalars(query))


def agenda_days(clerk_id: int | None, first_day: date, last_day: date, language: str = "de") -> list[dict]:
    """The agenda of each local day first_day..last_day: its public holiday, its appointments
    (``agenda``) and, for one clerk, the absences that touch it."""
    appointments = agenda(clerk_id, first_day, last_day)
    holidays = holidays_between(first_day, last_day, language)
    absences: list[Absence] = []
    if clerk_id is not None:
        start, end = local_days(first_day, last_day)
        absences = list(
            db.session.scalars(
                select(Absence)
                .where(Absence.clerk_id == clerk_id, Absence.start_at < end, Absence.end_at > start)
                .order_by(Absence.start_at)
            )
        )
    tz = availability.zone()
    days = []
    current = first_day
    while current <= last_day:
        day_start, day_end = local_days(current, current)
        days.append(
            {
                "day": current,
                "holiday": holidays.get(current),
                "appointments": [a for a in appointments if a.start_at.astimezone(tz).date() == current],
                "absences": [a for a in absences if a.start_at < day_end and a.end_at > day_start],
            }
        )
        current += timedelta(days=1)
    return days


def staff_by_name() -> list[StaffUser]:
    """Everyone on the staff, for an administrator's choice of whose agenda to see."""
    return list(db.session.scalars(select(StaffUser).order_by(StaffUser.name)))


def phone_booking_services() -> list[Service]:
    """The services a clerk can book for a caller: the active ones, by name."""
    return list(db.session.scalars(select(Service).where(Service.active.is_(True)).order_by(Service.name_de)))


def visible_appointment(user: StaffUser, appointment_id: int) -> Appointment | None:
    """The appointment if this staff member may see it: their own, or any for an admin."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or not (user.is_admin or appointment.clerk_id == user.id):
        return None
    return appointment


def own_appointment(clerk: StaffUser, appointment_id: int) -> Appointment | None:
    """The appointment if it is this clerk's own (an administrator's too: only their own)."""
    appointment = db.session.get(Appointment, appointment_id)
    return appointment if appointment is not None and appointment.clerk_id == clerk.id else None


def free_slots_by_day(
    items: availability.Items, first_day: date, last_day: date, now: datetime
) -> list[tuple[date, list[Slot]]]:
    """The free slots for ``items`` (services with their persons, one appointment with one
    clerk) on the local days first_day..last_day, grouped by local day (days without one
    left out): what a clerk offers a caller, reserved hours included. Times at a location
    when every service is offered on site (each slot names its location), else anywhere."""
    tz = availability.zone()
    on_site = Mode.ON_SITE in modes.offered_by_all(service for service, _persons in items)
    by_day: dict[date, list] = {}
    for slot in availability.free_slots_of_items(
        items, first_day, last_day, now, audience=availability.Audience.STAFF, on_site=on_site
    ):
        by_day.setdefault(slot.start.astimezone(tz).date(), []).append(slot)
    return sorted(by_day.items())


def set_internal_note(appointment: Appointment, note: str, *, by: StaffUser, now: datetime) -> None:
    with transaction():
        appointment.internal_note = note.strip()[:4000]
        appointment.updated_at = now
        audit.record("appointment.note_changed", at=now, actor=by, obj=appointment)


def preview(
    clerk: StaffUser, first_day: date, last_day: date, now: datetime, *, language: str = "de"
) -> list[dict]:
    """The clerk's own free slots per local day and service, as citizens would see them."""
    tz = availability.zone()
    holidays = holidays_between(first_day, last_day, language)
    days: dict[date, dict] = {}
    day = first_day
    while day <= last_day:
        days[day] = {"day": day, "holiday": holidays.get(day), "services": []}
        day += timedelta(days=1)
    offered = [s for s in sorted(clerk.services, key=lambda s: s.name_de) if s.active]
    questions = [
        availability.SlotQuestion(
            availability.service_rules(s), first_day, last_day, (clerk.id,),
            on_site=availability.is_on_site(s.modes),
            reserved_hidden_after=availability.reserved_hidden_after(
                availability.reserved_release(s), now, availability.Audience.PUBLIC
            ),
        )
        for s in offered
    ]
    for service, found in zip(offered, availability.free_slots_of_many(questions, now), strict=True):
        by_day: dict[date, list[datetime]] = {}
        for slot in found:
            by_day.setdefault(slot.start.astimezone(tz).date(), []).append(slot.start)
        for found_day, starts in by_day.items():
            if found_day in days:
                days[found_day]["services"].append((service, starts))
    return list(days.values())
