"""Reminders reach Teams later, from the worker: the scheduler's notices become Teams outbox
items (`compose.notice_sink`) and an outbound-only deliverer (`compose.posting_deliverers`)
posts them proactively to the engineers' channel over real HTTP — here with no stored conversation
reference, through the configured fallback service URL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.compose import notice_sink, posting_deliverers
from adapters.settings import Settings
from bot.cases import CaseService
from bot.deployment import Directory, load_deployment
from bot.intake import CaseDraft
from bot.messages import Notice, Place
from bot.outbox import OutboxWorker
from bot.scheduler import Scheduler, next_moment
from bot.store.sqlite import SqliteStore
from frontdoor_testkit.fake_bot_framework import FakeConnector

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = Directory(load_deployment(ROOT / "examples" / "frontdoor.toml"))
ENGINEERS = "19:engineers@thread.tacv2"


@pytest.fixture
def fake() -> Iterator[FakeConnector]:
    connector = FakeConnector()
    connector.start()
    yield connector
    connector.stop()


async def test_an_sla_reminder_is_posted_to_the_engineers_channel(
    tmp_path: Path, fake: FakeConnector,
) -> None:
    settings = Settings(_env_file=None, slack_bot_token=None, frontdoor_db=tmp_path / "p.db",
                        frontdoor_teams_service_url=fake.url, frontdoor_teams_emulator=True)
    store = SqliteStore(tmp_path / "p.db")
    await store.open()
    try:
        enqueued: list[Notice] = []

        every_platform = notice_sink(store, DIRECTORY, settings)  # Teams only: no Slack token

        async def recorded(notices: Sequence[Notice], key: str, now: datetime) -> None:
            enqueued.extend(notices)
            await every_platform(notices, key, now)

        scheduler = Scheduler(store, DIRECTORY, recorded, "test")
        cases = CaseService(store, DIRECTORY, scheduler.reschedule)
        alice = DIRECTORY.person("alice")
        assert alice is not None
        opened = datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("America/New_York"))
        draft = CaseDraft(
            customer_id="acme", case_type="incident", priority="P1", requested_priority="P1",
            priority_source="customer", priority_reason=None, deployment="acme-prod",
            environment="production", managed=True, hypercare=False, fields={},
            description="Orders API returns 503 for every request since 09:40", scope=None)
        case = await cases.open_case(alice, draft, Place("teams", "19:acme@thread.tacv2", "1"),
                                     opened)
        events = await store.case_events(case.id)
        first = next_moment(DIRECTORY, case, events, opened, scheduler.settings)
        assert first is not None and first - opened < timedelta(days=1)
        assert await scheduler.tick(first) == 1
        assert enqueued, "the scheduler decided nothing"
        deliverers = posting_deliverers(settings, store, DIRECTORY)
        assert set(deliverers) - {"bulletin"} == {"teams"}  # bulletins: every process
        worker = OutboxWorker(store, deliverers, "test-worker")
        delivered = 0
        for _ in range(10):
            delivered += await worker.run_once()
        assert delivered >= 1
        card = fake.wait(case.id, ENGINEERS)
        headline = enqueued[0].reply.text.splitlines()[0]
        news = fake.wait(headline[:40], f"{ENGINEERS};messageid={card.answered_id}")
        assert news.kind == "send" and "response target used" in headline
        mentioned = {e["mentioned"]["id"] for e in news.body.get("entities", [])}
        assert mentioned and mentioned <= {"29:ana", "29:ben", "29:olivia"}
        assert await store.outbox_pending() == 0
    finally:
        await store.close()


async def test_notices_for_a_conversation_teams_cannot_reach_are_not_enqueued(
    tmp_path: Path,
) -> None:
    """Locally (no app id, no service URL) and before the bot was added to the engineers'
    team, there is nowhere to post: nothing is enqueued that would hold the case's queue."""
    settings = Settings(_env_file=None, slack_bot_token=None, frontdoor_teams_emulator=True)
    store = SqliteStore(tmp_path / "q.db")
    await store.open()
    try:
        scheduler = Scheduler(store, DIRECTORY, notice_sink(store, DIRECTORY, settings), "test")
        cases = CaseService(store, DIRECTORY, scheduler.reschedule)
        adam = DIRECTORY.person("adam")
        assert adam is not None
        opened = datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("America/New_York"))
        draft = CaseDraft(
            customer_id="acme", case_type="incident", priority="P1", requested_priority="P1",
            priority_source="customer", priority_reason=None, deployment="acme-prod",
            environment="production", managed=True, hypercare=False, fields={},
            description="Checkout fails for every customer since the deploy", scope=None)
        case = await cases.open_case(adam, draft, Place("web", "w"), opened)
        first = next_moment(DIRECTORY, case, await store.case_events(case.id), opened,
                            scheduler.settings)
        assert first is not None
        assert await scheduler.tick(first) == 1
        assert await store.outbox_pending() == 0
    finally:
        await store.close()
