"""Staff accounts: creating them, checking their passwords (Argon2id), and recording who
logged in and out."""

from __future__ import annotations

from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from visits.core import audit, clock
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


def create_user(email: str, name: str, password: str, role: Role | str = Role.CLERK) -> StaffUser:
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
        created_at=clock.now(),
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


def record_logout(user: StaffUser, *, now: datetime) -> None:
    with transaction():
        audit.record("staff.logout", at=now, actor=user, obj=user)
