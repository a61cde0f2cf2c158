"""The policy layer's exceptions: one root, each message written for the person who can fix it.

PolicyError
├── PackError          a pack file is missing, malformed or inconsistent (names file and key)
├── CalendarError      a calendar was asked something it cannot answer
│   └── NaiveDatetimeError   an instant without a time zone: ambiguous, so refused
└── CaseFactsError     the case facts don't fit the pack (unknown type, priority, plan …)
"""

from __future__ import annotations


class PolicyError(Exception):
    """Root of every error raised by `policy`."""


class PackError(PolicyError):
    """A pack cannot be loaded; the message names the file, the key path and what was expected."""


class CalendarError(PolicyError):
    """A business-hours calendar was misused or has no business time to offer."""


class NaiveDatetimeError(CalendarError, ValueError):
    """A datetime without tzinfo reached the clock; we never guess the zone."""


class CaseFactsError(PolicyError, ValueError):
    """The facts given about a case do not fit the pack (e.g. an unknown priority)."""
