"""Turning a rejected platform payload into one readable line (Slack and Teams alike)."""

from __future__ import annotations

from pydantic import ValidationError


def first_error(exc: ValidationError) -> str:
    """The first problem pydantic found, as one line (``loc: msg (and n more)``)."""
    errors = exc.errors(include_url=False, include_input=False)
    if not errors:
        return str(exc)
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or "value"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"


def shown(raw: object, limit: int = 80) -> str:
    """A bounded repr of what was received, safe to put in an error message."""
    text = repr(raw)
    return text if len(text) <= limit else text[: limit - 1] + "…"
