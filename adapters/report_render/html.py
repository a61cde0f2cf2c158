"""A report as one self-contained HTML page: inline CSS, charts as inline SVG (matplotlib), no
scripts and no outside requests — it opens from a file, an upload or a link alike. Every value
is escaped."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from adapters.report_render import charts
from adapters.report_render.words import (
    actual,
    at,
    availability_figure,
    availability_verdict,
    percent,
    span,
    subtitle,
    title,
)
from adapters.safe_text import strip_bidi_controls
from bot.reports.model import CustomerReport, VendorSummary

_CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 "DejaVu Sans",system-ui,sans-serif;color:#263238;margin:0;background:#f5f7f8}
main{max-width:980px;margin:0 auto;padding:28px 32px 48px;background:#fff}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:30px 0 10px;padding-bottom:4px;border-bottom:2px solid #eceff1}
h3{font-size:14px;margin:18px 0 6px}
.sub{color:#546e7a;font-size:12.5px;margin:0 0 18px}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:10px}
.tile{border:1px solid #eceff1;border-radius:8px;padding:10px 12px}
.tile b{display:block;font-size:20px}
.tile>span{color:#546e7a;font-size:12px}
.good{color:#2e7d32}.bad{color:#c62828}
table{border-collapse:collapse;width:100%;font-size:12.5px;margin:6px 0 10px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eceff1;vertical-align:top}
th{background:#f5f7f8;font-weight:600}
td.n,th.n{text-align:right;white-space:nowrap}
tr.total td{font-weight:600;border-top:1px solid #b0bec5}
.chart svg{width:100%;height:auto}
.clause{color:#607d8b;font-size:11.5px}
.note{color:#546e7a;font-size:12px}
.empty{color:#78909c;font-style:italic}
ul.pauses{margin:0;padding-left:16px}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
@media (max-width:640px){main{padding:18px 12px 32px}h1{font-size:19px}table{font-size:12px}
.chart{overflow-x:auto}.chart svg{min-width:520px}}
@media print{body{background:#fff}main{padding:0}h2{break-after:avoid}tr{break-inside:avoid}}
"""


def render_html(report: CustomerReport) -> str:
    """The customer's report for its period, as a page."""
    body = [f"<h1>{_e(title(report))}</h1>", f"<p class=sub>{_e(subtitle(report))}</p>",
            _tiles(report), _attainment(report), _breaches(report), _times(report),
            _trend(report), _usage(report), _satisfaction(report)]
    if report.availability:
        body.append(_availability(report))
    body.append("<h2>How this was counted</h2>" + "".join(
        f"<p class=note>{_e(n)}</p>" for n in report.notes))
    return _page(title(report), body)


def render_summary_html(summary: VendorSummary) -> str:
    """The vendor's admins' summary across customers for one month."""
    rows = []
    for r in summary.reports:
        avail = "; ".join(f"{a.deployment}: {availability_figure(a.result)} "
                          f"({availability_verdict(a.result)})" for a in r.availability
                          if a.result is not None) or "—"
        avg = f"{r.score_average:.1f} ({len(r.scores)})" if r.score_average else "—"
        rows.append([r.customer_name, f"{r.pack} · {r.plan}", str(r.cases_opened),
                     percent(r.total("response")), percent(r.total("workaround")),
                     percent(r.total("resolution")), percent(r.total("status_update")),
                     str(len(r.breaches)), avg, avail])
    table = _table(["customer", "policy · plan", "opened", "response", "workaround",
                    "resolution", "status updates", "breaches", "satisfaction",
                    "availability"], rows, numeric={2, 3, 4, 5, 6, 7})
    head = f"SLA summary — all customers — {summary.label}"
    return _page(head, [f"<h1>{_e(head)}</h1>",
                        "<p class=sub>Each customer's month in its own time zone; % met of "
                        "the clocks decided in the month.</p>", table])


# -- sections -----------------------------------------------------------------------------------


def _tiles(r: CustomerReport) -> str:
    tiles = [(str(r.cases_opened), "cases opened"), (str(r.cases_resolved), "cases resolved"),
             (str(r.open_at_end), "open at the end")]
    for clock in ("response", "resolution"):
        tally = r.attainment.get(clock, {}).get("")
        if tally and tally.total:
            tiles.append((percent(tally), f"{r.clock_labels.get(clock, clock).lower()} met",
                          ))
    tiles.append((str(len(r.breaches)), "breaches"))
    if r.score_average is not None:
        tiles.append((f"{r.score_average:.1f} / 5", f"satisfaction ({len(r.scores)})"))
    for a in r.availability:
        if a.result is not None and a.result.percent is not None:
            cls = "" if a.result.met is None else (" class=good" if a.result.met
                                                   else " class=bad")
            tiles.append((f"<span{cls}>{a.result.percent:.3f} %</span>",
                          f"availability {a.deployment}"))
    return "<div class=tiles>" + "".join(
        f"<div class=tile><b>{v if v.startswith('<') else _e(v)}</b><span>{_e(k)}</span></div>"
        for v, k in tiles) + "</div>"


def _attainment(r: CustomerReport) -> str:
    out = ["<h2>Attainment</h2>"]
    if not r.attainment:
        return out[0] + "<p class=empty>No clock with a target was decided in this period.</p>"
    out.append(_chart(charts.attainment(r, "svg")))
    header = ["clock", "priority", "met", "breached", "% met"]
    rows: list[list[str]] = []
    for clock, tallies in r.attainment.items():
        label = r.clock_labels.get(clock, clock)
        for prio in r.priority_order:
            t = tallies.get(prio)
            if t and t.total:
                rows.append([label, prio, str(t.met), str(t.breached), percent(t)])
        total = tallies.get("")
        if total:
            rows.append([label, "all", str(total.met), str(total.breached), percent(total),
                         "total"])
    out.append(_table(header, rows, numeric={2, 3, 4}))
    return "".join(out)


def _breaches(r: CustomerReport) -> str:
    out = [f"<h2>Breaches ({len(r.breaches)})</h2>"]
    if not r.breaches:
        return out[0] + "<p class=empty>No target was missed in this period.</p>"
    rows = []
    for b in r.breaches:
        pauses = "".join(f"<li>{_e(p.kind)} {_e(at(p.start, r.tz))} → "
                         f"{_e(at(p.end, r.tz) if p.end else 'still')} "
                         f"({_e(span(p.business))} business)"
                         f"{': ' + _e(p.reason) if p.reason else ''}</li>" for p in b.pauses)
        escalations = "".join(f"<li>{_e(at(e.at, r.tz))} → {_e(e.level)}"
                              f"{' by ' + _e(e.by) if e.by else ''}</li>" for e in b.escalations)
        rows.append([
            f"<b>{_e(b.case_id)}</b><br>{_e(b.title)}",
            f"{_e(b.clock_label)}<br>{_e(b.priority)}, target {_e(b.target)}"
            f"<div class=clause>{_e(b.clause)}</div>",
            _e(at(b.due, r.tz)),
            _e(actual(b, r.tz)),
            _e(span(b.late)),
            f"<ul class=pauses>{pauses}</ul>" if pauses else "none",
            f"<ul class=pauses>{escalations}</ul>" if escalations else "none",
        ])
    out.append(_table(["case", "clock", "due", "actual", "late (business)", "pauses",
                       "escalations"], rows, numeric={4}, raw=True))
    return "".join(out)


def _times(r: CustomerReport) -> str:
    out = ["<h2>Response and resolution times</h2>"]
    rows = [[r.clock_labels.get(n, n), str(s.count), span(s.median), span(s.p90)]
            for n, s in r.times.items()]
    if not any(s.count for s in r.times.values()):
        return out[0] + "<p class=empty>No clock stopped in this period.</p>"
    out.append(_table(["clock", "cases", "median", "p90"], rows, numeric={1, 2, 3}))
    out.append(_chart(charts.times(r, "svg")))
    return "".join(out)


def _trend(r: CustomerReport) -> str:
    chart = charts.trend(r, "svg")
    out = ["<h2>Trend</h2>", _chart(chart) if chart else
           "<p class=note>Only one month has figures so far: the chart starts with the "
           "second.</p>"]
    clocks = [c for c in r.clock_labels if any(c in t for _, t in r.trend)]
    rows = [[f"{p.start:%b %Y}", *[
        f"{percent(t.get(c))} ({t[c].met}/{t[c].total})" if c in t else "—" for c in clocks]]
        for p, t in r.trend]
    out.append(_table(["month", *[r.clock_labels.get(c, c) for c in clocks]], rows,
                      numeric=set(range(1, len(clocks) + 1))))
    return "".join(out)


def _usage(r: CustomerReport) -> str:
    out = ["<h2>Query hours and consulting</h2>"]
    if r.query_allowance_hours:
        used = r.query_minutes_term / 60
        share = 100 * used / r.query_allowance_hours
        out.append(f"<p>{r.query_minutes / 60:.1f} query hours logged in the period; "
                   f"{used:.1f} of the plan's {r.query_allowance_hours} hours used in all "
                   f"({share:.0f} %).</p>")
    else:
        out.append("<p class=note>The plan sets no query-hour allowance.</p>")
    if r.consulting:
        rows = [[c.case_id, c.title, at(c.opened, r.tz), c.outcome, c.approved_by or "—",
                 "yes" if c.billable else "no"] for c in r.consulting]
        out.append("<h3>Consulting requests</h3>")
        out.append(_table(["case", "request", "opened", "outcome", "approved by", "billable"],
                          rows))
    else:
        out.append("<p class=empty>No consulting requests in this period.</p>")
    return "".join(out)


def _satisfaction(r: CustomerReport) -> str:
    out = ["<h2>Satisfaction</h2>"]
    if not r.scores:
        asked = f" ({r.surveys_asked} asked)" if r.surveys_asked else ""
        return out[0] + f"<p class=empty>No survey answers in this period{_e(asked)}.</p>"
    avg = r.score_average or 0.0
    out.append(f"<p>Average <b>{avg:.2f} / 5</b> from {len(r.scores)} answers "
               f"({r.surveys_asked} surveys asked).</p>")
    out.append(_chart(charts.scores(r, "svg"), 380))
    comments = [[s.case_id, str(s.score), s.comment, at(s.at, r.tz)]
                for s in r.scores if s.comment or s.score <= 2]
    if comments:
        out.append(_table(["case", "score", "comment", "answered"], comments, numeric={1}))
    return "".join(out)


def _availability(r: CustomerReport) -> str:
    out = ["<h2>Availability</h2>"]
    points = [(a.deployment, a.result.percent, a.result.target_percent)
              for a in r.availability if a.result is not None and a.result.percent is not None]
    out.append(_chart(charts.availability(points, "svg")))
    for a in r.availability:
        out.append(f"<h3>{_e(a.deployment)}</h3>")
        result = a.result
        if result is None:
            out.append(f"<p class=note>{_e(a.note)}</p>")
            continue
        verdict = availability_verdict(result)
        cls = "good" if verdict == "met" else "bad" if verdict == "missed" else ""
        target = f"{result.target_percent:g} %" if result.target_percent is not None else "none"
        out.append(f"<p><b class={cls}>{_e(availability_figure(result))} — {_e(verdict)}</b>"
                   f" (target {_e(target)}). {_e(result.explanation)}</p>"
                   f"<p class=clause>{_e(result.promise.clause)}</p>")
        if result.outages:
            rows = [[o.outage.ref, at(o.outage.start, r.tz),
                     at(o.outage.end, r.tz) if o.outage.end else "still down",
                     span(o.counted), o.outage.detail] for o in result.outages]
            out.append(_table(["outage", "from", "to", "counted downtime", "evidence"], rows,
                              numeric={3}))
        else:
            out.append("<p class=empty>No outage in this period.</p>")
        if result.windows:
            rows = [[w.window.ref, at(w.window.start, r.tz), at(w.window.end, r.tz),
                     at(w.window.announced_at, r.tz),
                     "left out (announced in advance)" if w.excluded else "counted as downtime",
                     span(w.counted), w.window.reason] for w in result.windows]
            out.append(_table(["service window", "from", "to", "announced", "availability",
                               "time", "reason"], rows, numeric={5}))
    return "".join(out)


# -- pieces ---------------------------------------------------------------------------------------


def _e(text: object) -> str:
    return escape(strip_bidi_controls(str(text)), quote=True)


def _chart(svg: bytes | None, width: int | None = None) -> str:
    if svg is None:
        return ""
    text = svg.decode()
    start = text.find("<svg")
    style = f" style='max-width:{width}px'" if width else ""
    return f"<div class=chart{style}>{text[start:] if start >= 0 else text}</div>"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]],
           numeric: frozenset[int] | set[int] = frozenset(), raw: bool = False) -> str:
    def cell(tag: str, i: int, value: str) -> str:
        cls = " class=n" if i in numeric else ""
        return f"<{tag}{cls}>{value if raw and tag == 'td' else _e(value)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = []
    for row in rows:
        total = len(row) > len(header) and row[len(header)] == "total"
        cells = "".join(cell("td", i, v) for i, v in enumerate(row[:len(header)]))
        body.append(f"<tr class=total>{cells}</tr>" if total else f"<tr>{cells}</tr>")
    return (f"<div class=scroll><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _page(head: str, body: Sequence[str]) -> str:
    return ("<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width,initial-scale=1'>"
            f"<title>{_e(head)}</title><style>{_CSS}</style></head><body><main>"
            + "".join(body) + "</main></body></html>")
