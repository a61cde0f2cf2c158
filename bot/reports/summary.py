"""A report in a few lines of chat: what the monthly message and "report ACME 2026-11" say
(the full report is the HTML/PDF file or link)."""

from __future__ import annotations

from bot.reports.model import CustomerReport, VendorSummary
from bot.sla_view import when
from policy.sla import format_duration


def _share(report: CustomerReport, clock: str) -> str | None:
    tally = report.total(clock)
    if not tally.total:
        return None
    label = report.clock_labels.get(clock, clock)
    return f"{label} {tally.met} of {tally.total} met ({tally.percent:.1f} %)"


def report_text(report: CustomerReport, link: str | None = None) -> str:
    lines = [f"SLA report — {report.customer_name} — {report.period.label} "
             f"({report.pack_name}, {report.plan})",
             f"• {report.cases_opened} cases opened, {report.cases_resolved} resolved, "
             f"{report.open_at_end} open at the end of the period"]
    shares = [s for c in report.attainment if (s := _share(report, c))]
    lines.append("• " + (" · ".join(shares) if shares
                         else "no clock with a target was decided in the period"))
    if report.breaches:
        shown = "; ".join(
            f"{b.case_id} {b.clock_label.lower()} (due {when(b.due, report.tz)}, "
            f"{format_duration(b.late)} late)" for b in report.breaches[:5])
        more = f" and {len(report.breaches) - 5} more" if len(report.breaches) > 5 else ""
        lines.append(f"• {len(report.breaches)} breach"
                     f"{'es' if len(report.breaches) != 1 else ''}: {shown}{more}")
    else:
        lines.append("• no breaches")
    for name, stats in report.times.items():
        if stats.count and stats.median is not None and stats.p90 is not None:
            lines.append(f"• {report.clock_labels.get(name, name)} time: median "
                         f"{format_duration(stats.median)}, p90 {format_duration(stats.p90)} "
                         f"(business time, {stats.count} cases)")
    if report.scores and report.score_average is not None:
        lines.append(f"• satisfaction {report.score_average:.1f}/5 from {len(report.scores)} "
                     "answers")
    for a in report.availability:
        if a.result is None or a.result.percent is None:
            continue
        verdict = "no target" if a.result.met is None else "met" if a.result.met else "missed"
        target = f", target {a.result.target_percent:g} %" \
            if a.result.target_percent is not None else ""
        lines.append(f"• availability {a.deployment}: {a.result.percent:.3f} % — {verdict}"
                     f"{target}")
    if link:
        lines.append(f"Full report: {link}")
    return "\n".join(lines)


def summary_text(summary: VendorSummary, link: str | None = None) -> str:
    lines = [f"SLA summary — all customers — {summary.label}"]
    for r in summary.reports:
        shares = [f"{r.clock_labels.get(c, c).lower()} {t.percent:.0f} %"
                  for c, ts in r.attainment.items() if (t := ts.get("")) and t.percent is not None]
        lines.append(f"• {r.customer_name}: {r.cases_opened} opened, {len(r.breaches)} "
                     f"breaches" + (f"; {', '.join(shares)}" if shares else ""))
    if link:
        lines.append(f"Full summary: {link}")
    return "\n".join(lines)
