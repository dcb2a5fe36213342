"""The administrators' forms (Flask-WTF: a CSRF token on every one; messages translated)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from visits.admin.operations import SERVICE_FIELDS, SLUG_PATTERN
from visits.admin.places import LOCATION_FIELDS, Closing
from visits.admin.reports import Split
from visits.booking.modes import LABELS as MODE_LABELS
from visits.models import Mode, Role
from visits.web.staff.forms import MultiCheckboxField


def _minutes(label, *, minimum: int = 0, maximum: int = 24 * 60, default: int = 0) -> IntegerField:
    return IntegerField(
        label,
        default=default,
        validators=[
            InputRequired(_l("Enter a number.")),
            NumberRange(minimum, maximum, _l("Enter a number from %(min)s to %(max)s.")),
        ],
    )


def _department_field() -> SelectField:
    # Choices: the departments the administrator manages (``pages.department_choices``).
    return SelectField(_l("Department"), coerce=int, validators=[Optional()])


class ServiceForm(FlaskForm):
    slug = StringField(
        _l("Address part (slug)"),
        filters=[lambda value: value.strip().lower() if isinstance(value, str) else value],
        validators=[
            DataRequired(_l("Enter the address part.")),
            Length(max=80),
            Regexp(
                SLUG_PATTERN,
                message=_l("Use only lower-case letters, digits and single hyphens, e.g. “id-card”."),
            ),
        ],
    )
    name_de = StringField(
        _l("Name (German)"), validators=[DataRequired(_l("Enter the German name.")), Length(max=200)]
    )
    name_en = StringField(
        _l("Name (English)"), validators=[DataRequired(_l("Enter the English name.")), Length(max=200)]
    )
    description_de = TextAreaField(_l("Description (German)"), validators=[Optional(), Length(max=5000)])
    description_en = TextAreaField(_l("Description (English)"), validators=[Optional(), Length(max=5000)])
    documents_de = TextAreaField(
        _l("Documents to bring (German, one per line)"), validators=[Optional(), Length(max=5000)]
    )
    documents_en = TextAreaField(
        _l("Documents to bring (English, one per line)"), validators=[Optional(), Length(max=5000)]
    )
    duration_minutes = _minutes(_l("Duration (minutes)"), minimum=5, maximum=8 * 60, default=30)
    buffer_before_minutes = _minutes(_l("Buffer before (minutes)"), maximum=120)
    buffer_after_minutes = _minutes(_l("Buffer after (minutes)"), maximum=120)
    modes = MultiCheckboxField(
        _l("How the appointment can take place (the citizen chooses)"),
        choices=[SelectChoice(mode.value, label) for mode, label in MODE_LABELS.items()],
        default=[Mode.VIDEO.value],
        validators=[InputRequired(_l("Choose at least one way: on site, video call or by phone."))],
    )
    department_id = _department_field()
    address = StringField(_l("Address (for on-site appointments)"), validators=[Optional(), Length(max=300)])
    # Choices: the locations (``location_choices``); its department is the service's.
    location_id = SelectField(_l("Location (for on-site appointments)"), coerce=int, validators=[Optional()])
    min_notice_minutes = _minutes(_l("Minimum notice (minutes)"), maximum=60 * 24 * 30, default=60)
    horizon_days = _minutes(_l("Bookable ahead (days)"), minimum=1, maximum=366, default=60)
    active = BooleanField(_l("Bookable (active)"), default=True)
    # Left empty: one person.
    max_persons = IntegerField(
        _l("Persons per appointment (at most)"),
        default=1,
        validators=[Optional(), NumberRange(1, 20, _l("Enter a number from %(min)s to %(max)s."))],
    )
    combinable = BooleanField(_l("May be combined with other services of its department"), default=False)

    def values(self) -> dict:
        data = {name: getattr(self, name).data for name in SERVICE_FIELDS}
        for key in ("description_de", "description_en", "documents_de", "documents_en"):
            data[key] = (data[key] or "").strip()
        data["name_de"] = data["name_de"].strip()
        data["name_en"] = data["name_en"].strip()
        data["modes"] = list(self.modes.data or ())
        data["address"] = (self.address.data or "").strip()
        data["active"] = bool(data["active"])
        data["combinable"] = bool(data["combinable"])
        data["max_persons"] = data["max_persons"] or 1
        data["location_id"] = self.location_id.data or None
        data["department_id"] = self.department_id.data or None
        return data


def _slug_field(label) -> StringField:
    return StringField(
        label,
        filters=[lambda value: value.strip().lower() if isinstance(value, str) else value],
        validators=[
            DataRequired(_l("Enter the address part.")),
            Length(max=80),
            Regexp(
                SLUG_PATTERN,
                message=_l("Use only lower-case letters, digits and single hyphens, e.g. “id-card”."),
            ),
        ],
    )


def _text(label, maximum: int, *, area: bool = False):
    kind = TextAreaField if area else StringField
    return kind(label, validators=[Optional(), Length(max=maximum)])


class LocationForm(FlaskForm):
    slug = _slug_field(_l("Address part (slug)"))
    # Choices: the departments (set by the page).
    department_id = SelectField(
        _l("Department"), coerce=int, validators=[InputRequired(_l("Choose the department."))]
    )
    name_de = StringField(
        _l("Name (German)"), validators=[DataRequired(_l("Enter the German name.")), Length(max=200)]
    )
    name_en = StringField(
        _l("Name (English)"), validators=[DataRequired(_l("Enter the English name.")), Length(max=200)]
    )
    street = _text(_l("Street and number"), 200)
    postcode = StringField(
        _l("Postcode"),
        validators=[Optional(), Regexp(r"^[0-9]{5}$", message=_l("Enter the five digits of the postcode."))],
    )
    city = _text(_l("City"), 100)
    directions_de = _text(_l("Directions (German)"), 5000, area=True)
    directions_en = _text(_l("Directions (English)"), 5000, area=True)
    opening_hours_de = _text(_l("Opening hours (German)"), 5000, area=True)
    opening_hours_en = _text(_l("Opening hours (English)"), 5000, area=True)
    step_free = BooleanField(_l("Step-free access"))
    hearing_loop = BooleanField(_l("Hearing loop"))
    latitude = DecimalField(
        _l("Latitude (optional)"),
        places=None,
        validators=[Optional(), NumberRange(-90, 90, _l("Enter a number from %(min)s to %(max)s."))],
    )
    longitude = DecimalField(
        _l("Longitude (optional)"),
        places=None,
        validators=[Optional(), NumberRange(-180, 180, _l("Enter a number from %(min)s to %(max)s."))],
    )

    def values(self) -> dict:
        data = {name: getattr(self, name).data for name in LOCATION_FIELDS}
        for key in ("name_de", "name_en", "street", "postcode", "city", "directions_de", "directions_en",
                    "opening_hours_de", "opening_hours_en"):  # fmt: skip
            data[key] = (data[key] or "").strip()
        for key in ("latitude", "longitude"):
            data[key] = float(data[key]) if data[key] is not None else None
        data["step_free"] = bool(data["step_free"])
        data["hearing_loop"] = bool(data["hearing_loop"])
        return data


class ClosingDayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter the date."))])
    from_time = TimeField(_l("Closed from (optional)"), validators=[Optional()])
    until_time = TimeField(_l("Closed until (optional)"), validators=[Optional()])
    reason_de = StringField(
        _l("Reason (German)"), validators=[DataRequired(_l("Enter the reason.")), Length(max=200)]
    )
    reason_en = StringField(_l("Reason (English)"), validators=[Optional(), Length(max=200)])

    def closing(self) -> Closing:
        return Closing(
            day=self.day.data,
            from_time=self.from_time.data,
            until_time=self.until_time.data,
            reason_de=self.reason_de.data or "",
            reason_en=self.reason_en.data or "",
        )


# The role's name on the staff pages, by role.
ROLE_LABELS = {
    Role.CLERK.value: _l("Clerk"),
    Role.DEPARTMENT_ADMIN.value: _l("Department administrator"),
    Role.ADMIN.value: _l("Administrator"),
}
ROLE_CHOICES = [SelectChoice(value, label) for value, label in ROLE_LABELS.items()]


class InviteForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[
            DataRequired(_l("Enter the email address.")),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter a valid email address.")),
            Length(max=254),
        ],
    )
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the name.")), Length(max=200)])
    role = RadioField(
        _l("Role"),
        choices=ROLE_CHOICES,
        default=Role.CLERK.value,
        validators=[InputRequired(_l("Choose a role."))],
    )
    department_id = _department_field()
    services = MultiCheckboxField(_l("Services this person offers"), coerce=int, validators=[Optional()])


class StaffEditForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the name.")), Length(max=200)])
    role = RadioField(_l("Role"), choices=ROLE_CHOICES, validators=[InputRequired(_l("Choose a role."))])
    department_id = _department_field()
    services = MultiCheckboxField(_l("Services this person offers"), coerce=int, validators=[Optional()])


class ApiKeyForm(FlaskForm):
    name = StringField(
        _l("Name of the service portal"),
        validators=[DataRequired(_l("Enter the portal's name.")), Length(max=100)],
    )


class DepartmentForm(FlaskForm):
    slug = _slug_field(_l("Address part (slug)"))
    name_de = StringField(
        _l("Name (German)"), validators=[DataRequired(_l("Enter the German name.")), Length(max=200)]
    )
    name_en = StringField(
        _l("Name (English)"), validators=[DataRequired(_l("Enter the English name.")), Length(max=200)]
    )
    active = BooleanField(_l("Active"), default=True)
    # Left empty: nothing kept back.
    reserved_share_percent = IntegerField(
        _l("Share kept for the phone centre (percent)"),
        default=0,
        validators=[Optional(), NumberRange(0, 100, _l("Enter a number from %(min)s to %(max)s."))],
    )

    def values(self) -> dict:
        return {
            "slug": self.slug.data,
            "name_de": self.name_de.data.strip(),
            "name_en": self.name_en.data.strip(),
            "active": bool(self.active.data),
            "reserved_share_percent": self.reserved_share_percent.data or 0,
        }


class ButtonForm(FlaskForm):
    """A button that changes something: only its CSRF token."""


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    actor = SelectField(_l("Who"), validators=[Optional()], validate_choice=False)
    action = SelectField(_l("Action"), validators=[Optional()], validate_choice=False)
    date_from = DateField(_l("From (date)"), validators=[Optional()])
    date_until = DateField(_l("Until (date)"), validators=[Optional()])


class ReportForm(FlaskForm):
    class Meta:
        csrf = False

    date_from = DateField(_l("From (date)"), validators=[Optional()])
    date_until = DateField(_l("Until (date)"), validators=[Optional()])
    # Choices: every location the administrator manages, after "Every location" ("").
    location = SelectField(_l("Location"), validators=[Optional()])
    mode = SelectField(
        _l("Mode"),
        choices=[SelectChoice("", _l("Every mode")), *(SelectChoice(m.value, MODE_LABELS[m]) for m in Mode)],
        validators=[Optional()],
    )
    split = SelectField(
        _l("Rows"),
        choices=[
            SelectChoice(Split.SERVICE.value, _l("One per service")),
            SelectChoice(Split.LOCATION.value, _l("Per service and location")),
            SelectChoice(Split.MODE.value, _l("Per service and mode")),
        ],
        default=Split.SERVICE.value,
        validators=[Optional()],
    )
