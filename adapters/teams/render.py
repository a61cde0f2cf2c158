"""`Reply` → Adaptive Card (pure): messages, case cards and one-card forms for Teams.

Nothing here decides what a person may do or see: it shows the `Reply` it is given, within
Teams' limits. Every button is an ``Action.Submit`` carrying the neutral choice id (see
`adapters.teams.actions`), never ``Action.Execute``: botbuilder 4.17.1 answers invokes that
return a body with a 500. A form becomes inputs in one card (``Input.ChoiceSet`` /
``Input.Text``, ids = field ids, hidden fields in the submit ``data``) — inline when it is the
whole reply, behind an ``Action.ShowCard`` when the reply also offers buttons.

Teams refuses a message over about 28 KB; a card that would pass `CARD_BYTES_MAX` is shortened
step by step (long lines cut, explanations dropped, then content cut) and says so — it never
fails and always keeps its buttons. The plain-text fallback (notifications, screen readers,
clients without cards) is the reply's text, in the card's ``fallbackText`` and the activity's
``summary``. A reply that is one plain line is sent as a text message, not a card.

Text is CommonMark as Adaptive Cards render it; a single newline would be a soft break there,
so each line of our text is its own TextBlock. Safe rendering: a reply's text, and every
TextBlock and FactSet (and a plain message, sent as markdown), may hold what a customer typed,
so it is escaped (`escape_markdown`): the only markup is what this module adds around it
(`bold`), and a disguised link ``[Verify your account](https://…)``, an image, a heading,
``**`` or ``<at>`` arrives as the characters typed. The escapes are CommonMark's
backslashes, and the one between a link's ``]`` and ``(`` also keeps a client that ignores
backslash escapes (Teams mobile has) from seeing a link. Titles, labels and buttons are
plain text in Teams (`plain`). Bidirectional controls are removed from all of it
(adapters/safe_text.py). These small functions are what any new layout uses for text.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from adapters.safe_text import strip_bidi_controls
from adapters.teams.actions import RESERVED, ActionStyle, SubmitData, submit_data
from bot.choice_ids import is_nav, is_primary
from bot.messages import (
    ArticleLink,
    CaseCard,
    Choice,
    ClockLine,
    Form,
    FormField,
    Reply,
    ResponsePlan,
)
from bot.sla_view import clock_words

log = logging.getLogger(__name__)

Element = dict[str, Any]

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.5"  # what Teams renders on desktop, web and mobile
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
# Teams refuses messages over ~28 KB; leave room for the activity around the card.
CARD_BYTES_MAX = 24_000
TEXT_LINE_MAX = 2000
SHORT_LINE_MAX = 400
ACTIONS_PER_SET = 5  # Teams shows at most 6 actions in a set; keep a row readable
BUTTON_TITLE_MAX = 60
CHOICES_MAX = 100
SUMMARY_MAX = 300
FALLBACK_MAX = 2000
INPUT_MAX_LENGTH = 4000
OPEN_FORM_LABEL = "Fill in one form"
SHORTENED_NOTE = "_Shortened to fit in Teams: some lines or buttons are not shown._"
# What CommonMark (and the Adaptive Cards subset of it) could read as markup anywhere in a
# line: emphasis, code, links and images, autolinks and HTML, entities, escapes themselves.
_MARKUP = re.compile(r"[\\`*_~\[\]<>&]")
# ... and at the start of a line: a heading. (List markers are left: a list shows the same
# words, and our own numbered options read best as they are.)
_HEADING = re.compile(r"(?m)^([ \t]*)(#)")
_MENTION_NAME = re.compile(r"[<>]")
@dataclass(frozen=True, slots=True)
class Mention:
    """Someone to @mention in a post: their Teams user id and the name shown."""

    user_id: str
    name: str


# ---- text ------------------------------------------------------------------------------------


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with "…" when longer."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + "…"


def plain(text: str) -> str:
    """Our text for what Teams shows as plain text (button titles, input labels, choices,
    the notification summary): without the ``**`` bold markers or bidi controls."""
    return strip_bidi_controls(text).replace("**", "")


def escape_markdown(text: str) -> str:
    """Text for markdown (a TextBlock, a fact) shown as typed: every character CommonMark
    could read as markup backslash-escaped, as is the ``(`` after a ``]`` (so no client sees
    a link, escapes or not) and a line's leading ``#`` (a heading); bidi controls removed."""
    escaped = _MARKUP.sub(r"\\\g<0>", strip_bidi_controls(text)).replace("](", "]\\(")
    return _HEADING.sub(r"\g<1>\\\g<2>", escaped)


def bold(text: str) -> str:
    """`text` escaped, in bold: the markup this module adds (labels, plan items)."""
    return f"**{escape_markdown(text)}**" if text else ""


def fallback_text(reply: Reply) -> str:
    """The reply as plain text, for notifications and clients that cannot show cards."""
    return clip(plain(reply.summary()), FALLBACK_MAX) or "…"


def _text_blocks(text: str, line_max: int, max_lines: int | None = None) -> list[Element]:
    """One TextBlock per line (a blank line becomes a larger gap), each `escape_markdown`."""
    blocks: list[Element] = []
    gap = False
    for line in text.strip().split("\n"):
        if not line.strip():
            gap = True
            continue
        if max_lines is not None and len(blocks) >= max_lines:
            break
        block: Element = {"type": "TextBlock",
                          "text": escape_markdown(clip(line.rstrip(), line_max)), "wrap": True}
        if blocks:
            block["spacing"] = "Medium" if gap else "None"
        blocks.append(block)
        gap = False
    return blocks


def _subtle(text: str, line_max: int, *, markdown: str | None = None) -> Element:
    """Small grey text: `text` escaped (or `markdown`, already markdown this module made)."""
    shown = markdown if markdown is not None else escape_markdown(clip(text, line_max))
    return {"type": "TextBlock", "text": shown, "wrap": True, "isSubtle": True,
            "size": "Small", "spacing": "Small"}


# ---- buttons ---------------------------------------------------------------------------------


def _submit(title: str, data: dict[str, Any], primary: bool = False) -> Element:
    action: Element = {"type": "Action.Submit", "title": clip(plain(title).strip() or "…",
                                                              BUTTON_TITLE_MAX), "data": data}
    if primary:
        action["style"] = ActionStyle.POSITIVE.value
    return action


def _choice_action(choice: Choice) -> Element | None:
    try:
        target = SubmitData(choice=choice.id)
    except ValidationError:
        log.warning("choice id %r cannot travel in a Teams card; left out", choice.id[:80])
        return None
    return _submit(choice.label or choice.id, submit_data(target),
                   primary=is_primary(choice.id))


def _action_sets(actions: Sequence[Element | None]) -> list[Element]:
    usable = [a for a in actions if a is not None]
    return [{"type": "ActionSet", "actions": usable[i:i + ACTIONS_PER_SET]}
            for i in range(0, len(usable), ACTIONS_PER_SET)]


# ---- forms -----------------------------------------------------------------------------------


def _usable_fields(form: Form) -> tuple[list[FormField], dict[str, str]]:
    """(visible fields, hidden values): ids must be distinct and not one of ours."""
    seen: set[str] = set()
    visible: list[FormField] = []
    hidden: dict[str, str] = {}
    for f in form.fields:
        if not f.id or f.id in RESERVED or f.id in seen:
            log.warning("form field id %r cannot be a Teams input id; left out", f.id[:80])
            continue
        seen.add(f.id)
        if f.kind == "hidden":
            hidden[f.id] = f.value or ""
        else:
            visible.append(f)
    return visible, hidden


def _input(f: FormField, level: int) -> list[Element]:
    label = clip(plain(f.label or f.id), 300 if level < 2 else 100)
    element: Element
    if f.kind == "choice" and f.choices:
        unique = list({c.id: c for c in f.choices if c.id}.values())
        most = CHOICES_MAX >> level  # 100, 50, 25, 12 options as the card must shrink
        if len(unique) > most:
            chosen = [c for c in unique if c.id == f.value]
            unique = [c for c in unique if c.id != f.value][: most - len(chosen)] + chosen
        title_max = 150 if level == 0 else 60
        element = {"type": "Input.ChoiceSet", "id": f.id, "label": label, "style": "compact",
                   "isRequired": f.required, "placeholder": "Choose…",
                   "choices": [{"title": clip(plain(c.label or c.id), title_max),
                                "value": c.id} for c in unique]}
        if f.value and any(c.id == f.value for c in unique):
            element["value"] = f.value
    else:
        element = {"type": "Input.Text", "id": f.id, "label": label, "isRequired": f.required,
                   "maxLength": INPUT_MAX_LENGTH}
        if f.kind == "long_text":
            element["isMultiline"] = True
        if f.value:
            element["value"] = strip_bidi_controls(f.value)[:INPUT_MAX_LENGTH]
    if f.required:
        element["errorMessage"] = f"{label}: required"
    out = [element]
    if level == 0 and f.hint.strip():
        out.append(_subtle(f.hint.strip(), SHORT_LINE_MAX))
    return out


def _form_parts(form: Form, level: int,
                extra_hidden: dict[str, str] | None = None) -> tuple[list[Element], Element]:
    """(the inputs, the submit action) of a form, at a level of detail (see `_attempt`)."""
    visible, hidden = _usable_fields(form)
    inputs: list[Element] = []
    for f in visible:
        inputs += _input(f, level)
    try:
        target = SubmitData(form=form.id)
    except ValidationError:
        log.warning("form id %r cannot travel in a Teams card", form.id[:80])
        target = SubmitData(form="form")
    data = submit_data(target, {**(extra_hidden or {}), **hidden})
    return inputs, _submit(form.submit_label or "Submit", data, primary=True)


# ---- case cards ------------------------------------------------------------------------------


def _clock_line(clock: ClockLine, line_max: int) -> str:
    """A clock as markdown: its label in bold, its words escaped."""
    return f"{bold(clock.label or 'Clock')}: {escape_markdown(clip(clock_words(clock), line_max))}"


def _case_container(card: CaseCard, line_max: int, detailed: bool) -> Element:
    items: list[Element] = [{"type": "TextBlock", "text": escape_markdown(clip(plain(
        f"{card.case_id} · {card.title}"), 300)), "weight": "Bolder", "size": "Medium",
        "wrap": True}]
    summary = [("Customer", card.customer), ("Type", card.case_type),
               ("Priority", card.priority), ("Environment", card.environment),
               ("Status", card.status), ("Assignee", card.assignee or "Unassigned"),
               *card.facts]
    facts = [{"title": escape_markdown(clip(plain(k), 100)),
              "value": escape_markdown(clip(v, line_max))}
             for k, v in summary if v and (k or v)]
    if card.flags:  # urgency and consulting: in sight, above the facts
        items.append({"type": "TextBlock",
                      "text": escape_markdown(clip(plain(" · ".join(card.flags)), 300)),
                      "wrap": True, "weight": "Bolder",
                      "color": "Attention" if card.urgency in {"breached", "escalated"}
                      else "Warning"})
    if facts:
        items.append({"type": "FactSet", "facts": facts})
    for clock in card.clocks:
        block: Element = {"type": "TextBlock", "text": _clock_line(clock, line_max),
                          "wrap": True, "spacing": "Small"}
        if clock.urgency:
            block["color"] = "Attention" if clock.urgency == "breached" else "Warning"
        items.append(block)
        if detailed and clock.explanation.strip():
            items.append(_subtle(clock.explanation.strip(), line_max))
    if card.articles:
        items.append({"type": "TextBlock", "text": "**Articles**", "wrap": True,
                      "spacing": "Medium"})
        items.append(_articles_container(card.articles, line_max))
    return {"type": "Container", "style": "emphasis", "items": items}


# ---- articles of the vendor's documentation ---------------------------------------------------


def _link(url: str | None, label: str) -> str:
    """An article's title (escaped, as typed), linked when it has an http(s) address: the
    one link we write, to the vendor's documentation (never a customer's)."""
    text = escape_markdown(plain(label))
    if url and url.startswith(("http://", "https://")) and not any(c in url for c in " ()<>"):
        return f"[{text}]({url})"
    return text


def _articles_container(articles: Sequence[ArticleLink], line_max: int) -> Element:
    """One container per article: the linked title (and what became of it), the excerpt, and
    on a case card the button that sends it."""
    items: list[Element] = []
    for article in articles:
        head = f"📄 **{_link(article.url, article.title)}**"
        parts: list[Element] = [{"type": "TextBlock", "text": clip(head, 600), "wrap": True}]
        if article.note:
            parts.append(_subtle(article.note, 200))
        if article.excerpt:
            parts.append({"type": "TextBlock", "wrap": True, "spacing": "Small",
                          "text": escape_markdown(clip(article.excerpt, line_max))})
        if article.action is not None:
            parts += _action_sets([_choice_action(article.action)])
        items.append({"type": "Container", "separator": bool(items), "spacing": "Small",
                      "items": parts})
    return {"type": "Container", "items": items}


# ---- the response plan (war-room post) -------------------------------------------------------


def _plan_container(plan: ResponsePlan, line_max: int) -> Element:
    """The plan: one container per item — ☑ with what, who and when, or ☐ open — with its
    fill-in button (an Action.Submit) under it, then the clause."""
    items: list[Element] = [{"type": "TextBlock",
                             "text": escape_markdown(clip(plain(plan.title), 300)),
                             "weight": "Bolder", "size": "Medium", "wrap": True}]
    for item in plan.items:
        head = clip(f"{item.number}. {plain(item.label)}", 300)
        parts: list[Element] = [{"type": "TextBlock", "wrap": True,
                                 "text": f"{'☑' if item.done else '☐'} {bold(head)}"}]
        if item.done:
            parts.append({"type": "TextBlock",
                          "text": escape_markdown(clip(item.value or "", line_max)),
                          "wrap": True, "spacing": "Small"})
            parts.append(_subtle(" · ".join(x for x in (item.by, item.at) if x), 300))
        else:
            parts.append(_subtle("open" + (f" — {item.hint}" if item.hint else ""), 300))
        if item.action is not None:
            parts += _action_sets([_choice_action(item.action)])
        items.append({"type": "Container", "separator": True, "spacing": "Medium",
                      "items": parts})
    if plan.clause:
        items.append(_subtle(plan.clause, SHORT_LINE_MAX))
    return {"type": "Container", "style": "emphasis", "items": items}


# ---- whole cards -----------------------------------------------------------------------------


def _card(body: list[Element], reply_text: str, actions: list[Element] | None = None
          ) -> dict[str, Any]:
    card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": CARD_VERSION,
                            "body": body, "fallbackText": clip(plain(reply_text), FALLBACK_MAX),
                            "msteams": {"width": "Full"}}
    if actions:
        card["actions"] = actions
    return card


def _size(card: dict[str, Any]) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode("utf-8"))


def _controls(reply: Reply, level: int) -> list[Element]:
    """The buttons (case actions, choices, the form, navigation) as body elements."""
    controls = _action_sets([_choice_action(a) for a in reply.actions])
    main = [c for c in reply.choices if not is_nav(c.id)]
    nav = [c for c in reply.choices if is_nav(c.id)]
    if level >= 3:
        main = main[:30]
    if level == 0:
        controls += [_subtle("", 0, markdown=f"{bold(plain(c.label) or c.id)} — "
                                               f"{escape_markdown(clip(c.explanation, 300))}")
                     for c in main if c.explanation.strip() and c.explanation not in reply.text]
    controls += _action_sets([_choice_action(c) for c in main])
    tail: list[Element | None] = []
    if reply.form is not None:
        inputs, submit = _form_parts(reply.form, level)
        title = OPEN_FORM_LABEL if reply.form.id == "intake" else "Fill in the form"
        tail.append({"type": "Action.ShowCard", "title": title, "card": {
            "type": "AdaptiveCard", "body": inputs or _text_blocks(reply.form.title, 300),
            "actions": [submit]}})
    tail += [_choice_action(c) for c in nav]
    return controls + _action_sets(tail)


def _attempt(reply: Reply, level: int) -> dict[str, Any]:
    """The card at a level of detail: 0 everything … 3 the bare minimum with the buttons."""
    detailed = level == 0
    line_max = TEXT_LINE_MAX if level == 0 else SHORT_LINE_MAX
    text = reply.lead()
    fallback = fallback_text(reply)
    inline_form = reply.form is not None and not (reply.choices or reply.actions or reply.card)
    body: list[Element] = []
    if level <= 1:
        body += _text_blocks(text, line_max)
    elif level == 2:
        body += _text_blocks(text, SHORT_LINE_MAX, max_lines=20)
    else:
        body += _text_blocks(clip(text, 1000), SHORT_LINE_MAX, max_lines=8)
    if reply.articles:
        body.append(_articles_container(reply.articles, line_max))
        body += _text_blocks(reply.after_articles(), line_max)
    if reply.card is not None and level <= 2:
        body.append(_case_container(reply.card, line_max, detailed))
    if reply.plan is not None:
        body.append(_plan_container(reply.plan, line_max if level <= 1 else SHORT_LINE_MAX))
    if level >= 2:
        body.append(_subtle("", 0, markdown=SHORTENED_NOTE))
    if inline_form and reply.form is not None:
        inputs, submit = _form_parts(reply.form, level)
        if reply.form.title.strip() and reply.form.title.strip() not in text:
            body.insert(0, {"type": "TextBlock",
                            "text": escape_markdown(clip(plain(reply.form.title), 300)),
                            "weight": "Bolder", "wrap": True})
        return _card(body + inputs + _action_sets([submit]), fallback)
    return _card(body + _controls(reply, level), fallback)


def render_card(reply: Reply) -> dict[str, Any]:
    """A Reply as an Adaptive Card's content, within Teams' size limit."""
    card: dict[str, Any] = {}
    for level in range(4):
        card = _attempt(reply, level)
        if _size(card) <= CARD_BYTES_MAX:
            if level:
                log.info("a Teams card was shortened to fit", extra={"level": level})
            return card
    log.warning("a Teams card is still too large after shortening; sent as text")
    blocks = _text_blocks(clip(fallback_text(reply), 4000), SHORT_LINE_MAX)
    return _card([*blocks, _subtle("", 0, markdown=SHORTENED_NOTE)], fallback_text(reply))


def render_form_card(form: Form, extra_hidden: dict[str, str] | None = None) -> dict[str, Any]:
    """A form as a card of its own (a task module), its title on top, the submit below."""
    title: Element = {"type": "TextBlock", "text": escape_markdown(clip(plain(form.title), 300)),
                      "weight": "Bolder", "size": "Medium", "wrap": True}
    card: dict[str, Any] = {}
    for level in range(4):
        inputs, submit = _form_parts(form, level, extra_hidden)
        card = _card([title, *inputs], form.title, actions=[submit])
        if _size(card) <= CARD_BYTES_MAX:
            break
    return card


def attachment(card: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CONTENT_TYPE, "content": card}


def is_plain(reply: Reply) -> bool:
    """A reply of one line and nothing else goes as a text message."""
    return not (reply.choices or reply.actions or reply.card or reply.form or reply.plan
                or reply.articles) \
        and "\n" not in reply.text.strip()


def render_activity(reply: Reply, mentions: Sequence[Mention] = ()) -> dict[str, Any]:
    """A Reply as the message activity to post: text, or a card with its text summary.
    `mentions` are @mentioned in front of the text (Teams notifies them)."""
    tags = [f"<at>{clip(_MENTION_NAME.sub('', plain(m.name)), 100)}</at>" for m in mentions]
    entities = [{"type": "mention", "text": tag, "mentioned": {"id": m.user_id, "name": m.name}}
                for tag, m in zip(tags, mentions, strict=True)]
    prefix = " ".join(tags)
    if is_plain(reply):
        text = escape_markdown(clip(reply.text.strip(), 20_000)) or "…"
        activity: dict[str, Any] = {"type": "message", "textFormat": "markdown",
                                    "text": f"{prefix} {text}" if prefix else text}
    else:
        card = render_card(reply)
        if tags:
            card["body"].insert(0, {"type": "TextBlock", "text": prefix, "wrap": True})
            card["msteams"]["entities"] = entities
        activity = {"type": "message", "summary": clip(fallback_text(reply), SUMMARY_MAX),
                    "attachments": [attachment(card)]}
        return activity
    if entities:
        activity["entities"] = entities
    return activity
