"""November 2026 of the demo deployment, filed and worked by a script through the real case
service, conversation handler and scheduler: breaches, pauses, escalations, surveys, service
windows (one announced in advance, one after it started) and outages. The report tests check
the figures against the hand count written beside each step; the picture tests render it.

Zones: Acme New York (EST, UTC-5 in November), Nordlys Copenhagen (CET, UTC+1), Umbrella
London (GMT). 11 Nov is Veterans Day (a US public holiday: Acme's 8x5 calendar is closed).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.deployment import Directory, load_deployment
from bot.handler import Handler
from bot.intake import CaseDraft
from bot.messages import Inbound, Outcome, Place
from bot.records import ScopeVerdict
from bot.scheduler import Scheduler
from bot.store.base import Store

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = Directory(load_deployment(ROOT / "examples" / "frontdoor.toml"))
NY, CPH, LON = ZoneInfo("America/New_York"), ZoneInfo("Europe/Copenhagen"), \
    ZoneInfo("Europe/London")
AS_OF = datetime(2026, 12, 1, 12, 0, tzinfo=ZoneInfo("UTC"))


def at(zone: ZoneInfo, day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=zone)


class Month:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.scheduler = Scheduler(store, DIRECTORY, self._sink, "month-script")
        self.handler = Handler(store, DIRECTORY, on_case_change=self.scheduler.reschedule)
        self.notices: list[tuple[str, str]] = []  # (kind, text) of everything decided

    async def _sink(self, notices: object, key: str, now: datetime) -> None:
        del notices, key, now

    async def say(self, user: str, when: datetime, text: str | None = None,
                  choice: str | None = None, form: dict[str, str] | None = None) -> Outcome:
        person = DIRECTORY.person(user)
        assert person is not None
        out = await self.handler.handle(Inbound(person, Place("web", f"web:{user}"), when,
                                                text=text, choice=choice, form=form))
        self.notices += [(n.kind, n.reply.text) for n in out.notices]
        for reply in out.replies:
            assert not reply.private or "Sorry" not in reply.text, reply.text
        return out

    async def file(self, user: str, when: datetime, customer: str, deployment: str | None,
                   case_type: str, priority: str | None, description: str,
                   consulting: bool = False) -> str:
        person = DIRECTORY.person(user)
        assert person is not None
        dep = DIRECTORY.customer(customer).deployment(deployment or "")
        draft = CaseDraft(
            customer_id=customer, case_type=case_type, priority=priority,
            requested_priority=None, priority_source="derived", priority_reason=None,
            deployment=deployment, environment=dep.environment if dep else None,
            managed=bool(dep and dep.managed),
            hypercare=DIRECTORY.hypercare(customer, deployment, when), fields={},
            description=description,
            scope=ScopeVerdict(decision="consulting", rule="consulting-request",
                               clause="Konneqt › Scope — consulting") if consulting else None,
            consulting_request=consulting, consulting_approved=consulting)
        case = await self.handler.cases.open_case(person, draft, Place("web", f"web:{user}"),
                                                  when)
        return case.id

    async def tick(self, when: datetime) -> None:
        while await self.scheduler.tick(when):
            pass


async def play(store: Store) -> Month:
    """The month, in time order (each step's hand count is in the report tests)."""
    m = Month(store)
    # -- ACME-1: P2 on staging, paused a day waiting for Acme, everything met but the status
    #    updates (none were posted: the 4 h cadence from Mon 10:00 was missed).
    a1 = await m.file("alice", at(NY, 2, 9), "acme", "acme-staging", "incident", "P2",
                      "Checkout page is slow on staging")
    await m.say("ana", at(NY, 2, 10), f"ack {a1}")
    await m.say("ana", at(NY, 3, 10), f"ask {a1} which browser and which page?")
    await m.say("alice", at(NY, 4, 10), f"reply {a1} Chrome 131, the cart page")
    await m.say("ana", at(NY, 5, 12), f"workaround {a1} cache flushed")
    await m.say("ana", at(NY, 6, 12), f"resolve {a1} missing index added")
    await m.say("alice", at(NY, 6, 13), choice=f"survey:5:{a1}")
    await m.say("alice", at(NY, 6, 13, 5), form={"_evidence": "survey", "score": "5",
                                                  "_case": a1, "comment": "quick fix"})
    # -- UMB-1: ConnectSoft Premium Critical on the platform, counted 24/7: the platform
    #    down from 01:50 (as Uma says) to the workaround at 04:50 = 180 min of downtime.
    u1 = await m.file("uma", at(LON, 7, 2), "umbrella", "identity-platform", "incident",
                      "critical", "The identity platform is completely down since 01:50")
    await m.tick(at(LON, 7, 2, 5))  # Critical: escalated at once (to L4 on Premium)
    await m.say("ana", at(LON, 7, 2, 40), f"ack {u1}")
    await m.say("ana", at(LON, 7, 4, 50), f"workaround {u1} failover to the secondary region")
    await m.say("ana", at(LON, 7, 5, 30), f"resolve {u1} primary region restored")
    await m.say("uma", at(LON, 7, 9), f"rate {u1} 3 ok in the end")
    # -- UMB-2: High, 4 h on extended hours (08–20): due 14:00, acknowledged 15:00 — missed.
    u2 = await m.file("ulrich", at(LON, 9, 10), "umbrella", "identity-platform", "incident",
                      "high", "Report export fails for some users")
    await m.say("ana", at(LON, 9, 15), f"ack {u2}")
    await m.say("ana", at(LON, 9, 16), f"resolve {u2} export limit raised")
    # -- NORD-1: Highest (all users, data at risk) in hypercare: first response met; the
    #    service down from 09:40 (as Nils says) to the workaround at 11:40 = 24 measurements.
    n1 = await m.file("nils", at(CPH, 3, 10, 10), "nordlys", "nordlys-prod", "incident",
                      "highest", "Nobody can log in since 09:40, all users, data at risk")
    await m.say("ana", at(CPH, 3, 10, 30), f"ack {n1}")
    await m.say("ana", at(CPH, 3, 11, 40), f"workaround {n1} identity cache rebuilt")
    await m.say("ana", at(CPH, 3, 12), f"resolve {n1} root cause fixed")
    await m.say("nils", at(CPH, 3, 13), choice=f"survey:4:{n1}")
    # -- ACME-2: P1 on the managed production deployment, filed Tue 16:30 before Veterans Day:
    #    response due Thu 08:30, acknowledged 09:00 (missed by 30 min).
    a2 = await m.file("adam", at(NY, 10, 16, 30), "acme", "acme-prod", "incident", "P1",
                      "Orders API returns 500 for most of our traffic")
    # -- MW-1: announced the day before: left out of Nordlys's availability (12 measurements).
    await m.say("olivia", at(CPH, 11, 10),
                "maintenance nordlys-prod 2026-11-12 14:00-15:00 security patches")
    await m.say("ben", at(NY, 12, 9), f"ack {a2}")
    await m.say("ben", at(NY, 12, 13), f"update {a2} rolling back the deploy")  # due 13:00: met
    await m.say("ben", at(NY, 13, 9), f"update {a2} rollback done, watching")  # due Thu 17:00
    await m.say("ben", at(NY, 13, 12), f"update {a2} error rate back to normal")  # due 13:00
    # -- NORD-2: Medium, 8 business hours: due Tue 09:00, acknowledged 10:00 (missed).
    n2 = await m.file("nanna", at(CPH, 16, 9), "nordlys", "nordlys-prod", "incident", "medium",
                      "New hires arrive late in the sync")
    # ACME-2 paused 2 business hours waiting for the logs: the workaround target (24 h from
    # Thu 09:00) moves from Mon 15:00 to Mon 17:00, and the resolution target with it.
    await m.say("ben", at(NY, 16, 9), f"ask {a2} can you share the gateway logs?")
    await m.say("adam", at(NY, 16, 11), f"reply {a2} logs attached")
    await m.tick(at(NY, 16, 17, 1))  # workaround missed: escalated to the executive team
    await m.say("ana", at(CPH, 17, 10), f"ack {n2}")
    await m.say("ana", at(CPH, 17, 11), f"resolve {n2} sync job re-run")
    await m.say("ben", at(NY, 17, 10), f"workaround {a2} traffic pinned to the old version")
    # -- MW-2: announced ten minutes after it started: downtime (6 measurements).
    await m.say("olivia", at(CPH, 18, 13, 10),
                "maintenance nordlys-prod 2026-11-18 13:00-13:30 emergency restart")
    await m.say("ben", at(NY, 18, 15), f"resolve {a2} fixed in 4.2.1")
    await m.say("adam", at(NY, 18, 16), f"rate {a2} 2 took far too long")
    # -- MW-3: announced in advance, but ConnectSoft leaves no window out: 60 min downtime.
    await m.say("ana", at(LON, 20, 12),
                "maintenance identity-platform 2026-11-22 01:00-02:00 database upgrade")
    # -- ACME-3: a query: first response in 1 Business Day, 90 query minutes, best effort.
    a3 = await m.file("alice", at(NY, 23, 10), "acme", None, "query", None,
                      "How do we rotate the API keys?")
    await m.say("ana", at(NY, 23, 11), f"ack {a3}")
    await m.say("ana", at(NY, 23, 11, 30), f"log {a3} 90 walkthrough call")
    await m.say("ana", at(NY, 24, 10), f"resolve {a3} documented in the runbook")
    # -- ACME-4: a paid consulting request, approved by Alice, still open.
    await m.file("alice", at(NY, 25, 10), "acme", None, "query", None,
                 "Please design our multi-region rollout for us", consulting=True)
    return m
