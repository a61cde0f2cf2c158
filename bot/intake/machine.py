"""The small machine that runs the step table.

`step(state, inbound, ctx) -> IntakeResult` is pure: loading and saving the state, creating
the case and posting replies happen around it (bot.handler). The next step is always derived
from what is still missing, so free text, buttons and one-shot forms converge, and "back" is
restoring the previous snapshot. The states are drawn in README.md beside this file.
"""

from __future__ import annotations

from datetime import datetime

from bot.intake.articles import settle_offer
from bot.intake.facts import assessment_of, set_deployment, settle_priority
from bot.intake.form import apply_form
from bot.intake.listen import listen, take_description
from bot.intake.state import (
    IntakeContext,
    IntakeResult,
    IntakeState,
    Offer,
    Step,
    start_state,
)
from bot.intake.steps import STEPS, next_field
from bot.intake.vocabulary import command_of, is_opener
from bot.messages import Inbound, Reply
from bot.records import ScopeVerdict
from policy.scope import decide_scope

_MAX_SNAPSHOTS = 30
RESTART_PHRASE = "start over"


def step(state: IntakeState | None, inbound: Inbound, ctx: IntakeContext) -> IntakeResult:
    """Advance the intake by one thing the person did."""
    now = inbound.at
    replies: list[Reply] = []
    command = command_of(inbound.text, inbound.choice)
    if state is not None and now - state.updated_at > ctx.idle_timeout:
        minutes = int(ctx.idle_timeout.total_seconds() // 60)
        replies.append(Reply(f"Your unfinished case expired after {minutes} minutes without an "
                             "answer, so nothing was filed. Let's start again."))
        state = None
        if command in {"cancel", "back", "help", "restart"}:
            command = None
    if not ctx.customers:
        return IntakeResult(None, [*replies, Reply(
            "I can't open cases for you: your account isn't linked to a customer this "
            f"{ctx.vendor_name} support desk serves. Ask your administrator to add you.")])

    if state is None:
        if command == "cancel":
            return IntakeResult(None, [*replies, Reply("There's nothing to cancel.")])
        state = start_state(now, ctx)
        replies.append(_greeting(state, ctx))
        if inbound.form:
            form_problem = apply_form(state, inbound.form, ctx)
            if form_problem is None and state.description:
                listen(state, state.description, ctx)
            return _finish(state, form_problem, replies, ctx, now)
        seed = (inbound.text or "").strip()
        if seed and command is None and not is_opener(seed):
            listen(state, seed, ctx)
            take_description(state, seed)
        return _finish(state, None, replies, ctx, now)

    if command == "cancel":
        dropped = Offer("dropped", state.customer_id, tuple(a.id for a in state.articles)) \
            if state.step == "suggest" and state.customer_id else None
        return IntakeResult(None, [Reply("Cancelled — nothing was filed. Say “support” or "
                                         "“new case” whenever you want to start again.")],
                            offer=dropped)
    if command == "restart":
        fresh = start_state(now, ctx)
        return _finish(fresh, None, [Reply("Starting over.")], ctx, now)
    if command == "back":
        if state.snapshots:
            previous = IntakeState.model_validate(
                {**state.snapshots[-1], "snapshots": state.snapshots[:-1]}
            )
            return _finish(previous, None, [Reply("OK, going back.")], ctx, now)
        return _finish(state, None, [Reply("We're at the first question already.")], ctx, now)
    if command == "help":
        return _finish(state, None, [_help(state, ctx)], ctx, now)

    snapshot = state.model_dump(mode="json", exclude={"snapshots"})
    working = state.model_copy(deep=True)
    if inbound.form:
        problem: str | IntakeResult | None = apply_form(working, inbound.form, ctx)
    else:
        problem = STEPS[working.step].read(working, inbound, ctx, now)
    if isinstance(problem, IntakeResult):
        return problem
    if problem is not None and inbound.text and not inbound.choice \
            and listen(working, inbound.text, ctx, correct=True):
        problem = None  # not an answer to the question, but it says something we take
    if problem is None:
        working.snapshots = [*state.snapshots, snapshot][-_MAX_SNAPSHOTS:]
        result = _finish(working, None, replies, ctx, now)
        if state.step == "suggest" and working.articles_settled and working.customer_id:
            result.offer = Offer("declined", working.customer_id,
                                 tuple(a.id for a in working.articles))
        return result
    return _finish(state, problem, replies, ctx, now)


def _finish(
    state: IntakeState, problem: str | None, replies: list[Reply], ctx: IntakeContext,
    now: datetime,
) -> IntakeResult:
    """Work out the next question (deciding scope and coverage on the way) and ask it."""
    state.updated_at = now
    if problem:
        replies.append(Reply(problem))
    state.step = next_step(state, ctx)
    if state.step == "confirm":
        state.changing = None
    replies.append(STEPS[state.step].ask(state, ctx, now))
    return IntakeResult(state, replies)


def _greeting(state: IntakeState, ctx: IntakeContext) -> Reply:
    first = ctx.person.name.split(" (")[0].split()[0]
    text = f"Hi {first} — I'm the {ctx.vendor_name} support desk. I'll help you open a case."
    if state.customer_id:
        customer = ctx.customers[state.customer_id]
        pack = ctx.pack_for(state.customer_id)
        _, plan = pack.plan(customer.plan)
        text += (f" {customer.name} is on the {pack.name}, {plan.label} plan "
                 f"({pack.calendars[plan.calendar].description}).")
    text += (" Use the buttons or just type; say “back”, “cancel” or "
             f"“{RESTART_PHRASE}” at any time.")
    return Reply(text)


def _help(state: IntakeState, ctx: IntakeContext) -> Reply:
    pack = ctx.pack_for(state.customer_id) if state.customer_id else None
    expected = STEPS[state.step].help(pack)
    return Reply(f"I'm asking for {expected}. You can also say “back” to change the previous "
                 f"answer, “{RESTART_PHRASE}”, or “cancel”. Buttons work too.")


def next_step(state: IntakeState, ctx: IntakeContext) -> Step:
    """What is still missing, in order; deciding priority, scope and coverage on the way."""
    if state.customer_id is None:
        return "customer"
    pack = ctx.pack_for(state.customer_id)
    customer = ctx.customers[state.customer_id]
    if state.case_type is None:
        return "case_type"
    spec = pack.case_types[state.case_type]
    if not spec.has_priority:
        state.priority = spec.fixed_priority
        state.priority_source = "fixed" if spec.fixed_priority else None
    else:
        if state.changing == "priority" and not state.priority_confirmed:
            return "priority"
        if not settle_priority(state, pack):
            return "priority" if state.skip_impact or not pack.impact.rules else "impact"
    if spec.needs_deployment and state.deployment is None:
        if len(customer.deployments) == 1:
            set_deployment(state, customer, customer.deployments[0].name)
        elif customer.deployments:
            return "deployment"
    if not spec.needs_deployment and "deployment" not in state.heard:
        state.deployment = state.environment = None
    if not state.coverage_settled and (state.deployment or not spec.needs_deployment):
        # Said as soon as it is known, before the pack's further questions.
        if not assessment_of(state, ctx).covered:
            return "not_covered"
        state.coverage_settled = True
    if next_field(pack, state) is not None:
        return "field"
    if not state.description:
        return "description"
    if not state.scope_settled:
        verdict_step = _decide_scope(state, ctx)
        if verdict_step is not None:
            return verdict_step
    if settle_offer(state, ctx):
        return "suggest"  # a question: the documentation first
    return "confirm"


def _decide_scope(state: IntakeState, ctx: IntakeContext) -> Step | None:
    assert state.customer_id
    pack = ctx.pack_for(state.customer_id)
    words = " ".join([state.description or "", *state.fields.values()])
    decision = decide_scope(pack.scope, words, state.scope_answers, case_type=state.case_type)
    state.scope = ScopeVerdict(decision=decision.decision, rule=decision.rule,
                               clause=decision.clause, explanation=decision.explanation)
    if not decision.confident and decision.question is not None \
            and decision.question.id not in state.scope_answers:
        state.pending_question = decision.question.id
        return "scope_question"
    if decision.decision == "in_scope":
        state.scope_settled = True
        return None
    return "consulting" if decision.decision == "consulting" else "not_covered"
