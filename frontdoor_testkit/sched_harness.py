"""What the scheduler's real-process fault tests (and bench/scheduler.py) share.

- Case *specs* at chosen instants, opened in any store through `CaseService` with the
  scheduler's `reschedule` as on_change, exactly as the bot opens them (`seed`).
- An *oracle*: the same specs opened in a throw-away SQLite store and fired by the real
  `Scheduler` at every moment's instant (never before `start`: overdue moments fire together
  then, as a worker started then fires them), its notices turned into Slack posts by the real
  `notice_items`. What it posts, per case and in order, is what the workers must post.
- `RecordingSlack`: the fake Slack Web API (frontdoor_testkit/fake_slack.py) that also keeps every
  chat.postMessage / chat.update it answered ok (with the ts it returned), and can refuse a
  scripted series of calls (429 with Retry-After, 5xx) before answering again.
- `WorkerProcess`: `frontdoor worker` as a real process, its JSON log in a file.

Posts are compared by what they say, not word for word: a reminder's text carries the time
left, which moves with the clock. `classify` keeps what must not change (which case, which
notice, which clock, which threshold).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from adapters.slack.delivery import SlackPost
from adapters.slack.notices import notice_items
from bot.deployment import Directory, load_deployment
from bot.intake import CaseDraft
from bot.messages import Notice, Place
from bot.records import OPEN_STATUSES, ScopeVerdict
from bot.scheduler import Scheduler, SchedulerSettings, next_moment
from bot.store.base import Store
from bot.store.sqlite import SqliteStore
from frontdoor_testkit.fake_slack import FakeSlack
from policy.pack import Pack
from policy.scope import decide_scope

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = Directory(load_deployment(ROOT / "examples" / "frontdoor.toml"))
SETTINGS = SchedulerSettings()  # what a worker runs with by default (FRONTDOOR_REMINDERS 50,75,90)
POST_METHODS = frozenset({"chat.postMessage", "chat.update"})
BOT_TOKEN = "xoxb-sched-faults"


def utcnow() -> datetime:
    return datetime.now(UTC)


# -- case specs and seeding ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Spec:
    """A case to open: who files it, for which customer, what, and when (in a Slack thread
    of the customer's channel, so customer-facing notices are posted too)."""

    reporter: str
    customer: str
    case_type: str
    priority: str | None
    deployment: str | None
    opened_at: datetime


# One kind of case per demo customer (all four packs). Opened long enough ago, each has
# missed its response target whatever the calendar: one breach each, and nothing after.
DEMO_KINDS: tuple[tuple[str, str, str, str | None, str | None], ...] = (
    ("alice", "acme", "incident", "P1", "acme-prod"),
    ("adam", "acme", "query", None, None),
    ("gabriela", "globex", "incident", "P2", "globex-prod"),
    ("irene", "initech", "query", None, None),
    ("uma", "umbrella", "incident", "high", "identity-platform"),
    ("nanna", "nordlys", "incident", "highest", "nordlys-prod"),
)
# ConnectSoft Premium: critical incidents count 24/7, a 1-hour response target; so the
# instant of each reminder and of the breach is the opening instant plus a fixed offset,
# whatever the wall clock says.
CRITICAL = ("uma", "umbrella", "incident", "critical", "identity-platform")


def overdue(count: int, now: datetime, days: int = 40) -> list[Spec]:
    """`count` cases across the demo customers, opened `days` ago (a minute apart)."""
    return [Spec(*DEMO_KINDS[i % len(DEMO_KINDS)],
                 opened_at=now - timedelta(days=days, minutes=i)) for i in range(count)]


def reminder_due(instants: Iterable[datetime]) -> list[Spec]:
    """A critical ConnectSoft case per instant, whose 50 % response reminder is due then
    (its immediate escalation is due at once; the 75 % reminder 15 minutes later)."""
    return [Spec(*CRITICAL, opened_at=at - timedelta(minutes=30)) for at in instants]


def breach_due(instants: Iterable[datetime]) -> list[Spec]:
    """A critical ConnectSoft case per instant, whose response target is missed then; its
    90 % reminder (6 minutes before) is due at once: two notices, at two instants."""
    return [Spec(*CRITICAL, opened_at=at - timedelta(hours=1)) for at in instants]


async def _no_sink(notices: Sequence[Notice], key: str, now: datetime) -> None:
    return None


_DESCRIPTION = "Sign-in fails for every user with error 500 since this morning"


def intake_answers(pack: Pack, case_type: str) -> dict[str, str]:
    """What a customer answers to the pack's own intake questions for this case type (the
    first option, or a short text), as the intake stores it."""
    return {name: spec.options[0].label if spec.options else "Identity connector 4.2"
            for name, spec in pack.intake.items()
            if spec.case_types is None or case_type in spec.case_types}


async def seed(store: Store, specs: Sequence[Spec]) -> list[str]:
    """Open the cases in order, scheduled as the bot schedules them; returns their ids.
    Each is what the intake would file: the pack's details answered, the scope decided by
    the pack's rules, the priority chosen by the customer with the intake's reason."""
    scheduler = Scheduler(store, DIRECTORY, _no_sink, "seed", SETTINGS)
    ids: list[str] = []
    for n, spec in enumerate(specs):
        person = DIRECTORY.person(spec.reporter)
        assert person is not None, spec.reporter
        customer = DIRECTORY.customer(spec.customer)
        dep = customer.deployment(spec.deployment) if spec.deployment else None
        pack = DIRECTORY.pack_of(spec.customer)
        fields = intake_answers(pack, spec.case_type)
        decided = decide_scope(pack.scope, " ".join([_DESCRIPTION, *fields.values()]), {},
                               case_type=spec.case_type)
        draft = CaseDraft(
            customer_id=spec.customer, case_type=spec.case_type, priority=spec.priority,
            requested_priority=spec.priority, priority_source="customer",
            priority_reason=(f"Chosen by the customer ({pack.priorities[spec.priority].label}); "
                             "the subscriber initially determines the priority."
                             if spec.priority else None),
            deployment=spec.deployment,
            environment=dep.environment if dep else None, managed=bool(dep and dep.managed),
            hypercare=False, fields=fields, description=_DESCRIPTION,
            scope=ScopeVerdict(decision=decided.decision, rule=decided.rule,
                               clause=decided.clause, explanation=decided.explanation))
        place = Place("slack", customer.slack_channels[0], f"1700000000.{n:06d}")
        case = await scheduler.cases.open_case(person, draft, place, spec.opened_at)
        ids.append(case.id)
    return ids


async def seed_redis(url: str, prefix: str, specs: Sequence[Spec]) -> list[str]:
    from bot.store.redis import RedisStore

    store = RedisStore(url, prefix)
    await store.open()
    try:
        return await seed(store, specs)
    finally:
        await store.close()


# -- what the posts say ------------------------------------------------------------------------

_ID = r"[A-Z]+-\d+"
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("reminder", re.compile(rf"⏰ (?P<case>{_ID}): (?P<what>\d+ % of the .+?) target used")),
    ("breach", re.compile(rf"🔴 (?P<case>{_ID}): the (?P<what>.+?) target \(")),
    ("customer breach", re.compile(rf"The (?P<what>.+?) target on (?P<case>{_ID}) was missed")),
    ("status", re.compile(rf"📝 (?P<case>{_ID}): (?P<what>.+?)[.:]")),
    ("war team", re.compile(rf"War team for (?P<case>{_ID})(?P<what>)")),
    ("card", re.compile(rf"^(?P<case>{_ID}) · (?P<what>)")),
)


def classify(text: str) -> tuple[str | None, str]:
    """(case id, what the post is) of a post's text, without what moves with the clock."""
    for kind, pattern in _KINDS:
        found = pattern.search(text)
        if found:
            what = found.group("what")
            return found.group("case"), f"{kind}: {what}" if what else kind
    other = re.search(rf"(?<![A-Za-z0-9-])({_ID})(?!\d)", text)
    return (other.group(1) if other else None), f"other: {text[:60]}"


@dataclass(frozen=True, slots=True)
class Post:
    """One post as the fake Slack should see it."""

    method: str
    channel: str
    threaded: bool
    what: str

    def __str__(self) -> str:
        return f"{self.method} {self.channel}{' (thread)' if self.threaded else ''}: {self.what}"


# -- the oracle ----------------------------------------------------------------------------------


async def oracle(specs: Sequence[Spec], start: datetime, horizon: datetime,
                 db: Path) -> dict[str, list[Post]]:
    """Per case, the posts a punctual worker started at `start` makes until `horizon`."""
    db.unlink(missing_ok=True)
    store = SqliteStore(db)
    await store.open()
    expected: dict[str, list[Post]] = {}
    cards: set[str] = set()

    async def sink(notices: Sequence[Notice], key: str, now: datetime) -> None:
        for index, notice in enumerate(notices):
            for item in await notice_items(store, DIRECTORY, notice, now, key=f"{key}/{index}"):
                post = SlackPost.model_validate(item.payload)
                case, what = classify(str(post.message.get("text", "")))
                assert case is not None and case == item.case_id, (case, item.case_id, what)
                method = "chat.postMessage"
                threaded = post.thread_ts is not None or post.op == "thread_reply"
                if post.op == "card" and post.card_key:
                    if post.card_key in cards:
                        method, threaded = "chat.update", False
                    cards.add(post.card_key)
                expected.setdefault(case, []).append(
                    Post(method, post.channel or "", threaded, what))

    try:
        scheduler = Scheduler(store, DIRECTORY, sink, "oracle", SETTINGS)
        ids = await seed(store, specs)
        expected.update({case_id: [] for case_id in ids})
        at = start
        for _ in range(10_000):
            while await scheduler.tick(at):
                pass
            upcoming = []
            for case_id in ids:
                case = await store.get_case(case_id)
                if case is None or case.status not in OPEN_STATUSES:
                    continue
                moment = next_moment(DIRECTORY, case, await store.case_events(case_id), at,
                                     SETTINGS)
                if moment is not None:
                    upcoming.append(moment)
            if not upcoming or min(upcoming) > horizon:
                return expected
            at = max(at, min(upcoming))
        raise AssertionError("the oracle did not settle")
    finally:
        await store.close()


def run_oracle(specs: Sequence[Spec], start: datetime, horizon: datetime,
               db: Path) -> dict[str, list[Post]]:
    return asyncio.run(oracle(specs, start, horizon, db))


# -- the fake Slack, recording what it accepted --------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sent:
    method: str
    channel: str
    text: str
    thread_ts: str | None
    ts: str | None  # the message's ts: returned by a post, named by an update
    at: float
    status: int
    retry_after: int | None = None

    @property
    def post(self) -> Post:
        _, what = classify(self.text)
        threaded = self.method == "chat.postMessage" and bool(self.thread_ts)
        return Post(self.method, self.channel, threaded, what)

    @property
    def case(self) -> str | None:
        return classify(self.text)[0]

    def same_request(self, other: Sent) -> bool:
        return (self.method, self.channel, self.text, self.thread_ts) == (
            other.method, other.channel, other.text, other.thread_ts)


def _params(raw: bytes, content_type: str) -> dict[str, Any]:
    if "json" in content_type:
        loaded = json.loads(raw or b"{}")
        return loaded if isinstance(loaded, dict) else {}
    return dict(parse_qsl(raw.decode()))


@dataclass
class RecordingSlack(FakeSlack):
    """FakeSlack keeping the chat.postMessage / chat.update calls it answered ok
    (`delivered`) and the ones it refused on purpose (`refused`), in arrival order."""

    delivered: list[Sent] = field(default_factory=list)
    refused: list[Sent] = field(default_factory=list)
    _script: dict[str, list[tuple[int, int | None]]] = field(default_factory=dict)

    def refuse(self, method: str, faults: Sequence[tuple[int, int | None]]) -> None:
        """Answer the next calls of `method` with these (status, Retry-After) first, one
        each, in order; then answer normally again."""
        with self._lock:
            self._script.setdefault(method, []).extend(faults)

    def faults_left(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._script.values())

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method not in POST_METHODS:
            return await super()._api(request)
        params = _params(await request.read(), request.headers.get("Content-Type", ""))
        channel, text = str(params.get("channel", "")), str(params.get("text", ""))
        thread = params.get("thread_ts")
        with self._lock:
            script = self._script.get(method)
            fault = script.pop(0) if script else None
            if fault is not None:
                status, retry_after = fault
                self.refused.append(Sent(method, channel, text, thread, params.get("ts"),
                                         time.time(), status, retry_after))
        if fault is not None:
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            error = "ratelimited" if status == 429 else "internal_error"
            return web.json_response({"ok": False, "error": error}, status=status,
                                     headers=headers)
        response = await super()._api(request)
        assert response.body is not None and isinstance(response.body, bytes)
        body = json.loads(response.body)
        if response.status == 200 and body.get("ok"):
            with self._lock:
                self.delivered.append(Sent(method, channel, text, thread, body.get("ts"),
                                           time.time(), response.status))
        return response

    def sent(self) -> list[Sent]:
        with self._lock:
            return list(self.delivered)

    def wait_delivered(self, count: int, timeout: float) -> list[Sent]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = self.sent()
            if len(sent) >= count:
                return sent
            time.sleep(0.05)
        sent = self.sent()
        raise AssertionError(f"expected {count} posts within {timeout:.0f}s, got {len(sent)}")


def check_posts(expected: dict[str, list[Post]], sent: Sequence[Sent]) -> list[str]:
    """Every expected post exactly once and in order, per case; nothing else; every
    engineers' thread reply under that case's card. Returns the problems found."""
    actual: dict[str | None, list[Sent]] = {}
    for s in sent:
        actual.setdefault(s.case, []).append(s)
    problems = []
    for case_id, posts in sorted(expected.items()):
        got = [s.post for s in actual.get(case_id, [])]
        if got != posts:
            problems.append(f"{case_id}: expected\n    " + "\n    ".join(map(str, posts))
                            + "\n  got\n    " + "\n    ".join(map(str, got)))
            continue
        card = next((s for s in actual.get(case_id, [])
                     if s.post.what == "card" and s.method == "chat.postMessage"
                     and not s.thread_ts), None)
        for s in actual.get(case_id, []):
            if card is None or s.channel != card.channel or s is card:
                continue
            ref = s.ts if s.method == "chat.update" else s.thread_ts
            if ref != card.ts:
                problems.append(f"{case_id}: {s.post} refers to {ref}, its card is {card.ts}")
    for other in sorted(set(actual) - set(expected), key=str):
        problems.append(f"unexpected posts for {other}: "
                        + "; ".join(str(s.post) for s in actual[other]))
    return problems


# -- `frontdoor worker` as a process -------------------------------------------------------------


def worker_env(redis_url: str, prefix: str, slack_url: str, *,
               lease_seconds: float | None = None) -> dict[str, str]:
    env = {"REDIS_URL": redis_url, "FRONTDOOR_REDIS_PREFIX": prefix,
           "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "sched-faults-secret",
           "SLACK_API_URL": slack_url, "FRONTDOOR_DB": os.devnull + ".unused",
           # the cases these tests seed may fall in last month: its reports (uploaded to
           # Slack) would be posts the oracle doesn't expect
           "FRONTDOOR_MONTHLY_REPORTS": "false"}
    if lease_seconds is not None:
        env["FRONTDOOR_SCHEDULER_LEASE_SECONDS"] = str(lease_seconds)
    return env


_INHERITED_OFF = ("SLACK_", "FRONTDOOR_", "MICROSOFT_", "REDIS_URL")


class WorkerProcess:
    """`frontdoor worker` with these environment overrides; its log (JSON lines) in a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        full_env = {k: v for k, v in os.environ.items()
                    if k.lower() not in {"http_proxy", "https_proxy", "all_proxy"}
                    and not k.upper().startswith(_INHERITED_OFF)}
        full_env.update({"LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1", **env})
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "adapters.cli", "worker"], cwd=ROOT,
                                     env=full_env, stdout=self._log, stderr=subprocess.STDOUT)
        self.pid = self.proc.pid

    @property
    def holder_prefix(self) -> str:
        """How this process names itself as a lease holder (adapters.worker.worker_id)."""
        return f"worker-{self.pid}-"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def logs(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                out.append(entry)
        return out

    def wait_started(self, timeout: float = 30.0) -> str:
        """The worker id, once the process logged that it runs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for entry in self.logs():
                if entry.get("message") == "worker started":
                    return str(entry.get("worker"))
            if not self.alive():
                raise RuntimeError(f"worker exited: {self.log_path.read_text()[-3000:]}")
            time.sleep(0.05)
        raise RuntimeError(f"worker did not start: {self.log_path.read_text()[-3000:]}")

    def freeze(self) -> None:
        """SIGSTOP: the process stops wherever it is (`thaw` lets it go on)."""
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def kill(self) -> None:
        """kill -9."""
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            self.thaw()
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


# -- the timers in Redis, read directly --------------------------------------------------------


def lease_holders(client: Any, prefix: str) -> dict[str, str]:
    """case id → the worker recorded as holding its timer (timers:lease in bot/store/redis)."""
    raw: dict[str, str] = client.hgetall(f"{prefix}timers:lease")
    return {case: value.split(":", 2)[2] for case, value in raw.items()}


async def timers_disagreeing(store: Store, client: Any, prefix: str, ids: Iterable[str],
                             at: datetime) -> list[str]:
    """Cases whose stored timer isn't their next moment at `at` (None: no timer)."""
    from bot.store._codec import epoch_micros

    wrong = []
    for case_id in ids:
        case = await store.get_case(case_id)
        assert case is not None
        want = next_moment(DIRECTORY, case, await store.case_events(case_id), at, SETTINGS)
        due = client.zscore(f"{prefix}timers:due", case_id)
        leased = client.zscore(f"{prefix}timers:leased", case_id)
        got = None if due is None else int(due)
        expected = None if want is None else epoch_micros(want, "want")
        if leased is not None or got != expected:
            wrong.append(f"{case_id}: timer {got} (leased: {leased is not None}), "
                         f"next moment {expected} ({want})")
    return wrong


# -- the fake Slack in a process of its own (for bench/scheduler.py) ----------------------------


def _serve_slack(port: int) -> None:
    """`python -m frontdoor_testkit.sched_harness PORT`: a RecordingSlack (first stdout line:
    its API URL) and, on 127.0.0.1:PORT, `GET /stats` → {"count", "first", "last", "cases"}: how
    many posts it accepted, when the first and the last arrived (its time.time()), and
    (with `?cases=1`) for how many distinct cases."""
    fake = RecordingSlack()
    print(fake.start(), flush=True)

    async def stats(request: web.Request) -> web.Response:
        sent = fake.sent()
        cases = len({s.case for s in sent}) if request.query.get("cases") else None
        return web.json_response({"count": len(sent), "first": sent[0].at if sent else None,
                                  "last": sent[-1].at if sent else None, "cases": cases})

    app = web.Application()
    app.router.add_get("/stats", stats)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None,
                handle_signals=True)
    fake.stop()


if __name__ == "__main__":
    _serve_slack(int(sys.argv[1]))
