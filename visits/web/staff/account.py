"""Logging in and out, and changing one's own password."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_login import current_user, login_user, logout_user

from visits.clerks import accounts as staff_accounts
from visits.clerks import throttle
from visits.clerks.errors import StaffingError
from visits.core import clock
from visits.web.staff import access, bp, forms
from visits.web.staff.pages import STAFFING_MESSAGES, me


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, no host, no "//" or backslash tricks)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _fresh_session() -> None:
    """Forget everything in the session but the chosen language."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for(".agenda"))
    form = forms.LoginForm()
    failed = False
    if form.validate_on_submit():
        now = clock.now()
        # Counted before the password is looked at (see visits.clerks.throttle).
        if not throttle.allow_login(form.email.data or "", request.remote_addr, now=now):
            return render_template("staff/login.html", form=form, throttled=True), 429
        user = staff_accounts.log_in(form.email.data or "", form.password.data or "", request.remote_addr, now=now)
        if user is not None:
            _fresh_session()  # for the logged-in user
            login_user(user)
            access.start_session(user, now=now)
            return redirect(_safe_next(request.args.get("next")) or url_for(".agenda"))
        failed = True
    return render_template("staff/login.html", form=form, failed=failed)


@bp.post("/logout")
def logout():
    staff_accounts.record_logout(me(), now=clock.now())  # every session of this person ends
    logout_user()
    _fresh_session()
    flash(gettext("You have been logged out."), "success")
    return redirect(url_for(".login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    form = forms.PasswordForm()
    if form.validate_on_submit():
        now = clock.now()
        user = me()
        # The current password is a guess like one at the login: counted by the same throttle.
        if not throttle.allow_login(user.email, request.remote_addr, now=now):
            forms.show_refusal(form, StaffingError("too_many_tries", "current_password"), STAFFING_MESSAGES)
            return render_template(
                "staff/password.html", form=form, min_length=staff_accounts.MIN_PASSWORD_LENGTH
            ), 429
        try:
            staff_accounts.change_password(user, form.current_password.data, form.new_password.data, now=now)
        except StaffingError as error:
            forms.show_refusal(form, error, STAFFING_MESSAGES)
        else:
            # Every other session has ended; this one goes on under the new version.
            _fresh_session()
            login_user(user)
            access.start_session(user, now=now)
            flash(gettext("Your password has been changed."), "success")
            return redirect(url_for(".agenda"))
    return render_template("staff/password.html", form=form, min_length=staff_accounts.MIN_PASSWORD_LENGTH)
