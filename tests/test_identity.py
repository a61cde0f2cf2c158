"""Who someone is, decided once for every channel (bot/identity.py): a platform sender → a
person, or the sentence a stranger reads. The front-door tests drive the same rules over
HTTP; here is the whole table, one row a case."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.deployment import Directory, load_deployment
from bot.errors import ConfigError
from bot.identity import Identities, Organisation, Sender
from bot.records import AuthorisedUser
from bot.store.sqlite import SqliteStore
from frontdoor_testkit.server_process import free_port

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = load_deployment(ROOT / "examples" / "frontdoor.toml")
# The demo deployment (it names the vendor's own Slack workspace).
DEPLOYMENT = EXAMPLE
VENDOR_TENANT = "northwind-tenant"
UNKNOWN = "I don't know your account yet"
NOT_SERVED = "isn't one it serves"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(tmp_path / "identity.db")
    await store.open()
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    for customer, user_id in (("acme", "slack:U0NEWBIE"), ("acme", "newbie"),
                              ("umbrella", "teams:29:una")):
        await store.put_authorised_user(AuthorisedUser(
            customer_id=customer, user_id=user_id, name="New User", added_by="alice",
            added_at=now))
    yield store
    await store.close()


def _identities(store: SqliteStore, vendor_tenant: str | None = VENDOR_TENANT) -> Identities:
    return Identities(store, Directory(DEPLOYMENT), {"teams": vendor_tenant})


@pytest.mark.parametrize(("sender", "who"), [
    # Slack: a customer without `slack_team` is a guest in the vendor's workspace.
    (Sender("slack", ("U0ALICE",), "T0NORTHWIND"), "alice"),
    # ... and speaks from nowhere else (closed by default: no more "any team will do").
    (Sender("slack", ("U0ALICE",), "T0ELSEWHERE"), NOT_SERVED),
    (Sender("slack", ("U0ALICE",), "T0BLUEBRIDGE"), UNKNOWN),
    # a Slack request without a team is refused
    (Sender("slack", ("U0ALICE",)), NOT_SERVED),
    (Sender("slack", ("U0ANA",)), NOT_SERVED),
    # Slack Connect: an organisation that names its team must speak from it.
    (Sender("slack", ("U0PIA",), "T0BLUEBRIDGE"), "pia"),
    (Sender("slack", ("U0PIA",), "T0NORTHWIND"), UNKNOWN),
    (Sender("slack", ("U0PIA",), "T0ELSEWHERE"), NOT_SERVED),
    (Sender("slack", ("U0ANA",), "T0NORTHWIND"), "ana"),
    (Sender("slack", ("U0ANA",), "T0BLUEBRIDGE"), UNKNOWN),
    (Sender("slack", ("U0ANA",), "T0ELSEWHERE"), NOT_SERVED),
    (Sender("slack", ("U0MALLORY",), "T0NORTHWIND"), UNKNOWN),
    (Sender("slack", (), "T0NORTHWIND"), UNKNOWN),
    # ... and a user a customer admin added is theirs, on the same terms.
    (Sender("slack", ("U0NEWBIE",), "T0NORTHWIND"), "slack:U0NEWBIE"),
    (Sender("slack", ("U0NEWBIE",), "T0ELSEWHERE"), NOT_SERVED),
    # Teams: every organisation speaks from its own tenant.
    (Sender("teams", ("29:alice",), "acme-tenant"), "alice"),
    (Sender("teams", ("aad-unknown", "29:alice"), "acme-tenant"), "alice"),
    (Sender("teams", ("29:alice",), "bluebridge-tenant"), UNKNOWN),
    (Sender("teams", ("29:pia",), "bluebridge-tenant"), "pia"),
    (Sender("teams", ("29:ana",), VENDOR_TENANT), "ana"),
    (Sender("teams", ("29:ana",), "acme-tenant"), UNKNOWN),
    (Sender("teams", ("29:mallory",), "acme-tenant"), UNKNOWN),
    # a customer with no tenant in the deployment file is not recognised in Teams
    (Sender("teams", ("29:una",), "acme-tenant"), UNKNOWN),
    # a tenant the deployment doesn't serve: one sentence, whoever it is
    (Sender("teams", ("29:alice",), "stranger-tenant"), NOT_SERVED),
    (Sender("teams", ("29:mallory",), "stranger-tenant"), NOT_SERVED),
    (Sender("teams", ("29:alice",)), NOT_SERVED),
    # the emulator (local, unauthenticated) sends no tenant and isn't asked for one
    (Sender("teams", ("29:alice",), local=True), "alice"),
    (Sender("teams", ("29:alice",), "stranger-tenant", local=True), NOT_SERVED),
    # the web chat: ids picked from the deployment file, or added by an admin
    (Sender("web", ("alice",)), "alice"),
    (Sender("web", ("newbie",)), "newbie"),
    (Sender("web", ("mallory",)), UNKNOWN),
])
async def test_who_a_sender_is(store: SqliteStore, sender: Sender, who: str) -> None:
    recognised = await _identities(store).recognise(sender)
    if who in (UNKNOWN, NOT_SERVED):
        assert recognised.person is None and who in recognised.refusal
        assert "Northwind Software" in recognised.refusal
    else:
        assert recognised.person is not None and recognised.person.id == who
        assert recognised.refusal == ""


async def test_without_the_vendors_tenant_its_people_are_not_recognised_in_teams(
    store: SqliteStore,
) -> None:
    """MICROSOFT_APP_TENANT_ID unset: the vendor's tenant is unknown, so an engineer is
    recognised from no tenant — not from a customer's (that failed open), nor from one the
    deployment doesn't serve; customers still speak from their own."""
    identities = _identities(store, vendor_tenant=None)
    from_customer = await identities.recognise(Sender("teams", ("29:ana",), "acme-tenant"))
    assert from_customer.person is None and UNKNOWN in from_customer.refusal
    elsewhere = await identities.recognise(Sender("teams", ("29:ana",), "some-tenant"))
    assert elsewhere.person is None and NOT_SERVED in elsewhere.refusal
    alice = await identities.recognise(Sender("teams", ("29:alice",), "acme-tenant"))
    assert alice.person is not None and alice.person.id == "alice"


async def test_every_refusal_at_the_door_is_audited(store: SqliteStore) -> None:
    """Senders from the wrong workspace or tenant, from none, and strangers: each refusal
    leaves an audit entry saying who claimed what, from where."""
    identities = _identities(store)
    for sender in (Sender("slack", ("U0PIA",), "T0IMPOSTOR"),
                   Sender("slack", ("U0ANA",), "T0BLUEBRIDGE"),
                   Sender("slack", ("U0ALICE",)),
                   Sender("teams", ("29:alice",), "bluebridge-tenant"),
                   Sender("teams", ("29:mallory",), "stranger-tenant")):
        assert (await identities.recognise(sender)).person is None
    entries = await store.audit_entries()
    assert [(e.actor, e.action, e.allowed) for e in reversed(entries)] == [
        ("pia", "identify", False), ("ana", "identify", False), ("alice", "identify", False),
        ("alice", "identify", False), ("teams:29:mallory", "identify", False)]
    assert "T0IMPOSTOR" in entries[-1].detail and "doesn't serve" in entries[-1].detail
    assert "names no workspace" in entries[-3].detail


async def test_an_id_two_customers_list_is_nobodys(store: SqliteStore) -> None:
    """A person resolves to no customer rather than the first that lists them (two admins
    racing, or lists from before ids were owned): closed by default."""
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    await store.put_authorised_user(AuthorisedUser(
        customer_id="globex", user_id="slack:U0NEWBIE", name="Also New", added_by="gabriela",
        added_at=now))
    recognised = await _identities(store).recognise(Sender("slack", ("U0NEWBIE",),
                                                           "T0NORTHWIND"))
    assert recognised.person is None and UNKNOWN in recognised.refusal


def test_which_workspaces_the_deployment_serves(store: SqliteStore) -> None:
    identities = _identities(store)
    assert identities.organisation("teams", "acme-tenant") == Organisation("customer", "acme")
    assert identities.organisation("teams", "bluebridge-tenant") == \
        Organisation("partner", "bluebridge")
    assert identities.organisation("teams", VENDOR_TENANT) == Organisation("vendor")
    assert identities.organisation("slack", "T0BLUEBRIDGE") == \
        Organisation("partner", "bluebridge")
    assert identities.organisation("teams", "stranger-tenant") is None
    assert identities.organisation("slack", "T0NORTHWIND") == Organisation("vendor")
    assert identities.organisation("slack", "T0ELSEWHERE") is None
    assert identities.serves(Sender("teams", (), "acme-tenant"))
    assert not identities.serves(Sender("teams", (), "stranger-tenant"))
    assert not identities.serves(Sender("teams", ()))
    assert identities.serves(Sender("teams", (), local=True))


# -- the deployment file: ids owned once, well formed; Slack needs its workspaces -------------

EXAMPLE_TEXT = (ROOT / "examples" / "frontdoor.toml").read_text()


def _deployment_with(tmp_path: Path, old: str, new: str) -> Path:
    assert old in EXAMPLE_TEXT
    path = tmp_path / "frontdoor.toml"
    path.write_text(EXAMPLE_TEXT.replace(old, new, 1))
    return path


@pytest.mark.parametrize(("old", "new", "said"), [
    # Globex's admin listed with Acme's admin's Slack id: a platform id is one person's
    ('slack = "U0GABRIELA"', 'slack = "U0ALICE"',
     "customers.globex.users[0].slack: 'U0ALICE' is already customers.acme.users[0]'s"),
    ('teams = "29:pia"', 'teams = "29:ana"', "partners.bluebridge.users[0].teams"),
    ('slack_team = "T0BLUEBRIDGE"', 'slack_team = "T0NORTHWIND"',
     "partners.bluebridge.slack_team: 'T0NORTHWIND' is already vendor's"),
    ('slack = "U0GABRIELA"', f'slack = "U{"A" * 3000}"', "is not a slack user id"),
    ('slack = "U0GABRIELA"', 'slack = "U0GAB RIELA"', "is not a slack user id"),
    ('teams = "29:alice"', 'teams = "29:alice<script>"', "is not a teams user id"),
    ('slack_team = "T0BLUEBRIDGE"', 'slack_team = "bluebridge"',
     "is not a slack workspace id"),
])
def test_the_deployment_file_owns_each_platform_id_once(
    tmp_path: Path, old: str, new: str, said: str,
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_deployment(_deployment_with(tmp_path, old, new))
    assert said in str(raised.value)


@pytest.mark.parametrize(("old", "key"), [
    ('slack_team = "T0NORTHWIND"', "vendor.slack_team"),
    ('slack_team = "T0BLUEBRIDGE"', "partners.bluebridge.slack_team"),
])
def test_with_slack_configured_the_server_refuses_to_start_without_the_workspaces(
    tmp_path: Path, old: str, key: str,
) -> None:
    """Wherever Slack is configured the vendor's workspace and each partner's are required:
    `frontdoor serve` exits naming the missing key (it used to fail open)."""
    config = _deployment_with(tmp_path, old, "")
    env = {**os.environ, "FRONTDOOR_CONFIG": str(config), "SLACK_BOT_TOKEN": "xoxb-test",
           "SLACK_SIGNING_SECRET": "secret", "FRONTDOOR_DB": str(tmp_path / "fd.db")}
    result = subprocess.run([sys.executable, "-m", "adapters.cli", "serve", "--port",
                             str(free_port())], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"'{key}'" in result.stderr and "Slack" in result.stderr
    assert "Traceback" not in result.stderr
