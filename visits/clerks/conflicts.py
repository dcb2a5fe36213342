"""Stranded appointments: booked ones that the clerk's hours, absences or a public holiday
no longer cover, and how each is resolved (kept as it is, handed to a free colleague).

A change to hours or absences is saved at once and never moves or cancels an appointment
by itself: booked appointments keep their time in the database. What the change does is
make some of them stranded; ``stranded_appointments`` lists those until the clerk
resolves each one."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from visits.booking import availability, combination, rules
from visits.booking import operations as booking
from visits.booking.holidays import holidays as holidays_between
from visits.booking.items import booked as booked_items
from visits.booking.wallclock import wall_instant, wall_period
from visits.clerks.absences import absences_of
from visits.clerks.hours import weekly_hours_of
from visits.core import audit
from visits.core.events import Change, appointment_changed
from visits.extensions import db, transaction
from visits.models import Absence, Appointment, ClosingDay, KeptConflict, StaffUser, Status, WeeklyHours


@dataclass(frozen=True)
class Stranded:
    """A booked appointment that the clerk's current hours or absences no longer cover."""

    appointment: Appointment
    outside_hours: bool
    absences: tuple[Absence, ...]
    holiday: str | None
    # Closing days of the location an on-site appointment is held at (entered after it was booked).
    closing_days: tuple[ClosingDay, ...] = ()

    @property
    def fingerprint(self) -> str:
        """What the conflict is; keeping the appointment settles exactly this conflict, a
        later change that strands it anew (another absence) lists it again."""
        parts = ["hours"] if self.outside_hours else []
        parts += [f"absence:{a.id}" for a in self.absences]
        if self.holiday:
            parts.append("holiday")
        parts += [f"closed:{c.id}" for c in self.closing_days]
        return ",".join(parts)




def _covered_by_hours(appointment: Appointment, rules: list[WeeklyHours], tz) -> bool:
    """The appointment lies wholly in the joined windows of its local day for its service."""
    day = appointment.start_at.astimezone(tz).date()
    needed = {item.service_id for item in appointment.items}  # hours open to every service of it
    windows = sorted(
        (wall_instant(day, r.start_time, tz), wall_instant(day, r.end_time, tz))
        for r in rules
        if r.weekday == day.weekday()
        and (r.valid_from is None or r.valid_from <= day)
        and (r.valid_until is None or day <= r.valid_until)
        and (not r.services or needed <= {s.id for s in r.services})
    )
    joined: list[list[datetime]] = []
    for start, end in windows:
        if joined and start <= joined[-1][1]:
            joined[-1][1] = max(joined[-1][1], end)
        else:
            joined.append([start, end])
    return any(start <= appointment.start_at and appointment.end_at <= end for start, end in joined)


def _closings(appointments: list[Appointment], tz) -> dict[int, list[tuple[ClosingDay, datetime, datetime]]]:
    """The closing days, with their instants, of the locations the appointments are held at,
    by location, in one query."""
    locations = {a.location_id for a in appointments} - {None}
    if not locations:
        return {}
    first = appointments[0].start_at.astimezone(tz).date() - timedelta(days=1)
    last = max(a.end_at for a in appointments).astimezone(tz).date()
    rows = db.session.scalars(
        select(ClosingDay).where(
            ClosingDay.location_id.in_(locations), ClosingDay.day >= first, ClosingDay.day <= last
        )
    )
    found: dict[int, list[tuple[ClosingDay, datetime, datetime]]] = {}
    for closing in rows:
        start, end = wall_period(closing.day, closing.from_time, closing.until_time, tz)
        found.setdefault(closing.location_id, []).append((closing, start, end))
    return found


def _kept(appointment_ids: list[int]) -> set[tuple[int, datetime, int, str]]:
    """The conflicts kept as they are, as (appointment, start, clerk, conflict)."""
    if not appointment_ids:
        return set()
    rows = db.session.execute(
        select(KeptConflict.appointment_id, KeptConflict.start_at, KeptConflict.clerk_id, KeptConflict.conflict)
        .where(KeptConflict.appointment_id.in_(appointment_ids))
    )
    return {tuple(row) for row in rows}


def _key(stranded: Stranded) -> tuple[int, datetime, int, str]:
    appointment = stranded.appointment
    return (appointment.id, appointment.start_at, appointment.clerk_id, stranded.fingerprint)


def stranded_appointments(
    clerk: StaffUser, now: datetime, *, include_kept: bool = False, language: str = "de"
) -> list[Stranded]:
    """The clerk's upcoming booked appointments outside their hours, in an absence, on a
    public holiday or on a closing day of their location, minus those the clerk chose to
    keep as they are."""
    appointments = list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.clerk_id == clerk.id,
                Appointment.start_at > now,
                Appointment.status.in_([Status.HELD, Status.CONFIRMED]),
                availability.occupying_condition(now),
            )
            .options(selectinload(Appointment.service), selectinload(Appointment.items))
            .order_by(Appointment.start_at)
        )
    )
    if not appointments:
        return []
    tz = availability.zone()
    rules = weekly_hours_of(clerk)
    last = max(a.end_at for a in appointments)
    absences = absences_of(clerk, since=appointments[0].start_at)
    absences = [a for a in absences if a.start_at < last]
    first_day = appointments[0].start_at.astimezone(tz).date()
    holidays = holidays_between(first_day, last.astimezone(tz).date(), language)
    closings = _closings(appointments, tz)
    found = []
    for appointment in appointments:
        hits = tuple(
            a for a in absences if a.start_at < appointment.end_at and a.end_at > appointment.start_at
        )
        holiday = holidays.get(appointment.start_at.astimezone(tz).date())
        outside = not _covered_by_hours(appointment, rules, tz)
        closed = tuple(
            closing
            for closing, start, end in closings.get(appointment.location_id, ())
            if start < appointment.end_at and end > appointment.start_at
        )
        if outside or hits or holiday or closed:
            found.append(Stranded(appointment, outside, hits, holiday, closed))
    if include_kept:
        return found
    kept = _kept([s.appointment.id for s in found])
    return [s for s in found if _key(s) not in kept]


def stranded_one(clerk: StaffUser, appointment_id: int, now: datetime) -> Stranded | None:
    for stranded in stranded_appointments(clerk, now):
        if stranded.appointment.id == appointment_id:
            return stranded
    return None


def keep(stranded: Stranded, *, by: StaffUser, now: datetime) -> None:
    """The clerk takes the appointment as it is (they will be there after all)."""
    appointment = stranded.appointment
    with transaction():
        db.session.add(
            KeptConflict(
                appointment_id=appointment.id,
                start_at=appointment.start_at,
                clerk_id=appointment.clerk_id,
                conflict=stranded.fingerprint,
                kept_at=now,
                kept_by_id=by.id,
            )
        )
        audit.record(
            "appointment.kept",
            at=now,
            actor=by,
            obj=appointment,
            start=appointment.start_at,
            clerk_id=appointment.clerk_id,
            conflict=stranded.fingerprint,
        )


def free_colleagues(appointment: Appointment, now: datetime) -> list[StaffUser]:
    """Active colleagues who offer the service and have exactly this slot free.

    The slot engine decides "free" as it does for citizens (hours, absences, holidays,
    bookings, buffers), without the minimum notice: handing over an appointment that starts
    soon is exactly when it is needed."""
    return free_colleagues_of([appointment], now)[appointment.id]


def _handover_rules(appointment: Appointment, now: datetime):
    """The appointment's rules (all its services with their persons), without the minimum
    notice and with a horizon that reaches it."""
    rules = availability.combination_rules(booked_items(appointment))
    return dataclasses.replace(
        rules,
        min_notice=timedelta(0),
        horizon=max(rules.horizon, appointment.start_at - now + timedelta(days=1)),
    )


def free_colleagues_of(appointments: list[Appointment], now: datetime) -> dict[int, list[StaffUser]]:
    """``free_colleagues`` of each appointment (by id), asked together: the same few
    queries for one appointment as for a page of them."""
    offering = availability.bookable_clerk_ids_of({i.service_id for a in appointments for i in a.items})
    tz = availability.zone()
    asked, questions = [], []
    for appointment in appointments:
        # Only a colleague who offers every service of the appointment can take it over.
        every = combination.common_clerks([offering.get(i.service_id, []) for i in appointment.items])
        ids = tuple(c for c in every if c != appointment.clerk_id)
        if ids:
            day = appointment.start_at.astimezone(tz).date()
            asked.append(appointment)
            # An on-site appointment stays at its location; staff may hand over into reserved hours.
            at = appointment.location_id
            questions.append(
                availability.SlotQuestion(
                    _handover_rules(appointment, now), day, day, ids,
                    on_site=at is not None, location=availability.ANY if at is None else at,
                )
            )
    free_ids: dict[int, tuple[int, ...]] = {}
    for appointment, found in zip(asked, availability.free_slots_of_many(questions, now), strict=True):
        free_ids[appointment.id] = next((s.clerk_ids for s in found if s.start == appointment.start_at), ())
    wanted = {clerk for ids in free_ids.values() for clerk in ids}
    people = (
        list(db.session.scalars(select(StaffUser).where(StaffUser.id.in_(wanted)).order_by(StaffUser.name)))
        if wanted
        else []
    )
    return {a.id: [p for p in people if p.id in free_ids.get(a.id, ())] for a in appointments}


def stranded_with_colleagues(
    clerk: StaffUser, now: datetime, *, language: str = "de"
) -> list[tuple[Stranded, list[StaffUser]]]:
    """What the conflicts page lists: each stranded appointment with the colleagues free to
    take it over."""
    stranded = stranded_appointments(clerk, now, language=language)
    colleagues = free_colleagues_of([s.appointment for s in stranded], now)
    return [(s, colleagues[s.appointment.id]) for s in stranded]


def reassign(appointment: Appointment, colleague: StaffUser, *, by: StaffUser, now: datetime) -> Appointment:
    """Hand the appointment to a free colleague: same time, same room, same links; the
    citizen's calendar entry stays valid, so no SEQUENCE change."""
    if not rules.can_reschedule(appointment, now):
        raise booking.NotChangeable(status=appointment.status)
    if colleague.id not in {c.id for c in free_colleagues(appointment, now)}:
        raise booking.SlotUnavailable()
    previous = appointment.clerk
    with transaction():
        try:
            with db.session.begin_nested():
                appointment.clerk_id = colleague.id
                appointment.updated_at = now
        except IntegrityError as exc:  # taken a moment ago
            appointment.clerk_id = previous.id
            raise booking.SlotUnavailable() from exc
        audit.record(
            "appointment.reassigned",
            at=now,
            actor=by,
            obj=appointment,
            from_clerk=previous.id,
            to_clerk=colleague.id,
        )
        appointment_changed.send(
            Change.REASSIGNED, appointment=appointment, now=now, by=by, previous_clerk=previous
        )
    return appointment
