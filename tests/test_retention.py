"""Retention per policy, tested by moving the clock: the scheduler's tick applies each pack's
rules on both stores (SQLite and Redis); `frontdoor retention --dry-run` and `frontdoor tick
--at` do the same as real processes.

Konneqt (Acme): attachments go 90 days after the case is resolved (or the contract ends,
whichever is first); the support users' personal data and the other portal data 90 days
after the contract ends — pseudonymised, the SLA facts kept so reports stay true.
ConnectSoft (Umbrella) states no retention period: everything is kept, and the dry run says so.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cases import CaseService
from bot.deployment import DeploymentFile, Directory
from bot.intake import CaseDraft
from bot.messages import Person, Place
from bot.records import AttachmentRecord, AuthorisedUser
from bot.retention import RetentionService
from bot.scheduler import Scheduler
from bot.sla_view import case_status
from bot.store.base import Store
from policy.sla import SlaStatus
from tests.conftest import Backend

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_END = date(2027, 1, 31)  # Acme's last day: retention counts from 1 Feb 00:00 EST
OPENED = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # Mon 7 Dec 09:00 EST
RESOLVED = OPENED + timedelta(hours=5)
BEFORE_ATTACHMENTS = datetime(2027, 3, 6, 12, 0, tzinfo=UTC)  # resolved + 89 days
AFTER_ATTACHMENTS = datetime(2027, 3, 10, 12, 0, tzinfo=UTC)  # resolved + 93 days
BEFORE_CONTRACT_RULES = datetime(2027, 5, 1, 12, 0, tzinfo=UTC)  # 1 Feb 05:00 UTC + 89 days
AFTER_CONTRACT_RULES = datetime(2027, 5, 3, 12, 0, tzinfo=UTC)
# What only Acme's people said or are called: none of it may survive the purge.
PERSONAL = ("Alice", "alice", "Adam", "adam", "+1 555 0100", "orders API",
            "Nora", "U9NORA", "us-east-1 is the region")


def deployment_text(contract_end: date | None = CONTRACT_END) -> str:
    text = (ROOT / "examples" / "frontdoor.toml").read_text()
    if contract_end is None:
        return text
    for customer in ("acme", "umbrella"):  # Umbrella too: its pack keeps everything anyway
        text = text.replace(f"[customers.{customer}]\n",
                            f"[customers.{customer}]\ncontract_end = {contract_end}\n", 1)
    return text


DIRECTORY = Directory(DeploymentFile.model_validate(tomllib.loads(deployment_text())))


def person(pid: str) -> Person:
    found = DIRECTORY.person(pid)
    assert found is not None
    return found


def a_draft(customer: str, deployment: str, description: str, priority: str) -> CaseDraft:
    dep = DIRECTORY.customer(customer).deployment(deployment)
    assert dep is not None
    return CaseDraft(
        customer_id=customer, case_type="incident", priority=priority,
        requested_priority=priority, priority_source="customer", priority_reason=None,
        deployment=dep.name, environment=dep.environment, managed=dep.managed,
        hypercare=False, fields={}, description=description, scope=None,
        consulting_request=False, consulting_approved=False)


async def seed(store: Store) -> tuple[str, str, str]:
    """Acme: a resolved case with personal data everywhere and an open one; Umbrella: one."""
    service = CaseService(store, DIRECTORY)
    resolved = await service.open_case(
        person("alice"), a_draft("acme", "acme-prod", "Alice here: the orders API is down, "
                                 "call me on +1 555 0100", "P1"),
        Place("web", "web:alice"), OPENED)
    await service.act(person("ana"), resolved.id, "ask_customer", OPENED + timedelta(hours=1),
                      text="Alice, which region is it?")
    await service.act(person("alice"), resolved.id, "provide_info",
                      OPENED + timedelta(hours=2), text="us-east-1 is the region")
    await service.act(person("ana"), resolved.id, "resolve", RESOLVED,
                      text="Restarted the gateway Alice Chen pointed at")
    still_open = await service.open_case(
        person("adam"), a_draft("acme", "acme-staging", "Adam: staging login is slow", "P3"),
        Place("slack", "C0ACME", "1700.1"), OPENED + timedelta(days=1))
    kept = await service.open_case(
        person("uma"), a_draft("umbrella", "identity-platform", "Uma: SSO fails for "
                               "everyone", "critical"), Place("web", "web:uma"), OPENED)
    await store.put_authorised_user(AuthorisedUser(
        customer_id="acme", user_id="slack:U9NORA", name="Nora New", added_by="alice",
        added_at=OPENED))
    await store.save_conversation("web:web:alice:-:alice", {"description": "Alice's draft"}, 0)
    await store.save_conversation("web:web:uma:-:uma", {"description": "Uma's draft"}, 0)
    for case_id, customer in ((resolved.id, "acme"), (kept.id, "umbrella")):
        await store.add_attachment(AttachmentRecord(
            id=f"att-{case_id}", case_id=case_id, customer_id=customer, name="trace.har",
            size=2048, location=f"slack:F-{case_id}", added_by="alice", added_at=OPENED))
    return resolved.id, still_open.id, kept.id


async def everything(store: Store, customer: str) -> str:
    """All the store keeps about a customer, as one text to search."""
    parts: list[Any] = []
    for case in await store.list_cases([customer], open_only=False):
        parts.append(case.model_dump(mode="json"))
        parts += [e.model_dump(mode="json") for e in await store.case_events(case.id)]
    parts += [e.model_dump(mode="json") for _, e in await store.audit_log(0, 10_000)
              if e.customer_id == customer]
    parts += [u.model_dump(mode="json") for u in await store.authorised_users(customer)]
    for who in [p.id for p in DIRECTORY.people() if p.customer_id == customer]:
        parts += [state for _, state, _ in await store.conversations_ending(f":{who}")]
    return json.dumps(parts, ensure_ascii=False)


async def clocks(store: Store, case_id: str, at: datetime) -> SlaStatus | None:
    case = await store.get_case(case_id)
    assert case is not None
    return case_status(DIRECTORY.pack_of(case.customer_id), DIRECTORY.customer(
        case.customer_id), case, await store.case_events(case_id), at)


async def test_retention_follows_each_packs_rules_as_the_clock_moves(store: Store) -> None:
    resolved, still_open, kept = await seed(store)
    scheduler = Scheduler(store, DIRECTORY, _no_sink, "test")
    sla_before = {c: await clocks(store, c, AFTER_CONTRACT_RULES)
                  for c in (resolved, still_open, kept)}
    umbrella_before = await everything(store, "umbrella")

    await scheduler.tick(BEFORE_ATTACHMENTS)
    assert len(await store.attachments("acme")) == 1
    await scheduler.tick(AFTER_ATTACHMENTS)  # resolved + 90 days: the attachment goes
    assert await store.attachments("acme") == []
    acme = await everything(store, "acme")
    assert "Alice" in acme and "orders API" in acme

    await scheduler.tick(BEFORE_CONTRACT_RULES)
    assert "Alice" in await everything(store, "acme")
    await scheduler.tick(AFTER_CONTRACT_RULES)  # contract end + 90 days
    acme = await everything(store, "acme")
    assert [w for w in PERSONAL if w in acme] == []
    assert await store.authorised_users("acme") == []
    assert await store.conversations_ending(":alice") == []

    # the SLA facts stay: same clocks, priorities, statuses, breaches
    for case_id, before in sla_before.items():
        assert await clocks(store, case_id, AFTER_CONTRACT_RULES) == before
    case = await store.get_case(resolved)
    assert case is not None
    assert (case.status, case.priority, case.deployment, case.assignee) == (
        "resolved", "P1", "acme-prod", "ana")
    assert case.reporter.startswith("former-") and case.redacted == ["support-user-pii"]
    kinds = [e.kind for e in await store.case_events(resolved)]
    assert kinds[:5] == ["opened", "acknowledged", "waiting_on_customer",
                         "customer_responded", "resolved"] and kinds[-1] == "redacted"
    history = await store.case_events(resolved)
    assert history[0].actor == case.reporter and history[1].actor == "ana"

    # every purge audited, by the system, without personal data
    purges = [e for _, e in await store.audit_log(0, 10_000) if e.action == "retention_purge"]
    assert {e.case_id for e in purges if e.case_id} == {resolved, still_open}
    assert all(e.actor == "frontdoor" and e.customer_id == "acme" for e in purges)

    # ConnectSoft states no retention period: Umbrella keeps everything
    assert await everything(store, "umbrella") == umbrella_before
    assert len(await store.attachments("umbrella")) == 1
    assert await store.conversations_ending(":uma") != []

    # a later run finds nothing left to do
    again = await RetentionService(store, DIRECTORY).run(AFTER_CONTRACT_RULES + timedelta(days=1))
    assert again.purged() == 0


async def test_without_a_contract_end_only_the_attachment_rule_fires(store: Store) -> None:
    directory = Directory(DeploymentFile.model_validate(tomllib.loads(deployment_text(None))))
    resolved, _, _ = await seed(store)
    report = await RetentionService(store, directory).run(AFTER_CONTRACT_RULES, dry_run=True)
    acme = next(c for c in report.customers if c.customer_id == "acme")
    states = {r.rule: r.state for r in acme.rules}
    assert states["support-user-pii"].startswith("waits: the deployment file sets no "
                                                 "contract_end")
    assert [p.target for r in acme.rules for p in r.purges] == [
        f"attachment att-{resolved} of {resolved}"]
    umbrella = next(c for c in report.customers if c.customer_id == "umbrella")
    assert umbrella.kept is not None and "states no retention period" in umbrella.kept
    assert "Alice" in await everything(store, "acme")  # a dry run changes nothing
    assert len(await store.attachments("acme")) == 1


async def _no_sink(*_: object) -> None:
    return None


def test_dry_run_then_tick_as_real_processes(backend: Backend, tmp_path: Path) -> None:
    """`frontdoor retention --dry-run --at …` says what would go and why, per customer;
    `frontdoor tick --at …` then does it."""
    config = tmp_path / "frontdoor.toml"
    config.write_text(deployment_text())

    async def prepare() -> str:
        store = backend.build()
        await store.open()
        try:
            return (await seed(store))[0]
        finally:
            await store.close()

    resolved = asyncio.run(prepare())
    env = {**os.environ, "FRONTDOOR_CONFIG": str(config), "LOG_LEVEL": "WARNING",
           **({"FRONTDOOR_DB": backend.location, "REDIS_URL": ""} if backend.kind == "sqlite"
              else {"REDIS_URL": backend.location, "FRONTDOOR_REDIS_PREFIX": backend.prefix})}

    def frontdoor(*args: str) -> Any:
        done = subprocess.run([sys.executable, "-m", "adapters.cli", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    at = AFTER_CONTRACT_RULES.isoformat()
    dry = frontdoor("retention", "--dry-run", "--at", at)
    acme = next(c for c in dry["customers"] if c["customer"] == "acme")
    would = {r["rule"]: [w["target"] for w in r["would"]] for r in acme["rules"]}
    assert sorted(would["support-user-pii"][:2]) == [f"case {resolved}", "case ACME-2"]
    clauses = {r["rule"]: r["clause"] for r in acme["rules"]}
    assert clauses["support-user-pii"] == "Data Retention"
    assert would["portal-data"] == ["1 conversations of the customer's people"]
    umbrella = next(c for c in dry["customers"] if c["customer"] == "umbrella")
    assert "states no retention period" in umbrella["kept"] and umbrella["rules"] == []

    ticked = frontdoor("tick", "--at", at)
    assert ticked["retention_purged"] == dry["would_purge"] > 0
    after = frontdoor("retention", "--dry-run", "--at", at)
    assert after["would_purge"] == 0

    async def check() -> str:
        store = backend.build()
        await store.open()
        try:
            return await everything(store, "acme")
        finally:
            await store.close()

    assert [w for w in PERSONAL if w in asyncio.run(check())] == []


@pytest.mark.parametrize("bad", ["2027-02-30", "next year"])
def test_a_bad_contract_end_names_the_key(tmp_path: Path, bad: str) -> None:
    from bot.deployment import load_deployment
    from bot.errors import ConfigError

    config = tmp_path / "frontdoor.toml"
    config.write_text(deployment_text(None).replace(
        "[customers.acme]\n", f'[customers.acme]\ncontract_end = "{bad}"\n', 1))
    with pytest.raises(ConfigError, match=r"customers\.acme\.contract_end"):
        load_deployment(config)
