"""The one summary before a case opens: every value, where it came from, one tap to open and
one tap to correct any line."""

from __future__ import annotations

from datetime import datetime

from bot.intake.facts import assessment_of, draft_of
from bot.intake.state import IntakeContext, IntakeState
from bot.intake.steps import NAV, cid
from bot.messages import Choice, Reply

FROM_MESSAGE = "from your message"


def _origin(state: IntakeState, key: str) -> str:
    return f" ({FROM_MESSAGE})" if key in state.heard else ""


def summary(state: IntakeState, ctx: IntakeContext, now: datetime) -> Reply:
    assert state.customer_id and state.case_type
    pack = ctx.pack_for(state.customer_id)
    customer = ctx.customers[state.customer_id]
    draft = draft_of(state, ctx)
    lines = [f"Please check and confirm — {customer.name}, {pack.name}:",
             f"• Type: {pack.case_types[draft.case_type].label}{_origin(state, 'case_type')}"]
    changes: list[Choice] = [Choice(cid("change", "case_type"), "Change type", "")]
    if draft.priority:
        prio = pack.priorities[draft.priority].label
        heard_impact = any(k.startswith("impact.") for k in state.heard)
        source = {
            "derived": FROM_MESSAGE if heard_impact else "from your answers",
            "customer": FROM_MESSAGE if "priority" in state.heard else "chosen by you",
            "policy": "set by the policy", "fixed": "fixed for this case type",
        }.get(draft.priority_source, draft.priority_source)
        lines.append(f"• {pack.priority_word}: {prio} ({source})")
        if state.priority_source == "derived" and state.priority_reason:
            lines.append(f"  ↳ {state.priority_reason}")
        if state.assumed:
            said = "; ".join(pack.impact.questions[q].text for q in state.assumed)
            lines.append(f"  ↳ Your message didn't say, so I took “no” for: {said}")
        if state.stated_priority and state.stated_priority != state.priority \
                and state.priority_source == "derived":
            stated = pack.priorities[state.stated_priority].label
            lines.append(f"  ↳ You named {stated}; the policy's definitions give {prio} for "
                         f"what you describe. Choose “Change {pack.priority_word.lower()}” to "
                         "keep yours.")
        if draft.requested_priority and draft.requested_priority != draft.priority:
            for note in assessment_of(state, ctx).notes:
                if note.text.startswith("Reclassified"):
                    lines.append(f"  ↳ {note.text} ({note.clause})")
        if pack.case_types[draft.case_type].has_priority:
            changes.append(Choice(cid("change", "priority"),
                                  f"Change {pack.priority_word.lower()}", ""))
    if draft.deployment:
        heard = ", " + FROM_MESSAGE if "deployment" in state.heard else ""
        lines.append(f"• Deployment: {draft.deployment} ({draft.environment}{heard})")
        if len(customer.deployments) > 1:
            changes.append(Choice(cid("change", "deployment"), "Change deployment", ""))
    for name, value in draft.fields.items():
        spec = pack.intake[name]
        lines.append(f"• {spec.label}: {value}{_origin(state, f'field.{name}')}")
        changes.append(Choice(cid("change", f"field.{name}"), f"Change {spec.label.lower()}", ""))
    desc = draft.description if len(draft.description) <= 300 else \
        draft.description[:297] + "…"
    lines.append(f"• Description: {desc}")
    if draft.scope and draft.scope.decision != "in_scope":
        lines.append(f"• Scope: filed for review ({draft.scope.clause})")
    if draft.hypercare:
        lines.append("• Hypercare: this deployment is in hypercare")
    if draft.billable:
        _, plan_spec = pack.plan(customer.plan)
        lines.append(f"• Billable: {customer.name} has used the {plan_spec.query_hours} query "
                     f"hours of its {plan_spec.label} plan, so this query will be billed "
                     f"({pack.query_hours.clause if pack.query_hours else 'query limits'}). "
                     "Opening it accepts that.")
    lines += ctx.clocks_preview(draft, now)
    if state.heard:
        lines.append("Anything wrong? Tap a “Change” button or just tell me "
                     "(“it's staging”, “only me”).")
    # Things to do rather than answers: "Open the case" in sight, the corrections after it
    # (platforms fold what doesn't fit behind "More…").
    return Reply("\n".join(lines), choices=(
        Choice(cid("confirm", "open"), "Open the case", "File it now", primary=True),
        *changes,
        Choice(cid("confirm", "explain"), "How were the times worked out?",
               "Show how each due was computed"),
        NAV[1]), choice_kind="actions")
