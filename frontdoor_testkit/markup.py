"""What a customer's text becomes once a platform renders it: the checks the safe-rendering
tests share (Teams markdown rendered by a real CommonMark parser, markdown-it; Slack mrkdwn
read for Slack's control sequences)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from markdown_it import MarkdownIt

# What a rendered TextBlock must never contain when it shows what someone typed: a link, an
# image, a heading, raw HTML (a Teams <at> mention among it).
_ACTIVE = re.compile(r"<(a|img|h[1-6]|at|script|iframe)[\s>]", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_LINK = re.compile(r'<a href="([^"]*)"[^>]*>(.*?)</a>', re.DOTALL)
_PARSER = MarkdownIt("commonmark")  # raw HTML on, as permissive as a client can be
_NO_HTML = MarkdownIt("commonmark", {"html": False})


def markdown_html(text: str) -> str:
    """`text` as a CommonMark client renders it, as HTML."""
    return _PARSER.render(text)


def markdown_active(text: str) -> list[str]:
    """The links, images, headings and raw HTML tags `text` renders to (none, if safe)."""
    return [m.group(0) for m in _ACTIVE.finditer(markdown_html(text))]


def markdown_visible(text: str) -> str:
    """The characters a reader sees of `text` rendered (tags removed, entities undone)."""
    return html.unescape(_TAG.sub("", markdown_html(text))).strip()


def disguised(text: str) -> list[str]:
    """What `text`'s markdown renders to that hides where it leads or what it is: a link
    whose words are not its address, an image, a heading. (A bare address shown as a link is
    no disguise; raw HTML is left out here: Adaptive Cards render none.)"""
    rendered = _NO_HTML.render(text)
    found = [m.group(0) for m in _ACTIVE.finditer(rendered) if m.group(1).lower() != "a"]
    for href, words in _LINK.findall(rendered):
        if html.unescape(_TAG.sub("", words)).strip() != unquote(html.unescape(href)):
            found.append(f"<a href={href!r}>{words}</a>")
    return found


def without_escape_support(text: str) -> str:
    """`text` as a client that ignores backslash escapes sees it (Teams mobile has): each
    backslash before punctuation taken as a literal backslash. A link must not form even
    then."""
    return text.replace("\\", "\\\\")


def card_markdown(card: Any) -> Iterator[str]:
    """Every markdown string an Adaptive Card shows: TextBlock texts, fact titles and
    values."""
    if isinstance(card, dict):
        if card.get("type") == "TextBlock" and isinstance(card.get("text"), str):
            yield card["text"]
        if card.get("type") == "FactSet":
            for fact in card.get("facts", []):
                yield fact["title"]
                yield fact["value"]
        for value in card.values():
            yield from card_markdown(value)
    elif isinstance(card, list):
        for value in card:
            yield from card_markdown(value)


def mrkdwn_objects(blocks: Any) -> Iterator[dict[str, Any]]:
    """Every mrkdwn text object in Slack blocks."""
    if isinstance(blocks, dict):
        if blocks.get("type") == "mrkdwn":
            yield blocks
        for value in blocks.values():
            yield from mrkdwn_objects(value)
    elif isinstance(blocks, list):
        for value in blocks:
            yield from mrkdwn_objects(value)


def slack_controls(mrkdwn: str) -> list[str]:
    """Slack's control sequences in mrkdwn — ``<@U…>``, ``<!channel>``, ``<https://…|x>`` —
    which only escaped text is free of."""
    return re.findall(r"<[^<>]*>", mrkdwn)
