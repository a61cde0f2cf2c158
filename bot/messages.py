"""Channel-neutral messages: what a person said (`Inbound`) and what we say back (`Reply`).

Adapters translate platform payloads into `Inbound` and render `Reply` natively (Block Kit,
Adaptive Cards, HTML, terminal text). The handler never sees a Slack or Teams type. Every
rich reply carries `text`, a complete plain-text fallback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Urgency = Literal["breached", "escalated", "due_soon", ""]
# How loud a priority is, from its place on the pack's ladder (bot.case_card.priority_tone):
# platforms colour the badge by it (critical red, high amber, the rest quiet).
Tone = Literal["critical", "high", "normal", "low", ""]
# At most this many buttons of one group in sight; the rest behind "More…" (Teams: a show-card,
# Slack: an overflow menu), so labels stay whole at a chat column's width.
VISIBLE_BUTTONS = 3
Role = Literal["customer_user", "customer_admin", "partner", "engineer", "admin"]
CUSTOMER_ROLES: frozenset[str] = frozenset({"customer_user", "customer_admin"})
VENDOR_ROLES: frozenset[str] = frozenset({"engineer", "admin"})


@dataclass(frozen=True, slots=True)
class Person:
    """Who is speaking, as the deployment file maps them."""

    id: str
    name: str
    role: Role
    customer_id: str | None = None  # the organisation of a customer user or admin
    partner_id: str | None = None
    served_customers: tuple[str, ...] = ()  # a partner's customers

    @property
    def is_vendor(self) -> bool:
        return self.role in VENDOR_ROLES

    def may_see_customer(self, customer_id: str) -> bool:
        if self.is_vendor:
            return True
        if self.role == "partner":
            return customer_id in self.served_customers
        return customer_id == self.customer_id


@dataclass(frozen=True, slots=True)
class Place:
    """Where a message was said: platform, conversation and thread."""

    platform: str
    conversation: str
    thread: str | None = None


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a person did: typed text, picked a choice, or submitted a form."""

    person: Person
    place: Place
    at: datetime
    text: str | None = None
    choice: str | None = None
    form: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    label: str
    explanation: str = ""
    primary: bool = False  # the one next step of its group: platforms style it as the main one


@dataclass(frozen=True, slots=True)
class FormField:
    id: str
    label: str
    kind: Literal["choice", "text", "long_text", "hidden"] = "text"
    choices: tuple[Choice, ...] = ()
    required: bool = True
    hint: str = ""
    value: str | None = None
    refresh: bool = False  # changing it reshapes the form (e.g. case type → priority guidance)
    # Fields with the same `reveal` are asked only if the person chooses to (the sentence is
    # the choice, e.g. "Not sure of the priority? Answer the impact questions"): a platform
    # that can show and hide inputs keeps them folded until then; the others show them.
    reveal: str = ""


@dataclass(frozen=True, slots=True)
class Form:
    id: str
    title: str
    fields: tuple[FormField, ...]
    submit_label: str = "Submit"
    intro: str = ""  # what the form is about, above its fields (a case's id, priority, title)
    open_label: str = ""  # the button that opens it where it isn't shown in the message


@dataclass(frozen=True, slots=True)
class ArticleLink:
    """An article of the vendor's documentation as a reply shows it: its title (a link where
    it has an address), a one-line excerpt, and on a case card the button that sends it to
    the customer."""

    id: str
    title: str
    url: str | None = None  # absolute (http…), or None: shown as a title only
    excerpt: str = ""
    note: str = ""  # "shown to the customer before filing"
    action: Choice | None = None

    def lines(self) -> list[str]:
        """The article in a reply's plain text: a bullet with the title, then the excerpt and
        the address, indented."""
        out = [f"• {self.title}" + (f" ({self.note})" if self.note else "")]
        if self.excerpt:
            out.append(f"  “{self.excerpt}”")
        if self.url:
            out.append(f"  {self.url}")
        return out


def articles_text(articles: Sequence[ArticleLink]) -> list[str]:
    """Articles as a reply's text lists them (platforms that show them natively cut these
    lines out: `Reply.lead` and `Reply.after_articles`)."""
    return [line for article in articles for line in article.lines()]


def _article_span(lines: Sequence[str], articles: Sequence[ArticleLink]) -> tuple[int, int]:
    """Where the articles' lines are in `lines` (start, end); (len, len) when absent."""
    rendition = articles_text(articles)
    for start in range(len(lines) - len(rendition) + 1):
        if list(lines[start:start + len(rendition)]) == rendition:
            return start, start + len(rendition)
    return len(lines), len(lines)


@dataclass(frozen=True, slots=True)
class ClockLine:
    """One SLA clock on a case card, already in the reader's time zone."""

    label: str
    state: str
    due: str | None
    remaining: str | None
    explanation: str
    urgency: Literal["breached", "due_soon", ""] = ""  # what the engineers' queue shows up


@dataclass(frozen=True, slots=True)
class NextDue:
    """The one due a reader looks at first, as one sentence in their zone: "Workaround due
    Wed 9 Dec 14:00 EST — missed 10 h ago", "Response due Mon 23 Nov 10:00 EST — 45
    business min left" (business time labelled), coloured by `urgency`."""

    label: str  # the clock's label ("Workaround")
    text: str
    urgency: Literal["breached", "due_soon", ""] = ""


@dataclass(frozen=True, slots=True)
class CaseCard:
    case_id: str
    title: str
    customer: str
    case_type: str
    priority: str | None
    environment: str | None
    status: str
    assignee: str | None
    clocks: tuple[ClockLine, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    # Always in sight, never under "Details": breached, escalated, due soon, consulting.
    flags: tuple[str, ...] = ()
    urgency: Urgency = ""
    next_due: NextDue | None = None  # the one due line under the header
    priority_tone: Tone = ""
    # How each due was worked out, for platforms that can't fold it away (Slack: a button
    # that answers with the clock table and its arithmetic); a case-action id.
    explain: Choice | None = None

    @property
    def other_flags(self) -> tuple[str, ...]:
        """The flags the next-due line doesn't already say (its clock missed, or under a
        quarter left)."""
        if self.next_due is None:
            return self.flags
        said = {f"{self.next_due.label} missed", f"{self.next_due.label}: under a quarter left"}
        return tuple(flag for flag in self.flags if flag not in said)
    # The vendor's view only: articles shown to the customer or found for the case.
    articles: tuple[ArticleLink, ...] = ()


PLAN_TITLE = "Response plan — "  # how a response plan's title (and its text rendition) starts
WAR_ROOM_TITLE = "🚨 War team for "  # how a war-room post's text rendition of its plan starts


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One item of a war team's response plan as a post shows it: open, or agreed (what, by
    whom, when — already in the reader's time zone), with the button that fills it in."""

    number: int
    label: str
    value: str | None = None  # None: still open
    by: str | None = None
    at: str | None = None
    action: Choice | None = None  # the button (a case action id, posted back as a choice)
    hint: str = ""  # for an open item: what the policy suggests (its status-update cadence)

    @property
    def done(self) -> bool:
        return self.value is not None


@dataclass(frozen=True, slots=True)
class PlanMember:
    """One person on a war team, named once; platforms mention them where they can."""

    person_id: str
    name: str
    role: str  # "support engineer", "executive", "customer representative"


@dataclass(frozen=True, slots=True)
class ResponsePlan:
    """A war team's response plan: its items as fields people fill in, and the clause; with
    the case it is for (title, priority, the due that was missed) and the team, once."""

    case_id: str
    items: tuple[PlanItem, ...]
    clause: str = ""
    case_title: str = ""
    customer: str = ""
    priority: str | None = None
    priority_tone: Tone = ""
    next_due: NextDue | None = None
    members: tuple[PlanMember, ...] = ()

    @property
    def agreed(self) -> int:
        return sum(item.done for item in self.items)

    @property
    def title(self) -> str:
        return f"{PLAN_TITLE}{self.agreed} of {len(self.items)} agreed"

    @staticmethod
    def lead(text: str) -> str:
        """A reply's text before its plain-text rendition of the plan (which starts at the
        war team's line, else at the plan's title): what a platform shows above the plan it
        renders natively."""
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if line.startswith((WAR_ROOM_TITLE, PLAN_TITLE)):
                return "\n".join(lines[:i])
        return text


@dataclass(frozen=True, slots=True)
class Reply:
    """What we say. `text` alone must make sense; the rest is for platforms that can show it."""

    text: str
    choices: tuple[Choice, ...] = ()
    form: Form | None = None
    actions: tuple[Choice, ...] = ()  # buttons that act on a case (ids post back as choices)
    card: CaseCard | None = None
    private: bool = False  # only the person who asked should see it (ephemeral)
    plan: ResponsePlan | None = None  # a war-room post: the response plan's items as fields
    # "actions": the choices are things to do (the intake's summary: open, change …), shown
    # like case buttons, at most VISIBLE_BUTTONS in sight; "answers" (a question's options)
    # are all shown.
    choice_kind: Literal["answers", "actions"] = "answers"
    fresh: bool = False  # a new post even where the case's card could be updated in place
    articles: tuple[ArticleLink, ...] = ()  # documentation offered (also listed in `text`)

    def _before_card(self) -> str:
        """The text before its plain-text renditions of the card (which starts at the
        "<case id> · " line) and of the plan."""
        text = self.text
        if self.card is not None:
            marker = f"{self.card.case_id} · "
            lines = text.split("\n")
            text = next(("\n".join(lines[:i]) for i, line in enumerate(lines)
                         if line.startswith(marker)), text)
        return self.plan.lead(text) if self.plan is not None else text

    def lead(self) -> str:
        """The text before its plain-text renditions of the articles, the card and the plan:
        what a platform shows above those it renders natively."""
        text = self._before_card()
        if self.articles:
            lines = text.split("\n")
            text = "\n".join(lines[:_article_span(lines, self.articles)[0]]).rstrip()
        return text

    def after_articles(self) -> str:
        """The text between its plain-text list of articles and the card or plan (a platform
        that shows the articles natively shows this under them)."""
        if not self.articles:
            return ""
        lines = self._before_card().split("\n")
        return "\n".join(lines[_article_span(lines, self.articles)[1]:]).strip()

    def summary(self) -> str:
        """The words a notification shows: the text, else the case, else the form's title."""
        text = self.text.strip()
        if not text and self.card is not None:
            text = f"{self.card.case_id} · {self.card.title}"
        if not text and self.form is not None:
            text = self.form.title
        return text


@dataclass(frozen=True, slots=True)
class Notice:
    """A message for other people than the speaker: the engineers, the customer's thread …"""

    case_id: str
    audience: Literal["customer", "engineers", "escalations", "war_room", "partner"]
    reply: Reply
    kind: str = "update"
    mentions: tuple[str, ...] = ()  # people (ids) to mention where the platform can


@dataclass(slots=True)
class Outcome:
    """What handling one inbound produced: replies to the speaker, notices to others."""

    replies: list[Reply] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
