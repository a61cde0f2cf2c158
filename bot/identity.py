"""Who is speaking: a platform sender → a person and their organisation, or the one sentence a
stranger is answered with. Decided here, once, for every channel — closed by default: whatever
the deployment file doesn't say is refused.

An adapter passes in what its platform says about the sender — the user's ids and the
workspace the request came from (a Slack team, a Teams tenant; the web chat has none) — and
renders the answer: a `Recognised` with the person, or with the refusal to show (or not: some
Slack surfaces stay silent for a stranger). Every refusal is audited. The rules:

- a person is the directory's (engineers, admins, customer and partner users), or a user a
  customer admin added ("add user …", kept in the store); a platform id belongs to one
  organisation only — the deployment file is refused otherwise (bot.deployment), an admin
  can't add an id someone else has, and an id two customers' lists name (a race, or data
  from before this rule) is nobody's;
- on Slack and Teams every request names the workspace it came from, and that workspace is
  one the deployment serves (the vendor's, a customer's or a partner's): a request without
  one, or from any other, gets one polite sentence and nothing else (the unauthenticated
  local emulator sends none and isn't asked for one);
- a person speaks from their organisation's own workspace (`slack_team`, `teams_tenant`; the
  vendor's are `vendor.slack_team` and the app registration's tenant). Where a workspace is
  not named nobody of that organisation is recognised on that platform — with one exception,
  data in `RULES`: in Slack a customer without `slack_team` is a guest in the vendor's
  workspace, so speaks from the vendor's. In particular the vendor's people are not
  recognised in Teams while MICROSOFT_APP_TENANT_ID is unset (the server says so at start-up).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from bot.audit import record_audit
from bot.deployment import PLATFORM_ID, Customer, Directory, Partner, platform_id_problem
from bot.messages import Person
from bot.records import AuditRecord, AuthorisedUser
from bot.store.base import Store

log = logging.getLogger(__name__)

Platform = Literal["slack", "teams", "web"]
OrganisationKind = Literal["vendor", "customer", "partner"]
IDENTIFY = "identify"  # the audit action of a sender refused at the door


@dataclass(frozen=True, slots=True)
class Sender:
    """What a platform says about who sent a request."""

    platform: Platform
    user_ids: tuple[str, ...]  # best first (Teams names a user by AAD object id and by id)
    workspace: str | None = None  # the Slack team or Teams tenant it came from, if given
    # An unauthenticated local client (the Bot Framework Emulator) sends no workspace and
    # isn't asked for one.
    local: bool = False


@dataclass(frozen=True, slots=True)
class Organisation:
    """Whose a workspace is: the vendor's, or a customer's or partner's (with its id)."""

    kind: OrganisationKind
    id: str | None = None  # None for the vendor


@dataclass(frozen=True, slots=True)
class Recognised:
    """The answer: the person, or (person None) the sentence to answer them with."""

    person: Person | None
    refusal: str = ""


@dataclass(frozen=True, slots=True)
class WorkspaceRules:
    """How one platform's workspaces tell who may speak."""

    # A customer whose deployment entry names no workspace on this platform is a guest in
    # the vendor's (and speaks from there); otherwise such a customer is not recognised here.
    customers_are_vendor_guests: bool


RULES: dict[Platform, WorkspaceRules] = {
    # `slack_team` is set only for organisations that join through Slack Connect; the others
    # are guests in the vendor's workspace.
    "slack": WorkspaceRules(customers_are_vendor_guests=True),
    # In Teams every organisation speaks from a tenant of its own.
    "teams": WorkspaceRules(customers_are_vendor_guests=False),
}


class Identities:
    """Who is who on each platform, from the deployment file and the users admins added."""

    def __init__(self, store: Store, directory: Directory,
                 vendor_workspaces: dict[Platform, str | None] | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        """`vendor_workspaces`: the vendor's own workspace where the deployment file doesn't
        name it (Teams: the app registration's tenant, MICROSOFT_APP_TENANT_ID)."""
        self.store = store
        self.directory = directory
        self._clock = clock
        deployment = directory.deployment
        self._vendor: dict[Platform, str | None] = {"slack": deployment.vendor.slack_team}
        self._vendor.update(vendor_workspaces or {})
        orgs: list[tuple[Organisation, Customer | Partner]] = [
            *((Organisation("customer", cid), c) for cid, c in deployment.customers.items()),
            *((Organisation("partner", pid), p) for pid, p in deployment.partners.items())]
        self._organisations: dict[tuple[Platform, str], Organisation] = {}
        for platform in RULES:
            for org, entry in orgs:
                if workspace := _workspace(entry, platform):
                    self._organisations[(platform, workspace)] = org
        for platform, workspace in self._vendor.items():
            if workspace:
                self._organisations[(platform, workspace)] = Organisation("vendor")

    # -- the refusals, one wording for every channel --------------------------------------------

    @property
    def unknown_account(self) -> str:
        """For a sender no one in the deployment is (or not from where they speak)."""
        vendor = self.directory.deployment.vendor.name
        return (f"I don't know your account yet, so I can't open cases for you. Ask {vendor} "
                "support or your administrator to add you.")

    @property
    def not_served(self) -> str:
        """For a sender from a workspace the deployment doesn't serve (nothing else is said)."""
        vendor = self.directory.deployment.vendor.name
        return (f"Sorry — this is {vendor}'s support desk and your organisation isn't one it "
                "serves, so I can't help you here.")

    # -- lookups ---------------------------------------------------------------------------------

    async def person(self, platform: Platform, user_id: str) -> Person | None:
        """The person a platform user id is: directory people first, then users a customer
        admin added — when exactly one customer lists the id. No workspace check:
        `recognise` makes it."""
        if PLATFORM_ID[platform].fullmatch(user_id) is None:
            return None  # no one has an id like that (the deployment file's are checked)
        person, listed_by = await holders(self.store, self.directory,
                                          user_key(platform, user_id))
        if person is not None:
            return person
        if len(listed_by) > 1:
            log.warning("a user id two customers list is nobody's: remove it from one",
                        extra={"customers": ",".join(sorted(listed_by))})
            return None
        for cid, user in listed_by.items():
            return Person(id=user.user_id, name=user.name, role=user.role, customer_id=cid)
        return None

    def organisation(self, platform: Platform, workspace: str | None) -> Organisation | None:
        """Whose workspace this is, if the deployment serves it."""
        return self._organisations.get((platform, workspace)) if workspace else None

    def workspace_of(self, person: Person, platform: Platform) -> str | None:
        """The workspace `person` must speak from on `platform`; None: they can't speak there
        (their organisation names none, and isn't a guest in the vendor's)."""
        deployment = self.directory.deployment
        org: Customer | Partner
        if person.partner_id:
            org = deployment.partners[person.partner_id]
        elif person.customer_id:
            org = deployment.customers[person.customer_id]
        else:
            return self._vendor.get(platform) or None
        rules = RULES.get(platform)
        own = _workspace(org, platform)
        if own is None and person.customer_id and rules and rules.customers_are_vendor_guests:
            return self._vendor.get(platform) or None
        return own

    def serves(self, sender: Sender) -> bool:
        """Whether the sender's workspace is one the deployment serves (the local emulator,
        which names none, is served)."""
        if not sender.workspace:
            return sender.local
        return self.organisation(sender.platform, sender.workspace) is not None

    # -- the decision ------------------------------------------------------------------------------

    async def recognise(self, sender: Sender) -> Recognised:
        """The person behind `sender`, or the sentence to answer a stranger with (audited)."""
        person = None
        for user_id in sender.user_ids:
            if user_id:
                person = await self.person(sender.platform, user_id)
                if person is not None:
                    break
        if sender.platform not in RULES:  # the web chat: ids picked, no workspaces
            if person is None:
                await self._refused(sender, None, "no such person")
                return Recognised(None, self.unknown_account)
            return Recognised(person)
        if not self.serves(sender):
            await self._refused(sender, person, "from a workspace the deployment doesn't serve"
                                if sender.workspace else "the request names no workspace")
            return Recognised(None, self.not_served)
        if person is None:
            await self._refused(sender, None, "no such person")
            return Recognised(None, self.unknown_account)
        if sender.workspace:
            expected = self.workspace_of(person, sender.platform)
            if expected != sender.workspace:
                log.warning("%s user from an unexpected workspace refused", sender.platform,
                            extra={"role": person.role})
                await self._refused(sender, person, "not from their organisation's workspace"
                                    if expected else "their organisation has no workspace "
                                    "on this platform in the deployment file")
                return Recognised(None, self.unknown_account)
        return Recognised(person)

    async def _refused(self, sender: Sender, person: Person | None, why: str) -> None:
        """An audit entry for a sender refused at the door: who (the person they claimed to
        be, else the platform id), from where, and why (rate-limited per actor, bot/audit)."""
        claimed = next((u for u in sender.user_ids if u), "")
        actor = person.id if person else (f"{sender.platform}:{claimed}" if claimed else "-")
        where = f" (workspace {sender.workspace})" if sender.workspace else ""
        await record_audit(self.store, AuditRecord(
            at=self._clock(), actor=actor[:200], role=person.role if person else "unknown",
            action=IDENTIFY, allowed=False,
            customer_id=person.customer_id if person else None,
            detail=f"{sender.platform} sender refused{where[:120]}: {why}"))


# -- the ids customer admins add ("add user slack:U0123ABCD Dana Lee") -------------------------


def user_key(platform: Platform, user_id: str) -> str:
    """How a user a customer admin added is kept: ``slack:U…``, ``teams:…``, or a web id."""
    return user_id if platform == "web" else f"{platform}:{user_id}"


def split_user_key(key: str) -> tuple[Platform, str]:
    """``slack:U0X`` → ("slack", "U0X"); ``teams:29:x`` → ("teams", "29:x"); else a web id."""
    platform, sep, rest = key.partition(":")
    if sep and platform == "slack":
        return "slack", rest
    if sep and platform == "teams":
        return "teams", rest
    return "web", key


def user_key_problem(key: str) -> str | None:
    """Why `key` can't be a user a customer admin adds, or None: it must be a well-formed
    platform id (charset and length checked)."""
    platform, raw = split_user_key(key)
    problem = platform_id_problem(platform, raw)
    if problem is None:
        return None
    return (f"{problem}. Give the id as slack:<Slack user id>, teams:<Teams user id> or a web "
            "chat id (“add user slack:U0123ABCD Dana Lee”).")


async def holders(store: Store, directory: Directory,
                  key: str) -> tuple[Person | None, dict[str, AuthorisedUser]]:
    """Who already has the id `key` (as kept, see `user_key`): a person of the deployment
    file, and the customers whose admins added it, each with the entry."""
    platform, raw = split_user_key(key)
    person = directory.by_platform(platform, raw)
    listed_by: dict[str, AuthorisedUser] = {}
    for cid in directory.deployment.customers:
        for user in await store.authorised_users(cid):
            if user.user_id == key:
                listed_by[cid] = user
    return person, listed_by


def _workspace(org: Customer | Partner, platform: Platform) -> str | None:
    """The workspace the deployment file names for a customer or partner on `platform`."""
    return {"slack": org.slack_team, "teams": org.teams_tenant}.get(platform)
