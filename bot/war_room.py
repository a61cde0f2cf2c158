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
from bot.choice_ids import case_action
from bot.deployment import Directory
from bot.messages import Choice, Form, FormField, Notice, Person, PlanItem, Reply, ResponsePlan
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


def war_room_reply(directory: Directory, case: CaseRecord, events: Sequence[CaseEventRecord],
                   now: datetime, headline: str | None = None,
                   reader: Person | None = None) -> Reply:
    """The post. `reader` None is the war-room channel (the vendor's): every item gets its
    button while the case is open; a person gets the buttons only if they may fill it in."""
    war = _war(directory, case)
    customer = directory.customer(case.customer_id)
    tz = ZoneInfo(directory.deployment.vendor.timezone)
    vendor = directory.engineers()
    engineers = [p.name for p in vendor if p.role == "engineer"]
    executives = [p.name for p in vendor if p.role == "admin"]
    reps = [u.name for u in customer.users if u.role == "customer_admin"] or \
        [u.name for u in customer.users]
    agreed = entries(events)
    buttons = case.status in OPEN_STATUSES and (
        reader is None or may(reader, RESPONSE_PLAN, case.customer_id))
    policy_every = _policy_cadence(directory, case, events, now)
    plan_items: list[PlanItem] = []
    lines = [headline] if headline else []
    lines += [f"🚨 War team for {case.id} ({customer.name}) — {case.title}",
              f"Members: {', '.join(war.members)}.",
              f"Support engineers: {', '.join(engineers) or '—'}; executives: "
              f"{', '.join(executives) or '—'}; customer representatives: "
              f"{', '.join(reps) or '—'}."]
    for item in items(war):
        entry = agreed.get(item.id)
        action = Choice(plan_choice_id(case.id, item), "Change" if entry else "Fill in",
                        item.label) if buttons else None
        if entry is None:
            hint = f"the policy's cadence: {cadence_text(cadence_id(policy_every))}" \
                if item.cadence and policy_every else ""
            plan_items.append(PlanItem(item.number, item.label, action=action, hint=hint))
        else:
            plan_items.append(PlanItem(item.number, item.label, entry.shown,
                                       entry.actor_name, when(entry.at, tz), action))
    plan = ResponsePlan(case.id, tuple(plan_items), war.clause)
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
    place), and posts the headline of a `response_plan` notice under it."""
    return Notice(case.id, "war_room",
                  war_room_reply(directory, case, events, now, headline), kind)


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
    return Reply(f"{item.label} for the war team of {case.id}: fill in the form, or type "
                 f"“plan {case.id} {item.number} …”.",
                 form=Form(f"action:{action}:{case.id}", f"Response plan — {case.id}", fields,
                           "Save"), private=True)
