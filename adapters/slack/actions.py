"""What travels inside Slack between a render and the click or submission that follows.

Action ids are `ActionId` members (kebab-case) followed by ``:<n>``, because Slack wants the
action ids of one block (we make it one message) to be distinct: ``choice:0``,
``case-action:3``, ``open-form:0``. Register bolt listeners with `action_pattern`.

A button's ``value`` is a `ButtonValue` as JSON and a modal's ``private_metadata`` is a
`ModalMetadata` as JSON: small, frozen, ``extra="forbid"`` pydantic models with a version
field. Buttons live on in old messages for months, so these shapes are a compatibility
contract: add optional fields only, never rename. Anything that does not decode raises
`SlackPayloadError` with a message saying what was wrong, never a pydantic or JSON error.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from adapters.errors import SlackPayloadError, first_error, shown

BUTTON_VALUE_MAX = 2000
PRIVATE_METADATA_MAX = 3000
ACTION_ID_MAX = 255
VIEW_CALLBACK_ID = "frontdoor-form"
INPUT_ACTION_ID = "value"  # the action id of every input element in our modals

_SLACK_TS = r"^\d{1,12}(\.\d{1,9})?$"
_SLACK_ID = r"^[A-Za-z0-9_-]{1,64}$"


class ActionId(StrEnum):
    """Kinds of interactive elements Frontdoor puts in Slack messages."""

    CHOICE = "choice"  # an intake choice or a navigation button ("cmd:back")
    CASE = "case-action"  # a button acting on a case ("case:acknowledge:ACME-4")
    OPEN_FORM = "open-form"  # opens the reply's form as a modal


def action_id_for(kind: ActionId, index: int) -> str:
    """The action id of the `index`-th element of `kind` in a message: ``choice:3``."""
    return f"{kind.value}:{index}"


def action_pattern(kind: ActionId) -> re.Pattern[str]:
    """A pattern matching every action id of `kind`, for ``app.action(...)`` in bolt."""
    return re.compile(rf"^{re.escape(kind.value)}(:\d{{1,9}})?$")


def parse_action_id(action_id: object) -> ActionId:
    """The kind of an action id Frontdoor rendered; anything else is a SlackPayloadError."""
    if not isinstance(action_id, str) or not action_id:
        raise SlackPayloadError(f"the action has no action_id (got {action_id!r})")
    for kind in ActionId:
        if action_pattern(kind).match(action_id):
            return kind
    raise SlackPayloadError(f"{shown(action_id)} is not an action id Frontdoor renders "
                            f"(expected one of {', '.join(k.value for k in ActionId)})")


class ButtonValue(BaseModel):
    """The value of a button: the neutral choice id it stands for, or the form it opens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: Literal[1] = 1
    choice: str | None = Field(default=None, min_length=1, max_length=1000)
    case: str | None = Field(default=None, min_length=1, max_length=100)
    form: str | None = Field(default=None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _one_target(self) -> ButtonValue:
        if (self.choice is None) == (self.form is None):
            raise ValueError("give exactly one of choice or form")
        return self


class ModalMetadata(BaseModel):
    """A modal's context: which form it shows and the conversation its answer goes back to.

    `hidden` carries the form's hidden fields (``_action``, ``_case``), which are not rendered.
    `channel` is None when the modal was opened from a surface without a conversation (the
    App Home); the wiring then answers in the person's DM.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: Literal[1] = 1
    form: str = Field(min_length=1, max_length=1000)
    channel: str | None = Field(default=None, pattern=_SLACK_ID)
    thread: str | None = Field(default=None, pattern=_SLACK_TS)
    case: str | None = Field(default=None, min_length=1, max_length=100)
    hidden: dict[str, str] = Field(default_factory=dict)


def encode_button_value(value: ButtonValue) -> str:
    raw = value.model_dump_json(exclude_none=True)
    if len(raw) > BUTTON_VALUE_MAX:
        raise SlackPayloadError(f"a button value is {len(raw)} characters; Slack allows "
                                f"{BUTTON_VALUE_MAX}")
    return raw


def decode_button_value(raw: object) -> ButtonValue:
    if not isinstance(raw, str) or not raw:
        raise SlackPayloadError(f"the button has no value (got {shown(raw)})")
    if len(raw) > BUTTON_VALUE_MAX:
        raise SlackPayloadError(f"the button value is {len(raw)} characters, more than "
                                f"Slack's {BUTTON_VALUE_MAX}: not one of ours")
    try:
        return ButtonValue.model_validate_json(raw)
    except ValidationError as exc:
        raise SlackPayloadError(f"the button value {shown(raw)} is not a Frontdoor button "
                                f"value: {first_error(exc)}") from None


def encode_metadata(metadata: ModalMetadata) -> str:
    raw = metadata.model_dump_json(exclude_none=True)
    if len(raw) > PRIVATE_METADATA_MAX:
        raise SlackPayloadError(f"the modal metadata is {len(raw)} characters; Slack allows "
                                f"{PRIVATE_METADATA_MAX}")
    return raw


def decode_metadata(raw: object) -> ModalMetadata:
    if not isinstance(raw, str) or not raw:
        raise SlackPayloadError("the view has no private_metadata: it was not opened by "
                                "Frontdoor")
    if len(raw) > PRIVATE_METADATA_MAX:
        raise SlackPayloadError(f"the view's private_metadata is {len(raw)} characters, more "
                                f"than Slack's {PRIVATE_METADATA_MAX}: not one of ours")
    try:
        return ModalMetadata.model_validate_json(raw)
    except ValidationError as exc:
        raise SlackPayloadError(f"the view's private_metadata {shown(raw)} is not Frontdoor "
                                f"modal metadata: {first_error(exc)}") from None

