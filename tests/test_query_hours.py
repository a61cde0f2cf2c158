"""Konneqt query hours: "Queries are subject to maximum hourly Query Support Limits" —
Enterprise 50 h, Standard 25 h per term."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.deployment import Directory, load_deployment
from bot.handler import Handler
from bot.messages import Inbound, Outcome, Place
from bot.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = Directory(load_deployment(ROOT / "examples" / "frontdoor.toml"))
AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
async def handler(tmp_path: Path) -> AsyncIterator[Handler]:
    store = SqliteStore(tmp_path / "q.db")
    await store.open()
    yield Handler(store, DIRECTORY)
    await store.close()


async def say(handler: Handler, user: str, text: str | None = None,
              choice: str | None = None) -> Outcome:
    person = DIRECTORY.person(user)
    assert person is not None
    return await handler.handle(Inbound(person, Place("web", f"web:{user}"), AT, text=text,
                                        choice=choice))


async def file_query(handler: Handler) -> Outcome:
    await say(handler, "adam", "hi")
    await say(handler, "adam", choice="query")
    return await say(handler, "adam", "How do we configure retention for the audit trail?")


async def test_admin_and_engineers_are_told_at_80_and_100_percent(handler: Handler) -> None:
    """Konneqt Enterprise: 50 query hours; notices at 80 % (40 h) and 100 % (50 h)."""
    await file_query(handler)
    out = await say(handler, "adam", choice="confirm:open")
    case_id = next(r.card.case_id for r in out.replies if r.card)
    await say(handler, "ana", f"log {case_id} 1440 analysis")
    first = await say(handler, "ana", f"log {case_id} 900 analysis")  # 39 h: nothing yet
    assert "total 2340 min" in first.replies[0].text
    assert not [n for n in first.notices if n.kind == "query_hours"]
    second = await say(handler, "ana", f"log {case_id} 60 call")  # 40 h = 80 %
    eighty = [n for n in second.notices if n.kind == "query_hours"]
    assert {n.audience for n in eighty} == {"customer", "engineers"}
    assert "40.0 of its 50 query hours (80 %)" in eighty[0].reply.text
    third = await say(handler, "ana", f"log {case_id} 600 fix")  # 50 h = 100 %
    full = [n for n in third.notices if n.kind == "query_hours"]
    assert full and "billable" in full[0].reply.text


async def test_beyond_the_limit_a_new_query_is_flagged_billable_before_it_is_accepted(
    handler: Handler,
) -> None:
    """Beyond the limit, new queries are flagged as billable before they are accepted."""
    await file_query(handler)
    out = await say(handler, "adam", choice="confirm:open")
    case_id = next(r.card.case_id for r in out.replies if r.card)
    await say(handler, "ana", f"log {case_id} 1440 a")
    await say(handler, "ana", f"log {case_id} 1440 b")
    await say(handler, "ana", f"log {case_id} 120 c")  # 50 h in all
    review = await file_query(handler)
    assert "Billable:" in review.replies[-1].text
    opened = await say(handler, "adam", choice="confirm:open")
    new_id = next(r.card.case_id for r in opened.replies if r.card)
    stored = await handler.store.get_case(new_id)
    assert stored is not None and stored.billable


async def test_hours_are_logged_on_queries_only(handler: Handler) -> None:
    """Query hours apply to queries."""
    await say(handler, "adam", "hi")
    await say(handler, "adam", "P3")
    await say(handler, "adam", "prod")
    await say(handler, "adam", "Gateway")
    await say(handler, "adam", "Reports are slow on Mondays after the batch import runs")
    out = await say(handler, "adam", choice="confirm:open")
    case_id = next(r.card.case_id for r in out.replies if r.card)
    refused = await say(handler, "ana", f"log {case_id} 60 x")
    assert "queries only" in refused.replies[0].text
