"""Who is speaking: a platform sender → a person and their organisation, or the one sentence a
stranger is answered with. Decided here, once, for every channel.

An adapter passes in what its platform says about the sender — the user's ids and the
workspace the request came from (a Slack team, a Teams tenant; the web chat has none) — and
renders the answer: a `Recognised` with the person, or with the refusal to show (or not: some
Slack surfaces stay silent for a stranger). The rules below are the deployment file's:

- a person is the directory's (engineers, admins, customer and partner users), or a user a
  customer admin added ("add user …", kept in the store);
- a person speaks from their organisation's own workspace when the deployment file names one
  (`slack_team`, `teams_tenant`; the vendor's Teams tenant is the app registration's);
- how a platform's workspaces are used differs, and is data here (`RULES`), not code in the
  adapters: in Slack a customer without `slack_team` is a guest in the vendor's workspace, so
  any team will do; in Teams every organisation speaks from a tenant of its own, and a tenant
  the deployment doesn't serve gets one polite sentence and nothing else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from bot.deployment import Customer, Directory, Partner
from bot.messages import Person
from bot.store.base import Store

log = logging.getLogger(__name__)

Platform = Literal["slack", "teams", "web"]
OrganisationKind = Literal["vendor", "customer", "partner"]


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

    # Every organisation speaks from a workspace of its own: a customer or partner without
    # one in the deployment file is not recognised on this platform.
    own_workspace_required: bool
    # A workspace the deployment doesn't serve (or none, from an authenticated client) is
    # refused before anyone in it is looked up.
    strangers_refused: bool


RULES: dict[Platform, WorkspaceRules] = {
    # `slack_team` is set only for organisations that join through Slack Connect; the others
    # are guests in the vendor's workspace.
    "slack": WorkspaceRules(own_workspace_required=False, strangers_refused=False),
    "teams": WorkspaceRules(own_workspace_required=True, strangers_refused=True),
}


class Identities:
    """Who is who on each platform, from the deployment file and the users admins added."""

    def __init__(self, store: Store, directory: Directory,
                 vendor_workspaces: dict[Platform, str | None] | None = None) -> None:
        """`vendor_workspaces`: the vendor's own workspace where the deployment file doesn't
        name it (Teams: the app registration's tenant, MICROSOFT_APP_TENANT_ID)."""
        self.store = store
        self.directory = directory
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
        admin added. No workspace check: `recognise` makes it."""
        person = self.directory.by_platform(platform, user_id)
        if person is not None:
            return person
        key = user_id if platform == "web" else f"{platform}:{user_id}"
        for cid in self.directory.deployment.customers:
            for user in await self.store.authorised_users(cid):
                if user.user_id == key:
                    return Person(id=user.user_id, name=user.name, role=user.role,
                                  customer_id=cid)
        return None

    def organisation(self, platform: Platform, workspace: str | None) -> Organisation | None:
        """Whose workspace this is, if the deployment serves it."""
        return self._organisations.get((platform, workspace)) if workspace else None

    def workspace_of(self, person: Person, platform: Platform) -> str | None:
        """The workspace `person` must speak from on `platform`, if the deployment names one."""
        deployment = self.directory.deployment
        org: Customer | Partner
        if person.partner_id:
            org = deployment.partners[person.partner_id]
        elif person.customer_id:
            org = deployment.customers[person.customer_id]
        else:
            return self._vendor.get(platform) or None
        return _workspace(org, platform)

    def serves(self, sender: Sender, person: Person | None = None) -> bool:
        """Whether the sender's workspace is one the deployment serves (with `person`: the
        vendor's people are recognised from any workspace that isn't an organisation's when
        the vendor's own is not configured)."""
        if not sender.workspace:
            return sender.local
        if self.organisation(sender.platform, sender.workspace) is not None:
            return True
        return not self._vendor.get(sender.platform) and person is not None \
            and person.is_vendor

    # -- the decision ------------------------------------------------------------------------------

    async def recognise(self, sender: Sender) -> Recognised:
        """The person behind `sender`, or the sentence to answer a stranger with."""
        rules = RULES.get(sender.platform)
        person = None
        for user_id in sender.user_ids:
            if user_id:
                person = await self.person(sender.platform, user_id)
                if person is not None:
                    break
        if person is not None and rules is not None and \
                not self._from_own_workspace(person, sender, rules):
            log.warning("%s user from an unexpected workspace refused", sender.platform,
                        extra={"role": person.role})
            person = None
        if rules is not None and rules.strangers_refused and not self.serves(sender, person):
            log.info("%s request from a workspace the deployment doesn't serve refused",
                     sender.platform)
            return Recognised(None, self.not_served)
        if person is None:
            return Recognised(None, self.unknown_account)
        return Recognised(person)

    def _from_own_workspace(self, person: Person, sender: Sender,
                            rules: WorkspaceRules) -> bool:
        if not sender.workspace:
            return True
        expected = self.workspace_of(person, sender.platform)
        if expected:
            return expected == sender.workspace
        return person.is_vendor or not rules.own_workspace_required


def _workspace(org: Customer | Partner, platform: Platform) -> str | None:
    """The workspace the deployment file names for a customer or partner on `platform`."""
    return {"slack": org.slack_team, "teams": org.teams_tenant}.get(platform)
