"""An install that works: the wheel carries everything the server needs.

Builds the wheel, installs it into a clean virtual environment (no checkout on its path),
starts `frontdoor serve` from another directory with nothing configured, and loads the web
chat: its page and static files, the default deployment file's people, a first message read
with the policy packs (and their shared vocabulary), a question offered an article of the demo
documentation. Slow (about a minute: the dependencies
come from the package index) and marked `install`; never skipped in CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from frontdoor_testkit.redis_server import in_ci
from frontdoor_testkit.server_process import free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.install
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _run(args: list[str], cwd: Path, what: str, timeout: float = 600) -> None:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if done.returncode == 0:
        return
    detail = (done.stderr or done.stdout)[-2000:]
    if not in_ci() and ("Could not find a version" in detail or "NewConnectionError" in detail
                        or "No matching distribution" in detail):
        pytest.skip(f"{what} needs the package index, unreachable here: {detail[-300:]}")
    pytest.fail(f"{what} failed ({done.returncode}):\n{detail}", pytrace=False)


def _copy_of_the_checkout(target: Path) -> Path:
    """The files git would commit (tracked, or new and not ignored), as CI sees them; the
    build's own leftovers (build/, *.egg-info) stay out of the checkout."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, capture_output=True, check=True)
    for name in filter(None, listed.stdout.decode().split("\0")):
        path = ROOT / name
        if path.is_file():  # a link is copied as what it points to
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / name)
    return target


def _get(url: str) -> tuple[int, str]:
    with _OPENER.open(url, timeout=10) as resp:
        return resp.status, resp.read().decode("utf-8")


def test_the_wheel_serves_the_web_chat_from_a_clean_environment(tmp_path: Path) -> None:
    dist, venv, elsewhere = tmp_path / "dist", tmp_path / "venv", tmp_path / "elsewhere"
    elsewhere.mkdir()
    source = _copy_of_the_checkout(tmp_path / "source")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist),
          str(source)], tmp_path, "building the wheel")
    wheels = list(dist.glob("frontdoor-*.whl"))
    assert len(wheels) == 1, wheels
    _run([sys.executable, "-m", "venv", str(venv)], tmp_path, "creating a virtual environment")
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    _run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet",
          "--disable-pip-version-check", str(wheels[0])], tmp_path, "installing the wheel")

    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FRONTDOOR_", "SLACK_", "MICROSOFT_", "REDIS_", "PYTHON"))
           and k.lower() not in {"http_proxy", "https_proxy", "all_proxy"}}
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([str(bin_dir / "frontdoor"), "serve", "--port", str(port)],
                              cwd=elsewhere, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()[-3000:]
            time.sleep(0.2)
        status, page = _get(base + "/")
        assert status == 200 and "<html" in page.lower()
        for static in ("app.js", "app.css"):
            assert _get(f"{base}/static/{static}")[0] == 200
        status, people = _get(base + "/chat/identities")
        assert status == 200 and '"alice"' in people
        request = urllib.request.Request(
            base + "/chat/messages", method="POST", headers={"Content-Type": "application/json"},
            data=b'{"user": "alice", "text": "P1 the orders API is down since 09:40"}')
        with _OPENER.open(request, timeout=30) as resp:
            assert resp.status == 200 and "Konneqt" in resp.read().decode("utf-8")
        # the demo documentation came along: a question is offered its article
        request = urllib.request.Request(
            base + "/chat/messages", method="POST", headers={"Content-Type": "application/json"},
            data=b'{"user": "nils", "text": "Which Graph permissions does the sync need?"}')
        with _OPENER.open(request, timeout=30) as resp:
            assert resp.status == 200 and "nordsync/graph-permissions" in resp.read().decode()
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    served_from = (tmp_path / "serve.log").read_text()
    assert str(venv) in served_from and str(ROOT) not in served_from  # nothing of the checkout
    assert (elsewhere / "frontdoor.db").exists()
    assert (elsewhere / "frontdoor-kb.db").exists()  # the index, beside the database
