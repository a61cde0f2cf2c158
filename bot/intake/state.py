"""What the intake knows so far (persisted), what it hands on, and what it may consult."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.deployment import Customer
from bot.messages import Person, Reply
from bot.records import ArticleRef, ScopeVerdict
from policy.pack import Pack

Step = Literal[
    "customer", "case_type", "impact", "priority", "deployment", "field", "description",
    "scope_question", "consulting", "not_covered", "suggest", "confirm",
]
PrioritySource = Literal["derived", "customer", "fixed", "policy"]


class IntakeState(BaseModel):
    """Everything known so far about the case being filed (persisted as JSON)."""

    model_config = ConfigDict(extra="forbid")

    step: Step = "case_type"
    customer_id: str | None = None
    case_type: str | None = None
    impact: dict[str, str] = Field(default_factory=dict)
    skip_impact: bool = False
    priority: str | None = None
    priority_source: PrioritySource | None = None
    priority_reason: str | None = None
    priority_confirmed: bool = False
    # A priority the customer named in their words ("P1 …"), kept beside the derived one.
    stated_priority: str | None = None
    deployment: str | None = None
    environment: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    description: str | None = None
    scope_answers: dict[str, str] = Field(default_factory=dict)
    pending_question: str | None = None
    scope: ScopeVerdict | None = None
    scope_settled: bool = False
    file_despite_scope: bool = False
    coverage_settled: bool = False
    # What was taken from the customer's own words (key → their words), and what was assumed
    # because the words described the impact without answering a question.
    heard: dict[str, str] = Field(default_factory=dict)
    assumed: list[str] = Field(default_factory=list)
    # The summary item being corrected ("deployment"); the summary comes back after it.
    changing: str | None = None
    # Articles of the vendor's documentation offered before filing (a question), and whether
    # the offer is behind us (answered, or nothing to offer).
    articles: list[ArticleRef] = Field(default_factory=list)
    articles_settled: bool = False
    started_at: datetime
    updated_at: datetime
    snapshots: list[dict[str, Any]] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CaseDraft:
    """A confirmed request, ready for the case service to open."""

    customer_id: str
    case_type: str
    priority: str | None
    requested_priority: str | None
    priority_source: str
    priority_reason: str | None
    deployment: str | None
    environment: str | None
    managed: bool
    hypercare: bool
    fields: dict[str, str]
    description: str
    scope: ScopeVerdict | None
    consulting_request: bool = False
    consulting_approved: bool = False
    billable: bool = False  # a query beyond the plan's query hours
    articles: tuple[ArticleRef, ...] = ()  # offered before filing ("No, open a case")


@dataclass(frozen=True, slots=True)
class IntakeContext:
    """What the state machine may consult: the pack, the customer, the clock, the person."""

    person: Person
    customers: Mapping[str, Customer]  # those this person may file for
    pack_for: Callable[[str], Pack]
    vendor_name: str
    idle_timeout: timedelta
    clocks_preview: Callable[[CaseDraft, datetime], list[str]]
    explain_preview: Callable[[CaseDraft, datetime], list[str]]
    # Per customer: (query minutes used this term, the plan's limit in minutes or None).
    query_usage: Mapping[str, tuple[int, int | None]] = field(default_factory=dict)
    # (customer id, the question) → the articles to offer; None: no knowledge base.
    find_articles: Callable[[str, str], Sequence[ArticleRef]] | None = None


OfferOutcome = Literal["deflected", "declined", "dropped"]


@dataclass(frozen=True, slots=True)
class Offer:
    """What came of an offer of articles: deflected ("Yes, thanks": nothing filed), declined
    ("No, open a case") or dropped (cancelled while it was on the screen)."""

    outcome: OfferOutcome
    customer_id: str
    article_ids: tuple[str, ...]


@dataclass(slots=True)
class IntakeResult:
    state: IntakeState | None
    replies: list[Reply] = field(default_factory=list)
    draft: CaseDraft | None = None
    offer: Offer | None = None


def start_state(at: datetime, ctx: IntakeContext) -> IntakeState:
    state = IntakeState(started_at=at, updated_at=at)
    if len(ctx.customers) == 1:
        state.customer_id = next(iter(ctx.customers))
    return state
