"""The search index: one SQLite file with an FTS5 table (porter stemming, BM25 ranking) over
the articles' titles, headings and text; no hosted service, no model.

`build_index` writes a new file beside the old one and moves it into place (readers never see
a half-built index; several processes may build at once). `Index` opens it read-only and
answers `search`: the customer's meaningful words and their synonyms are OR-ed, ranked by BM25
with the title weighing most, and an article is shown only when it covers enough of what was
asked (`MIN_COVERAGE`, by the words' rarity), so an unrelated question gets no article rather
than a poor one.
"""

from __future__ import annotations

import math
import os
import sqlite3
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.errors import KnowledgeError
from bot.knowledge.documents import Document
from bot.knowledge.query import (
    Phrase,
    Synonyms,
    american_variants,
    content_words,
    quoted,
    tokens,
)

SCHEMA_VERSION = "4"
TOKENIZER = "porter unicode61 remove_diacritics 2"
# BM25 weights of the columns: title, headings, text, the source's name (which only filters:
# `source:name`), and the American spelling of the British words of the article (questions
# are read in American spelling: "licence" and "license" meet there).
WEIGHTS = (6.0, 3.0, 1.0, 0.0, 1.0)
# A word in more than this share of the articles tells nothing and costs time: left out of a
# query that has other words.
COMMON_SHARE = 0.4
# Share of a question's words (weighted by rarity) an article must contain to be shown, and
# how many of its words at least (fewer when the question has fewer): one common word in
# common ("month", "account") is no answer.
MIN_COVERAGE = 0.45
MIN_MATCHED = 2
# A word no article uses counts against the articles as a word in three articles would: a
# question about printers is not answered by the one article that says "second".
UNKNOWN_DF = 3
CANDIDATES = 8
EXCERPT_TOKENS = 18
EXCERPT_MAX = 200

_SCHEMA = f"""
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE docs(rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
                  title TEXT NOT NULL, url TEXT, summary TEXT NOT NULL, headings TEXT NOT NULL,
                  body TEXT NOT NULL, page TEXT NOT NULL, spelling TEXT NOT NULL);
CREATE INDEX docs_source ON docs(source);
CREATE VIRTUAL TABLE fts USING fts5(title, headings, body, source, spelling, content='docs',
                                    content_rowid='rowid', tokenize='{TOKENIZER}');
CREATE VIRTUAL TABLE vocab USING fts5vocab(fts, 'row');
"""


@dataclass(frozen=True, slots=True)
class Article:
    """An article as the conversation shows it."""

    id: str
    source: str
    title: str
    url: str | None
    summary: str


@dataclass(frozen=True, slots=True)
class Hit:
    article: Article
    excerpt: str  # one line, from the part of the text that matched
    score: float  # BM25 (higher is better)
    coverage: float  # share of the question's words (by rarity) the article contains


@dataclass(frozen=True, slots=True)
class BuildStats:
    articles: int
    sources: int
    seconds: float
    path: Path


def build_index(documents: Sequence[Document], path: Path, fingerprint: str) -> BuildStats:
    """Write the index of `documents` to `path` (atomically replacing what is there)."""
    started = time.perf_counter()
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise KnowledgeError(f"{path.parent}: can't create the folder for the knowledge index "
                             f"({exc})") from None
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        conn = sqlite3.connect(temporary)
        try:
            conn.executescript(_SCHEMA)
            conn.executemany(
                "INSERT INTO docs(id, source, title, url, summary, headings, body, page, spelling)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(d.id, d.source, d.title, d.url, d.summary, d.headings, d.body, d.page,
                  american_variants(f"{d.title} {d.headings} {d.body}")) for d in documents])
            conn.execute("INSERT INTO fts(rowid, title, headings, body, source, spelling) "
                         "SELECT rowid, title, headings, body, source, spelling FROM docs")
            conn.execute("INSERT INTO fts(fts) VALUES ('optimize')")
            conn.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", [
                ("schema", SCHEMA_VERSION), ("fingerprint", fingerprint),
                ("built_at", str(time.time()))])
            conn.commit()
        finally:
            conn.close()
        os.replace(temporary, path)
    except sqlite3.IntegrityError as exc:
        temporary.unlink(missing_ok=True)
        raise KnowledgeError(f"two articles share an id ({exc}); rename one") from None
    except (sqlite3.Error, OSError) as exc:
        temporary.unlink(missing_ok=True)
        raise KnowledgeError(f"{path}: can't write the knowledge index ({exc}); check the "
                             "folder is writable and has space") from None
    return BuildStats(len(documents), len({d.source for d in documents}),
                      time.perf_counter() - started, path)


def index_fingerprint(path: Path) -> str | None:
    """The fingerprint of the documents an index file was built from; None when there is no
    usable index there."""
    if not Path(path).is_file():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    if rows.get("schema") != SCHEMA_VERSION:
        return None
    return rows.get("fingerprint")


@dataclass(frozen=True, slots=True)
class _Group:
    """One thing asked: a word, or a phrase of the synonyms, with its alternatives."""

    phrases: tuple[Phrase, ...]
    idf: float

    def expression(self) -> str:
        return " OR ".join(quoted(p) for p in self.phrases)


class Index:
    """An open index file: search and look up articles. Use from one thread."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self._conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
            self.fingerprint = meta.get("fingerprint", "")
            if meta.get("schema") != SCHEMA_VERSION:
                raise KnowledgeError(f"{self.path}: built by another version; run "
                                     "`frontdoor kb index` again")
            self.size = int(self._conn.execute("SELECT count(*) FROM docs").fetchone()[0])
            self._df: dict[str, int] = dict(self._conn.execute(
                "SELECT term, doc FROM vocab").fetchall())
        except sqlite3.Error as exc:
            raise KnowledgeError(f"{self.path}: can't open the knowledge index ({exc}); run "
                                 "`frontdoor kb index`") from None
        # Stems of query words, by FTS5's own tokenizer (a scratch table in memory).
        self._stemmer = sqlite3.connect(":memory:")
        self._stemmer.executescript(
            f"CREATE VIRTUAL TABLE s USING fts5(t, tokenize='{TOKENIZER}');"
            "CREATE VIRTUAL TABLE sv USING fts5vocab(s, 'instance');")
        self._stems: dict[str, str] = {}

    def close(self) -> None:
        self._conn.close()
        self._stemmer.close()

    # -- words ---------------------------------------------------------------------------------

    def _stem(self, words: Sequence[str]) -> dict[str, str]:
        missing = [w for w in dict.fromkeys(words) if w not in self._stems]
        if missing:
            self._stemmer.executemany("INSERT INTO s(rowid, t) VALUES (?, ?)",
                                      list(enumerate(missing, 1)))
            for doc, term in self._stemmer.execute("SELECT doc, term FROM sv"):
                self._stems[missing[doc - 1]] = term
            self._stemmer.execute("DELETE FROM s")
            for word in missing:
                self._stems.setdefault(word, word)
            if len(self._stems) > 50_000:
                self._stems.clear()
        return {w: self._stems[w] for w in words}

    def _idf(self, df: int) -> float:
        n = max(self.size, 1)
        return math.log(1 + max(n - df + 0.5, 0.5) / (df + 0.5))

    def _groups(self, text: str, synonyms: Synonyms) -> tuple[list[_Group], float]:
        """What the question asks, as groups of phrases the index knows, and the weight of
        its words no article uses."""
        words = content_words(text)
        if not words:
            return [], 0.0
        expansions = synonyms.expand(words)
        every = [w for phrase, others in expansions for p in (phrase, *others) for w in p]
        stems = self._stem([*words, *every])

        def df_of(phrase: Phrase) -> int:
            # a phrase is at most as common as its rarest word
            return min(self._df.get(stems.get(w, w), 0) for w in phrase)

        groups = []
        for phrase, others in expansions:
            # one phrase per stem: "sync" and "synced" are one word to the index
            kept: dict[tuple[str, ...], Phrase] = {}
            for p in (phrase, *others):
                kept.setdefault(tuple(stems.get(w, w) for w in p), p)
            alternatives = tuple(kept.values())
            groups.append(_Group(alternatives,
                                 self._idf(min(df_of(p) for p in alternatives))))
        covered = {w for phrase, _ in expansions for w in phrase}
        unknown = 0.0
        for word in words:
            if word in covered:
                continue  # said as part of a phrase that has its own group
            df = df_of((word,))
            if df == 0:
                unknown += self._idf(UNKNOWN_DF)  # in no article: searched for in vain
                continue
            groups.append(_Group(((word,),), self._idf(df)))
        rare = [g for g in groups if min(df_of(p) for p in g.phrases) <= COMMON_SHARE * self.size]
        return rare or groups, unknown

    # -- searching -----------------------------------------------------------------------------

    def search(self, text: str, *, sources: Sequence[str] | None = None, limit: int = 3,
               synonyms: Synonyms | None = None) -> list[Hit]:
        """The best articles for `text` among `sources` (None: all), best first, at most
        `limit`, each covering at least MIN_COVERAGE of what was asked."""
        groups, unknown = self._groups(text, synonyms or Synonyms.none())
        if not groups or (sources is not None and not sources):
            return []
        match = " OR ".join(f"({g.expression()})" for g in groups)
        weights = ", ".join(str(w) for w in WEIGHTS)
        query = match if sources is None else \
            f"({match}) AND source:({' OR '.join(quoted(tuple(tokens(s))) for s in sources)})"
        try:
            ranked = self._conn.execute(
                f"SELECT rowid, bm25(fts, {weights}) AS rank FROM fts WHERE fts MATCH ? "
                f"ORDER BY rank LIMIT {max(CANDIDATES, limit)}", (query,)).fetchall()
        except sqlite3.Error as exc:
            raise KnowledgeError(f"the knowledge search failed ({exc})") from None
        if not ranked:
            return []
        rowids = [r[0] for r in ranked]
        coverage, matched = self._coverage(groups, unknown, rowids)
        least = min(MIN_MATCHED, len(groups))
        kept = [(rowid, -rank) for rowid, rank in ranked
                if coverage[rowid] >= MIN_COVERAGE and matched[rowid] >= least]
        kept = kept[:limit]
        if not kept:
            return []
        excerpts = self._excerpts(match, [r for r, _ in kept])
        articles = self._articles([r for r, _ in kept])
        return [Hit(articles[rowid], excerpts.get(rowid) or articles[rowid].summary, score,
                    coverage[rowid]) for rowid, score in kept]

    def _coverage(self, groups: Sequence[_Group], unknown: float, rowids: Sequence[int]
                  ) -> tuple[dict[int, float], dict[int, int]]:
        """Per article: the share of the question's weight it contains, and how many of
        the question's groups."""
        total = sum(g.idf for g in groups) + unknown or 1.0
        have = dict.fromkeys(rowids, 0.0)
        count = dict.fromkeys(rowids, 0)
        marks = ", ".join("?" * len(rowids))
        for group in groups:
            found = self._conn.execute(
                f"SELECT rowid FROM fts WHERE fts MATCH ? AND rowid IN ({marks})",
                [group.expression(), *rowids]).fetchall()
            for (rowid,) in found:
                have[rowid] += group.idf
                count[rowid] += 1
        return {rowid: value / total for rowid, value in have.items()}, count

    def _excerpts(self, match: str, rowids: Sequence[int]) -> dict[int, str]:
        marks = ", ".join("?" * len(rowids))
        rows = self._conn.execute(
            f"SELECT rowid, snippet(fts, 2, '', '', '…', {EXCERPT_TOKENS}) FROM fts "
            f"WHERE fts MATCH ? AND rowid IN ({marks})", [match, *rowids]).fetchall()
        return {rowid: _line(text) for rowid, text in rows}

    def _articles(self, rowids: Sequence[int]) -> dict[int, Article]:
        marks = ", ".join("?" * len(rowids))
        rows = self._conn.execute(
            f"SELECT rowid, id, source, title, url, summary FROM docs WHERE rowid IN ({marks})",
            list(rowids)).fetchall()
        return {r[0]: Article(r[1], r[2], r[3], r[4], r[5]) for r in rows}

    def article(self, article_id: str) -> Article | None:
        row = self._conn.execute("SELECT id, source, title, url, summary FROM docs WHERE id = ?",
                                 (article_id,)).fetchone()
        return Article(*row) if row else None

    def page(self, article_id: str) -> tuple[Article, str] | None:
        """(the article, what a reader is shown: its Markdown) — for the article's page."""
        row = self._conn.execute(
            "SELECT id, source, title, url, summary, page FROM docs WHERE id = ?",
            (article_id,)).fetchone()
        return (Article(*row[:5]), row[5]) if row else None

    def titles(self) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in self._conn.execute("SELECT id, title FROM docs ORDER BY id")]


def _line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_MAX else text[: EXCERPT_MAX - 1].rstrip() + "…"
