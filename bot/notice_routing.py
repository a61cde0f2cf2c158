"""Where a notice goes, for any chat platform: which of the deployment's places, and how.

Slack and Teams route notices the same way (the engineers' card updated in place with the
news under it, the customer's case card and thread, the escalation and war-room channels,
the partner's channel); only the posts differ. So the route is decided here once and each
adapter turns a Delivery into its own post.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from bot.messages import Notice, Reply, articles_text

Where = Literal["engineers", "war_room", "escalations", "origin", "partner"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One post of a notice. `where` is a place the platform resolves (its engineers'
    channel …, `origin` the case's own thread when the case came from that platform); `op`
    a new post, the case's card there (updated in place once posted), or a reply under that
    card; `mention`: the notice's people are mentioned in it."""

    where: Where
    op: Literal["post", "card", "thread_reply"]
    reply: Reply
    card_key: str | None = None
    mention: bool = False


def deliveries(notice: Notice) -> list[Delivery]:
    """The posts of a notice, in the order they must arrive."""
    reply, case_id = notice.reply, notice.case_id
    # The news is the first line, and the articles it sent (listed under it); the rest is
    # the card's.
    lines = reply.text.split("\n")
    said = 1 + len(articles_text(reply.articles))
    headline = Reply("\n".join(lines[:said]) if reply.text else "", articles=reply.articles)
    card_only = Reply("\n".join(lines[said:]) if reply.card else reply.text,
                      card=reply.card, actions=reply.actions)
    if notice.audience == "engineers":
        card = f"{case_id}:engineers"
        if notice.kind == "new_case":
            return [Delivery("engineers", "card", reply, card)]
        if reply.card is not None:
            return [Delivery("engineers", "card", card_only, card),
                    Delivery("engineers", "thread_reply", headline, card, mention=True)]
        # news without a card (a reminder): under the case's card, whole
        return [Delivery("engineers", "thread_reply", reply, card, mention=True)]
    if notice.audience == "war_room":
        # One war-room post per case, updated in place; what changed is said under it.
        # The post names the war team with mentions where the platform can.
        card = f"{case_id}:war_room"
        if notice.kind == "response_plan":
            return [Delivery("war_room", "card",
                             Reply(reply.text.split("\n", 1)[-1], plan=reply.plan), card,
                             mention=True),
                    Delivery("war_room", "thread_reply", headline, card)]
        return [Delivery("war_room", "card", reply, card, mention=True)]
    if notice.audience == "escalations":
        return [Delivery("escalations", "post", reply)]
    if notice.audience == "customer":
        out = []
        if reply.card is not None:  # a text-only notice must not replace the case card
            out.append(Delivery("origin", "card", card_only, f"{case_id}:customer"))
        # the news is posted where the customer reads on, with its answer box if it asks and
        # a survey's scores
        news = headline if reply.card else Reply(reply.text, choices=reply.choices)
        out.append(Delivery("origin", "post", replace(news, form=reply.form)))
        return out
    return [Delivery("partner", "post", headline)]
