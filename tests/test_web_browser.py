"""The local web chat in a real browser: Debian's Chromium driven by Playwright.

Starts `frontdoor serve` as a subprocess on a free port with a throwaway SQLite file, then files
an incident as alice through the page (typing and clicking, as a person would), acknowledges
it as ana from her queue, and checks that alice's own conversation says so and shows her card
updated in place — at desktop width and at 375 px (screenshots in $FRONTDOOR_SCREENSHOTS, default
/tmp, to look at). Never `playwright install`: it uses the system Chromium
(`apt-get install chromium`). Without Chromium it skips on a laptop and fails in CI (CI=true).
"""

from __future__ import annotations

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
from playwright.sync_api import expect, sync_playwright

from frontdoor_testkit.redis_server import free_port, in_ci

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("FRONTDOOR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
INSTALL_HINT = "install it with `apt-get install chromium` (never `playwright install`)"
SCREENSHOT_COPY = Path("/tmp/frontdoor-webchat.png")
SCREENSHOTS = Path(os.environ.get("FRONTDOOR_SCREENSHOTS", "/tmp"))  # to look at after a run
PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not in_ci(),
    reason=f"Chromium is not at {CHROMIUM}: {INSTALL_HINT}",
)


def _clean_env() -> dict[str, str]:
    """This environment without proxies, Redis or platform tokens: a local, offline server."""
    env = {}
    for key, value in os.environ.items():
        lower = key.lower()
        if lower in PROXY_VARS or lower == "redis_url" or lower == "port":
            continue
        if lower.startswith(("slack_", "microsoft_app_", "frontdoor_")):
            continue
        env[key] = value
    return env


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
    env = _clean_env() | {
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


def test_file_an_incident_and_acknowledge_it_in_the_browser(
    chromium: str, server: str, tmp_path: Path,
) -> None:
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS,
                                     env=_clean_env(), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(10_000)
            page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
            page.on("console", lambda msg: problems.append(f"console: {msg.text}")
                    if msg.type == "error" else None)
            page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}")
                    if r.status >= 400 else None)
            page.goto(server)

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
        finally:
            browser.close()
    assert not problems, "\n".join(problems)
