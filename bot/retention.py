"""Each pack's retention rules, applied: what may no longer be kept goes, the SLA facts stay.

The scheduler runs this once a day (`frontdoor tick --at` too, at the instant given);
`frontdoor retention --dry-run` shows what a run would take out, per customer, with the
clause that says so. Every purge is audited (as the system, `frontdoor`).

What each kind of data in a pack's rule covers here (policy.pack.Retention):

- `personal-data` — the people in the customer's cases (reporters, authors of events, people
  named in the audit) and their words: each case is pseudonymised once (bot/privacy.py: SLA
  facts kept, so reports stay true); the customer's audit entries the same, in place; the
  users its admins added are forgotten.
- `portal-data` — everything else the bot keeps about the customer's people: their
  conversations (unfinished intakes).
- `attachments` — attachment records of the customer's cases, each on its own clock (Konneqt:
  90 days after the case is resolved or closed, or the contract ends, whichever is first).

A pack that states no retention period (ConnectSoft, the Danish provider) keeps everything,
and the dry run says so. A customer without `contract_end` in the deployment file has no
contract end yet: only rules that count from a case's resolution can fire.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.audit import SYSTEM_ACTOR, record_audit
from bot.deployment import Customer, Directory
from bot.errors import StaleWriteError, StoreError
from bot.privacy import Pseudonyms, Redaction, redact_audit, redact_case, redact_history
from bot.records import AuditRecord, CaseEventRecord, CaseRecord
from bot.store.base import Store
from policy.pack import Retention, RetentionStart
from policy.retention import retention_due

log = logging.getLogger(__name__)
_RETRIES = 10
AUDIT_PAGE = 1000
SYSTEM_NAME = "Frontdoor (retention)"
KEPT_ACTORS = frozenset({SYSTEM_ACTOR, "operator"})


@dataclass(frozen=True, slots=True)
class Purge:
    """One thing a run takes out (or, dry, would): never the data itself, only what it is."""

    target: str
    action: str
    case_id: str | None = None


@dataclass(slots=True)
class RuleOutcome:
    rule: str
    clause: str
    what: str
    data: str
    days: int
    after: tuple[str, ...]
    state: str
    due: datetime | None = None
    purges: list[Purge] = field(default_factory=list)


@dataclass(slots=True)
class CustomerOutcome:
    customer_id: str
    name: str
    pack: str
    contract_end: date | None
    kept: str | None = None  # why nothing is ever purged (the pack states no period)
    rules: list[RuleOutcome] = field(default_factory=list)


@dataclass(slots=True)
class RetentionReport:
    at: datetime
    dry_run: bool
    customers: list[CustomerOutcome] = field(default_factory=list)

    def purged(self) -> int:
        return sum(len(r.purges) for c in self.customers for r in c.rules)

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(), "dry_run": self.dry_run,
            ("would_purge" if self.dry_run else "purged"): self.purged(),
            "customers": [{
                "customer": c.customer_id, "name": c.name, "pack": c.pack,
                "contract_end": c.contract_end.isoformat() if c.contract_end else None,
                **({"kept": c.kept} if c.kept else {}),
                "rules": [{
                    "rule": r.rule, "clause": r.clause, "what": r.what, "data": r.data,
                    "keep_days": r.days, "after": list(r.after), "state": r.state,
                    "due": r.due.isoformat() if r.due else None,
                    ("would" if self.dry_run else "done"): [
                        {"target": p.target, "action": p.action} for p in r.purges],
                } for r in c.rules],
            } for c in self.customers],
        }


def _case_moments(case: CaseRecord, events: list[CaseEventRecord], ended: datetime | None
                  ) -> dict[RetentionStart, datetime | None]:
    """When the case was (last) resolved and closed, if it is so now, and the contract end."""
    resolved = closed = None
    if case.status in ("resolved", "closed"):
        resolved = max((e.at for e in events if e.kind == "resolved"), default=None)
    if case.status == "closed":
        closed = max((e.at for e in events if e.kind == "closed"), default=None)
    return {"contract-end": ended, "case-resolved": resolved, "case-closed": closed}


def _when(at: datetime) -> str:
    return at.isoformat(timespec="minutes")


class RetentionService:
    def __init__(self, store: Store, directory: Directory) -> None:
        self.store = store
        self.directory = directory

    async def run(self, now: datetime, *, dry_run: bool = False) -> RetentionReport:
        """Apply (or, dry, only survey) every customer's rules at `now`."""
        report = RetentionReport(now, dry_run)
        for cid, customer in self.directory.deployment.customers.items():
            report.customers.append(await self._customer(cid, customer, now, dry_run))
        if not dry_run and report.purged():
            log.info("retention purged", extra={"purges": report.purged()})
        return report

    async def _customer(self, cid: str, customer: Customer, now: datetime,
                        dry: bool) -> CustomerOutcome:
        pack = self.directory.pack_of(cid)
        out = CustomerOutcome(cid, customer.name, pack.id, customer.contract_end)
        if not pack.retention:
            out.kept = (f"{pack.name} (pack {pack.id}) states no retention period: everything "
                        "is kept until the vendor's own setting says otherwise")
            return out
        ended = customer.contract_ended_at()
        people = await self._people(cid)
        vendor = frozenset(p.id for p in self.directory.engineers()) | KEPT_ACTORS
        redaction = Redaction(concerns=lambda pid: pid not in vendor, pseudonyms=Pseudonyms(),
                              all_text=True, keeps=KEPT_ACTORS)
        kinds = {"portal-data": 0, "personal-data": 1, "attachments": 2}
        for rule_id, rule in sorted(pack.retention.items(), key=lambda kv: kinds[kv[1].data]):
            outcome = RuleOutcome(rule_id, rule.clause, rule.what, rule.data, rule.days,
                                  rule.after, state="")
            out.rules.append(outcome)
            per_case = any(start != "contract-end" for start in rule.after)
            due = retention_due(rule, {"contract-end": ended})
            outcome.due = due
            if per_case:
                outcome.state = (f"per case: {rule.days} days after the first of "
                                 f"{', '.join(rule.after)}")
            elif due is None:
                outcome.state = ("waits: the deployment file sets no contract_end for this "
                                 "customer")
                continue
            elif now < due:
                outcome.state = f"not due before {_when(due)}"
                continue
            else:
                outcome.state = f"due since {_when(due)}"
            if rule.data == "attachments":
                outcome.purges += await self._attachments(cid, rule_id, rule, ended, now, dry)
            elif rule.data == "portal-data":
                outcome.purges += await self._conversations(cid, people, rule_id, rule, now,
                                                            dry)
            else:
                outcome.purges += await self._cases(cid, rule_id, rule, ended, redaction, now,
                                                    dry)
                if due is not None and now >= due:
                    outcome.purges += await self._audit(cid, rule_id, rule, redaction, now, dry)
                    outcome.purges += await self._users(cid, rule_id, rule, now, dry)
        return out

    async def _people(self, cid: str) -> list[str]:
        """The customer's people: the deployment file's and those its admins added."""
        ids = [p.id for p in self.directory.people() if p.customer_id == cid]
        ids += [u.user_id for u in await self.store.authorised_users(cid)]
        return sorted(set(ids))

    async def _audit_entry(self, cid: str, action: str, detail: str, now: datetime,
                           case_id: str | None = None) -> None:
        await record_audit(self.store, AuditRecord(
            at=now, actor=SYSTEM_ACTOR, role="admin", action=action, allowed=True,
            case_id=case_id, customer_id=cid, detail=detail))

    # -- personal data in cases -------------------------------------------------------------

    async def _cases(self, cid: str, rule_id: str, rule: Retention, ended: datetime | None,
                     redaction: Redaction, now: datetime, dry: bool) -> list[Purge]:
        purges: list[Purge] = []
        for case in await self.store.list_cases([cid], open_only=False):
            if rule_id in case.redacted:
                continue
            events = await self.store.case_events(case.id)
            due = retention_due(rule, _case_moments(case, events, ended))
            if due is None or now < due:
                continue
            purges.append(Purge(f"case {case.id}", "people pseudonymised, names and free "
                                "text removed; SLA facts kept", case.id))
            if not dry:
                await self._redact_case(case.id, rule_id, rule, redaction, now)
        return purges

    async def _redact_case(self, case_id: str, rule_id: str, rule: Retention,
                           redaction: Redaction, now: datetime) -> None:
        for _ in range(_RETRIES):
            case = await self.store.get_case(case_id)
            if case is None or rule_id in case.redacted:
                return
            history = await self.store.case_events(case_id)
            pack = self.directory.pack_of(case.customer_id)
            redacted = redact_case(case, pack, redaction).model_copy(
                update={"redacted": [*case.redacted, rule_id]})
            note = CaseEventRecord(
                case_id=case_id, kind="redacted", at=now, actor=SYSTEM_ACTOR,
                actor_name=SYSTEM_NAME, reason=f"personal data removed under “{rule.clause}”",
                data={"rule": rule_id, "clause": rule.clause})
            try:
                await self.store.rewrite_case(redacted, case.version,
                                              redact_history(history, redaction), [note])
            except StaleWriteError:
                continue
            await self._audit_entry(case.customer_id, "retention_purge",
                                    f"{rule_id}: personal data pseudonymised, SLA facts kept "
                                    f"[{rule.clause}]", now, case_id)
            return
        raise StoreError(f"case {case_id} kept changing while its personal data was being "
                         "removed; the next retention run tries again")

    # -- the customer's audit entries, and the users its admins added ------------------------

    async def _audit(self, cid: str, rule_id: str, rule: Retention, redaction: Redaction,
                     now: datetime, dry: bool) -> list[Purge]:
        mark = f"retention:{cid}:{rule_id}"
        state, version = await self.store.load_conversation(mark)
        after = int((state or {}).get("audit_after", 0))
        changed = 0
        while page := await self.store.audit_log(after, AUDIT_PAGE):
            for seq, entry in page:
                if entry.customer_id != cid:
                    continue
                redacted = redact_audit(entry, redaction)
                if redacted != entry:
                    changed += 1
                    if not dry:
                        await self.store.replace_audit(seq, redacted)
            after = page[-1][0]
        if dry:
            return [Purge(f"{changed} audit entries", "people pseudonymised, details "
                          "removed")] if changed else []
        if changed:
            await self._audit_entry(cid, "retention_purge", f"{rule_id}: {changed} audit entries "
                                    f"pseudonymised [{rule.clause}]", now)
        with contextlib.suppress(StaleWriteError):  # a lost race only means reading again
            await self.store.save_conversation(mark, {"audit_after": after}, version)
        return [Purge(f"{changed} audit entries", "people pseudonymised, details removed")] \
            if changed else []

    async def _users(self, cid: str, rule_id: str, rule: Retention, now: datetime,
                     dry: bool) -> list[Purge]:
        users = await self.store.authorised_users(cid)
        if not users:
            return []
        if not dry:
            for user in users:
                await self.store.remove_authorised_user(cid, user.user_id)
            await self._audit_entry(cid, "retention_purge", f"{rule_id}: {len(users)} users "
                                    f"added by the customer's admins forgotten [{rule.clause}]",
                                    now)
        return [Purge(f"{len(users)} users added by the customer's admins", "deleted")]

    # -- portal data: the people's conversations ---------------------------------------------

    async def _conversations(self, cid: str, people: list[str], rule_id: str, rule: Retention,
                             now: datetime, dry: bool) -> list[Purge]:
        found = 0
        for pid in people:
            for key, _, version in await self.store.conversations_ending(f":{pid}"):
                found += 1
                if not dry:
                    await forget_conversation(self.store, key, version)
        if not found:
            return []
        if not dry:
            await self._audit_entry(cid, "retention_purge", f"{rule_id}: {found} conversations "
                                    f"of the customer's people deleted [{rule.clause}]", now)
        return [Purge(f"{found} conversations of the customer's people", "deleted")]

    # -- attachments ---------------------------------------------------------------------------

    async def _attachments(self, cid: str, rule_id: str, rule: Retention,
                           ended: datetime | None, now: datetime, dry: bool) -> list[Purge]:
        purges: list[Purge] = []
        for attachment in await self.store.attachments(cid):
            case = await self.store.get_case(attachment.case_id)
            events = await self.store.case_events(case.id) if case else []
            moments: dict[RetentionStart, datetime | None] = \
                _case_moments(case, events, ended) if case else {"contract-end": ended}
            due = retention_due(rule, moments)
            if case is not None and (due is None or now < due):
                continue  # an attachment of a case no longer stored goes at once
            purges.append(Purge(f"attachment {attachment.id} of {attachment.case_id}",
                                "deleted", attachment.case_id))
            if not dry and await self.store.remove_attachment(cid, attachment.id):
                await self._audit_entry(cid, "retention_purge", f"{rule_id}: attachment "
                                        f"{attachment.id} deleted, its file at the location "
                                        f"recorded goes with it [{rule.clause}]", now,
                                        attachment.case_id)
        return purges


async def forget_conversation(store: Store, key: str, version: int) -> None:
    """Delete a conversation, whatever was written to it meanwhile."""
    for _ in range(_RETRIES):
        try:
            await store.save_conversation(key, None, version)
            return
        except StaleWriteError:
            _, version = await store.load_conversation(key)
            if version == 0:
                return
