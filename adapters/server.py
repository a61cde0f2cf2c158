"""The web process's HTTP app: the local web chat (`/`, `/chat/*`), `GET /healthz` and
`GET /metrics`, and the routes of the Slack (`POST /slack/events`) and Teams
(`POST /api/messages`) front doors.

What it serves with is built in adapters/compose.py (`WebProcess`), checked when the app is
created and running for as long as the app does (`cleanup_ctx`); this module builds nothing
of Slack's or Teams' and only routes to them.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

from adapters.compose import Serving, WebProcess
from adapters.errors import HostileInputError
from adapters.http_guard import (
    CLIENT_GONE,
    BodyLimits,
    check_text,
    client_gone,
    header_problem,
    read_body,
)
from adapters.report_routes import add_report_routes
from adapters.settings import Settings
from adapters.web.articles import add_article_routes
from adapters.web.routes import HANDLER, IDENTITIES, add_routes
from bot.errors import StoreError
from bot.store.base import Store

log = logging.getLogger(__name__)
SETTINGS = web.AppKey("settings", Settings)
BODY_LIMITS = web.AppKey("body_limits", BodyLimits)
STORE = web.AppKey("store", Store)
REQUESTS = Counter("frontdoor_http_requests_total", "HTTP requests", ["route", "status"])

Handler_ = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def errors_as_json(request: web.Request, handler: Handler_) -> web.StreamResponse:
    """Never a stack trace to the caller: our errors become clear JSON, bugs a reference;
    hostile input a 400 before any handler sees it (adapters/http_guard.py), a slow body a
    408, and a client that went away is no error at all."""
    route = request.match_info.route.resource.canonical if request.match_info.route.resource \
        else "unmatched"
    try:
        response = await _guard(request) or await handler(request)
    except HostileInputError as exc:
        REQUESTS.labels(route, "400").inc()
        log.info("hostile input refused: %s", exc, extra={"route": route})
        return web.json_response({"error": str(exc)}, status=400)
    except ConnectionResetError as exc:
        if not client_gone(request, exc):
            raise
        REQUESTS.labels(route, str(CLIENT_GONE)).inc()
        log.info("the client went away before its request was answered",
                 extra={"route": route})
        return web.Response(status=CLIENT_GONE)
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


async def _guard(request: web.Request) -> web.StreamResponse | None:
    """What every request must be before its route sees it: headers and query without
    control characters or lone surrogates, and its body (if any) in within the read timeout
    (else the 408 already sent is returned)."""
    for name, value in request.headers.items():
        if problem := header_problem(name[:40], value):
            raise HostileInputError(problem)
    for key, value in request.query.items():
        check_text(key, "the query string")
        check_text(value, "the query string")
    if request.body_exists:
        return await read_body(request, request.app[BODY_LIMITS])
    return None


async def healthz(request: web.Request) -> web.Response:
    store = request.app[STORE]
    try:
        await store.load_conversation("healthz")
    except StoreError as exc:
        return web.json_response({"status": "unhealthy", "store": str(exc)}, status=503)
    backend = "redis" if request.app[SETTINGS].redis_url else "sqlite"
    return web.json_response({"status": "ok", "store": backend})


async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics; with FRONTDOOR_METRICS_TOKEN only for `Authorization: Bearer …`."""
    token = request.app[SETTINGS].frontdoor_metrics_token
    if token is not None:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        expected = token.get_secret_value().encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                                  expected):
            return web.json_response(
                {"error": "GET /metrics needs `Authorization: Bearer <FRONTDOOR_METRICS_TOKEN>`"},
                status=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def create_app(settings: Settings) -> web.Application:
    """Build the app; the deployment file and the Teams settings are checked here, before
    anything listens."""
    process = WebProcess(settings)
    app = web.Application(middlewares=[errors_as_json], client_max_size=1024 * 1024)
    app[SETTINGS] = settings
    app[BODY_LIMITS] = BodyLimits(read_seconds=settings.frontdoor_body_read_seconds)
    serving: list[Serving] = []  # while the app runs

    async def running(app: web.Application) -> AsyncIterator[None]:
        async with process.running() as parts:
            app[STORE] = parts.store
            app[HANDLER] = parts.handler
            app[IDENTITIES] = parts.identities
            serving.append(parts)
            yield

    async def slack_events(request: web.Request) -> web.StreamResponse:
        route = serving[0].slack if serving else None
        if route is None:
            return web.json_response({"error": "Slack is not configured on this server "
                                      "(SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET)"}, status=503)
        return await route(request)

    async def teams_messages(request: web.Request) -> web.StreamResponse:
        if not serving:
            return web.json_response({"error": "starting up"}, status=503)
        return await serving[0].teams(request)

    app.cleanup_ctx.append(running)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_post("/slack/events", slack_events)
    app.router.add_post("/api/messages", teams_messages)
    add_report_routes(app, settings, settings.frontdoor_web_chat)
    add_article_routes(app)  # the knowledge base's pages, linked from Slack and Teams too
    if settings.frontdoor_web_chat:
        add_routes(app)
    return app
