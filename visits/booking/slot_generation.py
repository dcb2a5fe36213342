"""Where the slot cache's generation token is kept, so that every process sees a change at
once: in Redis (every instance that uses it) or in a file (the processes of one host).
The token and when it is replaced: visits/booking/slot_cache.py."""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

REDIS_KEY = "visits:slot-generation"


class RedisGeneration:
    """Shared by every instance that uses the same Redis."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    def current(self) -> str:
        value = self.client.get(REDIS_KEY)
        if value is None:  # a fresh Redis: start with a token nobody has used
            self.client.set(REDIS_KEY, secrets.token_hex(8), nx=True)
            value = self.client.get(REDIS_KEY)
        return value.decode()

    def bump(self) -> None:
        self.client.set(REDIS_KEY, secrets.token_hex(8))


class FileGeneration:
    """Shared by the processes of one host (gunicorn's workers, the scheduler)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def current(self) -> str:
        try:
            return self.path.read_text()
        except FileNotFoundError:
            self.bump()
            return self.path.read_text()

    def bump(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        scratch.write_text(secrets.token_hex(8))
        os.replace(scratch, self.path)  # atomic: a reader sees the old token or the new one
