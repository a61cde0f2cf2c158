"""The pure parts of the Teams front door: `Reply` → Adaptive Card, activity → neutral values,
card data round trips, and how connector errors are classified."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from msrest.exceptions import HttpOperationError

from adapters.errors import TeamsPayloadError
from adapters.teams import render, translate
from adapters.teams.actions import SubmitData, decode_submission
from adapters.teams.delivery import classify
from bot.messages import (
    CaseCard,
    Choice,
    ClockLine,
    Form,
    FormField,
    NextDue,
    PlanItem,
    PlanMember,
    Reply,
    ResponsePlan,
)

CASE_ACTIONS = tuple(Choice(f"case:{a}:ACME-4", label) for a, label in [
    ("acknowledge", "Acknowledge"), ("assign", "Assign to me"), ("ask_customer", "Ask customer"),
    ("workaround", "Workaround provided"), ("resolve", "Resolve"), ("reclassify", "Reclassify"),
    ("escalate", "Escalate")])
CARD = CaseCard(case_id="ACME-4", title="Orders API returns 503", customer="Acme Corp",
                case_type="Incident", priority="P1 – Critical", environment="production",
                status="new", assignee=None,
                clocks=(ClockLine("Response", "running", "Fri 20 Nov 17:30 EST", "45 min left",
                                  "1 hour of coverage, Mon–Fri 08:00–17:00"),),
                facts=(("Deployment", "acme-prod (production)"), ("Product", "orders API")),
                next_due=NextDue("Response", "Response due Fri 20 Nov 17:30 EST — 45 business "
                                 "min left", "due_soon"),
                priority_tone="critical", explain=Choice("case:explain:ACME-4", "Why?"))


def _walk(element: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(element, dict):
        out.append(element)
        for value in element.values():
            out += _walk(value)
    elif isinstance(element, list):
        for value in element:
            out += _walk(value)
    return out


def _of_type(card: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in _walk(card) if e.get("type") == kind]


def _submit(card: dict[str, Any], title: str) -> dict[str, Any]:
    return next(a for a in _of_type(card, "Action.Submit") if a["title"] == title)


def _size(card: dict[str, Any]) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode())


# ---- rendering -------------------------------------------------------------------------------


def test_a_one_line_reply_is_a_text_message() -> None:
    activity = render.render_activity(Reply("OK, going back."))
    assert activity == {"type": "message", "textFormat": "markdown", "text": "OK, going back."}


def test_every_line_is_its_own_text_block_and_the_text_is_the_fallback() -> None:
    reply = Reply("Which deployment?\n1. acme-prod — production\n\n2. acme-staging")
    activity = render.render_activity(reply)
    card = activity["attachments"][0]["content"]
    assert activity["attachments"][0]["contentType"] == render.CONTENT_TYPE
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    texts = [b["text"] for b in _of_type(card, "TextBlock")]
    assert texts == ["Which deployment?", "1\\. acme-prod — production", "2\\. acme-staging"]
    assert all(b["wrap"] for b in _of_type(card, "TextBlock"))
    assert card["fallbackText"] == reply.text and activity["summary"].startswith("Which")


def test_choices_are_submit_buttons_carrying_the_neutral_choice_id() -> None:
    reply = Reply("What kind of case is it?", choices=(
        Choice("incident", "Incident", "Something is broken"), Choice("query", "Query"),
        Choice("cmd:back", "Back"), Choice("cmd:cancel", "Cancel")))
    card = render.render_card(reply)
    actions = _of_type(card, "Action.Submit")
    assert [a["title"] for a in actions] == ["Incident", "Query", "Back", "Cancel"]
    assert actions[0]["data"] == {"v": 1, "choice": "incident"}
    assert not _of_type(card, "Action.Execute")
    assert any("Something is broken" in b["text"] for b in _of_type(card, "TextBlock"))
    target, values = decode_submission(actions[1]["data"])
    assert target.choice == "query" and values == {}


def test_at_most_three_case_buttons_in_sight_the_rest_behind_more() -> None:
    card = render.render_card(Reply("New case from Acme Corp (Adam)", actions=CASE_ACTIONS,
                                   card=CARD))
    [row] = [s for s in _of_type(card, "ActionSet")
             if any(a["title"] == "Acknowledge" for a in s["actions"])]
    assert [a["title"] for a in row["actions"]] == ["Acknowledge", "Assign to me", "More…"]
    more = row["actions"][-1]
    assert more["type"] == "Action.ShowCard"
    assert [a["title"] for a in _of_type(more["card"], "Action.Submit")] == [
        "Ask customer", "Workaround provided", "Resolve", "Reclassify", "Escalate"]
    ack = _submit(card, "Acknowledge")
    assert ack["data"]["choice"] == "case:acknowledge:ACME-4" and ack["style"] == "positive"


def test_every_row_of_buttons_fits_the_chat_column() -> None:
    card = render.render_card(Reply("New case from Acme Corp (Adam)", actions=CASE_ACTIONS,
                                   card=CARD))
    for row in _of_type(card, "ActionSet"):
        width = sum(render._button_px(a) for a in row["actions"])
        assert width + render.BUTTON_GAP_PX * (len(row["actions"]) - 1) <= render.ROW_PX, row


def test_a_case_card_is_a_compact_header_and_one_next_due_line() -> None:
    text = "Case ACME-4 is open.\nACME-4 · Orders API returns 503\nAcme Corp · Incident"
    card = render.render_card(Reply(text, card=CARD))
    blocks = [b["text"] for b in _of_type(card, "TextBlock")]
    assert blocks[0] == "Case ACME-4 is open."
    assert "Acme Corp · Incident" not in blocks  # the card shows it, not the text
    assert blocks[1:5] == ["ACME-4 · Orders API returns 503", "P1 – Critical", "New",
                           "Acme Corp · Incident · acme-prod (production) · Unassigned"]
    badge = next(c for c in _of_type(card, "Column") if c["items"][0]["text"] == "P1 – Critical")
    assert badge["style"] == "attention"  # a critical priority is a red badge
    [due] = [b for b in _of_type(card, "TextBlock") if "Response due" in b["text"]]
    # under a quarter left: amber (the mark; Teams' amber text would be too pale to read)
    assert due["text"] == "🟠 Response due Fri 20 Nov 17:30 EST — 45 business min left"
    assert "Product: orders API" in blocks


def test_why_unfolds_the_clock_table_and_its_arithmetic() -> None:
    card = render.render_card(Reply("Case ACME-4 is open.", card=CARD))
    [why] = [c for c in _of_type(card, "Column") if "selectAction" in c]
    assert why["items"][0]["text"].startswith("Why?")
    toggle = why["selectAction"]
    assert toggle["type"] == "Action.ToggleVisibility"
    [details] = [e for e in _walk(card) if e.get("id") in toggle["targetElements"]]
    assert details["isVisible"] is False  # folded until "Why?" is clicked
    texts = [b["text"] for b in _of_type(details, "TextBlock")]
    assert any(t.startswith("**Response**: due Fri 20 Nov") for t in texts)
    assert "1 hour of coverage, Mon–Fri 08:00–17:00" in texts


FORM = Form("action:ask_customer:ACME-4", "Ask the customer — ACME-4", (
    FormField("priority", "Priority", "choice", (Choice("P1", "P1 – Critical"),
                                                 Choice("P2", "P2 – High")),
              required=False, value="P2", hint="Leave empty to keep it"),
    FormField("text", "Question for the customer", "long_text"),
    FormField("name", "Name", "text", value="Adam"),
    FormField("_action", "", "hidden", value="ask_customer"),
    FormField("_case", "", "hidden", value="ACME-4"),
), "Send")


def test_a_form_alone_is_one_card_with_inputs_and_hidden_fields_in_the_submit_data() -> None:
    card = render.render_card(Reply("Ask the customer — ACME-4: fill in the form.", form=FORM,
                                   private=True))
    inputs = {e["id"]: e for e in _walk(card) if str(e.get("type", "")).startswith("Input.")}
    assert set(inputs) == {"priority", "text", "name"}
    assert inputs["priority"]["type"] == "Input.ChoiceSet"
    assert inputs["priority"]["value"] == "P2" and not inputs["priority"]["isRequired"]
    assert [c["value"] for c in inputs["priority"]["choices"]] == ["P1", "P2"]
    assert inputs["text"]["isMultiline"] and inputs["text"]["isRequired"]
    assert inputs["name"]["value"] == "Adam" and "isMultiline" not in inputs["name"]
    submit = _submit(card, "Send")
    assert submit["data"] == {"v": 1, "form": FORM.id, "_action": "ask_customer",
                              "_case": "ACME-4"}
    # what Teams sends back: the data merged with each input's value by id
    value = {**submit["data"], "priority": "P1", "text": "Which region?", "name": "Adam"}
    said = translate.said_of({"type": "message", "value": value, "replyToId": "17"})
    assert said.form == {"_action": "ask_customer", "_case": "ACME-4", "priority": "P1",
                         "text": "Which region?", "name": "Adam"}
    assert said.form_id == FORM.id and said.reply_to == "17"


def test_a_form_beside_buttons_opens_from_a_show_card() -> None:
    intake = Form("intake", "File a support case", (
        FormField("case_type", "Case type", "choice", (Choice("query", "Query"),), refresh=True),
        FormField("description", "Description", "long_text")), "Review",
        open_label="Fill in one form")
    card = render.render_card(Reply("What kind of case is it?", choices=(
        Choice("query", "Query"), Choice("cmd:cancel", "Cancel")), form=intake))
    show = _of_type(card, "Action.ShowCard")
    assert len(show) == 1 and show[0]["title"] == "Fill in one form"
    inner = show[0]["card"]
    assert [e["id"] for e in inner["body"] if "id" in e] == ["case_type", "description"]
    assert inner["actions"][0]["data"] == {"v": 1, "form": "intake"}


def test_field_ids_that_would_collide_with_card_data_are_left_out() -> None:
    form = Form("f", "F", (FormField("choice", "Choice"), FormField("ok", "OK")))
    card = render.render_card(Reply("x", form=form))
    assert [e["id"] for e in _walk(card) if e.get("type") == "Input.Text"] == ["ok"]


def test_an_oversized_reply_is_shortened_keeping_its_buttons() -> None:
    text = "\n".join(f"line {i}: " + "x" * 1500 for i in range(120))
    choices = tuple(Choice(f"c{i}", f"Choice {i}", "an explanation " * 20) for i in range(40))
    reply = Reply(text, choices=choices, actions=CASE_ACTIONS, card=CARD)
    card = render.render_card(reply)
    assert _size(card) <= render.CARD_BYTES_MAX
    titles = {a["title"] for a in _of_type(card, "Action.Submit")}
    assert {"Acknowledge", "Escalate", "Choice 0"} <= titles
    assert any("Shortened to fit" in b["text"] for b in _of_type(card, "TextBlock"))


def test_a_huge_form_still_fits() -> None:
    many = tuple(Choice(f"option-{i}", "A long option label " * 5) for i in range(400))
    form = Form("f", "Pick", tuple(FormField(f"q{i}", "Question " * 30, "choice", many)
                                   for i in range(3)))
    card = render.render_card(Reply("Choose", form=form))
    assert _size(card) <= render.CARD_BYTES_MAX
    assert len(_of_type(card, "Action.Submit")) >= 1


def test_mentions_notify_in_text_and_in_cards() -> None:
    ana = render.Mention("29:ana", "Ana Ruiz")
    activity = render.render_activity(Reply("ACME-4 breached its response target"), [ana])
    assert activity["text"] == "<at>Ana Ruiz</at> ACME-4 breached its response target"
    assert activity["entities"] == [{"type": "mention", "text": "<at>Ana Ruiz</at>",
                                     "mentioned": {"id": "29:ana", "name": "Ana Ruiz"}}]
    rich = render.render_activity(Reply("ACME-4\nbreached", card=CARD), [ana])
    card = rich["attachments"][0]["content"]
    assert card["body"][0]["text"] == "<at>Ana Ruiz</at>"
    assert card["msteams"]["entities"][0]["mentioned"]["id"] == "29:ana"


def test_a_war_room_post_mentions_its_team_where_it_names_them_once() -> None:
    team = (PlanMember("ana", "Ana Ruiz", "support engineer"),
            PlanMember("olivia", "Olivia Park", "executive"),
            PlanMember("alice", "Alice Chen", "customer representative"))
    plan = ResponsePlan("ACME-4", (PlanItem(1, "Technical assessment"),), members=team,
                        case_title="Orders API returns 503", priority="P1 – Critical",
                        priority_tone="critical")
    mentions = [render.Mention("29:ana", "Ana Ruiz"), render.Mention("29:olivia", "Olivia Park")]
    card = render.render_activity(Reply("War team formed", plan=plan), mentions)[
        "attachments"][0]["content"]
    texts = [b["text"] for b in _of_type(card, "TextBlock")]
    [line] = [t for t in texts if t.startswith("War team — ")]
    assert line == ("War team — support engineers: <at>Ana Ruiz</at> · executives: "
                    "<at>Olivia Park</at> · customer representatives: Alice Chen")
    assert sum(t.count("Ana Ruiz") for t in texts) == 1  # named once, not in front too
    assert {e["mentioned"]["id"] for e in card["msteams"]["entities"]} == {"29:ana",
                                                                        "29:olivia"}


def test_fields_asked_only_by_choice_are_folded_under_their_sentence() -> None:
    form = Form("intake", "File a support case", (
        FormField("description", "Description", "long_text", value="The API is down"),
        FormField("impact.users", "Are all users affected?", "choice",
                  (Choice("yes", "Yes"),), required=False, reveal="Not sure? Answer these"),
    ), "Review", intro="Acme Corp · Konneqt")
    card = render.render_card(Reply("Fill it in", form=form))
    [toggle] = [e for e in _walk(card) if e.get("selectAction", {}).get("type")
                == "Action.ToggleVisibility"]
    assert toggle["items"][0]["text"] == "▸ Not sure? Answer these"
    [folded] = [e for e in _walk(card) if e.get("id") in toggle["selectAction"][
        "targetElements"]]
    assert folded["isVisible"] is False
    assert [e["id"] for e in _walk(folded) if "Input." in str(e.get("type"))] == [
        "impact.users"]
    inputs = {e["id"]: e for e in _walk(card) if "Input." in str(e.get("type"))}
    assert inputs["description"]["value"] == "The API is down"  # what was said, carried


def test_a_task_module_form_card_has_its_title_and_submit() -> None:
    card = render.render_form_card(FORM)
    assert card["body"][0]["text"] == "Ask the customer — ACME-4"
    assert card["actions"][0]["data"]["form"] == FORM.id


# ---- translating -----------------------------------------------------------------------------


def test_a_channel_mention_is_split_into_channel_and_thread_and_the_mention_stripped() -> None:
    activity = {
        "type": "message", "text": "<at>Frontdoor</at> assign ACME-4 to <at>Ben&nbsp;O</at>",
        "recipient": {"id": "28:bot"}, "serviceUrl": "https://smba.example/",
        "from": {"id": "29:ana", "aadObjectId": "0000-aad", "name": "Ana"},
        "conversation": {"id": "19:eng@thread.tacv2;messageid=1700", "conversationType":
                         "channel", "tenantId": "t-conv"},
        "channelData": {"tenant": {"id": "t1"}, "team": {"id": "19:team"}},
        "entities": [{"type": "mention", "text": "<at>Frontdoor</at>",
                      "mentioned": {"id": "28:bot", "name": "Frontdoor"}},
                     {"type": "mention", "text": "<at>Ben O</at>",
                      "mentioned": {"id": "29:ben", "name": "Ben O"}}]}
    where = translate.where_of(activity)
    assert (where.conversation, where.thread, where.kind) == ("19:eng@thread.tacv2", "1700",
                                                            "channel")
    assert where.conversation_id == "19:eng@thread.tacv2;messageid=1700"
    assert where.tenant == "t1" and where.team == "19:team"
    assert translate.said_of(activity).text == "assign ACME-4 to Ben O"
    speaker = translate.speaker_of(activity)
    assert speaker is not None and speaker.ids == ("0000-aad", "29:ana")


def test_personal_and_group_chats_have_no_thread() -> None:
    personal = translate.where_of({"conversation": {"id": "a:1x;messageid=5",
                                                    "tenantId": "t"}})
    assert personal.kind == "personal" and personal.thread is None and personal.tenant == "t"
    group = translate.where_of({"conversation": {"id": "19:meeting@thread.v2",
                                                 "conversationType": "groupChat"}})
    assert group.kind == "groupChat" and group.is_group


@pytest.mark.parametrize("activity", [{}, {"conversation": {}}, {"conversation": {"id": 3}}])
def test_an_activity_without_a_conversation_is_refused(activity: dict[str, Any]) -> None:
    with pytest.raises(TeamsPayloadError):
        translate.where_of(activity)


def test_html_and_entities_in_text_are_undone() -> None:
    text = translate.clean_text("<p>It&#39;s down &amp; <b>users</b> can&apos;t log in</p>")
    assert text == "It's down & users can't log in"


@pytest.mark.parametrize("value", [{"choice": ""}, {"choice": 3}, {"form": "x", "choice": "y"},
                                   {"v": 2, "choice": "y"}, {"text": "no marker"}, [1], "s"])
def test_a_submission_that_is_not_ours_is_refused(value: Any) -> None:
    with pytest.raises(TeamsPayloadError):
        translate.said_of({"type": "message", "value": value})


def test_submitted_values_become_strings_and_reserved_keys_are_dropped() -> None:
    target, values = decode_submission({"v": 1, "form": "f", "n": 3, "ok": True,
                                        "msteams": {"x": 1}, "nested": {"a": 1}})
    assert target == SubmitData(form="f") and values == {"n": "3", "ok": "true"}


def test_a_message_action_carries_the_message_and_its_link() -> None:
    action = translate.message_action_of({"value": {
        "commandId": "fileSupportCase", "messagePayload": {
            "id": "99",
            "body": {"contentType": "html", "content": "<div>Export <b>fails</b></div>"},
            "linkToMessage": "https://teams.microsoft.com/l/message/x/99"}}})
    assert action.text == "Export fails" and action.message_id == "99"
    assert translate.is_file_case_action(action) and action.link


# ---- delivery --------------------------------------------------------------------------------


def _error(status: int, headers: dict[str, str] | None = None) -> HttpOperationError:
    exc = HttpOperationError.__new__(HttpOperationError)
    exc.message = f"fake {status}"
    exc.response = SimpleNamespace(status_code=status, headers=headers or {})
    return exc


def test_connector_errors_are_classified() -> None:
    limited = classify(_error(429, {"Retry-After": "7"}))
    assert limited.kind == "retry" and limited.retry_after == 7.0
    assert classify(_error(503)).kind == "retry" and classify(_error(408)).kind == "retry"
    assert classify(_error(403)).kind == "failed" and classify(_error(400)).kind == "failed"
    assert classify(_error(429)).retry_after is None


@pytest.mark.parametrize("module", ["render", "translate", "actions", "package"])
def test_the_pure_modules_import_no_sdk_network_or_store(module: str) -> None:
    """Rendering and translating are pure: no botbuilder, no HTTP, no store, no clock."""
    import ast
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "adapters" / "teams" / f"{module}.py"
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    banned = ("botbuilder", "botframework", "aiohttp", "requests", "bot.store", "bot.handler",
              "adapters.teams.app", "adapters.teams.delivery")
    assert not [n for n in names if n.startswith(banned)]
    assert "datetime.now(" not in path.read_text()


# ---- articles of the vendor's documentation ------------------------------------------------


def test_an_offer_links_each_article_and_is_never_a_plain_text_message() -> None:
    from bot.messages import ArticleLink, articles_text

    links = (ArticleLink("kq/rl", "Rate [limits]", "https://docs.example.com/rl",
                         "Limits per tier."),)
    reply = Reply("\n".join(["These may answer it.", *articles_text(links),
                             "Did it answer it?"]),
                  choices=(Choice("articles:yes", "Yes, thanks"),), articles=links)
    activity = render.render_activity(reply)
    card = activity["attachments"][0]["content"]
    texts = [b["text"] for b in _of_type(card, "TextBlock")]
    assert "📄 **[Rate \\[limits\\]](https://docs.example.com/rl)**" in texts  # title as typed
    assert "Limits per tier." in texts and texts.count("These may answer it.") == 1
    assert texts.index("These may answer it.") < texts.index("Did it answer it?")
    assert _submit(card, "Yes, thanks")["data"]["choice"] == "articles:yes"


def test_a_case_cards_articles_each_have_their_send_button() -> None:
    from bot.messages import ArticleLink

    send = Choice("case:send_article/kq/rl:ACME-4", "Send to customer", "")
    card = CaseCard("ACME-4", "Limits", "Acme", "Query", None, None, "new", None,
                    articles=(ArticleLink("kq/rl", "Rate limits", "https://d.example/rl", "x",
                                          "shown to the customer before filing", send),))
    content = render.render_card(Reply("ACME-4 · Limits", card=card))
    assert _submit(content, "Send to customer")["data"]["choice"] == send.id
    assert "shown to the customer before filing" in json.dumps(content)


def test_an_articles_title_and_excerpt_arrive_as_typed_only_its_address_is_a_link() -> None:
    from bot.messages import ArticleLink

    lure = ArticleLink("kq/x", "[Verify](https://evil.example)", "https://d.example/x",
                       "![img](https://evil.example/i.png) # now")
    card = render.render_card(Reply("• x", choices=(Choice("articles:no", "No"),),
                                    articles=(lure,)))
    texts = [b["text"] for b in _of_type(card, "TextBlock")]
    assert "📄 **[\\[Verify\\]\\(https://evil.example)](https://d.example/x)**" in texts
    assert "!\\[img\\]\\(https://evil.example/i.png) # now" in texts  # no image
