"""Debian's Chromium for the browser tests, driven by Playwright (never `playwright install`).

Without Chromium a browser test skips on a laptop, saying how to install it, and fails in CI
(CI=true): `.ci/run` installs it.
"""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("FRONTDOOR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
INSTALL_HINT = "install it with `apt-get install chromium` (never `playwright install`)"
PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def clean_env() -> dict[str, str]:
    """This environment without proxies, Redis or platform tokens: a local, offline process."""
    env = {}
    for key, value in os.environ.items():
        lower = key.lower()
        if lower in PROXY_VARS or lower == "redis_url" or lower == "port":
            continue
        if lower.startswith(("slack_", "microsoft_app_", "frontdoor_")):
            continue
        env[key] = value
    return env
