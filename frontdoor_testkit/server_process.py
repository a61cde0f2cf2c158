"""`frontdoor serve` as a real process on a free port, spoken to over real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """Start with `env` overrides; `post`/`get` return (status, JSON body)."""

    def __init__(self, env: dict[str, str], log_path: Path,
                 extra_args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {k: v for k, v in os.environ.items()
                    if k.lower() not in {"http_proxy", "https_proxy", "all_proxy"}}
        full_env.update({"PORT": str(self.port), "LOG_LEVEL": "INFO", **env})
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "adapters.cli", "serve", "--port", str(self.port),
             *extra_args],
            cwd=ROOT, env=full_env, stdout=self._log, stderr=subprocess.STDOUT)
        self._wait()

    def _wait(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                status, _ = self.get("/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log_path.read_text()[-3000:]}")

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, Any]:
        req = urllib.request.Request(self.url + path, data=body, method=method,
                                     headers=headers or {})
        try:
            with _OPENER.open(req, timeout=30) as resp:
                raw = resp.read()
                status = resp.status
        except urllib.error.HTTPError as err:
            raw = err.read()
            status = err.code
        try:
            return status, json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return status, raw.decode("utf-8", "replace")

    def get(self, path: str) -> tuple[int, Any]:
        return self.request("GET", path)

    def post(self, path: str, payload: Any) -> tuple[int, Any]:
        return self.request("POST", path, json.dumps(payload).encode(),
                            {"Content-Type": "application/json"})

    def say(self, user: str, text: str | None = None, *, choice: str | None = None,
            form: dict[str, str] | None = None) -> list[dict[str, Any]]:
        payload: dict[str, Any] = {"user": user}
        if text is not None:
            payload["text"] = text
        if choice is not None:
            payload["choice"] = choice
        if form is not None:
            payload["form"] = form
        status, body = self.post("/chat/messages", payload)
        assert status == 200, (status, body)
        replies: list[dict[str, Any]] = body["replies"]
        return replies

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r["text"] for r in replies)


def choice_ids(replies: list[dict[str, Any]]) -> list[str]:
    return [c["id"] for c in replies[-1]["choices"]] if replies else []


def past_any_offer(server: ServerProcess, user: str,
                   replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A question may be offered articles before it is filed: "No, open a case" when it was
    (for scripts about something else than the offer)."""
    if "articles:no" in choice_ids(replies):
        return server.say(user, choice="articles:no")
    return replies


def case_id_of(replies: list[dict[str, Any]]) -> str:
    for reply in replies:
        if "card" in reply:
            return str(reply["card"]["case_id"])
    raise AssertionError(f"no case card in {texts(replies)!r}")
