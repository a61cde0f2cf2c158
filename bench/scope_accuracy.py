"""Scope accuracy of `decide_scope` on a labelled set of customer requests.

    .venv/bin/python bench/scope_accuracy.py              # held-out: tests/data/scope_heldout.toml
    .venv/bin/python bench/scope_accuracy.py --dev        # development: tests/data/scope_dev.toml
    .venv/bin/python bench/scope_accuracy.py --file PATH  # any file of [[example]] tables
    .venv/bin/python bench/scope_accuracy.py --dev --all  # every decision, not just misses

Prints per-pack and overall accuracy of the decision against the labels, how many decisions
were unsure (confident=False), how many wrong decisions were nevertheless confident, the time
per decision, and every misclassified example.

The held-out set is never used to tune the pack vocabularies: read its misses to judge the
engine, not to add the missing words. The development set (once a blind held-out set) is for
developing the matcher; generality is measured on sets written later, blind.
"""

from __future__ import annotations

import argparse
import time
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from policy.pack import load_pack
from policy.scope import ScopeDecision, ScopeSection, decide_scope

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "tests" / "data" / "scope_heldout.toml"
DEV = ROOT / "tests" / "data" / "scope_dev.toml"


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


def _row(name: str, rs: list[Result]) -> str:
    unsure = sum(not r.decision.confident for r in rs)
    wrong_sure = sum(r.decision.confident and not r.correct for r in rs)
    return (
        f"{name:<12} {len(rs):>3} {sum(r.correct for r in rs):>7} {accuracy(rs):>8.1%} "
        f"{unsure:>6} {wrong_sure:>10}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--file", type=Path, help="a TOML file of [[example]] tables")
    which.add_argument("--dev", action="store_true", help=f"the development set ({DEV.name})")
    parser.add_argument("--all", action="store_true", help="list every decision, not just misses")
    args = parser.parse_args(argv)
    path: Path = args.file or (DEV if args.dev else HELDOUT)

    examples = load_examples(path)
    results = evaluate(examples)
    by_pack: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_pack[r.example.pack].append(r)
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(f"{'pack':<12} {'n':>3} {'correct':>7} {'accuracy':>8} {'unsure':>6} {'wrong+sure':>10}")
    for pack, rs in sorted(by_pack.items()):
        print(_row(pack, rs))
    print(_row("overall", results))

    reps = max(1, 2000 // max(1, len(examples)))
    times = []
    for ex in examples:
        section = load_section(ex.pack)
        start = time.perf_counter()
        for _ in range(reps):
            decide_scope(section, ex.text, case_type=ex.case_type)
        times.append((time.perf_counter() - start) / reps * 1000)
    if times:
        mean = sum(times) / len(times)
        print(f"\n{mean:.3f} ms per decision (mean), {max(times):.3f} ms (slowest example)")

    misses = [r for r in results if not r.correct]
    shown = results if args.all else misses
    if shown:
        print(f"\n{'decisions' if args.all else 'misclassified'} ({len(shown)}):")
    for r in shown:
        d = r.decision
        mark = "" if not args.all else ("ok   " if r.correct else "MISS ")
        print(
            f"- {mark}[{r.example.pack}] {r.example.text!r}\n"
            f"    expected {r.example.expect} ({r.example.why}); got {d.decision} "
            f"via {d.rule} confident={d.confident} matched={list(d.matched)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
