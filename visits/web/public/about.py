"""The pages that make the site an official one: imprint, privacy notice, accessibility
statement (BITV 2.0 / BITV NRW) and contact, and the favicon.

Everything they name comes from the city settings (visits/settings.py), and every sentence
about the video server follows JITSI_DOMAIN: a page of a public body says only what is true
of the configuration it runs with."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date
from flask import Blueprint, redirect, render_template, url_for

from visits import settings
from visits.video import jitsi
from visits.web.public.views import page_language

bp = Blueprint("about", __name__)


def in_language(german: str, english: str) -> str:
    """A text the city configured per language; English falls back to the German one."""
    return english if page_language() == "en" and english else german


@bp.get("/impressum")
def imprint():
    config = settings.current()
    if config.imprint_url:
        return redirect(config.imprint_url)
    return render_template(
        "about/imprint.html", text=in_language(config.imprint_text_de, config.imprint_text_en)
    )


@bp.get("/datenschutz")
def privacy():
    config = settings.current()
    return render_template(
        "about/privacy.html",
        retention_days=config.retention_days,
        hold_minutes=config.hold_minutes,
        video_host=jitsi.host(),
        video_public=jitsi.on_public_service(),
    )


@bp.get("/barrierefreiheit")
def accessibility():
    config = settings.current()
    stated = config.accessibility_statement_date
    return render_template(
        "about/accessibility.html",
        known_issues=in_language(config.accessibility_known_issues_de, config.accessibility_known_issues_en),
        feedback=config.accessibility_contact or config.city_contact_email,
        stated_on=format_date(date.fromisoformat(stated), "long", locale=page_language()) if stated else "",
    )


@bp.get("/kontakt")
def contact():
    return render_template("about/contact.html")


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page links; the icon is an SVG."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)
