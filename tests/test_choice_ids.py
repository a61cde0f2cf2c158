"""Choice ids are one typed value, formatted and parsed in bot/choice_ids only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.choice_ids import (
    ChoiceId,
    action_form,
    case_action,
    case_id_of,
    is_action_form,
    is_nav,
    is_primary,
    parse_choice,
)
from bot.errors import ChoiceIdError

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("text", [
    "case:acknowledge:ACME-4", "case:response_plan/technical-assessment:ACME-4",
    "action:ask_customer:ACME-4", "priority:P1", "priority:keep", "cmd:back", "cmd:cancel",
    "impact:skip", "confirm:open", "scope:file-anyway", "alternative:query",
])
def test_a_choice_id_formats_back_to_what_was_parsed(text: str) -> None:
    assert str(parse_choice(text)) == text


def test_a_case_button_names_its_action_and_case() -> None:
    choice = parse_choice("case:response_plan/technical-assessment:ACME-4")
    assert choice == case_action("response_plan/technical-assessment", "ACME-4")
    assert (choice.is_case_action, choice.action, choice.case_id) == (
        True, "response_plan", "ACME-4")
    assert case_id_of("case:acknowledge:ACME-4") == "ACME-4"
    assert case_id_of("priority:P1") is None


def test_a_case_button_without_a_case_parses_with_an_empty_case() -> None:
    assert parse_choice("case:acknowledge") == ChoiceId("case", "acknowledge", "")
    assert case_id_of("case:acknowledge") is None


def test_the_intake_writes_no_id_by_hand() -> None:
    """The intake formats its choice ids through bot.choice_ids, like everyone else."""
    for path in (ROOT / "bot" / "intake").rglob("*.py"):
        source = path.read_text()
        hand_made = re.findall(r'Choice\(f?"([a-z]+:[^"]*)"', source)
        assert not hand_made, f"{path.relative_to(ROOT)} writes ids by hand: {hand_made}"


def test_navigation_primary_and_action_forms_are_told_apart() -> None:
    assert is_nav("cmd:back") and not is_nav("case:acknowledge:ACME-4")
    assert is_primary("case:acknowledge:ACME-4") and is_primary("confirm:open")
    assert not is_primary("case:resolve:ACME-4")
    assert is_action_form(str(action_form("ask_customer", "ACME-4")))
    assert not is_action_form("intake")


@pytest.mark.parametrize("text", ["", ":x", "case:ack:\nACME-4", "x" * 201])
def test_an_id_no_button_of_ours_has_is_our_own_error(text: str) -> None:
    with pytest.raises(ChoiceIdError):
        parse_choice(text)


def test_adapters_never_take_choice_ids_apart() -> None:
    for path in [*(ROOT / "adapters").rglob("*.py"), *(ROOT / "adapters").rglob("*.js"),
                 *(ROOT / "bot" / "handler").rglob("*.py"),
                 *(ROOT / "bot" / "intake").rglob("*.py")]:
        source = path.read_text()
        for pattern in ('startswith("cmd:', 'startswith("case:', 'startswith("action:',
                        "split(\":\", 2)"):
            assert pattern not in source, f"{path.relative_to(ROOT)} parses ids: {pattern}"
