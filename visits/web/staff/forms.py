"""The clerk's forms (Flask-WTF: CSRF token on every one; messages in the page's language)."""

from __future__ import annotations

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from visits.clerks.accounts import MIN_PASSWORD_LENGTH
from visits.core.refusals import Refused
from visits.web.citizen_input import LANGUAGE_CHOICES, REFUSALS, citizen_rule

WEEKDAYS = [
    (0, _l("Monday")),
    (1, _l("Tuesday")),
    (2, _l("Wednesday")),
    (3, _l("Thursday")),
    (4, _l("Friday")),
    (5, _l("Saturday")),
    (6, _l("Sunday")),
]


class _EmptyIsNoValue:
    """Empty input is "no value" (the validators then say what is missing); anything else
    unreadable gets ``invalid_message`` from our own catalogue."""

    invalid_message = None

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("invalid_value_message", self.invalid_message)
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        if not "".join(valuelist or ()).strip():
            self.data = None
            return
        super().process_formdata(valuelist)


class LocalTimeField(_EmptyIsNoValue, TimeField):
    """A wall-clock time (HH:MM)."""

    invalid_message = _l("Enter a time like 08:00.")


class LocalDateField(_EmptyIsNoValue, DateField):
    """A date (YYYY-MM-DD, what a date input sends)."""

    invalid_message = _l("Enter a date like 2026-03-31.")


class LoginForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(_l("Enter your email address."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password."))]
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(_l("Enter a new password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=200,
                message=_l("The new password needs at least %(min)d characters.", min=MIN_PASSWORD_LENGTH),
            ),
        ],
    )
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[
            DataRequired(_l("Repeat the new password.")),
            EqualTo("new_password", _l("The two new passwords differ.")),
        ],
    )


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def show_refusal(form, error: Refused, messages: dict) -> None:
    """The refusal's message at its form field (the error summary links there), or flashed
    above the form when it belongs to no field of ``form``."""
    message = str(messages.get(error.code, error.code))
    field = getattr(form, error.field, None) if (form is not None and error.field) else None
    if field is not None:
        field.errors = [*field.errors, message]
    else:
        flash(message, "error")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class HoursForm(FlaskForm):
    weekday = SelectField(
        _l("Weekday"),
        coerce=int,
        choices=[SelectChoice(v, label) for v, label in WEEKDAYS],
        validators=[InputRequired(_l("Choose a weekday."))],
    )
    start = LocalTimeField(_l("From"), validators=[InputRequired(_l("Enter the start time (HH:MM)."))])
    end = LocalTimeField(_l("Until"), validators=[InputRequired(_l("Enter the end time (HH:MM)."))])
    valid_from = LocalDateField(_l("Valid from (optional)"), validators=[Optional()])
    valid_until = LocalDateField(_l("Valid until (optional)"), validators=[Optional()])
    services = MultiCheckboxField(_l("Services offered in these hours"), coerce=int, validators=[Optional()])
    # "" is "no location"; the choices are set per request (every location).
    location = SelectField(_l("Location"), validators=[Optional()])
    reserved = BooleanField(_l("Reserved for bookings by staff and the phone centre"))


class AbsenceForm(FlaskForm):
    kind = RadioField(
        _l("Absent for"),
        choices=[SelectChoice("days", _l("Whole days")), SelectChoice("hours", _l("Some hours of one day"))],
        default="days",
        validators=[InputRequired(_l("Choose whole days or hours."))],
    )
    start_date = LocalDateField(_l("First day"), validators=[InputRequired(_l("Enter the first day."))])
    end_date = LocalDateField(_l("Last day (whole days; empty: the first day only)"), validators=[Optional()])
    start_time = LocalTimeField(_l("From (hours only)"), validators=[Optional()])
    end_time = LocalTimeField(_l("Until (hours only)"), validators=[Optional()])
    reason = StringField(_l("Reason (optional, internal)"), validators=[Optional(), Length(max=200)])


class NoteForm(FlaskForm):
    internal_note = TextAreaField(
        _l("Internal note (not shown to the citizen)"), validators=[Optional(), Length(max=4000)]
    )


class CancelForm(FlaskForm):
    message = TextAreaField(
        _l("Message to the citizen (sent with the cancellation)"),
        validators=[DataRequired(_l("Write a short message to the citizen.")), Length(max=2000)],
    )


class ReassignForm(FlaskForm):
    colleague = SelectField(
        _l("Colleague"), coerce=int, validators=[InputRequired(_l("Choose a colleague."))]
    )


# What the rules of visits/core/citizen.py refuse, said to the clerk about the caller.
CALLER_MESSAGES = {
    **REFUSALS,
    "name_missing": _l("Enter the caller's name."),
    "email_invalid": _l("Enter a valid email address, like name@example.org."),
    "phone_invalid": _l("Enter a valid phone number."),
    "email_or_phone_missing": _l("Enter an email address or a phone number."),
    "phone_required": _l("Enter the number to call the caller on: the appointment is by phone."),
}


class PhoneBookingForm(FlaskForm):
    start = RadioField(_l("Time"), validators=[InputRequired(_l("Choose a time."))], validate_choice=False)
    # Choices: the service's modes (the page sets them); whether it offers the chosen one
    # is the booking's rule (mode_not_offered).
    mode = RadioField(
        _l("How the appointment takes place"),
        choices=[],
        # DataRequired: a service with one mode shows no choice, and the page fills it in.
        validators=[DataRequired(_l("Choose how the appointment takes place."))],
        validate_choice=False,
    )
    name = StringField(
        _l("Caller's name"),
        validators=[DataRequired(CALLER_MESSAGES["name_missing"]), citizen_rule("name", CALLER_MESSAGES)],
    )
    email = EmailField(
        _l("Email address (for the confirmation mail)"), validators=[citizen_rule("email", CALLER_MESSAGES)]
    )
    phone = TelField(_l("Phone number"), validators=[citizen_rule("phone", CALLER_MESSAGES)])
    language = SelectField(_l("Language of the mails"), choices=LANGUAGE_CHOICES, default="de")
    # No maxlength for the browser: it would cut a pasted note without a word.
    note = TextAreaField(
        _l("Accessibility needs (optional)"), validators=[citizen_rule("note", CALLER_MESSAGES)]
    )


class UploadForm(FlaskForm):
    file = FileField(
        _l("Calendar file (.ics)"), validators=[FileRequired(_l("Choose an .ics file to upload."))]
    )
