"""Posting to Slack from the durable outbox: what to post is decided before, here it is only
delivered — a card updated in place, a thread reply, an ephemeral message — and a failure is
classified as "retry later" (429 with Retry-After, 5xx, network) or "won't work" (bad channel).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import aiohttp
from pydantic import BaseModel, ConfigDict, ValidationError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import StaleWriteError
from bot.outbox import DeliveryOutcome, new_item
from bot.records import OutboxItem
from bot.store.base import Store

log = logging.getLogger(__name__)
PLATFORM = "slack"
# Errors that no retry will fix: the message or the place is wrong. Kept, logged, not retried.
_PERMANENT = {"channel_not_found", "not_in_channel", "is_archived", "invalid_blocks",
              "msg_too_long", "no_text", "invalid_auth", "account_inactive", "token_revoked",
              "cant_update_message", "message_not_found", "user_not_in_channel",
              "restricted_action", "invalid_arguments"}


class SlackPost(BaseModel):
    """One outbox item's payload for Slack."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    op: Literal["post", "card", "thread_reply", "ephemeral"]
    channel: str | None = None
    thread_ts: str | None = None
    user: str | None = None  # ephemeral messages: who sees it
    card_key: str | None = None  # "ACME-4:engineers": the card this item creates or updates
    message: dict[str, Any]


def outbox_item(post: SlackPost, ordering_key: str | None, key: str | None = None,
                now: datetime | None = None) -> OutboxItem:
    return new_item(PLATFORM, post.model_dump(mode="json"), ordering_key, key, now)


async def card_ref(store: Store, card_key: str) -> dict[str, str] | None:
    state, _ = await store.load_conversation(f"slack-card:{card_key}")
    return {k: str(v) for k, v in state.items()} if state else None


async def remember(store: Store, key: str, value: Mapping[str, str]) -> None:
    """Write a small record whatever its version (last writer wins: the newest post)."""
    for _ in range(5):
        _, version = await store.load_conversation(key)
        try:
            await store.save_conversation(key, dict(value), version)
            return
        except StaleWriteError:
            continue


class SlackDeliverer:
    def __init__(self, client: AsyncWebClient, store: Store) -> None:
        self.client = client
        self.store = store

    async def deliver(self, item: OutboxItem) -> DeliveryOutcome:
        try:
            post = SlackPost.model_validate(item.payload)
        except ValidationError as exc:
            return DeliveryOutcome.failed(f"malformed Slack outbox payload: {exc.errors()[0]}")
        try:
            await self._send(post)
        except SlackApiError as exc:
            return classify_api_error(exc)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return DeliveryOutcome.retry(None, f"network: {type(exc).__name__}")
        return DeliveryOutcome.ok()

    async def _send(self, post: SlackPost) -> None:
        text = str(post.message.get("text", ""))
        blocks = post.message.get("blocks")
        if post.op == "ephemeral":
            await self.client.chat_postEphemeral(channel=post.channel or "", user=post.user or "",
                                                 text=text, blocks=blocks,
                                                 thread_ts=post.thread_ts)
            return
        if post.op == "thread_reply":
            ref = await card_ref(self.store, post.card_key or "")
            channel = ref["channel"] if ref else post.channel
            thread = ref["ts"] if ref else post.thread_ts
            await self.client.chat_postMessage(channel=channel or "", thread_ts=thread,
                                               text=text, blocks=blocks)
            return
        if post.op == "card" and post.card_key:
            ref = await card_ref(self.store, post.card_key)
            if ref:
                await self.client.chat_update(channel=ref["channel"], ts=ref["ts"], text=text,
                                              blocks=blocks)
                return
        response = await self.client.chat_postMessage(channel=post.channel or "",
                                                      thread_ts=post.thread_ts, text=text,
                                                      blocks=blocks)
        if post.op == "card" and post.card_key:
            await remember(self.store, f"slack-card:{post.card_key}",
                           {"channel": str(response["channel"]), "ts": str(response["ts"])})


def classify_api_error(exc: SlackApiError) -> DeliveryOutcome:
    """A Web API error as a delivery verdict: rate limits and outages are retried."""
    status = getattr(exc.response, "status_code", 0)
    error = str(exc.response.get("error", "")) if exc.response is not None else ""
    if status == 429 or error == "ratelimited":
        raw = exc.response.headers.get("Retry-After") if exc.response is not None else None
        retry_after = _seconds(raw)
        return DeliveryOutcome.retry(retry_after, "rate limited")
    if status >= 500 or error in {"internal_error", "fatal_error", "service_unavailable",
                                  "request_timeout"}:
        return DeliveryOutcome.retry(None, f"Slack {status or error}")
    if error in _PERMANENT:
        return DeliveryOutcome.failed(f"Slack refused: {error}")
    return DeliveryOutcome.retry(None, f"Slack error {error or status}")


def _seconds(raw: object) -> float | None:
    if isinstance(raw, (list, tuple)):
        raw = raw[0] if raw else None
    try:
        return max(0.0, float(str(raw))) if raw is not None else None
    except ValueError:
        return None
