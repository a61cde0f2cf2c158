"""`Reply` → Block Kit (pure): messages, modals and the App Home.

Nothing here decides what a person may do or see: it shows the `Reply` it is given, within
Slack's limits. Text is cut with "…" rather than rejected, a long text is split over several
sections, buttons over several actions blocks, and a message that would pass Slack's block
limit keeps its buttons and shortens its content, saying so. The `text` fallback (what
notifications, screen readers and old clients show) is the whole reply text, cut to 3,000
characters.

Safe rendering: everything shown may hold what a customer typed, so every mrkdwn text
object is ``verbatim`` (Slack links no URLs or channel names and parses no mentions in it but
the ``<@U…>`` we put there ourselves, adapters/slack/notices.py), its text escaped
(``&``, ``<``, ``>``: ``<!channel>``, ``<@U…>`` and ``<https://…|label>`` arrive as the
characters typed), and our ``**bold**`` becomes Slack's ``*bold*``; plain-text objects
(buttons, headers, labels) are shown verbatim by Slack, so they only lose the ``**`` markers.
Bidirectional controls are removed from both (adapters/safe_text.py). The small functions
that do it — `escape`, `to_mrkdwn`, `to_plain`, `mrkdwn_text` — are what any new layout
uses for text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from adapters.errors import SlackPayloadError, first_error
from adapters.safe_text import strip_bidi_controls
from adapters.slack.actions import (
    INPUT_ACTION_ID,
    VIEW_CALLBACK_ID,
    ActionId,
    ButtonValue,
    ModalMetadata,
    action_id_for,
    encode_button_value,
    encode_metadata,
)
from bot.choice_ids import case_id_of, is_action_form, is_nav, is_primary
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

Block = dict[str, Any]

# Slack's limits (Block Kit reference; slack_sdk.models validates the same numbers).
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
FALLBACK_TEXT_MAX = 3000  # Slack allows 40,000; notifications show far less
SECTION_TEXT_MAX = 3000
SECTION_FIELDS_MAX = 10
FIELD_TEXT_MAX = 2000
CONTEXT_ELEMENTS_MAX = 10
CONTEXT_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
BUTTON_TEXT_MAX = 75
ACTIONS_PER_BLOCK = 25
OPTIONS_MAX = 100
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
LABEL_MAX = 2000
HINT_MAX = 2000
PLACEHOLDER_MAX = 150
INPUT_MAX_LENGTH = 3000
MODAL_TITLE_MAX = 24
MODAL_BUTTON_MAX = 24
BLOCK_ID_MAX = 255

OPEN_FORM_LABEL = "Fill in one form"
_BOLD = re.compile(r"\*\*(.+?)\*\*")
# ---- text ------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Text for mrkdwn as typed: the three characters Slack's mrkdwn treats as control
    characters escaped (no mention, link or command can be written), bidi controls removed."""
    return strip_bidi_controls(text).replace("&", "&amp;").replace("<", "&lt;") \
        .replace(">", "&gt;")


def to_mrkdwn(text: str) -> str:
    """Our text (plain, with ``**bold**``) as Slack mrkdwn, escaped."""
    return _BOLD.sub(r"*\1*", escape(text))


def to_plain(text: str) -> str:
    """Our text for a plain_text object: Slack shows it verbatim, so only drop ``**`` (and
    bidi controls)."""
    return _BOLD.sub(r"\1", strip_bidi_controls(text))


def mrkdwn_text(mrkdwn: str) -> dict[str, Any]:
    """A mrkdwn text object, ``verbatim``: Slack turns none of what it holds into a link or
    a mention (give it escaped text: `to_mrkdwn`, `escape`)."""
    return {"type": "mrkdwn", "text": mrkdwn, "verbatim": True}


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with "…" when longer."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def clip_mrkdwn(text: str, limit: int) -> str:
    """Like `clip`, but never cuts an ``&amp;`` / ``&lt;`` / ``&gt;`` entity in half."""
    if len(text) <= limit:
        return text
    return text[: _safe_cut(text, limit - 1)].rstrip() + "…"


def split_mrkdwn(text: str, limit: int) -> list[str]:
    """Cut mrkdwn into non-blank chunks of at most `limit` characters, at line ends if possible."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = _safe_cut(line, limit)
            space = line.rfind(" ", max(0, cut - 200), cut)
            if space > 0:
                cut = space
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:cut])
            line = line[cut:].lstrip(" ")
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = line
    chunks.append(current)
    return [chunk for chunk in chunks if chunk.strip()]


def _safe_cut(text: str, at: int) -> int:
    """A cut position ≤ `at` that is not inside an HTML entity (and never 0)."""
    amp = text.rfind("&", max(0, at - 4), at)
    if amp > 0 and ";" not in text[amp:at]:
        return amp
    return max(at, 1)


# ---- elements --------------------------------------------------------------------------------


def _plain(text: str, limit: int, default: str = "…") -> dict[str, Any]:
    shown = clip(to_plain(text).strip(), limit) or default
    return {"type": "plain_text", "text": shown}


def _sections(text: str) -> list[Block]:
    """Our text as one or more mrkdwn sections (none for blank text)."""
    return [{"type": "section", "text": mrkdwn_text(chunk)}
            for chunk in split_mrkdwn(to_mrkdwn(text.strip()), SECTION_TEXT_MAX)]


def _context_blocks(lines: Sequence[str]) -> list[Block]:
    """mrkdwn lines as compact grey context blocks (10 elements of ≤ 3,000 characters each)."""
    elements = [mrkdwn_text(chunk) for chunk in split_mrkdwn("\n".join(lines), CONTEXT_TEXT_MAX)]
    return [{"type": "context", "elements": elements[i:i + CONTEXT_ELEMENTS_MAX]}
            for i in range(0, len(elements), CONTEXT_ELEMENTS_MAX)]


def _header(text: str) -> Block:
    return {"type": "header", "text": _plain(text, HEADER_TEXT_MAX)}


def _actions_blocks(buttons: Sequence[Block]) -> list[Block]:
    return [{"type": "actions", "elements": list(buttons[i:i + ACTIONS_PER_BLOCK])}
            for i in range(0, len(buttons), ACTIONS_PER_BLOCK)]


class _Ids:
    """Hands out action ids that are distinct across one message or view."""

    def __init__(self) -> None:
        self._next = 0

    def __call__(self, kind: ActionId) -> str:
        action_id = action_id_for(kind, self._next)
        self._next += 1
        return action_id


def _button(label: str, value: ButtonValue, action_id: str,
            style: str | None = None) -> Block | None:
    try:
        raw = encode_button_value(value)
    except SlackPayloadError:
        log.warning("a button value is too long for Slack; button %r left out", label[:40])
        return None
    button: Block = {"type": "button", "action_id": action_id,
                     "text": _plain(label, BUTTON_TEXT_MAX), "value": raw}
    if style:
        button["style"] = style
    return button


def _choice_button(choice: Choice, kind: ActionId, ids: _Ids) -> Block | None:
    try:
        value = ButtonValue(choice=choice.id, case=case_id_of(choice.id))
    except ValidationError:
        log.warning("choice id %r cannot travel in a Slack button; left out", choice.id[:80])
        return None
    style = "primary" if is_primary(choice.id) else None
    return _button(choice.label or choice.id, value, ids(kind), style)



# ---- messages --------------------------------------------------------------------------------


def render_message(reply: Reply) -> dict[str, Any]:
    """A Reply as ``{"text": fallback, "blocks": [...]}`` for chat.postMessage / respond."""
    content, controls = _reply_blocks(reply, _Ids())
    text = fallback_text(reply)
    blocks = _fit(content, controls, MESSAGE_BLOCKS_MAX)
    return {"text": text, "blocks": blocks or [{"type": "section", "text": mrkdwn_text(text)}]}


def joined_replies(replies: Sequence[Reply]) -> list[Reply]:
    """Plain words followed by more words for the same reader become one message (a greeting
    and the first question arrive together, not as two notifications). Cards, forms and
    private replies and a case action's form (opened as a modal) stay on their own; so does
    anything that would not fit one message."""
    out: list[Reply] = []
    for reply in replies:
        before = out[-1] if out else None
        if before is not None and _words_only(before) and not reply.private and reply.card is None \
                and reply.plan is None \
                and not (reply.form and is_action_form(reply.form.id)) \
                and reply.text.strip() \
                and len(before.text) + len(reply.text) <= FALLBACK_TEXT_MAX:
            out[-1] = replace(reply, text=f"{before.text.rstrip()}\n\n{reply.text.lstrip()}")
            continue
        out.append(reply)
    return out


def _words_only(reply: Reply) -> bool:
    return not (reply.choices or reply.actions or reply.form or reply.card or reply.plan
                or reply.private) \
        and bool(reply.text.strip())


def fallback_text(reply: Reply) -> str:
    """The notification / accessibility text of a reply: all of it, cut to 3,000 characters."""
    return clip_mrkdwn(to_mrkdwn(reply.summary()), FALLBACK_TEXT_MAX) or "…"


def _reply_blocks(reply: Reply, ids: _Ids) -> tuple[list[Block], list[Block]]:
    """(content, controls): what to read, and the buttons that must survive any shortening."""
    content = _sections(reply.lead())
    if reply.articles:
        content += _article_blocks(reply.articles, ids)
        content += _sections(reply.after_articles())
    if reply.card is not None:
        content += _card_blocks(reply.card, ids)
    if reply.plan is not None:
        content += _plan_blocks(reply.plan, ids)

    controls: list[Block] = []
    case_buttons = [_choice_button(a, ActionId.CASE, ids) for a in reply.actions]
    controls += _actions_blocks([b for b in case_buttons if b is not None])

    main = [c for c in reply.choices if not is_nav(c.id)]
    nav = [c for c in reply.choices if is_nav(c.id)]
    # Explanations the text doesn't already give (the intake numbers them in its text).
    untold = [f"*{to_mrkdwn(to_plain(c.label) or c.id)}* — {to_mrkdwn(c.explanation)}"
              for c in main if c.explanation.strip() and c.explanation not in reply.text]
    controls += _context_blocks(untold)
    main_buttons = [_choice_button(c, ActionId.CHOICE, ids) for c in main]
    controls += _actions_blocks([b for b in main_buttons if b is not None])

    tail: list[Block | None] = []
    if reply.form is not None:
        label = OPEN_FORM_LABEL if reply.form.id == "intake" else "Fill in the form"
        try:
            tail.append(_button(label, ButtonValue(form=reply.form.id),
                                ids(ActionId.OPEN_FORM), "primary"))
        except ValidationError:
            log.warning("form id %r cannot travel in a Slack button; left out",
                        reply.form.id[:80])
    tail += [_choice_button(c, ActionId.CHOICE, ids) for c in nav]
    controls += _actions_blocks([b for b in tail if b is not None])
    return content, controls


def _link(url: str | None, label: str) -> str:
    """An article's title as mrkdwn (escaped, as typed), linked when it has an http(s)
    address: the one link we write, to the vendor's documentation (never a customer's)."""
    text = to_mrkdwn(label)
    if url and url.startswith(("http://", "https://")) and not any(c in url for c in "|<> "):
        return f"<{url.replace('&', '&amp;')}|{text}>"
    return text


def _article_blocks(articles: Sequence[ArticleLink], ids: _Ids) -> list[Block]:
    """One section per article: the linked title, what became of it, its excerpt; a case
    card's send button beside it."""
    blocks: list[Block] = []
    for article in articles:
        head = f"📄 *{_link(article.url, article.title)}*"
        if article.note:
            head += f"  _{escape(article.note)}_"
        text = head + (f"\n{to_mrkdwn(article.excerpt)}" if article.excerpt else "")
        block: Block = {"type": "section",
                        "text": mrkdwn_text(clip_mrkdwn(text, SECTION_TEXT_MAX))}
        button = _choice_button(article.action, ActionId.CASE, ids) if article.action else None
        if button is not None:
            block["accessory"] = button
        blocks.append(block)
    return blocks


def _plan_blocks(plan: ResponsePlan, ids: _Ids) -> list[Block]:
    """The response plan: one section per item — ☑ with what, who and when, or ☐ open — with
    its fill-in button beside it, then the clause."""
    blocks: list[Block] = [{"type": "section", "text": mrkdwn_text(f"*{to_mrkdwn(plan.title)}*")}]
    for item in plan.items:
        head = f"{'☑' if item.done else '☐'} *{item.number}. {to_mrkdwn(item.label)}*"
        if item.done:
            who = " · ".join(escape(x) for x in (item.by, item.at) if x)
            tail = f"\n_{who}_" if who else ""
            body = clip_mrkdwn(to_mrkdwn(item.value or ""), SECTION_TEXT_MAX - len(head)
                               - len(tail) - 2)
            text = f"{head}\n{body}{tail}"
        else:
            text = f"{head}\n_open{' — ' + escape(item.hint) if item.hint else ''}_"
        block: Block = {"type": "section", "block_id": f"plan-{item.number}",
                        "text": mrkdwn_text(clip_mrkdwn(text, SECTION_TEXT_MAX))}
        button = _choice_button(item.action, ActionId.CASE, ids) if item.action else None
        if button is not None:
            block["accessory"] = button
        blocks.append(block)
    if plan.clause:
        blocks += _context_blocks([to_mrkdwn(plan.clause)])
    return blocks


def _fit(content: list[Block], controls: list[Block], limit: int) -> list[Block]:
    """At most `limit` blocks: buttons first, then as much content as fits, and a note."""
    if len(content) + len(controls) <= limit:
        return content + controls
    if len(controls) > limit // 2:
        # Pathological (hundreds of choices): keep the first rows and the last (navigation).
        controls = controls[: max(1, limit // 2 - 1)] + controls[-1:]
    room = limit - len(controls) - 1
    note: Block = {"type": "context", "elements": [
        mrkdwn_text("_Shortened to fit in Slack: some lines or buttons are not shown._")]}
    return [*content[:room], note, *controls]


def _card_blocks(card: CaseCard, ids: _Ids) -> list[Block]:
    blocks: list[Block] = [_header(f"{card.case_id} · {card.title}")]
    summary = [("Customer", card.customer), ("Type", card.case_type),
               ("Priority", card.priority), ("Environment", card.environment),
               ("Status", card.status), ("Assignee", card.assignee or "Unassigned")]
    fields = [_field(label, value) for label, value in summary if value]
    blocks += _field_sections(fields)
    if card.flags:  # urgency and consulting: in sight, above the clocks
        mark = "🔴" if card.urgency == "breached" else "🟠" if card.urgency else "⚠️"
        blocks.append({"type": "section", "text": mrkdwn_text(clip_mrkdwn(
            f"{mark} *{escape(' · '.join(card.flags))}*", SECTION_TEXT_MAX))})
    if card.clocks:
        lines = "\n".join(_clock_line(clock) for clock in card.clocks)
        blocks += [{"type": "section", "text": mrkdwn_text(chunk)}
                   for chunk in split_mrkdwn(lines, SECTION_TEXT_MAX)]
        blocks += _context_blocks([f"{escape(c.label)}: {to_mrkdwn(c.explanation)}"
                                   for c in card.clocks if c.explanation.strip()])
    blocks += _field_sections([_field(k, v) for k, v in card.facts if k or v])
    if card.articles:
        blocks += _context_blocks(["*Articles*"]) + _article_blocks(card.articles, ids)
    return blocks


def _field(label: str, value: str) -> dict[str, Any]:
    return mrkdwn_text(clip_mrkdwn(f"*{to_mrkdwn(label) or '—'}*\n{to_mrkdwn(value)}",
                                   FIELD_TEXT_MAX))


def _field_sections(fields: list[dict[str, Any]]) -> list[Block]:
    return [{"type": "section", "fields": fields[i:i + SECTION_FIELDS_MAX]}
            for i in range(0, len(fields), SECTION_FIELDS_MAX)]


def _clock_line(clock: ClockLine) -> str:
    mark = "🔴 " if clock.urgency == "breached" else "🟠 " if clock.urgency == "due_soon" else ""
    return f"• {mark}*{escape(clock.label) or 'Clock'}*: {escape(clock_words(clock))}"


# ---- App Home --------------------------------------------------------------------------------


def render_home(person_name: str, cards: list[Reply], title: str) -> dict[str, Any]:
    """The App Home tab: a title and the given replies (case cards) in order, ≤ 100 blocks."""
    blocks: list[Block] = [_header(title or "Frontdoor")]
    if person_name.strip():
        blocks += _context_blocks([escape(person_name.strip())])
    ids = _Ids()
    shown = 0
    for reply in cards:
        content, controls = _reply_blocks(reply, ids)
        room = VIEW_BLOCKS_MAX - len(blocks) - 2  # a divider, and the "more" note
        needed = len(content) + len(controls)
        if needed > room and (shown or room < 4):
            break
        blocks += [{"type": "divider"}, *_fit(content, controls, room)]
        shown += 1
    if not cards:
        blocks += _context_blocks(["Nothing to show."])
    elif shown < len(cards):
        blocks += _context_blocks([f"{len(cards) - shown} more not shown here."])
    return {"type": "home", "blocks": blocks}


# ---- modals ----------------------------------------------------------------------------------


def metadata_for(form: Form, channel: str | None, thread: str | None, *,
                 case: str | None = None,
                 extra_hidden: dict[str, str] | None = None) -> ModalMetadata:
    """The metadata a modal of `form` carries: the form id, its hidden fields (``_action``,
    ``_case``), the case id, and the conversation (channel, thread) the answer goes back to."""
    hidden = {**(extra_hidden or {}),
              **{f.id: f.value or "" for f in form.fields if f.kind == "hidden"}}
    try:
        return ModalMetadata(form=form.id, channel=channel, thread=thread,
                             case=hidden.get("_case") or case, hidden=hidden)
    except ValidationError as exc:
        raise SlackPayloadError(f"cannot build the modal metadata of form {form.id[:80]!r}: "
                                f"{first_error(exc)}") from None


def render_modal(form: Form, metadata: ModalMetadata) -> dict[str, Any]:
    """A Form as a Slack modal view (``views.open``); hidden fields travel in the metadata.

    The form id and hidden values in the metadata are taken from `form` (see `metadata_for`),
    so a submission always describes the form that was shown; channel and thread are kept.
    """
    metadata = metadata_for(form, metadata.channel, metadata.thread, case=metadata.case,
                            extra_hidden=metadata.hidden)
    blocks: list[Block] = [_input_block(f) for f in _visible_fields(form.fields)]
    if not blocks:
        blocks = _sections(form.title or form.id)
    return {
        "type": "modal",
        "callback_id": VIEW_CALLBACK_ID,
        "title": _plain(form.title, MODAL_TITLE_MAX, default="Frontdoor"),
        "submit": _plain(form.submit_label, MODAL_BUTTON_MAX, default="Submit"),
        "close": _plain("Cancel", MODAL_BUTTON_MAX),
        "private_metadata": encode_metadata(metadata),
        "blocks": blocks,
    }


def _visible_fields(fields: Sequence[FormField]) -> list[FormField]:
    seen: set[str] = set()
    out: list[FormField] = []
    for f in fields:
        if f.kind == "hidden":
            continue
        if not f.id or len(f.id) > BLOCK_ID_MAX or f.id in seen:
            log.warning("form field id %r cannot be a Slack block id; left out", f.id[:80])
            continue
        seen.add(f.id)
        out.append(f)
    if len(out) > VIEW_BLOCKS_MAX:
        # Keep every required field, then the optional ones in order, as many as fit.
        spare = VIEW_BLOCKS_MAX - sum(f.required for f in out)
        kept: list[FormField] = []
        for f in out:
            if f.required or spare > 0:
                spare -= 0 if f.required else 1
                kept.append(f)
        out = kept[:VIEW_BLOCKS_MAX]
    return out


def _input_block(f: FormField) -> Block:
    options = _options(f) if f.kind == "choice" else []
    block: Block = {
        "type": "input",
        "block_id": f.id,
        "label": _plain(f.label or f.id, LABEL_MAX),
        "optional": not f.required,
        "element": _select(f, options) if options else _text_input(f),
    }
    if f.hint.strip():
        block["hint"] = _plain(f.hint, HINT_MAX)
    if f.refresh and options:
        block["dispatch_action"] = True  # Slack tells us at once, so the form can adapt
    return block


def _option(choice: Choice) -> dict[str, Any]:
    option: dict[str, Any] = {"text": _plain(choice.label or choice.id, OPTION_TEXT_MAX),
                              "value": choice.id}
    if choice.explanation.strip():
        option["description"] = _plain(choice.explanation, OPTION_TEXT_MAX)
    return option


def _options(f: FormField) -> list[dict[str, Any]]:
    usable = [c for c in f.choices if c.id and len(c.id) <= OPTION_VALUE_MAX]
    if len(usable) < len(f.choices):
        log.warning("field %r: %d choice ids are too long for Slack; left out", f.id,
                    len(f.choices) - len(usable))
    unique = list({c.id: c for c in usable}.values())
    if len(unique) > OPTIONS_MAX:
        chosen = [c for c in unique if c.id == f.value]
        unique = [c for c in unique if c.id != f.value][: OPTIONS_MAX - len(chosen)] + chosen
    return [_option(c) for c in unique]


def _select(f: FormField, options: list[dict[str, Any]]) -> Block:
    element: Block = {"type": "static_select", "action_id": INPUT_ACTION_ID,
                      "placeholder": _plain("Choose…", PLACEHOLDER_MAX), "options": options}
    initial = next((o for o in options if f.value and o["value"] == f.value), None)
    if initial is not None:
        element["initial_option"] = initial
    return element


def _text_input(f: FormField) -> Block:
    element: Block = {"type": "plain_text_input", "action_id": INPUT_ACTION_ID,
                      "max_length": INPUT_MAX_LENGTH}
    if f.kind == "long_text":
        element["multiline"] = True
    if f.value:
        element["initial_value"] = strip_bidi_controls(f.value)[:INPUT_MAX_LENGTH]
    return element
