"""The Teams front door end to end: Bot Framework activities over real HTTP to `frontdoor
serve` in a subprocess, which posts (proactively, from its outbox) to a fake Bot Framework
connector over real HTTP. This module runs the local (emulator) mode; the authenticated
path is `test_teams_auth.py`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frontdoor_testkit.fake_bot_framework import FakeConnector
from frontdoor_testkit.markup import (
    card_markdown,
    disguised,
    markdown_active,
    markdown_visible,
    without_escape_support,
)
from frontdoor_testkit.server_process import ServerProcess
from frontdoor_testkit.teams_client import (
    ACME_CHANNEL,
    ACME_TENANT,
    ENGINEERS,
    PARTNER_CHANNEL,
    PARTNER_TENANT,
    VENDOR_TENANT,
    TeamsSession,
    find_action,
    new_id,
)


def start_server(tmp: Path, fake: FakeConnector, **env: str) -> ServerProcess:
    return ServerProcess({"FRONTDOOR_DB": str(tmp / "teams.db"),
                          "MICROSOFT_APP_TENANT_ID": VENDOR_TENANT, **env},
                         tmp / "server.log")


@pytest.fixture(scope="module")
def teams(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamsSession]:
    tmp: Path = tmp_path_factory.mktemp("teams")
    fake = FakeConnector()
    fake.start()
    server = start_server(tmp, fake)
    session = TeamsSession(server, fake)
    session.install(VENDOR_TENANT, ENGINEERS)
    session.install(VENDOR_TENANT, "19:escalations@thread.tacv2")
    yield session
    server.stop()
    fake.stop()


def _personal(user: str) -> str:
    return f"a:personal-{user.split(':')[1]}"


def test_personal_chat_intake_by_typing_files_a_case_and_the_engineers_get_a_card(
    teams: TeamsSession,
) -> None:
    """Typed answers in a personal chat; the engineers' channel gets the new-case card
    (a proactive post) with the case actions."""
    chat = _personal("29:adam")
    teams.say("29:adam", ACME_TENANT, chat, "the orders API returns 503 since 09:40")
    teams.fake.wait("Which best describes the impact?", chat)
    for text, expect in [("P1", "Which deployment"), ("prod", "Please check")]:
        teams.say("29:adam", ACME_TENANT, chat, text)
        teams.fake.wait(expect, chat)
    teams.say("29:adam", ACME_TENANT, chat, "open")
    opened = teams.fake.wait("is open", chat)
    assert "ACME-" in opened.text
    card = teams.fake.wait("New case from Acme Corp", ENGINEERS, kinds=("send",))
    content = card.card
    assert content is not None
    for title in ("Acknowledge", "Assign to me", "Ask customer", "Workaround provided",
                  "Resolve", "Reclassify", "Escalate"):
        assert find_action(content, title) is not None, title


def test_personal_chat_intake_by_the_one_card_form_and_buttons(teams: TeamsSession) -> None:
    """The question card offers the whole intake as one form; submitting it and pressing
    "Open the case" files the case."""
    chat = _personal("29:alice")
    teams.say("29:alice", ACME_TENANT, chat, "hi")
    question = teams.fake.wait("What kind of case", chat)
    teams.click("29:alice", ACME_TENANT, question, "Fill in one form", {
        "case_type": "query",
        "description": "The monthly report totals column is empty since the upgrade"})
    review = teams.summary(chat, lambda text: teams.say("29:alice", ACME_TENANT, chat, text))
    teams.click("29:alice", ACME_TENANT, review, "Open the case")
    opened = teams.fake.wait("is open", chat)
    assert opened.card is not None and "ACME-" in opened.text


def test_channel_mention_intake_runs_in_the_thread(teams: TeamsSession) -> None:
    """@mention in the customer's channel: the intake runs in that post's thread, the
    mention is stripped, the buttons work there."""
    thread = teams.mention("29:alice", ACME_TENANT, ACME_CHANNEL,
                           "SSO login loops back to the start page")
    where = f"{ACME_CHANNEL};messageid={thread}"
    question = teams.fake.wait("What kind of case", where)
    teams.click("29:alice", ACME_TENANT, question, "Query")
    teams.summary(where, lambda text: teams.mention("29:alice", ACME_TENANT, ACME_CHANNEL, text,
                                                    thread=thread))
    teams.mention("29:alice", ACME_TENANT, ACME_CHANNEL, "open", thread=thread)
    opened = teams.fake.wait("is open", where)
    assert "SSO login loops" in opened.text
    assert "<at>" not in opened.text and "Frontdoor SSO" not in opened.text


def _open_case_in_thread(teams: TeamsSession, text: str) -> tuple[str, str]:
    thread = teams.mention("29:adam", ACME_TENANT, ACME_CHANNEL, text)
    where = f"{ACME_CHANNEL};messageid={thread}"
    teams.fake.wait("support desk", where)
    # Whatever the message was read as, "query" makes it one.
    teams.mention("29:adam", ACME_TENANT, ACME_CHANNEL, "query", thread=thread)
    teams.summary(where, lambda text: teams.mention("29:adam", ACME_TENANT, ACME_CHANNEL, text,
                                                    thread=thread))
    teams.mention("29:adam", ACME_TENANT, ACME_CHANNEL, "open", thread=thread)
    opened = teams.fake.wait("is open", where)
    case_id = opened.text.split("Case ")[1].split(" ")[0]
    return case_id, where


def test_engineer_acknowledge_from_the_card_updates_the_case_and_both_cards(
    teams: TeamsSession,
) -> None:
    """Acknowledge on the engineers' card: the case is acknowledged, the engineers' card and
    the customer's card are updated in place, and the customer is told who picked it up."""
    case_id, where = _open_case_in_thread(teams, "invoice PDF export fails with error 17")
    card = teams.fake.wait(case_id, ENGINEERS, kinds=("send",))
    before = teams.fake.count()
    teams.click("29:ana", VENDOR_TENANT, card, "Acknowledge")
    teams.fake.wait("and picked it up", where, after=before)
    customer_card = teams.fake.wait("acknowledged", kinds=("update",), after=before,
                                    conversation=where)
    engineers_card = teams.fake.wait("acknowledged", ENGINEERS, kinds=("update",),
                                     after=before)
    assert engineers_card.activity_id == card.answered_id
    assert customer_card.activity_id is not None
    news = teams.fake.wait("and picked it up", f"{ENGINEERS};messageid={card.answered_id}",
                           after=before)
    assert news.kind == "send"


def test_partner_files_in_the_shared_channel_and_escalates(teams: TeamsSession) -> None:
    """A partner files for a customer it serves in its shared channel, and escalates; the
    escalation lands in the vendor's escalation channel with the history."""
    thread = teams.mention("29:pia", PARTNER_TENANT, PARTNER_CHANNEL, "hello")
    where = f"{PARTNER_CHANNEL};messageid={thread}"
    teams.fake.wait("Which customer", where)
    for text, expect in [("Acme", "What kind of case"), ("query", "Describe")]:
        teams.mention("29:pia", PARTNER_TENANT, PARTNER_CHANNEL, text, thread=thread)
        teams.fake.wait(expect, where)
    teams.mention("29:pia", PARTNER_TENANT, PARTNER_CHANNEL,
                  "Bulk import rejects files over 10 MB since the last release", thread=thread)
    teams.summary(where, lambda text: teams.mention("29:pia", PARTNER_TENANT, PARTNER_CHANNEL,
                                                    text, thread=thread))
    teams.mention("29:pia", PARTNER_TENANT, PARTNER_CHANNEL, "open", thread=thread)
    opened = teams.fake.wait("is open", where)
    teams.click("29:pia", PARTNER_TENANT, opened, "Escalate")
    form = teams.fake.wait("Reason and impact", where)
    teams.click("29:pia", PARTNER_TENANT, form, "Send",
                {"text": "Customer's go-live is tomorrow; imports block their migration"})
    landed = teams.fake.wait("escalated", "19:escalations@thread.tacv2")
    assert "History" in landed.text


def test_a_partner_cannot_see_another_customers_case(teams: TeamsSession) -> None:
    """Pia's partner serves Acme and Umbrella, not Nordlys: a Nordlys case stays hidden."""
    replies = teams.server.say("nils", "Nightly meter import wrote zero rows again tonight")
    for text in ["query", "open"]:
        replies = teams.server.say("nils", text)
    case_id = next(r["card"]["case_id"] for r in replies if "card" in r)
    thread = teams.mention("29:pia", PARTNER_TENANT, PARTNER_CHANNEL, case_id)
    refusal = teams.fake.wait("can't find", f"{PARTNER_CHANNEL};messageid={thread}")
    assert "meter import" not in refusal.text


def test_an_unknown_tenant_gets_one_polite_sentence_and_nothing_else(
    teams: TeamsSession,
) -> None:
    before = teams.fake.settle()
    teams.say("29:mallory", "unknown-tenant", "a:personal-mallory", "status")
    teams.fake.settle()
    calls = teams.fake.calls[before:]
    assert len(calls) == 1 and calls[0].kind == "reply"
    assert "isn't one it serves" in calls[0].text and "ACME" not in calls[0].text


def test_a_known_person_from_the_wrong_tenant_is_not_recognised(teams: TeamsSession) -> None:
    """Alice belongs to Acme's tenant: speaking from the partner's tenant she is a stranger."""
    before = teams.fake.settle()
    teams.say("29:alice", PARTNER_TENANT, "a:personal-alice-elsewhere", "status")
    reply = teams.fake.wait("don't know your account", after=before, kinds=("reply",))
    assert "ACME-" not in reply.text


def test_connector_429_is_delivered_after_retry_after(teams: TeamsSession) -> None:
    """A rate-limited post is kept and delivered after Retry-After, not dropped."""
    teams.fake.settle()
    teams.fake.fail("send", 429, times=1, retry_after=1)
    started = time.monotonic()
    chat = _personal("29:adam")
    teams.say("29:adam", ACME_TENANT, chat, "help")
    delivered = teams.fake.wait("Here's what I can do", chat)
    assert time.monotonic() - started >= 0.9
    refused = [c for c in teams.fake.calls if c.status == 429]
    assert refused and refused[-1].at < delivered.at


def test_connector_5xx_is_retried_until_delivered(teams: TeamsSession) -> None:
    teams.fake.settle()
    teams.fake.fail("send", 503, times=2)
    chat = _personal("29:alice")
    teams.say("29:alice", ACME_TENANT, chat, "status")
    teams.fake.wait("open case", chat, timeout=20)


def test_status_lists_only_the_organisations_cases(teams: TeamsSession) -> None:
    before = teams.fake.settle()
    chat = _personal("29:alice")
    teams.say("29:alice", ACME_TENANT, chat, "status")
    teams.fake.wait("open case", chat, after=before)
    teams.fake.wait("ACME-", chat, after=before)  # the cards follow the count
    teams.fake.settle()
    shown = "".join(c.text for c in teams.fake.calls[before:])
    assert "ACME-" in shown and "NORD-" not in shown


def test_unparseable_bodies_get_400_never_500(teams: TeamsSession) -> None:
    server = teams.server
    assert server.request("POST", "/api/messages", b"{nope",
                          {"Content-Type": "application/json"})[0] == 400
    assert server.request("POST", "/api/messages", b"[1, 2]",
                          {"Content-Type": "application/json"})[0] == 400
    assert server.request("POST", "/api/messages", b"{}",
                          {"Content-Type": "application/json"})[0] == 400
    assert server.request("POST", "/api/messages", b"hello",
                          {"Content-Type": "text/plain"})[0] == 415
    odd = teams.activity("29:alice", ACME_TENANT, "a:personal-alice", value={"choice": 17})
    assert teams.post(odd)[0] in (200, 201)


def test_a_retried_activity_is_handled_once(teams: TeamsSession) -> None:
    before = teams.fake.settle()
    activity = teams.activity("29:adam", ACME_TENANT, "a:personal-adam-2", text="help")
    teams.send(activity)
    teams.send(activity)
    teams.fake.wait("Here's what I can do", "a:personal-adam-2", after=before)
    teams.fake.settle()
    assert len(teams.fake.of("send", "a:personal-adam-2")) == 1


def _message_action(teams: TeamsSession, name: str, user: str, tenant: str, channel: str,
                    message_id: str, text: str, data: dict[str, Any] | None = None
                    ) -> dict[str, Any]:
    activity = teams.activity(user, tenant, f"{channel};messageid={message_id}",
                              kind="channel")
    value: dict[str, Any] = {
        "commandId": "fileSupportCase", "commandContext": "message",
        "messagePayload": {
            "id": message_id, "messageType": "message",
            "body": {"contentType": "html", "content": f"<p>{text}</p>"},
            "linkToMessage": f"https://teams.microsoft.com/l/message/{channel}/{message_id}"}}
    if data is not None:
        value["data"] = data
    activity.update({"type": "invoke", "name": name, "value": value})
    return activity


def _inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in card["body"] if str(e.get("type", "")).startswith("Input.")}


def test_message_action_turns_a_message_into_a_case(teams: TeamsSession) -> None:
    """"File a support case" on a message: a task module with the intake form, prefilled
    with the message and its link; submitting it continues in the message's thread. The
    invoke answers are real JSON with 200 (4.17.1's CloudAdapter.process would 500)."""
    message_id = new_id()
    text = "Nightly export job wrote zero rows again tonight"
    status, body = teams.post(_message_action(
        teams, "composeExtension/fetchTask", "29:adam", ACME_TENANT, ACME_CHANNEL, message_id,
        text))
    assert status == 200, body
    assert body["task"]["type"] == "continue"
    card = body["task"]["value"]["card"]["content"]
    inputs = _inputs(card)
    assert text in inputs["description"]["value"]
    assert "teams.microsoft.com/l/message" in inputs["description"]["value"]
    data = {**card["actions"][0]["data"], "case_type": "query",
            "description": inputs["description"]["value"]}
    status, body = teams.post(_message_action(
        teams, "composeExtension/submitAction", "29:adam", ACME_TENANT, ACME_CHANNEL,
        message_id, text, data))
    assert status == 200, body
    where = f"{ACME_CHANNEL};messageid={message_id}"
    review = teams.summary(where, lambda said: teams.mention(
        "29:adam", ACME_TENANT, ACME_CHANNEL, said, thread=message_id))
    assert text in review.text
    teams.click("29:adam", ACME_TENANT, review, "Open the case")
    teams.fake.wait("is open", where)


def test_message_action_asks_a_partner_for_the_customer_first(teams: TeamsSession) -> None:
    message_id = new_id()
    text = "Customer reports certificate renewal failed on their gateway"
    status, body = teams.post(_message_action(
        teams, "composeExtension/fetchTask", "29:pia", PARTNER_TENANT, PARTNER_CHANNEL,
        message_id, text))
    assert status == 200, body
    card = body["task"]["value"]["card"]["content"]
    assert set(_inputs(card)) == {"customer"}
    data = {**card["actions"][0]["data"], "customer": "umbrella"}
    status, body = teams.post(_message_action(
        teams, "composeExtension/submitAction", "29:pia", PARTNER_TENANT, PARTNER_CHANNEL,
        message_id, text, data))
    assert status == 200 and body["task"]["type"] == "continue", body
    second = _inputs(body["task"]["value"]["card"]["content"])
    assert "case_type" in second and text in second["description"]["value"]


def test_message_action_from_an_unknown_tenant_is_one_sentence(teams: TeamsSession) -> None:
    before = teams.fake.settle()
    status, body = teams.post(_message_action(
        teams, "composeExtension/fetchTask", "29:mallory", "unknown-tenant",
        "19:elsewhere@thread.tacv2", new_id(), "anything"))
    assert status == 200
    assert body["task"]["type"] == "message" and "isn't one it serves" in body["task"]["value"]
    assert teams.fake.settle() == before


def test_ask_customer_form_goes_to_the_engineers_personal_chat_and_the_question_to_the_thread(
    teams: TeamsSession,
) -> None:
    """Teams has no ephemeral messages: a form only Ben should see goes to his personal chat
    with the bot; what he sends lands in the customer's case thread."""
    ben_chat = _personal("29:ben")
    teams.say("29:ben", VENDOR_TENANT, ben_chat, "help")
    teams.fake.wait("Engineer commands", ben_chat)
    case_id, where = _open_case_in_thread(teams, "audit log export stops at 10000 rows")
    card = teams.fake.wait(case_id, ENGINEERS, kinds=("send",))
    before = teams.fake.count()
    teams.click("29:ben", VENDOR_TENANT, card, "Ask customer")
    form = teams.fake.wait("Question for the customer", ben_chat, after=before)
    assert not [c for c in teams.fake.calls[before:]
                if c.conversation.startswith(ENGINEERS) and "Question for" in c.text]
    teams.click("29:ben", VENDOR_TENANT, form, "Send",
                {"text": "Which export format do you use?"})
    teams.fake.wait("Which export format", where, after=before, kinds=("send",))
    teams.fake.wait(f"reply {case_id}", where, after=before, kinds=("send",))  # how to answer
    teams.fake.wait("waiting on customer", where, after=before, kinds=("update",))


def test_a_customer_mention_in_the_case_thread_adds_to_the_case(teams: TeamsSession) -> None:
    case_id, where = _open_case_in_thread(teams, "webhook retries flood our endpoint")
    card = teams.fake.wait(case_id, ENGINEERS, kinds=("send",))
    before = teams.fake.count()
    thread = where.split("=")[1]
    teams.mention("29:adam", ACME_TENANT, ACME_CHANNEL, "it happens every 5 minutes",
                  thread=thread)
    teams.fake.wait("every 5 minutes", f"{ENGINEERS};messageid={card.answered_id}",
                    after=before)


def test_a_question_gets_linked_articles_and_an_engineer_sends_one_with_one_tap(
    teams: TeamsSession,
) -> None:
    """The Teams card of an offer links the article; the engineers' card lists the articles
    shown with a "Send to customer" button each; one tap posts it to the customer's chat."""
    chat = _personal("29:adam")
    teams.say("29:adam", ACME_TENANT, chat, "cancel")
    seen = len(teams.fake.calls)  # this chat has older summaries and cases: only newer count
    teams.say("29:adam", ACME_TENANT, chat,
              "Can we put our own logo and colours on the developer portal?")
    offer = teams.fake.wait("answer it?", chat, after=seen)
    assert f"]({teams.server.url}/kb/konneqt/developer-portal/branding)" in offer.text
    teams.click("29:adam", ACME_TENANT, offer, "No, open a case")
    review = teams.fake.wait("Please check", chat, after=seen)
    teams.click("29:adam", ACME_TENANT, review, "Open the case")
    opened = teams.fake.wait("is open", chat, after=seen)
    case_id = opened.text.split("Case ")[1].split(" ")[0]
    card = teams.fake.wait(f"{case_id} · ", ENGINEERS, kinds=("send",), after=seen)
    assert "shown to the customer before filing" in card.text
    choice = f"case:send_article/konneqt/developer-portal/branding:{case_id}"
    teams.click("29:ana", VENDOR_TENANT, card, "Send to customer", choice=choice)
    news = teams.fake.wait("sent you an article", chat, after=seen)
    assert "/kb/konneqt/developer-portal/branding" in news.text


def test_a_disguised_link_arrives_in_the_engineers_channel_as_typed(teams: TeamsSession) -> None:
    """A customer's markdown link is posted to the engineers' channel as the characters they
    typed — nothing in the card renders as a link (markdown-it, with and without backslash
    escapes), and the words are all there."""
    lure = "[Verify your account](https://evil.example/login) now"
    chat = _personal("29:alice")
    teams.say("29:alice", ACME_TENANT, chat, "hi")
    question = teams.fake.wait("What kind of case", chat)
    teams.click("29:alice", ACME_TENANT, question, "Fill in one form", {
        "case_type": "query", "description": lure})
    review = teams.fake.wait("Please check", chat)
    teams.click("29:alice", ACME_TENANT, review, "Open the case")
    teams.fake.wait("is open", chat)
    posted = teams.fake.wait("Verify your account", ENGINEERS, kinds=("send",))
    assert posted.card is not None
    shown = list(card_markdown(posted.card))
    assert [m for m in shown if markdown_active(m)] == []
    assert [m for m in shown if disguised(without_escape_support(m))] == []
    assert any(lure in markdown_visible(m) for m in shown)
