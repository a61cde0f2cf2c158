"""The Slack front door end to end: signed requests over real HTTP to `frontdoor serve` in a
subprocess, which talks to a fake Slack Web API over real HTTP."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from tests.fake_slack import BOT_USER_ID, TEAM_ID, Call, FakeSlack
from tests.server_process import ServerProcess
from tests.slack_signing import BOT_TOKEN, SIGNING_SECRET, signed_headers

_ids = count(1)


class SlackSession:
    """Sends what Slack would send, and reads what the bot posted to the fake."""

    def __init__(self, server: ServerProcess, fake: FakeSlack) -> None:
        self.server = server
        self.fake = fake

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

    def mention(self, user: str, channel: str, text: str) -> str:
        ts = _ts()
        status, _ = self.event({"type": "app_mention", "user": user, "channel": channel,
                                "text": f"<@{BOT_USER_ID}> {text}", "ts": ts,
                                "event_ts": ts})
        assert status == 200
        return ts

    def say_in_thread(self, user: str, channel: str, thread: str, text: str) -> None:
        ts = _ts()
        status, _ = self.event({"type": "message", "channel_type": "channel", "user": user,
                                "channel": channel, "text": text, "ts": ts,
                                "thread_ts": thread, "event_ts": ts})
        assert status == 200

    def click(self, user: str, message: Call, label: str, team: str = TEAM_ID) -> None:
        """Press the button labelled `label` in a message the bot posted."""
        blocks = message.params.get("blocks") or []
        for block in blocks:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("type") == "button" and element["text"]["text"] == label:
                    status, _ = self.interaction(_block_action(user, team, message, element))
                    assert status == 200
                    return
        raise AssertionError(f"no button {label!r} in {json.dumps(blocks)[:1500]}")

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
                if contains in _all_text(call):
                    return call
            time.sleep(0.03)
        seen = [(_all_text(c)[:120]) for c in self.posts(channel, thread)]
        raise AssertionError(f"no post containing {contains!r} in {channel}/{thread}: {seen}")


def _ts() -> str:
    return f"{int(time.time())}.{next(_ids):06d}"


def _all_text(call: Call) -> str:
    return str(call.params.get("text", "")) + json.dumps(call.params.get("blocks") or [])


def _block_action(user: str, team: str, message: Call, element: dict[str, Any]) -> dict[str, Any]:
    channel = message.params["channel"]
    ts = str(message.params.get("ts") or f"{int(time.time())}.000001")
    msg: dict[str, Any] = {"type": "message", "ts": ts, "text": message.params.get("text")}
    if message.params.get("thread_ts"):
        msg["thread_ts"] = message.params["thread_ts"]
    return {
        "type": "block_actions", "user": {"id": user, "team_id": team},
        "api_app_id": "A0FRONTDOOR", "token": "legacy", "trigger_id": f"trig.{next(_ids)}",
        "team": {"id": TEAM_ID}, "channel": {"id": channel},
        "container": {"type": "message", "message_ts": ts, "channel_id": channel,
                      "is_ephemeral": False},
        "message": msg,
        "actions": [{"type": "button", "action_id": element["action_id"],
                     "block_id": "b", "value": element.get("value", ""),
                     "text": element["text"], "action_ts": _ts()}],
    }


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackSession]:
    tmp: Path = tmp_path_factory.mktemp("slack")
    fake = FakeSlack()
    url = fake.start()
    server = ServerProcess({"FRONTDOOR_DB": str(tmp / "slack.db"), "SLACK_BOT_TOKEN": BOT_TOKEN,
                            "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": url},
                           tmp / "server.log")
    yield SlackSession(server, fake)
    server.stop()
    fake.stop()


def test_a_full_thread_intake_by_typing_files_a_case_and_tells_the_engineers(
    slack: SlackSession,
) -> None:
    """@mention in the customer's channel → guided intake in the thread, typed answers."""
    thread = slack.mention("U0ALICE", "C0ACME", "the orders API returns 503 since 09:40")
    slack.wait_post("C0ACME", "What kind of case", thread)
    for text, expect in [("incident", "To set the priority"), ("P1", "Which deployment"),
                         ("prod", "Which Konneqt product"), ("Gateway", "Please check")]:
        slack.say_in_thread("U0ALICE", "C0ACME", thread, text)
        slack.wait_post("C0ACME", expect, thread)
    slack.say_in_thread("U0ALICE", "C0ACME", thread, "open")
    card = slack.wait_post("C0ACME", "is open", thread)
    assert "ACME-" in _all_text(card)
    engineers = slack.wait_post("C0ENGINEERS", "New case from Acme Corp")
    assert "Acknowledge" in _all_text(engineers)


def test_engineer_acknowledge_updates_both_cards_and_tells_the_customer(
    slack: SlackSession,
) -> None:
    """Acknowledge records it, updates both cards in place and tells the customer who."""
    thread = slack.mention("U0ADAM", "C0ACME", "report totals column is empty every month")
    slack.wait_post("C0ACME", "What kind of case", thread)
    for text in ["query"]:
        slack.say_in_thread("U0ADAM", "C0ACME", thread, text)
    slack.wait_post("C0ACME", "Please check", thread)
    slack.say_in_thread("U0ADAM", "C0ACME", thread, "open")
    opened = slack.wait_post("C0ACME", "is open", thread)
    case_id = _all_text(opened).split("Case ")[1].split(" ")[0]
    engineers = slack.wait_post("C0ENGINEERS", case_id)
    updates_before = len(slack.fake.of("chat.update"))
    slack.click("U0ANA", engineers, "Acknowledge")
    slack.wait_post("C0ACME", "picked up", thread)
    updates = slack.fake.wait_for("chat.update", updates_before + 2)
    channels = {c.params["channel"] for c in updates[updates_before:]}
    assert {"C0ACME", "C0ENGINEERS"} <= channels


def test_a_forged_signature_or_stale_timestamp_is_refused_with_nothing_done(
    slack: SlackSession,
) -> None:
    """Every request is authenticated before anything else happens."""
    before = slack.settle()
    body = json.dumps({"type": "event_callback", "event_id": "EvForged", "event": {
        "type": "app_mention", "user": "U0ALICE", "channel": "C0ACME",
        "text": f"<@{BOT_USER_ID}> hi", "ts": _ts()}})
    forged = signed_headers(body, secret="not-the-secret")
    assert slack.server.request("POST", "/slack/events", body.encode(), forged)[0] == 401
    stale = signed_headers(body, timestamp=int(time.time()) - 600)
    assert slack.server.request("POST", "/slack/events", body.encode(), stale)[0] == 401
    unsigned = {"Content-Type": "application/json"}
    assert slack.server.request("POST", "/slack/events", body.encode(), unsigned)[0] == 401
    time.sleep(0.5)
    assert len(slack.fake.calls) == before


def test_unparseable_signed_payloads_get_400_never_500(slack: SlackSession) -> None:
    """Bolt would answer 500 to these; the route refuses them first."""
    assert slack.post("{not json", "application/json")[0] == 400
    assert slack.post("payload=%7Bnope", "application/x-www-form-urlencoded")[0] == 400
    empty_actions = urllib.parse.urlencode({"payload": json.dumps(
        {"type": "block_actions", "actions": [], "user": {"id": "U0ALICE"}})})
    assert slack.post(empty_actions, "application/x-www-form-urlencoded")[0] == 400


def test_a_retried_event_is_processed_once(slack: SlackSession) -> None:
    """Slack retries an event (same event_id): one conversation turn, one reply."""
    ts = _ts()
    event = {"type": "app_mention", "user": "U0NILS", "channel": "C0NORDLYS",
             "text": f"<@{BOT_USER_ID}> hello", "ts": ts, "event_ts": ts}
    assert slack.event(event, event_id="EvRetried1")[0] == 200
    assert slack.event(event, event_id="EvRetried1", **{"X-Slack-Retry-Num": "1",
                                                         "X-Slack-Retry-Reason": "timeout"}
                       )[0] == 200
    slack.wait_post("C0NORDLYS", "What kind of case", ts)
    time.sleep(1.0)
    assert len([c for c in slack.posts("C0NORDLYS", ts) if "What kind of case" in
                _all_text(c)]) == 1


def test_someone_of_another_organisation_cannot_act_on_or_see_a_case(
    slack: SlackSession,
) -> None:
    """A person of one organisation never sees another organisation's case data."""
    thread = slack.mention("U0ALICE", "C0ACME", "invoices PDF export fails with error 17")
    slack.wait_post("C0ACME", "What kind of case", thread)
    slack.say_in_thread("U0ALICE", "C0ACME", thread, "query")
    slack.wait_post("C0ACME", "Please check", thread)
    slack.say_in_thread("U0ALICE", "C0ACME", thread, "open")
    opened = slack.wait_post("C0ACME", "is open", thread)
    before = len(slack.fake.of("chat.postEphemeral"))
    slack.click("U0NILS", opened, "Add a comment")
    ephemerals = slack.fake.wait_for("chat.postEphemeral", before + 1)
    refusal = ephemerals[-1]
    assert refusal.params["user"] == "U0NILS" and "can't find that case" in _all_text(refusal)
    assert "invoices" not in _all_text(refusal)


def test_web_api_429_is_delivered_after_retry_after(slack: SlackSession) -> None:
    """A rate-limited post is kept and delivered after Retry-After, not dropped."""
    slack.fake.fail("chat.postMessage", 429, times=1, retry_after=1)
    started = time.monotonic()
    thread = slack.mention("U0ULRICH", "C0UMBRELLA", "hello")
    slack.wait_post("C0UMBRELLA", "What kind of case", thread)
    assert time.monotonic() - started >= 0.9
