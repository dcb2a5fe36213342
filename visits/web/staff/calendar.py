"""The clerk's calendar: the secret feed address for their calendar program, and the upload
of a calendar file whose busy times become absences."""

from __future__ import annotations

from flask import flash, render_template
from flask_babel import gettext

from visits.booking import calendar, links
from visits.clerks import absences as clerk_absences
from visits.clerks import feed as clerk_feed
from visits.core import clock
from visits.web.staff import bp, forms
from visits.web.staff.pages import CALENDAR_FILE_MESSAGES, changed, me


def _calendar_page(form=None, feed_url: str | None = None, status: int = 200):
    user = me()
    uploaded = clerk_absences.absences_of(user, since=clock.now(), source=clerk_absences.CALENDAR_SOURCE)
    return render_template(
        "staff/calendar.html",
        form=form or forms.UploadForm(),
        feed_url=feed_url,
        webcal_url=("webcal://" + feed_url.split("://", 1)[1]) if feed_url else None,
        has_feed=user.feed_token_hash is not None,
        uploaded=uploaded,
    ), status


@bp.get("/calendar", endpoint="calendar")
def calendar_settings():
    return _calendar_page()


@bp.post("/calendar/feed")
def calendar_feed_renew():
    user = me()
    token = clerk_feed.renew_feed_token(user, by=user, now=clock.now())
    flash(gettext("Your new feed address is shown below. Any earlier address no longer works."), "success")
    return _calendar_page(feed_url=links.public_url("feed.calendar", token=token))


@bp.post("/calendar/upload")
def calendar_upload():
    user = me()
    form = forms.UploadForm()
    if not form.validate_on_submit():
        return _calendar_page(form=form, status=400)
    upload = form.file.data
    now = clock.now()
    try:
        count = clerk_absences.upload_calendar(user, upload.read(), by=user, now=now, filename=upload.filename or "")
    except calendar.CalendarFileError as error:
        form.file.errors = [
            gettext(
                "The file could not be used: %(reason)s Nothing has been changed.",
                reason=CALENDAR_FILE_MESSAGES.get(error.code, error.code),
            )
        ]
        return _calendar_page(form=form, status=400)
    return changed(
        gettext("%(count)d busy time(s) taken from your calendar; they replace the previous upload.", count=count),
        ".calendar",
        now=now,
    )
