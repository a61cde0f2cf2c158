"""Shared fixtures: a real Redis for the whole session, and a key prefix per test.

A Redis test is never silently skipped in CI: with CI set and no `redis-server` (and no
REDIS_URL) the Redis tests fail, loudly. On a laptop they skip and say how to install it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from bot.store import Store
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from frontdoor_testkit.redis_server import (
    free_port,
    require_redis_server,
    start_redis_server,
    stop_redis_server,
)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_URL if set, else a private redis-server on a free port for this session."""
    configured = os.environ.get("REDIS_URL")
    if configured:
        yield configured
        return
    require_redis_server()  # fails in CI, skips elsewhere, when it isn't installed
    last_error: Exception | None = None
    for _ in range(3):  # another process may grab the free port before redis-server binds it
        port = free_port()
        try:
            proc = start_redis_server(port, tmp_path_factory.mktemp("redis"))
        except RuntimeError as exc:
            last_error = exc
            continue
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            stop_redis_server(proc)
        return
    pytest.fail(f"could not start redis-server: {last_error}", pytrace=False)


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards (never FLUSHDB).

    Synchronous on purpose: it can be requested from any fixture, async or not."""
    prefix = f"fdtest:{uuid.uuid4().hex}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


# -- every store test runs against both backends ------------------------------------------

MakeStore = Callable[[], Awaitable[Store]]


@dataclass(frozen=True)
class Backend:
    """How to reach one backend: enough to build more stores on it, here or in a child."""

    kind: str
    location: str  # SQLite file path or Redis URL
    prefix: str = ""

    def build(self) -> Store:
        if self.kind == "sqlite":
            return SqliteStore(self.location)
        return RedisStore(self.location, prefix=self.prefix)


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", str(tmp_path / "frontdoor.db"))
    url: str = request.getfixturevalue("redis_url")
    prefix: str = request.getfixturevalue("redis_prefix")
    return Backend("redis", url, prefix)


@pytest.fixture
async def make_store(backend: Backend) -> AsyncIterator[MakeStore]:
    """Open another store on the same backend (another worker); all closed afterwards."""
    opened: list[Store] = []

    async def make() -> Store:
        store = backend.build()
        await store.open()
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


@pytest.fixture
async def store(make_store: MakeStore) -> Store:
    return await make_store()
