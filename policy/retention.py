"""When a pack's retention rule says data may no longer be kept (pure: no I/O, no clock).

A rule keeps data `days` calendar days (wall clock) after the first of its `after` moments
that has come: Konneqt's case attachments go 90 days after the case is resolved or closed or
the contract ends, whichever is first. A moment not known yet (the contract runs on, the
case is open) doesn't count; with none known the rule can't fire yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from policy.errors import PolicyError
from policy.pack import Retention, RetentionStart


def retention_due(rule: Retention, moments: Mapping[RetentionStart, datetime | None]
                  ) -> datetime | None:
    """The instant from which data under `rule` may no longer be kept, or None while none of
    its moments is known. `moments` gives the known ones (aware datetimes)."""
    known = []
    for start in rule.after:
        at = moments.get(start)
        if at is None:
            continue
        if at.tzinfo is None or at.utcoffset() is None:
            raise PolicyError(f"retention moment {start!r} must be timezone-aware, got "
                              f"{at.isoformat()}")
        known.append(at)
    return min(known) + timedelta(days=rule.days) if known else None
