"""The outbox worker, on both stores: retries, Retry-After, per-case order, permanent failures
kept, and two workers delivering every item exactly once.

Time is a fake clock the tests move by hand: nothing here waits for a backoff to pass.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.outbox import DeliveryOutcome, OutboxWorker
from bot.records import OutboxItem
from bot.store import Store
from tests.conftest import MakeStore
from tests.test_store_contract import T0, an_item


class Clock:
    """A clock the test moves: `clock()` is now, `clock.advance(s)` moves it on."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Recorder:
    """A deliverer that plays scripted outcomes per item key (then "ok") and records what
    happened; it fails the test on a second concurrent attempt or a second success."""

    clock: Clock | None = None
    script: dict[str, list[DeliveryOutcome | Exception]] = field(default_factory=dict)
    flaky: random.Random | None = None  # fail at random (retry at once) when set
    attempts: list[tuple[str, datetime | None]] = field(default_factory=list)
    delivered: list[OutboxItem] = field(default_factory=list)
    in_flight: set[str] = field(default_factory=set)

    async def deliver(self, item: OutboxItem) -> DeliveryOutcome:
        assert item.key not in self.in_flight, f"{item.key} is being delivered twice at once"
        self.in_flight.add(item.key)
        try:
            self.attempts.append((item.key, self.clock() if self.clock else None))
            await asyncio.sleep(0)
            planned = self.script.get(item.key)
            if planned:
                outcome = planned.pop(0)
                if isinstance(outcome, Exception):
                    raise outcome
                if outcome.kind != "ok":
                    return outcome
            elif self.flaky is not None and self.flaky.random() < 0.3:
                return DeliveryOutcome.retry(retry_after=0, reason="HTTP 503")
            await asyncio.sleep(0)
            assert item.key not in self.keys(), f"{item.key} was posted twice"
            self.delivered.append(item)
            return DeliveryOutcome.ok()
        finally:
            self.in_flight.discard(item.key)

    def keys(self) -> list[str]:
        return [item.key for item in self.delivered]

    def attempt_times(self, key: str) -> list[datetime | None]:
        return [at for k, at in self.attempts if k == key]


def worker(store: Store, recorder: Recorder, clock: Clock, **options: Any) -> OutboxWorker:
    options.setdefault("jitter", lambda: 1.0)  # the full backoff: exact times to assert on
    return OutboxWorker(store, {"slack": recorder}, "w1", clock=clock, **options)


async def run_until_quiet(
    workers: Iterable[OutboxWorker], clock: Clock, store: Store, step: float, limit: int = 500
) -> None:
    """Run the workers, moving the clock by `step` between passes, until nothing is pending."""
    for _ in range(limit):
        await asyncio.gather(*(w.run_once() for w in workers))
        if not await store.outbox_pending():
            return
        clock.advance(step)
    pytest.fail("the outbox did not drain")


async def test_retries_with_exponential_backoff(store: Store) -> None:
    clock = Clock()
    recorder = Recorder(clock, {"key-1": [DeliveryOutcome.retry(reason="HTTP 503")] * 5})
    w = worker(store, recorder, clock, base_backoff=1.0, max_backoff=8.0)
    await store.enqueue_outbox([an_item("1")])

    await run_until_quiet([w], clock, store, step=0.5)

    seconds = [(at - T0).total_seconds() for at in recorder.attempt_times("key-1") if at]
    assert seconds == [0, 1, 3, 7, 15, 23]  # +1, +2, +4, +8, then capped at 8
    assert recorder.keys() == ["key-1"]


async def test_backoff_jitter_stays_within_half_and_full(store: Store) -> None:
    w = OutboxWorker(store, {}, "w1", base_backoff=2.0, max_backoff=60.0)
    for attempts, full in [(0, 2.0), (1, 4.0), (3, 16.0), (5, 60.0), (10_000, 60.0)]:
        delays = [w.retry_delay(attempts) for _ in range(50)]
        assert all(full / 2 <= d <= full for d in delays)
        assert len(set(delays)) > 1
    assert w.retry_delay(7, retry_after=1234.5) == 1234.5
    assert w.retry_delay(0, retry_after=-3) == 0.0


async def test_retry_after_is_honoured_exactly(store: Store) -> None:
    clock = Clock()
    recorder = Recorder(clock, {"key-1": [DeliveryOutcome.retry(retry_after=42.0)]})
    w = worker(store, recorder, clock, base_backoff=1.0, max_backoff=5.0)
    await store.enqueue_outbox([an_item("1")])

    assert await w.run_once() == 0
    clock.advance(41.999)
    assert await w.run_once() == 0
    assert len(recorder.attempts) == 1  # not tried again before Retry-After
    clock.advance(0.001)
    assert await w.run_once() == 1
    assert recorder.attempt_times("key-1") == [T0, T0 + timedelta(seconds=42)]
    assert await store.outbox_pending() == 0


async def test_a_case_is_delivered_in_order_across_failures(store: Store) -> None:
    clock = Clock()
    recorder = Recorder(
        clock,
        {
            "key-a1": [DeliveryOutcome.retry(reason="HTTP 500"), RuntimeError("socket closed")],
            "key-b2": [DeliveryOutcome.retry(retry_after=0.5)],
        },
    )
    w = worker(store, recorder, clock, base_backoff=1.0)
    await store.enqueue_outbox(
        [
            an_item("a1", "ACME-1"),
            an_item("b1", "ACME-2"),
            an_item("a2", "ACME-1"),
            an_item("b2", "ACME-2"),
            an_item("a3", "ACME-1"),
        ]
    )

    await run_until_quiet([w], clock, store, step=0.25)

    order = recorder.keys()
    assert [k for k in order if "-a" in k] == ["key-a1", "key-a2", "key-a3"]
    assert [k for k in order if "-b" in k] == ["key-b1", "key-b2"]
    assert order.index("key-b1") < order.index("key-a1")  # ACME-2 didn't wait for ACME-1
    (a1_success,) = recorder.attempt_times("key-a1")[2:]
    assert a1_success == T0 + timedelta(seconds=3)  # failed at 0 and 1, delivered at 3
    assert all(at and at >= a1_success for at in recorder.attempt_times("key-a2"))


async def test_a_permanent_failure_is_kept_and_logged(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.outbox")
    clock = Clock()
    recorder = Recorder(clock, {"key-1": [DeliveryOutcome.failed("channel_not_found")]})
    w = worker(store, recorder, clock)
    await store.enqueue_outbox([an_item("1", "ACME-7")])

    assert await w.run_once() == 0
    assert await store.outbox_pending() == 1  # kept, not dropped
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [str(getattr(r, "case_id", None)) for r in errors] == ["ACME-7"]
    assert any("channel_not_found" in r.getMessage() for r in errors)
    assert "notice" not in caplog.text  # no message bodies in the logs

    clock.advance(24 * 3600 - 1)
    assert await store.claim_outbox(clock(), 10, 30, "peek") == []  # parked for a day
    clock.advance(1)
    kept = {item.id: item for item in await store.claim_outbox(clock(), 10, 30, "peek")}
    assert kept["ob-1"].attempts == 1
    assert kept["ob-1"].last_error == "permanent failure: channel_not_found"


async def test_an_exception_is_a_retry_and_its_text_stays_out_of_the_logs(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    clock = Clock()
    boom = ValueError("response body: Dear Jane Doe, token=xoxb-99-secret")
    recorder = Recorder(clock, {"key-1": [boom]})
    w = worker(store, recorder, clock, base_backoff=2.0)
    await store.enqueue_outbox([an_item("1")])

    assert await w.run_once() == 0
    assert "Jane" not in caplog.text and "xoxb" not in caplog.text
    assert any(getattr(r, "case_id", None) == "ACME-1" for r in caplog.records)
    clock.advance(2)
    (item,) = await store.claim_outbox(clock(), 10, 30, "peek")
    assert item.attempts == 1 and item.last_error is not None
    assert item.last_error.startswith("ValueError") and "xoxb-99" not in item.last_error


async def test_an_item_of_a_dead_worker_is_delivered_after_its_lease(make_store: MakeStore) -> None:
    a, b = await make_store(), await make_store()
    clock = Clock()
    recorder = Recorder(clock)
    await a.enqueue_outbox([an_item("1"), an_item("2")])
    assert len(await a.claim_outbox(T0, 10, 30, "crashed")) == 1  # then the process died

    w = OutboxWorker(b, {"slack": recorder}, "w2", clock=clock, lease_seconds=30)
    assert await w.run_once() == 0
    clock.advance(30)
    assert await w.run_once() == 1
    assert await w.run_once() == 1
    assert recorder.keys() == ["key-1", "key-2"]


async def test_two_workers_deliver_every_item_exactly_once_in_case_order(
    make_store: MakeStore,
) -> None:
    a, b = await make_store(), await make_store()
    items = [an_item(f"{n:03d}", f"CASE-{n % 20}") for n in range(200)]
    await a.enqueue_outbox(items)
    recorder = Recorder(flaky=random.Random(7))
    workers = [
        OutboxWorker(store, {"slack": recorder}, name, batch=7, base_backoff=0, max_backoff=0)
        for store, name in [(a, "w1"), (b, "w2")]
    ]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w.run_forever(stop, idle_sleep=0.01)) for w in workers]
    try:
        async with asyncio.timeout(60):
            while len(recorder.delivered) < len(items):
                await asyncio.sleep(0.01)
    finally:
        stop.set()
        await asyncio.gather(*tasks)

    assert sorted(recorder.keys()) == sorted(item.key for item in items)  # once each
    assert len(recorder.attempts) > len(items)  # the flaky platform made them retry
    by_case: dict[str | None, list[str]] = defaultdict(list)
    for item in recorder.delivered:
        by_case[item.case_id].append(item.id)
    assert len(by_case) == 20
    for delivered in by_case.values():
        assert delivered == sorted(delivered)
    assert await a.outbox_pending() == 0
    assert await b.enqueue_outbox(items) == 0  # delivered keys are remembered


async def test_run_forever_stops_promptly_when_idle(store: Store) -> None:
    w = OutboxWorker(store, {}, "w1")
    stop = asyncio.Event()
    task = asyncio.create_task(w.run_forever(stop, idle_sleep=30))
    await asyncio.sleep(0.05)
    stop.set()
    async with asyncio.timeout(2):
        await task


async def test_an_item_this_process_cannot_deliver_goes_back_untried_for_another(
    make_store: MakeStore,
) -> None:
    """A process without the platform's deliverer (e.g. `tick`, which leaves stored Slack
    events to the live workers) gives the item back at once, its attempts uncounted, by the
    wall clock whatever its own clock says; a process that has the deliverer then posts it."""
    store = await make_store()
    far_future = Clock(T0 + timedelta(days=365))
    recorder = Recorder()
    await store.enqueue_outbox([an_item("ev", platform="slack-event", due=T0)])
    posts_only = OutboxWorker(store, {"slack": recorder}, "tick", clock=far_future)

    assert await posts_only.run_once() == 0

    events = Recorder()
    live = OutboxWorker(store, {"slack-event": events}, "live")
    for _ in range(100):  # given back for a few seconds of wall-clock time
        if await live.run_once():
            break
        await asyncio.sleep(0.1)
    assert [(i.key, i.attempts) for i in events.delivered] == [("key-ev", 0)]
    assert recorder.delivered == []
