"""A case's SLA clocks as people read them: the policy's fold over the stored history,
rendered in the reader's time zone."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.deployment import Customer
from bot.messages import ClockLine
from bot.records import CaseEventRecord, CaseRecord
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
    now: datetime,
) -> SlaStatus | None:
    """None for cases without a support SLA (consulting requests)."""
    if case.details.get("kind") == "consulting-request":
        return None
    return sla_status(pack, subscription_of(customer), clock_events(case, events), now)


def when(instant: datetime, tz: ZoneInfo) -> str:
    """'Mon 23 Nov 08:30 EST' in the reader's zone."""
    local = instant.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b} {local:%H:%M} {local.tzname()}"


_STATE_WORDS = {
    "not_started": "starts at acknowledgement",
    "running": "running",
    "paused": "paused — waiting for the customer",
    "suspended": "SLA suspended",
    "met": "met",
    "breached": "missed",
    "best_effort": "best effort",
}


def clock_lines(status: SlaStatus | None, tz: ZoneInfo) -> tuple[ClockLine, ...]:
    if status is None:
        return ()
    lines = []
    for clock in status.clocks.values():
        remaining = None
        if clock.remaining is not None and clock.state in {"running", "paused", "breached"}:
            if clock.remaining.total_seconds() >= 0:
                remaining = f"{format_duration(clock.remaining)} left"
            else:
                remaining = f"{format_duration(-clock.remaining)} over"
        lines.append(ClockLine(
            label=clock.label,
            state=_STATE_WORDS.get(clock.state, clock.state),
            due=when(clock.due, tz) if clock.due else None,
            remaining=remaining,
            explanation=clock.explanation,
        ))
    return tuple(lines)


def clock_text(lines: Iterable[ClockLine]) -> list[str]:
    out = []
    for line in lines:
        text = f"• {line.label}: "
        if line.due:
            text += f"due {line.due}"
            if line.state not in {"running"}:
                text += f" ({line.state})"
        else:
            text += line.state
        if line.remaining:
            text += f", {line.remaining}"
        out.append(text)
    return out
