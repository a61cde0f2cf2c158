"""The durable audit: refusals can't flood it, and it leaves as JSON lines a SIEM ingests.

Through the real case service on both stores (SQLite and Redis), and `frontdoor audit export`
as a real process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.audit import REFUSALS_PER_MINUTE, record_audit
from bot.cases import CaseService
from bot.deployment import Directory, load_deployment
from bot.errors import CaseNotFoundError
from bot.messages import Person, Place
from bot.records import AuditRecord
from bot.store.base import Store
from tests.conftest import Backend
from tests.test_customer_informed import draft

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = Directory(load_deployment(ROOT / "examples" / "frontdoor.toml"))
AT = datetime(2026, 12, 7, 15, 0, 5, tzinfo=UTC)


def person(pid: str) -> Person:
    found = DIRECTORY.person(pid)
    assert found is not None
    return found


async def test_a_flood_of_refusals_keeps_who_resolved_the_case(store: Store) -> None:
    """10,000 refused requests used to push every real entry out of Redis's capped list; now
    a person's refusals beyond 10 a minute are counted, not written."""
    service = CaseService(store, DIRECTORY)
    case = await service.open_case(person("alice"), draft(), Place("web", "web:alice"), AT)
    await service.act(person("ana"), case.id, "resolve", AT, text="restarted the gateway")
    for n in range(500):
        with pytest.raises(CaseNotFoundError):
            await service.act(person("gabriela"), case.id, "close", AT + timedelta(
                milliseconds=n))

    entries = await store.audit_entries(limit=10_000)
    mine = [e for e in entries if e.actor == "gabriela"]
    refusals = [e for e in mine if e.action == "close"]
    counts = [e.suppressed for e in mine if e.action == "refusals_suppressed"]
    assert len(refusals) == REFUSALS_PER_MINUTE
    assert sorted(counts) == [1, 10, 100]
    assert all(not e.allowed for e in mine)
    resolved = [e for e in await store.audit_entries(case.id) if e.action == "resolve"]
    assert [(e.actor, e.allowed) for e in resolved] == [("ana", True)]

    # a new minute: the person's refusals are written again
    later = AT + timedelta(minutes=1)
    with pytest.raises(CaseNotFoundError):
        await service.act(person("gabriela"), case.id, "close", later)
    assert (await store.audit_entries(limit=1))[0].at == later


async def test_allowed_entries_are_never_rate_limited(store: Store) -> None:
    for n in range(3 * REFUSALS_PER_MINUTE):
        entry = AuditRecord(at=AT, actor="ana", role="engineer", action="view",
                            allowed=True, detail=str(n))
        assert await record_audit(store, entry) is not None
    assert len(await store.audit_entries(limit=100)) == 3 * REFUSALS_PER_MINUTE


def test_audit_export_writes_json_lines_since_an_instant(backend: Backend,
                                                          tmp_path: Path) -> None:
    """`frontdoor audit export --since …`: one JSON object a line, every field present, the
    instant in UTC, oldest first; the export itself is audited."""
    import asyncio

    async def seed() -> None:
        store = backend.build()
        await store.open()
        try:
            for minute, action in enumerate(["file", "acknowledge", "resolve"]):
                await store.append_audit(AuditRecord(
                    at=AT + timedelta(minutes=minute), actor="ana", role="engineer",
                    action=action, allowed=True, case_id="ACME-1", customer_id="acme"))
        finally:
            await store.close()

    asyncio.run(seed())
    env = {**os.environ, **_store_env(backend, tmp_path)}
    out = tmp_path / "audit.jsonl"
    since = (AT + timedelta(minutes=1)).astimezone(
        __import__("zoneinfo").ZoneInfo("America/New_York")).isoformat()
    done = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "audit", "export", "--since", since,
         "--output", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["action"] for line in lines] == ["acknowledge", "resolve"]
    assert lines[0] == {
        "seq": 2, "at": "2026-12-07T15:01:05Z", "source": "frontdoor", "actor": "ana",
        "role": "engineer", "action": "acknowledge", "allowed": True, "case_id": "ACME-1",
        "customer_id": "acme", "detail": "", "suppressed": 0}
    assert json.loads(done.stdout) == {"exported": 2, "output": str(out), "since": since}

    bad = subprocess.run([sys.executable, "-m", "adapters.cli", "audit", "export", "--since",
                          "2026-12-07T15:00:00"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode == 2 and "--since" in bad.stderr and "Traceback" not in bad.stderr

    async def exports() -> list[str]:
        store = backend.build()
        await store.open()
        try:
            return [e.action for e in await store.audit_entries(limit=1)]
        finally:
            await store.close()

    assert asyncio.run(exports()) == ["audit_export"]


def _store_env(backend: Backend, tmp_path: Path) -> dict[str, str]:
    if backend.kind == "sqlite":
        return {"FRONTDOOR_DB": backend.location, "REDIS_URL": ""}
    return {"REDIS_URL": backend.location, "FRONTDOOR_REDIS_PREFIX": backend.prefix,
            "FRONTDOOR_DB": str(tmp_path / "unused.db")}
