"""Bulletins (bot/bulletins.py) delivered where people work.

One `bulletin` outbox item is fanned out here into one item per place, each with its own
idempotency key, so a retried fan-out posts nothing twice. Each platform says what its places
are (adapters/slack/bulletins.py: maintenance in the customer's support channel, the monthly
report as a PDF uploaded to each customer admin's DM, the summary to each vendor admin's DM;
adapters/teams/bulletins.py: a card in the customer's conversation with a signed link to the
report); the composition root hands them to the fan-out. The web chat reads bulletins from the
store (its feed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from pydantic import ValidationError

from bot.evidence_records import BulletinRecord
from bot.outbox import DeliveryOutcome
from bot.records import OutboxItem
from bot.store.base import Store

BulletinPlaces = Callable[[BulletinRecord, str, datetime], Awaitable[list[OutboxItem]]]
"""A platform's posts of a bulletin (given its outbox key, for theirs), as outbox items."""


class BulletinFanout:
    """The `bulletin` deliverer: one item per place, enqueued (idempotently)."""

    def __init__(self, store: Store, places: Sequence[BulletinPlaces]) -> None:
        self.store = store
        self.places = list(places)

    async def deliver(self, item: OutboxItem) -> DeliveryOutcome:
        try:
            bulletin = BulletinRecord.model_validate(item.payload)
        except ValidationError as exc:
            return DeliveryOutcome.failed(f"malformed bulletin: {exc.errors()[0]}")
        now = datetime.now(UTC)
        items: list[OutboxItem] = []
        for places in self.places:
            items += await places(bulletin, item.key, now)
        if items:
            await self.store.enqueue_outbox(items)
        return DeliveryOutcome.ok()
