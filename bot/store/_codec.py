"""What both backends share: how records and states become text, and instants become order.

Kept in one place so SQLite and Redis read and write the very same JSON, and a case listed
by one sorts exactly as it would by the other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.errors import StoreError
from bot.records import CaseEventRecord

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

R = TypeVar("R", bound=BaseModel)


def epoch_micros(at: datetime, field: str) -> int:
    """Microseconds since the epoch: exact, and sorts across UTC offsets (ISO text doesn't)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise StoreError(f"{field} must be a timezone-aware datetime, got naive {at.isoformat()}")
    return (at - _EPOCH) // timedelta(microseconds=1)


def dump_state(state: dict[str, Any]) -> str:
    """Conversation state as JSON; refuse what would not come back the same."""
    try:
        return json.dumps(state, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"conversation state is not plain JSON: {exc}") from exc


def load_state(text: str | bytes, key: str) -> dict[str, Any]:
    try:
        state = json.loads(text)
    except ValueError as exc:
        raise StoreError(f"the stored state of conversation {key!r} is unreadable: {exc}") from exc
    if not isinstance(state, dict):
        raise StoreError(f"the stored state of conversation {key!r} is not a JSON object")
    return state


def parse(model: type[R], text: str | bytes) -> R:
    """Validate stored JSON; a record that no longer parses is a corrupt store, said plainly."""
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise StoreError(f"a stored {model.__name__} is unreadable: {exc}") from exc


def own_events(case_id: str, events: Iterable[CaseEventRecord]) -> list[CaseEventRecord]:
    """The events to append, refusing one that names another case (a caller's mix-up)."""
    pending = list(events)
    for event in pending:
        if event.case_id != case_id:
            raise StoreError(f"an event of case {event.case_id} cannot be added to case {case_id}")
    return pending
