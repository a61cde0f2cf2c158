"""Satisfaction surveys: when a case is resolved, the customer who filed it is asked in the
conversation for a score from 1 to 5 and an optional comment.

The question and the answer are the case's history (`survey_requested`, `survey_answered`),
so every channel shows them the same way (bot/news.py words them) and reports count them. A
share of resolved cases is asked (`sample`, decided by the case id, so a retried resolution
decides the same), at most once per case, and a person is asked again only after
`cooldown` (a once-only key in the store, shared by every process). A score at or below
`low_score` tells the engineers' channel, with the case.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.case_card import case_card, channel_reader
from bot.choice_ids import evidence_form
from bot.deployment import Directory
from bot.errors import CaseNotFoundError, EvidenceError, FrontdoorError, StaleWriteError
from bot.messages import Form, FormField, Notice, Person, Reply
from bot.news import survey_choices, survey_question, survey_thanks
from bot.records import AuditRecord, CaseEventRecord, CaseRecord
from bot.store.base import Store

log = logging.getLogger(__name__)
SYSTEM_ID = "frontdoor"
ANSWERABLE = frozenset({"resolved", "closed"})
_RETRIES = 10


@dataclass(frozen=True, slots=True)
class SurveySettings:
    enabled: bool = True
    sample: float = 1.0  # share of resolved cases whose reporter is asked
    cooldown: timedelta = timedelta(days=14)  # per person
    low_score: int = 2  # at or below: the engineers hear of it


def sampled(case_id: str, share: float) -> bool:
    """Whether this case is in the sample (stable per case id)."""
    if share >= 1:
        return True
    if share <= 0:
        return False
    digest = int(hashlib.sha256(case_id.encode()).hexdigest()[:8], 16)
    return digest / 0x1_0000_0000 < share


def comment_form(case_id: str, score: int) -> Form:
    """The optional comment after a score (its id names the case and the score)."""
    return Form(str(evidence_form("survey", case_id, str(score))), f"Rate {case_id}", (
        FormField("comment", "Anything to add? (optional)", "long_text", required=False),
        FormField("score", "", "hidden", value=str(score)),
        FormField("_case", "", "hidden", value=case_id),
        FormField("_evidence", "", "hidden", value="survey")), "Send")


async def append_events(store: Store, case_id: str,
                        events: list[CaseEventRecord]) -> CaseRecord:
    """Append events to a case's history (reloading on a concurrent write); the case record
    itself only gets its `updated_at` moved."""
    for _ in range(_RETRIES):
        case = await store.get_case(case_id)
        if case is None:
            raise CaseNotFoundError(f"{case_id} does not exist.")
        updated = case.model_copy(update={"updated_at": max(case.updated_at,
                                                            events[-1].at)})
        try:
            return await store.update_case(updated, case.version, events)
        except StaleWriteError:
            continue
    raise FrontdoorError(f"{case_id} is changing too fast to update; please try again.")


class Surveys:
    def __init__(self, store: Store, directory: Directory,
                 settings: SurveySettings | None = None) -> None:
        self.store = store
        self.directory = directory
        self.settings = settings or SurveySettings()

    async def after_resolve(self, case_id: str, at: datetime) -> list[Notice]:
        """Ask the reporter of a case just resolved, if the sample and their cooldown allow
        (once per case): the question goes to the case's conversation."""
        if not self.settings.enabled:
            return []
        case = await self.store.get_case(case_id)
        if case is None or case.status != "resolved":
            return []
        reporter = self.directory.person(case.reporter)
        if reporter is not None and reporter.is_vendor:
            return []  # filed by the vendor for the customer: nobody to ask in the thread
        events = await self.store.case_events(case.id)
        if any(e.kind == "survey_requested" for e in events):
            return []
        if not sampled(case.id, self.settings.sample):
            return []
        cooldown = max(1, int(self.settings.cooldown.total_seconds()))
        if not await self.store.claim_once(f"survey-cooldown:{case.reporter}", cooldown):
            log.info("survey skipped: reporter asked recently", extra={"case_id": case.id})
            return []
        name = case.reporter_name or self.directory.name_of(case.reporter)
        await append_events(self.store, case.id, [CaseEventRecord(
            case_id=case.id, kind="survey_requested", at=at, actor=SYSTEM_ID,
            actor_name="Frontdoor", reason=f"satisfaction survey sent to {name}",
            data={"asked": case.reporter})])
        return [Notice(case.id, "customer", Reply(survey_question(case.id),
                                                  choices=survey_choices(case.id)),
                       kind="survey")]

    async def answer(self, person: Person, case_id: str, score: int, comment: str,
                     at: datetime) -> tuple[Reply, list[Notice]]:
        """Record a score (and comment) from the customer's side; a later answer replaces an
        earlier one. Returns the reply for the person and the engineers' notice of a low
        score."""
        if not 1 <= score <= 5:
            raise EvidenceError("A score is a whole number from 1 (poor) to 5 (excellent).")
        case = await self.store.get_case(case_id.strip().upper())
        if case is None or not person.may_see_customer(case.customer_id):
            raise CaseNotFoundError("Sorry, I can't find that case among the cases you can see.")
        if person.is_vendor:
            raise EvidenceError("Satisfaction scores are the customer's to give.")
        if case.status not in ANSWERABLE:
            raise EvidenceError(f"{case.id} isn't resolved yet; you can rate it once it is.")
        comment = " ".join(comment.split())[:1000]
        await append_events(self.store, case.id, [CaseEventRecord(
            case_id=case.id, kind="survey_answered", at=at, actor=person.id,
            actor_name=person.name,
            reason=f"rated {score}/5" + (f": {comment}" if comment else ""),
            data={"score": score, "comment": comment})])
        await self.store.append_audit(AuditRecord(
            at=at, actor=person.id, role=person.role, action="rate", allowed=True,
            case_id=case.id, customer_id=case.customer_id, detail=f"{score}/5"))
        notices: list[Notice] = []
        if score <= self.settings.low_score:
            events = await self.store.case_events(case.id)
            said = f"⚠️ {case.id} was rated {score}/5 by {person.name}" + (
                f": “{comment}”" if comment else " (no comment yet).")
            notices.append(Notice(case.id, "engineers", case_card(
                self.directory, channel_reader("engineer"), case, events, at, said),
                kind="low_score"))
        if comment:
            return Reply(f"Thank you — {case.id} rated {score}/5 with your comment."), notices
        return Reply(survey_thanks(case.id, score), form=comment_form(case.id, score)), notices
