"""The knowledge base of a deployment: its documents (the deployment file's `[knowledge]`),
the index built from them, and who may be shown what.

`KnowledgeBase.open()` makes sure the index matches the documents (building it when it is
missing or stale) and opens it; `refresh()` does the same later, when a document changed (the
server calls it every `refresh_seconds`, see `watch`). Searching is synchronous and fast (a
few milliseconds for 10,000 articles: bench/kb_search.py); use it from the event loop's
thread, and `rebuild()` — the slow part — from another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from bot.deployment import Directory, Knowledge
from bot.errors import KnowledgeError
from bot.knowledge import metrics
from bot.knowledge.documents import fingerprint, read_all
from bot.knowledge.index import Article, BuildStats, Hit, Index, build_index, index_fingerprint
from bot.knowledge.query import Synonyms, synonyms_of
from bot.records import ArticleRef

log = logging.getLogger(__name__)
DEFAULT_INDEX = "frontdoor-kb.db"


def index_path(knowledge: Knowledge, database: Path | None) -> Path:
    """Where the index lives: `[knowledge] index`, else beside the SQLite database."""
    if knowledge.index is not None:
        return knowledge.index
    return (database.parent if database is not None else Path(".")) / DEFAULT_INDEX


class KnowledgeBase:
    def __init__(self, knowledge: Knowledge, directory: Directory, path: Path,
                 public_url: str | None = None) -> None:
        self.knowledge = knowledge
        self.directory = directory
        self.path = Path(path)
        self.public_url = public_url.rstrip("/") if public_url else None
        self._index: Index | None = None

    # -- the index -------------------------------------------------------------------------------

    def rebuild(self) -> BuildStats:
        """Read every document and write a new index file (safe from any thread)."""
        stamp = fingerprint(self.knowledge)
        stats = build_index(read_all(self.knowledge), self.path, stamp)
        log.info("knowledge index built", extra={"articles": stats.articles,
                                                 "path": str(stats.path),
                                                 "seconds": round(stats.seconds, 3)})
        return stats

    def needs_build(self) -> bool:
        """The file on disk isn't the index of the documents as they are now."""
        return index_fingerprint(self.path) != fingerprint(self.knowledge)

    def reload(self) -> None:
        """Open the index file as it is on disk now (in the thread that searches)."""
        fresh = Index(self.path)
        old, self._index = self._index, fresh
        if old is not None:
            old.close()
        metrics.ARTICLES.set(fresh.size)

    def open(self) -> bool:
        """Build the index if it is missing or stale, and open it; True when it was built."""
        built = self.needs_build()
        if built:
            self.rebuild()
        self.reload()
        return built

    def stale(self) -> bool:
        """A document changed since the open index was built."""
        return self._index is None or self._index.fingerprint != fingerprint(self.knowledge)

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

    @property
    def index(self) -> Index:
        if self._index is None:
            raise KnowledgeError("the knowledge index isn't open yet (KnowledgeBase.open)")
        return self._index

    # -- who sees what ---------------------------------------------------------------------------

    def sources_for(self, customer_id: str | None) -> list[str] | None:
        """The sources a customer's people may be shown (None: every source, for the vendor)."""
        if customer_id is None:
            return None
        customer = self.directory.customer(customer_id)
        return [s.name for s in self.knowledge.sources
                if (not s.packs or customer.pack in s.packs)
                and (not s.customers or customer_id in s.customers)]

    def _synonyms(self, customer_id: str | None) -> Synonyms:
        return synonyms_of(self.directory.pack_of(customer_id)) if customer_id \
            else Synonyms.none()

    # -- searching -------------------------------------------------------------------------------

    def search(self, text: str, customer_id: str | None = None,
               limit: int | None = None) -> list[Hit]:
        started = time.perf_counter()
        hits = self.index.search(text, sources=self.sources_for(customer_id),
                                 limit=limit or self.knowledge.suggest,
                                 synonyms=self._synonyms(customer_id))
        metrics.SEARCH_SECONDS.observe(time.perf_counter() - started)
        return hits

    def suggest(self, customer_id: str, text: str) -> list[ArticleRef]:
        """The articles to offer a customer before their question becomes a case; none when
        the index can't be searched (the intake goes on without an offer, and the log says
        why)."""
        try:
            hits = self.search(text, customer_id)
        except KnowledgeError as exc:
            log.error("knowledge search failed; no articles offered", extra={"detail": str(exc)})
            return []
        return [self.ref(hit.article, hit.excerpt) for hit in hits]

    def url_of(self, article: Article) -> str | None:
        """Where a reader opens the article: its published address, else this server's page
        for it (when the server's public address is known)."""
        if article.url:
            return article.url
        return f"{self.public_url}/kb/{article.id}" if self.public_url else None

    def ref(self, article: Article, excerpt: str | None = None, *,
            shown: bool = True) -> ArticleRef:
        return ArticleRef(id=article.id, title=article.title, url=self.url_of(article),
                          excerpt=excerpt if excerpt is not None else article.summary,
                          shown=shown)

    def article(self, article_id: str) -> Article | None:
        return self.index.article(article_id)

    def page(self, article_id: str) -> tuple[Article, str] | None:
        return self.index.page(article_id)

    def visible(self, article: Article, customer_id: str) -> bool:
        sources = self.sources_for(customer_id)
        return sources is None or article.source in sources


async def watch(kb: KnowledgeBase, stop: asyncio.Event) -> None:
    """Re-index when a document changes, checking every `refresh_seconds`, until `stop`. The
    slow parts run in a thread; an index another process built already is only reopened."""
    every = kb.knowledge.refresh_seconds
    if every <= 0:
        return
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        if stop.is_set():
            return
        try:
            if not await asyncio.to_thread(kb.stale):
                continue
            if await asyncio.to_thread(kb.needs_build):
                await asyncio.to_thread(kb.rebuild)
            kb.reload()
            metrics.REINDEXED.inc()
        except KnowledgeError as exc:
            log.error("knowledge re-index failed; the previous index stays in use",
                      extra={"detail": str(exc)})
