"""Guided intake: from a first message to a case the policy understands, asking only what the
message didn't say. Its parts: `state` (what is known), `vocabulary` (how people answer),
`listen` (what their words say, read by policy.understanding), `steps` (the step table: how
each step asks, reads and helps), `summary`, `form` (everything at once), `machine` (runs the
table). The state diagram is README.md beside this file."""

from bot.intake.facts import draft_of
from bot.intake.form import customer_form, intake_form, one_shot_form
from bot.intake.machine import step
from bot.intake.state import (
    CaseDraft,
    IntakeContext,
    IntakeResult,
    IntakeState,
    Offer,
    start_state,
)
from bot.intake.vocabulary import norm, parse_priority

__all__ = [
    "CaseDraft", "IntakeContext", "IntakeResult", "IntakeState", "Offer", "customer_form",
    "draft_of", "intake_form", "norm", "one_shot_form", "parse_priority", "start_state", "step",
]
