"""A person's data (GDPR articles 15 and 17): `frontdoor privacy export PERSON` gives
everything held about them, `frontdoor privacy erase PERSON` pseudonymises them everywhere
with the cases and their clocks intact; both audited. On both stores."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.store.base import Store
from bot.subject import SubjectService
from tests.conftest import Backend
from tests.test_retention import DIRECTORY, clocks, deployment_text, everything, seed

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)


async def test_export_gives_everything_held_about_a_person(store: Store) -> None:
    resolved, _, _ = await seed(store)
    export = await SubjectService(store, DIRECTORY).export("alice", NOW)

    assert export["directory"] == {
        "id": "alice", "name": "Alice Chen (Acme admin)", "role": "customer_admin",
        "customer": "acme", "partner": None, "slack": "U0ALICE", "teams": "29:alice",
        "where": "customers.acme.users[0]"}
    assert [c["id"] for c in export["cases_filed"]] == [resolved]
    assert "call me on +1 555 0100" in export["cases_filed"][0]["description"]
    assert [(e["case_id"], e["kind"]) for e in export["events_authored"]] == [
        (resolved, "opened"), (resolved, "customer_responded")]
    assert [a["action"] for a in export["audit"]] == ["file", "provide_info"]
    assert export["conversations"] == [{"key": "web:web:alice:-:alice",
                                        "state": {"description": "Alice's draft"}}]
    assert len(export["attachments_added"]) == 2
    json.dumps(export)  # all of it is plain JSON
    latest = (await store.audit_entries(limit=1))[0]
    assert (latest.action, latest.actor) == ("privacy_export", "operator")


async def test_erase_pseudonymises_a_person_everywhere_and_keeps_the_clocks(
        store: Store) -> None:
    resolved, still_open, kept = await seed(store)
    before = {c: await clocks(store, c, NOW) for c in (resolved, still_open, kept)}
    adam_before = [e for e in await store.case_events(still_open)]

    result = await SubjectService(store, DIRECTORY).erase("alice", NOW)

    held = "".join([await everything(store, c) for c in ("acme", "umbrella", "globex")])
    assert [w for w in ("alice", "Alice", "+1 555 0100") if w in held] == []
    assert result["pseudonym"] in held
    assert (result["cases"], result["conversations"], result["attachments"]) == (1, 1, 2)
    assert result["deployment_file"] == "customers.acme.users[0]"
    assert "remove customers.acme.users[0] from the deployment file" in result["next"]
    for case_id, status in before.items():
        assert await clocks(store, case_id, NOW) == status
    # someone else's words stay, only her name in them is replaced
    events = await store.case_events(resolved)
    asked = next(e for e in events if e.kind == "waiting_on_customer")
    assert asked.reason == f"{result['pseudonym']}, which region is it?"
    assert asked.actor == "ana"
    assert await store.case_events(still_open) == adam_before  # Adam's case: nothing of hers
    erased = (await store.audit_entries(limit=1))[0]
    assert erased.action == "privacy_erase" and "alice" not in erased.model_dump_json()

    again = await SubjectService(store, DIRECTORY).export("alice", NOW)
    assert (again["cases_filed"], again["events_authored"], again["audit"],
            again["conversations"], again["attachments_added"]) == ([], [], [], [], [])


def test_privacy_commands_as_real_processes(backend: Backend, tmp_path: Path) -> None:
    config = tmp_path / "frontdoor.toml"
    config.write_text(deployment_text(None))

    async def prepare() -> None:
        store = backend.build()
        await store.open()
        try:
            await seed(store)
        finally:
            await store.close()

    asyncio.run(prepare())
    env = {**os.environ, "FRONTDOOR_CONFIG": str(config), "LOG_LEVEL": "WARNING",
           **({"FRONTDOOR_DB": backend.location, "REDIS_URL": ""} if backend.kind == "sqlite"
              else {"REDIS_URL": backend.location, "FRONTDOOR_REDIS_PREFIX": backend.prefix})}

    def frontdoor(*args: str) -> Any:
        done = subprocess.run([sys.executable, "-m", "adapters.cli", "privacy", *args],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    exported = frontdoor("export", "adam")
    assert [c["id"] for c in exported["cases_filed"]] == ["ACME-2"]
    erased = frontdoor("erase", "adam")
    assert erased["cases"] == 1 and erased["pseudonym"].startswith("former-")
    assert frontdoor("export", "adam")["cases_filed"] == []
    bad = subprocess.run([sys.executable, "-m", "adapters.cli", "privacy", "erase", " "],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "PERSON" in bad.stderr


async def test_a_teams_conversation_reference_keeps_no_ones_name(store: Store) -> None:
    """Proactive posts need the conversation, not who spoke last: the reference kept for them
    carries no name."""
    from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

    from adapters.teams.delivery import REF_PREFIX, recall, remember_reference

    await remember_reference(store, ConversationReference(
        channel_id="msteams", service_url="https://smba.example/teams/",
        conversation=ConversationAccount(id="a:1personal-chat"),
        bot=ChannelAccount(id="28:bot", name="Frontdoor"),
        user=ChannelAccount(id="29:alice", name="Alice Chen", aad_object_id="aad-123")))
    kept = await recall(store, REF_PREFIX + "a:1personal-chat")
    assert kept is not None
    assert "Alice" not in json.dumps(kept) and "aad-123" not in json.dumps(kept)
    assert kept["reference"]["conversation"]["id"] == "a:1personal-chat"
