"""The knowledge base end to end, over real HTTP against a real `frontdoor serve` process, on
SQLite and on a real Redis: a question offered articles in the web chat, "Yes, thanks"
(nothing filed, counted), "No, open a case" (the engineers see the articles and send one to
the customer with one tap), the articles' own pages, re-indexing on change, and
`frontdoor kb`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frontdoor_testkit.server_process import ROOT, ServerProcess, case_id_of, choice_ids, texts

EXAMPLE = ROOT / "examples" / "frontdoor.toml"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("kb-serve")
    env = {"FRONTDOOR_DB": str(tmp / "frontdoor.db")}
    if request.param == "redis":
        env |= {"REDIS_URL": request.getfixturevalue("redis_url"),
                "FRONTDOOR_REDIS_PREFIX": f"fdtest:{uuid.uuid4().hex}:"}
    proc = ServerProcess(env, tmp / "server.log")
    yield proc
    proc.stop()


def offered(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for reply in replies for a in reply.get("articles", [])]


def metric(server: ServerProcess, name: str, **labels: str) -> float:
    """A counter's value from GET /metrics (0 before it was first counted)."""
    status, text = server.request("GET", "/metrics")
    assert status == 200
    for line in str(text).splitlines():
        if line.startswith(f"{name}{{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def ask(server: ServerProcess, user: str, question: str) -> list[dict[str, Any]]:
    server.say(user, "cancel")
    return server.say(user, question)


def test_a_question_is_offered_the_right_article_with_a_link(server: ServerProcess) -> None:
    replies = ask(server, "nils", "Can we run a synchronisation on demand, right after "
                                  "changing a group?")
    articles = offered(replies)
    assert articles and articles[0]["id"] == "nordsync/schedule"
    assert articles[0]["url"] == f"{server.url}/kb/nordsync/schedule"
    assert articles[0]["excerpt"] and articles[0]["title"] in replies[-1]["text"]
    assert replies[-1]["lead"].startswith("Before I file it")
    assert "answer it?" in replies[-1]["after"]
    assert choice_ids(replies)[:2] == ["articles:yes", "articles:no"]


def test_yes_thanks_files_nothing_and_is_counted_as_deflected(server: ServerProcess) -> None:
    before = metric(server, "frontdoor_kb_offers_total", pack="dk-saas", outcome="deflected")
    _status, cases_before = server.get("/chat/cases?user=nils")
    ask(server, "nils", "Which Microsoft Graph permissions does the sync need in Entra?")
    replies = server.say("nils", choice="articles:yes")
    assert "nothing was filed" in texts(replies)
    _status, cases_after = server.get("/chat/cases?user=nils")
    assert len(cases_after["cases"]) == len(cases_before["cases"])
    assert metric(server, "frontdoor_kb_offers_total", pack="dk-saas",
                  outcome="deflected") == before + 1


def test_no_open_a_case_and_the_engineer_sends_an_article_in_one_tap(
        server: ServerProcess) -> None:
    ask(server, "adam", "Can we put our own logo and colours on the developer portal?")
    summary = server.say("adam", choice="articles:no")
    assert "Please check and confirm" in texts(summary)
    case_id = case_id_of(server.say("adam", choice="confirm:open"))

    _status, queue = server.get("/chat/cases?user=ana")
    card = next(r["card"] for r in queue["cases"] if r["card"]["case_id"] == case_id)
    branding = next(a for a in card["articles"]
                    if a["id"] == "konneqt/developer-portal/branding")
    assert branding["note"] == "shown to the customer before filing"
    assert branding["action"]["id"] == \
        f"case:send_article/konneqt/developer-portal/branding:{case_id}"
    _status, customer_view = server.get("/chat/cases?user=adam")
    mine = next(r["card"] for r in customer_view["cases"] if r["card"]["case_id"] == case_id)
    assert mine["articles"] == []  # the vendor's view only

    sent_before = metric(server, "frontdoor_kb_articles_sent_total", pack="konneqt")
    replies = server.say("ana", choice=branding["action"]["id"])
    assert "sent the article" in texts(replies)
    _status, feed = server.get("/chat/feed?user=adam")
    news = [i["news"]["text"] for i in feed["items"] if i["case_id"] == case_id and "news" in i]
    assert any("sent you an article" in n and f"{server.url}/kb/konneqt/developer-portal/"
               "branding" in n for n in news), news
    assert metric(server, "frontdoor_kb_articles_sent_total", pack="konneqt") == \
        sent_before + 1


def test_an_engineer_finds_and_sends_an_article_by_words(server: ServerProcess) -> None:
    case_id = case_id_of(_open_incident(server))
    replies = server.say("ana", f"send {case_id} rotating the token signing keys")
    assert choice_ids(replies)[0] == \
        f"case:send_article/konneqt/identity-server/signing-keys:{case_id}"
    done = server.say("ana", choice=choice_ids(replies)[0])
    assert "sent the article" in texts(done)


def _open_incident(server: ServerProcess) -> list[dict[str, Any]]:
    server.say("alice", "cancel")
    server.say("alice", "P2: acme-prod gateway answers 504 Gateway Timeout after 60 seconds "
                        "on the reports API, some calls fail")
    return server.say("alice", choice="confirm:open")


def test_an_incident_is_never_held_up_and_its_card_carries_related_articles(
        server: ServerProcess) -> None:
    replies = _open_incident(server)
    case_id = case_id_of(replies)
    _status, queue = server.get("/chat/cases?user=ana")
    card = next(r["card"] for r in queue["cases"] if r["card"]["case_id"] == case_id)
    assert card["articles"] and all(a["note"] == "found for this case" for a in card["articles"])


def test_an_articles_page_is_served_escaped(server: ServerProcess) -> None:
    status, page = server.request("GET", "/kb/konneqt/gateway/cors")
    assert status == 200
    assert "<h1>Konneqt API Gateway: CORS for browser clients</h1>" in page
    assert "<code>Access-Control-Allow-Origin</code>" in page
    assert server.request("GET", "/kb/konneqt/nothing-here")[0] == 404
    assert server.request("GET", "/kb/..%2F..%2Fetc%2Fpasswd")[0] == 404


def test_a_customer_saying_send_is_not_an_engineer_command(server: ServerProcess) -> None:
    server.say("adam", "cancel")
    replies = server.say("adam", "send ACME-1 the logs from yesterday please")
    assert "can't" not in texts(replies).lower()  # an intake, not a refusal


# ---- re-indexing on change, with a deployment of its own -----------------------------------


def test_the_server_reindexes_when_a_document_is_added(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "proxy.md").write_text("# Agent proxy settings\nSet HTTPS_PROXY for the agent.\n")
    text = EXAMPLE.read_text().split("\n[knowledge]")[0]
    config = tmp_path / "frontdoor.toml"
    config.write_text(text + '\n[knowledge]\nrefresh_seconds = 0.2\n[[knowledge.sources]]\n'
                             f'name = "kq"\npath = "{docs}"\n')
    server = ServerProcess({"FRONTDOOR_DB": str(tmp_path / "fd.db"),
                            "FRONTDOOR_CONFIG": str(config)}, tmp_path / "server.log")
    try:
        question = "How do consumer groups share Kafka partitions between nodes?"
        assert offered(ask(server, "adam", question)) == []
        (docs / "kafka.md").write_text("# Kafka consumer groups\nNodes in one consumer group "
                                       "share the partitions of a topic.\n")
        deadline = time.monotonic() + 15
        found: list[dict[str, Any]] = []
        while not found and time.monotonic() < deadline:
            time.sleep(0.3)
            found = offered(ask(server, "adam", question))
        assert [a["id"] for a in found] == ["kq/kafka"]
    finally:
        server.stop()


# ---- the command line ---------------------------------------------------------------------------


def frontdoor(*args: str, db: Path, config: Path = EXAMPLE) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "FRONTDOOR_DB": str(db), "FRONTDOOR_CONFIG": str(config)}
    return subprocess.run([sys.executable, "-m", "adapters.cli", "kb", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


def test_kb_index_builds_the_index_beside_the_database(tmp_path: Path) -> None:
    done = frontdoor("index", db=tmp_path / "fd.db")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["index"] == str(tmp_path / "frontdoor-kb.db") and out["articles"] >= 40
    assert (tmp_path / "frontdoor-kb.db").is_file()


def test_kb_search_shows_what_a_customer_would_be_offered(tmp_path: Path) -> None:
    done = frontdoor("search", "--customer", "initech", "which Graph permissions for Entra?",
                     db=tmp_path / "fd.db")
    assert done.returncode == 0, done.stderr
    first = json.loads(done.stdout)["articles"][0]
    assert first["id"] == "qscim/connectors/azure-ad" and first["excerpt"]


def test_kb_errors_name_the_argument(tmp_path: Path) -> None:
    done = frontdoor("search", "--customer", "wayne", "anything", db=tmp_path / "fd.db")
    assert done.returncode == 2 and "argument --customer: no customer 'wayne'" in done.stderr
    bare = tmp_path / "bare.toml"
    bare.write_text(EXAMPLE.read_text().split("\n[knowledge]")[0])
    done = frontdoor("index", db=tmp_path / "fd.db", config=bare)
    assert done.returncode == 2 and re.search(r"has no \[knowledge\] section", done.stderr)
