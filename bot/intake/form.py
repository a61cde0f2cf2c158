"""The whole intake as one form (Slack modal, Teams card, web form), and applying one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from bot.choice_ids import parse_choice
from bot.deployment import Customer
from bot.errors import ChoiceIdError
from bot.intake.facts import check_type, set_customer_priority, set_deployment, type_choices
from bot.intake.listen import MIN_DESCRIPTION
from bot.intake.state import IntakeContext, IntakeState, start_state
from bot.intake.steps import impact_choices
from bot.intake.vocabulary import norm, parse_priority
from bot.messages import Choice, Form, FormField
from policy.errors import PolicyError
from policy.impact import unanswered
from policy.understanding import DeploymentRef, read_deployment


def _impact_answer(value: str) -> str:
    """A form's impact field posts the option's choice id; a typed value is the option id."""
    try:
        parsed = parse_choice(value)
    except ChoiceIdError:
        return value
    return parsed.value if parsed.kind == "impact" else value


def _match_deployment(customer: Customer, text: str) -> str | None:
    return read_deployment(text, [DeploymentRef(d.name, d.environment)
                                  for d in customer.deployments])


OPEN_FORM_LABEL = "Fill in one form"


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
            state.case_type = check_type(ctx.pack_for(state.customer_id),
                                          ctx.pack_for(state.customer_id).case_type(case_type),
                                          ctx, state.customer_id)
        except (PolicyError, ValueError):
            state.case_type = None
    form = intake_form(state, ctx)
    if form is None:
        return None
    if values:  # keep what the person already entered when the form reshapes
        form = replace(form, fields=tuple(replace(f, value=values.get(f.id) or f.value)
                                          for f in form.fields))
    fields = tuple(replace(f, value=description[:3000])
                   if f.id == "description" and description else f for f in form.fields)
    if len(ctx.customers) > 1 and state.customer_id:
        fields += (FormField("customer", "", "hidden", value=state.customer_id),)
    return replace(form, fields=fields)


def intake_form(state: IntakeState, ctx: IntakeContext) -> Form | None:
    """Everything still open at once, for platforms with forms (Slack modal, Teams card, web),
    carrying what the person already said: the description prefilled, and only the questions
    still open — a priority, deployment or pack field already known is not asked again (the
    summary shows it, one tap to change). Once the case type is known the form only asks what
    that type needs, with the pack's guidance. The impact questions are there for whoever
    doesn't know the priority: asked only if they choose to (`FormField.reveal`)."""
    if state.customer_id is None:
        return None
    pack = ctx.pack_for(state.customer_id)
    customer = ctx.customers[state.customer_id]
    word = pack.priority_word
    spec = pack.case_types.get(state.case_type or "")
    fields: list[FormField] = [
        FormField("case_type", "Case type", "choice", type_choices(pack, ctx, state.customer_id),
                  value=state.case_type, refresh=True,
                  hint=spec.description if spec else "What kind of case is it?")
    ]
    if (spec is None or spec.has_priority) and state.priority is None:
        fields.append(FormField(
            "priority", word, "choice",
            tuple(Choice(p, pack.priorities[p].label, pack.priorities[p].summary)
                  for p in pack.ordered_priorities()),
            required=False, hint="Leave empty to answer the impact questions instead"))
        reveal = f"Not sure of the {word.lower()}? Answer the impact questions"
        for qid in unanswered(pack, state.impact):
            question = pack.impact.questions[qid]
            fields.append(FormField(f"impact.{qid}", question.text, "choice",
                                    impact_choices(question), required=False, reveal=reveal))
    if customer.deployments and (spec is None or spec.needs_deployment) \
            and state.deployment is None and len(customer.deployments) > 1:
        fields.append(FormField("deployment", "Deployment", "choice", tuple(
            Choice(d.name, d.name, d.environment) for d in customer.deployments),
            required=False, hint="Not needed for a query"))
    for name, field_spec in pack.intake.items():
        if spec is not None and field_spec.case_types is not None \
                and state.case_type not in field_spec.case_types:
            continue
        if spec is None and field_spec.case_types == ():
            continue
        if name in state.fields:
            continue
        fields.append(FormField(f"field.{name}", field_spec.label,
                                "choice" if field_spec.options else "text",
                                tuple(Choice(o.id, o.label, o.hint) for o in field_spec.options),
                                required=False, hint=field_spec.prompt))
    fields.append(FormField("description", "Description", "long_text",
                            hint="What happened, error messages, steps to reproduce",
                            value=state.description[:3000] if state.description else None))
    return Form("intake", "File a support case", tuple(fields), "Review",
                open_label=OPEN_FORM_LABEL)


def apply_form(state: IntakeState, values: Mapping[str, str], ctx: IntakeContext) -> str | None:
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
            state.case_type = check_type(pack, pack.case_type(raw_type), ctx, state.customer_id)
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
            set_customer_priority(state, pack, priority)
    for qid, question in pack.impact.questions.items():
        answer = values.get(f"impact.{qid}", "").strip()
        if answer:
            answer = _impact_answer(answer)
            if question.option(answer) is None:
                problems.append(f"{question.text}: {answer!r} is not an option.")
            else:
                state.impact[qid] = answer
    dep = values.get("deployment", "").strip()
    if dep:
        name = dep if customer.deployment(dep) else _match_deployment(customer, dep)
        if name is None:
            problems.append(f"Deployment: no deployment {dep!r}.")
        else:
            set_deployment(state, customer, name)
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
