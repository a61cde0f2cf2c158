"""Slack payloads → neutral values (pure).

Each function takes a dict as bolt hands it to a listener (``body``, ``event``, ``view``,
or the whole Events API envelope) and returns plain strings: the text a person typed, the
neutral choice id a button stands for, the values of a submitted form, where it happened,
and which organisation the speaker belongs to. No network, no bolt objects. Anything that
is not what Frontdoor rendered or Slack documents raises `SlackPayloadError` with a message
saying what was wrong.

Threads (``where_of``): in a channel a conversation is a thread, so a top-level message
starts one at its own ``ts``. In a direct message (channel ``D…`` / ``channel_type: im``)
top-level messages are one conversation (thread None) and only a real thread is a thread;
an ephemeral message has no ``ts`` one can thread on, so a click on one keeps the thread it
was posted in (or None).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from adapters.errors import SlackPayloadError
from adapters.slack.actions import (
    INPUT_ACTION_ID,
    VIEW_CALLBACK_ID,
    ActionId,
    ButtonValue,
    ModalMetadata,
    decode_button_value,
    decode_metadata,
    parse_action_id,
)

_TOKEN = re.compile(r"<([^<>\n]*)>")


class Where(NamedTuple):
    """The Slack conversation of a payload: channel id and thread ts (None: no thread).

    `channel` is None for surfaces without a conversation: the App Home, a global shortcut,
    a button inside a modal.
    """

    channel: str | None
    thread: str | None


class BlockAction(NamedTuple):
    kind: ActionId
    value: ButtonValue


# ---- text ------------------------------------------------------------------------------------


def text_of_message_event(event: Mapping[str, Any], bot_user_id: str | None) -> str:
    """What the person typed: the bot's mention removed, Slack's markup made readable.

    ``<@U123>`` → ``@U123``, ``<#C1|general>`` → ``#general``, ``<!here>`` → ``@here``,
    ``<https://x|label>`` → ``label (https://x)``, ``<mailto:a@b|a@b>`` → ``a@b``, and
    ``&lt; &gt; &amp;`` → ``< > &``. Accepts the event or the whole envelope; an edited
    message (``message_changed``) gives the new text.
    """
    ev = _event_of(_mapping(event, "the event"))
    if ev.get("subtype") == "message_changed" and isinstance(ev.get("message"), Mapping):
        ev = ev["message"]
    text = ev.get("text")
    if text is None:
        return ""
    if not isinstance(text, str):
        raise SlackPayloadError(f"the message text is a {type(text).__name__}, not a string")
    if bot_user_id:
        text = re.sub(rf"[ \t]*<@{re.escape(bot_user_id)}(?:\|[^>]*)?>[ \t]*", " ", text)
    text = _TOKEN.sub(_readable, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def _readable(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return "@" + (label.lstrip("@") or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        if label:
            return label
        word = target[1:].split("^", 1)[0]
        return f"@{word}" if word in {"here", "channel", "everyone"} else word
    if target.startswith("mailto:"):
        return label or target[len("mailto:"):]
    if label and label != target:
        return f"{label} ({target})"
    return target


# ---- clicks ----------------------------------------------------------------------------------


def block_action_of(body: Mapping[str, Any]) -> BlockAction:
    """The kind and decoded value of the (first) action of a ``block_actions`` payload."""
    body = _mapping(body, "the block_actions payload")
    if body.get("type") not in (None, "block_actions"):
        raise SlackPayloadError(f"expected a block_actions payload, got type "
                                f"{body.get('type')!r}")
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        raise SlackPayloadError("the block_actions payload has no actions")
    action = _mapping(actions[0], "the action")
    kind = parse_action_id(action.get("action_id"))
    raw = action.get("value")
    selected = action.get("selected_option")
    if raw is None and isinstance(selected, Mapping):
        raw = selected.get("value")
    return BlockAction(kind, decode_button_value(raw))


def choice_of_block_action(body: Mapping[str, Any]) -> tuple[str, str | None]:
    """(neutral choice id, case id or None) of a click on a choice or case button.

    A click on the "fill in the form" button is not a choice: it raises SlackPayloadError;
    handle `ActionId.OPEN_FORM` with `form_id_of_block_action`.
    """
    kind, value = block_action_of(body)
    if kind is ActionId.OPEN_FORM or value.choice is None:
        raise SlackPayloadError("this button opens a form; it is not a choice "
                                "(use form_id_of_block_action)")
    if kind is ActionId.CASE and value.case is None:
        raise SlackPayloadError(f"the case button {value.choice!r} names no case")
    return value.choice, value.case


def form_id_of_block_action(body: Mapping[str, Any]) -> str:
    """The form id a "fill in the form" click asks for."""
    kind, value = block_action_of(body)
    if kind is not ActionId.OPEN_FORM or value.form is None:
        raise SlackPayloadError(f"a {kind.value} button does not open a form")
    return value.form


# ---- forms -----------------------------------------------------------------------------------


def metadata_of_view(view: Mapping[str, Any]) -> ModalMetadata:
    """The `ModalMetadata` of one of our modals (the view, or the view_submission body)."""
    v = _view_of(view)
    callback = v.get("callback_id")
    if callback is not None and callback != VIEW_CALLBACK_ID:
        raise SlackPayloadError(f"the view {callback!r} is not a Frontdoor form")
    return decode_metadata(v.get("private_metadata"))


def form_values_of_view(view: Mapping[str, Any]) -> dict[str, str]:
    """Field id → submitted value of one of our modals, hidden fields included.

    A select gives its option's value, a text input its text; an empty input is "". The
    hidden fields (``_action``, ``_case``) come from the metadata and win over the state.
    """
    v = _view_of(view)
    metadata = metadata_of_view(v)
    out: dict[str, str] = {}
    blocks = v.get("blocks")
    if isinstance(blocks, list):
        for block in blocks:
            if isinstance(block, Mapping) and block.get("type") == "input" \
                    and isinstance(block.get("block_id"), str):
                out[block["block_id"]] = ""
    state = v.get("state")
    values = _mapping(state, "view.state").get("values") if state is not None else None
    values = {} if values is None else values
    for block_id, actions in _mapping(values, "view.state.values").items():
        actions = _mapping(actions, f"the state of {block_id!r}")
        action = actions.get(INPUT_ACTION_ID)
        if action is None and actions:
            action = next(iter(actions.values()))
        out[str(block_id)] = _input_value(action, str(block_id))
    out.update(metadata.hidden)
    return out


_SELECTED = {"selected_date", "selected_time", "selected_date_time", "selected_user",
             "selected_conversation", "selected_channel"}


def _input_value(action: object, block_id: str) -> str:
    if action is None:
        return ""
    state = _mapping(action, f"the state of {block_id!r}")
    option = state.get("selected_option")
    if option is not None:
        return _text(_mapping(option, f"the option of {block_id!r}").get("value"), block_id)
    options = state.get("selected_options")
    if isinstance(options, list):
        return ",".join(_text(_mapping(o, f"an option of {block_id!r}").get("value"), block_id)
                        for o in options)
    for key in _SELECTED:
        if key in state:
            return _text(state[key], block_id)
    return _text(state.get("value"), block_id)


def _text(value: object, block_id: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise SlackPayloadError(f"the value of {block_id!r} is a {type(value).__name__}, "
                            "not text")


def _view_of(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    payload = _mapping(payload, "the view")
    inner = payload.get("view")
    if isinstance(inner, Mapping) and payload.get("type") in {"view_submission",
                                                               "view_closed", None}:
        return inner
    return payload


# ---- where and who ---------------------------------------------------------------------------


def where_of(payload: Mapping[str, Any]) -> Where:
    """The conversation of an event, a click, a shortcut, a slash command or a submission."""
    p = _mapping(payload, "the payload")
    kind = p.get("type")
    if kind in {"view_submission", "view_closed"}:
        metadata = metadata_of_view(p)
        return Where(metadata.channel, metadata.thread)
    if kind == "block_actions":
        return _where_of_click(p)
    if kind == "message_action":
        channel = _channel(p)
        if channel is None:
            raise SlackPayloadError("the message shortcut has no channel")
        message = p.get("message")
        message = message if isinstance(message, Mapping) else {}
        thread = _opt(message.get("thread_ts"), "message.thread_ts")
        if thread is None and not _is_dm(p, channel):
            thread = _opt(message.get("ts") or p.get("message_ts"), "message.ts")
        return Where(channel, thread)
    if kind == "shortcut":
        return Where(None, None)
    if "command" in p:
        channel = _opt(p.get("channel_id"), "channel_id")
        if channel is None:
            raise SlackPayloadError("the slash command has no channel_id")
        return Where(channel, None)
    return _where_of_event(_event_of(p))


def _where_of_click(p: Mapping[str, Any]) -> Where:
    container = p.get("container")
    container = container if isinstance(container, Mapping) else {}
    if container.get("type") == "view" or (not container and isinstance(p.get("view"),
                                                                        Mapping)):
        return Where(None, None)
    channel = _opt(container.get("channel_id"), "container.channel_id") or _channel(p)
    if channel is None:
        raise SlackPayloadError("the block action has neither a channel nor a view")
    message = p.get("message")
    message = message if isinstance(message, Mapping) else {}
    thread = _opt(message.get("thread_ts") or container.get("thread_ts"), "thread_ts")
    if thread is None and not _is_dm(p, channel) and not container.get("is_ephemeral"):
        thread = _opt(message.get("ts") or container.get("message_ts"), "message_ts")
    return Where(channel, thread)


def _where_of_event(ev: Mapping[str, Any]) -> Where:
    kind = ev.get("type")
    if kind in {"reaction_added", "reaction_removed"}:
        item = _mapping(ev.get("item"), "the reaction's item")
        channel = _opt(item.get("channel"), "item.channel")
        if channel is None:
            raise SlackPayloadError("the reaction's item has no channel")
        return Where(channel, _opt(item.get("ts"), "item.ts"))
    channel = _channel(ev)
    if channel is None:
        raise SlackPayloadError(f"the {kind or 'untyped'} event has no channel")
    message = ev
    if ev.get("subtype") == "message_changed" and isinstance(ev.get("message"), Mapping):
        message = ev["message"]
    thread = _opt(message.get("thread_ts"), "thread_ts")
    if thread is None and kind in {"message", "app_mention"} and not _is_dm(ev, channel):
        thread = _opt(message.get("ts") or ev.get("ts"), "ts")
    return Where(channel, thread)


def speaker_team(payload: Mapping[str, Any]) -> str | None:
    """The Slack team (or Enterprise Grid org, ``E…``) of the person who spoke or clicked.

    In a Slack Connect channel an event's envelope names the channel's side; the sender's
    own side is ``event.user_team`` (then ``user_profile.team``, ``source_team``, ``team``).
    For an ext-shared event that names none of these we answer None rather than guess. For
    clicks, shortcuts and submissions it is ``user.team_id``; for slash commands ``team_id``.
    """
    p = _mapping(payload, "the payload")
    if isinstance(p.get("event"), Mapping):
        team = _event_team(p["event"])
        if team is not None:
            return team
        if p.get("is_ext_shared_channel") is True:
            return None
        return _opt(p.get("team_id"), "team_id")
    user = p.get("user")
    if isinstance(user, Mapping):
        team = _opt(user.get("team_id"), "user.team_id")
        if team is None and isinstance(p.get("team"), Mapping):
            team = _opt(p["team"].get("id"), "team.id")
        return team
    if "command" in p or "user_id" in p:
        return _opt(p.get("team_id"), "team_id")
    return _event_team(p)


def _event_team(ev: Mapping[str, Any]) -> str | None:
    if ev.get("subtype") == "message_changed" and isinstance(ev.get("message"), Mapping):
        ev = ev["message"]
    profile = ev.get("user_profile")
    profile_team = profile.get("team") if isinstance(profile, Mapping) else None
    for value in (ev.get("user_team"), profile_team, ev.get("source_team"), ev.get("team")):
        if isinstance(value, str) and value:
            return value
    return None


# ---- helpers ---------------------------------------------------------------------------------


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SlackPayloadError(f"{what} is {'missing' if value is None else 'not an object'}")
    return value


def _event_of(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = payload.get("event")
    return inner if isinstance(inner, Mapping) else payload


def _opt(value: object, what: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SlackPayloadError(f"{what} is a {type(value).__name__}, not a string")
    return value


def _channel(p: Mapping[str, Any]) -> str | None:
    channel = p.get("channel")
    if isinstance(channel, Mapping):
        return _opt(channel.get("id"), "channel.id")
    if channel is not None:
        return _opt(channel, "channel")
    return _opt(p.get("channel_id"), "channel_id")


def _is_dm(p: Mapping[str, Any], channel: str) -> bool:
    info = p.get("channel")
    return (channel.startswith("D") or p.get("channel_type") == "im"
            or (isinstance(info, Mapping) and info.get("name") == "directmessage"))
