"""The embedded default store: one SQLite file, safe for several connections and processes.

Why it is shaped like this:

- WAL journal so readers never block the writer; `synchronous=NORMAL` (the default), so a
  commit costs no fsync yet survives a crash of the process (only a power cut or an OS crash
  can lose the last commits; FRONTDOOR_SQLITE_SYNCHRONOUS=FULL closes that at an fsync a
  commit);
  a `busy_timeout` so a second connection, or a second process, waits for the write lock
  instead of failing.
- Every write runs in `BEGIN IMMEDIATE`: the write lock is taken up front, so the version
  check and the write can't be split by another connection (compare-and-set), and a
  transaction never has to upgrade a read lock (which in WAL fails with SQLITE_BUSY at once).
- aiosqlite runs one connection on one thread; two coroutines sharing it would share a
  transaction, so each store object serialises its own use of the connection with a lock.
- Records are pydantic JSON; the columns next to them exist only to index and to check.
  Instants used for ordering are integer microseconds since the epoch, so mixed UTC offsets
  still sort correctly.
- The outbox is one table in enqueue order (`seq`). Only the first pending item of a case
  (or an item without a case) is a "head", flagged in its row and found through a partial
  index by due time; a claim reads that index in (due_at, seq) order and passes over only
  heads whose lease is still live, so its cost does not grow with the items queued behind
  them. Completing a head deletes it and flags the case's next item. Delivered keys are
  remembered in their own table for 7 days (wall-clock time).
- Case timers are one row per scheduled case (`timers`). A row not leased is found through a
  partial index on its due time, so a claim reads the first due rows and stops: its cost
  does not grow with the cases scheduled later. A leased row leaves that index; its lease
  expiry has an index of its own, through which a claim also finds the (few) rows whose
  lease ran out. The holder stays recorded until the row is released or claimed again, so
  a late holder may still release it if nobody else took it. A `schedule_case` while a
  holder is recorded only notes `pending_due`; the release keeps the earlier moment.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from bot.errors import StaleWriteError, StoreError
from bot.records import (
    OPEN_STATUSES,
    AttachmentRecord,
    AuditRecord,
    AuthorisedUser,
    CaseEventRecord,
    CaseRecord,
    OutboxItem,
)
from bot.store._codec import (
    OUTBOX_DELIVERED_TTL_SECONDS,
    clean_error,
    dump_state,
    epoch_micros,
    from_epoch_micros,
    ignored_release,
    ignored_settlement,
    load_state,
    own_events,
    parse,
    rewritten_history,
    sorted_attachments,
)
from bot.store.evidence_sqlite import SqliteEvidence

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4  # 2: the outbox tables; 3: the case timers; 4: counters, attachments

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    key      TEXT PRIMARY KEY,
    state    TEXT NOT NULL,
    version  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS cases (
    id           TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,  -- microseconds since the epoch, for ordering only
    data         TEXT NOT NULL,     -- CaseRecord JSON, version included
    version      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS cases_by_customer ON cases (customer_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS cases_by_status ON cases (status, created_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS case_events (
    case_id  TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    data     TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS audit (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,  -- microseconds since the epoch
    case_id  TEXT,              -- no foreign key: refusals name cases that may not exist
    data     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_case ON audit (case_id, id DESC);
CREATE TABLE IF NOT EXISTS case_numbers (
    customer_id  TEXT PRIMARY KEY,
    last         INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS once_keys (
    key         TEXT PRIMARY KEY,
    expires_at  REAL NOT NULL  -- unix time
);
CREATE INDEX IF NOT EXISTS once_keys_by_expiry ON once_keys (expires_at);
CREATE TABLE IF NOT EXISTS authorised_users (
    customer_id  TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    data         TEXT NOT NULL,
    PRIMARY KEY (customer_id, user_id)
);
CREATE TABLE IF NOT EXISTS outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,  -- enqueue order, never reused
    id           TEXT NOT NULL UNIQUE,
    key          TEXT NOT NULL UNIQUE,
    case_id      TEXT,
    head         INTEGER NOT NULL,  -- 1: no earlier item of its case is pending
    due_at       INTEGER NOT NULL,  -- microseconds since the epoch
    lease_worker TEXT,              -- the last worker that claimed it, until deferred
    lease_until  INTEGER,           -- microseconds, NULL when not leased
    data         TEXT NOT NULL      -- OutboxItem JSON, attempts and last_error included
);
CREATE INDEX IF NOT EXISTS outbox_ready ON outbox (due_at, seq) WHERE head = 1;
CREATE INDEX IF NOT EXISTS outbox_by_case ON outbox (case_id, seq) WHERE case_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS outbox_delivered (
    key         TEXT PRIMARY KEY,
    expires_at  REAL NOT NULL  -- unix time
);
CREATE INDEX IF NOT EXISTS outbox_delivered_by_expiry ON outbox_delivered (expires_at);
CREATE TABLE IF NOT EXISTS timers (
    case_id      TEXT PRIMARY KEY,  -- no foreign key: the scheduler may outlive a case
    due_at       INTEGER NOT NULL,  -- microseconds since the epoch
    lease_owner  TEXT,              -- the worker that claimed it, until released
    lease_until  INTEGER,           -- microseconds, NULL exactly when lease_owner is
    pending_due  INTEGER            -- microseconds: scheduled while leased, NULL if none
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS timers_due ON timers (due_at, case_id) WHERE lease_owner IS NULL;
CREATE INDEX IF NOT EXISTS timers_leases ON timers (lease_until) WHERE lease_until IS NOT NULL;
CREATE TABLE IF NOT EXISTS counters (
    key         TEXT PRIMARY KEY,
    value       INTEGER NOT NULL,
    expires_at  REAL NOT NULL  -- unix time
);
CREATE INDEX IF NOT EXISTS counters_by_expiry ON counters (expires_at);
CREATE TABLE IF NOT EXISTS attachments (
    customer_id  TEXT NOT NULL,
    id           TEXT NOT NULL,
    case_id      TEXT NOT NULL,
    data         TEXT NOT NULL,     -- AttachmentRecord JSON
    PRIMARY KEY (customer_id, id)
);
"""

_OPEN = sorted(OPEN_STATUSES)


class SqliteStore(SqliteEvidence):
    """`Store` on one SQLite file (see the module docstring for the why)."""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 10_000,
                 synchronous: str = "NORMAL") -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise StoreError(f"SQLite synchronous must be NORMAL or FULL, not {synchronous!r}")
        self._path = Path(path)
        self._busy_timeout_ms = int(busy_timeout_ms)
        self._synchronous = synchronous
        self._db: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self._path)!r})"

    # -- lifecycle ----------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect, set the pragmas and create the schema. Idempotent."""
        if self._db is not None:
            return
        if not self._path.parent.is_dir():  # the usual mistake; say it plainly
            raise StoreError(
                f"cannot open the SQLite database at {self._path}:"
                f" the directory {self._path.parent} does not exist"
            )
        try:
            db = await aiosqlite.connect(self._path, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the SQLite database at {self._path}: {exc}") from exc
        try:
            # busy_timeout first: switching to WAL and creating tables may wait for another
            # process doing the same.
            await db.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
            async with db.execute("PRAGMA journal_mode = WAL") as cur:
                row = await cur.fetchone()
            if row is None or str(row[0]).lower() != "wal":
                log.warning("SQLite at %s is not in WAL mode (got %s)", self._path, row)
            await db.execute(f"PRAGMA synchronous = {self._synchronous}")
            await db.execute("PRAGMA foreign_keys = ON")
            await db.execute("BEGIN IMMEDIATE")
            try:
                async with db.execute("PRAGMA user_version") as cur:
                    found = await cur.fetchone()
                if found is not None and int(found[0]) > SCHEMA_VERSION:
                    raise StoreError(
                        f"the SQLite database at {self._path} has schema version {found[0]},"
                        f" newer than this Frontdoor's {SCHEMA_VERSION}: upgrade Frontdoor"
                    )
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                await db.commit()
            except BaseException:
                await db.rollback()
                raise
        except (sqlite3.Error, OSError) as exc:
            await db.close()
            raise StoreError(f"cannot prepare the SQLite database at {self._path}: {exc}") from exc
        except BaseException:
            await db.close()
            raise
        self._db = db
        log.info("SQLite store open at %s", self._path)

    async def close(self) -> None:
        """Close the connection; safe to call twice or before `open`."""
        db, self._db = self._db, None
        if db is not None:
            async with self._lock:
                await db.close()

    # -- plumbing -----------------------------------------------------------------------------

    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreError(f"the SQLite store at {self._path} is not open (call open() first)")
        return self._db

    @asynccontextmanager
    async def _write(self, what: str) -> AsyncIterator[aiosqlite.Connection]:
        """One `BEGIN IMMEDIATE` transaction on this store's connection, rolled back on error."""
        try:
            async with self._lock:
                db = self._conn()
                if db.in_transaction:  # left behind by a cancelled rollback
                    await db.rollback()
                await db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    await db.rollback()
                    raise
                await db.commit()
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite at {self._path} failed to {what}: {exc}") from exc

    async def _select(self, what: str, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Rows of one query, taken under the lock so it never reads another's open write."""
        try:
            async with self._lock, self._conn().execute(sql, params) as cur:
                return list(await cur.fetchall())
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite at {self._path} failed to {what}: {exc}") from exc

    # -- conversations ------------------------------------------------------------------------

    async def load_conversation(self, key: str) -> tuple[dict[str, Any] | None, int]:
        rows = await self._select(
            "load a conversation", "SELECT state, version FROM conversations WHERE key = ?", (key,)
        )
        if not rows:
            return None, 0
        return load_state(rows[0][0], key), int(rows[0][1])

    async def save_conversation(
        self, key: str, state: dict[str, Any] | None, expected_version: int
    ) -> int:
        async with self._write("save a conversation") as db:
            async with db.execute("SELECT version FROM conversations WHERE key = ?", (key,)) as cur:
                row = await cur.fetchone()
            current = int(row[0]) if row is not None else 0
            if current != expected_version:
                raise StaleWriteError(
                    f"conversation {key!r} is at version {current}, not {expected_version}"
                )
            if state is None:
                await db.execute("DELETE FROM conversations WHERE key = ?", (key,))
                return 0
            new_version = current + 1
            await db.execute(
                "INSERT INTO conversations (key, state, version) VALUES (?, ?, ?)"
                " ON CONFLICT (key)"
                " DO UPDATE SET state = excluded.state, version = excluded.version",
                (key, dump_state(state), new_version),
            )
            return new_version

    async def conversations_ending(self, suffix: str) -> list[tuple[str, dict[str, Any], int]]:
        if not suffix:
            raise ValueError("give the end of the conversation keys to find")
        rows = await self._select(
            "find conversations",
            "SELECT key, state, version FROM conversations WHERE substr(key, -?) = ?"
            " ORDER BY key", (len(suffix), suffix))
        return [(str(r[0]), load_state(r[1], str(r[0])), int(r[2])) for r in rows]

    # -- cases --------------------------------------------------------------------------------

    async def next_case_number(self, customer_id: str) -> int:
        async with self._write("allocate a case number") as db:
            await db.execute(
                "INSERT INTO case_numbers (customer_id, last) VALUES (?, 1)"
                " ON CONFLICT (customer_id) DO UPDATE SET last = last + 1",
                (customer_id,),
            )
            async with db.execute(
                "SELECT last FROM case_numbers WHERE customer_id = ?", (customer_id,)
            ) as cur:
                row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def create_case(self, case: CaseRecord, events: Iterable[CaseEventRecord]) -> CaseRecord:
        stored = case.model_copy(update={"version": 1})
        created = epoch_micros(case.created_at, "created_at")
        event_rows = _event_rows(case.id, events, first_seq=1)
        async with self._write(f"create case {case.id}") as db:
            try:
                await db.execute(
                    "INSERT INTO cases (id, customer_id, status, created_at, data, version)"
                    " VALUES (?, ?, ?, ?, ?, 1)",
                    (case.id, case.customer_id, case.status, created, stored.model_dump_json()),
                )
            except sqlite3.IntegrityError as exc:
                raise StoreError(f"case {case.id} already exists") from exc
            await db.executemany(
                "INSERT INTO case_events (case_id, seq, data) VALUES (?, ?, ?)", event_rows
            )
        return stored

    async def get_case(self, case_id: str) -> CaseRecord | None:
        rows = await self._select("read a case", "SELECT data FROM cases WHERE id = ?", (case_id,))
        return _case(rows[0][0]) if rows else None

    async def update_case(
        self, case: CaseRecord, expected_version: int, events: Iterable[CaseEventRecord]
    ) -> CaseRecord:
        stored = case.model_copy(update={"version": expected_version + 1})
        created = epoch_micros(case.created_at, "created_at")
        pending = own_events(case.id, events)
        async with self._write(f"update case {case.id}") as db:
            async with db.execute(
                "SELECT version, customer_id FROM cases WHERE id = ?", (case.id,)
            ) as cur:
                row = await cur.fetchone()
            if row is None:
                raise StoreError(f"case {case.id} does not exist (create it first)")
            if row[1] != case.customer_id:
                raise StoreError(
                    f"case {case.id} belongs to {row[1]!r}; a case never changes customer"
                )
            changed = await _changed(
                db,
                "UPDATE cases SET status = ?, created_at = ?, data = ?, version = version + 1"
                " WHERE id = ? AND version = ?",
                (case.status, created, stored.model_dump_json(), case.id, expected_version),
            )
            if changed != 1:
                raise StaleWriteError(
                    f"case {case.id} is at version {row[0]}, not {expected_version}"
                )
            async with db.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM case_events WHERE case_id = ?", (case.id,)
            ) as cur:
                last = await cur.fetchone()
            first_seq = int(last[0]) + 1 if last is not None else 1
            await db.executemany(
                "INSERT INTO case_events (case_id, seq, data) VALUES (?, ?, ?)",
                _event_rows(case.id, pending, first_seq=first_seq),
            )
        return stored

    async def rewrite_case(
        self, case: CaseRecord, expected_version: int, history: Sequence[CaseEventRecord],
        appended: Iterable[CaseEventRecord] = (),
    ) -> CaseRecord:
        stored = case.model_copy(update={"version": expected_version + 1})
        rows = rewritten_history(case.id, history)
        pending = own_events(case.id, appended)
        async with self._write(f"rewrite case {case.id}") as db:
            async with db.execute(
                "SELECT version, customer_id, (SELECT COUNT(*) FROM case_events"
                " WHERE case_id = ?) FROM cases WHERE id = ?", (case.id, case.id)
            ) as cur:
                row = await cur.fetchone()
            if row is None or row[1] != case.customer_id:
                raise StoreError(f"case {case.id} of {case.customer_id!r} does not exist")
            if int(row[0]) != expected_version:
                raise StaleWriteError(
                    f"case {case.id} is at version {row[0]}, not {expected_version}")
            if int(row[2]) != len(rows):
                raise StoreError(f"case {case.id} has {row[2]} events, not {len(rows)}: "
                                 "read its history again and rewrite all of it")
            await db.execute(
                "UPDATE cases SET status = ?, data = ?, version = ? WHERE id = ?",
                (case.status, stored.model_dump_json(), stored.version, case.id))
            await db.executemany(
                "UPDATE case_events SET data = ? WHERE case_id = ? AND seq = ?",
                [(event.model_dump_json(), case.id, event.seq) for event in rows])
            await db.executemany(
                "INSERT INTO case_events (case_id, seq, data) VALUES (?, ?, ?)",
                _event_rows(case.id, pending, first_seq=len(rows) + 1))
        return stored

    async def case_events(self, case_id: str) -> list[CaseEventRecord]:
        rows = await self._select(
            "read case events",
            "SELECT data FROM case_events WHERE case_id = ? ORDER BY seq",
            (case_id,),
        )
        return [parse(CaseEventRecord, r[0]) for r in rows]

    async def list_cases(
        self, customer_ids: Iterable[str] | None = None, open_only: bool = True
    ) -> list[CaseRecord]:
        where: list[str] = []
        params: list[Any] = []
        if customer_ids is not None:
            customers = sorted(set(customer_ids))
            if not customers:
                return []
            where.append(f"customer_id IN ({', '.join('?' * len(customers))})")
            params.extend(customers)
        if open_only:
            where.append(f"status IN ({', '.join('?' * len(_OPEN))})")
            params.extend(_OPEN)
        sql = "SELECT data FROM cases"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, id DESC"
        rows = await self._select("list cases", sql, params)
        return [_case(r[0]) for r in rows]

    # -- audit, once-only keys, authorised users ----------------------------------------------

    async def append_audit(self, entry: AuditRecord) -> int:
        at = epoch_micros(entry.at, "at")
        async with self._write("append an audit entry") as db, db.execute(
            "INSERT INTO audit (at, case_id, data) VALUES (?, ?, ?)",
            (at, entry.case_id, entry.model_dump_json()),
        ) as cur:
            seq = cur.lastrowid
        assert seq is not None
        return int(seq)

    async def audit_entries(
        self, case_id: str | None = None, limit: int = 100
    ) -> list[AuditRecord]:
        if limit <= 0:
            return []
        params: tuple[Any, ...]
        if case_id is None:
            sql, params = "SELECT data FROM audit ORDER BY id DESC LIMIT ?", (limit,)
        else:
            sql = "SELECT data FROM audit WHERE case_id = ? ORDER BY id DESC LIMIT ?"
            params = (case_id, limit)
        rows = await self._select("read audit entries", sql, params)
        return [parse(AuditRecord, r[0]) for r in rows]

    async def audit_log(self, after: int = 0, limit: int = 1000) -> list[tuple[int, AuditRecord]]:
        if limit <= 0:
            return []
        rows = await self._select(
            "read the audit log", "SELECT id, data FROM audit WHERE id > ? ORDER BY id LIMIT ?",
            (after, limit))
        return [(int(r[0]), parse(AuditRecord, r[1])) for r in rows]

    async def replace_audit(self, seq: int, entry: AuditRecord) -> None:
        at = epoch_micros(entry.at, "at")
        async with self._write(f"rewrite audit entry {seq}") as db:
            changed = await _changed(
                db, "UPDATE audit SET at = ?, case_id = ?, data = ? WHERE id = ?",
                (at, entry.case_id, entry.model_dump_json(), seq))
            if changed != 1:
                raise StoreError(f"there is no audit entry {seq}")

    async def count(self, key: str, ttl_seconds: int) -> int:
        if ttl_seconds < 1:
            raise ValueError(f"ttl_seconds must be at least 1, got {ttl_seconds}")
        now = time.time()
        async with self._write("count") as db:
            await db.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
            await db.execute(
                "INSERT INTO counters (key, value, expires_at) VALUES (?, 1, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = value + 1",
                (key, now + ttl_seconds))
            async with db.execute("SELECT value FROM counters WHERE key = ?", (key,)) as cur:
                row = await cur.fetchone()
        assert row is not None
        return int(row[0])

    async def claim_once(self, key: str, ttl_seconds: int) -> bool:
        if ttl_seconds < 1:
            raise ValueError(f"ttl_seconds must be at least 1, got {ttl_seconds}")
        now = time.time()
        async with self._write("claim a once-only key") as db:
            await db.execute("DELETE FROM once_keys WHERE expires_at <= ?", (now,))
            inserted = await _changed(
                db,
                "INSERT OR IGNORE INTO once_keys (key, expires_at) VALUES (?, ?)",
                (key, now + ttl_seconds),
            )
            return inserted == 1

    async def put_authorised_user(self, user: AuthorisedUser) -> None:
        async with self._write("store an authorised user") as db:
            await db.execute(
                "INSERT INTO authorised_users (customer_id, user_id, data) VALUES (?, ?, ?)"
                " ON CONFLICT (customer_id, user_id) DO UPDATE SET data = excluded.data",
                (user.customer_id, user.user_id, user.model_dump_json()),
            )

    async def remove_authorised_user(self, customer_id: str, user_id: str) -> bool:
        async with self._write("remove an authorised user") as db:
            removed = await _changed(
                db,
                "DELETE FROM authorised_users WHERE customer_id = ? AND user_id = ?",
                (customer_id, user_id),
            )
            return removed == 1

    async def authorised_users(self, customer_id: str) -> list[AuthorisedUser]:
        rows = await self._select(
            "list authorised users",
            "SELECT data FROM authorised_users WHERE customer_id = ? ORDER BY user_id",
            (customer_id,),
        )
        return [parse(AuthorisedUser, r[0]) for r in rows]

    # -- attachments --------------------------------------------------------------------------

    async def add_attachment(self, attachment: AttachmentRecord) -> None:
        epoch_micros(attachment.added_at, "added_at")
        async with self._write("keep an attachment record") as db:
            await db.execute(
                "INSERT INTO attachments (customer_id, id, case_id, data) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (customer_id, id) DO UPDATE SET case_id = excluded.case_id,"
                " data = excluded.data",
                (attachment.customer_id, attachment.id, attachment.case_id,
                 attachment.model_dump_json()))

    async def attachments(
        self, customer_id: str, case_id: str | None = None
    ) -> list[AttachmentRecord]:
        sql = "SELECT data FROM attachments WHERE customer_id = ?"
        params: list[Any] = [customer_id]
        if case_id is not None:
            sql += " AND case_id = ?"
            params.append(case_id)
        rows = await self._select("list attachments", sql, params)
        return sorted_attachments(parse(AttachmentRecord, r[0]) for r in rows)

    async def remove_attachment(self, customer_id: str, attachment_id: str) -> bool:
        async with self._write("forget an attachment record") as db:
            removed = await _changed(
                db, "DELETE FROM attachments WHERE customer_id = ? AND id = ?",
                (customer_id, attachment_id))
            return removed == 1

    # -- outbox -------------------------------------------------------------------------------

    async def enqueue_outbox(self, items: Iterable[OutboxItem]) -> int:
        rows = [
            (
                item,
                epoch_micros(item.due_at, "due_at"),
                epoch_micros(item.created_at, "created_at"),
            )
            for item in items
        ]
        if not rows:
            return 0
        now = time.time()
        added = 0
        async with self._write("enqueue outbox items") as db:
            await db.execute("DELETE FROM outbox_delivered WHERE expires_at <= ?", (now,))
            for item, due, _ in rows:
                async with db.execute(
                    "SELECT 1 FROM outbox WHERE key = ?"
                    " UNION ALL SELECT 1 FROM outbox_delivered WHERE key = ?",
                    (item.key, item.key),
                ) as cur:
                    if await cur.fetchone() is not None:
                        continue
                head = 1
                if item.case_id is not None:
                    async with db.execute(
                        "SELECT 1 FROM outbox WHERE case_id = ? LIMIT 1", (item.case_id,)
                    ) as cur:
                        head = 0 if await cur.fetchone() is not None else 1
                try:
                    await db.execute(
                        "INSERT INTO outbox (id, key, case_id, head, due_at, data)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (item.id, item.key, item.case_id, head, due, item.model_dump_json()),
                    )
                except sqlite3.IntegrityError as exc:
                    raise StoreError(
                        f"outbox item {item.id} already exists under another key;"
                        " nothing of this batch was enqueued"
                    ) from exc
                added += 1
        return added

    async def claim_outbox(
        self, now: datetime, limit: int, lease_seconds: float, worker: str
    ) -> list[OutboxItem]:
        window = _lease_window(now, limit, lease_seconds)
        if window is None:
            return []
        at, until = window
        async with self._write("claim outbox items") as db:
            async with db.execute(
                "SELECT seq, data FROM outbox"
                " WHERE head = 1 AND due_at <= ? AND (lease_until IS NULL OR lease_until <= ?)"
                " ORDER BY due_at, seq LIMIT ?",
                (at, at, limit),
            ) as cur:
                rows = list(await cur.fetchall())
            await db.executemany(
                "UPDATE outbox SET lease_worker = ?, lease_until = ? WHERE seq = ?",
                [(worker, until, row[0]) for row in rows],
            )
        return [parse(OutboxItem, row[1]) for row in rows]

    async def complete_outbox(self, item_id: str, worker: str) -> None:
        now = time.time()
        async with self._write(f"complete outbox item {item_id}") as db:
            async with db.execute(
                "SELECT seq, key, case_id, lease_worker FROM outbox WHERE id = ?", (item_id,)
            ) as cur:
                row = await cur.fetchone()
            if row is None or row[3] != worker:
                ignored_settlement(log, "complete", item_id, worker, row is not None,
                                   row and row[3])
                return
            seq, key, case_id = int(row[0]), str(row[1]), row[2]
            await db.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
            await db.execute(
                "INSERT INTO outbox_delivered (key, expires_at) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at",
                (key, now + OUTBOX_DELIVERED_TTL_SECONDS),
            )
            if case_id is not None:
                await db.execute(
                    "UPDATE outbox SET head = 1 WHERE seq ="
                    " (SELECT MIN(seq) FROM outbox WHERE case_id = ?)",
                    (case_id,),
                )

    async def defer_outbox(self, item_id: str, worker: str, until: datetime, error: str,
                           count_attempt: bool = True) -> None:
        due = epoch_micros(until, "until")
        async with self._write(f"defer outbox item {item_id}") as db:
            async with db.execute(
                "SELECT seq, lease_worker, data FROM outbox WHERE id = ?", (item_id,)
            ) as cur:
                row = await cur.fetchone()
            if row is None or row[1] != worker:
                ignored_settlement(log, "defer", item_id, worker, row is not None, row and row[1])
                return
            item = parse(OutboxItem, row[2])
            deferred = item.model_copy(
                update={
                    "due_at": until,
                    "attempts": item.attempts + (1 if count_attempt else 0),
                    "last_error": clean_error(error),
                }
            )
            await db.execute(
                "UPDATE outbox SET due_at = ?, lease_worker = NULL, lease_until = NULL, data = ?"
                " WHERE seq = ?",
                (due, deferred.model_dump_json(), int(row[0])),
            )

    async def outbox_pending(self) -> int:
        rows = await self._select("count outbox items", "SELECT COUNT(*) FROM outbox")
        return int(rows[0][0])

    # -- case timers --------------------------------------------------------------------------

    async def schedule_case(self, case_id: str, due_at: datetime | None) -> None:
        due = None if due_at is None else epoch_micros(due_at, "due_at")
        async with self._write(f"schedule case {case_id}") as db:
            async with db.execute(
                "SELECT lease_owner FROM timers WHERE case_id = ?", (case_id,)
            ) as cur:
                row = await cur.fetchone()
            if row is not None and row[0] is not None:
                # leased: the holder's release decides, keeping the earlier moment
                await db.execute(
                    "UPDATE timers SET pending_due = ? WHERE case_id = ?", (due, case_id)
                )
            elif due is None:
                await db.execute("DELETE FROM timers WHERE case_id = ?", (case_id,))
            else:
                await db.execute(
                    "INSERT INTO timers (case_id, due_at) VALUES (?, ?)"
                    " ON CONFLICT (case_id) DO UPDATE SET due_at = excluded.due_at",
                    (case_id, due),
                )

    async def claim_due_cases(
        self, now: datetime, limit: int, lease_seconds: float, worker: str
    ) -> list[tuple[str, datetime]]:
        window = _lease_window(now, limit, lease_seconds)
        if window is None:
            return []
        at, until = window
        async with self._write("claim due cases") as db:
            async with db.execute(
                "SELECT case_id, due_at FROM timers"
                " WHERE lease_owner IS NULL AND due_at <= ? ORDER BY due_at, case_id LIMIT ?",
                (at, limit),
            ) as cur:
                rows = [(str(r[0]), int(r[1])) for r in await cur.fetchall()]
            async with db.execute(  # leases that ran out: their holder died (or is late)
                "SELECT case_id, due_at FROM timers"
                " WHERE lease_until <= ? AND due_at <= ? ORDER BY lease_until LIMIT ?",
                (at, at, limit),
            ) as cur:
                rows += [(str(r[0]), int(r[1])) for r in await cur.fetchall()]
            rows.sort(key=lambda r: (r[1], r[0]))
            del rows[limit:]
            await db.executemany(
                "UPDATE timers SET lease_owner = ?, lease_until = ? WHERE case_id = ?",
                [(worker, until, case_id) for case_id, _ in rows],
            )
        return [(case_id, from_epoch_micros(due)) for case_id, due in rows]

    async def release_case(self, case_id: str, worker: str, next_due: datetime | None) -> None:
        due = None if next_due is None else epoch_micros(next_due, "next_due")
        async with self._write(f"release case {case_id}") as db:
            async with db.execute(
                "SELECT lease_owner, pending_due FROM timers WHERE case_id = ?", (case_id,)
            ) as cur:
                row = await cur.fetchone()
            if row is None or row[0] != worker:
                ignored_release(log, case_id, worker, None if row is None else row[0])
                return
            if row[1] is not None and (due is None or int(row[1]) < due):
                due = int(row[1])  # re-scheduled while leased, earlier: that moment wins
            if due is None:
                await db.execute("DELETE FROM timers WHERE case_id = ?", (case_id,))
            else:
                await db.execute(
                    "UPDATE timers SET due_at = ?, lease_owner = NULL, lease_until = NULL,"
                    " pending_due = NULL WHERE case_id = ?",
                    (due, case_id),
                )

    async def scheduled_cases(self) -> int:
        rows = await self._select("count scheduled cases", "SELECT COUNT(*) FROM timers")
        return int(rows[0][0])



async def _changed(db: aiosqlite.Connection, sql: str, params: Sequence[Any]) -> int:
    """Run one write and say how many rows it changed (the compare-and-set verdict)."""
    async with db.execute(sql, params) as cur:
        return cur.rowcount


def _event_rows(
    case_id: str, events: Iterable[CaseEventRecord], *, first_seq: int
) -> list[tuple[str, int, str]]:
    """(case_id, seq, JSON) rows numbered by the store, continuing the case's history."""
    return [
        (case_id, seq, event.model_copy(update={"seq": seq}).model_dump_json())
        for seq, event in enumerate(own_events(case_id, events), start=first_seq)
    ]


def _case(data: str) -> CaseRecord:
    return parse(CaseRecord, data)


def _lease_window(now: datetime, limit: int, lease_seconds: float) -> tuple[int, int] | None:
    """(now, lease end) in epoch µs for a claim; None when nothing is to be claimed."""
    if lease_seconds <= 0:
        raise ValueError(f"lease_seconds must be positive, got {lease_seconds}")
    if limit <= 0:
        return None
    return (epoch_micros(now, "now"),
            epoch_micros(now + timedelta(seconds=lease_seconds), "now"))
