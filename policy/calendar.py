"""Business-hours arithmetic on real calendars, exact and fast.

A calendar is held as the sorted list of its business intervals (UTC epoch seconds) with the
cumulative business time before each one. "Business time at instant t" is then one bisection,
and so is its inverse; both SLA questions ("when is X business hours after t?" and "how much
business time lies between a and b?") are answered from that one structure, with no stepping
through minutes or days. Intervals are built a local year at a time, lazily, when an instant
outside the built range is asked about.

Conventions (see shared/docs/policies.md): counting starts at the instant if it is inside
coverage, else at the next opening; a due that uses up a window exactly is that window's
close. Windows are half-open [open, close).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

from policy.errors import CalendarError, NaiveDatetimeError

MINUTES_PER_DAY = 24 * 60
_SECOND = timedelta(seconds=1)
_YEAR_MIN = 1971
_YEAR_MAX = 9998
# How many consecutive years without any business time we accept before calling a calendar empty.
_EMPTY_YEARS_LIMIT = 3

# tzinfo types whose utcoffset() is never None: checking the type is cheaper than asking.
_FIXED_TZ_TYPES = (ZoneInfo, timezone)

ClosedDates = Callable[[int], Iterable[date]]
"""For a year, the local dates on which the calendar is closed all day."""


@dataclass(frozen=True, slots=True)
class Window:
    """One opening on a weekday, in local minutes from midnight; `end` may be 1440 (24:00)."""

    weekday: int  # Monday = 0
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise CalendarError(f"weekday must be 0 (Monday) to 6 (Sunday), got {self.weekday}")
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise CalendarError(
                f"window {_hhmm(self.start)}–{_hhmm(self.end)} must open before it closes, "
                "within one day (24:00 at the latest)"
            )


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def require_aware(instant: datetime, what: str = "instant") -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise NaiveDatetimeError(
            f"{what} {instant.isoformat()} has no time zone; give an offset or a zone "
            "(a naive time is ambiguous and is never guessed)"
        )


class BusinessCalendar:
    """Coverage hours of one support plan: weekly windows in a zone, minus closed dates.

    `always_open` makes a 24/7 calendar (business time is wall-clock time). `business_day`
    is the length of one full coverage day ("1 Business Day" in a policy); by default the
    longest day of the weekly pattern.
    """

    __slots__ = (
        "_built_years",
        "_closed_dates",
        "_cum_end",
        "_cum_start",
        "_ends",
        "_hi",
        "_lo",
        "_starts",
        "_windows_by_day",
        "always_open",
        "business_day",
        "name",
        "tz",
    )

    def __init__(
        self,
        tz: ZoneInfo,
        windows: Sequence[Window] = (),
        closed_dates: ClosedDates | None = None,
        *,
        always_open: bool = False,
        business_day: timedelta | None = None,
        name: str = "calendar",
    ) -> None:
        if not always_open and not windows:
            raise CalendarError(f"calendar {name!r} has no opening windows and is not 24/7")
        self.tz = tz
        self.name = name
        self.always_open = always_open
        by_day: dict[int, list[tuple[int, int]]] = {d: [] for d in range(7)}
        for w in windows:
            by_day[w.weekday].append((w.start, w.end))
        for day, spans in by_day.items():
            spans.sort()
            for (_, end), (start, _) in pairwise(spans):
                if start < end:
                    raise CalendarError(f"calendar {name!r}: overlapping windows on weekday {day}")
        self._windows_by_day: Mapping[int, list[tuple[int, int]]] = by_day
        self._closed_dates = closed_dates
        if business_day is None:
            if always_open:
                business_day = timedelta(days=1)
            else:
                longest = max(sum(e - s for s, e in spans) for spans in by_day.values())
                business_day = timedelta(minutes=longest)
        if business_day <= timedelta(0):
            raise CalendarError(f"calendar {name!r}: a business day must be longer than zero")
        self.business_day = business_day
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._cum_start: list[float] = []
        self._cum_end: list[float] = []
        self._built_years: tuple[int, int] | None = None
        self._lo = 0.0
        self._hi = 0.0

    # ---- building -------------------------------------------------------------------------

    def _year_bounds(self, year: int) -> tuple[float, float]:
        lo = datetime(year, 1, 1, tzinfo=self.tz).timestamp()
        hi = datetime(year + 1, 1, 1, tzinfo=self.tz).timestamp()
        return lo, hi

    def _year_intervals(self, year: int) -> list[tuple[float, float]]:
        if not _YEAR_MIN <= year <= _YEAR_MAX:
            raise CalendarError(f"calendar {self.name!r} does not reach year {year}")
        if self.always_open:
            return [self._year_bounds(year)]
        closed = set(self._closed_dates(year)) if self._closed_dates else set()
        tz = self.tz
        out: list[tuple[float, float]] = []
        day = date(year, 1, 1)
        one = timedelta(days=1)
        while day.year == year:
            spans = self._windows_by_day[day.weekday()]
            if spans and day not in closed:
                for start, end in spans:
                    s = datetime.combine(day, time(start // 60, start % 60), tz).timestamp()
                    if end == MINUTES_PER_DAY:
                        e = datetime.combine(day + one, time(0), tz).timestamp()
                    else:
                        e = datetime.combine(day, time(end // 60, end % 60), tz).timestamp()
                    if out and out[-1][1] >= s:  # touching windows (e.g. 24/7 built by days)
                        out[-1] = (out[-1][0], max(out[-1][1], e))
                    elif e > s:
                        out.append((s, e))
            day += one
        return out

    def _rebuild(self, first: int, last: int) -> None:
        intervals: list[tuple[float, float]] = []
        for year in range(first, last + 1):
            for s, e in self._year_intervals(year):
                if intervals and intervals[-1][1] >= s:
                    intervals[-1] = (intervals[-1][0], e)
                else:
                    intervals.append((s, e))
        starts = [s for s, _ in intervals]
        ends = [e for _, e in intervals]
        cum_start: list[float] = []
        cum_end: list[float] = []
        total = 0.0
        for s, e in intervals:
            cum_start.append(total)
            total += e - s
            cum_end.append(total)
        self._starts, self._ends = starts, ends
        self._cum_start, self._cum_end = cum_start, cum_end
        self._built_years = (first, last)
        self._lo = self._year_bounds(first)[0]
        self._hi = self._year_bounds(last)[1]

    def _append_year(self) -> None:
        assert self._built_years is not None
        first, last = self._built_years
        year = last + 1
        total = self._cum_end[-1] if self._cum_end else 0.0
        for s, e in self._year_intervals(year):
            if self._ends and self._ends[-1] >= s:
                grown = e - self._ends[-1]
                self._ends[-1] = e
                total += grown
                self._cum_end[-1] = total
            else:
                self._starts.append(s)
                self._ends.append(e)
                self._cum_start.append(total)
                total += e - s
                self._cum_end.append(total)
        self._built_years = (first, year)
        self._hi = self._year_bounds(year)[1]

    def _cover(self, ts: float) -> None:
        """Make sure the built range contains `ts`."""
        try:
            year = datetime.fromtimestamp(ts, self.tz).year
        except (OverflowError, OSError, ValueError) as exc:
            raise CalendarError(f"calendar {self.name!r} cannot place that instant: {exc}") from exc
        if self._built_years is None:
            self._rebuild(year, year)
            return
        first, last = self._built_years
        if year < first:
            self._rebuild(year, last)
        while ts >= self._hi:
            self._append_year()

    def _extend_until(self, target: float) -> None:
        empty = 0
        while target > (self._cum_end[-1] if self._cum_end else 0.0):
            before = self._cum_end[-1] if self._cum_end else 0.0
            self._append_year()
            after = self._cum_end[-1] if self._cum_end else 0.0
            empty = empty + 1 if after == before else 0
            if empty >= _EMPTY_YEARS_LIMIT:
                raise CalendarError(
                    f"calendar {self.name!r} has no business time for {_EMPTY_YEARS_LIMIT} years; "
                    "check its windows and closures"
                )

    # ---- the two primitives -----------------------------------------------------------------

    def _business_seconds_at(self, ts: float) -> float:
        """Business seconds elapsed from the start of the built range up to `ts`."""
        if ts < self._lo or ts >= self._hi:
            self._cover(ts)
        i = bisect_right(self._starts, ts) - 1
        if i < 0:
            return 0.0
        start = self._starts[i]
        end = self._ends[i]
        return self._cum_start[i] + ((ts - start) if ts < end else (end - start))

    def _instant_at(self, business_seconds: float) -> float:
        """The first instant at which `business_seconds` of business time have elapsed."""
        if not self._cum_end or business_seconds > self._cum_end[-1]:
            self._extend_until(business_seconds)
        j = bisect_left(self._cum_end, business_seconds)
        return self._starts[j] + (business_seconds - self._cum_start[j])

    # ---- public API ---------------------------------------------------------------------------

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which `duration` of coverage time has elapsed after `start`.

        Returned in the calendar's zone. A zero duration returns `start` itself.
        """
        tz = start.tzinfo
        if tz is None or (type(tz) not in _FIXED_TZ_TYPES and start.utcoffset() is None):
            require_aware(start, "start")
        seconds = duration.total_seconds()
        if seconds <= 0:
            if seconds < 0:
                raise CalendarError(f"cannot add a negative business duration ({duration})")
            return start.astimezone(self.tz)
        ts = start.timestamp()
        due = self._instant_at(self._business_seconds_at(ts) + seconds)
        return datetime.fromtimestamp(due, self.tz)

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Coverage time in [start, end); negative when `end` is before `start`."""
        tz_a, tz_b = start.tzinfo, end.tzinfo
        if tz_a is None or (type(tz_a) not in _FIXED_TZ_TYPES and start.utcoffset() is None):
            require_aware(start, "start")
        if tz_b is None or (type(tz_b) not in _FIXED_TZ_TYPES and end.utcoffset() is None):
            require_aware(end, "end")
        ts_a = start.timestamp()
        ts_b = end.timestamp()
        lo, hi = self._lo, self._hi
        if not (lo <= ts_a < hi and lo <= ts_b < hi):
            # Cover the earlier instant first: extending the range backwards rebases the sums.
            self._cover(min(ts_a, ts_b))
            self._cover(max(ts_a, ts_b))
        starts, ends, cum_start = self._starts, self._ends, self._cum_start
        i = bisect_right(starts, ts_a) - 1
        a = 0.0 if i < 0 else cum_start[i] + (min(ts_a, ends[i]) - starts[i])
        j = bisect_right(starts, ts_b) - 1
        b = 0.0 if j < 0 else cum_start[j] + (min(ts_b, ends[j]) - starts[j])
        return _SECOND * (b - a)

    def is_open(self, instant: datetime) -> bool:
        """Whether `instant` lies inside coverage (windows are half-open)."""
        require_aware(instant)
        ts = instant.timestamp()
        if ts < self._lo or ts >= self._hi:
            self._cover(ts)
        i = bisect_right(self._starts, ts) - 1
        return i >= 0 and ts < self._ends[i]

    def next_opening(self, instant: datetime) -> datetime:
        """`instant` itself when inside coverage, else the next moment coverage starts."""
        require_aware(instant)
        ts = instant.timestamp()
        if ts < self._lo or ts >= self._hi:
            self._cover(ts)
        i = bisect_right(self._starts, ts) - 1
        if i >= 0 and ts < self._ends[i]:
            return instant.astimezone(self.tz)
        while i + 1 >= len(self._starts):
            self._extend_until((self._cum_end[-1] if self._cum_end else 0.0) + 1.0)
        return datetime.fromtimestamp(self._starts[i + 1], self.tz)

    def current_window_close(self, instant: datetime) -> datetime | None:
        """When the window containing `instant` closes; None outside coverage, and None when
        coverage never closes (24/7, or windows touching without a break for years)."""
        require_aware(instant)
        if self.always_open:
            return None
        ts = instant.timestamp()
        if ts < self._lo or ts >= self._hi:
            self._cover(ts)
        i = bisect_right(self._starts, ts) - 1
        if i < 0 or ts >= self._ends[i]:
            return None
        for _ in range(_EMPTY_YEARS_LIMIT):
            if self._ends[i] < self._hi:
                return datetime.fromtimestamp(self._ends[i], self.tz)
            self._append_year()  # the window runs to the end of what is built: look further
        return None

    def business_windows(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The pieces of coverage inside [start, end), in the calendar's zone (for explanations)."""
        require_aware(start, "start")
        require_aware(end, "end")
        a, b = start.timestamp(), end.timestamp()
        if b <= a:
            return []
        self._cover(a)
        self._cover(b)
        i = max(bisect_right(self._starts, a) - 1, 0)
        out = []
        while i < len(self._starts) and self._starts[i] < b:
            s, e = max(self._starts[i], a), min(self._ends[i], b)
            if e > s:
                out.append((datetime.fromtimestamp(s, self.tz), datetime.fromtimestamp(e, self.tz)))
            i += 1
        return out

    def closed_days_between(self, start: datetime, end: datetime) -> list[date]:
        """Days strictly between two instants that would have opened but were closed (holidays)."""
        require_aware(start, "start")
        require_aware(end, "end")
        day = start.astimezone(self.tz).date() + timedelta(days=1)
        last = end.astimezone(self.tz).date()
        if self._closed_dates is None or day >= last:
            return []
        closed: set[date] = set()
        for year in range(day.year, last.year + 1):
            closed.update(self._closed_dates(year))
        out = []
        while day < last:
            if self._windows_by_day[day.weekday()] and day in closed:
                out.append(day)
            day += timedelta(days=1)
        return out

    def describe(self) -> str:
        """One line a customer can read: "Mon–Fri 08:00–17:00 America/New_York"."""
        if self.always_open:
            return "24/7"
        names = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        patterns: dict[tuple[tuple[int, int], ...], list[int]] = {}
        for day in range(7):
            spans = tuple(self._windows_by_day[day])
            if spans:
                patterns.setdefault(spans, []).append(day)
        parts = []
        for spans, days in patterns.items():
            if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
                day_text = f"{names[days[0]]}–{names[days[-1]]}"
            else:
                day_text = ", ".join(names[d] for d in days)
            hours = ", ".join(f"{_hhmm(s)}–{_hhmm(e)}" for s, e in spans)
            parts.append(f"{day_text} {hours}")
        return f"{'; '.join(parts)} {self.tz.key}"


def public_holidays(country: str, subdivision: str | None = None) -> ClosedDates:
    """Closed dates from the `holidays` package (observed days included, as the law has them)."""
    import holidays

    try:
        holidays.country_holidays(country, subdiv=subdivision, years=2000)
    except NotImplementedError as exc:
        raise CalendarError(f"no public-holiday calendar for country {country!r}") from exc

    def closed(year: int) -> Iterable[date]:
        return holidays.country_holidays(country, subdiv=subdivision, years=year).keys()

    return closed


def union_of(*sources: ClosedDates) -> ClosedDates:
    """Closed dates of several sources together (public holidays plus a pack's own closures)."""

    def closed(year: int) -> Iterable[date]:
        out: set[date] = set()
        for source in sources:
            out.update(source(year))
        return out

    return closed

