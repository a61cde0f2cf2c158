"""Speaking Slack to `frontdoor serve` in tests: signed events, block actions (a button, or
an option of an overflow menu or select), view submissions and slash commands, as Slack sends
them; what the bot posted is read from the fake Slack Web API, what it stored from its SQLite
file."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from itertools import count
from pathlib import Path
from typing import Any, TypeVar

from bot.records import AuditRecord
from bot.store.sqlite import SqliteStore
from frontdoor_testkit.fake_slack import BOT_USER_ID, TEAM_ID, Call, FakeSlack
from frontdoor_testkit.server_process import ServerProcess
from frontdoor_testkit.slack_signing import signed_headers

_ids = count(1)
T = TypeVar("T")


class SlackSession:
    """Sends what Slack would send, and reads what the bot posted to the fake."""

    def __init__(self, server: ServerProcess, fake: FakeSlack, db: Path | None = None) -> None:
        self.server = server
        self.fake = fake
        self.db = db

    def audit(self, case_id: str | None = None) -> list[AuditRecord]:
        """The server's audit entries, newest first (read from its SQLite file)."""
        return self.read(lambda store: store.audit_entries(case_id, limit=1000))

    def read(self, what: Callable[[SqliteStore], Awaitable[T]]) -> T:
        """Something read from the server's store (its SQLite file), as another process."""
        assert self.db is not None
        db = self.db

        async def read() -> T:
            store = SqliteStore(db)
            await store.open()
            try:
                return await what(store)
            finally:
                await store.close()

        return asyncio.run(read())

    def engineers_form(self, description: str, button: str) -> tuple[str, dict[str, Any]]:
        """Alice files a P1 (see `file_acme_p1`); an engineer presses `button` on the
        engineers' card. Returns the case id and the modal that opened."""
        _, opened = self.file_acme_p1(description)
        case_id = all_text(opened).split("Case ")[1].split(" ")[0]
        engineers = self.wait_post("C0ENGINEERS", case_id)
        views = len(self.fake.of("views.open"))
        self.click("U0ANA", engineers, button)
        return case_id, self.fake.wait_for("views.open", views + 1)[-1].params["view"]

    def post(self, body: str, content_type: str, **headers: str) -> tuple[int, Any]:
        signed = signed_headers(body, content_type=content_type)
        signed.update(headers)
        return self.server.request("POST", "/slack/events", body.encode(), signed)

    def event(self, event: dict[str, Any], event_id: str | None = None,
              **headers: str) -> tuple[int, Any]:
        envelope = {
            "token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0FRONTDOOR",
            "type": "event_callback", "event": event,
            "event_id": event_id or f"Ev{next(_ids):08d}", "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID,
                                "user_id": BOT_USER_ID, "is_bot": True}],
        }
        return self.post(json.dumps(envelope), "application/json", **headers)

    def interaction(self, payload: dict[str, Any]) -> tuple[int, Any]:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded")

    def command(self, user: str, channel: str, text: str = "") -> tuple[int, Any]:
        body = urllib.parse.urlencode({
            "token": "legacy", "team_id": TEAM_ID, "channel_id": channel, "user_id": user,
            "command": "/support", "text": text, "trigger_id": f"trig.{next(_ids)}",
            "response_url": self.fake.url + "response", "api_app_id": "A0FRONTDOOR"})
        return self.post(body, "application/x-www-form-urlencoded")

    def mention(self, user: str, channel: str, text: str, team: str = TEAM_ID) -> str:
        """@mention the bot (the event names the sender's team, as Slack's do)."""
        ts = new_ts()
        status, _ = self.event({"type": "app_mention", "user": user, "team": team,
                                "channel": channel, "text": f"<@{BOT_USER_ID}> {text}",
                                "ts": ts, "event_ts": ts})
        assert status == 200
        return ts

    def say_in_thread(self, user: str, channel: str, thread: str, text: str,
                      team: str = TEAM_ID) -> None:
        ts = new_ts()
        status, _ = self.event({"type": "message", "channel_type": "channel", "user": user,
                                "team": team, "channel": channel, "text": text, "ts": ts,
                                "thread_ts": thread, "event_ts": ts})
        assert status == 200

    def summary(self, user: str, channel: str, thread: str, timeout: float = 15.0,
                team: str = TEAM_ID) -> Call:
        """The summary before a case opens. A question may first be offered articles: that
        offer is answered "no" in the thread (for scripts about something else)."""
        deadline = time.monotonic() + timeout
        declined = False
        while time.monotonic() < deadline:
            posts = self.posts(channel, thread)
            for call in reversed(posts):
                if "Please check" in all_text(call):
                    return call
            if not declined and any("answer it?" in all_text(c) for c in posts):
                self.say_in_thread(user, channel, thread, "no", team=team)
                declined = True
            time.sleep(0.03)
        return self.wait_post(channel, "Please check", thread, timeout=0.1)

    def click(self, user: str, message: Call, label: str, team: str = TEAM_ID) -> None:
        """Press the button labelled `label` in a message the bot posted, or pick the option
        `label` of its "More…" menu."""
        blocks = message.params.get("blocks") or []
        for block in blocks:
            elements = block.get("elements", []) if block.get("type") == "actions" else \
                [block["accessory"]] if isinstance(block.get("accessory"), dict) else []
            for element in elements:
                if element.get("type") == "button" and element["text"]["text"] == label:
                    status, _ = self.interaction(block_action(user, team, message, element))
                    assert status == 200
                    return
                for option in element.get("options", []):
                    if option["text"]["text"] == label:
                        status, _ = self.interaction(block_action(user, team, message,
                                                                  element, option))
                        assert status == 200
                        return
        raise AssertionError(f"no button {label!r} in {json.dumps(blocks)[:1500]}")

    def press(self, user: str, message: Call, choice_prefix: str,
              team: str = TEAM_ID) -> None:
        """Press the button (in an actions block or beside a section) whose neutral choice
        starts with `choice_prefix`."""
        for block in message.params.get("blocks") or []:
            elements = block.get("elements", []) if block.get("type") == "actions" else \
                [block["accessory"]] if isinstance(block.get("accessory"), dict) else []
            for element in elements:
                if element.get("type") == "button" and json.loads(
                        element.get("value", "{}")).get("choice", "").startswith(choice_prefix):
                    status, _ = self.interaction(block_action(user, team, message, element))
                    assert status == 200
                    return
        raise AssertionError(f"no button for {choice_prefix!r} in {all_text(message)[:1500]}")

    def file_acme_p1(self, description: str) -> tuple[str, Call]:
        """Alice files a P1 incident on Acme's production deployment by typing in a thread
        of her channel; returns the thread and the confirmation with the case card."""
        thread = self.mention("U0ALICE", "C0ACME", description)
        # The message says what happened (an incident on the orders API): only the impact
        # and the deployment are asked.
        self.wait_post("C0ACME", "Which best describes the impact?", thread)
        for text, expect in [("P1", "Which deployment"), ("prod", "Please check")]:
            self.say_in_thread("U0ALICE", "C0ACME", thread, text)
            self.wait_post("C0ACME", expect, thread)
        self.say_in_thread("U0ALICE", "C0ACME", thread, "open")
        return thread, self.wait_post("C0ACME", "is open", thread)

    def settle(self, quiet: float = 0.6, timeout: float = 15.0) -> int:
        """Wait until the bot has stopped posting (the outbox is asynchronous)."""
        deadline = time.monotonic() + timeout
        seen = len(self.fake.calls)
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = len(self.fake.calls)
            if now != seen:
                seen, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                return now
        return seen

    def posts(self, channel: str, thread: str | None = None) -> list[Call]:
        return [c for c in self.fake.of("chat.postMessage")
                if c.params.get("channel") == channel
                and (thread is None or c.params.get("thread_ts") == thread)]

    def wait_post(self, channel: str, contains: str, thread: str | None = None,
                  timeout: float = 15.0) -> Call:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for call in reversed(self.posts(channel, thread)):
                if contains in all_text(call):
                    return call
            time.sleep(0.03)
        seen = [(all_text(c)[:120]) for c in self.posts(channel, thread)]
        raise AssertionError(f"no post containing {contains!r} in {channel}/{thread}: {seen}")


def new_ts() -> str:
    """A fresh Slack timestamp (unique within the run)."""
    return f"{int(time.time())}.{next(_ids):06d}"


def all_text(call: Call) -> str:
    """Everything a person would read of a post: its text and its blocks."""
    return str(call.params.get("text", "")) + json.dumps(call.params.get("blocks") or [])


def block_action(user: str, team: str, message: Call, element: dict[str, Any],
                 option: dict[str, Any] | None = None) -> dict[str, Any]:
    """A click on `element` of `message` (for a menu, the pick of `option`); `team` empty:
    a payload that names no team."""
    channel = message.params["channel"]
    ts = str(message.params.get("ts") or f"{int(time.time())}.000001")
    msg: dict[str, Any] = {"type": "message", "ts": ts, "text": message.params.get("text")}
    if message.params.get("thread_ts"):
        msg["thread_ts"] = message.params["thread_ts"]
    return {
        "type": "block_actions", "user": {"id": user, **({"team_id": team} if team else {})},
        "api_app_id": "A0FRONTDOOR", "token": "legacy", "trigger_id": f"trig.{next(_ids)}",
        "team": {"id": TEAM_ID} if team else None, "channel": {"id": channel},
        "container": {"type": "message", "message_ts": ts, "channel_id": channel,
                      "is_ephemeral": False},
        "message": msg,
        "actions": [{"type": "button", "action_id": element["action_id"],
                     "block_id": "b", "value": element.get("value", ""),
                     "text": element["text"], "action_ts": new_ts()} if option is None else
                    {"type": element["type"], "action_id": element["action_id"],
                     "block_id": "b", "selected_option": option, "action_ts": new_ts()}],
    }


def submission(user: str, view: dict[str, Any], values: dict[str, str],
                team: str = TEAM_ID) -> dict[str, Any]:
    """A view_submission as Slack sends it, filling the modal's inputs by block id."""
    state: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        bid = block["block_id"]
        element = block["element"]
        value = values.get(bid)
        if element["type"] == "static_select":
            options = {o["value"]: o for o in element.get("options", [])}
            selected = options.get(value) if value is not None else None
            state[bid] = {element["action_id"]: {"type": "static_select",
                                                  "selected_option": selected}}
        else:
            state[bid] = {element["action_id"]: {"type": "plain_text_input", "value": value}}
    return {"type": "view_submission", "team": {"id": TEAM_ID},
            "user": {"id": user, "team_id": team}, "api_app_id": "A0FRONTDOOR",
            "token": "legacy", "trigger_id": f"trig.{next(_ids)}",
            "view": {**view, "id": "V123", "state": {"values": state}, "hash": "h"}}


