"""A person's rights over what Frontdoor keeps about them (GDPR articles 15 and 17).

`export`: everything held about the person, as JSON — their entry in the deployment file, the
user records customer admins made for them (and those they made), the cases they filed, the
events they authored on any case, the audit entries that name them as actor, their
conversations with the bot and the attachments they added. `erase`: the person pseudonymised
everywhere (their id becomes a random stand-in, their names go, their words go, their name in
anyone else's words is replaced), the cases and their clocks intact. Both are audited, the
erasure without the person's id. A person is named by their id (the deployment file's, or the
one a customer admin gave); the deployment file itself is the operator's to edit, and the
erasure says where it still names them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.audit import OPERATOR_ACTOR, audit_json, record_audit
from bot.deployment import Directory
from bot.errors import StaleWriteError, StoreError
from bot.privacy import (
    Pseudonyms,
    Redaction,
    name_words,
    redact_audit,
    redact_case,
    redact_history,
)
from bot.records import AuditRecord, CaseEventRecord, CaseRecord
from bot.retention import forget_conversation
from bot.store.base import Store

_RETRIES = 10
AUDIT_PAGE = 1000


class SubjectService:
    def __init__(self, store: Store, directory: Directory) -> None:
        self.store = store
        self.directory = directory

    # -- what there is -------------------------------------------------------------------------

    def directory_entry(self, person_id: str) -> dict[str, Any] | None:
        person = self.directory.person(person_id)
        if person is None:
            return None
        return {"id": person.id, "name": person.name, "role": person.role,
                "customer": person.customer_id, "partner": person.partner_id,
                "slack": self.directory.platform_id(person.id, "slack"),
                "teams": self.directory.platform_id(person.id, "teams"),
                "where": self._where(person_id)}

    def _where(self, person_id: str) -> str | None:
        """The deployment file's key that lists the person."""
        d = self.directory.deployment
        for group, entries in (("engineers", d.engineers), ("admins", d.admins)):
            for i, entry in enumerate(entries):
                if entry.id == person_id:
                    return f"{group}[{i}]"
        for cid, customer in d.customers.items():
            for i, user in enumerate(customer.users):
                if user.id == person_id:
                    return f"customers.{cid}.users[{i}]"
        for pid, partner in d.partners.items():
            for i, puser in enumerate(partner.users):
                if puser.id == person_id:
                    return f"partners.{pid}.users[{i}]"
        return None

    async def _all_cases(self) -> list[tuple[CaseRecord, list[CaseEventRecord]]]:
        out = []
        for case in await self.store.list_cases(None, open_only=False):
            out.append((case, await self.store.case_events(case.id)))
        return out

    async def export(self, person_id: str, now: datetime) -> dict[str, Any]:
        """Everything held about the person (art. 15), as JSON; the export is audited."""
        every_user = [u for cid in self.directory.deployment.customers
                      for u in await self.store.authorised_users(cid)]
        users = [u for u in every_user if u.user_id == person_id]
        added = [u.model_dump(mode="json") for u in every_user if u.added_by == person_id]
        cases, events = [], []
        for case, history in await self._all_cases():
            if case.reporter == person_id:
                cases.append(case.model_dump(mode="json"))
            events += [e.model_dump(mode="json") for e in history if e.actor == person_id]
        audit = []
        after = 0
        while page := await self.store.audit_log(after, AUDIT_PAGE):
            audit += [audit_json(seq, e) for seq, e in page if e.actor == person_id]
            after = page[-1][0]
        attachments = [a.model_dump(mode="json") for cid in self.directory.deployment.customers
                       for a in await self.store.attachments(cid) if a.added_by == person_id]
        conversations = [{"key": key, "state": state} for key, state, _ in
                         await self.store.conversations_ending(f":{person_id}")]
        await record_audit(self.store, AuditRecord(
            at=now, actor=OPERATOR_ACTOR, role="admin", action="privacy_export", allowed=True,
            detail=f"everything held about {person_id} exported (GDPR art. 15)"))
        return {"person": person_id, "exported_at": now.isoformat(),
                "directory": self.directory_entry(person_id), "authorised_user": [
                    u.model_dump(mode="json") for u in users],
                "users_added": added, "cases_filed": cases, "events_authored": events,
                "audit": audit,
                "conversations": conversations, "attachments_added": attachments}

    # -- erasure -------------------------------------------------------------------------------

    async def erase(self, person_id: str, now: datetime) -> dict[str, Any]:
        """Pseudonymise the person everywhere (art. 17); cases and clocks stay intact."""
        pseudonyms = Pseudonyms()
        stand_in = pseudonyms.of(person_id)
        cases = await self._all_cases()
        names = self._names(person_id, cases)
        words: dict[str, str] = {}
        for name in names:
            words.update(name_words(person_id, name, stand_in))
        words.update(name_words(person_id, "", stand_in))
        redaction = Redaction(concerns=lambda pid: pid == person_id, pseudonyms=pseudonyms,
                              all_text=False, names=words)
        counts = {"cases": 0, "events": 0, "audit_entries": 0, "conversations": 0,
                  "user_records": 0, "attachments": 0}
        for case, history in cases:
            changed = await self._erase_case(case, history, redaction, now)
            if changed:
                counts["cases"] += 1
                counts["events"] += changed - 1
        after = 0
        while page := await self.store.audit_log(after, AUDIT_PAGE):
            for seq, entry in page:
                redacted = redact_audit(entry, redaction)
                if redacted != entry:
                    await self.store.replace_audit(seq, redacted)
                    counts["audit_entries"] += 1
            after = page[-1][0]
        for cid in self.directory.deployment.customers:
            if await self.store.remove_authorised_user(cid, person_id):
                counts["user_records"] += 1
            for user in await self.store.authorised_users(cid):
                if user.added_by == person_id:
                    await self.store.put_authorised_user(
                        user.model_copy(update={"added_by": stand_in}))
                    counts["user_records"] += 1
            for attachment in await self.store.attachments(cid):
                if attachment.added_by == person_id:
                    await self.store.add_attachment(attachment.model_copy(
                        update={"added_by": stand_in, "name": redaction.scrub(attachment.name)}))
                    counts["attachments"] += 1
        for key, _, version in await self.store.conversations_ending(f":{person_id}"):
            await forget_conversation(self.store, key, version)
            counts["conversations"] += 1
        where = self._where(person_id)
        await record_audit(self.store, AuditRecord(
            at=now, actor=OPERATOR_ACTOR, role="admin", action="privacy_erase", allowed=True,
            detail=f"a person's data pseudonymised as {stand_in} (GDPR art. 17): "
                   + ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in counts.items())))
        return {"pseudonym": stand_in, "erased_at": now.isoformat(), **counts,
                "deployment_file": where, "next": (
                    f"remove {where} from the deployment file, and the person from Slack and "
                    "Teams, so they are no longer recognised" if where else None)}

    def _names(self, person_id: str, cases: list[tuple[CaseRecord, list[CaseEventRecord]]]
               ) -> set[str]:
        """Every name the store or the deployment file knows the person by."""
        known = self.directory.person(person_id)
        names = {known.name} if known else set()
        for case, history in cases:
            if case.reporter == person_id and case.reporter_name:
                names.add(case.reporter_name)
            names.update(e.actor_name for e in history if e.actor == person_id and e.actor_name)
            names.update(str(e.data["assignee_name"]) for e in history
                         if e.data.get("assignee") == person_id and e.data.get("assignee_name"))
        return names

    async def _erase_case(self, case: CaseRecord, history: list[CaseEventRecord],
                          redaction: Redaction, now: datetime) -> int:
        """Rewrite one case without the person; returns 1 + the events changed (0: none)."""
        for _ in range(_RETRIES):
            pack = self.directory.pack_of(case.customer_id) \
                if case.customer_id in self.directory.deployment.customers else None
            new_case = redact_case(case, pack, redaction)
            new_history = redact_history(history, redaction)
            changed = sum(a != b for a, b in zip(history, new_history, strict=True))
            if new_case == case and not changed:
                return 0
            note = CaseEventRecord(
                case_id=case.id, kind="redacted", at=now, actor=OPERATOR_ACTOR,
                actor_name="Frontdoor (erasure)",
                reason="a person's data removed at their request (GDPR art. 17)")
            try:
                await self.store.rewrite_case(new_case, case.version, new_history, [note])
                return 1 + changed
            except StaleWriteError:
                fresh = await self.store.get_case(case.id)
                if fresh is None:
                    return 0
                case, history = fresh, await self.store.case_events(case.id)
        raise StoreError(f"case {case.id} kept changing during the erasure; run it again")
