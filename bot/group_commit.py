"""Items from many concurrent callers written to the outbox in one store call.

Why: acknowledging a Slack event means writing it to the store first, and under load
hundreds of acknowledgements a second would each take their own write (with SQLite, each
its own transaction behind one connection). Here a caller's item joins whatever is waiting;
one call writes them all and every caller learns the result of the call that carried its
item. Idle, an item goes at once (the first caller starts the write); busy, the write in
flight carries the ones that arrived during the previous one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.errors import StoreError
from bot.records import OutboxItem
from bot.store.base import Store

MAX_BATCH = 256  # items per store call


@dataclass(slots=True)
class _Waiting:
    item: OutboxItem
    done: asyncio.Future[None]


class GroupedEnqueue:
    """`await enqueue(item)` returns once the item is in the store, or raises the store's
    error (then it is not: the caller must not acknowledge)."""

    def __init__(self, store: Store, max_batch: int = MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self._store = store
        self._max = max_batch
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def enqueue(self, item: OutboxItem) -> None:
        waiting = _Waiting(item, asyncio.get_running_loop().create_future())
        self._waiting.append(waiting)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        await asyncio.shield(waiting.done)  # a caller that gives up leaves the write alone

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:self._max], self._waiting[self._max:]
            try:
                await self._store.enqueue_outbox([w.item for w in batch])
            except Exception as exc:
                _settle(batch, exc)
            except BaseException:  # cancelled (shutting down): nobody may wait for ever
                _settle(batch + self._waiting, StoreError(
                    "the store write was cancelled (shutting down); try again"))
                self._waiting = []
                raise
            else:
                _settle(batch, None)


def _settle(batch: list[_Waiting], error: Exception | None) -> None:
    for w in batch:
        if w.done.done():
            continue
        if error is None:
            w.done.set_result(None)
        else:
            w.done.set_exception(error)
