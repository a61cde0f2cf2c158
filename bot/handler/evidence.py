"""SLA evidence in the conversation: reports ("report ACME 2026-11"), announced maintenance
("maintenance nordlys-prod 2026-11-12 14:00-15:00 patches", "is any maintenance planned?",
"cancel maintenance MW-3") and satisfaction scores (the survey's buttons, its comment form,
"rate ACME-4 4 quick fix"); and, after any action that resolved a case, the survey."""

from __future__ import annotations

import re

from bot.choice_ids import SURVEY, ChoiceId, evidence_form, parse_choice
from bot.deployment import Directory
from bot.errors import EvidenceError, NotAllowedError
from bot.evidence_settings import EvidenceSettings
from bot.intake import norm
from bot.messages import Choice, Form, FormField, Inbound, Notice, Outcome, Person, Reply
from bot.reports.collect import customer_id_for, customer_report, period_for, vendor_summary
from bot.reports.monthly import report_path
from bot.reports.summary import report_text, summary_text
from bot.service_windows import ServiceWindows, parse_announcement
from bot.store.base import Store
from bot.surveys import Surveys, comment_form

_RATE = re.compile(r"^\s*rate\s+([A-Za-z][A-Za-z0-9]{1,9}-\d{1,7})\s+([1-5])\b\s*(.*)$",
                   re.IGNORECASE | re.DOTALL)
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_PLANNED = ("is any maintenance planned", "any maintenance planned", "planned maintenance",
            "maintenance planned", "any maintenance", "is there maintenance",
            "is there any maintenance", "maintenance windows", "service windows")


class EvidenceCommands:
    def __init__(self, store: Store, directory: Directory,
                 settings: EvidenceSettings | None = None) -> None:
        self.store = store
        self.directory = directory
        settings = settings or EvidenceSettings()
        self.surveys = Surveys(store, directory, settings.surveys)
        self.windows = ServiceWindows(store, directory, settings.windows)

    # -- typed ------------------------------------------------------------------------------------

    async def command(self, inbound: Inbound, text: str) -> Outcome | None:
        key = norm(text)
        person = inbound.person
        if not key:
            return None
        bare = " ".join(key.replace("?", " ").split())
        asked = key.endswith("?") and "maintenance" in key.split("?")[0].split()[:4]
        if asked or any(bare == p or bare.startswith(p + " ") for p in _PLANNED):
            return Outcome([Reply(await self.windows.planned(person, inbound.at))])
        words = key.split()
        raw = text.split()
        if [w.lower() for w in raw[:2]] == ["cancel", "maintenance"] and len(raw) == 3:
            return Outcome([Reply(await self.windows.cancel(person, raw[2], inbound.at))])
        if words[0] == "maintenance" and (person.is_vendor or len(words) == 1):
            rest = text.strip()[len("maintenance"):].strip()
            if not rest:
                return Outcome([self._maintenance_form(person)
                                if person.is_vendor else
                                Reply(await self.windows.planned(person, inbound.at))])
            _, said = await self.windows.announce(person, parse_announcement(
                self.directory, rest), inbound.at)
            return Outcome([Reply(said)])
        if raw[0].lower() == "report" and len(raw) <= 3 and self._names_a_report(person,
                                                                              raw[1:]):
            return await self._report(inbound, raw[1:])
        if (match := _RATE.match(text)) is not None:
            return await self._rate(inbound, match[1], int(match[2]), match[3])
        return None

    def _names_a_report(self, person: Person, args: list[str]) -> bool:
        """"report", "report 2026-11", "report ACME [2026-11]", "report all [2026-11]" — not
        "report a bug", which the intake takes."""
        names = [a for a in args if not _MONTH.match(a)]
        if len(names) > 1:
            return False
        if not names:
            return person.is_vendor or person.role == "customer_admin"
        if names[0].lower() == "all":
            return True
        try:
            customer_id_for(self.directory, names[0])
        except EvidenceError:
            return False
        return True

    async def _report(self, inbound: Inbound, args: list[str]) -> Outcome:
        person = inbound.person
        month = next((a for a in args if _MONTH.match(a)), None)
        names = [a for a in args if a != month]
        if names and names[0].lower() == "all":
            if not person.is_vendor:
                raise NotAllowedError("The summary across customers is for the support team.")
            cid = next(iter(self.directory.deployment.customers))
            key = month or period_for(self.directory, cid, now=inbound.at).key
            summary = await vendor_summary(self.store, self.directory, key, inbound.at)
            return Outcome([Reply(summary_text(summary, f"/reports/all/{key}.html"))])
        if names:
            cid = customer_id_for(self.directory, names[0])
        elif person.customer_id is not None:
            cid = person.customer_id
        else:
            raise EvidenceError("Which customer? Say “report ACME 2026-11” (or “report all "
                                "2026-11” for the summary across customers).")
        if not (person.is_vendor or (person.role == "customer_admin"
                                     and person.customer_id == cid)):
            raise NotAllowedError("Reports are for the customer's admins and the support "
                                  "team. Ask your admin for it.")
        period = period_for(self.directory, cid, month=month, now=inbound.at)
        report = await customer_report(self.store, self.directory, cid, period, inbound.at)
        return Outcome([Reply(report_text(report, report_path(cid, period.key)))])

    def _maintenance_form(self, person: Person) -> Reply:
        del person
        targets = [Choice(d.name, f"{c.name}: {d.name}")
                   for c in self.directory.deployment.customers.values() for d in c.deployments]
        targets += [Choice(cid, f"{c.name}: all deployments")
                    for cid, c in self.directory.deployment.customers.items()]
        form = Form(str(evidence_form("maintenance")), "Announce maintenance", (
            FormField("target", "Deployment", "choice", tuple(targets)),
            FormField("date", "Date (YYYY-MM-DD, the customer's time zone)"),
            FormField("start", "Starts (HH:MM)"),
            FormField("end", "Ends (HH:MM)"),
            FormField("reason", "Reason", "long_text"),
            FormField("_evidence", "", "hidden", value="maintenance")), "Announce")
        return Reply("Announce maintenance: fill in the form, or say “maintenance "
                     "<deployment> <YYYY-MM-DD> <HH:MM>-<HH:MM> <reason>”.", form=form,
                     private=True)

    async def _rate(self, inbound: Inbound, case_id: str, score: int,
                    comment: str) -> Outcome:
        reply, notices = await self.surveys.answer(inbound.person, case_id, score, comment,
                                                   inbound.at)
        return Outcome([reply], notices)

    # -- buttons and forms ------------------------------------------------------------------------

    def form_by_id(self, person: Person, form_id: str) -> Form | None:
        """An evidence form drawn again from its id (a Slack button opens it as a modal)."""
        name, *parts = parse_choice(form_id).value.split("/")
        if name == "maintenance" and person.is_vendor:
            return self._maintenance_form(person).form
        if name == "survey" and len(parts) == 2 and parts[1].isdigit():
            return comment_form(parts[0], int(parts[1]))
        return None

    async def choice(self, inbound: Inbound, choice: ChoiceId) -> Outcome | None:
        if choice.kind != SURVEY:
            return None
        try:
            score = int(choice.value)
        except ValueError:
            raise EvidenceError("A score is a whole number from 1 to 5.") from None
        return await self._rate(inbound, choice.case_id or "", score, "")

    async def form(self, inbound: Inbound) -> Outcome | None:
        values = dict(inbound.form or {})
        kind = values.pop("_evidence", None)
        if kind == "survey":
            try:
                score = int(values.get("score", ""))
            except ValueError:
                raise EvidenceError("A score is a whole number from 1 to 5.") from None
            return await self._rate(inbound, values.get("_case", ""), score,
                                    values.get("comment", ""))
        if kind == "maintenance":
            text = (f"{values.get('target', '')} {values.get('date', '')} "
                    f"{values.get('start', '')}-{values.get('end', '')} "
                    f"{values.get('reason', '')}")
            _, said = await self.windows.announce(
                inbound.person, parse_announcement(self.directory, text), inbound.at)
            return Outcome([Reply(said)])
        return None

    # -- after any action -------------------------------------------------------------------------

    async def after(self, inbound: Inbound, outcome: Outcome) -> list[Notice]:
        """The survey, once a case was resolved by what the person just did."""
        resolved = {n.case_id for n in outcome.notices if n.kind == "resolve"}
        notices: list[Notice] = []
        for case_id in sorted(resolved):
            notices += await self.surveys.after_resolve(case_id, inbound.at)
        return notices
