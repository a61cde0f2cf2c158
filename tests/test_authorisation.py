"""The authorisation matrix: role × action × own/other organisation, in one table.

Run for real against the case service on a real SQLite store. An allowed action changes the
case; a refused one changes nothing, says why, and leaves an audit entry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cases import CaseService
from bot.deployment import Directory, load_deployment
from bot.errors import CaseNotFoundError, NotAllowedError, UserIdError
from bot.handler import Handler
from bot.identity import Identities
from bot.intake import CaseDraft
from bot.messages import Inbound, Person, Place
from bot.records import ArticleRef
from bot.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = Directory(load_deployment(ROOT / "examples" / "frontdoor.toml"))
AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)

# Who: adam = Acme customer user, alice = Acme customer admin, pia = partner serving Acme,
# ana = engineer, olivia = admin. "own" = an Acme case, "other" = a Nordlys case (a customer
# none of the non-vendor people belong to or serve).
Y, N = True, False
MATRIX: list[tuple[str, bool, bool, bool, bool, bool]] = [
    # action          adam alice pia  ana  olivia   (own organisation)
    ("view",            Y,   Y,   Y,   Y,   Y),
    ("comment",         Y,   Y,   Y,   Y,   Y),
    ("provide_info",    Y,   Y,   Y,   N,   N),
    ("close",           Y,   Y,   Y,   Y,   Y),
    ("reopen",          Y,   Y,   Y,   Y,   Y),
    ("escalate",        N,   N,   Y,   Y,   Y),
    ("acknowledge",     N,   N,   N,   Y,   Y),
    ("assign",          N,   N,   N,   Y,   Y),
    ("ask_customer",    N,   N,   N,   Y,   Y),
    ("workaround",      N,   N,   N,   Y,   Y),
    ("resolve",         N,   N,   N,   Y,   Y),
    ("reclassify",      N,   N,   N,   Y,   Y),
    ("log_hours",       N,   N,   N,   Y,   Y),
    ("suspend_sla",     N,   N,   N,   Y,   Y),
    ("start_progress",  N,   N,   N,   Y,   Y),
    ("manage_users",    N,   Y,   N,   N,   Y),
    ("send_article",    N,   N,   N,   Y,   Y),

]
PEOPLE = ["adam", "alice", "pia", "ana", "olivia"]
# On another organisation's case only the vendor may act (and an admin manage users).
OTHER_ORG_ALLOWED = {"ana", "olivia"}
# The status a case must be in for the action to make sense.
SETUP = {"provide_info": "ask_customer", "close": "resolve", "reopen": "resolve"}


def _rows() -> list[tuple[str, str, str, bool]]:
    rows = []
    for action, *allowed in MATRIX:
        for person, ok in zip(PEOPLE, allowed, strict=True):
            rows.append((str(action), person, "own", bool(ok)))
            other_ok = person in OTHER_ORG_ALLOWED and bool(ok)
            rows.append((str(action), person, "other", other_ok))
    return rows


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[CaseService]:
    store = SqliteStore(tmp_path / "authz.db")
    await store.open()
    yield CaseService(store, DIRECTORY)
    await store.close()


async def _case(service: CaseService, customer: str, case_type: str) -> str:
    reporter = {"acme": "adam", "nordlys": "nanna"}[customer]
    person = DIRECTORY.person(reporter)
    assert person is not None
    draft = CaseDraft(
        customer_id=customer, case_type=case_type,
        priority=None if case_type == "query" else ("P2" if customer == "acme" else "medium"),
        requested_priority=None, priority_source="customer", priority_reason=None,
        deployment=None, environment=None, managed=False, hypercare=False, fields={},
        description="A thing that needs looking at, with enough words", scope=None)
    case = await service.open_case(person, draft, Place("web", "t"), AT)
    return case.id


@pytest.mark.parametrize(("action", "who", "org", "allowed"), _rows())
async def test_authorisation_matrix(
    service: CaseService, action: str, who: str, org: str, allowed: bool
) -> None:
    """Roles from the deployment file: customers act on their organisation's cases, customer
    admins also manage their users, partners act for the customers they serve and escalate,
    engineers do every lifecycle action, admins everything."""
    customer = "acme" if org == "own" else "nordlys"
    person = DIRECTORY.person(who)
    engineer = DIRECTORY.person("ben")
    assert person is not None and engineer is not None
    if action == "manage_users":
        before = await service.store.authorised_users(customer)
        try:
            await service.add_user(person, customer, "newbie", "New Person", AT)
            assert allowed
        except (NotAllowedError, CaseNotFoundError) as exc:
            assert not allowed, exc
            assert "Sorry" in str(exc)
            assert await service.store.authorised_users(customer) == before
        return
    case_id = await _case(service, customer, "query" if action == "log_hours" else "incident")
    if action != "acknowledge":
        await service.act(engineer, case_id, "acknowledge", AT)
    if action in SETUP:
        await service.act(engineer, case_id, SETUP[action], AT, text="set-up")
    before = await service.store.get_case(case_id)
    events_before = await service.store.case_events(case_id)
    kwargs: dict[str, object] = {"text": "because"}
    if action == "reclassify":
        kwargs["priority"] = "P1" if customer == "acme" else "high"
    if action == "log_hours":
        kwargs["minutes"] = 30
    if action == "send_article":
        kwargs = {"article": ArticleRef(id="konneqt/gateway/cors", title="CORS")}
    try:
        if action == "view":
            await service.visible_case(person, case_id, AT)
        else:
            await service.act(person, case_id, action, AT, **kwargs)  # type: ignore[arg-type]
        assert allowed, f"{who} should not {action} a case of {customer}"
        if action != "view":
            assert len(await service.store.case_events(case_id)) > len(events_before)
    except (NotAllowedError, CaseNotFoundError) as exc:
        assert not allowed, f"{who} should be able to {action} a case of {customer}: {exc}"
        assert "Sorry" in str(exc)
        after = await service.store.get_case(case_id)
        assert after == before and await service.store.case_events(case_id) == events_before
        if action != "view":
            audit = await service.store.audit_entries(case_id if org == "own" else None)
            assert any(e.actor == who and not e.allowed for e in audit)


# -- closed by default: users, case ids typed, case-action choices (issue 14) ------------------


def _who(person_id: str) -> Person:
    person = DIRECTORY.person(person_id)
    assert person is not None
    return person


async def _audit(service: CaseService) -> list[tuple[str, str, bool]]:
    return [(e.actor, e.action, e.allowed) for e in
            reversed(await service.store.audit_entries(limit=1000))]


async def test_a_platform_id_belongs_to_one_customer_only(service: CaseService) -> None:
    """Globex's admin adds bob, then Acme's admin adds the same id: bob used to resolve to the
    first customer listing him and read Acme's cases. The second add is refused (and
    audited); bob stays Globex's."""
    await service.add_user(_who("gabriela"), "globex", "slack:U0BOB", "Bob Jones", AT)
    with pytest.raises(UserIdError, match="already belongs to someone else"):
        await service.add_user(_who("alice"), "acme", "slack:U0BOB", "Bob Jones", AT)
    assert await service.store.authorised_users("acme") == []
    bob = await Identities(service.store, DIRECTORY).person("slack", "U0BOB")
    assert bob is not None and bob.customer_id == "globex"
    assert await _audit(service) == [("gabriela", "add_user", True),
                                     ("alice", "add_user", False)]


@pytest.mark.parametrize("taken", ["slack:U0ALICE", "teams:29:pia", "adam", "olivia"])
async def test_an_admin_cannot_add_someone_of_the_deployment_file(
    service: CaseService, taken: str,
) -> None:
    with pytest.raises(UserIdError):
        await service.add_user(_who("gabriela"), "globex", taken, "Someone Else", AT)
    assert await service.store.authorised_users("globex") == []
    assert await _audit(service) == [("gabriela", "add_user", False)]


@pytest.mark.parametrize(("user_id", "name"), [
    ("slack:U" + "A" * 2999, "Long Id"),  # the reviewer's 3,000-character id
    ("b" * 3000, "Long Id"),
    ("slack:u0lower", "Lower Case"), ("slack:", "No Id"), ("teams:", "No Id"),
    ("slack:U0BOB\n", "New Line"), ("Bob", "Upper Case Web Id"), ("bo b", "Space"),
    ("teams:29:" + "a" * 300, "Long Teams Id"), ("slack:U0BOB<!channel>", "Markup"),
    ("slack:U0BOB", ""), ("slack:U0BOB", "x" * 101), ("slack:U0BOB", "Bob\u202eevil"),
    ("slack:U0BOB", "Bob\x00"),
])
async def test_ids_and_names_are_validated(service: CaseService, user_id: str,
                                           name: str) -> None:
    with pytest.raises(UserIdError):
        await service.add_user(_who("alice"), "acme", user_id, name, AT)
    assert await service.store.authorised_users("acme") == []
    assert await _audit(service) == [("alice", "add_user", False)]


async def test_every_add_and_remove_of_a_user_is_audited(service: CaseService) -> None:
    alice = _who("alice")
    await service.add_user(alice, "acme", "teams:29:dana", "Dana Lee", AT)
    assert await service.remove_user(alice, "acme", "teams:29:dana", AT)
    assert not await service.remove_user(alice, "acme", "teams:29:dana", AT)
    entries = list(reversed(await service.store.audit_entries()))
    assert [(e.actor, e.action, e.allowed, e.customer_id) for e in entries] == [
        ("alice", "add_user", True, "acme"), ("alice", "remove_user", True, "acme"),
        ("alice", "remove_user", True, "acme")]
    assert entries[0].detail == "teams:29:dana" and "not listed" in entries[2].detail


async def test_typing_another_organisations_case_id_is_refused_and_audited(
    service: CaseService,
) -> None:
    case_id = await _case(service, "acme", "incident")
    handler = Handler(service.store, DIRECTORY)
    outcome = await handler.handle(Inbound(_who("nils"), Place("web", "web:nils"), AT,
                                           text=case_id))
    assert "can't find that case" in outcome.replies[0].text
    entries = await service.store.audit_entries(case_id)
    assert [(e.actor, e.action, e.allowed) for e in entries][:1] == [("nils", "view", False)]


@pytest.mark.parametrize(("who", "action", "said"), [
    ("adam", "escalate", "can't escalate cases"),  # the form used to open
    ("adam", "ask_customer", "can't ask customer cases"),
    ("adam", "reclassify", "can't reclassify cases"),
    ("pia", "resolve", "can't resolve cases"),
    ("adam", "acknowledge", "can't acknowledge cases"),  # not "already acknowledged by …"
    ("nils", "comment", "can't find that case"),
    ("nils", "escalate", "can't find that case"),
])
async def test_a_case_action_choice_is_refused_before_any_form_and_audited(
    service: CaseService, who: str, action: str, said: str,
) -> None:
    case_id = await _case(service, "acme", "incident")
    await service.act(_who("ben"), case_id, "acknowledge", AT)
    handler = Handler(service.store, DIRECTORY)
    outcome = await handler.handle(Inbound(_who(who), Place("web", f"web:{who}"), AT,
                                           choice=f"case:{action}:{case_id}"))
    assert [r.form for r in outcome.replies] == [None] and not outcome.notices
    assert said in outcome.replies[0].text
    entries = await service.store.audit_entries(case_id)
    assert (who, action, False) in [(e.actor, e.action, e.allowed) for e in entries]
