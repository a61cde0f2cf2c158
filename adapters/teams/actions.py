"""What travels inside Teams between a rendered card and the click or submission that follows.

Every button is an ``Action.Submit`` whose ``data`` is a `SubmitData` (a neutral choice id, or
the id of the form being submitted) plus the form's hidden fields. Teams sends it back as a
message activity whose ``value`` is that ``data`` merged with each input's value keyed by the
input's id — so input ids (the form's field ids) must not be one of `RESERVED`.

Cards live on in old conversations for months, so this shape is a compatibility contract: add
optional fields only, never rename. Anything that does not decode raises `TeamsPayloadError`
with a message saying what was wrong, never a pydantic or JSON error.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from adapters.errors import TeamsPayloadError, first_error, shown

# Keys of a submission's `value` that are ours (or Teams') rather than form field values.
RESERVED = frozenset({"v", "choice", "form", "msteams"})
MESSAGE_ACTION_ID = "fileSupportCase"  # the message extension action command (manifest.json)


class ActionStyle(StrEnum):
    """Adaptive Card action styles Teams renders."""

    DEFAULT = "default"
    POSITIVE = "positive"


class SubmitData(BaseModel):
    """The ``data`` of an Action.Submit: a choice id, or the form being submitted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: Literal[1] = 1
    choice: str | None = Field(default=None, min_length=1, max_length=1000)
    form: str | None = Field(default=None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _one_target(self) -> SubmitData:
        if (self.choice is None) == (self.form is None):
            raise ValueError("give exactly one of choice or form")
        return self


def submit_data(target: SubmitData, hidden: dict[str, str] | None = None) -> dict[str, Any]:
    """The ``data`` dict of an Action.Submit: the target and the hidden fields."""
    data: dict[str, Any] = {k: v for k, v in (hidden or {}).items() if k not in RESERVED}
    data.update(target.model_dump(exclude_none=True))
    return data


def decode_submission(value: object) -> tuple[SubmitData, dict[str, str]]:
    """A submission's ``value`` → (what was pressed, the form values incl. hidden fields)."""
    if not isinstance(value, dict):
        raise TeamsPayloadError(f"the submission value is not an object (got {shown(value)})")
    ours = {k: value[k] for k in ("v", "choice", "form") if k in value}
    if not ours:
        raise TeamsPayloadError("the submission carries neither a choice nor a form: it was "
                                "not sent by a Frontdoor card")
    try:
        target = SubmitData.model_validate(ours)
    except ValidationError as exc:
        raise TeamsPayloadError(f"the submission {shown(ours)} is not Frontdoor card data: "
                                f"{first_error(exc)}") from None
    values: dict[str, str] = {}
    for key, raw in value.items():
        if key in RESERVED or not isinstance(key, str):
            continue
        if isinstance(raw, bool):
            values[key] = "true" if raw else "false"
        elif isinstance(raw, (str, int, float)):
            values[key] = str(raw)[:4000]
    return target, values

