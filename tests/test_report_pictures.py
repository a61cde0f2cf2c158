"""The month's reports as people see them: the HTML page rendered in headless Chromium (desktop
and a 390 px phone) and the PDF rendered to PNG pages (pypdfium2). The pictures are written
to $FRONTDOOR_SCREENSHOTS (default /tmp) to be looked at; the checks here are what a look
found wrong before: nothing wider than the page, every chart drawn, figures present, pages not
blank. Without Chromium the HTML part skips on a laptop and fails in CI (CI=true)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pypdfium2
import pytest
from playwright.sync_api import sync_playwright

from adapters.report_render import render
from bot.reports.collect import build_reports
from bot.reports.model import CustomerReport, Period
from bot.store.sqlite import SqliteStore
from frontdoor_testkit.redis_server import in_ci
from tests.evidence_month import AS_OF, DIRECTORY, play
from tests.test_web_browser import CHROMIUM, CHROMIUM_ARGS, INSTALL_HINT

SCREENSHOTS = Path(os.environ.get("FRONTDOOR_SCREENSHOTS", "/tmp"))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CustomerReport]:
    async def make() -> dict[str, CustomerReport]:
        store = SqliteStore(tmp_path_factory.mktemp("month") / "month.db")
        await store.open()
        try:
            await play(store)
            periods = {cid: Period.month("2026-11", c.tz)
                       for cid, c in DIRECTORY.deployment.customers.items()}
            return {r.customer_id: r for r in await build_reports(store, DIRECTORY, periods,
                                                                  AS_OF)}
        finally:
            await store.close()

    return asyncio.run(make())


@pytest.mark.skipif(not CHROMIUM.exists() and not in_ci(),
                    reason=f"Chromium is not at {CHROMIUM}: {INSTALL_HINT}")
@pytest.mark.parametrize("customer", ["acme", "nordlys", "umbrella"])
def test_html_report_renders_in_chromium_without_overflow(
        reports: dict[str, CustomerReport], customer: str, tmp_path: Path) -> None:
    page_file = tmp_path / f"{customer}.html"
    page_file.write_bytes(render(reports[customer], "html"))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            for width in (1100, 390):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(page_file.as_uri())
                shot = SCREENSHOTS / f"frontdoor-report-{customer}-{width}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 20_000
                # nothing makes the page itself wider than the screen (tables scroll inside)
                assert page.evaluate("document.documentElement.scrollWidth") <= width
                charts = page.locator(".chart svg")
                assert charts.count() >= 3  # attainment, times, scores (+ availability)
                for i in range(charts.count()):
                    box = charts.nth(i).bounding_box()
                    assert box is not None and box["height"] > 60
                assert page.locator("h2", has_text="Breaches").count() == 1
                page.close()
        finally:
            browser.close()


def test_html_report_shows_the_availability_verdict(reports: dict[str, CustomerReport]) -> None:
    html = render(reports["nordlys"], "html").decode()
    assert "98.503 % — missed" in html and "left out (announced in advance)" in html
    assert "Availability" not in render(reports["acme"], "html").decode()  # none promised


@pytest.mark.parametrize("customer", ["acme", "nordlys"])
def test_pdf_report_pages_render_to_png(reports: dict[str, CustomerReport],
                                        customer: str) -> None:
    pdf = pypdfium2.PdfDocument(render(reports[customer], "pdf"))
    assert len(pdf) >= 2
    text = " ".join(" ".join(pdf[i].get_textpage().get_text_range().split())
                    for i in range(len(pdf)))
    wanted = {"acme": ["SLA report — Acme Corp — November 2026", "ACME-2", "66.7 %",
                       "waiting on the customer"],
              "nordlys": ["98.503 %", "MW-1", "left out", "NORD-1"]}[customer]
    for phrase in wanted:
        assert phrase in text, phrase
    for i in range(len(pdf)):
        image = pdf[i].render(scale=1.2).to_pil()
        path = SCREENSHOTS / f"frontdoor-report-{customer}-page{i + 1}.png"
        image.save(path)
        colours = image.convert("L").getextrema()
        assert colours[0] < 100 < colours[1], f"page {i + 1} looks blank"
