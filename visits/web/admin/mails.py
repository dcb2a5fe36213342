"""Mails the outbox gave up on, and sending one again."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from visits.admin import operations as administration
from visits.core import clock
from visits.models import OutboxMessage
from visits.web.admin import bp
from visits.web.admin.access import admin_required
from visits.web.admin.pages import done, me, pressed, with_buttons

MAIL_KINDS = {
    "confirm_request": _l("request to confirm"),
    "confirmation": _l("confirmation"),
    "cancellation": _l("cancellation"),
    "rescheduled": _l("new time"),
    "reminder": _l("reminder"),
    "no_show": _l("missed appointment"),
}


@bp.route("/mails")
@admin_required
def mails():
    return with_buttons(
        "admin/mails.html",
        messages=administration.failed_mails(),
        kinds={kind: str(label) for kind, label in MAIL_KINDS.items()},
    )


@bp.route("/mails/<int:message_id>/retry", methods=["POST"])
@admin_required
def mail_retry(message_id: int):
    message = pressed(OutboxMessage, message_id)
    administration.retry_mail(message, me(), now=clock.now())
    return done(gettext("The mail to %(to)s is queued again.", to=message.recipient), "admin.mails")
