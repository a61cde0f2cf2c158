"""What the policy says about the case so far: which types may be filed and are covered, the
priority from the impact, the SLA assessment, and the draft handed to the case service."""

from __future__ import annotations

from bot.deployment import Customer
from bot.intake.state import CaseDraft, IntakeContext, IntakeState
from bot.messages import Choice
from policy.impact import derive, unanswered
from policy.pack import Pack
from policy.sla import Assessment, CaseFacts, assess


def may_file(pack: Pack, case_type: str, ctx: IntakeContext, customer_id: str) -> bool:
    spec = pack.case_types[case_type]
    who = "vendor" if ctx.person.is_vendor else (
        "partner" if ctx.person.role == "partner" else "customer")
    if who not in spec.filed_by:
        return False
    if spec.managed_only:
        return any(d.managed for d in ctx.customers[customer_id].deployments)
    return True


def plan_covers(pack: Pack, customer: Customer, case_type: str) -> bool:
    """The customer's plan has targets (or a tracked row) for this type at all."""
    _, plan = pack.plan(customer.plan)
    return any(row.case_type == case_type for row in plan.targets)


def check_type(pack: Pack, case_type: str, ctx: IntakeContext, customer_id: str) -> str:
    if not may_file(pack, case_type, ctx, customer_id):
        spec = pack.case_types[case_type]
        raise ValueError(f"A {spec.label} can't be filed here: {spec.clause}.")
    return case_type


def type_choices(pack: Pack, ctx: IntakeContext, customer_id: str) -> tuple[Choice, ...]:
    """The types this person may file that the customer's plan covers."""
    customer = ctx.customers[customer_id]
    return tuple(Choice(name, spec.label, spec.description)
                 for name, spec in pack.case_types.items()
                 if may_file(pack, name, ctx, customer_id)
                 and plan_covers(pack, customer, name))


def uncovered_types(pack: Pack, ctx: IntakeContext, customer_id: str) -> list[str]:
    """Types the person could file but the plan doesn't cover: said, not offered."""
    customer = ctx.customers[customer_id]
    return [spec.label for name, spec in pack.case_types.items()
            if may_file(pack, name, ctx, customer_id)
            and not plan_covers(pack, customer, name)]


def coverage_limits(pack: Pack, customer: Customer, case_type: str) -> str | None:
    """"Incidents are covered in production only" when every target row of the type names
    environments; None when the type is covered everywhere."""
    _, plan = pack.plan(customer.plan)
    rows = [row for row in plan.targets if row.case_type == case_type]
    envs = {env for row in rows for env in (row.environments or ())}
    if not rows or any(not row.environments for row in rows) or not envs:
        return None
    names = " or ".join(sorted(envs))
    clause = rows[0].clause
    return (f"your {plan.label} plan covers {pack.case_types[case_type].label.lower()}s in "
            f"{names} only ({clause})")


def set_customer_priority(state: IntakeState, pack: Pack, priority: str) -> None:
    state.priority = priority
    state.priority_source = "customer"
    state.priority_reason = (f"Chosen by the customer ({pack.priorities[priority].label}); "
                             "the subscriber initially determines the priority.")
    state.priority_confirmed = True


def set_deployment(state: IntakeState, customer: Customer, name: str) -> None:
    dep = customer.deployment(name)
    assert dep is not None
    state.deployment = dep.name
    state.environment = dep.environment


def settle_priority(state: IntakeState, pack: Pack) -> bool:
    """Decide the priority if what is known allows it; False while an answer is missing.

    A priority chosen on a button stands. Otherwise the impact decides, the policy's way:
    when the customer's words described the impact, questions they didn't touch take the
    pack's assumption (shown as assumed, one tap to change). A priority the customer named
    stands only when the impact can't be derived."""
    if state.priority is not None and state.priority_source in {"customer", "derived"} \
            and state.priority_confirmed:
        return True
    answers = dict(state.impact)
    heard_impact = any(k.startswith("impact.") for k in state.heard)
    state.assumed = []
    if heard_impact and not state.skip_impact:
        for qid in unanswered(pack, answers):
            question = pack.impact.questions[qid]
            if question.assume_when_unsaid is not None:
                answers[qid] = question.assume_when_unsaid
                state.assumed.append(qid)
    derived = None if state.skip_impact else derive(pack, answers)
    if derived is not None and (heard_impact or state.impact):
        state.impact = answers
        state.priority, state.priority_reason = derived.priority, derived.reason
        state.priority_source = "derived"
        return True
    if state.stated_priority is not None:
        set_customer_priority(state, pack, state.stated_priority)
        return True
    if derived is not None:
        state.impact = answers
        state.priority, state.priority_reason = derived.priority, derived.reason
        state.priority_source = "derived"
        return True
    state.assumed = []
    return False


def _applicable_fields(state: IntakeState, pack: Pack) -> dict[str, str]:
    """The pack fields the case's type asks for (words may have filled others first)."""
    out: dict[str, str] = {}
    for name, value in state.fields.items():
        spec = pack.intake.get(name)
        if spec is not None and (spec.case_types is None or state.case_type in spec.case_types):
            out[name] = value
    return out


def facts_of(state: IntakeState, ctx: IntakeContext) -> CaseFacts:
    assert state.customer_id and state.case_type
    customer = ctx.customers[state.customer_id]
    dep = customer.deployment(state.deployment) if state.deployment else None
    on = state.updated_at.astimezone(customer.tz).date()
    return CaseFacts(
        case_type=state.case_type,
        priority=state.priority,
        environment=state.environment,
        managed=bool(dep and dep.managed),
        hypercare=bool(dep and dep.in_hypercare(on)),
    )


def assessment_of(state: IntakeState, ctx: IntakeContext) -> Assessment:
    assert state.customer_id and state.case_type
    pack = ctx.pack_for(state.customer_id)
    customer = ctx.customers[state.customer_id]
    return assess(pack, customer.plan, facts_of(state, ctx))


def over_query_limit(state: IntakeState, ctx: IntakeContext) -> bool:
    """Konneqt: queries are capped by the plan's query hours; beyond, a new query is billable."""
    if state.case_type != "query" or state.customer_id is None:
        return False
    used, limit = ctx.query_usage.get(state.customer_id, (0, None))
    return limit is not None and used >= limit


def draft_of(state: IntakeState, ctx: IntakeContext, *, consulting: bool = False) -> CaseDraft:
    assert state.customer_id and state.case_type
    facts = facts_of(state, ctx)
    assessment = assessment_of(state, ctx)
    return CaseDraft(
        customer_id=state.customer_id,
        case_type=state.case_type,
        priority=assessment.priority,
        requested_priority=state.priority,
        priority_source=("policy" if assessment.priority != state.priority
                         else state.priority_source or "fixed"),
        priority_reason=state.priority_reason,
        deployment=state.deployment,
        environment=state.environment,
        managed=facts.managed,
        hypercare=facts.hypercare,
        fields=_applicable_fields(state, ctx.pack_for(state.customer_id)),
        description=state.description or "",
        scope=state.scope,
        consulting_request=consulting,
        consulting_approved=consulting,
        billable=over_query_limit(state, ctx),
        articles=tuple(state.articles) if state.articles_settled else (),
    )
