"""A fake Bot Framework connector (the Teams side of `serviceUrl`), for tests.

Speaks the documented Connector REST paths and records every call:

- ``POST v3/conversations/{id}/activities`` — send to a conversation (proactive posts);
- ``POST v3/conversations/{id}/activities/{activityId}`` — reply to an activity;
- ``PUT v3/conversations/{id}/activities/{activityId}`` — update an activity (cards in place);
- ``POST v3/conversations`` — create a conversation.

Runs an aiohttp server on its own event loop in a background thread (the bot's key fetching
blocks its loop; a fake on the same loop would deadlock), so synchronous tests and
`frontdoor serve` subprocesses can all use it. It can be told to answer a kind of call with
429 (and Retry-After) or 5xx for a while.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from frontdoor_testkit.fake_failures import ScriptedFailures
from frontdoor_testkit.threaded_app import ThreadedApp

Kind = Literal["send", "reply", "update", "create"]


@dataclass
class Call:
    kind: Kind
    conversation: str
    activity_id: str | None  # the activity replied to or updated
    body: dict[str, Any]
    authorization: str | None
    at: float
    status: int = 200
    answered_id: str | None = None  # the id the fake gave the new activity

    @property
    def text(self) -> str:
        """Everything a person would read: the text, and the card's JSON (buttons too)."""
        parts = [str(self.body.get("text") or ""), str(self.body.get("summary") or "")]
        for attachment in self.body.get("attachments") or []:
            parts.append(json.dumps(attachment.get("content"), ensure_ascii=False))
        return "\n".join(parts)

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.body.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                content: dict[str, Any] = attachment["content"]
                return content
        return None


@dataclass
class FakeConnector:
    calls: list[Call] = field(default_factory=list)
    url: str = ""
    _failures: ScriptedFailures = field(default_factory=ScriptedFailures)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadedApp = field(default_factory=lambda: ThreadedApp("fake-bot-connector"))

    # -- control ---------------------------------------------------------------------------

    def fail(self, kind: Kind, status: int, times: int, retry_after: int | None = None) -> None:
        """Answer the next `times` calls of `kind` with `status` (with Retry-After if given)."""
        with self._lock:
            self._failures.arm(kind, status, times, retry_after)

    def of(self, kind: Kind | None = None, conversation: str | None = None,
           ok_only: bool = True) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if (kind is None or c.kind == kind)
                    and (conversation is None or c.conversation == conversation)
                    and (not ok_only or c.status < 300)]

    def wait(self, contains: str, conversation: str | None = None,
             kinds: tuple[Kind, ...] = ("send", "reply", "update"), after: int = 0,
             timeout: float = 15.0) -> Call:
        """The newest accepted call (after the first `after` calls) whose text contains
        `contains`, waiting for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [c for c in self.calls[after:] if c.kind in kinds and c.status < 300
                         and (conversation is None or c.conversation == conversation)
                         and contains in c.text]
            if found:
                return found[-1]
            time.sleep(0.03)
        with self._lock:
            seen = [(c.kind, c.conversation, c.text[:100]) for c in self.calls[after:]]
        raise AssertionError(f"no call containing {contains!r} in {conversation}: {seen}")

    def settle(self, quiet: float = 0.6, timeout: float = 15.0) -> int:
        """Wait until the bot has stopped calling (its outbox is asynchronous)."""
        deadline = time.monotonic() + timeout
        seen = len(self.calls)
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = len(self.calls)
            if now != seen:
                seen, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                return now
        return seen

    def count(self) -> int:
        with self._lock:
            return len(self.calls)

    # -- the API ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request, kind: Kind) -> web.Response:
        conversation = request.match_info.get("conversation", "")
        activity_id = request.match_info.get("activity")
        raw = await request.read()
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return web.json_response({"error": {"code": "BadSyntax"}}, status=400)
        call = Call(kind, conversation, activity_id, body,
                    request.headers.get("Authorization"), time.time())
        with self._lock:
            self.calls.append(call)
            failure = self._failures.take(kind)
            if failure is not None:
                call.status, headers = failure
                code = "TooManyRequests" if call.status == 429 else "ServiceError"
                return web.json_response({"error": {"code": code, "message": "fake"}},
                                         status=call.status, headers=headers)
            new_id = f"{1_700_000_000_000 + next(self._ids)}"
        if kind == "update":
            call.answered_id = activity_id
            return web.json_response({"id": activity_id})
        if kind == "create":
            conv = f"a:created-{new_id}"
            call.answered_id = conv
            return web.json_response({"id": conv, "activityId": new_id}, status=201)
        call.answered_id = new_id
        return web.json_response({"id": new_id}, status=201)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> str:
        async def send(request: web.Request) -> web.Response:
            return await self._handle(request, "send")

        async def reply(request: web.Request) -> web.Response:
            return await self._handle(request, "reply")

        async def update(request: web.Request) -> web.Response:
            return await self._handle(request, "update")

        async def create(request: web.Request) -> web.Response:
            return await self._handle(request, "create")

        def routes(app: web.Application) -> None:
            app.router.add_post("/v3/conversations", create)
            app.router.add_post("/v3/conversations/{conversation}/activities", send)
            app.router.add_post("/v3/conversations/{conversation}/activities/{activity}",
                                reply)
            app.router.add_put("/v3/conversations/{conversation}/activities/{activity}",
                               update)

        self._server = ThreadedApp("fake-bot-connector")
        self.url = self._server.start(routes) + "/"
        return self.url

    def stop(self) -> None:
        self._server.stop()
