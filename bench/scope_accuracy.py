"""Scope accuracy on the held-out set (tests/data/scope_heldout.toml).

    .venv/bin/python bench/scope_accuracy.py

Prints per-pack and overall accuracy of `decide_scope`'s decision against the labels, how many
decisions were unsure (confident=False), the time per decision, and every misclassified
example. The held-out set is never used to tune the pack vocabularies: read the misses to
judge the engine, not to add the missing words.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, Python puts bench/ first on sys.path, where bench/calendar.py would shadow
# the standard library's `calendar`: put the project root there instead.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import time  # noqa: E402
import tomllib  # noqa: E402
from collections import defaultdict  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from policy.pack import load_pack  # noqa: E402
from policy.scope import ScopeDecision, ScopeSection, decide_scope  # noqa: E402

HELDOUT = ROOT / "tests" / "data" / "scope_heldout.toml"


def load_section(name: str) -> ScopeSection:
    """A shipped pack's scope section (with what it inherits through `extends`)."""
    return load_pack(name).scope


@dataclass(frozen=True)
class Example:
    pack: str
    text: str
    expect: str
    case_type: str | None
    why: str


def load_examples(path: Path = HELDOUT) -> list[Example]:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    return [
        Example(e["pack"], e["text"], e["expect"], e.get("case_type"), e.get("why", ""))
        for e in data["example"]
    ]


@dataclass(frozen=True)
class Result:
    example: Example
    decision: ScopeDecision

    @property
    def correct(self) -> bool:
        return self.decision.decision == self.example.expect


def evaluate(examples: list[Example] | None = None) -> list[Result]:
    sections: dict[str, ScopeSection] = {}
    results = []
    for ex in examples if examples is not None else load_examples():
        section = sections.get(ex.pack) or sections.setdefault(ex.pack, load_section(ex.pack))
        results.append(Result(ex, decide_scope(section, ex.text, case_type=ex.case_type)))
    return results


def accuracy(results: list[Result]) -> float:
    return sum(r.correct for r in results) / len(results) if results else 0.0


def main() -> int:
    results = evaluate()
    by_pack: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_pack[r.example.pack].append(r)
    print(f"{'pack':<12} {'n':>3} {'correct':>7} {'accuracy':>8} {'unsure':>6}")
    for pack, rs in sorted(by_pack.items()):
        unsure = sum(not r.decision.confident for r in rs)
        print(
            f"{pack:<12} {len(rs):>3} {sum(r.correct for r in rs):>7} "
            f"{accuracy(rs):>8.1%} {unsure:>6}"
        )
    unsure = sum(not r.decision.confident for r in results)
    print(
        f"{'overall':<12} {len(results):>3} {sum(r.correct for r in results):>7} "
        f"{accuracy(results):>8.1%} {unsure:>6}"
    )

    section = load_section("qscim")
    text = results[0].example.text if results else "the connector crashed"
    n = 2000
    start = time.perf_counter()
    for _ in range(n):
        decide_scope(section, text)
    print(f"\n{(time.perf_counter() - start) / n * 1000:.3f} ms per decision")

    misses = [r for r in results if not r.correct]
    if misses:
        print(f"\nmisclassified ({len(misses)}):")
    for r in misses:
        d = r.decision
        print(
            f"- [{r.example.pack}] {r.example.text!r}\n"
            f"    expected {r.example.expect} ({r.example.why}); got {d.decision} "
            f"via {d.rule} confident={d.confident} matched={list(d.matched)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
