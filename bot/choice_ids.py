"""Choice ids: what a button or an option posts back, as one typed value.

Every button and option carries a short string id that travels through Slack button values,
Teams card data and the web chat's JSON (`case:acknowledge:ACME-4`, `priority:P1`,
`cmd:back`, the form of a case action `action:ask_customer:ACME-4`). This module is the only
place that formats and parses them; the handler and the adapters work on `ChoiceId`.

    kind:value            an intake answer or a command (`priority:P1`, `cmd:back`)
    case:action:CASE-ID   a case button (`case:response_plan/technical-assessment:ACME-4`)
    action:action:CASE-ID the form of a case action (a form id, posted back as its button)
    survey:SCORE:CASE-ID  a satisfaction score for a resolved case (`survey:4:ACME-4`)
    evidence:FORM         an evidence form (`evidence:maintenance`, `evidence:survey`)
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import ChoiceIdError

CASE = "case"
ACTION_FORM = "action"
NAV = "cmd"
SURVEY = "survey"
EVIDENCE_FORM = "evidence"
_WITH_CASE = frozenset({CASE, ACTION_FORM, SURVEY})
_MAX = 200


@dataclass(frozen=True, slots=True)
class ChoiceId:
    """One parsed choice id. `case_id` only for case buttons and case-action forms ("" when
    a case button names no case)."""

    kind: str
    value: str = ""
    case_id: str | None = None

    def __str__(self) -> str:
        return format_choice(self)

    @property
    def is_case_action(self) -> bool:
        return self.kind == CASE

    @property
    def is_nav(self) -> bool:
        """Back / Cancel: shown apart from the answers."""
        return self.kind == NAV

    @property
    def is_primary(self) -> bool:
        """The button a platform styles as the main one (acknowledging, opening the case)."""
        return (self.kind, self.value) in {(CASE, "acknowledge"), ("confirm", "open")}

    @property
    def action(self) -> str:
        """A case action's name without its item (`response_plan/technical-assessment` →
        `response_plan`)."""
        return self.value.partition("/")[0]


def case_action(action: str, case_id: str) -> ChoiceId:
    """The button id of `action` on a case."""
    return ChoiceId(CASE, action, case_id)


def action_form(action: str, case_id: str) -> ChoiceId:
    """The form id of a case action's form."""
    return ChoiceId(ACTION_FORM, action, case_id)


def survey_score(case_id: str, score: int) -> ChoiceId:
    """The button id of a satisfaction score (1–5) for a case."""
    return ChoiceId(SURVEY, str(score), case_id)


def evidence_form(name: str, *parts: str) -> ChoiceId:
    """The form id of an evidence form (`evidence:maintenance`, a survey's comment
    `evidence:survey/ACME-4/3`): enough to draw the form again from the id alone (a Slack
    button opens its modal from it)."""
    return ChoiceId(EVIDENCE_FORM, "/".join([name, *parts]))


def is_evidence_form(text: str) -> bool:
    choice = _parsed(text)
    return choice is not None and choice.kind == EVIDENCE_FORM


def format_choice(choice: ChoiceId) -> str:
    if choice.kind in _WITH_CASE:
        return f"{choice.kind}:{choice.value}:{choice.case_id or ''}"
    return f"{choice.kind}:{choice.value}" if choice.value else choice.kind


def parse_choice(text: str) -> ChoiceId:
    """The choice id a button posted back; `ChoiceIdError` for one no button of ours has."""
    if not text or len(text) > _MAX or not text.isprintable():
        raise ChoiceIdError(f"{text[:40]!r} is not a choice I offered.")
    kind, _, rest = text.partition(":")
    if not kind:
        raise ChoiceIdError(f"{text[:40]!r} is not a choice I offered.")
    if kind in _WITH_CASE:
        value, _, case_id = rest.partition(":")
        return ChoiceId(kind, value, case_id.strip())
    return ChoiceId(kind, rest)


def case_id_of(text: str) -> str | None:
    """The case a case button's id names, else None (any other id, or none at all)."""
    choice = _parsed(text)
    return (choice.case_id or None) if choice is not None and choice.is_case_action else None


def _parsed(text: str) -> ChoiceId | None:
    try:
        return parse_choice(text)
    except ChoiceIdError:
        return None


def is_nav(text: str) -> bool:
    """Back / Cancel (shown apart from the answers)."""
    choice = _parsed(text)
    return choice is not None and choice.is_nav


def is_primary(text: str) -> bool:
    """The button a platform styles as the main one."""
    choice = _parsed(text)
    return choice is not None and choice.is_primary


def is_action_form(text: str) -> bool:
    """The id of a case action's form (`action:ask_customer:ACME-4`)."""
    choice = _parsed(text)
    return choice is not None and choice.kind == ACTION_FORM
