"""The loop around the intake's pure step: load the conversation, step it, save it with its
version (a stale write is redone on fresh state, so two workers never lose a message), and
open the case the intake drafted."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from bot.access import may
from bot.case_card import case_card, channel_reader, reader_tz
from bot.cases import CaseService
from bot.deployment import Customer, Directory
from bot.errors import FrontdoorError, KnowledgeError, StaleWriteError
from bot.evidence_settings import EvidenceSettings
from bot.intake import (
    CaseDraft,
    IntakeContext,
    IntakeResult,
    IntakeState,
    Offer,
    customer_form,
    intake_form,
    one_shot_form,
    step,
)
from bot.knowledge import KnowledgeBase, metrics
from bot.messages import ClockLine, Form, Inbound, Notice, Outcome, Person, Place, Reply
from bot.records import AuditRecord, CaseRecord
from bot.sla_view import (
    case_status,
    clock_lines,
    clock_text,
    coverage,
    subscription_of,
    when,
)
from bot.store.base import Store
from policy.pack import load_pack
from policy.sla import CaseEvent, CaseFacts, SlaStatus, sla_status

log = logging.getLogger(__name__)
_STATE_RETRIES = 10


@dataclass(frozen=True, slots=True)
class HandlerSettings:
    idle_timeout: timedelta = timedelta(minutes=30)
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings)


def conversation_key(inbound: Inbound) -> str:
    place = inbound.place
    return f"{place.platform}:{place.conversation}:{place.thread or '-'}:{inbound.person.id}"


async def query_usage(store: Store, directory: Directory,
                      customer_id: str) -> tuple[int, int | None]:
    """(query minutes used, the plan's limit in minutes or None). All of the customer's
    queries count: the deployment file knows no subscription term yet."""
    customer = directory.customer(customer_id)
    _, plan = directory.pack_of(customer_id).plan(customer.plan)
    if plan.query_hours is None:
        return 0, None
    cases = await store.list_cases([customer_id], open_only=False)
    return sum(c.query_minutes for c in cases), plan.query_hours * 60


class IntakeLoop:
    def __init__(self, store: Store, directory: Directory, cases: CaseService,
                 settings: HandlerSettings, knowledge: KnowledgeBase | None = None) -> None:
        self.store = store
        self.directory = directory
        self.cases = cases
        self.settings = settings
        self.knowledge = knowledge

    def context(self, person: Person) -> IntakeContext:
        customers: dict[str, Customer] = {
            cid: c for cid, c in self.directory.deployment.customers.items()
            if person.may_see_customer(cid) and may(person, "file", cid)
        }
        return IntakeContext(
            person=person, customers=customers, pack_for=self.directory.pack_of,
            vendor_name=self.directory.deployment.vendor.name,
            idle_timeout=self.settings.idle_timeout,
            clocks_preview=self.clocks_preview, explain_preview=self.explain_preview,
            find_articles=self.knowledge.suggest if self.knowledge is not None else None,
        )

    def intake_form(self, person: Person, at: datetime, customer_id: str | None = None,
                    description: str | None = None, case_type: str | None = None,
                    values: dict[str, str] | None = None) -> Form | None:
        """The one-shot intake form for this person (first the customer, if they file for
        several), shaped by the case type once it is chosen; None when they may file for
        nobody."""
        ctx = self.context(person)
        if not ctx.customers:
            return None
        if customer_id is None and len(ctx.customers) > 1:
            return customer_form(ctx)
        return one_shot_form(ctx, at, customer_id, description, case_type, values)

    async def conversation_form(self, person: Person, place: Place,
                                at: datetime) -> Form | None:
        """The one-card form as the intake running at `place` stands (what the person already
        said carried, only what is still open asked); a fresh one where none runs."""
        raw, _ = await self.store.load_conversation(
            conversation_key(Inbound(person, place, at)))
        if raw:
            ctx = self.context(person)
            state = IntakeState.model_validate(raw)
            if state.customer_id in ctx.customers:
                form = intake_form(state, ctx)
                if form is not None:
                    return form
        return self.intake_form(person, at, customer_id=(raw or {}).get("customer_id"))

    async def run(self, inbound: Inbound, key: str,
                  loaded: tuple[dict[str, Any] | None, int] | None = None) -> Outcome:
        ctx = self.context(inbound.person)
        for _ in range(_STATE_RETRIES):
            raw, version = loaded or await self.store.load_conversation(key)
            loaded = None
            state = IntakeState.model_validate(raw) if raw else None
            result = step(state, inbound, ctx)
            customer = _query_customer(result)
            if customer is not None and customer not in ctx.query_usage:
                # only a query can be billable: the customer's cases are read only for one
                usage = await query_usage(self.store, self.directory, customer)
                ctx = replace(ctx, query_usage={**ctx.query_usage, customer: usage})
                result = step(state, inbound, ctx)
            saved = result.state.model_dump(mode="json") if result.state else None
            try:
                await self.store.save_conversation(key, saved, version)
            except StaleWriteError:
                # Someone else moved this conversation on: redo the step on fresh state.
                log.info("stale conversation write, retrying",  # the key names the person: a digest
                         extra={"conversation": hashlib.sha256(key.encode()).hexdigest()[:12]})
                continue
            outcome = Outcome(list(result.replies))
            if result.offer is not None:
                await self._offer_outcome(inbound, result.offer)
            if result.draft is not None:
                try:
                    await self._file(inbound, result.draft, outcome)
                except BaseException:  # cancelled too (a timeout, shutting down)
                    # Give the answers back rather than lose them; "open" again retries.
                    _, current = await self.store.load_conversation(key)
                    await self.store.save_conversation(key, raw, current)
                    raise
            return outcome
        raise FrontdoorError("This conversation is busy; please send that again.")

    async def _offer_outcome(self, inbound: Inbound, offer: Offer) -> None:
        """Counted for /metrics; a deflection is also kept in the audit trail (who, when,
        which articles), since no case will say it."""
        pack = self.directory.customer(offer.customer_id).pack
        metrics.OFFERS.labels(pack, offer.outcome).inc()
        log.info("articles offered", extra={"customer_id": offer.customer_id,
                                             "outcome": offer.outcome,
                                             "articles": ",".join(offer.article_ids)})
        if offer.outcome == "deflected":
            person = inbound.person
            await self.store.append_audit(AuditRecord(
                at=inbound.at, actor=person.id, role=person.role, action="answered_by_article",
                allowed=True, customer_id=offer.customer_id,
                detail=" ".join(offer.article_ids)[:500]))

    def _related(self, draft: CaseDraft) -> CaseDraft:
        """A case filed without an offer still carries the articles its words find, for the
        engineers (never shown to the customer before filing)."""
        if self.knowledge is None or draft.articles or draft.consulting_request:
            return draft
        try:
            hits = self.knowledge.search(draft.description, draft.customer_id)
        except KnowledgeError as exc:
            log.warning("no related articles", extra={"detail": str(exc)})
            return draft
        return replace(draft, articles=tuple(
            self.knowledge.ref(h.article, h.excerpt, shown=False) for h in hits))

    async def _file(self, inbound: Inbound, draft: CaseDraft, outcome: Outcome) -> None:
        person = inbound.person
        draft = self._related(draft)
        case = await self.cases.open_case(person, draft, inbound.place, inbound.at)
        events = await self.store.case_events(case.id)
        if draft.consulting_request:
            pack = self.directory.pack_of(case.customer_id)
            approval = " Your approval is recorded." if (
                pack.consulting and pack.consulting.needs_prior_approval) else ""
            headline = (f"Consulting request {case.id} sent to "
                        f"{self.directory.deployment.vendor.name}; they'll come back with a "
                        f"proposal.{approval}")
        else:
            headline = f"Case {case.id} is open."
            response = _first_due(self.directory, person, case, events, inbound.at)
            if response:
                headline += f" {response}"
        outcome.replies.append(case_card(self.directory, person, case, events, inbound.at,
                                         headline))
        who = person.name
        engineer_view = channel_reader("engineer")
        outcome.notices.append(Notice(case.id, "engineers", case_card(
            self.directory, engineer_view, case, events, inbound.at,
            f"New {'consulting request' if draft.consulting_request else 'case'} from "
            f"{self.directory.customer(case.customer_id).name} ({who})"), kind="new_case"))
        customer = self.directory.customer(case.customer_id)
        if customer.partner and person.role != "partner":
            outcome.notices.append(Notice(case.id, "partner", Reply(
                f"{customer.name} opened {case.id}: {case.title}"), kind="new_case"))

    def clocks_preview(self, draft: CaseDraft, now: datetime) -> list[str]:
        return clocks_preview(self.directory, draft, now)

    def explain_preview(self, draft: CaseDraft, now: datetime) -> list[str]:
        return explain_preview(self.directory, draft, now)


# -- the clocks the summary previews -----------------------------------------------------------

def _preview(directory: Directory, draft: CaseDraft,
             now: datetime) -> tuple[Customer, tuple[ClockLine, ...], SlaStatus]:
    customer = directory.customer(draft.customer_id)
    pack = load_pack(customer.pack)
    facts = CaseFacts(case_type=draft.case_type, priority=draft.requested_priority
                      or draft.priority, environment=draft.environment,
                      managed=draft.managed, hypercare=draft.hypercare)
    status = sla_status(pack, subscription_of(customer),
                        [CaseEvent("opened", now, facts=facts)], now)
    return customer, clock_lines(status, customer.tz, now, coverage(pack, customer, status)), \
        status


def clocks_preview(directory: Directory, draft: CaseDraft, now: datetime) -> list[str]:
    """The clocks the case would have if opened now (the intake's summary)."""
    if draft.consulting_request:
        return []
    customer, clocks, _ = _preview(directory, draft, now)
    lines = clock_text(clocks)
    if not lines:
        return ["• No timed target applies to this case."]
    return ["If you open it now (times in " + customer.timezone + "):", *lines]


def explain_preview(directory: Directory, draft: CaseDraft, now: datetime) -> list[str]:
    """How those clocks were worked out (the summary's "why?")."""
    _, clocks, status = _preview(directory, draft, now)
    out = [f"{c.label}: {c.explanation}" for c in clocks]
    # a note that already names its clause ("Targets from: …, P1.") doesn't say it twice
    out += [f"Note: {n.text}" + ("" if n.clause in n.text else f" ({n.clause})")
            for n in status.notes]
    return out


def _first_due(directory: Directory, person: Person, case: CaseRecord, events: Any,
               now: datetime) -> str | None:
    customer = directory.customer(case.customer_id)
    status = case_status(directory.pack_of(case.customer_id), customer, case, events, now)
    if status is None:
        return None
    response = status.clocks.get("response")
    if response and response.due:
        local = when(response.due, reader_tz(directory, person, case))
        return f"An engineer will respond by {local}."
    if response and response.state == "best_effort":
        return "Responses on this plan are best effort."
    return None


def _query_customer(result: IntakeResult) -> str | None:
    """The customer whose query hours this step's answer depends on: set once the
    conversation is about a query."""
    facts = result.draft or result.state
    if facts is None or facts.case_type != "query":
        return None
    return facts.customer_id
