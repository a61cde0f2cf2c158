"""The local web chat in a real browser: Debian's Chromium driven by Playwright.

Starts `frontdoor serve` as a subprocess on a free port with a throwaway SQLite file, then files
an incident as alice through the page (typing and clicking, as a person would), acknowledges
it as ana from her queue, and checks that alice's own conversation says so and shows her card
updated in place — at desktop width and at 375 px (screenshots in $FRONTDOOR_SCREENSHOTS, default
/tmp, to look at). Never `playwright install`: it uses the system Chromium
(`apt-get install chromium`). Without Chromium it skips on a laptop and fails in CI (CI=true).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from frontdoor_testkit.chromium import CHROMIUM, CHROMIUM_ARGS, INSTALL_HINT, clean_env
from frontdoor_testkit.redis_server import free_port, in_ci

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT_COPY = Path("/tmp/frontdoor-webchat.png")
SCREENSHOTS = Path(os.environ.get("FRONTDOOR_SCREENSHOTS", "/tmp"))  # to look at after a run

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not in_ci(),
    reason=f"Chromium is not at {CHROMIUM}: {INSTALL_HINT}",
)


def _get(url: str, timeout: float = 2.0) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as response:
        return int(response.status)


@pytest.fixture
def chromium() -> str:
    if not CHROMIUM.exists():  # only reached in CI: the skipif above covers laptops
        pytest.fail(f"CI is set but Chromium is missing at {CHROMIUM}: {INSTALL_HINT}",
                    pytrace=False)
    return str(CHROMIUM)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`frontdoor serve` on a free port with a fresh SQLite file; yields its base URL."""
    frontdoor = Path(sys.executable).with_name("frontdoor")
    command = ([str(frontdoor)] if frontdoor.exists()
               else [sys.executable, "-m", "adapters.cli"])
    port = free_port()
    env = clean_env() | {
        "FRONTDOOR_DB": str(tmp_path / "frontdoor.db"),
        "FRONTDOOR_CONFIG": str(ROOT / "examples" / "frontdoor.toml"),
        "FRONTDOOR_WEB_CHAT": "true",
        "PYTHONPATH": str(ROOT),
    }
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*command, "serve", "--port", str(port)], cwd=tmp_path, env=env,
            stdout=log, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited ({proc.returncode}):\n{log_path.read_text()}",
                            pytrace=False)
            try:
                if _get(f"{base}/healthz") == 200:
                    break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"no /healthz within 15 s:\n{log_path.read_text()}", pytrace=False)
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextlib.contextmanager
def watched_page(chromium: str, server: str) -> Iterator[tuple[Browser, Page, list[str]]]:
    """Chromium on the web chat's page; page errors, console errors and HTTP errors are
    collected, and there must be none when the block ends."""
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS,
                                     env=clean_env(), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(10_000)
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.on("console", lambda msg: problems.append(f"console: {msg.text}")
                    if msg.type == "error" else None)
            page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}")
                    if r.status >= 400 else None)
            page.goto(server)
            yield browser, page, problems
        finally:
            browser.close()
    assert not problems, "\n".join(problems)


def test_file_an_incident_and_acknowledge_it_in_the_browser(
    chromium: str, server: str, tmp_path: Path,
) -> None:
    with watched_page(chromium, server) as (_browser, page, problems):
        batches = page.locator("#transcript .batch")

        def step(action: Callable[[], object]) -> None:
            """Do one thing and wait for the bot's answer to it (one more batch)."""
            before = batches.count()
            action()
            expect(batches).to_have_count(before + 1)
            expect(page.locator(".msg-error")).to_have_count(0)

        def click(name: str | re.Pattern[str]) -> None:
            batches.last.get_by_role("button", name=name, exact=isinstance(name, str)) \
                .click()

        box = page.get_by_label("Message to the support desk")

        def say(text: str) -> None:
            box.fill(text)
            box.press("Enter")

        # ---- alice files an incident ----------------------------------------------------
        page.get_by_role("button", name=re.compile(r"^Alice Chen")).click()
        expect(page.locator("#chat-title")).to_have_text(re.compile("Alice Chen"))
        expect(page.locator("#cases-title")).to_have_text("Cases")
        # One message that says what happened, then one tap.
        step(lambda: say("P1: acme-prod orders API returns 500 for a substantial part of "
                         "our traffic"))
        expect(batches.last).to_contain_text("Please check and confirm")
        expect(batches.last).to_contain_text("Deployment: acme-prod (production, from "
                                             "your message)")
        expect(batches.last).to_contain_text("Product: orders API (from your message)")
        page.screenshot(path=str(SCREENSHOTS / "one-message-summary.png"))
        step(lambda: click("Open the case"))

        card = batches.last.locator(".card")
        expect(card).to_have_count(1)
        expect(card.locator(".case-id")).to_have_text(re.compile(r"^ACME-\d+$"))
        case_id = card.locator(".case-id").inner_text()
        expect(card.locator(".card-status")).to_have_text("new")
        expect(card).to_contain_text("Response")
        page.screenshot(path=str(tmp_path / "webchat-customer.png"))

        # ---- ana acknowledges it from her queue ----------------------------------------
        page.get_by_role("button", name=re.compile(r"^Ana Ruiz")).click()
        expect(page.locator("#chat-title")).to_have_text(re.compile("Ana Ruiz"))
        expect(page.locator("#cases-title")).to_have_text("Queue — nearest due first")
        queued = page.locator(f'#cases .card[data-case-id="{case_id}"]')
        expect(queued).to_be_visible()
        step(queued.get_by_role("button", name="Acknowledge", exact=True).click)
        reply = batches.last.locator(f'.card[data-case-id="{case_id}"]')
        expect(reply.locator(".card-status")).to_have_text("acknowledged")
        expect(queued.locator(".card-status")).to_have_text("acknowledged")
        expect(page.locator("#activity")).to_contain_text(f"acknowledged {case_id}")
        screenshot = tmp_path / "webchat.png"
        page.screenshot(path=str(screenshot))
        shutil.copyfile(screenshot, SCREENSHOT_COPY)

        # ---- alice's own conversation says who acknowledged, and her card is updated ----
        page.get_by_role("button", name=re.compile(r"^Alice Chen")).click()
        mine = page.locator(f'#transcript .card[data-case-id="{case_id}"]')
        expect(mine).to_be_visible()
        expect(mine.locator(".card-status")).to_have_text("acknowledged")  # in place
        expect(mine).to_contain_text("Ana Ruiz")
        expect(mine).not_to_contain_text("Unassigned")
        news = page.locator(f'#transcript .msg-news[data-case-id="{case_id}"]')
        expect(news).to_have_count(1)
        expect(news).to_contain_text(f"Ana Ruiz (engineer) acknowledged {case_id}")
        expect(news.locator(".news-time")).to_have_text(re.compile(r" E[SD]T$"))
        expect(page.locator(f'#cases .card[data-case-id="{case_id}"] .card-status')) \
            .to_have_text("acknowledged")
        expect(page.locator("#error-banner")).to_be_hidden()
        news.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "customer-informed-desktop.png"))

        # ---- at phone width the message box is on the first screen --------------------
        page.set_viewport_size({"width": 375, "height": 667})
        news.scroll_into_view_if_needed()
        page.evaluate("window.scrollTo(0, 0)")
        composer = page.locator("#composer-send").bounding_box()
        assert composer is not None and composer["y"] + composer["height"] <= 667, composer
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the page is {width} px wide at 375 px"
        page.screenshot(path=str(SCREENSHOTS / "customer-informed-375.png"))
        page.set_viewport_size({"width": 1280, "height": 800})

        # ---- a server error is shown on the page, and the typed text is kept ------------
        seen = len(problems)
        page.route("**/chat/messages", lambda route: route.fulfill(
            status=400, content_type="application/json",
            body='{"error": "give exactly one of text, choice or form"}'))
        say("status please")
        expect(page.locator(".msg-error")).to_contain_text("give exactly one of")
        expect(box).to_have_value("status please")
        page.unroute("**/chat/messages")
        del problems[seen:]  # the 400 above was ours


def test_a_question_is_answered_from_the_documentation_in_the_browser(
    chromium: str, server: str, tmp_path: Path,
) -> None:
    """adam asks a documentation question: the article is offered as a link with its
    excerpt; "No, open a case" files it; ana sees the article on the case and sends it with
    one tap; adam's conversation shows it, linked, and the link opens the article. nils's
    question is answered by an article: "Yes, thanks" files nothing."""
    with watched_page(chromium, server) as (browser, page, _problems):
        batches = page.locator("#transcript .batch")
        box = page.get_by_label("Message to the support desk")

        def step(action: Callable[[], object]) -> None:
            before = batches.count()
            action()
            expect(batches).to_have_count(before + 1)
            expect(page.locator(".msg-error")).to_have_count(0)

        def say(text: str) -> None:
            box.fill(text)
            box.press("Enter")

        def click(name: str) -> None:
            batches.last.get_by_role("button", name=name, exact=True).click()

        # ---- adam's question is offered its article ------------------------------------
        page.get_by_role("button", name=re.compile(r"^Adam Smith")).click()
        step(lambda: say("Can we put our own logo and colours on the developer portal?"))
        offer = batches.last.locator(".reply-articles")
        link = offer.get_by_role("link", name="Konneqt Developer Portal: theme and branding")
        expect(link).to_have_attribute("href", f"{server}/kb/konneqt/developer-portal/branding")
        expect(offer.locator(".article-excerpt").first).to_contain_text("logo")
        expect(batches.last).to_contain_text(re.compile(r"Did (this|one of these) answer it\?"))
        page.screenshot(path=str(SCREENSHOTS / "kb-offer-desktop.png"))
        step(lambda: click("No, open a case"))
        expect(batches.last).to_contain_text("Please check and confirm")
        step(lambda: click("Open the case"))
        case_id = batches.last.locator(".card .case-id").inner_text()

        # ---- ana sees it on the case and sends it with one tap ---------------------------
        page.get_by_role("button", name=re.compile(r"^Ana Ruiz")).click()
        queued = page.locator(f'#cases .card[data-case-id="{case_id}"]')
        articles = queued.locator(".card-articles")
        expect(articles).to_contain_text("shown to the customer before filing")
        branding = articles.locator(
            '.article[data-article="konneqt/developer-portal/branding"]')
        step(branding.get_by_role("button", name=re.compile("^Send to customer")).click)
        expect(batches.last).to_contain_text("sent the article")
        # the queue is redrawn as the case changes: wait for the redrawn card, not a stale one
        expect(articles).to_contain_text("sent to the customer")
        page.screenshot(path=str(SCREENSHOTS / "kb-engineer-card.png"))

        # ---- adam's conversation shows it, linked; the link opens the article -----------
        page.get_by_role("button", name=re.compile(r"^Adam Smith")).click()
        news = page.locator(f'#transcript .msg-news[data-case-id="{case_id}"]') \
            .filter(has_text="sent you an article")
        expect(news).to_have_count(1)
        href = news.locator('a[href*="/kb/konneqt/developer-portal/"]').first \
            .get_attribute("href")
        assert href == f"{server}/kb/konneqt/developer-portal/branding", href
        news.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "kb-customer-news.png"))
        article = browser.new_page(viewport={"width": 1280, "height": 800})
        article.goto(href)
        expect(article.locator("h1")).to_have_text("Konneqt Developer Portal: theme and "
                                                   "branding")
        article.screenshot(path=str(SCREENSHOTS / "kb-article-page.png"))
        article.close()

        # ---- nils: "Yes, thanks" files nothing ------------------------------------------
        page.get_by_role("button", name=re.compile(r"^Nils Jensen")).click()
        step(lambda: say("Which Microsoft Graph permissions does the sync need in Entra?"))
        expect(batches.last.locator(".reply-articles .article").first).to_contain_text(
            "Microsoft Graph permissions")
        page.set_viewport_size({"width": 375, "height": 667})
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375, f"the page is {width} px wide at 375 px"
        batches.last.locator(".reply-articles").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "kb-offer-375.png"))
        page.set_viewport_size({"width": 1280, "height": 800})
        step(lambda: click("Yes, thanks"))
        expect(batches.last).to_contain_text("nothing was filed")
        expect(page.locator("#cases .card")).to_have_count(0)
