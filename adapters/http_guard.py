"""Hostile input never reaches a 5xx: what every HTTP endpoint checks before a handler, an SDK
or the store sees a byte of it.

- A request body is read within `BodyLimits.read_seconds` (408 for a client that trickles,
  one byte every few seconds) and within the app's size limit (413, aiohttp's own).
- A client that goes away mid-request is not an error: it is logged at info, counted with the
  status `CLIENT_GONE` (nginx's 499), and nothing is answered.
- Text is valid UTF-8 without lone surrogates (a JSON ``"\\ud800"`` escape makes one) or
  control characters other than tab, line feed and carriage return; JSON nests at most
  `MAX_DEPTH` deep, checked on the raw text before it is parsed (a deep ``[[[[…`` would blow
  Python's recursion limit in the parser or in whatever walks the value next). Anything else
  is a `HostileInputError`: a 400 naming what was wrong.
- Header values have no control characters, lone surrogates or absurd lengths; the headers a
  front door reads (Slack's timestamp and signature, a bearer token) it checks strictly itself,
  with the helpers here (`ascii_digits`).

The Slack, Teams and web chat routes parse their bodies with `parse_json`; the middleware in
adapters/server.py applies the rest to every route.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from adapters.errors import HostileInputError

MAX_DEPTH = 32  # Slack's deepest payload (a modal's state) nests about 8 levels
HEADER_VALUE_MAX = 8192
CLIENT_GONE = 499  # the status a request is counted with when its client went away
# Control characters (C0 but tab, LF, CR; DEL; C1) and lone surrogates.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_FORBIDDEN_IN_HEADER = re.compile("[\x00-\x08\x0a-\x1f\x7f\ud800-\udfff]")
_SIGNIFICANT = re.compile(r'["\\\[\]{}]')


@dataclass(frozen=True, slots=True)
class BodyLimits:
    """How long a request body may take to arrive."""

    read_seconds: float = 10.0


async def read_body(request: web.Request, limits: BodyLimits) -> web.StreamResponse | None:
    """Read the whole body within `limits.read_seconds` (aiohttp keeps it, so a handler's own
    `request.read()` later returns it at once); None when it came in time. A slow client is
    answered 408 here and its connection closed — at once, rather than after aiohttp's
    lingering read of the rest of its body — and that response is returned."""
    try:
        async with asyncio.timeout(limits.read_seconds):
            await request.read()
        return None
    except TimeoutError:
        pass
    response = web.json_response(
        {"error": f"the request body did not arrive within {limits.read_seconds:g} s"},
        status=408)
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    if request.transport is not None:
        request.transport.close()
    return response


def client_gone(request: web.Request, error: BaseException) -> bool:
    """Whether `error` is the client having gone away (not a failure of ours)."""
    transport = request.transport
    return isinstance(error, ConnectionResetError) and (
        transport is None or transport.is_closing())


def text_problem(value: str) -> str | None:
    """Why `value` can't be taken as text, or None: a lone surrogate or a control character."""
    bad = _FORBIDDEN.search(value)
    if bad is None:
        return None
    char = bad.group()
    kind = "a lone surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
    return f"{kind} (U+{ord(char):04X}) at position {bad.start()}"


def check_text(value: str, what: str) -> str:
    """`value`, or a HostileInputError naming `what` and the offending character."""
    if problem := text_problem(value):
        raise HostileInputError(f"{what} contains {problem}")
    return value


def check_strings(value: Any, what: str) -> None:
    """Every string in a parsed JSON value (keys too) is text (see `text_problem`). The value
    must come from `parse_json` or be as shallow (this walks it recursively)."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            check_text(item, what)
        elif isinstance(item, Mapping):
            for key, inner in item.items():
                if isinstance(key, str):
                    check_text(key, what)
                stack.append(inner)
        elif isinstance(item, list):
            stack.extend(item)


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON `text` nests arrays and objects more than `limit` deep (brackets inside
    strings don't count). Linear — it jumps from one quote, backslash or bracket to the next —
    with no parsing, no recursion and no backtracking."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    in_string = False
    skip = -1  # the position of a character a backslash escapes
    for match in _SIGNIFICANT.finditer(text):
        at, char = match.start(), match.group()
        if at == skip:
            continue
        if in_string:
            if char == "\\":
                skip = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def decode(raw: bytes, what: str) -> str:
    """Strict UTF-8 (an encoded surrogate is invalid UTF-8 too), or a HostileInputError."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HostileInputError(f"{what} is not valid UTF-8 (byte {exc.start})") from None


def parse_json(raw: bytes | str, what: str) -> Any:
    """`raw` as JSON, checked: UTF-8, at most MAX_DEPTH deep (before parsing), no NaN or
    Infinity, every string text. Anything else is a HostileInputError saying why."""
    text = decode(raw, what) if isinstance(raw, bytes) else raw
    if too_deep(text):
        raise HostileInputError(f"{what} nests deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise HostileInputError(f"{what} is not JSON: {str(exc)[:120]}") from None
    check_strings(value, what)
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def header_problem(name: str, value: str) -> str | None:
    """Why a header value is unusable whatever the route (control characters, lone
    surrogates, more than HEADER_VALUE_MAX characters), or None."""
    if len(value) > HEADER_VALUE_MAX:
        return f"the {name} header is longer than {HEADER_VALUE_MAX} characters"
    if _FORBIDDEN_IN_HEADER.search(value):
        return f"the {name} header contains a control character or an invalid byte"
    return None


def ascii_digits(value: str, max_digits: int) -> bool:
    """Whether `value` is 1 to `max_digits` ASCII digits (str.isdigit would take "٣" or "²",
    which int() then refuses, and any number of them)."""
    return 0 < len(value) <= max_digits and value.isascii() and value.isdigit()
