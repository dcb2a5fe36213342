"""The clerk's calendar feed: a secret URL that calendar programs subscribe to, and the
appointments it lists."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from visits.booking import links
from visits.core import audit
from visits.extensions import db, transaction
from visits.models import Appointment, AppointmentItem, StaffUser, Status

# A cancelled appointment stays in the clerk's feed (STATUS:CANCELLED) this long, so
# subscribed calendar programs see the cancellation instead of the event just vanishing.
FEED_KEEPS_CANCELLED = timedelta(days=14)
# How far back the feed reaches: enough for "what did I have last week".
FEED_PAST = timedelta(days=30)


def renew_feed_token(clerk: StaffUser, *, by: StaffUser, now: datetime) -> str:
    """A new secret feed URL; the old one stops working at once. Only the hash is kept, so
    the URL is shown once."""
    token = links.new_feed_token()
    with transaction():
        renewed = clerk.feed_token_hash is not None
        clerk.feed_token_hash = links.token_hash(token)
        audit.record("feed.renewed" if renewed else "feed.created", at=now, actor=by, obj=clerk)
    return token


def clerk_by_feed_token(token: str) -> StaffUser | None:
    if not token or len(token) > 100:
        return None
    clerk = db.session.scalar(select(StaffUser).where(StaffUser.feed_token_hash == links.token_hash(token)))
    return clerk if clerk is not None and clerk.active else None


def feed_appointments(clerk: StaffUser, now: datetime) -> list[Appointment]:
    """Booked appointments from a month ago on, and cancellations of the last two weeks."""
    return [
        a
        for a in db.session.scalars(
            select(Appointment)
            .where(
                Appointment.clerk_id == clerk.id,
                Appointment.start_at >= now - FEED_PAST,
                Appointment.status.in_([Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW, Status.CANCELLED]),
            )
            .options(
                selectinload(Appointment.service),
                selectinload(Appointment.location),
                selectinload(Appointment.items).selectinload(AppointmentItem.service),
            )
            .order_by(Appointment.start_at, Appointment.id)
        )
        if a.status != Status.CANCELLED or (a.cancelled_at and a.cancelled_at >= now - FEED_KEEPS_CANCELLED)
    ]
