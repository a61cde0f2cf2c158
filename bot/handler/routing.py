"""The `Handler` facade: one entry point for every platform.

`Handler.handle(inbound) -> Outcome` routes what a person did — a case button, a case-action
form, a typed command ("ack ACME-4", "status", "help"), an intake answer — to the case
actions, the commands or the intake loop, and returns replies for the speaker and notices
for everyone else (the customer's thread, the engineers, escalations).
"""

from __future__ import annotations

from datetime import datetime

from bot.cases import CaseChanged, CaseService
from bot.choice_ids import parse_choice
from bot.deployment import Directory
from bot.errors import FrontdoorError
from bot.handler.case_actions import CaseActions
from bot.handler.commands import Commands
from bot.handler.evidence import EvidenceCommands
from bot.handler.intake_loop import (
    HandlerSettings,
    IntakeLoop,
    clocks_preview,
    conversation_key,
    explain_preview,
    query_usage,
)
from bot.intake import CaseDraft
from bot.knowledge import KnowledgeBase
from bot.messages import Form, Inbound, Outcome, Person, Place, Reply
from bot.records import CaseRecord
from bot.store.base import Store


class Handler:
    def __init__(self, store: Store, directory: Directory,
                 settings: HandlerSettings | None = None,
                 on_case_change: CaseChanged | None = None,
                 knowledge: KnowledgeBase | None = None) -> None:
        self.store = store
        self.directory = directory
        self.knowledge = knowledge
        self.cases = CaseService(store, directory, on_case_change)
        self.settings = settings or HandlerSettings()
        self.intake = IntakeLoop(store, directory, self.cases, self.settings, knowledge)
        self.actions = CaseActions(store, directory, self.cases, knowledge)
        self.commands = Commands(store, directory, self.cases, self.actions)
        self.evidence = EvidenceCommands(store, directory, self.settings.evidence)

    # -- entry point ------------------------------------------------------------------------------

    async def handle(self, inbound: Inbound) -> Outcome:
        try:
            outcome = await self._route(inbound)
            outcome.notices += await self.evidence.after(inbound, outcome)
            return outcome
        except FrontdoorError as exc:
            return Outcome([Reply(str(exc), private=True)])

    async def _route(self, inbound: Inbound) -> Outcome:
        if inbound.choice:
            choice = parse_choice(inbound.choice)
            if choice.is_case_action:
                return await self.actions.act(inbound, choice.value, choice.case_id or "", {})
            if (answered := await self.evidence.choice(inbound, choice)) is not None:
                return answered
        if inbound.form and inbound.form.get("_evidence") \
                and (submitted := await self.evidence.form(inbound)) is not None:
            return submitted
        if inbound.form and inbound.form.get("_action"):
            values = dict(inbound.form)
            return await self.actions.act(inbound, values.pop("_action"),
                                          values.pop("_case", ""), values)
        key = conversation_key(inbound)
        loaded = await self.store.load_conversation(key)
        text = (inbound.text or "").strip()
        if loaded[0] is None and not inbound.choice and not inbound.form:
            routed = await self.commands.command(inbound, text) or \
                await self.evidence.command(inbound, text)
            if routed is not None:
                return routed
        return await self.intake.run(inbound, key, loaded)

    # -- for platforms with modals, threads and side panels ---------------------------------------

    def intake_form(self, person: Person, at: datetime, customer_id: str | None = None,
                    description: str | None = None, case_type: str | None = None,
                    values: dict[str, str] | None = None) -> Form | None:
        return self.intake.intake_form(person, at, customer_id, description, case_type, values)

    async def conversation_form(self, person: Person, place: Place,
                                at: datetime) -> Form | None:
        return await self.intake.conversation_form(person, place, at)

    async def case_thread_message(self, inbound: Inbound, case_id: str) -> Outcome:
        return await self.actions.case_thread_message(inbound, case_id)

    async def query_usage(self, customer_id: str) -> tuple[int, int | None]:
        return await query_usage(self.store, self.directory, customer_id)

    async def queue(self, person: Person, now: datetime) -> list[tuple[CaseRecord, Reply]]:
        return await self.commands.queue(person, now)

    async def war_room(self, person: Person, now: datetime) -> list[Reply]:
        return await self.actions.war_room(person, now)

    def _clocks_preview(self, draft: CaseDraft, now: datetime) -> list[str]:
        return clocks_preview(self.directory, draft, now)

    def _explain_preview(self, draft: CaseDraft, now: datetime) -> list[str]:
        return explain_preview(self.directory, draft, now)
