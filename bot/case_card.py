"""The case card: a case and its clocks as one `Reply`, with the buttons the reader may press
(built once here for every channel; each platform only renders it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.access import may
from bot.cases import ARTICLE_SENT, SEND_ARTICLE, TRANSITIONS
from bot.choice_ids import case_action
from bot.deployment import Directory
from bot.messages import (
    ArticleLink,
    CaseCard,
    Choice,
    ClockLine,
    Person,
    Reply,
    Urgency,
    articles_text,
)
from bot.records import CaseEventRecord, CaseRecord
from bot.response_plan import entries, formed, item_id
from bot.sla_view import case_status, clock_lines, clock_text, coverage, when

_BUTTONS: list[tuple[str, str, str]] = [
    ("acknowledge", "Acknowledge", "Take it and stop the response clock"),
    ("assign", "Assign to me", "Make yourself the owner"),
    ("ask_customer", "Ask customer", "Request information (pauses what the policy pauses)"),
    ("workaround", "Workaround provided", "A temporary fix is in place"),
    ("resolve", "Resolve", "The problem is fixed"),
    ("reclassify", "Reclassify", "Change type or priority, with a reason"),
    ("escalate", "Escalate", "Hand to the next support level"),
    ("provide_info", "Reply with information", "Answer the engineer's question"),
    ("start_progress", "Resume", "Continue without waiting for the customer"),
    ("comment", "Add a comment", "Add information to the case"),
    ("close", "Close", "Confirm the resolution and close"),
    ("reopen", "Reopen", "The problem is back"),
]


def channel_reader(role: str, customer_id: str | None = None) -> Person:
    """A stand-in reader for a channel audience (the engineers' channel, a customer's
    thread): what that channel may be shown, in whose time zone."""
    if role == "engineer":
        return Person(id="channel:engineers", name="engineers", role="engineer")
    return Person(id=f"channel:{customer_id}", name="customer", role="customer_user",
                  customer_id=customer_id)


def reader_tz(directory: Directory, person: Person, case: CaseRecord) -> ZoneInfo:
    """Customers read times in their organisation's zone; the vendor in its own."""
    if person.customer_id:
        return directory.customer(person.customer_id).tz
    if person.is_vendor:
        return ZoneInfo(directory.deployment.vendor.timezone)
    return directory.customer(case.customer_id).tz


def case_actions(person: Person, case: CaseRecord) -> tuple[Choice, ...]:
    out = []
    for action, label, hint in _BUTTONS:
        allowed_from, _ = TRANSITIONS[action]
        if case.status not in allowed_from or not may(person, action, case.customer_id):
            continue
        if action == "assign" and case.assignee == person.id:
            continue
        if action == "start_progress" and case.status != "waiting_on_customer":
            continue  # "Resume" resumes a wait on the customer, nothing else
        if action == "comment" and person.is_vendor:
            label, hint = "Post an update", "Tell the customer where things stand"
        out.append(Choice(str(case_action(action, case.id)), label, hint))
    return tuple(out)


CONSULTING_FLAG = "Consulting request (no support SLA)"


def _urgency(clocks: Sequence[ClockLine], case: CaseRecord) -> Urgency:
    if any(c.urgency == "breached" for c in clocks):
        return "breached"
    if case.escalation_level:
        return "escalated"
    return "due_soon" if any(c.urgency == "due_soon" for c in clocks) else ""


def article_links(person: Person, case: CaseRecord,
                  events: Sequence[CaseEventRecord]) -> tuple[ArticleLink, ...]:
    """The vendor's view of a case's articles: each with what became of it (shown to the
    customer before filing, found for the case, sent) and the button that sends it."""
    if not person.is_vendor:
        return ()
    sent = {e.data.get("article") for e in events if e.kind == ARTICLE_SENT}
    may_send = case.status in TRANSITIONS[SEND_ARTICLE][0] \
        and may(person, SEND_ARTICLE, case.customer_id)
    out = []
    for article in case.articles:
        note = "sent to the customer" if article.id in sent else \
            "shown to the customer before filing" if article.shown else "found for this case"
        action = Choice(str(case_action(f"{SEND_ARTICLE}/{article.id}", case.id)),
                        "Send to customer", f"Send “{article.title}” to the customer") \
            if may_send else None
        out.append(ArticleLink(article.id, article.title, article.url, article.excerpt, note,
                               action))
    return tuple(out)


def case_card(
    directory: Directory, person: Person, case: CaseRecord,
    events: Sequence[CaseEventRecord], now: datetime, headline: str | None = None,
) -> Reply:
    pack = directory.pack_of(case.customer_id)
    customer = directory.customer(case.customer_id)
    tz = reader_tz(directory, person, case)
    status = case_status(pack, customer, case, events, now, tz)
    clocks = clock_lines(status, tz, now, coverage(pack, customer, status) if status else None)
    priority = pack.priorities[case.priority].label if case.priority else None
    kind = case.details.get("kind", "support")
    facts: list[tuple[str, str]] = []
    if case.deployment:
        facts.append(("Deployment", f"{case.deployment} ({case.environment})"))
    for name, value in case.details.items():
        if name in pack.intake:
            facts.append((pack.intake[name].label, value))
    flags: list[str] = [f"{c.label} missed" for c in clocks if c.urgency == "breached"]
    if kind == "consulting-request":
        flags.append(CONSULTING_FLAG)
    if case.escalation_level:
        level = pack.escalation.levels.get(case.escalation_level)
        flags.append(f"Escalated to {level.name if level else case.escalation_level}")
    flags += [f"{c.label}: under a quarter left" for c in clocks if c.urgency == "due_soon"]
    if case.hypercare:
        facts.append(("Hypercare", "yes"))
    war = pack.escalation.war_team
    agreed = entries(events)
    if war is not None and (agreed or formed(pack, case)):
        done = [label for label in war.response_plan if item_id(label) in agreed]
        facts.append(("Response plan", f"{len(done)} of {len(war.response_plan)} agreed"
                      + (f" ({', '.join(done)})" if done else " (war team formed)")))
    if status and status.status_update_every and status.next_status_update:
        facts.append(("Next status update", when(status.next_status_update, tz)))
    card = CaseCard(
        case_id=case.id, title=case.title, customer=customer.name,
        case_type=pack.case_types[case.case_type].label if case.case_type in pack.case_types
        else case.case_type,
        priority=priority, environment=case.environment,
        status=case.status.replace("_", " "),
        assignee=directory.name_of(case.assignee) if case.assignee else None,
        clocks=clocks, facts=tuple(facts), flags=tuple(flags),
        urgency=_urgency(clocks, case), articles=article_links(person, case, events),
    )
    lines = [headline] if headline else []
    lines.append(f"{case.id} · {card.title}")
    summary = f"{card.case_type}"
    if priority:
        summary += f" · {priority}"
    summary += f" · {card.status}"
    if card.assignee:
        summary += f" · {card.assignee}"
    lines.append(f"{customer.name} · {summary}")
    if flags:
        lines.append("⚠ " + " · ".join(flags))
    lines += clock_text(clocks)
    lines += [f"{k}: {v}" for k, v in facts]
    if card.articles:
        lines += ["Articles:", *articles_text(card.articles)]
    return Reply("\n".join(lines), actions=case_actions(person, case), card=card)

