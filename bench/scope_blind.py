"""Scope accuracy on the blind held-out set (tests/data/scope_heldout_blind.toml).

    .venv/bin/python bench/scope_blind.py [path/to/examples.toml]

Prints per-pack and overall accuracy of `decide_scope` against the labels, how many decisions
were unsure (confident=False), and every misclassified example.
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

import tomllib  # noqa: E402
from collections import defaultdict  # noqa: E402

from policy.pack import load_pack  # noqa: E402
from policy.scope import decide_scope  # noqa: E402

DEFAULT = ROOT / "tests" / "data" / "scope_heldout_blind.toml"


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT
    with path.open("rb") as fh:
        examples = tomllib.load(fh)["example"]

    scopes: dict[str, object] = {}
    per_pack: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # n, correct, unsure
    misses = []
    for ex in examples:
        pack = ex["pack"]
        if pack not in scopes:
            scopes[pack] = load_pack(pack).scope
        result = decide_scope(scopes[pack], ex["text"])
        stats = per_pack[pack]
        stats[0] += 1
        stats[1] += result.decision == ex["expect"]
        stats[2] += not result.confident
        if result.decision != ex["expect"]:
            misses.append((ex, result))

    print(f"{'pack':<12} {'n':>3} {'correct':>7} {'accuracy':>8} {'unsure':>6}")
    total = [0, 0, 0]
    for pack in sorted(per_pack):
        n, ok, unsure = per_pack[pack]
        total = [total[0] + n, total[1] + ok, total[2] + unsure]
        print(f"{pack:<12} {n:>3} {ok:>7} {ok / n:>8.1%} {unsure:>6}")
    n, ok, unsure = total
    print(f"{'overall':<12} {n:>3} {ok:>7} {ok / n:>8.1%} {unsure:>6}")

    print(f"\nmisclassified ({len(misses)}):")
    for ex, result in misses:
        print(f"- [{ex['pack']}] {ex['text']!r}")
        print(
            f"    expected {ex['expect']} ({ex.get('why', '')}); got {result.decision} "
            f"via {result.rule} confident={result.confident}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
