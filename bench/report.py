"""SLA reports over a busy month: 10,000 cases of the demo deployment in November 2026 (a mix
of the four packs, with pauses, late acknowledgements and status updates, workarounds,
satisfaction answers, service windows and outages), on SQLite and on Redis; the time and the
peak memory of building every customer's report and rendering it as HTML (with its charts)
and as CSV. Targets: under 2 s and 200 MB each.

    .venv/bin/python bench/report.py                      # both stores, 10,000 cases
    .venv/bin/python bench/report.py --cases 2000 --stores sqlite
    .venv/bin/python bench/report.py --json

Each measurement runs in a fresh process (so the memory is that run's own high-water mark:
the process's peak RSS, libraries included, and what it was before the run), timed after the
imports (the chart library's too). The cases are written straight into the store (seeding
is not timed). Redis: REDIS_URL, or a redis-server started on a free port.

Measured on a shared 2-CPU machine (load average 2.1 from other test suites; wall times vary
with the load, so the process's own CPU time is printed too):

    store   format  cases     time  (build)     CPU  peak RSS  (before)
    sqlite  html    10000    3.06s    2.08s   2.89s   134.7MB    93.8MB
    sqlite  csv     10000    1.91s    1.84s   1.88s    87.4MB    53.0MB
    redis   html    10000    3.13s    2.29s   3.07s   137.7MB    98.3MB
    redis   csv     10000    2.29s    2.21s   2.22s    89.3MB    57.2MB
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.deployment import Directory, load_deployment  # noqa: E402
from bot.evidence_records import ServiceWindowRecord  # noqa: E402
from bot.records import CaseEventRecord, CaseRecord, ChannelRef  # noqa: E402
from bot.store.base import Store  # noqa: E402

DIRECTORY = Directory(load_deployment(ROOT / "examples" / "frontdoor.toml"))
MONTH_START = datetime(2026, 11, 1, tzinfo=UTC)
# customer → (share of the cases, the kinds it files: (case type, priority, deployment, weight))
MIX: dict[str, tuple[float, list[tuple[str, str | None, str | None, int]]]] = {
    "acme": (0.25, [("incident", "P1", "acme-prod", 2), ("incident", "P2", "acme-prod", 4),
                    ("incident", "P3", "acme-staging", 4), ("query", None, None, 3)]),
    "globex": (0.15, [("incident", "P1", "globex-prod", 1), ("incident", "P2", "globex-prod", 3),
                      ("incident", "P3", "globex-prod", 3), ("query", None, None, 2)]),
    "initech": (0.15, [("incident", "P2", "initech-saas", 3), ("incident", "P3", "initech-qa", 3),
                       ("query", None, None, 3)]),
    "umbrella": (0.25, [("incident", "critical", "identity-platform", 1),
                        ("incident", "high", "identity-platform", 3),
                        ("incident", "medium", "identity-platform", 4),
                        ("incident", "low", "identity-platform", 2), ("query", None, None, 2)]),
    "nordlys": (0.20, [("incident", "highest", "nordlys-prod", 1),
                       ("incident", "high", "nordlys-prod", 2),
                       ("incident", "medium", "nordlys-prod", 4),
                       ("incident", "low", "nordlys-prod", 2), ("query", None, None, 2)]),
}


def _event(case_id: str, kind: str, at: datetime, actor: str = "ana", **kw: Any) -> CaseEventRecord:
    return CaseEventRecord(case_id=case_id, kind=kind, at=at, actor=actor, **kw)


def make_case(rng: random.Random, customer_id: str, number: int,
              kind: tuple[str, str | None, str | None, int]) -> tuple[CaseRecord,
                                                                   list[CaseEventRecord]]:
    customer = DIRECTORY.customer(customer_id)
    case_type, priority, deployment_name, _ = kind
    dep = customer.deployment(deployment_name or "")
    tz = ZoneInfo(customer.timezone)
    local = datetime(2026, 11, rng.randint(1, 28),
                     rng.choice([3, 8, 9, 10, 11, 13, 14, 15, 16, 19]), rng.randrange(0, 60),
                     tzinfo=tz)
    opened = local.astimezone(UTC)
    case_id = f"{customer.short}-{number}"
    user = next(u for u in customer.users)
    hypercare = DIRECTORY.hypercare(customer_id, deployment_name, opened)
    events = [_event(case_id, "opened", opened, user.id, to_status="new", data={
        "case_type": case_type, "priority": priority,
        "environment": dep.environment if dep else None, "managed": bool(dep and dep.managed),
        "hypercare": hypercare, "priority_source": "derived"})]
    t = opened + timedelta(minutes=rng.choice([10, 25, 45, 90, 200, 400, 900, 2000]))
    events.append(_event(case_id, "acknowledged", t, from_status="new",
                         to_status="acknowledged"))
    status = "acknowledged"
    for _ in range(rng.choice([0, 1, 2, 3])):
        t += timedelta(minutes=rng.choice([60, 200, 300, 600]))
        events.append(_event(case_id, "status_update", t, reason="working on it"))
    if rng.random() < 0.3:  # waiting on the customer for a while
        t += timedelta(minutes=rng.choice([30, 120, 600]))
        events.append(_event(case_id, "waiting_on_customer", t, reason="logs, please",
                             to_status="waiting_on_customer"))
        t += timedelta(minutes=rng.choice([45, 300, 1500]))
        events.append(_event(case_id, "customer_responded", t, user.id, reason="attached",
                             to_status="in_progress"))
    if rng.random() < 0.05:
        t += timedelta(minutes=15)
        events.append(_event(case_id, "escalated", t, reason="needs L2", data={"level": "L2"}))
    if case_type == "incident" and rng.random() < 0.8:
        t += timedelta(minutes=rng.choice([60, 240, 900, 2500, 6000]))
        events.append(_event(case_id, "workaround_provided", t, reason="workaround",
                             to_status="workaround_provided"))
    if rng.random() < 0.85:
        t += timedelta(minutes=rng.choice([60, 600, 3000, 8000]))
        events.append(_event(case_id, "resolved", t, reason="fixed", to_status="resolved"))
        status = "resolved"
        if rng.random() < 0.4:
            events.append(_event(case_id, "survey_requested", t, "frontdoor",
                                 data={"asked": user.id}))
            events.append(_event(case_id, "survey_answered", t + timedelta(hours=2), user.id,
                                 data={"score": rng.choice([1, 3, 4, 4, 5, 5]),
                                       "comment": rng.choice(["", "", "thanks", "slow"])}))
    if case_type == "query" and rng.random() < 0.5:
        events.append(_event(case_id, "query_time", t, data={"minutes": 30}))
    case = CaseRecord(
        id=case_id, customer_id=customer_id, number=number, pack=customer.pack,
        plan=customer.plan, case_type=case_type, priority=priority,
        environment=dep.environment if dep else None, deployment=deployment_name,
        managed=bool(dep and dep.managed), hypercare=hypercare,
        title=f"Bench case {number}", description="The service is slow since 09:40",
        details={"kind": "support"}, status=status, reporter=user.id,
        origin=ChannelRef(platform="web", conversation=f"web:{user.id}"), created_at=opened,
        updated_at=events[-1].at)
    return case, events


async def seed(store: Store, total: int) -> None:
    rng = random.Random(2026_11)
    numbers = dict.fromkeys(MIX, 0)
    for customer_id, (share, kinds) in MIX.items():
        weights = [k[3] for k in kinds]
        for _ in range(round(total * share)):
            numbers[customer_id] += 1
            kind = rng.choices(kinds, weights)[0]
            case, events = make_case(rng, customer_id, numbers[customer_id], kind)
            await store.create_case(case, events)
    for n, (cid, dep, day) in enumerate([("nordlys", "nordlys-prod", 12),
                                         ("umbrella", "identity-platform", 22)], 1):
        start = datetime(2026, 11, day, 13, tzinfo=UTC)
        await store.put_service_window(ServiceWindowRecord(
            id=f"MW-{n}", customer_id=cid, deployment=dep, starts_at=start,
            ends_at=start + timedelta(hours=1), reason="patches",
            announced_at=start - timedelta(days=1), announced_by="ana"))


def open_store(kind: str, location: str) -> Store:
    if kind == "sqlite":
        from bot.store.sqlite import SqliteStore

        return SqliteStore(location)
    from bot.store.redis import RedisStore

    return RedisStore(location, prefix="bench-report:")


async def measure(kind: str, location: str, fmt: str) -> dict[str, Any]:
    """One run in this process: build every customer's report for November and render it."""
    from adapters.report_render import render
    from bot.reports.collect import build_reports
    from bot.reports.model import Period

    if fmt == "html":  # the chart library's import is the renderer's, not the run's
        import adapters.report_render.charts
        import adapters.report_render.html  # noqa: F401 (imported for its time, not its names)
    store = open_store(kind, location)
    await store.open()
    try:
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started, cpu = time.perf_counter(), time.process_time()
        periods = {cid: Period.month("2026-11", c.tz)
                   for cid, c in DIRECTORY.deployment.customers.items()}
        reports = await build_reports(store, DIRECTORY, periods,
                                      datetime(2026, 12, 1, 12, tzinfo=UTC))
        built = time.perf_counter() - started
        size = sum(len(render(r, fmt)) for r in reports)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        await store.close()
    cases = sum(r.cases_opened for r in reports)
    return {"store": kind, "format": fmt, "cases": cases, "reports": len(reports),
            "seconds": round(elapsed, 3), "cpu_seconds": round(cpu, 3),
            "build_seconds": round(built, 3),
            "bytes": size, "rss_before_mb": round(rss_before / 1024, 1),
            "rss_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def _redis_url() -> tuple[str, subprocess.Popen[bytes] | None]:
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"], None
    server = shutil.which("redis-server")
    if server is None:
        raise SystemExit("no REDIS_URL and no redis-server: install redis-server or skip "
                         "Redis with --stores sqlite")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([server, "--port", str(port), "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return f"redis://127.0.0.1:{port}/15", proc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--stores", nargs="+", choices=["sqlite", "redis"],
                        default=["sqlite", "redis"])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--child", nargs=3, metavar=("STORE", "LOCATION", "FORMAT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(measure(*args.child))))
        return 0
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.stores:
            server = None
            if kind == "sqlite":
                location = str(Path(tmp) / "bench.db")
            else:
                location, server = _redis_url()
            try:
                store = open_store(kind, location)

                async def seeded(store: Store = store, kind: str = kind) -> None:
                    await store.open()
                    if kind == "redis":
                        await store._client().flushdb()  # type: ignore[attr-defined]
                    await seed(store, args.cases)
                    await store.close()

                began = time.perf_counter()
                asyncio.run(seeded())
                seeded_in = time.perf_counter() - began
                for fmt in ("html", "csv"):
                    out = subprocess.run([sys.executable, __file__, "--child", kind, location,
                                          fmt], capture_output=True, text=True, check=True)
                    result = json.loads(out.stdout.strip().splitlines()[-1])
                    result["seed_seconds"] = round(seeded_in, 1)
                    results.append(result)
            finally:
                if server is not None:
                    server.terminate()
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (the times are "
          "wall-clock; CPU is this process's own, its threads included)")
    print(f"{'store':<7} {'format':<6} {'cases':>6} {'time':>8} {'(build)':>8} {'CPU':>7} "
          f"{'peak RSS':>9} {'(before)':>9}  target < 2 s, < 200 MB")
    for r in results:
        ok = r["seconds"] < 2 and r["rss_peak_mb"] < 200
        print(f"{r['store']:<7} {r['format']:<6} {r['cases']:>6} {r['seconds']:>7.2f}s "
              f"{r['build_seconds']:>7.2f}s {r['cpu_seconds']:>6.2f}s {r['rss_peak_mb']:>7.1f}MB "
              f"{r['rss_before_mb']:>7.1f}MB  {'ok' if ok else 'OVER'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
