"""The case service: opening cases and moving them through their lifecycle.

new → acknowledged → (waiting on customer ⇄ in progress) → workaround provided → resolved →
closed, and reopen. Every change is an event (who, when, from, to, reason) appended to the
case's history in the same atomic write as the case itself; the SLA clock folds over that
history. A refused action changes nothing and leaves an audit entry. Concurrent writers are
resolved by optimistic concurrency: a stale write is reloaded, re-checked and retried.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.access import may, refusal
from bot.audit import record_audit
from bot.deployment import Directory
from bot.errors import (
    CaseNotFoundError,
    FrontdoorError,
    InvalidTransitionError,
    NotAllowedError,
    StaleWriteError,
    UserIdError,
)
from bot.identity import holders, user_key_problem
from bot.intake import CaseDraft
from bot.messages import Person, Place
from bot.records import (
    OPEN_STATUSES,
    ArticleRef,
    AuditRecord,
    AuthorisedUser,
    CaseEventRecord,
    CaseRecord,
    CaseStatus,
    ChannelRef,
)
from bot.response_plan import RESPONSE_PLAN, cadence_every, entry_for, require_war_team
from bot.store.base import Store
from policy.errors import PolicyError
from policy.pack import Pack

log = logging.getLogger(__name__)
_RETRIES = 20
MAX_CASE_ID = 20  # "ACME-4": a prefix of up to 10, a dash, a number of up to 7 digits
NAME_MAX = 100  # an authorised user's name
SEND_ARTICLE = "send_article"  # an engineer sends the customer an article (one button)
ARTICLE_SENT = "article_sent"

# Which statuses each lifecycle action may start from, and where it leads (None: unchanged).
TRANSITIONS: dict[str, tuple[frozenset[str], CaseStatus | None]] = {
    "acknowledge": (frozenset({"new"}), "acknowledged"),
    "start_progress": (frozenset({"acknowledged", "waiting_on_customer"}), "in_progress"),
    "ask_customer": (frozenset({"new", "acknowledged", "in_progress", "workaround_provided"}),
                     "waiting_on_customer"),
    "provide_info": (frozenset({"waiting_on_customer"}), "in_progress"),
    "workaround": (frozenset({"new", "acknowledged", "in_progress", "waiting_on_customer"}),
                   "workaround_provided"),
    "resolve": (frozenset(OPEN_STATUSES), "resolved"),
    "close": (frozenset({"resolved"}), "closed"),
    "reopen": (frozenset({"resolved", "closed"}), "in_progress"),
    "assign": (frozenset(OPEN_STATUSES), None),
    "comment": (frozenset(OPEN_STATUSES | {"resolved"}), None),
    "status_update": (frozenset(OPEN_STATUSES), None),
    "reclassify": (frozenset(OPEN_STATUSES), None),
    "escalate": (frozenset(OPEN_STATUSES), None),
    "log_hours": (frozenset(OPEN_STATUSES | {"resolved"}), None),
    "suspend_sla": (frozenset(OPEN_STATUSES), None),
    "reinstate_sla": (frozenset(OPEN_STATUSES), None),
    RESPONSE_PLAN: (frozenset(OPEN_STATUSES), None),
    SEND_ARTICLE: (frozenset(OPEN_STATUSES), None),
}
_EVENT_OF = {
    "acknowledge": "acknowledged", "start_progress": "in_progress",
    "ask_customer": "waiting_on_customer", "provide_info": "customer_responded",
    "workaround": "workaround_provided", "resolve": "resolved", "close": "closed",
    "reopen": "reopened", "assign": "assigned", "comment": "comment",
    "status_update": "status_update", "reclassify": "reclassified", "escalate": "escalated",
    "log_hours": "query_time", "suspend_sla": "sla_suspended",
    "reinstate_sla": "sla_reinstated", RESPONSE_PLAN: RESPONSE_PLAN,
    SEND_ARTICLE: ARTICLE_SENT,
}
NEEDS_TEXT = {"ask_customer": "question", "reclassify": "reason", "escalate": "reason",
              "comment": "text", "status_update": "text", "provide_info": "text",
              "reopen": "reason", "suspend_sla": "reason"}


@dataclass(slots=True)
class ActResult:
    case: CaseRecord
    events: list[CaseEventRecord] = field(default_factory=list)
    previous: CaseRecord | None = None


CaseChanged = Callable[[str, datetime], Awaitable[None]]
"""Called after every write to a case (the scheduler re-computes its timer)."""


class CaseService:
    def __init__(self, store: Store, directory: Directory,
                 on_change: CaseChanged | None = None) -> None:
        self.store = store
        self.directory = directory
        self.on_change = on_change

    async def _changed(self, case_id: str, at: datetime) -> None:
        if self.on_change is not None:
            await self.on_change(case_id, at)

    # -- reading ----------------------------------------------------------------------------------

    async def visible_case(self, person: Person, case_id: str, at: datetime,
                           action: str = "view") -> CaseRecord:
        """The case, if `person` may see it; otherwise the refusal is audited (as `action`,
        what they were about to do with it) and raised — the same whether the case exists or
        not."""
        wanted = case_id.strip().upper()[:MAX_CASE_ID]
        case = await self.store.get_case(wanted) if wanted else None
        if case is None or not person.may_see_customer(case.customer_id):
            await self._audit(person, action, False, None, wanted or "-", at,
                              "no such case" if case is None else "another organisation's")
            raise CaseNotFoundError(refusal(person, "view"))
        return case

    async def require(self, person: Person, action: str, case: CaseRecord,
                      at: datetime) -> None:
        """Refuse (audited) unless `person` may do `action` on `case`: before anything of
        the action is shown, a form included."""
        await self._require(person, action, case.customer_id, case.id, at)

    async def visible_cases(self, person: Person, open_only: bool = True) -> list[CaseRecord]:
        if person.is_vendor:
            return await self.store.list_cases(None, open_only)
        customers = list(person.served_customers) if person.role == "partner" else (
            [person.customer_id] if person.customer_id else [])
        if not customers:
            return []
        return await self.store.list_cases(customers, open_only)

    # -- opening ----------------------------------------------------------------------------------

    async def open_case(
        self, person: Person, draft: CaseDraft, origin: Place, at: datetime
    ) -> CaseRecord:
        await self._require(person, "file", draft.customer_id, None, at)
        customer = self.directory.customer(draft.customer_id)
        number = await self.store.next_case_number(draft.customer_id)
        case_id = f"{customer.short}-{number}"
        title = _title_of(draft.description)
        kind = "consulting-request" if draft.consulting_request else "support"
        details = dict(draft.fields)
        details["kind"] = kind
        case = CaseRecord(
            id=case_id, customer_id=draft.customer_id, number=number, pack=customer.pack,
            plan=customer.plan, case_type=draft.case_type, priority=draft.priority,
            requested_priority=draft.requested_priority,
            priority_source=draft.priority_source,
            priority_reason=draft.priority_reason, environment=draft.environment,
            deployment=draft.deployment, managed=draft.managed, hypercare=draft.hypercare,
            title=title, description=draft.description, details=details, reporter=person.id,
            reporter_name=person.name,
            partner_id=person.partner_id if person.role == "partner" else None,
            origin=ChannelRef(platform=origin.platform, conversation=origin.conversation,
                              thread=origin.thread),
            scope=draft.scope,
            consulting_approved_by=person.id if draft.consulting_approved else None,
            billable=draft.billable, articles=list(draft.articles),
            created_at=at, updated_at=at,
        )
        facts: dict[str, Any] = {
            "case_type": draft.case_type, "priority": draft.requested_priority or draft.priority,
            "environment": draft.environment, "managed": draft.managed,
            "hypercare": draft.hypercare, "priority_source": draft.priority_source,
        }
        shown = [a.id for a in draft.articles if a.shown]
        if shown:  # offered before filing, and not what the customer needed
            facts["articles_shown"] = shown
        events = [CaseEventRecord(case_id=case_id, kind="opened", at=at, actor=person.id,
                                  actor_name=person.name, to_status="new", data=facts,
                                  reason=draft.priority_reason)]
        if draft.consulting_approved:
            events.append(CaseEventRecord(
                case_id=case_id, kind="consulting_approved", at=at, actor=person.id,
                actor_name=person.name,
                reason="The customer approved a paid consulting request.",
                data={"clause": draft.scope.clause if draft.scope else None}))
        stored = await self.store.create_case(case, events)
        await self._changed(case_id, at)
        await self._audit(person, "file", True, draft.customer_id, case_id, at,
                          f"{kind} {draft.case_type} {draft.priority or ''}".strip())
        log.info("case opened", extra={"case_id": case_id, "customer_id": draft.customer_id,
                                       "case_type": draft.case_type, "priority": draft.priority})
        return stored

    # -- lifecycle --------------------------------------------------------------------------------

    async def act(
        self, person: Person, case_id: str, action: str, at: datetime, *,
        text: str | None = None, assignee: str | None = None, case_type: str | None = None,
        priority: str | None = None, minutes: int | None = None, level: str | None = None,
        item: str | None = None, article: ArticleRef | None = None,
    ) -> ActResult:
        """Do `action` on a case as `person`; raises our errors with a message to show."""
        if action not in TRANSITIONS:
            raise InvalidTransitionError(f"Unknown action {action!r}.")
        for attempt in range(_RETRIES):
            case = await self.store.get_case(case_id.strip().upper())
            if case is None or not person.may_see_customer(case.customer_id):
                await self._audit(person, action, False, None, case_id, at, "no such case")
                raise CaseNotFoundError(refusal(person, "view"))
            await self._require(person, action, case.customer_id, case.id, at)
            allowed_from, target = TRANSITIONS[action]
            if case.status not in allowed_from:
                raise InvalidTransitionError(
                    f"{case.id} is {case.status.replace('_', ' ')}; "
                    f"it can't be {_PAST.get(action, action)} now.")
            if action in NEEDS_TEXT and action not in {"comment", "provide_info"} \
                    and not (text and text.strip()) and action != "reopen":
                raise InvalidTransitionError(
                    f"Please give a {NEEDS_TEXT[action]} to {action.replace('_', ' ')}.")
            updated, events = self._apply(case, person, action, at, target, text=text,
                                          assignee=assignee, case_type=case_type,
                                          priority=priority, minutes=minutes, level=level,
                                          item=item, article=article)
            try:
                stored = await self.store.update_case(updated, case.version, events)
                await self._changed(case.id, at)
            except StaleWriteError:
                log.info("stale case write, retrying",
                         extra={"case_id": case.id, "attempt": attempt + 1})
                continue
            await self._audit(person, action, True, case.customer_id, case.id, at,
                              (text or "")[:200])
            return ActResult(stored, events, case)
        raise FrontdoorError(f"{case_id} is changing too fast to update; please try again.")

    def _apply(
        self, case: CaseRecord, person: Person, action: str, at: datetime,
        target: CaseStatus | None, **p: Any,
    ) -> tuple[CaseRecord, list[CaseEventRecord]]:
        events: list[CaseEventRecord] = []
        changes: dict[str, Any] = {"updated_at": at}

        def event(kind: str, to_status: CaseStatus | None = None, reason: str | None = None,
                  **data: Any) -> None:
            events.append(CaseEventRecord(
                case_id=case.id, kind=kind, at=at, actor=person.id, actor_name=person.name,
                from_status=case.status if to_status else None, to_status=to_status,
                reason=reason, data=data))

        text = (p.get("text") or "").strip() or None
        if action in {"ask_customer", "workaround", "resolve", SEND_ARTICLE} \
                and case.status == "new" and person.is_vendor:
            # An article sent changes no status of its own: the case is now acknowledged.
            sending = action == SEND_ARTICLE
            event("acknowledged", "acknowledged" if sending else None,
                  "acknowledged by the engineer's first response")
            if sending:
                changes["status"] = "acknowledged"
            if case.assignee is None:
                changes["assignee"] = person.id
        if action in {"workaround", "resolve", "start_progress"} \
                and case.status == "waiting_on_customer":
            event("customer_responded", None, "clock resumed by the engineer")
        if action == "acknowledge" and case.assignee is None:
            changes["assignee"] = person.id
        if action == "assign":
            assignee = p.get("assignee") or person.id
            target_person = self.directory.person(assignee)
            if target_person is None or not target_person.is_vendor:
                raise InvalidTransitionError(f"{assignee!r} is not one of the engineers.")
            changes["assignee"] = assignee
            event("assigned", None, text, assignee=assignee, assignee_name=target_person.name)
        elif action == "reclassify":
            changes.update(self._reclassify(case, p.get("case_type"), p.get("priority")))
            event("reclassified", None, text, case_type=changes.get("case_type"),
                  priority=changes.get("priority"), from_type=case.case_type,
                  from_priority=case.priority)
            changes["priority_source"] = "engineer" if person.is_vendor else "customer"
            changes["priority_reason"] = text
        elif action == "escalate":
            pack = self.directory.pack_of(case.customer_id)
            level = p.get("level")
            ladder = escalation_ladder(pack, case.plan)
            if level is not None and level not in ladder:
                raise InvalidTransitionError(
                    f"Level {level!r} isn't available on this plan; levels: {', '.join(ladder)}.")
            changes["escalation_level"] = level or next_level(pack, case.plan,
                                                              case.escalation_level)
            event("escalated", None, text, level=changes["escalation_level"])
        elif action == "log_hours":
            minutes = int(p.get("minutes") or 0)
            if case.case_type != "query":
                raise InvalidTransitionError("Query hours are logged on queries only.")
            if not 0 < minutes <= 24 * 60:
                raise InvalidTransitionError("Log between 1 minute and 24 hours at a time.")
            changes["query_minutes"] = case.query_minutes + minutes
            event("query_time", None, text, minutes=minutes)
        elif action == "suspend_sla":
            event("sla_suspended", None, text)
        elif action == SEND_ARTICLE:
            sent: ArticleRef | None = p.get("article")
            if sent is None:
                raise InvalidTransitionError("Which article? Give its id or words to find it.")
            event(ARTICLE_SENT, None, sent.title, article=sent.id, title=sent.title,
                  url=sent.url, excerpt=sent.excerpt)
        elif action == RESPONSE_PLAN:
            # The war team agrees its plan item by item; a new entry replaces the item's value
            # on the post, the history keeps both.
            war = require_war_team(self.directory.pack_of(case.customer_id), case)
            item, value, shown = entry_for(war, p.get("item") or "", text or "")
            # the clock's part: minutes of coverage, 0 for a business-day cadence (no tighter
            # than the policy's, so the table's applies again)
            every = cadence_every(value) if item.cadence else None
            cadence = {"cadence_minutes": round(every.total_seconds() / 60) if every else 0} \
                if item.cadence else {}
            event(RESPONSE_PLAN, None, shown, item=item.id, label=item.label, value=value,
                  shown=shown, **cadence)
        else:
            kind = _EVENT_OF[action]
            if action == "comment" and person.is_vendor:
                kind = "status_update"
            event(kind, target, text)
        if target is not None:
            changes["status"] = target
        return case.model_copy(update=changes), events

    def _reclassify(self, case: CaseRecord, case_type: str | None,
                    priority: str | None) -> dict[str, Any]:
        pack = self.directory.pack_of(case.customer_id)
        changes: dict[str, Any] = {}
        try:
            if case_type:
                changes["case_type"] = pack.case_type(case_type)
            if priority:
                changes["priority"] = pack.priority(priority)
        except PolicyError as exc:
            raise InvalidTransitionError(str(exc)) from None
        if not changes:
            raise InvalidTransitionError("Reclassify to which type or "
                                         f"{pack.priority_word.lower()}?")
        return changes

    # -- users (customer admins) ------------------------------------------------------------------

    async def add_user(self, person: Person, customer_id: str, user_id: str, name: str,
                       at: datetime) -> AuthorisedUser:
        """A customer admin authorises a user of their organisation (audited, refusals too).
        The id must be a well-formed platform id (``slack:U…``, ``teams:…``, a web id) that
        no one else has: a platform id belongs to one organisation only."""
        await self._require(person, "manage_users", customer_id, None, at)
        problem = user_key_problem(user_id) or _name_problem(name)
        if problem is None:
            holder, listed_by = await holders(self.store, self.directory, user_id)
            others = set(listed_by) - {customer_id}
            if holder is not None or others:
                problem = (f"Sorry, {user_id} can't be added: that id already belongs to "
                           "someone else (another organisation's user, or someone in the "
                           "deployment file). Each platform id belongs to one organisation "
                           f"only; ask {self.directory.deployment.vendor.name} support if "
                           "this is wrong.")
        if problem is not None:
            await self._audit(person, "add_user", False, customer_id, None, at,
                              f"{_clipped(user_id)}: {problem}"[:300])
            raise UserIdError(problem)
        user = AuthorisedUser(customer_id=customer_id, user_id=user_id, name=name.strip(),
                              added_by=person.id, added_at=at)
        await self.store.put_authorised_user(user)
        await self._audit(person, "add_user", True, customer_id, None, at, user_id)
        log.info("authorised user added", extra={"customer_id": customer_id})
        return user

    async def remove_user(self, person: Person, customer_id: str, user_id: str,
                          at: datetime) -> bool:
        """A customer admin removes a user they added (audited, whether it was listed or
        not)."""
        await self._require(person, "manage_users", customer_id, None, at)
        removed = await self.store.remove_authorised_user(customer_id, user_id) \
            if user_key_problem(user_id) is None else False
        await self._audit(person, "remove_user", True, customer_id, None, at,
                          f"{_clipped(user_id)}{'' if removed else ' (was not listed)'}")
        return removed

    # -- authorisation and audit ------------------------------------------------------------------

    async def refuse(self, person: Person, action: str, at: datetime) -> None:
        """Refuse an action the person's role doesn't allow whatever the case (audited)."""
        await self._audit(person, action, False, person.customer_id, None, at, "refused")
        raise NotAllowedError(refusal(person, action))

    async def _require(self, person: Person, action: str, customer_id: str,
                       case_id: str | None, at: datetime) -> None:
        if not may(person, action, customer_id):
            await self._audit(person, action, False, customer_id, case_id, at, "refused")
            log.info("action refused", extra={"case_id": case_id, "action": action,
                                              "role": person.role})
            if not person.may_see_customer(customer_id):
                raise CaseNotFoundError(refusal(person, "view"))
            raise NotAllowedError(refusal(person, action))

    async def _audit(self, person: Person, action: str, allowed: bool, customer_id: str | None,
                     case_id: str | None, at: datetime, detail: str) -> None:
        await record_audit(self.store, AuditRecord(
            at=at, actor=person.id, role=person.role, action=action, allowed=allowed,
            case_id=case_id, customer_id=customer_id, detail=detail))


_PAST = {"acknowledge": "acknowledged", "start_progress": "started", "ask_customer": "asked",
         "provide_info": "answered", "workaround": "given a workaround", "resolve": "resolved",
         "close": "closed", "reopen": "reopened", "assign": "assigned", "comment": "commented",
         "status_update": "updated", "reclassify": "reclassified", "escalate": "escalated",
         "log_hours": "logged", "suspend_sla": "suspended", "reinstate_sla": "reinstated",
         RESPONSE_PLAN: "given response-plan entries", SEND_ARTICLE: "sent an article"}


def escalation_ladder(pack: Pack, plan: str) -> list[str]:
    """The pack's escalation levels open to this plan, in order (L3/L4 premium only …)."""
    return [name for name, level in pack.escalation.levels.items()
            if level.plans is None or plan in level.plans]


def next_level(pack: Pack, plan: str, current: str | None) -> str | None:
    ladder = escalation_ladder(pack, plan)
    if not ladder:
        return None
    if current in ladder:
        return ladder[min(ladder.index(current) + 1, len(ladder) - 1)]
    return ladder[1] if len(ladder) > 1 else ladder[0]


def _clipped(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _name_problem(name: str) -> str | None:
    shown = name.strip()
    if not shown or len(shown) > NAME_MAX or any(
            unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn"} for ch in shown):
        return (f"Give the person's full name: up to {NAME_MAX} letters, digits, spaces and "
                "punctuation (“add user <id> <full name>”).")
    return None


TITLE_MAX = 80


def _title_of(description: str) -> str:
    """The description's first line, cut at a word (never mid-word) to at most 80
    characters."""
    first = description.strip().splitlines()[0].strip() if description.strip() \
        else "Support case"
    if len(first) <= TITLE_MAX:
        return first
    cut = first[:TITLE_MAX].rsplit(" ", 1)[0].rstrip(" ,;:—-")
    if " " not in first[:TITLE_MAX] or len(cut) < TITLE_MAX // 2:
        cut = first[:TITLE_MAX - 1]  # one long word: cut it, there is no better place
    return cut + "…"

