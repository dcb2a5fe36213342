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
from wtforms.validators import DataRequired, InputRequired

from visits.web.citizen_input import LANGUAGE_CHOICES, REFUSALS, citizen_rule

# What the rules of visits/core/citizen.py refuse, said to the citizen.
MESSAGES = {
    **REFUSALS,
    "name_missing": _l("Enter your name."),
    "email_missing": _l("Enter your email address."),
    "email_invalid": _l("Enter an email address like name@example.org."),
    "phone_invalid": _l("Enter a phone number like 0221 123456."),
}


class DetailsForm(FlaskForm):
    """Who books: just what the appointment needs (GDPR: data minimisation)."""

    start = HiddenField(validators=[InputRequired()])
    name = StringField(
        _l("Full name"),
        validators=[
            DataRequired(MESSAGES["name_missing"]),
            citizen_rule("name", MESSAGES),
        ],
    )
    email = EmailField(
        _l("Email address"),
        description=_l("We send the link to confirm your appointment to this address."),
        validators=[
            DataRequired(MESSAGES["email_missing"]),
            citizen_rule("email", MESSAGES),
        ],
    )
    phone = TelField(
        _l("Phone number (optional)"),
        description=_l("Only if we may call you when something changes at short notice."),
        validators=[citizen_rule("phone", MESSAGES)],
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
        # No maxlength for the browser: it would cut a pasted note without a word; the rule
        # refuses a long one with a message instead.
        validators=[citizen_rule("note", MESSAGES)],
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


def _guest_role_choices():
    from visits.booking.guests import ROLE_LABELS

    return [SelectChoice(value, label) for value, label in ROLE_LABELS.items()]


class GuestForm(FlaskForm):
    """One more person in the video call (interpreter, support person): on the citizen's
    manage page and on the clerk's appointment page."""

    name = StringField(
        _l("Their full name"),
        validators=[DataRequired(_l("Enter the name of the person you invite.")), citizen_rule("name", MESSAGES)],
    )
    email = EmailField(
        _l("Their email address"),
        description=_l("They get their own link to the video call at this address."),
        validators=[
            DataRequired(_l("Enter the email address of the person you invite.")),
            citizen_rule("email", MESSAGES),
        ],
    )
    role = SelectField(_l("Their role"), choices=_guest_role_choices, validators=[InputRequired()])
    language = SelectField(_l("Language of their email"), choices=LANGUAGE_CHOICES, validators=[InputRequired()])
