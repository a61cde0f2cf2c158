"""Bulletins in Teams: a card in the customer's Teams conversation (the summary: the vendor's
engineers' channel), with a button to the report when the server can sign a link to it
(FRONTDOOR_PUBLIC_URL, FRONTDOOR_REPORT_SECRET); without one the card says how to ask for it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.bulletins import BulletinPlaces
from adapters.evidence_wiring import signed_link
from adapters.safe_text import strip_bidi_controls
from adapters.settings import Settings
from adapters.teams.delivery import TeamsPost, outbox_item, reachable
from bot.bulletins import VENDOR_ADMINS
from bot.deployment import Directory
from bot.evidence_records import BulletinRecord
from bot.records import OutboxItem
from bot.store.base import Store


def teams_card(text: str, link: str | None) -> dict[str, Any]:
    """A bulletin as a Teams message: the text, and the report's link as a button."""
    text = strip_bidi_controls(text)
    body: list[dict[str, Any]] = [{"type": "TextBlock", "text": line, "wrap": True,
                                   **({"weight": "Bolder"} if i == 0 else {})}
                                  for i, line in enumerate(text.split("\n"))]
    card: dict[str, Any] = {"type": "AdaptiveCard", "version": "1.5",
                            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                            "body": body, "msteams": {"width": "Full"}}
    if link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open the report", "url": link}]
    return {"type": "message", "summary": text.split("\n")[0][:200],
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                             "content": card}]}


def places(settings: Settings, store: Store, directory: Directory,
           fallback_service_url: str | None) -> BulletinPlaces:
    """The fan-out's Teams part (adapters/bulletins.py)."""

    async def items(bulletin: BulletinRecord, key: str, now: datetime) -> list[OutboxItem]:
        audience, _, customer_id = bulletin.audience.partition(":")
        if bulletin.audience == VENDOR_ADMINS:
            channels = directory.deployment.vendor.channels.get("teams")
            conversation = channels.engineers if channels else None
        else:
            customer = directory.deployment.customers.get(customer_id)
            conversation = customer.teams_conversations[0] \
                if customer and customer.teams_conversations else None
        if conversation is None:
            return []
        link = signed_link(settings, bulletin.link) if bulletin.link else None
        text = bulletin.text if link or not bulletin.link else (
            f"{bulletin.text}\nAsk me for the full report in chat (“report "
            f"{bulletin.data.get('customer_id', 'all')} {bulletin.data.get('period')}”).")
        post = TeamsPost(op="post", conversation=conversation, activity=teams_card(text, link))
        item = outbox_item(post, f"bulletin:{audience}", key=f"{key}#teams", now=now)
        return [item] if await reachable(store, item, fallback_service_url) else []

    return items
