"""Priority from impact: which question to ask next, and which rule decides.

The pack's impact rules are walked top-down and the first rule whose answers all match
decides; a rule that still needs an answer stops the walk, because an earlier rule always
wins over a later one. The intake and `frontdoor sla --severity-from` both ask this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from policy.pack import ImpactRule, Pack


@dataclass(frozen=True, slots=True)
class Derivation:
    """The priority the policy gives, the rule's reason and the clause it cites."""

    priority: str
    because: str
    clause: str

    @property
    def reason(self) -> str:
        return f"{self.because} ({self.clause})"


def _contradicted(rule: ImpactRule, answers: Mapping[str, str]) -> bool:
    return any(q in answers and answers[q] not in ok for q, ok in rule.when.items())


def derive(pack: Pack, answers: Mapping[str, str], *, partial: bool = False) -> Derivation | None:
    """The deciding rule, or None while an earlier rule still needs an answer. With
    `partial`, a rule whose questions weren't all answered just doesn't apply (the command
    line takes the answers given as all there is)."""
    for rule in pack.impact.rules:
        if _contradicted(rule, answers):
            continue
        if any(q not in answers for q in rule.when):
            if partial:
                continue
            return None
        return Derivation(rule.priority, rule.because, rule.clause)
    return None


def open_rules(pack: Pack, answers: Mapping[str, str]) -> list[ImpactRule]:
    """Rules the answers so far don't rule out, in the pack's order, up to the first that is
    already satisfied (nothing after it can decide)."""
    out: list[ImpactRule] = []
    for rule in pack.impact.rules:
        if _contradicted(rule, answers):
            continue
        out.append(rule)
        if all(q in answers for q in rule.when):
            break
    return out


def next_question(pack: Pack, answers: Mapping[str, str]) -> str | None:
    """The first question an undecided rule still needs, walking the rules in order."""
    for rule in pack.impact.rules:
        if _contradicted(rule, answers):
            continue
        missing = [q for q in rule.when if q not in answers]
        return missing[0] if missing else None
    return None


def unanswered(pack: Pack, answers: Mapping[str, str]) -> list[str]:
    """Every question some still-open rule needs, in the pack's question order."""
    needed = {q for rule in open_rules(pack, answers) for q in rule.when if q not in answers}
    return [q for q in pack.impact.questions if q in needed]


def answers_for(pack: Pack, rule: ImpactRule, known: Mapping[str, str]) -> dict[str, str]:
    """Answers that make `rule` the deciding one: its own, plus, for each earlier rule still
    open, an answer to one of its questions that rules it out."""
    answers = dict(known)
    answers.update({q: ok[0] for q, ok in rule.when.items()})
    for earlier in pack.impact.rules:
        if earlier is rule:
            break
        if _contradicted(earlier, answers):
            continue
        for qid, ok in earlier.when.items():
            question = pack.impact.questions[qid]
            other = next((o.id for o in question.options if o.id not in ok), None)
            if other is not None and qid not in answers:
                answers[qid] = other
                break
    return answers
