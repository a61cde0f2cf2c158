"""The aiohttp application: the composition root of the web process.

One app serves the local web chat (`/`, `/chat/*`), `GET /healthz` and `GET /metrics`; the
Slack (`POST /slack/events`) and Teams (`POST /api/messages`) front doors mount here too.
Resources (the store) open and close with the app (`cleanup_ctx`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

from adapters.settings import Settings
from adapters.slack.app import SlackFrontDoor
from adapters.slack.socket_mode import DurableSocketModeHandler
from adapters.teams.app import TeamsFrontDoor
from adapters.teams.wiring import teams_config
from adapters.web.articles import add_article_routes
from adapters.web.routes import HANDLER, add_routes
from adapters.worker import (
    build_handler,
    notice_sink,
    open_knowledge,
    run_loops,
    scheduler_settings,
    slack_deliverers,
    slack_front_door,
    start_knowledge,
)
from bot.deployment import Directory, load_deployment
from bot.errors import StoreError
from bot.knowledge import watch
from bot.outbox import Deliverer, OutboxWorker
from bot.scheduler import Scheduler
from bot.store import open_store
from bot.store.base import Store

log = logging.getLogger(__name__)
SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
WEB_QUEUE_BATCH = 16  # queue items worked at once by a web process
REQUESTS = Counter("frontdoor_http_requests_total", "HTTP requests", ["route", "status"])

Handler_ = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler_) -> web.StreamResponse:
    """Never a stack trace to the caller: our errors become clear JSON, bugs a reference."""
    route = request.match_info.route.resource.canonical if request.match_info.route.resource \
        else "unmatched"
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        REQUESTS.labels(route, str(exc.status)).inc()
        if exc.status >= 400 and exc.content_type != "application/json":
            return web.json_response({"error": exc.reason}, status=exc.status)
        raise
    except StoreError as exc:
        REQUESTS.labels(route, "503").inc()
        log.error("store unavailable", extra={"route": route, "detail": str(exc)})
        return web.json_response({"error": "the case store is unavailable; try again"},
                                 status=503)
    except Exception:
        ref = uuid.uuid4().hex[:12]
        REQUESTS.labels(route, "500").inc()
        log.exception("unhandled error", extra={"route": route, "reference": ref})
        return web.json_response({"error": f"internal error (reference {ref})"}, status=500)
    REQUESTS.labels(route, str(response.status)).inc()
    return response


async def healthz(request: web.Request) -> web.Response:
    store = request.app[STORE]
    try:
        await store.load_conversation("healthz")
    except StoreError as exc:
        return web.json_response({"status": "unhealthy", "store": str(exc)}, status=503)
    backend = "redis" if request.app[SETTINGS].redis_url else "sqlite"
    return web.json_response({"status": "ok", "store": backend})


async def metrics(_: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_app(settings: Settings) -> web.Application:
    """Build the app; the deployment file is validated here, before anything listens."""
    directory = Directory(load_deployment(settings.frontdoor_config))
    teams_settings = teams_config(settings)
    app = web.Application(middlewares=[errors_as_json], client_max_size=1024 * 1024)
    app[SETTINGS] = settings

    slack: list[SlackFrontDoor] = []
    sockets: list[DurableSocketModeHandler] = []
    teams: list[TeamsFrontDoor] = []

    async def store_ctx(app: web.Application) -> AsyncIterator[None]:
        store = open_store(settings.redis_url, settings.frontdoor_db,
                           settings.frontdoor_redis_prefix)
        await store.open()
        app[STORE] = store
        knowledge = open_knowledge(settings, directory)
        await start_knowledge(knowledge)
        handler = build_handler(store, directory, settings, knowledge)
        app[HANDLER] = handler
        log.info("store open", extra={"store": "redis" if settings.redis_url else "sqlite"})
        wake = asyncio.Event()
        deliverers: dict[str, Deliverer] = {}
        front = slack_front_door(settings, store, directory, handler, wake.set)
        if front is not None:
            slack.append(front)
            deliverers.update(slack_deliverers(front, store))
            log.info("slack front door on", extra={"slack_api": settings.slack_api_url})
            if settings.slack_socket_mode and settings.slack_app_token:
                socket = DurableSocketModeHandler(
                    front, settings.slack_app_token.get_secret_value())
                await socket.connect_async()  # type: ignore[no-untyped-call]
                sockets.append(socket)
                log.info("slack socket mode connected")
        teams_door = TeamsFrontDoor(config=teams_settings, handler=handler,
                                    store=store, directory=directory, kick=wake.set)
        await teams_door.start()
        teams.append(teams_door)
        if teams_door.mode != "off":
            deliverers["teams"] = teams_door.deliverer
        stop = asyncio.Event()
        ident = f"web-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        # A smaller batch than a worker's: the acknowledgements share this event loop.
        worker = OutboxWorker(store, deliverers, ident, batch=WEB_QUEUE_BATCH)
        # With SQLite this process is the only one: it runs the scheduler too. With Redis,
        # `frontdoor worker` processes do (any number of them).
        scheduler = None if settings.redis_url else Scheduler(
            store, directory, notice_sink(store, directory, settings), ident,
            scheduler_settings(settings))
        works = settings.frontdoor_web_works_queue or not settings.redis_url
        if not works:
            log.info("this web process only acknowledges: `frontdoor worker` processes work "
                     "the queue")
        task = asyncio.create_task(run_loops(scheduler, worker, stop, wake)) if works else None
        # The documents are watched: an edited, added or removed article is re-indexed.
        watcher = asyncio.create_task(watch(knowledge, stop)) if knowledge else None
        yield
        for socket in sockets:
            await socket.close_async()  # type: ignore[no-untyped-call]
        stop.set()
        wake.set()
        if task is not None:
            await task  # the outbox worker stops before the clients it posts with close
        if watcher is not None:
            await watcher
        for door in teams:
            await door.close()
        for front_door in slack:
            await front_door.close()
        if knowledge is not None:
            knowledge.close()
        await store.close()

    async def slack_events(request: web.Request) -> web.StreamResponse:
        if not slack:
            return web.json_response({"error": "Slack is not configured on this server "
                                      "(SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET)"}, status=503)
        return await slack[0].route(request)

    async def teams_messages(request: web.Request) -> web.StreamResponse:
        if not teams:
            return web.json_response({"error": "starting up"}, status=503)
        return await teams[0].route(request)

    app.cleanup_ctx.append(store_ctx)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/slack/events", slack_events)
    app.router.add_post("/api/messages", teams_messages)
    add_article_routes(app)
    if settings.frontdoor_web_chat:
        add_routes(app)
    return app
