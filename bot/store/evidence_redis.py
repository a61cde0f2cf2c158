"""`EvidenceStore` on Redis, mixed into RedisStore.

    P sw                    hash: service window id → ServiceWindowRecord JSON (few: read whole)
    P pr:<dep>:<yyyymmdd>:m bitmap: bit n set when a probe result exists for minute n of that
    P pr:<dep>:<yyyymmdd>:u UTC day, and bit n of `u` when it was up — 2 × 180 bytes a day
    P bl:<audience>         zset: BulletinRecord JSON scored by its instant (microseconds)
    P blid                  hash: bulletin id → 1 (once-only), written in the same script

Probe bitmaps expire after PROBE_DAYS: reports need the months before, not for ever.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
from redis.client import NEVER_DECODE
from redis.commands.core import AsyncScript

from bot.evidence_records import BulletinRecord, ProbeResult, ServiceWindowRecord
from bot.store._codec import epoch_micros, from_epoch_micros, parse
from bot.store.evidence import HISTORY_BATCH, CaseHistory, load_cases_many, load_events_many

PROBE_DAYS = 400
_ADD_BULLETIN = """
if redis.call('HSETNX', KEYS[1], ARGV[1], '1') == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""


class RedisEvidence:
    """The evidence keys and the bulk case reader (see EvidenceStore)."""

    if TYPE_CHECKING:
        _list_cases: AsyncScript | None

        def _client(self) -> aioredis.Redis: ...

        def _script(self, script: AsyncScript | None) -> AsyncScript: ...

        def _key(self, *parts: str) -> str: ...

        def _case_list(self, case_id: str) -> str: ...

        def _errors(self, what: str) -> AbstractAsyncContextManager[None]: ...

    async def case_histories(
        self, customer_ids: Iterable[str] | None, created_since: datetime
    ) -> AsyncIterator[list[CaseHistory]]:
        customers = [] if customer_ids is None else sorted(set(customer_ids))
        if customer_ids is not None and not customers:
            return
        since = epoch_micros(created_since, "created_since")
        async with self._errors("list cases for a report"):
            every = await self._script(self._list_cases)(
                args=[self._key(""), "0", *customers])
            still_open = await self._script(self._list_cases)(
                args=[self._key(""), "1", *customers])
        scores = {str(every[i]): float(every[i + 1]) for i in range(0, len(every), 2)}
        wanted = {cid for cid, score in scores.items() if score >= since}
        wanted |= {str(still_open[i]) for i in range(0, len(still_open), 2)}
        ids = sorted(wanted, key=lambda cid: (scores.get(cid, 0.0), cid))
        chunks = [ids[i:i + HISTORY_BATCH] for i in range(0, len(ids), HISTORY_BATCH)]
        # The next batch travels while this one is worked.
        pending = asyncio.ensure_future(self._history_lists(chunks[0])) if chunks else None
        try:
            for n, chunk in enumerate(chunks):
                assert pending is not None
                lists = await pending
                pending = asyncio.ensure_future(self._history_lists(chunks[n + 1])) \
                    if n + 1 < len(chunks) else None
                batch: list[CaseHistory] = []
                present = [(case_id, items) for case_id, items in zip(chunk, lists, strict=True)
                           if items]
                records = load_cases_many([items[0] for _, items in present])
                for (case_id, items), case in zip(present, records, strict=True):
                    if customer_ids is None or case.customer_id in customers:
                        batch.append((case, load_events_many(items[1:], case_id)))
                if batch:
                    yield batch
        finally:
            if pending is not None:
                pending.cancel()

    async def _history_lists(self, chunk: list[str]) -> list[list[bytes]]:
        async with self._errors("read cases for a report"):
            pipe = self._client().pipeline(transaction=False)
            for case_id in chunk:
                pipe.execute_command("LRANGE", self._case_list(case_id), 3, -1,
                                     **{NEVER_DECODE: True})
            lists: list[list[bytes]] = await pipe.execute()
        return lists

    async def first_case_at(self) -> datetime | None:
        """Each customer's lowest-numbered case (the first bucket of its index) is its oldest:
        a few small reads, whatever the number of cases."""
        client = self._client()
        async with self._errors("find the first case"):
            customers = sorted(str(c) for c in await client.smembers(self._key("customers")))
            pipe = client.pipeline(transaction=False)
            for customer in customers:
                pipe.smembers(self._key("ixb", customer))
            buckets: list[set[str]] = await pipe.execute() if customers else []
            pipe = client.pipeline(transaction=False)
            for customer, found in zip(customers, buckets, strict=True):
                if found:
                    first = min(found, key=int)
                    pipe.zrange(self._key("ix", customer, first), 0, 0, withscores=True)
            firsts: list[list[tuple[str, float]]] = await pipe.execute()
        scores = [entries[0][1] for entries in firsts if entries]
        return from_epoch_micros(str(int(min(scores)))) if scores else None

    async def put_service_window(self, window: ServiceWindowRecord) -> None:
        epoch_micros(window.ends_at, "ends_at")
        async with self._errors(f"keep service window {window.id}"):
            await self._client().hset(self._key("sw"), window.id,
                                      window.model_dump_json())

    async def service_windows(
        self, customer_ids: Iterable[str] | None = None, ending_after: datetime | None = None
    ) -> list[ServiceWindowRecord]:
        customers = None if customer_ids is None else set(customer_ids)
        async with self._errors("list service windows"):
            raw = await self._client().hvals(self._key("sw"))
        windows = [parse(ServiceWindowRecord, data) for data in raw]
        return sorted((w for w in windows
                       if (customers is None or w.customer_id in customers)
                       and (ending_after is None or w.ends_at > ending_after)),
                      key=lambda w: (w.starts_at, w.id))

    def _probe_keys(self, deployment: str, day: datetime) -> tuple[str, str]:
        base = self._key("pr", deployment, f"{day:%Y%m%d}")
        return f"{base}:m", f"{base}:u"

    async def record_probes(self, deployment: str, results: Iterable[ProbeResult]) -> None:
        pending = list(results)
        if not pending:
            return
        async with self._errors("keep probe results"):
            pipe = self._client().pipeline(transaction=False)
            touched: set[tuple[str, str]] = set()
            for result in pending:
                epoch_micros(result.at, "at")
                at = result.at.astimezone(UTC)
                measured, up = self._probe_keys(deployment, at)
                bit = at.hour * 60 + at.minute
                pipe.setbit(measured, bit, 1)
                pipe.setbit(up, bit, 1 if result.up else 0)
                touched.add((measured, up))
            for keys in touched:
                for key in keys:
                    pipe.expire(key, PROBE_DAYS * 86_400)
            await pipe.execute()

    async def probe_results(
        self, deployment: str, since: datetime, until: datetime
    ) -> list[ProbeResult]:
        lo, hi = since.astimezone(UTC), until.astimezone(UTC)
        days: list[datetime] = []
        day = lo.replace(hour=0, minute=0, second=0, microsecond=0)
        while day < hi:
            days.append(day)
            day += timedelta(days=1)
        async with self._errors("read probe results"):
            pipe = self._client().pipeline(transaction=False)
            for d in days:
                for key in self._probe_keys(deployment, d):
                    pipe.execute_command("GET", key, **{NEVER_DECODE: True})
            blobs: list[bytes | None] = await pipe.execute() if days else []
        out: list[ProbeResult] = []
        for n, d in enumerate(days):
            measured, up = blobs[2 * n] or b"", blobs[2 * n + 1] or b""
            for byte_index, byte in enumerate(measured):
                if not byte:
                    continue
                for bit in range(8):
                    if byte & (0x80 >> bit):
                        minute = byte_index * 8 + bit
                        at = d + timedelta(minutes=minute)
                        if lo <= at < hi:
                            ok = byte_index < len(up) and bool(up[byte_index] & (0x80 >> bit))
                            out.append(ProbeResult(at=at, up=ok))
        return out

    async def add_bulletin(self, bulletin: BulletinRecord) -> bool:
        score = epoch_micros(bulletin.at, "at")
        script = self._client().register_script(_ADD_BULLETIN)
        async with self._errors(f"keep bulletin {bulletin.id}"):
            added = await script(keys=[self._key("blid"), self._key("bl", bulletin.audience)],
                                 args=[bulletin.id, score, bulletin.model_dump_json()])
        return bool(added)

    async def bulletins(
        self, audiences: Iterable[str], since: datetime | None = None, limit: int = 200
    ) -> list[BulletinRecord]:
        wanted = sorted(set(audiences))
        if not wanted or limit <= 0:
            return []
        low = f"({epoch_micros(since, 'since')}" if since else "-inf"
        async with self._errors("read bulletins"):
            pipe = self._client().pipeline(transaction=False)
            for audience in wanted:
                pipe.zrevrangebyscore(self._key("bl", audience), "+inf", low, start=0,
                                      num=limit)
            found: list[list[str]] = await pipe.execute()
        records = [parse(BulletinRecord, data) for chunk in found for data in chunk]
        records.sort(key=lambda b: b.at)
        return records[-limit:]
