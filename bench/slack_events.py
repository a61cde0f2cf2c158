"""Benchmark: signed Slack `app_mention` events through the whole Slack front door.

Run it from the repository root (about 5 minutes on a 2-core machine: the front door
acknowledges faster than it works, so the backlog is drained before the rate is taken):

    .venv/bin/python bench/slack_events.py                  # 2 s warm-up + 10 s per target
    .venv/bin/python bench/slack_events.py --seconds 4      # quicker smoke run
    .venv/bin/python bench/slack_events.py --only Redis     # the Redis targets only

Five targets, one after the other in the same run, each a fresh subprocess on 127.0.0.1,
each driven by this process at 32 concurrent (one aiohttp client session, connector limit
32, closed loop: every worker sends its next event as soon as the previous one is answered):

* `frontdoor serve` on SQLite (a temporary FRONTDOOR_DB) and on Redis (a redis-server of
  our own on a free port, a unique FRONTDOOR_REDIS_PREFIX), and on Redis as the Procfile
  runs it (the web process only acknowledging, FRONTDOOR_WEB_WORKS_QUEUE=false, and one
  `frontdoor worker`): the full path — signature check, timestamp, the bot token checked
  (auth.test, once), the event kept in the store's queue once per event id, then worked:
  conversation state, the intake handler, the durable outbox, and the outbound
  `chat.postMessage` to a fake Slack Web API (frontdoor_testkit/fake_slack.py). Every event is a
  distinct conversation: one of the demo customers' users says "hello" in their customer's
  channel with a thread ts of its own and a unique event id, so each is a real first intake
  turn (the bot answers "Hi … What kind of case is it?" in that thread). An event is *done*
  when the first `chat.postMessage` with `thread_ts` = the event's ts has reached the fake,
  not when it was acknowledged.
* (a) `bolt`: a trivial bolt `AsyncApp` (`authorize=`, a do-nothing `app_mention` listener,
  `to_bolt_request` → `async_dispatch` → `to_aiohttp_response`) — the ceiling for anything
  built on bolt; (b) `bare aiohttp`: a handler that answers 200 at once — the ceiling for
  HTTP on this machine. For these two, done = acknowledged. (bench/_slack_bench_apps.py)

Bodies (realistic ~1 KB `event_callback` envelopes with rich-text blocks) are built and
signed before the clock starts. The ceilings cycle through a pool of 8,192 bodies (they
neither de-duplicate nor keep state); the full-path pools have one body per event, sized
from the bolt ceiling's measured rate (the full path can't acknowledge faster than bolt).

Measured per target, over the events sent after the warm-up:

* ack latency p50/p99: request sent → response read, at the client;
* event→post p99: request sent → first post in its thread recorded by the fake (wall clock);
  an event with no post counts as never done, and "> N" is then a lower bound;
* events/s, sustained: for the ceilings, acknowledged events / (last ack − end of warm-up);
  for the full path, after the load stops we wait (bounded by --drain, or until the server
  has gone idle with posts missing) until every acknowledged event's post has arrived;
  rate = events done from the end of the warm-up on (including warm-up events still in the
  backlog then) / (last post − end of warm-up) — work pushed into the background after the
  ack is counted when it finishes, never hidden.
  Events whose post never arrived are reported and not counted.

Targets reported against (the issue's): ack p99 ≤ 50 ms at 32 concurrent, and a sustained
full-path rate ≥ 50 % of the trivial bolt app's rate in the same run.

The fake Slack runs in its own subprocess by default (`--fake process`), queried over a
control endpoint: in a thread of this process it competes with the load generator for the
GIL (see --fake thread to compare). CPU use of every process during the measured window is
printed under the table, so a saturated load generator would show.
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
import contextlib
import itertools
import json
import math
import signal
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp

from bench._slack_bench_apps import call_row
from frontdoor_testkit.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack
from frontdoor_testkit.redis_server import free_port, start_redis_server, stop_redis_server
from frontdoor_testkit.sched_harness import WorkerProcess
from frontdoor_testkit.server_process import ServerProcess
from frontdoor_testkit.slack_signing import BOT_TOKEN, SIGNING_SECRET, signed_headers

CONCURRENCY = 32
ACK_P99_TARGET_MS = 50.0
RATE_TARGET = 0.5  # of the trivial bolt app's rate
CEILING_POOL = 8192
# (user, their customer's channel) from examples/frontdoor.toml
SPEAKERS = [("U0ALICE", "C0ACME"), ("U0ADAM", "C0ACME"), ("U0GABRIELA", "C0GLOBEX"),
            ("U0IVAN", "C0INITECH"), ("U0IRENE", "C0INITECH"), ("U0UMA", "C0UMBRELLA"),
            ("U0ULRICH", "C0UMBRELLA"), ("U0NILS", "C0NORDLYS"), ("U0NANNA", "C0NORDLYS")]
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# ---- events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    body: bytes
    headers: dict[str, str]
    ts: str  # the message ts: the thread the bot answers in


def _mention(seq: int, run: str, user: str, channel: str) -> tuple[str, str]:
    """A realistic app_mention envelope (as Slack sends it, rich-text blocks included)."""
    ts = f"{int(time.time())}.{seq:06d}"
    text = f"<@{BOT_USER_ID}> hello"
    event = {
        "client_msg_id": str(uuid.UUID(int=seq)), "type": "app_mention", "text": text,
        "user": user, "ts": ts, "blocks": [{
            "type": "rich_text", "block_id": f"b{seq % 100000:05d}",
            "elements": [{"type": "rich_text_section", "elements": [
                {"type": "user", "user_id": BOT_USER_ID}, {"type": "text", "text": " hello"}]}],
        }],
        "team": TEAM_ID, "channel": channel, "event_ts": ts,
    }
    envelope = {
        "token": "legacy-verification-token", "team_id": TEAM_ID, "context_team_id": TEAM_ID,
        "context_enterprise_id": None, "api_app_id": "A0FRONTDOOR", "event": event,
        "type": "event_callback", "event_id": f"Ev{run}{seq:08d}", "event_time": int(ts[:10]),
        "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
        "event_context": f"4-eyJldCI6ImFwcF9tZW50aW9uIiwidGlkIjoiVDBOT1JUSFdJTkQiLCJhaWQiOi"
                         f"JBMEZST05URE9PUiIsImNpZCI6IntjaGFubmVsfSJ9-{seq:08d}",
    }
    return json.dumps(envelope), ts


def build_events(count: int, first_seq: int, run: str) -> list[Event]:
    """`count` signed events, distinct conversations (user, channel, thread ts) and ids."""
    out = []
    for seq in range(first_seq, first_seq + count):
        user, channel = SPEAKERS[seq % len(SPEAKERS)]
        body, ts = _mention(seq, run, user, channel)
        out.append(Event(body.encode(), signed_headers(body), ts))
    return out


# ---- the fake Slack: in a thread here, or in its own process ---------------------------------


class Posts(Protocol):
    url: str

    async def calls_since(self, index: int) -> list[list[Any]]: ...

    def stop(self) -> None: ...


class ThreadFake:
    def __init__(self) -> None:
        self.fake = FakeSlack()
        self.url = self.fake.start()

    async def calls_since(self, index: int) -> list[list[Any]]:
        with self.fake._lock:
            return [call_row(c) for c in self.fake.calls[index:]]

    def stop(self) -> None:
        self.fake.stop()


class ProcessFake:
    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.proc = _spawn(["fake", str(self.port)], log_path, stdout=subprocess.PIPE)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().decode().strip()
        if not self.url.startswith("http://"):
            raise RuntimeError(f"fake Slack did not start: {log_path.read_text()[-2000:]}")
        _wait_healthy(f"http://127.0.0.1:{self.port}", self.proc, log_path)
        self._session: aiohttp.ClientSession | None = None

    async def calls_since(self, index: int) -> list[list[Any]]:
        if self._session is None:
            self._session = aiohttp.ClientSession(trust_env=False)
        async with self._session.get(f"http://127.0.0.1:{self.port}/calls",
                                     params={"since": str(index)}) as resp:
            rows: list[list[Any]] = await resp.json()
            return rows

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def stop(self) -> None:
        _stop(self.proc)


# ---- subprocesses -------------------------------------------------------------------------


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if k.lower() not in {"http_proxy", "https_proxy", "all_proxy"}}


def _spawn(args: list[str], log_path: Path, stdout: int | None = None) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen([sys.executable, "-m", "bench._slack_bench_apps", *args],
                                cwd=_ROOT, env=_clean_env(), stdout=stdout or log,
                                stderr=log)


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log_path: Path,
                  timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited: {log_path.read_text()[-2000:]}")
        with contextlib.suppress(OSError), _NO_PROXY.open(url + "/healthz", timeout=2) as resp:
            if resp.status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not start: {log_path.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process (this one if `pid` is None)."""
    if pid is None:
        return time.process_time()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK  # utime, stime


def _machine_seconds() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine, all cores, from /proc/stat."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return math.nan, math.nan
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq) / _CLK_TCK, steal / _CLK_TCK


# ---- load -----------------------------------------------------------------------------------


@dataclass
class Sample:
    index: int
    sent_wall: float  # time.time() when the request was sent
    sent: float  # perf_counter
    acked: float  # perf_counter when the response was read
    status: int


@dataclass
class LoadResult:
    samples: list[Sample]
    warm_end_wall: float
    load_end_wall: float
    exhausted: bool
    errors: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # % of one core in the window


async def drive(url: str, events: Sequence[Event], warmup: float, seconds: float,
                cycle: bool, watch: dict[str, int | None]) -> LoadResult:
    """32 workers, closed loop, for warmup + seconds; CPU of `watch` measured after warm-up."""
    connector = aiohttp.TCPConnector(limit=CONCURRENCY, limit_per_host=CONCURRENCY)
    samples: list[Sample] = []
    errors: dict[str, int] = {}
    counter = itertools.count()
    exhausted = False
    start = time.perf_counter()
    warm_end, end = start + warmup, start + warmup + seconds
    cpu_start: dict[str, float] = {}

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal exhausted
        while time.perf_counter() < end:
            i = next(counter)
            if i >= len(events) and not cycle:
                exhausted = True
                return
            event = events[i % len(events)]
            sent_wall, sent = time.time(), time.perf_counter()
            try:
                async with session.post(url, data=event.body, headers=event.headers) as resp:
                    await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                continue
            samples.append(Sample(i, sent_wall, sent, time.perf_counter(), status))

    marks: list[float] = []  # perf_counter at the end of the warm-up (CPU counters read)

    async def cpu_mark() -> None:
        await asyncio.sleep(max(0.0, warm_end - time.perf_counter()))
        cpu_start.update({name: _cpu_seconds(pid) for name, pid in watch.items()})
        cpu_start["machine"], cpu_start["steal"] = _machine_seconds()
        marks.append(time.perf_counter())

    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=False,
                                     auto_decompress=False) as session:
        marker = asyncio.create_task(cpu_mark())
        await asyncio.gather(*(worker(session) for _ in range(CONCURRENCY)))
        stop = time.perf_counter()
        if not marks:  # every worker gave up during the warm-up (the pool ran out)
            marker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await marker
            cpu_start.update({name: _cpu_seconds(pid) for name, pid in watch.items()})
            cpu_start["machine"], cpu_start["steal"] = _machine_seconds()
            marks.append(stop)
    span = max(1e-9, stop - marks[0])
    wall_offset = time.time() - time.perf_counter()
    cpu = {name: 100.0 * (_cpu_seconds(pid) - cpu_start[name]) / span
           for name, pid in watch.items()}
    busy, steal = _machine_seconds()
    others = 100.0 * (busy - cpu_start["machine"]) / span - sum(cpu.values())
    cpu["not ours (kernel, other processes)"] = max(0.0, others)
    cpu["steal"] = 100.0 * (steal - cpu_start["steal"]) / span
    return LoadResult(samples, warm_end + wall_offset, min(stop, end) + wall_offset, exhausted,
                      errors, cpu)


# ---- one target -----------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    rate: float
    ack_p50: float
    ack_p99: float
    post_p99: float | None
    notes: list[str] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)
    full: bool = False
    post_floor: float = math.nan  # a lower bound of event→post p99, when that p99 is "never"


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _measured(load: LoadResult) -> list[Sample]:
    return [s for s in load.samples if s.sent_wall >= load.warm_end_wall]


def _ack_stats(samples: list[Sample]) -> tuple[float, float]:
    acks = [1000.0 * (s.acked - s.sent) for s in samples if s.status == 200]
    return _pct(acks, 0.50), _pct(acks, 0.99)


def _status_note(load: LoadResult) -> list[str]:
    bad: dict[int, int] = {}
    for s in load.samples:
        if s.status != 200:
            bad[s.status] = bad.get(s.status, 0) + 1
    notes = [f"HTTP {code}: {n} responses" for code, n in sorted(bad.items())]
    notes += [f"{name}: {n} client errors" for name, n in sorted(load.errors.items())]
    if load.exhausted:
        notes.append("the pre-signed event pool ran out before the time was up")
    return notes


def ceiling_row(name: str, load: LoadResult) -> Row:
    measured = [s for s in _measured(load) if s.status == 200]
    wall = [s.sent_wall + (s.acked - s.sent) for s in measured]
    span = (max(wall) - load.warm_end_wall) if wall else math.nan
    p50, p99 = _ack_stats(measured)
    return Row(name, len(measured) / span, p50, p99, None, _status_note(load), load.cpu)


async def full_row(name: str, load: LoadResult, events: Sequence[Event], fake: Posts,
                   since: int, drain: float, server_pid: int) -> Row:
    """Wait (bounded) for every acknowledged event's first post, then compute the row.

    The wait ends when every acknowledged event has its first post and no post came for half
    a second (a second reply may follow), when the server has gone idle with posts still
    missing (they will never come), or after `drain` seconds."""
    acked = {events[s.index].ts: s for s in load.samples if s.status == 200}
    first: dict[str, float] = {}
    seen: dict[tuple[str, str], int] = {}  # (thread, text) → posts: a repeat is a duplicate
    posts, index = 0, since
    deadline = time.monotonic() + drain
    quiet_since = time.monotonic()
    cpu_mark = (time.monotonic(), _cpu_seconds(server_pid))
    stalled = False
    while True:
        rows = await fake.calls_since(index)
        index += len(rows)
        for method, _channel, thread, at, text in rows:
            if method != "chat.postMessage":
                continue
            posts += 1
            if thread is not None:
                first.setdefault(thread, at)
                seen[(thread, str(text))] = seen.get((thread, str(text)), 0) + 1
        now = time.monotonic()
        if rows:
            quiet_since = now
        if all(ts in first for ts in acked):
            if now - quiet_since >= 0.5:
                break
        elif now - cpu_mark[0] >= 2.0:
            busy = (_cpu_seconds(server_pid) - cpu_mark[1]) / (now - cpu_mark[0])
            if busy < 0.05 and now - quiet_since >= 2.0:
                stalled = True
                break
            cpu_mark = (now, _cpu_seconds(server_pid))
        if now > deadline:
            break
        await asyncio.sleep(0.2)
    waited_until = time.time()
    measured = [s for s in _measured(load) if s.status == 200]
    p50, p99 = _ack_stats(measured)
    e2p = [1000.0 * (first[events[s.index].ts] - s.sent_wall) if events[s.index].ts in first
           else math.inf for s in measured]
    # a lower bound: an event still without a post took at least until we stopped waiting
    e2p_floor = [1000.0 * (waited_until - s.sent_wall) if v == math.inf else v
                 for s, v in zip(measured, e2p, strict=True)]
    done_at = [at for ts, at in first.items() if ts in acked and at >= load.warm_end_wall]
    last = max(done_at) if done_at else math.nan
    after = f"{last - load.load_end_wall:.1f} s after the load stopped" if done_at else "none"
    rate = len(done_at) / (last - load.warm_end_wall) if done_at else 0.0
    missing = sum(1 for ts in acked if ts not in first)
    in_load = sum(1 for at in done_at if at <= load.load_end_wall)
    load_secs = load.load_end_wall - load.warm_end_wall
    duplicates = sum(n - 1 for n in seen.values())
    notes = _status_note(load)
    notes.append(f"acknowledged {len(measured) / load_secs:,.0f}/s and posted (first replies) "
                 f"{in_load / load_secs:,.0f}/s while loaded; last post: {after}")
    notes.append(f"{posts:,} chat.postMessage for {len(first):,} threads "
                 f"({posts / max(1, len(first)):.2f} per thread), {duplicates:,} duplicates "
                 "(same text twice in a thread)")
    if missing:
        why = "the server went idle" if stalled else f"the {drain:g} s drain"
        notes.append(f"{missing:,} of {len(acked):,} acknowledged events had no post after "
                     f"{why} (not counted; event→post p99 counts them as never)")
    return Row(name, rate, p50, p99, _pct(e2p, 0.99), notes, load.cpu, full=True,
               post_floor=_pct(e2p_floor, 0.99))


# ---- the run --------------------------------------------------------------------------------


@dataclass
class Plan:
    warmup: float
    seconds: float
    drain: float
    fake_mode: str
    log_level: str
    keep: bool
    only: str | None = None


def _fmt(value: float | None, spec: str = ",.1f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return format(value, spec)


def _post(row: Row) -> str:
    if row.post_p99 == math.inf:
        return f"> {row.post_floor:,.0f}"
    return _fmt(row.post_p99, ",.0f")


def print_report(rows: list[Row], plan: Plan, cpus: int) -> None:
    bolt = next(r for r in rows if r.name.startswith("(a)"))
    bare = next(r for r in rows if r.name.startswith("(b)"))
    head = ["target", "events/s", "ack p50 ms", "ack p99 ms", "event→post p99 ms",
            "ratio to bolt", "ratio to bare"]
    table = [head]
    for r in rows:
        table.append([r.name, _fmt(r.rate, ",.0f"), _fmt(r.ack_p50), _fmt(r.ack_p99),
                      _post(r), f"{r.rate / bolt.rate:.2f}",
                      f"{r.rate / bare.rate:.3f}"])
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    print()
    where = "its own subprocess" if plan.fake_mode == "process" else \
        "a thread of the load generator"
    print(f"Slack app_mention events, {CONCURRENCY} concurrent, {plan.warmup:g} s warm-up + "
          f"{plan.seconds:g} s per target; cpu count {cpus}; fake Slack in {where}; "
          f"server LOG_LEVEL={plan.log_level}")
    for i, row in enumerate(table):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:],
                                                                            strict=True)]
        print(" | ".join(cells))
        if i == 0:
            print("-+-".join("-" * w for w in widths))
    print()
    for r in rows:
        cpu = ", ".join(f"{name} {_fmt(v, '.0f')} %" for name, v in r.cpu.items())
        print(f"{r.name}: CPU during the measured window (% of one core): {cpu}")
        if r.cpu.get("load generator", 0.0) >= 90.0:
            print("    the load generator was saturated: this rate is a lower bound")
        for note in r.notes:
            print(f"    {note}")
    print()
    for r in rows:
        if not r.full:
            continue
        ack_ok = r.ack_p99 <= ACK_P99_TARGET_MS
        rate_ok = r.rate >= RATE_TARGET * bolt.rate
        print(f"{r.name}: ack p99 {r.ack_p99:.1f} ms ≤ {ACK_P99_TARGET_MS:g} ms at "
              f"{CONCURRENCY} concurrent: {'met' if ack_ok else 'MISSED'}")
        print(f"{r.name}: sustained {r.rate:,.0f} events/s ≥ {RATE_TARGET:.0%} of bolt's "
              f"{bolt.rate:,.0f}/s ({r.rate / bolt.rate:.0%}): {'met' if rate_ok else 'MISSED'}")


async def run(plan: Plan, tmp: Path) -> list[Row]:
    rows: list[Row] = []
    stack: list[Any] = []  # things to stop, last first
    run_id = uuid.uuid4().hex[:6]
    fake: ThreadFake | ProcessFake | None = None

    def stop_all() -> None:
        for thing in reversed(stack):
            with contextlib.suppress(Exception):
                thing()
        stack.clear()

    try:
        fake = ProcessFake(tmp / "fake.log") if plan.fake_mode == "process" else ThreadFake()
        stack.append(fake.stop)
        fake_pid = fake.proc.pid if isinstance(fake, ProcessFake) else None

        ceiling_events = build_events(CEILING_POOL, 1, run_id)
        next_seq = 1 + CEILING_POOL
        for name, kind in [("(b) bare aiohttp", "bare"), ("(a) trivial bolt app", "bolt")]:
            port = free_port()
            log = tmp / f"{kind}.log"
            proc = _spawn([kind, str(port)], log)
            stack.append(lambda p=proc: _stop(p))
            _wait_healthy(f"http://127.0.0.1:{port}", proc, log)
            print(f"running {name} …", flush=True)
            load = await drive(f"http://127.0.0.1:{port}/slack/events", ceiling_events,
                               plan.warmup, plan.seconds, cycle=True,
                               watch={"server": proc.pid, "load generator": None})
            rows.append(ceiling_row(name, load))
            _stop(proc)
        bolt_rate = rows[-1].rate
        pool = int(bolt_rate * (plan.warmup + plan.seconds) * 1.3) + 2000

        redis_port = free_port()
        redis_proc = start_redis_server(redis_port, tmp / "redis")
        stack.append(lambda: stop_redis_server(redis_proc))
        common = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                  "SLACK_API_URL": fake.url, "LOG_LEVEL": plan.log_level}
        stores = [
            ("frontdoor serve, SQLite", {"FRONTDOOR_DB": str(tmp / "bench.db")}, None),
            ("frontdoor serve, Redis", {"FRONTDOOR_DB": str(tmp / "unused.db"),
                                        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                                        "FRONTDOOR_REDIS_PREFIX": f"bench:{run_id}:"},
             redis_proc.pid),
            ("frontdoor serve + worker, Redis", {
                "FRONTDOOR_DB": str(tmp / "unused.db"),
                "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
                "FRONTDOOR_REDIS_PREFIX": f"bench:{run_id}:w:",
                "FRONTDOOR_WEB_WORKS_QUEUE": "false"}, redis_proc.pid),
        ]
        stores = [s for s in stores if plan.only is None or plan.only in s[0]]
        for name, env, redis_pid in stores:
            events = build_events(pool, next_seq, run_id)
            next_seq += pool
            server = ServerProcess({**common, **env}, tmp / f"serve-{len(rows)}.log")
            stack.append(server.stop)
            worker = None
            if env.get("FRONTDOOR_WEB_WORKS_QUEUE") == "false":  # as the Procfile runs it
                worker = WorkerProcess({**common, **env}, tmp / f"worker-{len(rows)}.log")
                stack.append(worker.kill)
                worker.wait_started()
            since = len(await fake.calls_since(0))
            watch: dict[str, int | None] = {"server": server.proc.pid, "load generator": None}
            if fake_pid is not None:
                watch["fake Slack"] = fake_pid
            if redis_pid is not None:
                watch["redis"] = redis_pid
            if worker is not None:
                watch["worker"] = worker.pid
            print(f"running {name} …", flush=True)
            load = await drive(server.url + "/slack/events", events, plan.warmup, plan.seconds,
                               cycle=False, watch=watch)
            rows.append(await full_row(name, load, events, fake, since, plan.drain,
                                       worker.pid if worker else server.proc.pid))
            server.stop()
            if worker is not None:
                worker.kill()
        if plan.keep:
            print(f"logs kept in {tmp}")
        return rows
    finally:
        if isinstance(fake, ProcessFake):
            await fake.close()
        stop_all()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per target")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per target")
    parser.add_argument("--drain", type=float, default=180.0,
                        help="longest wait for the full path's posts after the load stops")
    parser.add_argument("--fake", choices=["process", "thread"], default="process",
                        help="where the fake Slack Web API runs (default: its own process)")
    parser.add_argument("--log-level", default="INFO", help="LOG_LEVEL of frontdoor serve")
    parser.add_argument("--keep", action="store_true", help="keep the servers' logs")
    parser.add_argument("--only", help="run only the full-path targets whose name contains "
                        "this (e.g. 'Redis'); the two ceilings always run")
    args = parser.parse_args(argv)
    # a plain `kill` must stop the servers too: turn SIGTERM into SystemExit (finally blocks run)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    plan = Plan(args.warmup, args.seconds, args.drain, args.fake, args.log_level, args.keep,
                args.only)
    with _tmpdir(plan.keep) as tmp:
        rows = asyncio.run(run(plan, tmp))
    print_report(rows, plan, os.cpu_count() or 0)
    return 0


@contextlib.contextmanager
def _tmpdir(keep: bool) -> Iterator[Path]:
    if keep:
        yield Path(tempfile.mkdtemp(prefix="slack-bench-"))
        return
    with tempfile.TemporaryDirectory(prefix="slack-bench-") as tmp:
        yield Path(tmp)


if __name__ == "__main__":
    raise SystemExit(main())
