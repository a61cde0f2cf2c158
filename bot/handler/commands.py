"""Typed commands outside an intake: help, status, the engineers' queue, a customer admin's
users, and case commands in free text ("ack ACME-4", "resolve ACME-4 fixed")."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.access import may
from bot.case_card import EXPLAIN, case_card
from bot.cases import TRANSITIONS, CaseService
from bot.choice_ids import case_action
from bot.deployment import Directory
from bot.handler.case_actions import VENDOR_VERBS, VERBS, CaseActions, verb_for
from bot.intake import norm
from bot.messages import Choice, Inbound, Outcome, Person, Reply
from bot.records import CaseRecord
from bot.sla_view import case_status
from bot.store.base import Store

CASE_ID = re.compile(r"\b([A-Za-z][A-Za-z0-9]{1,9}-\d{1,7})\b")
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
    "• “plan ACME-4” — the war team's response plan; “plan ACME-4 2 <text>” fills in item 2\n"
    "• “send ACME-4 <words>” — send the customer an article of the documentation")


class Commands:
    def __init__(self, store: Store, directory: Directory, cases: CaseService,
                 actions: CaseActions) -> None:
        self.store = store
        self.directory = directory
        self.cases = cases
        self.actions = actions

    async def command(self, inbound: Inbound, text: str) -> Outcome | None:
        """The command `text` is, done; None when it is none (the intake takes it)."""
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
        match = CASE_ID.search(text)
        words = key.split()
        if words and words[0] in VENDOR_VERBS and not person.is_vendor:
            return None  # "send ACME-4 the logs" from a customer is words for the intake
        if not match and len(words) == 1 and words[0] in VERBS:
            return await self._which_case(inbound, VERBS[words[0]])
        if match and words and words[0] in VERBS:
            action = VERBS[words[0]]
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
            return await self.actions.act(inbound, action, match.group(1), values)
        if match and len(words) <= 2:
            case = await self.cases.visible_case(person, match.group(1), inbound.at)
            events = await self.store.case_events(case.id)
            return Outcome([replace(case_card(self.directory, person, case, events,
                                              inbound.at), fresh=True)])
        return None

    async def _which_case(self, inbound: Inbound, action: str) -> Outcome:
        """A case action named without its case ("ack"): the cases it can apply to, as
        choices — never an intake."""
        person = inbound.person
        if action == EXPLAIN:  # "why": any case the person can see
            rows = [case for case, _ in await self.queue(person, inbound.at)]
        else:
            allowed_from = TRANSITIONS[action.partition("/")[0]][0]
            rows = [case for case, _ in await self.queue(person, inbound.at)
                    if case.status in allowed_from and may(person, action, case.customer_id)]
        verb = verb_for(action)
        if not rows:
            return Outcome([Reply(f"Which case? None of the cases you can see is ready for “"
                                  f"{verb}” now; say “{verb} <case id>”, or “status” for "
                                  "your cases.", private=True)])
        choices = tuple(Choice(str(case_action(action, case.id)), f"{case.id} · {case.title}",
                               case.status.replace("_", " ")) for case in rows[:10])
        return Outcome([Reply(f"Which case? Pick one, or say “{verb} <case id>”.",
                              choices=choices, private=True)])

    async def _status(self, inbound: Inbound) -> Outcome:
        person = inbound.person
        cases = await self.cases.visible_cases(person, open_only=True)
        if not cases:
            return Outcome([Reply("No open cases. Say “support” to open one.")])
        replies = [Reply(f"{len(cases)} open case{'s' if len(cases) != 1 else ''}:")]
        for case in cases[:20]:  # fresh cards under the question, not old ones updated
            events = await self.store.case_events(case.id)
            replies.append(replace(case_card(self.directory, person, case, events,
                                             inbound.at), fresh=True))
        return Outcome(replies)

    async def queue(self, person: Person, now: datetime) -> list[tuple[CaseRecord, Reply]]:
        """Open cases, breached first, then by nearest due (the engineers' queue). A
        customer's and a partner's also keep their resolved cases until closed."""
        if person.is_vendor:
            cases = await self.cases.visible_cases(person, open_only=True)
        else:
            cases = [c for c in await self.cases.visible_cases(person, open_only=False)
                     if c.status != "closed"]
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
                        *[replace(reply, fresh=True) for _, reply in rows[:25]]])

    async def _users(self, inbound: Inbound, text: str) -> Outcome:
        person = inbound.person
        cid = person.customer_id
        if cid is None:
            if person.is_vendor:
                return Outcome([Reply("Each customer's administrator manages their "
                                      "organisation's users (“users”, “add user …”, “remove "
                                      "user …”); the vendor's people are in the deployment "
                                      "file.", private=True)])
            await self.cases.refuse(person, "manage_users", inbound.at)
        elif not may(person, "manage_users", cid):
            await self.cases._require(person, "manage_users", cid, None, inbound.at)
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
