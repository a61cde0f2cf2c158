"""A case's SLA clocks as people read them: the policy's fold over the stored history,
rendered in the reader's time zone."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.deployment import Customer
from bot.messages import ClockLine, NextDue
from bot.records import CaseEventRecord, CaseRecord
from policy.calendar import BusinessCalendar
from policy.pack import Pack
from policy.sla import CaseEvent, CaseFacts, SlaStatus, Subscription, format_duration, sla_status

# The history kinds the SLA clock understands; the rest (assigned, comment …) are ours.
_CLOCK_KINDS = {
    "opened", "acknowledged", "waiting_on_customer", "customer_responded",
    "workaround_provided", "resolved", "reopened", "closed", "reclassified", "status_update",
    "sla_suspended", "sla_reinstated", "response_plan",
}


def subscription_of(customer: Customer) -> Subscription:
    return Subscription(customer.plan, customer.timezone, customer.holiday_country)


def clock_events(case: CaseRecord, events: Iterable[CaseEventRecord]) -> list[CaseEvent]:
    """The stored history as the policy's clock events."""
    out: list[CaseEvent] = []
    for e in events:
        if e.kind not in _CLOCK_KINDS:
            continue
        if e.kind == "opened":
            data = e.data
            facts = CaseFacts(
                case_type=str(data.get("case_type", case.case_type)),
                priority=data.get("priority", case.priority),
                environment=data.get("environment", case.environment),
                managed=bool(data.get("managed", case.managed)),
                hypercare=bool(data.get("hypercare", case.hypercare)),
            )
            out.append(CaseEvent("opened", e.at, facts=facts))
        elif e.kind == "reclassified":
            out.append(CaseEvent("reclassified", e.at, case_type=e.data.get("case_type"),
                                 priority=e.data.get("priority")))
        elif e.kind == "response_plan":  # only its status-update cadence moves a clock
            minutes = e.data.get("cadence_minutes")
            if isinstance(minutes, int):
                out.append(CaseEvent("status_cadence_agreed", e.at,
                                     every=timedelta(minutes=minutes) if minutes > 0 else None))
        else:
            out.append(CaseEvent(e.kind, e.at))  # type: ignore[arg-type]
    return out


def case_status(
    pack: Pack, customer: Customer, case: CaseRecord, events: Sequence[CaseEventRecord],
    now: datetime, tz: ZoneInfo | None = None,
) -> SlaStatus | None:
    """None for cases without a support SLA (consulting requests). `tz`: the reader's zone,
    in which the explanations give their times (default: the customer's)."""
    if case.details.get("kind") == "consulting-request":
        return None
    return sla_status(pack, subscription_of(customer), clock_events(case, events), now,
                      display_tz=tz)


def coverage(pack: Pack, customer: Customer, status: SlaStatus) -> BusinessCalendar:
    """The coverage calendar the status was counted in (the one `sla_status` picks)."""
    assessment = status.assessment
    name = assessment.calendar or pack.plans[assessment.plan].calendar
    return pack.calendar(name, customer.timezone, customer.holiday_country)


def when(instant: datetime, tz: ZoneInfo) -> str:
    """'Mon 23 Nov 08:30 EST' in the reader's zone."""
    local = instant.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b} {local:%H:%M} {local.tzname()}"


def business_left(remaining: timedelta) -> str:
    """'30 business min left', '2 business h 15 min left', '45 business min over'."""
    left = remaining.total_seconds() >= 0
    words = format_duration(remaining if left else -remaining)
    number, _, unit = words.partition(" ")
    return f"{number} business {unit} {'left' if left else 'over'}"


_STATE_WORDS = {
    "not_started": "starts at acknowledgement",
    "running": "running",
    "paused": "paused — waiting for the customer",
    "suspended": "SLA suspended",
    "met": "met",
    "breached": "missed",
    "best_effort": "best effort",
}
OUTSIDE_COVERAGE = "paused — outside coverage until "
DUE_SOON_SHARE = 0.25  # a running clock with less than this share of its target left stands out


def clock_lines(status: SlaStatus | None, tz: ZoneInfo, now: datetime | None = None,
                calendar: BusinessCalendar | None = None) -> tuple[ClockLine, ...]:
    """The clocks as the reader reads them. With `now` and the coverage `calendar`, a running
    clock outside coverage says it is paused until the next opening, and one with under a
    quarter of its target left is marked due soon."""
    if status is None:
        return ()
    lines = []
    for clock in status.clocks.values():
        remaining = None
        if clock.remaining is not None and clock.state in {"running", "paused", "breached"}:
            remaining = business_left(clock.remaining)
        state = _STATE_WORDS.get(clock.state, clock.state)
        due_soon = False
        if clock.state == "running" and now is not None and calendar is not None:
            if not calendar.is_open(now):
                opening = calendar.next_opening(now)
                state = f"{OUTSIDE_COVERAGE}{when(opening, tz)}"
            duration = clock.target.duration_on(calendar) if clock.target else None
            if duration and clock.remaining is not None:
                due_soon = clock.remaining < duration * DUE_SOON_SHARE
        lines.append(ClockLine(
            label=clock.label,
            state=state,
            due=when(clock.due, tz) if clock.due else None,
            remaining=remaining,
            explanation=clock.explanation,
            urgency="breached" if clock.state == "breached" and clock.stopped_at is None
            else "due_soon" if due_soon else "",
        ))
    return tuple(lines)


def clock_words(line: ClockLine) -> str:
    """A clock after its label: 'due Mon 7 Dec 14:00 EST (paused — outside coverage until
    Mon 7 Dec 08:00 EST), 6 business h left' (every platform's text says the same)."""
    text = ""
    if line.due:
        text += f"due {line.due}"
        if line.state not in {"running"}:
            text += f" ({line.state})"
    else:
        text += line.state
    if line.remaining:
        text += f", {line.remaining}"
    return text


def clock_text(lines: Iterable[ClockLine]) -> list[str]:
    return [f"• {line.label}: {clock_words(line)}" for line in lines]


def ago(elapsed: timedelta) -> str:
    """Wall-clock time since something, as people say it: 'just now', '25 min ago',
    '10 h ago', '3 days ago'."""
    minutes = max(0, int(elapsed.total_seconds() // 60))
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // (24 * 60)} days ago"


def next_due(status: SlaStatus | None, lines: Sequence[ClockLine], now: datetime,
             asked: str = "the customer") -> NextDue | None:
    """The one due the reader looks at first: a missed target still open (the longest
    missed), else the running clock due first, else a clock paused while the customer is
    asked (`asked`: "you" when the customer reads it), else what became of them ("every
    target met so far"). `lines` are `clock_lines(status, …)`, in the same order. None without
    an SLA or a clock."""
    if status is None:
        return None
    pairs = list(zip(status.clocks.values(), lines, strict=True))
    missed = [(c, line) for c, line in pairs if line.urgency == "breached" and c.due]
    if missed:
        clock, line = min(missed, key=lambda pair: pair[0].due or now)
        assert clock.due is not None
        return NextDue(line.label, f"{line.label} due {line.due} — missed "
                       f"{ago(now - clock.due)}", "breached")
    running = [(c, line) for c, line in pairs if c.state == "running" and c.due]
    if running:
        clock, line = min(running, key=lambda pair: pair[0].due or now)
        text = f"{line.label} due {line.due} — {line.remaining or line.state}"
        if line.state.startswith(OUTSIDE_COVERAGE):  # counting resumes at the next opening
            text += f" from {line.state.removeprefix(OUTSIDE_COVERAGE)}"
        elif line.state != "running":
            text += f" ({line.state})"
        return NextDue(line.label, text, line.urgency)
    waiting = [(c, line) for c, line in pairs if c.state == "paused"]
    if waiting:
        _, line = waiting[0]
        left = f", {line.remaining}" if line.remaining else ""
        answers = "answer" if asked == "you" else "answers"
        return NextDue(line.label, f"{line.label} clock paused until {asked} {answers}{left}")
    if status.suspended:
        return NextDue("SLA", "SLA suspended: no clock runs")
    if not pairs:
        return None
    if all(c.state == "best_effort" for c, _ in pairs):
        return NextDue("", "Best effort: no timed target")
    late = [line.label for c, line in pairs if c.state == "breached"]
    if late:
        return NextDue("", f"Nothing due now — {', '.join(late)} missed")
    return NextDue("", "Nothing due now — every target met so far")
