"""Notices as Slack posts: mentions that ping, and case cards that stay cards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.slack.delivery import SlackPost
from adapters.slack.notices import notice_items
from bot.cases import CaseService
from bot.deployment import Directory, load_deployment
from bot.intake import CaseDraft
from bot.messages import Notice, Place, Reply
from bot.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = Directory(load_deployment(ROOT / "examples" / "frontdoor.toml"))
AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
async def case_id(tmp_path: Path) -> AsyncIterator[tuple[SqliteStore, str]]:
    store = SqliteStore(tmp_path / "n.db")
    await store.open()
    alice = DIRECTORY.person("alice")
    assert alice is not None
    draft = CaseDraft(customer_id="acme", case_type="query", priority=None,
                      requested_priority=None, priority_source="fixed", priority_reason=None,
                      deployment=None, environment=None, managed=False, hypercare=False,
                      fields={}, description="How do we rotate keys without downtime?",
                      scope=None)
    case = await CaseService(store, DIRECTORY).open_case(
        alice, draft, Place("slack", "C0ACME", "1795000000.000100"), AT)
    yield store, case.id
    await store.close()


async def test_a_reminder_mentions_the_engineers_so_that_slack_pings_them(
    case_id: tuple[SqliteStore, str],
) -> None:
    """Reminders mention the assignee or the engineers — as real Slack mentions."""
    store, cid = case_id
    notice = Notice(cid, "engineers", Reply("⏰ 50 % of the response target used"),
                    "reminder", ("ana", "ben"))
    posts = [SlackPost.model_validate(i.payload) for i in
             await notice_items(store, DIRECTORY, notice, AT, key="k")]
    reply = next(p for p in posts if p.op == "thread_reply")
    assert reply.message["text"].startswith("<@U0ANA> <@U0BEN> ")
    assert "&lt;@" not in str(reply.message)


async def test_a_text_notice_to_the_customer_does_not_replace_their_case_card(
    case_id: tuple[SqliteStore, str],
) -> None:
    """The customer's case card is updated in place only by card notices."""
    store, cid = case_id
    notice = Notice(cid, "customer", Reply("We're still working on it."), "status_promise")
    posts = [SlackPost.model_validate(i.payload) for i in
             await notice_items(store, DIRECTORY, notice, AT, key="k")]
    assert [p.op for p in posts] == ["post"]
    assert posts[0].thread_ts == "1795000000.000100"
