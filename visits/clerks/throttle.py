"""Throttling the staff login: every try is counted before the password is looked at.

A try counts for the client's address (``visits.core.clients``: an IPv6 client by its /64)
against ``RATELIMIT_LOGIN``, and for the account tried against ``RATELIMIT_LOGIN_ACCOUNT``, so neither one address nor many addresses can guess on. When
either is used up the login is refused without checking the password: the same answer
whether the account exists or not, and the right password does not help either. The owner
of a locked account gets in when the window has passed or after an admin's reset, which
calls ``forget_account``.

The count must be shared by every worker and instance and must not be raced: with
``REDIS_URL`` the ``limits`` library counts in Redis (each hit is one atomic step there);
without it each try is a row in ``login_attempt``, committed first and counted after, so
of n parallel tries the k-th to commit sees at least k, so at most the limit get through."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import delete, func, select

from visits import settings
from visits.core.clients import client_key
from visits.extensions import db, transaction
from visits.models import LoginAttempt

ADDRESS = "address"
ACCOUNT = "account"
NAMESPACE = "visits-login"


def account_subject(email: str) -> str:
    """The account tried, as ``accounts.by_email`` finds it (case and spaces do not matter)."""
    return email.strip().lower()[:254]


def allow_login(email: str, ip: str | None, *, now: datetime) -> bool:
    """Count this try for its address and its account; False when either limit is reached
    (then the password must not be checked)."""
    config = settings.current()
    if not config.ratelimit_enabled:
        return True
    tries = [
        (ADDRESS, client_key(ip), parse_many(config.ratelimit_login)),
        (ACCOUNT, account_subject(email), parse_many(config.ratelimit_login_account)),
    ]
    if config.redis_url:
        limiter = _redis_limiter(config.redis_url)
        # Every item is hit (no short cut): a refused try still counts where it can.
        results = [limiter.hit(item, NAMESPACE, scope, subject) for scope, subject, items in tries for item in items]
        return all(results)
    return _allow_in_database(tries, now=now)


def forget_account(email: str) -> None:
    """Clear the account's count (an admin reset the password: the owner may log in now).
    The addresses' counts stay: they belong to whoever tried from there."""
    config = settings.current()
    subject = account_subject(email)
    if config.redis_url:
        limiter = _redis_limiter(config.redis_url)
        for item in parse_many(config.ratelimit_login_account):
            limiter.clear(item, NAMESPACE, ACCOUNT, subject)
    with transaction():
        db.session.execute(
            delete(LoginAttempt).where(LoginAttempt.scope == ACCOUNT, LoginAttempt.subject == subject)
        )


def _allow_in_database(tries: list[tuple[str, str, list[RateLimitItem]]], *, now: datetime) -> bool:
    with transaction():
        for scope, subject, items in tries:
            # Rows older than the longest window count for nothing any more.
            oldest = now - max((_window(item) for item in items), default=timedelta(0))
            db.session.execute(
                delete(LoginAttempt).where(
                    LoginAttempt.scope == scope, LoginAttempt.subject == subject, LoginAttempt.at < oldest
                )
            )
            db.session.add(LoginAttempt(scope=scope, subject=subject, at=now))
    allowed = True
    for scope, subject, items in tries:
        for item in items:
            # Every committed try in the window, this one included: a try committed while
            # this one counts may refuse both, never let both through.
            counted = db.session.scalar(
                select(func.count(LoginAttempt.id)).where(
                    LoginAttempt.scope == scope,
                    LoginAttempt.subject == subject,
                    LoginAttempt.at > now - _window(item),
                )
            )
            allowed = allowed and (counted or 0) <= item.amount
    db.session.rollback()  # end the read, so the next write starts a transaction of its own
    return allowed


def _window(item: RateLimitItem) -> timedelta:
    return timedelta(seconds=item.get_expiry())


@cache
def _redis_limiter(url: str) -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(storage_from_string(url))
