"""The Flask extensions, created unbound here and bound to the app in ``create_app``; and
``transaction()``, the one way the use-case modules wrap a change of ``db.session``."""

import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import has_request_context
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from visits.core.clients import requesting_client

# Stable constraint names, so migrations and error handling can refer to them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Every limit counts per client (an IPv6 client by its /64: visits.core.clients).
limiter = Limiter(key_func=requesting_client, default_limits=[])


def retry_after() -> str:
    """Seconds until the rate limit this request hit resets (at least 1), for Retry-After."""
    current = limiter.current_limit if has_request_context() else None
    if current is None:
        return "60"
    return str(max(1, int(current.reset_at - time.time())))


@contextmanager
def transaction() -> Iterator[None]:
    """Commit on success, roll back on anything else (so nothing half-written remains)."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
