"""The intake's step table is what its state diagram draws."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from bot.intake.state import Step
from bot.intake.steps import STEPS

DIAGRAM = Path(__file__).resolve().parents[1] / "bot" / "intake" / "README.md"


def test_the_diagram_states_are_the_step_table() -> None:
    """Every state drawn in bot/intake/README.md is a step of the table, and back."""
    text = DIAGRAM.read_text()
    drawn = set(re.findall(r"^\s+(?:\[\*\]|(\w+)) --> (?:\[\*\]|(\w+))", text, re.M))
    states = {name for pair in drawn for name in pair if name}
    assert states == set(STEPS)
    assert set(STEPS) == set(typing.get_args(Step))
