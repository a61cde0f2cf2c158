"""Policy packs: the schema a support policy's TOML file must follow, and the loader.

A pack is data. The engine (calendar, SLA clock, scope rules) reads these models and knows no
vendor by name: a fifth policy is a fifth file. Packs may `extends` another pack: tables
deep-merge (key by key), anything else is replaced, so a child states only what differs.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.easter import easter
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from policy.calendar import BusinessCalendar, ClosedDates, Window, public_holidays, union_of
from policy.errors import CaseFactsError, PackError
from policy.scope import ScopeSection

PACKS_DIR = Path(__file__).resolve().parent / "packs"

Role = Literal["customer", "partner", "vendor"]
Environment = Literal["production", "pre-production"]
ClockName = Literal["response", "workaround", "resolution"]
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_IDENT = r"^[a-z0-9][a-z0-9-]*$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---- durations and targets

_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|bd|bw)\s*$")


class TargetTime(_Model):
    """A target as a policy states it: minutes/hours of coverage, business days, or best effort."""

    best_effort: bool = False
    minutes: int = 0
    business_days: int = 0
    text: str

    @classmethod
    def parse(cls, raw: str) -> TargetTime:
        if raw.strip().lower() in {"best-effort", "best effort", "best efforts"}:
            return cls(best_effort=True, text="best effort")
        match = _DURATION.match(raw.lower())
        if not match:
            raise ValueError(
                f"{raw!r} is not a target: write e.g. '30m', '4h', '1bd' (business day), "
                "'2bw' (business week) or 'best-effort'"
            )
        amount, unit = int(match[1]), match[2]
        if amount <= 0:
            raise ValueError(f"{raw!r}: a target must be longer than zero")
        if unit in {"m", "min"}:
            return cls(minutes=amount, text=_plural(amount, "min", "min"))
        if unit == "h":
            return cls(minutes=amount * 60, text=_plural(amount, "hour", "hours"))
        days = amount * (5 if unit == "bw" else 1)
        label = (
            _plural(amount, "Business Week", "Business Weeks")
            if unit == "bw"
            else _plural(amount, "Business Day", "Business Days")
        )
        return cls(business_days=days, text=label)

    def duration_on(self, calendar: BusinessCalendar) -> timedelta | None:
        """The target as coverage time on `calendar` (a Business Day is one full coverage day)."""
        if self.best_effort:
            return None
        return timedelta(minutes=self.minutes) + self.business_days * calendar.business_day


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _target(raw: Any) -> Any:
    if isinstance(raw, str):
        return TargetTime.parse(raw)
    return raw


Target = Annotated[TargetTime, Field(description="'30m', '4h', '1bd', '2bw' or 'best-effort'")]


class TargetRow(_Model):
    """One line of a plan's service-level table."""

    case_type: str
    priority: str | None = None
    environments: tuple[Environment, ...] | None = None
    calendar: str | None = None
    response: Target | None = None
    workaround: Target | None = None
    resolution: Target | None = None
    status_update: Target | None = None
    note: str | None = None
    clause: str

    @field_validator("response", "workaround", "resolution", "status_update", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return _target(value)

    def clock(self, name: str) -> TargetTime | None:
        value = getattr(self, name)
        return value if isinstance(value, TargetTime) else None


# ---- calendars

_HOURS = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class CalendarClosure(_Model):
    """A dated closure beyond public holidays: yearly ("12-24"), Easter-relative, or one date."""

    name: str
    annual: str | None = Field(default=None, pattern=r"^\d{2}-\d{2}$")
    easter_offset: int | None = None
    on: date | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> CalendarClosure:
        given = [x is not None for x in (self.annual, self.easter_offset, self.on)]
        if sum(given) != 1:
            raise ValueError("give exactly one of annual = 'MM-DD', easter_offset = N or on = DATE")
        if self.annual is not None:
            month, day = map(int, self.annual.split("-"))
            date(2024, month, day)  # raises on 02-30 and friends (2024 allows 02-29)
        return self

    def dates(self, year: int) -> list[date]:
        if self.annual is not None:
            month, day = map(int, self.annual.split("-"))
            try:
                return [date(year, month, day)]
            except ValueError:
                return []
        if self.easter_offset is not None:
            return [easter(year) + timedelta(days=self.easter_offset)]
        assert self.on is not None
        return [self.on] if self.on.year == year else []


class CalendarSpec(_Model):
    """Coverage hours as the policy states them; zone and holidays may be the subscription's."""

    description: str
    clause: str
    always_open: bool = False
    timezone: str = "subscription"
    holidays: str | None = "subscription"
    days: tuple[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ...] = ()
    hours: tuple[str, ...] = ()
    closures: tuple[CalendarClosure, ...] = ()
    business_day: str | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value != "subscription":
            _zone_or_error(value)
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for span in value:
            m = _HOURS.match(span)
            if not m:
                raise ValueError(f"{span!r} is not an opening window; write 'HH:MM-HH:MM'")
            start = int(m[1]) * 60 + int(m[2])
            end = int(m[3]) * 60 + int(m[4])
            if not (0 <= start < end <= 24 * 60) or int(m[2]) > 59 or int(m[4]) > 59:
                raise ValueError(f"{span!r} must open before it closes, 00:00 to 24:00")
        return value

    @model_validator(mode="after")
    def _shape(self) -> CalendarSpec:
        if self.always_open and (self.days or self.hours):
            raise ValueError("a 24/7 calendar (always_open = true) takes no days or hours")
        if not self.always_open and not (self.days and self.hours):
            raise ValueError("give days and hours, or always_open = true")
        if self.business_day is not None and not TargetTime.parse(self.business_day).minutes:
            raise ValueError("business_day is a length of time such as '9h'")
        return self

    def windows(self) -> list[Window]:
        spans = []
        for span in self.hours:
            m = _HOURS.match(span)
            assert m
            spans.append((int(m[1]) * 60 + int(m[2]), int(m[3]) * 60 + int(m[4])))
        return [Window(_DAY_NAMES.index(d), s, e) for d in self.days for s, e in spans]


def _zone_or_error(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. 'America/New_York')") from exc


# ---- case types, priorities, impact questions ----------------------------------------------------


class CaseTypeSpec(_Model):
    label: str
    description: str
    clause: str
    aliases: tuple[str, ...] = ()
    filed_by: tuple[Role, ...] = ("customer", "partner", "vendor")
    needs_deployment: bool = True
    managed_only: bool = False
    has_priority: bool = True
    fixed_priority: str | None = None
    becomes: str | None = Field(
        default=None, description="case type this one turns into when confirmed (a vulnerability)"
    )
    cues: tuple[str, ...] = Field(
        default=(), description="phrases that say a free-text message is this kind of case"
    )
    documentation_first: bool = Field(
        default=False, description="a question the vendor's documentation may answer: "
        "articles are offered before it is filed (never for a type with priorities)")

    @model_validator(mode="after")
    def _documentation_first_has_no_priority(self) -> CaseTypeSpec:
        if self.documentation_first and self.has_priority:
            raise ValueError("documentation_first: a type with priorities (an incident) is "
                             "never held up by articles; set has_priority = false or drop it")
        return self


class PrioritySpec(_Model):
    label: str
    rank: int = Field(ge=0, description="0 is the most urgent")
    summary: str
    aliases: tuple[str, ...] = ()
    guidelines: tuple[str, ...] = ()


class ImpactOption(_Model):
    id: str = Field(pattern=_IDENT)
    label: str
    hint: str = ""
    cues: tuple[str, ...] = Field(
        default=(), description="phrases in a customer's own words that give this answer"
    )


class ImpactQuestion(_Model):
    text: str
    options: tuple[ImpactOption, ...] = Field(min_length=2)
    assume_when_unsaid: str | None = Field(
        default=None,
        description="the answer taken when a message describes the impact but says nothing "
        "to this question (shown as assumed, one tap to change)",
    )

    def option(self, answer: str) -> ImpactOption | None:
        return next((o for o in self.options if o.id == answer), None)

    @model_validator(mode="after")
    def _assumption_is_an_option(self) -> ImpactQuestion:
        if self.assume_when_unsaid is not None and self.option(self.assume_when_unsaid) is None:
            raise ValueError(f"assume_when_unsaid: {self.assume_when_unsaid!r} is not an option")
        return self


class ImpactRule(_Model):
    """First matching rule decides the priority; `when` maps question ids to accepted answers."""

    when: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    priority: str
    because: str
    clause: str

    @field_validator("when", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: (v,) if isinstance(v, str) else v for k, v in value.items()}
        return value


class ImpactSection(_Model):
    questions: dict[str, ImpactQuestion] = Field(default_factory=dict)
    rules: tuple[ImpactRule, ...] = ()


class IntakeField(_Model):
    """A pack-specific detail to ask at intake (QSCIM: environment kind and connector)."""

    label: str
    prompt: str
    clause: str
    case_types: tuple[str, ...] | None = None
    options: tuple[ImpactOption, ...] = ()
    required: bool = True
    known: tuple[ImpactOption, ...] = Field(
        default=(), description="values of a free-text field recognised in a message "
        "(QSCIM's connectors); never offered as the only choices",
    )
    capture: tuple[str, ...] = Field(
        default=(), description="head words of a named thing to take from a message as the "
        "value ('orders API', 'login page')",
    )


class Understanding(_Model):
    """How free text is read for this pack, beyond the cues beside each question."""

    environments: dict[Environment, tuple[str, ...]] = Field(default_factory=dict)
    default_case_type: str | None = Field(
        default=None, description="the type of a message that describes a problem's impact "
        "without naming a type",
    )
    priority_words: tuple[str, ...] = ("priority", "severity", "sev", "prio")
    question_case_type: str | None = Field(
        default=None, description="the type a message with a question mark leans to")
    not_a_problem: tuple[str, ...] = Field(
        default=(), description="phrases that mention trouble without reporting any "
        "(“nothing is broken”)")


# ---- plans, clocks, rules ------------------------------------------------------------------------


class ClockSpec(_Model):
    label: str
    starts: Literal["reported", "acknowledged"]
    stops: Literal["acknowledged", "workaround_provided", "resolved"]
    paused_while_waiting_on_customer: bool = False
    clause: str


class Condition(_Model):
    """Facts a rule applies to; every given field must match (lists mean any of)."""

    plan: tuple[str, ...] | None = None
    case_type: tuple[str, ...] | None = None
    priority: tuple[str, ...] | None = None
    environment: tuple[Environment, ...] | None = None
    managed: bool | None = None
    hypercare: bool | None = None


_PERCENT = re.compile(r"^\s*(\d{1,3}(?:\.\d+)?)\s*%\s*$")
WALL_CLOCK = "wall-clock"


class AvailabilityPromise(_Model):
    """What a plan promises about the service being up — a service commitment, not support
    hours (policies.md, "Availability and retention, settled"). `target` is a share ("99.5%"),
    "per-subscription" (the deployment file sets it; no default) or "none" (said, not
    promised). Availability is counted in `counted_in` (a calendar of the pack, or the wall
    clock) over each `period`, from a measurement every `measured_every` when the policy
    names one; `down_when` says which cases are service-down evidence."""

    target: str
    product_types: tuple[str, ...] | None = Field(
        default=None, description="the deployments' product types it applies to (all: None)")
    counted_in: str = WALL_CLOCK
    measured_every: Target | None = None
    period: Literal["calendar-month"] = "calendar-month"
    excludes: tuple[Literal["announced-service-windows"], ...] = ()
    down_when: Condition | None = None
    note: str | None = None
    clause: str

    @field_validator("measured_every", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return _target(value)

    @field_validator("target")
    @classmethod
    def _target_text(cls, value: str) -> str:
        if value in {"none", "per-subscription"}:
            return value
        match = _PERCENT.match(value)
        if not match or not 0 < float(match[1]) <= 100:
            raise ValueError(f"{value!r} is not an availability target: write e.g. '99.5%', "
                             "'per-subscription' or 'none'")
        return value

    @model_validator(mode="after")
    def _interval(self) -> AvailabilityPromise:
        every = self.measured_every
        if every is not None and (every.best_effort or every.business_days or not every.minutes):
            raise ValueError("measured_every is a length of time such as '5m'")
        return self

    @property
    def target_percent(self) -> float | None:
        match = _PERCENT.match(self.target)
        return float(match[1]) if match else None

    @property
    def promised(self) -> bool:
        return self.target != "none"

    def applies_to(self, product_type: str | None) -> bool:
        return self.product_types is None or product_type in self.product_types


class PlanSpec(_Model):
    label: str
    calendar: str
    query_hours: int | None = Field(default=None, gt=0)
    availability: tuple[AvailabilityPromise, ...] = ()
    targets: tuple[TargetRow, ...] = Field(min_length=1)
    clause: str

    def availability_for(self, product_type: str | None) -> AvailabilityPromise | None:
        """The plan's availability promise for a deployment of this product type, if any."""
        return next((a for a in self.availability if a.applies_to(product_type)), None)


class ReclassifyRule(_Model):
    kind: Literal["reclassify-priority"]
    when: Condition
    to: str
    clause: str
    explanation: str


class NotCoveredRule(_Model):
    kind: Literal["not-covered"]
    when: Condition
    clause: str
    explanation: str
    alternative_case_type: str | None = None


class ProactiveUpdatesRule(_Model):
    kind: Literal["proactive-updates"]
    when: Condition
    every: Target
    clause: str
    explanation: str

    @field_validator("every", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        return _target(value)


CaseRule = Annotated[
    ReclassifyRule | NotCoveredRule | ProactiveUpdatesRule, Field(discriminator="kind")
]


# ---- escalation, suspension, retention, hypercare ------------------------------------------------


class EscalationLevel(_Model):
    name: str
    duties: tuple[str, ...]
    plans: tuple[str, ...] | None = None


class BreachTrigger(_Model):
    kind: Literal["breach"]
    clocks: tuple[ClockName, ...]
    to: str
    clause: str
    explanation: str


class PriorityTrigger(_Model):
    kind: Literal["priority"]
    priorities: tuple[str, ...]
    to: str
    clause: str
    explanation: str


class ManualTrigger(_Model):
    kind: Literal["manual"]
    to: str
    reasons: tuple[str, ...]
    clause: str


EscalationTrigger = Annotated[
    BreachTrigger | PriorityTrigger | ManualTrigger, Field(discriminator="kind")
]


class WarTeam(_Model):
    """Who forms the war team and the response plan it agrees, item by item."""

    members: tuple[str, ...]
    response_plan: tuple[str, ...] = Field(min_length=1)
    # The item agreed by picking a status-update cadence (the case's own cadence under the
    # policy is the default) rather than in free text.
    cadence_item: str | None = None
    clause: str

    @model_validator(mode="after")
    def _items_are_distinct(self) -> WarTeam:
        if len({item.strip().lower() for item in self.response_plan}) != len(
                self.response_plan):
            raise ValueError("response_plan items must be distinct")
        if self.cadence_item is not None and self.cadence_item not in self.response_plan:
            raise ValueError(f"cadence_item {self.cadence_item!r} is not one of the "
                             f"response_plan items {list(self.response_plan)}")
        return self


class EscalationSection(_Model):
    levels: dict[str, EscalationLevel] = Field(default_factory=dict)
    triggers: tuple[EscalationTrigger, ...] = ()
    war_team: WarTeam | None = None


class Suspension(_Model):
    label: str
    clause: str


RetentionData = Literal["personal-data", "attachments", "portal-data"]
RetentionStart = Literal["contract-end", "case-resolved", "case-closed"]


class Retention(_Model):
    """How long the policy lets data be kept: `days` (calendar days) after the first of the
    `after` moments that has come. What each kind of `data` covers is the engine's reading
    (bot/retention.py): `personal-data` the people and their words in cases, users and the
    audit; `attachments` files on cases; `portal-data` everything else about the customer's
    people (their conversations with the bot)."""

    what: str
    data: RetentionData
    days: int = Field(gt=0)
    after: tuple[RetentionStart, ...] = Field(min_length=1)
    clause: str


class Hypercare(_Model):
    description: str
    ends_when: tuple[str, ...]
    clause: str


class ConsultingSpec(_Model):
    """How the policy sells work outside standard support."""

    description: str
    needs_prior_approval: bool = False
    clause: str


class QueryHours(_Model):
    counts: str
    exempt: str
    clause: str


# ---- the pack


class Pack(_Model):
    id: str = Field(pattern=_IDENT)
    name: str
    policy_version: str
    source: str
    priority_word: str = "Priority"
    default_timezone: str
    default_holiday_country: str | None = None
    environments: dict[Environment, str]
    calendars: dict[str, CalendarSpec]
    clocks: dict[ClockName, ClockSpec]
    case_types: dict[str, CaseTypeSpec]
    priorities: dict[str, PrioritySpec]
    default_priority: str | None = None
    impact: ImpactSection = Field(default_factory=ImpactSection)
    intake: dict[str, IntakeField] = Field(default_factory=dict)
    plans: dict[str, PlanSpec]
    rules: tuple[CaseRule, ...] = ()
    escalation: EscalationSection = Field(default_factory=EscalationSection)
    suspensions: dict[str, Suspension] = Field(default_factory=dict)
    retention: dict[str, Retention] = Field(default_factory=dict)
    hypercare: Hypercare | None = None
    query_hours: QueryHours | None = None
    consulting: ConsultingSpec | None = None
    scope: ScopeSection = Field(default_factory=ScopeSection)
    understanding: Understanding = Field(default_factory=Understanding)

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        _zone_or_error(value)
        return value

    @model_validator(mode="after")
    def _cross_references(self) -> Pack:
        problems: list[str] = []
        types, prios, cals = set(self.case_types), set(self.priorities), set(self.calendars)

        def need(kind: str, names: set[str], value: str | None, where: str) -> None:
            if value is not None and value not in names:
                known = ", ".join(sorted(names)) or "none"
                problems.append(f"{where}: unknown {kind} {value!r} (known: {known})")

        ranks = [p.rank for p in self.priorities.values()]
        if len(set(ranks)) != len(ranks):
            problems.append("priorities: two priorities share a rank")
        need("priority", prios, self.default_priority, "default_priority")
        for name, type_spec in self.case_types.items():
            need("priority", prios, type_spec.fixed_priority, f"case_types.{name}.fixed_priority")
            need("case type", types, type_spec.becomes, f"case_types.{name}.becomes")
        for pname, plan in self.plans.items():
            need("calendar", cals, plan.calendar, f"plans.{pname}.calendar")
            for i, promise in enumerate(plan.availability):
                if promise.counted_in != WALL_CLOCK:
                    need("calendar", cals, promise.counted_in,
                         f"plans.{pname}.availability[{i}].counted_in")
                for prio in (promise.down_when.priority or ()) if promise.down_when else ():
                    need("priority", prios, prio, f"plans.{pname}.availability[{i}].down_when")
            for i, row in enumerate(plan.targets):
                where = f"plans.{pname}.targets[{i}]"
                need("case type", types, row.case_type, where + ".case_type")
                need("priority", prios, row.priority, where + ".priority")
                need("calendar", cals, row.calendar, where + ".calendar")
        for i, rule in enumerate(self.impact.rules):
            need("priority", prios, rule.priority, f"impact.rules[{i}].priority")
            for qid, answers in rule.when.items():
                question = self.impact.questions.get(qid)
                if question is None:
                    need("impact question", set(self.impact.questions), qid, f"impact.rules[{i}]")
                    continue
                for answer in answers:
                    if question.option(answer) is None:
                        problems.append(
                            f"impact.rules[{i}].when.{qid}: {answer!r} is not an option "
                            f"(options: {', '.join(o.id for o in question.options)})"
                        )
        if self.impact.questions and not any(not r.when for r in self.impact.rules):
            problems.append("impact.rules: end with a rule without `when` (the default)")
        need("case type", types, self.understanding.default_case_type,
             "understanding.default_case_type")
        need("case type", types, self.understanding.question_case_type,
             "understanding.question_case_type")
        for fname, intake_field in self.intake.items():
            for type_name in intake_field.case_types or ():
                need("case type", types, type_name, f"intake.{fname}.case_types")
        for i, case_rule in enumerate(self.rules):
            where = f"rules[{i}]"
            for plan_name in case_rule.when.plan or ():
                need("plan", set(self.plans), plan_name, where + ".when.plan")
            for type_name in case_rule.when.case_type or ():
                need("case type", types, type_name, where + ".when.case_type")
            for prio in case_rule.when.priority or ():
                need("priority", prios, prio, where + ".when.priority")
            if isinstance(case_rule, ReclassifyRule):
                need("priority", prios, case_rule.to, where + ".to")
            if isinstance(case_rule, NotCoveredRule):
                need("case type", types, case_rule.alternative_case_type,
                     where + ".alternative_case_type")
        levels = set(self.escalation.levels)
        for lname, level in self.escalation.levels.items():
            for p in level.plans or ():
                need("plan", set(self.plans), p, f"escalation.levels.{lname}.plans")
        for i, trig in enumerate(self.escalation.triggers):
            need("escalation level", levels, trig.to, f"escalation.triggers[{i}].to")
            if isinstance(trig, PriorityTrigger):
                for pr in trig.priorities:
                    need("priority", prios, pr, f"escalation.triggers[{i}].priorities")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # ---- lookups -------------------------------------------------------------------------------

    def plan(self, name: str | None) -> tuple[str, PlanSpec]:
        """The named plan, or the only plan when the pack has one and none was named."""
        if name is None:
            if len(self.plans) == 1:
                return next(iter(self.plans.items()))
            raise CaseFactsError(
                f"pack {self.id!r} has several plans; name one of: {', '.join(self.plans)}"
            )
        key = name.strip().lower()
        for pname, plan in self.plans.items():
            if key in {pname, plan.label.lower()}:
                return pname, plan
        raise CaseFactsError(
            f"pack {self.id!r} has no plan {name!r}; plans: {', '.join(self.plans)}"
        )

    # Lookups asked over and over (a report folds 10,000 cases): names as people write them,
    # and calendars per subscription zone and holiday country.
    _names: dict[tuple[str, str], str] = PrivateAttr(default_factory=dict)
    _calendars: dict[tuple[str, str | None, str | None], BusinessCalendar] = PrivateAttr(
        default_factory=dict)

    def case_type(self, name: str) -> str:
        if (found := self._names.get(("type", name))) is not None:
            return found
        key = _norm(name)
        for tname, spec in self.case_types.items():
            if key in {_norm(tname), _norm(spec.label), *map(_norm, spec.aliases)}:
                self._names[("type", name)] = tname
                return tname
        raise CaseFactsError(
            f"pack {self.id!r} has no case type {name!r}; case types: {', '.join(self.case_types)}"
        )

    def priority(self, name: str) -> str:
        """Resolve a priority as a person writes it: 'p1', 'Critical', '1', 'Critical/1'."""
        if (found := self._names.get(("priority", name))) is not None:
            return found
        key = _norm(name)
        for pname, spec in self.priorities.items():
            names = {_norm(pname), _norm(spec.label), *map(_norm, spec.aliases)}
            if key in names:
                self._names[("priority", name)] = pname
                return pname
        raise CaseFactsError(
            f"pack {self.id!r} has no {self.priority_word.lower()} {name!r}; "
            f"{self.priority_word.lower()} levels: {', '.join(self.priorities)}"
        )

    def ordered_priorities(self) -> list[str]:
        return sorted(self.priorities, key=lambda p: self.priorities[p].rank)

    def calendar(
        self, name: str, timezone: str | None = None, holiday_country: str | None = None
    ) -> BusinessCalendar:
        """The named calendar for a subscription in `timezone` with `holiday_country`."""
        if (built := self._calendars.get((name, timezone, holiday_country))) is not None:
            return built
        spec = self.calendars[name]
        zone = spec.timezone if spec.timezone != "subscription" else timezone
        zone = zone or self.default_timezone
        country = spec.holidays
        if country == "subscription":
            country = holiday_country or self.default_holiday_country
        built = _build_calendar(self.id, name, spec, zone, country)
        self._calendars[(name, timezone, holiday_country)] = built
        return built


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@cache
def _build_calendar(
    pack_id: str, name: str, spec: CalendarSpec, zone: str, country: str | None
) -> BusinessCalendar:
    tz = _zone_or_raise(zone)
    sources: list[ClosedDates] = []
    if country:
        try:
            sources.append(public_holidays(country))
        except Exception as exc:
            raise CaseFactsError(f"no public-holiday calendar for country {country!r}") from exc
    if spec.closures:
        closures = spec.closures
        sources.append(lambda year: [d for c in closures for d in c.dates(year)])
    business_day = None
    if spec.business_day:
        business_day = timedelta(minutes=TargetTime.parse(spec.business_day).minutes)
    return BusinessCalendar(
        tz,
        spec.windows(),
        union_of(*sources) if sources else None,
        always_open=spec.always_open,
        business_day=business_day,
        name=f"{pack_id}/{name}",
    )


def _zone_or_raise(zone: str) -> ZoneInfo:
    try:
        return _zone_or_error(zone)
    except ValueError as exc:
        raise CaseFactsError(str(exc)) from exc


# ---- loading


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else in `override` replaces what `base` had."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise PackError(f"{path}: no such pack file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"{path}: not valid TOML: {exc}") from exc


def _raw_pack(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    if path in seen:
        chain = " → ".join(p.name for p in (*seen, path))
        raise PackError(f"{path}: `extends` goes round in a circle ({chain})")
    raw = _read_toml(path)
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise PackError(f"{path}: key 'extends': expected the name of another pack")
    parent_path = path.parent / f"{parent}.toml"
    if not parent_path.exists():
        raise PackError(f"{path}: key 'extends': no pack {parent!r} beside it ({parent_path})")
    return deep_merge(_raw_pack(parent_path, (*seen, path)), raw)


def _format_validation(path: Path, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{path.name}: key '{loc or '(top level)'}': {msg}")
    return "\n".join(lines)


VOCABULARY_FILE = PACKS_DIR / "_vocabulary.toml"


def _with_vocabulary(path: Path, raw: dict[str, Any]) -> dict[str, Any]:
    """Lay the shared vocabulary under the pack and expand `@set` references in cue lists,
    so a pack states only the words that are its own."""
    shared = _read_toml(VOCABULARY_FILE)
    sets: dict[str, Any] = {**shared.get("sets", {}), **raw.pop("sets", {})}
    merged = deep_merge({"understanding": shared.get("understanding", {})}, raw)
    own = raw.get("understanding", {})
    for key in ("default_case_type", "question_case_type"):
        # A shared default names a type the pack may not have (a pack with no queries).
        if key not in own and merged["understanding"].get(key) not in raw.get("case_types", {}):
            merged["understanding"].pop(key, None)

    def expand(phrases: Any, where: str) -> Any:
        if not isinstance(phrases, list):
            return phrases
        out: list[Any] = []
        for phrase in phrases:
            if isinstance(phrase, str) and phrase.startswith("@"):
                if phrase[1:] not in sets:
                    raise PackError(f"{path.name}: key '{where}': no phrase set {phrase!r} "
                                    f"(sets: {', '.join(sorted(sets))})")
                out.extend(expand(sets[phrase[1:]], where))
            else:
                out.append(phrase)
        return out

    phrase_lists = {"cues", "not_a_problem"}

    def walk(node: Any, where: str) -> Any:
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for key, value in node.items():
                here = f"{where}.{key}".lstrip(".")
                value = walk(value, here)
                is_list = key in phrase_lists or where.endswith("understanding.environments")
                out[key] = expand(value, here) if is_list else value
            return out
        if isinstance(node, list):
            return [walk(v, where) for v in node]
        return node

    return dict(walk(merged, ""))


def load_pack_file(path: str | Path) -> Pack:
    """Load and validate one pack file (following `extends` to its siblings)."""
    path = Path(path)
    raw = _with_vocabulary(path, _raw_pack(path))
    try:
        return Pack.model_validate(raw)
    except ValidationError as exc:
        raise PackError(_format_validation(path, exc)) from None


@cache
def load_pack(name: str) -> Pack:
    """A shipped pack by id (`konneqt`, `qscim`, `connectsoft`, `dk-saas`)."""
    if not re.match(_IDENT, name):
        raise PackError(f"{name!r} is not a pack name; packs: {', '.join(available_packs())}")
    path = PACKS_DIR / f"{name}.toml"
    if not path.exists():
        raise PackError(f"no pack {name!r}; packs: {', '.join(available_packs())}")
    return load_pack_file(path)


def available_packs() -> list[str]:
    return sorted(p.stem for p in PACKS_DIR.glob("*.toml") if not p.stem.startswith("_"))
