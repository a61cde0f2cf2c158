"""The Slack front door's share of composition, from `Settings`: the front door itself (and its
Socket Mode connection), its deliverers, and its share of the scheduler's notices.

Only the composition root (adapters/compose.py) calls these; it mirrors
adapters/teams/wiring.py function for function.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime

from slack_sdk.web.async_client import AsyncWebClient

from adapters.bulletins import BulletinPlaces
from adapters.settings import Settings
from adapters.slack import bulletins
from adapters.slack.app import SlackFrontDoor
from adapters.slack.delivery import PLATFORM, SlackDeliverer
from adapters.slack.inbound import PLATFORM as EVENTS_PLATFORM
from adapters.slack.notices import notice_items
from adapters.slack.socket_mode import DurableSocketModeHandler
from bot.deployment import Directory
from bot.handler import Handler
from bot.identity import Identities
from bot.messages import Notice
from bot.outbox import Deliverer
from bot.records import OutboxItem
from bot.scheduler import NoticeSink
from bot.store.base import Store

log = logging.getLogger(__name__)


def configured(settings: Settings) -> bool:
    """Whether this deployment uses Slack (a bot token is set): then the deployment file must
    name the vendor's and each partner's Slack workspace (the root checks it at start-up)."""
    return settings.slack_bot_token is not None


def front_door(settings: Settings, store: Store, directory: Directory, handler: Handler,
               identities: Identities, kick: Callable[[], None], *,
               serving: bool = True) -> SlackFrontDoor | None:
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
        api_url=settings.slack_api_url, handler=handler, identities=identities, store=store,
        directory=directory, kick=kick, ticket_emoji=settings.frontdoor_ticket_emoji)


async def socket_mode(front: SlackFrontDoor,
                      settings: Settings) -> DurableSocketModeHandler | None:
    """Slack over Socket Mode, connected, when the settings ask for it (`serve --socket-mode`)."""
    if not (settings.slack_socket_mode and settings.slack_app_token):
        return None
    socket = DurableSocketModeHandler(front, settings.slack_app_token.get_secret_value())
    await socket.connect_async()  # type: ignore[no-untyped-call]
    log.info("slack socket mode connected")
    return socket


def front_door_deliverers(front: SlackFrontDoor | None, store: Store) -> dict[str, Deliverer]:
    """Posting to Slack with the front door's client, and working the Slack events kept in the
    store's queue."""
    if front is None:
        return {}
    return {PLATFORM: SlackDeliverer(front.client, store), EVENTS_PLATFORM: front.event_worker()}


def posting_deliverers(settings: Settings, store: Store) -> dict[str, Deliverer]:
    """Posting to Slack, for a process without a front door (`frontdoor tick`): the bot token
    is all it needs."""
    if not settings.slack_bot_token:
        return {}
    client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(),
                            base_url=settings.slack_api_url)
    return {PLATFORM: SlackDeliverer(client, store)}


def notice_sink(store: Store, directory: Directory, settings: Settings) -> NoticeSink | None:
    """The scheduler's notices as Slack posts in the outbox, when Slack is configured (each
    with a key derived from the moment, so a re-fired timer never posts twice)."""
    if not settings.slack_bot_token:
        return None

    async def sink(notices: Sequence[Notice], key: str, now: datetime) -> None:
        items: list[OutboxItem] = []
        for index, notice in enumerate(notices):
            items += await notice_items(store, directory, notice, now, key=f"{key}/{index}")
        if items:
            await store.enqueue_outbox(items)

    return sink


def bulletin_places(settings: Settings, directory: Directory) -> BulletinPlaces | None:
    """Slack's share of a bulletin's fan-out (adapters/bulletins.py), when Slack is on."""
    return bulletins.places(directory) if settings.slack_bot_token else None


def bulletin_deliverers(settings: Settings, store: Store, directory: Directory,
                        front: SlackFrontDoor | None = None) -> dict[str, Deliverer]:
    """Posting bulletins to Slack (and uploading reports), with the front door's client when
    there is one."""
    if not settings.slack_bot_token:
        return {}
    client = front.client if front is not None else AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url)
    return {bulletins.PLATFORM: bulletins.SlackBulletinDeliverer(client, store, directory)}
