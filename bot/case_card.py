"""The case card: a case and its clocks as one `Reply`, with the buttons the reader may press
(built once here for every channel; each platform only renders it)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.access import may
from bot.cases import ARTICLE_SENT, SEND_ARTICLE, TRANSITIONS
from bot.choice_ids import case_action
from bot.deployment import Directory
from bot.messages import (
    CUSTOMER_ROLES,
    ArticleLink,
    CaseCard,
    Choice,
    ClockLine,
    Person,
    Reply,
    Tone,
    Urgency,
    articles_text,
)
from bot.records import CaseEventRecord, CaseRecord
from bot.response_plan import entries, formed, item_id
from bot.sla_view import (
    case_status,
    clock_lines,
    clock_text,
    clock_words,
    coverage,
    next_due,
    when,
)
from policy.pack import Pack

# Every case button: its label (short enough to stay whole at a chat column's width) and what
# it does. Which of them a reader gets, and in which order, is `case_actions`.
_BUTTONS: dict[str, tuple[str, str]] = {
    "acknowledge": ("Acknowledge", "Take it and stop the response clock"),
    "assign": ("Assign to me", "Make yourself the owner"),
    "ask_customer": ("Ask customer", "Request information (pauses what the policy pauses)"),
    "workaround": ("Workaround provided", "A temporary fix is in place"),
    "resolve": ("Resolve", "The problem is fixed"),
    "reclassify": ("Reclassify", "Change type or priority, with a reason"),
    "escalate": ("Escalate", "Hand to the next support level"),
    "provide_info": ("Answer", "Answer the engineer's question (the clocks resume)"),
    "start_progress": ("Resume", "Continue without waiting for the customer"),
    "comment": ("Add a comment", "Add information to the case"),
    "close": ("Close", "Confirm the resolution and close"),
    "reopen": ("Reopen", "The problem is back"),
}
# What comes next on a case in each status: these lead (in this order, the first in sight),
# the rest follow in `_BUTTONS`' order. A `_PRIMARY` action leading its list is styled as the
# main one.
_NEXT: dict[str, tuple[str, ...]] = {
    "new": ("acknowledge", "ask_customer", "assign"),
    "acknowledged": ("workaround", "ask_customer", "comment"),
    "in_progress": ("workaround", "ask_customer", "comment"),
    "waiting_on_customer": ("provide_info", "start_progress", "comment", "resolve"),
    "workaround_provided": ("resolve", "comment", "ask_customer"),
    "resolved": ("close", "reopen", "comment"),
    "closed": ("reopen",),
}
_PRIMARY = frozenset({"acknowledge", "provide_info", "close", "resolve"})
EXPLAIN = "explain"  # the case action that answers "Why?" with the clocks' arithmetic


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
    """The buttons `person` may press on `case` now, the likeliest next step first (platforms
    show the first `VISIBLE_BUTTONS` and fold the rest behind "More…")."""
    lead = _NEXT.get(case.status, ())
    ordered = [*lead, *(a for a in _BUTTONS if a not in lead)]
    out: list[Choice] = []
    for action in ordered:
        label, hint = _BUTTONS[action]
        allowed_from, _ = TRANSITIONS[action]
        if case.status not in allowed_from or not may(person, action, case.customer_id):
            continue
        if action == "assign" and case.assignee == person.id:
            continue
        if action == "start_progress" and case.status != "waiting_on_customer":
            continue  # "Resume" resumes a wait on the customer, nothing else
        if action == "comment" and person.is_vendor:
            label, hint = "Post an update", "Tell the customer where things stand"
        primary = not out and action in _PRIMARY and action in lead
        out.append(Choice(str(case_action(action, case.id)), label, hint, primary=primary))
    return tuple(out)


def priority_tone(pack: Pack, priority: str | None) -> Tone:
    """How loud a priority is: the levels a pack calls critical, catastrophic or highest (and
    any ranked above them) are critical; one it calls high is high; low or lowest, low."""
    if not priority or priority not in pack.priorities:
        return ""
    ladder = pack.ordered_priorities()
    words = {p: set(re.findall(r"[a-z]+", pack.priorities[p].label.lower())) for p in ladder}
    loudest = [i for i, p in enumerate(ladder) if words[p] & {"critical", "catastrophic",
                                                               "highest", "emergency"}]
    index = ladder.index(priority)
    if loudest and index <= max(loudest):
        return "critical"
    if "high" in words[priority]:
        return "high"
    if words[priority] & {"low", "lowest", "minor"}:
        return "low"
    return "normal"


def case_line(directory: Directory, case: CaseRecord) -> str:
    """The case in one line, for what is about it (a form, a war-room post): "ACME-4 ·
    P1 – Critical · Orders API returns 500"."""
    pack = directory.pack_of(case.customer_id)
    priority = pack.priorities[case.priority].label if case.priority in pack.priorities \
        else None
    return " · ".join(x for x in (case.id, priority, case.title) if x)


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
    due = next_due(status, clocks, now,
                   "you" if person.role in CUSTOMER_ROLES else "the customer")
    card = CaseCard(
        case_id=case.id, title=case.title, customer=customer.name,
        case_type=pack.case_types[case.case_type].label if case.case_type in pack.case_types
        else case.case_type,
        priority=priority, environment=case.environment,
        status=case.status.replace("_", " "),
        assignee=directory.name_of(case.assignee) if case.assignee else None,
        clocks=clocks, facts=tuple(facts), flags=tuple(flags),
        urgency=_urgency(clocks, case), next_due=due,
        priority_tone=priority_tone(pack, case.priority),
        explain=Choice(str(case_action(EXPLAIN, case.id)), "Why?",
                       "How each due was worked out") if clocks else None,
        articles=article_links(person, case, events),
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
    if due:
        lines.append(f"Next: {due.text}")
    if flags:
        lines.append("⚠ " + " · ".join(flags))
    lines += clock_text(clocks)
    lines += [f"{k}: {v}" for k, v in facts]
    if card.articles:
        lines += ["Articles:", *articles_text(card.articles)]
    return Reply("\n".join(lines), actions=case_actions(person, case), card=card)



def explain_reply(
    directory: Directory, person: Person, case: CaseRecord,
    events: Sequence[CaseEventRecord], now: datetime,
) -> Reply:
    """"Why?": every clock of the case with how its due was worked out, and the policy's
    notes — what a platform that can't fold the card's details away answers the button with
    (only the person who asked sees it)."""
    pack = directory.pack_of(case.customer_id)
    customer = directory.customer(case.customer_id)
    tz = reader_tz(directory, person, case)
    status = case_status(pack, customer, case, events, now, tz)
    if status is None:
        return Reply(f"{case.id} is a consulting request: no support SLA applies.",
                     private=True)
    clocks = clock_lines(status, tz, now, coverage(pack, customer, status))
    lines = [f"How the dues of {case.id} were worked out (times in {tz.key}):"]
    for line in clocks:
        lines.append(f"• {line.label}: {clock_words(line)}")
        if line.explanation.strip():
            lines.append(f"  {line.explanation.strip()}")
    lines += [f"Note: {n.text}" + ("" if n.clause in n.text else f" ({n.clause})")
              for n in status.notes]
    return Reply("\n".join(lines), private=True)
