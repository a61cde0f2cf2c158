"""Notices (for other people than the speaker) as Slack posts in the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.slack import render
from adapters.slack.delivery import SlackPost, outbox_item
from bot.deployment import Directory
from bot.messages import Notice
from bot.notice_routing import Where, deliveries
from bot.records import CaseRecord, OutboxItem
from bot.store.base import Store


async def notice_items(store: Store, directory: Directory, notice: Notice, now: datetime,
                       key: str | None = None) -> list[OutboxItem]:
    """Where a notice goes in Slack (bot.notice_routing), as outbox items in the case's
    order. With `key`, each item gets a stable idempotency key derived from it (re-deciding
    the notice never posts twice)."""
    case = await store.get_case(notice.case_id)
    if case is None:
        return []
    mentions = " ".join(f"<@{uid}>" for pid in notice.mentions
                        if (uid := directory.platform_id(pid, "slack")))
    items: list[OutboxItem] = []
    for delivery in deliveries(notice):
        place = _place(directory, case, delivery.where)
        if place is None:
            continue
        message = render.render_message(delivery.reply)
        if delivery.mention:
            message = _mentioning(message, mentions)
        post = SlackPost(op=delivery.op, channel=place[0], thread_ts=place[1],
                         card_key=delivery.card_key, message=message)
        item_key = f"{key}#{len(items)}:slack" if key else None
        items.append(outbox_item(post, case.id, key=item_key, now=now))
    return items


def _place(directory: Directory, case: CaseRecord, where: Where) -> tuple[str, str | None] | None:
    """(channel, thread) in Slack, or None where this deployment has no such place."""
    if where == "origin":
        origin = case.origin
        if origin is None or origin.platform != "slack":
            return None
        return origin.conversation, origin.thread
    if where == "partner":
        customer = directory.customer(case.customer_id)
        partner = directory.deployment.partners.get(customer.partner or "")
        return (partner.slack_channels[0], None) if partner and partner.slack_channels \
            else None
    channels = directory.deployment.vendor.channels.get("slack")
    channel = channels.of(where) if channels else None
    return (channel, None) if channel else None


def _mentioning(message: dict[str, Any], mentions: str) -> dict[str, Any]:
    """Put Slack mentions (`<@U…>`, which the renderer would escape) before the text."""
    if not mentions:
        return message
    out = dict(message)
    out["text"] = f"{mentions} {message.get('text', '')}"
    rendered = [dict(b) for b in message.get("blocks") or []]
    for block in rendered:
        if block.get("type") == "section" and isinstance(block.get("text"), dict):
            block["text"] = {**block["text"], "text": f"{mentions} {block['text']['text']}"}
            break
    else:
        rendered.insert(0, {"type": "section", "text": render.mrkdwn_text(mentions)})
    out["blocks"] = rendered
    return out
