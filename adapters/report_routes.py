"""Reports over HTTP.

- `GET /reports/<customer>/<YYYY-MM>.<html|pdf|csv|json>?expires=…&sig=…` — a signed link
  (Teams cards; adapters/evidence_wiring.py signs it). `<customer>` may be `all` (the summary:
  html or json). Without FRONTDOOR_REPORT_SECRET every such request is refused.
- `GET /chat/reports/<customer>/<YYYY-MM>.<fmt>?user=ID` — the web chat's (identities are
  picked, not authenticated, as everywhere in the web chat): the customer's admins and the
  vendor's engineers and admins.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiohttp import web

from adapters.evidence_wiring import link_is_valid
from adapters.report_render import CONTENT_TYPES, FORMATS, render, render_summary
from adapters.settings import Settings
from adapters.web.routes import HANDLER, IDENTITIES
from bot.deployment import Directory
from bot.errors import FrontdoorError
from bot.identity import Sender
from bot.messages import Person
from bot.reports.collect import customer_id_for, customer_report, vendor_summary
from bot.reports.model import Period

SETTINGS_KEY = web.AppKey("report_settings", Settings)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _serve(request: web.Request, customer: str, period_key: str, fmt: str,
                 person: Person | None) -> web.StreamResponse:
    handler = request.app[HANDLER]
    directory: Directory = handler.directory
    if fmt not in FORMATS:
        return _error(404, f"no such format {fmt!r}; formats: {', '.join(FORMATS)}")
    now = datetime.now(UTC)
    try:
        if customer == "all":
            if person is not None and not person.is_vendor:
                return _error(403, "the summary across customers is for the support team")
            if fmt not in {"html", "json"}:
                return _error(404, "the summary is html or json")
            summary = await vendor_summary(handler.store, directory, period_key, now)
            body = await asyncio.to_thread(render_summary, summary, fmt)
        else:
            cid = customer_id_for(directory, customer)
            if person is not None and not (person.is_vendor or (
                    person.role == "customer_admin" and person.customer_id == cid)):
                return _error(403, "reports are for the customer's admins and the support team")
            period = Period.month(period_key, directory.customer(cid).tz)
            report = await customer_report(handler.store, directory, cid, period, now)
            body = await asyncio.to_thread(render, report, fmt)
    except FrontdoorError as exc:
        return _error(404, str(exc))
    name = f"sla-report-{customer}-{period_key}.{fmt}"
    disposition = "inline" if fmt in {"html", "pdf"} else "attachment"
    return web.Response(body=body, headers={
        "Content-Type": CONTENT_TYPES[fmt],
        "Content-Disposition": f'{disposition}; filename="{name}"',
        "Cache-Control": "private, no-store"})


async def signed_report(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS_KEY]
    info = request.match_info
    if not link_is_valid(settings, request.path, request.query.get("expires", ""),
                         request.query.get("sig", "")):
        return _error(403, "this report link is not valid (or has expired); ask for the report "
                      "in chat")
    return await _serve(request, info["customer"], info["period"], info["fmt"], None)


async def chat_report(request: web.Request) -> web.StreamResponse:
    user = request.query.get("user", "").strip()
    person = (await request.app[IDENTITIES].recognise(Sender("web", (user,)))).person \
        if user else None
    if person is None:
        return _error(403, "give ?user=ID, a person of the deployment file")
    info = request.match_info
    return await _serve(request, info["customer"], info["period"], info["fmt"], person)


def add_report_routes(app: web.Application, settings: Settings, web_chat: bool) -> None:
    app[SETTINGS_KEY] = settings
    pattern = "/{customer}/{period:\\d{4}-\\d{2}}.{fmt:[a-z]+}"
    app.router.add_get("/reports" + pattern, signed_report)
    if web_chat:
        app.router.add_get("/chat/reports" + pattern, chat_report)
