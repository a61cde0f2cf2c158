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
(`bold`, our ``<at>`` mentions), and a disguised link ``[Verify your account](https://…)``, an
image, a heading, ``**`` or ``<at>`` arrives as the characters typed. The escapes are
CommonMark's backslashes, and the one between a link's ``]`` and ``(`` also keeps a client that
ignores backslash escapes (Teams mobile has) from seeing a link. Titles, labels and buttons are
plain text in Teams (`plain`). Bidirectional controls are removed from all of it
(adapters/safe_text.py). These small functions are what any new layout uses for text.

Read at a glance in Teams' chat column (about 450 px): a case card is a compact header (id and
title, wrapped; a coloured priority badge; the status), one next-due line coloured by urgency
with "Why?" beside it (an ``Action.ToggleVisibility`` unfolding the clock table and each due's
arithmetic), and its buttons: at most `VISIBLE_BUTTONS` in sight, the rest behind "More…" (an
``Action.ShowCard``). Buttons are laid out in rows that fit the column, by an estimate of each
label's width, so no label is cut ("Ackn…", "R…"); tests/test_card_rendering.py measures it
with Microsoft's renderer.
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
    VISIBLE_BUTTONS,
    ArticleLink,
    CaseCard,
    Choice,
    ClockLine,
    Form,
    FormField,
    NextDue,
    PlanMember,
    Reply,
    ResponsePlan,
    Tone,
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
# A row of buttons must fit Teams' chat column: 450 px less the card's 16 px padding each side,
# less a little kept spare. Labels are measured by an estimate of their width at Teams' 14 px
# button font (`_label_px`, on the wide side), plus each button's padding and border.
ROW_PX = 400
BUTTON_CHROME_PX = 24
BUTTON_GAP_PX = 8
MORE_LABEL = "More…"
WHY_LABEL = "Why?"
BUTTON_TITLE_MAX = 60
CHOICES_MAX = 100
SUMMARY_MAX = 300
FALLBACK_MAX = 2000
INPUT_MAX_LENGTH = 4000
FORM_LABEL = "Fill in the form"
SHORTENED_NOTE = "_Shortened to fit in Teams: some lines or buttons are not shown._"
# What CommonMark (and the Adaptive Cards subset of it) could read as markup anywhere in a
# line: emphasis, code, links and images, autolinks and HTML, entities, escapes themselves.
_MARKUP = re.compile(r"[\\`*_~\[\]<>&]")
# ... and at the start of a line: a heading. (List markers are left to `_text_blocks`.)
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


_NUMBERED = re.compile(r"^(\d+)\. ")


def _text_blocks(text: str, line_max: int, max_lines: int | None = None) -> list[Element]:
    """One TextBlock per line (a blank line becomes a larger gap), each `escape_markdown`.
    Our numbered lines ("1. Incident — …") stay lines as written: as a markdown list they
    would be indented past the card's edge (measured with Microsoft's renderer)."""
    blocks: list[Element] = []
    gap = False
    for line in text.strip().split("\n"):
        if not line.strip():
            gap = True
            continue
        if max_lines is not None and len(blocks) >= max_lines:
            break
        shown = _NUMBERED.sub(r"\1\\. ", escape_markdown(clip(line.rstrip(), line_max)))
        block: Element = {"type": "TextBlock", "text": shown, "wrap": True}
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
                   primary=choice.primary or is_primary(choice.id))


def _label_px(title: str) -> float:
    """A label's width at Teams' 14 px button font, estimated on the wide side (capitals and
    digits wider than lower case, spaces narrower)."""
    width = 0.0
    for ch in title:
        if ch.isupper() or ch.isdigit() or ch in "mwMW@%&":
            width += 10.5
        elif ch in " .,:;'’!|ilI":
            width += 4.8
        else:
            width += 8.6
    return width


def _button_px(action: Element) -> float:
    return _label_px(str(action.get("title", ""))) + BUTTON_CHROME_PX


def _fits(row: Sequence[Element]) -> bool:
    return sum(_button_px(a) for a in row) + BUTTON_GAP_PX * (len(row) - 1) <= ROW_PX


def _rows(actions: Sequence[Element | None]) -> list[Element]:
    """Buttons in rows (one ActionSet each) of at most `VISIBLE_BUTTONS` that fit the column."""
    rows: list[list[Element]] = []
    for action in (a for a in actions if a is not None):
        if rows and len(rows[-1]) < VISIBLE_BUTTONS and _fits([*rows[-1], action]):
            rows[-1].append(action)
        else:
            rows.append([action])
    return [{"type": "ActionSet", "actions": row} for row in rows]


def _menu(actions: Sequence[Element | None]) -> list[Element]:
    """Things to do: one row of at most `VISIBLE_BUTTONS` buttons, the first ones that fit;
    the rest behind "More…" (a show-card with them in rows)."""
    usable = [a for a in actions if a is not None]
    if not usable:
        return []
    if len(usable) <= VISIBLE_BUTTONS and _fits(usable):
        return [{"type": "ActionSet", "actions": usable}]
    more: Element = {"type": "Action.ShowCard", "title": MORE_LABEL,
                     "card": {"type": "AdaptiveCard", "body": []}}
    shown: list[Element] = []
    for action in usable:
        if len(shown) < VISIBLE_BUTTONS - 1 and _fits([*shown, action, more]):
            shown.append(action)
        else:
            break
    rest = usable[len(shown):]
    more["card"]["body"] = _rows(rest)
    return [{"type": "ActionSet", "actions": [*shown, more]}]


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
    """(the inputs, the submit action) of a form, at a level of detail (see `_attempt`): the
    intro naming what it is about on top, and the fields asked only by choice
    (`FormField.reveal`) folded under their sentence until it is clicked."""
    visible, hidden = _usable_fields(form)
    inputs: list[Element] = []
    if form.intro.strip():
        inputs.append({"type": "TextBlock", "wrap": True, "weight": "Bolder",
                       "text": escape_markdown(clip(plain(form.intro), SHORT_LINE_MAX))})
    folded: dict[str, list[Element]] = {}
    for f in visible:
        if f.reveal:
            folded.setdefault(f.reveal, []).extend(_input(f, level))
        else:
            inputs += _input(f, level)
    for n, (sentence, group) in enumerate(folded.items()):
        target = f"{form.id}-reveal-{n}"
        inputs.append(_toggle(f"▸ {sentence}", target))
        inputs.append({"type": "Container", "id": target, "isVisible": False, "items": group})
    try:
        target_data = SubmitData(form=form.id)
    except ValidationError:
        log.warning("form id %r cannot travel in a Teams card", form.id[:80])
        target_data = SubmitData(form="form")
    data = submit_data(target_data, {**(extra_hidden or {}), **hidden})
    return inputs, _submit(form.submit_label or "Submit", data, primary=True)


def _toggle(text: str, target: str) -> Element:
    """A line that shows or hides the element `target` when clicked (its words wrap, so
    it is never cut like a button label would be)."""
    return {"type": "Container", "spacing": "Small", "selectAction": {
        "type": "Action.ToggleVisibility", "title": plain(text), "targetElements": [target]},
        "items": [{"type": "TextBlock", "text": escape_markdown(clip(plain(text), SHORT_LINE_MAX)),
                   "wrap": True, "color": "Accent", "weight": "Bolder", "size": "Small"}]}


# ---- case cards ------------------------------------------------------------------------------

# The badge's colour per priority tone (container styles Teams renders).
_BADGE_STYLE: dict[Tone, str] = {"critical": "attention", "high": "warning",
                                 "normal": "accent", "low": "default", "": "default"}
# The next-due line's mark and colour by urgency: missed red, under a quarter left amber, fine
# green (the mark carries amber and green: Teams' warning and good text colours are too pale
# to read on a card).
_DUE_MARK = {"breached": "🔴", "due_soon": "🟠", "": "🟢"}
_DUE_COLOR = {"breached": "Attention", "due_soon": "Default", "": "Default"}


def _clock_line(clock: ClockLine, line_max: int) -> str:
    """A clock as markdown: its label in bold, its words escaped."""
    return f"{bold(clock.label or 'Clock')}: {escape_markdown(clip(clock_words(clock), line_max))}"


def _badge_row(priority: str | None, tone: Tone, status: str | None, rest: str) -> Element:
    """The priority as a coloured badge, the status, then the rest in small grey words."""
    columns: list[Element] = []
    if priority:
        columns.append({"type": "Column", "width": "auto", "style": _BADGE_STYLE[tone],
                        "verticalContentAlignment": "Center", "items": [{
                            "type": "TextBlock", "text": escape_markdown(clip(plain(priority), 60)),
                            "weight": "Bolder", "size": "Small", "wrap": True}]})
    if status:
        columns.append({"type": "Column", "width": "auto", "verticalContentAlignment": "Center",
                        "items": [{"type": "TextBlock",
                                   "text": escape_markdown(clip(plain(status), 60)),
                                   "weight": "Bolder", "size": "Small", "wrap": True}]})
    if rest:
        columns.append({"type": "Column", "width": "stretch",
                        "verticalContentAlignment": "Center",
                        "items": [{"type": "TextBlock",
                                   "text": escape_markdown(clip(plain(rest), SHORT_LINE_MAX)),
                                   "isSubtle": True, "size": "Small", "wrap": True}]})
    return {"type": "ColumnSet", "spacing": "Small", "columns": columns}


def _due_row(due: NextDue | None, why: str | None) -> Element | None:
    """The one next-due line, coloured by urgency, with "Why?" beside it when there is
    something to unfold (`why`: the id of the folded details)."""
    if due is None and why is None:
        return None
    text = f"{_DUE_MARK[due.urgency]} {due.text}" if due else "No clock running"
    columns: list[Element] = [{"type": "Column", "width": "stretch", "items": [{
        "type": "TextBlock", "text": escape_markdown(clip(plain(text), SHORT_LINE_MAX)),
        "wrap": True,
        "weight": "Bolder", "color": _DUE_COLOR[due.urgency] if due else "Default"}]}]
    if why is not None:
        columns.append({"type": "Column", "width": "auto", "selectAction": {
            "type": "Action.ToggleVisibility", "title": WHY_LABEL, "targetElements": [why]},
            "items": [{"type": "TextBlock", "text": f"{WHY_LABEL} ▾", "color": "Accent",
                       "weight": "Bolder", "wrap": False}]})
    return {"type": "ColumnSet", "spacing": "Small", "columns": columns}


def _case_container(card: CaseCard, line_max: int, detailed: bool) -> Element:
    """The case at a glance: id and title; the priority badge, status and who; the next due
    (and "Why?"); flags the due line doesn't say; other facts in one line. The clock table and
    each due's arithmetic stay folded until "Why?" is clicked."""
    items: list[Element] = [{"type": "TextBlock", "text": escape_markdown(clip(plain(
        f"{card.case_id} · {card.title}"), 300)), "weight": "Bolder", "size": "Medium",
        "wrap": True}]
    deployment = dict(card.facts).get("Deployment") or card.environment
    who = card.assignee or "Unassigned"
    rest = " · ".join(x for x in (card.customer, card.case_type, deployment, who) if x)
    items.append(_badge_row(card.priority, card.priority_tone, card.status.capitalize(), rest))
    why = f"why-{card.case_id}" if card.clocks else None
    due = _due_row(card.next_due, why)
    if due is not None:
        items.append(due)
    flags = card.other_flags
    if flags:  # escalation, consulting, another clock missed: in sight
        loud = card.urgency in {"breached", "escalated"}
        items.append({"type": "TextBlock", "text": escape_markdown(clip(plain(
                          ("" if loud else "⚠️ ") + " · ".join(flags)), 300)),
                      "wrap": True, "weight": "Bolder", "spacing": "Small",
                      "color": "Attention" if loud else "Default"})
    facts = [f"{k}: {v}" for k, v in card.facts if k != "Deployment" and (k or v)]
    if facts:
        items.append(_subtle(" · ".join(facts), line_max))
    if why is not None:
        details: list[Element] = [{"type": "TextBlock", "text": "How each due is worked out",
                                   "weight": "Bolder", "size": "Small", "wrap": True}]
        for clock in card.clocks:
            mark = f"{_DUE_MARK[clock.urgency]} " if clock.urgency else ""
            block: Element = {"type": "TextBlock", "text": mark + _clock_line(clock, line_max),
                              "wrap": True, "spacing": "Small"}
            if clock.urgency == "breached":
                block["color"] = "Attention"
            details.append(block)
            if detailed and clock.explanation.strip():
                details.append(_subtle(clock.explanation.strip(), line_max))
        items.append({"type": "Container", "id": why, "isVisible": False,
                      "separator": True, "items": details})
    if card.articles:  # the documentation found for the case: folded, one line says so
        folded = f"articles-{card.case_id}"
        count = len(card.articles)
        items.append(_toggle(f"📄 {count} article{'s' if count != 1 else ''} for this case ▾",
                             folded))
        items.append({"type": "Container", "id": folded, "isVisible": False,
                      "items": [_articles_container(card.articles, line_max)]})
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
            parts += _rows([_choice_action(article.action)])
        items.append({"type": "Container", "separator": bool(items), "spacing": "Small",
                      "items": parts})
    return {"type": "Container", "items": items}


# ---- the response plan (war-room post) -------------------------------------------------------


def _members_line(team: Sequence[PlanMember], mentions: Sequence[Mention]) -> str:
    """The war team once, by role; a member Teams can notify is an ``<at>`` mention."""
    tagged = {m.name: mention_tag(m) for m in mentions}
    groups: dict[str, list[str]] = {}
    for member in team:
        groups.setdefault(member.role, []).append(
            tagged.get(member.name, escape_markdown(plain(member.name))))
    return "War team — " + " · ".join(f"{escape_markdown(role)}s: {', '.join(names)}"
                                       for role, names in groups.items())


def _plan_container(plan: ResponsePlan, line_max: int,
                    mentions: Sequence[Mention] = ()) -> Element:
    """The war-room post: the case (id, title, priority badge, the missed due), the team
    (mentioned), then one container per item — ☑ with what, who and when, or ☐ open — with
    its one button, then the clause."""
    items: list[Element] = [{"type": "TextBlock", "text": escape_markdown(clip(plain(
        f"🚨 War team · {plan.case_id} · {plan.case_title}" if plan.case_title
        else f"🚨 War team · {plan.case_id}"), 300)), "weight": "Bolder", "size": "Medium",
        "wrap": True}]
    if plan.priority or plan.customer:
        items.append(_badge_row(plan.priority, plan.priority_tone, None, plan.customer))
    due = _due_row(plan.next_due, None)
    if due is not None:
        items.append(due)
    if plan.members:
        items.append({"type": "TextBlock", "text": _members_line(plan.members, mentions),
                      "wrap": True, "spacing": "Small"})
    items.append({"type": "TextBlock", "text": escape_markdown(clip(plain(plan.title), 300)),
                  "weight": "Bolder", "wrap": True, "spacing": "Medium"})
    for item in plan.items:
        head = clip(f"{item.number}. {plain(item.label)}", 300)
        parts: list[Element] = [{"type": "TextBlock", "wrap": True,
                                 "text": f"{'☑' if item.done else '☐'} {bold(head)}"}]
        if item.done:
            parts.append({"type": "TextBlock",
                          "text": escape_markdown(clip(item.value or "", line_max)),
                          "wrap": True, "spacing": "Small"})
            parts.append(_subtle(" · ".join(x for x in (item.by, item.at) if x), 300))
        elif item.hint:  # open: its button says so; the policy's suggestion, if any
            parts.append(_subtle(item.hint, 300))
        if item.action is not None:
            parts += _rows([_choice_action(item.action)])
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
    """The buttons as body elements: case actions and things to do in one row with "More…";
    a question's answers all in sight, in rows; then the form and navigation."""
    controls = _menu([_choice_action(a) for a in reply.actions])
    main = [c for c in reply.choices if not is_nav(c.id)]
    nav = [c for c in reply.choices if is_nav(c.id)]
    if level >= 3:
        main = main[:30]
    if reply.choice_kind == "actions":
        controls += _menu([_choice_action(c) for c in main])
    else:
        if level == 0:
            controls += [_subtle("", 0, markdown=f"{bold(plain(c.label) or c.id)} — "
                                                   f"{escape_markdown(clip(c.explanation, 300))}")
                         for c in main if c.explanation.strip()
                         and c.explanation not in reply.text]
        controls += _rows([_choice_action(c) for c in main])
    tail: list[Element | None] = []
    if reply.form is not None:
        inputs, submit = _form_parts(reply.form, level)
        tail.append({"type": "Action.ShowCard", "title": reply.form.open_label or FORM_LABEL,
                     "card": {"type": "AdaptiveCard",
                              "body": inputs or _text_blocks(reply.form.title, 300),
                              "actions": [submit]}})
    tail += [_choice_action(c) for c in nav]
    return controls + _rows(tail)


def _attempt(reply: Reply, level: int, mentions: Sequence[Mention] = ()) -> dict[str, Any]:
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
        body.append(_plan_container(reply.plan, line_max if level <= 1 else SHORT_LINE_MAX,
                                    mentions))
    if level >= 2:
        body.append(_subtle("", 0, markdown=SHORTENED_NOTE))
    if inline_form and reply.form is not None:
        inputs, submit = _form_parts(reply.form, level)
        if reply.form.title.strip() and reply.form.title.strip() not in text \
                and not reply.form.intro.strip():
            body.insert(0, {"type": "TextBlock",
                            "text": escape_markdown(clip(plain(reply.form.title), 300)),
                            "weight": "Bolder", "wrap": True})
        return _card(body + inputs + _rows([submit]), fallback)
    return _card(body + _controls(reply, level), fallback)


def render_card(reply: Reply, mentions: Sequence[Mention] = ()) -> dict[str, Any]:
    """A Reply as an Adaptive Card's content, within Teams' size limit. `mentions` name the
    war team on a war-room post (the caller adds their entities)."""
    card: dict[str, Any] = {}
    for level in range(4):
        card = _attempt(reply, level, mentions)
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


def mention_tag(mention: Mention) -> str:
    """Our ``<at>`` mention of someone (the one markup in a TextBlock that is not escaped):
    their name without angle brackets."""
    return f"<at>{clip(_MENTION_NAME.sub('', plain(mention.name)), 100)}</at>"


def attachment(card: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": CONTENT_TYPE, "content": card}


def is_plain(reply: Reply) -> bool:
    """A reply of one line and nothing else goes as a text message."""
    return not (reply.choices or reply.actions or reply.card or reply.form or reply.plan
                or reply.articles) \
        and "\n" not in reply.text.strip()


def render_activity(reply: Reply, mentions: Sequence[Mention] = ()) -> dict[str, Any]:
    """A Reply as the message activity to post: text, or a card with its text summary.
    `mentions` are @mentioned (Teams notifies them): a war-room post names them in its war
    team, anything else in front of the text."""
    tags = [mention_tag(m) for m in mentions]
    entities = [{"type": "mention", "text": tag, "mentioned": {"id": m.user_id, "name": m.name}}
                for tag, m in zip(tags, mentions, strict=True)]
    prefix = " ".join(tags)
    if is_plain(reply):
        text = escape_markdown(clip(reply.text.strip(), 20_000)) or "…"
        activity: dict[str, Any] = {"type": "message", "textFormat": "markdown",
                                    "text": f"{prefix} {text}" if prefix else text}
    else:
        team = {m.name for m in reply.plan.members} if reply.plan is not None else set()
        named = [m for m in mentions if m.name in team]  # named in the war team's line
        card = render_card(reply, named)
        others = " ".join(tag for tag, m in zip(tags, mentions, strict=True) if m not in named)
        if others:
            card["body"].insert(0, {"type": "TextBlock", "text": others, "wrap": True})
        if entities:
            card["msteams"]["entities"] = entities
        activity = {"type": "message", "summary": clip(fallback_text(reply), SUMMARY_MAX),
                    "attachments": [attachment(card)]}
        return activity
    if entities:
        activity["entities"] = entities
    return activity
