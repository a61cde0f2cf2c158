"""Reports from the store: one pass over the case histories (in batches) feeds a builder per
customer, with the service windows and probe results the availability section needs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.deployment import Directory
from bot.errors import ReportError
from bot.evidence_records import ProbeResult
from bot.reports.compute import TREND_MONTHS, ReportBuilder, first_case_instant
from bot.reports.model import CustomerReport, Period, VendorSummary
from bot.store.base import Store


def customer_id_for(directory: Directory, name: str) -> str:
    """A customer named as people do: its id (`acme`), case prefix (`ACME`) or name."""
    key = name.strip().lower()
    for cid, customer in directory.deployment.customers.items():
        if key in {cid, customer.short.lower(), customer.name.lower()}:
            return cid
    known = ", ".join(f"{c.short} ({cid})" for cid, c in directory.deployment.customers.items())
    raise ReportError(f"no customer {name!r}; customers: {known}")


def period_for(directory: Directory, customer_id: str, month: str | None = None,
               first: datetime | None = None, last: datetime | None = None,
               now: datetime | None = None) -> Period:
    """The report's period in the customer's zone: a month (`2026-11`), the days from
    `first` to `last`, or (neither) the month before `now`'s."""
    tz = directory.customer(customer_id).tz
    if month:
        return Period.month(month, tz)
    if first is not None and last is not None:
        return Period.days(first.date(), last.date(), tz)
    if now is None:
        raise ReportError("give a month (YYYY-MM) or a first and a last day")
    local = now.astimezone(tz)
    year, mon = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return Period.month(f"{year:04d}-{mon:02d}", tz)


async def build_reports(store: Store, directory: Directory, periods: dict[str, Period],
                        now: datetime, trend_months: int = TREND_MONTHS,
                        ) -> list[CustomerReport]:
    """The reports of these customers (id → period), as of `now` (clocks are folded at the
    end of the period, or now if it hasn't ended)."""
    if not periods:
        return []
    ids = list(periods)
    windows = await store.service_windows(ids)
    builders: dict[str, ReportBuilder] = {}
    since = min(first_case_instant(p, trend_months) for p in periods.values())
    for cid, period in periods.items():
        customer = directory.customer(cid)
        probes: dict[str, Sequence[ProbeResult]] = {}
        for deployment in customer.deployments:
            if deployment.probe is not None:
                key = f"{cid}/{deployment.name}"
                probes[key] = await store.probe_results(key, period.start, period.end)
        builders[cid] = ReportBuilder(directory, cid, period, min(now, period.end),
                                      trend_months, windows, probes)
    async for batch in store.case_histories(ids, since):
        for case, events in batch:
            builder = builders.get(case.customer_id)
            if builder is not None:
                builder.add(case, events)
    return [builders[cid].finish() for cid in ids]


async def customer_report(store: Store, directory: Directory, customer_id: str,
                          period: Period, now: datetime) -> CustomerReport:
    return (await build_reports(store, directory, {customer_id: period}, now))[0]


async def vendor_summary(store: Store, directory: Directory, month: str,
                         now: datetime) -> VendorSummary:
    """Every customer's report for the same month (each in its own zone)."""
    periods = {cid: Period.month(month, c.tz) for cid, c in directory.deployment.customers.items()}
    reports = await build_reports(store, directory, periods, now)
    label = next(iter(periods.values())).label if periods else month
    return VendorSummary(month, label, now, reports)
