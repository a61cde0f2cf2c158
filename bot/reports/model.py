"""What an SLA report holds: plain dataclasses, filled by bot.reports.compute and rendered by
adapters/report_render (HTML with charts, PDF, CSV, JSON) and by the chat (a summary)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.errors import ReportError
from policy.availability import AvailabilityResult

CLOCK_ORDER = ("response", "workaround", "resolution", "status_update")
STATUS_UPDATES = "status_update"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) in one zone: a calendar month, or the days from `first` to `last`."""

    start: datetime
    end: datetime
    key: str  # "2026-11", or "2026-11-03..2026-11-20"
    label: str  # "November 2026"

    @classmethod
    def month(cls, text: str, tz: ZoneInfo) -> Period:
        match = _MONTH.match(text.strip())
        if not match or not 1 <= int(match[2]) <= 12:
            raise ReportError(f"{text!r} is not a month: write it as YYYY-MM, e.g. 2026-11")
        year, month = int(match[1]), int(match[2])
        start = datetime(year, month, 1, tzinfo=tz)
        end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
        return cls(start, end, f"{year:04d}-{month:02d}", f"{start:%B} {year}")

    @classmethod
    def days(cls, first: date, last: date, tz: ZoneInfo) -> Period:
        if last < first:
            raise ReportError(f"--to {last} is before --from {first}")
        start = datetime(first.year, first.month, first.day, tzinfo=tz)
        after = last + timedelta(days=1)
        end = datetime(after.year, after.month, after.day, tzinfo=tz)
        return cls(start, end, f"{first}..{last}", f"{first:%-d %b %Y} – {last:%-d %b %Y}")

    def months_before(self, count: int) -> list[Period]:
        """The `count` calendar months up to and including the one this period starts in,
        oldest first (the trend)."""
        tz = self.start.tzinfo
        assert isinstance(tz, ZoneInfo)
        year, month = self.start.year, self.start.month
        out = []
        for _ in range(count):
            out.append(Period.month(f"{year:04d}-{month:02d}", tz))
            month -= 1
            if month == 0:
                year, month = year - 1, 12
        return out[::-1]

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


@dataclass(slots=True)
class Tally:
    met: int = 0
    breached: int = 0

    @property
    def total(self) -> int:
        return self.met + self.breached

    @property
    def percent(self) -> float | None:
        return 100.0 * self.met / self.total if self.total else None

    def add(self, met: bool) -> None:
        if met:
            self.met += 1
        else:
            self.breached += 1


@dataclass(frozen=True, slots=True)
class Pause:
    kind: str  # "waiting on the customer", "SLA suspended"
    start: datetime
    end: datetime | None
    reason: str
    business: timedelta  # coverage time it held the clock


@dataclass(frozen=True, slots=True)
class Escalation:
    at: datetime
    level: str
    by: str
    reason: str


@dataclass(frozen=True, slots=True)
class Breach:
    case_id: str
    title: str
    clock: str  # the clock's name: response, workaround, resolution, status_update
    clock_label: str
    priority: str  # label
    target: str  # "4 hours"
    clause: str
    due: datetime
    actual: datetime | None  # when it stopped (None: not by the end of the period)
    late: timedelta  # business time past the due (to the stop, or the period's end)
    pauses: tuple[Pause, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    until: datetime | None = None  # a missed status update: when the case stopped owing it


@dataclass(frozen=True, slots=True)
class TimeStats:
    count: int
    median: timedelta | None
    p90: timedelta | None
    values_minutes: tuple[float, ...] = ()  # for the distribution chart


@dataclass(frozen=True, slots=True)
class ConsultingItem:
    case_id: str
    title: str
    opened: datetime
    outcome: str  # "approved, open" / "resolved" / "closed" …
    approved_by: str | None
    billable: bool


@dataclass(frozen=True, slots=True)
class Score:
    case_id: str
    score: int
    comment: str
    at: datetime
    by: str


@dataclass(frozen=True, slots=True)
class DeploymentAvailability:
    deployment: str
    result: AvailabilityResult | None  # None: nothing promised (see `note`)
    note: str = ""


@dataclass(slots=True)
class CustomerReport:
    customer_id: str
    customer_name: str
    pack: str
    pack_name: str
    policy_version: str
    plan: str
    period: Period
    as_of: datetime
    tz: ZoneInfo
    clock_labels: dict[str, str] = field(default_factory=dict)
    # clock → priority label → tally; "" is the clock's total
    attainment: dict[str, dict[str, Tally]] = field(default_factory=dict)
    priority_order: list[str] = field(default_factory=list)
    breaches: list[Breach] = field(default_factory=list)
    times: dict[str, TimeStats] = field(default_factory=dict)
    trend: list[tuple[Period, dict[str, Tally]]] = field(default_factory=list)
    cases_opened: int = 0
    cases_resolved: int = 0
    open_at_end: int = 0
    running_at_end: int = 0  # clocks still running when the period ended
    paused_clocks: int = 0  # decided clocks that were paused at least once
    query_minutes: int = 0  # logged in the period
    query_minutes_term: int = 0  # logged up to the period's end (all of the subscription)
    query_allowance_hours: int | None = None
    consulting: list[ConsultingItem] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)
    surveys_asked: int = 0
    availability: list[DeploymentAvailability] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def total(self, clock: str) -> Tally:
        return self.attainment.get(clock, {}).get("", Tally())

    @property
    def score_average(self) -> float | None:
        return sum(s.score for s in self.scores) / len(self.scores) if self.scores else None

    def score_counts(self) -> dict[int, int]:
        counts = dict.fromkeys(range(1, 6), 0)
        for s in self.scores:
            counts[s.score] += 1
        return counts


@dataclass(slots=True)
class VendorSummary:
    """The vendor's admins' view: one row per customer for the same month."""

    period_key: str
    label: str
    as_of: datetime
    reports: list[CustomerReport] = field(default_factory=list)
