"""Who was in a video appointment's room or its lobby, and when, as Jitsi reported it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from visits.extensions import db
from visits.models.types import UTCDateTime


class RoomPresence(db.Model):
    """One stay of one participant in the room (``place`` "room") or in its lobby ("lobby"):
    from Prosody's occupant-joined to occupant-left (``left_at`` None while they are there).

    ``who`` is what the token made them: citizen, clerk, guest, or other (dial-in and the
    like, whose id we did not issue); ``occupant_jid`` is Prosody's name for that connection."""

    __tablename__ = "room_presence"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id", ondelete="CASCADE"))
    place: Mapped[str] = mapped_column(String(6))
    who: Mapped[str] = mapped_column(String(10))
    occupant_jid: Mapped[str] = mapped_column(String(300))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        # Prosody's event_sync retries a POST that timed out: the same stay is one row.
        Index("uq_room_presence_stay", "appointment_id", "place", "occupant_jid", "joined_at", unique=True),
    )
