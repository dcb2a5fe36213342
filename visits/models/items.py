"""What one appointment is for: a service and a number of persons, one row per service.

A family that needs a residence registration for one and ID cards for two books one
appointment with two items (Anmeldung x1, Personalausweis x2). Every appointment has at
least one item; ``Appointment.service_id`` is the service of the first one (position 0),
so whatever reads ``appointment.service`` keeps working. The rules of which services
combine live in ``visits.booking.combination``."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from visits.extensions import db
from visits.models import Appointment, Service


class AppointmentItem(db.Model):
    """One service of an appointment, for ``persons`` persons."""

    __tablename__ = "appointment_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    persons: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int] = mapped_column(Integer, default=0)

    appointment: Mapped[Appointment] = relationship(back_populates="items")
    service: Mapped[Service] = relationship()

    __table_args__ = (
        CheckConstraint("persons >= 1", name="persons_positive"),
        UniqueConstraint("appointment_id", "service_id", name="uq_appointment_item_service"),
    )
