"""The store's part for SLA evidence: reading many cases with their histories at once (reports),
announced service windows, health-probe results and bulletins. Both backends implement it in
their own module (evidence_sqlite, evidence_redis), mixed into the store class."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Protocol

from bot.evidence_records import BulletinRecord, ProbeResult, ServiceWindowRecord
from bot.records import CaseEventRecord, CaseRecord

CaseHistory = tuple[CaseRecord, list[CaseEventRecord]]
HISTORY_BATCH = 500  # cases read per round trip


class EvidenceStore(Protocol):
    def case_histories(
        self, customer_ids: Iterable[str] | None, created_since: datetime
    ) -> AsyncIterator[list[CaseHistory]]:
        """The cases of these customers (all when None) created at or after `created_since`,
        and those still open whenever they were created, each with its history in order —
        in batches, so a report over many cases never holds them all."""

    async def first_case_at(self) -> datetime | None:
        """When the oldest case was created (None: no case yet): months before it have
        nothing to report."""

    async def put_service_window(self, window: ServiceWindowRecord) -> None:
        """Keep (or replace, by id) an announced service window."""

    async def service_windows(
        self, customer_ids: Iterable[str] | None = None, ending_after: datetime | None = None
    ) -> list[ServiceWindowRecord]:
        """Windows of these customers (all when None) that end after `ending_after` (all
        when None), cancelled ones included, by start."""

    async def record_probes(self, deployment: str, results: Iterable[ProbeResult]) -> None:
        """Keep probe results of a deployment (`customer/deployment`), one per minute."""

    async def probe_results(
        self, deployment: str, since: datetime, until: datetime
    ) -> list[ProbeResult]:
        """The deployment's probe results in [since, until), oldest first."""

    async def add_bulletin(self, bulletin: BulletinRecord) -> bool:
        """Keep a bulletin; False (and nothing changes) when its id was kept before."""

    async def bulletins(
        self, audiences: Iterable[str], since: datetime | None = None, limit: int = 200
    ) -> list[BulletinRecord]:
        """The newest bulletins for these audiences after `since`, oldest first."""
