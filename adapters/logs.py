"""Structured logs: one JSON object a line, with the case id and other context as fields.

Configured once, at start-up, by the command that starts the process (adapters/cli.py); modules
only call `logging.getLogger(__name__)` and pass context with `extra={"case_id": …}`.

Quiet about people, at every level: our own lines carry ids of cases, items and workers,
never a person's name, id or words. The libraries below log SQL parameters (aiosqlite),
request and response bodies (slack_sdk, slack_bolt, botbuilder, urllib3) and commands
(redis) at DEBUG, and some put a payload in a warning ("Unhandled request (…)"): they are
held at WARNING whatever LOG_LEVEL says, and what they do log is cut to its wording — any
quoted text, {…} or […] is elided and an exception keeps its traceback but not its message.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}

# Libraries that can log message bodies or personal data (see the module docstring).
DEPENDENCIES = (
    "aiosqlite", "sqlite3", "aiohttp", "slack_bolt", "slack_sdk", "botbuilder",
    "botframework", "msrest", "msal", "urllib3", "requests", "redis", "asyncio", "jwt",
)
DEPENDENCY_LEVEL = logging.WARNING
_DEPENDENCY_MAX = 240  # characters of a dependency's message kept
_ELIDE = re.compile(r"\{.*\}|\[.*\]|'[^']*'|\"[^\"]*\"", re.DOTALL)


def _is_dependency(name: str) -> bool:
    return any(name == dep or name.startswith(dep + ".") for dep in DEPENDENCIES)


def quiet_message(text: str) -> str:
    """A dependency's message cut to its wording: its first line, quoted text and {…} / […]
    elided, at most a line long."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    first = _ELIDE.sub("…", first)
    return first if len(first) <= _DEPENDENCY_MAX else first[: _DEPENDENCY_MAX - 1] + "…"


class QuietDependencies(logging.Filter):
    """Drops the libraries' records below WARNING and cuts the rest to their wording (a
    handler filter, so it holds even for a logger someone set to DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _is_dependency(record.name):
            return True
        if record.levelno < DEPENDENCY_LEVEL:
            return False
        record.msg = quiet_message(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, tb = record.exc_info
            record.msg += " | " + "".join(traceback.format_tb(tb)).rstrip() + \
                f"\n{kind.__name__} (message withheld: it may quote a payload)"
            record.exc_info = None
            record.exc_text = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool, type(None))) \
                    else str(value)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class ClientMistakes(logging.Filter):
    """aiohttp logs every request it can't parse (a control character in a header, a broken
    request line) as an error with its traceback, and answers it 400 itself: the client's
    mistake, not ours, so it is an info line without the trace (which QuietDependencies, below
    WARNING, then drops like any library's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError) and 400 <= (error.code or 0) < 500:
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg = f"{record.msg}: {type(error).__name__} ({error.code})"
            record.exc_info, record.exc_text = None, None
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(QuietDependencies())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in DEPENDENCIES:  # don't even build their DEBUG records
        logging.getLogger(name).setLevel(max(DEPENDENCY_LEVEL, root.level))
    server = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, ClientMistakes) for f in server.filters):
        server.addFilter(ClientMistakes())
    logging.getLogger(__name__).debug(
        "logging at %s; the libraries that log message bodies are held at WARNING",
        logging.getLevelName(root.level))
