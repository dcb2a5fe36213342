"""A third person in a video appointment: an interpreter or a support person.

One row per invitation. ``removed_at`` ends it (the citizen or the clerk took it back); the
database keeps at most one invitation per appointment that is not removed (a partial
unique index, see migration 0005). The guest's join link is derived from SECRET_KEY, the
appointment's UID and the row's id (``visits.booking.guests.guest_token``); only its
SHA-256 is stored here."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from visits.extensions import db
from visits.models import Appointment, StaffUser
from visits.models.types import UTCDateTime


class GuestRole(StrEnum):
    SIGN_LANGUAGE = "sign_language"
    SPOKEN_LANGUAGE = "spoken_language"
    SUPPORT = "support"
    OTHER = "other"


class AppointmentGuest(db.Model):
    """Someone the citizen or the clerk invited into the video call."""

    __tablename__ = "appointment_guest"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20))
    # The language of the guest's mails, as the inviter chose it.
    language: Mapped[str] = mapped_column(String(5), default="de")
    # "citizen" or "clerk"; for a clerk, who.
    invited_by: Mapped[str] = mapped_column(String(10))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # sha256 of the guest's secret join link; the link itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    appointment: Mapped[Appointment] = relationship()
    invited_by_staff: Mapped[StaffUser | None] = relationship()

    __table_args__ = (
        CheckConstraint(
            "role IN ('sign_language', 'spoken_language', 'support', 'other')", name="role_known"
        ),
        CheckConstraint("invited_by IN ('citizen', 'clerk')", name="inviter_known"),
        # At most one guest per appointment at a time, also when two people press at once.
        Index(
            "uq_appointment_guest_active",
            "appointment_id",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )


__all__ = ["AppointmentGuest", "GuestRole"]
