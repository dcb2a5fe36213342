"""The citizen's forms (Flask-WTF: a CSRF token on every POST; messages in the page's language).

Every message is our own (lazy_gettext), so an error reads in the language of the page the
citizen is on, next to the field it belongs to."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, Regexp

LANGUAGE_CHOICES = [SelectChoice("de", "Deutsch"), SelectChoice("en", "English")]

# Name, phone and note go into mails and calendars: no control characters.
NO_CONTROL_CHARACTERS = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"


class DetailsForm(FlaskForm):
    """Who books: just what the appointment needs (GDPR: data minimisation)."""

    start = HiddenField(validators=[InputRequired()])
    name = StringField(
        _l("Full name"),
        validators=[
            DataRequired(_l("Enter your name.")),
            Length(max=200, message=_l("Your name can have at most 200 characters.")),
            Regexp(NO_CONTROL_CHARACTERS, message=_l("Your name contains characters we cannot use.")),
        ],
    )
    email = EmailField(
        _l("Email address"),
        description=_l("We send the link to confirm your appointment to this address."),
        validators=[
            DataRequired(_l("Enter your email address.")),
            Length(max=254, message=_l("Enter an email address like name@example.org.")),
            Email(
                message=_l("Enter an email address like name@example.org."),
                check_deliverability=False,
                allow_smtputf8=False,
            ),
        ],
    )
    phone = TelField(
        _l("Phone number (optional)"),
        description=_l("Only if we may call you when something changes at short notice."),
        validators=[
            Optional(),
            Length(max=40, message=_l("A phone number can have at most 40 characters.")),
            Regexp(r"^[0-9+()/ .\-]*$", message=_l("Enter a phone number like 0221 123456.")),
        ],
    )
    language = SelectField(
        _l("Language for emails and reminders"),
        choices=LANGUAGE_CHOICES,
        validators=[InputRequired()],
    )
    note = TextAreaField(
        _l("Accessibility needs (optional)"),
        description=_l(
            "For example a sign-language interpreter, step-free access or simple language. "
            "Your clerk will see this note."
        ),
        validators=[
            Optional(),
            Length(max=1000, message=_l("The note can have at most 1000 characters.")),
            Regexp(NO_CONTROL_CHARACTERS, message=_l("The note contains characters we cannot use.")),
        ],
    )
    consent = BooleanField(
        _l("I agree that my details are processed to arrange this appointment."),
        validators=[DataRequired(_l("Please agree to the processing of your details, or we cannot book."))],
    )


class ActionForm(FlaskForm):
    """A button that changes an appointment (confirm, cancel): only the CSRF token."""


class RescheduleForm(FlaskForm):
    """The new time, chosen from the radio buttons of the slot picker."""

    start = StringField(validators=[DataRequired(_l("Choose a new time."))])
