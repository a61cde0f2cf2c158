"""The scheduler with the evidence jobs: besides the SLA timers (bot.scheduler), at most once a
minute of the instant it is given — monthly reports on the first business day, maintenance
reminders and endings, health probes. A subclass, so every process that runs the scheduler
(the web process with SQLite, `frontdoor worker`, `frontdoor tick --at`) runs them."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.deployment import Directory
from bot.errors import FrontdoorError
from bot.probes import ProbeCheck, Probes
from bot.reports.monthly import monthly_due
from bot.scheduler import NoticeSink, Scheduler, SchedulerSettings
from bot.service_windows import ServiceWindows, WindowSettings
from bot.store.base import Store
from policy.errors import PolicyError

log = logging.getLogger(__name__)
EVERY = timedelta(minutes=1)


class EvidenceScheduler(Scheduler):
    def __init__(self, store: Store, directory: Directory, sink: NoticeSink, worker_id: str,
                 settings: SchedulerSettings | None = None, *,
                 probe_check: ProbeCheck | None = None, monthly_reports: bool = True,
                 windows: WindowSettings | None = None) -> None:
        super().__init__(store, directory, sink, worker_id, settings)
        self.windows = ServiceWindows(store, directory, windows)
        self.probes = Probes(store, directory, probe_check) if probe_check else None
        self.monthly_reports = monthly_reports
        self._last: datetime | None = None

    async def tick(self, now: datetime) -> int:
        fired = await super().tick(now)
        if self._last is not None and self._last <= now < self._last + EVERY:
            return fired
        self._last = now
        for name, job in (("maintenance", self.windows.due),
                          ("probes", self.probes.due if self.probes else None),
                          ("monthly reports", self._monthly if self.monthly_reports
                           else None)):
            if job is None:
                continue
            try:
                fired += await job(now)
            except (FrontdoorError, PolicyError) as exc:
                log.error("%s job failed (the next minute tries again): %s", name, exc)
        return fired

    async def _monthly(self, now: datetime) -> int:
        return await monthly_due(self.store, self.directory, now)
