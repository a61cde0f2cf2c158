"""The conversation handler: one entry point for every platform.

`Handler.handle(inbound) -> Outcome` routes what a person did — a case button, a case
command ("ack ACME-4"), an intake answer, "status", "help" — to the intake state machine or
the case service, persists conversation state with its version (a stale write is retried on
fresh state, so two workers never lose a message), and returns replies for the speaker and
notices for everyone else (the customer's thread, the engineers, escalations).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.access import may
from bot.cards import case_card, channel_reader, reader_tz
from bot.cases import (
    NEEDS_TEXT,
    TRANSITIONS,
    ActResult,
    CaseChanged,
    CaseService,
    escalation_ladder,
)
from bot.deployment import Customer, Directory
from bot.errors import FrontdoorError, NotAllowedError, ResponsePlanError, StaleWriteError
from bot.intake import (
    CaseDraft,
    IntakeContext,
    IntakeResult,
    IntakeState,
    customer_form,
    norm,
    one_shot_form,
    step,
)
from bot.messages import Choice, Form, FormField, Inbound, Notice, Outcome, Person, Reply
from bot.records import CaseEventRecord, CaseRecord
from bot.response_plan import RESPONSE_PLAN, find_item, formed, items, require_war_team
from bot.sla_view import case_status, clock_lines, clock_text, subscription_of, when
from bot.store.base import Store
from bot.timeline import describe_event
from bot.war_room import plan_form, war_room_notice, war_room_reply
from policy.pack import Pack, load_pack
from policy.sla import CaseEvent, CaseFacts, sla_status

log = logging.getLogger(__name__)
_STATE_RETRIES = 10
_CASE_ID = re.compile(r"\b([A-Za-z][A-Za-z0-9]{1,9}-\d{1,7})\b")

# Words people use for each case action in free text ("ack ACME-4", "resolve ACME-4 fixed").
_VERBS: dict[str, str] = {
    "ack": "acknowledge", "acknowledge": "acknowledge", "take": "acknowledge",
    "assign": "assign", "ask": "ask_customer", "workaround": "workaround",
    "resolve": "resolve", "resolved": "resolve", "fixed": "resolve", "close": "close",
    "reopen": "reopen", "reclassify": "reclassify", "escalate": "escalate",
    "update": "comment", "comment": "comment", "note": "comment", "reply": "provide_info",
    "info": "provide_info", "answer": "provide_info", "progress": "start_progress",
    "start": "start_progress", "log": "log_hours", "suspend": "suspend_sla",
    "reinstate": "reinstate_sla", "plan": RESPONSE_PLAN,
}
HELP_CUSTOMER = (
    "Here's what I can do:\n"
    "• “support” or just describe the problem — open a new case, step by step or with one form\n"
    "• “status” — your organisation's open cases with their SLA clocks\n"
    "• “reply ACME-4 <information>” — answer an engineer's question\n"
    "• “close ACME-4” / “reopen ACME-4 <why>” — after a resolution\n"
    "While filing: “back”, “start over”, “cancel”, “help”.")
HELP_ENGINEER = (
    "Engineer commands (or use the case card's buttons):\n"
    "• “queue” — open cases, nearest due first, breached first\n"
    "• “ack ACME-4”, “assign ACME-4 to ben”, “ask ACME-4 <question>”\n"
    "• “workaround ACME-4 <note>”, “resolve ACME-4 <note>”, “update ACME-4 <text>”\n"
    "• “reclassify ACME-4 P1 <reason>”, “escalate ACME-4 <reason>”, “log ACME-4 90 <note>”\n"
    "• “plan ACME-4” — the war team's response plan; “plan ACME-4 2 <text>” fills in item 2")


@dataclass(frozen=True, slots=True)
class HandlerSettings:
    idle_timeout: timedelta = timedelta(minutes=30)


class Handler:
    def __init__(self, store: Store, directory: Directory,
                 settings: HandlerSettings | None = None,
                 on_case_change: CaseChanged | None = None) -> None:
        self.store = store
        self.directory = directory
        self.cases = CaseService(store, directory, on_case_change)
        self.settings = settings or HandlerSettings()

    # -- identities -------------------------------------------------------------------------------

    async def resolve_person(self, platform: str, platform_user_id: str) -> Person | None:
        """Directory people first, then users a customer admin authorised."""
        person = self.directory.by_platform(platform, platform_user_id)
        if person is not None:
            return person
        key = platform_user_id if platform == "web" else f"{platform}:{platform_user_id}"
        for cid in self.directory.deployment.customers:
            for user in await self.store.authorised_users(cid):
                if user.user_id == key:
                    return Person(id=user.user_id, name=user.name, role=user.role,
                                  customer_id=cid)
        return None

    # -- entry point ------------------------------------------------------------------------------

    async def handle(self, inbound: Inbound) -> Outcome:
        try:
            return await self._handle(inbound)
        except FrontdoorError as exc:
            return Outcome([Reply(str(exc), private=True)])

    async def _handle(self, inbound: Inbound) -> Outcome:
        choice = inbound.choice or ""
        if choice.startswith("case:"):
            _, action, case_id = ([*choice.split(":", 2), "", ""])[:3]
            return await self._case_action(inbound, action, case_id, {})
        if inbound.form and inbound.form.get("_action"):
            values = dict(inbound.form)
            return await self._case_action(inbound, values.pop("_action"),
                                           values.pop("_case", ""), values)
        key = conversation_key(inbound)
        loaded = await self.store.load_conversation(key)
        text = (inbound.text or "").strip()
        if loaded[0] is None and not inbound.choice and not inbound.form:
            routed = await self._command(inbound, text)
            if routed is not None:
                return routed
        return await self._intake(inbound, key, loaded)

    # -- forms and case threads (for platforms with modals and threads) ----------------------

    def intake_form(self, person: Person, at: datetime, customer_id: str | None = None,
                    description: str | None = None, case_type: str | None = None,
                    values: dict[str, str] | None = None) -> Form | None:
        """The one-shot intake form for this person (first the customer, if they file for
        several), shaped by the case type once it is chosen; None when they may file for
        nobody."""
        ctx = self._context(person)
        if not ctx.customers:
            return None
        if customer_id is None and len(ctx.customers) > 1:
            return customer_form(ctx)
        return one_shot_form(ctx, at, customer_id, description, case_type, values)

    async def case_thread_message(self, inbound: Inbound, case_id: str) -> Outcome:
        """Someone wrote in a case's own thread. An engineer's first reply there is the first
        human response (it acknowledges the case); a customer's reply answers a question
        (resuming the clock) or adds a comment."""
        person = inbound.person
        case = await self.cases.visible_case(person, case_id)
        text = (inbound.text or "").strip()
        if person.is_vendor:
            if case.status != "new":
                return Outcome()
            result = await self.cases.act(person, case.id, "acknowledge", inbound.at,
                                          text="first response in the case thread")
            return await self._after_action(inbound, "acknowledge", result)
        if not text:
            return Outcome()
        action = "provide_info" if case.status == "waiting_on_customer" else "comment"
        if case.status in {"closed"}:
            return Outcome([Reply(f"{case.id} is closed. Say “reopen {case.id} …” to reopen "
                                  "it, or start a new case.", private=True)])
        result = await self.cases.act(person, case.id, action, inbound.at, text=text)
        return await self._after_action(inbound, action, result)

    # -- intake -----------------------------------------------------------------------------------

    def _context(self, person: Person) -> IntakeContext:
        customers: dict[str, Customer] = {
            cid: c for cid, c in self.directory.deployment.customers.items()
            if person.may_see_customer(cid) and may(person, "file", cid)
        }
        return IntakeContext(
            person=person, customers=customers, pack_for=self.directory.pack_of,
            vendor_name=self.directory.deployment.vendor.name,
            idle_timeout=self.settings.idle_timeout,
            clocks_preview=self._clocks_preview, explain_preview=self._explain_preview,
        )

    async def query_usage(self, customer_id: str) -> tuple[int, int | None]:
        """(query minutes used, the plan's limit in minutes or None). All of the customer's
        queries count: the deployment file knows no subscription term yet."""
        customer = self.directory.customer(customer_id)
        _, plan = self.directory.pack_of(customer_id).plan(customer.plan)
        if plan.query_hours is None:
            return 0, None
        cases = await self.store.list_cases([customer_id], open_only=False)
        return sum(c.query_minutes for c in cases), plan.query_hours * 60

    async def _intake(self, inbound: Inbound, key: str,
                      loaded: tuple[dict[str, Any] | None, int] | None = None) -> Outcome:
        ctx = self._context(inbound.person)
        for _ in range(_STATE_RETRIES):
            raw, version = loaded or await self.store.load_conversation(key)
            loaded = None
            state = IntakeState.model_validate(raw) if raw else None
            result = step(state, inbound, ctx)
            customer = _query_customer(result)
            if customer is not None and customer not in ctx.query_usage:
                # only a query can be billable: the customer's cases are read only for one
                ctx = replace(ctx, query_usage={**ctx.query_usage,
                                                customer: await self.query_usage(customer)})
                result = step(state, inbound, ctx)
            saved = result.state.model_dump(mode="json") if result.state else None
            try:
                await self.store.save_conversation(key, saved, version)
            except StaleWriteError:
                # Someone else moved this conversation on: redo the step on fresh state.
                log.info("stale conversation write, retrying", extra={"conversation": key})
                continue
            outcome = Outcome(list(result.replies))
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

    async def _file(self, inbound: Inbound, draft: CaseDraft, outcome: Outcome) -> None:
        person = inbound.person
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

    def _facts_of(self, draft: CaseDraft) -> CaseFacts:
        return CaseFacts(case_type=draft.case_type, priority=draft.requested_priority
                         or draft.priority, environment=draft.environment,
                         managed=draft.managed, hypercare=draft.hypercare)

    def _preview(self, draft: CaseDraft, now: datetime) -> tuple[Pack, Customer, Any]:
        customer = self.directory.customer(draft.customer_id)
        pack = load_pack(customer.pack)
        status = sla_status(pack, subscription_of(customer),
                            [CaseEvent("opened", now, facts=self._facts_of(draft))], now)
        return pack, customer, status

    def _clocks_preview(self, draft: CaseDraft, now: datetime) -> list[str]:
        if draft.consulting_request:
            return []
        _, customer, status = self._preview(draft, now)
        lines = clock_text(clock_lines(status, customer.tz))
        if not lines:
            return ["• No timed target applies to this case."]
        return ["If you open it now (times in " + customer.timezone + "):", *lines]

    def _explain_preview(self, draft: CaseDraft, now: datetime) -> list[str]:
        _, customer, status = self._preview(draft, now)
        out = [f"{c.label}: {c.explanation}" for c in clock_lines(status, customer.tz)]
        out += [f"Note: {n.text} ({n.clause})" for n in status.notes]
        return out

    # -- commands ---------------------------------------------------------------------------------

    async def _command(self, inbound: Inbound, text: str) -> Outcome | None:
        person = inbound.person
        key = norm(text)
        if key in {"help", "?", "commands"}:
            return Outcome([Reply(HELP_ENGINEER if person.is_vendor else HELP_CUSTOMER)])
        if key in {"status", "my cases", "cases", "open cases", "list"}:
            return await self._status(inbound)
        if key in {"queue", "the queue", "engineer queue"}:
            return await self._queue(inbound)
        if key in {"users", "list users"} or key.startswith(("add user ", "remove user ")):
            return await self._users(inbound, text)
        match = _CASE_ID.search(text)
        words = key.split()
        if match and words and words[0] in _VERBS:
            action = _VERBS[words[0]]
            rest = text[match.end():].strip(" :,-—")
            values: dict[str, str] = {"text": rest}
            if action == "assign":
                who = re.sub(r"^(to\s+)", "", rest, flags=re.I).strip()
                values = {"assignee": person.id if who.lower() in {"", "me", "myself"} else
                          who.lower()}
            elif action == "reclassify":
                first, _, reason = rest.partition(" ")
                values = {"priority": first, "text": reason}
            elif action == "log_hours":
                first, _, note = rest.partition(" ")
                values = {"minutes": first, "text": note}
            return await self._case_action(inbound, action, match.group(1), values)
        if match and len(words) <= 2:
            case = await self.cases.visible_case(person, match.group(1))
            events = await self.store.case_events(case.id)
            return Outcome([case_card(self.directory, person, case, events, inbound.at)])
        return None

    async def _status(self, inbound: Inbound) -> Outcome:
        person = inbound.person
        cases = await self.cases.visible_cases(person, open_only=True)
        if not cases:
            return Outcome([Reply("No open cases. Say “support” to open one.")])
        replies = [Reply(f"{len(cases)} open case{'s' if len(cases) != 1 else ''}:")]
        for case in cases[:20]:
            events = await self.store.case_events(case.id)
            replies.append(case_card(self.directory, person, case, events, inbound.at))
        return Outcome(replies)

    async def queue(self, person: Person, now: datetime) -> list[tuple[CaseRecord, Reply]]:
        """Open cases, breached first, then by nearest due (the engineers' queue)."""
        cases = await self.cases.visible_cases(person, open_only=True)
        rows: list[tuple[tuple[int, float], CaseRecord, Reply]] = []
        for case in cases:
            events = await self.store.case_events(case.id)
            rows.append((_urgency(self.directory, case, events, now), case,
                         case_card(self.directory, person, case, events, now)))
        rows.sort(key=lambda r: r[0])
        return [(case, reply) for _, case, reply in rows]

    async def _queue(self, inbound: Inbound) -> Outcome:
        if not inbound.person.is_vendor:
            return await self._status(inbound)
        rows = await self.queue(inbound.person, inbound.at)
        if not rows:
            return Outcome([Reply("The queue is empty.")])
        return Outcome([Reply(f"Queue: {len(rows)} open, nearest due first."),
                        *[reply for _, reply in rows[:25]]])

    async def _users(self, inbound: Inbound, text: str) -> Outcome:
        person = inbound.person
        cid = person.customer_id
        if cid is None or not may(person, "manage_users", cid):
            await self.cases._require(person, "manage_users", cid or "-", None, inbound.at)
        assert cid is not None
        key = norm(text)
        if key.startswith("add user "):
            parts = text.split(maxsplit=3)
            if len(parts) < 4:
                return Outcome([Reply("Say “add user <id> <full name>”.")])
            user = await self.cases.add_user(person, cid, parts[2], parts[3], inbound.at)
            return Outcome([Reply(f"Added {user.name} ({user.user_id}) as an authorised user "
                                  f"of {self.directory.customer(cid).name}.")])
        if key.startswith("remove user "):
            uid = text.split()[2]
            removed = await self.cases.remove_user(person, cid, uid, inbound.at)
            return Outcome([Reply(f"Removed {uid}." if removed else f"{uid} wasn't listed.")])
        users = await self.store.authorised_users(cid)
        listed = "\n".join(f"• {u.name} ({u.user_id}), added by {u.added_by}" for u in users)
        return Outcome([Reply("Authorised users you added:\n" + (listed or "• none yet"))])

    # -- case actions -----------------------------------------------------------------------------

    async def _case_action(self, inbound: Inbound, action: str, case_id: str,
                           values: dict[str, str]) -> Outcome:
        person = inbound.person
        if action.partition("/")[0] == RESPONSE_PLAN:
            return await self._response_plan(inbound, action, case_id, values)
        if action not in TRANSITIONS:
            return Outcome([Reply(f"I don't know the action {action!r}.", private=True)])
        text = (values.get("text") or "").strip()
        needs = NEEDS_TEXT.get(action)
        wants_form = (needs and not text and action not in {"reopen"}) or (
            action == "reclassify" and not (values.get("priority") or values.get("case_type")))
        if wants_form:
            case = await self.cases.visible_case(person, case_id)
            return Outcome([self._action_form(person, case, action)])
        try:
            minutes = int(values["minutes"]) if values.get("minutes") else None
        except ValueError:
            return Outcome([Reply("Give the time in minutes, e.g. “log ACME-4 90 call”.",
                                  private=True)])
        result = await self.cases.act(
            person, case_id, action, inbound.at, text=text or None,
            assignee=values.get("assignee"), case_type=values.get("case_type") or None,
            priority=values.get("priority") or None, minutes=minutes,
            level=values.get("level") or None)
        return await self._after_action(inbound, action, result)

    # -- the war team's response plan ------------------------------------------------------------

    async def war_room(self, person: Person, now: datetime) -> list[Reply]:
        """The war-room posts of the open cases whose war team is formed (the vendor's
        channel: customers and partners see none here)."""
        if not person.is_vendor:
            return []
        out = []
        for case in await self.cases.visible_cases(person, open_only=True):
            if formed(self.directory.pack_of(case.customer_id), case):
                events = await self.store.case_events(case.id)
                out.append(war_room_reply(self.directory, case, events, now, reader=person))
        return out

    async def _response_plan(self, inbound: Inbound, action: str, case_id: str,
                             values: dict[str, str]) -> Outcome:
        """A response-plan button (`response_plan/<item>`), its form, or “plan ACME-4 [n
        text]”: refused before any form unless the person may fill it in."""
        person = inbound.person
        case = await self.cases.visible_case(person, case_id)
        war = self.directory.pack_of(case.customer_id).escalation.war_team
        try:
            await self.cases._require(person, RESPONSE_PLAN, case.customer_id, case.id,
                                      inbound.at)
        except NotAllowedError as exc:
            clause = f" ({war.clause})" if war else ""
            raise NotAllowedError(f"{exc}{clause}") from None
        key = action.partition("/")[2]
        text = (values.get("text") or "").strip()
        if not key and text and war is not None:
            first, _, rest = text.partition(" ")
            if find_item(war, first) is not None:
                key, text = first, rest.strip()
        events = await self.store.case_events(case.id)
        if not key:
            if text:
                listed = "; ".join(f"{i.number} {i.label}" for i in items(war)) if war else ""
                raise ResponsePlanError(f"Which item? Say “plan {case.id} <number> <text>” "
                                        f"({listed}).")
            require_war_team(self.directory.pack_of(case.customer_id), case)
            return Outcome([war_room_reply(self.directory, case, events, inbound.at,
                                           reader=person)])
        item = find_item(war, key) if war else None
        if not text and item is not None:
            return Outcome([plan_form(self.directory, case, events, item, inbound.at)])
        result = await self.cases.act(person, case.id, RESPONSE_PLAN, inbound.at, text=text,
                                      item=key)
        return await self._after_action(inbound, RESPONSE_PLAN, result)

    def _action_form(self, person: Person, case: CaseRecord, action: str) -> Reply:
        pack = self.directory.pack_of(case.customer_id)
        fields: list[FormField] = []
        title = {"ask_customer": "Ask the customer", "reclassify": "Reclassify",
                 "escalate": "Escalate", "comment": "Add to the case",
                 "status_update": "Post an update", "provide_info": "Reply with information",
                 "suspend_sla": "Suspend the SLA", "resolve": "Resolve",
                 "workaround": "Workaround provided"}.get(action, action)
        if action == "reclassify":
            fields.append(FormField("priority", pack.priority_word, "choice", tuple(
                Choice(p, pack.priorities[p].label) for p in pack.ordered_priorities()),
                required=False, value=case.priority))
            fields.append(FormField("case_type", "Case type", "choice", tuple(
                Choice(n, t.label) for n, t in pack.case_types.items()), required=False,
                value=case.case_type))
        if action == "escalate":
            ladder = escalation_ladder(pack, case.plan)
            fields.append(FormField("level", "Level", "choice", tuple(
                Choice(lv, pack.escalation.levels[lv].name) for lv in ladder),
                required=False, hint="Empty: the next level"))
        label = {"ask_customer": "Question for the customer", "reclassify": "Reason",
                 "escalate": "Reason and impact"}.get(action, "Text")
        fields.append(FormField("text", label, "long_text"))
        fields.append(FormField("_action", "", "hidden", value=action, required=True))
        fields.append(FormField("_case", "", "hidden", value=case.id, required=True))
        return Reply(f"{title} — {case.id}: fill in the form, or type “"
                     f"{_verb_for(action)} {case.id} …”.",
                     form=Form(f"action:{action}:{case.id}", f"{title} — {case.id}",
                               tuple(fields), "Send"), private=True)

    async def _after_action(self, inbound: Inbound, action: str, result: ActResult) -> Outcome:
        person = inbound.person
        case = result.case
        events = await self.store.case_events(case.id)
        now = inbound.at
        pack = self.directory.pack_of(case.customer_id)
        # The action's own event is the last one (an automatic acknowledgement may precede it).
        note = result.events[-1].reason if result.events else None
        who = person.name
        if action == RESPONSE_PLAN:
            return self._plan_filled(inbound, result, events)
        said = {
            "acknowledge": f"{who} picked up {case.id}.",
            "assign": f"{case.id} is assigned to "
                      f"{self.directory.name_of(case.assignee or '')}.",
            "ask_customer": f"You asked the customer on {case.id}: {note}\nThe clocks the "
                            "policy pauses are paused until they answer.",
            "provide_info": f"{who} replied on {case.id}: {note or '(no text)'}",
            "start_progress": f"{case.id} is in progress.",
            "workaround": f"Workaround provided on {case.id}"
                          + (f": {note}" if note else "."),
            "resolve": f"{case.id} is resolved" + (f": {note}" if note else ".")
                       + f" If it isn't, say “reopen {case.id} …”.",
            "close": f"{case.id} is closed.",
            "reopen": f"{case.id} was reopened by {who}" + (f": {note}" if note else "."),
            "comment": f"{who} on {case.id}: {note}",
            "status_update": f"Update on {case.id} from {who}: {note}",
            "reclassify": _reclassified_text(pack, result, who, note),
            "escalate": f"{case.id} was escalated to "
                        f"{_level_name(pack, case.escalation_level)} by {who}: {note}",
            "log_hours": f"Logged {result.events[-1].data.get('minutes')} min on {case.id} "
                         f"(total {case.query_minutes} min).",
            "suspend_sla": f"The SLA on {case.id} is suspended: {note}",
            "reinstate_sla": f"The SLA on {case.id} is reinstated.",
        }[action]
        if action == "comment" and person.is_vendor:
            said = f"Update on {case.id} from {who}: {note}"
        outcome = Outcome([case_card(self.directory, person, case, events, now, said)])
        to_customer = action in {"acknowledge", "ask_customer", "workaround", "resolve",
                                 "reclassify", "reopen", "close", "start_progress",
                                 "status_update", "escalate", "suspend_sla", "reinstate_sla"} \
            or (action == "comment" and person.is_vendor)
        # The engineers' channel always gets the news (its card reflects the case's state).
        to_engineers = True
        if to_customer and person.customer_id is None:
            told = said
            if action == "ask_customer":
                told = (f"{who} asks on {case.id}: {note}\nReply with “reply {case.id} …”; "
                        "the clocks the policy pauses are paused until you answer.")
            customer_view = channel_reader("customer_user", case.customer_id)
            outcome.notices.append(Notice(case.id, "customer", case_card(
                self.directory, customer_view, case, events, now, told), kind=action))
        if to_engineers:
            outcome.notices.append(Notice(case.id, "engineers", case_card(
                self.directory, channel_reader("engineer"), case, events, now, said),
                kind=action))
        if action == "escalate":
            history = "\n".join(f"• {e.at:%d %b %H:%M} UTC — "
                                f"{describe_event(self.directory, case, e)}"
                                for e in events[-15:])
            outcome.notices.append(Notice(case.id, "escalations", case_card(
                self.directory, channel_reader("engineer"), case, events, now,
                f"{said}\nHistory:\n{history}"), kind=action))
        if action == "escalate" and result.previous is not None \
                and not formed(pack, result.previous) and formed(pack, case) \
                and pack.escalation.war_team is not None:
            outcome.notices.append(war_room_notice(
                self.directory, case, events, now,
                f"{case.id} was escalated to {_level_name(pack, case.escalation_level)} by "
                f"{who}: the war team is formed."))
        if action == "log_hours":
            outcome.notices += await self._query_hours_notices(case, result)
        has_partner = case.partner_id or self.directory.customer(case.customer_id).partner
        if has_partner and action in {"escalate", "resolve", "acknowledge"} \
                and person.role != "partner":
            outcome.notices.append(Notice(case.id, "partner", Reply(said), kind=action))
        return outcome


    def _plan_filled(self, inbound: Inbound, result: ActResult,
                     events: Sequence[CaseEventRecord]) -> Outcome:
        """An item was agreed: a short receipt for the speaker; the war-room post updated in
        place with the news under it; the engineers' card (its response-plan line)."""
        case = result.case
        data = result.events[-1].data
        said = (f"{inbound.person.name} agreed “{data.get('label')}” for the war team of "
                f"{case.id}: {data.get('shown')}")
        post = war_room_reply(self.directory, case, events, inbound.at)
        progress = post.plan.title.lower() if post.plan else "recorded"
        receipt = Reply(f"Recorded in {case.id}'s response plan — {data.get('label')}: "
                        f"{data.get('shown')}. The war-room post shows it ({progress}).",
                        private=True)
        return Outcome([receipt], [
            Notice(case.id, "war_room", Reply(f"{said}\n{post.text}", plan=post.plan),
                   RESPONSE_PLAN),
            Notice(case.id, "engineers", case_card(
                self.directory, channel_reader("engineer"), case, events, inbound.at, said),
                kind=RESPONSE_PLAN)])

    async def _query_hours_notices(self, case: CaseRecord, result: ActResult) -> list[Notice]:
        """At 80 % and 100 % of the plan's query hours, tell the customer's admin (their
        case thread) and the engineers — once per threshold crossed."""
        used, limit = await self.query_usage(case.customer_id)
        if not limit:
            return []
        logged = int(result.events[-1].data.get("minutes", 0)) if result.events else 0
        before = used - logged
        customer = self.directory.customer(case.customer_id)
        out: list[Notice] = []
        for share in (0.8, 1.0):
            if before < share * limit <= used:
                text = (f"{customer.name} has used {used / 60:.1f} of its {limit // 60} query "
                        f"hours ({round(100 * used / limit)} %)."
                        + (" New queries will be billable before they are accepted."
                           if share >= 1.0 else ""))
                out.append(Notice(case.id, "customer", Reply(text), "query_hours"))
                out.append(Notice(case.id, "engineers", Reply(text), "query_hours"))
        return out


def conversation_key(inbound: Inbound) -> str:
    place = inbound.place
    return f"{place.platform}:{place.conversation}:{place.thread or '-'}:{inbound.person.id}"


def _verb_for(action: str) -> str:
    return next((verb for verb, act in _VERBS.items() if act == action), action)


def _level_name(pack: Pack, level: str | None) -> str:
    if level and level in pack.escalation.levels:
        return pack.escalation.levels[level].name
    return level or "the next level"


def _reclassified_text(pack: Pack, result: ActResult, who: str, note: str | None) -> str:
    case = result.case
    before = result.previous
    parts = []
    if before and before.priority != case.priority and case.priority:
        old = pack.priorities[before.priority].label if before.priority else "none"
        new = pack.priorities[case.priority].label
        parts.append(f"{pack.priority_word.lower()} {old} → {new}")
    if before and before.case_type != case.case_type:
        parts.append(f"type {pack.case_types[before.case_type].label} → "
                     f"{pack.case_types[case.case_type].label}")
    change = "; ".join(parts) or "no change"
    return f"{case.id} was reclassified by {who} ({change}): {note}. The targets are " \
           "recomputed from the original report."


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


def _urgency(directory: Directory, case: CaseRecord, events: Any,
             now: datetime) -> tuple[int, float]:
    customer = directory.customer(case.customer_id)
    status = case_status(directory.pack_of(case.customer_id), customer, case, events, now)
    if status is None:
        return (2, float("inf"))
    dues = [c.due for c in status.clocks.values() if c.due and c.state in {"running",
                                                                              "breached"}]
    breached = any(c.state == "breached" and c.stopped_at is None
                   for c in status.clocks.values())
    if not dues:
        return (2, float("inf"))
    return (0 if breached else 1, min(dues).timestamp())


def _query_customer(result: IntakeResult) -> str | None:
    """The customer whose query hours this step's answer depends on: set once the
    conversation is about a query."""
    facts = result.draft or result.state
    if facts is None or facts.case_type != "query":
        return None
    return facts.customer_id
