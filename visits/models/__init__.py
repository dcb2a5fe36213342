"""The tables, as typed SQLAlchemy 2 models, and the column types beside them (``types``).
No business rules here: see ``visits.booking``. Invariants that must hold with several
servers (no overlapping appointments, one outbox row per mail) are constraints in the
migrations.

All instants are ``UTCDateTime`` (aware UTC). Weekly hours are local wall-clock times
(``time``) on purpose: a clerk's 08:00 stays 08:00 across daylight-saving changes."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Time,
    false,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from visits.extensions import db
from visits.models.types import UTCDateTime

if TYPE_CHECKING:
    from visits.models.items import AppointmentItem
    from visits.models.places import Department, Location


class Role(StrEnum):
    CLERK = "clerk"
    ADMIN = "admin"  # the city's administrator: every department
    DEPARTMENT_ADMIN = "department_admin"  # Fachbereichs-Admin: their own department only


class Status(StrEnum):
    """An appointment's lifecycle: held -> confirmed -> attended | no_show; cancelled from
    held or confirmed; an unconfirmed hold that runs out becomes expired."""

    HELD = "held"
    CONFIRMED = "confirmed"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Mode(StrEnum):
    """How citizen and clerk meet: at a location, in a video call, or the clerk calls the
    citizen. The order is the order a citizen is offered them in."""

    ON_SITE = "on_site"
    VIDEO = "video"
    PHONE = "phone"


# Statuses that occupy the clerk's time. The database refuses two of these that overlap.
OCCUPYING = (Status.HELD, Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW)

clerk_service = Table(
    "clerk_service",
    db.metadata,
    Column("clerk_id", ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("service.id", ondelete="CASCADE"), primary_key=True),
)

weekly_hours_service = Table(
    "weekly_hours_service",
    db.metadata,
    Column("weekly_hours_id", ForeignKey("weekly_hours.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("service.id", ondelete="CASCADE"), primary_key=True),
)


class Service(db.Model):
    """What a citizen comes for (Dienstleistung)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name_de: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_de: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    # One document per line.
    documents_de: Mapped[str] = mapped_column(Text, default="")
    documents_en: Mapped[str] = mapped_column(Text, default="")
    duration_minutes: Mapped[int] = mapped_column(Integer)
    buffer_before_minutes: Mapped[int] = mapped_column(Integer, default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # The modes the citizen may choose among (at least one; see ``modes``).
    offers_on_site: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    offers_video: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    offers_phone: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # Before locations: where the citizen goes (the location's address is used now).
    address: Mapped[str] = mapped_column(String(300), default="")
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=60)
    horizon_days: Mapped[int] = mapped_column(Integer, default=60)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Which department offers it, and where an on-site appointment is held (a video one
    # needs no location in this version, whatever is set here); see models/places.py.
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"), index=True)
    # Composite appointments (models/items.py): how many persons one appointment may bring
    # for this service, and whether the admin lets it be combined with the department's
    # other combinable services in one appointment.
    max_persons: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    combinable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    clerks: Mapped[list[StaffUser]] = relationship(secondary=clerk_service, back_populates="services")
    department: Mapped[Department | None] = relationship()
    location: Mapped[Location | None] = relationship()

    __table_args__ = (
        CheckConstraint("duration_minutes > 0", name="duration_positive"),
        CheckConstraint("buffer_before_minutes >= 0 AND buffer_after_minutes >= 0", name="buffers_positive"),
        CheckConstraint("min_notice_minutes >= 0 AND horizon_days > 0", name="window_positive"),
        CheckConstraint("offers_on_site OR offers_video OR offers_phone", name="offers_a_mode"),
        CheckConstraint("max_persons >= 1", name="max_persons_positive"),
    )

    @property
    def modes(self) -> list[Mode]:
        """The modes it allows, in the order on site, video, phone."""
        offered = {
            Mode.ON_SITE: self.offers_on_site,
            Mode.VIDEO: self.offers_video,
            Mode.PHONE: self.offers_phone,
        }
        return [mode for mode, offers in offered.items() if offers]

    @modes.setter
    def modes(self, modes) -> None:
        chosen = {Mode(mode) for mode in modes}
        self.offers_on_site = Mode.ON_SITE in chosen
        self.offers_video = Mode.VIDEO in chosen
        self.offers_phone = Mode.PHONE in chosen

    @hybrid_property
    def video(self) -> bool:
        """Whether it may be done by video (what the catalogue called ``video`` before modes)."""
        return self.offers_video

    @video.inplace.expression
    @classmethod
    def _video_expression(cls):
        return cls.offers_video

    def name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name_de

    def description(self, language: str) -> str:
        return self.description_en if language == "en" and self.description_en else self.description_de

    def documents(self, language: str) -> list[str]:
        text_ = self.documents_en if language == "en" and self.documents_en else self.documents_de
        return [line.strip() for line in text_.splitlines() if line.strip()]


class StaffUser(UserMixin, db.Model):
    """A clerk (Sachbearbeiter/in) or an administrator."""

    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.CLERK)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # sha256 of the secret calendar-feed token; renewing replaces it, revoking the old URL.
    feed_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Written into each login's session; raising it ends every session of this person at
    # once (logout, a new password, a reset, deactivation).
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Set for a password an administrator handed out (invitation, reset): it opens the
    # account only until then, and only to choose a password of one's own.
    password_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)

    services: Mapped[list[Service]] = relationship(secondary=clerk_service, back_populates="clerks")
    weekly_hours: Mapped[list[WeeklyHours]] = relationship(
        back_populates="clerk", cascade="all, delete-orphan"
    )

    department: Mapped[Department | None] = relationship()

    __table_args__ = (
        CheckConstraint("role IN ('clerk', 'admin', 'department_admin')", name="role_known"),
        # A department administrator manages one department: without it they would manage none.
        CheckConstraint(
            "role <> 'department_admin' OR department_id IS NOT NULL", name="department_admin_has_department"
        ),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated account cannot log in
        return self.active

    @property
    def is_admin(self) -> bool:
        """The city's administrator (every department, every administration page)."""
        return self.role == Role.ADMIN

    @property
    def is_department_admin(self) -> bool:
        return self.role == Role.DEPARTMENT_ADMIN

    @property
    def administers(self) -> bool:
        """May open the administration (the city admin all of it, a department admin their
        department's part: ``visits.admin.scope``)."""
        return self.role in (Role.ADMIN, Role.DEPARTMENT_ADMIN)


class WeeklyHours(db.Model):
    """A clerk's recurring availability: one interval on one weekday, in local time."""

    __tablename__ = "weekly_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    clerk_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    # Where the hours are worked; None: no location, for video and phone appointments only.
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"), index=True)
    # Kept for bookings by staff and the phone centre; the public gets them only a while
    # before they start (Department.reserved_release_hours).
    reserved: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    clerk: Mapped[StaffUser] = relationship(back_populates="weekly_hours")
    location: Mapped[Location | None] = relationship()
    # Empty means: every service the clerk offers.
    services: Mapped[list[Service]] = relationship(secondary=weekly_hours_service)

    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("end_time > start_time", name="ends_after_start"),
    )


class Absence(db.Model):
    """Time a clerk cannot take appointments: leave, a meeting, or busy time from their own
    calendar (``source='calendar'``)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    clerk_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(20), default="manual")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    clerk: Mapped[StaffUser] = relationship()

    __table_args__ = (CheckConstraint("end_at > start_at", name="ends_after_start"),)


class Appointment(db.Model):
    """A booked (or held) visit: one citizen, one clerk, one service, one time.

    ``blocked_from``/``blocked_until`` are start/end widened by the service's buffers; the
    database refuses two occupying appointments of one clerk whose blocked ranges overlap
    (exclusion constraint on PostgreSQL, triggers on SQLite; see the first migration)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    # iCalendar UID: random, stable for the appointment's whole life, never personal data.
    uid: Mapped[str] = mapped_column(String(80), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    clerk_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"))
    # Where an on-site appointment is held (the location of its slot); None for video and phone.
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"), index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_from: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12), default=Status.HELD)
    # iCalendar SEQUENCE: raised on every change the citizen is told about.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    citizen_name: Mapped[str] = mapped_column(String(200))
    citizen_email: Mapped[str | None] = mapped_column(String(254), index=True)
    citizen_phone: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(5), default="de")
    # Accessibility needs the citizen tells us (e.g. sign-language interpreter).
    citizen_note: Mapped[str] = mapped_column(Text, default="")
    internal_note: Mapped[str] = mapped_column(Text, default="")

    booked_via: Mapped[str] = mapped_column(String(10), default="web")  # web | phone | api
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))

    # sha256 of the citizen's secret links; the links themselves are never stored.
    manage_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    join_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # How they meet (a Mode); only a video appointment has a room and a dial-in PIN.
    mode: Mapped[str] = mapped_column(String(10), default=Mode.ON_SITE, server_default=Mode.ON_SITE.value)
    # Jitsi room name for video appointments.
    room: Mapped[str | None] = mapped_column(String(64), unique=True)
    # HMAC-SHA256 (keyed with SECRET_KEY) of the conference PIN for dial-in by phone
    # (visits/video/dial_in.py); the PIN itself is derived again from SECRET_KEY and the
    # uid, never stored. None: no PIN (not a video appointment, anonymised, or booked
    # before dial-in existed and its PIN was taken by another).
    dial_in_pin_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    citizen_joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clerk_joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the citizen last heard of the appointment's time (its confirmation, or the mail
    # about a move): a reminder due before that moment would tell them nothing new.
    time_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    service: Mapped[Service] = relationship()
    clerk: Mapped[StaffUser] = relationship(foreign_keys=[clerk_id])
    booked_by: Mapped[StaffUser | None] = relationship(foreign_keys=[booked_by_id])
    location: Mapped[Location | None] = relationship()

    # What the appointment is for: one or more services, each with a number of persons
    # (models/items.py). ``service_id`` is the first item's service.
    items: Mapped[list[AppointmentItem]] = relationship(
        order_by="AppointmentItem.position", cascade="all, delete-orphan", back_populates="appointment"
    )

    __table_args__ = (
        CheckConstraint("end_at > start_at", name="ends_after_start"),
        CheckConstraint("blocked_from <= start_at AND blocked_until >= end_at", name="blocked_covers"),
        CheckConstraint(
            "status IN ('held', 'confirmed', 'attended', 'no_show', 'cancelled', 'expired')",
            name="status_known",
        ),
        CheckConstraint("mode IN ('on_site', 'video', 'phone')", name="mode_known"),
        Index("ix_appointment_clerk_start", "clerk_id", "start_at"),
        Index("ix_appointment_status_start", "status", "start_at"),
        # One person cannot be in two places at once: a repeated submit of the same form
        # finds this index instead of creating a second hold.
        Index(
            "uq_appointment_email_start_active",
            "citizen_email",
            "start_at",
            unique=True,
            sqlite_where=text("status IN ('held', 'confirmed')"),
            postgresql_where=text("status IN ('held', 'confirmed')"),
        ),
    )

    @property
    def is_video(self) -> bool:
        return self.mode == Mode.VIDEO

    @property
    def is_phone(self) -> bool:
        return self.mode == Mode.PHONE

    @property
    def is_on_site(self) -> bool:
        return self.mode == Mode.ON_SITE


class KeptConflict(db.Model):
    """A clerk chose to keep a stranded appointment as it is: for exactly this conflict
    (``conflict``: outside the hours, which absences, a holiday) at this time with this
    clerk. A different conflict later, or a move of the appointment, lists it again."""

    __tablename__ = "kept_conflict"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id", ondelete="CASCADE"), index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    clerk_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    conflict: Mapped[str] = mapped_column(Text)
    kept_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kept_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))


class JoinEvent(db.Model):
    """Someone pressed "join" on a video appointment (the no-show job relies on it)."""

    __tablename__ = "join_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))  # citizen | clerk | guest
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class BookingPause(db.Model):
    """Online booking paused for an email address after repeated no-shows."""

    __tablename__ = "booking_pause"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    paused_until: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))


from visits.models.access import ApiKey, LoginAttempt  # noqa: E402,F401
from visits.models.audit import AuditEvent  # noqa: E402,F401
from visits.models.documents import AppointmentDocument  # noqa: E402,F401
from visits.models.guests import AppointmentGuest, GuestRole  # noqa: E402,F401
from visits.models.items import AppointmentItem  # noqa: E402,F401
from visits.models.outbox import OutboxMessage  # noqa: E402,F401
from visits.models.places import ClosingDay, Department, Location  # noqa: E402,F401
from visits.models.presence import RoomPresence  # noqa: E402,F401  (its own module: see there)
