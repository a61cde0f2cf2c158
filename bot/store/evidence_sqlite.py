"""`EvidenceStore` on SQLite, mixed into SqliteStore: its tables are created on first use (in
one write, `IF NOT EXISTS`), so a database of an earlier version simply gains them. Probe
results are one row a minute (WITHOUT ROWID: about 30 bytes each)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import aiosqlite

from bot.evidence_records import BulletinRecord, ProbeResult, ServiceWindowRecord
from bot.records import OPEN_STATUSES, CaseEventRecord, CaseRecord
from bot.store._codec import epoch_micros, from_epoch_micros, parse
from bot.store.evidence import HISTORY_BATCH, CaseHistory, parse_many

_TABLES = """
CREATE TABLE IF NOT EXISTS service_windows (
    id           TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL,
    ends_at      INTEGER NOT NULL,  -- microseconds since the epoch
    data         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS service_windows_by_end ON service_windows (ends_at);
CREATE TABLE IF NOT EXISTS probe_results (
    deployment  TEXT NOT NULL,
    minute      INTEGER NOT NULL,  -- minutes since the epoch
    up          INTEGER NOT NULL,
    PRIMARY KEY (deployment, minute)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bulletins (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    id        TEXT NOT NULL UNIQUE,
    audience  TEXT NOT NULL,
    at        INTEGER NOT NULL,  -- microseconds since the epoch
    data      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS bulletins_by_audience ON bulletins (audience, at);
"""
_OPEN = sorted(OPEN_STATUSES)


class SqliteEvidence:
    """The evidence tables and the bulk case reader (see EvidenceStore)."""

    _evidence_tables = False

    if TYPE_CHECKING:
        def _write(self, what: str) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...

        async def _select(self, what: str, sql: str,
                          params: Sequence[Any] = ()) -> list[Any]: ...

    async def _evidence_ready(self) -> None:
        if self._evidence_tables:
            return
        async with self._write("create the evidence tables") as db:
            for statement in _TABLES.split(";"):
                if statement.strip():
                    await db.execute(statement)
        self._evidence_tables = True

    async def case_histories(
        self, customer_ids: Iterable[str] | None, created_since: datetime
    ) -> AsyncIterator[list[CaseHistory]]:
        where = ["(created_at >= ? OR status IN (" + ", ".join("?" * len(_OPEN)) + "))"]
        params: list[Any] = [epoch_micros(created_since, "created_since"), *_OPEN]
        if customer_ids is not None:
            customers = sorted(set(customer_ids))
            if not customers:
                return
            where.append(f"customer_id IN ({', '.join('?' * len(customers))})")
            params += customers
        rows = await self._select("list cases for a report",
                                  "SELECT id FROM cases WHERE " + " AND ".join(where)
                                  + " ORDER BY created_at, id", params)
        ids = [str(r[0]) for r in rows]
        chunks = [ids[i:i + HISTORY_BATCH] for i in range(0, len(ids), HISTORY_BATCH)]
        # The next batch is read (on aiosqlite's thread) while this one is worked.
        pending = asyncio.ensure_future(self._history_rows(chunks[0])) if chunks else None
        try:
            for n, chunk in enumerate(chunks):
                assert pending is not None
                cases, events = await pending
                pending = asyncio.ensure_future(self._history_rows(chunks[n + 1])) \
                    if n + 1 < len(chunks) else None
                history: dict[str, list[CaseEventRecord]] = {cid: [] for cid in chunk}
                for event in parse_many(CaseEventRecord, [data for _, data in events]):
                    history[event.case_id].append(event)
                by_id = {case.id: case for case in parse_many(CaseRecord,
                                                              [data for _, data in cases])}
                yield [(by_id[cid], history[cid]) for cid in chunk if cid in by_id]
        finally:
            if pending is not None:
                pending.cancel()

    async def _history_rows(self, chunk: list[str]) -> tuple[list[Any], list[Any]]:
        marks = ", ".join("?" * len(chunk))
        cases = await self._select("read cases for a report",
                                   f"SELECT id, data FROM cases WHERE id IN ({marks})", chunk)
        events = await self._select(
            "read case events for a report",
            f"SELECT case_id, data FROM case_events WHERE case_id IN ({marks})"
            " ORDER BY case_id, seq", chunk)
        return cases, events

    async def first_case_at(self) -> datetime | None:
        rows = await self._select("find the first case", "SELECT MIN(created_at) FROM cases")
        return from_epoch_micros(rows[0][0]) if rows and rows[0][0] is not None else None

    async def put_service_window(self, window: ServiceWindowRecord) -> None:
        await self._evidence_ready()
        async with self._write(f"keep service window {window.id}") as db:
            await db.execute(
                "INSERT INTO service_windows (id, customer_id, ends_at, data) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id,"
                " ends_at = excluded.ends_at, data = excluded.data",
                (window.id, window.customer_id, epoch_micros(window.ends_at, "ends_at"),
                 window.model_dump_json()))

    async def service_windows(
        self, customer_ids: Iterable[str] | None = None, ending_after: datetime | None = None
    ) -> list[ServiceWindowRecord]:
        await self._evidence_ready()
        where: list[str] = ["1 = 1"]
        params: list[Any] = []
        if customer_ids is not None:
            customers = sorted(set(customer_ids))
            if not customers:
                return []
            where.append(f"customer_id IN ({', '.join('?' * len(customers))})")
            params += customers
        if ending_after is not None:
            where.append("ends_at > ?")
            params.append(epoch_micros(ending_after, "ending_after"))
        rows = await self._select("list service windows", "SELECT data FROM service_windows"
                                  " WHERE " + " AND ".join(where), params)
        return sorted((parse(ServiceWindowRecord, r[0]) for r in rows),
                      key=lambda w: (w.starts_at, w.id))

    async def record_probes(self, deployment: str, results: Iterable[ProbeResult]) -> None:
        rows = [(deployment, _minute(r.at), 1 if r.up else 0) for r in results]
        if not rows:
            return
        await self._evidence_ready()
        async with self._write("keep probe results") as db:
            await db.executemany(
                "INSERT INTO probe_results (deployment, minute, up) VALUES (?, ?, ?)"
                " ON CONFLICT (deployment, minute) DO UPDATE SET up = excluded.up", rows)

    async def probe_results(
        self, deployment: str, since: datetime, until: datetime
    ) -> list[ProbeResult]:
        await self._evidence_ready()
        rows = await self._select(
            "read probe results",
            "SELECT minute, up FROM probe_results WHERE deployment = ? AND minute >= ?"
            " AND minute < ? ORDER BY minute",
            (deployment, _minute(since, up=True), _minute(until, up=True)))
        return [ProbeResult(at=datetime.fromtimestamp(int(m) * 60, UTC), up=bool(u))
                for m, u in rows]

    async def add_bulletin(self, bulletin: BulletinRecord) -> bool:
        await self._evidence_ready()
        async with self._write(f"keep bulletin {bulletin.id}") as db, db.execute(
                "INSERT OR IGNORE INTO bulletins (id, audience, at, data) VALUES (?, ?, ?, ?)",
                (bulletin.id, bulletin.audience, epoch_micros(bulletin.at, "at"),
                 bulletin.model_dump_json())) as cur:
            return cur.rowcount == 1

    async def bulletins(
        self, audiences: Iterable[str], since: datetime | None = None, limit: int = 200
    ) -> list[BulletinRecord]:
        wanted = sorted(set(audiences))
        if not wanted or limit <= 0:
            return []
        await self._evidence_ready()
        params: list[Any] = [*wanted, epoch_micros(since, "since") if since else -(2 ** 62),
                             limit]
        rows = await self._select(
            "read bulletins",
            f"SELECT data FROM bulletins WHERE audience IN ({', '.join('?' * len(wanted))})"
            " AND at > ? ORDER BY at DESC, seq DESC LIMIT ?", params)
        return [parse(BulletinRecord, r[0]) for r in reversed(rows)]


def _minute(at: datetime, up: bool = False) -> int:
    """Minutes since the epoch (`up`: a bound rounded up, so [since, until) stays exact)."""
    micros = epoch_micros(at, "at")
    minute, rest = divmod(micros, 60_000_000)
    return minute + (1 if up and rest else 0)
