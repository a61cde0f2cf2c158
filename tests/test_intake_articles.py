"""Articles offered before a question becomes a case (the intake's "suggest" step): when,
to whom, what each answer does, and what the case keeps — one test per rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.deployment import Directory, load_deployment
from bot.knowledge import KnowledgeBase
from bot.records import ArticleRef
from tests.test_intake import Chat

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENT = load_deployment(ROOT / "examples" / "frontdoor.toml")
ARTICLE = ArticleRef(id="konneqt/gateway/rate-limiting", title="Rate limiting",
                     url="https://docs.example.com/rl", excerpt="Limits per tier.")


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    assert DEPLOYMENT.knowledge is not None
    base = KnowledgeBase(DEPLOYMENT.knowledge, Directory(DEPLOYMENT),
                         tmp_path_factory.mktemp("kb") / "kb.db", "https://fd.example.com")
    base.open()
    return base


class Finder:
    """Always finds `ARTICLE`, and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def __call__(self, customer_id: str, text: str) -> Sequence[ArticleRef]:
        self.asked.append((customer_id, text))
        return [ARTICLE]


def chat_with(user: str, finder: object) -> Chat:
    chat = Chat(user)
    chat.ctx = replace(chat.ctx, find_articles=finder)  # type: ignore[arg-type]
    return chat


def test_a_question_is_offered_the_documentation_before_it_is_filed(kb: KnowledgeBase) -> None:
    """Konneqt Query (documentation_first): the best articles with a one-line excerpt, and
    "Did one of these answer it?" before the summary."""
    chat = chat_with("adam", kb.suggest)
    replies = chat.send("Our client secret leaked in a git repo. How do I generate a new one?")
    offer = replies[-1]
    assert "Please check and confirm" not in chat.last
    assert offer.articles[0].id == "konneqt/developer-portal/regenerate-keys"
    assert offer.articles[0].url and offer.articles[0].excerpt
    assert "answer it?" in offer.text and offer.articles[0].title in offer.text
    assert chat.choices()[:2] == ["articles:yes", "articles:no"]


def test_yes_thanks_files_nothing_and_counts_as_deflected() -> None:
    chat = chat_with("adam", Finder())
    chat.send("How do we raise the rate limit for one partner application?")
    result_replies = chat.send(choice="articles:yes")
    assert chat.state is None and chat.draft is None
    assert "nothing was filed" in result_replies[-1].text


def test_the_deflection_is_reported_with_the_articles_shown() -> None:
    from bot.intake import step
    from bot.messages import Inbound, Place

    chat = chat_with("adam", Finder())
    chat.send("How do we raise the rate limit for one partner application?")
    result = step(chat.state, Inbound(chat.person, Place("web", "t"), chat.at + timedelta(
        seconds=5), choice="articles:yes"), chat.ctx)
    assert result.offer is not None
    assert (result.offer.outcome, result.offer.customer_id, result.offer.article_ids) == \
        ("deflected", "acme", (ARTICLE.id,))


def test_no_open_a_case_goes_on_to_the_summary_and_the_case_keeps_the_articles() -> None:
    chat = chat_with("adam", Finder())
    chat.send("How do we raise the rate limit for one partner application?")
    chat.send(choice="articles:no")
    assert "Please check and confirm" in chat.last
    chat.send(choice="confirm:open")
    assert chat.draft is not None
    assert [(a.id, a.shown) for a in chat.draft.articles] == [(ARTICLE.id, True)]


@pytest.mark.parametrize(("said", "filed"), [("yes, that helped", False), ("2", True),
                                             ("no", True), ("thanks!", False)])
def test_the_offer_is_answered_in_words_or_by_number(said: str, filed: bool) -> None:
    chat = chat_with("adam", Finder())
    chat.send("How do we raise the rate limit for one partner application?")
    chat.send(said)
    assert (chat.state is not None) == filed
    if filed:
        assert "Please check and confirm" in chat.last


def test_an_unclear_answer_to_the_offer_says_what_is_expected() -> None:
    chat = chat_with("adam", Finder())
    chat.send("How do we raise the rate limit for one partner application?")
    chat.send("hmm")
    assert "Say “yes” if an article answered your question" in chat.replies[0].text
    assert chat.choices()[:2] == ["articles:yes", "articles:no"]


def test_never_for_an_incident_so_never_in_the_way_of_a_p1() -> None:
    finder = Finder()
    chat = chat_with("alice", finder)
    chat.send("P1: acme-prod orders API returns 500 for a substantial part of our traffic")
    assert "Please check and confirm" in chat.last and finder.asked == []


def test_never_for_the_highest_priority_of_the_danish_provider() -> None:
    finder = Finder()
    chat = chat_with("nils", finder)
    chat.send("Synchronisation stopped for all users and we risk losing data")
    assert "Please check and confirm" in chat.last and finder.asked == []


def ask_for_acme(user: str, finder: Finder) -> Chat:
    """Someone who files for several customers asks Acme's question."""
    chat = chat_with(user, finder)
    chat.send("hi")
    chat.send(choice="acme")
    chat.send(choice="query")
    chat.send("How do we raise the rate limit for one partner application?")
    return chat


def test_never_for_the_vendors_own_people() -> None:
    finder = Finder()
    chat = ask_for_acme("ana", finder)
    assert "Please check and confirm" in chat.last and finder.asked == []


def test_a_partner_asking_for_a_customer_is_offered_the_customers_articles() -> None:
    finder = Finder()
    chat = ask_for_acme("pia", finder)
    assert chat.choices()[:2] == ["articles:yes", "articles:no"]
    assert finder.asked[-1][0] == "acme"


def test_nothing_found_goes_straight_to_the_summary() -> None:
    chat = chat_with("adam", lambda customer, text: [])
    chat.send("How do we raise the rate limit for one partner application?")
    assert "Please check and confirm" in chat.last


def test_no_offer_when_the_scope_says_consulting() -> None:
    """dk-saas: restoring users the customer deleted is consultancy; that offer comes
    instead of articles."""
    finder = Finder()
    chat = chat_with("nils", finder)
    chat.send("Question: can you restore the users we deleted last week?")
    assert "consulting" in chat.last.lower() and finder.asked == []


def test_a_usage_and_guidance_verdict_offers_articles_for_a_type_without_priority() -> None:
    """ConnectSoft "Documentation and knowledge base access" (a `guidance` rule) on a feature
    request: the documentation is offered first."""
    chat = chat_with("uma", Finder())
    chat.send("hi")
    chat.send(choice="feature-request")
    chat.send("Please add a knowledge base article that explains every field of the CSV export")
    assert chat.choices()[:2] == ["articles:yes", "articles:no"]


def test_cancel_while_offered_is_reported_as_dropped() -> None:
    from bot.intake import step
    from bot.messages import Inbound, Place

    chat = chat_with("adam", Finder())
    chat.send("How do we raise the rate limit for one partner application?")
    result = step(chat.state, Inbound(chat.person, Place("web", "t"), chat.at + timedelta(
        seconds=5), text="cancel"), chat.ctx)
    assert result.state is None and result.offer is not None
    assert result.offer.outcome == "dropped"


def test_changing_the_description_at_the_summary_offers_again() -> None:
    finder = Finder()
    chat = chat_with("adam", finder)
    chat.send("How do we raise the rate limit for one partner application?")
    chat.send(choice="articles:no")
    chat.send(choice="change:description")
    chat.send("How long do refresh tokens live, and where do we change it?")
    assert chat.choices()[:2] == ["articles:yes", "articles:no"]
    assert finder.asked[-1][1].startswith("How long do refresh tokens live")


async def test_a_deflection_is_kept_in_the_audit_trail_since_no_case_says_it(
        kb: KnowledgeBase, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from bot.handler import Handler
    from bot.messages import Inbound, Place
    from bot.store.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "fd.db")
    await store.open()
    try:
        directory = Directory(DEPLOYMENT)
        handler = Handler(store, directory, knowledge=kb)
        nils = directory.person("nils")
        assert nils is not None
        at = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
        place = Place("web", "web:nils")
        offer = await handler.handle(Inbound(nils, place, at, text=(
            "Which Microsoft Graph permissions does the sync need in Entra?")))
        assert offer.replies[-1].articles
        await handler.handle(Inbound(nils, place, at + timedelta(seconds=9),
                                     choice="articles:yes"))
        audit = await store.audit_entries(None)
        [entry] = [e for e in audit if e.action == "answered_by_article"]
        assert (entry.actor, entry.customer_id) == ("nils", "nordlys")
        assert entry.detail.split()[0] == offer.replies[-1].articles[0].id
        assert await store.list_cases(["nordlys"], open_only=False) == []
    finally:
        await store.close()
