"""The knowledge base: reading documents, the index (SQLite FTS5, BM25), searching the way
customers write, who is shown what, and re-indexing when a document changes — each test one
rule, on real files and a real index."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from bot.deployment import DeploymentFile, Directory, Knowledge, load_deployment
from bot.errors import ConfigError, KnowledgeError
from bot.knowledge import KnowledgeBase, index_path, watch
from bot.knowledge.documents import parse_html, parse_markdown, read_all, read_source

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "frontdoor.toml"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _deployment(tmp_path: Path, knowledge: str) -> DeploymentFile:
    """The example deployment with its [knowledge] replaced by `knowledge`, in tmp_path."""
    text = EXAMPLE.read_text(encoding="utf-8").split("\n[knowledge]")[0]
    path = tmp_path / "frontdoor.toml"
    path.write_text(text + "\n" + knowledge, encoding="utf-8")
    return load_deployment(path)


def _docs(tmp_path: Path, extra: str = "", settings: str = "") -> DeploymentFile:
    """One source "kq": the folder tmp_path/docs (and `extra` keys), `settings` above it."""
    return _deployment(tmp_path, f'[knowledge]\n{settings}[[knowledge.sources]]\nname = "kq"\n'
                                 f'path = "docs"\n{extra}')


def _kb(deployment: DeploymentFile, tmp_path: Path) -> KnowledgeBase:
    assert deployment.knowledge is not None
    kb = KnowledgeBase(deployment.knowledge, Directory(deployment),
                       index_path(deployment.knowledge, tmp_path / "frontdoor.db"),
                       "https://frontdoor.example.com")
    kb.open()
    return kb


@pytest.fixture(scope="module")
def example_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The demo documentation as the example deployment names it."""
    tmp = tmp_path_factory.mktemp("kb")
    deployment = load_deployment(EXAMPLE)
    assert deployment.knowledge is not None
    kb = KnowledgeBase(deployment.knowledge, Directory(deployment), tmp / "kb.db")
    kb.open()
    return kb


# ---- documents ---------------------------------------------------------------------------------


def test_a_markdown_article_has_its_first_heading_as_title_and_its_sections_as_headings() -> None:
    title, headings, body, summary, _ = parse_markdown(
        "# Rotating keys\n\nKeys expire **yearly**.\n\n## Steps\n\n1. Add a key\n", "x")
    assert (title, headings) == ("Rotating keys", ["Steps"])
    assert "Keys expire yearly." in body and "Add a key" in body
    assert summary == "Keys expire yearly."


def test_front_matter_gives_the_title_address_and_summary() -> None:
    title, _, _, summary, meta = parse_markdown(
        "---\ntitle: Proxy setup\nurl: https://docs.example.com/proxy\nsummary: In short.\n"
        "---\n# Ignored as title\nText.\n", "x")
    assert (title, summary, meta["url"]) == ("Proxy setup", "In short.",
                                             "https://docs.example.com/proxy")


def test_an_html_page_is_read_without_its_scripts_and_navigation() -> None:
    title, headings, body, _ = parse_html(
        "<html><head><title>T</title><script>var x = 'secret';</script></head><body>"
        "<nav>Home | About</nav><h1>Gateway limits</h1><p>Limits apply per key.</p>"
        "<h2>Bursts</h2><p>Short bursts are allowed.</p></body></html>", "x")
    assert (title, headings) == ("Gateway limits", ["Bursts"])
    assert "Limits apply per key." in body and "secret" not in body and "About" not in body


def test_an_articles_id_is_its_source_and_path(tmp_path: Path) -> None:
    _write(tmp_path / "docs", "Gateway/Rate Limits.md", "# Limits\nText.\n")
    deployment = _docs(tmp_path)
    assert deployment.knowledge is not None
    docs = read_all(deployment.knowledge)
    assert [d.id for d in docs] == ["kq/gateway/rate-limits"]


def test_a_list_of_links_is_a_source_of_articles(tmp_path: Path) -> None:
    deployment = _deployment(tmp_path, (
        '[knowledge]\n[[knowledge.sources]]\nname = "site"\nlinks = [\n'
        '  { url = "https://docs.example.com/sso", title = "Single sign-on", '
        'summary = "Set up SAML with your identity provider." },\n]\n'))
    assert deployment.knowledge is not None
    [doc] = read_source(deployment.knowledge.sources[0])
    assert (doc.title, doc.url) == ("Single sign-on", "https://docs.example.com/sso")
    assert "SAML" in doc.body


def test_a_source_folder_that_does_not_exist_is_named_in_the_error(tmp_path: Path) -> None:
    deployment = _deployment(tmp_path, '[knowledge]\n[[knowledge.sources]]\nname = "kq"\n'
                                       'path = "nowhere"\n')
    assert deployment.knowledge is not None
    with pytest.raises(KnowledgeError, match=r"nowhere.*doesn't exist"):
        read_all(deployment.knowledge)


def test_two_documents_with_one_id_are_refused_naming_both(tmp_path: Path) -> None:
    _write(tmp_path / "docs", "sso.md", "# SSO one\n")
    _write(tmp_path / "docs", "sso.html", "<h1>SSO two</h1>")
    deployment = _docs(tmp_path)
    assert deployment.knowledge is not None
    with pytest.raises(KnowledgeError, match="'SSO two' and 'SSO one'"):
        read_all(deployment.knowledge)


# ---- the deployment file ----------------------------------------------------------------------


def test_knowledge_paths_are_relative_to_the_deployment_file(tmp_path: Path) -> None:
    deployment = _docs(tmp_path, settings='index = "kb/index.db"\n')
    assert deployment.knowledge is not None
    assert deployment.knowledge.sources[0].path == tmp_path / "docs"
    assert deployment.knowledge.index == tmp_path / "kb" / "index.db"


def test_the_index_lives_beside_the_database_unless_the_file_says() -> None:
    knowledge = Knowledge.model_validate({"sources": [{"name": "a", "path": "/x"}]})
    assert index_path(knowledge, Path("/data/frontdoor.db")) == Path("/data/frontdoor-kb.db")


@pytest.mark.parametrize(("source", "error"), [
    ('name = "kq"\n', "needs `path`"),
    ('name = "kq"\npath = "d"\npacks = ["acme-pack"]\n', "no policy pack 'acme-pack'"),
    ('name = "kq"\npath = "d"\ncustomers = ["wayne"]\n', "no customer 'wayne'"),
    ('name = "Bad Name"\npath = "d"\n', "knowledge.sources.0.name"),
])
def test_a_wrong_knowledge_section_names_the_key(tmp_path: Path, source: str,
                                                 error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        _deployment(tmp_path, f"[knowledge]\n[[knowledge.sources]]\n{source}")


# ---- searching ----------------------------------------------------------------------------------


def test_a_question_finds_its_article_first(example_kb: KnowledgeBase) -> None:
    hits = example_kb.search("Our client secret was pasted in a ticket, how do we get a new one?",
                             "acme")
    assert hits[0].article.id == "konneqt/developer-portal/regenerate-keys"
    assert hits[0].excerpt and "\n" not in hits[0].excerpt


def test_words_match_whatever_their_ending(example_kb: KnowledgeBase) -> None:
    """Porter stemming: "rotated", "rotating", "rotation" are one word to the index."""
    hits = example_kb.search("rotated signing key", "acme")
    assert hits[0].article.id == "konneqt/identity-server/signing-keys"


def test_british_and_american_spelling_meet(tmp_path: Path) -> None:
    _write(tmp_path / "docs", "licences.md", "# Licence pools\nAssign a licence to each seat.\n")
    _write(tmp_path / "docs", "colors.md", "# Theme colors\nPick the colors of the portal.\n")
    kb = _kb(_docs(tmp_path), tmp_path)
    assert kb.search("which license pool gets the seat?")[0].article.id == "kq/licences"
    assert kb.search("change the portal colours")[0].article.id == "kq/colors"


def test_the_packs_synonyms_widen_the_question(tmp_path: Path) -> None:
    """QSCIM's connector values: a customer's "Entra" finds an article that says "Azure AD"."""
    _write(tmp_path / "docs", "graph.md",
           "# Azure AD directory reads\nThe connector reads the Azure AD directory through "
           "Graph.\n")
    _write(tmp_path / "docs", "other.md", "# Oracle tables\nThe connector reads Oracle tables.\n")
    kb = _kb(_docs(tmp_path), tmp_path)
    assert [h.article.id for h in kb.search("Entra?", "initech")] == ["kq/graph"]
    assert kb.search("Entra?", None) == []  # the vendor's view: no pack, no synonyms


def test_a_customer_is_shown_only_the_sources_of_its_pack(example_kb: KnowledgeBase) -> None:
    question = "How do we register a SCIM endpoint and its bearer token?"
    assert all(h.article.source == "konneqt" for h in example_kb.search(question, "acme"))
    assert example_kb.search(question, "initech")[0].article.id == \
        "qscim/provisioning/scim-endpoints"
    vendor = {h.article.source for h in example_kb.search(question, None, limit=10)}
    assert "qscim" in vendor


@pytest.mark.parametrize("question", [
    "invoices PDF export fails with error 17",
    "our printer on the second floor doesn't print",
    "who is our account manager?",
])
def test_a_question_the_documents_do_not_answer_gets_no_article(
        example_kb: KnowledgeBase, question: str) -> None:
    assert example_kb.search(question, "acme") == []


def test_an_articles_address_is_its_own_else_this_servers_page(tmp_path: Path) -> None:
    _write(tmp_path / "docs", "a.md", "---\nurl: https://docs.example.com/a\n---\n# A\nText.\n")
    _write(tmp_path / "docs", "b.md", "# B\nText.\n")
    kb = _kb(_docs(tmp_path), tmp_path)
    a, b = kb.article("kq/a"), kb.article("kq/b")
    assert a is not None and b is not None
    assert kb.url_of(a) == "https://docs.example.com/a"
    assert kb.url_of(b) == "https://frontdoor.example.com/kb/kq/b"


def test_a_knowledge_base_that_cannot_be_opened_offers_nothing_and_says_why(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    deployment = _docs(tmp_path)
    assert deployment.knowledge is not None
    kb = KnowledgeBase(deployment.knowledge, Directory(deployment), tmp_path / "kb.db")
    assert kb.suggest("acme", "How do we rotate keys?") == []
    assert "knowledge search failed" in caplog.text
    with pytest.raises(KnowledgeError, match="frontdoor kb index"):
        _write(tmp_path, "kb.db", "not a database")
        kb.reload()


# ---- building and re-indexing -------------------------------------------------------------------


def test_the_index_is_rebuilt_only_when_a_document_changed(tmp_path: Path) -> None:
    doc = _write(tmp_path / "docs", "a.md", "# Proxy\nUse HTTPS_PROXY.\n")
    kb = _kb(_docs(tmp_path), tmp_path)
    assert not kb.needs_build() and not kb.stale()
    doc.write_text("# Proxy\nUse HTTPS_PROXY, or the agent's own proxy setting.\n")
    os.utime(doc, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert kb.needs_build() and kb.stale()


def test_the_server_reindexes_when_a_document_is_added(tmp_path: Path) -> None:
    _write(tmp_path / "docs", "a.md", "# Proxy settings\nUse HTTPS_PROXY.\n")
    deployment = _docs(tmp_path, settings="refresh_seconds = 0.05\n")
    kb = _kb(deployment, tmp_path)
    assert kb.search("kafka consumer groups") == []

    async def scenario() -> list[str]:
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch(kb, stop))
        _write(tmp_path / "docs", "kafka.md", "# Kafka consumer groups\nNodes share partitions.\n")
        for _ in range(100):
            await asyncio.sleep(0.05)
            found = [h.article.id for h in kb.search("kafka consumer groups")]
            if found:
                break
        stop.set()
        await watcher
        return found

    assert asyncio.run(scenario()) == ["kq/kafka"]


def test_a_reindex_never_leaves_a_half_built_file(tmp_path: Path) -> None:
    """The new index is written beside the old one and moved into place."""
    _write(tmp_path / "docs", "a.md", "# Proxy settings\nUse HTTPS_PROXY.\n")
    kb = _kb(_docs(tmp_path), tmp_path)
    kb.rebuild()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    assert kb.search("proxy settings")[0].article.id == "kq/a"  # the open index still answers


def test_every_demo_article_is_indexed_with_a_title(example_kb: KnowledgeBase) -> None:
    titles = example_kb.index.titles()
    assert len(titles) >= 40
    assert all(title and not title.startswith("#") for _, title in titles)
