"""Case timers (the scheduler's one entry per case), against SQLite and against a real Redis.

Like the contract suite: one test, both stores; two store objects on one backend are two
workers, and one test uses two OS processes, because that is how the scheduler runs. Only
the seeding of tens of thousands of far-off timers goes straight to the backend (one bulk
write instead of 50 000 calls), so the size test stays fast.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import redis

from bot.errors import StoreError
from bot.store import Store
from bot.store.sqlite import SCHEMA_VERSION, SqliteStore
from tests.conftest import Backend, MakeStore

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)

def seed_far_off(backend: Backend, count: int, *, start: int = 0) -> None:
    """`count` timers an hour or more after T0 (never due in these tests), in one bulk write."""
    base = int((T0 + HOUR - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))
    rows = [(f"LATER-{n:07d}", base + n * 1_000_000) for n in range(start, start + count)]
    if backend.kind == "sqlite":
        with sqlite3.connect(backend.location, timeout=10) as db:
            db.executemany("INSERT INTO timers (case_id, due_at) VALUES (?, ?)", rows)
        return
    client = redis.Redis.from_url(backend.location)
    try:
        for i in range(0, len(rows), 10_000):
            client.zadd(f"{backend.prefix}timers:due", dict(rows[i : i + 10_000]))
    finally:
        client.close()


async def claim(store: Store, at: datetime, limit: int = 100, worker: str = "w") -> list[str]:
    """The ids claimed, with a lease of a day (longer than any test looks ahead)."""
    return [case_id for case_id, _ in await store.claim_due_cases(at, limit, 86_400, worker)]


async def assert_due_at(store: Store, case_id: str, at: datetime, worker: str = "probe") -> None:
    """`case_id` is due exactly at `at`: not a microsecond before, then claimed by `worker`.
    For a store where nothing else is due by then."""
    before = at - timedelta(microseconds=1)
    assert await store.claim_due_cases(before, 10, 86_400, worker) == []
    assert await store.claim_due_cases(at, 10, 86_400, worker) == [(case_id, at)]


# -- scheduling -----------------------------------------------------------------------------


async def test_schedule_replace_remove_and_count(store: Store) -> None:
    assert await store.scheduled_cases() == 0
    assert await store.claim_due_cases(T0 + HOUR, 10, 60, "w") == []
    await store.schedule_case("ACME-1", T0 + 2 * MINUTE)
    await store.schedule_case("ACME-2", T0 + MINUTE)
    await store.schedule_case("ACME-3", T0 + 3 * MINUTE)
    assert await store.scheduled_cases() == 3

    await store.schedule_case("ACME-1", T0)  # replaced, not added
    await store.schedule_case("ACME-3", None)  # removed
    await store.schedule_case("ACME-404", None)  # removing nothing is harmless
    assert await store.scheduled_cases() == 2

    claimed = await store.claim_due_cases(T0 + HOUR, 10, 60, "w")
    assert claimed == [("ACME-1", T0), ("ACME-2", T0 + MINUTE)]
    assert await store.scheduled_cases() == 2  # leased cases are still scheduled

    with pytest.raises(StoreError, match="timezone-aware"):
        await store.schedule_case("ACME-9", datetime(2025, 3, 3, 9, 0))


async def test_claim_takes_only_due_cases_earliest_first(store: Store) -> None:
    plus_five = timezone(timedelta(hours=5))
    exact = T0 + timedelta(microseconds=123_457)
    far = datetime(2230, 1, 1, 0, 0, 0, 1, tzinfo=UTC)  # µs still exact in a Redis score
    await store.schedule_case("C", T0 + MINUTE)
    await store.schedule_case("A", exact)
    # 13:59+05:00 is 08:59 UTC: earlier than A although its wall-clock text sorts later
    await store.schedule_case("E", T0.replace(hour=13, minute=59, tzinfo=plus_five))
    await store.schedule_case("B", T0 + MINUTE)  # same moment as C: ties go by case id
    await store.schedule_case("D", T0 + HOUR)
    await store.schedule_case("F", far)

    assert await store.claim_due_cases(T0 + MINUTE, 0, 60, "w") == []
    with pytest.raises(ValueError):
        await store.claim_due_cases(T0 + MINUTE, 10, 0, "w")

    day = 86_400  # leases that outlast every moment below but the last
    first = await store.claim_due_cases(T0 + MINUTE, 2, day, "w")
    assert first == [("E", T0 - MINUTE), ("A", exact)]
    assert first[1][1].microsecond == 123_457
    assert await store.claim_due_cases(T0 + MINUTE, 10, day, "w") == [
        ("B", T0 + MINUTE),
        ("C", T0 + MINUTE),
    ]
    assert await store.claim_due_cases(T0 + MINUTE, 10, day, "w") == []  # D is not due yet
    assert await store.claim_due_cases(T0 + 2 * HOUR, 10, day, "w") == [("D", T0 + HOUR)]
    # by 2300 every lease above ran out: all come back, at their own moments, in order
    assert await store.claim_due_cases(datetime(2300, 1, 1, tzinfo=UTC), 10, 60, "w2") == [
        ("E", T0 - MINUTE),
        ("A", exact),
        ("B", T0 + MINUTE),
        ("C", T0 + MINUTE),
        ("D", T0 + HOUR),
        ("F", far),
    ]


# -- leases ---------------------------------------------------------------------------------


async def test_concurrent_claims_never_share_a_case(make_store: MakeStore) -> None:
    a, b = await make_store(), await make_store()
    for n in range(100):
        await a.schedule_case(f"ACME-{n:03d}", T0 - n * SECOND)
    batches = await asyncio.gather(
        *(s.claim_due_cases(T0, 7, 30, f"w{i}") for i, s in enumerate([a, b] * 10))
    )
    claimed = [case_id for batch in batches for case_id, _ in batch]
    assert len(claimed) == len(set(claimed)) == 100
    for batch in batches:  # each batch earliest first
        assert [due for _, due in batch] == sorted(due for _, due in batch)
    # while the leases live nobody else gets them, from either store
    assert await a.claim_due_cases(T0 + 29 * SECOND, 100, 30, "late") == []
    assert await b.claim_due_cases(T0 + 29 * SECOND, 100, 30, "late") == []


async def test_expired_lease_lets_another_worker_claim(make_store: MakeStore) -> None:
    a, b = await make_store(), await make_store()
    await a.schedule_case("ACME-1", T0)
    await a.schedule_case("ACME-2", T0 + SECOND)
    assert await a.claim_due_cases(T0, 1, 30, "w1") == [("ACME-1", T0)]  # until T0+30s
    assert await b.claim_due_cases(T0 + 29 * SECOND, 10, 30, "w2") == [("ACME-2", T0 + SECOND)]
    assert await b.claim_due_cases(T0 + 30 * SECOND - timedelta(microseconds=1), 9, 30, "w2") == []

    # w1 died: at its lease's expiry w2 takes the case, at its original due time
    assert await b.claim_due_cases(T0 + 30 * SECOND, 10, 30, "w2") == [("ACME-1", T0)]
    await a.release_case("ACME-1", "w1", None)  # w1 woke up late: ignored
    await a.release_case("ACME-1", "stranger", None)
    await a.release_case("ACME-404", "w1", T0)  # nothing to release: ignored
    assert await a.scheduled_cases() == 2
    assert await a.claim_due_cases(T0 + 58 * SECOND, 10, 30, "w3") == []

    await b.release_case("ACME-1", "w2", T0 + HOUR)
    await b.release_case("ACME-1", "w2", None)  # released already: ignored
    assert await a.scheduled_cases() == 2

    # a holder whose lease ran out (ACME-2's at T0+59s), while nobody else took the case,
    # may still release it
    await b.release_case("ACME-2", "w2", None)
    assert await a.scheduled_cases() == 1
    await assert_due_at(a, "ACME-1", T0 + HOUR)


async def test_release_by_non_holder_is_ignored(store: Store) -> None:
    await store.schedule_case("ACME-1", T0)
    assert await claim(store, T0, worker="w1") == ["ACME-1"]
    await store.release_case("ACME-1", "w2", None)
    await store.release_case("ACME-1", "w2", T0 + MINUTE)
    assert await store.claim_due_cases(T0 + HOUR, 10, 60, "w2") == []  # still w1's
    assert await store.scheduled_cases() == 1
    await store.release_case("ACME-1", "w1", T0 + 2 * HOUR)
    await assert_due_at(store, "ACME-1", T0 + 2 * HOUR)

    # never claimed: nobody holds it, so nobody may release it
    await store.schedule_case("ACME-2", T0)
    await store.release_case("ACME-2", "w1", None)
    assert await claim(store, T0) == ["ACME-2"]


# -- re-scheduled while leased ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("rescheduled", "released", "kept"),
    [
        (5 * MINUTE, 30 * MINUTE, 5 * MINUTE),  # the case changed: its new moment is earlier
        (30 * MINUTE, 5 * MINUTE, 5 * MINUTE),  # the holder's next moment is earlier
    ],
)
async def test_reschedule_while_leased_release_keeps_the_earlier(
    make_store: MakeStore, rescheduled: timedelta, released: timedelta, kept: timedelta
) -> None:
    a, b = await make_store(), await make_store()
    await a.schedule_case("ACME-1", T0)
    assert await claim(a, T0, worker="w1") == ["ACME-1"]

    await b.schedule_case("ACME-1", T0 + rescheduled)  # e.g. the case changed meanwhile
    assert await b.claim_due_cases(T0 + HOUR, 10, 60, "w2") == []  # the lease still holds
    assert await a.scheduled_cases() == 1

    await a.release_case("ACME-1", "w1", T0 + released)
    await assert_due_at(b, "ACME-1", T0 + kept, worker="w2")
    # the noted moment was used up by that release: the next one is the holder's alone
    await b.release_case("ACME-1", "w2", T0 + 2 * HOUR)
    await assert_due_at(b, "ACME-1", T0 + 2 * HOUR)


async def test_release_with_none_removes_unless_rescheduled(store: Store) -> None:
    for case_id in ("ACME-1", "ACME-2", "ACME-3"):
        await store.schedule_case(case_id, T0)
    assert await claim(store, T0, worker="w1") == ["ACME-1", "ACME-2", "ACME-3"]

    await store.release_case("ACME-1", "w1", None)  # done with it for good
    await store.schedule_case("ACME-2", T0 + HOUR)  # changed while leased
    await store.release_case("ACME-2", "w1", None)  # the noted moment survives
    # the latest schedule wins while leased: re-scheduled, then "never", leaves the holder's
    await store.schedule_case("ACME-3", T0 + MINUTE)
    await store.schedule_case("ACME-3", None)
    await store.release_case("ACME-3", "w1", T0 + 2 * HOUR)

    assert await store.scheduled_cases() == 2
    assert await store.claim_due_cases(T0 + HOUR - SECOND, 10, 60, "w2") == []
    assert await store.claim_due_cases(T0 + 3 * HOUR, 10, 60, "w2") == [
        ("ACME-2", T0 + HOUR),
        ("ACME-3", T0 + 2 * HOUR),
    ]
    await store.release_case("ACME-2", "w2", None)
    await store.release_case("ACME-3", "w2", None)
    assert await store.scheduled_cases() == 0


async def test_reschedule_after_lease_expiry_is_kept_for_the_next_holder(
    make_store: MakeStore,
) -> None:
    a, b = await make_store(), await make_store()
    await a.schedule_case("ACME-1", T0)
    await a.schedule_case("ACME-2", T0)
    assert await a.claim_due_cases(T0, 10, 60, "w1") == [("ACME-1", T0), ("ACME-2", T0)]
    await a.schedule_case("ACME-0", T0 - HOUR)
    # w1 died. A claim after its leases ran out finds them but takes only the earliest case
    assert await b.claim_due_cases(T0 + HOUR, 1, 60, "w2") == [("ACME-0", T0 - HOUR)]
    # the case changed meanwhile, and again after (w1 is still recorded: both are noted)
    await b.schedule_case("ACME-1", T0 + 10 * MINUTE)
    await b.schedule_case("ACME-2", T0 + 10 * MINUTE)
    assert await b.claim_due_cases(T0 + HOUR, 10, 60, "w2") == [("ACME-1", T0), ("ACME-2", T0)]
    await a.release_case("ACME-1", "w1", None)  # w1 is late: ignored
    await b.release_case("ACME-0", "w2", None)
    await b.release_case("ACME-1", "w2", T0 + 5 * HOUR)  # the noted moment is earlier
    await b.release_case("ACME-2", "w2", T0 + 5 * MINUTE)  # the holder's is earlier
    assert await b.claim_due_cases(T0 + 5 * HOUR, 10, 60, "w3") == [
        ("ACME-2", T0 + 5 * MINUTE),
        ("ACME-1", T0 + 10 * MINUTE),
    ]


async def test_late_holder_releasing_keeps_a_moment_noted_after_expiry(store: Store) -> None:
    await store.schedule_case("ACME-1", T0)
    assert await store.claim_due_cases(T0, 10, 60, "w1") == [("ACME-1", T0)]
    await store.schedule_case("ACME-1", T0 + HOUR)  # after the lease ran out; nobody took it
    await store.release_case("ACME-1", "w1", None)  # w1 was slow, not dead
    await assert_due_at(store, "ACME-1", T0 + HOUR)


# -- size ----------------------------------------------------------------------------------


async def test_claims_take_only_the_due_cases_earliest_first_among_many(
    backend: Backend, store: Store
) -> None:
    """Among 50,000 scheduled cases a claim still takes only the due ones, earliest first.
    (That its cost stays flat is measured by bench/scheduler.py at 10 k–1 M, not timed here;
    SQLite's use of the due index is checked below.)"""
    due = [f"DUE-{n:03d}" for n in range(100)]
    for n, case_id in enumerate(due):
        await store.schedule_case(case_id, T0 - (100 - n) * SECOND)
    seed_far_off(backend, 1_000 - len(due))
    assert await store.scheduled_cases() == 1_000

    async def claims() -> list[str]:
        got: list[str] = []
        for _ in range(5):
            got += [case_id for case_id, _ in await store.claim_due_cases(T0, 10, 60, "w")]
        return got

    first = await claims()
    seed_far_off(backend, 49_000, start=1_000)
    assert await store.scheduled_cases() == 50_000
    second = await claims()

    assert first + second == due  # only due cases, earliest first
    assert await store.claim_due_cases(T0, 10, 60, "w") == []


# -- two processes --------------------------------------------------------------------------

_CHILD = """
import asyncio, sys
from datetime import UTC, datetime
from tests.conftest import Backend, MakeStore

async def main() -> None:
    kind, location, prefix, worker = sys.argv[1:5]
    store = Backend(kind, location, prefix).build()
    await store.open()
    now = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    try:
        print("ready", flush=True)
        sys.stdin.readline()  # both start together
        while batch := await store.claim_due_cases(now, 10, 60, worker):
            for case_id, _ in batch:
                print(case_id)
                await store.release_case(case_id, worker, None)
    finally:
        await store.close()

asyncio.run(main())
"""


async def test_two_processes_fire_each_due_case_once(backend: Backend, store: Store) -> None:
    cases = [f"ACME-{n:04d}" for n in range(2_000)]
    for start in range(0, len(cases), 100):
        await asyncio.gather(
            *(store.schedule_case(c, T0 - SECOND) for c in cases[start : start + 100])
        )
    await store.schedule_case("LATER-1", T0 + SECOND)  # not due: stays
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", _CHILD, backend.kind, backend.location, backend.prefix,
            f"proc{i}",
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for i in range(2)
    ]  # fmt: skip
    for child in children:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 30)
        if line != b"ready\n":
            _, err = await child.communicate()
            pytest.fail(f"child did not start: {line!r} {err.decode()}")
    outcomes = await asyncio.gather(*(child.communicate(b"go\n") for child in children))
    fired: list[str] = []
    for child, (out, err) in zip(children, outcomes, strict=True):
        assert child.returncode == 0, err.decode()
        share = out.decode().split()  # after "ready", read above
        assert share, "one process fired nothing: the two did not run together"
        fired += share
    assert len(fired) == len(set(fired)) == len(cases)
    assert set(fired) == set(cases)
    assert await store.scheduled_cases() == 1


# -- backend-specific promises --------------------------------------------------------------


async def test_sqlite_database_of_schema_2_gains_timers_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    first = SqliteStore(path)
    await first.open()
    await first.next_case_number("acme")
    await first.close()
    with sqlite3.connect(path) as db:  # as the previous Frontdoor left it
        db.execute("DROP TABLE timers")
        db.execute("PRAGMA user_version = 2")

    again = SqliteStore(path)
    await again.open()
    try:
        await again.schedule_case("ACME-1", T0)
        assert await claim(again, T0) == ["ACME-1"]
        assert await again.next_case_number("acme") == 2  # the old data is still there
    finally:
        await again.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4


async def test_sqlite_claim_reads_the_due_index(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "plan.db")
    await store.open()
    await store.close()
    with sqlite3.connect(tmp_path / "plan.db") as db:
        plans = [
            " ".join(str(row[-1]) for row in db.execute("EXPLAIN QUERY PLAN " + sql, params))
            for sql, params in [
                (
                    "SELECT case_id, due_at FROM timers WHERE lease_owner IS NULL AND due_at <= ?"
                    " ORDER BY due_at, case_id LIMIT ?",
                    (0, 10),
                ),
                (
                    "SELECT case_id, due_at FROM timers WHERE lease_until <= ? AND due_at <= ?"
                    " ORDER BY lease_until LIMIT ?",
                    (0, 0, 10),
                ),
            ]
        ]
    assert "USING INDEX timers_due" in plans[0] and "TEMP B-TREE" not in plans[0], plans[0]
    assert "USING INDEX timers_leases" in plans[1] and "TEMP B-TREE" not in plans[1], plans[1]
