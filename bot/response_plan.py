"""A war team's response plan, as data folded from the case history.

Konneqt (Service Levels): a missed workaround or resolution target escalates the incident to
the executive team, which forms a war team; the war team sets a response plan — technical
assessment, mitigation, resources, status-update frequency. The pack names the items; each
entry is a `response_plan` event in the case history (who, when, which item, what), so the
plan is the latest entry per item and re-filling an item keeps the earlier value on record.
Pure: no store, no rendering.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.errors import ResponsePlanError
from bot.records import CaseEventRecord, CaseRecord
from policy.pack import BreachTrigger, Pack, WarTeam
from policy.sla import format_duration

RESPONSE_PLAN = "response_plan"  # the case action, and the kind of the event it records
TEXT_MAX = 3000
_CADENCE = re.compile(r"^(\d{1,3})(m|h|bd)$")
_CADENCE_WORDS = [(r"business ?days?|bdays?|bd", "bd"), (r"hours?|hrs?|h", "h"),
                  (r"minutes?|mins?|m", "m")]
# Cadences offered besides the policy's own (minutes of coverage time, or business days).
STANDARD_CADENCES = ("1h", "2h", "4h", "8h", "1bd")


@dataclass(frozen=True, slots=True)
class Item:
    """A response-plan item as the pack names it; `id` is stable across pack re-orderings."""

    id: str
    number: int
    label: str
    cadence: bool  # agreed by picking a status-update cadence, not in free text


@dataclass(frozen=True, slots=True)
class Entry:
    """The agreed content of one item: the latest `response_plan` event for it."""

    item: str
    value: str  # as stored: the text, or a cadence id ("4h")
    shown: str  # as people read it
    actor: str
    actor_name: str
    at: datetime


def item_id(label: str) -> str:
    """'Evaluation of mitigation strategies' → 'evaluation-of-mitigation-strategies'."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "item"


def items(war: WarTeam) -> list[Item]:
    return [Item(item_id(label), n, label, label == war.cadence_item)
            for n, label in enumerate(war.response_plan, start=1)]


def find_item(war: WarTeam, key: str) -> Item | None:
    """The item `key` names: its number, its id, its label, or a word only its label has
    ("assessment", "mitigation")."""
    key = key.strip().strip(".:#")
    if not key:
        return None
    all_items = items(war)
    for item in all_items:
        if key == str(item.number) or item_id(key) == item.id:
            return item
    word = item_id(key).rstrip("s")  # "resources" names "Resource allocation"
    matches = [i for i in all_items if i.id.startswith(word)
               or word in (part.rstrip("s") for part in i.id.split("-"))]
    return matches[0] if len(matches) == 1 else None


def entries(events: Iterable[CaseEventRecord]) -> dict[str, Entry]:
    """Item id → its latest entry (the history keeps every earlier one)."""
    out: dict[str, Entry] = {}
    for event in events:
        if event.kind != RESPONSE_PLAN:
            continue
        data = event.data
        item = str(data.get("item", ""))
        out[item] = Entry(item, str(data.get("value", "")),
                          str(data.get("shown", data.get("value", ""))), event.actor,
                          event.actor_name or event.actor, event.at)
    return out


# -- when there is a war team -----------------------------------------------------------------


def war_level(pack: Pack) -> str | None:
    """The escalation level that forms the war team (Konneqt: the executive team), if the pack
    has a war team: the level its missed-target trigger escalates to."""
    if pack.escalation.war_team is None:
        return None
    for trigger in pack.escalation.triggers:
        if isinstance(trigger, BreachTrigger):
            return trigger.to
    return None


def formed(pack: Pack, case: CaseRecord) -> bool:
    """Whether the case's war team is formed: it reached the war team's level (a missed
    target escalated it, or an engineer did). Escalation never goes down."""
    level = war_level(pack)
    levels = list(pack.escalation.levels)
    if level is None or level not in levels or case.escalation_level not in levels:
        return False
    return levels.index(case.escalation_level) >= levels.index(level)


def require_war_team(pack: Pack, case: CaseRecord) -> WarTeam:
    """The pack's war team, once this case's is formed; else why not, and what would form it."""
    war = pack.escalation.war_team
    if war is None:
        raise ResponsePlanError(f"{pack.name} forms no war team, so {case.id} has no response "
                                "plan.")
    if not formed(pack, case):
        level = war_level(pack) or "the executive level"
        name = pack.escalation.levels[level].name if level in pack.escalation.levels else level
        raise ResponsePlanError(
            f"{case.id} has no war team yet: it is formed when a workaround or resolution "
            f"target is missed, or when the case is escalated to {name} ({war.clause}).")
    return war


def entry_for(war: WarTeam, key: str, text: str) -> tuple[Item, str, str]:
    """(item, value to store, value as shown) for filling in `key` with `text`."""
    item = find_item(war, key)
    if item is None:
        listed = "; ".join(f"{i.number} {i.label}" for i in items(war))
        raise ResponsePlanError(f"The response plan has no item {key!r}. Its items: {listed}.")
    text = text.strip()
    if not text:
        raise ResponsePlanError(f"Please write what the war team agreed for “{item.label}”.")
    if item.cadence:
        cadence = parse_cadence(text)
        if cadence is None:
            raise ResponsePlanError(
                f"“{item.label}” is a cadence, e.g. “4 h”, “30 min” or “1 business day” "
                f"(not {text[:40]!r}).")
        return item, cadence, cadence_text(cadence)
    if len(text) > TEXT_MAX:
        raise ResponsePlanError(f"Please keep “{item.label}” under {TEXT_MAX} characters "
                                f"(it has {len(text)}).")
    return item, text, text


# -- status-update cadences -------------------------------------------------------------------


def cadence_id(every: timedelta) -> str:
    minutes = round(every.total_seconds() / 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def parse_cadence(raw: str) -> str | None:
    """'4h', 'every 4 hours', '30 min', '1 business day' → a cadence id; None if it isn't one
    (between 15 minutes and 10 business days)."""
    text = re.sub(r"^(every|each|once (a|every))\s+", "", raw.strip().lower())
    text = re.sub(r"\s*\(.*\)$", "", text)  # "every 4 h (the policy's cadence)"
    if text in {"business day", "day", "daily"}:
        text = "1bd"
    for pattern, unit in _CADENCE_WORDS:
        text = re.sub(rf"^(\d+)\s*(?:{pattern})$", rf"\g<1>{unit}", text)
    match = _CADENCE.match(text.replace(" ", ""))
    if match is None:
        return None
    amount, unit = int(match.group(1)), match.group(2)
    minutes = {"m": amount, "h": amount * 60}.get(unit)
    if minutes is not None:
        if not 15 <= minutes <= 24 * 60:
            return None
        return cadence_id(timedelta(minutes=minutes))
    return f"{amount}bd" if 1 <= amount <= 10 else None


def cadence_every(cadence: str) -> timedelta | None:
    """A cadence in coverage time ("2h" → 2 h); None for business-day cadences, which are
    never more frequent than a policy's hourly one and so never change the clock."""
    if cadence.endswith("bd") or not cadence[:-1].isdigit():
        return None
    return timedelta(minutes=_cadence_minutes(cadence))


def cadence_text(cadence: str) -> str:
    if cadence.endswith("bd"):
        days = int(cadence[:-2])
        return "every business day" if days == 1 else f"every {days} business days"
    minutes = int(cadence[:-1]) * (60 if cadence.endswith("h") else 1)
    return f"every {format_duration(timedelta(minutes=minutes))}"


def cadence_options(policy_every: timedelta | None) -> tuple[list[tuple[str, str]], str | None]:
    """([(cadence id, label)], the default): the standard cadences and the policy's own for
    this case, which is the default."""
    default = cadence_id(policy_every) if policy_every else None
    ids = list(STANDARD_CADENCES)
    if default and default not in ids:
        ids.append(default)
    ids.sort(key=_cadence_minutes)
    return [(c, cadence_text(c).capitalize() + (" (the policy's cadence)" if c == default
                                                  else "")) for c in ids], default


def _cadence_minutes(cadence: str) -> int:
    if cadence.endswith("bd"):
        return int(cadence[:-2]) * 100_000
    return int(cadence[:-1]) * (60 if cadence.endswith("h") else 1)
