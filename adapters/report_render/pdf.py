"""A report as PDF, laid out with ReportLab's platypus (pure Python wheels: no system
libraries), the same sections as the HTML page with the charts as PNG (matplotlib)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from xml.sax.saxutils import escape as _escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

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
from bot.reports.model import CustomerReport

_STYLES = getSampleStyleSheet()
H1 = ParagraphStyle("h1", parent=_STYLES["Heading1"], fontSize=17, spaceAfter=2)
H2 = ParagraphStyle("h2", parent=_STYLES["Heading2"], fontSize=13, spaceBefore=10, spaceAfter=4,
                    keepWithNext=1,
                    textColor=colors.HexColor("#263238"))
BODY = ParagraphStyle("body", parent=_STYLES["BodyText"], fontSize=9, leading=12)
SMALL = ParagraphStyle("small", parent=BODY, fontSize=7.5, leading=9.5,
                       textColor=colors.HexColor("#546e7a"))
CELL = ParagraphStyle("cell", parent=BODY, fontSize=7.5, leading=9.5)
WIDTH = A4[0] - 30 * mm


def escape(text: str) -> str:
    """Text for a ReportLab paragraph: markup escaped, bidirectional controls removed."""
    return _escape(strip_bidi_controls(text))


def render_pdf(report: CustomerReport) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=14 * mm, bottomMargin=14 * mm, title=title(report),
                            author="Frontdoor", subject=f"SLA report {report.period.key}",
                            invariant=1)
    story: list[Flowable] = [Paragraph(escape(title(report)), H1),
                             Paragraph(escape(subtitle(report)), SMALL), Spacer(0, 4 * mm)]
    story += _summary(report)
    story += _attainment(report)
    story += _breaches(report)
    story += _times(report)
    story += _trend(report)
    story += _usage(report)
    story += _availability(report)
    story.append(Paragraph("How this was counted", H2))
    story += [Paragraph(escape(n), SMALL) for n in report.notes]
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()


def _footer(canvas: object, doc: object) -> None:
    from reportlab.pdfgen.canvas import Canvas

    assert isinstance(canvas, Canvas)
    canvas.saveState()
    canvas.setFont("Helvetica", 7)
    canvas.setFillColor(colors.HexColor("#78909c"))
    canvas.drawRightString(A4[0] - 15 * mm, 8 * mm, f"page {canvas.getPageNumber()}")
    canvas.restoreState()


def _chart(png: bytes | None, width: float = WIDTH) -> list[Flowable]:
    if png is None:
        return []
    image = Image(io.BytesIO(png))
    scale = width / image.imageWidth
    image.drawWidth, image.drawHeight = width, image.imageHeight * scale
    return [image]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]],
           widths: Sequence[float] | None = None, numeric: frozenset[int] | set[int] = frozenset(),
           totals: frozenset[int] | set[int] = frozenset()) -> Table:
    data = [[Paragraph(f"<b>{escape(h)}</b>", CELL) for h in header]]
    data += [[Paragraph(escape(str(v)), CELL) for v in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    style = [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eceff1")),
             ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#cfd8dc")),
             ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]
    style += [("ALIGN", (i, 0), (i, -1), "RIGHT") for i in numeric]
    style += [("LINEABOVE", (0, r + 1), (-1, r + 1), 0.75, colors.HexColor("#90a4ae"))
              for r in totals]
    table.setStyle(TableStyle(style))
    return table


def _summary(r: CustomerReport) -> list[Flowable]:
    cells = [("cases opened", str(r.cases_opened)), ("resolved", str(r.cases_resolved)),
             ("open at the end", str(r.open_at_end)), ("breaches", str(len(r.breaches)))]
    for clock in ("response", "resolution"):
        tally = r.attainment.get(clock, {}).get("")
        if tally and tally.total:
            cells.append((f"{r.clock_labels.get(clock, clock).lower()} met", percent(tally)))
    if r.score_average is not None:
        cells.append(("satisfaction", f"{r.score_average:.1f} / 5"))
    for a in r.availability:
        if a.result is not None and a.result.percent is not None:
            cells.append((f"availability {a.deployment}",
                          f"{a.result.percent:.3f} % ({availability_verdict(a.result)})"))
    return [_table([c[0] for c in cells], [[c[1] for c in cells]])]


def _attainment(r: CustomerReport) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("Attainment", H2)]
    if not r.attainment:
        return [*out, Paragraph("No clock with a target was decided in this period.", BODY)]
    out += _chart(charts.attainment(r, "png"))
    rows, totals = [], set()
    for clock, tallies in r.attainment.items():
        label = r.clock_labels.get(clock, clock)
        for prio in r.priority_order:
            t = tallies.get(prio)
            if t and t.total:
                rows.append([label, prio, str(t.met), str(t.breached), percent(t)])
        if "" in tallies:
            t = tallies[""]
            totals.add(len(rows))
            rows.append([label, "all", str(t.met), str(t.breached), percent(t)])
    out.append(_table(["clock", "priority", "met", "breached", "% met"], rows,
                      [40 * mm, 60 * mm, 22 * mm, 22 * mm, 22 * mm], {2, 3, 4}, totals))
    return out


def _breaches(r: CustomerReport) -> list[Flowable]:
    out: list[Flowable] = [Paragraph(f"Breaches ({len(r.breaches)})", H2)]
    if not r.breaches:
        return [*out, Paragraph("No target was missed in this period.", BODY)]
    rows = []
    for b in r.breaches:
        pauses = "; ".join(f"{p.kind} {span(p.business)}" + (f" ({p.reason})" if p.reason
                                                              else "") for p in b.pauses)
        escalations = "; ".join(f"{e.level} {at(e.at, r.tz)}" for e in b.escalations)
        rows.append([f"{b.case_id} {b.title}", f"{b.clock_label}, {b.priority}, {b.target}",
                     at(b.due, r.tz), actual(b, r.tz),
                     span(b.late), pauses or "none", escalations or "none", b.clause])
    out.append(_table(["case", "clock", "due", "actual", "late", "pauses", "escalations",
                       "clause"], rows,
                      [28 * mm, 24 * mm, 22 * mm, 22 * mm, 14 * mm, 24 * mm, 22 * mm, 24 * mm],
                      {4}))
    return out


def _times(r: CustomerReport) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("Response and resolution times", H2)]
    if not any(s.count for s in r.times.values()):
        return [*out, Paragraph("No clock stopped in this period.", BODY)]
    out.append(_table(["clock", "cases", "median", "p90"],
                      [[r.clock_labels.get(n, n), str(s.count), span(s.median), span(s.p90)]
                       for n, s in r.times.items()], [50 * mm, 25 * mm, 30 * mm, 30 * mm],
                      {1, 2, 3}))
    out += _chart(charts.times(r, "png"))
    return out


def _trend(r: CustomerReport) -> list[Flowable]:
    chart = _chart(charts.trend(r, "png"))
    rows = [[f"{p.start:%b %Y}", *[f"{percent(t.get(c))} ({t[c].met}/{t[c].total})"
                                   if c in t else "—" for c in r.clock_labels]]
            for p, t in r.trend if t]
    table = _table(["month", *r.clock_labels.values()], rows) if rows else Paragraph(
        "No month with figures yet.", BODY)
    return [KeepTogether([Paragraph("Trend", H2), *chart, table])]


def _usage(r: CustomerReport) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("Query hours, consulting and satisfaction", H2)]
    if r.query_allowance_hours:
        out.append(Paragraph(
            f"{r.query_minutes / 60:.1f} query hours logged in the period; "
            f"{r.query_minutes_term / 60:.1f} of {r.query_allowance_hours} hours used in all.",
            BODY))
    if r.consulting:
        out.append(_table(["case", "request", "outcome", "approved by", "billable"],
                          [[c.case_id, c.title, c.outcome, c.approved_by or "—",
                            "yes" if c.billable else "no"] for c in r.consulting]))
    else:
        out.append(Paragraph("No consulting requests in this period.", BODY))
    if r.scores:
        out.append(Paragraph(f"Satisfaction: {r.score_average or 0:.2f} / 5 from "
                             f"{len(r.scores)} answers ({r.surveys_asked} asked).", BODY))
        out += _chart(charts.scores(r, "png"), 70 * mm)
        comments = [[s.case_id, str(s.score), s.comment] for s in r.scores
                    if s.comment or s.score <= 2]
        if comments:
            out.append(_table(["case", "score", "comment"], comments,
                              [25 * mm, 15 * mm, 140 * mm], {1}))
    else:
        out.append(Paragraph("No survey answers in this period.", BODY))
    return out


def _availability(r: CustomerReport) -> list[Flowable]:
    if not r.availability:
        return []
    out: list[Flowable] = [Paragraph("Availability", H2)]
    points = [(a.deployment, a.result.percent, a.result.target_percent)
              for a in r.availability if a.result is not None and a.result.percent is not None]
    out += _chart(charts.availability(points, "png"))
    for a in r.availability:
        result = a.result
        if result is None:
            out.append(Paragraph(f"<b>{escape(a.deployment)}</b>: {escape(a.note)}", BODY))
            continue
        out.append(Paragraph(
            f"<b>{escape(a.deployment)}: {escape(availability_figure(result))} — "
            f"{escape(availability_verdict(result))}</b>. {escape(result.explanation)}", BODY))
        out.append(Paragraph(escape(result.promise.clause), SMALL))
        if result.outages:
            out.append(_table(["outage", "from", "to", "downtime", "evidence"],
                              [[o.outage.ref, at(o.outage.start, r.tz),
                                at(o.outage.end, r.tz) if o.outage.end else "still down",
                                span(o.counted), o.outage.detail] for o in result.outages],
                              [25 * mm, 38 * mm, 38 * mm, 22 * mm, 57 * mm], {3}))
        if result.windows:
            out.append(_table(["window", "from", "to", "announced", "counted", "time"],
                              [[w.window.ref, at(w.window.start, r.tz), at(w.window.end, r.tz),
                                at(w.window.announced_at, r.tz),
                                "left out" if w.excluded else "downtime", span(w.counted)]
                               for w in result.windows],
                              [18 * mm, 36 * mm, 36 * mm, 36 * mm, 26 * mm, 22 * mm], {5}))
    return out
