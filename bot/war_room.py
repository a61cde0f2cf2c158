"""The war-room post: who is on a case's war team, and its response plan as fields to fill in.

Konneqt (Service Levels): a missed workaround or resolution target escalates the incident to
the executive team, which forms a war team of support engineers, executives and the
customer's representatives; it sets a response plan. The post is built from the case history
every time, so posting it again (same card key) updates it in place: each item open (☐) or
agreed (☑, with what, who and when), each with the button that fills it in. The scheduler
posts it when a missed target forms the war team, the handler when an engineer escalates to
the war team's level or fills in an item.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.access import may
from bot.case_card import case_card, case_line, channel_reader
from bot.choice_ids import action_form, case_action
from bot.deployment import Directory
from bot.messages import (
    WAR_ROOM_TITLE,
    Choice,
    Form,
    FormField,
    Notice,
    Person,
    PlanItem,
    PlanMember,
    Reply,
    ResponsePlan,
)
from bot.records import OPEN_STATUSES, CaseEventRecord, CaseRecord
from bot.response_plan import (
    RESPONSE_PLAN,
    Item,
    cadence_id,
    cadence_options,
    cadence_text,
    entries,
    items,
    require_war_team,
)
from bot.sla_view import case_status, when
from policy.pack import WarTeam


def plan_choice_id(case_id: str, item: Item) -> str:
    """The button of one item: a case action whose action names the item
    (``case:response_plan/technical-assessment:ACME-4``)."""
    return str(case_action(f"{RESPONSE_PLAN}/{item.id}", case_id))


def _war(directory: Directory, case: CaseRecord) -> WarTeam:
    war = directory.pack_of(case.customer_id).escalation.war_team
    if war is None:
        raise ValueError(f"{case.id}: its policy pack has no war team to post")
    return war


def _policy_cadence(directory: Directory, case: CaseRecord,
                    events: Sequence[CaseEventRecord], now: datetime) -> timedelta | None:
    """How often the policy wants status updates on this case (the cadence item's default):
    its own table's, not what the plan since agreed."""
    policy_events = [e for e in events if e.kind != "response_plan"]
    status = case_status(directory.pack_of(case.customer_id),
                         directory.customer(case.customer_id), case, policy_events, now)
    return status.status_update_every if status else None


def members(directory: Directory, case: CaseRecord) -> tuple[PlanMember, ...]:
    """The war team, each person once: the vendor's support engineers and executives (the
    deployment's engineers and admins) and the customer's representatives (its admins, else
    its users)."""
    customer = directory.customer(case.customer_id)
    vendor = directory.engineers()
    reps = [u for u in customer.users if u.role == "customer_admin"] or list(customer.users)
    return (*(PlanMember(p.id, p.name, "support engineer") for p in vendor
              if p.role == "engineer"),
            *(PlanMember(p.id, p.name, "executive") for p in vendor if p.role == "admin"),
            *(PlanMember(u.id, u.name, "customer representative") for u in reps))


def members_text(team: Sequence[PlanMember]) -> str:
    """'War team — support engineers: Ana, Ben · executives: Olivia · customer
    representatives: Alice' (every platform names them the same; mentions replace names)."""
    groups: dict[str, list[str]] = {}
    for member in team:
        groups.setdefault(member.role, []).append(member.name)
    return "War team — " + " · ".join(f"{role}s: {', '.join(names)}"
                                       for role, names in groups.items())


def item_button(case_id: str, item: Item, agreed: bool) -> Choice:
    """An item's one button: "Fill in <item>" (the item's main action, while it is open),
    or "Change" once agreed."""
    label = "Change" if agreed else f"Fill in {item.label[:1].lower()}{item.label[1:]}"
    return Choice(plan_choice_id(case_id, item), label, item.label, primary=not agreed)


def war_room_reply(directory: Directory, case: CaseRecord, events: Sequence[CaseEventRecord],
                   now: datetime, headline: str | None = None,
                   reader: Person | None = None) -> Reply:
    """The post. `reader` None is the war-room channel (the vendor's): every item gets its
    button while the case is open; a person gets the buttons only if they may fill it in."""
    war = _war(directory, case)
    customer = directory.customer(case.customer_id)
    tz = ZoneInfo(directory.deployment.vendor.timezone)
    card = case_card(directory, reader or channel_reader("engineer"), case, events, now).card
    assert card is not None
    team = members(directory, case)
    agreed = entries(events)
    buttons = case.status in OPEN_STATUSES and (
        reader is None or may(reader, RESPONSE_PLAN, case.customer_id))
    policy_every = _policy_cadence(directory, case, events, now)
    plan_items: list[PlanItem] = []
    lines = [headline] if headline else []
    lines += [f"{WAR_ROOM_TITLE}{case_line(directory, case)} ({customer.name})"]
    if card.next_due is not None:
        lines.append(card.next_due.text)
    lines.append(members_text(team) + ".")
    for item in items(war):
        entry = agreed.get(item.id)
        action = item_button(case.id, item, entry is not None) if buttons else None
        if entry is None:
            hint = f"the policy's cadence: {cadence_text(cadence_id(policy_every))}" \
                if item.cadence and policy_every else ""
            plan_items.append(PlanItem(item.number, item.label, action=action, hint=hint))
        else:
            plan_items.append(PlanItem(item.number, item.label, entry.shown,
                                       entry.actor_name, when(entry.at, tz), action))
    plan = ResponsePlan(case.id, tuple(plan_items), war.clause, case_title=case.title,
                        customer=customer.name, priority=card.priority,
                        priority_tone=card.priority_tone, next_due=card.next_due,
                        members=team)
    lines.append(f"{plan.title}:")
    for shown in plan.items:
        if shown.done:
            lines.append(f"☑ {shown.number}. {shown.label}: {shown.value} — {shown.by}, "
                         f"{shown.at}")
            continue
        hint = f" ({shown.hint})" if shown.hint else ""
        lines.append(f"☐ {shown.number}. {shown.label} — open{hint}")
    if buttons:
        lines.append(f"Fill in an item with its button, or say “plan {case.id} <number> "
                     "<text>”.")
    lines.append(f"({war.clause})")
    return Reply("\n".join(lines), plan=plan)


def war_room_notice(directory: Directory, case: CaseRecord,
                    events: Sequence[CaseEventRecord], now: datetime,
                    headline: str | None = None, kind: str = "war_team") -> Notice:
    """The post for the war-room channel; every platform keeps one per case (updated in
    place), and posts the headline of a `response_plan` notice under it. It mentions the
    vendor's side of the war team (the customer's representatives aren't in that
    channel)."""
    reply = war_room_reply(directory, case, events, now, headline)
    vendor = tuple(m.person_id for m in (reply.plan.members if reply.plan else ())
                   if m.role != "customer representative")
    return Notice(case.id, "war_room", reply, kind, mentions=vendor)


def plan_form(directory: Directory, case: CaseRecord, events: Sequence[CaseEventRecord],
              item: Item, now: datetime) -> Reply:
    """The form that fills in one item: free text, or for the cadence item a choice of
    cadences (the current value, else the policy's cadence for this case, preselected)."""
    require_war_team(directory.pack_of(case.customer_id), case)
    entry = entries(events).get(item.id)
    if item.cadence:
        options, default = cadence_options(_policy_cadence(directory, case, events, now))
        field = FormField("text", item.label, "choice", tuple(Choice(c, label)
                                                             for c, label in options),
                          value=entry.value if entry else default,
                          hint="How often the customer hears from the war team.")
    else:
        field = FormField("text", item.label, "long_text", value=entry.value if entry else None,
                          hint="Replaces the current entry; the case history keeps both."
                          if entry else "")
    action = f"{RESPONSE_PLAN}/{item.id}"
    fields = (field, FormField("_action", "", "hidden", value=action),
              FormField("_case", "", "hidden", value=case.id))
    intro = case_line(directory, case)
    return Reply(f"{item.label} for the war team of {case.id}: fill in the form, or type "
                 f"“plan {case.id} {item.number} …”.",
                 form=Form(str(action_form(action, case.id)), f"Response plan — {case.id}", fields,
                           "Save", intro=f"{item.label} — {intro}"), private=True)
