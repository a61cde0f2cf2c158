"""The vendor's documentation, searched before a question becomes a case: `documents` (reading
folders of Markdown and HTML and lists of links), `query` (a customer's words and the packs'
synonyms), `index` (SQLite FTS5, BM25), `base` (the deployment's knowledge base: building,
re-indexing on change, who may see which source), `metrics`."""

from bot.knowledge.base import KnowledgeBase, index_path, watch
from bot.knowledge.index import Article, BuildStats, Hit

__all__ = ["Article", "BuildStats", "Hit", "KnowledgeBase", "index_path", "watch"]
