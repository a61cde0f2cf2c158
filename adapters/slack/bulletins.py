"""Bulletins in Slack: maintenance in the customer's support channel; the monthly report as a
PDF uploaded to each customer admin's DM (the channel when no admin is on Slack); the summary
across customers to each vendor admin's DM, with the HTML attached. Reports are rendered when
delivered (from the store), never kept in the queue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import aiohttp
from pydantic import BaseModel, ConfigDict, ValidationError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.bulletins import BulletinPlaces
from adapters.report_render import render, render_summary
from adapters.slack.delivery import classify_api_error
from adapters.slack.render import render_message
from bot.bulletins import VENDOR_ADMINS
from bot.deployment import Directory
from bot.errors import FrontdoorError
from bot.evidence_records import BulletinRecord
from bot.messages import Reply
from bot.outbox import DeliveryOutcome, new_item
from bot.records import OutboxItem
from bot.reports.collect import customer_report, vendor_summary
from bot.reports.model import Period
from bot.store.base import Store

PLATFORM = "slack-bulletin"


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


def places(directory: Directory) -> BulletinPlaces:
    """The fan-out's Slack part (adapters/bulletins.py)."""

    async def items(bulletin: BulletinRecord, key: str, now: datetime) -> list[OutboxItem]:
        return [new_item(PLATFORM, post.model_dump(mode="json"), f"bulletin:{bulletin.audience}",
                         key=f"{key}#{n}:slack", now=now)
                for n, post in enumerate(slack_posts(directory, bulletin))]

    return items


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
