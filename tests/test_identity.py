"""Who someone is, decided once for every channel (bot/identity.py): a platform sender → a
person, or the sentence a stranger reads. The front-door tests drive the same rules over
HTTP; here is the whole table, one row a case."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.deployment import Directory, load_deployment
from bot.identity import Identities, Organisation, Sender
from bot.records import AuthorisedUser
from bot.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = load_deployment(ROOT / "examples" / "frontdoor.toml")
# The demo deployment, with the vendor's own Slack workspace named.
DEPLOYMENT = EXAMPLE.model_copy(update={
    "vendor": EXAMPLE.vendor.model_copy(update={"slack_team": "T0NORTHWIND"})})
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
    (Sender("slack", ("U0ALICE",), "T0ELSEWHERE"), "alice"),
    (Sender("slack", ("U0ALICE",)), "alice"),
    # Slack Connect: an organisation that names its team must speak from it.
    (Sender("slack", ("U0PIA",), "T0BLUEBRIDGE"), "pia"),
    (Sender("slack", ("U0PIA",), "T0ELSEWHERE"), UNKNOWN),
    (Sender("slack", ("U0ANA",), "T0NORTHWIND"), "ana"),
    (Sender("slack", ("U0ANA",), "T0BLUEBRIDGE"), UNKNOWN),
    (Sender("slack", ("U0MALLORY",), "T0NORTHWIND"), UNKNOWN),
    (Sender("slack", (), "T0NORTHWIND"), UNKNOWN),
    # ... and a user a customer admin added is theirs, on the same terms.
    (Sender("slack", ("U0NEWBIE",), "T0ELSEWHERE"), "slack:U0NEWBIE"),
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


async def test_without_the_vendors_tenant_its_people_are_known_from_unknown_tenants(
    store: SqliteStore,
) -> None:
    """MICROSOFT_APP_TENANT_ID unset: an engineer is recognised from a tenant that is not an
    organisation's; a customer from there is still not served."""
    identities = _identities(store, vendor_tenant=None)
    ana = await identities.recognise(Sender("teams", ("29:ana",), "some-tenant"))
    assert ana.person is not None and ana.person.id == "ana"
    alice = await identities.recognise(Sender("teams", ("29:alice",), "some-tenant"))
    assert alice.person is None and NOT_SERVED in alice.refusal


def test_which_workspaces_the_deployment_serves(store: SqliteStore) -> None:
    identities = _identities(store)
    assert identities.organisation("teams", "acme-tenant") == Organisation("customer", "acme")
    assert identities.organisation("teams", "bluebridge-tenant") == \
        Organisation("partner", "bluebridge")
    assert identities.organisation("teams", VENDOR_TENANT) == Organisation("vendor")
    assert identities.organisation("slack", "T0BLUEBRIDGE") == \
        Organisation("partner", "bluebridge")
    assert identities.organisation("teams", "stranger-tenant") is None
    assert identities.serves(Sender("teams", (), "acme-tenant"))
    assert not identities.serves(Sender("teams", (), "stranger-tenant"))
    assert not identities.serves(Sender("teams", ()))
    assert identities.serves(Sender("teams", (), local=True))
