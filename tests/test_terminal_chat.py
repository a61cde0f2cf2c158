"""`frontdoor chat --as USER`: the same conversation in a terminal, as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def chat(user: str, lines: list[str], db: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FRONTDOOR_DB": str(db)}
    return subprocess.run([sys.executable, "-m", "adapters.cli", "chat", "--as", user],
                          input="\n".join(lines) + "\n", capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=60)


def test_terminal_chat_files_a_case_with_typed_answers_and_numbers(tmp_path: Path) -> None:
    """Typed text and option numbers drive the same intake; the case opens."""
    done = chat("adam", ["hi", "2", "What is the maximum payload size of the bulk import API?",
                         "open"], tmp_path / "t.db")
    assert done.returncode == 0, done.stderr
    assert "You are Adam Smith" in done.stdout
    assert "Case ACME-1 is open." in done.stdout


async def test_a_case_filed_in_the_terminal_gets_its_sla_timer(tmp_path: Path) -> None:
    """The terminal's handler is built as the web process builds it (adapters/compose.py):
    the case it opens is scheduled, so its reminders and breaches fire like any other's."""
    from bot.store.sqlite import SqliteStore

    db = tmp_path / "t.db"
    done = chat("alice", ["P1 the orders API in acme-prod is down for everyone", "open"], db)
    assert "Case ACME-1 is open." in done.stdout, done.stdout[-2000:]
    store = SqliteStore(db)
    await store.open()
    try:
        assert await store.scheduled_cases() == 1
    finally:
        await store.close()


def test_terminal_chat_keeps_state_in_the_store_between_runs(tmp_path: Path) -> None:
    """Leaving and coming back resumes the conversation (state lives in the store)."""
    db = tmp_path / "t.db"
    chat("alice", ["hi", "incident"], db)
    done = chat("alice", ["4"], db)  # the fourth impact on the list: P3
    assert "Which deployment is affected?" in done.stdout


def test_terminal_chat_refuses_an_unknown_user(tmp_path: Path) -> None:
    """Bad input gets a clear error naming the argument."""
    done = chat("mallory", [], tmp_path / "t.db")
    assert done.returncode != 0 and "argument --as: unknown user 'mallory'" in done.stderr
    assert "Traceback" not in done.stderr


def test_terminal_chat_offers_articles_and_their_number_answers(tmp_path: Path) -> None:
    """A question is offered the documentation first, as text with numbered answers."""
    done = chat("adam", ["Our client secret leaked in a git repo. How do I generate a new one?",
                         "2", "open"], tmp_path / "t.db")
    assert done.returncode == 0, done.stderr
    assert "Konneqt Developer Portal: regenerating consumer keys and client secrets" \
        in done.stdout
    assert "2. No, open a case" in done.stdout and "Case ACME-1 is open." in done.stdout
