"""Composition helpers: the Teams front door's settings, its share of the scheduler's notices,
and an outbound-only deliverer for processes that post without serving (``frontdoor worker``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication

from adapters.settings import Settings
from adapters.teams.app import BotConfig, FixedTokenCredentialFactory, TeamsConfig
from adapters.teams.delivery import PUBLIC_SERVICE_URL, TeamsDeliverer, reachable
from adapters.teams.notices import conversation_tenants, notice_items
from bot.deployment import Directory
from bot.errors import ConfigError
from bot.messages import Notice
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


def teams_enabled(settings: Settings) -> bool:
    config = teams_config(settings)
    return bool(config.app_id or config.emulator)


def with_teams(sink: NoticeSink, store: Store, directory: Directory,
               settings: Settings) -> NoticeSink:
    """`sink`, plus the same notices as Teams posts when Teams is on (idempotency keys
    derived from the moment's key, as for Slack)."""
    if not teams_enabled(settings):
        return sink
    fallback = teams_config(settings).fallback_service_url

    async def both(notices: Sequence[Notice], key: str, now: datetime) -> None:
        await sink(notices, key, now)
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

    return both


def teams_deliverer(settings: Settings, store: Store,
                    directory: Directory) -> TeamsDeliverer | None:
    """A deliverer for a process that only posts (no inbound route)."""
    if not teams_enabled(settings):
        return None
    config = teams_config(settings)
    credentials = FixedTokenCredentialFactory(config.app_id) if config.test_openid_url \
        else None
    auth = ConfigurationBotFrameworkAuthentication(BotConfig(config),
                                                   credentials_factory=credentials)
    return TeamsDeliverer(CloudAdapter(auth), store, config.app_id,
                          config.fallback_service_url,
                          conversation_tenants(directory, config.app_tenant_id or None))
