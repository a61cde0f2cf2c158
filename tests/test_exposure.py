"""What the server exposes: `/metrics` behind a bearer token when one is set, the demo web
chat (unauthenticated identities) only on loopback unless asked on purpose, and a busy port
said in one line. `frontdoor serve` as a real process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from frontdoor_testkit.server_process import ROOT, ServerProcess, free_port

TOKEN = "metrics-s3cret-token"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("exposure")
    server = ServerProcess({"FRONTDOOR_DB": str(tmp / "fd.db"),
                            "FRONTDOOR_METRICS_TOKEN": TOKEN}, tmp / "server.log")
    yield server
    server.stop()


def test_metrics_need_the_bearer_token_once_one_is_set(guarded: ServerProcess) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                    {"Authorization": f"Basic {TOKEN}"}):
        status, body = guarded.request("GET", "/metrics", headers=headers)
        assert status == 401, headers
        assert "FRONTDOOR_METRICS_TOKEN" in body["error"]
    status, body = guarded.request("GET", "/metrics",
                                   headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and "frontdoor_http_requests_total" in body
    assert guarded.get("/healthz")[0] == 200  # health stays open for load balancers


def _serve(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "FRONTDOOR_DB": os.devnull, **env}
    return subprocess.run([sys.executable, "-m", "adapters.cli", "serve", *args], cwd=ROOT,
                          env=full, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_the_web_chat_refuses_a_public_address_and_says_why(host: str) -> None:
    done = _serve("--host", host, "--port", str(free_port()))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "anyone pick any identity" in lines[0]
    assert "FRONTDOOR_WEB_CHAT=false" in lines[0] and "--expose-web-chat" in lines[0]


def test_a_public_address_serves_without_the_web_chat_or_on_purpose(tmp_path: Path) -> None:
    quiet = ServerProcess({"FRONTDOOR_DB": str(tmp_path / "a.db"),
                           "FRONTDOOR_WEB_CHAT": "false"}, tmp_path / "a.log",
                          extra_args=("--host", "0.0.0.0"))
    try:
        assert quiet.get("/chat/identities")[0] == 404
    finally:
        quiet.stop()
    exposed = ServerProcess({"FRONTDOOR_DB": str(tmp_path / "b.db")}, tmp_path / "b.log",
                            extra_args=("--host", "0.0.0.0", "--expose-web-chat"))
    try:
        assert exposed.get("/chat/identities")[0] == 200
    finally:
        exposed.stop()
    assert "anyone who can reach it can act as anyone" in (tmp_path / "b.log").read_text()


def test_a_busy_port_is_one_line_naming_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _serve("--port", str(port))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"frontdoor serve: error: argument --port: port {port} on 127.0.0.1 is already in "
        "use (another Frontdoor?); stop that process or pick another with --port N"]
    assert done.stdout == ""
