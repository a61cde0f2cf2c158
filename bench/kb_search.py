"""How well and how fast the knowledge base answers customers' questions.

    .venv/bin/python bench/kb_search.py                     # tests/data/kb_questions.toml
    .venv/bin/python bench/kb_search.py --file SET          # any file of [[question]] tables
    .venv/bin/python bench/kb_search.py --scale 10000       # the same among 10,000 articles
    .venv/bin/python bench/kb_search.py --all-sources       # ignore which customer asks
    .venv/bin/python bench/kb_search.py --titles            # the titles, to write a set from
    .venv/bin/python bench/kb_search.py --json              # machine-readable summary

Each question goes through the knowledge base as the conversation uses it
(`KnowledgeBase.search` with the asking customer: only the sources their policy pack may see,
that pack's synonyms, the relevance floor) over the documents of `examples/frontdoor.toml`'s
`[knowledge]`, indexed afresh in a temporary folder. It prints:

- hit@1 / hit@3: the share of questions whose expected article is the first / among the
  first three articles shown (what a customer would see: nothing shown counts as a miss);
- none shown: questions that got no article at all;
- unanswerable: questions no article answers (`expected = ""`) and how many were offered
  articles anyway;
- search time: median and 95th percentile of one search, after one warm-up pass (the stems
  of a question's words are cached, as in a running server), over `--repeat` passes.

`--scale N` adds synthetic articles until the index holds N (see `synthetic`), spread over the
same sources as the real ones, so they compete with them for every question.

A set is a TOML file of questions:

    [[question]]
    id = "q01"
    customer = "acme"                   # examples/frontdoor.toml [customers.*]
    text = "We keep getting 429 Too Many Requests …"
    expected = "konneqt/gateway/rate-limiting"   # an article id (see --titles); "" for a
                                                 # question no article answers
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path[:1]:
    sys.path.insert(0, str(ROOT))

from bot.deployment import Directory, Knowledge, load_deployment  # noqa: E402
from bot.knowledge import KnowledgeBase  # noqa: E402
from bot.knowledge.documents import Document, fingerprint, read_all  # noqa: E402
from bot.knowledge.index import build_index  # noqa: E402
from bot.knowledge.query import tokens  # noqa: E402

DEFAULT_SET = ROOT / "tests" / "data" / "kb_questions.toml"
DEPLOYMENT = ROOT / "examples" / "frontdoor.toml"


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    customer: str
    text: str
    expected: str


@dataclass(slots=True)
class Result:
    question: Question
    shown: list[str]
    seconds: list[float]

    @property
    def rank(self) -> int | None:
        return self.shown.index(self.question.expected) + 1 \
            if self.question.expected in self.shown else None


def load_questions(path: Path) -> list[Question]:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    names = set(Question.__dataclass_fields__)
    return [Question(**{k: v for k, v in raw.items() if k in names}) for raw in data["question"]]


def synthetic(documents: list[Document], count: int, seed: int = 20) -> list[Document]:
    """`count` made-up articles. Each belongs to one of 250 made-up product areas and is
    written for about a third in its area's own words (made up, some frequent, most rare) and
    for the rest in the real articles' words with their real frequencies (function words,
    "configure", "user", "gateway" …) — so they compete with the real articles for every
    question, as a large documentation set of many products would."""
    rng = random.Random(seed)
    words = [w for d in documents for w in tokens(f"{d.title} {d.headings} {d.body}")]
    frequency = Counter(words)
    vocabulary = list(frequency)
    weights = [frequency[w] for w in vocabulary]
    sources = sorted({d.source for d in documents})

    def made_up() -> str:
        return "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou")
                       for _ in range(rng.randint(2, 4)))

    areas = [[made_up() for _ in range(200)] for _ in range(250)]
    zipf = [1 / rank for rank in range(1, 201)]

    def some(area: list[str], n: int) -> list[str]:
        own = rng.choices(area, zipf, k=n)
        real = rng.choices(vocabulary, weights, k=n)
        return [o if rng.random() < 0.35 else r for o, r in zip(own, real, strict=True)]

    out = []
    for i in range(count):
        area = areas[i % len(areas)]
        title = " ".join(some(area, rng.randint(4, 9))).capitalize()
        headings = "\n".join(" ".join(some(area, rng.randint(2, 5)))
                             for _ in range(rng.randint(2, 5)))
        body = "\n".join(" ".join(some(area, rng.randint(20, 60))) + "."
                         for _ in range(rng.randint(5, 12)))
        source = sources[i % len(sources)]
        out.append(Document(f"{source}/synthetic/{i}", source, title, headings, body,
                            body[:200], None))
    return out


def run(questions: list[Question], scale: int | None, all_sources: bool,
        repeat: int) -> tuple[list[Result], dict[str, Any]]:
    deployment = load_deployment(DEPLOYMENT)
    knowledge = deployment.knowledge
    if knowledge is None:
        sys.exit(f"kb_search: {DEPLOYMENT} has no [knowledge] section")
    directory = Directory(deployment)
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        path = Path(tmp) / "kb.db"
        documents = read_all(knowledge)
        real = len(documents)
        if scale and scale > real:
            documents += synthetic(documents, scale - real)
        started = time.perf_counter()
        build_index(documents, path, fingerprint(knowledge))
        built = time.perf_counter() - started
        kb = KnowledgeBase(Knowledge.model_validate({**knowledge.model_dump(),
                                                     "index": path}), directory, path)
        kb.reload()
        results = [Result(q, [], []) for q in questions]
        for n in range(repeat + 1):
            for result in results:
                q = result.question
                t0 = time.perf_counter()
                hits = kb.search(q.text, None if all_sources else q.customer, limit=3)
                elapsed = time.perf_counter() - t0
                if n == 0:
                    result.shown = [h.article.id for h in hits]
                else:
                    result.seconds.append(elapsed)
        kb.close()
    return results, {"articles": len(documents), "real_articles": real,
                     "index_seconds": round(built, 2)}


def summary(results: list[Result], meta: dict[str, Any]) -> dict[str, Any]:
    times = sorted(t for r in results for t in r.seconds)
    answerable = [r for r in results if r.question.expected]
    unanswerable = [r for r in results if not r.question.expected]
    n = len(answerable)
    ranks = [r.rank for r in answerable]
    return {
        **meta,
        "questions": n,
        "unanswerable": len(unanswerable),
        "offered_for_unanswerable": sum(bool(r.shown) for r in unanswerable),
        "hit_at_1": round(100 * sum(r == 1 for r in ranks) / n, 1) if n else 0.0,
        "hit_at_3": round(100 * sum(r is not None and r <= 3 for r in ranks) / n, 1)
        if n else 0.0,
        "none_shown": sum(not r.shown for r in answerable),
        "median_ms": round(1000 * statistics.median(times), 3) if times else 0.0,
        "p95_ms": round(1000 * times[int(0.95 * (len(times) - 1))], 3) if times else 0.0,
    }


def report(results: list[Result], s: dict[str, Any], label: str) -> str:
    lines = [f"knowledge search — {label}",
             f"{s['articles']} articles ({s['real_articles']} real), indexed in "
             f"{s['index_seconds']} s", "",
             f"questions   {s['questions']}",
             f"hit@1       {s['hit_at_1']:.1f} %",
             f"hit@3       {s['hit_at_3']:.1f} %",
             f"none shown  {s['none_shown']}",
             *([f"unanswerable {s['unanswerable']}, offered articles for "
                f"{s['offered_for_unanswerable']}"] if s["unanswerable"] else []),
             f"search      median {s['median_ms']:.2f} ms, p95 {s['p95_ms']:.2f} ms"]
    misses = [r for r in results if r.rank != 1 and (r.question.expected or r.shown)]
    if misses:
        lines += ["", "Not first:"]
    for r in misses:
        lines.append(f"  {r.question.id} [{r.question.customer}] rank {r.rank or '-'}: "
                     f"{r.question.text[:90]}")
        lines.append(f"      expected {r.question.expected}; shown "
                     f"{', '.join(r.shown) or 'nothing'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--file", type=Path, default=DEFAULT_SET, help="the question set")
    parser.add_argument("--scale", type=int, default=None,
                        help="add synthetic articles up to this many")
    parser.add_argument("--all-sources", action="store_true",
                        help="search every source, whoever asks")
    parser.add_argument("--repeat", type=int, default=5, help="timed passes (default 5)")
    parser.add_argument("--titles", action="store_true", help="print the article titles")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.add_argument("--floor", type=float, default=None,
                        help="exit 1 when hit@3 (%%) is below this")
    args = parser.parse_args(argv)
    if args.titles:
        deployment = load_deployment(DEPLOYMENT)
        assert deployment.knowledge is not None
        for doc in read_all(deployment.knowledge):
            print(f"{doc.id} | {doc.title}")
        return 0
    questions = load_questions(args.file)
    results, meta = run(questions, args.scale, args.all_sources, max(args.repeat, 1))
    s = summary(results, meta)
    if args.json:
        print(json.dumps({"file": str(args.file), **s, "misses": [
            {"id": r.question.id, "expected": r.question.expected, "shown": r.shown}
            for r in results if r.rank != 1 and (r.question.expected or r.shown)]}, indent=2))
    else:
        label = f"{args.file.name}{' (all sources)' if args.all_sources else ''}"
        print(report(results, s, label))
    if args.floor is not None and s["hit_at_3"] < args.floor:
        print(f"hit@3 {s['hit_at_3']} % is below the floor {args.floor} %", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
