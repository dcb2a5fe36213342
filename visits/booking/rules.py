"""What may be done with an appointment now: the one place that decides.

Pure functions of an appointment, the moment ``now`` and, where a setting matters, its value
passed in; no database, no ``current_app``. The use cases in ``booking.operations`` raise
their refusals when a rule says no; the pages, the mails, the join page and the staff tools
ask the same functions (templates get them as Jinja globals or as answers from the view),
so a button is shown exactly when pressing it would work.

One reading throughout: a hold whose time has run out is over, whether or not the sweeping
job (``expire_holds``) has marked it expired yet. Its slot is free for others at once
(``availability.occupying_condition``) and it can no longer be moved or cancelled; it can
still be confirmed while nobody else has taken the slot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from visits.models import Status

# The room may be entered in these states (inside the time window): a clerk may mark the
# appointment attended or no-show during the call, and a dropped call can still be rejoined.
JOINABLE = (Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW)

# How a confirmed appointment went; a clerk may correct it, so these can be marked again.
MARKABLE = (Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW)


class AppointmentLike(Protocol):
    """What the rules read: an ``Appointment`` row, or anything with these attributes."""

    status: str
    start_at: datetime
    end_at: datetime
    hold_expires_at: datetime | None

    @property
    def is_video(self) -> bool: ...


@dataclass(frozen=True)
class Window:
    """When a video appointment's room may be entered: from ``opens_at`` until ``closes_at``."""

    opens_at: datetime
    closes_at: datetime


# -- shared predicates -----------------------------------------------------------------------


def hold_is_valid(appointment: AppointmentLike, now: datetime) -> bool:
    """A hold still reserved for the citizen: held, and its time not yet run out (the
    moment it runs out it is over: ``hold_expires_at`` itself is too late)."""
    return appointment.status == Status.HELD and (
        appointment.hold_expires_at is None or now < appointment.hold_expires_at
    )


def hold_has_lapsed(appointment: AppointmentLike, now: datetime) -> bool:
    """A hold that was not confirmed in time, swept by the job or not yet."""
    return appointment.status == Status.EXPIRED or (
        appointment.status == Status.HELD and not hold_is_valid(appointment, now)
    )


def has_started(appointment: AppointmentLike, now: datetime) -> bool:
    return appointment.start_at <= now


def has_ended(appointment: AppointmentLike, now: datetime) -> bool:
    return appointment.end_at <= now


def is_live(appointment: AppointmentLike, now: datetime) -> bool:
    """Reserved for the citizen: a valid hold or a confirmed appointment."""
    return appointment.status == Status.CONFIRMED or hold_is_valid(appointment, now)


# -- what may be done ------------------------------------------------------------------------


def can_confirm(appointment: AppointmentLike, now: datetime) -> bool:
    """The citizen may confirm a hold before its start, even one that ran out: its slot was
    released for others, and if nobody took it meanwhile, confirming still gets it (the use
    case tries, and the database's no-overlap guard says whether it is still free)."""
    return appointment.status in (Status.HELD, Status.EXPIRED) and not has_started(appointment, now)


def can_cancel(appointment: AppointmentLike, now: datetime) -> bool:
    """A valid hold or a confirmed appointment, before its start."""
    return is_live(appointment, now) and not has_started(appointment, now)


def can_reschedule(appointment: AppointmentLike, now: datetime) -> bool:
    """Move (or hand to a colleague): the same as cancelling, a valid hold or a confirmed
    appointment before its start."""
    return is_live(appointment, now) and not has_started(appointment, now)


def can_mark(appointment: AppointmentLike, now: datetime) -> bool:
    """Attended or no-show: a confirmed appointment once it has started (a clerk may
    correct a mark, so marked ones can be marked again)."""
    return appointment.status in MARKABLE and has_started(appointment, now)


def join_window(appointment: AppointmentLike, *, opens_before: timedelta, grace_after: timedelta) -> Window:
    """The room opens ``opens_before`` the start and closes ``grace_after`` the end."""
    return Window(opens_at=appointment.start_at - opens_before, closes_at=appointment.end_at + grace_after)


def can_join(
    appointment: AppointmentLike, now: datetime, *, opens_before: timedelta, grace_after: timedelta
) -> bool:
    """Into the video room: a video appointment in a joinable state, from the opening
    (inclusive) until the end of the grace time (exclusive)."""
    if not appointment.is_video or appointment.status not in JOINABLE:
        return False
    times = join_window(appointment, opens_before=opens_before, grace_after=grace_after)
    return times.opens_at <= now < times.closes_at


def join_offered(
    appointment: AppointmentLike, now: datetime, *, opens_before: timedelta, grace_after: timedelta
) -> bool:
    """Whether the clerk's tools show "join": the room is open or will open. Before it opens
    the join page says when it will."""
    if not appointment.is_video or appointment.status not in JOINABLE:
        return False
    return now < join_window(appointment, opens_before=opens_before, grace_after=grace_after).closes_at


# -- a guest in the video call (interpreter, support person) --------------------------------

# How many guests an appointment may have at a time (the database holds the same limit).
MAX_GUESTS = 1


def guests_changeable(appointment: AppointmentLike, now: datetime, *, grace_after: timedelta) -> bool:
    """A guest may be invited or removed for a confirmed video appointment that is upcoming
    or whose room can still be entered (until the end of the grace time)."""
    if not appointment.is_video or appointment.status != Status.CONFIRMED:
        return False
    return now < appointment.end_at + grace_after


def can_invite(
    appointment: AppointmentLike, now: datetime, *, active_guests: int, grace_after: timedelta
) -> bool:
    """One more person into the call: while guests may be changed, and only up to
    ``MAX_GUESTS`` at a time."""
    return guests_changeable(appointment, now, grace_after=grace_after) and active_guests < MAX_GUESTS
