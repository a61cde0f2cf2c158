"""The Slack front door end to end: signed requests over real HTTP to `frontdoor serve` in a
subprocess, which talks to a fake Slack Web API over real HTTP."""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from itertools import count
from pathlib import Path

import pytest

from frontdoor_testkit.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack
from frontdoor_testkit.markup import mrkdwn_objects, slack_controls
from frontdoor_testkit.server_process import ServerProcess
from frontdoor_testkit.slack_client import SlackSession
from frontdoor_testkit.slack_client import all_text as _all_text
from frontdoor_testkit.slack_client import block_action as _block_action
from frontdoor_testkit.slack_client import new_ts as _ts
from frontdoor_testkit.slack_client import submission as _submission
from frontdoor_testkit.slack_signing import BOT_TOKEN, SIGNING_SECRET, signed_headers

_ids = count(1)


@pytest.fixture(scope="module")
def slack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlackSession]:
    tmp: Path = tmp_path_factory.mktemp("slack")
    fake = FakeSlack()
    url = fake.start()
    server = ServerProcess({"FRONTDOOR_DB": str(tmp / "slack.db"), "SLACK_BOT_TOKEN": BOT_TOKEN,
                            "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": url},
                           tmp / "server.log")
    yield SlackSession(server, fake, tmp / "slack.db")
    server.stop()
    fake.stop()


def test_a_full_thread_intake_by_typing_files_a_case_and_tells_the_engineers(
    slack: SlackSession,
) -> None:
    """@mention in the customer's channel → guided intake in the thread, typed answers."""
    _, card = slack.file_acme_p1("the orders API returns 503 since 09:40")
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
    slack.summary("U0ADAM", "C0ACME", thread)
    slack.say_in_thread("U0ADAM", "C0ACME", thread, "open")
    opened = slack.wait_post("C0ACME", "is open", thread)
    case_id = _all_text(opened).split("Case ")[1].split(" ")[0]
    engineers = slack.wait_post("C0ENGINEERS", case_id)
    updates_before = len(slack.fake.of("chat.update"))
    slack.click("U0ANA", engineers, "Acknowledge")
    slack.wait_post("C0ACME", "and picked it up", thread)
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
    slack.wait_post("C0ACME", "support desk", thread)
    slack.say_in_thread("U0ALICE", "C0ACME", thread, "query")
    slack.summary("U0ALICE", "C0ACME", thread)
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
    started = time.time()  # the fake stamps calls with time.time()
    thread = slack.mention("U0ULRICH", "C0UMBRELLA", "hello")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # the refused attempt is recorded too: wait for two
        tries = [c for c in slack.posts("C0UMBRELLA", thread)
                 if "What kind of case" in _all_text(c)]
        if len(tries) >= 2:
            break
        time.sleep(0.03)
    assert len(tries) == 2, f"expected the refused post and its retry, got {len(tries)}"
    assert tries[1].at - started >= 0.9


def test_slash_command_opens_the_intake_modal_and_a_submission_files_the_case(
    slack: SlackSession,
) -> None:
    """/support → modal with the whole intake → submission → case and confirmation."""
    opened_before = len(slack.fake.of("views.open"))
    assert slack.command("U0UMA", "C0UMBRELLA")[0] == 200
    view = slack.fake.wait_for("views.open", opened_before + 1)[-1].params["view"]
    assert view["type"] == "modal" and view["callback_id"] == "frontdoor-form"
    ids = {b["block_id"] for b in view["blocks"] if b.get("type") == "input"}
    assert {"case_type", "priority", "description"} <= ids
    status, _ = slack.interaction(_submission("U0UMA", view, {
        "case_type": "incident", "priority": "critical", "deployment": "identity-platform",
        "field.product-type": "platform",
        "description": "Identity platform sign-in fails with HTTP 502 for all our staff"}))
    assert status == 200
    review = slack.wait_post("C0UMBRELLA", "Please check and confirm")
    slack.click("U0UMA", review, "Open the case")
    confirmation = slack.wait_post("C0UMBRELLA", "is open")
    assert "UMB-" in _all_text(confirmation)


def test_slash_command_status_is_private(slack: SlackSession) -> None:
    """/support status lists the organisation's open cases, visible only to the asker."""
    before = len(slack.fake.of("chat.postEphemeral"))
    assert slack.command("U0ALICE", "C0ACME", "status")[0] == 200
    slack.fake.wait_for("chat.postEphemeral", before + 1)
    slack.settle()
    shown = slack.fake.of("chat.postEphemeral")[before:]
    assert {c.params["user"] for c in shown} == {"U0ALICE"}
    assert any("open case" in _all_text(c) for c in shown)
    assert not any("UMB-" in _all_text(c) or "NORD-" in _all_text(c) for c in shown)


def test_message_shortcut_turns_a_message_into_a_case_with_a_permalink(
    slack: SlackSession,
) -> None:
    """The "File a support case" shortcut opens the form prefilled, with a permalink."""
    before = len(slack.fake.of("views.open"))
    payload = {"type": "message_action", "callback_id": "file-support-case",
               "trigger_id": f"trig.{next(_ids)}", "team": {"id": TEAM_ID},
               "user": {"id": "U0ADAM", "team_id": TEAM_ID}, "channel": {"id": "C0ACME"},
               "message": {"type": "message", "user": "U0ADAM", "ts": _ts(),
                           "text": "Nightly export job wrote zero rows again tonight"},
               "response_url": slack.fake.url + "response"}
    assert slack.interaction(payload)[0] == 200
    view = slack.fake.wait_for("views.open", before + 1)[-1].params["view"]
    description = next(b for b in view["blocks"] if b.get("block_id") == "description")
    initial = description["element"].get("initial_value", "")
    assert "Nightly export job" in initial and "northwind.slack.example/archives" in initial


def test_ticket_emoji_files_the_message_in_its_thread(slack: SlackSession) -> None:
    """Reacting with :ticket: starts the intake in that message's thread, prefilled."""
    ts = _ts()
    slack.fake.messages[("C0ACME", ts)] = {"ts": ts, "user": "U0ALICE",
                                           "text": "Checkout page shows a blank screen on iOS"}
    status, _ = slack.event({"type": "reaction_added", "user": "U0ALICE",
                             "reaction": "ticket", "item_user": "U0ALICE",
                             "item": {"type": "message", "channel": "C0ACME", "ts": ts},
                             "event_ts": _ts()})
    assert status == 200
    slack.wait_post("C0ACME", "support desk", ts)
    slack.say_in_thread("U0ALICE", "C0ACME", ts, "query")
    review = slack.summary("U0ALICE", "C0ACME", ts)
    assert "Checkout page shows a blank screen" in _all_text(review)


def test_partner_escalates_in_the_shared_channel_and_it_lands_with_history(
    slack: SlackSession,
) -> None:
    """A partner files for a customer it serves and presses Escalate (reason and impact);
    the escalation lands in the vendor's escalation channel with the case history."""
    thread = slack.mention("U0PIA", "C0BLUEBRIDGE", "hello", team="T0BLUEBRIDGE")
    slack.wait_post("C0BLUEBRIDGE", "Which customer", thread)
    for text, expect in [("Acme", "What kind of case"), ("query", "Describe")]:
        slack.say_in_thread("U0PIA", "C0BLUEBRIDGE", thread, text, team="T0BLUEBRIDGE")
        slack.wait_post("C0BLUEBRIDGE", expect, thread)
    slack.say_in_thread("U0PIA", "C0BLUEBRIDGE", thread,
                        "Bulk import rejects files over 10 MB since the last release",
                        team="T0BLUEBRIDGE")
    slack.summary("U0PIA", "C0BLUEBRIDGE", thread, team="T0BLUEBRIDGE")
    slack.say_in_thread("U0PIA", "C0BLUEBRIDGE", thread, "open", team="T0BLUEBRIDGE")
    opened = slack.wait_post("C0BLUEBRIDGE", "is open", thread)
    before = len(slack.fake.of("views.open"))
    slack.click("U0PIA", opened, "Escalate", team="T0BLUEBRIDGE")
    view = slack.fake.wait_for("views.open", before + 1)[-1].params["view"]
    status, _ = slack.interaction(_submission("U0PIA", view, {
        "text": "Customer's go-live is tomorrow; imports block their migration"},
        team="T0BLUEBRIDGE"))
    assert status == 200
    landed = slack.wait_post("C0ESCALATE", "escalated")
    assert "History" in _all_text(landed) and "opened" in _all_text(landed)


def test_a_partner_from_the_wrong_workspace_is_not_recognised(slack: SlackSession) -> None:
    """Slack Connect: the sender's own team decides who is speaking; a workspace the
    deployment doesn't serve gets one sentence, and the refusal is audited."""
    before = len(slack.fake.of("chat.postEphemeral"))
    ts = _ts()
    slack.event({"type": "app_mention", "user": "U0PIA", "user_team": "T0IMPOSTOR",
                 "channel": "C0BLUEBRIDGE", "text": f"<@{BOT_USER_ID}> status", "ts": ts,
                 "event_ts": ts})
    refusal = slack.fake.wait_for("chat.postEphemeral", before + 1)[-1]
    assert "isn't one it serves" in _all_text(refusal)
    assert any(e.actor == "pia" and e.action == "identify" and not e.allowed
               and "T0IMPOSTOR" in e.detail for e in slack.audit())


def test_a_partner_with_no_team_information_is_not_recognised(slack: SlackSession) -> None:
    """An ext-shared event naming no sender's team used to be taken as the partner's."""
    before = len(slack.fake.of("chat.postEphemeral"))
    ts = _ts()
    envelope = {"token": "legacy", "team_id": "T0BLUEBRIDGE", "api_app_id": "A0FRONTDOOR",
                "type": "event_callback", "is_ext_shared_channel": True,
                "event_id": f"Ev{next(_ids):08d}", "event_time": int(time.time()),
                "event": {"type": "app_mention", "user": "U0PIA", "channel": "C0BLUEBRIDGE",
                          "text": f"<@{BOT_USER_ID}> status", "ts": ts, "event_ts": ts}}
    assert slack.post(json.dumps(envelope), "application/json")[0] == 200
    refusal = slack.fake.wait_for("chat.postEphemeral", before + 1)[-1]
    assert refusal.params["user"] == "U0PIA" and "isn't one it serves" in _all_text(refusal)
    assert not slack.posts("C0BLUEBRIDGE", ts)


def test_an_engineers_click_from_a_foreign_workspace_acknowledges_nothing(
    slack: SlackSession,
) -> None:
    """The vendor's workspace is known (required with Slack), so the engineer's user id from
    another workspace is not the engineer: nothing is acknowledged, and it is audited."""
    thread, opened = slack.file_acme_p1("the orders API returns 503 on the payments page")
    case_id = _all_text(opened).split("Case ")[1].split(" ")[0]
    engineers = slack.wait_post("C0ENGINEERS", case_id)
    before = len(slack.fake.of("chat.postEphemeral"))
    slack.click("U0ANA", engineers, "Acknowledge", team="T0ELSEWHERE")
    refusal = slack.fake.wait_for("chat.postEphemeral", before + 1)[-1]
    assert refusal.params["user"] == "U0ANA" and "isn't one it serves" in _all_text(refusal)
    slack.click("U0ANA", engineers, "Acknowledge", team="")  # and a click naming no team
    slack.fake.wait_for("chat.postEphemeral", before + 2)
    slack.settle()
    assert not any("picked it up" in _all_text(c) for c in slack.posts("C0ACME", thread))
    refused = [e for e in slack.audit() if e.actor == "ana" and e.action == "identify"]
    assert len(refused) >= 2


def test_a_slash_command_from_another_workspace_is_refused(slack: SlackSession) -> None:
    """The slash command's team used to be ignored."""
    before_views = len(slack.fake.of("views.open"))
    before = len(slack.fake.of("chat.postEphemeral"))
    body = urllib.parse.urlencode({
        "token": "legacy", "team_id": "T0ELSEWHERE", "channel_id": "C0ACME",
        "user_id": "U0ALICE", "command": "/support", "text": "",
        "trigger_id": f"trig.{next(_ids)}", "response_url": slack.fake.url + "response"})
    assert slack.post(body, "application/x-www-form-urlencoded")[0] == 200
    refusal = slack.fake.wait_for("chat.postEphemeral", before + 1)[-1]
    assert "isn't one it serves" in _all_text(refusal)
    assert len(slack.fake.of("views.open")) == before_views


def test_a_form_button_for_an_action_the_role_may_not_take_opens_no_form(
    slack: SlackSession,
) -> None:
    """A customer's "fill in the form" click for Escalate (a partner's and the vendor's
    action): no modal, a private refusal, and an audit entry."""
    _, opened = slack.file_acme_p1("the orders API returns 503 on the search page")
    case_id = _all_text(opened).split("Case ")[1].split(" ")[0]
    views = len(slack.fake.of("views.open"))
    before = len(slack.fake.of("chat.postEphemeral"))
    element = {"action_id": "open-form:0", "text": {"type": "plain_text", "text": "Fill in"},
               "value": json.dumps({"v": 1, "form": f"action:escalate:{case_id}"})}
    status, _ = slack.interaction(_block_action("U0ADAM", TEAM_ID, opened, element))
    assert status == 200
    refusal = slack.fake.wait_for("chat.postEphemeral", before + 1)[-1]
    assert refusal.params["user"] == "U0ADAM"
    assert "can't escalate cases" in _all_text(refusal)
    slack.settle()
    assert len(slack.fake.of("views.open")) == views
    assert ("adam", "escalate", False) in [(e.actor, e.action, e.allowed)
                                           for e in slack.audit(case_id)]


def test_engineer_first_reply_in_the_case_thread_acknowledges(slack: SlackSession) -> None:
    """An engineer's first reply in the customer's case thread is the first human response."""
    thread = slack.mention("U0ALICE", "C0ACME", "SSO login loops back to the start page")
    slack.wait_post("C0ACME", "support desk", thread)
    slack.say_in_thread("U0ALICE", "C0ACME", thread, "query")
    slack.summary("U0ALICE", "C0ACME", thread)
    slack.say_in_thread("U0ALICE", "C0ACME", thread, "open")
    slack.wait_post("C0ACME", "is open", thread)
    slack.say_in_thread("U0BEN", "C0ACME", thread, "Looking at it now — which IdP?")
    slack.wait_post("C0ACME", "and picked it up", thread)


def test_app_home_shows_engineers_the_queue_and_customers_their_cases(
    slack: SlackSession,
) -> None:
    """App Home: customers see their organisation's open cases; engineers the queue."""
    before = len(slack.fake.of("views.publish"))
    slack.event({"type": "app_home_opened", "user": "U0ANA", "channel": "D0ANA",
                 "tab": "home", "event_ts": _ts()})
    slack.event({"type": "app_home_opened", "user": "U0NILS", "channel": "D0NILS",
                 "tab": "home", "event_ts": _ts()})
    published = slack.fake.wait_for("views.publish", before + 2)[before:]
    by_user = {c.params["user_id"]: json.dumps(c.params["view"]) for c in published}
    assert "Queue" in by_user["U0ANA"] and "ACME-" in by_user["U0ANA"]
    assert "ACME-" not in by_user["U0NILS"]


def test_socket_mode_takes_the_same_path(tmp_path: Path) -> None:
    """`frontdoor serve --socket-mode`: events arrive over the websocket, are acknowledged,
    and are handled by the same code as HTTP."""
    fake = FakeSlack()
    url = fake.start()
    server = ServerProcess({"FRONTDOOR_DB": str(tmp_path / "sm.db"), "SLACK_BOT_TOKEN": BOT_TOKEN,
                            "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": url,
                            "SLACK_APP_TOKEN": "xapp-test-app-token"}, tmp_path / "sm.log",
                           extra_args=("--socket-mode",))
    try:
        fake.wait_connected()
        ts = _ts()
        envelope = fake.push_envelope({
            "token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0FRONTDOOR",
            "type": "event_callback", "event_id": "EvSocket1", "event_time": int(time.time()),
            "event": {"type": "app_mention", "user": "U0ALICE", "channel": "C0ACME",
                      "text": f"<@{BOT_USER_ID}> hello", "ts": ts, "event_ts": ts}})
        session = SlackSession(server, fake)
        session.wait_post("C0ACME", "What kind of case", ts)
        assert any(a.get("envelope_id") == envelope for a in fake.acks)
    finally:
        server.stop()
        fake.stop()


def test_the_modal_adapts_when_the_case_type_is_picked(slack: SlackSession) -> None:
    """Dependent choices: picking a case type reshapes the modal (a Query has no priority)."""
    before = len(slack.fake.of("views.open"))
    assert slack.command("U0ALICE", "C0ACME")[0] == 200
    view = slack.fake.wait_for("views.open", before + 1)[-1].params["view"]
    picker = next(b for b in view["blocks"] if b.get("block_id") == "case_type")
    assert picker.get("dispatch_action") is True
    updates = len(slack.fake.of("views.update"))
    payload = _submission("U0ALICE", view, {"case_type": "query"})
    payload["type"] = "block_actions"
    payload["container"] = {"type": "view", "view_id": "V123"}
    payload["actions"] = [{"type": "static_select", "action_id": "value",
                           "block_id": "case_type",
                           "selected_option": {"value": "query",
                                               "text": {"type": "plain_text",
                                                        "text": "Query"}},
                           "action_ts": _ts()}]
    assert slack.interaction(payload)[0] == 200
    updated = slack.fake.wait_for("views.update", updates + 1)[-1].params
    ids = [b.get("block_id") for b in updated["view"]["blocks"] if b.get("type") == "input"]
    assert "priority" not in ids and "deployment" not in ids and "description" in ids
    assert updated["view_id"] == "V123"


def test_direct_messages_hold_the_same_conversation_privately(slack: SlackSession) -> None:
    """DM the bot: the same intake, in the DM, no thread."""
    ts = _ts()
    slack.event({"type": "message", "channel_type": "im", "user": "U0NANNA",
                 "channel": "D0NANNA", "text": "hi", "ts": ts, "event_ts": ts})
    first = slack.wait_post("D0NANNA", "What kind of case")
    assert first.params.get("thread_ts") in (None, "")


def test_a_direct_message_that_mentions_the_bot_is_answered(slack: SlackSession) -> None:
    """Slack sends no app_mention for DMs, even when the bot is mentioned (Events API,
    app_mention): the DM message itself must be answered."""
    ts = _ts()
    status, _ = slack.event({"type": "message", "channel_type": "im", "user": "U0NILS",
                             "channel": "D0NILS", "text": f"<@{BOT_USER_ID}> hello", "ts": ts,
                             "event_ts": ts})
    assert status == 200
    slack.wait_post("D0NILS", "What kind of case")


def test_the_bot_ignores_its_own_and_other_bots_messages(slack: SlackSession) -> None:
    """Bot messages (ours or others') never start a conversation."""
    before = slack.settle()
    for extra in ({"bot_id": "BOTHER"}, {"subtype": "bot_message", "bot_id": "B1"},
                  {"user": BOT_USER_ID, "bot_id": "BFRONTDOOR"}):
        ts = _ts()
        event = {"type": "message", "channel_type": "channel", "user": "U0ALICE",
                 "channel": "C0ACME", "text": "hello there", "ts": ts, "event_ts": ts, **extra}
        assert slack.event(event)[0] == 200
    assert slack.settle() == before


def test_the_war_team_fills_in_its_response_plan_on_the_war_room_post(
    slack: SlackSession,
) -> None:
    """Konneqt Service Levels (the Incident “war team” and its response plan): escalating a
    P1 to the executive team forms the war team — a post in the war-room channel with the
    four plan items as open fields; the customer may not fill them in; an engineer's entry
    updates that post in place (☑, who) and is said under it."""
    case_id, view = slack.engineers_form("checkout fails: orders API returns 503", "Escalate")
    status, _ = slack.interaction(_submission("U0ANA", view, {
        "level": "executive", "text": "Checkout down for every Acme shopper"}))
    assert status == 200
    post = slack.wait_post("C0WARROOM", f"War team for {case_id}")
    sections = [b for b in post.params["blocks"] if b.get("block_id", "").startswith("plan-")]
    assert [b["text"]["text"].split("\n")[0][:2] for b in sections] == ["☐ "] * 4
    assert "Status update frequency" in sections[3]["text"]["text"]

    ephemerals = len(slack.fake.of("chat.postEphemeral"))
    opened_views = len(slack.fake.of("views.open"))
    slack.press("U0ALICE", post, f"case:response_plan/technical-assessment:{case_id}")
    refusal = slack.fake.wait_for("chat.postEphemeral", ephemerals + 1)[-1]
    assert refusal.params["user"] == "U0ALICE"
    assert "can't fill in a war team's response plan" in _all_text(refusal)
    assert len(slack.fake.of("views.open")) == opened_views  # no form for the customer

    updates = len(slack.fake.of("chat.update"))
    slack.press("U0ANA", post, f"case:response_plan/technical-assessment:{case_id}")
    modal = slack.fake.wait_for("views.open", opened_views + 1)[-1].params["view"]
    assert [b["label"]["text"] for b in modal["blocks"] if b["type"] == "input"] == [
        "Technical assessment"]
    assert modal["blocks"][0]["text"]["text"].startswith(f"*Technical assessment — {case_id} · ")
    status, _ = slack.interaction(_submission("U0ANA", modal, {
        "text": "Connection pool exhausted on orders-db since the 4.2 upgrade"}))
    assert status == 200
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        edits = [c for c in slack.fake.of("chat.update")[updates:]
                 if c.params["channel"] == "C0WARROOM"]
        if edits:
            break
        time.sleep(0.05)
    assert edits, "the war-room post was not updated"
    edited = edits[-1]
    first = next(b for b in edited.params["blocks"] if b.get("block_id") == "plan-1")
    assert first["text"]["text"].startswith("☑ *1. Technical assessment*\nConnection pool")
    assert "Ana Ruiz" in first["text"]["text"]
    assert "Response plan — 1 of 4 agreed" in _all_text(edited)
    said = slack.wait_post("C0WARROOM", "agreed “Technical assessment”")
    assert said.params.get("thread_ts") == edited.params["ts"]  # under the post it edited
    assert len([c for c in slack.posts("C0WARROOM") if f"War team for {case_id}" in
                _all_text(c)]) == 1


def test_a_question_gets_linked_articles_and_an_engineer_sends_one_with_one_tap(
    slack: SlackSession,
) -> None:
    """A documentation question is offered its article (a linked title and an excerpt)
    before it is filed; "No, open a case" files it; the engineers' card lists the articles
    shown, each with a "Send to customer" button, and one tap posts it in the thread."""
    thread = slack.mention("U0NILS", "C0NORDLYS",
                           "Which Microsoft Graph permissions does the sync need in Entra?")
    offer = slack.wait_post("C0NORDLYS", "answer it?", thread)
    link = f"<{slack.server.url}/kb/nordsync/graph-permissions|User sync: Microsoft Graph"
    assert link in _all_text(offer)
    slack.click("U0NILS", offer, "No, open a case")
    review = slack.wait_post("C0NORDLYS", "Please check", thread)
    slack.click("U0NILS", review, "Open the case")
    opened = slack.wait_post("C0NORDLYS", "is open", thread)
    case_id = _all_text(opened).split("Case ")[1].split(" ")[0]
    card = slack.wait_post("C0ENGINEERS", f"{case_id} · ")
    assert "shown to the customer before filing" in _all_text(card)
    slack.press("U0ANA", card, f"case:send_article/nordsync/graph-permissions:{case_id}")
    news = slack.wait_post("C0NORDLYS", "sent you an article", thread)
    assert "/kb/nordsync/graph-permissions" in _all_text(news)


def test_a_replayed_signed_interaction_is_processed_once_across_processes(
    slack: SlackSession, tmp_path: Path,
) -> None:
    """The same signed view_submission sent three times within the signature window used to
    add three events; now one — and the same again to another process on the same store
    (the store's once-only claim) adds none. The slash command and a button likewise."""
    assert slack.db is not None
    case_id, view = slack.engineers_form("the orders API returns 503 since 10:15",
                                         "Ask customer")
    body = urllib.parse.urlencode({"payload": json.dumps(_submission(
        "U0ANA", view, {"text": "Which identity provider do you use?"}))})
    headers = signed_headers(body, content_type="application/x-www-form-urlencoded")
    other = ServerProcess({"FRONTDOOR_DB": str(slack.db), "SLACK_BOT_TOKEN": BOT_TOKEN,
                           "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                           "SLACK_API_URL": slack.fake.url}, tmp_path / "other.log")
    try:
        for server in (slack.server, slack.server, slack.server, other):
            assert server.request("POST", "/slack/events", body.encode(), headers)[0] == 200
        ephemerals = len(slack.fake.of("chat.postEphemeral"))
        command = urllib.parse.urlencode({
            "token": "legacy", "team_id": TEAM_ID, "channel_id": "C0ACME",
            "user_id": "U0ALICE", "command": "/support", "text": "status",
            "trigger_id": f"trig.{next(_ids)}", "response_url": slack.fake.url + "response"})
        command_headers = signed_headers(command,
                                         content_type="application/x-www-form-urlencoded")
        for server in (slack.server, other, slack.server):
            assert server.request("POST", "/slack/events", command.encode(),
                                  command_headers)[0] == 200
        slack.settle()
    finally:
        other.stop()
    kinds = [e.kind for e in slack.read(lambda store: store.case_events(case_id))]
    assert kinds.count("waiting_on_customer") == 1, kinds
    status_replies = [c for c in slack.fake.of("chat.postEphemeral")[ephemerals:]
                      if c.params["user"] == "U0ALICE" and "open case" in _all_text(c)]
    assert len(status_replies) == 1


def test_what_a_customer_typed_reaches_the_engineers_as_typed(slack: SlackSession) -> None:
    """Mentions, links and a right-to-left override typed by a customer reach the engineers'
    channel as characters: every mrkdwn object verbatim, no control sequence of Slack's but
    none, no bidi control anywhere."""
    typed = ("<!channel> <@U0ANA> <https://evil.example/login|Verify your account> "
             "# heading ![img](https://evil.example/p.png) report_\u202egnp.exe is empty")
    thread = slack.mention("U0ALICE", "C0ACME", typed)
    slack.wait_post("C0ACME", "support desk", thread)
    slack.say_in_thread("U0ALICE", "C0ACME", thread, "query")
    slack.wait_post("C0ACME", "Please check", thread)
    slack.say_in_thread("U0ALICE", "C0ACME", thread, "open")
    slack.wait_post("C0ACME", "is open", thread)
    posted = slack.wait_post("C0ENGINEERS", "Verify your account")
    objects = list(mrkdwn_objects(posted.params["blocks"]))
    assert objects and all(o.get("verbatim") is True for o in objects)
    assert [c for o in objects for c in slack_controls(o["text"])] == []
    assert slack_controls(posted.params["text"]) == []
    assert "\u202e" not in json.dumps(posted.params, ensure_ascii=False)
    assert "@channel @U0ANA Verify your account" in json.dumps(posted.params["blocks"])
