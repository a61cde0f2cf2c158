"""Bot Framework activity (a JSON dict, as Teams sends it) → neutral values (pure).

- Who: the sender's Teams ids (``from.aadObjectId`` first, then ``from.id``) and name.
- Where: the conversation, split into the channel and its thread for channel conversations
  (``19:…@thread.tacv2;messageid=1700000000000`` is the thread of that root message), the
  kind of conversation (personal, channel, groupChat), the tenant and the service URL.
- What: the typed text with the bot's ``<at>…</at>`` mention stripped (other mentions keep
  the name), or what an ``Action.Submit`` sent (a choice, or a form's values), or a message
  extension action (the message to turn into a case).

Nothing here decides anything; malformed input raises `TeamsPayloadError`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any, Literal

from adapters.errors import TeamsPayloadError
from adapters.teams.actions import MESSAGE_ACTION_ID, decode_submission

ConversationType = Literal["personal", "channel", "groupChat"]
_THREAD = re.compile(r"^(?P<base>[^;]+);messageid=(?P<thread>[^;]+)$")
_AT = re.compile(r"<at>(.*?)</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]{1,200}>")
_SPACES = re.compile(r"[ \t\u00a0]+")


@dataclass(frozen=True, slots=True)
class Speaker:
    ids: tuple[str, ...]  # the ids to look the person up by, best first
    name: str


@dataclass(frozen=True, slots=True)
class Where:
    conversation: str  # the conversation (for a channel: the channel, without the thread)
    thread: str | None  # a channel thread's root message id
    kind: ConversationType
    tenant: str | None
    service_url: str | None
    team: str | None = None

    @property
    def conversation_id(self) -> str:
        """The id to post into, so that a reply lands in the same thread."""
        return thread_conversation_id(self.conversation, self.thread)

    @property
    def is_group(self) -> bool:
        return self.kind != "personal"


@dataclass(frozen=True, slots=True)
class Said:
    """What the person did: typed `text`, pressed a `choice`, or submitted a `form`."""

    text: str | None = None
    choice: str | None = None
    form: dict[str, str] | None = None
    form_id: str | None = None
    reply_to: str | None = None  # the card (activity id) a button was pressed on


@dataclass(frozen=True, slots=True)
class MessageAction:
    """A message extension action on a message ("File a support case")."""

    command_id: str
    text: str
    link: str | None
    message_id: str | None


def split_conversation_id(conversation_id: str) -> tuple[str, str | None]:
    """``19:x@thread.tacv2;messageid=1`` → (``19:x@thread.tacv2``, ``1``)."""
    match = _THREAD.match(conversation_id)
    if match:
        return match.group("base"), match.group("thread")
    return conversation_id, None


def thread_conversation_id(conversation: str, thread: str | None) -> str:
    return f"{conversation};messageid={thread}" if thread else conversation


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def activity_type(activity: dict[str, Any]) -> str:
    kind = _str(activity.get("type"))
    if kind is None:
        raise TeamsPayloadError("the activity has no type")
    return kind


def tenant_of(activity: dict[str, Any]) -> str | None:
    channel_data = _dict(activity.get("channelData"))
    return (_str(_dict(channel_data.get("tenant")).get("id"))
            or _str(_dict(activity.get("conversation")).get("tenantId")))


def where_of(activity: dict[str, Any]) -> Where:
    conversation = _dict(activity.get("conversation"))
    raw_id = _str(conversation.get("id"))
    if raw_id is None:
        raise TeamsPayloadError("the activity has no conversation id")
    base, thread = split_conversation_id(raw_id)
    declared = conversation.get("conversationType")
    kind: ConversationType
    if declared in ("personal", "channel", "groupChat"):
        kind = declared
    elif base.startswith("19:") and thread:
        kind = "channel"
    elif conversation.get("isGroup"):
        kind = "groupChat"
    else:
        kind = "personal"
    team = _str(_dict(_dict(activity.get("channelData")).get("team")).get("id"))
    return Where(conversation=base, thread=thread if kind == "channel" else None, kind=kind,
                 tenant=tenant_of(activity), service_url=_str(activity.get("serviceUrl")),
                 team=team)


def speaker_of(activity: dict[str, Any]) -> Speaker | None:
    sender = _dict(activity.get("from"))
    ids = tuple(i for i in (_str(sender.get("aadObjectId")), _str(sender.get("id"))) if i)
    if not ids:
        return None
    return Speaker(ids=ids, name=_str(sender.get("name")) or "")


def clean_text(text: str, bot_names: tuple[str, ...] = ()) -> str:
    """Message text as typed: the bot's mention removed, other mentions as plain names
    (when the activity names no mention of the bot, every mention is removed), HTML tags
    and entities undone, spaces collapsed."""

    def mention(match: re.Match[str]) -> str:
        name = html.unescape(match.group(1)).strip()
        return "" if not bot_names or name in bot_names else name

    text = _AT.sub(mention, text)
    text = _TAG.sub(" ", text.replace("<br>", "\n").replace("<br/>", "\n"))
    text = html.unescape(text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r", "").split("\n")]
    return "\n".join(line for line in lines if line).strip()


def bot_mention_names(activity: dict[str, Any]) -> tuple[str, ...]:
    """The names under which this activity mentions the bot (its recipient)."""
    recipient = _str(_dict(activity.get("recipient")).get("id"))
    names: list[str] = []
    for entity in activity.get("entities") or []:
        entity = _dict(entity)
        if entity.get("type") != "mention":
            continue
        mentioned = _dict(entity.get("mentioned"))
        if recipient is None or mentioned.get("id") == recipient:
            tag = _str(entity.get("text")) or ""
            inner = _AT.search(tag)
            names.append(html.unescape(inner.group(1)).strip() if inner else
                         (_str(mentioned.get("name")) or ""))
    return tuple(n for n in names if n)


def said_of(activity: dict[str, Any]) -> Said:
    """A message activity: a card submission (``value``) or typed text."""
    reply_to = _str(activity.get("replyToId"))
    value = activity.get("value")
    if value is not None and not (isinstance(value, dict) and not value):
        target, values = decode_submission(value)
        if target.choice is not None:
            return Said(choice=target.choice, reply_to=reply_to)
        return Said(form=values, form_id=target.form, reply_to=reply_to)
    raw = activity.get("text")
    text = clean_text(raw, bot_mention_names(activity)) if isinstance(raw, str) else ""
    return Said(text=text, reply_to=reply_to)


def invoke_name(activity: dict[str, Any]) -> str:
    return _str(activity.get("name")) or ""


def message_action_of(activity: dict[str, Any]) -> MessageAction:
    """``composeExtension/fetchTask`` or ``/submitAction`` on a message: the command and the
    message it was used on."""
    value = _dict(activity.get("value"))
    command = _str(value.get("commandId"))
    if command is None:
        raise TeamsPayloadError("the message extension invoke has no commandId")
    payload = _dict(value.get("messagePayload"))
    body = _dict(payload.get("body"))
    content = _str(body.get("content")) or ""
    text = clean_text(content) if body.get("contentType") == "html" or "<" in content \
        else content.strip()
    return MessageAction(command_id=command, text=text, link=_str(payload.get("linkToMessage")),
                         message_id=_str(payload.get("id")))


def task_submission_of(activity: dict[str, Any]) -> tuple[str | None, dict[str, str]]:
    """``composeExtension/submitAction``: (the form id, the form's values)."""
    value = _dict(activity.get("value"))
    data = value.get("data")
    target, values = decode_submission(data)
    return target.form, values


def is_file_case_action(action: MessageAction) -> bool:
    return action.command_id == MESSAGE_ACTION_ID
