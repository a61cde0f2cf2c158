"""Reports rendered for people and tools: HTML with charts, PDF, CSV and JSON."""

from __future__ import annotations

from typing import Literal

from bot.reports.model import CustomerReport, VendorSummary

ReportFormat = Literal["html", "pdf", "csv", "json"]
FORMATS: tuple[ReportFormat, ...] = ("html", "pdf", "csv", "json")
CONTENT_TYPES: dict[ReportFormat, str] = {
    "html": "text/html; charset=utf-8", "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8", "json": "application/json",
}


def render(report: CustomerReport, fmt: ReportFormat) -> bytes:
    """The customer's report in one format (charts only where the format shows them)."""
    if fmt == "html":
        from adapters.report_render.html import render_html

        return render_html(report).encode()
    if fmt == "pdf":
        from adapters.report_render.pdf import render_pdf

        return render_pdf(report)
    from adapters.report_render.data import render_csv, render_json

    return (render_csv(report) if fmt == "csv" else render_json(report)).encode()


def render_summary(summary: VendorSummary, fmt: ReportFormat) -> bytes:
    """The vendor's summary across customers (HTML or JSON; CSV and PDF per customer)."""
    if fmt == "json":
        from adapters.report_render.data import render_summary_json

        return render_summary_json(summary).encode()
    from adapters.report_render.html import render_summary_html

    return render_summary_html(summary).encode()
