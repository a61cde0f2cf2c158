"""Slack events kept in the store before Slack is told "ok", worked later by any worker.

Why: an event acknowledged and then worked in memory is lost if the process dies, and work
piled up behind the acknowledgements slows every later acknowledgement. So the front door
only checks the request, keeps the event as an item of the store's durable queue (the same
queue as our outgoing posts, with platform "slack-event") and answers; workers take items
from there, in order per conversation, with the queue's leases and retries.

The item's key is the event id, so a retried event (Slack re-sends when an answer is late)
is answered from that record and worked once, across all processes. Events we would ignore
anyway (edits, bots, other emoji) are never stored.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from adapters.errors import SlackPayloadError
from adapters.slack import translate
from adapters.slack.delivery import classify_api_error
from bot.errors import StoreError
from bot.outbox import DeliveryOutcome, new_item
from bot.records import OutboxItem

log = logging.getLogger(__name__)
PLATFORM = "slack-event"
KEY_PREFIX = "slack-event:"
MAX_ATTEMPTS = 8  # tries of a failing event (about two minutes of backoff) before it is let go
WORK_TIMEOUT_SECONDS = 15.0  # below the queue's own cut-off, so this worker counts its timeouts


def is_wanted(event: Mapping[str, Any], bot_user: str | None, ticket_emoji: str) -> bool:
    """Whether the front door does anything with this event (the listeners' own filters,
    applied before storing): never our own or other bots' messages, edits or joins."""
    kind = event.get("type")
    user = event.get("user")
    if event.get("bot_id") or (bot_user is not None and user == bot_user):
        return False
    if kind == "app_mention":
        return True
    if kind == "message":
        if event.get("subtype"):
            return False
        # a mention in a channel comes again as app_mention; in a DM it never does
        return event.get("channel_type") == "im" or not (
            bot_user and f"<@{bot_user}>" in str(event.get("text", "")))
    if kind == "reaction_added":
        return event.get("reaction") == ticket_emoji
    if kind == "app_home_opened":
        return event.get("tab") in (None, "home")
    return False


def ordering_key(event: Mapping[str, Any]) -> str:
    """Events of one conversation (a thread, a DM, a person's App Home) are worked in the
    order they came; different conversations in parallel."""
    if event.get("type") == "app_home_opened":
        return f"slack-in:home:{event.get('user')}"
    where = translate.where_of(event)
    return f"slack-in:{where.channel}:{where.thread or '-'}"


def event_item(body: Mapping[str, Any], bot_user: str | None, ticket_emoji: str,
               now: datetime) -> OutboxItem | None:
    """The queue item for an `event_callback` body, or None when nothing is to be done.
    Raises SlackPayloadError for an event that names no conversation."""
    event = body.get("event")
    if not isinstance(event, Mapping):
        raise SlackPayloadError("the event_callback has no event object")
    if not is_wanted(event, bot_user, ticket_emoji):
        return None
    order = ordering_key(event)
    event_id = body.get("event_id")
    key = KEY_PREFIX + (event_id if isinstance(event_id, str) and event_id
                        else uuid.uuid4().hex)
    # The sender's workspace, as the envelope says (the event alone may not name it).
    team = translate.speaker_team(body)
    return new_item(PLATFORM, {"event_id": event_id, "event": dict(event), "team": team},
                    order, key, now)


class SlackEventWorker:
    """The queue's deliverer for stored events: works one through the front door.

    A failure is retried with the queue's backoff (or Slack's Retry-After) — store outages,
    Web API failures, timeouts, anything — but at most MAX_ATTEMPTS times, and not at all
    when Slack refuses for good; then the person is told their message was not worked
    (rather than left waiting) and the event is let go, so the conversation's later messages
    are not held behind it. (While the store is down nothing is counted: the item stays
    leased and comes back when the lease runs out.)"""

    def __init__(self, work: Callable[[Mapping[str, Any], str | None], Awaitable[None]],
                 give_up: Callable[[Mapping[str, Any]], Awaitable[None]]) -> None:
        self._work = work
        self._give_up = give_up

    async def deliver(self, item: OutboxItem) -> DeliveryOutcome:
        event = item.payload.get("event")
        if not isinstance(event, Mapping):
            log.error("a stored Slack event without an event object was dropped",
                      extra={"item_id": item.id})
            return DeliveryOutcome.ok()
        team = item.payload.get("team")
        if not isinstance(team, str):  # kept before the envelope's team was: the event's
            try:
                team = translate.speaker_team(event)
            except SlackPayloadError:
                team = None
        try:
            async with asyncio.timeout(WORK_TIMEOUT_SECONDS):
                await self._work(event, team)
        except SlackPayloadError as exc:
            log.error("a malformed Slack event was dropped: %s", exc, extra={"item_id": item.id})
            return DeliveryOutcome.ok()
        except SlackApiError as exc:
            outcome = classify_api_error(exc)
        except StoreError as exc:
            outcome = DeliveryOutcome.retry(None, f"store: {exc}")
        except (aiohttp.ClientError, OSError) as exc:
            outcome = DeliveryOutcome.retry(None, f"network: {type(exc).__name__}")
        except TimeoutError:
            outcome = DeliveryOutcome.retry(None, f"timed out after {WORK_TIMEOUT_SECONDS:g}s")
        except Exception as exc:  # a case we did not foresee
            log.error("working a Slack event failed", extra={"item_id": item.id},
                      exc_info=exc)
            outcome = DeliveryOutcome.retry(None, f"{type(exc).__name__} while working it")
        else:
            return DeliveryOutcome.ok()
        if outcome.kind == "failed" or item.attempts + 1 >= MAX_ATTEMPTS:
            return await self._let_go(item, event, outcome.reason)
        return outcome

    async def _let_go(self, item: OutboxItem, event: Mapping[str, Any],
                      reason: str) -> DeliveryOutcome:
        log.error("a Slack event was not worked (%s); the sender is told", reason,
                  extra={"item_id": item.id, "attempt": item.attempts + 1})
        await self._give_up(event)
        return DeliveryOutcome.ok()
