"""Availability as a pack defines it: a pure computation over one period.

policies.md, "Availability and retention, settled": availability is a service commitment, not
support hours. A plan's `AvailabilityPromise` says the target, the hours it counts in (a
calendar of the pack, or the wall clock), whether it is measured at an interval ("every 5
minutes") and what it leaves out (service windows announced before they started). The
evidence of downtime is a probe result at every interval where a probe is configured, else
the impact period of service-down incidents; `availability` takes either, and the service
windows, and says what was counted, what was down, the share, met or missed, and each
outage's and window's part. Nothing here reads the wall clock or the store.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from policy.calendar import BusinessCalendar, require_aware
from policy.errors import CaseFactsError
from policy.pack import AvailabilityPromise

Evidence = Literal["probe", "incidents"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Outage:
    """A span the service was down: from a service-down incident (its reported start, or the
    time the customer gave, to its workaround or resolution) or from failed probes."""

    start: datetime
    end: datetime | None  # None: still down when the period was measured
    ref: str  # the case id, or the probe's deployment
    source: Evidence
    detail: str = ""


@dataclass(frozen=True, slots=True)
class WindowSpan:
    """A service window (planned maintenance) and when it was announced."""

    start: datetime
    end: datetime
    announced_at: datetime
    ref: str
    reason: str = ""

    @property
    def announced_in_advance(self) -> bool:
        """Announced before it started ("will endeavor to provide notice")."""
        return self.announced_at < self.start


@dataclass(frozen=True, slots=True)
class Measurement:
    """One probe result."""

    at: datetime
    up: bool


@dataclass(frozen=True, slots=True)
class OutagePart:
    outage: Outage
    counted: timedelta  # the downtime it adds, in the hours availability counts in


@dataclass(frozen=True, slots=True)
class WindowPart:
    window: WindowSpan
    excluded: bool  # left out of availability (announced in advance, where the pack says so)
    counted: timedelta  # time left out (excluded) or counted as downtime (not excluded)


@dataclass(frozen=True, slots=True)
class AvailabilityResult:
    promise: AvailabilityPromise
    target_percent: float | None
    start: datetime
    end: datetime
    evidence: Evidence
    unit: Literal["measurements", "time"]
    counted: float  # measurements counted, or seconds
    down: float  # measurements down, or seconds
    unmeasured: int  # intervals without a probe result (left out, and said)
    percent: float | None
    met: bool | None
    outages: tuple[OutagePart, ...]
    windows: tuple[WindowPart, ...]
    explanation: str


Span = tuple[float, float]  # epoch seconds, half-open


def availability(
    promise: AvailabilityPromise,
    start: datetime,
    end: datetime,
    calendar: BusinessCalendar | None,
    *,
    outages: Sequence[Outage] = (),
    windows: Sequence[WindowSpan] = (),
    measurements: Sequence[Measurement] | None = None,
    target_percent: float | None = None,
) -> AvailabilityResult:
    """Availability over [start, end) as `promise` defines it. `calendar` is the calendar
    `promise.counted_in` names (None: the wall clock). With `measurements` (a probe is
    configured) they are the evidence; otherwise `outages`. `target_percent` is the
    subscription's own target where the promise leaves it to the subscription."""
    require_aware(start, "start")
    require_aware(end, "end")
    if end <= start:
        raise CaseFactsError(f"the period {start.isoformat()} – {end.isoformat()} is empty")
    target = promise.target_percent if promise.target_percent is not None else target_percent
    lo, hi = start.timestamp(), end.timestamp()
    excluding = "announced-service-windows" in promise.excludes
    left_out = [w for w in windows if excluding and w.announced_in_advance]
    window_down = [w for w in windows if w not in left_out]
    excluded = _merge((w.start.timestamp(), w.end.timestamp()) for w in left_out)
    planned_down = _merge((w.start.timestamp(), w.end.timestamp()) for w in window_down)
    spans = {id(o): _span(o, hi) for o in outages}
    evidence: Evidence = "probe" if measurements is not None else "incidents"
    every = promise.measured_every.minutes * 60 if promise.measured_every else None

    def measure(span_list: list[Span]) -> float:
        return _measure(_minus(_clip(span_list, lo, hi), excluded), calendar)

    if every is not None or measurements is not None:
        unit: Literal["measurements", "time"] = "measurements"
        slots = _slots(lo, hi, every, measurements, calendar, excluded)
        down_at: dict[float, bool] = {}
        unmeasured = 0
        if measurements is not None:
            results = {(_slot_of(m.at.timestamp(), every) if every else m.at.timestamp()): m.up
                       for m in measurements}
            for t in slots:
                up = results.get(t)
                if up is None:
                    unmeasured += 1
                    continue
                down_at[t] = (not up) or _inside(t, planned_down)
        else:
            down_spans = _merge([*spans.values(), *planned_down])
            for t in slots:
                down_at[t] = _inside(t, down_spans)
        counted = float(len(down_at))
        down_slots = sorted(t for t, d in down_at.items() if d)
        down = float(len(down_slots))
        size = every or 0
        every_slot = _slots(lo, hi, every, None, calendar, []) if size else []

        def within(instants: list[float], span: Span) -> int:
            return bisect_left(instants, span[1]) - bisect_left(instants, span[0])

        def part(span: Span) -> timedelta:
            return timedelta(seconds=within(down_slots, span) * size)

        def left(span: Span) -> timedelta:
            return timedelta(seconds=within(every_slot, span) * size)
    else:
        unit = "time"
        unmeasured = 0
        counted = measure([(lo, hi)])
        down = measure(_merge([*spans.values(), *planned_down]))

        def part(span: Span) -> timedelta:
            return timedelta(seconds=measure([span]))

        def left(span: Span) -> timedelta:
            return timedelta(seconds=_measure(_clip([span], lo, hi), calendar))

    outage_parts = tuple(OutagePart(o, part(spans[id(o)])) for o in outages
                         if spans[id(o)][1] > lo and spans[id(o)][0] < hi)
    window_parts = tuple(
        WindowPart(w, w in left_out,
                   left((w.start.timestamp(), w.end.timestamp())) if w in left_out
                   else part((w.start.timestamp(), w.end.timestamp())))
        for w in windows if w.end.timestamp() > lo and w.start.timestamp() < hi)
    percent = None if counted <= 0 else 100.0 * (counted - down) / counted
    met = None if percent is None or target is None else percent + 1e-9 >= target
    return AvailabilityResult(
        promise=promise, target_percent=target, start=start, end=end, evidence=evidence,
        unit=unit, counted=counted, down=down, unmeasured=unmeasured, percent=percent, met=met,
        outages=outage_parts, windows=window_parts,
        explanation=_explain(promise, target, evidence, unit, counted, down, unmeasured,
                             percent, met, calendar, len(left_out)))


# ---- the customer's own words: "down since 09:40" ---------------------------------------------

_SINCE = re.compile(
    r"\b(?:since|from|started(?:\s+at)?|starting(?:\s+at)?|beginning(?:\s+at)?|as\s+of)\s+"
    r"(?:about\s+|around\s+|approx\.?\s+|~\s*)?"
    r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?(?=\W|$)",
    re.IGNORECASE)


def stated_start(text: str, reported_at: datetime, tz: ZoneInfo) -> datetime | None:
    """The time a customer gives for when the trouble began ("down since 09:40", "from 9
    am"), in their zone, on the day of the report — the day before when that time is still
    to come. None when the words give no time (or a clock time that isn't one)."""
    require_aware(reported_at, "reported_at")
    for match in _SINCE.finditer(text or ""):
        hour, minute = int(match[1]), int(match[2] or 0)
        meridiem = (match[3] or "").lower().replace(".", "")
        if match[2] is None and not meridiem:
            continue  # "since 2" is not a time
        if meridiem:
            if not 1 <= hour <= 12:
                continue
            hour = hour % 12 + (12 if meridiem == "pm" else 0)
        if hour > 23 or minute > 59:
            continue
        local = reported_at.astimezone(tz)
        given = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if given > local:
            given -= timedelta(days=1)
        return given
    return None


# ---- interval arithmetic on epoch seconds -------------------------------------------------------


def _span(outage: Outage, until: float) -> Span:
    start = outage.start.timestamp()
    end = outage.end.timestamp() if outage.end is not None else until
    return (start, max(start, end))


def _merge(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for s, e in sorted(spans):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _clip(spans: Iterable[Span], lo: float, hi: float) -> list[Span]:
    return [(max(s, lo), min(e, hi)) for s, e in spans if e > lo and s < hi]


def _minus(spans: list[Span], holes: list[Span]) -> list[Span]:
    out: list[Span] = []
    for s, e in _merge(spans):
        cursor = s
        for hs, he in holes:
            if he <= cursor or hs >= e:
                continue
            if hs > cursor:
                out.append((cursor, hs))
            cursor = max(cursor, he)
        if cursor < e:
            out.append((cursor, e))
    return out


def _measure(spans: list[Span], calendar: BusinessCalendar | None) -> float:
    if calendar is None:
        return sum(e - s for s, e in spans)
    return sum(calendar.business_time_between(_at(s), _at(e)).total_seconds() for s, e in spans)


def _inside(t: float, spans: list[Span]) -> bool:
    i = bisect_right(spans, (t, float("inf"))) - 1
    return i >= 0 and spans[i][0] <= t < spans[i][1]


def _at(ts: float) -> datetime:
    return _EPOCH + timedelta(seconds=ts)


def _slot_of(ts: float, every: int) -> float:
    return float(int(ts // every) * every)


def _slots(lo: float, hi: float, every: int | None, measurements: Sequence[Measurement] | None,
           calendar: BusinessCalendar | None, excluded: list[Span]) -> list[float]:
    """The instants availability is measured at in [lo, hi): every `every` seconds on the
    clock (aligned, :00, :05 …), or each probe result when the policy names no interval;
    only within the counted hours and outside excluded windows."""
    if every is not None:
        first = _slot_of(lo, every)
        if first < lo:
            first += every
        instants = [first + i * every for i in range(int((hi - first + every - 1) // every))]
    else:
        instants = sorted({m.at.timestamp() for m in measurements or ()})
    out = []
    for t in instants:
        if not lo <= t < hi or _inside(t, excluded):
            continue
        if calendar is not None and not calendar.is_open(_at(t)):
            continue
        out.append(t)
    return out


# ---- words ---------------------------------------------------------------------------------------


def _explain(promise: AvailabilityPromise, target: float | None, evidence: Evidence,
             unit: str, counted: float, down: float, unmeasured: int, percent: float | None,
             met: bool | None, calendar: BusinessCalendar | None, excluded: int) -> str:
    hours = "the whole month on the wall clock" if calendar is None \
        else f"operating hours ({calendar.describe()})"
    if unit == "measurements":
        every = f"{promise.measured_every.minutes}-minute" if promise.measured_every \
            else "probe"
        base = f"{int(counted - down):,} of {int(counted):,} {every} measurements in {hours} up"
    else:
        base = (f"{_hours(counted - down)} of {_hours(counted)} in {hours} up "
                f"({_hours(down)} down)")
    source = ("probe results" if evidence == "probe"
              else "the impact periods of service-down incidents (no probe configured)")
    parts = [f"Evidence: {source}.", base + "."]
    if unmeasured:
        parts.append(f"{unmeasured:,} intervals had no probe result and are left out.")
    if excluded:
        parts.append(f"{excluded} service window{'s' if excluded != 1 else ''} announced in "
                     "advance left out.")
    if percent is None:
        parts.append("Nothing was counted in this period.")
    elif target is None:
        parts.append(f"{percent:.3f} %; the subscription sets no target "
                     "(per-subscription, no default).")
    else:
        parts.append(f"{percent:.3f} % against a target of {target:g} % — "
                     f"{'met' if met else 'missed'}.")
    return " ".join(parts)


def _hours(seconds: float) -> str:
    minutes = round(seconds / 60)
    h, m = divmod(minutes, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min"
