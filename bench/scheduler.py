"""Benchmark: the SLA scheduler on Redis — claiming due timers among many, notices end to end,
and Redis memory per open case.

Run it from the repository root (about 30 s on a 2-core machine):

    .venv/bin/python bench/scheduler.py                          # 10 k, 100 k, 1 M timers
    .venv/bin/python bench/scheduler.py --sizes 10000,100000     # quicker
    .venv/bin/python bench/scheduler.py --cases 4000 --workers 1
    .venv/bin/python bench/scheduler.py --memory-only               # step 2 alone, in seconds

Everything runs against a redis-server of its own (free port, temporary directory, no
persistence), which is stopped at the end; nothing is written to any other Redis.

1. Claim cost against the number of scheduled cases. The timer set grows to each size in
   turn (10 k → 100 k → 1 M open cases, each with a timer 1 h to 30 days ahead). The first
   1,000 are scheduled through the store (`RedisStore.schedule_case`); the store has no
   batch or pipeline API, so the rest are written by a fast path here that uses the very
   same key layout (bot/store/redis.py, "Timer keys": a case not leased is nothing but a
   member of `P timers:due` scored by its due instant in µs since the epoch) with ZADD in
   pipelined batches of 10,000 — and `scheduled_cases()` must then count them all. Per
   repetition, 100 random scheduled cases are re-scheduled to a past instant through
   `schedule_case`, and one `claim_due_cases(now, limit=100, …)` — what `Scheduler.tick`
   does to find and lease what is due — is timed (wall clock, round trip included; it must
   return those 100), then they are released to a future instant (`release_case`), so N
   stays N. Reported: median and p90 over the repetitions, and an idle claim (nothing due).
   Target: ≤ 5 ms, flat in N (the 1 M median within 1.5× the 10 k median).
2. Memory per open case: INFO `used_memory` before and after, divided by the cases added.
   "timer only" is the timer entry alone (the 1 M set of step 1). "case + history + timer"
   is a real case as the intake files it (the pack's details answered, the scope verdict
   of the pack's rules, the customer's priority with its reason: frontdoor_testkit/sched_harness.py
   `seed`), opened through `CaseService.open_case`: the case list (record and the opening
   event), its entries in the index sorted sets, its audit entry in the audit log (never
   trimmed by count: lists of 1,000 entries, about the entry's JSON each), the timer —
   measured over the cases of step 3 before they fire, once the openers' connections are
   open (a client's buffers are not a case's memory); "… after its notice"
   adds what firing leaves: the `sla_notice` event, the outbox's 7-day de-duplication
   keys, the Slack card reference. Target ≤ 2 KB per open case. `--memory-only` opens
   `--cases` such cases and nothing else, and breaks the figure down by key (MEMORY USAGE
   and OBJECT ENCODING of every key the cases wrote, grouped by kind).
3. Notices end to end: `--cases` real cases (default 2,000) across four demo customers,
   each opened 40 days ago so that exactly one SLA notice is due (the response breach, for
   the engineers: 2 Slack calls, the case card and the thread reply under it). Then
   `--workers` `frontdoor worker` processes (default 2) start against the fake Slack Web API
   (frontdoor_testkit/sched_harness.py, in a process of its own). Rate = notices / (last post
   received − the first claim of a timer, seen in Redis by polling every millisecond): from the
   moment work began, not counting process start-up. Target ≥ 500 notices/s.
4. Where a worker's time goes (`--split-cases`, default 1,000 more such cases): in this
   process, `Scheduler.tick` until nothing is due (fire rate, and Redis commands per fired
   case from INFO total_commands_processed, which counts the commands inside scripts too),
   then `OutboxWorker.run_once` until the outbox is empty (delivery rate) — the two loops
   `frontdoor worker` interleaves. Fired twice: with the worker's defaults, and with
   FRONTDOOR_WEB_CHAT=false (which, by default, also turns the Teams emulator and so the
   Teams copy of every notice off).

The machine's other load shows up in every number: run it on a quiet machine.
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
import random
import statistics
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from bot.store._codec import epoch_micros
from bot.store.redis import RedisStore
from frontdoor_testkit.redis_server import free_port, start_redis_server, stop_redis_server
from frontdoor_testkit.sched_harness import DEMO_KINDS, Spec, WorkerProcess, seed, worker_env

STORE_SCHEDULED = 1_000  # timers scheduled through the store before the fast path takes over
BATCH = 10_000
DUE = 100
TIMERS = "bench:timers:"
E2E = "bench:e2e:"
SHORTS = ("ACME", "GLBX", "INIT", "UMB", "NORD")
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy


def case_id(n: int) -> str:
    return f"{SHORTS[n % len(SHORTS)]}-{n // len(SHORTS) + 1}"


async def used_memory(client: aioredis.Redis) -> int:
    info: dict[str, Any] = await client.info("memory")
    return int(info["used_memory"])


# -- 1 + 2: claims among N timers -------------------------------------------------------------


async def grow_timers(store: RedisStore, client: aioredis.Redis, have: int, want: int,
                      now: datetime, rng: random.Random) -> None:
    """Schedule cases have … want-1, each 1 h to 30 days after `now`."""
    start = epoch_micros(now + timedelta(hours=1), "now")
    span = 30 * 24 * 3600 * 1_000_000
    n = have
    while n < min(want, STORE_SCHEDULED):  # the store's own path
        await asyncio.gather(*(store.schedule_case(
            case_id(i), now + timedelta(hours=1, microseconds=rng.randrange(span)))
            for i in range(n, min(n + 100, want, STORE_SCHEDULED))))
        n = min(n + 100, want, STORE_SCHEDULED)
    while n < want:  # the same layout, written in bulk: one ZADD member per case
        pipe = client.pipeline(transaction=False)
        top = min(n + BATCH, want)
        pipe.zadd(f"{TIMERS}timers:due",
                  {case_id(i): start + rng.randrange(span) for i in range(n, top)})
        await pipe.execute()
        n = top
    assert await store.scheduled_cases() == want


@dataclass
class ClaimResult:
    n: int
    median_ms: float
    p90_ms: float
    idle_ms: float
    bytes_per_timer: float


async def claims(store: RedisStore, n: int, reps: int, rng: random.Random) -> tuple[float, ...]:
    due_ms, idle_ms = [], []
    for _ in range(reps):
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        assert await store.claim_due_cases(now, DUE, 60, "bench") == []
        idle_ms.append((time.perf_counter() - t0) * 1e3)
        chosen = [case_id(i) for i in rng.sample(range(n), DUE)]
        past = now - timedelta(seconds=1)
        await asyncio.gather(*(store.schedule_case(c, past) for c in chosen))
        t0 = time.perf_counter()
        claimed = await store.claim_due_cases(now, DUE, 60, "bench")
        due_ms.append((time.perf_counter() - t0) * 1e3)
        assert sorted(c for c, _ in claimed) == sorted(chosen), len(claimed)
        later = now + timedelta(days=1)
        await asyncio.gather(*(store.release_case(c, "bench", later + timedelta(seconds=i))
                               for i, c in enumerate(chosen)))
    due_ms.sort()
    return (statistics.median(due_ms), due_ms[int(0.9 * (len(due_ms) - 1))],
            statistics.median(idle_ms))


async def claim_bench(url: str, sizes: list[int], reps: int) -> list[ClaimResult]:
    rng = random.Random(7)
    store = RedisStore(url, TIMERS)
    await store.open()
    client = aioredis.Redis.from_url(url)
    out = []
    try:
        now = datetime.now(UTC)
        # load the store's scripts and open the connections the concurrent calls below use
        # first, so neither the script cache nor client buffers count as timers' memory
        warm = [f"WARM-{i}" for i in range(DUE)]
        await asyncio.gather(*(store.schedule_case(c, now) for c in warm))
        await store.claim_due_cases(now, DUE, 60, "bench")
        await asyncio.gather(*(store.release_case(c, "bench", None) for c in warm))
        base = await used_memory(client)
        have = 0
        for n in sizes:
            t0 = time.perf_counter()
            await grow_timers(store, client, have, n, now, rng)
            have = n
            memory = await used_memory(client) - base
            print(f"  {n:>9,} timers scheduled ({time.perf_counter() - t0:.1f} s)", flush=True)
            median, p90, idle = await claims(store, n, reps, rng)
            out.append(ClaimResult(n, median, p90, idle, memory / n))
        await client.delete(f"{TIMERS}timers:due", f"{TIMERS}timers:leased",
                            f"{TIMERS}timers:lease")
    finally:
        await client.aclose()
        await store.close()
    return out


# -- 2 + 3: real cases, fired by worker processes -----------------------------------------------


class SlackProcess:
    """The fake Slack Web API in a process of its own
    (``python -m frontdoor_testkit.sched_harness PORT``)."""

    def __init__(self) -> None:
        port = free_port()
        self.control = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([sys.executable, "-m", "frontdoor_testkit.sched_harness",
                                      str(port)], cwd=_ROOT, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        for _ in range(200):
            try:
                self.stats()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the fake Slack did not start")

    def stats(self, cases: bool = False) -> dict[str, Any]:
        query = "?cases=1" if cases else ""
        with _OPENER.open(f"{self.control}/stats{query}", timeout=30) as resp:
            stats: dict[str, Any] = json.loads(resp.read())
        return stats

    def wait_for(self, count: int, timeout: float = 300.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (stats := self.stats())["count"] < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{stats['count']} of {count} posts arrived")
            time.sleep(0.1)
        return stats

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@dataclass
class EndToEnd:
    cases: int
    workers: int
    seconds: float
    posts: int
    bytes_open: float
    bytes_fired: float

    @property
    def notices_per_second(self) -> float:
        return self.cases / self.seconds


def overdue_specs(count: int) -> list[Spec]:
    """Cases opened 40 days ago at four demo customers: each owes exactly one notice, the
    response breach, to the engineers (2 Slack calls: the card, the reply under it)."""
    kinds = [k for k in DEMO_KINDS if k[1] != "umbrella"]  # (Umbrella's tells the customer)
    now = datetime.now(UTC)
    return [Spec(*kinds[i % len(kinds)], opened_at=now - timedelta(days=40, seconds=i))
            for i in range(count)]


async def _seed_cases(url: str, prefix: str, count: int) -> tuple[int, int, list[str]]:
    """Open `count` overdue cases; (used_memory before, after, ids)."""
    specs = overdue_specs(count)
    store = RedisStore(url, prefix)
    await store.open()
    client = aioredis.Redis.from_url(url)
    try:
        # open the connections the 16 openers use first, so that their buffers (16 KB or
        # more a client) don't count as the cases' memory
        await asyncio.gather(*(store.get_case(f"WARM-{i}") for i in range(16)))
        before = await used_memory(client)
        chunks = [specs[i::16] for i in range(16)]  # 16 concurrent openers
        ids = [i for part in await asyncio.gather(*(seed(store, c) for c in chunks))
               for i in part]
        after = await used_memory(client)
    finally:
        await client.aclose()
        await store.close()
    return before, after, ids


async def _memory(url: str) -> int:
    client = aioredis.Redis.from_url(url)
    try:
        return await used_memory(client)
    finally:
        await client.aclose()


def _kind(key: str, prefix: str) -> str:
    """A key's kind: its name after the prefix with the case or customer id left out."""
    parts = key[len(prefix):].split(":")
    if parts[0] in ("c", "ix", "ixo", "ixb", "ixob", "case", "events", "casenum"):
        return parts[0]
    if parts[0] == "audit" and len(parts) > 1:
        # the log's lists, its counter, or a per-case list of the layout before the case lists
        return "audit:log" if parts[1] == "log" else "audit:seq" if parts[1] == "seq" \
            else "audit:case"
    if parts[0] == "cases" and len(parts) > 2:
        return f"cases:{parts[1]}"
    return ":".join(parts)


async def _key_breakdown(url: str, prefix: str) -> dict[str, tuple[int, int, set[str]]]:
    """Per kind of key under `prefix`: (keys, MEMORY USAGE bytes, encodings)."""
    client = aioredis.Redis.from_url(url, decode_responses=True)
    kinds: dict[str, tuple[int, int, set[str]]] = {}
    try:
        async for key in client.scan_iter(match=f"{prefix}*", count=1000):
            pipe = client.pipeline(transaction=False)
            pipe.memory_usage(key, samples=0)
            pipe.object("encoding", key)
            usage, encoding = await pipe.execute()
            n, total, encodings = kinds.get(_kind(key, prefix), (0, 0, set()))
            kinds[_kind(key, prefix)] = (n + 1, total + int(usage or 0), encodings | {encoding})
    finally:
        await client.aclose()
    return kinds


def memory_only(url: str, cases: int) -> None:
    """Open `cases` overdue cases as step 3 does and say what they cost, key by key."""
    prefix = "bench:memory:"
    t0 = time.perf_counter()
    before, after, ids = asyncio.run(_seed_cases(url, prefix, cases))
    assert len(set(ids)) == cases
    print(f"  {cases:,} cases opened ({time.perf_counter() - t0:.1f} s)")
    print(f"  INFO used_memory delta: {(after - before) / cases:,.0f} B per open case")
    kinds = asyncio.run(_key_breakdown(url, prefix))
    print(f"  {'key kind':<22}{'keys':>7}{'B/key':>8}{'B/case':>8}  encoding")
    total = 0
    for kind, (n, usage, encodings) in sorted(kinds.items(), key=lambda kv: -kv[1][1]):
        total += usage
        print(f"  {kind:<22}{n:>7,}{usage / n:>8.0f}{usage / cases:>8.0f}  "
              f"{','.join(sorted(encodings))}")
    print(f"  {'MEMORY USAGE total':<22}{sum(n for n, _, _ in kinds.values()):>7,}{'':>8}"
          f"{total / cases:>8.0f}  (+ the keyspace's own tables in used_memory)")


def end_to_end(url: str, slack: SlackProcess, cases: int, workers: int,
               tmp: Path) -> EndToEnd:
    t0 = time.perf_counter()
    before, opened, ids = asyncio.run(_seed_cases(url, E2E, cases))
    assert len(set(ids)) == cases
    print(f"  {cases:,} cases opened ({time.perf_counter() - t0:.1f} s)", flush=True)
    have = slack.stats()["count"]
    procs: list[WorkerProcess] = []
    try:
        # as the Procfile runs them (no demo web chat, so no Teams emulator), LOG_LEVEL INFO
        env = {**worker_env(url, E2E, slack.url), "FRONTDOOR_WEB_CHAT": "false"}
        procs = [WorkerProcess(env, tmp / f"worker-{i}.log") for i in range(workers)]
        started = _first_claim(url)
        stats = slack.wait_for(have + 2 * cases)
        time.sleep(0.5)
        stats = slack.stats(cases=True)
        assert stats["count"] == have + 2 * cases, stats
        fired = asyncio.run(_memory(url))
        return EndToEnd(cases, workers, stats["last"] - started, 2 * cases,
                        (opened - before) / cases, (fired - before) / cases)
    finally:
        for proc in procs:
            proc.stop()


def _first_claim(url: str, timeout: float = 60.0) -> float:
    """The wall-clock instant the first worker leased a timer (polled every millisecond)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if client.exists(f"{E2E}timers:lease"):
                return time.time()
            time.sleep(0.001)
    finally:
        client.close()
    raise RuntimeError("no worker claimed a timer")


# -- 4: where a worker's time goes ----------------------------------------------------------------


@dataclass
class Split:
    label: str
    cases: int
    fire_per_second: float
    commands_per_case: float  # INFO total_commands_processed: a script's own commands count
    deliver_per_second: float | None


async def _commands(client: aioredis.Redis) -> int:
    info: dict[str, Any] = await client.info("stats")
    return int(info["total_commands_processed"])


async def split(url: str, slack: SlackProcess, cases: int, web_chat: bool,
                deliver: bool) -> Split:
    """One process, in turn: `Scheduler.tick` until nothing is due, then (if `deliver`)
    `OutboxWorker.run_once` until the outbox is empty — what `frontdoor worker` interleaves."""
    from adapters.compose import build_scheduler, posting_deliverers
    from adapters.settings import Settings
    from bot.outbox import OutboxWorker
    from frontdoor_testkit.sched_harness import BOT_TOKEN, DIRECTORY

    prefix = f"bench:split:{int(web_chat)}:"
    await _seed_cases(url, prefix, cases)
    settings = Settings(slack_bot_token=BOT_TOKEN, slack_api_url=slack.url, redis_url=url,
                        frontdoor_redis_prefix=prefix, frontdoor_web_chat=web_chat,
                        _env_file=None)
    store = RedisStore(url, prefix)
    await store.open()
    client = aioredis.Redis.from_url(url)
    try:
        scheduler = build_scheduler(store, DIRECTORY, settings, "split")
        commands = await _commands(client)
        t0 = time.perf_counter()
        fired = 0
        while n := await scheduler.tick(datetime.now(UTC)):
            fired += n
        fire_s = time.perf_counter() - t0
        commands = await _commands(client) - commands
        assert fired == cases, fired
        rate = None
        if deliver:
            outbox = OutboxWorker(store, posting_deliverers(settings, store, DIRECTORY),
                                  "split")
            t0 = time.perf_counter()
            posts = 0
            while n := await outbox.run_once():
                posts += n
            rate = posts / (time.perf_counter() - t0)
            assert posts == 2 * cases, posts
        label = "FRONTDOOR_WEB_CHAT on (default)" if web_chat else "FRONTDOOR_WEB_CHAT=false"
        return Split(label, cases, cases / fire_s, commands / cases, rate)
    finally:
        await client.aclose()
        await store.close()


# -- the report --------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="open cases with timers, comma-separated (default 10k,100k,1M)")
    parser.add_argument("--reps", type=int, default=30, help="claims timed per size")
    parser.add_argument("--cases", type=int, default=2000, help="cases fired end to end")
    parser.add_argument("--workers", type=int, default=2, help="frontdoor worker processes")
    parser.add_argument("--split-cases", type=int, default=1000,
                        help="cases fired in process to show where the time goes (0: skip)")
    parser.add_argument("--memory-only", action="store_true",
                        help="only open --cases cases and break their memory down by key")
    args = parser.parse_args()
    if args.memory_only:
        with tempfile.TemporaryDirectory(prefix="bench-sched-") as tmp:
            server = start_redis_server(port := free_port(), Path(tmp) / "redis")
            try:
                print(f"2. memory per open case, redis-server {port}", flush=True)
                memory_only(f"redis://127.0.0.1:{port}/0", args.cases)
            finally:
                stop_redis_server(server)
        return 0
    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())

    began = time.perf_counter()
    splits: list[Split] = []
    with tempfile.TemporaryDirectory(prefix="bench-sched-") as tmp:
        port = free_port()
        server = start_redis_server(port, Path(tmp) / "redis")
        url = f"redis://127.0.0.1:{port}/0"
        slack = SlackProcess()
        try:
            print(f"redis-server {port}, fake Slack {slack.url}; {os.cpu_count()} CPUs",
                  flush=True)
            print("1. claim 100 due among N timers", flush=True)
            claimed = asyncio.run(claim_bench(url, sizes, args.reps))
            print(f"3. {args.cases:,} notices end to end, {args.workers} worker process(es)",
                  flush=True)
            e2e = end_to_end(url, slack, args.cases, args.workers, Path(tmp))
            if args.split_cases:
                print(f"4. {args.split_cases:,} cases fired in process", flush=True)
                splits = [asyncio.run(split(url, slack, args.split_cases, True, True)),
                          asyncio.run(split(url, slack, args.split_cases, False, False))]
        finally:
            slack.stop()
            stop_redis_server(server)

    print()
    print(f"{'open cases':>12} | {'claim 100 due: median':>21} | {'p90':>8} | "
          f"{'idle claim':>10} | {'Redis bytes/timer':>17}")
    print("-" * 82)
    for r in claimed:
        print(f"{r.n:>12,} | {r.median_ms:>18.2f} ms | {r.p90_ms:>5.2f} ms | "
              f"{r.idle_ms:>7.2f} ms | {r.bytes_per_timer:>17.0f}")
    print()
    print(f"notices end to end: {e2e.cases:,} due cases (1 notice each = 2 Slack calls), "
          f"{e2e.workers} `frontdoor worker` process(es):")
    print(f"  {e2e.notices_per_second:,.0f} notices/s, {e2e.posts / e2e.seconds:,.0f} Slack "
          f"calls/s ({e2e.seconds:.2f} s from the first claim to the last post)")
    for sp in splits:
        deliver = (f", deliver {sp.deliver_per_second:,.0f} Slack calls/s"
                   if sp.deliver_per_second else "")
        print(f"  in one process, {sp.label}: fire {sp.fire_per_second:,.0f} cases/s "
              f"({sp.commands_per_case:.0f} Redis commands a case, in scripts too){deliver}")
    print("Redis memory per open case (INFO used_memory delta / cases):")
    memory = [
        (f"timer only (at {claimed[-1].n:,} cases)", claimed[-1].bytes_per_timer, ""),
        (f"case record + history + indexes + timer (over {e2e.cases:,})", e2e.bytes_open,
         ""),
        ("… once its notice fired and was delivered", e2e.bytes_fired,
         " (+ sla_notice event, 7-day outbox de-dup keys, card ref)"),
    ]
    width = max(len(label) for label, _, _ in memory) + 2
    for label, value, note in memory:
        print(f"  {label + ':':<{width}}{value:>6.0f} B{note}")
    print()
    worst = max(r.median_ms for r in claimed)
    flat = claimed[-1].median_ms <= 1.5 * claimed[0].median_ms
    rate = e2e.notices_per_second
    checks = [
        (f"claim ≤ 5 ms at every N (worst median {worst:.2f} ms)", worst <= 5),
        (f"claim flat in N ({claimed[-1].n:,}: {claimed[-1].median_ms:.2f} ms, within 1.5× "
         f"of {claimed[0].n:,}: {claimed[0].median_ms:.2f} ms)", flat),
        (f"≥ 500 notices/s end to end ({rate:,.0f}/s)", rate >= 500),
        (f"≤ 2 KB per open case, timer only ({claimed[-1].bytes_per_timer:.0f} B)",
         claimed[-1].bytes_per_timer <= 2048),
        (f"≤ 2 KB per open case, case + history + timer ({e2e.bytes_open:.0f} B)",
         e2e.bytes_open <= 2048),
    ]
    print("targets:")
    width = max(len(text) for text, _ in checks) + 2
    for text, ok in checks:
        print(f"  {text:<{width}}{verdict(ok)}")
    print(f"(bench took {time.perf_counter() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
