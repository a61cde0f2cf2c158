"""The local web chat and its JSON API (`POST /chat/messages` and friends).

The browser page and scripts speak the same API. Identities are picked from the deployment
file, not authenticated: this front door is for local use and demos (FRONTDOOR_WEB_CHAT=false
turns it off); Slack and Teams requests are always authenticated.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from adapters.errors import HostileInputError
from adapters.http_guard import parse_json
from adapters.web.bulletins import bulletin_items
from adapters.web.render import reply_json
from bot.case_card import reader_tz
from bot.errors import NotAllowedError
from bot.handler import Handler
from bot.identity import Identities, Sender
from bot.messages import Inbound, Person, Place
from bot.news import conversation_news
from bot.sla_view import when
from bot.timeline import describe_event

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
HANDLER = web.AppKey("handler", Handler)
IDENTITIES = web.AppKey("identities", Identities)
MAX_TEXT = 4000


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _person(request: web.Request, user: Any) -> Person | web.Response:
    if not isinstance(user, str) or not user.strip():
        return _error(400, "give \"user\": the id of a person in the deployment file")
    who = await request.app[IDENTITIES].recognise(Sender("web", (user.strip(),)))
    if who.person is None:  # the API's own words: scripts pick identities from the list
        return _error(403, f"unknown user {user[:80]!r}; GET /chat/identities lists them")
    return who.person


async def post_message(request: web.Request) -> web.Response:
    try:
        body = parse_json(await request.read(), "the body")
    except HostileInputError as exc:
        return _error(400, f"the body must be JSON: {{\"user\": …, \"text\"|\"choice\"|"
                           f"\"form\": …}} ({exc})")
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object")
    person = await _person(request, body.get("user"))
    if isinstance(person, web.Response):
        return person
    given = [k for k in ("text", "choice", "form") if body.get(k) not in (None, "")]
    if len(given) != 1:
        return _error(400, "give exactly one of \"text\", \"choice\" or \"form\"")
    text = body.get("text")
    choice = body.get("choice")
    form = body.get("form")
    if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT):
        return _error(400, f"\"text\" must be a string of at most {MAX_TEXT} characters")
    if choice is not None and (not isinstance(choice, str) or len(choice) > 200):
        return _error(400, "\"choice\" must be a choice id (a string)")
    if form is not None:
        if not isinstance(form, dict) or not all(
                isinstance(k, str) and isinstance(v, (str, int, float, bool)) for k, v in
                form.items()):
            return _error(400, "\"form\" must be an object of field id → value")
        form = {k: str(v)[:MAX_TEXT] for k, v in form.items()}
    inbound = Inbound(
        person=person, place=Place("web", f"web:{person.id}"), at=datetime.now(UTC),
        text=text, choice=choice, form=form,
    )
    outcome = await request.app[HANDLER].handle(inbound)
    return web.json_response({"replies": [reply_json(r) for r in outcome.replies]})


async def identities(request: web.Request) -> web.Response:
    handler = request.app[HANDLER]
    directory = handler.directory
    people = []
    for person in directory.people():
        org = None
        if person.customer_id:
            org = directory.customer(person.customer_id).name
        elif person.partner_id:
            org = directory.deployment.partners[person.partner_id].name
        else:
            org = directory.deployment.vendor.name
        pack = None
        if person.customer_id:
            customer = directory.customer(person.customer_id)
            pack = f"{customer.pack} · {customer.plan}"
        people.append({"id": person.id, "name": person.name, "role": person.role,
                       "organisation": org, "policy": pack})
    return web.json_response({"vendor": directory.deployment.vendor.name, "people": people})


async def cases(request: web.Request) -> web.Response:
    person = await _person(request, request.query.get("user"))
    if isinstance(person, web.Response):
        return person
    handler = request.app[HANDLER]
    rows = await handler.queue(person, datetime.now(UTC))
    return web.json_response({"cases": [reply_json(reply) for _, reply in rows]})


async def war_room(request: web.Request) -> web.Response:
    """The war-room posts (cases whose war team is formed) with their response plans: the
    vendor's channel, so only engineers and admins may read it."""
    person = await _person(request, request.query.get("user"))
    if isinstance(person, web.Response):
        return person
    if not person.is_vendor:
        with contextlib.suppress(NotAllowedError):  # audited, as every refusal
            await request.app[HANDLER].cases.refuse(person, "view_war_room", datetime.now(UTC))
        return _error(403, "the war room is the vendor's channel: engineers and admins only")
    posts = await request.app[HANDLER].war_room(person, datetime.now(UTC))
    return web.json_response({"posts": [reply_json(reply) for reply in posts]})


async def feed(request: web.Request) -> web.Response:
    """What happened on the cases this person can see since `after` (ISO 8601), each at a
    time in the reader's zone; `news`: what the customer's own conversation shows of it."""
    person = await _person(request, request.query.get("user"))
    if isinstance(person, web.Response):
        return person
    after_raw = request.query.get("after")
    after = None
    if after_raw:
        try:
            after = datetime.fromisoformat(after_raw)
        except ValueError:
            return _error(400, "\"after\" must be an ISO 8601 instant")
        if after.tzinfo is None:
            return _error(400, "\"after\" needs a time zone offset")
    handler = request.app[HANDLER]
    items = []
    for case in await handler.cases.visible_cases(person, open_only=False):
        events = [e for e in await handler.store.case_events(case.id)
                  if after is None or e.at > after]
        tz = reader_tz(handler.directory, person, case)
        for event, news in conversation_news(handler.directory, person, case, events):
            item: dict[str, Any] = {
                "at": event.at.isoformat(), "when": when(event.at, tz), "case_id": case.id,
                "text": describe_event(handler.directory, case, event)}
            if news is not None:
                item["news"] = reply_json(news)
            items.append(item)
    items += await bulletin_items(handler, person, after)
    items.sort(key=lambda i: i["at"])
    return web.json_response({"items": items[-200:]})


async def index(_: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_post("/chat/messages", post_message)
    app.router.add_get("/chat/identities", identities)
    app.router.add_get("/chat/cases", cases)
    app.router.add_get("/chat/feed", feed)
    app.router.add_get("/chat/war-room", war_room)
    app.router.add_static("/static/", STATIC)
