"""What both backends share: how records and states become text, and instants become order.

Kept in one place so SQLite and Redis read the very same JSON (Redis writes it without
defaults, and a case record compressed: see "records as Redis keeps them"), and a case listed
by one sorts exactly as it would by the other.
"""

from __future__ import annotations

import json
import logging
import re
import zlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.errors import StoreError
from bot.records import AttachmentRecord, CaseEventRecord, CaseRecord

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

R = TypeVar("R", bound=BaseModel)


def epoch_micros(at: datetime, field: str) -> int:
    """Microseconds since the epoch: exact, and sorts across UTC offsets (ISO text doesn't)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise StoreError(f"{field} must be a timezone-aware datetime, got naive {at.isoformat()}")
    return (at - _EPOCH) // timedelta(microseconds=1)


def from_epoch_micros(micros: int | str) -> datetime:
    """The aware UTC instant of `epoch_micros` (exact), from an int or the text of one.

    Redis may print a score it returns in exponent form (`1.741e+15`): read it exactly."""
    if isinstance(micros, str):
        try:
            micros = int(micros)
        except ValueError:
            try:
                micros = int(Decimal(micros))
            except (ArithmeticError, ValueError) as exc:
                raise StoreError(f"a stored instant {micros!r} is unreadable") from exc
    return _EPOCH + timedelta(microseconds=micros)


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


# -- records as Redis keeps them (memory is what bounds it) -------------------------------------
#
# Records are written without the fields that hold their default value: a default is part of
# the stored format (change one and what old records meant changes with it; add a field
# instead). Records written in full, as earlier versions did, load the same.


def dump_record(record: BaseModel, exclude: set[str] | None = None) -> str:
    """The record's JSON without its defaults (and without `exclude`)."""
    return record.model_dump_json(exclude_defaults=True, exclude=exclude)


def dump_case(case: CaseRecord) -> bytes:
    """A case record as Redis keeps it: its JSON without defaults, zlib-compressed (about
    half the size: the title repeats the description, the scope verdict the pack's words)."""
    return zlib.compress(dump_record(case).encode(), 6)


def load_case(data: str | bytes) -> CaseRecord:
    """A case record of `dump_case`, or its plain JSON (as stores before compression wrote
    it): JSON starts with `{`, a zlib stream never does."""
    if isinstance(data, bytes) and not data.startswith(b"{"):
        try:
            data = zlib.decompress(data)
        except zlib.error as exc:
            raise StoreError(f"a stored CaseRecord is unreadable: {exc}") from exc
    return parse(CaseRecord, data)


def dump_event(event: CaseEventRecord) -> str:
    """An event as a case list keeps it: its case and seq follow from the key and position."""
    return dump_record(event, exclude={"case_id", "seq"})


def load_event(data: str | bytes, case_id: str, seq: int) -> CaseEventRecord:
    """An event of `dump_event` (or one stored in full) at position `seq` of case_id's list."""
    try:
        fields = json.loads(data)
        if not isinstance(fields, dict):
            raise ValueError("not a JSON object")
        fields.setdefault("case_id", case_id)
        fields.setdefault("seq", seq)
        return CaseEventRecord.model_validate(fields)
    except (ValueError, ValidationError) as exc:
        raise StoreError(f"a stored CaseEventRecord is unreadable: {exc}") from exc


def own_events(case_id: str, events: Iterable[CaseEventRecord]) -> list[CaseEventRecord]:
    """The events to append, refusing one that names another case (a caller's mix-up)."""
    pending = list(events)
    for event in pending:
        if event.case_id != case_id:
            raise StoreError(f"an event of case {event.case_id} cannot be added to case {case_id}")
    return pending


def rewritten_history(case_id: str, history: Sequence[CaseEventRecord]) -> list[CaseEventRecord]:
    """A case's whole history to write back in place: its own events, numbered 1…n."""
    events = own_events(case_id, history)
    for expected, event in enumerate(events, 1):
        if event.seq != expected:
            raise StoreError(f"case {case_id}'s history to rewrite has seq {event.seq} where "
                             f"{expected} belongs: read it again and rewrite all of it")
    return events


def sorted_attachments(found: Iterable[AttachmentRecord]) -> list[AttachmentRecord]:
    """Attachment records oldest first (ties by id), the same from every backend."""
    return sorted(found, key=lambda a: (epoch_micros(a.added_at, "added_at"), a.id))


# -- outbox -------------------------------------------------------------------------------------

OUTBOX_DELIVERED_TTL_SECONDS = 7 * 24 * 3600  # a delivered key is remembered this long
OUTBOX_ERROR_MAX = 500  # characters of the last delivery error kept with an item

_SECRETS = [
    # Slack tokens (bot, user, app-level, config) and Slack webhook paths
    (re.compile(r"\bx(?:ox[a-z]|app)-[A-Za-z0-9-]+"), "***"),
    (re.compile(r"(hooks\.slack\.com/)[^\s\"']+"), r"\1***"),
    # JSON web tokens (Bot Framework / Entra ID)
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "***"),
    # Authorization headers
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 ***"),
    # passwords in URLs, secret-looking query or form values
    (re.compile(r"(://[^/\s:@]*:)[^@\s/]+@"), r"\1***@"),
    (
        re.compile(
            r"(?i)\b((?:access_|refresh_|id_)?token|secret|client_secret|password|passwd|pwd"
            r"|api[_-]?key|sig|signature)([=:]\s*)[^&\s,;\"']+"
        ),
        r"\1\2***",
    ),
]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def clean_error(text: str, limit: int = OUTBOX_ERROR_MAX) -> str:
    """A delivery error fit to keep and show: secrets (tokens, passwords, signatures)
    replaced, control characters flattened, at most `limit` characters."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    text = _CONTROL.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def ignored_settlement(log: logging.Logger, action: str, item_id: str, worker: str,
                       exists: bool, holder: object) -> None:
    """A late or foreign outbox complete/defer: the lease moved on, or the item is gone."""
    why = ("no such item (already delivered?)" if not exists
           else f"the lease is held by {holder}" if holder else "it is not leased")
    log.info("outbox %s of %s by %s ignored: %s", action, item_id, worker, why,
             extra={"item_id": item_id, "worker": worker})


def ignored_release(log: logging.Logger, case_id: str, worker: str, holder: str | None) -> None:
    """A late or foreign timer release: another worker took the case over, or it is idle."""
    log.info("release of case timer %s by %s ignored: %s", case_id, worker,
             f"the lease is held by {holder}" if holder else "it is not leased",
             extra={"case_id": case_id, "worker": worker})
