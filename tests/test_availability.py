"""Availability as each pack defines it (policies.md, "Availability and retention, settled"):
one test per rule, named after it, citing the clause. policy/availability.py is pure."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from policy.availability import Measurement, Outage, WindowSpan, availability, stated_start
from policy.errors import CaseFactsError, PackError
from policy.pack import WALL_CLOCK, load_pack, load_pack_file
from policy.sla import CaseFacts, condition_holds

CPH = ZoneInfo("Europe/Copenhagen")
LON = ZoneInfo("Europe/London")
DK = load_pack("dk-saas")
CS = load_pack("connectsoft")
DK_PROMISE = DK.plans["standard"].availability[0]
DK_HOURS = DK.calendar("danish-operating-hours", "Europe/Copenhagen", "DK")
# Mon 2 – Fri 6 Nov 2026: five Danish business days, 08:00–16:00 = 5 × 96 measurements
WEEK = (datetime(2026, 11, 2, tzinfo=CPH), datetime(2026, 11, 7, tzinfo=CPH))


def dk(**kw: object) -> float:
    result = availability(DK_PROMISE, *WEEK, DK_HOURS, **kw)  # type: ignore[arg-type]
    assert result.percent is not None
    return result.percent


def outage(day: int, h1: int, m1: int, h2: int, m2: int, zone: ZoneInfo = CPH) -> Outage:
    return Outage(datetime(2026, 11, day, h1, m1, tzinfo=zone),
                  datetime(2026, 11, day, h2, m2, tzinfo=zone), "X-1", "incidents")


def test_dk_saas_availability_is_99_5_percent_per_calendar_month() -> None:
    """dk-saas SLA: Availability — “99.5% service uptime within operating hours”;
    “measures service availability every 5 minutes … per month”."""
    assert DK_PROMISE.target_percent == 99.5
    assert DK_PROMISE.period == "calendar-month"
    assert DK_PROMISE.measured_every is not None and DK_PROMISE.measured_every.minutes == 5
    assert "Availability" in DK_PROMISE.clause


def test_dk_saas_counts_5_minute_measurements_within_operating_hours() -> None:
    """dk-saas: Operating hours — Danish business days 08:00–16:00; an outage outside them
    (Tue 16:00–20:00, or the weekend) costs nothing, one inside costs its measurements."""
    result = availability(DK_PROMISE, *WEEK, DK_HOURS, outages=[outage(3, 16, 0, 20, 0)])
    assert (result.counted, result.down) == (480, 0)
    inside = availability(DK_PROMISE, *WEEK, DK_HOURS, outages=[outage(3, 9, 40, 11, 40)])
    assert (inside.counted, inside.down) == (480, 24)
    assert inside.outages[0].counted == timedelta(hours=2)


def test_dk_saas_leaves_out_service_windows_announced_before_they_start() -> None:
    """dk-saas: “excluding extraordinary service windows … Service Provider will endeavor to
    provide notice” — announced before it started: left out of the count altogether."""
    window = WindowSpan(datetime(2026, 11, 4, 14, 0, tzinfo=CPH),
                        datetime(2026, 11, 4, 15, 0, tzinfo=CPH),
                        datetime(2026, 11, 3, 10, 0, tzinfo=CPH), "MW-1")
    result = availability(DK_PROMISE, *WEEK, DK_HOURS, windows=[window])
    assert (result.counted, result.down, result.percent) == (468, 0, 100.0)
    assert result.windows[0].excluded and result.windows[0].counted == timedelta(hours=1)


def test_dk_saas_counts_an_unannounced_window_as_downtime() -> None:
    """policies.md: “A window counts as extraordinary only if it was announced before it
    started … an unannounced outage is downtime.”"""
    late = WindowSpan(datetime(2026, 11, 4, 14, 0, tzinfo=CPH),
                      datetime(2026, 11, 4, 14, 30, tzinfo=CPH),
                      datetime(2026, 11, 4, 14, 10, tzinfo=CPH), "MW-2")
    result = availability(DK_PROMISE, *WEEK, DK_HOURS, windows=[late])
    assert (result.counted, result.down) == (480, 6)
    assert not result.windows[0].excluded


def test_dk_saas_missing_99_5_percent_is_said_with_the_evidence() -> None:
    result = availability(DK_PROMISE, *WEEK, DK_HOURS, outages=[outage(3, 9, 0, 12, 0)])
    assert result.met is False and round(result.percent or 0, 2) == 92.5
    assert "incidents (no probe configured)" in result.explanation
    assert "missed" in result.explanation


def test_connectsoft_uptime_is_counted_on_the_wall_clock_over_the_calendar_month() -> None:
    """policies.md: ConnectSoft “uptime … over the whole calendar month on the wall clock”."""
    promise = CS.plans["premium"].availability_for("platform")
    assert promise is not None and promise.counted_in == WALL_CLOCK
    month = (datetime(2026, 11, 1, tzinfo=LON), datetime(2026, 12, 1, tzinfo=LON))
    night = Outage(datetime(2026, 11, 7, 1, 50, tzinfo=LON),
                   datetime(2026, 11, 7, 4, 50, tzinfo=LON), "UMB-1", "incidents")
    result = availability(promise, *month, None, outages=[night])
    assert (result.counted, result.down) == (30 * 24 * 3600, 3 * 3600)  # a Saturday night
    assert round(result.percent or 0, 4) == 99.5833 and result.met is False


def test_connectsoft_uptime_is_99_5_on_standard_99_9_on_premium_none_on_basic() -> None:
    """ConnectSoft SLA Concepts by Product Type: Platforms (SaaS) — “Uptime: 99.5%
    (Standard), 99.9% (Premium)”; Basic — best effort, no SLA."""
    assert CS.plans["standard"].availability_for("platform").target_percent == 99.5  # type: ignore[union-attr]
    assert CS.plans["premium"].availability_for("platform").target_percent == 99.9  # type: ignore[union-attr]
    basic = CS.plans["basic"].availability_for("platform")
    assert basic is not None and not basic.promised


def test_connectsoft_uptime_applies_to_core_platforms_only() -> None:
    """policies.md: “uptime applies to Core Platforms (SaaS) only”; factory-built and
    partner-delivered have the subscription's own figure."""
    premium = CS.plans["premium"]
    assert premium.availability_for(None) is None  # a deployment of no known product type
    factory = premium.availability_for("factory-built")
    assert factory is not None and factory.target == "per-subscription"
    assert premium.availability_for("partner-delivered") is factory


def test_connectsoft_factory_built_target_is_a_per_subscription_setting_with_no_default() -> None:
    """ConnectSoft Bespoke SaaS: “Uptime: Project-specific (typically 99.0-99.5%)”."""
    factory = CS.plans["standard"].availability_for("factory-built")
    assert factory is not None and factory.target_percent is None
    month = (datetime(2026, 11, 1, tzinfo=LON), datetime(2026, 12, 1, tzinfo=LON))
    unset = availability(factory, *month, None)
    assert unset.met is None and "no target" in unset.explanation
    set_ = availability(factory, *month, None, target_percent=99.0)
    assert set_.met is True and set_.target_percent == 99.0


def test_connectsoft_leaves_no_service_window_out() -> None:
    """The ConnectSoft seed says nothing of maintenance windows: a window is downtime."""
    promise = CS.plans["premium"].availability_for("platform")
    assert promise is not None and promise.excludes == ()
    month = (datetime(2026, 11, 1, tzinfo=LON), datetime(2026, 12, 1, tzinfo=LON))
    window = WindowSpan(datetime(2026, 11, 22, 1, tzinfo=LON),
                        datetime(2026, 11, 22, 2, tzinfo=LON),
                        datetime(2026, 11, 20, 12, tzinfo=LON), "MW-3")
    assert availability(promise, *month, None, windows=[window]).down == 3600


@pytest.mark.parametrize("pack", ["konneqt", "qscim"])
def test_konneqt_and_qscim_promise_no_availability(pack: str) -> None:
    """policies.md: QSCIM's “4.1 Availability” is support coverage (8x5), not uptime:
    Konneqt and QSCIM promise no uptime."""
    assert all(not plan.availability for plan in load_pack(pack).plans.values())


def test_service_down_incidents_are_the_evidence_the_pack_names() -> None:
    """Without a probe, service-down incidents are the evidence: dk-saas Highest (all users
    affected) in production; ConnectSoft Critical in production."""
    down = DK_PROMISE.down_when
    assert down is not None
    assert condition_holds(down, "standard", CaseFacts("incident", "highest", "production"))
    assert not condition_holds(down, "standard", CaseFacts("incident", "medium", "production"))
    assert not condition_holds(down, "standard",
                               CaseFacts("incident", "highest", "pre-production"))


def test_probe_results_are_the_evidence_where_a_probe_is_configured() -> None:
    """policies.md: “Downtime evidence: a probe result every interval where a probe is
    configured” — missing results are left out and said."""
    results = [Measurement(datetime(2026, 11, 3, 8, 0, tzinfo=CPH) + timedelta(minutes=5 * i),
                           up=not 10 <= i < 13) for i in range(96)]
    result = availability(DK_PROMISE, *WEEK, DK_HOURS, measurements=results,
                          outages=[outage(3, 9, 0, 16, 0)])  # outages ignored with probes
    assert (result.evidence, result.counted, result.down) == ("probe", 96, 3)
    assert result.unmeasured == 480 - 96 and "had no probe result" in result.explanation


def test_downtime_runs_from_the_time_the_customer_gives() -> None:
    """policies.md: “from the reported start, or the time the customer gives”."""
    reported = datetime(2026, 11, 3, 10, 10, tzinfo=CPH)
    assert stated_start("Nobody can log in since 09:40", reported, CPH) == \
        datetime(2026, 11, 3, 9, 40, tzinfo=CPH)
    assert stated_start("down from 9 am", reported, CPH) == datetime(2026, 11, 3, 9, 0,
                                                                      tzinfo=CPH)
    assert stated_start("started at 23:15 last night", reported, CPH) == \
        datetime(2026, 11, 2, 23, 15, tzinfo=CPH)
    assert stated_start("broken since 2 releases", reported, CPH) is None
    assert stated_start("down since 25:00", reported, CPH) is None


def test_an_empty_period_is_refused() -> None:
    with pytest.raises(CaseFactsError, match="empty"):
        availability(DK_PROMISE, WEEK[1], WEEK[0], DK_HOURS)


def test_a_pack_availability_promise_is_validated(tmp_path: object) -> None:
    """Packs are validated data: a target that isn't a share, or a calendar the pack lacks,
    is refused naming the key."""
    from pathlib import Path

    base = (Path(__file__).resolve().parent.parent / "policy" / "packs" / "dk-saas.toml")
    folder = Path(str(tmp_path))
    (folder / "_vocabulary.toml").write_text(
        (base.parent / "_vocabulary.toml").read_text())
    text = base.read_text()
    bad = folder / "bad.toml"
    bad.write_text(text.replace('target = "99.5%"', 'target = "most of the time"'))
    with pytest.raises(PackError, match="not an availability target"):
        load_pack_file(bad)
    bad.write_text(text.replace('counted_in = "danish-operating-hours"',
                                'counted_in = "office-hours"'))
    with pytest.raises(PackError, match="unknown calendar 'office-hours'"):
        load_pack_file(bad)
