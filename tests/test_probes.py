"""Health probes of a deployment (policies.md: “a probe result every interval where a probe is
configured”): run by the scheduler once per interval across processes, kept a bit per minute,
and after two failures in a row a service-down incident is opened when the deployment asks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.deployment import Directory, load_deployment
from bot.evidence_jobs import EvidenceScheduler
from bot.probes import Probes
from bot.reports.collect import customer_report
from bot.reports.model import Period
from bot.store.base import Store

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def directory_with_probe(tmp_path: Path) -> Directory:
    text = (ROOT / "examples" / "frontdoor.toml").read_text().replace(
        'go_live = 2026-11-02\n',
        'go_live = 2026-11-02\nprobe = { url = "https://nordlys.example/health", '
        'every_minutes = 5, open_incident = true }\n')
    path = tmp_path / "frontdoor.toml"
    path.write_text(text)
    return Directory(load_deployment(path))


class Scripted:
    """A probe that answers from a script (True: up), and counts its calls."""

    def __init__(self, answers: list[bool]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    async def __call__(self, url: str, timeout: float) -> bool:
        self.calls.append(url)
        return self.answers.pop(0) if self.answers else True


async def test_each_interval_is_probed_once_across_processes(store: Store,
                                                             tmp_path: Path) -> None:
    directory = directory_with_probe(tmp_path)
    check = Scripted([True] * 10)
    one, two = Probes(store, directory, check), Probes(store, directory, check)
    assert await one.due(T0) == 1
    assert await two.due(T0 + timedelta(seconds=20)) == 0  # the same interval
    assert await two.due(T0 + timedelta(minutes=5)) == 1
    assert check.calls == ["https://nordlys.example/health"] * 2
    kept = await store.probe_results("nordlys/nordlys-prod", T0 - timedelta(hours=1),
                                     T0 + timedelta(hours=1))
    assert [r.up for r in kept] == [True, True]


async def test_two_failed_probes_in_a_row_open_a_service_down_incident(
        store: Store, tmp_path: Path) -> None:
    directory = directory_with_probe(tmp_path)
    probes = Probes(store, directory, Scripted([True, False, False, False]))
    for minutes in (0, 5, 10, 15):
        await probes.due(T0 + timedelta(minutes=minutes))
    [case] = await store.list_cases(["nordlys"])
    assert (case.priority, case.deployment, case.details["probe"]) == (
        "highest", "nordlys-prod", "nordlys/nordlys-prod")
    assert "failed since 10:05 (CET)" in case.description  # the first failure, local time
    # the probe's results are the availability evidence from now on
    report = await customer_report(store, directory, "nordlys",
                                   Period.month("2026-11", directory.customer("nordlys").tz),
                                   T0 + timedelta(hours=1))
    result = report.availability[0].result
    assert result is not None and result.evidence == "probe"
    assert (result.counted, result.down) == (4, 3)


async def test_a_probe_that_cannot_run_counts_as_down(store: Store, tmp_path: Path) -> None:
    directory = directory_with_probe(tmp_path)

    async def broken(url: str, timeout: float) -> bool:
        raise OSError("no route to host")

    await Probes(store, directory, broken).due(T0)
    [result] = await store.probe_results("nordlys/nordlys-prod", T0 - timedelta(minutes=5),
                                         T0 + timedelta(minutes=5))
    assert result.up is False


async def test_the_scheduler_runs_the_evidence_jobs_at_most_once_a_minute(
        store: Store, tmp_path: Path) -> None:
    directory = directory_with_probe(tmp_path)
    check = Scripted([True] * 10)

    async def sink(*_: object) -> None:
        return None

    scheduler = EvidenceScheduler(store, directory, sink, "w", probe_check=check,
                                  monthly_reports=False)
    await scheduler.tick(T0)
    await scheduler.tick(T0 + timedelta(seconds=30))
    await scheduler.tick(T0 + timedelta(minutes=6))
    assert len(check.calls) == 2
