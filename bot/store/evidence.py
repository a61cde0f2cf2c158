"""The store's part for SLA evidence: reading many cases with their histories at once (reports),
announced service windows, health-probe results and bulletins. Both backends implement it in
their own module (evidence_sqlite, evidence_redis), mixed into the store class."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from bot.evidence_records import BulletinRecord, ProbeResult, ServiceWindowRecord
from bot.records import CaseEventRecord, CaseRecord
from bot.store._codec import load_case, load_event, parse

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


R = TypeVar("R", bound=BaseModel)


@cache
def _list_of(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def parse_many(model: type[R], texts: Sequence[str]) -> list[R]:
    """Stored JSON records validated in one call (about twice as fast as one by one, for the
    reports' thousands); on any error each is parsed alone, so the bad one is named."""
    if not texts:
        return []
    try:
        return _list_of(model).validate_json("[" + ",".join(texts) + "]")
    except (ValidationError, ValueError):
        return [parse(model, text) for text in texts]


def load_cases_many(blobs: Sequence[bytes]) -> list[CaseRecord]:
    """Case records as Redis keeps them (zlib-compressed JSON, or plain), in one call."""
    try:
        texts = [(zlib.decompress(b) if not b.startswith(b"{") else b).decode() for b in blobs]
    except (zlib.error, UnicodeDecodeError):
        return [load_case(b) for b in blobs]
    return parse_many(CaseRecord, texts)


def load_events_many(items: Sequence[bytes], case_id: str) -> list[CaseEventRecord]:
    """A case list's events (stored without their case and seq) in one call: the case and seq
    go first in each object, so an event stored in full keeps its own."""
    head = f'{{"case_id":{_json_string(case_id)},"seq":'
    try:
        texts = [f"{head}{seq}," + item.decode()[1:] if item.strip() != b"{}" else
                 f"{head}{seq}}}" for seq, item in enumerate(items, 1)]
        return parse_many(CaseEventRecord, texts)
    except UnicodeDecodeError:
        return [load_event(item, case_id, seq) for seq, item in enumerate(items, 1)]


def _json_string(text: str) -> str:
    import json

    return json.dumps(text)
