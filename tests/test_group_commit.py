"""Acknowledgements written together (bot/group_commit.py): every caller's item is kept, in
fewer store calls than callers, and a failed write is every waiting caller's failure, so no
event is acknowledged that the store does not hold. Real SQLite and Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import pytest

from bot.errors import StoreError
from bot.group_commit import GroupedEnqueue
from bot.records import OutboxItem
from bot.store import Store
from tests.conftest import MakeStore
from tests.test_store_contract import an_item


class CountingStore:
    """The real store, counting its enqueue calls (a spy: every call goes through)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.calls: list[int] = []

    async def enqueue_outbox(self, items: Iterable[OutboxItem]) -> int:
        batch = list(items)
        self.calls.append(len(batch))
        return await self.store.enqueue_outbox(batch)


async def test_concurrent_items_are_all_kept_in_fewer_store_calls(store: Store) -> None:
    spy = CountingStore(store)
    grouped = GroupedEnqueue(spy, max_batch=64)  # type: ignore[arg-type]

    await asyncio.gather(*(grouped.enqueue(an_item(f"e{i}", case_id=f"slack-in:C:{i}"))
                           for i in range(200)))

    assert await store.outbox_pending() == 200
    assert sum(spy.calls) == 200
    assert len(spy.calls) < 20 and max(spy.calls) <= 64


async def test_an_idle_item_is_written_at_once_on_its_own(store: Store) -> None:
    spy = CountingStore(store)
    grouped = GroupedEnqueue(spy)  # type: ignore[arg-type]

    await grouped.enqueue(an_item("alone"))

    assert spy.calls == [1] and await store.outbox_pending() == 1


async def test_a_retried_key_is_kept_once(store: Store) -> None:
    grouped = GroupedEnqueue(store)

    await asyncio.gather(*(grouped.enqueue(an_item(f"r{i}", key="slack-event:Ev1"))
                           for i in range(3)))

    assert await store.outbox_pending() == 1


async def test_a_failed_write_fails_every_caller_it_carried(make_store: MakeStore) -> None:
    store = await make_store()
    await store.close()
    grouped = GroupedEnqueue(store)

    results = await asyncio.gather(*(grouped.enqueue(an_item(f"x{i}")) for i in range(10)),
                                   return_exceptions=True)

    assert all(isinstance(r, StoreError) for r in results), results


def test_a_batch_must_hold_at_least_one_item(store: Store) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        GroupedEnqueue(store, max_batch=0)
