"""The vendor's documents as articles: read from the folders and links the deployment file
names (`[knowledge]`), each with an id, a title, its headings, its text and an address.

Markdown (`.md`, `.markdown`) and HTML (`.html`, `.htm`) files are read; a Markdown file may
start with a front matter block of `key: value` lines between `---` lines (`title`, `url`,
`summary`). The title is the front matter's, else the first heading, else the file name. An
article's id is its source's name and its path without the extension
(`konneqt/gateway/rate-limiting`); ids are lower case letters, digits, `-` and `/`, so they
travel in choice ids and URLs as they are.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from bot.deployment import Knowledge, KnowledgeSource
from bot.errors import KnowledgeError

MARKDOWN = frozenset({".md", ".markdown"})
HTML = frozenset({".html", ".htm"})
SUMMARY_MAX = 240
_ID_PART = re.compile(r"[^a-z0-9]+")
ARTICLE_ID = re.compile(r"^[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)+$")


@dataclass(frozen=True, slots=True)
class Document:
    """One article as it is indexed."""

    id: str
    source: str
    title: str
    headings: str  # the section headings, one per line
    body: str  # the text, markup removed
    summary: str  # the first paragraph (or the front matter's), one line
    url: str | None  # where it is published, if the documents say
    page: str = ""  # what a reader is shown: the Markdown (front matter left out), or the text


def slug(text: str) -> str:
    return _ID_PART.sub("-", text.lower()).strip("-")


def article_id(source: str, relative: Path) -> str:
    parts = [slug(p) for p in relative.with_suffix("").parts]
    return "/".join([source, *[p for p in parts if p]])


# ---- Markdown ---------------------------------------------------------------------------------

_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKS = re.compile(r"[*`]+|(?<!\w)_+|_+(?!\w)")
_SEPARATORS = re.compile(r"^\s*>\s?|\|")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")


def _plain(line: str) -> str:
    line = _LINK.sub(r"\1", line)
    line = _SEPARATORS.sub(" ", _MARKS.sub("", line))
    return " ".join(line.split())


def parse_markdown(text: str, fallback_title: str) -> tuple[str, list[str], str, str,
                                                             dict[str, str]]:
    """(title, headings, body, summary, front matter) of a Markdown document."""
    meta: dict[str, str] = {}
    front = _FRONT.match(text)
    if front:
        for line in front.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip():
                meta[key.strip().lower()] = value.strip().strip("\"'")
        text = text[front.end():]
    title = meta.get("title", "")
    headings: list[str] = []
    body: list[str] = []
    paragraphs: list[str] = []
    current: list[str] = []
    fenced = False
    for raw in text.splitlines():
        if raw.strip().startswith("```"):
            fenced = not fenced
            continue
        heading = None if fenced else _HEADING.match(raw)
        if heading:
            words = _plain(heading.group(2))
            if not title and len(heading.group(1)) == 1:
                title = words
            else:
                headings.append(words)
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        if _TABLE_RULE.match(raw):
            continue
        line = _plain(raw)
        if not line:
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        body.append(line)
        if not fenced:
            current.append(line)
    if current:
        paragraphs.append(" ".join(current))
    summary = meta.get("summary") or (paragraphs[0] if paragraphs else "")
    return title or fallback_title, headings, "\n".join(body), _one_line(summary), meta


# ---- HTML -------------------------------------------------------------------------------------


class _Html(HTMLParser):
    """Title, headings and text of an HTML page (scripts, styles and navigation left out)."""

    _SKIP = frozenset({"script", "style", "nav", "header", "footer", "noscript", "template"})
    _BLOCK = frozenset({"p", "div", "li", "tr", "br", "section", "article", "pre", "td", "th",
                        "dd", "dt", "blockquote", "table", "ul", "ol"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.h1 = ""
        self.headings: list[str] = []
        self.blocks: list[str] = []
        self._text: list[str] = []
        self._skip = 0
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag in {"title", "h1", "h2", "h3", "h4", "h5", "h6"}:
            self._flush()
            self._in = tag
        elif tag in self._BLOCK:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == self._in:
            words = " ".join(" ".join(self._text).split())
            self._text = []
            if tag == "title":
                self.title = self.title or words
            elif tag == "h1" and not self.h1:
                self.h1 = words
            elif words:
                self.headings.append(words)
            self._in = None
        elif tag in self._BLOCK:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._text.append(data)

    def _flush(self) -> None:
        if self._in is None:
            words = " ".join(" ".join(self._text).split())
            if words:
                self.blocks.append(words)
            self._text = []

    def close(self) -> None:
        super().close()
        self._flush()


def parse_html(text: str, fallback_title: str) -> tuple[str, list[str], str, str]:
    """(title, headings, body, summary) of an HTML page."""
    parser = _Html()
    parser.feed(text)
    parser.close()
    title = parser.h1 or parser.title or fallback_title
    summary = parser.blocks[0] if parser.blocks else ""
    return title, parser.headings, "\n".join(parser.blocks), _one_line(summary)


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1].rstrip() + "…"


# ---- sources ----------------------------------------------------------------------------------


def _files(folder: Path) -> Iterator[Path]:
    if not folder.is_dir():
        raise KnowledgeError(f"{folder}: the knowledge source folder doesn't exist (check "
                             "`path` under [[knowledge.sources]] in the deployment file)")
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() in MARKDOWN | HTML and path.is_file() \
                and not any(p.startswith(".") for p in path.relative_to(folder).parts):
            yield path


def read_source(source: KnowledgeSource) -> list[Document]:
    """The articles of one source, in a stable order."""
    out: list[Document] = []
    if source.path is not None:
        for path in _files(source.path):
            relative = path.relative_to(source.path)
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise KnowledgeError(f"{path}: can't read this document ({exc}); fix or "
                                     "remove it") from None
            fallback = path.stem.replace("-", " ").replace("_", " ").capitalize()
            url = None
            if path.suffix.lower() in MARKDOWN:
                title, headings, body, summary, meta = parse_markdown(text, fallback)
                url = meta.get("url") or None
                front = _FRONT.match(text)
                page = text[front.end():] if front else text
            else:
                title, headings, body, summary = parse_html(text, fallback)
                page = f"# {title}\n\n" + body.replace("\n", "\n\n")
            if url is None and source.url:
                url = source.url.rstrip("/") + "/" + relative.with_suffix("").as_posix()
            out.append(Document(article_id(source.name, relative), source.name, title,
                                "\n".join(headings), body, summary, url, page))
    for link in source.links:
        name = slug(link.url.split("://", 1)[-1].split("?", 1)[0])[:80] or "link"
        out.append(Document(f"{source.name}/{name}", source.name, link.title, "", link.summary,
                            _one_line(link.summary), link.url,
                            f"# {link.title}\n\n{link.summary}"))
    seen: dict[str, str] = {}
    for doc in out:
        if doc.id in seen:
            raise KnowledgeError(f"knowledge source {source.name!r}: two documents have the id "
                                 f"{doc.id!r} ({seen[doc.id]!r} and {doc.title!r}); rename one")
        seen[doc.id] = doc.title
    return out


def read_all(knowledge: Knowledge) -> list[Document]:
    return [doc for source in knowledge.sources for doc in read_source(source)]


def fingerprint(knowledge: Knowledge) -> str:
    """Changes whenever a document is added, removed or edited, or the sources change: the
    names, sizes and modification times of the files, and the sources' settings."""
    digest = hashlib.sha256(knowledge.model_dump_json(exclude={"refresh_seconds", "suggest"})
                            .encode())
    for source in knowledge.sources:
        if source.path is None:
            continue
        for path in _stat_files(source.path):
            stat = path.stat()
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _stat_files(folder: Path) -> Iterable[Path]:
    try:
        return list(_files(folder))
    except KnowledgeError:
        return []
