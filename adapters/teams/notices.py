"""Notices (for other people than the speaker) as Teams posts in the outbox: the route is
bot.notice_routing's (the same as Slack's), the posts Teams'."""

from __future__ import annotations

from datetime import datetime

from adapters.teams.delivery import TeamsPost, outbox_item
from adapters.teams.render import Mention, render_activity
from adapters.teams.translate import thread_conversation_id
from bot.deployment import Directory
from bot.messages import Notice
from bot.notice_routing import Where, deliveries
from bot.records import CaseRecord, OutboxItem
from bot.store.base import Store


def conversation_tenants(directory: Directory, vendor_tenant: str | None) -> dict[str, str]:
    """The tenant of each Teams conversation the deployment file names (for proactive posts
    to a conversation no message came from yet)."""
    deployment = directory.deployment
    out: dict[str, str] = {}
    channels = deployment.vendor.channels.get("teams")
    if channels and vendor_tenant:
        for conversation in (channels.engineers, channels.escalations, channels.war_room):
            if conversation:
                out[conversation] = vendor_tenant
    orgs = [(c.teams_tenant, c.teams_conversations) for c in deployment.customers.values()]
    orgs += [(p.teams_tenant, p.teams_conversations) for p in deployment.partners.values()]
    for tenant, conversations in orgs:
        if tenant:
            out.update(dict.fromkeys(conversations, tenant))
    return out


def mentions_of(directory: Directory, person_ids: tuple[str, ...]) -> list[Mention]:
    out: list[Mention] = []
    for pid in person_ids:
        uid = directory.platform_id(pid, "teams")
        if uid:
            out.append(Mention(uid, directory.name_of(pid)))
    return out


async def notice_items(store: Store, directory: Directory, notice: Notice, now: datetime,
                       key: str | None = None) -> list[OutboxItem]:
    """Where a notice goes in Teams (bot.notice_routing), as outbox items in the case's
    order. With `key`, each item gets a stable idempotency key derived from it (re-deciding
    never posts twice)."""
    case = await store.get_case(notice.case_id)
    if case is None:
        return []
    mentions = mentions_of(directory, notice.mentions)
    items: list[OutboxItem] = []
    for delivery in deliveries(notice):
        conversation = _conversation(directory, case, delivery.where)
        if conversation is None:
            continue
        post = TeamsPost(op=delivery.op, conversation=conversation, card_key=delivery.card_key,
                         activity=render_activity(delivery.reply,
                                                  mentions if delivery.mention else ()))
        item_key = f"{key}#{len(items)}:teams" if key else None
        items.append(outbox_item(post, case.id, key=item_key, now=now))
    return items


def _conversation(directory: Directory, case: CaseRecord, where: Where) -> str | None:
    """The Teams conversation of a place, or None where this deployment has none."""
    if where == "origin":
        origin = case.origin
        if origin is None or origin.platform != "teams":
            return None
        return thread_conversation_id(origin.conversation, origin.thread)
    if where == "partner":
        customer = directory.customer(case.customer_id)
        partner = directory.deployment.partners.get(customer.partner or "")
        return partner.teams_conversations[0] if partner and partner.teams_conversations \
            else None
    channels = directory.deployment.vendor.channels.get("teams")
    return channels.of(where) if channels else None
