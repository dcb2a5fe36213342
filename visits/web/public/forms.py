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
    RadioField,
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
    "phone_required": _l("Enter the phone number your clerk should call you on."),
    "mode_not_offered": _l("This service is not offered that way. Please choose one of the ways shown."),
}


class DetailsForm(FlaskForm):
    """Who books: just what the appointment needs (GDPR: data minimisation)."""

    start = HiddenField(validators=[InputRequired()])
    # Choices: the service's modes (``offer_modes``); shown only when it offers several.
    # Whether the service offers the chosen one is the booking's rule (mode_not_offered).
    mode = RadioField(_l("How would you like to meet?"), choices=[], validate_choice=False)
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


def offer_modes(form: DetailsForm, items) -> None:
    """The modes of the appointment's services (of several: the ones they all share) as the
    form's choices, and the phone number asked for as a phone appointment needs it
    (required when phone is the only way)."""
    from visits.booking import modes
    from visits.models import Mode

    offered = modes.offered_by_all(service for service, _persons in items)  # one at least (items_of)
    form.mode.choices = [SelectChoice(mode.value, modes.LABELS[mode]) for mode in offered]
    if len(offered) > 1:
        form.mode.validators = [InputRequired(_l("Choose how you would like to meet."))]
    if offered == [Mode.PHONE]:
        form.phone.label.text = _l("Phone number")
        form.phone.description = _l("Your clerk calls you on this number at the appointment time.")
    elif Mode.PHONE in offered:
        form.phone.description = _l(
            "Needed for an appointment by phone: your clerk calls you on this number. Otherwise only if we "
            "may call you when something changes at short notice."
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
