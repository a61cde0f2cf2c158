"""Guided intake: a pure state machine from "hello" to a case the policy understands.

`step(state, inbound, ctx) -> IntakeResult`. No I/O: loading and saving the state (with its
version), creating the case and posting replies happen around it (bot.handler). The state
diagram is in intake.md beside this file.

The next question is always derived from what is still missing (customer → case type →
priority → deployment → pack fields → description → scope → coverage → confirm), so free
text, buttons and one-shot forms all land in the same place, and "back" is just restoring the
previous snapshot.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.deployment import Customer
from bot.messages import Choice, Form, FormField, Inbound, Person, Reply
from bot.records import ScopeVerdict
from policy.errors import PolicyError
from policy.pack import ImpactQuestion, Pack
from policy.scope import decide_scope
from policy.sla import Assessment, CaseFacts, assess

Step = Literal[
    "customer", "case_type", "impact", "priority", "deployment", "field", "description",
    "scope_question", "consulting", "not_covered", "confirm",
]
MIN_DESCRIPTION = 20
_MAX_SNAPSHOTS = 30

YES = {"yes", "y", "yeah", "yep", "yup", "correct", "right", "sure", "ok", "okay", "true",
       "affirmative", "it is", "they are", "we do", "definitely", "absolutely", "indeed"}
NO = {"no", "n", "nope", "nah", "not really", "false", "negative", "it isnt", "it is not",
      "they arent", "we dont", "none", "not at all"}
CONFIRM = {"open", "open it", "file", "file it", "submit", "send", "go", "go ahead", "confirm",
           "create", "yes", "y", "ok", "okay", "looks good", "correct", "do it", "sure",
           "yes please", "please do", "lgtm"}
KEEP = {"keep", "keep it", "ok", "okay", "yes", "y", "fine", "sounds good", "agree", "correct",
        "right", "thats right", "good", "yes please", "sure", "accept"}
COMMANDS = {
    "cancel": "cancel", "stop": "cancel", "quit": "cancel", "abort": "cancel",
    "never mind": "cancel", "nevermind": "cancel", "forget it": "cancel",
    "back": "back", "go back": "back", "previous": "back", "undo": "back",
    "help": "help", "?": "help", "what can i say": "help", "what do i do": "help",
    "start over": "restart", "restart": "restart", "start again": "restart", "reset": "restart",
}


class IntakeState(BaseModel):
    """Everything known so far about the case being filed (persisted as JSON)."""

    model_config = ConfigDict(extra="forbid")

    step: Step = "case_type"
    customer_id: str | None = None
    case_type: str | None = None
    impact: dict[str, str] = Field(default_factory=dict)
    skip_impact: bool = False
    priority: str | None = None
    priority_source: Literal["derived", "customer", "fixed", "policy"] | None = None
    priority_reason: str | None = None
    priority_confirmed: bool = False
    deployment: str | None = None
    environment: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    description: str | None = None
    scope_answers: dict[str, str] = Field(default_factory=dict)
    pending_question: str | None = None
    scope: ScopeVerdict | None = None
    scope_settled: bool = False
    file_despite_scope: bool = False
    coverage_settled: bool = False
    started_at: datetime
    updated_at: datetime
    snapshots: list[dict[str, Any]] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CaseDraft:
    """A confirmed request, ready for the case service to open."""

    customer_id: str
    case_type: str
    priority: str | None
    requested_priority: str | None
    priority_source: str
    priority_reason: str | None
    deployment: str | None
    environment: str | None
    managed: bool
    hypercare: bool
    fields: dict[str, str]
    description: str
    scope: ScopeVerdict | None
    consulting_request: bool = False
    consulting_approved: bool = False
    billable: bool = False  # a query beyond the plan's query hours


@dataclass(frozen=True, slots=True)
class IntakeContext:
    """What the state machine may consult: the pack, the customer, the clock, the person."""

    person: Person
    customers: Mapping[str, Customer]  # those this person may file for
    pack_for: Callable[[str], Pack]
    vendor_name: str
    idle_timeout: timedelta
    clocks_preview: Callable[[CaseDraft, datetime], list[str]]
    explain_preview: Callable[[CaseDraft, datetime], list[str]]
    # Per customer: (query minutes used this term, the plan's limit in minutes or None).
    query_usage: Mapping[str, tuple[int, int | None]] = field(default_factory=dict)


@dataclass(slots=True)
class IntakeResult:
    state: IntakeState | None
    replies: list[Reply] = field(default_factory=list)
    draft: CaseDraft | None = None


# ---- text helpers --------------------------------------------------------------------------


def norm(text: str) -> str:
    """Lower case, apostrophes dropped, punctuation to spaces, single spaces."""
    text = text.lower().replace("’", "'").replace("'", "")
    return " ".join(re.sub(r"[^a-z0-9?]+", " ", text).split())


def command_of(text: str | None, choice: str | None) -> str | None:
    if choice and choice.startswith("cmd:"):
        return choice[4:]
    if text:
        return COMMANDS.get(norm(text).rstrip("?").strip() or "?")
    return None


def _pick(choices: tuple[Choice, ...], text: str) -> Choice | None:
    """A choice by id, by label, by number ("2"), or by a label's distinctive word."""
    key = norm(text)
    if not key:
        return None
    for choice in choices:
        if key in {norm(choice.id), norm(choice.label)}:
            return choice
    if key.isdigit() and 1 <= int(key) <= len(choices):
        return choices[int(key) - 1]
    hits = [c for c in choices if re.search(rf"\b{re.escape(key)}\b", norm(c.label))]
    if len(hits) == 1:
        return hits[0]
    words = set(key.split())
    hits = [c for c in choices if norm(c.label) and set(norm(c.label).split()) <= words]
    return hits[0] if len(hits) == 1 else None


_PRIORITY_FILLER = {"its", "it", "is", "a", "an", "the", "priority", "severity", "sev", "level",
                    "this", "thats", "that", "i", "think", "would", "say", "id", "please", "make",
                    "set", "to", "as", "treat", "call", "very", "quite", "pretty", "be", "should",
                    "ticket", "case", "incident"}


def parse_priority(pack: Pack, text: str) -> str | None:
    """"P1", "it's high", "Severity 2", "critical please" → the pack's priority, or None."""
    key = norm(text)
    if not key:
        return None
    try:
        return pack.priority(key)
    except PolicyError:
        pass
    words = [w for w in key.split() if w not in _PRIORITY_FILLER]
    candidates = [" ".join(words)] + [" ".join(p) for p in itertools.pairwise(words)]
    if len(words) <= 3:
        candidates += words
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return pack.priority(candidate)
        except PolicyError:
            continue
    return None


def _yes_no(text: str) -> str | None:
    key = norm(text)
    if key in YES or key.startswith(("yes ", "yeah ", "yep ")):
        return "yes"
    if key in NO or key.startswith(("no ", "nope ", "not ")):
        return "no"
    return None


# ---- the machine -----------------------------------------------------------------------------


def start_state(at: datetime, ctx: IntakeContext) -> IntakeState:
    state = IntakeState(started_at=at, updated_at=at)
    if len(ctx.customers) == 1:
        state.customer_id = next(iter(ctx.customers))
    return state


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
            return _finish(state, _apply_form(state, inbound.form, ctx), replies, ctx, now)
        seed = (inbound.text or "").strip()
        if seed and command is None and not _is_opener(seed):
            _seed(state, seed, ctx)
        return _finish(state, None, replies, ctx, now)

    if command == "cancel":
        return IntakeResult(None, [Reply("Cancelled — nothing was filed. Say “support” or "
                                         "“new case” whenever you want to start again.")])
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
    problem: str | IntakeResult | None
    if inbound.form:
        problem = _apply_form(working, inbound.form, ctx)
    else:
        problem = _answer(working, inbound, ctx, now)
    if isinstance(problem, IntakeResult):
        return problem
    if problem is None:
        working.snapshots = [*state.snapshots, snapshot][-_MAX_SNAPSHOTS:]
        return _finish(working, None, replies, ctx, now)
    return _finish(state, problem, replies, ctx, now)


def _finish(
    state: IntakeState, problem: str | None, replies: list[Reply], ctx: IntakeContext,
    now: datetime,
) -> IntakeResult:
    """Work out the next question (deciding scope and coverage on the way) and ask it."""
    state.updated_at = now
    if problem:
        replies.append(Reply(problem))
    _advance(state, ctx)
    replies.append(_ask(state, ctx, now))
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
    text += " Use the buttons or just type; say “back”, “cancel” or “help” at any time."
    return Reply(text)


def _is_opener(text: str) -> bool:
    key = norm(text)
    return key in {"hi", "hello", "hey", "support", "new case", "new", "help me", "case",
                   "open a case", "file a case", "new ticket", "ticket", "start", "hej", "hola"}


def _seed(state: IntakeState, text: str, ctx: IntakeContext) -> None:
    """An opening message with content ("P1: prod API is down") pre-fills what it can."""
    if state.customer_id is None:
        return
    pack = ctx.pack_for(state.customer_id)
    words = norm(text).split()
    if len(words) > 3 and any(ch.isdigit() for ch in words[0]):
        # "P1 the orders API is down": a priority code first, then the description.
        priority = parse_priority(pack, words[0])
        if priority and "incident" in pack.case_types and _may_file(
                pack, "incident", ctx, state.customer_id):
            state.case_type = "incident"
            _set_customer_priority(state, pack, priority)
            _seed_description(state, re.sub(r"^\W*\S+\W*", "", text.strip(), count=1))
            return
    if len(words) <= 3:
        priority = parse_priority(pack, text)
        if priority and "incident" in pack.case_types and _may_file(pack, "incident", ctx,
                                                                     state.customer_id):
            state.case_type = "incident"
            _set_customer_priority(state, pack, priority)
            return
        with contextlib.suppress(PolicyError, ValueError):
            state.case_type = _check_type(pack, pack.case_type(text), ctx, state.customer_id)
        return
    _seed_description(state, text)


def _seed_description(state: IntakeState, text: str) -> None:
    text = text.strip()
    if len(text) >= MIN_DESCRIPTION and len(text.split()) >= 4:
        state.description = text[:4000]


# ---- what is missing next ------------------------------------------------------------------


def _advance(state: IntakeState, ctx: IntakeContext) -> None:
    state.step = _next_step(state, ctx)


def _next_step(state: IntakeState, ctx: IntakeContext) -> Step:
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
    elif state.priority is None:
        if not state.skip_impact and _next_impact_question(pack, state.impact) is not None:
            return "impact"
        if not state.skip_impact:
            derived = _derive(pack, state.impact)
            if derived is not None:
                state.priority, state.priority_reason = derived
                state.priority_source = "derived"
        if state.priority is None:
            return "priority"
    if spec.has_priority and not state.priority_confirmed:
        return "priority"
    if spec.needs_deployment and state.deployment is None:
        if len(customer.deployments) == 1:
            _set_deployment(state, customer, customer.deployments[0].name)
        elif customer.deployments:
            return "deployment"
    if _next_field(pack, state) is not None:
        return "field"
    if not state.description:
        return "description"
    if not state.scope_settled:
        verdict_step = _decide_scope(state, pack)
        if verdict_step is not None:
            return verdict_step
    if not state.coverage_settled:
        assessment = _assess(state, ctx)
        if not assessment.covered:
            return "not_covered"
        state.coverage_settled = True
    return "confirm"


def _next_impact_question(pack: Pack, answers: Mapping[str, str]) -> str | None:
    """The first question an undecided rule still needs, walking the rules in order."""
    for rule in pack.impact.rules:
        contradicted = any(q in answers and answers[q] not in ok for q, ok in rule.when.items())
        if contradicted:
            continue
        missing = [q for q in rule.when if q not in answers]
        if not missing:
            return None
        return missing[0]
    return None


def _derive(pack: Pack, answers: Mapping[str, str]) -> tuple[str, str] | None:
    for rule in pack.impact.rules:
        if all(answers.get(q) in ok for q, ok in rule.when.items()):
            return rule.priority, f"{rule.because} ({rule.clause})"
    return None


def _next_field(pack: Pack, state: IntakeState) -> str | None:
    for name, spec in pack.intake.items():
        if spec.case_types is not None and state.case_type not in spec.case_types:
            continue
        if name not in state.fields:
            return name
    return None


def _decide_scope(state: IntakeState, pack: Pack) -> Step | None:
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


def _assess(state: IntakeState, ctx: IntakeContext) -> Assessment:
    assert state.customer_id and state.case_type
    pack = ctx.pack_for(state.customer_id)
    customer = ctx.customers[state.customer_id]
    return assess(pack, customer.plan, _facts(state, ctx))


def _facts(state: IntakeState, ctx: IntakeContext) -> CaseFacts:
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


def _over_query_limit(state: IntakeState, ctx: IntakeContext) -> bool:
    """Konneqt: queries are capped by the plan's query hours; beyond, a new query is billable."""
    if state.case_type != "query" or state.customer_id is None:
        return False
    used, limit = ctx.query_usage.get(state.customer_id, (0, None))
    return limit is not None and used >= limit


def draft_of(state: IntakeState, ctx: IntakeContext, *, consulting: bool = False) -> CaseDraft:
    assert state.customer_id and state.case_type
    facts = _facts(state, ctx)
    assessment = _assess(state, ctx)
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
        fields=dict(state.fields),
        description=state.description or "",
        scope=state.scope,
        consulting_request=consulting,
        consulting_approved=consulting,
        billable=_over_query_limit(state, ctx),
    )


# ---- asking ----------------------------------------------------------------------------------

_NAV = (Choice("cmd:back", "Back", "Change the previous answer"),
        Choice("cmd:cancel", "Cancel", "Stop; nothing is filed"))


def _ask(state: IntakeState, ctx: IntakeContext, now: datetime) -> Reply:
    s = state.step
    if s == "customer":
        choices = tuple(Choice(cid, c.name, f"{c.pack} · {c.plan}") for cid, c in
                        ctx.customers.items())
        return Reply("Which customer is this case for?\n" + _numbered(choices),
                     choices=choices + _NAV[1:])
    assert state.customer_id
    pack = ctx.pack_for(state.customer_id)
    customer = ctx.customers[state.customer_id]
    word = pack.priority_word
    if s == "case_type":
        choices = _type_choices(pack, ctx, state.customer_id)
        return Reply("What kind of case is it?\n" + _numbered(choices),
                     choices=choices + _NAV[1:], form=_one_shot_form(state, ctx))
    if s == "impact":
        qid = _next_impact_question(pack, state.impact)
        assert qid is not None
        question = pack.impact.questions[qid]
        skip = Choice("impact:skip", f"I'll choose the {word.lower()}",
                      f"Skip the questions and pick the {word.lower()} yourself")
        choices = (*_impact_choices(question), skip)
        return Reply(f"To set the {word.lower()}: {question.text}\n" + _numbered(choices),
                     choices=choices + _NAV)
    if s == "priority":
        choices = _priority_offer(state, pack)
        if state.priority and state.priority_source == "derived":
            label = pack.priorities[state.priority].label
            text = (f"From your answers: {state.priority_reason}\n"
                    f"Keep {label}, or choose another {word.lower()} (your choice is recorded "
                    "as set by you)?\n" + _numbered(choices))
        elif state.priority:
            label = pack.priorities[state.priority].label
            text = f"You chose {label}. Keep it?\n" + _numbered(choices)
        else:
            text = f"Which {word.lower()}?\n" + _numbered(choices)
        return Reply(text, choices=choices + _NAV)
    if s == "deployment":
        choices = tuple(
            Choice(d.name, d.name, f"{d.environment}{', managed' if d.managed else ''}")
            for d in customer.deployments)
        return Reply("Which deployment is affected?\n" + _numbered(choices),
                     choices=choices + _NAV)
    if s == "field":
        name = _next_field(pack, state)
        assert name is not None
        spec = pack.intake[name]
        choices = tuple(Choice(o.id, o.label, o.hint) for o in spec.options)
        text = spec.prompt + ("\n" + _numbered(choices) if choices else "")
        return Reply(text, choices=choices + _NAV)
    if s == "description":
        return Reply("Describe the problem or request with the details needed to reproduce "
                     "it: what you did, what happened, error messages, and since when.",
                     choices=_NAV)
    if s == "scope_question":
        assert state.pending_question
        scope_q = pack.scope.questions[state.pending_question]
        choices = tuple(Choice(f"scope:{o.id}", o.label, o.description)
                        for o in scope_q.options)
        return Reply(scope_q.text + "\n" + _numbered(choices), choices=choices + _NAV)
    if s == "consulting":
        return _consulting_offer(state, pack, ctx)
    if s == "not_covered":
        return _not_covered_offer(state, pack, ctx)
    return _confirm(state, pack, customer, ctx, now)


def _priority_offer(state: IntakeState, pack: Pack) -> tuple[Choice, ...]:
    """Keep (when there is something to keep), then the ladder — numbered in this order."""
    ladder = tuple(Choice(f"priority:{p}", pack.priorities[p].label, pack.priorities[p].summary)
                   for p in pack.ordered_priorities())
    if state.priority:
        label = pack.priorities[state.priority].label
        hint = f"Use the derived {pack.priority_word.lower()}" if \
            state.priority_source == "derived" else ""
        return (Choice("priority:keep", f"Keep {label}", hint), *ladder)
    return ladder


def _numbered(choices: tuple[Choice, ...]) -> str:
    return "\n".join(
        f"{i}. {c.label}" + (f" — {c.explanation}" if c.explanation else "")
        for i, c in enumerate(choices, 1)
    )


def _may_file(pack: Pack, case_type: str, ctx: IntakeContext, customer_id: str) -> bool:
    spec = pack.case_types[case_type]
    who = "vendor" if ctx.person.is_vendor else (
        "partner" if ctx.person.role == "partner" else "customer")
    if who not in spec.filed_by:
        return False
    if spec.managed_only:
        return any(d.managed for d in ctx.customers[customer_id].deployments)
    return True


def _check_type(pack: Pack, case_type: str, ctx: IntakeContext, customer_id: str) -> str:
    if not _may_file(pack, case_type, ctx, customer_id):
        spec = pack.case_types[case_type]
        raise ValueError(f"A {spec.label} can't be filed here: {spec.clause}.")
    return case_type


def _type_choices(pack: Pack, ctx: IntakeContext, customer_id: str) -> tuple[Choice, ...]:
    return tuple(Choice(name, spec.label, spec.description)
                 for name, spec in pack.case_types.items()
                 if _may_file(pack, name, ctx, customer_id))


def _impact_choices(question: ImpactQuestion) -> tuple[Choice, ...]:
    return tuple(Choice(f"impact:{o.id}", o.label, o.hint) for o in question.options)


def _consulting_offer(state: IntakeState, pack: Pack, ctx: IntakeContext) -> Reply:
    assert state.scope
    terms = pack.consulting.description if pack.consulting else \
        "It is a separate, paid engagement."
    approve = "I approve a paid consulting request" if (
        pack.consulting and pack.consulting.needs_prior_approval) else \
        "Send a consulting request"
    text = (f"This looks like consulting rather than standard support — {state.scope.clause}: "
            f"{state.scope.explanation} {terms}\nShall I send {ctx.vendor_name} a consulting "
            "request instead? If you think this is really a product problem, file it as "
            "support and an engineer will check.")
    return Reply(text, choices=(
        Choice("consulting:request", approve, "We'll come back with a proposal"),
        Choice("consulting:support", "File it as support anyway",
               "An engineer reviews the scope"),
        *_NAV))


def _not_covered_offer(state: IntakeState, pack: Pack, ctx: IntakeContext) -> Reply:
    if state.scope_settled:  # coverage: the plan itself doesn't cover it
        assessment = _assess(state, ctx)
        reasons = " ".join(f"{n.text} ({n.clause})" for n in assessment.notes
                           if not n.text.startswith("Targets from"))
        choices: list[Choice] = []
        if assessment.alternative_case_type:
            alt = pack.case_types[assessment.alternative_case_type]
            choices.append(Choice(f"alternative:{assessment.alternative_case_type}",
                                  f"File it as a {alt.label} instead", alt.description))
        return Reply(f"This isn't covered: {reasons}", choices=(*choices, *_NAV))
    assert state.scope
    text = (f"This usually isn't covered by support — {state.scope.clause}: "
            f"{state.scope.explanation}\nYou can still file it and an engineer will confirm, "
            "or cancel.")
    return Reply(text, choices=(
        Choice("scope:file-anyway", "File it for review", "An engineer checks the scope"),
        *_NAV))


def _confirm(state: IntakeState, pack: Pack, customer: Customer, ctx: IntakeContext,
             now: datetime) -> Reply:
    draft = draft_of(state, ctx)
    lines = [f"Please check and confirm — {customer.name}, {pack.name}:",
             f"• Type: {pack.case_types[draft.case_type].label}"]
    if draft.priority:
        prio = pack.priorities[draft.priority].label
        source = {"derived": "from your answers", "customer": "chosen by you",
                  "policy": "set by the policy", "fixed": "fixed for this case type"}.get(
            draft.priority_source, draft.priority_source)
        lines.append(f"• {pack.priority_word}: {prio} ({source})")
        if draft.requested_priority and draft.requested_priority != draft.priority:
            assessment = _assess(state, ctx)
            for note in assessment.notes:
                if note.text.startswith("Reclassified"):
                    lines.append(f"  ↳ {note.text} ({note.clause})")
    if draft.deployment:
        lines.append(f"• Deployment: {draft.deployment} ({draft.environment})")
    for name, value in draft.fields.items():
        lines.append(f"• {pack.intake[name].label}: {value}")
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
    return Reply("\n".join(lines), choices=(
        Choice("confirm:open", "Open the case", "File it now"),
        Choice("confirm:explain", "How were the times worked out?",
               "Show how each due was computed"),
        *_NAV))


def _help(state: IntakeState, ctx: IntakeContext) -> Reply:
    expected = {
        "customer": "the customer's name",
        "case_type": "a case type, e.g. “incident” or “query” — or a priority like “P1”",
        "impact": "one of the options, or yes/no — or a priority like “P2” to set it yourself",
        "priority": "“keep”, or a priority such as “P1”, “high”, “critical”",
        "deployment": "the deployment's name, or “prod” / “staging”",
        "field": "the value asked for",
        "description": "a description with what happened and how to reproduce it",
        "scope_question": "one of the options",
        "consulting": "“request” for a consulting request, or “support” to file it anyway",
        "not_covered": "one of the options, or “cancel”",
        "confirm": "“open” to file the case, “why” for how the times were computed",
    }[state.step]
    return Reply(f"I'm asking for {expected}. You can also say “back” to change the previous "
                 "answer, “start over”, or “cancel”. Buttons work too.")


# ---- answering -------------------------------------------------------------------------------


def _set_customer_priority(state: IntakeState, pack: Pack, priority: str) -> None:
    state.priority = priority
    state.priority_source = "customer"
    state.priority_reason = (f"Chosen by the customer ({pack.priorities[priority].label}); "
                             "the subscriber initially determines the priority.")
    state.priority_confirmed = True


def _set_deployment(state: IntakeState, customer: Customer, name: str) -> None:
    dep = customer.deployment(name)
    assert dep is not None
    state.deployment = dep.name
    state.environment = dep.environment


_PROD = {"prod", "production", "live", "prd", "productive"}
_PREPROD = {"staging", "stage", "preprod", "pre prod", "pre production", "test", "testing", "qa",
            "uat", "dev", "development", "sandbox", "nonprod", "non prod", "non production"}


def _match_deployment(customer: Customer, text: str) -> str | None:
    key = norm(text)
    if not key:
        return None
    for dep in customer.deployments:
        if key == norm(dep.name) or norm(dep.name) in key:
            return dep.name
    # A distinctive part of a name ("saas" for initech-saas), when only one deployment has it.
    partial = [d.name for d in customer.deployments
               if len(key) >= 2 and re.search(rf"\b{re.escape(key)}\b", norm(d.name))]
    if len(partial) == 1:
        return partial[0]
    env = None
    if key in _PROD or any(w in _PROD for w in key.split()):
        env = "production"
    if key in _PREPROD or any(w in _PREPROD for w in key.split()) \
            or any(p in key for p in ("pre prod", "non prod", "pre production")):
        env = "pre-production"
    if env:
        matches = [d.name for d in customer.deployments if d.environment == env]
        if len(matches) == 1:
            return matches[0]
    return None


def _answer(
    state: IntakeState, inbound: Inbound, ctx: IntakeContext, now: datetime
) -> str | IntakeResult | None:
    """Apply one answer; a string is the reason it couldn't be understood."""
    text = (inbound.text or "").strip()
    choice = inbound.choice
    s = state.step
    if s == "customer":
        options = tuple(Choice(cid, c.name) for cid, c in ctx.customers.items())
        picked = _pick(options, choice or text)
        if picked is None:
            return "I didn't catch which customer. Pick one of the list or type its name."
        state.customer_id = picked.id
        return None
    assert state.customer_id
    pack = ctx.pack_for(state.customer_id)
    customer = ctx.customers[state.customer_id]
    word = pack.priority_word.lower()

    if s == "case_type":
        choices = _type_choices(pack, ctx, state.customer_id)
        picked = _pick(choices, choice or text)
        if picked is None and text:
            try:
                name = pack.case_type(text)
                picked = next((c for c in choices if c.id == name), None)
                if picked is None:
                    spec = pack.case_types[name]
                    return f"A {spec.label} can't be filed here: {spec.clause}."
            except PolicyError:
                priority = parse_priority(pack, text)
                if priority and any(c.id == "incident" for c in choices):
                    state.case_type = "incident"
                    _set_customer_priority(state, pack, priority)
                    return None
        if picked is None:
            return ("I didn't catch the kind of case. Choose one: "
                    + ", ".join(c.label for c in choices) + ".")
        state.case_type = picked.id
        return None

    if s == "impact":
        qid = _next_impact_question(pack, state.impact)
        assert qid is not None
        question = pack.impact.questions[qid]
        if choice == "impact:skip" or norm(text) in {"skip", "choose myself", "i ll choose",
                                                     "ill choose"}:
            state.skip_impact = True
            return None
        opts = _impact_choices(question)
        picked = _pick(opts, choice or text)
        if picked is None and text:
            yn = _yes_no(text)
            if yn and question.option(yn):
                picked = Choice(f"impact:{yn}", yn)
        if picked is None and text:
            priority = parse_priority(pack, text)
            if priority:
                _set_customer_priority(state, pack, priority)
                return None
        if picked is None:
            return ("I didn't catch that. Answer with one of: "
                    + ", ".join(o.label for o in question.options)
                    + f" — or name the {word} yourself.")
        state.impact[qid] = picked.id.removeprefix("impact:")
        return None

    if s == "priority":
        offered = _priority_offer(state, pack)
        if not choice and text.strip().isdigit() and 1 <= int(text) <= len(offered):
            choice = offered[int(text) - 1].id
        if choice == "priority:keep" or (not choice and norm(text) in KEEP):
            if state.priority is None:
                return f"Which {word}? Choose one of the list."
            state.priority_confirmed = True
            return None
        chosen = choice.removeprefix("priority:") if choice and choice.startswith(
            "priority:") else parse_priority(pack, text)
        if chosen is None or chosen not in pack.priorities:
            return (f"I didn't catch the {word}. Say “keep”, or one of: "
                    + ", ".join(pack.priorities[p].label for p in pack.ordered_priorities())
                    + ".")
        if chosen == state.priority and state.priority_source == "derived":
            state.priority_confirmed = True
        else:
            _set_customer_priority(state, pack, chosen)
        return None

    if s == "deployment":
        dep_name = choice if choice and customer.deployment(choice) else \
            _match_deployment(customer, text)
        if dep_name is None and text.isdigit() and 1 <= int(text) <= len(customer.deployments):
            dep_name = customer.deployments[int(text) - 1].name
        if dep_name is None:
            return ("I didn't catch the deployment. Choose one of: "
                    + ", ".join(d.name for d in customer.deployments) + ".")
        _set_deployment(state, customer, dep_name)
        return None

    if s == "field":
        fname = _next_field(pack, state)
        assert fname is not None
        field_spec = pack.intake[fname]
        if field_spec.options:
            picked = _pick(tuple(Choice(o.id, o.label) for o in field_spec.options),
                           choice or text)
            if picked is None:
                return (f"I didn't catch the {field_spec.label.lower()}. Choose one of: "
                        + ", ".join(o.label for o in field_spec.options) + ".")
            state.fields[fname] = picked.label
        else:
            if not text:
                return f"Please type the {field_spec.label.lower()}."
            state.fields[fname] = text[:200]
        return None

    if s == "description":
        if len(text) < MIN_DESCRIPTION or len(text.split()) < 4:
            return ("Could you add a little more detail — what happened, any error message, "
                    "and the steps to reproduce it?")
        state.description = text[:4000]
        return None

    if s == "scope_question":
        assert state.pending_question
        scope_q = pack.scope.questions[state.pending_question]
        opts = tuple(Choice(f"scope:{o.id}", o.label) for o in scope_q.options)
        picked = _pick(opts, choice or text)
        if picked is None and text:
            yn = _yes_no(text)
            ids = {o.id for o in scope_q.options}
            if yn and yn in ids:
                picked = Choice(f"scope:{yn}", yn)
        if picked is None:
            return "I didn't catch that. Choose one of: " + ", ".join(
                o.label for o in scope_q.options) + "."
        state.scope_answers[scope_q.id] = picked.id.removeprefix("scope:")
        state.pending_question = None
        return None

    if s == "consulting":
        key = choice or ""
        if not key:
            normalized = norm(text)
            if normalized in {"request", "consulting", "send", "approve", "i approve",
                              "send a consulting request", "yes"}:
                key = "consulting:request"
            elif normalized in {"support", "file as support", "file it anyway", "anyway", "no"}:
                key = "consulting:support"
        if key == "consulting:request":
            draft = draft_of(state, ctx, consulting=True)
            return IntakeResult(None, [], draft)
        if key == "consulting:support":
            state.scope_settled = True
            state.file_despite_scope = True
            return None
        return "Say “request” to send a consulting request, or “support” to file it anyway."

    if s == "not_covered":
        if not state.scope_settled:
            if choice == "scope:file-anyway" or norm(text) in {"file", "file it", "file anyway",
                                                               "review", "yes"}:
                state.scope_settled = True
                state.file_despite_scope = True
                return None
            return "Say “file” to file it for review, or “cancel”."
        assessment = _assess(state, ctx)
        alt = assessment.alternative_case_type
        if alt and (choice == f"alternative:{alt}" or norm(text) in {
                "yes", "ok", norm(pack.case_types[alt].label), alt}):
            state.case_type = alt
            spec = pack.case_types[alt]
            if not spec.has_priority:
                state.priority = spec.fixed_priority
                state.priority_source = "fixed" if spec.fixed_priority else None
            state.scope_settled = False
            return None
        return "This can't be filed as it is. Choose the alternative, go back, or cancel."

    # confirm
    if choice == "confirm:explain" or norm(text) in {"why", "explain", "how", "how so",
                                                     "details", "show me"}:
        draft = draft_of(state, ctx)
        lines = ctx.explain_preview(draft, now)
        return IntakeResult(state, [Reply("\n".join(lines) or "No timed targets apply."),
                                    _ask(state, ctx, now)])
    if choice == "confirm:open" or (not choice and norm(text) in CONFIRM):
        return IntakeResult(None, [], draft_of(state, ctx))
    if norm(text) in {"no", "change", "edit", "change something"}:
        return IntakeResult(None, []) if not state.snapshots else step(
            state, Inbound(inbound.person, inbound.place, inbound.at, text="back"), ctx)
    return "Say “open” to file the case, “why” to see how the times were worked out, or “back”."


# ---- one-shot form ----------------------------------------------------------------------------


def customer_form(ctx: IntakeContext) -> Form:
    """The first page of a one-shot form when the person files for several customers."""
    choices = tuple(Choice(cid, c.name, f"{c.pack} · {c.plan}") for cid, c in
                    ctx.customers.items())
    return Form("intake-customer", "File a support case",
                (FormField("customer", "Customer", "choice", choices),), "Next")


def one_shot_form(ctx: IntakeContext, at: datetime, customer_id: str | None = None,
                  description: str | None = None, case_type: str | None = None,
                  values: Mapping[str, str] | None = None) -> Form | None:
    """The whole intake as one form, prefilled with `description` (a message turned into a
    case); None when the customer must be chosen first (see `customer_form`)."""
    state = start_state(at, ctx)
    if customer_id is not None and customer_id in ctx.customers:
        state.customer_id = customer_id
    if case_type and state.customer_id:
        try:
            state.case_type = _check_type(ctx.pack_for(state.customer_id),
                                          ctx.pack_for(state.customer_id).case_type(case_type),
                                          ctx, state.customer_id)
        except (PolicyError, ValueError):
            state.case_type = None
    form = _one_shot_form(state, ctx)
    if form is None:
        return None
    if values:  # keep what the person already entered when the form reshapes
        form = Form(form.id, form.title, tuple(
            FormField(f.id, f.label, f.kind, f.choices, f.required, f.hint,
                      values.get(f.id) or f.value, f.refresh) for f in form.fields),
            form.submit_label)
    fields = tuple(FormField(f.id, f.label, f.kind, f.choices, f.required, f.hint,
                             description[:3000], f.refresh)
                   if f.id == "description" and description else f for f in form.fields)
    if len(ctx.customers) > 1 and state.customer_id:
        fields += (FormField("customer", "", "hidden", value=state.customer_id),)
    return Form(form.id, form.title, fields, form.submit_label)


def _one_shot_form(state: IntakeState, ctx: IntakeContext) -> Form | None:
    """Everything at once, for platforms with forms (Slack modal, Teams card, web). Once the
    case type is known the form only asks what that type needs, with the pack's guidance."""
    if state.customer_id is None:
        return None
    pack = ctx.pack_for(state.customer_id)
    customer = ctx.customers[state.customer_id]
    word = pack.priority_word
    spec = pack.case_types.get(state.case_type or "")
    fields: list[FormField] = [
        FormField("case_type", "Case type", "choice", _type_choices(pack, ctx, state.customer_id),
                  value=state.case_type, refresh=True,
                  hint=spec.description if spec else "What kind of case is it?")
    ]
    if spec is None or spec.has_priority:
        fields.append(FormField(
            "priority", word, "choice",
            tuple(Choice(p, pack.priorities[p].label, pack.priorities[p].summary)
                  for p in pack.ordered_priorities()),
            required=False, hint="Leave empty to answer the impact questions below"))
        for qid, question in pack.impact.questions.items():
            fields.append(FormField(f"impact.{qid}", question.text, "choice",
                                    _impact_choices(question), required=False))
    if customer.deployments and (spec is None or spec.needs_deployment):
        fields.append(FormField("deployment", "Deployment", "choice", tuple(
            Choice(d.name, d.name, d.environment) for d in customer.deployments),
            required=False, hint="Not needed for a query"))
    for name, field_spec in pack.intake.items():
        if spec is not None and field_spec.case_types is not None \
                and state.case_type not in field_spec.case_types:
            continue
        if spec is None and field_spec.case_types == ():
            continue
        fields.append(FormField(f"field.{name}", field_spec.label,
                                "choice" if field_spec.options else "text",
                                tuple(Choice(o.id, o.label, o.hint) for o in field_spec.options),
                                required=False, hint=field_spec.prompt))
    fields.append(FormField("description", "Description", "long_text",
                            hint="What happened, error messages, steps to reproduce"))
    return Form("intake", "File a support case", tuple(fields), "Review")


def _apply_form(state: IntakeState, values: Mapping[str, str], ctx: IntakeContext) -> str | None:
    """Fill the state from a submitted one-shot form; a string lists what was wrong."""
    problems: list[str] = []
    if state.customer_id is None:
        cid = values.get("customer", "")
        if cid in ctx.customers:
            state.customer_id = cid
        else:
            return "Choose the customer first."
    pack = ctx.pack_for(state.customer_id)
    customer = ctx.customers[state.customer_id]
    raw_type = values.get("case_type", "").strip()
    if raw_type:
        try:
            state.case_type = _check_type(pack, pack.case_type(raw_type), ctx, state.customer_id)
        except (PolicyError, ValueError) as exc:
            problems.append(f"Case type: {exc}")
    elif state.case_type is None:
        problems.append("Case type: required.")
    raw_priority = values.get("priority", "").strip()
    if raw_priority:
        priority = parse_priority(pack, raw_priority)
        if priority is None:
            problems.append(f"{pack.priority_word}: {raw_priority!r} is not one of "
                            + ", ".join(pack.ordered_priorities()) + ".")
        else:
            _set_customer_priority(state, pack, priority)
    for qid, question in pack.impact.questions.items():
        answer = values.get(f"impact.{qid}", "").strip()
        if answer:
            if question.option(answer.removeprefix("impact:")) is None:
                problems.append(f"{question.text}: {answer!r} is not an option.")
            else:
                state.impact[qid] = answer.removeprefix("impact:")
    dep = values.get("deployment", "").strip()
    if dep:
        name = dep if customer.deployment(dep) else _match_deployment(customer, dep)
        if name is None:
            problems.append(f"Deployment: no deployment {dep!r}.")
        else:
            _set_deployment(state, customer, name)
    for name, spec in pack.intake.items():
        value = values.get(f"field.{name}", "").strip()
        if not value:
            continue
        if spec.options:
            option = next((o for o in spec.options
                           if value in {o.id, o.label} or norm(value) == norm(o.label)), None)
            if option is None:
                problems.append(f"{spec.label}: {value!r} is not one of "
                                + ", ".join(o.label for o in spec.options) + ".")
                continue
            value = option.label
        state.fields[name] = value[:200]
    description = values.get("description", "").strip()
    if description:
        if len(description) < MIN_DESCRIPTION or len(description.split()) < 4:
            problems.append("Description: add what happened and how to reproduce it.")
        else:
            state.description = description[:4000]
    elif not state.description:
        problems.append("Description: required.")
    if problems:
        return "Some answers need a fix:\n" + "\n".join(f"• {p}" for p in problems)
    return None
