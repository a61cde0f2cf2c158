"""Posting to Teams from the durable outbox: what to post was decided before; here it is only
delivered, proactively (`CloudAdapter.continue_conversation` with the stored conversation
reference) — a new post, a card updated in place, a reply under a card — and a failure is
classified as "retry later" (429 with Retry-After, 5xx, 408, network) or "won't work" (other
4xx: the bot was removed, the conversation is gone, the card was refused).

The Bot Framework connector does not retry for us (and msrest's own retries would hide a
Retry-After): they are switched off on every client, so the outbox decides when to try again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
    Mention,
)
from msrest.exceptions import ClientRequestError, HttpOperationError
from pydantic import BaseModel, ConfigDict, ValidationError
from requests import RequestException

from adapters.teams.translate import split_conversation_id, thread_conversation_id
from bot.errors import StaleWriteError
from bot.outbox import DeliveryOutcome, new_item
from bot.records import OutboxItem
from bot.store.base import Store

log = logging.getLogger(__name__)
PLATFORM = "teams"
PUBLIC_SERVICE_URL = "https://smba.trafficmanager.net/teams/"  # Teams' global endpoint
CONNECTOR_TIMEOUT = 20  # seconds; the outbox cuts a delivery off after 80 % of its lease
REF_PREFIX = "teams-ref:"
CARD_PREFIX = "teams-card:"
PERSONAL_PREFIX = "teams-personal:"
THREAD_PREFIX = "teams-thread:"


class TeamsPost(BaseModel):
    """One outbox item's payload for Teams."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    op: Literal["post", "card", "thread_reply"]
    conversation: str  # where to post: a chat, a channel (a new thread), or a channel thread
    card_key: str | None = None  # "ACME-4:engineers": the card this item creates or updates
    activity: dict[str, Any]  # the message activity (render.render_activity)


def outbox_item(post: TeamsPost, ordering_key: str | None, key: str | None = None,
                now: datetime | None = None) -> OutboxItem:
    return new_item(PLATFORM, post.model_dump(mode="json"), ordering_key, key, now)


async def remember(store: Store, key: str, value: Mapping[str, Any]) -> None:
    """Write a small record whatever its version (last writer wins: the newest)."""
    for _ in range(5):
        current, version = await store.load_conversation(key)
        if current == dict(value):
            return
        try:
            await store.save_conversation(key, dict(value), version)
            return
        except StaleWriteError:
            continue


async def recall(store: Store, key: str) -> dict[str, Any] | None:
    state, _ = await store.load_conversation(key)
    return state


async def remember_reference(store: Store, reference: ConversationReference) -> None:
    """Keep a conversation's reference (service URL, tenant, bot) for proactive posts, under
    its id and, for a channel thread, under the channel's id too."""
    reference = ConversationReference().deserialize(reference.serialize())
    reference.activity_id = None  # a proactive post is not a reply to the message we got
    if reference.user is not None:  # a post needs the conversation, not who spoke last: no
        reference.user.name = None  # person's name is kept with it
        reference.user.aad_object_id = None
    conversation = reference.conversation
    if conversation is None or not conversation.id:
        return
    full = str(conversation.id)
    base, _ = split_conversation_id(full)
    value = {"reference": reference.serialize()}
    await remember(store, REF_PREFIX + full, value)
    if base != full:
        await remember(store, REF_PREFIX + base, value)


async def reachable(store: Store, item: OutboxItem, fallback_service_url: str | None) -> bool:
    """Whether a Teams item has somewhere to go: a conversation we have a reference for (a
    message or the bot's installation came from it), or any, with a fallback service URL."""
    if fallback_service_url:
        return True
    conversation = str(item.payload.get("conversation", ""))
    base, _ = split_conversation_id(conversation)
    for key in (conversation, base):
        if await recall(store, REF_PREFIX + key):
            return True
    return False


@dataclass
class _Result:
    activity_id: str | None = None
    error: BaseException | None = None


class TeamsDeliverer:
    """The outbox's deliverer for platform "teams"."""

    def __init__(self, adapter: CloudAdapter, store: Store, bot_app_id: str,
                 fallback_service_url: str | None = None,
                 conversation_tenants: Mapping[str, str] | None = None) -> None:
        self.adapter = adapter
        self.store = store
        self.bot_app_id = bot_app_id
        self.fallback_service_url = fallback_service_url
        self.conversation_tenants = dict(conversation_tenants or {})

    async def deliver(self, item: OutboxItem) -> DeliveryOutcome:
        try:
            post = TeamsPost.model_validate(item.payload)
        except ValidationError as exc:
            return DeliveryOutcome.failed(f"malformed Teams outbox payload: {exc.errors()[0]}")
        try:
            return await self._send(post)
        except _NoReference as exc:
            log.warning("no Teams conversation reference yet: add the bot to that team or "
                        "chat, or set FRONTDOOR_TEAMS_SERVICE_URL")
            return DeliveryOutcome.retry(None, str(exc))
        except PermissionError as exc:  # Azure AD refused a token (msal)
            return DeliveryOutcome.retry(None, f"no Bot Framework token: {str(exc)[:120]}")
        except (ClientRequestError, RequestException, TimeoutError, OSError) as exc:
            return DeliveryOutcome.retry(None, f"network: {type(exc).__name__}")
        except HttpOperationError as exc:
            return classify(exc)

    async def _send(self, post: TeamsPost) -> DeliveryOutcome:
        card = await recall(self.store, CARD_PREFIX + post.card_key) if post.card_key else None
        if post.op == "card" and card:
            try:
                await self._call(str(card["conversation"]), post.activity,
                                 update=str(card["activity_id"]))
                return DeliveryOutcome.ok()
            except HttpOperationError as exc:
                if _status(exc) != 404:
                    raise
                log.info("a Teams card was gone; posting it again",
                         extra={"card": post.card_key})
        conversation = post.conversation
        if post.op == "thread_reply" and card:
            base, _ = split_conversation_id(str(card["conversation"]))
            conversation = thread_conversation_id(base, str(card["activity_id"])) \
                if base.startswith("19:") else str(card["conversation"])
        sent = await self._call(conversation, post.activity)
        if post.op == "card" and post.card_key and sent:
            await remember(self.store, CARD_PREFIX + post.card_key,
                           {"conversation": conversation, "activity_id": sent})
        return DeliveryOutcome.ok()

    async def reference_for(self, conversation: str) -> ConversationReference | None:
        """The stored reference of this conversation (or of its channel), addressed to it;
        else one built from the fallback service URL, if configured."""
        base, _ = split_conversation_id(conversation)
        for key in (conversation, base):
            stored = await recall(self.store, REF_PREFIX + key)
            if stored and isinstance(stored.get("reference"), dict):
                reference = ConversationReference().deserialize(stored["reference"])
                account = reference.conversation or ConversationAccount()
                reference.conversation = ConversationAccount(
                    id=conversation, conversation_type=account.conversation_type,
                    tenant_id=account.tenant_id, is_group=account.is_group)
                return reference
        if self.fallback_service_url:
            return ConversationReference(
                channel_id="msteams", service_url=self.fallback_service_url,
                bot=ChannelAccount(id=f"28:{self.bot_app_id}"),
                conversation=ConversationAccount(
                    id=conversation, tenant_id=self.conversation_tenants.get(base),
                    conversation_type="channel" if base.startswith("19:") else None))
        return None

    async def _call(self, conversation: str, activity: dict[str, Any],
                    update: str | None = None) -> str | None:
        """Post (or with `update`, replace) one activity; returns the new activity's id.
        Raises the connector's error, or LookupError when the conversation is unknown."""
        reference = await self.reference_for(conversation)
        if reference is None:
            raise _NoReference(conversation)
        result = _Result()
        message = Activity().deserialize({**activity, "type": "message"})
        message.entities = _entities(activity.get("entities"))  # msrest keeps only "type"
        message.conversation = reference.conversation
        message.from_property = reference.bot
        message.channel_id = reference.channel_id
        message.service_url = reference.service_url

        async def callback(context: TurnContext) -> None:
            client = context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
            try:
                config = client.config
                config.retry_policy.retries = 0
                config.retry_policy.policy.status_forcelist = set()
                config.connection.timeout = CONNECTOR_TIMEOUT
                if update is not None:
                    message.id = update
                    await client.conversations.update_activity(conversation, update, message)
                    result.activity_id = update
                else:
                    response = await client.conversations.send_to_conversation(
                        conversation, message)
                    result.activity_id = getattr(response, "id", None)
            except Exception as exc:  # handed back: botbuilder would swallow it
                result.error = exc

        await self.adapter.continue_conversation(reference, callback, self.bot_app_id)
        if result.error is not None:
            raise result.error
        return result.activity_id


def _entities(raw: object) -> list[Any] | None:
    """Mention entities as botbuilder models (a plain Entity would lose who is mentioned)."""
    if not isinstance(raw, list):
        return None
    out: list[Any] = []
    for entity in raw:
        if isinstance(entity, dict) and entity.get("type") == "mention":
            who = entity.get("mentioned") or {}
            out.append(Mention(mentioned=ChannelAccount(id=who.get("id"), name=who.get("name")),
                               text=entity.get("text"), type="mention"))
    return out or None


class _NoReference(LookupError):
    def __init__(self, conversation: str) -> None:
        super().__init__(f"no conversation reference for {conversation[:60]!r} yet")


def _status(exc: HttpOperationError) -> int:
    response = getattr(exc, "response", None)
    return int(getattr(response, "status_code", 0) or 0)


def classify(exc: HttpOperationError) -> DeliveryOutcome:
    """A connector error: 429 (Retry-After), 5xx and 408 are retried, other 4xx fail."""
    status = _status(exc)
    response = getattr(exc, "response", None)
    if status == 429:
        headers = getattr(response, "headers", None) or {}
        return DeliveryOutcome.retry(seconds(headers.get("Retry-After")), "Teams rate limit")
    if status >= 500 or status in (0, 408):
        return DeliveryOutcome.retry(None, f"Teams connector {status or 'error'}")
    return DeliveryOutcome.failed(f"Teams connector refused: {status} {str(exc)[:120]}")


def seconds(raw: object) -> float | None:
    try:
        return max(0.0, float(str(raw))) if raw is not None else None
    except ValueError:
        return None
