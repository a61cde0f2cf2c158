"""Two `frontdoor serve` processes on one real Redis behave as one: concurrent messages on the
same conversation and concurrent updates to the same case lose nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.store.redis import RedisStore
from frontdoor_testkit.server_process import ServerProcess, case_id_of, past_any_offer, texts

pytestmark = pytest.mark.redis


@pytest.fixture
def pair(redis_url: str, redis_prefix: str, tmp_path: Path) -> Iterator[
        tuple[ServerProcess, ServerProcess]]:
    env = {"REDIS_URL": redis_url, "FRONTDOOR_REDIS_PREFIX": redis_prefix,
           "FRONTDOOR_DB": str(tmp_path / "unused.db")}
    a = ServerProcess(env, tmp_path / "a.log")
    try:
        b = ServerProcess(env, tmp_path / "b.log")
    except Exception:
        a.stop()
        raise
    yield a, b
    a.stop()
    b.stop()


def _state(redis_url: str, prefix: str, user: str) -> dict[str, object] | None:
    async def load() -> dict[str, object] | None:
        store = RedisStore(redis_url, prefix=prefix)
        await store.open()
        try:
            state, _ = await store.load_conversation(f"web:web:{user}:-:{user}")
            return state
        finally:
            await store.close()
    return asyncio.run(load())


def test_two_processes_share_cases_and_conversations(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    """A conversation started on one process continues on the other; both see the case."""
    a, b = pair
    a.say("adam", "hi")
    b.say("adam", choice="query")
    replies = a.say("adam", "Which retention setting keeps audit logs for seven years?")
    replies = b.say("adam", choice="confirm:open")
    case_id = case_id_of(replies)
    status, body = a.get("/chat/cases?user=ana")
    assert status == 200 and any(r["card"]["case_id"] == case_id for r in body["cases"])


def test_concurrent_messages_on_one_conversation_lose_nothing(
    pair: tuple[ServerProcess, ServerProcess], redis_url: str, redis_prefix: str,
) -> None:
    """Two messages racing through two processes: each applies to the state the other left
    (a stale write is retried on fresh state, never dropped or overwritten)."""
    a, b = pair
    for _ in range(6):
        a.say("alice", "cancel")
        a.say("alice", "hi")
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(a.say, "alice", "incident")
            second = pool.submit(b.say, "alice", "query")
            incident_replies, query_replies = first.result(), second.result()
        state = _state(redis_url, redis_prefix, "alice")
        assert state is not None
        took_incident = "Which best describes the impact?" in texts(incident_replies)
        took_query = "Describe the problem" in texts(query_replies)
        # Both apply, one after the other: the later one names another type, and a type named
        # in words is taken at any step. Neither write is lost: two answers, two snapshots.
        assert took_incident and took_query, (texts(incident_replies), texts(query_replies))
        assert state["case_type"] in {"incident", "query"}
        snapshots = state["snapshots"]
        assert isinstance(snapshots, list) and len(snapshots) == 2


def test_concurrent_updates_to_one_case_all_land(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    """Case updates use optimistic concurrency: 24 updates through two processes, 24 events."""
    a, b = pair
    a.say("adam", "hi")
    a.say("adam", choice="query")
    past_any_offer(a, "adam", a.say(
        "adam", "How do we rotate the signing keys without downtime for our tenants?"))
    case_id = case_id_of(a.say("adam", choice="confirm:open"))
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit((a if i % 2 else b).say, "ana", f"update {case_id} note {i}")
                   for i in range(24)]
        for future in futures:
            assert "Update on" in texts(future.result())
    _status, feed = a.get("/chat/feed?user=ana")
    notes = {item["text"].rsplit("note ", 1)[-1] for item in feed["items"]
             if item["case_id"] == case_id and "note " in item["text"]}
    assert notes == {str(i) for i in range(24)}
