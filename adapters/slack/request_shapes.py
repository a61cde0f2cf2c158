"""What a Slack request must look like before anything of ours, or bolt, works on it (pure).

`POST /slack/events` takes events (JSON), interactions (a form with a JSON ``payload``) and the
slash command (a form). Bolt parses a body before it verifies it, reads it with ``dict.get``
chains that assume Slack's types, and answers 500 when they are not there (a view without a
``type``, a ``team`` that is a list …). So, after the signature (adapters/slack/app.py):

- the signature is checked over the bytes as sent, its headers strictly (`signed`: the
  timestamp is at most 12 ASCII digits, the signature ``v0=`` and 64 hex digits);
- the body is UTF-8 and its JSON bounded, text without lone surrogates or control characters
  (adapters/http_guard.py);
- an interaction is one of the kinds Frontdoor answers (``block_actions``,
  ``view_submission``, ``message_action``), and matches its model below field by field;
  bolt is then given that model, re-serialised (`SlackRequest.for_bolt`), never the body
  as sent: whatever bolt reads has the type it expects, and nothing else is there;
- the slash command likewise keeps only its documented fields, each text.

Anything else raises `SlackPayloadError` (or `HostileInputError`), answered 400. The models
allow what Slack adds over time (unknown fields are dropped, not refused).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from adapters.errors import SlackPayloadError, first_error
from adapters.http_guard import check_strings, check_text, decode, parse_json

TIMESTAMP_DIGITS_MAX = 12
SIGNATURE_WINDOW_SECONDS = 300  # Slack's: a request signed longer ago (or ahead) is refused
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
FORM = "application/x-www-form-urlencoded"
RequestKind = Literal["event", "url_verification", "ignored", "interaction", "command"]

Id = Annotated[str, StringConstraints(min_length=1, max_length=255)]
# Slack's object ids (users, teams, channels, views, apps) and message timestamps.
SlackId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Ts = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}(\.[0-9]{1,9})?$")]
Short = Annotated[str, StringConstraints(max_length=3000)]


def signed(secret: bytes, raw: bytes, timestamp: str, signature: str, now: float) -> bool:
    """Whether a request is Slack's: the signing headers well formed (a timestamp of 1–12
    ASCII digits within `SIGNATURE_WINDOW_SECONDS` of `now`, either way; a signature of
    ``v0=`` and 64 lower-case hex digits) and the signature the HMAC-SHA256 of
    ``v0:{timestamp}:{body}`` with the signing secret — over the body's bytes as sent, whatever
    they are. (slack_sdk's verifier decodes the body as UTF-8 and calls int() on the
    timestamp first: a non-UTF-8 body, a non-ASCII digit or 4,000 of them raised there.)"""
    if not (0 < len(timestamp) <= TIMESTAMP_DIGITS_MAX and timestamp.isascii()
            and timestamp.isdigit() and _SIGNATURE.fullmatch(signature)):
        return False
    if abs(now - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
        return False
    expected = hmac.new(secret, b"v0:" + timestamp.encode() + b":" + raw,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={expected}", signature)


class _Shape(BaseModel):
    """Strict types (no coercion); fields Slack adds that Frontdoor doesn't read are dropped."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class _Team(_Shape):
    id: SlackId | None = None
    domain: Short | None = None
    enterprise_id: SlackId | None = None


class _User(_Shape):
    id: SlackId
    team_id: SlackId | None = None
    name: Short | None = None
    username: Short | None = None


class _Channel(_Shape):
    id: SlackId
    name: Short | None = None


class _Container(_Shape):
    type: Id | None = None
    channel_id: SlackId | None = None
    message_ts: Ts | None = None
    thread_ts: Ts | None = None
    view_id: SlackId | None = None
    is_ephemeral: bool | None = None


class _Message(_Shape):
    type: Id | None = None
    subtype: Id | None = None
    text: str | None = None
    ts: Ts | None = None
    thread_ts: Ts | None = None
    user: SlackId | None = None
    bot_id: SlackId | None = None
    team: SlackId | None = None


class _Option(_Shape):
    value: Short


class _Action(_Shape):
    action_id: Id
    block_id: Id | None = None
    type: Id | None = None
    value: Short | None = None
    selected_option: _Option | None = None
    action_ts: Id | None = None


class _State(_Shape):
    values: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)


class _View(_Shape):
    type: Id
    id: SlackId | None = None
    team_id: SlackId | None = None
    app_installed_team_id: SlackId | None = None
    callback_id: Short | None = None
    private_metadata: Short | None = None
    hash: Id | None = None
    root_view_id: SlackId | None = None
    previous_view_id: SlackId | None = None
    state: _State | None = None
    blocks: list[dict[str, Any]] = Field(default_factory=list)


class _Interaction(_Shape):
    user: _User
    team: _Team | None = None
    enterprise: _Team | None = None
    is_enterprise_install: bool | None = None
    api_app_id: SlackId | None = None
    token: Short | None = None
    trigger_id: Id | None = None
    response_url: Short | None = None
    channel: _Channel | None = None


class BlockActions(_Interaction):
    type: Literal["block_actions"]
    actions: list[_Action] = Field(min_length=1, max_length=1)
    container: _Container | None = None
    message: _Message | None = None
    view: _View | None = None


class ViewSubmission(_Interaction):
    type: Literal["view_submission"]
    view: _View


class MessageAction(_Interaction):
    type: Literal["message_action"]
    callback_id: Id
    message: _Message | None = None
    message_ts: Ts | None = None


class _Item(_Shape):
    type: Id | None = None
    channel: SlackId | None = None
    ts: Ts | None = None


class _Profile(_Shape):
    team: SlackId | None = None


class _Event(_Shape):
    """The fields of an event the front door reads (events skip bolt: see adapters/slack/
    inbound.py)."""

    type: Id
    subtype: Id | None = None
    user: SlackId | None = None
    bot_id: SlackId | None = None
    team: SlackId | None = None
    user_team: SlackId | None = None
    source_team: SlackId | None = None
    user_profile: _Profile | None = None
    channel: SlackId | None = None
    channel_type: Id | None = None
    text: str | None = None
    ts: Ts | None = None
    thread_ts: Ts | None = None
    event_ts: Ts | None = None
    tab: Id | None = None
    reaction: Id | None = None
    item: _Item | None = None
    item_user: SlackId | None = None


class EventCallback(_Shape):
    type: Literal["event_callback"]
    event: _Event
    event_id: SlackId | None = None
    event_time: int | None = None
    team_id: SlackId | None = None
    api_app_id: SlackId | None = None
    is_ext_shared_channel: bool | None = None
    context_team_id: SlackId | None = None


Interaction = Annotated[BlockActions | ViewSubmission | MessageAction,
                        Field(discriminator="type")]
_INTERACTION: TypeAdapter[BlockActions | ViewSubmission | MessageAction] = \
    TypeAdapter(Interaction)
INTERACTION_KINDS = ("block_actions", "view_submission", "message_action")

# The slash command's documented fields (a form; each value text).
COMMAND_FIELDS = ("token", "team_id", "team_domain", "enterprise_id", "enterprise_name",
                  "channel_id", "channel_name", "user_id", "user_name", "command", "text",
                  "api_app_id", "is_enterprise_install", "response_url", "trigger_id")
_COMMAND_REQUIRED = ("command", "user_id", "channel_id")
# JSON bodies Slack sends that are no event and need no listener.
_IGNORED_JSON = frozenset({"app_rate_limited"})


@dataclass(frozen=True, slots=True)
class SlackRequest:
    """A checked Slack request: what it is, its parsed content, and (interactions and the
    slash command) the body bolt is given instead of the one sent."""

    kind: RequestKind
    content: dict[str, Any]
    for_bolt: str = ""


def parse_request(raw: bytes, content_type: str) -> SlackRequest:
    """The checked request a signed body is; SlackPayloadError / HostileInputError (both
    PayloadErrors) for anything Frontdoor doesn't take."""
    if "application/json" in content_type:
        return _json_request(parse_json(raw, "the Slack request body"))
    if FORM not in content_type:
        raise SlackPayloadError(f"a Slack request is JSON or a form, not {content_type[:60]!r}")
    pairs = _form(decode(raw, "the Slack request body"))
    if "payload" in pairs:
        return _interaction(parse_json(pairs["payload"], "the Slack interaction payload"))
    if "ssl_check" in pairs:
        return SlackRequest("ignored", {})
    if "command" in pairs:
        return _command(pairs)
    raise SlackPayloadError("the form is neither an interaction (payload=…) nor a slash "
                            "command (command=…)")


def _form(text: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True,
                          errors="strict", max_num_fields=64)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SlackPayloadError(f"the form is not url-encoded text: {str(exc)[:80]}") from None
    out: dict[str, str] = {}
    for key, value in pairs:
        if key in out:
            raise SlackPayloadError(f"the form names {key[:40]!r} twice")
        out[check_text(key, "a form field name")] = check_text(value, f"the form's {key[:40]}")
    return out


def _json_request(body: Any) -> SlackRequest:
    if not isinstance(body, dict):
        raise SlackPayloadError("the JSON body is not an object")
    kind = body.get("type")
    if kind == "event_callback":
        try:
            event = EventCallback.model_validate(body)
        except ValidationError as exc:
            raise SlackPayloadError(f"the event is not what Slack sends: "
                                    f"{first_error(exc)}") from None
        return SlackRequest("event", event.model_dump(mode="json", exclude_none=True))
    if kind == "url_verification":
        challenge = body.get("challenge")
        if not isinstance(challenge, str) or not 0 < len(challenge) <= 255:
            raise SlackPayloadError("the url_verification request has no challenge")
        return SlackRequest("url_verification", {"challenge": challenge})
    if isinstance(kind, str) and kind in _IGNORED_JSON:
        return SlackRequest("ignored", body)
    raise SlackPayloadError(f"a JSON body of type {str(kind)[:40]!r} is not one Frontdoor "
                            "takes (event_callback, url_verification)")


def check_interaction(payload: Any) -> SlackRequest:
    """An interaction payload (parsed), checked as over HTTP: Socket Mode's way in."""
    check_strings(payload, "the Slack interaction payload")
    return _interaction(payload)


def check_command(fields: Any) -> SlackRequest:
    """A slash command's fields (parsed), checked as over HTTP: Socket Mode's way in."""
    if not isinstance(fields, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in fields.items()):
        raise SlackPayloadError("the slash command's fields are not text")
    check_strings(fields, "the slash command")
    return _command(fields)


def _interaction(payload: Any) -> SlackRequest:
    if not isinstance(payload, dict):
        raise SlackPayloadError("the interaction payload is not an object")
    kind = payload.get("type")
    if not isinstance(kind, str) or kind not in INTERACTION_KINDS:
        raise SlackPayloadError(f"an interaction of type {str(kind)[:40]!r} is not one "
                                f"Frontdoor answers ({', '.join(INTERACTION_KINDS)})")
    try:
        checked = _INTERACTION.validate_python(payload)
    except ValidationError as exc:
        raise SlackPayloadError(f"the {kind} payload is not what Slack sends: "
                                f"{first_error(exc)}") from None
    content = checked.model_dump(mode="json", exclude_none=True)
    return SlackRequest("interaction", content,
                        urlencode({"payload": json.dumps(content, ensure_ascii=False)}))


def _command(pairs: dict[str, str]) -> SlackRequest:
    missing = [name for name in _COMMAND_REQUIRED if not pairs.get(name)]
    if missing:
        raise SlackPayloadError(f"the slash command has no {', '.join(missing)}")
    content = {name: pairs[name][:4000] for name in COMMAND_FIELDS if name in pairs}
    # bolt takes a form body with "payload" anywhere in it for an interaction (and finds
    # none): keep the word out of the encoded body (%70 decodes back to "p").
    return SlackRequest("command", content,
                        urlencode(content).replace("payload", "%70ayload"))
