"""Health probes of customers' deployments (`probe = { url = …, every_minutes = 5 }` in the
deployment file), run by the scheduler: each probe once per interval across all processes (a
once-only key per interval), results kept a bit per minute, probes spread over the interval
by a stable offset per deployment so they don't all fire at once. After two failed probes in
a row a service-down incident is opened, where the deployment asks for it (`open_incident`),
unless one from the probe is still open. The request itself is the adapters' (ProbeCheck)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from bot.cases import CaseService
from bot.deployment import Customer, Deployment, Directory
from bot.errors import FrontdoorError
from bot.evidence_records import ProbeResult
from bot.intake import CaseDraft
from bot.messages import Person, Place
from bot.store.base import Store

log = logging.getLogger(__name__)
ProbeCheck = Callable[[str, float], Awaitable[bool]]
"""Is the URL up (answering below 400 within the timeout)?"""
PROBER = Person(id="frontdoor-probe", name="Frontdoor (health probe)", role="admin")


def probe_key(customer_id: str, deployment: str) -> str:
    return f"{customer_id}/{deployment}"


def _offset(key: str, every: int) -> int:
    """A stable second within the interval for this deployment (spreading the probes)."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % (every * 60)


class Probes:
    def __init__(self, store: Store, directory: Directory, check: ProbeCheck) -> None:
        self.store = store
        self.directory = directory
        self.check = check
        self.cases = CaseService(store, directory)

    def configured(self) -> list[tuple[str, Customer, Deployment]]:
        return [(cid, c, d) for cid, c in self.directory.deployment.customers.items()
                for d in c.deployments if d.probe is not None]

    async def due(self, now: datetime) -> int:
        """Run the probes whose moment in the current interval has come; returns how many."""
        jobs = []
        for cid, customer, deployment in self.configured():
            assert deployment.probe is not None
            every = deployment.probe.every_minutes * 60
            key = probe_key(cid, deployment.name)
            ts = int(now.timestamp())
            slot = (ts - _offset(key, deployment.probe.every_minutes)) // every
            if await self.store.claim_once(f"probe:{key}:{slot}", every * 2):
                jobs.append(self._probe(cid, customer, deployment, now))
        if jobs:
            await asyncio.gather(*jobs)
        return len(jobs)

    async def _probe(self, cid: str, customer: Customer, deployment: Deployment,
                     now: datetime) -> None:
        probe = deployment.probe
        assert probe is not None
        key = probe_key(cid, deployment.name)
        try:
            up = await self.check(probe.url, probe.timeout_seconds)
        except Exception as exc:  # a probe that can't run says "down", never stops the loop
            log.info("probe failed to run: %s", exc, extra={"deployment": key})
            up = False
        at = now.astimezone(UTC).replace(second=0, microsecond=0)
        await self.store.record_probes(key, [ProbeResult(at=at, up=up)])
        if up or not probe.open_incident:
            return
        earlier = await self.store.probe_results(
            key, at - timedelta(minutes=2 * probe.every_minutes), at)
        if not earlier or earlier[-1].up:
            return  # one failure is a blip; the second in a row is an outage
        first_down = at
        for result in reversed(earlier):
            if result.up:
                break
            first_down = result.at
        await self._open_incident(cid, customer, deployment, first_down, now)

    async def _open_incident(self, cid: str, customer: Customer, deployment: Deployment,
                             since: datetime, now: datetime) -> None:
        key = probe_key(cid, deployment.name)
        for case in await self.store.list_cases([cid], open_only=True):
            if case.details.get("probe") == key:
                return
        pack = self.directory.pack_of(cid)
        _, plan = pack.plan(customer.plan)
        promise = plan.availability_for(deployment.product)
        wanted = promise.down_when.priority if promise and promise.down_when else None
        priority = (wanted or tuple(pack.ordered_priorities()))[0]
        local = since.astimezone(customer.tz)
        assert deployment.probe is not None
        draft = CaseDraft(
            customer_id=cid, case_type="incident", priority=priority, requested_priority=None,
            priority_source="derived",
            priority_reason="The health probe found the service down (service-down evidence "
                            "for availability).",
            deployment=deployment.name, environment=deployment.environment,
            managed=deployment.managed,
            hypercare=self.directory.hypercare(cid, deployment.name, now),
            fields={"probe": key},
            description=f"{deployment.name} is down: the health probe of "
                        f"{deployment.probe.url} has failed since {local:%H:%M} "
                        f"({local.tzname()}).",
            scope=None)
        try:
            case = await self.cases.open_case(PROBER, draft,
                                              Place("probe", key), now)
        except FrontdoorError as exc:
            log.error("could not open the probe's incident: %s", exc, extra={"deployment": key})
            return
        log.info("probe opened an incident", extra={"case_id": case.id, "deployment": key})
