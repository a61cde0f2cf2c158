"""Bulletins (bot/bulletins.py) delivered where people work.

One `bulletin` outbox item is fanned out here into one item per place, each with its own
idempotency key, so a retried fan-out posts nothing twice:

- Slack (`slack-bulletin`): maintenance in the customer's support channel; the monthly report
  as a PDF uploaded to each customer admin's DM (the channel when no admin is on Slack); the
  summary across customers to each vendor admin's DM, with the HTML attached. Reports are
  rendered when delivered (from the store), never kept in the queue.
- Teams: a card in the customer's Teams conversation, with a signed link to the report when
  the server has a public address and a signing secret (FRONTDOOR_PUBLIC_URL,
  FRONTDOOR_REPORT_SECRET); the summary goes to the vendor's engineers' channel.
- The web chat reads bulletins from the store (its feed).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Literal

import aiohttp
from pydantic import BaseModel, ConfigDict, ValidationError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.evidence_wiring import signed_link
from adapters.report_render import render, render_summary
from adapters.settings import Settings
from adapters.slack.blocks import render_message
from adapters.slack.delivery import classify_api_error
from adapters.teams.delivery import TeamsPost, reachable
from adapters.teams.delivery import outbox_item as teams_item
from adapters.teams.wiring import teams_config, teams_enabled
from bot.bulletins import PLATFORM as BULLETIN
from bot.bulletins import VENDOR_ADMINS
from bot.deployment import Directory
from bot.errors import FrontdoorError
from bot.evidence_records import BulletinRecord
from bot.messages import Reply
from bot.outbox import Deliverer, DeliveryOutcome, new_item
from bot.records import OutboxItem
from bot.reports.collect import customer_report, vendor_summary
from bot.reports.model import Period
from bot.store.base import Store

log = logging.getLogger(__name__)
SLACK_BULLETIN = "slack-bulletin"


class SlackBulletinPost(BaseModel):
    """One Slack post of a bulletin: to a channel, or to a person's DM; with a report file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str | None = None
    user: str | None = None  # a Slack user id: the post goes to the DM with them
    text: str
    report: Literal["customer", "summary"] | None = None
    customer_id: str | None = None
    period: str | None = None


def slack_posts(directory: Directory, bulletin: BulletinRecord) -> list[SlackBulletinPost]:
    audience, _, customer_id = bulletin.audience.partition(":")
    if bulletin.audience == VENDOR_ADMINS:
        return [SlackBulletinPost(user=a.slack, text=bulletin.text, report="summary",
                                  period=str(bulletin.data.get("period")))
                for a in directory.deployment.admins if a.slack]
    customer = directory.deployment.customers.get(customer_id)
    if customer is None:
        return []
    channel = customer.slack_channels[0] if customer.slack_channels else None
    if audience == "customer-admins":
        period = str(bulletin.data.get("period"))
        admins = [u.slack for u in customer.users if u.role == "customer_admin" and u.slack]
        places: list[tuple[str | None, str | None]] = [(None, uid) for uid in admins] \
            or [(channel, None)]
        return [SlackBulletinPost(channel=ch, user=uid, text=bulletin.text, report="customer",
                                  customer_id=customer_id, period=period)
                for ch, uid in places]
    return [SlackBulletinPost(channel=channel, text=bulletin.text)] if channel else []


def teams_card(text: str, link: str | None) -> dict[str, Any]:
    """A bulletin as a Teams message: the text, and the report's link as a button."""
    body: list[dict[str, Any]] = [{"type": "TextBlock", "text": line, "wrap": True,
                                   **({"weight": "Bolder"} if i == 0 else {})}
                                  for i, line in enumerate(text.split("\n"))]
    card: dict[str, Any] = {"type": "AdaptiveCard", "version": "1.5",
                            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                            "body": body, "msteams": {"width": "Full"}}
    if link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open the report", "url": link}]
    return {"type": "message", "summary": text.split("\n")[0][:200],
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                             "content": card}]}


class BulletinFanout:
    """The `bulletin` deliverer: one item per place, enqueued (idempotently)."""

    def __init__(self, store: Store, directory: Directory, settings: Settings) -> None:
        self.store = store
        self.directory = directory
        self.settings = settings

    async def deliver(self, item: OutboxItem) -> DeliveryOutcome:
        try:
            bulletin = BulletinRecord.model_validate(item.payload)
        except ValidationError as exc:
            return DeliveryOutcome.failed(f"malformed bulletin: {exc.errors()[0]}")
        items: list[OutboxItem] = []
        now = datetime.now(UTC)
        if self.settings.slack_bot_token:
            for n, post in enumerate(slack_posts(self.directory, bulletin)):
                items.append(new_item(SLACK_BULLETIN, post.model_dump(mode="json"),
                                      f"bulletin:{bulletin.audience}",
                                      key=f"{item.key}#{n}:slack", now=now))
        if teams_enabled(self.settings):
            items += await self._teams(bulletin, item.key, now)
        if items:
            await self.store.enqueue_outbox(items)
        return DeliveryOutcome.ok()

    async def _teams(self, bulletin: BulletinRecord, key: str,
                     now: datetime) -> list[OutboxItem]:
        audience, _, customer_id = bulletin.audience.partition(":")
        if bulletin.audience == VENDOR_ADMINS:
            channels = self.directory.deployment.vendor.channels.get("teams")
            conversation = channels.engineers if channels else None
        else:
            customer = self.directory.deployment.customers.get(customer_id)
            conversation = customer.teams_conversations[0] \
                if customer and customer.teams_conversations else None
        if conversation is None:
            return []
        link = signed_link(self.settings, bulletin.link) if bulletin.link else None
        text = bulletin.text if link or not bulletin.link else (
            f"{bulletin.text}\nAsk me for the full report in chat "
            f"(“report {bulletin.data.get('customer_id', 'all')} {bulletin.data.get('period')}”).")
        post = TeamsPost(op="post", conversation=conversation, activity=teams_card(text, link))
        out = teams_item(post, f"bulletin:{audience}", key=f"{key}#teams", now=now)
        fallback = teams_config(self.settings).fallback_service_url
        return [out] if await reachable(self.store, out, fallback) else []


class SlackBulletinDeliverer:
    """Posts a bulletin to Slack; a report bulletin uploads the report file."""

    def __init__(self, client: AsyncWebClient, store: Store, directory: Directory) -> None:
        self.client = client
        self.store = store
        self.directory = directory

    async def deliver(self, item: OutboxItem) -> DeliveryOutcome:
        try:
            post = SlackBulletinPost.model_validate(item.payload)
        except ValidationError as exc:
            return DeliveryOutcome.failed(f"malformed Slack bulletin: {exc.errors()[0]}")
        try:
            channel = post.channel
            if post.user:
                opened = await self.client.conversations_open(users=post.user)
                channel = str(opened["channel"]["id"])
            if not channel:
                return DeliveryOutcome.failed("no Slack channel for this bulletin")
            if post.report is None:
                message = render_message(Reply(post.text))
                await self.client.chat_postMessage(channel=channel, text=message["text"],
                                                   blocks=message["blocks"])
                return DeliveryOutcome.ok()
            content, filename, title = await self._file(post)
            await self.client.files_upload_v2(channel=channel, content=content,
                                              filename=filename, title=title,
                                              initial_comment=post.text)
        except SlackApiError as exc:
            return classify_api_error(exc)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return DeliveryOutcome.retry(None, f"network: {type(exc).__name__}")
        except FrontdoorError as exc:
            return DeliveryOutcome.failed(f"report: {exc}")
        return DeliveryOutcome.ok()

    async def _file(self, post: SlackBulletinPost) -> tuple[bytes, str, str]:
        now = datetime.now(UTC)
        period = post.period or ""
        if post.report == "summary":
            summary = await vendor_summary(self.store, self.directory, period, now)
            return (render_summary(summary, "html"), f"sla-summary-{period}.html",
                    f"SLA summary {summary.label}")
        customer_id = post.customer_id or ""
        customer = self.directory.customer(customer_id)
        report = await customer_report(self.store, self.directory, customer_id,
                                       Period.month(period, customer.tz), now)
        return (render(report, "pdf"), f"sla-report-{customer.short.lower()}-{period}.pdf",
                f"SLA report {customer.name} {report.period.label}")


def bulletin_deliverers(settings: Settings, store: Store, directory: Directory,
                        slack_client: AsyncWebClient | None = None) -> dict[str, Deliverer]:
    """The fan-out, and Slack's own bulletin poster when Slack is configured."""
    out: dict[str, Deliverer] = {BULLETIN: BulletinFanout(store, directory, settings)}
    if settings.slack_bot_token:
        client = slack_client or AsyncWebClient(
            token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url)
        out[SLACK_BULLETIN] = SlackBulletinDeliverer(client, store, directory)
    return out
