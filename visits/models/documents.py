"""Documents a citizen hands in before a video appointment, for the clerk to look at.

The file itself lies outside the web root (DOCUMENTS_DIR) under a random ``storage_name``;
the name it was uploaded with is kept only as ``display_name``, cleaned, and never used as
a path. The row keeps what the clerk and an audit need: size, the type sniffed from the
content, its SHA-256 and when it came."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from visits.extensions import db
from visits.models import Appointment
from visits.models.types import UTCDateTime


class AppointmentDocument(db.Model):
    __tablename__ = "appointment_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    # Random hex, the file's name in DOCUMENTS_DIR.
    storage_name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    appointment: Mapped[Appointment] = relationship()

    __table_args__ = (
        CheckConstraint("size_bytes > 0", name="document_not_empty"),
        CheckConstraint(
            "content_type IN ('application/pdf', 'image/jpeg', 'image/png')", name="document_type_known"
        ),
    )


__all__ = ["AppointmentDocument"]
