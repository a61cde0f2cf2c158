"""The authenticated Teams path for real, offline: `frontdoor serve` with an app id checks
every request's Bot Framework token against a local OpenID metadata + JWKS server (its key
signs our tokens), and posts with a fixed test token instead of asking Azure AD."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from frontdoor_testkit.fake_bot_framework import FakeConnector
from frontdoor_testkit.fake_openid import FakeOpenId
from frontdoor_testkit.server_process import ServerProcess
from frontdoor_testkit.teams_client import ACME_TENANT, VENDOR_TENANT, TeamsSession

APP_ID = "6f1c1f0e-5a3b-4c7e-9d2a-0b1e2c3d4e5f"


@dataclass
class AuthWorld:
    teams: TeamsSession
    openid: FakeOpenId


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthWorld]:
    tmp: Path = tmp_path_factory.mktemp("teams-auth")
    fake = FakeConnector()
    fake.start()
    openid = FakeOpenId()
    openid_url = openid.start()
    server = ServerProcess({
        "FRONTDOOR_DB": str(tmp / "auth.db"), "MICROSOFT_APP_ID": APP_ID,
        "MICROSOFT_APP_PASSWORD": "not-used-offline", "MICROSOFT_APP_TENANT_ID": VENDOR_TENANT,
        "FRONTDOOR_TEST_BOTFRAMEWORK_OPENID_URL": openid_url}, tmp / "server.log")
    yield AuthWorld(TeamsSession(server, fake), openid)
    server.stop()
    fake.stop()
    openid.stop()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_token_is_handled_and_replies_carry_our_token(world: AuthWorld) -> None:
    teams, openid = world.teams, world.openid
    chat = "a:personal-alice-auth"
    activity = teams.activity("29:alice", ACME_TENANT, chat, text="help")
    token = openid.token(audience=APP_ID, service_url=teams.fake.url)
    status, _ = teams.post(activity, _bearer(token))
    assert status == 200
    reply = teams.fake.wait("Here's what I can do", chat)
    assert reply.authorization == "Bearer frontdoor-test-outbound-token"


def test_signing_keys_are_fetched_at_start_up_not_per_request(world: AuthWorld) -> None:
    """Fetched in a thread at start-up (the SDK's fetch blocks the event loop), then cached."""
    fetched = world.openid.fetches
    assert fetched >= 1
    teams = world.teams
    for _ in range(3):
        activity = teams.activity("29:adam", ACME_TENANT, "a:personal-adam-auth", text="help")
        token = world.openid.token(audience=APP_ID, service_url=teams.fake.url)
        assert teams.post(activity, _bearer(token))[0] == 200
    assert world.openid.fetches == fetched


@pytest.mark.parametrize("case", [
    "missing", "expired", "wrong audience", "wrong issuer", "wrong serviceurl",
    "signed by another key", "unknown key id", "not a JWT", "not a bearer token",
    "not yet valid",
])
def test_a_bad_token_gets_401_and_nothing_is_done(world: AuthWorld, case: str) -> None:
    teams, openid = world.teams, world.openid
    url = teams.fake.url
    tokens = {
        "missing": None,
        "expired": openid.token(audience=APP_ID, service_url=url, lifetime=600,
                                issued_ago=7200),
        "wrong audience": openid.token(audience="another-bot", service_url=url),
        "wrong issuer": openid.token(audience=APP_ID, service_url=url,
                                     issuer="https://sts.example.com/"),
        "wrong serviceurl": openid.token(audience=APP_ID, service_url="https://evil.example/"),
        "signed by another key": openid.token(audience=APP_ID, service_url=url,
                                              foreign_key=True),
        "unknown key id": openid.token(audience=APP_ID, service_url=url, key_id="rotated"),
        "not a JWT": "abc.def.ghi",
        "not a bearer token": None,
        "not yet valid": openid.token(audience=APP_ID, service_url=url, issued_ago=-7200),
    }
    token = tokens[case]
    headers: dict[str, str] = {}
    if token is not None:
        headers = _bearer(token)
    if case == "not a bearer token":
        headers = {"Authorization": "Basic YWxpY2U6c2VjcmV0"}
    before = teams.fake.settle(quiet=0.3)
    chat = f"a:personal-attack-{case.replace(' ', '-')}"
    activity = teams.activity("29:alice", ACME_TENANT, chat, text="support")
    status, body = teams.post(activity, headers)
    assert status == 401, (status, body)
    time.sleep(0.5)
    assert teams.fake.count() == before
    # and the conversation was not started: a valid message now gets the greeting afresh
    valid = teams.activity("29:alice", ACME_TENANT, chat, text="support")
    assert teams.post(valid, _bearer(openid.token(audience=APP_ID, service_url=url)))[0] == 200
    first = teams.fake.wait("What kind of case", chat)
    assert "Hi Alice" in first.text or "Hi Alice" in "".join(
        c.text for c in teams.fake.of(conversation=chat))


def test_an_engineers_channel_notice_is_posted_with_our_token(world: AuthWorld) -> None:
    """Proactive posts (a new case's card in the engineers' channel) are authenticated too."""
    teams, openid = world.teams, world.openid
    url = teams.fake.url
    install = teams.activity("29:admin", VENDOR_TENANT, "19:engineers@thread.tacv2",
                             kind="channel")
    install.update({"type": "conversationUpdate", "membersAdded": [{"id": "28:bot"}]})
    assert teams.post(install, _bearer(openid.token(audience=APP_ID, service_url=url)))[0] == 200
    chat = "a:personal-adam-filing"
    # ("no": a question may be offered articles first; said to the summary it changes nothing)
    for text in ["Exports of the audit log time out after 30 seconds", "query", "no", "open"]:
        activity = teams.activity("29:adam", ACME_TENANT, chat, text=text)
        assert teams.post(activity, _bearer(openid.token(audience=APP_ID,
                                                         service_url=url)))[0] == 200
        time.sleep(0.3)
    card = teams.fake.wait("New case from Acme Corp", "19:engineers@thread.tacv2")
    assert card.authorization == "Bearer frontdoor-test-outbound-token"
