"""The intake's own words: normalising, picking a choice from what someone typed, yes and no,
navigation commands. What customers say about their case is read by policy.understanding
from the packs' vocabulary; this module only knows how people answer a question."""

from __future__ import annotations

import itertools
import re

from bot.choice_ids import parse_choice
from bot.errors import ChoiceIdError
from bot.messages import Choice
from policy.errors import PolicyError
from policy.pack import Pack

YES = {"yes", "y", "yeah", "yep", "yup", "correct", "right", "sure", "ok", "okay", "true",
       "affirmative", "it is", "they are", "we do", "definitely", "absolutely", "indeed", "ja"}
NO = {"no", "n", "nope", "nah", "not really", "false", "negative", "it isnt", "it is not",
      "they arent", "we dont", "none", "not at all", "nej"}
CONFIRM = {"open", "open it", "open the case", "file", "file it", "submit", "send", "go",
           "go ahead", "confirm", "create", "yes", "y", "ok", "okay", "looks good", "correct",
           "do it", "sure", "yes please", "please do", "lgtm"}
KEEP = {"keep", "keep it", "ok", "okay", "yes", "y", "fine", "sounds good", "agree", "correct",
        "right", "thats right", "good", "yes please", "sure", "accept"}
# One phrase per command in what we say ("start over"); these are what people may type.
COMMANDS = {
    "cancel": "cancel", "stop": "cancel", "quit": "cancel", "abort": "cancel",
    "never mind": "cancel", "nevermind": "cancel", "forget it": "cancel",
    "back": "back", "go back": "back", "previous": "back", "undo": "back",
    "help": "help", "?": "help", "what can i say": "help", "what do i do": "help",
    "start over": "restart", "restart": "restart", "start again": "restart", "reset": "restart",
}
OPENERS = {"hi", "hello", "hey", "support", "new case", "new", "help me", "case", "open a case",
           "file a case", "new ticket", "ticket", "start", "hej", "hola"}
EXPLAIN = {"why", "explain", "how", "how so", "details", "show me"}


def norm(text: str) -> str:
    """Lower case, apostrophes dropped, punctuation to spaces, single spaces."""
    text = text.lower().replace("’", "'").replace("'", "")
    return " ".join(re.sub(r"[^a-z0-9?]+", " ", text).split())


def command_of(text: str | None, choice: str | None) -> str | None:
    if choice:
        try:
            pressed = parse_choice(choice)
        except ChoiceIdError:
            return None
        return pressed.value if pressed.is_nav else None
    if text:
        return COMMANDS.get(norm(text).rstrip("?").strip() or "?")
    return None


def is_opener(text: str) -> bool:
    return norm(text) in OPENERS


def pick(choices: tuple[Choice, ...], text: str) -> Choice | None:
    """A choice by id, by label, by number ("2"), or by a label's distinctive word."""
    key = norm(text)
    if not key:
        return None
    for choice in choices:
        if key in {norm(choice.id), norm(choice.label)}:
            return choice
    if key.isdigit() and 1 <= int(key) <= len(choices):
        return choices[int(key) - 1]
    hits = [c for c in choices if re.search(rf"\b{re.escape(key)}\b", norm(c.label))]
    if len(hits) == 1:
        return hits[0]
    words = set(key.split())
    hits = [c for c in choices if norm(c.label) and set(norm(c.label).split()) <= words]
    return hits[0] if len(hits) == 1 else None


_PRIORITY_FILLER = {"its", "it", "is", "a", "an", "the", "priority", "severity", "sev", "level",
                    "this", "thats", "that", "i", "think", "would", "say", "id", "please", "make",
                    "set", "to", "as", "treat", "call", "very", "quite", "pretty", "be", "should",
                    "ticket", "case", "incident"}


def parse_priority(pack: Pack, text: str) -> str | None:
    """"P1", "it's high", "Severity 2", "critical please" → the pack's priority, or None."""
    key = norm(text)
    if not key:
        return None
    try:
        return pack.priority(key)
    except PolicyError:
        pass
    words = [w for w in key.split() if w not in _PRIORITY_FILLER]
    candidates = [" ".join(words)] + [" ".join(p) for p in itertools.pairwise(words)]
    if len(words) <= 3:
        candidates += words
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return pack.priority(candidate)
        except PolicyError:
            continue
    return None


def yes_no(text: str) -> str | None:
    """"yes, prod" → yes; "no, only me" → no; None when it is neither."""
    key = norm(text)
    if key in YES or key.startswith(("yes ", "yeah ", "yep ", "ja ")):
        return "yes"
    if key in NO or key.startswith(("no ", "nope ", "not ", "nej ")):
        return "no"
    return None
