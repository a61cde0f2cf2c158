"""The worker loop: fire due SLA timers and deliver the outbox, until told to stop.

`frontdoor worker` runs it, and so does the web process when the store is SQLite (or when it
works the queue); `frontdoor tick` runs each half once, to the end, at an instant of its
choosing. What the loop works with — the scheduler, the outbox and its deliverers — is built
in adapters/compose.py; the scheduler (bot/) decides what is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from bot.outbox import OutboxWorker
from bot.scheduler import Scheduler

log = logging.getLogger(__name__)
MAX_FIRED_AT_ONCE = 100_000  # a tick stops firing past this (a runaway schedule)


def worker_id(kind: str) -> str:
    """How a process names itself as a lease holder: ``worker-<pid>-<hex>``."""
    return f"{kind}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


async def run_loops(scheduler: Scheduler | None, outbox: OutboxWorker, stop: asyncio.Event,
                    wake: asyncio.Event | None = None,
                    clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
    """Fire due timers and deliver the outbox until `stop`; idle waits are short polls (the
    schedule itself is data in the store, not sleeps)."""
    while not stop.is_set():
        busy = 0
        if scheduler is not None:
            try:
                busy += await scheduler.tick(clock())
            except Exception:
                log.exception("scheduler tick failed")
        try:
            busy += await outbox.run_once()
        except Exception:
            log.exception("outbox delivery pass failed")
        if busy:
            continue
        waiter = wake if wake is not None else stop
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter.wait(), 0.5)
        if wake is not None:
            wake.clear()


async def fire_all(scheduler: Scheduler, at: datetime) -> int:
    """Fire everything due at `at` (a tick); returns the cases fired."""
    fired = 0
    while (n := await scheduler.tick(at)) > 0:
        fired += n
        if fired > MAX_FIRED_AT_ONCE:
            break
    return fired


async def deliver_all(outbox: OutboxWorker) -> int:
    """Deliver the outbox until nothing is due (a tick); returns the posts delivered."""
    delivered = 0
    while (n := await outbox.run_once()) > 0:
        delivered += n
    return delivered
