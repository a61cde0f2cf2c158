"""Deliver the outbox: claim due notices, post them, settle each one. Platform-neutral.

Every notice the bot decides to post (case cards, reminders, escalations) is first written to
the store's outbox, in the same breath as the decision; this loop posts it later. So:

- nothing is lost: an item stays in the store until a deliverer said "ok" and the store
  recorded it; a worker that dies mid-delivery loses its lease, and another worker takes the
  item when the lease expires;
- nothing is posted twice by us: the store leases an item to one worker at a time, and a
  worker whose lease was lost cannot complete it (the exception is a post that outlives its
  lease; deliveries are therefore cut off well before the lease ends);
- one case's notices arrive in order: the store hands out a case's next item only once the
  previous one was delivered, so a failing notice holds back the ones after it;
- failures are retried with exponential backoff and jitter, or exactly after the platform's
  Retry-After; a permanent failure is kept (retried after a day) and logged at error level,
  never dropped.

Logs carry ids (`case_id`, `item_id`, platform, attempt), never message bodies or names.
The only timer is the idle poll of `run_forever`; schedules live in the items' due times.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from bot.errors import StoreError
from bot.records import OutboxItem
from bot.store._codec import clean_error
from bot.store.base import Store

log = logging.getLogger(__name__)

PERMANENT_FAILURE_DELAY = 24 * 3600.0  # a permanently failed item is kept and tried again daily
LEFT_FOR_OTHERS_SECONDS = 5.0  # an item this process cannot deliver goes back this long
_LOG_REASON_MAX = 200


@dataclass(frozen=True)
class DeliveryOutcome:
    """What a deliverer says about one item: posted, try again, or it will never work."""

    kind: Literal["ok", "retry", "failed"]
    retry_after: float | None = None  # seconds, for "retry": the platform's Retry-After
    reason: str = ""  # for "retry" and "failed": a short code or message, no secrets

    @classmethod
    def ok(cls) -> DeliveryOutcome:
        return cls("ok")

    @classmethod
    def retry(cls, retry_after: float | None = None, reason: str = "") -> DeliveryOutcome:
        return cls("retry", retry_after=retry_after, reason=reason)

    @classmethod
    def failed(cls, reason: str) -> DeliveryOutcome:
        return cls("failed", reason=reason)


class Deliverer(Protocol):
    """Posts one item to its platform (Slack, Teams …). May raise: that counts as a retry."""

    async def deliver(self, item: OutboxItem) -> DeliveryOutcome: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


def new_item(platform: str, payload: dict[str, Any], ordering_key: str | None,
             key: str | None = None, now: datetime | None = None) -> OutboxItem:
    """An item due now. `ordering_key` groups items delivered in order (a case, a
    conversation); `key` makes enqueuing idempotent (default: a fresh one)."""
    at = now or _utcnow()
    return OutboxItem(id=uuid.uuid4().hex, key=key or uuid.uuid4().hex, case_id=ordering_key,
                      platform=platform, payload=payload, created_at=at, due_at=at)


class OutboxWorker:
    """Claims due items from the store and delivers them through the platform's deliverer.

    Run one per process (each with its own `worker_id`); several share a store safely."""

    def __init__(
        self,
        store: Store,
        deliverers: Mapping[str, Deliverer],
        worker_id: str,
        *,
        lease_seconds: float = 30.0,
        batch: int = 50,
        base_backoff: float = 1.0,
        max_backoff: float = 300.0,
        clock: Callable[[], datetime] = _utcnow,
        permanent_delay: float = PERMANENT_FAILURE_DELAY,
        delivery_timeout: float | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be positive, got {lease_seconds}")
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        if base_backoff < 0 or max_backoff < base_backoff:
            raise ValueError(
                f"need 0 <= base_backoff <= max_backoff, got {base_backoff} and {max_backoff}"
            )
        self._store = store
        self._deliverers = dict(deliverers)
        self._id = worker_id
        self._lease = float(lease_seconds)
        self._batch = batch
        self._base = float(base_backoff)
        self._max = float(max_backoff)
        self._clock = clock
        self._permanent = timedelta(seconds=permanent_delay)
        # cut a delivery off well before its lease ends, so no other worker takes it meanwhile
        self._timeout = 0.8 * self._lease if delivery_timeout is None else delivery_timeout
        self._jitter = jitter

    def __repr__(self) -> str:
        return f"OutboxWorker({self._id!r}, platforms={sorted(self._deliverers)})"

    # -- the loop -----------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim the due items, deliver them, settle each; returns how many were delivered.

        Items of different cases go concurrently, items of one case in order. A store error
        is raised after every claimed item was dealt with (unsettled items come back when
        their lease expires)."""
        _, delivered = await self._pass()
        return delivered

    async def run_forever(self, stop: asyncio.Event, idle_sleep: float = 0.5) -> None:
        """`run_once` until `stop` is set; waits `idle_sleep` only when nothing was due."""
        log.info("outbox worker %s started", self._id, extra={"worker": self._id})
        while not stop.is_set():
            claimed = 0
            try:
                claimed, _ = await self._pass()
            except StoreError as exc:  # operator-safe text: the stores redact their secrets
                log.error("outbox pass failed: %s", exc, extra={"worker": self._id})
            except Exception:
                log.exception("outbox pass failed unexpectedly", extra={"worker": self._id})
            if claimed:
                await asyncio.sleep(0)  # let others run; more may be due right away
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), idle_sleep)
        log.info("outbox worker %s stopped", self._id, extra={"worker": self._id})

    # -- one pass -----------------------------------------------------------------------------

    async def _pass(self) -> tuple[int, int]:
        """(claimed, delivered) of one claim."""
        items = await self._store.claim_outbox(self._clock(), self._batch, self._lease, self._id)
        if not items:
            return 0, 0
        groups: dict[tuple[str, str], list[OutboxItem]] = {}
        for item in items:  # claimed oldest first, so each group is in the case's order
            group = ("case", item.case_id) if item.case_id is not None else ("item", item.id)
            groups.setdefault(group, []).append(item)
        results = await asyncio.gather(
            *(self._deliver_in_order(group) for group in groups.values()),
            return_exceptions=True,
        )
        delivered = 0
        failure: BaseException | None = None
        for result in results:
            if isinstance(result, BaseException):
                failure = failure or result
            else:
                delivered += result
        if failure is not None:
            raise failure
        return len(items), delivered

    async def _deliver_in_order(self, items: Sequence[OutboxItem]) -> int:
        """Deliver one case's items one after the other; stop at the first that isn't posted.

        The store hands out one item per case at a time, so this is mostly one item; should
        it ever give more, the ones after a failure stay leased and come back after their
        lease, behind the failed one."""
        delivered = 0
        for item in items:
            if not await self._deliver_one(item):
                break
            delivered += 1
        return delivered

    async def _deliver_one(self, item: OutboxItem) -> bool:
        extra: dict[str, Any] = {
            "case_id": item.case_id,
            "item_id": item.id,
            "platform": item.platform,
            "attempt": item.attempts + 1,
            "worker": self._id,
        }
        if item.platform not in self._deliverers:
            # Another process delivers these (e.g. a `tick` without the Slack front door):
            # give it back at once by the wall clock, untried and uncounted.
            await self._store.defer_outbox(
                item.id, self._id, _utcnow() + timedelta(seconds=LEFT_FOR_OTHERS_SECONDS),
                f"no deliverer for platform {item.platform!r} in {self._id}",
                count_attempt=False)
            log.warning("outbox item left for a process that delivers %s", item.platform,
                        extra=extra)
            return False
        outcome, shown = await self._attempt(item)
        now = self._clock()
        if outcome.kind == "ok":
            await self._store.complete_outbox(item.id, self._id)
            log.info("outbox item delivered", extra=extra)
            return True
        reason = clean_error(outcome.reason or outcome.kind)
        shown = clean_error(shown if shown is not None else reason, _LOG_REASON_MAX)
        if outcome.kind == "retry":
            delay = self.retry_delay(item.attempts, outcome.retry_after)
            await self._store.defer_outbox(
                item.id, self._id, now + timedelta(seconds=delay), reason
            )
            log.warning(
                "outbox delivery will be retried in %.1fs: %s",
                delay,
                shown,
                extra={**extra, "retry_in": delay},
            )
            return False
        await self._store.defer_outbox(
            item.id, self._id, now + self._permanent, f"permanent failure: {reason}"
        )
        log.error(
            "outbox item of case %s failed permanently: %s; kept, retried after %s",
            item.case_id or "-",
            shown,
            self._permanent,
            extra=extra,
        )
        return False

    async def _attempt(self, item: OutboxItem) -> tuple[DeliveryOutcome, str | None]:
        """The deliverer's verdict, and what of its reason may be logged when not all of it
        (None: all). An exception is a retry."""
        deliverer = self._deliverers[item.platform]
        try:
            async with asyncio.timeout(self._timeout):
                return await deliverer.deliver(item), None
        except TimeoutError:
            reason = f"timed out after {self._timeout:.1f}s"
            return DeliveryOutcome.retry(reason=reason), None
        except Exception as exc:
            # the text may quote a response (names, bodies): kept with the item, cleaned of
            # secrets, for an operator to read; the logs get only the exception's type
            name = type(exc).__name__
            return DeliveryOutcome.retry(reason=f"{name}: {exc}"), f"{name} raised"

    def retry_delay(self, attempts: int, retry_after: float | None = None) -> float:
        """Seconds until the next try after `attempts` earlier failed tries: the platform's
        Retry-After exactly when given, else base·2^attempts capped at max_backoff, with
        jitter taking up to half of it off (so workers retrying together spread out)."""
        if retry_after is not None and math.isfinite(retry_after):
            return max(0.0, float(retry_after))
        ceiling = min(self._max, self._base * 2.0 ** min(max(attempts, 0), 64))
        return ceiling * (0.5 + 0.5 * self._jitter())
