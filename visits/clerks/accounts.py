"""Staff accounts: creating them, checking their passwords (Argon2id), and recording who
logged in and out."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from visits.clerks.errors import StaffingError
from visits.core import audit
from visits.extensions import db, transaction
from visits.models import Role, StaffUser

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10


class AccountError(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def check_password(user: StaffUser, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def by_email(email: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower()))


def create_user(
    email: str, name: str, password: str, role: Role | str = Role.CLERK, *, now: datetime
) -> StaffUser:
    """Add a staff member (not committed)."""
    email = email.strip().lower()
    if by_email(email):
        raise AccountError(f"{email} exists already")
    if role not in (Role.CLERK, Role.ADMIN):
        raise AccountError("role must be clerk or admin")
    user = StaffUser(
        email=email,
        name=name.strip() or email,
        password_hash=hash_password(password),
        role=str(role),
        active=True,
        created_at=now,
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
            _DUMMY_HASH.append(hash_password("not-a-real-password"))
        check_password(StaffUser(password_hash=_DUMMY_HASH[0]), password)
        return False
    return check_password(user, password)


def log_in(email: str, password: str, ip: str | None, *, now: datetime) -> StaffUser | None:
    """The active staff member with this address and password (the login is recorded), or
    None (the refused attempt is recorded, with the address tried and the caller's IP)."""
    user = by_email(email)
    if _password_matches(user, password):
        record_login(user, now=now)
        return user
    record_failed_login(email, ip, now=now)
    return None


def record_logout(user: StaffUser, *, now: datetime) -> None:
    with transaction():
        audit.record("staff.logout", at=now, actor=user, obj=user)


def change_password(user: StaffUser, current: str, new: str, *, now: datetime) -> None:
    if not check_password(user, current):
        raise StaffingError("wrong_password", "current_password")
    try:
        new_hash = hash_password(new)
    except AccountError as exc:
        raise StaffingError("password_too_short", "new_password") from exc
    with transaction():
        user.password_hash = new_hash
        audit.record("staff.password_changed", at=now, actor=user, obj=user)
