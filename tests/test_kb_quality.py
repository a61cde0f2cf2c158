"""The knowledge base's figures are a floor: the held-out questions keep hit@3 at the target
(tests/data/kb_questions.toml's header), the development set keeps its figures and offers
nothing for the questions no article answers. Speed is the bench's (`--scale 10000`), not a
test's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench" / "kb_search.py"


def _figures(name: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, str(BENCH), "--file", str(ROOT / "tests/data" / name),
                           "--json", "--repeat", "1"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    figures: dict[str, Any] = json.loads(done.stdout)
    return figures


def test_the_held_out_questions_find_their_article_among_the_first_three() -> None:
    """Target hit@3 ≥ 85 % (first run: 87.9 %, hit@1 77.3 %)."""
    figures = _figures("kb_questions.toml")
    assert figures["hit_at_3"] >= 85.0
    assert figures["hit_at_1"] >= 75.0


def test_the_development_set_stays_found_and_unanswerable_questions_get_nothing() -> None:
    figures = _figures("kb_dev.toml")
    assert figures["hit_at_3"] >= 95.0
    assert figures["offered_for_unanswerable"] == 0


def test_the_blind_questions_stay_at_least_where_they_were_first_measured() -> None:
    """The blind set (kb_blind.toml's header): a floor at its first run, 64.5 % hit@3 — below
    the 85 % target, which this set says the search does not yet meet."""
    figures = _figures("kb_blind.toml")
    assert figures["hit_at_3"] >= 64.5
