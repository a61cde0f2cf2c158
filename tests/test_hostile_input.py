"""Hostile input never reaches a 5xx, on any endpoint: `frontdoor serve` in a subprocess, with
Slack (signed for real), Teams (the local emulator mode) and the web chat on, spoken to over
real HTTP.

Each endpoint has a fuzz test (hypothesis over JSON shapes — random values, and real payloads
with random parts replaced or removed — and over headers), bounded to about
`FUZZ_SECONDS`: every answer must be below 500 and the server's log must show no unhandled
error. Each prints how many inputs it tried (`pytest -s`). The reviewer's findings are
tests of their own: a non-ASCII or 4,000-digit timestamp, deep nesting on the web chat and on
Slack (as a JSON body and inside a form's payload), lone surrogates in text and choices, a
view submission whose view has no type, a slow body (408), a client that goes away.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frontdoor_testkit.fake_bot_framework import FakeConnector
from frontdoor_testkit.fake_slack import TEAM_ID, FakeSlack
from frontdoor_testkit.server_process import ServerProcess
from frontdoor_testkit.slack_signing import BOT_TOKEN, SIGNING_SECRET

FUZZ_SECONDS = 20.0  # the most each fuzz test runs for
BODY_READ_SECONDS = 2  # the server's body read timeout in this module
FORM = "application/x-www-form-urlencoded"
FUZZ = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))


class Server:
    """The server, its fakes, and its log."""

    def __init__(self, tmp: Path) -> None:
        self.slack = FakeSlack()
        slack_url = self.slack.start()
        self.teams = FakeConnector()
        self.teams.start()
        self.log = tmp / "server.log"
        self.process = ServerProcess(
            {"FRONTDOOR_DB": str(tmp / "fuzz.db"), "SLACK_BOT_TOKEN": BOT_TOKEN,
             "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack_url,
             "MICROSOFT_APP_TENANT_ID": "northwind-tenant",
             "FRONTDOOR_BODY_READ_SECONDS": str(BODY_READ_SECONDS)}, self.log)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, Any]:
        return self.process.request(method, path, body, headers)

    def slack_post(self, raw: bytes, content_type: str) -> tuple[int, Any]:
        """POST `raw` to /slack/events, signed over its exact bytes as Slack signs."""
        return self.request("POST", "/slack/events", raw, _sign_bytes(raw, content_type))

    def bad_log_lines(self) -> list[str]:
        """Errors the server logged (hostile input is logged at info at most)."""
        return [line for line in self.log.read_text(errors="replace").splitlines()
                if '"level": "error"' in line or '"level": "critical"' in line
                or line.startswith("Traceback")]

    def stop(self) -> None:
        self.process.stop()
        self.slack.stop()
        self.teams.stop()


def _sign_bytes(raw: bytes, content_type: str) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:".encode() + raw,
                      hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}",
            "Content-Type": content_type}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("fuzz"))
    yield running
    running.stop()


# -- strategies -----------------------------------------------------------------------------------

# Text as an attacker writes it: any code point, lone surrogates and control characters too.
HOSTILE_CHARS = st.one_of(
    st.characters(), st.characters(categories=["Cs", "Cc", "Cf", "Zl", "Zp"]),
    st.sampled_from([*'{}[]"\\<>&*_#!|`~', "\u202e", "\ufeff", "\x00"]))
HOSTILE_TEXT = st.one_of(st.text(HOSTILE_CHARS, max_size=40),
                         st.sampled_from(["", "0", "ACME-1", "case:acknowledge:ACME-1",
                                          "U0ALICE", "T0NORTHWIND", "a" * 5000]))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), HOSTILE_TEXT,
                    st.floats(allow_nan=False, allow_infinity=False))
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(HOSTILE_TEXT, inner, max_size=4)),
    max_leaves=12)
DEEP = st.integers(min_value=30, max_value=5000).flatmap(lambda n: st.sampled_from([
    "[" * n + "]" * n, '{"a":' * n + "1" + "}" * n, "[" * n]))
DELETE = object()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            out += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            out += _paths(inner, (*prefix, index))
    return out


def _apply(template: Any, changes: list[tuple[tuple[Any, ...], Any]]) -> Any:
    result = json.loads(json.dumps(template))
    for path, new in changes:
        parent = result
        try:
            for step in path[:-1]:
                parent = parent[step]
            if new is DELETE:
                del parent[path[-1]]
            else:
                parent[path[-1]] = new
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed or replaced the way there
    return result


def mutations(template: dict[str, Any]) -> st.SearchStrategy[Any]:
    """`template` with up to three of its parts replaced by random JSON or removed."""
    change = st.tuples(st.sampled_from(_paths(template)),
                       st.one_of(st.just(DELETE), JSON_VALUES))
    return st.lists(change, min_size=1, max_size=3).map(lambda c: _apply(template, c))


def _dumps(value: Any) -> str:
    return json.dumps(value)  # ensure_ascii: a lone surrogate travels as a \\udXXX escape


class Budget:
    """How many inputs a fuzz test tried, within FUZZ_SECONDS in all."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.tried = 0

    def left(self) -> float:
        return FUZZ_SECONDS - (time.monotonic() - self.started)


def fuzz(budget: Budget, strategy: st.SearchStrategy[Any], check: Callable[[Any], None],
         seconds: float) -> None:
    """Run `check` on examples of `strategy` for about `seconds` (of the budget's), in rounds
    sized from how long the previous round's examples took."""
    deadline = time.monotonic() + min(seconds, budget.left())
    examples = 25
    while examples >= 5:
        started, before = time.monotonic(), budget.tried

        @settings(FUZZ, max_examples=examples)
        @given(strategy)
        def run(example: Any) -> None:
            budget.tried += 1
            check(example)

        run()
        per_example = (time.monotonic() - started) / max(budget.tried - before, 1)
        examples = min(int(0.5 * (deadline - time.monotonic()) / per_example), 2000)


def _report(name: str, budget: Budget, server: Server) -> None:
    print(f"\nfuzz {name}: {budget.tried} inputs in "
          f"{time.monotonic() - budget.started:.1f} s, no 5xx")
    assert budget.tried >= 200, "the fuzz test tried too few inputs to mean anything"
    assert server.bad_log_lines() == []
    assert server.request("GET", "/healthz")[0] == 200


# -- Slack ----------------------------------------------------------------------------------------

SLACK_USER = {"id": "U0ALICE", "team_id": TEAM_ID, "name": "alice"}
SLACK_INTERACTIONS: list[dict[str, Any]] = [
    {"type": "block_actions", "user": SLACK_USER, "team": {"id": TEAM_ID},
     "api_app_id": "A0FRONTDOOR", "token": "legacy", "trigger_id": "trig.1",
     "channel": {"id": "C0ACME"},
     "container": {"type": "message", "message_ts": "1.000001", "channel_id": "C0ACME",
                   "is_ephemeral": False},
     "message": {"type": "message", "ts": "1.000001", "text": "hi"},
     "actions": [{"type": "button", "action_id": "choice:0", "block_id": "b",
                  "value": '{"v":1,"choice":"cmd:help"}', "action_ts": "1.2"}]},
    {"type": "view_submission", "user": SLACK_USER, "team": {"id": TEAM_ID},
     "api_app_id": "A0FRONTDOOR", "token": "legacy", "trigger_id": "trig.2",
     "view": {"id": "V1", "type": "modal", "callback_id": "frontdoor-form", "hash": "h",
              "private_metadata": '{"v":1,"form":"intake","channel":"C0ACME"}',
              "blocks": [{"type": "input", "block_id": "description"}],
              "state": {"values": {"description": {"value": {
                  "type": "plain_text_input", "value": "export fails"}}}}}},
    {"type": "message_action", "callback_id": "file-support-case", "user": SLACK_USER,
     "team": {"id": TEAM_ID}, "trigger_id": "trig.3", "channel": {"id": "C0ACME"},
     "message": {"type": "message", "user": "U0ALICE", "ts": "1.000002", "text": "broken"},
     "response_url": "http://127.0.0.1:9/response"},
]
SLACK_COMMAND = {"token": "legacy", "team_id": TEAM_ID, "channel_id": "C0ACME",
                 "user_id": "U0ALICE", "command": "/support", "text": "help",
                 "trigger_id": "trig.4", "api_app_id": "A0FRONTDOOR"}
SLACK_EVENT = {"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0FRONTDOOR",
               "type": "event_callback", "event_id": "Ev1", "event_time": 1,
               "event": {"type": "app_mention", "user": "U0ALICE", "team": TEAM_ID,
                         "channel": "C0ACME", "text": "<@U0FRONTDOOR> help",
                         "ts": "1.000003", "event_ts": "1.000003"}}


def _below_500(result: tuple[int, Any], what: Any) -> None:
    status, body = result
    assert status < 500, f"{status} {str(body)[:300]} for {str(what)[:500]}"


def test_fuzz_slack_events(server: Server) -> None:
    """Signed bodies of every shape (JSON, forms with a payload, commands), and unsigned ones
    with hostile headers: never a 5xx."""
    budget = Budget()

    def fresh_ids(value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("event_id"), str):
            value["event_id"] = f"EvFuzz{budget.tried}"
        return value

    bodies = st.one_of(
        JSON_VALUES.map(lambda v: (_dumps(v), "application/json")),
        mutations(SLACK_EVENT).map(fresh_ids).map(lambda v: (_dumps(v), "application/json")),
        st.sampled_from(SLACK_INTERACTIONS).flatmap(mutations).map(
            lambda v: (urllib.parse.urlencode({"payload": _dumps(v)}), FORM)),
        JSON_VALUES.map(lambda v: (urllib.parse.urlencode({"payload": _dumps(v)}), FORM)),
        mutations(SLACK_COMMAND).map(lambda v: (urllib.parse.urlencode(
            {str(k): v for k, v in v.items()} if isinstance(v, dict) else {"x": str(v)}),
            FORM)),
        DEEP.map(lambda d: (d, "application/json")),
        DEEP.map(lambda d: (urllib.parse.urlencode({"payload": d}), FORM)),
        st.binary(max_size=200).map(lambda b: (b.decode("latin-1"), FORM)),
    )

    def signed(example: tuple[str, str]) -> None:
        body, content_type = example
        _below_500(server.slack_post(body.encode("latin-1"), content_type), example)

    headers = st.fixed_dictionaries({
        "X-Slack-Request-Timestamp": st.one_of(
            HOSTILE_TEXT, st.integers().map(str), st.sampled_from(["٣٤٥", "²", "1" * 4000,
                                                                   "-1", " 1", "1e9"])),
        "X-Slack-Signature": st.one_of(HOSTILE_TEXT, st.just("v0=" + "0" * 64)),
    })

    def unsigned(example: dict[str, str]) -> None:
        safe = {k: v.encode("utf-8", "surrogatepass").decode("latin-1")
                for k, v in example.items() if "\n" not in v and "\r" not in v}
        try:
            result = server.request("POST", "/slack/events", b'{"type":"event_callback"}',
                                    {"Content-Type": "application/json", **safe})
        except (ValueError, UnicodeError):
            return  # a header urllib itself refuses to send
        status, _ = result
        assert status in (400, 401), (status, example)

    fuzz(budget, bodies, signed, seconds=14)
    fuzz(budget, headers, unsigned, seconds=6)
    _report("/slack/events", budget, server)


# -- Teams ----------------------------------------------------------------------------------------

def _activity(server: Server, **extra: Any) -> dict[str, Any]:
    return {"type": "message", "id": "1", "channelId": "msteams",
            "serviceUrl": server.teams.url, "timestamp": "2026-11-20T16:30:00.000Z",
            "from": {"id": "29:alice", "name": "Alice", "aadObjectId": "aad-alice"},
            "recipient": {"id": "28:bot", "name": "Frontdoor"},
            "conversation": {"id": "a:personal-alice", "conversationType": "personal",
                             "tenantId": "acme-tenant"},
            "channelData": {"tenant": {"id": "acme-tenant"}}, "locale": "en-US", **extra}


def test_fuzz_teams_messages(server: Server) -> None:
    """Activities of every shape (messages, card submissions, the message action's invokes,
    installs, random JSON) from the local emulator: never a 5xx."""
    budget = Budget()
    counter = iter(range(10**9))
    templates = [
        _activity(server, text="help"),
        _activity(server, value={"frontdoor": {"v": 1, "choice": "cmd:help"}}),
        _activity(server, type="invoke", name="composeExtension/fetchTask",
                  value={"commandId": "file-support-case", "commandContext": "message",
                         "messagePayload": {"id": "1", "body": {"contentType": "html",
                                                                "content": "<p>down</p>"}}}),
        _activity(server, type="conversationUpdate",
                  membersAdded=[{"id": "28:bot", "name": "Frontdoor"}]),
    ]

    def fresh(value: Any) -> Any:
        if isinstance(value, dict) and "id" in value:
            value["id"] = f"fuzz-{next(counter)}"
        return value

    bodies = st.one_of(
        st.sampled_from(templates).flatmap(mutations).map(fresh).map(_dumps),
        JSON_VALUES.map(_dumps), DEEP, st.binary(max_size=200).map(
            lambda b: b.decode("latin-1")))

    def post(body: str) -> None:
        _below_500(server.request("POST", "/api/messages", body.encode("latin-1"),
                                  {"Content-Type": "application/json"}), body)

    fuzz(budget, bodies, post, seconds=20)
    _report("/api/messages", budget, server)


# -- the web chat ---------------------------------------------------------------------------------

def test_fuzz_the_web_chat(server: Server) -> None:
    """`POST /chat/messages` with JSON of every shape, and the GET routes with hostile
    queries: never a 5xx."""
    budget = Budget()
    messages = st.one_of(
        mutations({"user": "alice", "text": "help"}), mutations({"user": "ana",
                                                                 "choice": "cmd:help"}),
        mutations({"user": "adam", "form": {"_action": "comment", "_case": "ACME-1",
                                            "text": "x"}}),
        JSON_VALUES).map(_dumps) | DEEP

    def post(body: str) -> None:
        _below_500(server.request("POST", "/chat/messages", body.encode("latin-1"),
                                  {"Content-Type": "application/json"}), body)

    queries = st.tuples(st.sampled_from(["/chat/cases", "/chat/feed", "/chat/war-room",
                                         "/chat/identities"]),
                        st.dictionaries(st.sampled_from(["user", "after", "x"]),
                                        HOSTILE_TEXT, max_size=2))

    def get(example: tuple[str, dict[str, str]]) -> None:
        path, query = example
        encoded = urllib.parse.urlencode(
            {k: v.encode("utf-8", "surrogatepass") for k, v in query.items()})
        _below_500(server.request("GET", f"{path}?{encoded}"), example)

    fuzz(budget, messages, post, seconds=13)
    fuzz(budget, queries, get, seconds=7)
    _report("/chat/*", budget, server)


# -- the reviewer's findings, one test each -------------------------------------------------------

@pytest.mark.parametrize("timestamp", ["١٧٠٠٠٠٠٠٠٠", "17000000٠٠", "²", "1" * 4000, "0x10",
                                       " 1700000000", "+1700000000"])
def test_a_malformed_slack_timestamp_is_refused_401_not_500(server: Server,
                                                            timestamp: str) -> None:
    """A non-ASCII digit (str.isdigit takes it, int() then fails) or 4,000 digits in
    X-Slack-Request-Timestamp: unauthenticated, so 401 before anything else."""
    headers = {"Content-Type": "application/json", "X-Slack-Signature": "v0=" + "0" * 64,
               "X-Slack-Request-Timestamp": timestamp.encode().decode("latin-1")}
    assert server.request("POST", "/slack/events", b"{}", headers)[0] == 401


DEEP_JSON = "[" * 100_000 + "]" * 100_000


def test_deep_nesting_is_refused_400_on_every_endpoint(server: Server) -> None:
    """Deeply nested JSON — on the web chat's API, on Slack as a JSON body and inside a
    form's payload, on Teams — is refused before it is parsed."""
    nested_message = '{"user": "alice", "text": "hi", "x": ' + DEEP_JSON + "}"
    status, body = server.request("POST", "/chat/messages", nested_message.encode(),
                                  {"Content-Type": "application/json"})
    assert status == 400 and "deeper than" in body["error"]
    assert server.slack_post(DEEP_JSON.encode(), "application/json")[0] == 400
    form = urllib.parse.urlencode({"payload": '{"type": "block_actions", "x": '
                                   + DEEP_JSON + "}"})
    assert server.slack_post(form.encode(), FORM)[0] == 400
    assert server.request("POST", "/api/messages", DEEP_JSON.encode(),
                          {"Content-Type": "application/json"})[0] == 400
    assert server.bad_log_lines() == []


@pytest.mark.parametrize("field", ["text", "choice"])
@pytest.mark.parametrize("bad", ["\\ud800", "\\udfff tail", "a\\u0000b", "\\u001b[31m"])
def test_lone_surrogates_and_control_characters_get_400(server: Server, field: str,
                                                        bad: str) -> None:
    """A lone surrogate (a JSON escape makes one) or a control character in text or a
    choice: 400 on the web chat, Slack and Teams, never a 500 from the store or a renderer."""
    body = '{"user": "alice", "' + field + '": "' + bad + '"}'
    status, answer = server.request("POST", "/chat/messages", body.encode(),
                                    {"Content-Type": "application/json"})
    assert status == 400 and ("surrogate" in answer["error"]
                              or "control character" in answer["error"])
    event = json.dumps({**SLACK_EVENT, "event_id": f"EvBad{field}{len(bad)}"}).replace(
        "<@U0FRONTDOOR> help", bad)
    assert server.slack_post(event.encode(), "application/json")[0] == 400
    activity = json.dumps(_activity(server, text="x")).replace('"text": "x"',
                                                               f'"text": "{bad}"')
    assert server.request("POST", "/api/messages", activity.encode(),
                          {"Content-Type": "application/json"})[0] == 400


@pytest.mark.parametrize("broken", [
    lambda p: p["view"].pop("type"),  # the reviewer's: a view submission whose view has no type
    lambda p: p.update(team=["T0NORTHWIND"]),
    lambda p: p.update(user="U0ALICE"),
    lambda p: p.pop("user"),
    lambda p: p["view"].update(state={"values": ["x"]}),
    lambda p: p["view"].update(private_metadata={"v": 1}),
    lambda p: p.update(type="view_closed"),
    lambda p: p.update(type=["view_submission"]),
    lambda p: p.update(function_data="x", view=None),
])
def test_a_malformed_interaction_is_refused_before_bolt_sees_it(
    server: Server, broken: Callable[[dict[str, Any]], Any],
) -> None:
    payload = json.loads(json.dumps(SLACK_INTERACTIONS[1]))
    broken(payload)
    form = urllib.parse.urlencode({"payload": json.dumps(payload)})
    status, body = server.slack_post(form.encode(), FORM)
    assert status == 400, body
    assert server.bad_log_lines() == []


@pytest.mark.parametrize("broken", [
    lambda p: p.update(actions=[]), lambda p: p.update(actions=["x"]),
    lambda p: p["actions"][0].pop("action_id"), lambda p: p.update(container="C0ACME"),
    lambda p: p["message"].update(ts="١.٢"), lambda p: p.update(channel={"id": "C0<!x>"}),
])
def test_a_malformed_button_press_is_refused_before_bolt_sees_it(
    server: Server, broken: Callable[[dict[str, Any]], Any],
) -> None:
    payload = json.loads(json.dumps(SLACK_INTERACTIONS[0]))
    broken(payload)
    form = urllib.parse.urlencode({"payload": json.dumps(payload)})
    assert server.slack_post(form.encode(), FORM)[0] == 400


def _raw_request(server: Server, head: bytes, chunks: list[bytes], pause: float) -> None:
    """Send `head` then each chunk, `pause` seconds apart, and go away."""
    with socket.create_connection(("127.0.0.1", server.process.port), timeout=30) as sock:
        sock.sendall(head)
        for chunk in chunks:
            sock.sendall(chunk)
            time.sleep(pause)


def test_a_slow_body_gets_408_and_the_connection_closed(server: Server) -> None:
    """A client that trickles its body (here a byte, then nothing) is answered 408 once the
    read timeout has passed and its connection closed, instead of being held open for as
    long as it likes."""
    head = (b"POST /chat/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
            b"\r\nContent-Length: 40\r\n\r\n{")
    with socket.create_connection(("127.0.0.1", server.process.port), timeout=30) as sock:
        started = time.monotonic()
        sock.sendall(head)
        answer = b""
        while data := sock.recv(65536):  # until the server closes the connection
            answer += data
        took = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert BODY_READ_SECONDS <= took < BODY_READ_SECONDS + 3
    assert server.bad_log_lines() == []


def _count(metrics: str, route: str, status: str) -> float:
    for line in metrics.splitlines():
        if line.startswith("frontdoor_http_requests_total{") and f'route="{route}"' in line \
                and f'status="{status}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_client_that_goes_away_is_no_error(server: Server) -> None:
    """A client that sends half its body and leaves is neither logged as an unhandled error
    nor counted as a 500."""
    _, before = server.request("GET", "/metrics")
    head = (b"POST /chat/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n")
    _raw_request(server, head, [b'{"user": "al'], pause=0.2)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        _, after = server.request("GET", "/metrics")
        if _count(after, "/chat/messages", "499") > _count(before, "/chat/messages", "499"):
            break
        time.sleep(0.1)
    assert _count(after, "/chat/messages", "499") == _count(before, "/chat/messages", "499") + 1
    assert _count(after, "/chat/messages", "500") == _count(before, "/chat/messages", "500")
    assert server.bad_log_lines() == []


def test_socket_mode_interactions_are_checked_like_http_ones() -> None:
    """Over Socket Mode (no HTTP body) bolt gets the same checked shape: the interaction's
    known fields only, and nothing malformed."""
    from adapters.errors import PayloadError
    from adapters.slack.request_shapes import check_command, check_interaction

    checked = check_interaction({**SLACK_INTERACTIONS[0], "function_data": "x"})
    assert "function_data" not in checked.content and checked.content["user"]["id"] == "U0ALICE"
    broken = json.loads(json.dumps(SLACK_INTERACTIONS[1]))
    del broken["view"]["type"]
    for bad in (broken, {**SLACK_INTERACTIONS[0], "user": {"id": "U0\ud800"}}, ["x"]):
        with pytest.raises(PayloadError):
            check_interaction(bad)
    assert check_command(SLACK_COMMAND).content["command"] == "/support"
    # bolt takes any form with "payload" in it for an interaction: the word is kept out
    from slack_bolt.request.internals import parse_body

    worded = check_command({**SLACK_COMMAND, "text": "the payload export fails"}).for_bolt
    assert "payload" not in worded
    assert parse_body(worded, "application/x-www-form-urlencoded")["text"] == \
        "the payload export fails"
    for bad_command in ({**SLACK_COMMAND, "text": ["x"]}, {"command": "/support"}):
        with pytest.raises(PayloadError):
            check_command(bad_command)
