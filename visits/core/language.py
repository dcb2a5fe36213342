"""Which language a page speaks: German first, English beside it.

The choice follows an explicit ``?lang=`` (remembered in the session), then the browser's
Accept-Language, then German."""

from __future__ import annotations

from pathlib import Path

from flask import request, session

from visits import settings

PACKAGE = Path(__file__).resolve().parent.parent  # visits/: the catalogues are in visits/i18n/

# The languages mails and reminders can be written in, each named in itself (as a form's
# choice shows it); the forms and the API schema offer these.
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}


def translation_directories() -> str:
    """Every ``visits/i18n/<area>/translations`` folder; Flask-Babel merges them.

    One catalogue per area (core, public, staff, ...) keeps each part's texts next to each
    other and lets parts be worked on side by side."""
    dirs = sorted(str(p) for p in (PACKAGE / "i18n").glob("*/translations") if p.is_dir())
    return ";".join(dirs)


def select_locale() -> str:
    config = settings.current()
    languages = config.languages
    if not request:
        return config.default_language
    asked = request.args.get("lang")
    if asked in languages:
        session["lang"] = asked
        return asked
    if session.get("lang") in languages:
        return session["lang"]
    return request.accept_languages.best_match(languages) or config.default_language


def compile_catalogues() -> list[Path]:
    """Compile every area's ``messages.po`` into ``messages.mo`` (run by ``make`` and tests).

    The .mo files are build output, not kept in git; a stale one would show old texts."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po_path in sorted((PACKAGE / "i18n").glob("*/translations/*/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog, use_fuzzy=False)
        written.append(mo_path)
    return written


if __name__ == "__main__":  # python -m visits.core.language
    for path in compile_catalogues():
        print(f"compiled {path.relative_to(PACKAGE.parent)}")
