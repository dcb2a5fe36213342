"""Documents a citizen hands in before a video appointment, for the clerk to look at.

Who may hand in: whoever holds the manage link of a video appointment that is held (the
hold still valid) or confirmed and has not started (``may_hand_in``). Only PDF, JPEG and
PNG, and the type is **sniffed from the content** (magic bytes, ``filetype``), never taken
from the file's name or the browser's Content-Type. At most DOCUMENT_MAX_BYTES each and
DOCUMENTS_MAX_PER_APPOINTMENT per appointment; with CLAMD_SOCKET set, clamd scans each file
first, and a file it finds something in, or one it cannot scan, is not stored (fail closed).

Storage: DOCUMENTS_DIR (outside the web root), each file under a random hex name; the
uploaded name is only a label (``display_name``: path parts and control characters
dropped, the sniffed type's extension ensured) and never part of a path.

Files have no use once the appointment cannot take place: ``discard_unneeded`` (the
``discard_documents`` job) removes them when the appointment is cancelled or its hold
expired, and retention (``visits/admin/retention.py``) removes the rest with the appointment's
personal data. Rows are deleted in a transaction first, files after it commits: a crash in
between leaves a file no row points to, never a row without its file."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import filetype
from sqlalchemy import delete, exists, func, select

from visits import settings
from visits.booking import clamd, rules
from visits.core import audit
from visits.core.refusals import Refused
from visits.extensions import db, transaction
from visits.models import Appointment, StaffUser, Status
from visits.models.documents import AppointmentDocument

# The types a clerk's computer opens safely, and the extension each gets in its name.
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
# Accepted as they are: other spellings of the same types' extensions.
SAME_TYPE = {".jpeg": "image/jpeg", ".jpe": "image/jpeg"}
FIELD = "document"
DISPLAY_NAME_MAX = 120
STORAGE_NAME = re.compile(r"[0-9a-f]{32}")


class DocumentRefused(Refused):
    """Codes: closed (this appointment takes no documents now), empty, wrong_type, too_big,
    too_many, infected, scan_unavailable, not_found."""

    def __init__(self, code: str) -> None:
        super().__init__(code, FIELD)


# -- rules (pure) --------------------------------------------------------------------------


def may_hand_in(appointment: rules.AppointmentLike, now: datetime) -> bool:
    """A video appointment reserved for the citizen (valid hold or confirmed) that has not started."""
    return appointment.is_video and rules.is_live(appointment, now) and not rules.has_started(appointment, now)


def sniff(data: bytes) -> str | None:
    """The type by the content's magic bytes, if it is one we accept."""
    kind = filetype.guess_mime(data[:8192])
    return kind if kind in EXTENSIONS else None


def display_name(uploaded: str | None, content_type: str) -> str:
    """The label shown for a file: the last part of the uploaded name (``/`` and ``\\`` both
    count as separators), without control or format characters, leading dots or spaces,
    at most DISPLAY_NAME_MAX characters, ending in the extension of the sniffed type."""
    name = re.split(r"[\\/]", uploaded or "")[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in ("C", "Z") or ch == " ")
    name = " ".join(name.split()).lstrip(". ").rstrip(". ")
    extension = EXTENSIONS[content_type]
    stem, dot, suffix = name.rpartition(".")
    has_own = dot and stem and ("." + suffix.lower() == extension or SAME_TYPE.get("." + suffix.lower()) == content_type)
    if not has_own:
        stem = name
        suffix = extension
    else:
        suffix = "." + suffix
    stem = (stem or "Dokument")[: DISPLAY_NAME_MAX - len(suffix)].rstrip(". ") or "Dokument"
    return stem + suffix


def check_size(data: bytes, *, max_bytes: int) -> None:
    if not data:
        raise DocumentRefused("empty")
    if len(data) > max_bytes:
        raise DocumentRefused("too_big")


def check_type(data: bytes) -> str:
    """The sniffed type of the file, if PDF, JPEG or PNG."""
    content_type = sniff(data)
    if content_type is None:
        raise DocumentRefused("wrong_type")
    return content_type


def scan(data: bytes, socket_path: str) -> None:
    """clamd must find nothing; if it cannot be asked, the file is refused too (fail closed)."""
    try:
        found = clamd.scan(data, socket_path)
    except clamd.ScanUnavailable:
        raise DocumentRefused("scan_unavailable") from None
    if found is not None:
        raise DocumentRefused("infected")


# -- storage -------------------------------------------------------------------------------


def folder() -> Path:
    return Path(settings.current().documents_dir)


def path_of(document: AppointmentDocument) -> Path:
    """Where the file lies: the random storage name in DOCUMENTS_DIR, nothing else."""
    if not STORAGE_NAME.fullmatch(document.storage_name):
        raise ValueError("not a storage name")
    return folder() / document.storage_name


def _write(data: bytes) -> str:
    directory = folder()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = secrets.token_hex(16)
    descriptor = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    return name


def unlink(storage_names: Iterable[str]) -> None:
    """Remove files whose rows are gone (a file already missing is fine)."""
    directory = folder()
    for name in storage_names:
        if STORAGE_NAME.fullmatch(name):
            (directory / name).unlink(missing_ok=True)


# -- use cases -----------------------------------------------------------------------------


def of_appointment(appointment: Appointment) -> list[AppointmentDocument]:
    return list(
        db.session.scalars(
            select(AppointmentDocument)
            .where(AppointmentDocument.appointment_id == appointment.id)
            .order_by(AppointmentDocument.uploaded_at, AppointmentDocument.id)
        )
    )


def _count(appointment_id: int) -> int:
    return db.session.scalar(
        select(func.count()).where(AppointmentDocument.appointment_id == appointment_id)
    ) or 0


def hand_in(appointment: Appointment, *, filename: str | None, data: bytes, now: datetime) -> AppointmentDocument:
    """Store one file for the appointment's clerk, or refuse it (``DocumentRefused``)."""
    config = settings.current()
    if not may_hand_in(appointment, now):
        raise DocumentRefused("closed")
    check_size(data, max_bytes=config.document_max_bytes)
    if _count(appointment.id) >= config.documents_max_per_appointment:
        raise DocumentRefused("too_many")
    # The scan comes before the type: whatever the file is, clamd's finding is what the
    # citizen should hear about.
    if config.clamd_socket:
        scan(data, config.clamd_socket)
    content_type = check_type(data)
    storage_name = _write(data)
    try:
        with transaction():
            # The appointment's row lock (PostgreSQL; SQLite's write lock is taken at BEGIN)
            # makes two uploads at once count one after the other.
            db.session.execute(select(Appointment.id).where(Appointment.id == appointment.id).with_for_update())
            if _count(appointment.id) >= config.documents_max_per_appointment:
                raise DocumentRefused("too_many")
            document = AppointmentDocument(
                appointment_id=appointment.id,
                storage_name=storage_name,
                display_name=display_name(filename, content_type),
                content_type=content_type,
                size_bytes=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                uploaded_at=now,
            )
            db.session.add(document)
    except BaseException:
        unlink([storage_name])
        raise
    return document


def withdraw(appointment: Appointment, document_id: int, *, now: datetime) -> None:
    """The citizen deletes one of their files (as long as they may hand in)."""
    if not may_hand_in(appointment, now):
        raise DocumentRefused("closed")
    with transaction():
        document = db.session.get(AppointmentDocument, document_id)
        if document is None or document.appointment_id != appointment.id:
            raise DocumentRefused("not_found")
        storage_name = document.storage_name
        db.session.delete(document)
    unlink([storage_name])


def for_staff(user: StaffUser, appointment: Appointment, document_id: int, *, now: datetime) -> AppointmentDocument | None:
    """The file if ``user`` may open it: the appointment's clerk or an administrator. The
    opening is recorded in the audit log (who, which appointment, which file)."""
    if not (user.is_admin or appointment.clerk_id == user.id):
        return None
    document = db.session.get(AppointmentDocument, document_id)
    if document is None or document.appointment_id != appointment.id:
        return None
    with transaction():
        audit.record("document_opened", at=now, actor=user, obj=appointment, document_id=document.id)
    return document


def discard(appointment_ids: list[int]) -> list[str]:
    """Delete the rows of these appointments' files in the current transaction; returns
    their storage names for ``unlink`` once it has committed."""
    if not appointment_ids:
        return []
    names = list(
        db.session.scalars(
            select(AppointmentDocument.storage_name).where(AppointmentDocument.appointment_id.in_(appointment_ids))
        )
    )
    db.session.execute(
        delete(AppointmentDocument)
        .where(AppointmentDocument.appointment_id.in_(appointment_ids))
        .execution_options(synchronize_session=False)
    )
    return names


def discard_unneeded(*, now: datetime) -> int:
    """Files of appointments that will not take place (cancelled, or a hold the
    ``expire_holds`` job marked expired) are deleted; returns how many files."""
    over = Appointment.status.in_((Status.CANCELLED, Status.EXPIRED))
    with transaction():
        ids = list(
            db.session.scalars(
                select(Appointment.id).where(
                    over, exists().where(AppointmentDocument.appointment_id == Appointment.id)
                )
            )
        )
        names = discard(ids)
    unlink(names)
    return len(names)
