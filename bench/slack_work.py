"""Benchmark: the work behind one Slack event, in one process, with no HTTP in front.

    .venv/bin/python bench/slack_work.py                  # 3,000 events, Redis of our own
    .venv/bin/python bench/slack_work.py --events 500     # quicker

Why: bench/slack_events.py measures the whole path across processes; this one says what
working one event costs once it is stored — the part that bounds the sustained rate. N
distinct `app_mention` events (first intake turns, as in slack_events.py) are kept through
`SlackFrontDoor.accept_event`, then one `OutboxWorker` works the queue until it is empty:
the event through the conversation handler, its reply posted to the fake Slack Web API
(frontdoor_testkit/fake_slack.py, in a thread of this process, so its CPU is counted too).
Printed: CPU ms per event (this process, acknowledgement included), events/s worked, and Redis
commands sent per event (as the client sends them; a script is one), by command.
"""

# ruff: noqa: E402 (the import path is fixed before the imports that depend on it)
from __future__ import annotations

import os
import sys

# Run as a script: the repository root on the import path (`frontdoor_testkit`, `bench`).
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _ROOT)

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import redis.asyncio.client as redis_client

from adapters.compose import build_handler, build_identities, load_directory, web_front_doors
from adapters.settings import Settings
from bench.slack_events import SPEAKERS, _mention
from bot.outbox import OutboxWorker
from bot.store.redis import RedisStore
from frontdoor_testkit.fake_slack import FakeSlack
from frontdoor_testkit.redis_server import free_port, start_redis_server, stop_redis_server
from frontdoor_testkit.slack_signing import BOT_TOKEN, SIGNING_SECRET

SENT: Counter[str] = Counter()


def _count_commands() -> None:
    """Count what the client sends (the bench's own instrument, not the product's)."""
    send = redis_client.Redis.execute_command

    async def counted(self: Any, *args: Any, **options: Any) -> Any:
        SENT[str(args[0])] += 1
        return await send(self, *args, **options)

    redis_client.Redis.execute_command = counted  # type: ignore[method-assign]


async def run(events: int, url: str) -> None:
    fake = FakeSlack()
    api = fake.start()
    settings = Settings(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                        slack_api_url=api, redis_url=url,
                        frontdoor_redis_prefix=f"work:{uuid.uuid4().hex[:6]}:",
                        microsoft_app_id="", frontdoor_teams_emulator=False, _env_file=None)
    directory = load_directory(settings)
    store = RedisStore(url, settings.frontdoor_redis_prefix)
    await store.open()
    # the web process's front doors, as `frontdoor serve` builds them (Teams off)
    doors = await web_front_doors(settings, store, directory,
                                  build_handler(store, directory, settings),
                                  build_identities(store, directory, settings), lambda: None)
    front = doors.slack
    assert front is not None
    try:
        run_id = uuid.uuid4().hex[:6]
        bodies = []
        for seq in range(events):
            user, channel = SPEAKERS[seq % len(SPEAKERS)]
            body, _ = _mention(seq, run_id, user, channel)
            bodies.append(json.loads(body))
        worker = OutboxWorker(store, doors.deliverers, "bench")
        SENT.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        for body in bodies:
            await front.accept_event(body)
        while await worker.run_once() > 0:
            pass
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        posts = len(fake.of("chat.postMessage"))
        print(f"{events:,} events kept and worked in one process: {1000 * cpu / events:.2f} ms "
              f"CPU per event, {events / wall:,.0f} events/s; {posts:,} replies posted")
        total = sum(SENT.values())
        by_command = ", ".join(f"{name} {n / events:.2f}" for name, n in SENT.most_common())
        print(f"Redis commands sent per event: {total / events:.2f} ({by_command})")
    finally:
        await doors.close()
        await store.close()
        fake.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=3000)
    args = parser.parse_args()
    _count_commands()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="slack-work-") as tmp:
        proc = start_redis_server(port, Path(tmp))
        try:
            asyncio.run(run(args.events, f"redis://127.0.0.1:{port}/0"))
        finally:
            stop_redis_server(proc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
