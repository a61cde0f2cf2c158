"""`frontdoor chat --as USER`: the conversation handler in a terminal, on the configured store;
replies as their plain text, with numbered options."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from bot.choice_ids import is_nav
from bot.handler import Handler
from bot.identity import Identities, Sender
from bot.messages import Choice, Inbound, Place, Reply


def render_text(reply: Reply) -> str:
    """A reply as terminal text: its fallback text, then numbered buttons."""
    lines = [reply.text]
    buttons = [c for c in reply.choices if is_nav(c.id)] + list(reply.actions)
    if buttons:
        lines.append("  " + "  ".join(f"[{b.label}]" for b in buttons))
    if reply.form is not None:
        lines.append(f"  (a form “{reply.form.title}” is available in the web chat)")
    return "\n".join(lines)


def _choice_for(text: str, offered: list[Choice]) -> str | None:
    key = text.strip()
    if key.isdigit() and 1 <= int(key) <= len(offered):
        return offered[int(key) - 1].id
    return None


async def run_terminal_chat(handler: Handler, identities: Identities, user_id: str) -> None:
    """Talk as `user_id` until end of input (the handler and who is who: adapters/compose.py)."""
    person = (await identities.recognise(Sender("web", (user_id,)))).person
    if person is None:
        known = ", ".join(p.id for p in identities.directory.people())
        sys.exit(f"frontdoor chat: error: argument --as: unknown user {user_id!r} "
                 f"(known: {known})")
    print(f"You are {person.name}. Type a message; numbers pick a listed option; "
          "Ctrl-D leaves.")
    offered: list[Choice] = []
    loop = asyncio.get_running_loop()
    while True:
        print("> ", end="", flush=True)
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            print()
            return
        text = line.strip()
        if not text:
            continue
        choice = _choice_for(text, offered)
        inbound = Inbound(person, Place("web", f"web:{person.id}"), datetime.now(UTC),
                          text=None if choice else text, choice=choice)
        outcome = await handler.handle(inbound)
        offered = []
        for reply in outcome.replies:
            print(render_text(reply))
            offered = [c for c in reply.choices if not is_nav(c.id)] or offered
