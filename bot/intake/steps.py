"""The step table: for each intake step, how it asks, how it reads an answer, and its help.

A reader returns None when the answer was taken, a string when it wasn't understood (said
back to the person), or an IntakeResult when the step ends the intake (a consulting request).
Any answer may also say more than was asked ("no, but it crashes every hour"): what the
words say is taken too (bot.intake.listen).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.choice_ids import ChoiceId, format_choice, parse_choice
from bot.errors import ChoiceIdError
from bot.intake.facts import (
    assessment_of,
    check_type,
    coverage_limits,
    draft_of,
    set_customer_priority,
    set_deployment,
    type_choices,
    uncovered_types,
)
from bot.intake.listen import listen, take_description
from bot.intake.state import IntakeContext, IntakeResult, IntakeState, Step
from bot.intake.vocabulary import CONFIRM, EXPLAIN, KEEP, norm, parse_priority, pick, yes_no
from bot.messages import Choice, Inbound, Reply
from policy.errors import PolicyError
from policy.impact import answers_for, next_question, open_rules
from policy.pack import ImpactQuestion, Pack
from policy.understanding import DeploymentRef, read_deployment, read_environment

Asker = Callable[[IntakeState, IntakeContext, datetime], Reply]
Answer = str | IntakeResult | None
Reader = Callable[[IntakeState, Inbound, IntakeContext, datetime], Answer]



def cid(kind: str, value: str = "") -> str:
    """The id of an intake choice, formatted where every choice id is (bot.choice_ids)."""
    return format_choice(ChoiceId(kind, value))


def chosen(inbound: Inbound) -> ChoiceId:
    """What the person pressed, or an empty id when they typed (or sent something no button
    of ours has)."""
    if inbound.choice:
        try:
            return parse_choice(inbound.choice)
        except ChoiceIdError:
            pass
    return ChoiceId("")


NAV = (Choice(cid("cmd", "back"), "Back", "Change the previous answer"),
       Choice(cid("cmd", "cancel"), "Cancel", "Stop; nothing is filed"))


@dataclass(frozen=True, slots=True)
class StepSpec:
    ask: Asker
    read: Reader
    help: Callable[[Pack | None], str]


def numbered(choices: tuple[Choice, ...]) -> str:
    return "\n".join(
        f"{i}. {c.label}" + (f" — {c.explanation}" if c.explanation else "")
        for i, c in enumerate(choices, 1)
    )


def _pack(state: IntakeState, ctx: IntakeContext) -> Pack:
    assert state.customer_id is not None
    return ctx.pack_for(state.customer_id)


def _text(inbound: Inbound) -> str:
    return (inbound.text or "").strip()


# ---- customer ------------------------------------------------------------------------------


def _ask_customer(state: IntakeState, ctx: IntakeContext, now: datetime) -> Reply:
    choices = tuple(Choice(cid, c.name, f"{c.pack} · {c.plan}") for cid, c in
                    ctx.customers.items())
    return Reply("Which customer is this case for?\n" + numbered(choices),
                 choices=choices + NAV[1:])


def _read_customer(state: IntakeState, inbound: Inbound, ctx: IntakeContext,
                   now: datetime) -> Answer:
    options = tuple(Choice(cid, c.name) for cid, c in ctx.customers.items())
    picked = pick(options, inbound.choice or _text(inbound))
    if picked is None:
        return "I didn't catch which customer. Pick one of the list or type its name."
    state.customer_id = picked.id
    return None


# ---- case type -----------------------------------------------------------------------------


def _ask_case_type(state: IntakeState, ctx: IntakeContext, now: datetime) -> Reply:
    from bot.intake.form import intake_form  # the form asks what this step asks, at once

    assert state.customer_id
    pack = _pack(state, ctx)
    choices = type_choices(pack, ctx, state.customer_id)
    text = "What kind of case is it?\n" + numbered(choices)
    missing = uncovered_types(pack, ctx, state.customer_id)
    if missing:
        customer = ctx.customers[state.customer_id]
        _, plan = pack.plan(customer.plan)
        text += (f"\n(Not in your {plan.label} plan: {', '.join(missing)}. Ask your account "
                 "manager if you need it.)")
    return Reply(text, choices=choices + NAV[1:], form=intake_form(state, ctx))


def _read_case_type(state: IntakeState, inbound: Inbound, ctx: IntakeContext,
                    now: datetime) -> Answer:
    assert state.customer_id
    pack = _pack(state, ctx)
    text = _text(inbound)
    choices = type_choices(pack, ctx, state.customer_id)
    picked = pick(choices, inbound.choice or text)
    if picked is None and text:
        try:
            name = pack.case_type(text)
            picked = next((c for c in choices if c.id == name), None)
            if picked is None:
                spec = pack.case_types[name]
                customer = ctx.customers[state.customer_id]
                _, plan = pack.plan(customer.plan)
                try:
                    check_type(pack, name, ctx, state.customer_id)
                except ValueError as exc:
                    return str(exc)
                return f"A {spec.label} isn't part of your {plan.label} plan."
        except PolicyError:
            priority = parse_priority(pack, text)
            if priority and any(c.id == "incident" for c in choices) and len(text.split()) <= 3:
                state.case_type = "incident"
                set_customer_priority(state, pack, priority)
                return None
            if listen(state, text, ctx) and state.case_type is not None:
                return None
    if picked is None:
        return "I didn't catch the kind of case. Choose one: " + ", ".join(
            c.label for c in choices) + "."
    state.case_type = picked.id
    return None


# ---- impact --------------------------------------------------------------------------------


def impact_choices(question: ImpactQuestion) -> tuple[Choice, ...]:
    return tuple(Choice(cid("impact", o.id), o.label, o.hint) for o in question.options)


def _ladder(pack: Pack, state: IntakeState) -> tuple[Choice, ...]:
    """One choice per rule still open: the impact each describes, and the priority it gives."""
    return tuple(Choice(cid("level", str(i)), pack.priorities[rule.priority].label,
                        rule.because.split(": ", 1)[-1])
                 for i, rule in enumerate(pack.impact.rules)
                 if rule in open_rules(pack, state.impact))


def impact_question(pack: Pack, state: IntakeState) -> str | None:
    """The one question left, or None when several are (the ladder is asked instead)."""
    pending = [q for q in pack.impact.questions if q not in state.impact
               and any(q in r.when for r in open_rules(pack, state.impact))]
    return pending[0] if len(pending) == 1 else None


def _ask_impact(state: IntakeState, ctx: IntakeContext, now: datetime) -> Reply:
    pack = _pack(state, ctx)
    word = pack.priority_word.lower()
    skip = Choice(cid("impact", "skip"), f"I'll choose the {word}",
                  f"Skip the question and pick the {word} yourself")
    qid = impact_question(pack, state)
    if qid is not None:
        question = pack.impact.questions[qid]
        choices = (*impact_choices(question), skip)
        return Reply(f"To set the {word}: {question.text}\n" + numbered(choices),
                     choices=choices + NAV)
    ladder = _ladder(pack, state)
    return Reply(f"Which best describes the impact? It sets the {word}, as the policy "
                 "defines it.\n" + numbered(ladder), choices=(*ladder, *NAV))


def _read_impact(state: IntakeState, inbound: Inbound, ctx: IntakeContext,
                 now: datetime) -> Answer:
    pack = _pack(state, ctx)
    word = pack.priority_word.lower()
    text = _text(inbound)
    choice = inbound.choice or ""
    pressed = chosen(inbound)
    if (pressed.kind, pressed.value) == ("impact", "skip") or norm(text) in {
            "skip", "choose myself", "i ll choose", "ill choose"}:
        state.skip_impact = True
        return None
    if pressed.kind == "level":
        index = int(pressed.value) if pressed.value.isdigit() else -1
        if 0 <= index < len(pack.impact.rules):
            state.impact = answers_for(pack, pack.impact.rules[index], state.impact)
            return None
    qid = impact_question(pack, state)
    if qid is not None:
        question = pack.impact.questions[qid]
        picked = pick(impact_choices(question), choice or text)
        if picked is None and text:
            yn = yes_no(text)
            if yn and question.option(yn):
                picked = Choice(cid("impact", yn), yn)
        if picked is not None:
            state.impact[qid] = parse_choice(picked.id).value
            listen(state, text, ctx)  # "no, but it crashes hourly" says more
            return None
    else:
        first = next_question(pack, state.impact)
        if first is not None and pressed.kind == "impact" \
                and pack.impact.questions[first].option(pressed.value) is not None:
            state.impact[first] = pressed.value  # a button of a question asked alone
            return None
        ladder = _ladder(pack, state)
        picked = pick(ladder, choice or text)
        if picked is not None:
            index = int(parse_choice(picked.id).value)
            state.impact = answers_for(pack, pack.impact.rules[index], state.impact)
            return None
    before = (dict(state.impact), state.case_type)
    if text and listen(state, text, ctx, correct=True) \
            and (state.impact, state.case_type) != before:
        return None  # answered in words, or "it's a question, actually"
    priority = parse_priority(pack, text) if text else None
    if priority:
        set_customer_priority(state, pack, priority)
        return None
    options = (pack.impact.questions[qid].options if qid else ())
    said = ", ".join(o.label for o in options) if options else "one of the options"
    return f"I didn't catch that. Answer with {said} — or name the {word} yourself."


# ---- priority (only when the customer chooses it) --------------------------------------------


def priority_offer(state: IntakeState, pack: Pack) -> tuple[Choice, ...]:
    """Keep (when there is something to keep), then the other levels, numbered in this order."""
    ladder = tuple(Choice(cid("priority", p), pack.priorities[p].label, pack.priorities[p].summary)
                   for p in pack.ordered_priorities() if p != state.priority)
    if state.priority:
        label = pack.priorities[state.priority].label
        return (Choice(cid("priority", "keep"), f"Keep {label}", ""), *ladder)
    return ladder


def _ask_priority(state: IntakeState, ctx: IntakeContext, now: datetime) -> Reply:
    pack = _pack(state, ctx)
    word = pack.priority_word.lower()
    choices = priority_offer(state, pack)
    if state.priority:
        label = pack.priorities[state.priority].label
        text = (f"It is {label} now ({state.priority_reason}). Keep it, or choose another "
                f"{word} (your choice is recorded as set by you)?\n" + numbered(choices))
    else:
        text = f"Which {word}?\n" + numbered(choices)
    return Reply(text, choices=choices + NAV)


def _read_priority(state: IntakeState, inbound: Inbound, ctx: IntakeContext,
                   now: datetime) -> Answer:
    pack = _pack(state, ctx)
    word = pack.priority_word.lower()
    text = _text(inbound)
    choice = inbound.choice
    offered = priority_offer(state, pack)
    if not choice and text.isdigit() and 1 <= int(text) <= len(offered):
        choice = offered[int(text) - 1].id
    pressed = ChoiceId("") if not choice else parse_choice(choice)
    if (pressed.kind, pressed.value) == ("priority", "keep") or (
            not choice and norm(text) in KEEP):
        if state.priority is None:
            return f"Which {word}? Choose one of the list."
        state.priority_confirmed = True
        if state.priority_source is None:
            state.priority_source = "customer"
        return None
    named = pressed.value if pressed.kind == "priority" else parse_priority(pack, text)
    if named is None or named not in pack.priorities:
        return (f"I didn't catch the {word}. Say “keep”, or one of: "
                + ", ".join(pack.priorities[p].label for p in pack.ordered_priorities()) + ".")
    set_customer_priority(state, pack, named)
    return None


# ---- deployment ----------------------------------------------------------------------------


def _ask_deployment(state: IntakeState, ctx: IntakeContext, now: datetime) -> Reply:
    assert state.customer_id and state.case_type
    customer = ctx.customers[state.customer_id]
    choices = tuple(
        Choice(d.name, d.name, f"{d.environment}{', managed' if d.managed else ''}")
        for d in customer.deployments)
    text = "Which deployment is affected?\n" + numbered(choices)
    limit = coverage_limits(_pack(state, ctx), customer, state.case_type)
    if limit:
        text += f"\nNote: {limit}."
    return Reply(text, choices=choices + NAV)


def _read_deployment(state: IntakeState, inbound: Inbound, ctx: IntakeContext,
                     now: datetime) -> Answer:
    assert state.customer_id
    customer = ctx.customers[state.customer_id]
    text = _text(inbound)
    name = inbound.choice if inbound.choice and customer.deployment(inbound.choice) else None
    if name is None and text.isdigit() and 1 <= int(text) <= len(customer.deployments):
        name = customer.deployments[int(text) - 1].name
    if name is None and text:
        env = read_environment(_pack(state, ctx), text)
        name = read_deployment(text, [DeploymentRef(d.name, d.environment)
                                      for d in customer.deployments],
                               env[0] if env else None)
    if name is None:
        return ("I didn't catch the deployment. Choose one of: "
                + ", ".join(d.name for d in customer.deployments) + ".")
    set_deployment(state, customer, name)
    listen(state, text, ctx)
    return None


# ---- pack fields ---------------------------------------------------------------------------


def next_field(pack: Pack, state: IntakeState) -> str | None:
    for name, spec in pack.intake.items():
        if spec.case_types is not None and state.case_type not in spec.case_types:
            continue
        if name not in state.fields:
            return name
    return None


def _ask_field(state: IntakeState, ctx: IntakeContext, now: datetime) -> Reply:
    pack = _pack(state, ctx)
    name = next_field(pack, state)
    assert name is not None
    spec = pack.intake[name]
    choices = tuple(Choice(o.id, o.label, o.hint) for o in spec.options)
    text = spec.prompt + ("\n" + numbered(choices) if choices else "")
    return Reply(text, choices=choices + NAV)


def _read_field(state: IntakeState, inbound: Inbound, ctx: IntakeContext,
                now: datetime) -> Answer:
    pack = _pack(state, ctx)
    name = next_field(pack, state)
    assert name is not None
    spec = pack.intake[name]
    text = _text(inbound)
    if spec.options:
        picked = pick(tuple(Choice(o.id, o.label) for o in spec.options), inbound.choice or text)
        if picked is None and text and listen(state, text, ctx) and name in state.fields:
            return None
        if picked is None:
            return (f"I didn't catch the {spec.label.lower()}. Choose one of: "
                    + ", ".join(o.label for o in spec.options) + ".")
        state.fields[name] = picked.label
        return None
    if not text:
        return f"Please type the {spec.label.lower()}."
    state.fields[name] = text[:200]
    return None


# ---- description, scope, consulting, coverage ------------------------------------------------


def _ask_description(state: IntakeState, ctx: IntakeContext, now: datetime) -> Reply:
    return Reply("Describe the problem or request with the details needed to reproduce "
                 "it: what you did, what happened, error messages, and since when.",
                 choices=NAV)


def _read_description(state: IntakeState, inbound: Inbound, ctx: IntakeContext,
                      now: datetime) -> Answer:
    text = _text(inbound)
    if not take_description(state, text):
        return ("Could you add a little more detail — what happened, any error message, "
                "and the steps to reproduce it?")
    listen(state, text, ctx)
    return None


def _ask_scope_question(state: IntakeState, ctx: IntakeContext, now: datetime) -> Reply:
    assert state.pending_question
    scope_q = _pack(state, ctx).scope.questions[state.pending_question]
    choices = tuple(Choice(cid("scope", o.id), o.label, o.description) for o in scope_q.options)
    return Reply(scope_q.text + "\n" + numbered(choices), choices=choices + NAV)


def _read_scope_question(state: IntakeState, inbound: Inbound, ctx: IntakeContext,
                         now: datetime) -> Answer:
    assert state.pending_question
    text = _text(inbound)
    scope_q = _pack(state, ctx).scope.questions[state.pending_question]
    opts = tuple(Choice(cid("scope", o.id), o.label) for o in scope_q.options)
    picked = pick(opts, inbound.choice or text)
    if picked is None and text:
        yn = yes_no(text)
        if yn and yn in {o.id for o in scope_q.options}:
            picked = Choice(cid("scope", yn), yn)
    if picked is None:
        return "I didn't catch that. Choose one of: " + ", ".join(
            o.label for o in scope_q.options) + "."
    state.scope_answers[scope_q.id] = parse_choice(picked.id).value
    state.pending_question = None
    return None


CONSULTING_REQUEST = "Send a consulting request"


def _ask_consulting(state: IntakeState, ctx: IntakeContext, now: datetime) -> Reply:
    pack = _pack(state, ctx)
    assert state.scope
    terms = pack.consulting.description if pack.consulting else \
        "It is a separate, paid engagement."
    approve = "I approve a paid consulting request" if (
        pack.consulting and pack.consulting.needs_prior_approval) else CONSULTING_REQUEST
    text = (f"This looks like consulting rather than standard support — {state.scope.clause}: "
            f"{state.scope.explanation} {terms}\nShall I send {ctx.vendor_name} a consulting "
            "request instead? If you think this is really a product problem, file it as "
            "support and an engineer will check.")
    return Reply(text, choices=(
        Choice(cid("consulting", "request"), approve, "We'll come back with a proposal"),
        Choice(cid("consulting", "support"), "File it as support anyway",
               "An engineer reviews the scope"),
        *NAV))


def _read_consulting(state: IntakeState, inbound: Inbound, ctx: IntakeContext,
                     now: datetime) -> Answer:
    pressed = chosen(inbound)
    key = pressed.value if pressed.kind == "consulting" else ""
    if not inbound.choice:
        normalized = norm(_text(inbound))
        if normalized in {"request", "consulting", "send", "approve", "i approve",
                          norm(CONSULTING_REQUEST), "yes"}:
            key = "request"
        elif normalized in {"support", "file as support", "file it anyway", "anyway", "no"}:
            key = "support"
    if key == "request":
        return IntakeResult(None, [], draft_of(state, ctx, consulting=True))
    if key == "support":
        state.scope_settled = True
        state.file_despite_scope = True
        return None
    return "Say “request” to send a consulting request, or “support” to file it anyway."


def _ask_not_covered(state: IntakeState, ctx: IntakeContext, now: datetime) -> Reply:
    pack = _pack(state, ctx)
    if state.scope_settled or state.scope is None:  # the plan itself doesn't cover it
        assessment = assessment_of(state, ctx)
        reasons = " ".join(f"{n.text} ({n.clause})" for n in assessment.notes
                           if not n.text.startswith("Targets from"))
        choices: list[Choice] = []
        if assessment.alternative_case_type:
            alt = pack.case_types[assessment.alternative_case_type]
            choices.append(Choice(cid("alternative", assessment.alternative_case_type),
                                  f"File it as a {alt.label} instead", alt.description))
        return Reply(f"This isn't covered: {reasons}", choices=(*choices, *NAV))
    text = (f"This usually isn't covered by support — {state.scope.clause}: "
            f"{state.scope.explanation}\nYou can still file it and an engineer will confirm, "
            "or cancel.")
    return Reply(text, choices=(
        Choice(cid("scope", "file-anyway"), "File it for review", "An engineer checks the scope"),
        *NAV))


def _read_not_covered(state: IntakeState, inbound: Inbound, ctx: IntakeContext,
                      now: datetime) -> Answer:
    pack = _pack(state, ctx)
    text, pressed = _text(inbound), chosen(inbound)
    if not state.scope_settled and state.scope is not None:
        if (pressed.kind, pressed.value) == ("scope", "file-anyway") or norm(text) in {
                "file", "file it", "file anyway", "review", "yes"}:
            state.scope_settled = True
            state.file_despite_scope = True
            return None
        return "Say “file” to file it for review, or “cancel”."
    alt = assessment_of(state, ctx).alternative_case_type
    if alt and ((pressed.kind, pressed.value) == ("alternative", alt) or norm(text) in {
            "yes", "ok", norm(pack.case_types[alt].label), alt}):
        state.case_type = alt
        spec = pack.case_types[alt]
        if not spec.has_priority:
            state.priority = spec.fixed_priority
            state.priority_source = "fixed" if spec.fixed_priority else None
        state.scope_settled = False
        return None
    if text and listen(state, text, ctx, correct=True):
        return None
    return "This can't be filed as it is. Choose the alternative, go back, or cancel."


# ---- confirm -------------------------------------------------------------------------------



def _read_confirm(state: IntakeState, inbound: Inbound, ctx: IntakeContext,
                  now: datetime) -> Answer:
    from bot.intake.summary import summary

    text, choice, pressed = _text(inbound), inbound.choice or "", chosen(inbound)
    if (pressed.kind, pressed.value) == ("confirm", "explain") or norm(text) in EXPLAIN:
        lines = ctx.explain_preview(draft_of(state, ctx), now)
        return IntakeResult(state, [Reply("\n".join(lines) or "No timed targets apply."),
                                    summary(state, ctx, now)])
    if (pressed.kind, pressed.value) == ("confirm", "open") or (
            not choice and norm(text) in CONFIRM):
        return IntakeResult(None, [], draft_of(state, ctx))
    if pressed.kind == "change":
        return change(state, pressed.value, ctx)
    if text and listen(state, text, ctx, correct=True):
        return None
    return ("Say “open” to file the case, “why” to see how the times were worked out, or "
            "tell me what to change (e.g. “it's staging”, “only me”).")


def change(state: IntakeState, key: str, ctx: IntakeContext) -> Answer:
    """Clear one summary item so its step asks it again, then come back to the summary."""
    pack = _pack(state, ctx)
    if key == "case_type":
        state.case_type = None
        state.priority = None
        state.priority_confirmed = False
        state.coverage_settled = state.scope_settled = False
    elif key == "priority":
        state.priority_confirmed = False
        state.step = "priority"
        state.changing = "priority"
        return None
    elif key == "deployment":
        state.deployment = state.environment = None
        state.coverage_settled = False
    elif key.startswith("field.") and key[6:] in pack.intake:
        state.fields.pop(key[6:], None)
    elif key == "description":
        state.description = None
        state.scope_settled = state.articles_settled = False
    else:
        return "That can't be changed here."
    state.heard.pop(key, None)
    state.changing = key
    return None


def _ask_confirm(state: IntakeState, ctx: IntakeContext, now: datetime) -> Reply:
    from bot.intake.summary import summary

    return summary(state, ctx, now)


def _ask_suggest(state: IntakeState, ctx: IntakeContext, now: datetime) -> Reply:
    from bot.intake.articles import ask  # the offer of articles lives beside its rules

    return ask(state, ctx, now)


def _read_suggest(state: IntakeState, inbound: Inbound, ctx: IntakeContext,
                  now: datetime) -> Answer:
    from bot.intake.articles import read

    return read(state, inbound, ctx, now)


def _help_text(expected: str) -> Callable[[Pack | None], str]:
    return lambda pack: expected


def _help_priority(pack: Pack | None) -> str:
    if pack is None:
        return "a priority level"
    levels = pack.ordered_priorities()
    examples = " or ".join(f"“{pack.priorities[p].label.split(' – ')[0]}”" for p in levels[:2])
    return f"“keep”, or a {pack.priority_word.lower()} such as {examples}"


def _help_case_type(pack: Pack | None) -> str:
    if pack is None:
        return "a case type"
    first = pack.priorities[pack.ordered_priorities()[0]].label.split(" – ")[0]
    return (f"a case type, e.g. “incident” or “question” — or just say what happened "
            f"(“{first}: the API is down”)")


def _help_impact(pack: Pack | None) -> str:
    word = pack.priority_word.lower() if pack else "priority"
    return (f"one of the options, or say it in your words (“it's down”, “only me”, “nothing "
            f"is lost”) — or name the {word} yourself")


STEPS: dict[Step, StepSpec] = {
    "customer": StepSpec(_ask_customer, _read_customer, _help_text("the customer's name")),
    "case_type": StepSpec(_ask_case_type, _read_case_type, _help_case_type),
    "impact": StepSpec(_ask_impact, _read_impact, _help_impact),
    "priority": StepSpec(_ask_priority, _read_priority, _help_priority),
    "deployment": StepSpec(_ask_deployment, _read_deployment,
                           _help_text("the deployment's name, or “prod” / “staging”")),
    "field": StepSpec(_ask_field, _read_field, _help_text("the value asked for")),
    "description": StepSpec(_ask_description, _read_description, _help_text(
        "a description with what happened and how to reproduce it")),
    "scope_question": StepSpec(_ask_scope_question, _read_scope_question,
                               _help_text("one of the options")),
    "consulting": StepSpec(_ask_consulting, _read_consulting, _help_text(
        f"“request” to {CONSULTING_REQUEST.lower()}, or “support” to file it anyway")),
    "not_covered": StepSpec(_ask_not_covered, _read_not_covered,
                            _help_text("one of the options, or “cancel”")),
    "suggest": StepSpec(_ask_suggest, _read_suggest, _help_text(
        "“yes” if one of the articles answered your question, or “no” to open a case")),
    "confirm": StepSpec(_ask_confirm, _read_confirm, _help_text(
        "“open” to file the case, “why” for how the times were computed, or what to change")),
}
