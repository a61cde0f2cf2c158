"""Taking what a customer's words say into the intake, first message and every later one.

Only what is still unknown is filled from words, except where `correct` is set (the summary:
"it's staging actually" changes the deployment). Every value taken is recorded in
`state.heard` with the words, so the summary can say "from your message".
"""

from __future__ import annotations

from bot.intake.facts import may_file, set_deployment
from bot.intake.state import IntakeContext, IntakeState
from policy.understanding import DeploymentRef, read

MIN_DESCRIPTION = 20


def listen(state: IntakeState, text: str, ctx: IntakeContext, *, correct: bool = False) -> bool:
    """Fill the state from free text; True when anything was taken."""
    if state.customer_id is None or not text.strip():
        return False
    pack = ctx.pack_for(state.customer_id)
    customer = ctx.customers[state.customer_id]
    reading = read(pack, text, [DeploymentRef(d.name, d.environment)
                                for d in customer.deployments])
    changed = False

    def take(key: str) -> None:
        nonlocal changed
        changed = True
        if key in reading.words:
            state.heard[key] = reading.words[key]

    if reading.case_type and (state.case_type is None or correct) \
            and reading.case_type != state.case_type \
            and may_file(pack, reading.case_type, ctx, state.customer_id) \
            and ("case_type" in reading.words or state.case_type is None):
        state.case_type = reading.case_type
        state.coverage_settled = state.scope_settled = False
        take("case_type")
    for qid, answer in reading.impact.items():
        if state.impact.get(qid) != answer and (qid not in state.impact or correct
                                                or qid in state.assumed):
            state.impact[qid] = answer
            take(f"impact.{qid}")
            if state.priority_source != "customer" or correct:
                state.priority = None
                state.priority_confirmed = False
    if reading.priority and reading.priority != state.stated_priority:
        state.stated_priority = reading.priority
        take("priority")
        if correct and not reading.impact:
            state.priority = None
            state.priority_confirmed = False
            state.skip_impact = True
    if reading.deployment and reading.deployment != state.deployment \
            and (state.deployment is None or correct):
        set_deployment(state, customer, reading.deployment)
        state.coverage_settled = False
        take("deployment")
    for name, value in reading.fields.items():
        applies = pack.intake[name].case_types
        if applies is not None and state.case_type is not None \
                and state.case_type not in applies:
            continue  # QSCIM asks no product; ConnectSoft's product kind is for incidents
        if state.fields.get(name) != value and (name not in state.fields or correct):
            state.fields[name] = value
            take(f"field.{name}")
    return changed


def take_description(state: IntakeState, text: str) -> bool:
    text = text.strip()
    if len(text) >= MIN_DESCRIPTION and len(text.split()) >= 4:
        state.description = text[:4000]
        return True
    return False
