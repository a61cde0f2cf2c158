"""The one store protocol every backend implements (SQLite embedded, Redis for many workers).

Writes that can race take the version the caller read and fail with `StaleWriteError` if
the record moved on; callers reload, re-apply and retry (bot.cases does), so no update is
ever silently lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.records import (
    AttachmentRecord,
    AuditRecord,
    AuthorisedUser,
    CaseEventRecord,
    CaseRecord,
    OutboxItem,
)
from bot.store.evidence import EvidenceStore


class Store(EvidenceStore, Protocol):
    async def open(self) -> None:
        """Connect and create what is missing (tables, scripts). Idempotent."""

    async def close(self) -> None: ...

    # -- conversations (intake state per person and place) ----------------------------------------

    async def load_conversation(self, key: str) -> tuple[dict[str, Any] | None, int]:
        """The saved state and its version; (None, 0) when there is none."""

    async def save_conversation(
        self, key: str, state: dict[str, Any] | None, expected_version: int
    ) -> int:
        """Write (or with None, delete) the state if its version is still `expected_version`;
        returns the new version. Raises StaleWriteError otherwise."""

    async def conversations_ending(self, suffix: str) -> list[tuple[str, dict[str, Any], int]]:
        """(key, state, version) of every conversation whose key ends with `suffix` — a
        person's, for export, erasure and retention (a scan: operators' work, not a hot
        path)."""

    # -- cases ------------------------------------------------------------------------------------

    async def next_case_number(self, customer_id: str) -> int:
        """1, 2, 3 … per customer, atomically, never reused."""

    async def create_case(self, case: CaseRecord, events: Iterable[CaseEventRecord]) -> CaseRecord:
        """Store a new case (version becomes 1) with its first events. Raises StoreError if
        the id exists."""

    async def get_case(self, case_id: str) -> CaseRecord | None: ...

    async def update_case(
        self, case: CaseRecord, expected_version: int, events: Iterable[CaseEventRecord]
    ) -> CaseRecord:
        """Replace the case and append events atomically if the stored version is still
        `expected_version`; returns the case with its new version. Raises StaleWriteError."""

    async def case_events(self, case_id: str) -> list[CaseEventRecord]:
        """The case's history in order (seq 1, 2, …)."""

    async def rewrite_case(
        self, case: CaseRecord, expected_version: int, history: Sequence[CaseEventRecord],
        appended: Iterable[CaseEventRecord] = (),
    ) -> CaseRecord:
        """Replace the case and rewrite its history entry by entry (`history` is the whole
        stored history, seq 1…n, each entry kept at its seq), then append `appended` — all
        atomically if the stored version is still `expected_version`. Only for taking
        personal data out (retention, erasure): otherwise the history is append-only.
        Raises StaleWriteError, or StoreError when `history` isn't the stored one's shape."""

    async def list_cases(
        self, customer_ids: Iterable[str] | None = None, open_only: bool = True
    ) -> list[CaseRecord]:
        """Cases of these customers (all customers when None), newest first."""

    # -- audit, once-only keys, authorised users -------------------------------------------------

    async def append_audit(self, entry: AuditRecord) -> int:
        """Add an entry; returns its seq (1, 2, … in the order entries were added, never
        reused). The audit is never trimmed by count: bot/audit.py keeps refusals from
        flooding it, and retention takes personal data out of entries in place."""

    async def audit_entries(
        self, case_id: str | None = None, limit: int = 100
    ) -> list[AuditRecord]:
        """Newest first; only the case's entries when case_id is given."""

    async def audit_log(self, after: int = 0, limit: int = 1000) -> list[tuple[int, AuditRecord]]:
        """(seq, entry) of the entries after seq `after`, oldest first, at most `limit`: page
        through the whole audit (export, retention, erasure)."""

    async def replace_audit(self, seq: int, entry: AuditRecord) -> None:
        """Rewrite entry `seq` in place (its personal data taken out). Raises StoreError when
        there is no such entry."""

    async def count(self, key: str, ttl_seconds: int) -> int:
        """Add one to a counter every process shares and return its value (1 the first
        time); it is forgotten `ttl_seconds` after its first count."""

    async def claim_once(self, key: str, ttl_seconds: int) -> bool:
        """True the first time a key is claimed within its TTL (de-duplicating retried
        deliveries across workers), False after."""

    async def put_authorised_user(self, user: AuthorisedUser) -> None: ...

    async def remove_authorised_user(self, customer_id: str, user_id: str) -> bool: ...

    async def authorised_users(self, customer_id: str) -> list[AuthorisedUser]: ...

    # -- attachments (records of files on cases; retention deletes them) ----------------------

    async def add_attachment(self, attachment: AttachmentRecord) -> None:
        """Keep (or replace, by id) an attachment's record."""

    async def attachments(
        self, customer_id: str, case_id: str | None = None
    ) -> list[AttachmentRecord]:
        """The customer's attachment records (only the case's when case_id is given), oldest
        first."""

    async def remove_attachment(self, customer_id: str, attachment_id: str) -> bool:
        """Forget an attachment's record; False when there was none."""

    # -- outbox (durable delivery of posts to Slack/Teams) -------------------------------------

    async def enqueue_outbox(self, items: Iterable[OutboxItem]) -> int:
        """Add items; an item whose key was enqueued before (pending or delivered within the
        last 7 days) is ignored. Returns how many were added."""

    async def claim_outbox(
        self, now: datetime, limit: int, lease_seconds: float, worker: str
    ) -> list[OutboxItem]:
        """Lease up to `limit` items that are due (due_at <= now) and not leased by a live
        lease, oldest first — but never an item while an earlier item of the same case is
        still undelivered (per-case order). A lease that expires makes the item claimable
        again (the worker that held it died)."""

    async def complete_outbox(self, item_id: str, worker: str) -> None:
        """Delivered: remove the item (its key stays remembered for de-duplication)."""

    async def defer_outbox(
        self, item_id: str, worker: str, until: datetime, error: str,
        count_attempt: bool = True,
    ) -> None:
        """Not delivered this time: release the lease, retry at `until`, count the attempt
        (unless `count_attempt` is false: the item was not tried, e.g. left for a process
        that can deliver it)."""

    async def outbox_pending(self) -> int:
        """How many items wait (for health and metrics)."""

    # -- case timers (the scheduler: one entry per case, its next moment) ---------------------

    async def schedule_case(self, case_id: str, due_at: datetime | None) -> None:
        """Set when the case next needs the scheduler (None: never). Replaces the previous
        entry; an entry currently leased keeps its lease (the holder's release decides)."""

    async def claim_due_cases(
        self, now: datetime, limit: int, lease_seconds: float, worker: str
    ) -> list[tuple[str, datetime]]:
        """Lease up to `limit` cases whose moment is due (due_at <= now), earliest first, as
        (case id, due_at). A leased entry is not claimable until its lease expires (its
        worker died); cost must not grow with the number of scheduled cases."""

    async def release_case(
        self, case_id: str, worker: str, next_due: datetime | None
    ) -> None:
        """The holder is done with this case: schedule its next moment (None: remove). If the
        case was re-scheduled meanwhile (schedule_case while leased), keep the earlier of
        the two moments. Ignored when `worker` no longer holds the lease."""

    async def scheduled_cases(self) -> int:
        """How many cases have a moment scheduled (health, metrics, benchmarks)."""
