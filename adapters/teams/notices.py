"""Notices (for other people than the speaker) as Teams posts in the outbox.

The same routing as Slack's (`adapters.slack.notices`), rendered for Teams: the engineers'
card updated in place with the news posted under it, the customer's case card and thread
(or personal chat), the escalation and war-room channels, the partner's conversation.
"""

from __future__ import annotations

from datetime import datetime

from adapters.teams.cards import Mention, render_activity
from adapters.teams.delivery import TeamsPost, outbox_item
from adapters.teams.translate import thread_conversation_id
from bot.deployment import Directory
from bot.messages import Notice, Reply
from bot.records import OutboxItem
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
    """Where a notice goes in Teams, as outbox items in the case's order. With `key`, each
    item gets a stable idempotency key derived from it (re-deciding never posts twice)."""
    channels = directory.deployment.vendor.channels.get("teams")
    case = await store.get_case(notice.case_id)
    if case is None:
        return []
    reply = notice.reply
    headline = reply.text.splitlines()[0] if reply.text else ""
    mentions = mentions_of(directory, notice.mentions)
    card_only = Reply(reply.text.split("\n", 1)[-1] if reply.card else reply.text,
                      card=reply.card, actions=reply.actions)
    items: list[OutboxItem] = []

    def add(post: TeamsPost) -> None:
        item_key = f"{key}#{len(items)}:teams" if key else None
        items.append(outbox_item(post, case.id, key=item_key, now=now))

    if notice.audience == "engineers" and channels:
        card_key = f"{case.id}:engineers"
        if notice.kind == "new_case":
            add(TeamsPost(op="card", conversation=channels.engineers, card_key=card_key,
                          activity=render_activity(reply, mentions)))
        elif reply.card is not None:
            add(TeamsPost(op="card", conversation=channels.engineers, card_key=card_key,
                          activity=render_activity(card_only)))
            add(TeamsPost(op="thread_reply", conversation=channels.engineers,
                          card_key=card_key,
                          activity=render_activity(Reply(headline), mentions)))
        else:  # news without a card (a reminder): under the case's card, whole
            add(TeamsPost(op="thread_reply", conversation=channels.engineers,
                          card_key=card_key, activity=render_activity(reply, mentions)))
    elif notice.audience == "war_room" and channels:
        # One war-room post per case, updated in place; what changed is said under it.
        if channels.war_room:
            card_key = f"{case.id}:war_room"
            if notice.kind == "response_plan":
                add(TeamsPost(op="card", conversation=channels.war_room, card_key=card_key,
                              activity=render_activity(Reply(reply.text.split("\n", 1)[-1],
                                                             plan=reply.plan))))
                add(TeamsPost(op="thread_reply", conversation=channels.war_room,
                              card_key=card_key,
                              activity=render_activity(Reply(headline), mentions)))
            else:
                add(TeamsPost(op="card", conversation=channels.war_room, card_key=card_key,
                              activity=render_activity(reply, mentions)))
    elif notice.audience == "escalations" and channels:
        if channels.escalations:
            add(TeamsPost(op="post", conversation=channels.escalations,
                          activity=render_activity(reply, mentions)))
    elif notice.audience == "customer":
        origin = case.origin
        if origin is None or origin.platform != "teams":
            return []
        where = thread_conversation_id(origin.conversation, origin.thread)
        if reply.card is not None:
            add(TeamsPost(op="card", conversation=where, card_key=f"{case.id}:customer",
                          activity=render_activity(card_only)))
        add(TeamsPost(op="post", conversation=where, activity=render_activity(
            Reply(reply.text.split("\n")[0] if reply.card else reply.text), mentions)))
    elif notice.audience == "partner":
        customer = directory.customer(case.customer_id)
        partner = directory.deployment.partners.get(customer.partner or "")
        if partner and partner.teams_conversations:
            add(TeamsPost(op="post", conversation=partner.teams_conversations[0],
                          activity=render_activity(Reply(headline), mentions)))
    return items
