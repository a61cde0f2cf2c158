"""How a report's values read, the same in HTML, PDF and CSV."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.reports.model import Breach, CustomerReport, Tally
from policy.availability import AvailabilityResult


def at(instant: datetime | None, tz: ZoneInfo) -> str:
    """'Tue 3 Nov 09:40 CET' in the customer's zone (the report's title has the year)."""
    if instant is None:
        return "—"
    local = instant.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %H:%M} {local.tzname()}"


def actual(breach: Breach, tz: ZoneInfo) -> str:
    """When the missed clock stopped, or why it has no such instant."""
    if breach.actual is not None:
        return at(breach.actual, tz)
    if breach.until is not None:
        return f"no update before {at(breach.until, tz)}"
    return "not by the end of the period"


def span(value: timedelta | None) -> str:
    """'2 h 05 min', '45 min', '3 d 4 h' (business time)."""
    if value is None:
        return "—"
    minutes = round(value.total_seconds() / 60)
    sign = "-" if minutes < 0 else ""
    minutes = abs(minutes)
    hours, mins = divmod(minutes, 60)
    if hours >= 48:
        days, hours = divmod(hours, 24)
        return f"{sign}{days} d {hours} h"
    return f"{sign}{hours} h {mins:02d} min" if hours else f"{sign}{mins} min"


def percent(tally: Tally | None) -> str:
    if tally is None or tally.percent is None:
        return "—"
    return f"{tally.percent:.1f} %"


def availability_figure(result: AvailabilityResult | None) -> str:
    if result is None or result.percent is None:
        return "—"
    return f"{result.percent:.3f} %"


def availability_verdict(result: AvailabilityResult | None) -> str:
    if result is None:
        return "not promised"
    if result.met is None:
        return "no target" if result.percent is not None else "nothing counted"
    return "met" if result.met else "missed"


def title(report: CustomerReport) -> str:
    return f"SLA report — {report.customer_name} — {report.period.label}"


def subtitle(report: CustomerReport) -> str:
    return (f"{report.pack_name} (pack {report.pack}, version {report.policy_version}), "
            f"{report.plan} plan · times in {report.tz.key} · as of "
            f"{at(report.as_of, report.tz)}")
