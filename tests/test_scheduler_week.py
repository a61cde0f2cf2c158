"""A week of simulated time per pack, driven by ticks at each timer's instant, asserting the
exact sequence of reminders, breaches and escalations against hand-computed expectations.

The driver does what `frontdoor tick --at` does (the same `Scheduler.tick`), at every instant
the case's timer names, interleaved with scripted engineer actions at given instants.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cases import CaseService
from bot.deployment import Directory, load_deployment
from bot.intake import CaseDraft
from bot.messages import Notice, Place
from bot.scheduler import Scheduler, SchedulerSettings, next_moment
from bot.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = Directory(load_deployment(ROOT / "examples" / "frontdoor.toml"))
NY = ZoneInfo("America/New_York")
CHI = ZoneInfo("America/Chicago")
CPH = ZoneInfo("Europe/Copenhagen")
UTC = ZoneInfo("UTC")
Action = tuple[datetime, Callable[["Sim", str], Awaitable[None]]]


class Sim:
    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.notices: list[tuple[datetime, Notice]] = []
        self.settings = SchedulerSettings()
        self.scheduler = Scheduler(store, DIRECTORY, self._sink, "sim", self.settings)
        self.cases = CaseService(store, DIRECTORY, self.scheduler.reschedule)

    async def _sink(self, notices: Sequence[Notice], key: str, now: datetime) -> None:
        self.notices += [(now, n) for n in notices]

    async def open(self, reporter: str, customer: str, case_type: str, priority: str | None,
                   at: datetime, *, deployment: str | None = None,
                   hypercare: bool = False) -> str:
        person = DIRECTORY.person(reporter)
        assert person is not None
        dep = DIRECTORY.customer(customer).deployment(deployment) if deployment else None
        draft = CaseDraft(
            customer_id=customer, case_type=case_type, priority=priority,
            requested_priority=priority, priority_source="customer", priority_reason=None,
            deployment=deployment, environment=dep.environment if dep else None,
            managed=bool(dep and dep.managed), hypercare=hypercare, fields={},
            description="Something is broken and here is how to reproduce it", scope=None)
        case = await self.cases.open_case(person, draft, Place("web", "sim"), at)
        return case.id

    async def run(self, case_id: str, until: datetime, actions: Sequence[Action] = ()) -> None:
        pending = sorted(actions, key=lambda a: a[0])
        for _ in range(2000):
            case = await self.store.get_case(case_id)
            assert case is not None
            events = await self.store.case_events(case_id)
            last = max(e.at for e in events)
            timer = next_moment(DIRECTORY, case, events, last, self.settings)
            if pending and (timer is None or pending[0][0] <= timer):
                at, act = pending.pop(0)
                if at > until:
                    return
                await act(self, case_id)
                continue
            if timer is None or timer > until:
                return
            await self.scheduler.tick(timer)
        raise AssertionError("the simulation did not settle")

    async def fired(self, case_id: str) -> list[tuple[str, str | None, str, datetime]]:
        """(moment, clock, what, when) of each SLA moment, and escalations, in order."""
        out = []
        for e in await self.store.case_events(case_id):
            if e.kind == "sla_notice" and e.data.get("moment") != "status_prompt" \
                    and e.data.get("moment") != "status_promise":
                out.append((str(e.data["moment"]), e.data.get("clock"), e.reason or "",
                            datetime.fromisoformat(str(e.data["due"]))))
            elif e.kind == "escalated":
                out.append(("escalated", None, str(e.data.get("level")), e.at))
        return out


def at(when: datetime, action: str, who: str = "ana", **kw: object) -> Action:
    person = DIRECTORY.person(who)
    assert person is not None

    async def doit(sim: Sim, case_id: str) -> None:
        await sim.cases.act(person, case_id, action, when, **kw)  # type: ignore[arg-type]

    return when, doit


@pytest.fixture
async def sim(tmp_path: Path) -> Sim:
    store = SqliteStore(tmp_path / "week.db")
    await store.open()
    yield Sim(store)  # type: ignore[misc]
    await store.close()


def t(tz: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=tz)  # type: ignore[misc]


async def test_konneqt_week_reminders_breaches_and_the_war_team(sim: Sim) -> None:
    """Konneqt Enterprise P1, opened Mon 23 Nov 08:00 EST, acknowledged 08:40, never worked
    around: reminders at 50/75/90 % of each target in coverage time, then the workaround
    breach escalates to the executive team and forms the war team (Service Levels)."""
    case = await sim.open("alice", "acme", "incident", "P1", t(NY, 2026, 11, 23, 8, 0))
    await sim.run(case, t(NY, 2026, 12, 1, 12, 0),
                  [at(t(NY, 2026, 11, 23, 8, 40), "acknowledge")])
    # Response 1 h from 08:00: 50 % at 08:30; acknowledged 08:40 (before 75 %).
    # Workaround 24 h from Mon 08:40: Mon 8 h 20, Tue 9 h, Wed 08:00 + 6 h 40 → Wed 14:40;
    #   50 % (12 h) Tue 11:40; 75 % (18 h) Wed 08:40; 90 % (21 h 36) Wed 12:16.
    # Resolution 48 h: Mon 8 h 20, Tue 9, Wed 9, Thu 26 Nov Thanksgiving, Fri 9, Mon 30 9,
    #   Tue 1 Dec 08:00 + 3 h 40 → 11:40; 50 % (24 h) Wed 14:40; 75 % (36 h) Mon 30 08:40;
    #   90 % (43 h 12) Mon 30 15:52.
    assert await sim.fired(case) == [
        ("reminder", "response", "50 % reminder (response)", t(NY, 2026, 11, 23, 8, 30)),
        ("reminder", "workaround", "50 % reminder (workaround)", t(NY, 2026, 11, 24, 11, 40)),
        ("reminder", "workaround", "75 % reminder (workaround)", t(NY, 2026, 11, 25, 8, 40)),
        ("reminder", "workaround", "90 % reminder (workaround)", t(NY, 2026, 11, 25, 12, 16)),
        ("escalated", None, "executive", t(NY, 2026, 11, 25, 14, 40)),
        ("breach", "workaround", "target missed (workaround)", t(NY, 2026, 11, 25, 14, 40)),
        ("reminder", "resolution", "50 % reminder (resolution)", t(NY, 2026, 11, 25, 14, 40)),
        ("reminder", "resolution", "75 % reminder (resolution)", t(NY, 2026, 11, 30, 8, 40)),
        ("reminder", "resolution", "90 % reminder (resolution)", t(NY, 2026, 11, 30, 15, 52)),
        ("breach", "resolution", "target missed (resolution)", t(NY, 2026, 12, 1, 11, 40)),
    ]
    war = [n for _, n in sim.notices if n.audience == "war_room"]
    assert war and "Technical assessment" in war[0].reply.text
    assert "workaround target" in war[0].reply.text  # formed by the workaround breach
    assert war[0].reply.plan is not None and war[0].reply.plan.agreed == 0
    told = [n.reply.text for _, n in sim.notices if n.audience == "customer"]
    assert any("workaround target on" in text and "executive team" in text for text in told)


async def test_connectsoft_week_critical_escalates_at_once_and_never_goes_down(sim: Sim) -> None:
    """ConnectSoft Premium: "Always escalate critical incidents immediately" (to L4, premium
    only); a 24/7 1-hour response target; the response breach (→ L2) doesn't de-escalate."""
    case = await sim.open("uma", "umbrella", "incident", "critical",
                          t(UTC, 2026, 11, 28, 2, 0), deployment="identity-platform")
    await sim.run(case, t(UTC, 2026, 12, 5, 2, 0))
    assert await sim.fired(case) == [
        ("escalated", None, "L4", t(UTC, 2026, 11, 28, 2, 0)),
        ("escalate_at_once", None, "immediate escalation", t(UTC, 2026, 11, 28, 2, 0)),
        ("reminder", "response", "50 % reminder (response)", t(UTC, 2026, 11, 28, 2, 30)),
        ("reminder", "response", "75 % reminder (response)", t(UTC, 2026, 11, 28, 2, 45)),
        ("reminder", "response", "90 % reminder (response)", t(UTC, 2026, 11, 28, 2, 54)),
        ("breach", "response", "target missed (response)", t(UTC, 2026, 11, 28, 3, 0)),
    ]


async def test_dk_saas_week_in_hypercare_gets_proactive_updates(sim: Sim) -> None:
    """dk-saas: hypercare lifts a High incident to Highest (1 business hour, 08–16
    Copenhagen); the customer gets proactive updates every 4 business hours after pick-up."""
    case = await sim.open("nanna", "nordlys", "incident", "highest",
                          t(CPH, 2026, 11, 24, 15, 30), deployment="nordlys-prod",
                          hypercare=True)
    await sim.run(case, t(CPH, 2026, 11, 27, 16, 0),
                  [at(t(CPH, 2026, 11, 25, 9, 0), "acknowledge")])
    # Response 1 h from Tue 15:30: 50 % uses up Tuesday exactly → Tue 16:00 (window close);
    # 75 % Wed 08:15; 90 % Wed 08:24; due Wed 08:30 (missed; no escalation in this policy).
    # Acknowledged Wed 09:00: proactive updates Wed 13:00, Thu 09:00, Thu 13:00, Fri 09:00,
    # Fri 13:00.
    fired = await sim.fired(case)
    assert fired[:4] == [
        ("reminder", "response", "50 % reminder (response)", t(CPH, 2026, 11, 24, 16, 0)),
        ("reminder", "response", "75 % reminder (response)", t(CPH, 2026, 11, 25, 8, 15)),
        ("reminder", "response", "90 % reminder (response)", t(CPH, 2026, 11, 25, 8, 24)),
        ("breach", "response", "target missed (response)", t(CPH, 2026, 11, 25, 8, 30)),
    ]
    assert [(m, when) for m, _, _, when in fired[4:]] == [
        ("proactive_update", t(CPH, 2026, 11, 25, 13, 0)),
        ("proactive_update", t(CPH, 2026, 11, 26, 9, 0)),
        ("proactive_update", t(CPH, 2026, 11, 26, 13, 0)),
        ("proactive_update", t(CPH, 2026, 11, 27, 9, 0)),
        ("proactive_update", t(CPH, 2026, 11, 27, 13, 0)),
    ]
    assert any(n.audience == "customer" and "Hypercare update" in n.reply.text
               for _, n in sim.notices)


async def test_qscim_week_query_reminders_skip_thanksgiving(sim: Sim) -> None:
    """QSCIM (Konneqt targets, 8x5 local): a Query's 1 Business Day response, opened Wed
    16:00 Chicago: 1 h Wed, Thanksgiving closed, Fri 08:00 + 8 h → Fri 16:00."""
    case = await sim.open("irene", "initech", "query", None, t(CHI, 2026, 11, 25, 16, 0))
    await sim.run(case, t(CHI, 2026, 12, 2, 16, 0))
    assert await sim.fired(case) == [
        ("reminder", "response", "50 % reminder (response)", t(CHI, 2026, 11, 27, 11, 30)),
        ("reminder", "response", "75 % reminder (response)", t(CHI, 2026, 11, 27, 13, 45)),
        ("reminder", "response", "90 % reminder (response)", t(CHI, 2026, 11, 27, 15, 6)),
        ("breach", "response", "target missed (response)", t(CHI, 2026, 11, 27, 16, 0)),
    ]


async def test_status_updates_are_prompted_and_the_customer_is_told_when_none_comes(
    sim: Sim,
) -> None:
    """Konneqt: status update every 4 coverage hours; the assignee is prompted, and without an
    update the customer hears when the next one will come."""
    case = await sim.open("alice", "acme", "incident", "P2", t(NY, 2026, 11, 23, 8, 0))
    await sim.run(case, t(NY, 2026, 11, 23, 17, 0),
                  [at(t(NY, 2026, 11, 23, 8, 10), "acknowledge"),
                   at(t(NY, 2026, 11, 23, 12, 20), "comment", text="Found the cause")])
    events = await sim.store.case_events(case)
    moments = [(e.data["moment"], datetime.fromisoformat(str(e.data["due"])))
               for e in events if e.kind == "sla_notice"
               and str(e.data["moment"]).startswith("status")]
    # First prompt at 12:10 (4 h after 08:10); the update at 12:20 answers it (no promise);
    # the next prompt 16:20; no update by 16:50 → the customer is told.
    assert moments == [("status_prompt", t(NY, 2026, 11, 23, 12, 10)),
                       ("status_prompt", t(NY, 2026, 11, 23, 16, 20)),
                       ("status_promise", t(NY, 2026, 11, 23, 16, 50))]
    told = [n.reply.text for _, n in sim.notices if n.kind == "status_promise"]
    assert told and "next update will come by Tue 24 Nov" in told[0]


async def test_a_timer_fired_twice_notifies_once(sim: Sim) -> None:
    """Every notice has an idempotency key: re-firing the same instant posts nothing new."""
    case = await sim.open("adam", "acme", "incident", "P3", t(NY, 2026, 11, 23, 8, 0))
    when = t(NY, 2026, 11, 23, 11, 0)  # P3 response 6 h: 50 % at 11:00
    await sim.store.schedule_case(case, when)
    await sim.scheduler.tick(when)
    first = len(sim.notices)
    await sim.store.schedule_case(case, when)
    await sim.scheduler.tick(when)
    assert first >= 1 and len(sim.notices) == first


async def test_waiting_on_the_customer_moves_the_timers_and_resolving_cancels_them(
    sim: Sim,
) -> None:
    """Konneqt: waiting for the customer's information pauses the workaround and resolution
    clocks, so their reminders move by the pause; resolving cancels every timer."""
    case = await sim.open("alice", "acme", "incident", "P1", t(NY, 2026, 11, 23, 8, 0))
    await sim.run(case, t(NY, 2026, 11, 24, 17, 0), [
        at(t(NY, 2026, 11, 23, 8, 10), "acknowledge"),
        at(t(NY, 2026, 11, 23, 9, 10), "ask_customer", text="Which version?"),
        at(t(NY, 2026, 11, 24, 9, 10), "provide_info", who="alice", text="4.2"),
    ])
    # Workaround 24 h from Mon 08:10: 1 h used by 09:10, then paused for 9 business hours
    # (Mon 09:10–17:00, Tue 08:00–09:10); 50 % (12 h) is 11 h after Tue 09:10: Tue 7 h 50
    # to 17:00, Wed 08:00 + 3 h 10 → Wed 11:10 (without the pause it would be Tue 11:10).
    store = sim.store
    case_rec = await store.get_case(case)
    events = await store.case_events(case)
    assert case_rec is not None
    upcoming = next_moment(DIRECTORY, case_rec, events, t(NY, 2026, 11, 24, 17, 0),
                           sim.settings)
    assert upcoming is not None
    reminders = [e for e in events if e.kind == "sla_notice"
                 and e.data.get("clock") == "workaround"]
    assert reminders == []  # nothing fired during the pause
    await sim.run(case, t(NY, 2026, 11, 25, 12, 0))
    fired = [(c, when) for m, c, _, when in await sim.fired(case) if m == "reminder"
             and c == "workaround"]
    assert fired == [("workaround", t(NY, 2026, 11, 25, 11, 10))]
    ana = DIRECTORY.person("ana")
    assert ana is not None
    await sim.cases.act(ana, case, "resolve", t(NY, 2026, 11, 25, 12, 0), text="patched")
    case_rec = await store.get_case(case)
    assert case_rec is not None
    assert next_moment(DIRECTORY, case_rec, await store.case_events(case),
                       t(NY, 2026, 11, 25, 12, 0), sim.settings) is None
