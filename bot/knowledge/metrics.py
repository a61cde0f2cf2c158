"""What the knowledge base does, for GET /metrics (Prometheus): searches and their time, the
articles offered before a question became a case and what came of each offer, the articles
engineers sent from a case."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SEARCH_SECONDS = Histogram(
    "frontdoor_kb_search_seconds", "Time of one knowledge-base search",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1))
ARTICLES = Gauge("frontdoor_kb_articles", "Articles in the open knowledge index")
REINDEXED = Counter("frontdoor_kb_reindexed_total",
                    "Times the running process re-indexed after a document changed")
OFFERS = Counter(
    "frontdoor_kb_offers_total",
    "Articles offered before a question became a case, by what came of the offer: "
    "deflected (“Yes, thanks”: no case), declined (“No, open a case”), dropped (cancelled)",
    ["pack", "outcome"])
SENT = Counter("frontdoor_kb_articles_sent_total",
               "Articles engineers sent to a customer from a case", ["pack"])
