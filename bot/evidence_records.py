"""What the store keeps for SLA evidence besides cases: announced service windows, health-probe
results and bulletins (messages to an organisation rather than about one case: a monthly
report, a maintenance announcement). Pydantic, as bot.records: they cross the process
boundary as JSON. Satisfaction scores are case history (`survey_answered` events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

BulletinKind = Literal["report", "report_summary", "maintenance", "maintenance_reminder",
                       "maintenance_started", "maintenance_ended", "maintenance_cancelled",
                       "probe_outage"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServiceWindowRecord(_Record):
    """Maintenance an engineer or admin announced for a customer's deployment (or all of
    them). Announced before it starts, the dk-saas pack leaves it out of availability."""

    id: str  # MW-7
    customer_id: str
    deployment: str | None = None  # None: every deployment of the customer
    starts_at: datetime
    ends_at: datetime
    reason: str
    announced_at: datetime
    announced_by: str
    announced_by_name: str = ""
    cancelled_at: datetime | None = None
    cancelled_by: str | None = None

    @property
    def active(self) -> bool:
        return self.cancelled_at is None


class ProbeResult(_Record):
    """One health-probe result, to the minute (the store keeps a bit per minute)."""

    at: datetime
    up: bool


class BulletinRecord(_Record):
    """A message to an organisation (`customer:<id>`) or to the vendor's admins (`vendor`),
    delivered to its channels and kept for the web chat's feed. `id` makes it once-only."""

    id: str
    audience: str
    at: datetime
    kind: BulletinKind
    text: str
    link: str | None = None  # a path on this server (a report), made absolute by adapters
    data: dict[str, Any] = Field(default_factory=dict)
