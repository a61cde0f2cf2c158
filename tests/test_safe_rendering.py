"""Safe rendering: what a customer typed arrives as the characters typed on every platform —
never as a link that hides where it leads, an image, a heading, a mention, or text reordered
by bidirectional controls. Teams: markdown escaped (checked by rendering it with a real
CommonMark parser, markdown-it, with and without backslash-escape support); Slack: mrkdwn
escaped and every text object `verbatim`; the web chat: text only, bidi controls removed.
The front-door tests (Slack and Teams) check the same over HTTP, in the engineers' channel."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.safe_text import strip_bidi_controls
from adapters.slack import render as slack
from adapters.teams import render as teams
from adapters.web.render import reply_json
from bot.messages import CaseCard, ClockLine, PlanItem, Reply, ResponsePlan
from frontdoor_testkit.markup import (
    card_markdown,
    disguised,
    markdown_active,
    markdown_html,
    markdown_visible,
    mrkdwn_objects,
    slack_controls,
    without_escape_support,
)

HOSTILE = [
    "[Verify your account](https://evil.example/login)",  # the reviewer's disguised link
    "![logo](https://evil.example/pixel.png)",  # an image
    "# URGENT: reset your password",  # a heading
    "<https://evil.example|Verify your account>",  # Slack's link syntax
    "<!channel> <!here> <!everyone> <@U0ANA> <#C0ENGINEERS>",  # Slack's mentions
    "<at>Ana Ruiz</at> please look",  # a Teams mention written by hand
    "<a href=\"https://evil.example\">click</a> <img src=x onerror=alert(1)>",  # HTML
    "[Verify][1]\n\n[1]: https://evil.example",  # a reference link
    "**[Verify](https://evil.example)** and _[x](https://evil.example)_",  # inside emphasis
    "invoice_\u202egpj.exe is attached",  # a right-to-left override
    "\u2067isolate\u2069 and \u202aembedding\u202c",
    "back\\slash \\[not escaped\\](https://evil.example)",  # the customer's own backslashes
]


def _card(text: str) -> Reply:
    """A case card as the engineers' channel gets it, the customer's words everywhere."""
    card = CaseCard(case_id="ACME-7", title=text, customer="Acme Corp", case_type="Incident",
                    priority="P1", environment="production", status="new", assignee=None,
                    clocks=(ClockLine("Response", "running", "Mon 09:00", "1 h", text),),
                    facts=(("Description", text), (text, "value")), flags=(text,))
    return Reply(f"New case from Acme Corp: {text}\n{text}", card=card)


def _typed(text: str) -> str:
    return strip_bidi_controls(text)


@pytest.mark.parametrize("text", HOSTILE)
def test_teams_shows_what_was_typed_and_nothing_it_could_become(text: str) -> None:
    """No link, image, heading or HTML in any TextBlock or fact — also on a client that
    ignores backslash escapes — and the words shown are the words typed."""
    activity = teams.render_activity(_card(text))
    card = activity["attachments"][0]["content"]
    shown = list(card_markdown(card))
    assert shown
    for markdown in shown:
        assert markdown_active(markdown) == [], markdown
        assert disguised(without_escape_support(markdown)) == [], markdown
        assert "\u202e" not in markdown and "\u2067" not in markdown
    visible = "\n".join(markdown_visible(m) for m in shown)
    for line in _typed(text).split("\n"):
        if line.strip():
            assert line.strip() in visible
    assert "\u202e" not in activity["summary"] and "\u202e" not in card["fallbackText"]


@pytest.mark.parametrize("text", HOSTILE)
def test_teams_plain_messages_are_escaped_too(text: str) -> None:
    line = text.replace("\n", " ")
    activity = teams.render_activity(Reply(f"Alice wrote: {line}"))
    assert activity.get("textFormat") == "markdown"
    assert markdown_active(activity["text"]) == []
    assert disguised(without_escape_support(activity["text"])) == []
    assert _typed(line) in markdown_visible(activity["text"])


def test_teams_bold_is_only_what_the_renderer_adds() -> None:
    """A clock's label is bold (the renderer's markup); a customer's ``**`` is not."""
    clock = ClockLine("Response", "running", "Mon 09:00", "1 h", "")
    card = CaseCard(case_id="ACME-7", title="**urgent**", customer="Acme Corp",
                    case_type="Incident", priority=None, environment=None, status="new",
                    assignee=None, clocks=(clock,))
    texts = list(card_markdown(teams.render_card(Reply("**urgent** please", card=card))))
    assert texts[0] == "\\*\\*urgent\\*\\* please"
    assert any(t.startswith("**Response**: ") for t in texts)
    assert "<strong>" not in "".join(markdown_html(t) for t in texts[:2])


@pytest.mark.parametrize("text", HOSTILE)
def test_slack_shows_what_was_typed_verbatim(text: str) -> None:
    """Every mrkdwn object is verbatim and holds no control sequence of Slack's (mentions,
    links, channel links) that the customer wrote; plain text loses bidi controls."""
    message = slack.render_message(_card(text))
    objects = list(mrkdwn_objects(message["blocks"]))
    assert objects
    for obj in objects:
        assert obj.get("verbatim") is True, obj
        assert slack_controls(obj["text"]) == [], obj["text"]
        assert "\u202e" not in obj["text"] and "\u2067" not in obj["text"]
    assert slack_controls(message["text"]) == []
    headers = [b["text"]["text"] for b in message["blocks"] if b["type"] == "header"]
    assert headers and all("\u202e" not in h for h in headers)


def test_slack_mentions_we_make_still_mention() -> None:
    """Our own mentions (adapters/slack/notices.py puts them in front) stay Slack's."""
    from adapters.slack.notices import _mentioning

    message = _mentioning(slack.render_message(_card("<!channel> hi")), "<@U0ANA>")
    first = next(mrkdwn_objects(message["blocks"]))
    assert first["text"].startswith("<@U0ANA> ") and first["verbatim"] is True
    assert slack_controls(first["text"]) == ["<@U0ANA>"]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@pytest.mark.parametrize("text", HOSTILE)
def test_the_web_chat_carries_the_text_without_bidi_controls(text: str) -> None:
    """The page shows text with textContent (never as HTML); the JSON loses only the bidi
    controls."""
    plan = ResponsePlan("ACME-7", (PlanItem(1, "Technical assessment", value=text, by=text),))
    shown = reply_json(Reply(text, card=_card(text).card, plan=plan))
    strings = _strings(shown)
    assert all("\u202e" not in s and "\u2067" not in s for s in strings)
    assert _typed(text) in strings
