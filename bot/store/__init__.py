"""Where cases and conversation state live: pick the backend from the settings.

Redis when a URL is configured (several workers share it), else the embedded SQLite file.
Backends are imported lazily so a SQLite deployment never needs a Redis client, and back.
"""

from __future__ import annotations

from pathlib import Path

from bot.store.base import Store

__all__ = ["Store", "open_store"]


def open_store(redis_url: str | None, sqlite_path: str | Path, redis_prefix: str = "fd:", *,
               sqlite_synchronous: str = "NORMAL") -> Store:
    """The configured store, not yet opened (call `await store.open()`)."""
    if redis_url:
        from bot.store.redis import RedisStore

        return RedisStore(redis_url, prefix=redis_prefix)
    from bot.store.sqlite import SqliteStore

    return SqliteStore(sqlite_path, synchronous=sqlite_synchronous)
