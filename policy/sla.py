"""The SLA clock: a pure fold over a case's history.

`assess` says what the policy makes of a case's facts (covered? which priority after the rules
the policy forces? which line of the plan's table?). `sla_status` folds the case's events into
each clock's due instant, state and remaining business time, with an explanation a customer
can check by hand. Nothing here reads the wall clock: `now` is an argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from policy.calendar import BusinessCalendar, require_aware
from policy.errors import CaseFactsError
from policy.pack import (
    Condition,
    NotCoveredRule,
    Pack,
    ProactiveUpdatesRule,
    ReclassifyRule,
    TargetRow,
    TargetTime,
)

EventKind = Literal[
    "opened",
    "acknowledged",
    "waiting_on_customer",
    "customer_responded",
    "workaround_provided",
    "resolved",
    "reopened",
    "closed",
    "reclassified",
    "status_update",
    "sla_suspended",
    "sla_reinstated",
    "status_cadence_agreed",
]
ClockState = Literal[
    "not_started", "running", "paused", "suspended", "met", "breached", "best_effort"
]


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the customer told us (and the deployment file knows) about a case."""

    case_type: str
    priority: str | None = None
    environment: str | None = None
    managed: bool = False
    hypercare: bool = False


@dataclass(frozen=True, slots=True)
class Subscription:
    """Which plan a customer bought, and where its business hours are counted."""

    plan: str | None = None
    timezone: str | None = None
    holiday_country: str | None = None


@dataclass(frozen=True, slots=True)
class Note:
    text: str
    clause: str


@dataclass(frozen=True, slots=True)
class Assessment:
    """The policy's verdict on a case's facts, before any time passes."""

    plan: str
    case_type: str
    covered: bool
    priority: str | None
    requested_priority: str | None
    target: TargetRow | None
    calendar: str | None
    notes: tuple[Note, ...]
    alternative_case_type: str | None = None
    proactive_updates: TargetTime | None = None


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One entry of a case's history; `reclassified` carries the new type and/or priority,
    `status_cadence_agreed` the status-update cadence a war team's response plan set."""

    kind: EventKind
    at: datetime
    case_type: str | None = None
    priority: str | None = None
    facts: CaseFacts | None = None  # on `opened`
    every: timedelta | None = None  # on `status_cadence_agreed`, in coverage time


@dataclass(frozen=True, slots=True)
class ClockStatus:
    name: str
    label: str
    target: TargetTime | None
    state: ClockState
    started_at: datetime | None
    due: datetime | None
    stopped_at: datetime | None
    remaining: timedelta | None
    explanation: str
    # When the given fractions of the target are used up (reminders), while it runs.
    thresholds: tuple[tuple[float, datetime], ...] = ()


@dataclass(frozen=True, slots=True)
class SlaStatus:
    assessment: Assessment
    clocks: dict[str, ClockStatus]
    status_update_every: timedelta | None
    next_status_update: datetime | None
    suspended: bool
    notes: tuple[Note, ...] = field(default=())


# ---- assessment


def _matches(when: Condition, plan: str, facts: CaseFacts) -> bool:
    checks: list[bool] = []
    if when.plan is not None:
        checks.append(plan in when.plan)
    if when.case_type is not None:
        checks.append(facts.case_type in when.case_type)
    if when.priority is not None:
        checks.append(facts.priority in when.priority)
    if when.environment is not None:
        checks.append(facts.environment in when.environment)
    if when.managed is not None:
        checks.append(facts.managed == when.managed)
    if when.hypercare is not None:
        checks.append(facts.hypercare == when.hypercare)
    return all(checks)


def condition_holds(when: Condition, plan: str, facts: CaseFacts) -> bool:
    """Whether a case's facts (normalised) meet a pack's condition on this plan."""
    return _matches(when, plan, facts)


def normalise_facts(pack: Pack, facts: CaseFacts) -> CaseFacts:
    """Resolve names as people write them ("p1", "Critical/1", "security report")."""
    case_type = pack.case_type(facts.case_type)
    spec = pack.case_types[case_type]
    priority: str | None
    if not spec.has_priority:
        priority = spec.fixed_priority
    elif facts.priority is not None:
        priority = pack.priority(facts.priority)
    elif pack.default_priority is not None:
        priority = pack.default_priority
    else:
        word = pack.priority_word.lower()
        raise CaseFactsError(
            f"a {spec.label} needs a {word}: one of {', '.join(pack.ordered_priorities())}"
        )
    environment = facts.environment
    if environment is not None and environment not in pack.environments:
        raise CaseFactsError(
            f"unknown environment {environment!r}; environments: {', '.join(pack.environments)}"
        )
    if environment is None and spec.needs_deployment:
        environment = "production"
    return replace(facts, case_type=case_type, priority=priority, environment=environment)


_ASSESSED: dict[tuple[int, str | None, CaseFacts], tuple[Pack, Assessment]] = {}
_ASSESSED_MAX = 4096


def assess(pack: Pack, plan: str | None, facts: CaseFacts) -> Assessment:
    """Apply the pack's rules to the facts: coverage, forced reclassification, the target row.
    Remembered per pack, plan and facts (a report asks the same few questions 10,000 times):
    packs and facts are immutable, and the entry holds its pack, so an id is never reused."""
    key = (id(pack), plan, facts)
    found = _ASSESSED.get(key)
    if found is not None and found[0] is pack:
        return found[1]
    if len(_ASSESSED) >= _ASSESSED_MAX:
        _ASSESSED.clear()
    assessment = _assess(pack, plan, facts)
    _ASSESSED[key] = (pack, assessment)
    return assessment


def _assess(pack: Pack, plan: str | None, facts: CaseFacts) -> Assessment:
    plan_name, plan_spec = pack.plan(plan)
    facts = normalise_facts(pack, facts)
    requested = facts.priority
    spec = pack.case_types[facts.case_type]
    notes: list[Note] = []
    covered = True
    alternative: str | None = None
    proactive: TargetTime | None = None

    if spec.managed_only and not facts.managed:
        covered = False
        notes.append(
            Note(f"A {spec.label} is for Managed Deployments only; this deployment is not one.",
                 spec.clause)
        )
    for rule in pack.rules:
        if not _matches(rule.when, plan_name, facts):
            continue
        if isinstance(rule, ReclassifyRule) and facts.priority != rule.to:
            before = pack.priorities[facts.priority].label if facts.priority else "none"
            facts = replace(facts, priority=rule.to)
            notes.append(
                Note(f"Reclassified from {before} to {pack.priorities[rule.to].label}: "
                     f"{rule.explanation}", rule.clause)
            )
        elif isinstance(rule, NotCoveredRule):
            covered = False
            alternative = rule.alternative_case_type
            notes.append(Note(rule.explanation, rule.clause))
        elif isinstance(rule, ProactiveUpdatesRule):
            proactive = rule.every
            notes.append(Note(rule.explanation, rule.clause))

    row = _target_row(plan_spec.targets, facts) if covered else None
    if covered and row is None:
        covered = False
        what = spec.label
        if facts.priority and spec.has_priority:
            what += f" at {pack.priorities[facts.priority].label}"
        notes.append(
            Note(f"The {plan_spec.label} plan sets no service level for a {what}.",
                 plan_spec.clause)
        )
    if row is not None:
        notes.append(Note(f"Targets from: {row.clause}.", row.clause))
        if row.note:
            notes.append(Note(row.note, row.clause))
    return Assessment(
        plan=plan_name,
        case_type=facts.case_type,
        covered=covered,
        priority=facts.priority,
        requested_priority=requested,
        target=row,
        calendar=(row.calendar or plan_spec.calendar) if row else plan_spec.calendar,
        notes=tuple(notes),
        alternative_case_type=alternative,
        proactive_updates=proactive,
    )


def _target_row(rows: Sequence[TargetRow], facts: CaseFacts) -> TargetRow | None:
    for row in rows:
        if row.case_type != facts.case_type:
            continue
        if row.priority is not None and row.priority != facts.priority:
            continue
        if row.environments is not None and facts.environment not in row.environments:
            continue
        return row
    return None


# ---- the fold


def sla_status(
    pack: Pack,
    subscription: Subscription,
    events: Sequence[CaseEvent],
    now: datetime,
    display_tz: ZoneInfo | None = None,
    fractions: Sequence[float] = (),
    explain: bool = True,
) -> SlaStatus:
    """Every clock of a case at `now`, folded from its history (events in any order).

    With `fractions` (e.g. 0.5, 0.75, 0.9), each running clock also says when that share
    of its target is used up — in coverage time, so a reminder never falls outside it.
    `explain=False` leaves the clocks' explanations empty (reports over many cases)."""
    require_aware(now, "now")
    history = sorted(events, key=lambda e: e.at)
    for event in history:
        require_aware(event.at, f"event {event.kind!r} at")
    opened = next((e for e in history if e.kind == "opened"), None)
    if opened is None or opened.facts is None:
        raise CaseFactsError("a case's history must start with an `opened` event and its facts")
    facts = opened.facts
    for event in history:
        if event.kind == "reclassified" and event.at <= now:
            facts = replace(
                facts,
                case_type=event.case_type or facts.case_type,
                priority=event.priority or facts.priority,
            )
    assessment = assess(pack, subscription.plan, facts)
    plan_spec = pack.plans[assessment.plan]
    calendar = pack.calendar(
        assessment.calendar or plan_spec.calendar, subscription.timezone,
        subscription.holiday_country,
    )
    tz = display_tz or (
        ZoneInfo(subscription.timezone) if subscription.timezone else calendar.tz
    )
    past = [e for e in history if e.at <= now]
    suspended = _currently_in(past, "sla_suspended", "sla_reinstated")
    clocks: dict[str, ClockStatus] = {}
    if assessment.covered and assessment.target is not None:
        for name, spec in pack.clocks.items():
            target = assessment.target.clock(name)
            if target is None:
                continue
            clocks[name] = _clock(
                name, spec.label, spec.starts, spec.stops,
                spec.paused_while_waiting_on_customer, target, past, now, calendar, tz, opened.at,
                fractions, explain,
            )
    every, next_update = _status_updates(assessment, past, now, calendar)
    return SlaStatus(
        assessment=assessment,
        clocks=clocks,
        status_update_every=every,
        next_status_update=next_update,
        suspended=suspended,
        notes=assessment.notes,
    )


def _currently_in(events: Sequence[CaseEvent], enter: str, leave: str) -> bool:
    inside = False
    for event in events:
        if event.kind == enter:
            inside = True
        elif event.kind == leave:
            inside = False
    return inside


def _clock(
    name: str,
    label: str,
    starts: str,
    stops: str,
    pausable: bool,
    target: TargetTime,
    events: Sequence[CaseEvent],
    now: datetime,
    calendar: BusinessCalendar,
    tz: ZoneInfo,
    reported_at: datetime,
    fractions: Sequence[float] = (),
    explain: bool = True,
) -> ClockStatus:
    def status(state: ClockState, **kw: object) -> ClockStatus:
        base: dict[str, object] = {
            "name": name, "label": label, "target": target, "state": state,
            "started_at": None, "due": None, "stopped_at": None, "remaining": None,
            "explanation": "",
        }
        base.update(kw)
        return ClockStatus(**base)  # type: ignore[arg-type]

    if starts == "reported":
        start: datetime | None = reported_at
    else:
        start = next((e.at for e in events if e.kind == "acknowledged"), None)
    if start is None:
        return status("not_started", explanation=f"The {label.lower()} clock starts when an "
                      "engineer acknowledges the case.")
    duration = target.duration_on(calendar)
    if duration is None:
        return status("best_effort", started_at=start,
                      explanation=f"{label}: best effort, no fixed target.")

    # Walk the history from the start: running segments, pauses and the stop.
    stop_kinds = {stops} | ({"resolved"} if stops == "workaround_provided" else set())
    segments: list[tuple[datetime, datetime | None]] = []
    running_since: datetime | None = start
    paused_by: set[str] = set()
    stopped_at: datetime | None = None
    for event in events:
        if event.at < start:
            continue
        kind = event.kind
        if kind in stop_kinds and stopped_at is None:
            stopped_at = event.at
        elif kind == "reopened" and stopped_at is not None and stops == "resolved":
            stopped_at = None
            paused_by.discard("resolved")
        reason = {
            "waiting_on_customer": "waiting" if pausable else None,
            "sla_suspended": "suspended",
        }.get(kind)
        if reason:
            paused_by.add(reason)
        elif kind == "customer_responded":
            paused_by.discard("waiting")
        elif kind == "sla_reinstated":
            paused_by.discard("suspended")
        should_run = stopped_at is None and not paused_by
        if running_since is not None and not should_run:
            segments.append((running_since, event.at))
            running_since = None
        elif running_since is None and should_run:
            running_since = event.at
    if running_since is not None:
        segments.append((running_since, None))

    # The due: where the target runs out along the running segments (for a clock that stopped
    # early, where it would have run out had the last segment gone on).
    due = _when_used(segments, calendar, duration)
    if paused_by and stopped_at is None and segments:
        paused_at = segments[-1][1]
        if due is None or paused_at is None or due > paused_at:
            due = None  # not run out before the pause: no due until the clock runs again
    used = sum(
        (calendar.business_time_between(s, e if e is not None else now)
         for s, e in segments if s <= now),
        timedelta(0),
    )
    first_start = segments[0][0] if segments else start
    explanation = _explain(label, target, duration, first_start, calendar, tz, due,
                           segments) if explain else ""
    if stopped_at is not None:
        # Judged against the due instant the customer was told, not business time alone:
        # acknowledging at Monday's opening misses a Friday 17:00 due.
        state: ClockState = "met" if due is not None and stopped_at <= due else "breached"
        return status(state, started_at=start, due=due, stopped_at=stopped_at,
                      remaining=duration - used, explanation=explanation)
    if paused_by and due is None:
        why = "the SLA is suspended" if "suspended" in paused_by else "waiting on the customer"
        return status("suspended" if "suspended" in paused_by else "paused", started_at=start,
                      remaining=duration - used,
                      explanation=f"{label} clock paused ({why}) with "
                      f"{format_duration(duration - used)} of {target.text} left.")
    assert due is not None
    if now >= due:
        late = calendar.business_time_between(due, now)
        return status("breached", started_at=start, due=due, remaining=-late,
                      explanation=explanation)
    thresholds = tuple((f, at) for f in fractions
                       if 0 < f < 1 and (at := _when_used(segments, calendar, duration * f))
                       is not None)
    return status("running", started_at=start, due=due,
                  remaining=calendar.business_time_between(now, due), explanation=explanation,
                  thresholds=thresholds)


def _when_used(
    segments: Sequence[tuple[datetime, datetime | None]], calendar: BusinessCalendar,
    amount: timedelta,
) -> datetime | None:
    """Where `amount` of business time runs out along the running segments (for a clock that
    stopped early, where it would have run out had the last segment gone on)."""
    consumed = timedelta(0)
    for seg_start, seg_end in segments:
        left = amount - consumed
        piece = None if seg_end is None else calendar.business_time_between(seg_start, seg_end)
        if piece is None or piece >= left or (seg_start, seg_end) == segments[-1]:
            return calendar.add_business_time(seg_start, left)
        consumed += piece
    return None


def _table_cadence(assessment: Assessment, calendar: BusinessCalendar) -> timedelta | None:
    """The status-update cadence the policy's table (or a proactive-updates rule) sets."""
    cadences = [
        t.duration_on(calendar)
        for t in (assessment.target.status_update if assessment.target else None,
                  assessment.proactive_updates)
        if t is not None
    ]
    return min((c for c in cadences if c is not None), default=None)


@dataclass(slots=True)
class _UpdateCadence:
    """The status-update rule as a fold: apply a case's events in order; `every` and `due`
    say the cadence and the next update due after the events applied so far."""

    table: timedelta | None
    agreed: timedelta | None = None
    anchor: datetime | None = None
    resolved: bool = False
    closed: bool = False

    def apply(self, event: CaseEvent) -> None:
        kind = event.kind
        if kind == "acknowledged":
            if self.anchor is None:
                self.anchor = event.at
        elif kind == "status_update":
            if self.anchor is not None and event.at > self.anchor:
                self.anchor = event.at
        elif kind == "status_cadence_agreed":
            self.agreed = event.every
        elif kind == "resolved":
            self.resolved = True
        elif kind == "reopened":
            self.resolved = False
        elif kind == "closed":
            self.closed = True

    @property
    def every(self) -> timedelta | None:
        # Konneqt: the war team's response plan sets the status-update frequency and the
        # support team works under its direction; the table's frequency is the customer's
        # entitlement, so an agreed cadence can make updates more frequent, never less.
        # The latest agreement counts; one without a duration (a business-day cadence)
        # brings back the table's.
        every, latest = self.table, self.agreed
        if latest is not None and latest > timedelta(0):
            every = latest if every is None else min(every, latest)
        return every

    def due(self, calendar: BusinessCalendar) -> datetime | None:
        every = self.every
        if every is None or self.resolved or self.closed or self.anchor is None:
            return None
        return calendar.add_business_time(self.anchor, every)


def _status_updates(
    assessment: Assessment, events: Sequence[CaseEvent], now: datetime,
    calendar: BusinessCalendar,
) -> tuple[timedelta | None, datetime | None]:
    cadence = _UpdateCadence(_table_cadence(assessment, calendar))
    for event in events:
        cadence.apply(event)
    if cadence.every is None:
        return None, None
    return cadence.every, cadence.due(calendar)


@dataclass(frozen=True, slots=True)
class UpdateDue:
    """One status update the policy's cadence made due, and the update that answered it
    (`given_at`), or none: then `until` is when the case stopped owing it (resolved) or
    `now`."""

    due: datetime
    given_at: datetime | None
    until: datetime

    @property
    def met(self) -> bool:
        return self.given_at is not None and self.given_at <= self.due


def status_update_dues(
    pack: Pack, subscription: Subscription, status: SlaStatus, events: Sequence[CaseEvent],
    now: datetime,
) -> tuple[UpdateDue, ...]:
    """The status updates a case's cadence made due up to `now`, by the anchor rule of
    `sla_status`'s next update: at each update posted, the due in force just before it
    (met when the update came by then); at each resolution and at `now`, a due in force
    that had passed without an update (missed). A long silence is one miss."""
    assessment = status.assessment
    if status.status_update_every is None:
        return ()
    calendar = pack.calendar(assessment.calendar or pack.plans[assessment.plan].calendar,
                             subscription.timezone, subscription.holiday_country)
    history = sorted((e for e in events if e.at <= now), key=lambda e: e.at)
    out: list[UpdateDue] = []
    cadence = _UpdateCadence(_table_cadence(assessment, calendar))
    for event in history:
        if event.kind in {"status_update", "resolved", "closed"}:
            due = cadence.due(calendar)  # the due in force just before this event
            if due is not None and event.kind == "status_update":
                out.append(UpdateDue(due, event.at, event.at))
            elif due is not None and due <= event.at:
                out.append(UpdateDue(due, None, event.at))
        cadence.apply(event)
    due = cadence.due(calendar)
    if due is not None and due <= now:
        out.append(UpdateDue(due, None, now))
    return tuple(out)


# ---- explanations


def format_duration(value: timedelta) -> str:
    """'30 min', '1 h', '2 h 15 min', '-45 min'."""
    total = round(value.total_seconds() / 60)
    sign = "-" if total < 0 else ""
    total = abs(total)
    hours, minutes = divmod(total, 60)
    if hours and minutes:
        return f"{sign}{hours} h {minutes} min"
    if hours:
        return f"{sign}{hours} h"
    return f"{sign}{minutes} min"


def format_instant(instant: datetime, tz: ZoneInfo, with_date: bool = True) -> str:
    local = instant.astimezone(tz)
    zone = local.tzname() or tz.key
    if with_date:
        return f"{local:%a} {local.day} {local:%b} {local:%H:%M} {zone}"
    return f"{local:%H:%M} {zone}"


def _day(instant: datetime, tz: ZoneInfo) -> str:
    local = instant.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b}"


def _explain(
    label: str,
    target: TargetTime,
    duration: timedelta,
    start: datetime,
    calendar: BusinessCalendar,
    tz: ZoneInfo,
    due: datetime | None,
    segments: Sequence[tuple[datetime, datetime | None]],
) -> str:
    """"opened Fri 20 Nov 16:30 EST; 30 min left Fri 20 Nov; Mon 23 Nov 08:00 + 30 min → …"."""
    head = f"{label} target {target.text} ({format_duration(duration)} of coverage, "
    head += f"{calendar.describe()}): starts {format_instant(start, tz)}"
    if due is None:
        return head + "."
    if len(segments) > 1:
        return head + f"; paused {len(segments) - 1}×; due {format_instant(due, tz)}."
    opening = calendar.next_opening(start)
    parts = [head]
    if opening != start:
        parts.append(f"outside coverage, counting from {format_instant(opening, tz)}")
    pieces = calendar.business_windows(opening, due)
    if calendar.always_open or len(pieces) <= 1:
        parts.append(f"{format_instant(opening, tz)} + {format_duration(duration)} → "
                     f"{format_instant(due, tz)}")
    else:
        first_s, first_e = pieces[0]
        last_s, last_e = pieces[-1]
        parts.append(f"{format_duration(first_e - first_s)} left {_day(first_s, tz)}")
        middle = pieces[1:-1]
        if middle:
            total = sum((e - s for s, e in middle), timedelta(0))
            days = sorted({_day(s, tz) for s, _ in middle}, key=lambda d: d)
            span = (f"{_day(middle[0][0], tz)}" if len(days) == 1
                    else f"{_day(middle[0][0], tz)}–{_day(middle[-1][0], tz)}")
            parts.append(f"{format_duration(total)} over {len(days)} full business "
                         f"day{'s' if len(days) != 1 else ''} {span}")
        closed = calendar.closed_days_between(first_s, last_s)
        if closed:
            parts.append("closed " + ", ".join(f"{d:%a} {d.day} {d:%b}" for d in closed))
        parts.append(f"{format_instant(last_s, tz)} + {format_duration(last_e - last_s)} → "
                     f"{format_instant(last_e, tz)}")
    return "; ".join(parts) + "."
