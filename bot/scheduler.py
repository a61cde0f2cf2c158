"""SLA reminders, breaches, escalations and status-update prompts: decided from the pure SLA
clock, fired from timers in the store, never from `sleep`.

Each open case has one timer: the next instant something may be due (`next_moment`). A
worker claims due cases with a lease (`Scheduler.tick`), folds the case's history at that
instant, and for every moment that has come decides its notices. Every notice carries an
idempotency key (case, clock, kind, threshold, priority): the outbox keeps one item per key
and the case history records the moment once, so a timer fired twice — two workers, or a
worker killed after its claim — never posts twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from bot.audit import SYSTEM_ACTOR
from bot.case_card import case_card, channel_reader
from bot.cases import CaseService, escalation_ladder
from bot.deployment import Directory
from bot.errors import FrontdoorError
from bot.messages import Notice, Person, Reply
from bot.records import OPEN_STATUSES, CaseEventRecord, CaseRecord
from bot.retention import RetentionReport, RetentionService
from bot.sla_view import clock_events, subscription_of, when
from bot.store.base import Store
from bot.war_room import war_room_notice
from policy.pack import BreachTrigger, Pack, PriorityTrigger
from policy.sla import SlaStatus, format_duration, sla_status

log = logging.getLogger(__name__)

MomentKind = Literal["reminder", "breach", "status_prompt", "status_promise",
                     "proactive_update", "escalate_at_once"]
SYSTEM = Person(id=SYSTEM_ACTOR, name="Frontdoor (SLA monitor)", role="admin")


@dataclass(frozen=True, slots=True)
class SchedulerSettings:
    reminder_fractions: tuple[float, ...] = (0.5, 0.75, 0.9)
    # How long after a missed status update the customer is told when the next one comes.
    status_grace: timedelta = timedelta(minutes=30)
    lease_seconds: float = 60.0
    batch: int = 200
    retention: bool = True  # apply the packs' retention rules once a day (bot/retention.py)


@dataclass(frozen=True, slots=True)
class Moment:
    at: datetime
    kind: MomentKind
    key: str
    clock: str | None = None
    threshold: float | None = None


@dataclass(slots=True)
class Decision:
    """What firing a case at an instant decided: per moment, its notices (a moment may have
    none: a superseded reminder), and the escalations the policy forces."""

    fired: list[tuple[Moment, list[Notice]]] = field(default_factory=list)
    escalate_to: list[tuple[str, str]] = field(default_factory=list)  # (level, reason)

    @property
    def notices(self) -> list[Notice]:
        return [n for _, notices in self.fired for n in notices]


def case_sla(directory: Directory, case: CaseRecord, events: Sequence[CaseEventRecord],
             at: datetime, settings: SchedulerSettings) -> SlaStatus | None:
    if case.details.get("kind") == "consulting-request":
        return None
    customer = directory.customer(case.customer_id)
    return sla_status(directory.pack_of(case.customer_id), subscription_of(customer),
                      clock_events(case, events), at, fractions=settings.reminder_fractions)


def moments(directory: Directory, case: CaseRecord, events: Sequence[CaseEventRecord],
            at: datetime, settings: SchedulerSettings,
            status: SlaStatus | None = None) -> list[Moment]:
    """Every moment the case's current state implies, past and future (pure). `status` is
    the clock at `at` when the caller already folded it."""
    if case.status not in OPEN_STATUSES:
        return []
    if status is None:
        status = case_sla(directory, case, events, at, settings)
    if status is None:
        return []
    pack = directory.pack_of(case.customer_id)
    prio = case.priority or "-"
    out: list[Moment] = []
    for name, clock in status.clocks.items():
        if clock.state != "running" and not (clock.state == "breached"
                                              and clock.stopped_at is None):
            continue
        for fraction, instant in clock.thresholds:
            out.append(Moment(instant, "reminder", f"{case.id}:{name}:reminder:"
                              f"{round(fraction * 100)}:{prio}", name, fraction))
        if clock.due is not None:
            out.append(Moment(clock.due, "breach", f"{case.id}:{name}:breach:{prio}", name))
    if status.next_status_update is not None:
        stamp = status.next_status_update.isoformat()
        if status.assessment.proactive_updates is not None:
            out.append(Moment(status.next_status_update, "proactive_update",
                              f"{case.id}:proactive:{stamp}"))
        else:
            out.append(Moment(status.next_status_update, "status_prompt",
                              f"{case.id}:status:{stamp}"))
            calendar = pack.calendar(status.assessment.calendar or "",
                                     directory.customer(case.customer_id).timezone,
                                     directory.customer(case.customer_id).holiday_country)
            out.append(Moment(calendar.add_business_time(status.next_status_update,
                                                         settings.status_grace),
                              "status_promise", f"{case.id}:status-promise:{stamp}"))
    for trigger in pack.escalation.triggers:
        if isinstance(trigger, PriorityTrigger) and case.priority in trigger.priorities:
            out.append(Moment(case.created_at, "escalate_at_once",
                              f"{case.id}:escalate:{trigger.to}:{prio}"))
    return out


def next_moment(directory: Directory, case: CaseRecord, events: Sequence[CaseEventRecord],
                at: datetime, settings: SchedulerSettings) -> datetime | None:
    """The first moment after `at` (the case's timer), or None."""
    fired = _fired_keys(events)
    pending = [m.at for m in moments(directory, case, events, at, settings)
               if m.key not in fired]
    due_now = [when for when in pending if when <= at]
    if due_now:
        return min(due_now)  # something is already due: fire it right away
    return min(pending, default=None)


def _fired_keys(events: Sequence[CaseEventRecord]) -> set[str]:
    return {str(e.data.get("key")) for e in events if e.kind == "sla_notice"}


def decide(directory: Directory, case: CaseRecord, events: Sequence[CaseEventRecord],
           at: datetime, settings: SchedulerSettings) -> Decision:
    """What is due at `at` and not yet done (pure). Of several reminders of one clock only the
    latest is sent (a case that was paused or found late isn't spammed), and a breach
    supersedes the clock's reminders."""
    decision = Decision()
    if case.status not in OPEN_STATUSES:
        return decision
    status = case_sla(directory, case, events, at, settings)
    if status is None:
        return decision
    fired = _fired_keys(events)
    due = [m for m in moments(directory, case, events, at, settings, status)
           if m.at <= at and m.key not in fired]
    if not due:
        return decision
    pack = directory.pack_of(case.customer_id)
    breached = {m.clock for m in due if m.kind == "breach"}
    latest_reminder: dict[str, Moment] = {}
    for m in due:
        if m.kind == "reminder" and m.clock not in breached:
            best = latest_reminder.get(m.clock or "")
            if best is None or (m.threshold or 0) > (best.threshold or 0):
                latest_reminder[m.clock or ""] = m
    engineers = channel_reader("engineer")
    customer_view = channel_reader("customer_user", case.customer_id)
    mentions = (case.assignee,) if case.assignee else tuple(
        p.id for p in directory.engineers() if p.role == "engineer")
    tz_vendor = directory.deployment.vendor.timezone
    for m in due:
        notices: list[Notice] = []
        decision.fired.append((m, notices))
        if m.kind == "reminder" and latest_reminder.get(m.clock or "") is not m:
            continue
        clock = status.clocks.get(m.clock or "")
        if m.kind == "reminder" and clock is not None and clock.due is not None:
            left = format_duration(clock.remaining) if clock.remaining else "no time"
            text = (f"⏰ {case.id}: {round((m.threshold or 0) * 100)} % of the "
                    f"{clock.label.lower()} target used — {left} of business time left, due "
                    f"{_local(clock.due, tz_vendor)}.")
            notices.append(_card_notice(directory, case, events, at, engineers,
                                                 text, "engineers", "reminder", mentions))
        elif m.kind == "breach" and clock is not None:
            text = (f"🔴 {case.id}: the {clock.label.lower()} target "
                    f"({clock.target.text if clock.target else ''}) was missed at "
                    f"{_local(clock.due, tz_vendor) if clock.due else 'its due'}.")
            notices.append(_card_notice(directory, case, events, at, engineers,
                                                 text, "engineers", "breach", mentions))
            for trigger in pack.escalation.triggers:
                if isinstance(trigger, BreachTrigger) and m.clock in trigger.clocks:
                    level = _available(pack, case, trigger.to)
                    if level:
                        decision.escalate_to.append((level, f"{trigger.explanation} "
                                                            f"({trigger.clause})"))
                        customer_text = (
                            f"The {clock.label.lower()} target on {case.id} was missed. "
                            f"{trigger.explanation}")
                        notices.append(Notice(case.id, "customer",
                                                       Reply(customer_text), "breach"))
                        if pack.escalation.war_team is not None and trigger.to == level:
                            notices.append(war_room_notice(
                                directory, case, events, at,
                                f"🔴 The {clock.label.lower()} target on {case.id} was "
                                f"missed: it goes to {_level_name(pack, level)}."))
        elif m.kind == "status_prompt":
            text = (f"📝 {case.id}: a status update to the customer is due now "
                    f"(every {format_duration(status.status_update_every or timedelta(0))} "
                    "of coverage). Post an update.")
            notices.append(_card_notice(directory, case, events, at, engineers,
                                                 text, "engineers", "status_prompt", mentions))
        elif m.kind == "status_promise" and status.next_status_update is not None:
            # still no update since the prompt: tell the customer when the next will come
            nxt = status.next_status_update
            if nxt <= at:
                every = status.status_update_every or timedelta(0)
                cal = pack.calendar(status.assessment.calendar or "",
                                    directory.customer(case.customer_id).timezone,
                                    directory.customer(case.customer_id).holiday_country)
                nxt = cal.add_business_time(at, every)
            text = (f"We're still working on {case.id}. There's nothing new to report yet; "
                    f"the next update will come by "
                    f"{_local(nxt, directory.customer(case.customer_id).timezone)}.")
            notices.append(Notice(case.id, "customer", Reply(text), "status_promise"))
        elif m.kind == "proactive_update":
            text = (f"Hypercare update on {case.id}: status {case.status.replace('_', ' ')}"
                    + (f", with {directory.name_of(case.assignee)}" if case.assignee else "")
                    + ". We'll keep you posted on this cadence until it is resolved.")
            notices.append(_card_notice(directory, case, events, at, customer_view,
                                                 text, "customer", "proactive_update", ()))
            notices.append(_card_notice(
                directory, case, events, at, engineers,
                f"📝 {case.id}: hypercare — the customer got a proactive update; add yours.",
                "engineers", "status_prompt", mentions))
        elif m.kind == "escalate_at_once":
            for trigger in pack.escalation.triggers:
                if isinstance(trigger, PriorityTrigger) and case.priority in \
                        trigger.priorities:
                    level = _available(pack, case, trigger.to)
                    if level and level != case.escalation_level:
                        decision.escalate_to.append((level, f"{trigger.explanation} "
                                                            f"({trigger.clause})"))
    return decision


def _available(pack: Pack, case: CaseRecord, wanted: str) -> str | None:
    """The wanted level, or the highest the plan includes (L3/L4 are premium-only …)."""
    ladder = escalation_ladder(pack, case.plan)
    if wanted in ladder:
        return wanted
    levels = list(pack.escalation.levels)
    if wanted in levels:
        below = [lv for lv in ladder if levels.index(lv) < levels.index(wanted)]
        return below[-1] if below else None
    return None


def _card_notice(directory: Directory, case: CaseRecord, events: Sequence[CaseEventRecord],
                 at: datetime, viewer: Person, headline: str,
                 audience: Literal["customer", "engineers"], kind: str,
                 mentions: tuple[str, ...]) -> Notice:
    return Notice(case.id, audience, case_card(directory, viewer, case, events, at, headline),
                  kind, mentions)


def _level_name(pack: Pack, level: str) -> str:
    found = pack.escalation.levels.get(level)
    return found.name if found else level


def _local(instant: datetime, zone: str) -> str:
    from zoneinfo import ZoneInfo

    return when(instant, ZoneInfo(zone))


# -- the worker side ------------------------------------------------------------------------


NoticeSink = Callable[[Sequence[Notice], str, datetime], Awaitable[None]]
"""Enqueues notices for delivery (per platform), each with the given idempotency prefix."""


class Scheduler:
    def __init__(self, store: Store, directory: Directory, sink: NoticeSink,
                 worker_id: str, settings: SchedulerSettings | None = None) -> None:
        self.store = store
        self.directory = directory
        self.cases = CaseService(store, directory, self.reschedule)
        self.sink = sink
        self.worker_id = worker_id
        self.settings = settings or SchedulerSettings()
        self.retention = RetentionService(store, directory)
        self.last_retention: RetentionReport | None = None
        self._retention_day: date | None = None

    async def reschedule(self, case_id: str, at: datetime) -> None:
        """After a case changed: its timer is its next moment."""
        case = await self.store.get_case(case_id)
        if case is None:
            return
        events = await self.store.case_events(case_id)
        await self.store.schedule_case(
            case_id, next_moment(self.directory, case, events, at, self.settings))

    async def tick(self, now: datetime) -> int:
        """Fire every case whose moment has come by `now`; returns how many were fired.
        Once a day (of `now`, across processes) the retention rules are applied too."""
        claimed = await self.store.claim_due_cases(now, self.settings.batch,
                                                   self.settings.lease_seconds, self.worker_id)
        fired = 0
        for case_id, _ in claimed:
            try:
                fired += await self._fire(case_id, now)
            except FrontdoorError as exc:
                log.error("could not fire case timer: %s", exc, extra={"case_id": case_id})
                await self.store.release_case(case_id, self.worker_id,
                                              now + timedelta(minutes=1))
        await self._apply_retention(now)
        return fired

    async def _apply_retention(self, now: datetime) -> None:
        day = now.astimezone(UTC).date()
        if not self.settings.retention or self._retention_day == day:
            return
        self._retention_day = day
        if not await self.store.claim_once(f"retention:{day.isoformat()}", 2 * 86_400):
            return  # another process runs today's
        try:
            self.last_retention = await self.retention.run(now)
        except FrontdoorError as exc:
            log.error("retention run failed (tomorrow's tries again): %s", exc)

    async def _fire(self, case_id: str, now: datetime) -> int:
        case = await self.store.get_case(case_id)
        if case is None:
            await self.store.release_case(case_id, self.worker_id, None)
            return 0
        events = await self.store.case_events(case_id)
        decision = decide(self.directory, case, events, now, self.settings)
        # 1. each moment's notices, keyed by the moment (the outbox keeps one per key) —
        #    enqueued before the moment is recorded, so a crash in between re-decides them
        for moment, notices in decision.fired:
            if notices:
                await self.sink(notices, moment.key, now)
        # 2. escalations the policy forces (audited, as the SLA monitor), once per level
        levels = list(self.directory.pack_of(case.customer_id).escalation.levels)
        for level, reason in decision.escalate_to:
            current = await self.store.get_case(case.id)
            if current is None or _rank(levels, current.escalation_level) >= _rank(levels,
                                                                                  level):
                continue  # already there or higher: escalation never goes down
            try:
                await self.cases.act(SYSTEM, case.id, "escalate", now, text=reason, level=level)
            except FrontdoorError as exc:
                log.info("escalation skipped: %s", exc, extra={"case_id": case.id})
        # 3. the moments, once each, in the case's history (one write for all of them)
        if decision.escalate_to:
            case = await self.store.get_case(case_id) or case
            events = await self.store.case_events(case_id)
        case, events = await self._record(case, events,
                                          [m for m, _ in decision.fired], now)
        await self.store.release_case(
            case_id, self.worker_id, next_moment(self.directory, case, events, now,
                                                 self.settings))
        return 1 if decision.fired else 0

    async def _record(
        self, case: CaseRecord, events: Sequence[CaseEventRecord], fired: Sequence[Moment],
        now: datetime,
    ) -> tuple[CaseRecord, list[CaseEventRecord]]:
        """Append the fired moments not yet in the history; returns the case and its history
        as they are afterwards (re-read only when another writer got in first)."""
        history = list(events)
        for _ in range(10):
            done = _fired_keys(history)
            batch: list[CaseEventRecord] = []
            for moment in fired:
                if moment.key in done:
                    continue
                batch.append(CaseEventRecord(
                    case_id=case.id, kind="sla_notice", at=now, actor=SYSTEM.id,
                    actor_name=SYSTEM.name, reason=_describe(moment),
                    data={"key": moment.key, "moment": moment.kind, "clock": moment.clock,
                          "due": moment.at.isoformat()}))
                if moment.kind == "proactive_update":
                    # the customer did get an update: the cadence counts from it
                    batch.append(CaseEventRecord(
                        case_id=case.id, kind="status_update", at=now, actor=SYSTEM.id,
                        actor_name=SYSTEM.name, reason="proactive hypercare update"))
            if not batch:
                return case, history
            try:
                stored = await self.store.update_case(case, case.version, batch)
            except FrontdoorError:
                fresh = await self.store.get_case(case.id)
                if fresh is None:
                    return case, history
                case, history = fresh, await self.store.case_events(case.id)
                continue
            return stored, history + batch  # seq numbers don't matter to the clock
        return case, history


def _rank(levels: list[str], level: str | None) -> int:
    return levels.index(level) if level in levels else -1


def _describe(moment: Moment) -> str:
    what = {"reminder": f"{round((moment.threshold or 0) * 100)} % reminder",
            "breach": "target missed", "status_prompt": "status update due",
            "status_promise": "customer told when the next update comes",
            "proactive_update": "proactive hypercare update",
            "escalate_at_once": "immediate escalation"}[moment.kind]
    return f"{what}" + (f" ({moment.clock})" if moment.clock else "")
