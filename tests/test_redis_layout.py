"""The Redis store's own layout: what a case costs (one key, compact indexes), and cases an
earlier layout wrote still load, move to the case lists, and keep their history and audit.

The behaviour every store shares is tests/test_store_contract.py; this is what only the
Redis key layout (bot/store/redis.py, "Case keys") promises.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis

from bot.records import CaseRecord
from bot.store._codec import dump_record, epoch_micros
from bot.store.redis import RedisStore
from tests.test_store_contract import T0, a_case, an_audit, an_event

pytestmark = pytest.mark.redis


async def _store(url: str, prefix: str) -> RedisStore:
    store = RedisStore(url, prefix)
    await store.open()
    return store


def _write_legacy_case(client: redis.Redis, p: str, case: CaseRecord, kinds: list[str]) -> None:
    """A case as the store before the case lists wrote it: a hash, an event list whose
    entries start with the seq, four index zsets, a per-case audit list."""
    client.hset(f"{p}case:{case.id}", mapping={
        "data": case.model_dump_json(), "version": case.version,
        "customer_id": case.customer_id, "status": case.status})
    for seq, kind in enumerate(kinds, 1):
        event = an_event(case.id, kind, T0 + timedelta(minutes=seq)).model_dump_json(
            exclude={"seq"})
        client.rpush(f"{p}events:{case.id}", f'{{"seq":{seq},' + event[1:])
    score = epoch_micros(case.created_at, "created_at")
    is_open = case.status not in ("resolved", "closed")
    for index in ["all", f"customer:{case.customer_id}"] + (
            ["open", f"customer-open:{case.customer_id}"] if is_open else []):
        client.zadd(f"{p}cases:{index}", {case.id: score})


async def test_cases_of_the_earlier_layout_load_move_and_keep_their_audit(
    redis_url: str, redis_prefix: str
) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    p = redis_prefix
    acme = a_case("acme", 1, version=3)
    closed = a_case("acme", 2, created_at=T0 + timedelta(hours=1), status="closed", version=5)
    globex = a_case("globex", 1, created_at=T0 + timedelta(hours=2), version=1)
    _write_legacy_case(client, p, acme, ["opened", "acknowledged"])
    _write_legacy_case(client, p, closed, ["opened", "resolved", "closed"])
    _write_legacy_case(client, p, globex, ["opened"])
    old, newer = an_audit("file", "ACME-1", 0), an_audit("acknowledge", "ACME-1", 1)
    client.lpush(f"{p}audit:case:ACME-1", old.model_dump_json(), newer.model_dump_json())
    client.lpush(f"{p}audit", newer.model_dump_json())  # `old` was trimmed off the global list

    store = await _store(redis_url, p)
    try:
        assert client.exists(f"{p}case:ACME-1", f"{p}events:ACME-1", f"{p}cases:all") == 0
        assert await store.get_case("ACME-1") == acme
        assert await store.get_case("ACME-2") == closed
        assert [(e.seq, e.kind) for e in await store.case_events("ACME-2")] == [
            (1, "opened"), (2, "resolved"), (3, "closed")]
        assert [c.id for c in await store.list_cases()] == ["GLOBEX-1", "ACME-1"]
        assert [c.id for c in await store.list_cases(["acme"], open_only=False)] == [
            "ACME-2", "ACME-1"]

        updated = await store.update_case(acme.model_copy(update={"status": "resolved"}), 3,
                                          [an_event("ACME-1", "resolved")])
        assert updated.version == 4 and await store.get_case("ACME-1") == updated
        assert [(e.seq, e.kind) for e in await store.case_events("ACME-1")] == [
            (1, "opened"), (2, "acknowledged"), (3, "resolved")]
        assert [c.id for c in await store.list_cases(["acme"])] == []

        await store.append_audit(an_audit("resolve", "ACME-1", 2))
        assert [e.action for e in await store.audit_entries("ACME-1")] == [
            "resolve", "acknowledge", "file"]
        assert [e.action for e in await store.audit_entries("ACME-1", limit=2)] == [
            "resolve", "acknowledge"]
    finally:
        await store.close()
        client.close()
    again = await _store(redis_url, p)  # a second open finds nothing left to move
    try:
        assert await again.get_case("ACME-1") == updated
    finally:
        await again.close()


async def test_an_unreadable_case_of_the_earlier_layout_is_left_and_the_rest_move(
    redis_url: str, redis_prefix: str
) -> None:
    """One corrupt record must not stop every process from starting: it stays as it was,
    listed for an operator, and the others move."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    p = redis_prefix
    good = a_case("acme", 1, version=2)
    _write_legacy_case(client, p, good, ["opened"])
    client.hset(f"{p}case:ACME-9", mapping={"data": "{not json", "version": 1,
                                            "customer_id": "acme", "status": "new"})
    client.zadd(f"{p}cases:all", {"ACME-9": 1})
    try:
        store = await _store(redis_url, p)
        try:
            assert await store.get_case("ACME-1") == good
            assert client.zrange(f"{p}cases:unmigrated", 0, -1) == ["ACME-9"]
            assert client.exists(f"{p}case:ACME-9") == 1 and client.exists(f"{p}cases:all") == 0
        finally:
            await store.close()
    finally:
        client.close()


async def test_a_case_is_one_key_and_its_indexes_stay_listpack_encoded(
    redis_url: str, redis_prefix: str
) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    p = redis_prefix
    store = await _store(redis_url, p)
    try:
        for n in range(1, 151):
            await store.create_case(a_case("acme", n, created_at=T0 + timedelta(minutes=n)),
                                    [an_event(f"ACME-{n}", "opened")])
        keys = set(client.scan_iter(match=f"{p}*", count=1000))
        assert {k for k in keys if k.startswith(f"{p}c:")} == {
            f"{p}c:ACME-{n}" for n in range(1, 151)}
        assert keys - {f"{p}c:ACME-{n}" for n in range(1, 151)} == {
            f"{p}ix:acme:0", f"{p}ix:acme:1", f"{p}ixo:acme:0", f"{p}ixo:acme:1",
            f"{p}ixb:acme", f"{p}ixob:acme", f"{p}customers"}
        assert client.zcard(f"{p}ix:acme:0") == 99 and client.zcard(f"{p}ix:acme:1") == 51
        for bucket in ("ix:acme:0", "ix:acme:1", "ixo:acme:0", "ixo:acme:1"):
            assert client.object("encoding", f"{p}{bucket}") == "listpack"

        for n in range(100, 151):  # close every case of bucket 1
            case = await store.get_case(f"ACME-{n}")
            assert case is not None
            await store.update_case(case.model_copy(update={"status": "closed"}), 1, [])
        assert client.exists(f"{p}ixo:acme:1") == 0
        assert client.smembers(f"{p}ixob:acme") == {"0"}
        listed = [c.id for c in await store.list_cases(["acme"], open_only=False)]
        assert listed == [f"ACME-{n}" for n in range(150, 0, -1)]
        assert [c.id for c in await store.list_cases()] == [f"ACME-{n}" for n in range(99, 0, -1)]
    finally:
        await store.close()
        client.close()


async def test_the_earlier_capped_audit_list_moves_into_the_log_oldest_first(
    redis_url: str, redis_prefix: str
) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    p = redis_prefix
    entries = [an_audit(f"act{n}", "ACME-1", n) for n in range(1_234)]
    for entry in entries:  # newest first, as the capped list kept them
        client.lpush(f"{p}audit", entry.model_dump_json())
    try:
        store = await _store(redis_url, p)
        try:
            assert client.exists(f"{p}audit") == 0
            assert [e for _, e in await store.audit_log(0, 2_000)] == entries
            assert await store.append_audit(an_audit("resolve", "ACME-1", 9_999)) == 1_235
            assert [e.action for e in await store.audit_entries("ACME-1", limit=2)] == [
                "resolve", "act1233"]
        finally:
            await store.close()
    finally:
        client.close()


async def test_an_audit_entry_costs_its_json_and_a_few_bytes(
    redis_url: str, redis_prefix: str
) -> None:
    """Never trimmed by count, so an entry must stay cheap: lists of 1,000 in Redis's compact
    encoding, not a key or a skiplist node per entry."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    store = await _store(redis_url, redis_prefix)
    try:
        entry = an_audit("acknowledge", "ACME-1", 1)
        for _ in range(1_000):
            await store.append_audit(entry)
        usage = client.memory_usage(f"{redis_prefix}audit:log:0", samples=0)
        assert usage is not None
        assert usage / 1_000 <= len(dump_record(entry)) + 24
    finally:
        await store.close()
        client.close()
