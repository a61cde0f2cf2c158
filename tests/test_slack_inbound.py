"""Slack events are kept in the store before Slack is told "ok", and worked from there by any
process: an acknowledged event is never lost, a retried one is worked once, and no event is
acknowledged while the store can't keep it. (Issue #8: "Acknowledge every request within
3 s, always: do the work after ack()"; "Retried events (same event_id) are processed once
across all workers (the store)".)

Real processes on a real Redis: `frontdoor serve`, `frontdoor worker`, the fake Slack Web API
over real HTTP, signed requests."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse

from adapters.slack.inbound import MAX_ATTEMPTS, PLATFORM, SlackEventWorker
from bot.errors import StoreError
from bot.records import OutboxItem
from frontdoor_testkit.fake_slack import FakeSlack
from frontdoor_testkit.redis_server import free_port, start_redis_server, stop_redis_server
from frontdoor_testkit.sched_harness import WorkerProcess
from frontdoor_testkit.server_process import ServerProcess
from frontdoor_testkit.slack_signing import BOT_TOKEN, SIGNING_SECRET
from tests.test_slack_front_door import SlackSession


def _env(redis_url: str, prefix: str, fake_url: str, *, web_works: bool) -> dict[str, str]:
    return {"REDIS_URL": redis_url, "FRONTDOOR_REDIS_PREFIX": prefix,
            "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake_url, "FRONTDOOR_DB": str(Path("/nonexistent/unused.db")),
            "FRONTDOOR_WEB_WORKS_QUEUE": "true" if web_works else "false"}


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    slack = FakeSlack()
    slack.start()
    yield slack
    slack.stop()


def _mention(user: str, channel: str, text: str) -> dict[str, str]:
    ts = f"{int(time.time())}.{time.perf_counter_ns() % 1_000_000:06d}"
    return {"type": "app_mention", "user": user, "channel": channel,
            "text": f"<@U0FRONTDOOR> {text}", "ts": ts, "event_ts": ts}


def test_an_acknowledged_event_survives_the_web_process_dying_and_a_worker_answers_it(
    redis_url: str, redis_prefix: str, tmp_path: Path, fake: FakeSlack,
) -> None:
    """The 200 means the event is in the store: kill -9 the web process right after it, and
    a `frontdoor worker` started afterwards still answers, once."""
    env = _env(redis_url, redis_prefix, fake.url, web_works=False)
    server = ServerProcess(env, tmp_path / "serve.log")
    worker: WorkerProcess | None = None
    try:
        slack = SlackSession(server, fake)
        event = _mention("U0ALICE", "C0ACME", "hello")
        status, _ = slack.event(event, event_id="EvDurable1")
        assert status == 200
        server.proc.kill()
        server.proc.wait(timeout=10)
        assert slack.posts("C0ACME", event["ts"]) == []  # nobody has worked it yet
        worker = WorkerProcess(env, tmp_path / "worker.log")
        worker.wait_started()
        slack.wait_post("C0ACME", "What kind of case", event["ts"])
        slack.settle()
        assert len(slack.posts("C0ACME", event["ts"])) == 1
    finally:
        if worker is not None:
            worker.kill()
        server.stop()


def test_a_retried_event_is_answered_from_the_record_and_worked_once_across_workers(
    redis_url: str, redis_prefix: str, tmp_path: Path, fake: FakeSlack,
) -> None:
    """Slack re-sends an event whose answer was late (X-Slack-Retry-Num): every copy gets
    its 200, two workers share the queue, and the customer hears one answer."""
    env = _env(redis_url, redis_prefix, fake.url, web_works=False)
    server = ServerProcess(env, tmp_path / "serve.log")
    workers: list[WorkerProcess] = []
    try:
        slack = SlackSession(server, fake)
        event = _mention("U0GABRIELA", "C0GLOBEX", "hello")
        for attempt in range(3):
            retry = {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"} \
                if attempt else {}
            status, _ = slack.event(event, event_id="EvRetriedAcross1", **retry)
            assert status == 200
        workers = [WorkerProcess(env, tmp_path / f"worker-{i}.log") for i in range(2)]
        for w in workers:
            w.wait_started()
        slack.wait_post("C0GLOBEX", "What kind of case", event["ts"])
        slack.settle(quiet=1.0)
        assert len(slack.posts("C0GLOBEX", event["ts"])) == 1
    finally:
        for w in workers:
            w.kill()
        server.stop()


def test_no_event_is_acknowledged_while_the_store_cannot_keep_it(
    tmp_path: Path, fake: FakeSlack,
) -> None:
    """Redis down: the event gets a 503 (Slack retries it), never a 200 for nothing; once
    Redis is back, Slack's retry of the same event is kept and answered."""
    port = free_port()
    redis_proc = start_redis_server(port, tmp_path / "redis")
    url = f"redis://127.0.0.1:{port}/0"
    server = ServerProcess(_env(url, "inbound-down:", fake.url, web_works=True),
                           tmp_path / "serve.log")
    try:
        slack = SlackSession(server, fake)
        event = _mention("U0IVAN", "C0INITECH", "hello")
        stop_redis_server(redis_proc)
        started = time.monotonic()
        status, body = slack.event(event, event_id="EvStoreDown1")
        assert status == 503, body
        assert "store" in str(body)
        assert time.monotonic() - started < 3.0  # inside Slack's 3 seconds, even failing
        redis_proc = start_redis_server(port, tmp_path / "redis")
        deadline = time.monotonic() + 15
        while True:  # Slack retries; the server reconnects on its own
            status, body = slack.event(event, event_id="EvStoreDown1",
                                       **{"X-Slack-Retry-Num": "1"})
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert status == 200, body
        slack.wait_post("C0INITECH", "What kind of case", event["ts"])
        slack.settle()
        assert len(slack.posts("C0INITECH", event["ts"])) == 1
    finally:
        server.stop()
        stop_redis_server(redis_proc)


async def test_a_worker_with_a_bot_token_but_no_signing_secret_posts_and_works_events(
    tmp_path: Path,
) -> None:
    """The signing secret checks requests, which a worker never gets: with the bot token
    alone it posts notices and works stored events (else they would wait for a process that
    can; an item a process cannot deliver goes back untried)."""
    from adapters.compose import build_handler, build_identities, worker_front_doors
    from adapters.settings import Settings
    from adapters.slack.wiring import front_door
    from bot.deployment import Directory, load_deployment
    from bot.store import open_store

    settings = Settings(slack_bot_token=BOT_TOKEN, slack_api_url="http://127.0.0.1:9/api/",
                        frontdoor_db=tmp_path / "w.db", _env_file=None)
    directory = Directory(load_deployment(settings.frontdoor_config))
    store = open_store(None, settings.frontdoor_db, settings.frontdoor_redis_prefix)
    handler = build_handler(store, directory, settings)
    identities = build_identities(store, directory, settings)

    doors = worker_front_doors(settings, store, directory, handler, identities, lambda: None)
    assert doors.slack is not None
    try:
        assert {"slack", "slack-event"} <= set(doors.deliverers)
        assert front_door(settings, store, directory, handler, identities, lambda: None) is None
    finally:
        await doors.close()


def _stored(attempts: int) -> OutboxItem:
    event = _mention("U0ALICE", "C0ACME", "hello")
    now = datetime.now(UTC)
    return OutboxItem(id="in-1", key="slack-event:Ev1", case_id="slack-in:C0ACME:1",
                      platform=PLATFORM, payload={"event_id": "Ev1", "event": event},
                      created_at=now, due_at=now, attempts=attempts)


class _Failing:
    """What working the event raises, and whom the worker told it gave up on."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.told: list[Mapping[str, Any]] = []

    async def work(self, _: Mapping[str, Any], team: str | None) -> None:
        raise self.error

    async def give_up(self, event: Mapping[str, Any]) -> None:
        self.told.append(event)


@pytest.mark.parametrize("error", [ValueError("a bug"), StoreError("unreadable state"),
                                   aiohttp.ClientConnectionError("reset"), TimeoutError()])
async def test_a_failing_event_is_retried_then_let_go_and_the_sender_told(
    error: Exception,
) -> None:
    """Whatever the failure, an event is tried MAX_ATTEMPTS times, then let go with the
    sender told, so one bad event never holds its conversation for ever."""
    failing = _Failing(error)
    worker = SlackEventWorker(failing.work, failing.give_up)

    outcomes = [await worker.deliver(_stored(n)) for n in range(MAX_ATTEMPTS)]

    assert [o.kind for o in outcomes] == ["retry"] * (MAX_ATTEMPTS - 1) + ["ok"]
    assert len(failing.told) == 1 and failing.told[0]["user"] == "U0ALICE"


async def test_an_event_slack_refuses_for_good_is_let_go_at_once() -> None:
    refusal = SlackApiError("not_in_channel", SlackResponse(
        client=None, http_verb="POST", api_url="https://slack.test/api/conversations.history",
        req_args={}, data={"ok": False, "error": "not_in_channel"}, headers={},
        status_code=200))
    failing = _Failing(refusal)
    worker = SlackEventWorker(failing.work, failing.give_up)

    outcome = await worker.deliver(_stored(0))

    assert outcome.kind == "ok" and len(failing.told) == 1
