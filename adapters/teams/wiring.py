"""The Teams front door's share of composition, from `Settings`: its checked settings, the
front door itself, its deliverers (an outbound-only one for processes that post without
serving, ``frontdoor worker``), its share of the scheduler's notices, and the app package.

Only the composition root (adapters/compose.py) calls these; it mirrors
adapters/slack/wiring.py function for function.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

from adapters.bulletins import BulletinPlaces
from adapters.settings import Settings
from adapters.teams import bulletins
from adapters.teams.app import BotConfig, FixedTokenCredentialFactory, TeamsConfig, TeamsFrontDoor
from adapters.teams.delivery import PLATFORM, PUBLIC_SERVICE_URL, TeamsDeliverer, reachable
from adapters.teams.notices import conversation_tenants, notice_items
from adapters.teams.package import PackageOptions, write_package
from bot.deployment import Directory
from bot.errors import ConfigError
from bot.handler import Handler
from bot.identity import Identities
from bot.messages import Notice
from bot.outbox import Deliverer
from bot.records import OutboxItem
from bot.scheduler import NoticeSink
from bot.store.base import Store

log = logging.getLogger(__name__)


def teams_config(settings: Settings) -> TeamsConfig:
    """The Teams settings, checked: a ConfigError names the variable that is missing."""
    emulator = settings.frontdoor_teams_emulator
    app_type = settings.microsoft_app_type.strip().lower()
    app_id = settings.microsoft_app_id.strip()
    password = settings.microsoft_app_password
    if app_type not in {"multitenant", "singletenant", "userassignedmsi"}:
        raise ConfigError(f"MICROSOFT_APP_TYPE: {settings.microsoft_app_type!r} is not one of "
                          "MultiTenant, SingleTenant, UserAssignedMSI")
    if app_id and app_type != "userassignedmsi" and not password:
        raise ConfigError("MICROSOFT_APP_PASSWORD: needed with MICROSOFT_APP_ID (the bot's "
                          "client secret)")
    if app_id and app_type != "multitenant" and not settings.microsoft_app_tenant_id.strip():
        raise ConfigError(f"MICROSOFT_APP_TENANT_ID: needed for a {settings.microsoft_app_type}"
                          " bot")
    if not app_id and app_type != "multitenant":
        raise ConfigError(f"MICROSOFT_APP_ID: needed for a {settings.microsoft_app_type} bot")
    return TeamsConfig(
        app_id=settings.microsoft_app_id.strip(),
        app_password=settings.microsoft_app_password.get_secret_value()
        if settings.microsoft_app_password else "",
        app_tenant_id=settings.microsoft_app_tenant_id.strip(),
        app_type=settings.microsoft_app_type,
        emulator=settings.frontdoor_web_chat if emulator is None else emulator,
        # a conversation no message came from yet: Teams' global endpoint, unless local
        fallback_service_url=settings.frontdoor_teams_service_url
        or (PUBLIC_SERVICE_URL if app_id else None),
        test_openid_url=settings.frontdoor_test_botframework_openid_url or None,
    )


def enabled(settings: Settings) -> bool:
    config = teams_config(settings)
    return bool(config.app_id or config.emulator)


def vendor_tenant(settings: Settings) -> str | None:
    """The vendor's own tenant: the one the app is registered in (engineers speak from it)."""
    return settings.microsoft_app_tenant_id.strip() or None


async def front_door(settings: Settings, store: Store, directory: Directory, handler: Handler,
                     identities: Identities, kick: Callable[[], None]) -> TeamsFrontDoor:
    """The Teams front door, started (it answers 503 itself while Teams is off)."""
    door = TeamsFrontDoor(config=teams_config(settings), handler=handler, identities=identities,
                          store=store, directory=directory, kick=kick)
    await door.start()
    return door


def front_door_deliverers(door: TeamsFrontDoor) -> dict[str, Deliverer]:
    """Posting to Teams through the front door's adapter, while Teams is on."""
    return {} if door.mode == "off" else {PLATFORM: door.deliverer}


def posting_deliverers(settings: Settings, store: Store,
                       directory: Directory) -> dict[str, Deliverer]:
    """Posting to Teams, for a process that serves no inbound route (`worker`, `tick`)."""
    if not enabled(settings):
        return {}
    config = teams_config(settings)
    credentials = FixedTokenCredentialFactory(config.app_id) if config.test_openid_url \
        else None
    auth = ConfigurationBotFrameworkAuthentication(BotConfig(config),
                                                   credentials_factory=credentials)
    return {PLATFORM: TeamsDeliverer(CloudAdapter(auth), store, config.app_id,
                                     config.fallback_service_url,
                                     conversation_tenants(directory,
                                                          config.app_tenant_id or None))}


def notice_sink(store: Store, directory: Directory, settings: Settings) -> NoticeSink | None:
    """The scheduler's notices as Teams posts in the outbox, when Teams is on (idempotency
    keys derived from the moment's key, as for Slack); a conversation Teams can't be reached
    in yet gets none."""
    if not enabled(settings):
        return None
    fallback = teams_config(settings).fallback_service_url

    async def sink(notices: Sequence[Notice], key: str, now: datetime) -> None:
        items: list[OutboxItem] = []
        for index, notice in enumerate(notices):
            for item in await notice_items(store, directory, notice, now,
                                           key=f"{key}/{index}"):
                if await reachable(store, item, fallback):
                    items.append(item)
                else:
                    log.debug("teams notice not posted: no way to reach that conversation yet",
                              extra={"case_id": item.case_id})
        if items:
            await store.enqueue_outbox(items)

    return sink


def package(settings: Settings, vendor: str, output: Path, *, version: str, name: str,
            domains: tuple[str, ...]) -> dict[str, Any]:
    """The Teams app package, from the settings and the vendor's name, written to `output`;
    returns its manifest (a PackageError names the setting or option that is wrong)."""
    return write_package(output, PackageOptions(
        app_id=settings.microsoft_app_id.strip(), vendor=vendor, version=version, name=name,
        website_url=settings.frontdoor_teams_website_url,
        privacy_url=settings.frontdoor_teams_privacy_url,
        terms_url=settings.frontdoor_teams_terms_url,
        accent_color=settings.frontdoor_teams_accent_color, domains=domains))


def bulletin_places(settings: Settings, store: Store,
                    directory: Directory) -> BulletinPlaces | None:
    """Teams' share of a bulletin's fan-out (adapters/bulletins.py), while Teams is on."""
    if not enabled(settings):
        return None
    return bulletins.places(settings, store, directory,
                            teams_config(settings).fallback_service_url)
