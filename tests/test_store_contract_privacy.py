"""The store contract, continued: what retention, erasure and the durable audit need from
every backend (SQLite and a real Redis, like tests/test_store_contract.py): an audit never
trimmed by count, paged and rewritten in place; shared counters; attachment records; a
case's history rewritten in place; a person's conversations found by their key."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.errors import StaleWriteError, StoreError
from bot.records import AttachmentRecord, AuditRecord
from bot.store import Store
from tests.conftest import MakeStore
from tests.test_store_contract import T0, a_case, an_audit, an_event

FLOOD = 10_050  # more than the 10,000 entries Redis's capped audit list used to keep


async def test_the_audit_is_never_trimmed_by_count(store: Store) -> None:
    resolved = AuditRecord(at=T0, actor="ana", role="engineer", action="resolve", allowed=True,
                           case_id="ACME-1", customer_id="acme", detail="fixed the gateway")
    assert await store.append_audit(resolved) == 1
    for n in range(1, FLOOD):
        await store.append_audit(an_audit("view", "GLBX-9", n))

    assert (await store.audit_log(0, 1)) == [(1, resolved)]
    assert await store.audit_entries("ACME-1") == [resolved]
    newest = await store.audit_entries(limit=3)
    assert [e.at for e in newest] == [T0 + timedelta(minutes=FLOOD - k) for k in (1, 2, 3)]
    seqs = []
    after = 0
    while page := await store.audit_log(after, 777):
        seqs += [seq for seq, _ in page]
        after = page[-1][0]
    assert seqs == list(range(1, FLOOD + 1))


async def test_audit_log_pages_oldest_first_and_rewrites_an_entry_in_place(store: Store) -> None:
    entries = [an_audit(f"act{n}", "ACME-1" if n % 2 else None, n) for n in range(1, 8)]
    seqs = [await store.append_audit(e) for e in entries]
    assert seqs == list(range(1, 8))
    assert await store.audit_log(0, 3) == list(zip(seqs[:3], entries[:3], strict=True))
    assert await store.audit_log(5, 100) == list(zip(seqs[5:], entries[5:], strict=True))
    assert await store.audit_log(7) == []
    assert await store.audit_log(0, 0) == []

    pseudonymous = entries[2].model_copy(update={"actor": "former-1a2b", "detail": ""})
    await store.replace_audit(3, pseudonymous)
    assert (await store.audit_log(2, 1)) == [(3, pseudonymous)]
    assert await store.audit_entries("ACME-1") == [entries[6], entries[4], pseudonymous,
                                                   entries[0]]
    with pytest.raises(StoreError, match="no audit entry 99"):
        await store.replace_audit(99, pseudonymous)


async def test_counters_are_shared_and_forgotten_after_their_time(
        make_store: MakeStore) -> None:
    a, b = await make_store(), await make_store()
    assert [await a.count("refusals:adam", 1) for _ in range(3)] == [1, 2, 3]
    assert await b.count("refusals:adam", 1) == 4
    assert await b.count("refusals:gabriela", 60) == 1
    counts = await asyncio.gather(*(s.count("race", 60) for s in [a, b] * 10))
    assert sorted(counts) == list(range(1, 21))
    await asyncio.sleep(1.3)
    assert await a.count("refusals:adam", 1) == 1
    assert await a.count("refusals:gabriela", 60) == 2


def _attachment(aid: str, case_id: str, minute: int, customer: str = "acme") -> AttachmentRecord:
    return AttachmentRecord(id=aid, case_id=case_id, customer_id=customer, name=f"{aid}.log",
                            size=1234, location=f"slack:F{aid}", added_by="alice",
                            added_at=T0 + timedelta(minutes=minute))


async def test_attachment_records_are_kept_listed_and_removed(store: Store) -> None:
    """The API a later attachments feature writes through, and retention deletes with."""
    assert await store.attachments("acme") == []
    late, early = _attachment("a2", "ACME-1", 5), _attachment("a1", "ACME-2", 1)
    await store.add_attachment(late)
    await store.add_attachment(early)
    await store.add_attachment(_attachment("g1", "GLBX-1", 0, customer="globex"))
    assert await store.attachments("acme") == [early, late]
    assert await store.attachments("acme", "ACME-1") == [late]
    renamed = late.model_copy(update={"name": "renamed.log"})
    await store.add_attachment(renamed)
    assert await store.attachments("acme", "ACME-1") == [renamed]

    assert await store.remove_attachment("acme", "a2") is True
    assert await store.remove_attachment("acme", "a2") is False
    assert await store.attachments("acme") == [early]
    assert [a.id for a in await store.attachments("globex")] == ["g1"]


async def test_a_cases_history_is_rewritten_in_place_atomically(store: Store) -> None:
    case = await store.create_case(a_case(), [an_event("ACME-1", "opened", reason="alice")])
    case = await store.update_case(case, 1, [an_event("ACME-1", "comment", reason="call me")])
    history = await store.case_events("ACME-1")
    redacted = [e.model_copy(update={"reason": None, "actor": "former-1"}) for e in history]
    note = an_event("ACME-1", "redacted", actor="frontdoor")

    with pytest.raises(StaleWriteError):
        await store.rewrite_case(case.model_copy(update={"description": ""}), 1, redacted)
    with pytest.raises(StoreError, match="2 events, not 1"):
        await store.rewrite_case(case, 2, redacted[:1])
    with pytest.raises(StoreError):
        await store.rewrite_case(case, 2, [redacted[1], redacted[0]])
    assert await store.case_events("ACME-1") == history

    stored = await store.rewrite_case(case.model_copy(update={"description": ""}), 2,
                                      redacted, [note])
    assert stored.version == 3 and await store.get_case("ACME-1") == stored
    events = await store.case_events("ACME-1")
    assert events[:2] == redacted
    assert (events[2].seq, events[2].kind) == (3, "redacted")
    assert [c.id for c in await store.list_cases(["acme"])] == ["ACME-1"]


async def test_a_persons_conversations_are_found_by_the_end_of_their_key(store: Store) -> None:
    await store.save_conversation("web:web:alice:-:alice", {"step": "describe"}, 0)
    await store.save_conversation("slack:C0ACME:1700.1:alice", {"step": "confirm"}, 0)
    await store.save_conversation("slack:C0ACME:1700.1:malice", {"step": "x"}, 0)
    await store.save_conversation("slack-card:ACME-1:engineers", {"ts": "1"}, 0)
    await store.save_conversation("web:*?[x]:-:st*r", {"step": "odd"}, 0)

    found = await store.conversations_ending(":alice")
    assert found == [("slack:C0ACME:1700.1:alice", {"step": "confirm"}, 1),
                     ("web:web:alice:-:alice", {"step": "describe"}, 1)]
    assert [k for k, _, _ in await store.conversations_ending(":st*r")] == ["web:*?[x]:-:st*r"]
    assert await store.conversations_ending(":nobody") == []
    with pytest.raises(ValueError):
        await store.conversations_ending("")


async def test_sqlites_fsync_policy_follows_the_setting(tmp_path: Path) -> None:
    """What a crash may cost is a setting (README: what each store keeps through a crash)."""
    from adapters.settings import Settings
    from bot.store.sqlite import SqliteStore

    for given, pragma in (("normal", 1), ("FULL", 2)):
        settings = Settings(frontdoor_db=tmp_path / f"{given}.db",
                            frontdoor_sqlite_synchronous=given, redis_url=None)
        store = settings.open_store()
        assert isinstance(store, SqliteStore)
        await store.open()
        try:
            assert await store._select("read synchronous", "PRAGMA synchronous") == [(pragma,)]
        finally:
            await store.close()
    with pytest.raises(StoreError, match="NORMAL or FULL"):
        SqliteStore(tmp_path / "x.db", synchronous="OFF")
