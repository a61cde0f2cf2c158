"""Taking personal data out of what the store keeps, keeping the SLA facts (pure).

Used by retention (bot/retention.py: everything personal in a customer's cases once the policy
says it may no longer be kept) and by erasure (bot/subject.py: one person, everywhere).

What stays, so SLA reports stay true: case ids, customers, types, priorities, environments,
statuses, every event's kind, instant and status change, clocks, breaches, escalation
levels, query minutes, the vendor's own people (engineers and admins) and the system. What
goes: the people concerned — their ids become a pseudonym (random, one per person per run,
linked to nothing kept), their names are emptied — and free text (titles, descriptions,
notes, answers, audit details), which may name anyone.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.records import AuditRecord, CaseEventRecord, CaseRecord, ChannelRef
from policy.pack import Pack

REMOVED = "[removed]"
PSEUDONYM_PREFIX = "former-"
# Event data that is an SLA fact or the pack's own words (kept); any other text is free text.
FACT_KEYS = frozenset({
    "case_type", "priority", "environment", "priority_source", "key", "moment", "clock",
    "due", "level", "item", "label", "from_type", "from_priority", "clause", "rule",
    "assignee", "assignee_name",
})


@dataclass(slots=True)
class Pseudonyms:
    """One random stand-in per person for one run: the same person reads the same within it
    (a report can still tell two people apart), and nothing links it back."""

    _given: dict[str, str] = field(default_factory=dict)

    def of(self, person_id: str) -> str:
        if person_id.startswith(PSEUDONYM_PREFIX):
            return person_id
        if person_id not in self._given:
            self._given[person_id] = PSEUDONYM_PREFIX + secrets.token_hex(4)
        return self._given[person_id]

    def given(self) -> dict[str, str]:
        return dict(self._given)


@dataclass(frozen=True, slots=True)
class Redaction:
    """Whose data goes and how much text with it.

    `concerns(id)`: is this id one of the people concerned (pseudonymised)? `all_text`: remove
    every person's free text (retention), else only the text of the people concerned, and
    their names elsewhere replaced (`names`: words → what replaces them; erasure)."""

    concerns: Callable[[str], bool]
    pseudonyms: Pseudonyms
    all_text: bool
    keeps: frozenset[str] = frozenset()  # ids whose free text is never personal (the system)
    names: Mapping[str, str] = field(default_factory=dict)

    def person(self, person_id: str | None) -> str | None:
        if person_id is None or not self.concerns(person_id):
            return person_id
        return self.pseudonyms.of(person_id)

    def text_goes(self, author: str | None) -> bool:
        if author is not None and author in self.keeps:
            return False
        return self.all_text or (author is not None and self.concerns(author))

    def scrub(self, text: str) -> str:
        """Free text that stays: the names of the people concerned replaced."""
        for word, stand_in in sorted(self.names.items(), key=lambda kv: -len(kv[0])):
            if word:
                text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", stand_in, text)
        return text


def name_words(person_id: str, name: str, stand_in: str) -> dict[str, str]:
    """What names a person in free text: their id, their name, the name without the
    parenthesised note the deployment file adds ("Alice Chen (Acme admin)" → "Alice Chen"),
    and each capitalised part of it ("Alice", "Chen": an erasure errs on the side of taking
    a word too many)."""
    words = {person_id: stand_in}
    if name:
        words[name] = stand_in
        bare = re.sub(r"\s*\([^)]*\)\s*$", "", name).strip()
        if bare:
            words[bare] = stand_in
        for part in bare.split():
            if len(part) >= 3 and part[0].isupper():
                words[part] = stand_in
    return words


def _fact_details(details: Mapping[str, str], pack: Pack | None) -> dict[str, str]:
    """The details that are facts: the case's kind and answers that are one of the pack's own
    options or known values; what a person typed goes."""
    kept: dict[str, str] = {}
    for key, value in details.items():
        spec = pack.intake.get(key) if pack is not None else None
        known = () if spec is None else (*spec.options, *spec.known)
        if key == "kind" or any(value in (o.id, o.label) for o in known):
            kept[key] = value
    return kept


def _origin(origin: ChannelRef | None, r: Redaction) -> ChannelRef | None:
    if origin is None:
        return None
    if r.all_text:
        return None  # a Teams chat or web conversation can itself be a person's
    return origin.model_copy(update={
        "conversation": r.scrub(origin.conversation),
        "thread": None if origin.thread is None else r.scrub(origin.thread)})


def redact_case(case: CaseRecord, pack: Pack | None, r: Redaction) -> CaseRecord:
    reporter_goes = r.concerns(case.reporter)
    text_goes = r.text_goes(case.reporter)
    changes: dict[str, Any] = {
        "reporter": r.person(case.reporter),
        "reporter_name": "" if reporter_goes else case.reporter_name,
        "assignee": r.person(case.assignee),
        "consulting_approved_by": r.person(case.consulting_approved_by),
        "origin": _origin(case.origin, r),
    }
    if text_goes:
        changes.update(title=REMOVED, description="", details=_fact_details(case.details, pack),
                       priority_reason=None if r.all_text else case.priority_reason)
    else:
        changes.update(title=r.scrub(case.title), description=r.scrub(case.description),
                       details={k: r.scrub(v) for k, v in case.details.items()},
                       priority_reason=None if case.priority_reason is None
                       else r.scrub(case.priority_reason))
    return case.model_copy(update=changes)


def _has_text(value: Any) -> bool:
    if isinstance(value, str):
        return True
    if isinstance(value, Mapping):
        return any(_has_text(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_text(v) for v in value)
    return False


def _scrub_value(value: Any, r: Redaction) -> Any:
    if isinstance(value, str):
        return r.scrub(value)
    if isinstance(value, Mapping):
        return {k: _scrub_value(v, r) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_value(v, r) for v in value]
    return value


def redact_event(event: CaseEventRecord, r: Redaction) -> CaseEventRecord:
    text_goes = r.text_goes(event.actor)
    data: dict[str, Any] = {}
    for key, value in event.data.items():
        if key == "assignee" and isinstance(value, str):
            data[key] = r.person(value)
        elif key == "assignee_name":
            assignee = event.data.get("assignee")
            data[key] = "" if isinstance(assignee, str) and r.concerns(assignee) else value
        elif key in FACT_KEYS or not _has_text(value):
            data[key] = value
        else:
            data[key] = REMOVED if text_goes else _scrub_value(value, r)
    reason = event.reason
    if reason is not None:
        reason = None if text_goes else r.scrub(reason)
    return event.model_copy(update={
        "actor": r.person(event.actor),
        "actor_name": "" if r.concerns(event.actor) else event.actor_name,
        "reason": reason, "data": data})


def redact_history(events: Iterable[CaseEventRecord], r: Redaction) -> list[CaseEventRecord]:
    return [redact_event(e, r) for e in events]


def redact_audit(entry: AuditRecord, r: Redaction) -> AuditRecord:
    detail = "" if r.text_goes(entry.actor) else r.scrub(entry.detail)
    return entry.model_copy(update={"actor": r.person(entry.actor) or entry.actor,
                                    "detail": detail})
