"""Business-hours calendar: properties that must hold for every start, duration and calendar.

Hypothesis draws starts across 2025–2028 in arbitrary IANA zones (microsecond precision,
including wall times skipped or repeated by DST) and durations up to several weeks, over the
four calendar shapes the packs use. The calendars are shared between examples on purpose: they
build their years lazily, in whatever order the examples ask, which is part of what is tested.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.easter import easter
from hypothesis import given, settings
from hypothesis import strategies as st

from policy.calendar import BusinessCalendar, Window, public_holidays, union_of

US = public_holidays("US")


def dk_bank_holidays(year: int) -> Iterable[date]:
    """shared/docs/policies.md §4: Friday after Ascension Day, 5 June, 24 December, 31 December."""
    return [
        easter(year) + timedelta(days=40),
        date(year, 6, 5),
        date(year, 12, 24),
        date(year, 12, 31),
    ]


CALENDARS: dict[str, BusinessCalendar] = {
    "ny-8x5-us": BusinessCalendar(
        ZoneInfo("America/New_York"), [Window(d, 8 * 60, 17 * 60) for d in range(5)], US
    ),
    "sao-paulo-12x5-us": BusinessCalendar(
        ZoneInfo("America/Sao_Paulo"), [Window(d, 8 * 60, 20 * 60) for d in range(5)], US
    ),
    "copenhagen-8x5-dk": BusinessCalendar(
        ZoneInfo("Europe/Copenhagen"),
        [Window(d, 8 * 60, 16 * 60) for d in range(5)],
        union_of(public_holidays("DK"), dk_bank_holidays),
    ),
    "utc-24/7": BusinessCalendar(ZoneInfo("UTC"), always_open=True),
}

calendars = st.sampled_from(sorted(CALENDARS))
instants = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2028, 12, 31, 23, 59, 59, 999999),
    timezones=st.timezones(),
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=21))
positive_durations = st.timedeltas(
    min_value=timedelta(microseconds=1), max_value=timedelta(days=21)
)
ONE_US = timedelta(microseconds=1)


@settings(max_examples=200, deadline=None)
@given(name=calendars, start=instants, duration=durations)
def test_add_then_measure_gives_back_the_duration(
    name: str, start: datetime, duration: timedelta
) -> None:
    """shared/docs/policies.md: a due is "the first instant at which the target's coverage time has
    elapsed" — so the coverage time from the start to the due is exactly the target."""
    cal = CALENDARS[name]
    due = cal.add_business_time(start, duration)
    assert cal.business_time_between(start, due) == duration


@settings(max_examples=200, deadline=None)
@given(name=calendars, start=instants, duration=positive_durations)
def test_a_due_never_lands_outside_coverage(
    name: str, start: datetime, duration: timedelta
) -> None:
    """shared/docs/policies.md: "one that uses up a window exactly is that window's close" — a due
    is inside a window or exactly at its close, so the microsecond before it is open."""
    cal = CALENDARS[name]
    due = cal.add_business_time(start, duration)
    assert due > start
    assert cal.is_open(due - ONE_US)


@settings(max_examples=200, deadline=None)
@given(name=calendars, start=instants, d1=durations, d2=durations)
def test_more_time_never_gives_an_earlier_due(
    name: str, start: datetime, d1: timedelta, d2: timedelta
) -> None:
    """shared/docs/policies.md: the due is the *first* instant at which the target has elapsed; a
    longer target cannot elapse sooner (monotone in the duration)."""
    cal = CALENDARS[name]
    shorter, longer = sorted([d1, d2])
    assert cal.add_business_time(start, shorter) <= cal.add_business_time(start, longer)


@settings(max_examples=200, deadline=None)
@given(name=calendars, s1=instants, s2=instants, duration=durations)
def test_a_later_start_never_gives_an_earlier_due(
    name: str, s1: datetime, s2: datetime, duration: timedelta
) -> None:
    """shared/docs/policies.md: "Counting starts at the report if it is inside coverage, else at the
    next opening" — a later report cannot be due earlier (monotone in the start)."""
    cal = CALENDARS[name]
    earlier, later = sorted([s1, s2])
    assert cal.add_business_time(earlier, duration) <= cal.add_business_time(later, duration)


@settings(max_examples=200, deadline=None)
@given(name=calendars, a=instants, b=instants, c=instants)
def test_business_time_between_is_additive(
    name: str, a: datetime, b: datetime, c: datetime
) -> None:
    """policy.calendar: business_time_between is "coverage time in [start, end); negative when
    `end` is before `start`" — a measure, so a→b plus b→c is a→c in any order."""
    cal = CALENDARS[name]
    between = cal.business_time_between
    assert between(a, b) + between(b, c) == between(a, c)
    assert between(a, b) == -between(b, a)
