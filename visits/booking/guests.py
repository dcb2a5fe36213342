"""A third person in a video appointment: a sign-language or spoken-language interpreter, a
support person. The use cases: invite, remove, the guest's join; and the guest's secret link.

The citizen (on the manage page) or the clerk (on the staff appointment page) invites at
most ``rules.MAX_GUESTS`` person at a time, while ``rules.guests_changeable`` says yes. The
guest gets a mail of their own with a join link of their own: a token derived with HMAC
from SECRET_KEY, the appointment's UID and the invitation's id, stored only as SHA-256, so
the outbox can rebuild it on the way to the mail server (``outbox.guest_link``) and a copy
of the database opens nothing. Removing the guest, cancelling the appointment or its
anonymisation end the link: it then answers 404 like any wrong link.

The guest's mails (invitation, a move, removal, cancellation) are queued in the same
transaction as the change (``on_appointment_changed`` is wired in ``visits.listeners``)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from visits import settings
from visits.booking import links, rules
from visits.booking.attendance import record_join
from visits.booking.refusals import BookingError, InvalidCitizen, NotChangeable, refusal
from visits.core import audit
from visits.core import citizen as citizen_input
from visits.core.events import Change
from visits.core.refusals import Refused
from visits.extensions import db, transaction
from visits.models import Appointment, JoinEvent, StaffUser, Status
from visits.models.guests import AppointmentGuest, GuestRole

GuestLimitReached = refusal("GuestLimitReached", "guest_limit_reached")
NoGuest = refusal("NoGuest", "no_guest")

ROLES = tuple(role.value for role in GuestRole)


def _grace() -> timedelta:
    return timedelta(minutes=settings.current().jitsi_grace_minutes_after)


def active_guest(appointment: Appointment) -> AppointmentGuest | None:
    """The guest invited now (not removed), or None."""
    return db.session.scalar(
        select(AppointmentGuest).where(
            AppointmentGuest.appointment_id == appointment.id, AppointmentGuest.removed_at.is_(None)
        )
    )


def can_invite(appointment: Appointment, now: datetime) -> bool:
    """``rules.can_invite`` with this deployment's grace time and the guests invited now."""
    count = 1 if active_guest(appointment) is not None else 0
    return rules.can_invite(appointment, now, active_guests=count, grace_after=_grace())


def can_change(appointment: Appointment, now: datetime) -> bool:
    """Whether a guest may be invited or removed at all now (the page shows the section)."""
    return rules.guests_changeable(appointment, now, grace_after=_grace())


# -- the guest's secret link -----------------------------------------------------------------


def guest_token(appointment_uid: str, guest_id: int, secret_key: str | None = None) -> str:
    """The token of guest ``guest_id``'s join link for the appointment with ``appointment_uid``."""
    return links.derive_token("guest", f"{appointment_uid}:{guest_id}", secret_key)


def guest_url(guest: AppointmentGuest) -> str:
    return links.public_url("join.page", token=guest_token(guest.appointment.uid, guest.id))


def by_guest_token(token: str) -> AppointmentGuest | None:
    """The guest whose link carries ``token``, while it is valid: not removed, the
    appointment neither cancelled nor anonymised. None for anything else."""
    if not token or len(token) > 100:
        return None
    guest = db.session.scalar(
        select(AppointmentGuest).where(AppointmentGuest.token_hash == links.token_hash(token))
    )
    if guest is None or guest.removed_at is not None:
        return None
    appointment = guest.appointment
    if appointment.status == Status.CANCELLED or appointment.anonymised_at is not None:
        return None
    return guest


# -- use cases -----------------------------------------------------------------------------


def invite(
    appointment: Appointment,
    *,
    name: str,
    email: str,
    role: str,
    language: str | None = None,
    by: StaffUser | None = None,
    now: datetime,
) -> AppointmentGuest:
    """Invite one more person into the video call; they get a mail with their own link.

    ``by`` is the clerk (or admin) who invites; None means the citizen. Refuses with
    GuestLimitReached when a guest is invited already, NotChangeable when the appointment
    is not a confirmed video appointment that is upcoming or open, InvalidCitizen for a
    name or address the rules refuse."""
    try:
        clean_name = citizen_input.name(name)
        clean_email = citizen_input.email(email)
        if clean_email is None:
            raise Refused("email_missing", "email")
    except Refused as refused:
        raise InvalidCitizen(refused.code, field=refused.field) from None
    if role not in ROLES:
        raise InvalidCitizen("role_unknown", field="role")
    config = settings.current()
    chosen = language if language in config.languages else appointment.language
    with transaction():
        if not can_change(appointment, now):
            raise NotChangeable(status=appointment.status)
        if not can_invite(appointment, now):
            raise GuestLimitReached()
        guest = AppointmentGuest(
            appointment_id=appointment.id,
            name=clean_name,
            email=clean_email,
            role=role,
            language=chosen or "de",
            invited_by="clerk" if by is not None else "citizen",
            invited_by_id=by.id if by is not None else None,
            # replaced below, once the row has its id: a hash of a token nobody holds
            token_hash=links.token_hash("pending:" + secrets.token_urlsafe(32)),
            invited_at=now,
        )
        try:
            with db.session.begin_nested():
                db.session.add(guest)
                db.session.flush()
        except IntegrityError:
            raise GuestLimitReached() from None  # someone else invited at the same moment
        guest.token_hash = links.token_hash(guest_token(appointment.uid, guest.id))
        audit.record(
            "appointment.guest_invited",
            at=now,
            actor=by,
            actor_label=None if by else "citizen",
            obj=appointment,
            role=role,
            name=clean_name,
        )
        _mail("guest_invitation", guest, now=now)
    return guest


def remove(appointment: Appointment, *, by: StaffUser | None = None, now: datetime) -> AppointmentGuest:
    """Take the invitation back: the guest's link dies at once and they are told by mail."""
    with transaction():
        guest = active_guest(appointment)
        if guest is None:
            raise NoGuest()
        if not can_change(appointment, now):
            raise NotChangeable(status=appointment.status)
        guest.removed_at = now
        audit.record(
            "appointment.guest_removed",
            at=now,
            actor=by,
            actor_label=None if by else "citizen",
            obj=appointment,
            name=guest.name,
        )
        _mail("guest_removed", guest, now=now)
    return guest


def record_guest_join(guest: AppointmentGuest, *, now: datetime) -> JoinEvent:
    """The guest pressed "join": a JoinEvent with role "guest"; the first one is kept on the row."""
    if guest.joined_at is None:
        guest.joined_at = now
    return record_join(guest.appointment, "guest", now=now)


def anonymise(appointment_ids: list[int], dead_hash) -> None:
    """Erase the guests' names and addresses with their appointments' data (retention);
    their links die. Runs inside the caller's transaction."""
    for guest in db.session.scalars(
        select(AppointmentGuest).where(AppointmentGuest.appointment_id.in_(appointment_ids))
    ):
        guest.name = ""
        guest.email = None
        guest.token_hash = dead_hash()
        if guest.removed_at is None:
            guest.removed_at = guest.invited_at


# -- mails ---------------------------------------------------------------------------------


def _mail(kind: str, guest: AppointmentGuest, *, now: datetime, **extra) -> None:
    from visits.mail import guests as guest_mail  # the mail package imports booking: import when needed

    guest_mail.enqueue(kind, guest, now=now, **extra)


def on_appointment_changed(kind: Change, *, appointment: Appointment, now: datetime, **extra) -> None:
    """A move or a cancellation reaches the guest too (inside the booking transaction)."""
    if kind not in (Change.RESCHEDULED, Change.CANCELLED):
        return
    guest = active_guest(appointment)
    if guest is None:
        return
    if kind == Change.CANCELLED:
        _mail("guest_cancelled", guest, now=now)
    elif appointment.status == Status.CONFIRMED:
        _mail("guest_rescheduled", guest, now=now, old_start=extra.get("old_start"))


__all__ = [
    "BookingError",
    "GuestLimitReached",
    "NoGuest",
    "active_guest",
    "by_guest_token",
    "can_change",
    "can_invite",
    "guest_token",
    "guest_url",
    "invite",
    "record_guest_join",
    "remove",
]


# What each role is called, in the page's or the mail's language.
ROLE_LABELS = {
    GuestRole.SIGN_LANGUAGE.value: _l("Sign-language interpreter"),
    GuestRole.SPOKEN_LANGUAGE.value: _l("Spoken-language interpreter"),
    GuestRole.SUPPORT.value: _l("Support person"),
    GuestRole.OTHER.value: _l("Other"),
}
