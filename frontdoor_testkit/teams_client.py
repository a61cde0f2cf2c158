"""Speaking Teams to `frontdoor serve` in tests: builds the activities Teams would send
(personal chat, channel @mention, card button presses, installation) and posts them to
`POST /api/messages`; what the bot posted is read from the fake connector."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from frontdoor_testkit.fake_bot_framework import Call, FakeConnector
from frontdoor_testkit.server_process import ServerProcess

BOT_ID = "28:frontdoor-bot"
BOT_NAME = "Frontdoor"
VENDOR_TENANT = "northwind-tenant"
ACME_TENANT = "acme-tenant"
PARTNER_TENANT = "bluebridge-tenant"
ENGINEERS = "19:engineers@thread.tacv2"
ACME_CHANNEL = "19:acme-support@thread.tacv2"
PARTNER_CHANNEL = "19:bluebridge-shared@thread.tacv2"
NAMES = {"29:alice": "Alice Chen", "29:adam": "Adam Smith", "29:ana": "Ana Ruiz",
         "29:ben": "Ben Okafor", "29:pia": "Pia Larsen", "29:mallory": "Mallory"}
_ids = itertools.count(1)


def new_id() -> str:
    return f"{1_800_000_000_000 + next(_ids)}"


class TeamsSession:
    """Sends what Teams would send, and reads what the bot posted to the fake connector."""

    def __init__(self, server: ServerProcess, fake: FakeConnector,
                 headers: dict[str, str] | None = None) -> None:
        self.server = server
        self.fake = fake
        self.headers = headers or {}

    # -- sending -----------------------------------------------------------------------------

    def activity(self, user: str, tenant: str, conversation: str, *,
                 kind: str = "personal", text: str | None = None,
                 value: dict[str, Any] | None = None, reply_to: str | None = None,
                 mention: bool = False, activity_id: str | None = None) -> dict[str, Any]:
        activity: dict[str, Any] = {
            "type": "message", "id": activity_id or new_id(), "channelId": "msteams",
            "serviceUrl": self.fake.url, "timestamp": "2026-11-20T16:30:00.000Z",
            "from": {"id": user, "name": NAMES.get(user, user),
                     "aadObjectId": str(uuid.uuid5(uuid.NAMESPACE_URL, user))},
            "recipient": {"id": BOT_ID, "name": BOT_NAME},
            "conversation": {"id": conversation, "conversationType": kind,
                             "tenantId": tenant, **({"isGroup": True} if kind != "personal"
                                                    else {})},
            "channelData": {"tenant": {"id": tenant}},
            "locale": "en-US",
        }
        if kind == "channel":
            base = conversation.split(";")[0]
            activity["channelData"].update({"teamsChannelId": base, "channel": {"id": base},
                                            "team": {"id": f"team-of-{base}"}})
        if text is not None:
            activity["text"] = f"<at>{BOT_NAME}</at> {text}" if mention else text
            if mention:
                activity["entities"] = [{"type": "mention", "text": f"<at>{BOT_NAME}</at>",
                                         "mentioned": {"id": BOT_ID, "name": BOT_NAME}}]
        if value is not None:
            activity["value"] = value
        if reply_to is not None:
            activity["replyToId"] = reply_to
        return activity

    def post(self, activity: dict[str, Any], headers: dict[str, str] | None = None
             ) -> tuple[int, Any]:
        return self.server.request("POST", "/api/messages", json.dumps(activity).encode(),
                                   {"Content-Type": "application/json",
                                    **(self.headers if headers is None else headers)})

    def send(self, activity: dict[str, Any]) -> None:
        status, body = self.post(activity)
        assert status in (200, 201), (status, body)

    def say(self, user: str, tenant: str, conversation: str, text: str, **kw: Any) -> None:
        self.send(self.activity(user, tenant, conversation, text=text, **kw))

    def mention(self, user: str, tenant: str, channel: str, text: str,
                thread: str | None = None) -> str:
        """@mention the bot in a channel: a new post (its own thread) or in `thread`."""
        activity_id = new_id()
        root = thread or activity_id
        self.send(self.activity(user, tenant, f"{channel};messageid={root}", kind="channel",
                                text=text, mention=True, activity_id=activity_id))
        return root

    def click(self, user: str, tenant: str, card: Call, title: str,
              inputs: dict[str, str] | None = None, choice: str | None = None) -> None:
        """Press the button `title` (posting back `choice`, when given) on a card the bot
        posted (for a ShowCard form, fill in `inputs` and press its submit)."""
        content = card.card
        assert content is not None, card.text[:300]
        action = find_action(content, title, choice)
        assert action is not None, f"no button {title!r} in {json.dumps(content)[:1500]}"
        if action["type"] == "Action.ShowCard":
            action = action["card"]["actions"][0]
        value = {**action["data"], **(inputs or {})}
        conversation = card.conversation
        if conversation.startswith("19:") and ";messageid=" not in conversation:
            conversation = f"{conversation};messageid={card.answered_id}"
        kind = "channel" if conversation.startswith("19:") else "personal"
        self.send(self.activity(user, tenant, conversation, kind=kind, value=value,
                                reply_to=card.answered_id))

    def summary(self, conversation: str, answer: Callable[[str], None],
                timeout: float = 15.0) -> Call:
        """The summary before a case opens. A question may first be offered articles: that
        offer is answered "no" with `answer` (for scripts about something else)."""
        deadline = time.monotonic() + timeout
        declined = False
        while time.monotonic() < deadline:
            calls = self.fake.of(conversation=conversation)
            for call in reversed(calls):
                if "Please check" in call.text:
                    return call
            if not declined and any(OFFER in c.text for c in calls):
                answer("no")
                declined = True
            time.sleep(0.03)
        return self.fake.wait("Please check", conversation, timeout=0.1)

    def install(self, tenant: str, conversation: str, kind: str = "channel") -> None:
        """The bot is added to a team (Teams sends a conversationUpdate)."""
        activity = self.activity("29:admin", tenant, conversation, kind=kind)
        activity.update({"type": "conversationUpdate",
                         "membersAdded": [{"id": BOT_ID, "name": BOT_NAME}]})
        self.send(activity)


OFFER = "answer it?"  # "Did one of these answer it?": articles offered before filing


def find_action(element: Any, title: str, choice: str | None = None) -> dict[str, Any] | None:
    """The first button titled `title` (and, when given, posting back `choice`)."""
    if isinstance(element, dict):
        if element.get("type", "").startswith("Action.") and element.get("title") == title \
                and (choice is None or element.get("data", {}).get("choice") == choice):
            return element
        for value in element.values():
            found = find_action(value, title, choice)
            if found is not None:
                return found
    elif isinstance(element, list):
        for value in element:
            found = find_action(value, title, choice)
            if found is not None:
                return found
    return None
