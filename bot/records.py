"""What the store keeps: cases, their append-only history, audit entries, conversations.

Pydantic models because they cross the process boundary (JSON in SQLite or Redis); the
conversation handler works on them directly. Timestamps are aware UTC datetimes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CaseStatus = Literal[
    "new",
    "acknowledged",
    "in_progress",
    "waiting_on_customer",
    "workaround_provided",
    "resolved",
    "closed",
]
OPEN_STATUSES: frozenset[str] = frozenset(
    {"new", "acknowledged", "in_progress", "waiting_on_customer", "workaround_provided"}
)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChannelRef(_Record):
    """Where a message lives: platform, conversation (channel/chat), and thread if any."""

    platform: str
    conversation: str
    thread: str | None = None


class ScopeVerdict(_Record):
    decision: Literal["in_scope", "consulting", "not_covered"]
    rule: str | None = None
    clause: str | None = None
    explanation: str = ""


class ArticleRef(_Record):
    """An article of the vendor's documentation as a case or an intake remembers it: what was
    shown (or found), with the one-line excerpt that was shown."""

    id: str
    title: str
    url: str | None = None
    excerpt: str = ""
    shown: bool = True  # shown to the customer before filing (else: found for the engineers)


class CaseRecord(_Record):
    """A support case as stored. `version` increases on every write (optimistic concurrency)."""

    id: str  # short, readable, per customer: ACME-42
    customer_id: str
    number: int
    pack: str
    plan: str
    case_type: str
    priority: str | None = None
    requested_priority: str | None = None
    priority_source: Literal["derived", "customer", "engineer", "policy", "fixed"] = "derived"
    priority_reason: str | None = None
    environment: str | None = None
    deployment: str | None = None
    managed: bool = False
    hypercare: bool = False
    title: str
    description: str = ""
    details: dict[str, str] = Field(default_factory=dict)
    status: CaseStatus = "new"
    assignee: str | None = None
    reporter: str
    reporter_name: str = ""
    partner_id: str | None = None
    origin: ChannelRef | None = None
    scope: ScopeVerdict | None = None
    consulting_approved_by: str | None = None
    billable: bool = False
    query_minutes: int = 0
    escalation_level: str | None = None
    articles: list[ArticleRef] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    version: int = 0
    # What took personal data out of the case (retention rule ids), kept SLA facts intact:
    # a case is redacted once per rule (bot/privacy.py).
    redacted: list[str] = Field(default_factory=list)


class CaseEventRecord(_Record):
    """One entry of a case's append-only history; the SLA clock folds over these."""

    case_id: str
    seq: int = 0  # set by the store: 1, 2, 3 … per case
    kind: str  # policy.sla event kinds plus bot-level ones (assigned, note, escalated …)
    at: datetime
    actor: str
    actor_name: str = ""
    from_status: CaseStatus | None = None
    to_status: CaseStatus | None = None
    reason: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class AuditRecord(_Record):
    """Who tried what, and whether it was allowed. Refusals are audited too (at most a few a
    minute per person: `suppressed` counts those left out, bot/audit.py)."""

    at: datetime
    actor: str
    role: str
    action: str
    allowed: bool
    case_id: str | None = None
    customer_id: str | None = None
    detail: str = ""
    suppressed: int = 0


class AttachmentRecord(_Record):
    """A file attached to a case: the record the store keeps (the bytes live at `location`,
    on the platform or in a blob store). Retention deletes the record and says so; whoever
    keeps the bytes deletes them on the audit entry."""

    id: str
    case_id: str
    customer_id: str
    name: str
    content_type: str = "application/octet-stream"
    size: int = 0
    location: str = ""
    added_by: str
    added_at: datetime


class AuthorisedUser(_Record):
    """A user a customer admin added (Konneqt: the administrator adds or removes users)."""

    customer_id: str
    user_id: str
    name: str
    role: Literal["customer_user", "customer_admin"] = "customer_user"
    added_by: str
    added_at: datetime


class OutboxItem(_Record):
    """A message decided but not yet delivered. Kept until the platform accepted it."""

    id: str
    key: str  # idempotency key: enqueuing the same key twice keeps one item
    case_id: str | None = None  # items of one case are delivered in order
    platform: str  # "slack", "teams" …
    payload: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    due_at: datetime
    attempts: int = 0
    last_error: str | None = None
