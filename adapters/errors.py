"""The adapters' exceptions: one root, each message naming what to fix and where.

AdapterError
├── PayloadError           what a platform sent is not what Frontdoor rendered or the platform
│   │                      documents (a handler logs it and drops the request, never a 500)
│   ├── SlackPayloadError  a Slack event, interaction, button value or modal metadata
│   ├── TeamsPayloadError  a Teams activity or Adaptive Card submission
│   └── HostileInputError  a request no endpoint takes: not UTF-8, too deep, a lone surrogate
│                          or a control character, a malformed header (answered 400)
├── PackageError           the Teams app package can't be built (names the setting or option)
└── UsageError             a command-line argument is wrong (names the argument)

The payload errors are ValueErrors too, as pydantic's are. Settings a process can't run with
(a missing Teams secret, a bad deployment file) raise `bot.errors.ConfigError`, whoever reads
them. `first_error` and `shown` turn a rejected payload into the one readable line these
messages carry, for Slack and Teams alike.
"""

from __future__ import annotations

from pydantic import ValidationError


class AdapterError(Exception):
    """Root of every error raised by `adapters`."""


class PayloadError(AdapterError, ValueError):
    """A platform payload or an interaction context is not what Frontdoor sent or expects."""


class SlackPayloadError(PayloadError):
    """A Slack payload or an interaction context is not what Frontdoor sent or expects."""


class TeamsPayloadError(PayloadError):
    """A Teams activity or a card submission is not what Frontdoor sent or expects."""


class HostileInputError(PayloadError):
    """A request body, query or header that no endpoint takes (adapters/http_guard.py): the
    message says what was wrong, and the request gets a 400 before anything else sees it."""


class PackageError(AdapterError, ValueError):
    """A value the Teams package needs is missing or not what Teams accepts; names the setting."""


class UsageError(AdapterError):
    """A command-line argument is wrong; the message names it."""


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
