"""Staff accounts: creating them, checking their passwords (Argon2id), and recording who
logged in and out.

A password must be long (12 characters) and not guessable: zxcvbn estimates how many
guesses it takes, from its lists of common passwords, names, words and keyboard patterns
(and the person's own address and name). A password an administrator hands out (invitation,
reset) expires and only lets its holder choose their own. Every session carries the
account's ``session_version``: logging out, a new password, a reset and deactivation raise
it, which ends every session of that person on the server."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from zxcvbn import zxcvbn

from visits.clerks.errors import StaffingError
from visits.core import audit
from visits.extensions import db, transaction
from visits.models import Role, StaffUser

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 12
# zxcvbn's score 3: "safely unguessable", about 10^8 guesses or more (an online attacker
# throttled at the login never gets near that).
MIN_PASSWORD_SCORE = 3
MAX_PASSWORD_LENGTH = 200  # zxcvbn's time grows with length; nobody types more


class AccountError(ValueError):
    pass


def password_problem(password: str, known: Iterable[str] = ()) -> str | None:
    """Why ``password`` is refused ("password_too_short", "password_too_common"), or None.
    ``known`` are words an attacker knows about the person (address, name)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "password_too_short"
    if len(password) > MAX_PASSWORD_LENGTH:
        return "password_too_long"
    # The whole address and name, and each of their words ("anna", "schmidt", "stadt").
    words = {part for value in known for part in [value, *re.split(r"[\W_]+", value)] if len(part) > 2}
    if zxcvbn(password, user_inputs=sorted(words))["score"] < MIN_PASSWORD_SCORE:
        return "password_too_common"
    return None


def hash_password(password: str, known: Iterable[str] = ()) -> str:
    problem = password_problem(password, known)
    if problem == "password_too_short":
        raise AccountError(f"password needs at least {MIN_PASSWORD_LENGTH} characters")
    if problem is not None:
        raise AccountError("password is too easy to guess (a common password, word or pattern)")
    return _hasher.hash(password)


def check_password(user: StaffUser, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def by_email(email: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower()))


def create_user(
    email: str,
    name: str,
    password: str,
    role: Role | str = Role.CLERK,
    *,
    now: datetime,
    department_id: int | None = None,
) -> StaffUser:
    """Add a staff member (not committed); a department administrator needs ``department_id``."""
    email = email.strip().lower()
    if by_email(email):
        raise AccountError(f"{email} exists already")
    if role not in tuple(Role):
        raise AccountError("role must be clerk, admin or department_admin")
    if role == Role.DEPARTMENT_ADMIN and department_id is None:
        raise AccountError("a department administrator needs a department")
    user = StaffUser(
        email=email,
        name=name.strip() or email,
        password_hash=hash_password(password, (email, name)),
        role=str(role),
        active=True,
        created_at=now,
        department_id=department_id,
    )
    db.session.add(user)
    return user


def record_login(user: StaffUser, *, now: datetime) -> None:
    with transaction():
        audit.record("staff.login", at=now, actor=user, obj=user)


def record_failed_login(email: str, ip: str | None, *, now: datetime) -> None:
    """A refused login, with the address tried and the caller's IP, to spot guessing."""
    with transaction():
        audit.record("staff.login_failed", at=now, actor_label="anonymous", email=email[:254], ip=ip)


_DUMMY_HASH: list[str] = []


def _password_matches(user: StaffUser | None, password: str) -> bool:
    """Verify against a dummy hash for unknown addresses too, so the answer takes as long."""
    if user is None or not user.active:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(_hasher.hash("not-a-real-password"))
        check_password(StaffUser(password_hash=_DUMMY_HASH[0]), password)
        return False
    return check_password(user, password)


def password_expired(user: StaffUser, now: datetime) -> bool:
    """A handed-out password whose time is over: it opens nothing any more."""
    return user.password_expires_at is not None and now >= user.password_expires_at


def must_choose_password(user: StaffUser) -> bool:
    """Logged in with a handed-out password: the only page open is the password form."""
    return user.password_expires_at is not None


def log_in(email: str, password: str, ip: str | None, *, now: datetime) -> StaffUser | None:
    """The active staff member with this address and password (the login is recorded), or
    None (the refused attempt is recorded, with the address tried and the caller's IP). An
    expired handed-out password is refused like a wrong one."""
    user = by_email(email)
    if _password_matches(user, password) and not password_expired(user, now):
        record_login(user, now=now)
        return user
    record_failed_login(email, ip, now=now)
    return None


def end_sessions(user: StaffUser) -> None:
    """Every session of ``user`` stops working at its next request (not committed)."""
    user.session_version = (user.session_version or 1) + 1


def record_logout(user: StaffUser, *, now: datetime) -> None:
    """Log out everywhere: a copy of this session's cookie is worth nothing afterwards."""
    with transaction():
        end_sessions(user)
        audit.record("staff.logout", at=now, actor=user, obj=user)


def hand_out_password(user: StaffUser, password: str, *, now: datetime, hours: int) -> None:
    """Give ``user`` a password chosen by someone else (not committed): it expires after
    ``hours`` and must be replaced at the first login; all old sessions end."""
    user.password_hash = hash_password(password)
    user.password_expires_at = now + timedelta(hours=hours)
    end_sessions(user)


def change_password(user: StaffUser, current: str, new: str, *, now: datetime) -> None:
    """A password of the person's own. Every session of theirs ends (the caller logs the
    current one in again) and a mail tells them of the change."""
    from visits.mail.staff_notices import KIND_CHANGED, enqueue_password_notice

    if not check_password(user, current):
        raise StaffingError("wrong_password", "current_password")
    if new == current:
        raise StaffingError("password_unchanged", "new_password")
    problem = password_problem(new, (user.email, user.name))
    if problem is not None:
        raise StaffingError(problem, "new_password")
    new_hash = _hasher.hash(new)
    with transaction():
        user.password_hash = new_hash
        user.password_expires_at = None
        end_sessions(user)
        audit.record("staff.password_changed", at=now, actor=user, obj=user)
        enqueue_password_notice(user, KIND_CHANGED, now=now)
