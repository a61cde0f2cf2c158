"""Text safe to show, on every platform: what the renderers (adapters/*/render.py) share.

Each platform escapes its own markup in its renderer (Slack's mrkdwn in adapters/slack/
render.py, Teams' markdown in adapters/teams/render.py); what is the same everywhere is here:
the Unicode bidirectional controls are removed from anything shown. A right-to-left override
(U+202E) makes "invoice_fdp.exe" read "invoice_exe.pdf", and an isolate or embedding can
reorder a line the same way; no support conversation needs one, and the characters' visible
order is what people read.
"""

from __future__ import annotations

import re

# Unicode's Bidi_Control characters: the arabic letter mark, the left-to-right and
# right-to-left marks, the embeddings and overrides (U+202A–U+202E), the isolates
# (U+2066–U+2069).
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def strip_bidi_controls(text: str) -> str:
    """`text` without bidirectional control characters (see the module's docstring)."""
    return BIDI_CONTROLS.sub("", text)
