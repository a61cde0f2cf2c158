"""A fake Slack Web API speaking the documented wire format, for tests and benchmarks.

Runs an aiohttp server on its own event loop in a background thread, so that synchronous
tests, asynchronous tests and `frontdoor serve` subprocesses can all use it. It records every
call and can be told to answer a method with 429 (and Retry-After) or 5xx for a while.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from frontdoor_testkit.fake_failures import ScriptedFailures
from frontdoor_testkit.threaded_app import ThreadedApp

BOT_USER_ID = "UFRONTDOOR"
BOT_ID = "BFRONTDOOR"
TEAM_ID = "T0NORTHWIND"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    token: str | None


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    # (channel, ts) → message, for conversations.history (reactions look the message up)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    acks: list[dict[str, Any]] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)  # file id → bytes (files_upload_v2)
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _failures: ScriptedFailures = field(default_factory=ScriptedFailures)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    _loop: asyncio.AbstractEventLoop | None = None
    _server: ThreadedApp = field(default_factory=lambda: ThreadedApp("fake-slack"))

    # -- control ---------------------------------------------------------------------------

    def fail(self, method: str, status: int, times: int, retry_after: int | None = None) -> None:
        """Answer the next `times` calls of `method` with `status` (429 sends Retry-After)."""
        with self._lock:
            self._failures.arm(method, status, times, retry_after)

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 15.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(method)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} {method} call(s), got {len(self.of(method))}: "
                             f"{[c.method for c in self.calls]}")

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self._failures.clear()

    # -- the API -----------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.read()
        ctype = request.headers.get("Content-Type", "")
        params: dict[str, Any]
        if "json" in ctype:
            params = json.loads(raw or b"{}")
        elif request.method == "GET":
            params = dict(request.query)
        else:
            params = dict(parse_qsl(raw.decode()))
            for key in ("blocks", "view", "attachments"):
                if isinstance(params.get(key), str):
                    params[key] = json.loads(params[key])
        if request.method == "POST" and request.query:  # slack_sdk sends some args as a query
            params = {**dict(request.query), **params}
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") or params.get("token")
        with self._lock:
            self.calls.append(Call(method, params, time.time(), token))
            failure = self._failures.take(method)
            if failure is not None:
                status, headers = failure
                body = {"ok": False, "error": "ratelimited" if status == 429
                        else "internal_error"}
                return web.json_response(body, status=status, headers=headers)
            ts = f"{int(time.time())}.{next(self._ts):06d}"
        if method == "apps.connections.open":
            if not str(token or "").startswith("xapp-"):
                return web.json_response({"ok": False, "error": "not_allowed_token_type"})
            base = self.url.removesuffix("/api/").replace("http://", "ws://")
            return web.json_response({"ok": True, "url": f"{base}/link/?ticket=t{ts}"})
        if not token or not str(token).startswith("xoxb-"):
            return web.json_response({"ok": False, "error": "not_authed"})
        return web.json_response(self._answer(method, params, ts))

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL files.getUploadURLExternal hands out: keep the bytes."""
        with self._lock:
            self.uploads[request.match_info["file_id"]] = await request.read()
        return web.Response(text="OK - uploaded")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, then push envelopes; record the acks."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1,
                            "debug_info": {"host": "fake"}, "connection_info": {
                                "app_id": "A0FRONTDOOR"}})
        async for message in ws:
            if message.type == 1:  # TEXT
                with self._lock:
                    self.acks.append(json.loads(message.data))
        self._sockets.remove(ws)
        return ws

    def push_envelope(self, payload: dict[str, Any], kind: str = "events_api") -> str:
        """Send an envelope to every connected Socket Mode client; returns its id."""
        envelope_id = f"env-{next(self._ts)}"
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": False, "retry_attempt": 0,
                    "retry_reason": ""}
        assert self._loop is not None
        for ws in list(self._sockets):
            asyncio.run_coroutine_threadsafe(ws.send_json(envelope), self._loop).result(5)
        return envelope_id

    def wait_connected(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._sockets:
            time.sleep(0.05)
        if not self._sockets:
            raise AssertionError("no Socket Mode client connected")

    def _answer(self, method: str, params: dict[str, Any], ts: str) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://northwind.slack.example/", "team": "Northwind",
                    "user": "frontdoor", "team_id": TEAM_ID, "user_id": BOT_USER_ID,
                    "bot_id": BOT_ID, "is_enterprise_install": False}
        if method in {"chat.postMessage", "chat.update"}:
            channel = params.get("channel")
            return {"ok": True, "channel": channel, "ts": params.get("ts") or ts,
                    "message": {"text": params.get("text"), "ts": params.get("ts") or ts,
                                "thread_ts": params.get("thread_ts")}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method in {"views.open", "views.update", "views.push", "views.publish"}:
            view = params.get("view") or {}
            return {"ok": True, "view": {**view, "id": f"V{ts.replace('.', '')}"}}
        if method == "chat.getPermalink":
            stamp = str(params.get("message_ts", "")).replace(".", "")
            return {"ok": True, "channel": params.get("channel"),
                    "permalink": f"https://northwind.slack.example/archives/"
                                 f"{params.get('channel')}/p{stamp}"}
        if method == "files.getUploadURLExternal":
            file_id = f"F{ts.replace('.', '')}"
            base = self.url.removesuffix("/api/")
            return {"ok": True, "file_id": file_id, "upload_url": f"{base}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")}
                                          for f in _json_list(params.get("files"))]}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params.get("users", "X"))[1:]}}
        if method in {"conversations.history"}:
            return {"ok": True, "messages": [self.messages.get(
                (str(params.get("channel")), str(params.get("latest"))),
                {"ts": params.get("latest"), "text": "", "user": ""})]}
        if method == "conversations.replies":
            return {"ok": True, "messages": [{"ts": params.get("ts"), "text": "", "user": ""}]}
        return {"ok": True}

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> str:
        def routes(app: web.Application) -> None:
            app.router.add_post("/api/{method}", self._api)
            app.router.add_get("/api/{method}", self._api)
            app.router.add_get("/link/", self._socket)
            app.router.add_post("/upload/{file_id}", self._upload)

        self._server = ThreadedApp("fake-slack")
        self.url = self._server.start(routes) + "/api/"
        self._loop = self._server.loop
        return self.url

    def stop(self) -> None:
        self._server.stop()


def _json_list(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        value = json.loads(value)
    return [v for v in value or [] if isinstance(v, dict)]
