"""The composition root: the one place the program is put together, from `Settings`.

Everything a process is made of is built here — the deployment's directory, the store, who is
who (bot.identity), the conversation handler, the scheduler and where its notices go, the
outbox and each platform's front door and deliverers — for each command:

- `frontdoor serve`: `WebProcess` (adapters/server.py mounts what it serves);
- `frontdoor worker`: `run_worker`; `frontdoor tick --at`: `run_tick`;
- `frontdoor chat`: `chat_session`; `frontdoor teams-package`: `teams_package`;
- `frontdoor kb`: `open_knowledge` (the knowledge base every process above starts with
  `started_knowledge`);
- `frontdoor retention`, `audit export`, `privacy export|erase`: adapters/operator.py, on
  `load_directory` and `opened_store`;
- the benches: the parts one by one (`build_handler`, `web_front_doors`, `notice_sink` …).

It is the only module that sees every platform: each platform's wiring (adapters/slack/
wiring.py, adapters/teams/wiring.py) builds that platform's objects, this module puts them
side by side, and no other adapter module builds another platform's (tests/test_imports.py).
The loops the processes run are adapters/worker.py's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.bulletins import BulletinFanout
from adapters.evidence_wiring import evidence_scheduler, evidence_settings
from adapters.settings import Settings
from adapters.slack import wiring as slack
from adapters.slack.app import SlackFrontDoor
from adapters.slack.socket_mode import DurableSocketModeHandler
from adapters.teams import wiring as teams
from adapters.teams.app import TeamsFrontDoor
from adapters.worker import deliver_all, fire_all, run_loops, worker_id
from bot.bulletins import PLATFORM as BULLETIN
from bot.deployment import Directory, load_deployment
from bot.errors import ConfigError, KnowledgeError
from bot.handler import Handler, HandlerSettings
from bot.identity import Identities
from bot.knowledge import KnowledgeBase, index_path, watch
from bot.messages import Notice
from bot.outbox import Deliverer, OutboxWorker
from bot.scheduler import NoticeSink, Scheduler, SchedulerSettings
from bot.store.base import Store

log = logging.getLogger(__name__)
WEB_QUEUE_BATCH = 16  # queue items worked at once by a web process (acks share its loop)
Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


# -- the parts, each from the settings ------------------------------------------------------------


def load_directory(settings: Settings) -> Directory:
    """Who the vendor, its people, customers and partners are: the deployment file, checked
    (a ConfigError names the key) — with what each configured platform needs of it."""
    deployment = load_deployment(settings.frontdoor_config)
    if slack.configured(settings) and (missing := deployment.missing_slack_workspaces()):
        keys = ", ".join(f"'{key}'" for key in missing)
        raise ConfigError(
            f"{settings.frontdoor_config.name}: key {keys} missing: with Slack configured "
            "(SLACK_BOT_TOKEN) the vendor's own Slack workspace and each partner's are required "
            "(their team ids, T…), so that a request from any other workspace is refused")
    return Directory(deployment)


@contextlib.asynccontextmanager
async def opened_store(settings: Settings) -> AsyncIterator[Store]:
    """The store the settings name (Redis with REDIS_URL, else SQLite), open for the block."""
    store = settings.open_store()
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def build_identities(store: Store, directory: Directory, settings: Settings) -> Identities:
    """Who a platform sender is; the vendor's Teams tenant is the app registration's."""
    return Identities(store, directory, {"teams": teams.vendor_tenant(settings)})


def scheduler_settings(settings: Settings) -> SchedulerSettings:
    return SchedulerSettings(reminder_fractions=settings.reminder_fractions(),
                             lease_seconds=settings.frontdoor_scheduler_lease_seconds)


def notice_sink(store: Store, directory: Directory, settings: Settings) -> NoticeSink:
    """The scheduler's notices as outbox items for every platform this deployment uses
    (Slack's, then Teams')."""
    sinks = [sink for sink in (slack.notice_sink(store, directory, settings),
                               teams.notice_sink(store, directory, settings))
             if sink is not None]

    async def every_platform(notices: Sequence[Notice], key: str, now: datetime) -> None:
        for sink in sinks:
            await sink(notices, key, now)

    return every_platform


def build_scheduler(store: Store, directory: Directory, settings: Settings,
                    ident: str) -> Scheduler:
    """The SLA scheduler, as lease holder `ident`, posting to every platform; with the
    evidence jobs (monthly reports, maintenance notices, health probes)."""
    return evidence_scheduler(store, directory, notice_sink(store, directory, settings), ident,
                              scheduler_settings(settings), settings)


def build_handler(store: Store, directory: Directory, settings: Settings,
                  knowledge: KnowledgeBase | None = None) -> Handler:
    """The conversation handler, with case changes rescheduling the case's timer, and the
    knowledge base when the deployment has one."""
    rescheduler = build_scheduler(store, directory, settings, "reschedule")
    return Handler(store, directory, HandlerSettings(
        idle_timeout=timedelta(minutes=settings.frontdoor_idle_minutes),
        evidence=evidence_settings(settings)),
        on_case_change=rescheduler.reschedule, knowledge=knowledge)


def open_knowledge(settings: Settings, directory: Directory) -> KnowledgeBase | None:
    """The deployment's knowledge base, not opened yet (`started_knowledge`); None when the
    deployment file has no [knowledge]. Its index lives beside the SQLite database unless the
    file names one; article links point at FRONTDOOR_PUBLIC_URL's /kb/ pages."""
    knowledge = directory.deployment.knowledge
    if knowledge is None:
        return None
    return KnowledgeBase(knowledge, directory, index_path(knowledge, settings.frontdoor_db),
                         settings.public_url())


@contextlib.asynccontextmanager
async def started_knowledge(settings: Settings, directory: Directory, *,
                            watched: bool = True) -> AsyncIterator[KnowledgeBase | None]:
    """The knowledge base for the block: its index built when the documents changed since it
    was built, opened, and (`watched`) re-indexed whenever a document changes. One that can't
    be read is logged and left closed: support goes on without articles."""
    kb = open_knowledge(settings, directory)
    if kb is None:
        yield None
        return
    try:
        if await asyncio.to_thread(kb.needs_build):
            await asyncio.to_thread(kb.rebuild)
        kb.reload()
    except KnowledgeError as exc:
        log.error("knowledge base unavailable; no articles will be offered",
                  extra={"detail": str(exc)})
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch(kb, stop)) if watched else None
    try:
        yield kb
    finally:
        stop.set()
        if watcher is not None:
            await watcher
        kb.close()


def evidence_deliverers(settings: Settings, store: Store, directory: Directory,
                        front: SlackFrontDoor | None = None) -> dict[str, Deliverer]:
    """Bulletins (monthly reports, maintenance) fanned out to each platform's places, and
    Slack's poster of them."""
    places = [p for p in (slack.bulletin_places(settings, directory),
                          teams.bulletin_places(settings, store, directory)) if p is not None]
    return {BULLETIN: BulletinFanout(store, places),
            **slack.bulletin_deliverers(settings, store, directory, front)}


@dataclass
class FrontDoors:
    """Each platform's front door in one process, and what delivers the outbox's items."""

    slack: SlackFrontDoor | None = None
    teams: TeamsFrontDoor | None = None
    socket: DurableSocketModeHandler | None = None
    deliverers: dict[str, Deliverer] = field(default_factory=dict)

    async def stop_listening(self) -> None:
        """Take no more Slack events over Socket Mode (HTTP routes stop with the app)."""
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        """Close the platforms' clients (after the outbox worker that posts with them)."""
        if self.teams is not None:
            await self.teams.close()
        if self.slack is not None:
            await self.slack.close()


async def web_front_doors(settings: Settings, store: Store, directory: Directory,
                          handler: Handler, identities: Identities,
                          kick: Callable[[], None]) -> FrontDoors:
    """The web process's front doors: Slack's when it is configured (with its signing secret;
    over Socket Mode when asked) and Teams' (answering 503 itself while Teams is off), each
    posting with its own client."""
    doors = FrontDoors()
    doors.slack = slack.front_door(settings, store, directory, handler, identities, kick)
    if doors.slack is not None:
        doors.deliverers.update(slack.front_door_deliverers(doors.slack, store))
        log.info("slack front door on", extra={"slack_api": settings.slack_api_url})
        doors.socket = await slack.socket_mode(doors.slack, settings)
    doors.teams = await teams.front_door(settings, store, directory, handler, identities, kick)
    doors.deliverers.update(teams.front_door_deliverers(doors.teams))
    doors.deliverers.update(evidence_deliverers(settings, store, directory, doors.slack))
    return doors


def worker_front_doors(settings: Settings, store: Store, directory: Directory,
                       handler: Handler, identities: Identities,
                       kick: Callable[[], None]) -> FrontDoors:
    """A worker's: no routes; Slack's front door only to work its stored events (the bot
    token is enough), and posting to every platform."""
    doors = FrontDoors(deliverers=teams.posting_deliverers(settings, store, directory))
    doors.slack = slack.front_door(settings, store, directory, handler, identities, kick,
                                   serving=False)
    doors.deliverers.update(slack.front_door_deliverers(doors.slack, store))
    doors.deliverers.update(evidence_deliverers(settings, store, directory, doors.slack))
    return doors


def posting_deliverers(settings: Settings, store: Store,
                       directory: Directory) -> dict[str, Deliverer]:
    """Posting to every platform, for a process with no front door (`frontdoor tick`; a bot
    token without a signing secret still posts)."""
    return {**slack.posting_deliverers(settings, store),
            **teams.posting_deliverers(settings, store, directory),
            **evidence_deliverers(settings, store, directory)}


# -- the processes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Serving:
    """What the web app serves with while the web process runs."""

    store: Store
    handler: Handler
    identities: Identities
    slack: Route | None  # POST /slack/events, when Slack is configured
    teams: Route  # POST /api/messages


class WebProcess:
    """`frontdoor serve`: checked when built, before anything listens (the deployment file,
    the Teams settings), then `running` for as long as the app runs — the store, the front
    doors and, in the background, the worker loop: with SQLite this process is the only one
    and runs the scheduler too; with Redis `frontdoor worker`s do (and with
    FRONTDOOR_WEB_WORKS_QUEUE=false work the queue as well, this process only acknowledging).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.directory = load_directory(settings)
        teams.teams_config(settings)  # a ConfigError names the variable, before start-up

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Serving]:
        settings, directory = self.settings, self.directory
        async with opened_store(settings) as store, \
                started_knowledge(settings, directory) as knowledge:
            handler = build_handler(store, directory, settings, knowledge)
            identities = build_identities(store, directory, settings)
            log.info("store open", extra={"store": "redis" if settings.redis_url else "sqlite"})
            wake = asyncio.Event()
            doors = await web_front_doors(settings, store, directory, handler, identities,
                                          wake.set)
            try:
                assert doors.teams is not None
                ident = worker_id("web")
                outbox = OutboxWorker(store, doors.deliverers, ident, batch=WEB_QUEUE_BATCH)
                scheduler = None if settings.redis_url else \
                    build_scheduler(store, directory, settings, ident)
                works = settings.frontdoor_web_works_queue or not settings.redis_url
                if not works:
                    log.info("this web process only acknowledges: `frontdoor worker` processes "
                             "work the queue")
                stop = asyncio.Event()
                task = asyncio.create_task(run_loops(scheduler, outbox, stop, wake)) \
                    if works else None
                try:
                    yield Serving(store, handler, identities,
                                  doors.slack.route if doors.slack is not None else None,
                                  doors.teams.route)
                finally:
                    await doors.stop_listening()
                    stop.set()
                    wake.set()
                    if task is not None:
                        await task  # the outbox worker stops before the clients it posts with
            finally:
                await doors.close()


async def run_worker(settings: Settings) -> None:
    """`frontdoor worker`: the scheduler and the outbox (stored Slack events included), until
    SIGTERM or SIGINT; with Redis run as many as you like."""
    directory = load_directory(settings)
    async with opened_store(settings) as store, \
            started_knowledge(settings, directory) as knowledge:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        wake = asyncio.Event()
        doors = worker_front_doors(settings, store, directory,
                                   build_handler(store, directory, settings, knowledge),
                                   build_identities(store, directory, settings), wake.set)
        try:
            ident = worker_id("worker")
            scheduler = build_scheduler(store, directory, settings, ident)
            outbox = OutboxWorker(store, doors.deliverers, ident)
            log.info("worker started", extra={"worker": ident})
            await run_loops(scheduler, outbox, stop, wake)
        finally:
            await doors.close()


async def run_tick(settings: Settings, at: datetime) -> tuple[int, int, int | None]:
    """`frontdoor tick --at`: fire what is due at `at` once (with that day's retention run),
    deliver what that decided, exit. Returns (cases fired, posts delivered, items retention
    purged — None when another process had already run that day's)."""
    directory = load_directory(settings)
    async with opened_store(settings) as store:
        ident = worker_id("tick")
        scheduler = build_scheduler(store, directory, settings, ident)
        fired = await fire_all(scheduler, at)
        # Posts only: stored Slack events are left to the live processes (their leases and
        # retries run on the wall clock, not on `at`).
        outbox = OutboxWorker(store, posting_deliverers(settings, store, directory), ident,
                              clock=lambda: at)
        delivered = await deliver_all(outbox)
        retention = scheduler.last_retention
        return fired, delivered, retention.purged() if retention else None


@contextlib.asynccontextmanager
async def chat_session(settings: Settings) -> AsyncIterator[tuple[Handler, Identities]]:
    """`frontdoor chat`: the handler as the web process builds it (a case filed here gets its
    SLA timer too), on the configured store, and who is who."""
    directory = load_directory(settings)
    async with opened_store(settings) as store, \
            started_knowledge(settings, directory, watched=False) as knowledge:
        yield (build_handler(store, directory, settings, knowledge),
               build_identities(store, directory, settings))


def teams_package(settings: Settings, output: Path, *, version: str, name: str,
                  domains: tuple[str, ...]) -> dict[str, Any]:
    """`frontdoor teams-package`: the Teams app package for this deployment's vendor, written
    to `output`; returns its manifest."""
    vendor = load_deployment(settings.frontdoor_config).vendor.name
    return teams.package(settings, vendor, output, version=version, name=name,
                         domains=domains)
