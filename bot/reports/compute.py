"""An SLA report from the store's case histories, pure: each case's clocks are folded once by the
policy's SLA clock (policy.sla) at the end of the period, and every clock outcome is counted in
the month it was decided — met when the clock stopped in time, breached at its due — as
Zendesk's SLA reports do, so each outcome appears in exactly one month and a month's figures
never change once it is over (unless a case is reclassified, which recomputes its targets
from the original report, as the policy says).

`ReportBuilder.add` takes one case at a time and keeps only what the report needs (tallies,
the breaches, times, outages), so a month of 10,000 cases is read in batches in little memory.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from bot.deployment import Customer, Deployment, Directory
from bot.evidence_records import ProbeResult, ServiceWindowRecord
from bot.records import OPEN_STATUSES, CaseEventRecord, CaseRecord
from bot.reports.model import (
    CLOCK_ORDER,
    STATUS_UPDATES,
    Breach,
    ConsultingItem,
    CustomerReport,
    DeploymentAvailability,
    Escalation,
    Pause,
    Period,
    Score,
    Tally,
    TimeStats,
)
from bot.sla_view import clock_events, coverage, subscription_of
from policy.availability import Measurement, Outage, WindowSpan, availability, stated_start
from policy.calendar import BusinessCalendar
from policy.errors import PolicyError
from policy.pack import WALL_CLOCK, AvailabilityPromise, Pack
from policy.sla import (
    CaseEvent,
    CaseFacts,
    ClockStatus,
    SlaStatus,
    Subscription,
    condition_holds,
    sla_status,
    status_update_dues,
)

log = logging.getLogger(__name__)

TREND_MONTHS = 6
# Cases created this long before the trend's first month are still read: the longest target
# of the shipped packs (2 Business Weeks, with holidays) is decided well within it; cases
# open at the period's end are read whatever their age.
LOOKBACK = timedelta(days=62)
TIMED_CLOCKS = ("response", "resolution")
_PAUSES = {"waiting_on_customer": ("customer_responded", "waiting on the customer"),
           "sla_suspended": ("sla_reinstated", "SLA suspended")}
_STOPS_WAITING = {"customer_responded", "workaround_provided", "resolved", "closed"}


def first_case_instant(period: Period, trend_months: int = TREND_MONTHS) -> datetime:
    """The earliest creation instant a report over `period` needs to read."""
    return period.months_before(max(trend_months, 1))[0].start - LOOKBACK


@dataclass(slots=True)
class _Outage:
    deployment: str
    outage: Outage


@dataclass(slots=True)
class ReportBuilder:
    """A customer's report, built case by case (see the module docstring)."""

    directory: Directory
    customer_id: str
    period: Period
    as_of: datetime
    trend_months: int = TREND_MONTHS
    windows: Sequence[ServiceWindowRecord] = ()
    probes: Mapping[str, Sequence[ProbeResult]] = field(default_factory=dict)
    report: CustomerReport = field(init=False)
    _customer: Customer = field(init=False)
    _pack: Pack = field(init=False)
    _trend: dict[str, dict[str, Tally]] = field(init=False)
    _times: dict[str, list[float]] = field(init=False)
    _outages: list[_Outage] = field(init=False)
    _priorities: set[str] = field(init=False)
    _lo: float = field(init=False)
    _hi: float = field(init=False)
    _months: list[tuple[float, str]] = field(init=False)
    _calendars: dict[str | None, BusinessCalendar] = field(init=False)
    _down_when: dict[str, tuple[Deployment, AvailabilityPromise]] = field(init=False)

    def __post_init__(self) -> None:
        customer = self.directory.customer(self.customer_id)
        pack = self.directory.pack_of(self.customer_id)
        _, plan = pack.plan(customer.plan)
        self._customer, self._pack = customer, pack
        self.report = CustomerReport(
            customer_id=self.customer_id, customer_name=customer.name, pack=pack.id,
            pack_name=pack.name, policy_version=pack.policy_version, plan=plan.label,
            period=self.period, as_of=self.as_of, tz=customer.tz,
            clock_labels={**{n: c.label for n, c in pack.clocks.items()},
                          STATUS_UPDATES: "Status updates"},
            query_allowance_hours=plan.query_hours)
        months = self.period.months_before(self.trend_months)
        self._trend = {p.key: {} for p in months}
        self._months = [(p.start.timestamp(), p.key) for p in months]
        self._lo, self._hi = self.period.start.timestamp(), self.period.end.timestamp()
        self._times = {name: [] for name in TIMED_CLOCKS if name in pack.clocks}
        self._outages = []
        self._priorities = set()
        self._calendars = {}
        # per deployment: its promise, where it says which cases are service-down evidence
        self._down_when = {d.name: (d, p) for d in customer.deployments
                           if (p := plan.availability_for(d.product)) is not None
                           and p.down_when is not None}

    # -- one case -------------------------------------------------------------------------------

    def add(self, case: CaseRecord, events: Sequence[CaseEventRecord]) -> None:
        if case.customer_id != self.customer_id or case.created_at.timestamp() >= self._hi:
            return
        report = self.report
        lo, hi = self._lo, self._hi
        if self._in(case.created_at):
            report.cases_opened += 1
        # one pass over the history up to the period's end: its figures that need no clock
        before_end: list[CaseEventRecord] = []
        resolved, status_at_end, answer, paused = False, "new", None, False
        for e in events:
            ts = e.at.timestamp()
            if ts >= hi:
                continue
            before_end.append(e)
            inside = ts >= lo
            if e.to_status:
                status_at_end = e.to_status
            kind = e.kind
            if kind in _PAUSES:
                paused = True
            if kind == "resolved" and inside:
                resolved = True
            elif kind == "query_time":
                minutes = int(e.data.get("minutes") or 0)
                report.query_minutes_term += minutes
                report.query_minutes += minutes if inside else 0
            elif kind == "survey_requested" and inside:
                report.surveys_asked += 1
            elif kind == "survey_answered" and inside:
                answer = e
        report.cases_resolved += resolved
        report.open_at_end += status_at_end in OPEN_STATUSES
        if answer is not None:
            report.scores.append(Score(
                case.id, int(answer.data.get("score") or 0), str(answer.data.get("comment")
                                                                 or ""),
                answer.at, answer.actor_name or answer.actor))
        if case.details.get("kind") == "consulting-request":
            self._consulting(case, before_end)
            return
        policy_events = clock_events(case, events)
        subscription = subscription_of(self._customer)
        try:
            status = sla_status(self._pack, subscription, policy_events, self.as_of,
                                explain=False)
        except PolicyError as exc:
            report.notes.append(f"{case.id} left out: {exc}")
            return
        prio = self._priority_label(status)
        spans = self._pause_spans(before_end) if paused else []
        for name, clock in status.clocks.items():
            self._clock(case, before_end, spans, policy_events, status, prio, name, clock)
        if status.status_update_every is not None:
            self._status_updates(case, policy_events, status, subscription, prio)
        self._outage(case, before_end, status)

    def _priority_label(self, status: SlaStatus) -> str:
        prio = status.assessment.priority
        if prio is None or prio not in self._pack.priorities:
            return self._pack.case_types[status.assessment.case_type].label
        self._priorities.add(prio)
        return self._pack.priorities[prio].label

    def _coverage(self, status: SlaStatus) -> BusinessCalendar:
        """The calendar a case's clocks count on (one per target row's calendar)."""
        name = status.assessment.calendar
        found = self._calendars.get(name)
        if found is None:
            found = self._calendars[name] = coverage(self._pack, self._customer, status)
        return found

    def _in(self, instant: datetime) -> bool:
        """Whether an instant falls in the report's period (by epoch seconds: comparing
        datetimes of different zones is slow over 10,000 cases)."""
        return self._lo <= instant.timestamp() < self._hi

    def _count(self, clock: str, prio: str, decided: datetime, met: bool) -> None:
        ts = decided.timestamp()
        i = bisect_right(self._months, (ts, "~")) - 1
        if i >= 0 and ts < self._hi:
            self._trend[self._months[i][1]].setdefault(clock, Tally()).add(met)
        if self._lo <= ts < self._hi:
            tallies = self.report.attainment.setdefault(clock, {})
            tallies.setdefault(prio, Tally()).add(met)
            tallies.setdefault("", Tally()).add(met)

    def _clock(self, case: CaseRecord, events: Sequence[CaseEventRecord],
               spans: Sequence[tuple[str, datetime, datetime | None, str]],
               policy_events: Sequence[CaseEvent], status: SlaStatus, prio: str, name: str,
               clock: ClockStatus) -> None:
        report = self.report
        calendar = self._coverage(status)
        if clock.state in {"met", "breached"}:
            decided = clock.stopped_at if clock.stopped_at is not None else clock.due
            assert decided is not None
            met = clock.state == "met"
            self._count(name, prio, decided, met)
            pauses = self._pauses(spans, clock, calendar, name) if self._in(decided) else ()
            if pauses:
                report.paused_clocks += 1
            if not met and self._in(decided) and clock.due is not None:
                end = clock.stopped_at or self.as_of
                report.breaches.append(Breach(
                    case_id=case.id, title=case.title, clock=name, clock_label=clock.label,
                    priority=prio, target=clock.target.text if clock.target else "",
                    clause=status.assessment.target.clause if status.assessment.target else "",
                    due=clock.due, actual=clock.stopped_at,
                    late=calendar.business_time_between(clock.due, end),
                    pauses=pauses, escalations=self._escalations(events, clock.due, end)))
        elif clock.state in {"running", "paused", "suspended"}:
            report.running_at_end += 1
        if name in self._times:
            self._time(name, clock, policy_events, calendar)

    def _time(self, name: str, clock: ClockStatus, policy_events: Sequence[CaseEvent],
              calendar: BusinessCalendar) -> None:
        """Business time from the clock's start to its stop (pauses left out where the
        policy's clock leaves them out), for clocks that stopped in the period."""
        if clock.started_at is None:
            return
        stopped = clock.stopped_at
        if stopped is None and clock.state == "best_effort":
            stop_kind = self._pack.clocks[name].stops  # type: ignore[index]
            stopped = next((e.at for e in policy_events
                            if e.kind == stop_kind and e.at >= clock.started_at), None)
            if stopped is None or not self._in(stopped):
                return
            used = calendar.business_time_between(clock.started_at, stopped)
        else:
            if stopped is None or not self._in(stopped) or clock.target is None:
                return
            duration = clock.target.duration_on(calendar)
            if duration is None or clock.remaining is None:
                return
            used = duration - clock.remaining
        self._times[name].append(max(used, timedelta(0)).total_seconds() / 60)

    def _status_updates(self, case: CaseRecord, policy_events: Sequence[CaseEvent],
                        status: SlaStatus, subscription: Subscription, prio: str) -> None:
        calendar = self._coverage(status)
        for due in status_update_dues(self._pack, subscription, status, policy_events,
                                      self.as_of):
            decided = due.given_at if due.met and due.given_at is not None else due.due
            self._count(STATUS_UPDATES, prio, decided, due.met)
            if not due.met and self._in(decided):
                end = due.given_at or due.until
                row = status.assessment.target
                self.report.breaches.append(Breach(
                    case_id=case.id, title=case.title, clock=STATUS_UPDATES,
                    clock_label="Status update", priority=prio,
                    target=f"every {row.status_update.text}" if row and row.status_update
                    else "agreed cadence",
                    clause=row.clause if row else "", due=due.due, actual=due.given_at,
                    late=calendar.business_time_between(due.due, end),
                    until=None if due.given_at else due.until))

    def _pause_spans(self, events: Sequence[CaseEventRecord],
                     ) -> list[tuple[str, datetime, datetime | None, str]]:
        """A case's pauses, once per case: (kind, start, end or None, reason) — waiting on the
        customer until an answer (or a workaround or resolution), and SLA suspensions."""
        out: list[tuple[str, datetime, datetime | None, str]] = []
        open_pauses: dict[str, tuple[datetime, str]] = {}
        for e in events:
            if e.kind in _PAUSES:
                open_pauses.setdefault(e.kind, (e.at, e.reason or ""))
                continue
            for kind in list(open_pauses):
                ends = _STOPS_WAITING if kind == "waiting_on_customer" else {"sla_reinstated"}
                if e.kind in ends:
                    start, reason = open_pauses.pop(kind)
                    out.append((kind, start, e.at, reason))
        out += [(kind, start, None, reason) for kind, (start, reason) in open_pauses.items()]
        return sorted(out, key=lambda p: p[1])

    def _pauses(self, spans: Sequence[tuple[str, datetime, datetime | None, str]],
                clock: ClockStatus, calendar: BusinessCalendar,
                name: str) -> tuple[Pause, ...]:
        """The pauses of this clock between its start and its stop (or due): waiting on the
        customer where the policy pauses the clock, and SLA suspensions, each with its reason
        and the coverage time it held."""
        if clock.started_at is None or not spans:
            return ()
        spec = self._pack.clocks.get(name)  # type: ignore[call-overload]
        pausable = bool(spec and spec.paused_while_waiting_on_customer)
        until = clock.stopped_at or clock.due or self.as_of
        return tuple(
            Pause(_PAUSES[kind][1], start, end, reason,
                  calendar.business_time_between(start, end or self.as_of))
            for kind, start, end, reason in spans
            if (pausable or kind == "sla_suspended") and start < until
            and (end is None or end > clock.started_at))

    def _escalations(self, events: Sequence[CaseEventRecord], due: datetime,
                     end: datetime) -> tuple[Escalation, ...]:
        """The case's escalations from the missed due until the clock stopped."""
        levels = self._pack.escalation.levels
        return tuple(
            Escalation(e.at, levels[lv].name if (lv := str(e.data.get("level"))) in levels
                       else lv, e.actor_name or e.actor, e.reason or "")
            for e in events if e.kind == "escalated" and due <= e.at <= end)

    def _consulting(self, case: CaseRecord, events: Sequence[CaseEventRecord]) -> None:
        touched = self._in(case.created_at) or any(
            self._in(e.at) and e.to_status for e in events)
        if not touched:
            return
        status = next((e.to_status for e in reversed(events) if e.to_status), "new")
        approved = case.consulting_approved_by
        outcome = (("approved" if approved else "not approved") + ", "
                   + str(status).replace("_", " "))
        self.report.consulting.append(ConsultingItem(
            case.id, case.title, case.created_at, outcome,
            self.directory.name_of(approved) if approved else None, case.billable))

    def _outage(self, case: CaseRecord, events: Sequence[CaseEventRecord],
                status: SlaStatus) -> None:
        found = self._down_when.get(case.deployment or "")
        if found is None:
            return  # no such deployment, or its plan names no service-down evidence
        deployment, promise = found
        assert promise.down_when is not None
        facts = CaseFacts(status.assessment.case_type, status.assessment.priority,
                          case.environment, case.managed, case.hypercare)
        if not condition_holds(promise.down_when, status.assessment.plan, facts):
            return
        given = stated_start(case.description, case.created_at, self._customer.tz)
        start = given or case.created_at
        end = next((e.at for e in events
                    if e.kind in {"workaround_provided", "resolved"} and e.at >= start), None)
        if start >= self.period.end or (end is not None and end <= self.period.start):
            return
        detail = (f"from {given:%H:%M} as the customer said" if given
                  else "from the report") + " to the " + (
            "workaround or resolution" if end else "end of the period (still down)")
        self._outages.append(_Outage(deployment.name, Outage(start, end, case.id, "incidents",
                                                             detail)))

    def _promise(self, deployment: Deployment) -> AvailabilityPromise | None:
        _, plan = self._pack.plan(self._customer.plan)
        return plan.availability_for(deployment.product)

    # -- the report -------------------------------------------------------------------------------

    def finish(self) -> CustomerReport:
        report = self.report
        order = [self._pack.priorities[p].label for p in self._pack.ordered_priorities()
                 if p in self._priorities]
        order += sorted({k for t in report.attainment.values() for k in t
                         if k and k not in order})
        report.priority_order = order
        report.attainment = {c: report.attainment[c] for c in CLOCK_ORDER
                             if c in report.attainment}
        report.breaches.sort(key=lambda b: (b.due, b.case_id, b.clock))
        report.trend = [(p, self._trend[p.key])
                        for p in self.period.months_before(self.trend_months)]
        for name, values in self._times.items():
            report.times[name] = _stats(values)
        report.scores.sort(key=lambda s: s.at)
        report.consulting.sort(key=lambda c: c.opened)
        report.availability = [a for d in self._customer.deployments
                               if d.environment == "production"
                               and (a := self._availability(d)) is not None]
        report.notes.insert(0, "Each clock is counted in the month it was decided: met when it "
                            "stopped in time, breached at its due. Times are business time "
                            "on the plan's coverage hours; pauses the policy allows are left "
                            "out.")
        return report

    def _availability(self, deployment: Deployment) -> DeploymentAvailability | None:
        promise = self._promise(deployment)
        if promise is None:
            return None
        if not promise.promised:
            return DeploymentAvailability(deployment.name, None,
                                          f"No availability is promised on this plan "
                                          f"({promise.clause}).")
        calendar = None if promise.counted_in == WALL_CLOCK else self._pack.calendar(
            promise.counted_in, self._customer.timezone, self._customer.holiday_country)
        windows = [WindowSpan(w.starts_at, w.ends_at, w.announced_at, w.id, w.reason)
                   for w in self.windows
                   if w.active and w.customer_id == self.customer_id
                   and w.deployment in {None, deployment.name}]
        key = f"{self.customer_id}/{deployment.name}"
        measurements = None
        outages = [o.outage for o in self._outages if o.deployment == deployment.name]
        if deployment.probe is not None:
            results = self.probes.get(key, ())
            measurements = [Measurement(r.at, r.up) for r in results]
            outages = _probe_outages(results, deployment.probe.every_minutes, key)
        end = min(self.period.end, self.as_of) if self.as_of > self.period.start \
            else self.period.end
        result = availability(promise, self.period.start, end, calendar, outages=outages,
                              windows=windows, measurements=measurements,
                              target_percent=deployment.availability_target)
        return DeploymentAvailability(deployment.name, result)


def _probe_outages(results: Sequence[ProbeResult], every: int, ref: str) -> list[Outage]:
    """Runs of failed probe results, as outages (for the report's list)."""
    out: list[Outage] = []
    start: datetime | None = None
    last: datetime | None = None
    for r in sorted(results, key=lambda r: r.at):
        if not r.up and start is None:
            start = r.at
        if r.up and start is not None:
            out.append(Outage(start, r.at, ref, "probe", "failed probes"))
            start = None
        last = r.at
    if start is not None and last is not None:
        out.append(Outage(start, last + timedelta(minutes=every), ref, "probe", "failed probes"))
    return out


def _stats(values: list[float]) -> TimeStats:
    if not values:
        return TimeStats(0, None, None)
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, max(0, -(-9 * len(ordered) // 10) - 1))]
    return TimeStats(len(ordered), timedelta(minutes=median(ordered)), timedelta(minutes=p90),
                     tuple(ordered))
