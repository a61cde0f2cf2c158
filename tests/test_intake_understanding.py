"""The blind set's figures are a floor: the intake never understands less than it did when
the set was first run (tests/data/intake_blind.toml's header), and never asks more."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench" / "intake_understanding.py"


def _figures(name: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, str(BENCH), "--file", str(ROOT / "tests/data" / name),
                           "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    overall = json.loads(done.stdout)["packs"]["overall"]
    assert isinstance(overall, dict)
    return overall


def test_the_blind_set_opens_at_least_as_many_cases_exactly_right() -> None:
    """Held-out floor: ≥ 94 % exactly right, median ≤ 1 question, none more than 2."""
    overall = _figures("intake_blind.toml")
    assert float(overall["exact_pct"]) >= 94.0  # type: ignore[arg-type]
    assert float(overall["median_questions"]) <= 1  # type: ignore[arg-type]
    assert int(overall["max_questions"]) <= 2  # type: ignore[call-overload]


def test_the_development_sets_stay_understood() -> None:
    """The sets the vocabulary was tuned on: none more than 2 questions, ≥ 98 % right."""
    for name in ("intake_dev.toml", "intake_blind_seen.toml"):
        overall = _figures(name)
        assert float(overall["exact_pct"]) >= 98.0, name  # type: ignore[arg-type]
        assert int(overall["max_questions"]) <= 2, name  # type: ignore[call-overload]
