"""Notices (for other people than the speaker) as Slack posts in the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.slack import blocks
from adapters.slack.delivery import SlackPost, outbox_item
from bot.deployment import Directory
from bot.messages import Notice, Reply
from bot.records import OutboxItem
from bot.store.base import Store


async def notice_items(store: Store, directory: Directory, notice: Notice, now: datetime,
                       key: str | None = None) -> list[OutboxItem]:
    """Where a notice goes in Slack, as outbox items in the case's order: the engineers'
    card updated in place with the news under it, the customer's case thread, the
    escalation or war-room channel, the partner's shared channel. With `key`, each item gets
    a stable idempotency key derived from it (re-deciding the notice never posts twice)."""
    channels = directory.deployment.vendor.channels.get("slack")
    case = await store.get_case(notice.case_id)
    if case is None:
        return []
    reply = notice.reply
    headline = reply.text.splitlines()[0] if reply.text else ""
    mentions = " ".join(f"<@{uid}>" for pid in notice.mentions
                        if (uid := directory.platform_id(pid, "slack")))
    card_only = Reply(reply.text.split("\n", 1)[-1] if reply.card else reply.text,
                      card=reply.card, actions=reply.actions)
    items: list[OutboxItem] = []

    def add(post: SlackPost) -> None:
        item_key = f"{key}#{len(items)}:slack" if key else None
        items.append(outbox_item(post, case.id, key=item_key, now=now))

    if notice.audience == "engineers" and channels:
        card_key = f"{case.id}:engineers"
        if notice.kind == "new_case":
            add(SlackPost(op="card", channel=channels.engineers, card_key=card_key,
                          message=blocks.render_message(reply)))
        else:
            add(SlackPost(op="card", channel=channels.engineers, card_key=card_key,
                          message=blocks.render_message(card_only)))
            add(SlackPost(op="thread_reply", channel=channels.engineers, card_key=card_key,
                          message=_mentioning(blocks.render_message(Reply(headline)),
                                              mentions)))
    elif notice.audience == "war_room" and channels:
        # One war-room post per case, updated in place; what changed is said under it.
        if channels.war_room:
            card_key = f"{case.id}:war_room"
            if notice.kind == "response_plan":
                add(SlackPost(op="card", channel=channels.war_room, card_key=card_key,
                              message=blocks.render_message(Reply(
                                  reply.text.split("\n", 1)[-1], plan=reply.plan))))
                add(SlackPost(op="thread_reply", channel=channels.war_room, card_key=card_key,
                              message=blocks.render_message(Reply(headline))))
            else:
                add(SlackPost(op="card", channel=channels.war_room, card_key=card_key,
                              message=blocks.render_message(reply)))
    elif notice.audience == "escalations" and channels:
        if channels.escalations:
            add(SlackPost(op="post", channel=channels.escalations,
                          message=blocks.render_message(reply)))
    elif notice.audience == "customer":
        origin = case.origin
        if origin is None or origin.platform != "slack":
            return []
        if reply.card is not None:  # a text-only notice must not replace the case card
            add(SlackPost(op="card", channel=origin.conversation, thread_ts=origin.thread,
                          card_key=f"{case.id}:customer",
                          message=blocks.render_message(card_only)))
        add(SlackPost(op="post", channel=origin.conversation, thread_ts=origin.thread,
                      message=blocks.render_message(Reply(reply.text.split("\n")[0]
                                                          if reply.card else reply.text))))
    elif notice.audience == "partner":
        customer = directory.customer(case.customer_id)
        partner = directory.deployment.partners.get(customer.partner or "")
        if partner and partner.slack_channels:
            add(SlackPost(op="post", channel=partner.slack_channels[0],
                          message=blocks.render_message(Reply(headline))))
    return items


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
        rendered.insert(0, {"type": "section", "text": {"type": "mrkdwn", "text": mentions}})
    out["blocks"] = rendered
    return out
