"""The documents a citizen handed in, opened by the appointment's clerk or an administrator.

Anyone else gets the same 404 as for an appointment that does not exist. A file is always
a download (``Content-Disposition: attachment``, RFC 6266, with the cleaned name also as
``filename*``, RFC 8187), of the type sniffed when it came, with ``nosniff`` so no browser
guesses another, and never kept in a cache."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import abort, send_file

from visits.booking import documents
from visits.clerks import agenda as clerk_agenda
from visits.core import clock
from visits.web.staff import bp
from visits.web.staff.pages import me


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII ``filename`` for old programs and the exact name as
    ``filename*`` (UTF-8, percent-encoded)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = "".join(ch if ch.isprintable() and ch not in '"\\;' else "_" for ch in ascii_name)
    return f"attachment; filename=\"{ascii_name or 'document'}\"; filename*=UTF-8''{quote(name, safe='')}"


@bp.get("/appointments/<int:appointment_id>/documents/<int:document_id>")
def document(appointment_id: int, document_id: int):
    appointment = clerk_agenda.visible_appointment(me(), appointment_id)
    found = documents.for_staff(me(), appointment, document_id, now=clock.now()) if appointment else None
    if found is None:
        abort(404)
    path = documents.path_of(found)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=found.content_type, max_age=0, conditional=False, etag=False)
    response.headers["Content-Disposition"] = content_disposition(found.display_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
