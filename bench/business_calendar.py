"""Benchmark: `policy.calendar` business-hours arithmetic against `businesstimedelta` 1.0.1.

Run it from the repository root (no arguments needed; about 10 s on a 2-core machine):

    .venv/bin/python bench/business_calendar.py                 # 2,000 starts, seed 20261126
    .venv/bin/python bench/business_calendar.py --starts 500    # quicker smoke run

What it measures, on a Mon–Fri 08:00–17:00 America/New_York calendar closed on US public
holidays (`public_holidays("US")`, observed days included):

* µs per `add_business_time(start, d)` and per `business_time_between(start, due)` for
  d = 1 h, 4 h, 1 BD (9 h), 48 h and 2 business weeks (90 h), over random whole-minute starts
  spread over 2026–2027 (fixed seed) that mix starts inside and outside hours, exactly on the
  window edges, on weekends, on holidays and on the DST nights, some of them given in UTC.
  Every call is timed on its own with `time.perf_counter_ns` (timer overhead measured and
  subtracted, GC off while timing); the table shows medians per duration.
* In the same run and on identical inputs, `businesstimedelta`: `start + BusinessTimeDelta(
  rules, hours=h)` and `rules.difference(start, due)` with `due` our computed due, the rules
  being `WorkDayRule` 08:00–17:00 Mon–Fri plus `HolidayRule(holidays.US(...))` in the pytz
  America/New_York zone. The ratio column is theirs / ours.
* The one-off cost of our calendar: constructing it plus the first call (which builds a year).
* Correctness: for every start, `business_time_between(start, add_business_time(start, d)) == d`;
  every result of both libraries is checked against an independent, slow reference (a
  day-by-day walk over the same holidays, itself cross-checked against minute stepping);
  disagreements between the libraries are counted, up to 5 shown, and each is judged. A
  disagreement where both instants carry the same business time from the start and one is a
  window's close while the other is the next opening is "boundary-equivalent", not wrong.

Targets reported against: ours ≤ 2 µs median per call at every duration, flat in the
duration; 0 wrong results.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time as _time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import businesstimedelta
import holidays
import pytz

from policy.calendar import BusinessCalendar, Window, public_holidays

SEED = 20261126
ROUNDS = 3  # passes over the starts for our (cheap) calls; theirs are timed in one pass
NY = ZoneInfo("America/New_York")
PYTZ_NY = pytz.timezone("America/New_York")
OPEN, CLOSE = time(8), time(17)
DURATIONS: list[tuple[str, timedelta]] = [
    ("1 h", timedelta(hours=1)),
    ("4 h", timedelta(hours=4)),
    ("1 BD (9 h)", timedelta(hours=9)),
    ("48 h", timedelta(hours=48)),
    ("2 BW (90 h)", timedelta(hours=90)),
]
# The reference's own holiday table: straight from the `holidays` package, not via policy.
US_HOLIDAYS = holidays.country_holidays("US", years=range(2025, 2031))
FIRST_DAY, LAST_DAY = date(2026, 1, 1), date(2027, 12, 31)


def ours_calendar() -> BusinessCalendar:
    return BusinessCalendar(
        NY, [Window(d, 8 * 60, 17 * 60) for d in range(5)], public_holidays("US"), name="ny-8x5"
    )


def theirs_rules() -> businesstimedelta.Rules:
    workday = businesstimedelta.WorkDayRule(
        start_time=OPEN, end_time=CLOSE, working_days=[0, 1, 2, 3, 4], tz=PYTZ_NY
    )
    holiday = businesstimedelta.HolidayRule(holidays.US(years=range(2025, 2031)), tz=PYTZ_NY)
    return businesstimedelta.Rules([workday, holiday])


# ---- inputs -------------------------------------------------------------------------------


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in US_HOLIDAYS


def make_starts(n: int, rng: random.Random) -> tuple[list[datetime], dict[str, int]]:
    """Whole-minute starts over 2026–2027, in NY local time (a quarter re-expressed in UTC)."""
    span = (LAST_DAY - FIRST_DAY).days + 1
    kinds = ["in hours", "off hours", "window edge", "weekend", "holiday", "DST night"]
    weights = [35, 20, 10, 17, 13, 5]
    dst_nights = [date(2026, 3, 8), date(2026, 11, 1), date(2027, 3, 14), date(2027, 11, 7)]
    holiday_days = [d for d in US_HOLIDAYS if FIRST_DAY <= d <= LAST_DAY and d.weekday() < 5]
    counts = dict.fromkeys(kinds, 0)
    starts: list[datetime] = []
    for _ in range(n):
        kind = rng.choices(kinds, weights)[0]
        counts[kind] += 1
        if kind == "holiday":
            day = rng.choice(holiday_days)
            minute = rng.randrange(0, 1440)
        elif kind == "weekend":
            day = FIRST_DAY + timedelta(days=rng.randrange(span))
            while day.weekday() < 5:
                day = FIRST_DAY + timedelta(days=rng.randrange(span))
            minute = rng.randrange(0, 1440)
        elif kind == "DST night":
            day = rng.choice(dst_nights)
            minute = rng.randrange(60, 200)  # 01:00–03:19 local, including the gap/overlap
        else:
            day = FIRST_DAY + timedelta(days=rng.randrange(span))
            while not is_business_day(day):
                day = FIRST_DAY + timedelta(days=rng.randrange(span))
            if kind == "in hours":
                minute = rng.randrange(8 * 60, 17 * 60)
            elif kind == "off hours":
                minute = rng.choice([rng.randrange(0, 8 * 60), rng.randrange(17 * 60, 1440)])
            else:
                minute = rng.choice([8 * 60, 17 * 60, 8 * 60 - 1, 17 * 60 - 1, 0])
        start = datetime.combine(day, time(minute // 60, minute % 60), NY)
        if rng.random() < 0.25:
            start = start.astimezone(UTC)
        starts.append(start)
    return starts, counts


def to_pytz(instant: datetime) -> datetime:
    """The same instant, in the pytz zone businesstimedelta expects."""
    return instant.astimezone(pytz.utc if instant.tzinfo is UTC else PYTZ_NY)


# ---- the slow, independent reference (the judge) ---------------------------------------------


def ref_windows(from_day: date) -> Iterator[tuple[datetime, datetime]]:
    """Business windows in UTC, day by day, from `from_day` on (local NY dates)."""
    day = from_day
    while True:
        if is_business_day(day):
            yield (
                datetime.combine(day, OPEN, NY).astimezone(UTC),
                datetime.combine(day, CLOSE, NY).astimezone(UTC),
            )
        day += timedelta(days=1)


def ref_add(start: datetime, duration: timedelta) -> datetime:
    """First instant at which `duration` (> 0) of business time has elapsed (day-by-day walk)."""
    t = start.astimezone(UTC)
    left = duration
    for open_, close in ref_windows(start.astimezone(NY).date() - timedelta(days=1)):
        if close <= t:
            continue
        begin = max(open_, t)
        if left <= close - begin:
            return begin + left
        left -= close - begin
    raise AssertionError("unreachable")


def ref_between(a: datetime, b: datetime) -> timedelta:
    """Business time in [a, b), negative if b < a (day-by-day walk)."""
    if b < a:
        return -ref_between(b, a)
    lo, hi = a.astimezone(UTC), b.astimezone(UTC)
    total = timedelta(0)
    for open_, close in ref_windows(lo.astimezone(NY).date() - timedelta(days=1)):
        if open_ >= hi:
            return total
        total += max(timedelta(0), min(close, hi) - max(open_, lo))
    raise AssertionError("unreachable")


def minute_open(t: datetime) -> bool:
    local = t.astimezone(NY)
    return is_business_day(local.date()) and OPEN <= local.time() < CLOSE


def minute_add(start: datetime, duration: timedelta) -> datetime:
    """Minute stepping (whole-minute start and duration only): the judge's own judge."""
    t = start.astimezone(UTC)
    need = duration // timedelta(minutes=1)
    while need:
        if minute_open(t):
            need -= 1
        t += timedelta(minutes=1)
    return t


def is_window_close(t: datetime) -> bool:
    local = t.astimezone(NY)
    return local.time() == CLOSE and is_business_day(local.date())


def ref_next_opening(t: datetime) -> datetime:
    for open_, close in ref_windows(t.astimezone(NY).date() - timedelta(days=1)):
        if t < close:
            return max(open_, t.astimezone(UTC))
    raise AssertionError("unreachable")


# ---- measuring ------------------------------------------------------------------------------


def timer_overhead_ns(rounds: int = 20_000) -> int:
    clock = _time.perf_counter_ns
    samples = []
    for _ in range(rounds):
        t0 = clock()
        t1 = clock()
        samples.append(t1 - t0)
    return int(statistics.median(samples))


@dataclass
class Row:
    label: str
    starts: int
    ours_add: list[int] = field(default_factory=list)
    theirs_add: list[int] = field(default_factory=list)
    ours_between: list[int] = field(default_factory=list)
    theirs_between: list[int] = field(default_factory=list)
    round_trip_failures: int = 0
    ours_wrong_add: int = 0
    ours_wrong_between: int = 0
    theirs_wrong_add: int = 0
    theirs_wrong_between: int = 0
    theirs_boundary_add: int = 0
    disagree_add: int = 0
    disagree_between: int = 0


@dataclass
class Disagreement:
    op: str
    start: datetime
    duration: timedelta
    ours: object
    theirs: object
    verdict: str


def measure_ours(
    cal: BusinessCalendar, starts: list[datetime], duration: timedelta, overhead: int
) -> tuple[list[datetime], list[timedelta], list[int], list[int]]:
    """Each call timed on its own; `ROUNDS` passes over all starts (samples pooled)."""
    clock = _time.perf_counter_ns
    add, between = cal.add_business_time, cal.business_time_between
    add_ns: list[int] = []
    between_ns: list[int] = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(ROUNDS):
            dues = []
            for start in starts:
                t0 = clock()
                due = add(start, duration)
                t1 = clock()
                dues.append(due)
                add_ns.append(t1 - t0 - overhead)
            backs = []
            for start, due in zip(starts, dues, strict=True):
                t0 = clock()
                back = between(start, due)
                t1 = clock()
                backs.append(back)
                between_ns.append(t1 - t0 - overhead)
    finally:
        gc.enable()
    return dues, backs, add_ns, between_ns


def measure_theirs(
    rules: businesstimedelta.Rules,
    btd: businesstimedelta.BusinessTimeDelta,
    starts: list[datetime],
    dues: list[datetime],
    overhead: int,
) -> tuple[list[datetime], list[timedelta], list[int], list[int]]:
    """One pass; same inputs as ours, `dues` being our computed dues (in the pytz zone)."""
    clock = _time.perf_counter_ns
    add_ns: list[int] = []
    between_ns: list[int] = []
    t_dues = []
    t_backs = []
    gc.collect()
    gc.disable()
    try:
        for start in starts:
            t0 = clock()
            t_due = start + btd
            t1 = clock()
            t_dues.append(t_due)
            add_ns.append(t1 - t0 - overhead)
        for start, due in zip(starts, dues, strict=True):
            t0 = clock()
            t_back = rules.difference(start, due)
            t1 = clock()
            t_backs.append(t_back.timedelta)
            between_ns.append(t1 - t0 - overhead)
    finally:
        gc.enable()
    return t_dues, t_backs, add_ns, between_ns


def build_cost_ms(repeats: int = 7) -> float:
    samples = []
    probe = datetime(2026, 6, 10, 10, tzinfo=NY)
    for _ in range(repeats):
        t0 = _time.perf_counter_ns()
        cal = ours_calendar()
        cal.add_business_time(probe, timedelta(hours=1))
        samples.append(_time.perf_counter_ns() - t0)
    return statistics.median(samples) / 1e6


def boundary_equivalent(start: datetime, x: datetime, y: datetime) -> bool:
    """Same business time from `start`, one a window's close and the other the next opening."""
    early, late = sorted([x, y])
    return (
        ref_between(start, x) == ref_between(start, y)
        and is_window_close(early)
        and ref_next_opening(early) == late.astimezone(UTC)
    )


def verdict_side(ours: object, theirs: object, truth: object) -> str:
    if ours == truth and theirs != truth:
        return "ours"
    if theirs == truth and ours != truth:
        return "theirs"
    return "neither" if ours != truth else "both"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    wall0 = _time.perf_counter()

    rng = random.Random(args.seed)
    starts, kinds = make_starts(args.starts, rng)
    theirs_starts = [to_pytz(s) for s in starts]
    rules = theirs_rules()
    cal = ours_calendar()

    build_ms = build_cost_ms()
    # Warm both sides outside the timed loops: build our years 2025–2028 and let the `holidays`
    # objects fill their years, so the medians are steady-state per-call costs.
    cal.business_time_between(datetime(2025, 12, 1, tzinfo=NY), datetime(2028, 12, 1, tzinfo=NY))
    for year in range(2025, 2030):
        rules.next(PYTZ_NY.localize(datetime(year, 1, 2, 12)))
    overhead = timer_overhead_ns()

    rows: list[Row] = []
    examples: list[Disagreement] = []
    verdicts: Counter[str] = Counter()
    minute_checks: list[tuple[datetime, timedelta, datetime]] = []
    for label, duration in DURATIONS:
        row = Row(label, len(starts))
        btd = businesstimedelta.BusinessTimeDelta(rules, hours=duration // timedelta(hours=1))
        dues, backs, ours_add, ours_between = measure_ours(cal, starts, duration, overhead)
        row.ours_add, row.ours_between = ours_add, ours_between
        due_pytz = [to_pytz(d) for d in dues]
        t_dues, t_backs, row.theirs_add, row.theirs_between = measure_theirs(
            rules, btd, theirs_starts, due_pytz, overhead
        )
        results = zip(starts, dues, t_dues, backs, t_backs, strict=True)
        for start, due, t_due, back, t_back in results:
            truth = ref_add(start, duration)
            truth_between = ref_between(start, due)
            if back != duration:
                row.round_trip_failures += 1
            if due != truth:
                row.ours_wrong_add += 1
            if back != truth_between:
                row.ours_wrong_between += 1
            if t_due != truth:
                if boundary_equivalent(start, truth, t_due):
                    row.theirs_boundary_add += 1
                else:
                    row.theirs_wrong_add += 1
            if t_back != truth_between:
                row.theirs_wrong_between += 1
            if due != t_due:
                row.disagree_add += 1
                if boundary_equivalent(start, due, t_due):
                    verdict = "boundary-equivalent"
                else:
                    verdict = "judge sides with " + verdict_side(due, t_due, truth)
                verdicts[f"add: {verdict}"] += 1
                if len(examples) < 5:
                    examples.append(Disagreement("add", start, duration, due, t_due, verdict))
            if back != t_back:
                row.disagree_between += 1
                verdict = "judge sides with " + verdict_side(back, t_back, truth_between)
                verdicts[f"between: {verdict}"] += 1
                if len(examples) < 5:
                    examples.append(Disagreement("between", start, duration, back, t_back, verdict))
            if len(minute_checks) < 12 * (len(rows) + 1) and rng.random() < 0.02:
                minute_checks.append((start, duration, truth))
        rows.append(row)

    # The judge's own check: day walk against minute stepping on a sample and on the examples.
    for ex in examples:
        minute_checks.append((ex.start, ex.duration, ref_add(ex.start, ex.duration)))
    judge_ok = sum(minute_add(s, d) == truth for s, d, truth in minute_checks)

    print_report(
        args, kinds, overhead, build_ms, rows, examples, verdicts, judge_ok, len(minute_checks)
    )
    print(f"\ntotal run time {_time.perf_counter() - wall0:.1f} s")


def med_us(samples: list[int]) -> float:
    return statistics.median(samples) / 1000


def print_report(
    args: argparse.Namespace,
    kinds: dict[str, int],
    overhead: int,
    build_ms: float,
    rows: list[Row],
    examples: list[Disagreement],
    verdicts: Counter[str],
    judge_ok: int,
    judge_n: int,
) -> None:
    out = print
    out(
        f"policy.calendar vs businesstimedelta {businesstimedelta_version()} — "
        "Mon–Fri 08:00–17:00 America/New_York, US public holidays"
    )
    mix = ", ".join(f"{n} {k}" for k, n in kinds.items())
    out(f"{args.starts} whole-minute starts over 2026–2027, seed {args.seed}: {mix}")
    out(f"median µs per call (timer overhead {overhead} ns subtracted); ratio = theirs / ours")
    out("")
    header = (
        f"{'duration':<12} | {'add ours':>8} | {'add theirs':>10} | {'ratio':>6} | "
        f"{'betw ours':>9} | {'betw theirs':>11} | {'ratio':>6} | {'round-trip':>10} | "
        f"{'wrong ours':>10} | {'wrong theirs':>12} | {'disagree':>8}"
    )
    out(header)
    out("-" * len(header))
    for r in rows:
        oa, ta = med_us(r.ours_add), med_us(r.theirs_add)
        ob, tb = med_us(r.ours_between), med_us(r.theirs_between)
        trip = f"{r.starts - r.round_trip_failures}/{r.starts}"
        wrong_ours = r.ours_wrong_add + r.ours_wrong_between
        wrong_theirs = r.theirs_wrong_add + r.theirs_wrong_between
        out(
            f"{r.label:<12} | {oa:>8.2f} | {ta:>10.1f} | {ta / oa:>5.0f}x | "
            f"{ob:>9.2f} | {tb:>11.1f} | {tb / ob:>5.0f}x | {trip:>10} | "
            f"{wrong_ours:>10} | {wrong_theirs:>12} | {r.disagree_add + r.disagree_between:>8}"
        )
    out("")
    out(f"one-off build of our calendar (construct + first call, builds a year): {build_ms:.2f} ms")

    worst = max(max(med_us(r.ours_add), med_us(r.ours_between)) for r in rows)
    add_meds = [med_us(r.ours_add) for r in rows]
    betw_meds = [med_us(r.ours_between) for r in rows]
    flat_add = max(add_meds) / min(add_meds)
    flat_betw = max(betw_meds) / min(betw_meds)
    verdict = "met" if worst <= 2.0 else "MISSED"
    out(
        f"target ≤ 2 µs median per call, every duration: {verdict} (worst median {worst:.3f} µs); "
        f"flatness max/min over durations: add {flat_add:.2f}, between {flat_betw:.2f}"
    )
    wrong_ours = sum(r.ours_wrong_add + r.ours_wrong_between for r in rows)
    wrong_theirs = sum(r.theirs_wrong_add + r.theirs_wrong_between for r in rows)
    boundary = sum(r.theirs_boundary_add for r in rows)
    trips = sum(r.round_trip_failures for r in rows)
    calls = sum(r.starts for r in rows)
    out(
        f"target 0 wrong results: ours {wrong_ours} wrong of {2 * calls} "
        f"({'met' if wrong_ours == 0 else 'MISSED'}); theirs {wrong_theirs} wrong, "
        f"{boundary} boundary-equivalent; round-trip between(s, add(s, d)) == d failed "
        f"{trips} of {calls}"
    )
    out(
        f"judge = day-by-day walk over holidays.country_holidays('US'); checked against minute "
        f"stepping on {judge_n} cases: {judge_ok}/{judge_n} agree"
    )
    dis_add = sum(r.disagree_add for r in rows)
    dis_betw = sum(r.disagree_between for r in rows)
    tally = "; ".join(f"{n} {v}" for v, n in sorted(verdicts.items()))
    out(
        f"disagreements ours vs theirs: {dis_add} add, {dis_betw} between"
        + (tally and f" ({tally})")
    )
    if not examples:
        out("  (none to show)")
    for ex in examples:
        local = ex.start.astimezone(NY)
        out(
            f"  {ex.op}: start {ex.start.isoformat()} ({local:%a %Y-%m-%d %H:%M} NY) "
            f"+ {fmt_td(ex.duration)}: ours {fmt(ex.ours)}, theirs {fmt(ex.theirs)} "
            f"→ {ex.verdict}"
        )


def fmt(value: object) -> str:
    if isinstance(value, datetime):
        return f"{value.astimezone(NY):%a %Y-%m-%d %H:%M %z}"
    if isinstance(value, timedelta):
        return fmt_td(value)
    return repr(value)


def fmt_td(value: timedelta) -> str:
    return f"{value.total_seconds() / 3600:g} h"


def businesstimedelta_version() -> str:
    from importlib.metadata import version

    return version("businesstimedelta")


if __name__ == "__main__":
    main()
