"""No personal data or message bodies in the logs, at any level: a full case at DEBUG — filed
in Slack and in the web chat, acknowledged with a button, asked, answered and resolved —
through `frontdoor serve` as a real process over real HTTP (and the fake Slack Web API), then
the log is searched for the people's names, ids and words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from frontdoor_testkit.fake_slack import FakeSlack
from frontdoor_testkit.server_process import ServerProcess, case_id_of
from frontdoor_testkit.slack_signing import BOT_TOKEN, SIGNING_SECRET
from tests.test_conversations_http import file_case
from tests.test_slack_front_door import SlackSession

# What the customers say and are called: none of it may reach the log.
SLACK_TEXT = "the quasar-ledger API returns 503 since 09:40"
WEB_TEXT = "Adam here: what is the recommended way to rotate the nebula-report API keys?"
ANSWER = "it is the eu-west-7 tenant, ring Alice on extension 4471"
SECRETS = ("quasar-ledger", "nebula-report", "eu-west-7", "4471", "Alice Chen", "Adam Smith",
           "U0ALICE", "U0ADAM")


@pytest.fixture(scope="module")
def debug_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp: Path = tmp_path_factory.mktemp("quiet")
    fake = FakeSlack()
    url = fake.start()
    log = tmp / "server.log"
    server = ServerProcess({"FRONTDOOR_DB": str(tmp / "quiet.db"), "SLACK_BOT_TOKEN": BOT_TOKEN,
                            "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": url,
                            "LOG_LEVEL": "DEBUG"}, log)
    try:
        slack = SlackSession(server, fake)
        thread, confirmation = slack.file_acme_p1(SLACK_TEXT)
        engineers = slack.wait_post("C0ENGINEERS", "New case from Acme Corp")
        slack.click("U0ANA", engineers, "Acknowledge")
        slack.wait_post("C0ACME", "acknowledged", thread)
        case = case_id_of([{"card": {"case_id": _case_in(confirmation)}}])
        server.say("ana", f"ask {case} which tenant is it?")
        slack.say_in_thread("U0ALICE", "C0ACME", thread, ANSWER)
        slack.wait_post("C0ENGINEERS", "eu-west-7")
        server.say("ana", f"resolve {case} replayed the quasar-ledger queue")
        web_case = file_case(server, "adam", [("choice", "query"), ("text", WEB_TEXT)])
        server.say("ana", f"ack {web_case}")
        server.get("/chat/cases?user=adam")
        server.get("/chat/feed?user=alice&after=2020-01-01T00:00:00Z")
        slack.settle()
    finally:
        server.stop()
        fake.stop()
    yield log.read_text(encoding="utf-8", errors="replace")


def _case_in(confirmation: object) -> str:
    text = json.dumps(getattr(confirmation, "params", {}))
    start = text.index("ACME-")
    end = start + 5
    while end < len(text) and text[end].isdigit():
        end += 1
    return text[start:end]


def test_the_debug_log_names_no_one_and_repeats_nothing_they_said(debug_log: str) -> None:
    lines = debug_log.splitlines()
    assert len(lines) > 20, debug_log[-2000:]  # DEBUG really was on: there is a log to search
    assert any('"level": "debug"' in line and "logging at DEBUG" in line for line in lines)
    found = {s: [line[:300] for line in lines if s in line] for s in SECRETS}
    assert {s: hits for s, hits in found.items() if hits} == {}


def test_a_librarys_warning_keeps_its_wording_not_the_payload(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Bolt warns with the whole request in its message; a library's exception message may
    quote a payload: both are cut to their wording."""
    import logging

    from adapters.logs import configure_logging

    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    configure_logging("DEBUG")
    try:
        bolt = logging.getLogger("slack_bolt.AsyncApp")
        bolt.debug("Sending: %s", {"text": SLACK_TEXT})
        bolt.warning("Unhandled request ({'text': %r, 'user': 'U0ALICE'})", SLACK_TEXT)
        try:
            raise ValueError(f"bad payload {SLACK_TEXT}")
        except ValueError:
            logging.getLogger("aiohttp.server").exception("Error handling request")
        logging.getLogger("bot.cases").debug("case opened", extra={"case_id": "ACME-1"})
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
    lines = capsys.readouterr().err.splitlines()
    logged = [json.loads(line) for line in lines]
    assert [(e["logger"], e["level"]) for e in logged][-3:] == [
        ("slack_bolt.AsyncApp", "warning"), ("aiohttp.server", "error"), ("bot.cases", "debug")]
    assert logged[-3]["message"] == "Unhandled request (…)"
    assert "ValueError (message withheld" in logged[-2]["message"]
    assert "test_quiet_logs.py" in logged[-2]["message"]  # the traceback stays
    assert not [line for line in lines if "quasar" in line or "U0ALICE" in line]
