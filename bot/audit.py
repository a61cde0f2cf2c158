"""Writing the audit: every entry kept, refusals rate-limited per person.

The audit is durable: no store trims it by count (a flood of refusals used to push the record
of who resolved a case out of Redis's capped list). What bounds it instead:

- Refusals: at most `REFUSALS_PER_MINUTE` entries per person per minute are written. The
  ones beyond are counted (a counter every process shares) and the count is written as a
  `refusals_suppressed` entry, with `suppressed` set, when it reaches 1, 10, 100, 1,000 …
  — so ten thousand refused requests in a minute leave 10 refusals and 4 counts, and the
  audit still says how many there were to within the next power of ten.
- Personal data goes with the customer's retention rules or a person's erasure
  (bot/privacy.py): entries are pseudonymised in place, never dropped.
- `frontdoor audit export --since …` writes the audit as JSON lines, for a SIEM or an
  archive.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from bot.records import AuditRecord
from bot.store.base import Store

SYSTEM_ACTOR = "frontdoor"  # the SLA monitor and retention: what the product did itself
OPERATOR_ACTOR = "operator"  # an operator at the command line (exports, erasure)
REFUSALS_PER_MINUTE = 10
_COUNTER_TTL_SECONDS = 120  # a minute's counter outlives its minute, then is forgotten
EXPORT_PAGE = 1000


def _is_checkpoint(suppressed: int) -> bool:
    """1, 10, 100, 1,000 …: when the count of suppressed refusals is written."""
    while suppressed % 10 == 0 and suppressed > 1:
        suppressed //= 10
    return suppressed == 1


async def record_audit(store: Store, entry: AuditRecord, *,
                       refusals_per_minute: int = REFUSALS_PER_MINUTE) -> int | None:
    """Append `entry`, unless it is a refusal beyond the person's allowance this minute (then
    it is counted instead). Returns the seq written, or None when suppressed."""
    if entry.allowed:
        return await store.append_audit(entry)
    minute = entry.at.astimezone(UTC).replace(second=0, microsecond=0)
    count = await store.count(f"refusals:{entry.actor}:{minute:%Y%m%dT%H%M}",
                              _COUNTER_TTL_SECONDS)
    if count <= refusals_per_minute:
        return await store.append_audit(entry)
    suppressed = count - refusals_per_minute
    if _is_checkpoint(suppressed):
        await store.append_audit(AuditRecord(
            at=entry.at, actor=entry.actor, role=entry.role, action="refusals_suppressed",
            allowed=False, customer_id=entry.customer_id, suppressed=suppressed,
            detail=f"{suppressed} more refusals in the minute from {minute:%H:%M} UTC were "
                   f"counted, not written (at most {refusals_per_minute} a minute are)"))
    return None


def audit_json(seq: int, entry: AuditRecord) -> dict[str, Any]:
    """One entry as a SIEM reads it: flat, every field present, the instant in UTC."""
    return {"seq": seq, "at": entry.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "source": "frontdoor", **entry.model_dump(mode="json", exclude={"at"})}


async def export_lines(store: Store, since: datetime) -> AsyncIterator[str]:
    """The entries recorded at or after `since` (aware), oldest first, one JSON line each."""
    after = 0
    while page := await store.audit_log(after, EXPORT_PAGE):
        for seq, entry in page:
            if entry.at >= since:
                yield json.dumps(audit_json(seq, entry), ensure_ascii=False)
        after = page[-1][0]
