"""Adaptive Cards as Teams shows them: Microsoft's own renderer (the npm package
`adaptivecards`) with Teams' host config and button styles (from `adaptivecards-designer`)
and markdown as Teams renders it (`markdown-it`, as the designer does), in headless Chromium,
at the width of Teams' chat column.

The packages are installed from `adaptive_cards/package.json` (its lock pins them) into
`adaptive_cards/node_modules` — by `.ci/run`, or here on first use when npm is there; nothing
of them is committed. `check.js` (ours) renders a card and measures what a person would see:
its height, the buttons in sight, and every action label or text block whose content is wider
than its box (cut with "…"). `CardRenderer.render` measures a card closed, then with every
"More…" and "Why?" opened, and can photograph both.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from frontdoor_testkit.chromium import CHROMIUM_ARGS, clean_env

HERE = Path(__file__).resolve().with_name("adaptive_cards")
MODULES = HERE / "node_modules"
LIBRARY = MODULES / "adaptivecards" / "dist" / "adaptivecards.min.js"
MARKDOWN = MODULES / "markdown-it" / "dist" / "markdown-it.min.js"
DESIGNER = MODULES / "adaptivecards-designer"
HOST_CONFIG = DESIGNER / "lib" / "hostConfigs" / "microsoft-teams-light.json"
TEAMS_CSS = DESIGNER / "dist" / "containers" / "teams-container-light.css"
CHECK_JS = HERE / "check.js"
WIDTH = 450  # Teams' chat column, where a card in a channel or chat is read
INSTALL_HINT = (f"run `npm ci` in {HERE} (Node 20 and npm; `.ci/run` does it), or install "
                "npm and let the test do it")


def install() -> str | None:
    """Make sure the renderer is installed; None when it is, else why it isn't."""
    if all(p.exists() for p in (LIBRARY, MARKDOWN, HOST_CONFIG, TEAMS_CSS)):
        return None
    npm = shutil.which("npm")
    if npm is None:
        return f"the Adaptive Cards renderer is not installed and npm is missing: {INSTALL_HINT}"
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE,
                          capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0 or not LIBRARY.exists():
        return f"`npm ci` in {HERE} failed ({done.returncode}): {done.stderr[-800:]}"
    return None


@dataclass(frozen=True)
class Measure:
    """What a person sees of a rendered card."""

    height: int
    width: int
    buttons: tuple[str, ...]
    truncated: tuple[dict[str, Any], ...]

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Measure:
        return cls(int(raw["height"]), int(raw["width"]), tuple(raw["buttons"]),
                   tuple(raw["truncated"]))


@dataclass(frozen=True)
class Rendered:
    warnings: tuple[str, ...]
    closed: Measure  # as posted: nothing opened
    opened: Measure  # every "More…" and "Why?" opened
    screenshots: tuple[Path, ...] = field(default=())


class CardRenderer:
    """One headless Chromium page with the renderer loaded; render cards one after another."""

    def __init__(self, chromium: str, width: int = WIDTH) -> None:
        self.chromium = chromium
        self.width = width
        self.host_config = json.loads(HOST_CONFIG.read_text(encoding="utf-8"))
        self._pw: Playwright | None = None
        self._browser: Browser | None = None
        self._page: Page | None = None

    def __enter__(self) -> CardRenderer:
        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(executable_path=self.chromium,
                                                 args=CHROMIUM_ARGS, env=clean_env(),
                                                 headless=True)
        self._page = self._browser.new_page(viewport={"width": self.width + 40, "height": 900})
        self._page.set_content(
            "<!doctype html><html><head><meta charset='utf-8'><style>"
            "body{margin:0;padding:20px;background:#f5f5f5;font-family:'Segoe UI',sans-serif}"
            f"#stage{{width:{self.width}px;background:#fff}}"
            "</style></head><body><div id='stage' class='teams-card'></div></body></html>")
        self._page.add_style_tag(path=str(TEAMS_CSS))
        # Teams shows a "positive" action as its primary (filled) button; the designer's
        # stylesheet leaves it plain.
        self._page.add_style_tag(content=".ac-pushButton.style-positive{background-color:"
                                 "#6264A7;border-color:#6264A7;color:#fff}")
        self._page.add_script_tag(path=str(LIBRARY))
        self._page.add_script_tag(path=str(MARKDOWN))
        self._page.add_script_tag(path=str(CHECK_JS))
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._browser is not None:
            self._browser.close()
        if self._pw is not None:
            self._pw.stop()

    @property
    def page(self) -> Page:
        assert self._page is not None, "use CardRenderer as a context manager"
        return self._page

    def render(self, card: dict[str, Any], shots: Path | None = None) -> Rendered:
        """Render `card`, measure it closed and opened; with `shots` (a path without suffix)
        photograph both (`<shots>.png`, `<shots>-open.png`)."""
        result = self.page.evaluate("([card, config]) => renderCard(card, config, 'stage')",
                                    [card, self.host_config])
        if result.get("error"):
            raise AssertionError(f"{result['error']}: {result.get('warnings')}")
        stage = self.page.locator("#stage")
        taken: list[Path] = []
        if shots is not None:
            shots.parent.mkdir(parents=True, exist_ok=True)
            taken.append(shots.with_suffix(".png"))
            stage.screenshot(path=str(taken[-1]))
        opened = self.page.evaluate("() => openEverything('stage')")
        if shots is not None and opened != result["closed"]:
            taken.append(shots.with_name(shots.name + "-open.png"))
            stage.screenshot(path=str(taken[-1]))
        return Rendered(tuple(result["warnings"]), Measure.of(result["closed"]),
                        Measure.of(opened), tuple(taken))
