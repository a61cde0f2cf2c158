"""The deployment file: who the vendor, its engineers, customers and partners are, and where.

TOML, validated by pydantic with `extra="forbid"`; an error names the key. The directory built
from it answers "who is this platform user, and what may they see?".
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.errors import ConfigError
from bot.messages import Person, Role
from policy.errors import PolicyError
from policy.pack import Pack, available_packs, load_pack

_ID = r"^[a-z0-9][a-z0-9_-]*$"
WEB_ID_MAX = 64
# What a platform's ids look like: Slack user ids (U…, W… on Enterprise Grid) and team ids
# (T…, E… for an org); Teams user ids (``29:…``, base64url), AAD object ids and tenant ids.
PLATFORM_ID = {
    "slack": re.compile(r"[UW][A-Z0-9]{2,31}"),
    "teams": re.compile(r"[A-Za-z0-9][A-Za-z0-9:._@+/=-]{0,199}"),
    "web": re.compile(rf"[a-z0-9][a-z0-9_-]{{0,{WEB_ID_MAX - 1}}}"),
}
WORKSPACE_ID = {
    "slack": re.compile(r"[TE][A-Z0-9]{2,31}"),
    "teams": re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"),
}
_EXAMPLE = {"slack": "U0123ABCD", "teams": "29:1a2B-3c", "web": "alice"}
_WORKSPACE_EXAMPLE = {"slack": "T0123ABCD",
                      "teams": "a GUID, e.g. 72f988bf-86f1-41af-91ab-2d7cd011db47"}


def platform_id_problem(platform: str, value: str) -> str | None:
    """Why `value` is not a user id on `platform`, or None when it is one."""
    pattern = PLATFORM_ID.get(platform)
    if pattern is None:
        return f"{platform!r} is not a platform (slack, teams or web)"
    if pattern.fullmatch(value) is None:
        shown = value if len(value) <= 40 else value[:39] + "…"
        return (f"{shown!r} is not a {platform} user id (e.g. {_EXAMPLE[platform]}: letters, "
                "digits and a few separators, of bounded length)")
    return None


def workspace_problem(platform: str, value: str) -> str | None:
    """Why `value` is not a workspace id (Slack team, Teams tenant), or None."""
    pattern = WORKSPACE_ID[platform]
    if pattern.fullmatch(value) is None:
        shown = value if len(value) <= 40 else value[:39] + "…"
        return f"{shown!r} is not a {platform} workspace id (e.g. {_WORKSPACE_EXAMPLE[platform]})"
    return None


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Channels(_Model):
    """The vendor's own channels on one platform."""

    engineers: str
    escalations: str | None = None
    war_room: str | None = None

    def of(self, role: Literal["engineers", "escalations", "war_room"]) -> str | None:
        return {"engineers": self.engineers, "escalations": self.escalations,
                "war_room": self.war_room}[role]


class PlatformIds(_Model):
    slack: str | None = None
    teams: str | None = None

    @field_validator("slack", "teams")
    @classmethod
    def _platform_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and (problem := platform_id_problem(str(info.field_name), value)):
            raise ValueError(problem)
        return value


def _check_workspace(value: str | None, info: ValidationInfo) -> str | None:
    platform = "slack" if info.field_name == "slack_team" else "teams"
    if value is not None and (problem := workspace_problem(platform, value)):
        raise ValueError(problem)
    return value


class UserEntry(PlatformIds):
    id: str = Field(pattern=_ID, max_length=WEB_ID_MAX)
    name: str


class CustomerUser(UserEntry):
    role: Literal["customer_user", "customer_admin"] = "customer_user"


class Probe(_Model):
    """A health probe of the deployment's URL, run by `frontdoor worker` (bot/probes.py)."""

    url: str = Field(pattern=r"^https?://")
    every_minutes: int = Field(default=5, ge=1, le=60)
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    open_incident: bool = False  # open a service-down incident when the probe sees an outage


class Deployment(_Model):
    name: str
    environment: Literal["production", "pre-production"]
    managed: bool = False
    go_live: date | None = None
    hypercare_end: date | None = None
    # Availability (policy packs, `availability`): the product type a promise applies to
    # (ConnectSoft: platform, factory-built, partner-delivered), the subscription's own
    # target where the pack leaves it to the subscription, and an optional health probe.
    product: str | None = None
    availability_target: float | None = Field(default=None, gt=0, le=100)
    probe: Probe | None = None

    def in_hypercare(self, on: date) -> bool:
        if self.go_live is None or self.hypercare_end is None:
            return False
        return self.go_live <= on <= self.hypercare_end


class Customer(_Model):
    name: str
    short: str = Field(pattern=r"^[A-Z][A-Z0-9]{1,9}$", description="case id prefix, e.g. ACME")
    pack: str
    plan: str
    timezone: str
    holiday_country: str | None = None
    partner: str | None = None
    slack_team: str | None = None  # set when the customer joins through Slack Connect
    deployments: tuple[Deployment, ...] = ()
    slack_channels: tuple[str, ...] = ()
    teams_tenant: str | None = None
    teams_conversations: tuple[str, ...] = ()
    users: tuple[CustomerUser, ...] = ()
    # The contract's last day ("termination of the contract"): the pack's retention rules
    # count from the end of that day in the customer's time zone. Unset: it runs on.
    contract_end: date | None = None

    check_workspaces = field_validator("slack_team", "teams_tenant")(_check_workspace)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone, e.g. America/New_York") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def deployment(self, name: str) -> Deployment | None:
        return next((d for d in self.deployments if d.name == name), None)

    def contract_ended_at(self) -> datetime | None:
        """The instant the contract ended (midnight after its last day, local), if it has
        an end."""
        if self.contract_end is None:
            return None
        return datetime.combine(self.contract_end + timedelta(days=1), time(0), self.tz)


class Partner(_Model):
    name: str
    slack_team: str | None = None  # required wherever Slack is configured
    slack_channels: tuple[str, ...] = ()
    teams_tenant: str | None = None
    teams_conversations: tuple[str, ...] = ()
    users: tuple[UserEntry, ...] = ()

    check_workspaces = field_validator("slack_team", "teams_tenant")(_check_workspace)


class Vendor(_Model):
    name: str
    timezone: str = "UTC"
    # the vendor's own Slack workspace (team id): required wherever Slack is configured
    slack_team: str | None = None
    channels: dict[Literal["slack", "teams", "web"], Channels] = Field(default_factory=dict)

    check_workspaces = field_validator("slack_team")(_check_workspace)


class KnowledgeLink(_Model):
    """One article known by its address only (a page on the vendor's documentation site)."""

    url: str = Field(pattern=r"^https?://")
    title: str = Field(min_length=1)
    summary: str = ""


class KnowledgeSource(_Model):
    """A set of documents: a folder of Markdown (`.md`) and HTML (`.html`) files, and/or a list
    of links with titles and summaries. `packs` / `customers` limit whose customers are shown
    its articles (neither: every customer's)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    path: Path | None = None  # relative: to the deployment file's folder
    url: str | None = Field(default=None, pattern=r"^https?://",
                            description="where the folder is published: an article's address "
                            "is this plus its path without the extension")
    links: tuple[KnowledgeLink, ...] = ()
    packs: tuple[str, ...] = ()
    customers: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _has_documents(self) -> KnowledgeSource:
        if self.path is None and not self.links:
            raise ValueError(f"source {self.name!r} needs `path` (a folder of documents) or "
                             "`links`")
        return self


class Knowledge(_Model):
    """The vendor's documentation, searched before a question becomes a case."""

    sources: tuple[KnowledgeSource, ...] = Field(min_length=1)
    index: Path | None = Field(default=None, description="the search index file (relative: to "
                               "the deployment file's folder); default frontdoor-kb.db beside "
                               "FRONTDOOR_DB")
    refresh_seconds: float = Field(default=30, ge=0, description="how often a running server "
                                   "looks for changed documents (0: only at start-up)")
    suggest: int = Field(default=3, ge=1, le=5, description="articles shown per offer")

    @model_validator(mode="after")
    def _distinct(self) -> Knowledge:
        names = [s.name for s in self.sources]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"knowledge.sources: names must be distinct; repeated: "
                             f"{', '.join(twice)}")
        return self

    def rooted(self, base: Path) -> Knowledge:
        """The same, with relative paths taken from `base` (the deployment file's folder)."""
        sources = tuple(s.model_copy(update={"path": base / s.path}) if s.path is not None
                        and not s.path.is_absolute() else s for s in self.sources)
        index = base / self.index if self.index is not None and not self.index.is_absolute() \
            else self.index
        return self.model_copy(update={"sources": sources, "index": index})


class DeploymentFile(_Model):
    vendor: Vendor
    engineers: tuple[UserEntry, ...] = ()
    admins: tuple[UserEntry, ...] = ()
    customers: dict[str, Customer] = Field(default_factory=dict)
    partners: dict[str, Partner] = Field(default_factory=dict)
    knowledge: Knowledge | None = None

    @model_validator(mode="after")
    def _references(self) -> DeploymentFile:
        problems: list[str] = []
        seen: dict[str, str] = {}
        shorts: dict[str, str] = {}
        owners: dict[tuple[str, str], str] = {}  # (key kind, value) → where it is first

        def owned_once(item: BaseModel, where: str, keys: tuple[str, ...], what: str) -> None:
            """A platform id belongs to one person, a workspace to one organisation."""
            for key in keys:
                value = getattr(item, key, None)
                if value is None:
                    continue
                owner = owners.setdefault((key, value), where)
                if owner != where:
                    problems.append(f"{where}.{key}: {value!r} is already {owner}'s: {what} "
                                    "belongs to one only")

        def person(entry: UserEntry, where: str) -> None:
            if entry.id in seen:
                problems.append(f"{where}: user id {entry.id!r} is already used at "
                                f"{seen[entry.id]}")
            seen[entry.id] = where
            owned_once(entry, where, ("slack", "teams"), "a platform id")

        def workspace(org: Vendor | Customer | Partner, where: str) -> None:
            owned_once(org, where, ("slack_team", "teams_tenant"), "a workspace")

        workspace(self.vendor, "vendor")

        for i, eng in enumerate(self.engineers):
            person(eng, f"engineers[{i}]")
        for i, adm in enumerate(self.admins):
            person(adm, f"admins[{i}]")
        for cid, customer in self.customers.items():
            workspace(customer, f"customers.{cid}")
            if not re.match(_ID, cid):
                problems.append(f"customers.{cid}: ids are lower-case letters, digits, - and _")
            if customer.short in shorts:
                problems.append(f"customers.{cid}.short: {customer.short!r} is already "
                                f"customers.{shorts[customer.short]}'s case prefix")
            shorts[customer.short] = cid
            if customer.partner is not None and customer.partner not in self.partners:
                problems.append(f"customers.{cid}.partner: no partner {customer.partner!r}")
            try:
                pack = load_pack(customer.pack)
                pack.plan(customer.plan)
            except PolicyError as exc:
                problems.append(f"customers.{cid}: {exc}")
            for i, user in enumerate(customer.users):
                person(user, f"customers.{cid}.users[{i}]")
        for pid, partner in self.partners.items():
            workspace(partner, f"partners.{pid}")
            for i, puser in enumerate(partner.users):
                person(puser, f"partners.{pid}.users[{i}]")
        for i, source in enumerate(self.knowledge.sources if self.knowledge else ()):
            for name in source.customers:
                if name not in self.customers:
                    problems.append(f"knowledge.sources[{i}].customers: no customer {name!r}")
            for name in source.packs:
                if name not in available_packs():
                    problems.append(f"knowledge.sources[{i}].packs: no policy pack {name!r} "
                                    f"(packs: {', '.join(available_packs())})")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def missing_slack_workspaces(self) -> list[str]:
        """The keys that must name a Slack workspace wherever Slack is configured, and don't:
        the vendor's own and each partner's (customers without one are guests in the
        vendor's)."""
        missing = [] if self.vendor.slack_team else ["vendor.slack_team"]
        missing += [f"partners.{pid}.slack_team" for pid, partner in self.partners.items()
                    if not partner.slack_team]
        return missing


def load_deployment(path: str | Path) -> DeploymentFile:
    """Read and validate the deployment file; errors name the file and the key."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: deployment file not found (set FRONTDOOR_CONFIG)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        loaded = DeploymentFile.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_url=False):
            loc = ".".join(str(p) for p in err["loc"])
            lines.append(f"{path.name}: key '{loc or '(top level)'}': "
                         f"{err['msg'].removeprefix('Value error, ')}")
        raise ConfigError("\n".join(lines)) from None
    if loaded.knowledge is not None:  # its folders travel with the file
        loaded = loaded.model_copy(
            update={"knowledge": loaded.knowledge.rooted(path.resolve().parent)})
    return loaded


class Directory:
    """Who is who: platform user → Person, and what each organisation has."""

    def __init__(self, deployment: DeploymentFile) -> None:
        self.deployment = deployment
        self._people: dict[str, Person] = {}
        self._by_platform: dict[tuple[str, str], str] = {}
        served: dict[str, list[str]] = {}
        for cid, customer in deployment.customers.items():
            if customer.partner:
                served.setdefault(customer.partner, []).append(cid)
        entries: list[tuple[UserEntry, Role, str | None, str | None]] = []
        entries += [(e, "engineer", None, None) for e in deployment.engineers]
        entries += [(a, "admin", None, None) for a in deployment.admins]
        for cid, customer in deployment.customers.items():
            entries += [(u, u.role, cid, None) for u in customer.users]
        for partner_id, partner in deployment.partners.items():
            entries += [(u, "partner", None, partner_id) for u in partner.users]
        for entry, role, org, pid in entries:
            self._people[entry.id] = Person(
                id=entry.id, name=entry.name, role=role, customer_id=org, partner_id=pid,
                served_customers=tuple(served.get(pid, ())) if pid else (),
            )
            for platform in ("slack", "teams"):
                platform_id = getattr(entry, platform)
                if platform_id:
                    self._by_platform[(platform, platform_id)] = entry.id

    def person(self, person_id: str) -> Person | None:
        return self._people.get(person_id)

    def platform_id(self, person_id: str, platform: str) -> str | None:
        """The person's user id on a platform (for mentions), if the deployment file has it."""
        return next((uid for (plat, uid), pid in self._by_platform.items()
                     if plat == platform and pid == person_id), None)

    def by_platform(self, platform: str, platform_user_id: str) -> Person | None:
        if platform == "web":
            return self._people.get(platform_user_id)
        pid = self._by_platform.get((platform, platform_user_id))
        return self._people.get(pid) if pid else None

    def people(self) -> list[Person]:
        return list(self._people.values())

    def customer(self, customer_id: str) -> Customer:
        try:
            return self.deployment.customers[customer_id]
        except KeyError:
            raise ConfigError(f"no customer {customer_id!r} in the deployment file") from None

    def pack_of(self, customer_id: str) -> Pack:
        return load_pack(self.customer(customer_id).pack)

    def name_of(self, person_id: str) -> str:
        person = self._people.get(person_id)
        return person.name if person else person_id

    def engineers(self) -> list[Person]:
        return [p for p in self._people.values() if p.role in ("engineer", "admin")]

    def hypercare(self, customer_id: str, deployment: str | None, at: datetime) -> bool:
        customer = self.customer(customer_id)
        on = at.astimezone(customer.tz).date()
        if deployment:
            dep = customer.deployment(deployment)
            return bool(dep and dep.in_hypercare(on))
        return any(d.in_hypercare(on) for d in customer.deployments)
