"""The scheduler process (`frontdoor worker`), one-shot ticks (`frontdoor tick --at`), and the
loops the web process runs itself when the store is SQLite.

Composition only: the scheduler (bot/) decides what is due; here its notices become outbox
items for each configured platform, and the outbox worker delivers them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from adapters.settings import Settings
from adapters.slack.app import SlackFrontDoor
from adapters.slack.delivery import PLATFORM as SLACK
from adapters.slack.delivery import SlackDeliverer
from adapters.slack.inbound import PLATFORM as SLACK_EVENTS
from adapters.slack.notices import notice_items
from adapters.teams.wiring import teams_deliverer, with_teams
from bot.deployment import Directory, load_deployment
from bot.errors import KnowledgeError
from bot.handler import Handler, HandlerSettings
from bot.knowledge import KnowledgeBase, index_path, watch
from bot.messages import Notice
from bot.outbox import Deliverer, OutboxWorker
from bot.records import OutboxItem
from bot.scheduler import NoticeSink, Scheduler, SchedulerSettings
from bot.store import open_store
from bot.store.base import Store

log = logging.getLogger(__name__)


def scheduler_settings(settings: Settings) -> SchedulerSettings:
    return SchedulerSettings(reminder_fractions=settings.reminder_fractions(),
                             lease_seconds=settings.frontdoor_scheduler_lease_seconds)


def notice_sink(store: Store, directory: Directory, settings: Settings) -> NoticeSink:
    """Notices → outbox items for every platform this deployment uses (each with a key
    derived from the moment, so a re-fired timer never posts twice)."""

    async def sink(notices: Sequence[Notice], key: str, now: datetime) -> None:
        items: list[OutboxItem] = []
        for index, notice in enumerate(notices):
            if settings.slack_bot_token:
                items += await notice_items(store, directory, notice, now,
                                            key=f"{key}/{index}")
        if items:
            await store.enqueue_outbox(items)

    return with_teams(sink, store, directory, settings)


def build_handler(store: Store, directory: Directory, settings: Settings,
                  knowledge: KnowledgeBase | None = None) -> Handler:
    """The conversation handler, with case changes rescheduling the case's timer, and the
    knowledge base when the deployment has one."""
    rescheduler = Scheduler(store, directory, notice_sink(store, directory, settings),
                            "reschedule", scheduler_settings(settings))
    return Handler(store, directory, HandlerSettings(
        idle_timeout=timedelta(minutes=settings.frontdoor_idle_minutes)),
        on_case_change=rescheduler.reschedule, knowledge=knowledge)


def open_knowledge(settings: Settings, directory: Directory) -> KnowledgeBase | None:
    """The deployment's knowledge base (not opened yet: see `start_knowledge`); None when the
    deployment file has no [knowledge]."""
    knowledge = directory.deployment.knowledge
    if knowledge is None:
        return None
    return KnowledgeBase(knowledge, directory, index_path(knowledge, settings.frontdoor_db),
                         settings.public_url())


async def start_knowledge(kb: KnowledgeBase | None) -> None:
    """Build the index if the documents changed since it was built, and open it. A knowledge
    base that can't be read is logged and left closed: support goes on without articles."""
    if kb is None:
        return
    try:
        if await asyncio.to_thread(kb.needs_build):
            await asyncio.to_thread(kb.rebuild)
        kb.reload()
    except KnowledgeError as exc:
        log.error("knowledge base unavailable; no articles will be offered",
                  extra={"detail": str(exc)})


def slack_front_door(settings: Settings, store: Store, directory: Directory, handler: Handler,
                     kick: Callable[[], None], *, serving: bool = True) -> SlackFrontDoor | None:
    """The Slack front door when Slack is configured. The web process serves it (and needs
    the signing secret); a worker (`serving=False`) only works stored events and posts, for
    which the bot token is enough."""
    if not settings.slack_bot_token:
        return None
    if settings.slack_signing_secret:
        secret = settings.slack_signing_secret.get_secret_value()
    elif not serving:
        secret = secrets.token_hex(32)  # bolt wants one; this process verifies no request
    else:
        return None
    return SlackFrontDoor(
        bot_token=settings.slack_bot_token.get_secret_value(), signing_secret=secret,
        api_url=settings.slack_api_url, handler=handler,
        store=store, directory=directory, kick=kick,
        ticket_emoji=settings.frontdoor_ticket_emoji)


def slack_deliverers(front: SlackFrontDoor | None, store: Store) -> dict[str, Deliverer]:
    """Posting to Slack, and working the Slack events kept in the store's queue."""
    if front is None:
        return {}
    return {SLACK: SlackDeliverer(front.client, store), SLACK_EVENTS: front.event_worker()}


def worker_id(kind: str) -> str:
    return f"{kind}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


async def run_loops(scheduler: Scheduler | None, outbox: OutboxWorker, stop: asyncio.Event,
                    wake: asyncio.Event | None = None,
                    clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
    """Fire due timers and deliver the outbox until `stop`; idle waits are short polls (the
    schedule itself is data in the store, not sleeps)."""
    while not stop.is_set():
        busy = 0
        if scheduler is not None:
            try:
                busy += await scheduler.tick(clock())
            except Exception:
                log.exception("scheduler tick failed")
        try:
            busy += await outbox.run_once()
        except Exception:
            log.exception("outbox delivery pass failed")
        if busy:
            continue
        waiter = wake if wake is not None else stop
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter.wait(), 0.5)
        if wake is not None:
            wake.clear()


async def run_worker(settings: Settings) -> None:
    """`frontdoor worker`: the scheduler and the outbox, until SIGTERM/SIGINT."""
    directory = Directory(load_deployment(settings.frontdoor_config))
    store = open_store(settings.redis_url, settings.frontdoor_db, settings.frontdoor_redis_prefix)
    await store.open()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    wake = asyncio.Event()
    knowledge = open_knowledge(settings, directory)
    await start_knowledge(knowledge)
    slack = slack_front_door(settings, store, directory,
                             build_handler(store, directory, settings, knowledge), wake.set,
                             serving=False)
    watcher = asyncio.create_task(watch(knowledge, stop)) if knowledge else None
    try:
        ident = worker_id("worker")
        scheduler = Scheduler(store, directory, notice_sink(store, directory, settings), ident,
                              scheduler_settings(settings))
        outbox = OutboxWorker(store, deliverers(settings, store, directory, slack), ident)
        log.info("worker started", extra={"worker": ident})
        await run_loops(scheduler, outbox, stop, wake)
    finally:
        stop.set()
        if watcher is not None:
            await watcher
        if slack is not None:
            await slack.close()
        if knowledge is not None:
            knowledge.close()
        await store.close()


def deliverers(settings: Settings, store: Store, directory: Directory,
               slack: SlackFrontDoor | None = None) -> dict[str, Deliverer]:
    """The posting side of a `worker` or `tick` (and working stored Slack events when the
    front door is given). A bot token without a signing secret still posts notices."""
    out = slack_deliverers(slack, store)
    if slack is None and settings.slack_bot_token:
        client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(),
                                base_url=settings.slack_api_url)
        out[SLACK] = SlackDeliverer(client, store)
    teams = teams_deliverer(settings, store, directory)
    if teams is not None:
        out["teams"] = teams
    return out


async def run_tick(settings: Settings, at: datetime) -> tuple[int, int]:
    """`frontdoor tick --at`: fire what is due at `at` once, deliver what that decided, exit.
    Returns (cases fired, posts delivered)."""
    directory = Directory(load_deployment(settings.frontdoor_config))
    store = open_store(settings.redis_url, settings.frontdoor_db, settings.frontdoor_redis_prefix)
    await store.open()
    try:
        ident = worker_id("tick")
        scheduler = Scheduler(store, directory, notice_sink(store, directory, settings), ident,
                              scheduler_settings(settings))
        fired = 0
        while (n := await scheduler.tick(at)) > 0:
            fired += n
            if fired > 100_000:
                break
        # Posts only: stored Slack events are left to the live processes (their leases and
        # retries run on the wall clock, not on `at`).
        outbox = OutboxWorker(store, deliverers(settings, store, directory), ident,
                              clock=lambda: at)
        delivered = 0
        while (n := await outbox.run_once()) > 0:
            delivered += n
        return fired, delivered
    finally:
        await store.close()
