"""A month of the demo deployment (tests/evidence_month.py: filed and worked by a script through
the real case service, handler and scheduler) makes correct reports: every figure below is a
hand count, worked out beside the step that causes it. On SQLite and on Redis."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from adapters.report_render import render
from bot.reports.collect import build_reports, vendor_summary
from bot.reports.model import CustomerReport, Period
from bot.store.base import Store
from tests.evidence_month import AS_OF, CPH, DIRECTORY, LON, NY, at, play

H = timedelta(hours=1)


@pytest.fixture
async def month(store: Store) -> dict[str, CustomerReport]:
    await play(store)
    periods = {cid: Period.month("2026-11", c.tz)
               for cid, c in DIRECTORY.deployment.customers.items()}
    return {r.customer_id: r for r in await build_reports(store, DIRECTORY, periods, AS_OF)}


def tallies(report: CustomerReport) -> dict[str, tuple[int, int]]:
    return {clock: (t[""].met, t[""].breached) for clock, t in report.attainment.items()}


async def test_acme_attainment_per_clock_matches_the_hand_count(
        month: dict[str, CustomerReport]) -> None:
    """Konneqt Enterprise (Service Levels; Definitions: Response/Workaround Time)."""
    acme = month["acme"]
    assert tallies(acme) == {
        # ACME-1 acked in 1 h of 4 (met); ACME-2 due Thu 08:30 after Veterans Day, acked
        # 09:00 (missed); ACME-3, a query, acked in 1 h of 1 Business Day (met)
        "response": (2, 1),
        # ACME-1 20 h of 48 (the day waiting on Acme left out); ACME-2 due Mon 17:00
        # (15:00 + the 2 h waiting for logs), given Tue 10:00
        "workaround": (1, 1),
        # ACME-1 29 h of 72, ACME-2 40 h of 48; ACME-3 is best effort: not counted
        "resolution": (2, 0),
        # every 4 h: ACME-1 none posted (1 missed); ACME-2 Thu 13:00 met, Fri 09:00 late,
        # Fri 12:00 met, then silence until the resolution (missed)
        "status_update": (2, 3),
    }
    assert acme.attainment["response"]["P1 – Critical"].breached == 1
    assert acme.attainment["response"]["Query"].met == 1
    assert (acme.cases_opened, acme.cases_resolved, acme.open_at_end) == (4, 3, 1)
    assert acme.paused_clocks == 4  # the workaround and resolution clocks of ACME-1 and -2


async def test_every_breach_has_its_case_clause_due_actual_pauses_and_escalations(
        month: dict[str, CustomerReport]) -> None:
    acme = month["acme"]
    found = [(b.case_id, b.clock, b.due, b.actual, b.late) for b in acme.breaches]
    assert found == [
        ("ACME-1", "status_update", at(NY, 2, 14), None, 34 * H),
        ("ACME-2", "response", at(NY, 12, 8, 30), at(NY, 12, 9), timedelta(minutes=30)),
        ("ACME-2", "status_update", at(NY, 12, 17), at(NY, 13, 9), 1 * H),
        ("ACME-2", "status_update", at(NY, 13, 16), None, 26 * H),
        ("ACME-2", "workaround", at(NY, 16, 17), at(NY, 17, 10), 2 * H),
    ]
    workaround = acme.breaches[-1]
    assert workaround.clause == "Enterprise: Incidents Service Levels, P1"
    assert [(p.kind, p.start, p.end, p.business, p.reason) for p in workaround.pauses] == [
        ("waiting on the customer", at(NY, 16, 9), at(NY, 16, 11), 2 * H,
         "can you share the gateway logs?")]
    assert [e.level for e in workaround.escalations] == ["Konneqt executive team (war team)"]
    assert workaround.escalations[0].at == at(NY, 16, 17, 1)  # the scheduler's tick
    assert acme.breaches[0].until == at(NY, 6, 12)  # no update before the resolution


async def test_response_and_resolution_times_in_business_time(
        month: dict[str, CustomerReport]) -> None:
    acme = month["acme"]
    # response: 1 h, 1 h 30 (Tue 16:30–17:00 and Thu 08:00–09:00), 1 h
    assert (acme.times["response"].median, acme.times["response"].p90) == (1 * H, 1.5 * H)
    # resolution: 29 h, 40 h, and the query's 8 h (Mon 11:00–17:00, Tue 08:00–10:00)
    assert acme.times["resolution"].values_minutes == (8 * 60, 29 * 60, 40 * 60)
    assert (acme.times["resolution"].median, acme.times["resolution"].p90) == (29 * H, 40 * H)
    assert "resolution" not in month["nordlys"].times  # dk-saas has a first response only


async def test_trend_queries_consulting_and_satisfaction(
        month: dict[str, CustomerReport]) -> None:
    acme = month["acme"]
    assert [p.key for p, _ in acme.trend] == ["2026-06", "2026-07", "2026-08", "2026-09",
                                              "2026-10", "2026-11"]
    assert acme.trend[-1][1]["response"].met == 2 and not acme.trend[0][1]
    assert (acme.query_minutes, acme.query_allowance_hours) == (90, 50)
    assert [(c.case_id, c.outcome) for c in acme.consulting] == [("ACME-4", "approved, new")]
    # ACME-1 5 (then its comment), ACME-2 2; ACME-3's reporter was asked 18 days before:
    # within the 14-day cooldown of the store's wall clock, so not asked again
    assert [(s.case_id, s.score, s.comment) for s in acme.scores] == [
        ("ACME-1", 5, "quick fix"), ("ACME-2", 2, "took far too long")]
    assert (acme.surveys_asked, acme.score_average) == (2, 3.5)


async def test_nordlys_availability_counts_5_minute_measurements_in_operating_hours(
        month: dict[str, CustomerReport]) -> None:
    """dk-saas SLA: Availability — 99.5 % within operating hours, measured every 5 minutes,
    announced extraordinary windows excluded."""
    nordlys = month["nordlys"]
    assert tallies(nordlys) == {"response": (1, 1)}  # NORD-2 acked 1 h after Tue 09:00
    result = nordlys.availability[0].result
    assert result is not None
    # 21 Danish business days in November 2026 × 96 five-minute measurements = 2,016;
    # MW-1 (announced the day before) leaves out 12; NORD-1 down 09:40–11:40 = 24, MW-2
    # (announced 10 min after it began) 13:00–13:30 = 6
    assert (result.counted, result.down) == (2004, 30)
    assert round(result.percent or 0, 3) == 98.503 and result.met is False
    assert [(o.outage.ref, o.outage.start, o.counted) for o in result.outages] == [
        ("NORD-1", at(CPH, 3, 9, 40), 2 * H)]
    assert [(w.window.ref, w.excluded, w.counted) for w in result.windows] == [
        ("MW-1", True, 1 * H), ("MW-2", False, timedelta(minutes=30))]


async def test_umbrella_uptime_is_wall_clock_over_the_month(
        month: dict[str, CustomerReport]) -> None:
    """ConnectSoft Premium: Core Platforms uptime 99.9 % over the calendar month."""
    umbrella = month["umbrella"]
    result = umbrella.availability[0].result
    assert result is not None
    # 30 days = 43,200 min; UMB-1 down 01:50–04:50 (180 min) and MW-3 (60 min: ConnectSoft
    # leaves no window out) → 42,960 / 43,200
    assert (result.counted, result.down) == (43_200 * 60, 240 * 60)
    assert round(result.percent or 0, 4) == 99.4444 and result.met is False
    assert [b.case_id for b in umbrella.breaches] == ["UMB-2"]
    assert umbrella.breaches[0].due == at(LON, 9, 14)


async def test_customers_without_cases_or_promises_get_an_empty_report(
        month: dict[str, CustomerReport]) -> None:
    for cid in ("globex", "initech"):
        report = month[cid]
        assert (report.cases_opened, report.attainment, report.availability) == (0, {}, [])


async def test_csv_and_json_carry_the_same_figures(month: dict[str, CustomerReport]) -> None:
    acme = month["acme"]
    rows = list(csv.DictReader(io.StringIO(render(acme, "csv").decode())))
    attainment = {(r["clock"], r["priority"]): (r["met"], r["breached"])
                  for r in rows if r["section"] == "attainment"}
    assert attainment[("response", "all")] == ("2", "1")
    assert [r["case_id"] for r in rows if r["section"] == "breach"] == [
        "ACME-1", "ACME-2", "ACME-2", "ACME-2", "ACME-2"]
    data = json.loads(render(month["nordlys"], "json"))
    assert data["availability"][0]["result"]["counted"] == 2004
    assert data["attainment"]["response"]["all"]["percent_met"] == 50.0
    assert data["satisfaction"] == {"answers": 1, "asked": 2, "average": 4.0,
                                    "counts": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}}


async def test_vendor_summary_has_a_row_per_customer(store: Store) -> None:
    await play(store)
    summary = await vendor_summary(store, DIRECTORY, "2026-11", AS_OF)
    assert [(r.customer_id, len(r.breaches)) for r in summary.reports] == [
        ("acme", 5), ("globex", 0), ("initech", 0), ("umbrella", 1), ("nordlys", 1)]
