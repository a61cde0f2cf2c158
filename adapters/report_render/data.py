"""A report as data: JSON (everything, instants in ISO 8601 with the customer's offset,
durations in minutes) and CSV (one row per figure, breach, outage and window, in long form:
the `section` column says which)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.reports.model import CustomerReport, Period, Tally, VendorSummary
from policy.availability import AvailabilityResult
from policy.pack import AvailabilityPromise

CSV_COLUMNS = ("section", "clock", "priority", "case_id", "title", "target", "due", "actual",
               "late_business_minutes", "met", "breached", "percent_met", "value", "detail",
               "clause")


def _minutes(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 60, 2)


def _plain(value: Any, tz: ZoneInfo) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(tz).isoformat()
    if isinstance(value, timedelta):
        return _minutes(value)
    if isinstance(value, ZoneInfo):
        return value.key
    if isinstance(value, Tally):
        return {"met": value.met, "breached": value.breached, "total": value.total,
                "percent_met": None if value.percent is None else round(value.percent, 2)}
    if isinstance(value, Period):
        return {"key": value.key, "label": value.label, "start": _plain(value.start, tz),
                "end": _plain(value.end, tz)}
    if isinstance(value, AvailabilityPromise):
        return value.model_dump(mode="json")
    if isinstance(value, AvailabilityResult):
        out = {f.name: _plain(getattr(value, f.name), tz) for f in dataclasses.fields(value)}
        out["percent"] = None if value.percent is None else round(value.percent, 4)
        return out
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name), tz) for f in dataclasses.fields(value)
                if f.name != "values_minutes"}
    if isinstance(value, dict):
        return {str(k) if k != "" else "all": _plain(v, tz) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, tz) for v in value]
    return value


def report_json(report: CustomerReport) -> dict[str, Any]:
    out: dict[str, Any] = _plain(report, report.tz)
    out["trend"] = [{"month": p.key, "clocks": _plain(t, report.tz)} for p, t in report.trend]
    out["satisfaction"] = {"answers": len(report.scores), "asked": report.surveys_asked,
                           "average": None if report.score_average is None
                           else round(report.score_average, 2),
                           "counts": {str(k): v for k, v in report.score_counts().items()}}
    return out


def render_json(report: CustomerReport) -> str:
    return json.dumps(report_json(report), indent=2, ensure_ascii=False)


def render_summary_json(summary: VendorSummary) -> str:
    return json.dumps({"month": summary.period_key, "as_of": summary.as_of.isoformat(),
                       "customers": [report_json(r) for r in summary.reports]},
                      indent=2, ensure_ascii=False)


def render_csv(report: CustomerReport) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in csv_rows(report):
        writer.writerow(row)
    return buffer.getvalue()


def csv_rows(report: CustomerReport) -> list[dict[str, Any]]:
    tz = report.tz
    rows: list[dict[str, Any]] = []
    for clock, tallies in report.attainment.items():
        for prio, t in tallies.items():
            rows.append({"section": "attainment", "clock": clock, "priority": prio or "all",
                         "met": t.met, "breached": t.breached,
                         "percent_met": None if t.percent is None else round(t.percent, 2)})
    for b in report.breaches:
        rows.append({
            "section": "breach", "clock": b.clock, "priority": b.priority, "case_id": b.case_id,
            "title": b.title, "target": b.target, "due": _plain(b.due, tz),
            "actual": _plain(b.actual, tz), "late_business_minutes": _minutes(b.late),
            "detail": "; ".join(
                [f"{p.kind} {_plain(p.start, tz)}–{_plain(p.end, tz) or 'still'} "
                 f"({_minutes(p.business)} min){': ' + p.reason if p.reason else ''}"
                 for p in b.pauses]
                + [f"escalated {_plain(e.at, tz)} to {e.level}" for e in b.escalations]),
            "clause": b.clause})
    for clock, stats in report.times.items():
        for name, value in (("median_business_minutes", stats.median),
                            ("p90_business_minutes", stats.p90)):
            rows.append({"section": "times", "clock": clock, "value": _minutes(value),
                         "detail": f"{name} over {stats.count} cases"})
    for period, tallies in report.trend:
        for clock, t in tallies.items():
            rows.append({"section": "trend", "clock": clock, "detail": period.key, "met": t.met,
                         "breached": t.breached,
                         "percent_met": None if t.percent is None else round(t.percent, 2)})
    rows.append({"section": "query_hours", "value": round(report.query_minutes / 60, 2),
                 "detail": f"logged in the period; {report.query_minutes_term / 60:.2f} in all"
                 f" of {report.query_allowance_hours or 'no'} allowed"})
    for c in report.consulting:
        rows.append({"section": "consulting", "case_id": c.case_id, "title": c.title,
                     "detail": c.outcome, "value": "billable" if c.billable else ""})
    for s in report.scores:
        rows.append({"section": "satisfaction", "case_id": s.case_id, "value": s.score,
                     "detail": s.comment, "actual": _plain(s.at, tz)})
    for a in report.availability:
        result = a.result
        if result is None:
            rows.append({"section": "availability", "title": a.deployment, "detail": a.note})
            continue
        rows.append({"section": "availability", "title": a.deployment,
                     "value": None if result.percent is None else round(result.percent, 4),
                     "target": result.target_percent,
                     "met": "" if result.met is None else int(result.met),
                     "detail": result.explanation, "clause": result.promise.clause})
        for o in result.outages:
            rows.append({"section": "outage", "title": a.deployment, "case_id": o.outage.ref,
                         "due": _plain(o.outage.start, tz), "actual": _plain(o.outage.end, tz),
                         "value": _minutes(o.counted), "detail": o.outage.detail})
        for w in result.windows:
            rows.append({"section": "service_window", "title": a.deployment,
                         "case_id": w.window.ref, "due": _plain(w.window.start, tz),
                         "actual": _plain(w.window.end, tz), "value": _minutes(w.counted),
                         "detail": ("left out, announced " if w.excluded else
                                    "downtime, announced ") + str(_plain(w.window.announced_at,
                                                                         tz))})
    return rows
