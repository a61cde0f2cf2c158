"""The monthly report reaches people where they work: on the first business day of each month
(on the customer's own plan calendar, in its zone) each customer's admins get the report of
the month before as a bulletin (Slack: the PDF uploaded to each admin; Teams: a card with a
link; the web chat: its feed), and on the vendor's first weekday the vendor's admins get the
summary across customers. Once per customer and month, whichever process gets there first;
never for a month that ended before Frontdoor held its first case (nothing to report)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.bulletins import VENDOR_ADMINS, admins_audience, publish
from bot.deployment import Directory
from bot.evidence_records import BulletinRecord
from bot.reports.collect import build_reports, period_for, vendor_summary
from bot.reports.model import Period
from bot.reports.summary import report_text, summary_text
from bot.store.base import Store

log = logging.getLogger(__name__)


def report_path(customer_id: str, period_key: str, fmt: str = "html") -> str:
    """Where this server serves a report (adapters make it an absolute, signed link)."""
    return f"/reports/{customer_id}/{period_key}.{fmt}"


def first_business_instant(directory: Directory, customer_id: str, now: datetime) -> datetime:
    """When the first business day of `now`'s month opens for this customer."""
    customer = directory.customer(customer_id)
    pack = directory.pack_of(customer_id)
    _, plan = pack.plan(customer.plan)
    calendar = pack.calendar(plan.calendar, customer.timezone, customer.holiday_country)
    local = now.astimezone(customer.tz)
    return calendar.next_opening(local.replace(day=1, hour=0, minute=0, second=0,
                                               microsecond=0))


def _vendor_first_weekday(tz: ZoneInfo, now: datetime) -> datetime:
    day = now.astimezone(tz).replace(day=1, hour=9, minute=0, second=0, microsecond=0)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


async def monthly_due(store: Store, directory: Directory, now: datetime) -> int:
    """Publish the reports and the summary whose day has come (none twice)."""
    published = 0
    due: dict[str, Period] = {}
    for cid in directory.deployment.customers:
        if now < first_business_instant(directory, cid, now):
            continue
        period = period_for(directory, cid, now=now)
        if not await _published(store, admins_audience(cid), f"report:{cid}:{period.key}",
                                period.end):
            due[cid] = period
    vendor_tz = ZoneInfo(directory.deployment.vendor.timezone)
    last = Period.month(f"{now.astimezone(vendor_tz):%Y-%m}", vendor_tz).months_before(2)[0]
    summary_due = now >= _vendor_first_weekday(vendor_tz, now) and bool(
        directory.deployment.customers) and not await _published(
        store, VENDOR_ADMINS, f"summary:{last.key}", last.end)
    if not due and not summary_due:
        return 0
    first = await store.first_case_at()
    # a month that ended before Frontdoor held its first case has nothing to report
    due = {cid: p for cid, p in due.items() if first is not None and first < p.end}
    if due:
        for report in await build_reports(store, directory, due, now):
            key = report.period.key
            link = report_path(report.customer_id, key)
            published += await publish(store, BulletinRecord(
                id=f"report:{report.customer_id}:{key}",
                audience=admins_audience(report.customer_id), at=now, kind="report",
                text=report_text(report), link=link,
                data={"customer_id": report.customer_id, "period": key}))
    if summary_due and first is not None and first < last.end:
        summary = await vendor_summary(store, directory, last.key, now)
        published += await publish(store, BulletinRecord(
            id=f"summary:{last.key}", audience=VENDOR_ADMINS, at=now, kind="report_summary",
            text=summary_text(summary), link=f"/reports/all/{last.key}.html",
            data={"period": last.key}))
    if published:
        log.info("monthly reports published", extra={"count": published})
    return published


async def _published(store: Store, audience: str, bulletin_id: str, since: datetime) -> bool:
    return any(b.id == bulletin_id for b in await store.bulletins([audience],
                                                                  since - timedelta(days=1)))
