"""Where the city works: departments (Bürgerbüro, Ausländerbehörde…), their locations
(address, directions, accessibility, opening hours) and the days a location is closed
although no public holiday (Rosenmontag, Heiligabend, a staff-meeting afternoon).

Its own module, imported at the end of ``visits.models``; the rules (the default department,
what a closing day closes) are in ``visits.admin.places`` and ``visits.booking.availability``."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Boolean, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text, Time
from sqlalchemy.orm import Mapped, mapped_column, relationship

from visits.extensions import db
from visits.models.types import UTCDateTime


class Department(db.Model):
    """A department of the city administration (Fachbereich, Amt)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_de: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Reserved hours (for staff and the phone centre) are offered to the public this many
    # hours before they start.
    reserved_release_hours: Mapped[int] = mapped_column(Integer, default=48, server_default="48")
    # Percent of every clerk's slots of a day kept the same way (booking/share.py), 0 to 100.
    reserved_share_percent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    locations: Mapped[list[Location]] = relationship(back_populates="department", order_by="Location.name_de")

    __table_args__ = (
        CheckConstraint("reserved_share_percent BETWEEN 0 AND 100", name="reserved_share_percent_range"),
    )

    def name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name_de


class Location(db.Model):
    """A building where citizens come for on-site appointments."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    name_de: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    street: Mapped[str] = mapped_column(String(200), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    directions_de: Mapped[str] = mapped_column(Text, default="")
    directions_en: Mapped[str] = mapped_column(Text, default="")
    step_free: Mapped[bool] = mapped_column(Boolean, default=False)
    hearing_loop: Mapped[bool] = mapped_column(Boolean, default=False)
    opening_hours_de: Mapped[str] = mapped_column(Text, default="")
    opening_hours_en: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    department: Mapped[Department] = relationship(back_populates="locations")
    closing_days: Mapped[list[ClosingDay]] = relationship(
        back_populates="location", cascade="all, delete-orphan", order_by="ClosingDay.day"
    )

    def name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name_de

    def opening_hours(self, language: str) -> str:
        return self.opening_hours_en if language == "en" and self.opening_hours_en else self.opening_hours_de

    @property
    def address(self) -> str:
        """One line, as a letter would carry it: "Markt 1, 40213 Düsseldorf"."""
        town = " ".join(part for part in (self.postcode, self.city) if part)
        return ", ".join(part for part in (self.street, town) if part)


class ClosingDay(db.Model):
    """A local day (or part of one) on which a location takes no on-site appointments.

    ``from_time``/``until_time`` are local wall-clock times; None means the start or the end
    of the day, both None the whole day."""

    __tablename__ = "closing_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    from_time: Mapped[time | None] = mapped_column(Time)
    until_time: Mapped[time | None] = mapped_column(Time)
    reason_de: Mapped[str] = mapped_column(String(200), default="")
    reason_en: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    location: Mapped[Location] = relationship(back_populates="closing_days")

    __table_args__ = (
        CheckConstraint(
            "from_time IS NULL OR until_time IS NULL OR until_time > from_time", name="ends_after_start"
        ),
        Index("ix_closing_day_location_day", "location_id", "day"),
    )

    def reason(self, language: str) -> str:
        return self.reason_en if language == "en" and self.reason_en else self.reason_de
