"""Bulletins in the web chat's feed: maintenance for everyone of the customer, the monthly
report for its admins (with a link the web chat serves), the summary for the vendor's admins.
Each shows in the activity list and, as `news`, in the reader's conversation."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from adapters.web.render import reply_json
from bot.bulletins import audiences_of
from bot.handler import Handler
from bot.messages import Person, Reply
from bot.sla_view import when


async def bulletin_items(handler: Handler, person: Person,
                         after: datetime | None) -> list[dict[str, Any]]:
    directory = handler.directory
    audiences = audiences_of(person, list(directory.deployment.customers))
    tz = directory.customer(person.customer_id).tz if person.customer_id else ZoneInfo(
        directory.deployment.vendor.timezone)
    items: list[dict[str, Any]] = []
    for bulletin in await handler.store.bulletins(audiences, after):
        text = bulletin.text
        if bulletin.link:
            text += f"\nOpen it: /chat{bulletin.link}?user={person.id}"
        items.append({"at": bulletin.at.isoformat(), "when": when(bulletin.at, tz),
                      "case_id": "", "text": bulletin.text.split("\n")[0],
                      "news": reply_json(Reply(text))})
    return items
