"""Process-wide tuning for the long-running commands (`serve`, `worker`).

Why: CPython's cyclic garbage collector stops the event loop while it walks the heap. With
the default thresholds it runs every 700 allocations, and its full passes walk everything
loaded at start-up too (the packs, pydantic's and the SDKs' models): under load those
pauses were the long tail of Slack's acknowledgement latency (`bench/slack_events.py`: ack
p99 63 ms with the defaults, 13 ms tuned, same run). Reference counting still frees almost
everything at once; only cycles wait for the (rarer) passes.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000  # allocations between young-generation passes (CPython's: 700)
OLDER_THRESHOLDS = (20, 10)  # young passes per middle pass, middle passes per full pass
# (a full pass every 10 M allocations: cycles that outlive the young passes — exceptions kept
# on futures in an outage, say — are still freed within seconds under load)


def tune_garbage_collector() -> None:
    """Call once start-up is done: what exists then is kept out of every later pass."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
