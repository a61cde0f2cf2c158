"""`Reply` → Block Kit (pure): messages, modals and the App Home.

Nothing here decides what a person may do or see: it shows the `Reply` it is given, within
Slack's limits. Text is cut with "…" rather than rejected, a long text is split over several
sections, buttons over several actions blocks, and a message that would pass Slack's block
limit keeps its buttons and shortens its content, saying so. The `text` fallback (what
notifications, screen readers and old clients show) is the whole reply text, cut to 3,000
characters.

Safe rendering: everything shown may hold what a customer typed, so every mrkdwn text
object is ``verbatim`` (Slack links no URLs or channel names and parses no mentions in it but
the ``<@U…>`` we put there ourselves: a notice's mentions, adapters/slack/notices.py, and a war
team's, `_members`), its text escaped (``&``, ``<``, ``>``: ``<!channel>``, ``<@U…>`` and
``<https://…|label>`` arrive as the characters typed), and our ``**bold**`` becomes Slack's
``*bold*``; plain-text objects (buttons, headers, labels) are shown verbatim by Slack, so they
only lose the ``**`` markers. Bidirectional controls are removed from both
(adapters/safe_text.py). The small functions that do it — `escape`, `to_mrkdwn`, `to_plain`,
`mrkdwn_text` — are what any new layout uses for text.

A case card reads at a glance: a header (id and title), one context line (a coloured priority
mark, the status, customer, type, deployment, assignee), one next-due section (block id
``next-due:<case>``) coloured by urgency with a "Why?" button that answers with the clock
table and each due's arithmetic (only the asker sees it), and the case's buttons — at most
`VISIBLE_BUTTONS` in an actions block, the rest in an overflow menu. A question's answers are
buttons in rows of three (a menu beyond nine). A war-room post mentions the war team.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
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
    VISIBLE_BUTTONS,
    ArticleLink,
    CaseCard,
    Choice,
    Form,
    FormField,
    NextDue,
    PlanMember,
    Reply,
    ResponsePlan,
    Tone,
)

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

OVERFLOW_OPTIONS_MAX = 5
ANSWER_BUTTONS_MAX = 9  # a question with more answers offers them in a menu
FORM_LABEL = "Fill in the form"
MORE_LABEL = "More…"
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
        self._blocks = 0

    def __call__(self, kind: ActionId) -> str:
        action_id = action_id_for(kind, self._next)
        self._next += 1
        return action_id

    def block(self, name: str) -> str:
        """A block id distinct across the message or view: ``next-due:ACME-4:0``."""
        block_id = f"{name}:{self._blocks}"[-BLOCK_ID_MAX:]
        self._blocks += 1
        return block_id


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


def _value(choice: Choice) -> ButtonValue | None:
    try:
        return ButtonValue(choice=choice.id, case=case_id_of(choice.id))
    except ValidationError:
        log.warning("choice id %r cannot travel in a Slack button; left out", choice.id[:80])
        return None


def _choice_button(choice: Choice, kind: ActionId, ids: _Ids) -> Block | None:
    value = _value(choice)
    if value is None:
        return None
    style = "primary" if choice.primary or is_primary(choice.id) else None
    return _button(choice.label or choice.id, value, ids(kind), style)


def _menu_options(choices: Sequence[Choice]) -> list[dict[str, Any]]:
    """Choices as menu options whose value is the button value (≤ 150 characters)."""
    out = []
    for choice in choices:
        value = _value(choice)
        raw = encode_button_value(value) if value is not None else ""
        if not raw or len(raw) > OPTION_VALUE_MAX:
            log.warning("choice id %r is too long for a Slack menu; left out", choice.id[:80])
            continue
        out.append({"text": _plain(choice.label or choice.id, OPTION_TEXT_MAX), "value": raw})
    return out


def _menu_element(choices: Sequence[Choice], kind: ActionId, ids: _Ids) -> Block | None:
    """Choices behind one element: an overflow menu (up to five), else a "More…" select."""
    options = _menu_options(choices)
    if not options:
        return None
    if len(options) <= OVERFLOW_OPTIONS_MAX:
        return {"type": "overflow", "action_id": ids(kind), "options": options}
    return {"type": "static_select", "action_id": ids(kind),
            "placeholder": _plain(MORE_LABEL, PLACEHOLDER_MAX), "options": options[:OPTIONS_MAX]}


def _menu(choices: Sequence[Choice], kind: ActionId, ids: _Ids) -> list[Block]:
    """Things to do: at most `VISIBLE_BUTTONS` buttons in one actions block, the rest in an
    overflow menu beside them."""
    if not choices:
        return []
    shown = list(choices) if len(choices) <= VISIBLE_BUTTONS else \
        list(choices[:VISIBLE_BUTTONS])
    elements = [b for c in shown if (b := _choice_button(c, kind, ids)) is not None]
    more = _menu_element(choices[len(shown):], kind, ids)
    if more is not None:
        elements.append(more)
    return _actions_blocks(elements) if elements else []


def _answers(choices: Sequence[Choice], kind: ActionId, ids: _Ids) -> list[Block]:
    """A question's answers, all in sight: buttons in rows of `VISIBLE_BUTTONS`; beyond
    `ANSWER_BUTTONS_MAX`, menus of up to 100."""
    if len(choices) <= ANSWER_BUTTONS_MAX:
        row = [b for c in choices if (b := _choice_button(c, kind, ids)) is not None]
        return [{"type": "actions", "elements": row[i:i + VISIBLE_BUTTONS]}
                for i in range(0, len(row), VISIBLE_BUTTONS)]
    blocks: list[Block] = []
    for i in range(0, len(choices), OPTIONS_MAX):
        options = _menu_options(choices[i:i + OPTIONS_MAX])
        if options:
            blocks.append({"type": "actions", "elements": [{
                "type": "static_select", "action_id": ids(kind),
                "placeholder": _plain("Choose…", PLACEHOLDER_MAX), "options": options}]})
    return blocks



# ---- messages --------------------------------------------------------------------------------


def render_message(reply: Reply, mentions: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A Reply as ``{"text": fallback, "blocks": [...]}`` for chat.postMessage / respond.
    `mentions` (person id → Slack user id) are the war team a war-room post mentions."""
    content, controls = _reply_blocks(reply, _Ids(), mentions)
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


def _reply_blocks(reply: Reply, ids: _Ids,
                  mentions: Mapping[str, str] | None = None) -> tuple[list[Block], list[Block]]:
    """(content, controls): what to read, and the buttons that must survive any shortening.
    `mentions`: person id → Slack user id, for the war team a war-room post names."""
    content = _sections(reply.lead())
    if reply.articles:
        content += _article_blocks(reply.articles, ids)
        content += _sections(reply.after_articles())
    if reply.card is not None:
        content += _card_blocks(reply.card, ids)
    if reply.plan is not None:
        content += _plan_blocks(reply.plan, ids, mentions or {})

    controls: list[Block] = _menu(reply.actions, ActionId.CASE, ids)
    main = [c for c in reply.choices if not is_nav(c.id)]
    nav = [c for c in reply.choices if is_nav(c.id)]
    if reply.choice_kind == "actions":
        controls += _menu(main, ActionId.CHOICE, ids)
    else:
        # Explanations the text doesn't already give (the intake numbers them in its text).
        untold = [f"*{to_mrkdwn(to_plain(c.label) or c.id)}* — {to_mrkdwn(c.explanation)}"
                  for c in main if c.explanation.strip() and c.explanation not in reply.text]
        controls += _context_blocks(untold)
        controls += _answers(main, ActionId.CHOICE, ids)

    tail: list[Block | None] = []
    if reply.form is not None:
        label = reply.form.open_label or FORM_LABEL
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


_TONE_MARK: dict[Tone, str] = {"critical": "🔴", "high": "🟠", "normal": "🔵", "low": "⚪",
                               "": "⚪"}
_DUE_MARK = {"breached": "🔴", "due_soon": "🟠", "": "🟢"}


def _due_section(due: NextDue | None, block_id: str,
                 why: Block | None = None) -> Block | None:
    """The one next-due line, marked by urgency, with "Why?" beside it."""
    if due is None and why is None:
        return None
    text = f"{_DUE_MARK[due.urgency]} *{escape(due.text)}*" if due else "_No clock running_"
    block: Block = {"type": "section", "block_id": block_id,
                    "text": mrkdwn_text(clip_mrkdwn(text, SECTION_TEXT_MAX))}
    if why is not None:
        block["accessory"] = why
    return block


def _members(team: Sequence[PlanMember], mentions: Mapping[str, str]) -> str:
    """The war team once, by role; whoever Slack can notify is a `<@U…>` mention."""
    groups: dict[str, list[str]] = {}
    for member in team:
        uid = mentions.get(member.person_id)
        groups.setdefault(member.role, []).append(f"<@{uid}>" if uid else escape(member.name))
    return "*War team* — " + " · ".join(f"{escape(role)}s: {', '.join(names)}"
                                        for role, names in groups.items())


def _plan_blocks(plan: ResponsePlan, ids: _Ids, mentions: Mapping[str, str]) -> list[Block]:
    """The war-room post: the case (title, priority, the missed due), the war team
    (mentioned), then one section per item — ☑ with what, who and when, or ☐ open — with its
    one button beside it (the main one while the item is open), then the clause."""
    title = f"🚨 War team · {plan.case_id}" + (f" · {plan.case_title}" if plan.case_title
                                              else "")
    blocks: list[Block] = [_header(title)]
    about = " · ".join(x for x in (f"{_TONE_MARK[plan.priority_tone]} *{escape(plan.priority)}*"
                                   if plan.priority else "", escape(plan.customer)) if x)
    if about:
        blocks += _context_blocks([about])
    due = _due_section(plan.next_due, ids.block(f"war-due:{plan.case_id}"))
    if due is not None:
        blocks.append(due)
    if plan.members:
        blocks.append({"type": "section", "block_id": ids.block(f"war-team:{plan.case_id}"),
                       "text": mrkdwn_text(clip_mrkdwn(_members(plan.members, mentions),
                                               SECTION_TEXT_MAX))})
    blocks.append({"type": "section", "text": mrkdwn_text(f"*{to_mrkdwn(plan.title)}*")})
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
    """The case at a glance: header; one context line (priority mark, status, customer,
    type, deployment, assignee); the next due with "Why?"; flags the due line doesn't say;
    the other facts. The clock table and its arithmetic are what "Why?" answers."""
    blocks: list[Block] = [_header(f"{card.case_id} · {card.title}")]
    deployment = dict(card.facts).get("Deployment") or card.environment
    about = [f"{_TONE_MARK[card.priority_tone]} *{escape(card.priority)}*" if card.priority
             else "", f"*{escape(card.status.capitalize())}*", escape(card.customer),
             escape(card.case_type), escape(deployment or ""),
             escape(card.assignee or "Unassigned")]
    blocks += _context_blocks([" · ".join(x for x in about if x)])
    why = _choice_button(card.explain, ActionId.CASE, ids) if card.explain else None
    due = _due_section(card.next_due, ids.block(f"next-due:{card.case_id}"), why)
    if due is not None:
        blocks.append(due)
    flags = card.other_flags
    if flags:  # urgency and consulting: in sight
        mark = "🔴" if card.urgency == "breached" else "🟠" if card.urgency else "⚠️"
        blocks.append({"type": "section", "text": mrkdwn_text(clip_mrkdwn(
            f"{mark} *{escape(' · '.join(flags))}*", SECTION_TEXT_MAX))})
    facts = [f"*{to_mrkdwn(k)}:* {to_mrkdwn(v)}" for k, v in card.facts
             if k != "Deployment" and (k or v)]
    if facts:
        blocks += _context_blocks([" · ".join(facts)])
    if card.articles:
        blocks += _context_blocks(["*Articles*"]) + _article_blocks(card.articles, ids)
    return blocks


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
    blocks: list[Block] = []
    said: set[str] = set()
    for f in _visible_fields(form.fields):
        if f.reveal and f.reveal not in said:  # no folding in a modal: say who they're for
            said.add(f.reveal)
            blocks += _context_blocks([f"*{to_mrkdwn(f.reveal)}:*"])
        blocks.append(_input_block(f))
    if not [b for b in blocks if b["type"] == "input"]:
        blocks = _sections(form.title or form.id)
    if form.intro.strip():  # what the form is about: the case, its priority and title
        blocks.insert(0, {"type": "section", "text": mrkdwn_text(clip_mrkdwn(
            f"*{to_mrkdwn(form.intro.strip())}*", SECTION_TEXT_MAX))})
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
