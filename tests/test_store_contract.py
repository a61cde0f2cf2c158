"""One contract, two stores: every test here runs against SQLite and against a real Redis.

If a test needs a backend-specific branch, the contract is wrong, not the test. Concurrency
tests use two store objects on the same backend (two workers), and one test uses two OS
processes, because that is how the product runs.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.errors import StaleWriteError, StoreError
from bot.records import (
    ArticleRef,
    AuditRecord,
    AuthorisedUser,
    CaseEventRecord,
    CaseRecord,
    ChannelRef,
    OutboxItem,
)
from bot.store import Store, open_store
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from frontdoor_testkit.redis_server import (
    free_port,
    require_redis_server,
    start_redis_server,
    stop_redis_server,
)
from tests.conftest import Backend, MakeStore

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

def a_case(
    customer: str = "acme",
    number: int = 1,
    *,
    created_at: datetime = T0,
    status: str = "new",
    **changes: object,
) -> CaseRecord:
    fields: dict[str, object] = {
        "id": f"{customer.upper()}-{number}",
        "customer_id": customer,
        "number": number,
        "pack": "konneqt",
        "plan": "gold",
        "case_type": "incident",
        "priority": "P2",
        "title": f"case {number} of {customer}",
        "description": "Login fails — «ünïcode» included",
        "details": {"component": "gateway"},
        "status": status,
        "reporter": "U123",
        "origin": ChannelRef(platform="slack", conversation="C1", thread="1700.1"),
        "created_at": created_at,
        "updated_at": created_at,
    }
    fields.update(changes)
    return CaseRecord.model_validate(fields)


def an_event(case_id: str, kind: str, at: datetime = T0, **changes: object) -> CaseEventRecord:
    fields: dict[str, object] = {
        "case_id": case_id,
        "kind": kind,
        "at": at,
        "actor": "U123",
        "data": {"list": [], "nested": {"n": 12345678901234567}},
    }
    fields.update(changes)
    return CaseEventRecord.model_validate(fields)


def an_audit(action: str, case_id: str | None, minute: int) -> AuditRecord:
    return AuditRecord(
        at=T0 + timedelta(minutes=minute),
        actor="U1",
        role="engineer",
        action=action,
        allowed=True,
        case_id=case_id,
        customer_id="acme",
    )


async def increment_minutes(store: Store, case_id: str) -> int:
    """What bot.cases does on a race: reload, re-apply, save; returns the attempts it took."""
    attempts = 0
    while True:
        attempts += 1
        case = await store.get_case(case_id)
        assert case is not None
        changed = case.model_copy(update={"query_minutes": case.query_minutes + 1})
        try:
            await store.update_case(changed, case.version, [an_event(case_id, "note")])
        except StaleWriteError:
            await asyncio.sleep(0)
            continue
        return attempts


# -- conversations ----------------------------------------------------------------------------


async def test_conversation_save_load_delete(store: Store) -> None:
    assert await store.load_conversation("slack:C1:U1") == (None, 0)
    state = {"step": "describe", "answers": {"impact": "all users"}, "tries": [1, 2], "ok": None}

    assert await store.save_conversation("slack:C1:U1", state, 0) == 1
    assert await store.load_conversation("slack:C1:U1") == (state, 1)

    state["step"] = "confirm"
    assert await store.save_conversation("slack:C1:U1", state, 1) == 2
    assert await store.load_conversation("slack:C1:U1") == (state, 2)
    assert await store.load_conversation("slack:C1:U2") == (None, 0)

    assert await store.save_conversation("slack:C1:U1", None, 2) == 0
    assert await store.load_conversation("slack:C1:U1") == (None, 0)
    assert await store.save_conversation("slack:C1:U1", {"step": "start"}, 0) == 1


async def test_stale_conversation_write_raises_and_changes_nothing(store: Store) -> None:
    await store.save_conversation("k", {"step": "one"}, 0)

    for stale in (0, 2, 7):
        with pytest.raises(StaleWriteError):
            await store.save_conversation("k", {"step": "lost"}, stale)
    with pytest.raises(StaleWriteError):
        await store.save_conversation("k", None, 0)
    with pytest.raises(StaleWriteError):
        await store.save_conversation("never-saved", {"step": "x"}, 1)

    assert await store.load_conversation("k") == ({"step": "one"}, 1)


async def test_conversation_writes_race_and_one_wins(make_store: MakeStore) -> None:
    a, b = await make_store(), await make_store()
    await a.save_conversation("k", {"n": 0}, 0)
    results = await asyncio.gather(
        *(s.save_conversation("k", {"by": i}, 1) for i, s in enumerate([a, b] * 5)),
        return_exceptions=True,
    )
    assert sum(r == 2 for r in results) == 1
    assert all(isinstance(r, StaleWriteError) for r in results if r != 2)


# -- case numbers -----------------------------------------------------------------------------


async def test_case_numbers_count_per_customer(store: Store) -> None:
    assert [await store.next_case_number("acme") for _ in range(3)] == [1, 2, 3]
    assert await store.next_case_number("globex") == 1
    assert await store.next_case_number("acme") == 4


async def test_concurrent_case_numbers_are_unique_and_gap_free(make_store: MakeStore) -> None:
    a, b = await make_store(), await make_store()
    numbers = await asyncio.gather(*(s.next_case_number("acme") for s in [a, b] * 25))
    assert sorted(numbers) == list(range(1, 51))
    assert await b.next_case_number("globex") == 1


# -- cases and their history ------------------------------------------------------------------


async def test_create_get_update_keeps_history_in_sequence(store: Store) -> None:
    opened = an_event("ACME-1", "opened", seq=99)  # the store numbers events, not the caller
    created = await store.create_case(a_case(), [opened, an_event("ACME-1", "triaged")])
    assert created.version == 1
    assert await store.get_case("ACME-1") == created
    assert await store.get_case("ACME-404") is None

    events = await store.case_events("ACME-1")
    assert [(e.seq, e.kind) for e in events] == [(1, "opened"), (2, "triaged")]
    assert events[0] == opened.model_copy(update={"seq": 1})

    later = T0 + timedelta(hours=1)
    acked = created.model_copy(update={"status": "acknowledged", "updated_at": later})
    updated = await store.update_case(
        acked, 1, [an_event("ACME-1", "acknowledged", later, to_status="acknowledged")]
    )
    assert updated == acked.model_copy(update={"version": 2})
    assert await store.get_case("ACME-1") == updated

    again = await store.update_case(
        updated.model_copy(update={"assignee": "E1"}),
        2,
        [an_event("ACME-1", "assigned"), an_event("ACME-1", "note")],
    )
    assert again.version == 3
    events = await store.case_events("ACME-1")
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert [e.kind for e in events] == ["opened", "triaged", "acknowledged", "assigned", "note"]
    assert await store.case_events("ACME-404") == []

    no_events = await store.update_case(again.model_copy(update={"billable": True}), 3, [])
    assert no_events.version == 4
    assert len(await store.case_events("ACME-1")) == 5


async def test_datetimes_come_back_aware_and_equal(store: Store) -> None:
    oslo = timezone(timedelta(hours=2))
    at = datetime(2025, 6, 1, 11, 30, 15, 123456, tzinfo=oslo)
    await store.create_case(a_case(created_at=at), [an_event("ACME-1", "opened", at)])

    case = await store.get_case("ACME-1")
    assert case is not None and case.created_at == at and case.created_at.utcoffset() is not None
    (event,) = await store.case_events("ACME-1")
    assert event.at == at and event.at.utcoffset() is not None


async def test_a_cases_articles_come_back_as_they_were_kept(store: Store) -> None:
    """The articles shown before filing (and those found for the engineers) are part of the
    case record in both stores, in order, with what was shown."""
    articles = [ArticleRef(id="konneqt/gateway/cors", title="CORS «browser»",
                           url="https://fd.example.com/kb/konneqt/gateway/cors",
                           excerpt="Browsers only let a page …"),
                ArticleRef(id="konneqt/gateway/mutual-tls", title="Mutual TLS", shown=False)]
    await store.create_case(a_case(articles=articles), [an_event("ACME-1", "opened")])
    case = await store.get_case("ACME-1")
    assert case is not None and case.articles == articles


async def test_naive_creation_time_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="timezone-aware"):
        await store.create_case(a_case(created_at=datetime(2025, 1, 1, 9, 0)), [])


async def test_create_existing_id_raises_and_keeps_the_original(store: Store) -> None:
    original = await store.create_case(a_case(), [an_event("ACME-1", "opened")])

    with pytest.raises(StoreError) as raised:
        await store.create_case(a_case(title="duplicate"), [an_event("ACME-1", "opened")])
    assert not isinstance(raised.value, StaleWriteError)

    assert await store.get_case("ACME-1") == original
    assert len(await store.case_events("ACME-1")) == 1


async def test_stale_case_update_raises_and_changes_nothing(store: Store) -> None:
    created = await store.create_case(a_case(), [an_event("ACME-1", "opened")])
    current = await store.update_case(
        created.model_copy(update={"status": "in_progress"}), 1, [an_event("ACME-1", "started")]
    )

    with pytest.raises(StaleWriteError):
        await store.update_case(
            created.model_copy(update={"status": "closed"}), 1, [an_event("ACME-1", "closed")]
        )

    assert await store.get_case("ACME-1") == current
    assert [e.kind for e in await store.case_events("ACME-1")] == ["opened", "started"]
    assert [c.id for c in await store.list_cases(["acme"])] == ["ACME-1"]


async def test_update_of_a_missing_case_or_another_customer_is_refused(store: Store) -> None:
    with pytest.raises(StoreError):
        await store.update_case(a_case(), 0, [])
    created = await store.create_case(a_case(), [])
    with pytest.raises(StoreError):
        await store.update_case(created.model_copy(update={"customer_id": "globex"}), 1, [])
    with pytest.raises(StoreError):
        await store.update_case(created, 1, [an_event("GLOBEX-1", "note")])
    assert await store.get_case("ACME-1") == created
    assert await store.case_events("ACME-1") == []


async def test_concurrent_retrying_updaters_all_land(make_store: MakeStore) -> None:
    a, b = await make_store(), await make_store()
    await a.create_case(a_case(), [an_event("ACME-1", "opened")])

    attempts = await asyncio.gather(*(increment_minutes(s, "ACME-1") for s in [a, b] * 10))

    case = await b.get_case("ACME-1")
    assert case is not None
    assert case.query_minutes == 20
    assert case.version == 21
    assert [e.seq for e in await a.case_events("ACME-1")] == list(range(1, 22))
    assert sum(attempts) >= 20


_CHILD = """
import asyncio, sys
from tests.test_store_contract import Backend, increment_minutes

async def main() -> None:
    kind, location, prefix, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = Backend(kind, location, prefix).build()
    await store.open()
    try:
        for _ in range(count):
            await increment_minutes(store, "ACME-1")
    finally:
        await store.close()

asyncio.run(main())
"""


async def test_updaters_in_two_processes_all_land(backend: Backend, store: Store) -> None:
    await store.create_case(a_case(), [])
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", _CHILD, backend.kind, backend.location, backend.prefix, "15",
            cwd=ROOT,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]  # fmt: skip
    mine = asyncio.gather(*(increment_minutes(store, "ACME-1") for _ in range(10)))
    outcomes = [await child.communicate() for child in children]
    await mine
    for child, (_, err) in zip(children, outcomes, strict=True):
        assert child.returncode == 0, err.decode()

    case = await store.get_case("ACME-1")
    assert case is not None and case.query_minutes == 40 and case.version == 41
    assert [e.seq for e in await store.case_events("ACME-1")] == list(range(1, 41))


async def test_list_cases_by_customer_and_open_newest_first(store: Store) -> None:
    plus_five = timezone(timedelta(hours=5))
    await store.create_case(a_case("acme", 1, created_at=T0), [])
    # 13:00+05:00 is 08:00 UTC: older than ACME-1 although its wall-clock text sorts later
    await store.create_case(a_case("acme", 2, created_at=T0.replace(hour=13, tzinfo=plus_five)), [])
    await store.create_case(a_case("acme", 3, created_at=T0 + timedelta(hours=2)), [])
    resolved = await store.create_case(
        a_case("acme", 4, created_at=T0 + timedelta(hours=3), status="resolved"), []
    )
    await store.create_case(a_case("globex", 1, created_at=T0 + timedelta(hours=1)), [])

    def ids(cases: list[CaseRecord]) -> list[str]:
        return [c.id for c in cases]

    assert ids(await store.list_cases(["acme"])) == ["ACME-3", "ACME-1", "ACME-2"]
    assert ids(await store.list_cases(["acme"], open_only=False)) == [
        "ACME-4",
        "ACME-3",
        "ACME-1",
        "ACME-2",
    ]
    assert ids(await store.list_cases()) == ["ACME-3", "GLOBEX-1", "ACME-1", "ACME-2"]
    assert ids(await store.list_cases(None, open_only=False))[:2] == ["ACME-4", "ACME-3"]
    assert ids(await store.list_cases(iter(["globex", "acme"]))) == ids(await store.list_cases())
    assert await store.list_cases([]) == []
    assert await store.list_cases(["nobody"], open_only=False) == []

    reopened = await store.update_case(resolved.model_copy(update={"status": "in_progress"}), 1, [])
    assert ids(await store.list_cases(["acme"]))[0] == "ACME-4"
    await store.update_case(reopened.model_copy(update={"status": "closed"}), 2, [])
    assert "ACME-4" not in ids(await store.list_cases())
    listed = await store.list_cases(["acme"], open_only=False)
    assert listed[0] == await store.get_case("ACME-4")


# -- audit, once-only keys, authorised users --------------------------------------------------


async def test_audit_entries_newest_first_globally_and_per_case(store: Store) -> None:
    entries = [
        an_audit("open", "ACME-1", 0),
        an_audit("open", "ACME-2", 1),
        an_audit("login", None, 2),
        an_audit("assign", "ACME-1", 3),
    ]
    for entry in entries:
        await store.append_audit(entry)

    assert await store.audit_entries() == entries[::-1]
    assert await store.audit_entries("ACME-1") == [entries[3], entries[0]]
    assert await store.audit_entries("ACME-2") == [entries[1]]
    assert await store.audit_entries("ACME-404") == []
    assert await store.audit_entries(limit=2) == [entries[3], entries[2]]
    assert await store.audit_entries("ACME-1", limit=1) == [entries[3]]
    assert await store.audit_entries(limit=0) == []


async def test_claim_once_then_again_after_expiry(make_store: MakeStore) -> None:
    a, b = await make_store(), await make_store()
    assert await a.claim_once("slack:event:Ev1", 1) is True
    assert await a.claim_once("slack:event:Ev1", 1) is False
    assert await b.claim_once("slack:event:Ev1", 1) is False  # another worker, same delivery
    assert await b.claim_once("slack:event:Ev2", 60) is True

    await asyncio.sleep(1.3)
    assert await b.claim_once("slack:event:Ev1", 1) is True
    assert await a.claim_once("slack:event:Ev2", 60) is False


async def test_claim_once_races_have_one_winner(make_store: MakeStore) -> None:
    a, b = await make_store(), await make_store()
    results = await asyncio.gather(*(s.claim_once("teams:activity:7", 30) for s in [a, b] * 10))
    assert results.count(True) == 1


async def test_authorised_users_put_list_remove(store: Store) -> None:
    def user(customer: str, user_id: str, name: str) -> AuthorisedUser:
        return AuthorisedUser(
            customer_id=customer, user_id=user_id, name=name, added_by="ADMIN", added_at=T0
        )

    assert await store.authorised_users("acme") == []
    await store.put_authorised_user(user("acme", "U2", "Bea"))
    await store.put_authorised_user(user("acme", "U1", "Al"))
    await store.put_authorised_user(user("globex", "U1", "Other Al"))
    assert await store.authorised_users("acme") == [
        user("acme", "U1", "Al"),
        user("acme", "U2", "Bea"),
    ]

    await store.put_authorised_user(user("acme", "U1", "Alan"))  # a second put replaces
    assert [u.name for u in await store.authorised_users("acme")] == ["Alan", "Bea"]

    assert await store.remove_authorised_user("acme", "U1") is True
    assert await store.remove_authorised_user("acme", "U1") is False
    assert await store.authorised_users("acme") == [user("acme", "U2", "Bea")]
    assert await store.authorised_users("globex") == [user("globex", "U1", "Other Al")]


async def test_open_and_close_are_idempotent(backend: Backend) -> None:
    store = backend.build()
    await store.close()  # before open: nothing to do
    await store.open()
    await store.open()
    assert await store.next_case_number("acme") == 1
    await store.close()
    await store.close()
    with pytest.raises(StoreError):
        await store.get_case("ACME-1")


async def test_a_second_store_sees_what_the_first_wrote(make_store: MakeStore) -> None:
    first = await make_store()
    await first.save_conversation("k", {"step": "x"}, 0)
    created = await first.create_case(a_case(), [an_event("ACME-1", "opened")])
    await first.next_case_number("acme")
    await first.append_audit(an_audit("open", "ACME-1", 0))
    await first.claim_once("once", 60)
    await first.close()

    second = await make_store()
    assert await second.load_conversation("k") == ({"step": "x"}, 1)
    assert await second.get_case("ACME-1") == created
    assert [e.seq for e in await second.case_events("ACME-1")] == [1]
    assert await second.next_case_number("acme") == 2
    assert [e.action for e in await second.audit_entries("ACME-1")] == ["open"]
    assert await second.claim_once("once", 60) is False


# -- outbox -----------------------------------------------------------------------------------


def an_item(
    name: str,
    case_id: str | None = "ACME-1",
    *,
    due: datetime = T0,
    key: str | None = None,
    **changes: object,
) -> OutboxItem:
    fields: dict[str, object] = {
        "id": f"ob-{name}",
        "key": key or f"key-{name}",
        "case_id": case_id,
        "platform": "slack",
        "payload": {"text": f"notice {name} — «ünïcode»", "blocks": [], "n": 12345678901234567},
        "created_at": T0,
        "due_at": due,
    }
    fields.update(changes)
    return OutboxItem.model_validate(fields)


def ids(items: list[OutboxItem]) -> list[str]:
    return [item.id for item in items]


async def drain(
    store: Store,
    worker: str,
    now: datetime = T0,
    limit: int = 5,
    shared: list[str] | None = None,
) -> list[str]:
    """Claim and complete until nothing is pending; the ids in the order they were claimed
    (also appended to `shared`, a log several workers write to)."""
    done: list[str] = []
    while await store.outbox_pending():
        claimed = await store.claim_outbox(now, limit, 3600, worker)
        for item in claimed:
            done.append(item.id)
            if shared is not None:
                shared.append(item.id)
            await store.complete_outbox(item.id, worker)
        await asyncio.sleep(0 if claimed else 0.005)
    return done


async def test_outbox_enqueue_deduplicates_by_key_pending_and_delivered(store: Store) -> None:
    first = an_item("1")
    assert await store.outbox_pending() == 0
    assert await store.enqueue_outbox([]) == 0
    assert await store.enqueue_outbox([first, an_item("1b", key="key-1")]) == 1
    assert await store.enqueue_outbox([an_item("1c", key="key-1")]) == 0  # pending: ignored
    assert await store.outbox_pending() == 1

    (claimed,) = await store.claim_outbox(T0, 10, 30, "w1")
    assert claimed == first  # payload, instants, attempts come back as enqueued
    await store.complete_outbox(first.id, "w1")
    assert await store.outbox_pending() == 0

    assert await store.enqueue_outbox([an_item("1d", key="key-1")]) == 0  # delivered: ignored
    assert await store.enqueue_outbox(iter([an_item("2"), an_item("1e", key="key-1")])) == 1
    assert await store.outbox_pending() == 1
    assert ids(await store.claim_outbox(T0, 10, 30, "w1")) == ["ob-2"]


async def test_outbox_enqueue_is_atomic_and_refuses_a_reused_id(store: Store) -> None:
    assert await store.enqueue_outbox([an_item("1")]) == 1
    with pytest.raises(StoreError, match="ob-1"):
        await store.enqueue_outbox([an_item("2"), an_item("1", key="another-key")])
    assert await store.outbox_pending() == 1
    assert await store.enqueue_outbox([an_item("2")]) == 1  # the failed call recorded nothing
    with pytest.raises(StoreError, match="timezone-aware"):
        await store.enqueue_outbox([an_item("3", due=datetime(2025, 1, 1, 9, 0))])
    assert await store.outbox_pending() == 2


async def test_outbox_claims_due_items_oldest_first(store: Store) -> None:
    minute = timedelta(minutes=1)
    oslo = timezone(timedelta(hours=2))
    await store.enqueue_outbox(
        [
            an_item("late", None, due=T0 + 2 * minute),
            an_item("z-first", None, due=T0),  # same due instant: enqueue order, not id order
            an_item("a-second", None, due=T0),
            an_item("mid", None, due=(T0 + minute).astimezone(oslo)),
            an_item("micro", None, due=T0 + minute + timedelta(microseconds=1)),
        ]
    )
    assert await store.claim_outbox(T0 - timedelta(seconds=1), 10, 3600, "w1") == []
    assert ids(await store.claim_outbox(T0 + minute, 10, 3600, "w1")) == [
        "ob-z-first",
        "ob-a-second",
        "ob-mid",
    ]
    assert await store.claim_outbox(T0 + minute, 10, 3600, "w1") == []  # leased now
    assert ids(await store.claim_outbox(T0 + 3 * minute, 1, 3600, "w2")) == ["ob-micro"]
    assert ids(await store.claim_outbox(T0 + 3 * minute, 0, 3600, "w2")) == []
    (late,) = await store.claim_outbox(T0 + 3 * minute, 5, 3600, "w2")
    assert late.id == "ob-late" and late.due_at == T0 + 2 * minute
    assert await store.outbox_pending() == 5


async def test_outbox_keeps_each_cases_order(store: Store) -> None:
    minute = timedelta(minutes=1)
    await store.enqueue_outbox(
        [
            an_item("a1", "ACME-1", due=T0 + minute),
            an_item("b1", "ACME-2", due=T0 + minute),
            an_item("a2", "ACME-1", due=T0),  # due earlier, but enqueued after a1
            an_item("free", None, due=T0),
        ]
    )
    assert ids(await store.claim_outbox(T0, 10, 3600, "w1")) == ["ob-free"]
    assert ids(await store.claim_outbox(T0 + minute, 10, 3600, "w1")) == ["ob-a1", "ob-b1"]
    assert await store.claim_outbox(T0 + minute, 10, 3600, "w2") == []  # a2 waits behind a1
    await store.enqueue_outbox([an_item("a3", "ACME-1", due=T0)])

    await store.complete_outbox("ob-b1", "w1")  # another case changes nothing for ACME-1
    await store.defer_outbox("ob-a1", "w1", T0 + 10 * minute, "HTTP 503")
    assert await store.claim_outbox(T0 + 9 * minute, 10, 3600, "w2") == []  # a1 failed: a2 waits
    assert ids(await store.claim_outbox(T0 + 10 * minute, 10, 3600, "w2")) == ["ob-a1"]
    await store.complete_outbox("ob-a1", "w2")
    assert ids(await store.claim_outbox(T0 + 10 * minute, 10, 3600, "w1")) == ["ob-a2"]
    await store.complete_outbox("ob-a2", "w1")
    (a3,) = await store.claim_outbox(T0 + 10 * minute, 10, 3600, "w1")
    assert a3.id == "ob-a3"
    await store.complete_outbox("ob-a3", "w1")
    await store.complete_outbox("ob-free", "w1")
    assert await store.outbox_pending() == 0


async def test_outbox_lease_is_exclusive_until_it_expires(make_store: MakeStore) -> None:
    a, b = await make_store(), await make_store()
    await a.enqueue_outbox([an_item("1"), an_item("2", "ACME-2")])
    assert ids(await a.claim_outbox(T0, 1, 30, "w1")) == ["ob-1"]
    assert ids(await b.claim_outbox(T0 + timedelta(seconds=29), 10, 30, "w2")) == ["ob-2"]

    # w1 died: its lease runs out and w2 takes the item, attempts as stored
    (again,) = await b.claim_outbox(T0 + timedelta(seconds=30), 10, 30, "w2")
    assert again.id == "ob-1" and again.attempts == 0
    await a.complete_outbox("ob-1", "w1")  # w1 woke up late: ignored
    await a.defer_outbox("ob-1", "w1", T0, "late")  # ignored too
    await a.complete_outbox("ob-1", "stranger")
    await a.complete_outbox("ob-404", "w1")
    assert await a.outbox_pending() == 2
    assert await a.claim_outbox(T0 + timedelta(seconds=58), 10, 30, "w3") == []

    await b.complete_outbox("ob-1", "w2")
    await b.complete_outbox("ob-1", "w2")  # twice is harmless
    assert await a.outbox_pending() == 1

    # a holder whose lease ran out, while nobody else took the item, may still settle it
    await a.complete_outbox("ob-2", "w2")
    assert await a.outbox_pending() == 0


async def test_outbox_defer_reschedules_counts_and_releases(make_store: MakeStore) -> None:
    a, b = await make_store(), await make_store()
    await a.enqueue_outbox([an_item("1"), an_item("2")])
    (item,) = await a.claim_outbox(T0, 10, 3600, "w1")
    oslo = timezone(timedelta(hours=2))
    until = (T0 + timedelta(minutes=5)).astimezone(oslo)
    error = "HTTP 500\nAuthorization: Bearer xoxb-1234-secret token=abc123 " + "x" * 600
    await a.defer_outbox(item.id, "stranger", until, "ignored")
    await a.defer_outbox(item.id, "w1", until, error)
    await a.defer_outbox(item.id, "w1", T0, "lease already released: ignored")

    assert await b.claim_outbox(until - timedelta(microseconds=1), 10, 3600, "w2") == []
    (again,) = await b.claim_outbox(until, 10, 3600, "w2")  # released: the lease doesn't hold it
    assert again.id == "ob-1" and again.attempts == 1 and again.due_at == until
    assert again.payload == item.payload
    assert again.last_error is not None
    assert again.last_error.startswith("HTTP 500")
    assert len(again.last_error) <= 500
    assert "xoxb-1234" not in again.last_error and "abc123" not in again.last_error

    await b.defer_outbox(again.id, "w2", T0 + timedelta(hours=1), "HTTP 429")
    (third,) = await a.claim_outbox(T0 + timedelta(hours=1), 10, 3600, "w1")
    assert (third.attempts, third.last_error) == (2, "HTTP 429")
    await a.complete_outbox(third.id, "w1")
    assert ids(await a.claim_outbox(T0 + timedelta(hours=1), 10, 3600, "w1")) == ["ob-2"]


async def test_outbox_concurrent_claims_never_share_an_item(make_store: MakeStore) -> None:
    a, b = await make_store(), await make_store()
    items = [an_item(f"{n}", None if n % 4 == 0 else f"ACME-{n % 7}") for n in range(80)]
    await a.enqueue_outbox(items)
    heads = 20 + 7  # the 20 items without a case and the first item of each of 7 cases
    batches = await asyncio.gather(
        *(s.claim_outbox(T0, 3, 30, f"w{i}") for i, s in enumerate([a, b] * 10))
    )
    claimed = [item.id for batch in batches for item in batch]
    assert len(claimed) == len(set(claimed)) == heads

    for i, batch in enumerate(batches):
        for item in batch:
            await (a, b)[i % 2].complete_outbox(item.id, f"w{i}")
    drained = await asyncio.gather(drain(a, "wa"), drain(b, "wb"))
    everything = claimed + drained[0] + drained[1]
    assert sorted(everything) == sorted(ids(items))  # every item once, none twice


async def test_outbox_drained_by_two_stores_keeps_case_order(make_store: MakeStore) -> None:
    a, b = await make_store(), await make_store()
    items = [an_item(f"{n:03d}", f"ACME-{n % 5}") for n in range(60)]
    await a.enqueue_outbox(items)
    shared: list[str] = []
    done_a, done_b = await asyncio.gather(
        drain(a, "wa", limit=2, shared=shared), drain(b, "wb", limit=2, shared=shared)
    )
    assert sorted(done_a + done_b) == sorted(ids(items)) == sorted(shared)
    # a case's next item is claimable only once the previous one completed: across both
    # workers, every case's items were claimed in the order they were enqueued
    for case in range(5):
        of_case = [i for i in shared if int(i[3:]) % 5 == case]
        assert of_case == sorted(of_case)


_OUTBOX_CHILD = """
import asyncio, sys
from tests.test_store_contract import Backend, drain

async def main() -> None:
    kind, location, prefix, worker = sys.argv[1:5]
    store = Backend(kind, location, prefix).build()
    await store.open()
    try:
        for item_id in await drain(store, worker, limit=3):
            print(item_id)
    finally:
        await store.close()

asyncio.run(main())
"""


async def test_outbox_drained_by_two_processes_delivers_each_item_once(
    backend: Backend, store: Store
) -> None:
    items = [an_item(f"{n:03d}", None if n % 3 == 0 else f"ACME-{n % 8}") for n in range(150)]
    await store.enqueue_outbox(items)
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", _OUTBOX_CHILD, backend.kind, backend.location, backend.prefix,
            f"proc{i}",
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for i in range(2)
    ]  # fmt: skip
    outcomes = [await child.communicate() for child in children]
    claimed: list[str] = []
    for child, (out, err) in zip(children, outcomes, strict=True):
        assert child.returncode == 0, err.decode()
        claimed += out.decode().split()
    assert len(claimed) == len(set(claimed)) == 150
    assert set(claimed) == set(ids(items))
    assert await store.outbox_pending() == 0
    assert await store.enqueue_outbox(items[:10]) == 0  # all remembered as delivered


# -- backend-specific promises ----------------------------------------------------------------


async def test_sqlite_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "restart.db"
    first = SqliteStore(path)
    await first.open()
    created = await first.create_case(a_case(), [an_event("ACME-1", "opened")])
    await first.put_authorised_user(
        AuthorisedUser(customer_id="acme", user_id="U1", name="Al", added_by="A", added_at=T0)
    )
    await first.next_case_number("acme")
    await first.close()

    again = SqliteStore(str(path))
    await again.open()
    try:
        assert await again.get_case("ACME-1") == created
        assert [e.kind for e in await again.case_events("ACME-1")] == ["opened"]
        assert [u.user_id for u in await again.authorised_users("acme")] == ["U1"]
        assert await again.next_case_number("acme") == 2
        updated = await again.update_case(created, 1, [an_event("ACME-1", "note")])
        assert updated.version == 2
    finally:
        await again.close()


async def test_sqlite_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "missing-dir" / "x.db")
    with pytest.raises(StoreError, match="missing-dir"):
        await store.open()
    await store.close()


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:1/0",
        "redis://:secret@127.0.0.1:1/0",
        "redis://frontdoor:secret@127.0.0.1:1/0",
    ],
)
async def test_unreachable_redis_is_a_store_error_without_the_password(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = RedisStore(url)
    with pytest.raises(StoreError) as raised:
        await store.open()
    message = str(raised.value)
    assert message.startswith("cannot reach Redis at redis://")
    assert "127.0.0.1:1" in message
    assert "secret" not in message
    assert "secret" not in repr(store)
    assert "secret" not in caplog.text
    await store.close()


@pytest.mark.redis
async def test_redis_refusing_or_going_away_is_a_store_error(tmp_path: Path) -> None:
    require_redis_server()
    port = free_port()
    server = start_redis_server(
        port, tmp_path / "redis", extra_args=["--requirepass", "right-secret"]
    )
    store = RedisStore(f"redis://:right-secret@127.0.0.1:{port}/0")
    shown = f"redis://:***@127.0.0.1:{port}/0"
    try:
        wrong = RedisStore(f"redis://:wrong-secret@127.0.0.1:{port}/0")
        with pytest.raises(StoreError) as refused:
            await wrong.open()
        assert str(refused.value).startswith(f"Redis at {shown} refused our credentials")
        assert "secret" not in str(refused.value)

        await store.open()
        assert await store.next_case_number("acme") == 1
        stop_redis_server(server)
        with pytest.raises(StoreError) as unreachable:
            await store.next_case_number("acme")
        assert str(unreachable.value).startswith(f"cannot reach Redis at {shown}")
        assert "secret" not in str(unreachable.value)
    finally:
        await store.close()
        stop_redis_server(server)


def test_open_store_picks_redis_only_when_a_url_is_given(tmp_path: Path) -> None:
    assert isinstance(open_store("redis://127.0.0.1:6379/0", tmp_path / "x.db"), RedisStore)
    assert isinstance(open_store(None, tmp_path / "x.db"), SqliteStore)
    assert isinstance(open_store("", tmp_path / "x.db"), SqliteStore)
