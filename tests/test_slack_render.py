"""The Slack adapter's pure layer: Reply → Block Kit, and Slack payloads → neutral values.

Payload shapes follow bolt-python's own scenario tests (slackapi/bolt-python):
- block_actions: tests/scenario_tests_async/test_block_actions.py (`body`)
- view_submission: tests/scenario_tests_async/test_view_submission.py (`body`,
  `connect_channel_payload`)
- app_mention / reaction_added in a shared channel:
  tests/scenario_tests_async/test_events_shared_channels.py
- Slack Connect envelopes (team_id vs event.team / user_team):
  tests/slack_bolt/request/test_internals.py
- global shortcut: test_internals.py (`enterprise_no_channel_requests`)
Every rendered message and view also passes `assert_valid_*` below (our own structural check
of Slack's limits) and slack_sdk's model validation.
"""

from __future__ import annotations

import copy
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.models.blocks import Block as SdkBlock
from slack_sdk.models.views import View as SdkView

from adapters.errors import SlackPayloadError
from adapters.slack.actions import (
    VIEW_CALLBACK_ID,
    ActionId,
    ButtonValue,
    ModalMetadata,
    action_id_for,
    action_pattern,
    decode_button_value,
    decode_metadata,
    encode_button_value,
    encode_metadata,
    parse_action_id,
)
from adapters.slack.render import (
    clip_mrkdwn,
    escape,
    metadata_for,
    render_home,
    render_message,
    render_modal,
    split_mrkdwn,
    to_mrkdwn,
)
from adapters.slack.translate import (
    Where,
    choice_of_block_action,
    form_id_of_block_action,
    form_values_of_view,
    metadata_of_view,
    speaker_team,
    text_of_message_event,
    where_of,
)
from bot.deployment import Directory, load_deployment
from bot.handler import Handler
from bot.messages import (
    CaseCard,
    Choice,
    ClockLine,
    Form,
    FormField,
    Inbound,
    NextDue,
    Outcome,
    Place,
    Reply,
)
from bot.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parent.parent

# ---- a structural validator of what we send to Slack ------------------------------------------

_BLOCK_TYPES = {"section", "actions", "context", "header", "divider", "input"}
_ENTITY = re.compile(r"&(?!amp;|lt;|gt;)")
_LINK = re.compile(r"<https?://[^|<>\s]+\|[^<>]+>")
_MENTION = re.compile(r"<@U[A-Z0-9]+>")  # the one markup we send: a war team's mentions
BUTTONS_IN_SIGHT = 3  # per actions block; the rest in an overflow menu


def _text(obj: Any, limit: int, kind: str | None = None) -> str:
    assert isinstance(obj, dict), obj
    assert obj["type"] in {"plain_text", "mrkdwn"}, obj
    if kind:
        assert obj["type"] == kind, obj
    text = obj["text"]
    assert isinstance(text, str) and text.strip(), obj
    assert len(text) <= limit, (len(text), limit)
    if obj["type"] == "mrkdwn":
        # Escaped per Slack's rules: apart from links to articles (<https://…|title>) and a
        # war team's mentions (<@U…>) we send no links and no mentions, so no raw < or >.
        bare = _MENTION.sub("", _LINK.sub("", text))
        assert "<" not in bare and ">" not in bare, text[:200]
        assert not _ENTITY.search(text), text[:200]
    return text


def _button(el: dict[str, Any], action_ids: set[str]) -> None:
    assert set(el) <= {"type", "action_id", "text", "value", "style"}, el
    assert el["type"] == "button"
    _text(el["text"], 75, "plain_text")
    assert 1 <= len(el["action_id"]) <= 255
    assert el["action_id"] not in action_ids, f"duplicate action_id {el['action_id']}"
    action_ids.add(el["action_id"])
    kind = parse_action_id(el["action_id"])
    assert len(el["value"]) <= 2000
    value = decode_button_value(el["value"])
    assert (value.form is not None) == (kind is ActionId.OPEN_FORM)
    assert el.get("style", "primary") in {"primary", "danger"}


def _option(opt: dict[str, Any]) -> None:
    assert set(opt) <= {"text", "value", "description"}
    _text(opt["text"], 75, "plain_text")
    assert 1 <= len(opt["value"]) <= 150
    if "description" in opt:
        _text(opt["description"], 75, "plain_text")


def _menu(el: dict[str, Any], action_ids: set[str]) -> None:
    """An overflow menu or a select of choices in a message: each option a button value."""
    assert el["type"] in {"overflow", "static_select"}, el
    assert el["action_id"] not in action_ids, f"duplicate action_id {el['action_id']}"
    action_ids.add(el["action_id"])
    assert parse_action_id(el["action_id"]) in {ActionId.CASE, ActionId.CHOICE}
    assert 1 <= len(el["options"]) <= (5 if el["type"] == "overflow" else 100)
    for opt in el["options"]:
        _option(opt)
        assert decode_button_value(opt["value"]).choice


def _interactive(el: dict[str, Any], action_ids: set[str]) -> None:
    if el["type"] == "button":
        _button(el, action_ids)
    else:
        _menu(el, action_ids)


def _element(el: dict[str, Any]) -> None:
    assert el["action_id"] == "value"
    if el["type"] == "static_select":
        assert 1 <= len(el["options"]) <= 100
        for opt in el["options"]:
            _option(opt)
        values = [o["value"] for o in el["options"]]
        assert len(values) == len(set(values))
        if "initial_option" in el:
            assert el["initial_option"] in el["options"]
        _text(el["placeholder"], 150, "plain_text")
    else:
        assert el["type"] == "plain_text_input", el
        assert 1 <= el["max_length"] <= 3000
        assert len(el.get("initial_value", "")) <= el["max_length"]
        assert el.get("multiline", False) in {True, False}


def _blocks(blocks: list[dict[str, Any]], limit: int) -> None:
    assert 1 <= len(blocks) <= limit, len(blocks)
    action_ids: set[str] = set()
    block_ids: set[str] = set()
    for block in blocks:
        assert block["type"] in _BLOCK_TYPES, block
        if "block_id" in block:
            assert 1 <= len(block["block_id"]) <= 255
            assert block["block_id"] not in block_ids
            block_ids.add(block["block_id"])
        if block["type"] == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                _text(block["text"], 3000)
            if "fields" in block:
                assert 1 <= len(block["fields"]) <= 10
                for f in block["fields"]:
                    _text(f, 2000)
            if "accessory" in block:
                _interactive(block["accessory"], action_ids)
        elif block["type"] == "actions":
            assert 1 <= len(block["elements"]) <= 25
            for el in block["elements"]:
                _interactive(el, action_ids)
            # the rule: at most three buttons in sight, the rest in a menu
            assert sum(el["type"] == "button" for el in block["elements"]) \
                <= BUTTONS_IN_SIGHT, block
        elif block["type"] == "context":
            assert 1 <= len(block["elements"]) <= 10
            for el in block["elements"]:
                _text(el, 3000)
        elif block["type"] == "header":
            _text(block["text"], 150, "plain_text")
        elif block["type"] == "input":
            _text(block["label"], 2000, "plain_text")
            if "hint" in block:
                _text(block["hint"], 2000, "plain_text")
            assert isinstance(block["optional"], bool)
            _element(block["element"])
        # slack_sdk's own models check the same limits independently.
        SdkBlock.parse(copy.deepcopy(block)).validate_json()  # type: ignore[union-attr]


def assert_valid_message(message: dict[str, Any]) -> None:
    assert set(message) == {"text", "blocks"}
    assert 1 <= len(message["text"]) <= 3000
    assert not _ENTITY.search(message["text"])
    _blocks(message["blocks"], 50)


def assert_valid_modal(view: dict[str, Any]) -> None:
    assert view["type"] == "modal"
    assert view["callback_id"] == VIEW_CALLBACK_ID
    for key in ("title", "submit", "close"):
        _text(view[key], 24, "plain_text")
    assert len(view["private_metadata"]) <= 3000
    decode_metadata(view["private_metadata"])
    _blocks(view["blocks"], 100)
    SdkView(**copy.deepcopy(view)).validate_json()


def assert_valid_home(view: dict[str, Any]) -> None:
    assert set(view) == {"type", "blocks"} and view["type"] == "home"
    _blocks(view["blocks"], 100)
    SdkView(**copy.deepcopy(view)).validate_json()


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [el for b in message["blocks"] if b["type"] == "actions" for el in b["elements"]
            if el["type"] == "button"]


def menu_choices(message: dict[str, Any]) -> list[str]:
    """The choices folded into menus (overflow, select), in order."""
    return [decode_button_value(o["value"]).choice or "" for b in message["blocks"]
            if b["type"] == "actions" for el in b["elements"] if el["type"] != "button"
            for o in el["options"]]


def next_due_lines(message: dict[str, Any]) -> list[str]:
    """The next-due sections of the message's case cards (block id ``next-due:<case>``)."""
    return [b["text"]["text"] for b in message["blocks"]
            if str(b.get("block_id", "")).startswith("next-due:")]


def button(message: dict[str, Any], label: str) -> dict[str, Any]:
    found = [b for b in buttons(message) if b["text"]["text"] == label]
    assert found, f"no button {label!r} in {[b['text']['text'] for b in buttons(message)]}"
    return found[0]


def all_mrkdwn(message: dict[str, Any]) -> str:
    out = []
    for b in message["blocks"]:
        if b["type"] == "section":
            out += [b["text"]["text"]] if "text" in b else [f["text"] for f in b["fields"]]
        elif b["type"] == "context":
            out += [e["text"] for e in b["elements"]]
        elif b["type"] == "header":
            out.append(b["text"]["text"])
    return "\n".join(out)


# ---- payload builders (shapes from bolt-python's scenario tests) -----------------------------


def click(el: dict[str, Any], *, user: str = "U0ALICE", team: str = "T0ACME",
          channel: str = "C0ACME", message_ts: str = "1700000000.000200",
          thread_ts: str | None = None, ephemeral: bool = False) -> dict[str, Any]:
    """A block_actions body for a click on `el` (test_block_actions.py's `body`)."""
    body: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user, "username": "someone", "name": "someone", "team_id": team},
        "api_app_id": "A111",
        "token": "verification_token",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel,
                      "is_ephemeral": ephemeral},
        "trigger_id": "111.222.valid",
        "team": {"id": team, "domain": "workspace-domain"},
        "channel": {"id": channel, "name": "support"},
        "response_url": "https://hooks.slack.com/actions/T111/111/random-value",
        "actions": [{"action_id": el["action_id"], "block_id": "b", "text": el["text"],
                     "value": el["value"], "type": "button",
                     "action_ts": "1596530385.194939"}],
    }
    if not ephemeral:
        message: dict[str, Any] = {"type": "message", "ts": message_ts, "bot_id": "B111",
                                   "text": "…", "user": "U0BOT"}
        if thread_ts:
            message["thread_ts"] = thread_ts
        body["message"] = message
    elif thread_ts:
        body["container"]["thread_ts"] = thread_ts
    return body


def submission(view: dict[str, Any], answers: dict[str, str | None], *,
               user: str = "U0ALICE", team: str = "T0ACME") -> dict[str, Any]:
    """A view_submission body for our modal (test_view_submission.py's `body`)."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        el = block["element"]
        answer = answers.get(block["block_id"])
        if el["type"] == "static_select":
            picked = next((o for o in el["options"] if o["value"] == answer), None)
            values[block["block_id"]] = {"value": {"type": "static_select",
                                                   "selected_option": picked}}
        else:
            values[block["block_id"]] = {"value": {"type": "plain_text_input",
                                                   "value": answer}}
    return {
        "type": "view_submission",
        "team": {"id": team, "domain": "workspace-domain"},
        "user": {"id": user, "username": "someone", "name": "someone", "team_id": team},
        "api_app_id": "A111",
        "token": "verification_token",
        "trigger_id": "111.222.valid",
        "view": {
            "id": "V111", "team_id": team, "type": "modal", "blocks": view["blocks"],
            "private_metadata": view["private_metadata"],
            "callback_id": view["callback_id"], "state": {"values": values},
            "hash": "1596530361.3wRYuk3R", "title": view["title"],
            "clear_on_close": False, "notify_on_close": False, "close": view["close"],
            "submit": view["submit"], "previous_view_id": None, "root_view_id": "V111",
            "app_id": "A111", "external_id": "", "app_installed_team_id": team,
            "bot_id": "B111",
        },
        "response_urls": [],
    }


# ---- sample replies --------------------------------------------------------------------------


def sample_card(clocks: int = 2, facts: int = 2) -> CaseCard:
    return CaseCard(
        case_id="ACME-4", title="Portal <down> & **angry** users", customer="Acme Corp",
        case_type="Incident", priority="P1 Critical", environment="production",
        status="new", assignee=None,
        clocks=tuple(ClockLine(f"Clock {i}" if i else "Response", "running" if i % 3 else
                               "breached", f"Tue 24 Nov 11:{i % 60:02d}", "1 h 20 min left",
                               f"P1 on the Enterprise plan: 1 business hour (clause 4.{i})")
                     for i in range(clocks)),
        facts=tuple((f"Fact {i}", f"value {i} <x>") for i in range(facts)),
        next_due=NextDue("Response", "Response due Tue 24 Nov 11:00 — missed 2 h ago",
                         "breached"),
        priority_tone="critical", explain=Choice("case:explain:ACME-4", "Why?"))


def card_reply(clocks: int = 2, facts: int = 2, **kw: Any) -> Reply:
    card = sample_card(clocks, facts)
    text = "\n".join(["Case ACME-4 is open.", f"ACME-4 · {card.title}",
                      "Acme Corp · Incident · P1 Critical · new", "• Response: due soon"])
    actions = (Choice("case:acknowledge:ACME-4", "Acknowledge", "Take it"),
               Choice("case:assign:ACME-4", "Assign to me", "Own it"),
               Choice("case:ask_customer:ACME-4", "Ask customer", "Request information"))
    return Reply(text, actions=actions, card=card, **kw)


# ---- messages --------------------------------------------------------------------------------


def test_text_is_escaped_and_bold_becomes_slack_bold() -> None:
    msg = render_message(Reply("Use **a < b** & <@U123> > c"))
    assert_valid_message(msg)
    assert msg["blocks"][0]["text"]["text"] == "Use *a &lt; b* &amp; &lt;@U123&gt; &gt; c"
    assert msg["text"] == msg["blocks"][0]["text"]["text"]


def test_a_5000_character_text_is_split_over_sections_and_the_fallback_cut() -> None:
    text = "\n".join(f"Line {i}: " + "x" * 90 for i in range(50))  # ≈ 5,000 characters
    msg = render_message(Reply(text))
    assert_valid_message(msg)
    sections = [b["text"]["text"] for b in msg["blocks"] if b["type"] == "section"]
    assert len(sections) == 2
    assert "\n".join(sections) == text  # split at line ends, nothing lost
    assert len(msg["text"]) <= 3000 and msg["text"].endswith("…")


def test_one_huge_line_and_a_40000_character_text_fit() -> None:
    msg = render_message(Reply("&" * 3500 + " word " * 7000))
    assert_valid_message(msg)
    assert msg["blocks"][0]["text"]["text"].startswith("&amp;&amp;")


def test_cutting_never_splits_an_entity() -> None:
    for n in range(1, 12):
        text = escape("a" * n + "&<>" * 10)
        cut = clip_mrkdwn(text, 12)
        assert len(cut) <= 12 and cut.endswith("…")
        assert not _ENTITY.search(cut[:-1]), cut
        for chunk in split_mrkdwn(text, 9):
            assert len(chunk) <= 9 and not _ENTITY.search(chunk), chunk


def test_choices_are_buttons_with_navigation_last() -> None:
    reply = Reply("What kind of case is it?\n1. Incident — Something is broken",
                  choices=(Choice("incident", "Incident", "Something is broken"),
                           Choice("query", "Query", "A question <about> usage"),
                           Choice("cmd:back", "Back", "Change the previous answer"),
                           Choice("cmd:cancel", "Cancel", "Stop; nothing is filed")))
    msg = render_message(reply)
    assert_valid_message(msg)
    rows = [[decode_button_value(el["value"]).choice for el in b["elements"]]
            for b in msg["blocks"] if b["type"] == "actions"]
    assert rows == [["incident", "query"], ["cmd:back", "cmd:cancel"]]
    assert all(parse_action_id(el["action_id"]) is ActionId.CHOICE for el in buttons(msg))
    assert all("style" not in el for el in buttons(msg))
    # The text already explains "Incident"; only the untold explanation is added, once.
    context = [e["text"] for b in msg["blocks"] if b["type"] == "context" for e in b["elements"]]
    assert context == ["*Query* — A question &lt;about&gt; usage"]


def test_a_questions_answers_are_all_in_sight_in_rows_of_three() -> None:
    choices = tuple(Choice(f"opt-{i}", f"Option {i} " + "label " * 20, f"Explains {i}")
                    for i in range(7))
    msg = render_message(Reply("Pick one", choices=(*choices, Choice("cmd:cancel", "Cancel"))))
    assert_valid_message(msg)
    sizes = [len(b["elements"]) for b in msg["blocks"] if b["type"] == "actions"]
    assert sizes == [3, 3, 1, 1]
    labels = [el["text"]["text"] for el in buttons(msg)]
    assert all(len(label) <= 75 for label in labels) and labels[0].endswith("…")
    chosen = [decode_button_value(el["value"]).choice for el in buttons(msg)]
    assert chosen == [c.id for c in choices] + ["cmd:cancel"]


def test_beyond_nine_answers_are_offered_in_a_menu() -> None:
    choices = tuple(Choice(f"opt-{i}", f"Option {i}") for i in range(60))
    msg = render_message(Reply("Pick one", choices=(*choices, Choice("cmd:cancel", "Cancel"))))
    assert_valid_message(msg)
    assert menu_choices(msg) == [c.id for c in choices]
    assert [el["text"]["text"] for el in buttons(msg)] == ["Cancel"]


def test_hundreds_of_choices_still_fit_in_50_blocks() -> None:
    choices = tuple(Choice(f"opt-{i}", f"Option {i}") for i in range(6000))
    msg = render_message(Reply("Pick", choices=(*choices, Choice("cmd:cancel", "Cancel"))))
    assert_valid_message(msg)
    assert decode_button_value(buttons(msg)[-1]["value"]).choice == "cmd:cancel"
    assert "Shortened" in all_mrkdwn(msg)


def test_a_choice_id_too_long_for_a_button_is_left_out_not_fatal() -> None:
    msg = render_message(Reply("Pick", choices=(Choice("x" * 1500, "Too long"),
                                                Choice("ok", "Fine"))))
    assert_valid_message(msg)
    assert [decode_button_value(el["value"]).choice for el in buttons(msg)] == ["ok"]


def test_a_case_card_is_a_header_one_context_line_one_next_due_line_and_buttons() -> None:
    msg = render_message(card_reply())
    assert_valid_message(msg)
    kinds = [b["type"] for b in msg["blocks"]]
    assert kinds == ["section", "header", "context", "section", "context", "actions"]
    # The reply text's own rendition of the card is not repeated above the card.
    assert msg["blocks"][0]["text"]["text"] == "Case ACME-4 is open."
    assert msg["blocks"][1]["text"]["text"] == "ACME-4 · Portal <down> & angry users"
    assert msg["blocks"][2]["elements"][0]["text"] == (
        "🔴 *P1 Critical* · *New* · Acme Corp · Incident · production · Unassigned")
    assert next_due_lines(msg) == ["🔴 *Response due Tue 24 Nov 11:00 — missed 2 h ago*"]
    assert msg["blocks"][4]["elements"][0]["text"] == (
        "*Fact 0:* value 0 &lt;x&gt; · *Fact 1:* value 1 &lt;x&gt;")
    ack, assign, ask = buttons(msg)
    assert ack["style"] == "primary" and "style" not in assign
    assert decode_button_value(ack["value"]) == ButtonValue(choice="case:acknowledge:ACME-4",
                                                            case="ACME-4")
    assert parse_action_id(ask["action_id"]) is ActionId.CASE
    # The fallback keeps the whole text, card lines included.
    assert "ACME-4 · Portal &lt;down&gt;" in msg["text"]


def test_why_beside_the_next_due_line_asks_for_the_clocks_arithmetic() -> None:
    msg = render_message(card_reply())
    [due] = [b for b in msg["blocks"] if str(b.get("block_id", "")).startswith("next-due:")]
    why = due["accessory"]
    assert why["text"]["text"] == "Why?"
    assert decode_button_value(why["value"]) == ButtonValue(choice="case:explain:ACME-4",
                                                            case="ACME-4")
    # the clock table and its arithmetic are what the button answers, not on the card
    assert "clause 4.0" not in all_mrkdwn(msg)


def test_at_most_three_case_buttons_in_sight_the_rest_in_an_overflow_menu() -> None:
    base = card_reply()
    actions = tuple(Choice(f"case:{a}:ACME-4", a.capitalize()) for a in (
        "acknowledge", "assign", "ask_customer", "workaround", "resolve", "reclassify",
        "escalate", "comment"))
    msg = render_message(Reply(base.text, actions=actions, card=base.card))
    assert_valid_message(msg)
    [row] = [b for b in msg["blocks"] if b["type"] == "actions"]
    assert [el["type"] for el in row["elements"]] == ["button"] * 3 + ["overflow"]
    assert menu_choices(msg) == [a.id for a in actions[3:]]


def test_300_clocks_keep_the_buttons_and_fold_the_clocks_behind_why() -> None:
    msg = render_message(card_reply(clocks=300))
    assert_valid_message(msg)
    assert [el["text"]["text"] for el in buttons(msg)] == ["Acknowledge", "Assign to me",
                                                           "Ask customer"]
    assert "Clock 299" not in all_mrkdwn(msg) and len(next_due_lines(msg)) == 1


def test_everything_at_once_within_limits() -> None:
    base = card_reply(clocks=300)
    reply = Reply("x " * 20000 + "\n" + base.text, choices=tuple(
        Choice(f"c{i}", f"Choice {i}", "why " * 30) for i in range(60)),
        actions=base.actions, card=base.card,
        form=Form("intake", "File a support case", (FormField("description", "D"),),
                  open_label="Fill in one form"))
    msg = render_message(reply)
    assert_valid_message(msg)
    shown = all_mrkdwn(msg)
    assert "Shortened" not in shown  # 40,000 characters pack into 30 blocks
    assert shown.count("x x") >= 9999
    assert button(msg, "Fill in one form")
    assert menu_choices(msg) == [f"c{i}" for i in range(60)]


def test_a_form_is_offered_as_a_button_not_inlined() -> None:
    form = Form("intake", "File a support case", (
        FormField("case_type", "Case type", "choice", (Choice("incident", "Incident"),)),),
        open_label="Fill in one form")
    msg = render_message(Reply("What kind of case is it?", choices=(
        Choice("incident", "Incident"), Choice("cmd:cancel", "Cancel")), form=form))
    assert_valid_message(msg)
    assert not [b for b in msg["blocks"] if b["type"] == "input"]
    open_form = button(msg, "Fill in one form")
    assert parse_action_id(open_form["action_id"]) is ActionId.OPEN_FORM
    assert decode_button_value(open_form["value"]) == ButtonValue(form="intake")
    last_row = [b for b in msg["blocks"] if b["type"] == "actions"][-1]["elements"]
    assert [el["text"]["text"] for el in last_row] == ["Fill in one form", "Cancel"]


def test_an_empty_reply_still_has_a_fallback_and_a_block() -> None:
    msg = render_message(Reply("", card=sample_card()))
    assert_valid_message(msg)
    assert msg["text"].startswith("ACME-4 · ")
    blank = render_message(Reply("  \n "))
    assert_valid_message(blank)
    assert blank["text"] == "…"


# ---- modals ----------------------------------------------------------------------------------


def intake_form() -> Form:
    return Form("intake", "File a support case", (
        FormField("case_type", "Case type", "choice", (
            Choice("incident", "Incident", "Something is broken in production " * 3),
            Choice("query", "Query", "A question"))),
        FormField("priority", "Priority", "choice", (
            Choice("P1", "P1 Critical"), Choice("P2", "P2 High")), required=False,
            hint="Leave empty to answer the impact questions", value="P2"),
        FormField("impact.total-outage", "Is it **completely** down?", "choice", (
            Choice("impact:yes", "Yes"), Choice("impact:no", "No")), required=False),
        FormField("field.product", "Product", "text", required=False, value="Portal"),
        FormField("description", "Description", "long_text")), "Review")


def test_modal_of_the_intake_form() -> None:
    view = render_modal(intake_form(), ModalMetadata(form="intake", channel="C0ACME",
                                                     thread="1700000000.000100"))
    assert_valid_modal(view)
    assert view["title"]["text"] == "File a support case"
    assert view["submit"]["text"] == "Review"
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert list(blocks) == ["case_type", "priority", "impact.total-outage", "field.product",
                            "description"]
    case_type = blocks["case_type"]
    assert case_type["optional"] is False
    assert case_type["element"]["type"] == "static_select"
    assert len(case_type["element"]["options"][0]["description"]["text"]) == 75
    assert "initial_option" not in case_type["element"]
    priority = blocks["priority"]
    assert priority["optional"] is True
    assert priority["element"]["initial_option"]["value"] == "P2"
    assert priority["hint"]["text"] == "Leave empty to answer the impact questions"
    assert blocks["impact.total-outage"]["label"]["text"] == "Is it completely down?"
    assert blocks["field.product"]["element"] == {
        "type": "plain_text_input", "action_id": "value", "max_length": 3000,
        "initial_value": "Portal"}
    assert blocks["description"]["element"]["multiline"] is True
    meta = decode_metadata(view["private_metadata"])
    assert meta == ModalMetadata(form="intake", channel="C0ACME", thread="1700000000.000100")


def test_a_modal_names_what_it_is_about_and_who_its_optional_questions_are_for() -> None:
    form = Form("intake", "File a support case", (
        FormField("description", "Description", "long_text"),
        FormField("impact.users", "Are all users affected?", "choice",
                  (Choice("yes", "Yes"),), required=False, reveal="Not sure? Answer these"),
    ), "Review", intro="ACME-4 · P1 – Critical · Portal <down>")
    view = render_modal(form, metadata_for(form, "C0ACME", None))
    assert_valid_modal(view)
    assert [b["type"] for b in view["blocks"]] == ["section", "input", "context", "input"]
    assert view["blocks"][0]["text"]["text"] == "*ACME-4 · P1 – Critical · Portal &lt;down&gt;*"
    assert view["blocks"][2]["elements"][0]["text"] == "*Not sure? Answer these:*"


def test_modal_of_an_action_form_carries_hidden_fields_in_metadata() -> None:
    form = Form("action:reclassify:ACME-4", "Reclassify — ACME-4", (
        FormField("priority", "Priority", "choice", (Choice("P1", "P1"),), required=False),
        FormField("text", "Reason", "long_text"),
        FormField("_action", "", "hidden", value="reclassify"),
        FormField("_case", "", "hidden", value="ACME-4")), "Send")
    view = render_modal(form, metadata_for(form, "C0ENG", None))
    assert_valid_modal(view)
    assert view["title"]["text"] == "Reclassify — ACME-4"
    assert [b["block_id"] for b in view["blocks"]] == ["priority", "text"]
    meta = decode_metadata(view["private_metadata"])
    assert meta.form == "action:reclassify:ACME-4" and meta.case == "ACME-4"
    assert meta.hidden == {"_action": "reclassify", "_case": "ACME-4"}
    assert meta.channel == "C0ENG" and meta.thread is None


def test_modal_limits_title_options_and_fields() -> None:
    many = tuple(Choice(f"v{i}", f"Value {i} " + "long " * 30, "d " * 60) for i in range(150))
    fields = [FormField("pick", "Pick " * 600, "choice", many, value="v149", hint="h" * 2500),
              FormField("empty-choice", "No options", "choice", ()),
              FormField("long", "Long", "text", value="z" * 5000)]
    fields += [FormField(f"f{i}", f"Field {i}", required=False) for i in range(120)]
    form = Form("big", "Reply with information — ACME-4", tuple(fields),
                "Send this answer to the engineers now")
    view = render_modal(form, ModalMetadata(form="big"))
    assert_valid_modal(view)
    assert view["title"]["text"] == "Reply with information…"
    assert len(view["submit"]["text"]) == 24
    assert len(view["blocks"]) == 100
    pick = view["blocks"][0]["element"]
    assert len(pick["options"]) == 100 and pick["initial_option"]["value"] == "v149"
    assert view["blocks"][1]["element"]["type"] == "plain_text_input"  # a choice w/o options
    assert len(view["blocks"][2]["element"]["initial_value"]) == 3000


def test_metadata_for_a_conversation_that_is_not_slacks_is_refused() -> None:
    form = Form("intake", "File", ())
    assert metadata_for(form, "C0ACME", "1700000000.000100").thread == "1700000000.000100"
    with pytest.raises(SlackPayloadError, match="intake"):
        metadata_for(form, "C0ACME; DROP", None)
    with pytest.raises(SlackPayloadError, match="thread"):
        metadata_for(form, "C0ACME", "yesterday")


def test_a_form_of_hidden_fields_only_still_has_a_block() -> None:
    form = Form("action:close:ACME-4", "Close", (
        FormField("_action", "", "hidden", value="close"),
        FormField("_case", "", "hidden", value="ACME-4")))
    view = render_modal(form, ModalMetadata(form="x", channel="C0ACME"))
    assert_valid_modal(view)
    assert decode_metadata(view["private_metadata"]).form == "action:close:ACME-4"


# ---- App Home --------------------------------------------------------------------------------


def test_home_lists_cards_and_truncates_to_100_blocks() -> None:
    cards = [card_reply() for _ in range(40)]
    home = render_home("Ana Lopez", cards, "Your queue")
    assert_valid_home(home)
    assert home["blocks"][0] == {"type": "header",
                                 "text": {"type": "plain_text", "text": "Your queue"}}
    shown = sum(b["type"] == "divider" for b in home["blocks"])
    assert 0 < shown < 40
    assert f"{40 - shown} more not shown here." in all_mrkdwn(home)


def test_home_with_one_enormous_card_and_with_none() -> None:
    enormous = replace(card_reply(clocks=300), text="x " * 200_000 + "\n" + card_reply().text)
    home = render_home("Ana", [enormous, card_reply()], "Queue")
    assert_valid_home(home)
    shown = all_mrkdwn(home)
    assert "Shortened" in shown and "1 more not shown here." in shown
    assert [el["text"]["text"] for el in buttons(home)] == ["Acknowledge", "Assign to me",
                                                           "Ask customer"]
    empty = render_home("", [], "")
    assert_valid_home(empty)
    assert empty["blocks"][0]["text"]["text"] == "Frontdoor"


# ---- the values that travel in Slack ---------------------------------------------------------


def test_button_value_and_metadata_round_trip() -> None:
    for value in (ButtonValue(choice="impact:yes"), ButtonValue(form="intake"),
                  ButtonValue(choice="case:acknowledge:ACME-4", case="ACME-4")):
        assert decode_button_value(encode_button_value(value)) == value
    meta = ModalMetadata(form="action:ask_customer:ACME-4", channel="C0ACME",
                         thread="1700000000.000100", case="ACME-4",
                         hidden={"_action": "ask_customer", "_case": "ACME-4"})
    assert decode_metadata(encode_metadata(meta)) == meta


@given(st.text(min_size=1, max_size=300), st.none() | st.text(min_size=1, max_size=100))
def test_any_choice_id_round_trips_through_a_button(choice: str, case: str | None) -> None:
    value = ButtonValue(choice=choice, case=case)
    assert decode_button_value(encode_button_value(value)) == value


@pytest.mark.parametrize("raw", [
    None, "", 42, "not json", "[]", "{}", '{"choice": ""}',
    '{"choice": "a", "form": "b"}', '{"choice": "a", "extra": 1}', '{"v": 2, "choice": "a"}',
    '{"choice": 5}', '{"choice": "' + "x" * 2100 + '"}',
])
def test_bad_button_values_raise_our_error(raw: object) -> None:
    with pytest.raises(SlackPayloadError, match="button"):
        decode_button_value(raw)


@pytest.mark.parametrize("raw", [
    None, "", "This is for you!", '{"form": "intake", "thread": "abc"}',
    '{"form": "intake", "channel": "C1 C2"}', '{"form": "intake", "who": "me"}',
    '{"channel": "C1"}', '{"form": "intake", "hidden": {"a": 1}}', "x" * 3001,
])
def test_bad_metadata_raises_our_error(raw: object) -> None:
    with pytest.raises(SlackPayloadError, match="metadata"):
        decode_metadata(raw)


def test_metadata_too_big_for_slack_is_refused_when_encoding() -> None:
    with pytest.raises(SlackPayloadError, match="3000"):
        encode_metadata(ModalMetadata(form="f", hidden={"_text": "x" * 3000}))


def test_action_ids_parse_and_match_bolt_patterns() -> None:
    for kind in ActionId:
        action_id = action_id_for(kind, 7)
        assert parse_action_id(action_id) is kind
        assert action_pattern(kind).match(action_id)
        assert action_pattern(kind).match(kind.value)
        assert parse_action_id(action_id_for(kind, 123456)) is kind
    assert not action_pattern(ActionId.CHOICE).match("case-action:1")
    for foreign in ("a", "choice-1", "choices:1", "open-form:x", "", None):
        with pytest.raises(SlackPayloadError):
            parse_action_id(foreign)


# ---- translate: text -------------------------------------------------------------------------

APP_MENTION: dict[str, Any] = {  # test_events_shared_channels.py `app_mention_body`
    "token": "verification_token", "team_id": "T_INSTALLED", "enterprise_id": "E_SOURCE",
    "api_app_id": "A111",
    "event": {"client_msg_id": "9cbd4c5b-7ddf-4ede-b479-ad21fca66d63", "type": "app_mention",
              "text": "<@W111> Hi there!", "user": "W222", "ts": "1595926230.009600",
              "team": "T_INSTALLED", "channel": "C111", "event_ts": "1595926230.009600"},
    "type": "event_callback", "event_id": "Ev111", "event_time": 1595926230,
    "authorizations": [{"enterprise_id": "E_INSTALLED", "team_id": "T_INSTALLED",
                        "user_id": "W111", "is_bot": True, "is_enterprise_install": False}],
}


def test_the_bots_mention_is_stripped() -> None:
    assert text_of_message_event(APP_MENTION, "W111") == "Hi there!"
    assert text_of_message_event(APP_MENTION["event"], "W111") == "Hi there!"
    assert text_of_message_event({"text": "ack <@W111|bot> ACME-4"}, "W111") == "ack ACME-4"
    assert text_of_message_event(APP_MENTION, None) == "@W111 Hi there!"


def test_slack_markup_becomes_readable_text() -> None:
    event = {"type": "message", "text": (
        "assign ACME-4 to <@U123> in <#C42|support> <!here> "
        "see <https://status.example.com/x?a=1&amp;b=2|status page> or <https://a.b> "
        "mail <mailto:ops@example.com|ops@example.com> "
        "<!subteam^S1|@oncall> <!date^1392734382^{date}|Feb 18> "
        "if a &lt; b &amp;&amp; c &gt; d &amp;lt;")}
    assert text_of_message_event(event, "W111") == (
        "assign ACME-4 to @U123 in #support @here "
        "see status page (https://status.example.com/x?a=1&b=2) or https://a.b "
        "mail ops@example.com @oncall Feb 18 if a < b && c > d &lt;")


@given(st.text(alphabet=st.characters(blacklist_characters="*\r"), max_size=200))
def test_our_escaping_is_undone_by_translation(text: str) -> None:
    assert text_of_message_event({"text": to_mrkdwn(text)}, "W111") == text.strip()


def test_edited_and_empty_messages() -> None:
    edited = {"type": "message", "subtype": "message_changed", "channel": "C1",
              "message": {"type": "message", "text": "new text", "user": "U1",
                          "ts": "1.1", "team": "T1"},
              "previous_message": {"text": "old"}}
    assert text_of_message_event(edited, None) == "new text"
    assert text_of_message_event({"type": "message", "files": []}, None) == ""
    with pytest.raises(SlackPayloadError):
        text_of_message_event({"text": {"rich": 1}}, None)
    with pytest.raises(SlackPayloadError):
        text_of_message_event("text", None)  # type: ignore[arg-type]


# ---- translate: clicks -----------------------------------------------------------------------


def test_a_click_on_a_choice_and_on_a_case_button() -> None:
    msg = render_message(Reply("Keep P2?", choices=(Choice("priority:keep", "Keep P2"),)))
    assert choice_of_block_action(click(button(msg, "Keep P2"))) == ("priority:keep", None)
    card = render_message(card_reply())
    assert choice_of_block_action(click(button(card, "Acknowledge"))) == (
        "case:acknowledge:ACME-4", "ACME-4")


def test_a_click_on_fill_in_one_form() -> None:
    msg = render_message(Reply("Which type?", form=Form("intake", "File", (),
                                                         open_label="Fill in one form")))
    body = click(button(msg, "Fill in one form"))
    assert form_id_of_block_action(body) == "intake"
    with pytest.raises(SlackPayloadError, match="opens a form"):
        choice_of_block_action(body)
    other = render_message(Reply("x", choices=(Choice("a", "A"),)))
    with pytest.raises(SlackPayloadError, match="does not open a form"):
        form_id_of_block_action(click(button(other, "A")))


def _bolt_body(**changes: Any) -> dict[str, Any]:
    msg = render_message(Reply("x", choices=(Choice("a", "A"),)))
    body = click(button(msg, "A"))
    body.update(changes)
    return body


@pytest.mark.parametrize("body", [
    _bolt_body(actions=[]),
    _bolt_body(actions=None),
    _bolt_body(actions="a"),
    _bolt_body(actions=["a"]),
    _bolt_body(actions=[{"action_id": "a", "block_id": "b", "value": "click_me_123",
                         "type": "button"}]),  # bolt's own example: a foreign action id
    _bolt_body(actions=[{"action_id": "choice:0", "value": "click_me_123"}]),
    _bolt_body(actions=[{"action_id": "choice:0"}]),
    _bolt_body(actions=[{"action_id": "case-action:0",
                         "value": '{"choice": "case:acknowledge"}'}]),
    _bolt_body(type="view_submission"),
    {},
])
def test_malformed_block_actions_raise_our_error(body: dict[str, Any]) -> None:
    with pytest.raises(SlackPayloadError):
        choice_of_block_action(body)


def test_a_block_action_that_is_not_an_object() -> None:
    with pytest.raises(SlackPayloadError):
        choice_of_block_action([])  # type: ignore[arg-type]


# ---- translate: submissions ------------------------------------------------------------------


def test_form_values_of_a_submitted_modal() -> None:
    form = Form("action:reclassify:ACME-4", "Reclassify — ACME-4", (
        FormField("priority", "Priority", "choice", (Choice("P1", "P1"), Choice("P2", "P2")),
                  required=False),
        FormField("case_type", "Case type", "choice", (Choice("query", "Query"),),
                  required=False),
        FormField("text", "Reason", "long_text"),
        FormField("note", "Note", required=False),
        FormField("_action", "", "hidden", value="reclassify"),
        FormField("_case", "", "hidden", value="ACME-4")), "Send")
    view = render_modal(form, metadata_for(form, "C0ENG", "1700000000.000100"))
    body = submission(view, {"priority": "P1", "text": "It is worse <than> & we thought"})
    values = form_values_of_view(body["view"])
    assert values == {"priority": "P1", "case_type": "", "text":
                      "It is worse <than> & we thought", "note": "",
                      "_action": "reclassify", "_case": "ACME-4"}
    assert form_values_of_view(body) == values  # the whole body is accepted too
    assert where_of(body) == Where("C0ENG", "1700000000.000100")
    assert metadata_of_view(body).case == "ACME-4"


def test_hidden_values_win_over_a_forged_state() -> None:
    form = Form("action:comment:ACME-4", "Comment", (
        FormField("text", "Text", "long_text"),
        FormField("_case", "", "hidden", value="ACME-4")))
    view = render_modal(form, metadata_for(form, "C0ACME", None))
    body = submission(view, {"text": "hi"})
    body["view"]["state"]["values"]["_case"] = {"value": {"type": "plain_text_input",
                                                          "value": "OTHER-1"}}
    assert form_values_of_view(body["view"])["_case"] == "ACME-4"


def test_bolts_own_view_submission_is_not_ours() -> None:
    # test_view_submission.py `body` (callback "view-id", metadata "This is for you!")
    body: dict[str, Any] = {
        "type": "view_submission",
        "team": {"id": "T111", "domain": "workspace-domain", "enterprise_id": "E111",
                 "enterprise_name": "Sandbox Org"},
        "user": {"id": "W111", "username": "primary-owner", "name": "primary-owner",
                 "team_id": "T111"},
        "view": {"id": "V111", "team_id": "T111", "type": "modal", "blocks": [
            {"type": "input", "block_id": "hspI", "label": {"type": "plain_text",
                                                           "text": "Label"},
             "optional": False, "element": {"type": "plain_text_input", "action_id": "maBWU"}}],
            "private_metadata": "This is for you!", "callback_id": "view-id",
            "state": {"values": {"hspI": {"maBWU": {"type": "plain_text_input",
                                                   "value": "test"}}}}},
    }
    with pytest.raises(SlackPayloadError, match="not a Frontdoor form"):
        form_values_of_view(body["view"])
    body["view"]["callback_id"] = VIEW_CALLBACK_ID
    with pytest.raises(SlackPayloadError, match="metadata"):
        form_values_of_view(body["view"])
    body["view"]["private_metadata"] = encode_metadata(ModalMetadata(form="intake"))
    assert form_values_of_view(body["view"]) == {"hspI": "test"}  # first action of the block


@pytest.mark.parametrize("state", [
    {"values": []},
    {"values": {"text": "oops"}},
    {"values": {"text": {"value": {"type": "plain_text_input", "value": ["a"]}}}},
    {"values": {"pick": {"value": {"type": "static_select", "selected_option": "P1"}}}},
    "nope",
])
def test_malformed_view_state_raises_our_error(state: object) -> None:
    view = {"type": "modal", "callback_id": VIEW_CALLBACK_ID, "state": state,
            "private_metadata": encode_metadata(ModalMetadata(form="intake"))}
    with pytest.raises(SlackPayloadError):
        form_values_of_view(view)


def test_a_view_with_no_state_gives_empty_values_for_its_inputs() -> None:
    view = render_modal(intake_form(), ModalMetadata(form="intake"))
    values = form_values_of_view({**view, "state": {}})
    assert values == dict.fromkeys(
        ["case_type", "priority", "impact.total-outage", "field.product", "description"], "")


# ---- translate: where and who ----------------------------------------------------------------


def _message(**kw: Any) -> dict[str, Any]:
    return {"type": "message", "text": "hi", "user": "U1", "ts": "1700000000.000300",
            "channel": "C0ACME", "channel_type": "channel", **kw}


def test_where_messages_and_mentions_happen() -> None:
    assert where_of(APP_MENTION) == Where("C111", "1595926230.009600")
    assert where_of(_message()) == Where("C0ACME", "1700000000.000300")  # starts a thread
    assert where_of({"type": "event_callback", "event": _message(
        thread_ts="1700000000.000100")}) == Where("C0ACME", "1700000000.000100")
    assert where_of(_message(channel="D0ALICE", channel_type="im")) == Where("D0ALICE", None)
    assert where_of(_message(channel="D0ALICE", channel_type="im",
                             thread_ts="1.2")) == Where("D0ALICE", "1.2")
    edited = _message(subtype="message_changed", message={"ts": "5.5", "thread_ts": "4.4"})
    assert where_of(edited) == Where("C0ACME", "4.4")


def test_where_clicks_happen() -> None:
    el = button(render_message(card_reply()), "Acknowledge")
    assert where_of(click(el)) == Where("C0ACME", "1700000000.000200")
    assert where_of(click(el, thread_ts="1700000000.000100")) == Where("C0ACME",
                                                                        "1700000000.000100")
    assert where_of(click(el, channel="D0ANA")) == Where("D0ANA", None)
    # bolt's example body: an ephemeral message (no `message`, no thread to hang on)
    assert where_of(click(el, channel="C111", ephemeral=True)) == Where("C111", None)
    assert where_of(click(el, ephemeral=True, thread_ts="1.5")) == Where("C0ACME", "1.5")
    home = click(el)
    home["container"] = {"type": "view", "view_id": "V111"}
    del home["channel"], home["message"]
    assert where_of(home) == Where(None, None)
    broken = click(el)
    broken["container"] = {"type": "message"}
    del broken["channel"]
    with pytest.raises(SlackPayloadError, match="channel"):
        where_of(broken)


def test_where_shortcuts_commands_and_reactions_happen() -> None:
    shortcut = {"type": "shortcut", "token": "xxx", "action_ts": "1606983924.521157",
                "team": {"id": "T111", "domain": "ddd"},
                "user": {"id": "U111", "username": "use", "team_id": "T111"},
                "is_enterprise_install": False, "enterprise": {"id": "E111", "domain": "eee"},
                "callback_id": "run-socket-mode", "trigger_id": "111.222.xxx"}
    assert where_of(shortcut) == Where(None, None)
    message_action = {"type": "message_action", "callback_id": "file-case",
                      "trigger_id": "111.222.xxx", "team": {"id": "T111"},
                      "user": {"id": "U111", "team_id": "T111"},
                      "channel": {"id": "C111", "name": "support"},
                      "message_ts": "1700000000.000400",
                      "message": {"type": "message", "user": "U222", "text": "broken",
                                  "ts": "1700000000.000400"}}
    assert where_of(message_action) == Where("C111", "1700000000.000400")
    command = {"token": "x", "team_id": "T111", "team_domain": "t", "channel_id": "C111",
               "channel_name": "support", "user_id": "U111", "user_name": "u",
               "command": "/support", "text": "status", "trigger_id": "111.222.xxx",
               "response_url": "https://hooks.slack.com/commands/T111/1/x"}
    assert where_of(command) == Where("C111", None)
    reaction = {"token": "verification_token", "team_id": "T_SOURCE", "type": "event_callback",
                "event": {"type": "reaction_added", "user": "W111", "item": {
                    "type": "message", "channel": "C111", "ts": "1599529504.000400"},
                    "reaction": "heart_eyes", "item_user": "W111",
                    "event_ts": "1599616881.000800"}}
    assert where_of(reaction) == Where("C111", "1599529504.000400")


@pytest.mark.parametrize("payload", [
    {"type": "event_callback", "event": {"type": "message", "text": "hi"}},
    {"type": "message", "channel": 12, "ts": "1.1"},
    {"type": "message", "channel": "C1", "ts": 1.1},
    {"type": "reaction_added", "item": None},
    {"type": "message_action", "message": {}},
    {"command": "/support"},
    {"type": "view_submission", "view": {"private_metadata": "junk"}},
    [],
])
def test_where_of_malformed_payloads_raises_our_error(payload: Any) -> None:
    with pytest.raises(SlackPayloadError):
        where_of(payload)


CONNECT_AUTH = [{"enterprise_id": "INSTALLED_ENTERPRISE_ID", "team_id": "INSTALLED_TEAM_ID",
                 "user_id": "INSTALLED_BOT_USER_ID", "is_bot": True,
                 "is_enterprise_install": False}]


def test_the_speakers_own_team_in_slack_connect() -> None:
    # test_internals.py `slack_connect_events_api_requests`: the message's own team.
    message = {"team_id": "TEAM_ID_ACTOR", "enterprise_id": "ENTERPRISE_ID_ACTOR",
               "context_team_id": "INSTALLED_TEAM_ID",
               "context_enterprise_id": "INSTALLED_ENTERPRISE_ID", "api_app_id": "A111",
               "event": {"type": "message", "text": "<@INSTALLED_BOT_USER_ID> Hey!",
                         "user": "USER_ID_ACTOR", "ts": "1678455198.838499",
                         "team": "TEAM_ID_ACTOR", "channel": "C111",
                         "event_ts": "1678455198.838499", "channel_type": "channel"},
               "type": "event_callback", "authorizations": CONNECT_AUTH,
               "is_ext_shared_channel": True}
    assert speaker_team(message) == "TEAM_ID_ACTOR"
    # `slack_connect_events_api_no_actor_team_requests`: the mention names the installed
    # team in `team`; the speaker's organisation is `user_team`, not the channel's.
    mention: dict[str, Any] = {"team_id": "INSTALLED_TEAM_ID", "api_app_id": "A111",
               "event": {"type": "app_mention", "text": "<@INSTALLED_BOT_USER_ID> hey",
                         "user": "USER_ID_ACTOR", "ts": "1678451405.023359",
                         "team": "INSTALLED_TEAM_ID", "user_team": "ENTERPRISE_ID_ACTOR",
                         "source_team": "ENTERPRISE_ID_ACTOR",
                         "user_profile": {"team": "ENTERPRISE_ID_ACTOR"}, "channel": "C111",
                         "event_ts": "1678451405.023359"},
               "type": "event_callback", "authorizations": CONNECT_AUTH,
               "is_ext_shared_channel": True}
    assert speaker_team(mention) == "ENTERPRISE_ID_ACTOR"
    # `slack_connect_events_api_no_actor_enterprise_team_requests`: nothing names the actor.
    reaction = {"team_id": "INSTALLED_TEAM_ID", "context_team_id": "INSTALLED_TEAM_ID",
                "api_app_id": "A111",
                "event": {"type": "reaction_added", "user": "USER_ID_ACTOR",
                          "reaction": "eyes", "item": {"type": "message", "channel": "C111",
                                                       "ts": "1678453386.979699"},
                          "event_ts": "1678456876.000900"},
                "type": "event_callback", "authorizations": CONNECT_AUTH,
                "is_ext_shared_channel": True}
    assert speaker_team(reaction) is None
    # The same reaction outside a shared channel: the envelope's team is the speaker's.
    assert speaker_team({**reaction, "is_ext_shared_channel": False}) == "INSTALLED_TEAM_ID"
    assert speaker_team(APP_MENTION) == "T_INSTALLED"
    assert speaker_team(mention["event"]) == "ENTERPRISE_ID_ACTOR"


def test_the_speakers_team_on_clicks_submissions_and_commands() -> None:
    el = button(render_message(card_reply()), "Acknowledge")
    assert speaker_team(click(el, team="T-partner")) == "T-partner"
    # test_view_submission.py `connect_channel_payload`: a modal from the other side.
    view = render_modal(intake_form(), ModalMetadata(form="intake", channel="C0ACME"))
    body = submission(view, {}, user="W111", team="T-other-side")
    body["view"]["app_installed_team_id"] = "T-installed-workspace"
    assert speaker_team(body) == "T-other-side"
    assert speaker_team({"command": "/support", "team_id": "T111", "user_id": "U1",
                         "channel_id": "C1"}) == "T111"
    assert speaker_team({"type": "block_actions", "user": {"id": "U1"},
                         "team": {"id": "T9"}}) == "T9"
    with pytest.raises(SlackPayloadError):
        speaker_team({"type": "block_actions", "user": {"id": "U1", "team_id": 5}})


# ---- the round trip through the real handler -------------------------------------------------

DIRECTORY = Directory(load_deployment(ROOT / "examples" / "frontdoor.toml"))
AT = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("America/New_York"))  # a Tuesday


@pytest.fixture
async def handler(tmp_path: Path) -> AsyncIterator[Handler]:
    store = SqliteStore(tmp_path / "frontdoor.db")
    await store.open()
    try:
        yield Handler(store, DIRECTORY)
    finally:
        await store.close()


async def _say(handler: Handler, slack_user: str, where: Where, *, text: str | None = None,
               choice: str | None = None, form: dict[str, str] | None = None,
               minutes: int = 1) -> Outcome:
    person = DIRECTORY.by_platform("slack", slack_user)
    assert person is not None and where.channel is not None
    place = Place("slack", where.channel, where.thread)
    return await handler.handle(Inbound(person, place, AT + timedelta(minutes=minutes),
                                        text=text, choice=choice, form=form))


def _rendered(outcome: Outcome) -> list[dict[str, Any]]:
    messages = [render_message(r) for r in outcome.replies]
    messages += [render_message(n.reply) for n in outcome.notices]
    for message in messages:
        assert_valid_message(message)
    return messages


async def test_filing_with_the_modal_then_acknowledging_with_a_button(
        handler: Handler) -> None:
    mention = copy.deepcopy(APP_MENTION)
    mention["event"].update(text="<@W111> support", user="U0ALICE", channel="C0ACME",
                            ts="1700000000.000100", team="T0ACME")
    where = where_of(mention)
    out = await _say(handler, "U0ALICE", where, text=text_of_message_event(mention, "W111"))
    question = _rendered(out)[-1]
    assert [b["text"]["text"] for b in buttons(question)][-2:] == ["Fill in one form", "Cancel"]

    body = click(button(question, "Fill in one form"), thread_ts=where.thread)
    form_id = form_id_of_block_action(body)
    form = next(r.form for r in out.replies if r.form is not None)
    assert form.id == form_id
    view = render_modal(form, metadata_for(form, *where_of(body)))
    assert_valid_modal(view)
    options = {o["value"] for b in view["blocks"] if b.get("block_id") == "priority"
               for o in b["element"]["options"]}
    submitted = submission(view, {"case_type": "incident", "priority": sorted(options)[1],
                                  "deployment": "acme-prod", "field.product": "Gateway",
                                  "description": "The portal is down <again> & users wait"})
    values = form_values_of_view(submitted["view"])
    assert values["description"] == "The portal is down <again> & users wait"
    out = await _say(handler, "U0ALICE", where_of(submitted), form=values, minutes=2)
    review = _rendered(out)[-1]

    out = await _say(handler, "U0ALICE", where, minutes=3,
                     choice=choice_of_block_action(click(button(review, "Open the case"),
                                                         thread_ts=where.thread))[0])
    messages = _rendered(out)
    assert messages[0]["blocks"][0]["text"]["text"].startswith("Case ACME-")
    engineers = next(n.reply for n in out.notices if n.audience == "engineers")
    card = render_message(engineers)
    ack = button(card, "Acknowledge")
    assert ack["style"] == "primary"
    choice, case_id = choice_of_block_action(click(ack, user="U0ANA", team="T0NORTHWIND",
                                                   channel="C0ENG"))
    assert case_id is not None and choice == f"case:acknowledge:{case_id}"
    out = await _say(handler, "U0ANA", Where("C0ENG", "1700000000.000200"), choice=choice,
                     minutes=4)
    after = _rendered(out)[0]
    assert "and picked it up" in after["blocks"][0]["text"]["text"]
    assert "Acknowledge" not in [b["text"]["text"] for b in buttons(after)]


async def test_an_action_form_goes_through_a_modal_with_its_hidden_fields(
        handler: Handler) -> None:
    where = Where("C0ACME", "1700000000.000100")
    for step, answer in enumerate(("support", "query", "How do I rotate the API keys?")):
        out = await _say(handler, "U0ALICE", where, text=answer, minutes=step)
    for choice in ("confirm:open",):
        out = await _say(handler, "U0ALICE", where, choice=choice, minutes=5)
    engineers = next(n.reply for n in out.notices if n.audience == "engineers")
    ask = button(render_message(engineers), "Ask customer")
    choice, case_id = choice_of_block_action(click(ask, user="U0ANA", channel="C0ENG"))
    out = await _say(handler, "U0ANA", Where("C0ENG", None), choice=choice, minutes=6)
    offer = _rendered(out)[0]
    form = out.replies[0].form
    assert form is not None and out.replies[0].private
    body = click(button(offer, "Fill in the form"), user="U0ANA", channel="C0ENG",
                 ephemeral=True)
    assert form_id_of_block_action(body) == form.id
    view = render_modal(form, metadata_for(form, *where_of(body)))
    assert_valid_modal(view)
    assert [b.get("block_id") for b in view["blocks"]] == [None, "text"]
    # the modal names the case it acts on: id, priority and title
    assert view["blocks"][0]["text"]["text"].startswith(f"*{case_id} · ")
    values = form_values_of_view(submission(view, {"text": "Which key store?"})["view"])
    assert values == {"text": "Which key store?", "_action": "ask_customer",
                      "_case": case_id}
    out = await _say(handler, "U0ANA", Where("C0ENG", None), form=values, minutes=7)
    _rendered(out)
    assert any(n.audience == "customer" for n in out.notices)
    assert case_id is not None
    events = await handler.store.case_events(case_id)
    assert events[-1].reason == "Which key store?"


# ---- articles of the vendor's documentation ------------------------------------------------


def _offer() -> Reply:
    from bot.messages import ArticleLink, articles_text

    links = (ArticleLink("kq/rl", "Rate <limits> & tiers", "https://docs.example.com/rl",
                         "Limits per tier."),
             ArticleLink("kq/local", "Local only", None, "No address."))
    text = "\n".join(["Before I file it: these may answer your question.",
                      *articles_text(links), "Did one of these answer it?"])
    return Reply(text, choices=(Choice("articles:yes", "Yes, thanks"),
                                Choice("articles:no", "No, open a case")), articles=links)


def test_an_offer_shows_each_article_as_a_linked_title_with_its_excerpt() -> None:
    message = render_message(_offer())
    assert_valid_message(message)
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert sections[0] == "Before I file it: these may answer your question."
    assert "*<https://docs.example.com/rl|Rate &lt;limits&gt; &amp; tiers>*" in sections[1]
    assert "Limits per tier." in sections[1]
    assert "*Local only*" in sections[2] and "<" not in sections[2]  # no address, no link
    assert sections[3] == "Did one of these answer it?"
    assert "Rate" not in sections[0] + sections[3]  # the list is shown once, natively
    assert "Rate &lt;limits&gt;" in message["text"]  # … and in full in the fallback


def test_a_case_cards_articles_each_have_their_send_button() -> None:
    from bot.messages import ArticleLink, CaseCard

    send = Choice("case:send_article/kq/rl:ACME-4", "Send to customer", "")
    card = CaseCard("ACME-4", "Limits", "Acme", "Query", None, None, "new", None,
                    articles=(ArticleLink("kq/rl", "Rate limits", "https://d.example/rl", "x",
                                          "shown to the customer before filing", send),))
    message = render_message(Reply("ACME-4 · Limits", card=card))
    assert_valid_message(message)
    [article] = [b for b in message["blocks"] if b.get("accessory")]
    assert "shown to the customer before filing" in article["text"]["text"]
    value = decode_button_value(article["accessory"]["value"])
    assert (value.choice, value.case) == (send.id, "ACME-4")


def test_an_articles_title_and_excerpt_arrive_as_typed_only_its_address_is_a_link() -> None:
    from bot.messages import ArticleLink

    lure = ArticleLink("kq/x", "<!channel> <https://evil.example|Verify>", "https://d.example/x",
                       "<@U0ANA> click")
    message = render_message(Reply("• x", choices=(Choice("articles:no", "No"),),
                                   articles=(lure,)))
    [section] = [b for b in message["blocks"] if "d.example" in str(b)]
    text = section["text"]["text"]
    assert section["text"]["verbatim"] is True
    assert text.startswith("📄 *<https://d.example/x|&lt;!channel&gt; &lt;https://evil")
    assert "<@U0ANA>" not in text and "&lt;@U0ANA&gt; click" in text


def test_news_of_a_sent_article_shows_the_sentence_the_article_and_the_card_once_each() -> None:
    from bot.messages import ArticleLink, CaseCard, articles_text

    link = ArticleLink("kq/rl", "Rate limits", "https://d.example/rl", "Limits per tier.")
    card = CaseCard("ACME-4", "Limits", "Acme", "Query", None, None, "acknowledged", "Ana")
    text = "\n".join(["Ana sent you an article on ACME-4: “Rate limits”.",
                      *articles_text((link,)), "ACME-4 · Limits", "Acme · Query"])
    message = render_message(Reply(text, card=card, articles=(link,)))
    assert_valid_message(message)
    flat = str(message["blocks"])
    assert flat.count("Ana sent you an article") == 1 and flat.count("Limits per tier.") == 1
    # the card's own blocks say it, not its rendition
    assert not [b for b in message["blocks"] if "Acme · Query" in str(b.get("text"))
                and b["type"] == "section"]
