"""Socket Mode with the HTTP route's rules: an event is acknowledged only once it is stored,
and bolt sees only interactions and commands whose shape was checked.

bolt's handler acknowledges an event before its listener runs; a store outage or a crash
right then would lose an event Slack was told it had. Here events are kept first and only
then acknowledged (an event left unacknowledged is sent again by Slack); interactions and the
slash command are checked field by field as over HTTP (adapters/slack/request_shapes.py) — bolt is
given the checked shape, and anything else is acknowledged and dropped — then go through
bolt's handler as before.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from adapters.errors import PayloadError, SlackPayloadError
from adapters.slack import request_shapes
from bot.errors import StoreError

if TYPE_CHECKING:
    from adapters.slack.app import SlackFrontDoor

log = logging.getLogger(__name__)


class DurableSocketModeHandler(AsyncSocketModeHandler):
    def __init__(self, front: SlackFrontDoor, app_token: str) -> None:
        super().__init__(front.app, app_token)
        self._front = front

    async def handle(self, client: SocketModeClient,  # type: ignore[override]
                     req: SocketModeRequest) -> None:
        payload = req.payload
        if req.type in ("interactive", "slash_commands"):
            try:
                checked = request_shapes.check_interaction(payload) if req.type == "interactive" \
                    else request_shapes.check_command(payload)
            except PayloadError as exc:
                log.info("ignored a malformed Slack %s: %s", req.type, exc)
                await client.send_socket_mode_response(
                    SocketModeResponse(envelope_id=req.envelope_id))
                return
            req.payload = checked.content
        if req.type != "events_api" or not isinstance(payload, dict) \
                or payload.get("type") != "event_callback":
            await super().handle(client, req)
            return
        try:
            await self._front.accept_event(payload)
        except SlackPayloadError as exc:
            log.info("ignored a malformed event: %s", exc)
        except StoreError as exc:
            log.error("a Slack event was left unacknowledged (Slack sends it again): %s", exc)
            return
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
