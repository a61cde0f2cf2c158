"""Business-hours calendar: one test per rule, expectations computed by hand.

Every expected instant below was worked out on paper from the calendar of the year (weekday,
holiday, UTC offset) and is written literally as an ISO string, so a failure shows both sides
plainly. Rules come from shared/docs/policies.md (the agreed reading of the seeds) and from the
`policy.calendar` conventions it adopts.
"""

from __future__ import annotations

import signal
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from dateutil.easter import easter

from policy.calendar import BusinessCalendar, Window, public_holidays, union_of
from policy.errors import CalendarError, NaiveDatetimeError

NY = ZoneInfo("America/New_York")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
TOKYO = ZoneInfo("Asia/Tokyo")
UTC = ZoneInfo("UTC")

H = timedelta(hours=1)


def weekdays(start: str, end: str) -> list[Window]:
    """Mon–Fri windows between two local "HH:MM" times ("24:00" allowed)."""

    def minutes(hhmm: str) -> int:
        hours, mins = hhmm.split(":")
        return int(hours) * 60 + int(mins)

    return [Window(day, minutes(start), minutes(end)) for day in range(5)]


def dk_bank_holidays(year: int) -> Iterable[date]:
    """Danish bank holidays that are not public holidays (policies.md §4): the Friday after
    Ascension Day (Easter Sunday + 40 days), 5 June, 24 December and 31 December."""
    return [
        easter(year) + timedelta(days=40),
        date(year, 6, 5),
        date(year, 12, 24),
        date(year, 12, 31),
    ]


def ny_8x5() -> BusinessCalendar:
    """konneqt enterprise: Mon–Fri 08:00–17:00, here in America/New_York, US public holidays."""
    return BusinessCalendar(NY, weekdays("08:00", "17:00"), public_holidays("US"), name="ny")


def sao_paulo_12x5() -> BusinessCalendar:
    """konneqt standard: Mon–Fri 08:00–20:00 at GMT-3 (America/Sao_Paulo), US public holidays."""
    return BusinessCalendar(
        SAO_PAULO, weekdays("08:00", "20:00"), public_holidays("US"), name="sao-paulo"
    )


def copenhagen_dk() -> BusinessCalendar:
    """dk-saas: Mon–Fri 08:00–16:00 Europe/Copenhagen minus DK public and bank holidays."""
    closed = union_of(public_holidays("DK"), dk_bank_holidays)
    return BusinessCalendar(COPENHAGEN, weekdays("08:00", "16:00"), closed, name="dk-saas")


def at(zone: ZoneInfo, y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=zone)


def iso(instant: datetime) -> str:
    """Wall time and offset together: checks the instant *and* that it is in the right zone."""
    return instant.isoformat()


@contextmanager
def fails_after(seconds: float) -> Iterator[None]:
    """Turn a hang into a test failure (SIGALRM; POSIX only)."""

    def on_alarm(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---- counting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # Saturday: counting starts Monday 08:00.
        (at(NY, 2026, 1, 10, 10), 1, "2026-01-12T09:00:00-05:00"),
        # Wednesday before opening: counting starts at 08:00 the same day.
        (at(NY, 2026, 1, 14, 6, 30), 1, "2026-01-14T09:00:00-05:00"),
        # Wednesday after closing: counting starts Thursday 08:00.
        (at(NY, 2026, 1, 14, 18), 1, "2026-01-15T09:00:00-05:00"),
        # Inside coverage: counting starts at the instant itself.
        (at(NY, 2026, 1, 14, 10, 15), 1, "2026-01-14T11:15:00-05:00"),
        # Half an hour left today, the other half tomorrow morning.
        (at(NY, 2026, 1, 14, 16, 30), 1, "2026-01-15T08:30:00-05:00"),
    ],
)
def test_counting_starts_at_the_instant_if_inside_coverage_else_at_next_opening(
    start: datetime, hours: int, expected: str
) -> None:
    """shared/docs/policies.md: "Counting starts at the report if it is inside coverage, else at the
    next opening." """
    assert iso(ny_8x5().add_business_time(start, hours * H)) == expected


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (at(NY, 2026, 1, 14, 8), 9, "2026-01-14T17:00:00-05:00"),  # Wed 08:00 + 9 h
        (at(NY, 2026, 1, 14, 16), 1, "2026-01-14T17:00:00-05:00"),  # Wed 16:00 + 1 h
        (at(NY, 2026, 1, 14, 12), 14, "2026-01-15T17:00:00-05:00"),  # 5 h Wed + 9 h Thu
        (at(NY, 2026, 1, 10, 10), 18, "2026-01-13T17:00:00-05:00"),  # Sat + 2 BD → Tue close
        (at(NY, 2026, 1, 9, 16), 1, "2026-01-09T17:00:00-05:00"),  # Fri close, not Mon 08:00
    ],
)
def test_a_due_that_uses_up_a_window_exactly_is_that_windows_close(
    start: datetime, hours: int, expected: str
) -> None:
    """shared/docs/policies.md: "A due is the first instant at which the target's coverage time has
    elapsed: one that uses up a window exactly is that window's close." """
    assert iso(ny_8x5().add_business_time(start, hours * H)) == expected


def test_saturday_plus_one_business_day_is_monday_17_00() -> None:
    """shared/docs/policies.md: "Sat + 1 BD → Monday 17:00, not Tuesday 08:00"; "Business Day (BD)
    is one full coverage day of that calendar" (9 h on an 08:00–17:00 calendar)."""
    cal = ny_8x5()
    assert cal.business_day == timedelta(hours=9)
    saturday = at(NY, 2026, 1, 10, 10, 30)
    assert iso(cal.add_business_time(saturday, cal.business_day)) == "2026-01-12T17:00:00-05:00"
    # Business Week = 5 BD: Saturday + 1 BW is the following Friday's close.
    assert iso(cal.add_business_time(saturday, 5 * cal.business_day)) == (
        "2026-01-16T17:00:00-05:00"
    )


def test_zero_duration_returns_the_start_itself() -> None:
    """policy.calendar: "A zero duration returns `start` itself" (even outside coverage)."""
    cal = ny_8x5()
    saturday = at(NY, 2026, 1, 10, 10)
    due = cal.add_business_time(saturday, timedelta(0))
    assert iso(due) == "2026-01-10T10:00:00-05:00"
    in_tokyo = saturday.astimezone(TOKYO)
    assert cal.add_business_time(in_tokyo, timedelta(0)) == saturday


# ---- closures --------------------------------------------------------------------------------


def test_weekends_are_closed() -> None:
    """shared/docs/policies.md: enterprise coverage is "8x5, Mon–Fri 08:00–17:00"."""
    cal = ny_8x5()
    friday_4pm = at(NY, 2026, 1, 9, 16)
    assert iso(cal.add_business_time(friday_4pm, 2 * H)) == "2026-01-12T09:00:00-05:00"
    assert cal.business_time_between(at(NY, 2026, 1, 9, 8), at(NY, 2026, 1, 12, 8)) == 9 * H
    assert not cal.is_open(at(NY, 2026, 1, 10, 12))  # Saturday noon
    assert not cal.is_open(at(NY, 2026, 1, 11, 12))  # Sunday noon
    assert cal.business_time_between(at(NY, 2026, 1, 10), at(NY, 2026, 1, 12)) == timedelta(0)


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # Fri 2026-07-03 is Independence Day (observed) — July 4 is a Saturday.
        (at(NY, 2026, 7, 2, 16), 2, "2026-07-06T09:00:00-04:00"),
        # Thu 2026-11-26 Thanksgiving: Wednesday → Friday.
        (at(NY, 2026, 11, 25, 16), 2, "2026-11-27T09:00:00-05:00"),
        # Fri 2026-12-25 Christmas (Dec 24 is a working day in the US list).
        (at(NY, 2026, 12, 24, 16), 2, "2026-12-28T09:00:00-05:00"),
        # Fri 2027-01-01 New Year: the 2026/2027 boundary too.
        (at(NY, 2026, 12, 31, 16), 2, "2027-01-04T09:00:00-05:00"),
        # Mon 2026-01-19 Martin Luther King Jr. Day: Friday → Tuesday.
        (at(NY, 2026, 1, 16, 16), 2, "2026-01-20T09:00:00-05:00"),
        # Fri 2027-12-31 is New Year's Day 2028 (observed): Thursday → Monday 2028-01-03.
        (at(NY, 2027, 12, 30, 16), 2, "2028-01-03T09:00:00-05:00"),
    ],
)
def test_us_public_holidays_are_closed_including_observed_days(
    start: datetime, hours: int, expected: str
) -> None:
    """shared/docs/policies.md: the enterprise and standard calendars are "US public holidays"
    (Definitions: "Business Day"); observed days are included, as the law has them."""
    assert iso(ny_8x5().add_business_time(start, hours * H)) == expected


def test_us_holiday_weeks_count_only_open_days() -> None:
    """shared/docs/policies.md: "US public holidays" close the whole day; Thanksgiving week 2026 has
    four open days (Mon 23, Tue 24, Wed 25, Fri 27 Nov), so 36 business hours."""
    cal = ny_8x5()
    assert cal.business_time_between(at(NY, 2026, 11, 23, 8), at(NY, 2026, 11, 30, 8)) == 36 * H
    assert not cal.is_open(at(NY, 2026, 7, 3, 10))  # observed Independence Day
    assert not cal.is_open(at(NY, 2026, 11, 26, 10))  # Thanksgiving
    assert not cal.is_open(at(NY, 2026, 12, 25, 10))  # Christmas
    assert not cal.is_open(at(NY, 2027, 1, 1, 10))  # New Year
    assert cal.is_open(at(NY, 2026, 12, 24, 10))  # Christmas Eve is open in the US calendar


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # Thu 2026-05-14 Ascension Day (public), Fri 05-15 the bank holiday after it.
        (at(COPENHAGEN, 2026, 5, 13, 15), 2, "2026-05-18T09:00:00+02:00"),
        # Fri 2026-06-05 Constitution Day (bank holiday).
        (at(COPENHAGEN, 2026, 6, 4, 15), 2, "2026-06-08T09:00:00+02:00"),
        # Thu 12-24 (bank), Fri 12-25 Christmas, Sat 12-26 Second Day of Christmas.
        (at(COPENHAGEN, 2026, 12, 23, 15), 2, "2026-12-28T09:00:00+01:00"),
        # Thu 12-31 (bank), Fri 2027-01-01 New Year's Day.
        (at(COPENHAGEN, 2026, 12, 30, 15), 2, "2027-01-04T09:00:00+01:00"),
        # Thu 04-02 Maundy Thursday, Fri 04-03 Good Friday, Mon 04-06 Easter Monday.
        (at(COPENHAGEN, 2026, 4, 1, 15), 2, "2026-04-07T09:00:00+02:00"),
        # Mon 2026-05-25 Whit Monday: Friday → Tuesday.
        (at(COPENHAGEN, 2026, 5, 22, 15), 2, "2026-05-26T09:00:00+02:00"),
    ],
)
def test_danish_public_and_bank_holidays_are_closed(
    start: datetime, hours: int, expected: str
) -> None:
    """shared/docs/policies.md §4: "Mon–Fri 08:00–16:00 Europe/Copenhagen, excluding Danish public
    holidays and bank holidays … the Friday after Ascension Day, 5 June (Constitution Day),
    24 December, 31 December"."""
    assert iso(copenhagen_dk().add_business_time(start, hours * H)) == expected


def test_danish_business_day_is_eight_hours_and_christmas_fortnight_has_four_days() -> None:
    """shared/docs/policies.md §4 and "Business Day (BD) is one full coverage day of that calendar":
    08:00–16:00 gives 8 h; 23 Dec 2026 – 4 Jan 2027 holds Dec 23, 28, 29, 30 only (32 h)."""
    cal = copenhagen_dk()
    assert cal.business_day == timedelta(hours=8)
    a, b = at(COPENHAGEN, 2026, 12, 23, 8), at(COPENHAGEN, 2027, 1, 4, 8)
    assert cal.business_time_between(a, b) == 32 * H
    assert not cal.is_open(at(COPENHAGEN, 2026, 5, 15, 10))  # Friday after Ascension
    assert cal.is_open(at(COPENHAGEN, 2026, 5, 12, 10))  # an ordinary Tuesday


# ---- time zones and DST ----------------------------------------------------------------------


def test_dst_spring_forward_local_day_has_23_wall_hours() -> None:
    """shared/docs/policies.md: premium Critical is "counted 24/7 (wall clock)": elapsed real time,
    so the spring-forward day (NY 2026-03-08, Copenhagen 2026-03-29) holds 23 hours, and 8x5
    windows keep their local 08:00 after the change."""
    ny_24_7 = BusinessCalendar(NY, always_open=True, name="ny-24/7")
    assert ny_24_7.business_time_between(at(NY, 2026, 3, 8), at(NY, 2026, 3, 9)) == 23 * H
    assert iso(ny_24_7.add_business_time(at(NY, 2026, 3, 8), 24 * H)) == (
        "2026-03-09T01:00:00-04:00"
    )
    cph_24_7 = BusinessCalendar(COPENHAGEN, always_open=True, name="cph-24/7")
    a, b = at(COPENHAGEN, 2026, 3, 29), at(COPENHAGEN, 2026, 3, 30)
    assert cph_24_7.business_time_between(a, b) == 23 * H
    assert iso(cph_24_7.add_business_time(a, 24 * H)) == "2026-03-30T01:00:00+02:00"
    # Whole-day windows (00:00–24:00 every day) touch across midnight: same 23 h.
    all_days = BusinessCalendar(NY, [Window(d, 0, 1440) for d in range(7)], name="ny-days")
    assert all_days.business_time_between(at(NY, 2026, 3, 8), at(NY, 2026, 3, 9)) == 23 * H
    # 8x5 across the change: Fri 16:00 EST + 2 h → Mon 09:00 EDT; Fri 08:00 → Mon 17:00 is 18 h.
    ny = ny_8x5()
    assert iso(ny.add_business_time(at(NY, 2026, 3, 6, 16), 2 * H)) == "2026-03-09T09:00:00-04:00"
    assert ny.business_time_between(at(NY, 2026, 3, 6, 8), at(NY, 2026, 3, 9, 17)) == 18 * H
    dk = copenhagen_dk()
    assert iso(dk.add_business_time(at(COPENHAGEN, 2026, 3, 27, 15), 2 * H)) == (
        "2026-03-30T09:00:00+02:00"
    )


def test_dst_fall_back_local_day_has_25_wall_hours() -> None:
    """shared/docs/policies.md: premium Critical is "counted 24/7 (wall clock)": the fall-back day
    (NY 2026-11-01, Copenhagen 2026-10-25) holds 25 hours, and 8x5 windows keep their local
    hours after the change."""
    ny_24_7 = BusinessCalendar(NY, always_open=True, name="ny-24/7")
    assert ny_24_7.business_time_between(at(NY, 2026, 11, 1), at(NY, 2026, 11, 2)) == 25 * H
    assert iso(ny_24_7.add_business_time(at(NY, 2026, 11, 1), 24 * H)) == (
        "2026-11-01T23:00:00-05:00"
    )
    cph_24_7 = BusinessCalendar(COPENHAGEN, always_open=True, name="cph-24/7")
    a, b = at(COPENHAGEN, 2026, 10, 25), at(COPENHAGEN, 2026, 10, 26)
    assert cph_24_7.business_time_between(a, b) == 25 * H
    assert iso(cph_24_7.add_business_time(a, 24 * H)) == "2026-10-25T23:00:00+01:00"
    all_days = BusinessCalendar(NY, [Window(d, 0, 1440) for d in range(7)], name="ny-days")
    assert all_days.business_time_between(at(NY, 2026, 11, 1), at(NY, 2026, 11, 2)) == 25 * H
    ny = ny_8x5()
    assert iso(ny.add_business_time(at(NY, 2026, 10, 30, 16), 2 * H)) == (
        "2026-11-02T09:00:00-05:00"
    )
    assert ny.business_time_between(at(NY, 2026, 10, 30, 8), at(NY, 2026, 11, 2, 17)) == 18 * H
    dk = copenhagen_dk()
    assert iso(dk.add_business_time(at(COPENHAGEN, 2026, 10, 23, 15), 2 * H)) == (
        "2026-10-26T09:00:00+01:00"
    )


def test_an_instant_given_in_another_zone_gives_the_same_result() -> None:
    """shared/docs/policies.md: coverage is "in the subscription's time zone"; an instant is an
    instant, whatever zone it is written in, and the due comes back in the calendar's zone."""
    cal = ny_8x5()
    saturday_ny = at(NY, 2026, 1, 10, 10)
    saturday_utc = at(UTC, 2026, 1, 10, 15)
    saturday_tokyo = at(TOKYO, 2026, 1, 11, 0)  # already Sunday in Tokyo
    for start in (saturday_ny, saturday_utc, saturday_tokyo):
        assert iso(cal.add_business_time(start, 9 * H)) == "2026-01-12T17:00:00-05:00"
        assert cal.business_time_between(start, at(TOKYO, 2026, 1, 13, 0)) == 2 * H  # Mon 10:00
        assert not cal.is_open(start)
        assert iso(cal.next_opening(start)) == "2026-01-12T08:00:00-05:00"
    wednesday_10_ny = at(TOKYO, 2026, 1, 15, 0)  # = Wed 2026-01-14 10:00 in New York
    assert cal.is_open(wednesday_10_ny)
    assert iso(cal.current_window_close(wednesday_10_ny)) == "2026-01-14T17:00:00-05:00"


# ---- calendar shapes ---------------------------------------------------------------------------


def test_24_7_calendar_counts_wall_clock_time() -> None:
    """shared/docs/policies.md: premium "Critical counted 24/7 (wall clock)" — every instant is open
    and business time is elapsed time."""
    cal = BusinessCalendar(UTC, always_open=True, name="24/7")
    assert cal.describe() == "24/7"
    assert cal.business_day == timedelta(days=1)
    saturday = at(UTC, 2026, 1, 10, 10)
    assert iso(cal.add_business_time(saturday, 90 * H)) == "2026-01-14T04:00:00+00:00"
    assert iso(cal.add_business_time(at(UTC, 2026, 12, 31, 23), 2 * H)) == (
        "2027-01-01T01:00:00+00:00"
    )
    assert cal.is_open(saturday)
    assert iso(cal.next_opening(saturday)) == "2026-01-10T10:00:00+00:00"
    assert cal.business_time_between(saturday, at(UTC, 2026, 1, 12, 10)) == 48 * H
    # A US holiday is open too: 24/7 has no closures.
    assert cal.is_open(at(UTC, 2026, 12, 25, 12))


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # Fri 19:30 + 2 h: 30 min Friday, 1 h 30 from Monday 08:00.
        (at(SAO_PAULO, 2026, 3, 6, 19, 30), 2, "2026-03-09T09:30:00-03:00"),
        # The same instant written in New York time (17:30 EST = 19:30 -03:00).
        (at(NY, 2026, 3, 6, 17, 30), 2, "2026-03-09T09:30:00-03:00"),
        # Mon 2026-01-19 is MLK Day (US holidays): Friday 19:30 → Tuesday.
        (at(SAO_PAULO, 2026, 1, 16, 19, 30), 2, "2026-01-20T09:30:00-03:00"),
        # Saturday + 1 BD (12 h) → Monday 20:00.
        (at(SAO_PAULO, 2026, 3, 7, 10), 12, "2026-03-09T20:00:00-03:00"),
    ],
)
def test_windows_ending_at_20_00_gmt_minus_3(start: datetime, hours: int, expected: str) -> None:
    """shared/docs/policies.md: standard plan "12x5, Mon–Fri 08:00–20:00 at GMT-3
    (America/Sao_Paulo)", US public holidays."""
    cal = sao_paulo_12x5()
    assert cal.business_day == timedelta(hours=12)
    assert iso(cal.add_business_time(start, hours * H)) == expected
    assert cal.is_open(datetime(2026, 3, 6, 19, 59, 59, 999999, tzinfo=SAO_PAULO))
    assert not cal.is_open(at(SAO_PAULO, 2026, 3, 6, 20))


def test_windows_are_half_open() -> None:
    """policy.calendar: "Windows are half-open [open, close)" — 17:00 itself is closed, 08:00
    itself is open."""
    cal = ny_8x5()
    friday_close = at(NY, 2026, 1, 9, 17)
    assert not cal.is_open(friday_close)
    assert cal.is_open(datetime(2026, 1, 9, 16, 59, 59, 999999, tzinfo=NY))
    assert cal.is_open(at(NY, 2026, 1, 9, 8))
    assert not cal.is_open(datetime(2026, 1, 9, 7, 59, 59, 999999, tzinfo=NY))
    assert iso(cal.next_opening(friday_close)) == "2026-01-12T08:00:00-05:00"
    assert iso(cal.next_opening(at(NY, 2026, 1, 14, 10))) == "2026-01-14T10:00:00-05:00"
    assert iso(cal.current_window_close(at(NY, 2026, 1, 14, 8))) == "2026-01-14T17:00:00-05:00"
    assert cal.current_window_close(friday_close) is None
    assert cal.business_time_between(friday_close, at(NY, 2026, 1, 12, 8)) == timedelta(0)
    assert cal.business_time_between(at(NY, 2026, 1, 9, 16, 59), friday_close) == timedelta(
        minutes=1
    )


def test_describe_reads_as_a_coverage_line() -> None:
    """policy.calendar: describe() is "one line a customer can read"."""
    assert ny_8x5().describe() == "Mon–Fri 08:00–17:00 America/New_York"
    assert sao_paulo_12x5().describe() == "Mon–Fri 08:00–20:00 America/Sao_Paulo"


# ---- refusals ----------------------------------------------------------------------------------


def test_naive_datetimes_raise_naive_datetime_error() -> None:
    """shared/docs/style.md: "aware datetimes only, naive ones rejected" — a naive time is
    ambiguous and is never guessed."""
    cal = ny_8x5()
    naive = datetime(2026, 1, 14, 10)
    aware = at(NY, 2026, 1, 14, 10)
    with pytest.raises(NaiveDatetimeError):
        cal.add_business_time(naive, H)
    with pytest.raises(NaiveDatetimeError):
        cal.add_business_time(naive, timedelta(0))
    with pytest.raises(NaiveDatetimeError):
        cal.business_time_between(naive, aware)
    with pytest.raises(NaiveDatetimeError):
        cal.business_time_between(aware, naive)
    with pytest.raises(NaiveDatetimeError):
        cal.is_open(naive)
    with pytest.raises(NaiveDatetimeError):
        cal.next_opening(naive)
    with pytest.raises(NaiveDatetimeError):
        cal.current_window_close(naive)
    assert issubclass(NaiveDatetimeError, CalendarError)


def test_negative_durations_raise_calendar_error() -> None:
    """policy.calendar: "cannot add a negative business duration" (a target is never negative)."""
    cal = ny_8x5()
    with pytest.raises(CalendarError):
        cal.add_business_time(at(NY, 2026, 1, 14, 10), -H)
    with pytest.raises(CalendarError):
        cal.add_business_time(at(NY, 2026, 1, 14, 10), timedelta(microseconds=-1))


def test_calendar_with_windows_but_every_day_closed_raises_instead_of_looping() -> None:
    """policy.calendar: a calendar "has no business time to offer" → CalendarError, never an
    endless search for an opening."""

    def every_day(year: int) -> Iterable[date]:
        day = date(year, 1, 1)
        while day.year == year:
            yield day
            day += timedelta(days=1)

    cal = BusinessCalendar(NY, weekdays("08:00", "17:00"), every_day, name="always-closed")
    with fails_after(2):  # the real check gives up after a few empty years, in milliseconds
        with pytest.raises(CalendarError):
            cal.add_business_time(at(NY, 2026, 1, 14, 10), H)
        with pytest.raises(CalendarError):
            cal.next_opening(at(NY, 2026, 1, 14, 10))
        assert not cal.is_open(at(NY, 2026, 1, 14, 10))


def test_calendar_without_windows_that_is_not_24_7_is_refused() -> None:
    """policy.calendar: "has no opening windows and is not 24/7" is a CalendarError."""
    with pytest.raises(CalendarError):
        BusinessCalendar(NY, [], None, name="empty")


# ---- years ---------------------------------------------------------------------------------------


def test_results_across_year_boundaries_and_earlier_years_asked_later_stay_correct() -> None:
    """policy.calendar: "Intervals are built a local year at a time, lazily, when an instant
    outside the built range is asked about" — asking 2027 first and 2026/2025 after must give
    the same answers as asking them on a fresh calendar."""
    cal = ny_8x5()
    late_question = at(NY, 2027, 12, 30, 16)
    assert iso(cal.add_business_time(late_question, 2 * H)) == "2028-01-03T09:00:00-05:00"
    # Earlier years, asked after later ones were built.
    assert iso(cal.add_business_time(at(NY, 2026, 7, 2, 16), 2 * H)) == (
        "2026-07-06T09:00:00-04:00"
    )
    assert iso(cal.add_business_time(at(NY, 2025, 12, 31, 16), 2 * H)) == (
        "2026-01-02T09:00:00-05:00"
    )
    assert not cal.is_open(at(NY, 2025, 12, 25, 10))
    assert iso(cal.next_opening(at(NY, 2025, 12, 24, 17))) == "2025-12-26T08:00:00-05:00"
    # 2025-12-31 16:00 → 2028-01-03 09:00: 1 h + 2026 (261 weekdays − 11 holidays = 250 days)
    # + 2027 (261 − 12 = 249 days) × 9 h + 1 h = 4493 h.
    a, b = at(NY, 2025, 12, 31, 16), at(NY, 2028, 1, 3, 9)
    assert cal.business_time_between(a, b) == 4493 * H
    assert cal.business_time_between(b, a) == -4493 * H
    # The later question still has its answer after the rebuilds.
    assert iso(cal.add_business_time(late_question, 2 * H)) == "2028-01-03T09:00:00-05:00"
    # business_time_between whose end lies before the built range (a backwards rebuild inside).
    fresh = ny_8x5()
    fresh.add_business_time(at(NY, 2027, 6, 1, 10), H)
    assert fresh.business_time_between(at(NY, 2027, 1, 4, 8), at(NY, 2026, 12, 31, 16)) == -H


class _NoOffset(tzinfo):
    """A tzinfo that knows no offset: such a datetime is naive in all but name."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_a_tzinfo_without_an_offset_is_naive_too() -> None:
    """Aware datetimes only: a tzinfo whose utcoffset() is None is refused, never guessed."""
    cal = BusinessCalendar(ZoneInfo("America/New_York"), [Window(d, 480, 1020) for d in range(5)])
    vague = datetime(2026, 6, 1, 10, 0, tzinfo=_NoOffset())
    aware = datetime(2026, 6, 1, 10, 0, tzinfo=ZoneInfo("America/New_York"))
    with pytest.raises(NaiveDatetimeError):
        cal.add_business_time(vague, timedelta(0))
    with pytest.raises(NaiveDatetimeError):
        cal.add_business_time(vague, timedelta(hours=1))
    with pytest.raises(NaiveDatetimeError):
        cal.business_time_between(aware, vague)


def test_24_7_coverage_has_no_window_close() -> None:
    """A 24/7 calendar never closes, whatever years were built before."""
    utc = ZoneInfo("UTC")
    cal = BusinessCalendar(utc, always_open=True)
    cal.is_open(datetime(2028, 6, 1, tzinfo=utc))
    assert cal.current_window_close(datetime(2026, 6, 1, tzinfo=utc)) is None
