"""Announced service windows: an engineer or admin announces maintenance for a customer's
deployment (or all of them), the customer is told in their channels in their own time zone,
reminded before it starts and told when it ends; "is any maintenance planned?" gets an answer.

A window announced before it starts is what the dk-saas pack leaves out of availability
("extraordinary service windows … Service Provider will endeavor to provide notice"); one
announced after it started is downtime (policies.md, "Availability and retention, settled").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.bulletins import customer_audience, publish
from bot.deployment import Customer, Directory
from bot.errors import EvidenceError, NotAllowedError
from bot.evidence_records import BulletinKind, BulletinRecord, ServiceWindowRecord
from bot.messages import Person
from bot.store.base import Store

COUNTER = "~maintenance"  # the store's counter for window numbers (MW-1, MW-2 …)
MAX_LENGTH = timedelta(days=7)
_DATE = r"(\d{4}-\d{2}-\d{2})"
_TIME = r"(\d{1,2}:\d{2})"
_RANGE = re.compile(rf"^{_DATE}\s+{_TIME}\s*(?:-|–|to)\s*(?:{_DATE}\s+)?{_TIME}\b\s*(.*)$",
                    re.IGNORECASE | re.DOTALL)
_FOR = re.compile(rf"^{_DATE}\s+{_TIME}\s+for\s+(\d+)\s*(m|min|mins|minutes|h|hr|hrs|hours?)\b"
                  r"\s*(.*)$", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class WindowSettings:
    remind_before: timedelta = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Announcement:
    customer_id: str
    deployment: str | None
    starts_at: datetime
    ends_at: datetime
    reason: str


def find_target(directory: Directory, word: str) -> tuple[str, str | None]:
    """A customer (id, case prefix or name) or one of its deployments, as (customer id,
    deployment or None for all of them)."""
    key = word.strip().lower()
    for cid, customer in directory.deployment.customers.items():
        if key in {cid, customer.short.lower(), customer.name.lower()}:
            return cid, None
        for dep in customer.deployments:
            if key == dep.name.lower():
                return cid, dep.name
    known = "; ".join(f"{c.short}: {', '.join(d.name for d in c.deployments) or '—'}"
                      for c in directory.deployment.customers.values())
    raise EvidenceError(f"No customer or deployment {word!r}. Name a customer or one of its "
                        f"deployments ({known}).")


def parse_announcement(directory: Directory, text: str) -> Announcement:
    """`<customer or deployment> <YYYY-MM-DD> <HH:MM>-<HH:MM> [reason]`, or `… <HH:MM> for
    90m [reason]`, or `… <YYYY-MM-DD HH:MM> to <YYYY-MM-DD HH:MM> [reason]` — times in the
    customer's own zone."""
    target, _, rest = text.strip().partition(" ")
    if not target or not rest:
        raise EvidenceError(_USAGE)
    customer_id, deployment = find_target(directory, target)
    tz = directory.customer(customer_id).tz
    rest = rest.strip()
    if (m := _FOR.match(rest)) is not None:
        starts = _local(m[1], m[2], tz)
        amount = int(m[3])
        ends = starts + (timedelta(hours=amount) if m[4].lower().startswith("h")
                         else timedelta(minutes=amount))
        reason = m[5]
    elif (m := _RANGE.match(rest)) is not None:
        starts = _local(m[1], m[2], tz)
        ends = _local(m[3] or m[1], m[4], tz)
        reason = m[5]
    else:
        raise EvidenceError(_USAGE)
    if ends <= starts:
        raise EvidenceError("A service window must end after it starts.")
    if ends - starts > MAX_LENGTH:
        raise EvidenceError("A service window is at most 7 days long; announce longer "
                            "maintenance as several windows.")
    reason = " ".join(reason.split()).strip(" -—:") or "planned maintenance"
    return Announcement(customer_id, deployment, starts, ends, reason[:300])


_USAGE = ("Say “maintenance <customer or deployment> <YYYY-MM-DD> <HH:MM>-<HH:MM> <reason>” "
          "(or “… <HH:MM> for 90m <reason>”), in the customer's time zone — e.g. "
          "“maintenance nordlys-prod 2026-11-12 14:00-15:00 security patches”.")


def _local(day: str, clock: str, tz: ZoneInfo) -> datetime:
    try:
        hour, minute = map(int, clock.split(":"))
        return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=tz)
    except ValueError:
        raise EvidenceError(f"{day} {clock} is not a date and time. {_USAGE}") from None


def span_words(window: ServiceWindowRecord, tz: ZoneInfo) -> str:
    """'Thu 12 Nov 14:00–15:00 CET' (or with both dates when it spans days)."""
    start, end = window.starts_at.astimezone(tz), window.ends_at.astimezone(tz)
    head = f"{start:%a} {start.day} {start:%b %Y} {start:%H:%M}"
    if start.date() == end.date():
        return f"{head}–{end:%H:%M} {end.tzname()}"
    return f"{head} {start.tzname()} – {end:%a} {end.day} {end:%b} {end:%H:%M} {end.tzname()}"


def _where(window: ServiceWindowRecord, customer: Customer) -> str:
    return window.deployment or f"all of {customer.name}'s deployments"


class ServiceWindows:
    def __init__(self, store: Store, directory: Directory,
                 settings: WindowSettings | None = None) -> None:
        self.store = store
        self.directory = directory
        self.settings = settings or WindowSettings()

    async def announce(self, person: Person, announcement: Announcement,
                       at: datetime) -> tuple[ServiceWindowRecord, str]:
        """Keep the window and tell the customer; returns it and what the announcer reads."""
        if not person.is_vendor:
            raise NotAllowedError("Only the support team's engineers and admins announce "
                                  "maintenance. Ask them if you need a window.")
        number = await self.store.next_case_number(COUNTER)
        window = ServiceWindowRecord(
            id=f"MW-{number}", customer_id=announcement.customer_id,
            deployment=announcement.deployment, starts_at=announcement.starts_at,
            ends_at=announcement.ends_at, reason=announcement.reason, announced_at=at,
            announced_by=person.id, announced_by_name=person.name)
        await self.store.put_service_window(window)
        customer = self.directory.customer(window.customer_id)
        await self._tell(window, "maintenance", at,
                         f"🛠 Planned maintenance {window.id} on {_where(window, customer)}: "
                         f"{span_words(window, customer.tz)} — {window.reason}. We'll remind "
                         f"you before it starts and tell you when it's over.")
        said = (f"Announced {window.id} for {customer.name} ({_where(window, customer)}): "
                f"{span_words(window, customer.tz)} — {window.reason}. The customer was told "
                f"in their channels.")
        if window.starts_at <= at:
            said += (" It had already started when announced, so availability counts it as "
                     "downtime where the policy leaves out only windows announced in advance.")
        return window, said

    async def cancel(self, person: Person, window_id: str, at: datetime) -> str:
        if not person.is_vendor:
            raise NotAllowedError("Only the support team's engineers and admins cancel "
                                  "maintenance.")
        window = next((w for w in await self.store.service_windows()
                       if w.id.lower() == window_id.strip().lower()), None)
        if window is None or not window.active:
            raise EvidenceError(f"No planned window {window_id!r}; say “maintenance?” to list "
                                "them.")
        if window.ends_at <= at:
            raise EvidenceError(f"{window.id} is over; it can't be cancelled.")
        cancelled = window.model_copy(update={"cancelled_at": at, "cancelled_by": person.id})
        await self.store.put_service_window(cancelled)
        customer = self.directory.customer(window.customer_id)
        await self._tell(cancelled, "maintenance_cancelled", at,
                         f"✅ Maintenance {window.id} on {_where(window, customer)} "
                         f"({span_words(window, customer.tz)}) is cancelled.")
        return f"Cancelled {window.id}; {customer.name} was told."

    async def planned(self, person: Person, at: datetime) -> str:
        """The answer to "is any maintenance planned?" for what this person may see."""
        customers = [c for c in self.directory.deployment.customers
                     if person.may_see_customer(c)]
        windows = [w for w in await self.store.service_windows(customers, ending_after=at)
                   if w.active]
        if not windows:
            return "No maintenance is planned."
        lines = []
        for w in windows:
            customer = self.directory.customer(w.customer_id)
            tz = customer.tz if not person.is_vendor else ZoneInfo(
                self.directory.deployment.vendor.timezone)
            now = " (in progress)" if w.starts_at <= at else ""
            lines.append(f"• {w.id} {customer.name}, {_where(w, customer)}: "
                         f"{span_words(w, tz)}{now} — {w.reason}")
        return "Planned maintenance:\n" + "\n".join(lines)

    async def due(self, now: datetime) -> int:
        """Reminders before windows start and word when they end (once each); returns how
        many bulletins were published."""
        published = 0
        for w in await self.store.service_windows(ending_after=now - timedelta(days=1)):
            if not w.active:
                continue
            customer = self.directory.customer(w.customer_id)
            lead = min(self.settings.remind_before, (w.starts_at - w.announced_at) / 2)
            if w.starts_at - lead <= now < w.starts_at and w.announced_at < w.starts_at - lead:
                published += await self._tell(
                    w, "maintenance_reminder", now,
                    f"⏰ Reminder: maintenance {w.id} on {_where(w, customer)} starts "
                    f"{span_words(w, customer.tz)} — {w.reason}.")
            if w.ends_at <= now:
                published += await self._tell(
                    w, "maintenance_ended", now,
                    f"✅ Maintenance {w.id} on {_where(w, customer)} is over "
                    f"({span_words(w, customer.tz)}).")
        return published

    async def _tell(self, window: ServiceWindowRecord, kind: BulletinKind, at: datetime,
                    text: str) -> int:
        added = await publish(self.store, BulletinRecord(
            id=f"{window.id}:{kind}", audience=customer_audience(window.customer_id), at=at,
            kind=kind, text=text, data={"window": window.id, "customer_id": window.customer_id,
                                        "deployment": window.deployment}))
        return 1 if added else 0
