"""manifest.json is a valid Slack app manifest for exactly what the code handles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from adapters.slack import app as slack_app

MANIFEST: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parent.parent / "manifest.json").read_text())
README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_the_manifest_has_what_slack_requires() -> None:
    """Display information, a bot user, OAuth scopes, settings."""
    assert MANIFEST["display_information"]["name"]
    assert len(MANIFEST["display_information"]["name"]) <= 35
    assert MANIFEST["features"]["bot_user"]["display_name"]
    assert MANIFEST["oauth_config"]["scopes"]["bot"]
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert "socket_mode_enabled" in MANIFEST["settings"]


def test_every_event_handled_is_subscribed_and_vice_versa() -> None:
    """The events the code listens to are exactly the manifest's bot events."""
    expected = {e for e in slack_app.EVENTS if e != "message"}
    expected |= set(slack_app.MESSAGE_EVENT_KINDS)
    assert set(MANIFEST["settings"]["event_subscriptions"]["bot_events"]) == expected


def test_every_command_and_shortcut_handled_is_declared_and_vice_versa() -> None:
    """Slash commands and message shortcuts match the code's."""
    commands = {c["command"] for c in MANIFEST["features"]["slash_commands"]}
    assert commands == set(slack_app.COMMANDS)
    shortcuts = {s["callback_id"] for s in MANIFEST["features"]["shortcuts"]
                 if s["type"] == "message"}
    assert shortcuts == set(slack_app.MESSAGE_SHORTCUTS)


def test_requests_go_to_one_endpoint() -> None:
    """Events, interactivity and commands all POST to /slack/events."""
    urls = {MANIFEST["settings"]["event_subscriptions"]["request_url"],
            MANIFEST["settings"]["interactivity"]["request_url"],
            *[c["url"] for c in MANIFEST["features"]["slash_commands"]]}
    assert {u.rsplit("/", 2)[-2:] == ["slack", "events"] for u in urls} == {True}


def test_each_scope_is_explained_in_the_readme() -> None:
    """The minimal bot scopes, each with a one-line reason in the README."""
    for scope in MANIFEST["oauth_config"]["scopes"]["bot"]:
        assert f"`{scope}`" in README, scope
