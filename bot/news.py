"""What the customer is told when something happens on their case: one wording for every
channel. Slack and Teams post it in the case's thread (with the card updated in place); the
web chat shows it in the conversation the case was filed from."""

from __future__ import annotations

from collections.abc import Sequence

from bot.case_card import case_actions, case_line
from bot.choice_ids import action_form, survey_score
from bot.deployment import Directory
from bot.messages import ArticleLink, Choice, Form, FormField, Person, Reply, articles_text
from bot.records import CaseEventRecord, CaseRecord
from policy.pack import Pack

# The history kinds a customer hears about as they happen.
CUSTOMER_NEWS = frozenset({
    "acknowledged", "waiting_on_customer", "workaround_provided", "reclassified", "resolved",
    "reopened", "closed", "in_progress", "status_update", "escalated", "sla_suspended",
    "sla_reinstated", "article_sent", "survey_requested",
})
SCORES = ((1, "1 · poor"), (2, "2"), (3, "3"), (4, "4"), (5, "5 · excellent"))


def sentence(text: str | None) -> str:
    """`text` ending as a sentence does (". " may follow it)."""
    text = (text or "").strip()
    return text if not text or text[-1] in ".!?…" else f"{text}."


def customer_news(directory: Directory, case: CaseRecord,
                  event: CaseEventRecord) -> str | None:
    """The customer's sentence for `event`, None for what they aren't told about."""
    if event.kind not in CUSTOMER_NEWS:
        return None
    who = event.actor_name or directory.name_of(event.actor)
    note = (event.reason or "").strip()
    pack = directory.pack_of(case.customer_id)
    if event.kind == "acknowledged":
        return f"{who} acknowledged {case.id} and picked it up."
    if event.kind == "waiting_on_customer":
        return (f"{who} asks on {case.id}: {sentence(note)} Answer here (or say “reply "
                f"{case.id} …”); the clocks the policy pauses are paused until you answer.")
    if event.kind == "workaround_provided":
        return f"{who} provided a workaround on {case.id}" + (f": {sentence(note)}" if note
                                                              else ".")
    if event.kind == "resolved":
        return (f"{who} resolved {case.id}" + (f": {sentence(note)}" if note else ".")
                + f" If it works for you, close it; if it isn't fixed, reopen it "
                f"(“reopen {case.id} …”).")
    if event.kind == "reopened":
        return f"{case.id} was reopened by {who}" + (f": {sentence(note)}" if note else ".")
    if event.kind == "closed":
        return f"{case.id} was closed by {who}."
    if event.kind == "in_progress":
        return f"{who} resumed work on {case.id}."
    if event.kind == "status_update":
        return f"Update on {case.id} from {who}: {note}"
    if event.kind == "reclassified":
        return reclassified(pack, case, event, who)
    if event.kind == "escalated":
        return f"{case.id} was escalated to {level_name(pack, event.data.get('level'))} by " \
               f"{who}" + (f": {sentence(note)}" if note else ".")
    if event.kind == "article_sent":
        return article_news(case, event, who)
    if event.kind == "sla_suspended":
        return f"The SLA on {case.id} is suspended: {sentence(note)}"
    if event.kind == "survey_requested":
        return survey_question(case.id)
    return f"The SLA on {case.id} is reinstated."


def answer_form(directory: Directory, case: CaseRecord) -> Form:
    """The answer box under an engineer's question: sending it answers the question and
    resumes the clocks the question paused."""
    return Form(str(action_form("provide_info", case.id)), f"Answer — {case.id}", (
        FormField("text", "Your answer", "long_text",
                  hint="Sending it resumes the clocks the question paused."),
        FormField("_action", "", "hidden", value="provide_info"),
        FormField("_case", "", "hidden", value=case.id)), "Send answer",
        intro=case_line(directory, case), open_label="Answer")


def survey_question(case_id: str) -> str:
    """What a customer is asked once their case is resolved (one tap, a comment optional)."""
    return (f"How did we do on {case_id}? Rate it from 1 (poor) to 5 (excellent) — tap a "
            f"score, or say “rate {case_id} 4 <comment>”.")


def survey_choices(case_id: str) -> tuple[Choice, ...]:
    return tuple(Choice(str(survey_score(case_id, n)), label) for n, label in SCORES)


def survey_thanks(case_id: str, score: int) -> str:
    return (f"Thank you — {case_id} rated {score}/5. Anything to add? Fill in the form, or "
            f"say “rate {case_id} {score} <comment>”.")


def article_news(case: CaseRecord, event: CaseEventRecord, who: str) -> str:
    """An engineer sent an article: its title (the article itself — link and excerpt — is
    listed under the sentence: `sent_articles`, `with_articles`)."""
    return f"{who} sent you an article on {case.id}: “{event.data.get('title') or event.reason}”."


def sent_articles(events: Sequence[CaseEventRecord]) -> tuple[ArticleLink, ...]:
    """The articles `events` sent to the customer, as links a platform shows natively (the
    news sentence says them in words, for every channel)."""
    return tuple(ArticleLink(str(e.data.get("article")), str(e.data.get("title") or e.reason),
                             e.data.get("url") or None, str(e.data.get("excerpt") or ""))
                 for e in events if e.kind == "article_sent")


def with_articles(text: str, articles: Sequence[ArticleLink]) -> str:
    """`text` with the articles' plain-text rendition under it (platforms that show articles
    natively show `text` and the articles; text-only ones read their addresses here)."""
    return "\n".join([text, *articles_text(articles)]) if articles else text


def level_name(pack: Pack, level: object) -> str:
    if isinstance(level, str) and level in pack.escalation.levels:
        return pack.escalation.levels[level].name
    return str(level) if level else "the next level"


def reclassified(pack: Pack, case: CaseRecord, event: CaseEventRecord, who: str) -> str:
    data = event.data
    parts = []
    old_p, new_p = data.get("from_priority"), data.get("priority")
    if new_p and new_p != old_p and new_p in pack.priorities:
        old = pack.priorities[old_p].label if old_p in pack.priorities else "none"
        parts.append(f"{pack.priority_word.lower()} {old} → {pack.priorities[new_p].label}")
    old_t, new_t = data.get("from_type"), data.get("case_type")
    if new_t and new_t != old_t and new_t in pack.case_types:
        old = pack.case_types[old_t].label if old_t in pack.case_types else str(old_t)
        parts.append(f"type {old} → {pack.case_types[new_t].label}")
    change = "; ".join(parts) or "no change"
    reason = f": {sentence(event.reason)}" if event.reason else "."
    return f"{case.id} was reclassified by {who} ({change}){reason} The targets are " \
           "recomputed from the original report."


def conversation_news(directory: Directory, person: Person, case: CaseRecord,
                      events: Sequence[CaseEventRecord],
                      ) -> list[tuple[CaseEventRecord, Reply | None]]:
    """`events` of a case, each with what the conversation it was filed from shows of it
    (a conversation held by `person`): the customer's news, but not what they did
    themselves. The last piece of news carries the buttons the reader may press now (Close
    and Reopen once resolved, Answer while asked), and a question still open its answer
    box."""
    own = case.reporter == person.id and not person.is_vendor
    said = [(e, customer_news(directory, case, e) if own and e.actor != person.id else None)
            for e in events]
    last = max((i for i, (_, text) in enumerate(said) if text), default=-1)
    answered = case.status not in {"resolved", "closed"} or any(
        e.kind == "survey_answered" for e in events)
    asked = max((i for i, (e, text) in enumerate(said)
                 if text and e.kind == "waiting_on_customer"), default=-1)
    open_question = case.status == "waiting_on_customer" and asked >= 0 and not any(
        e.kind in {"customer_responded", "in_progress"} for e, _ in said[asked + 1:])
    return [(e, Reply(with_articles(text, sent_articles([e])),
                      actions=case_actions(person, case) if i == last else (),
                      articles=sent_articles([e]),
                      choices=survey_choices(case.id)
                      if e.kind == "survey_requested" and not answered else (),
                      form=answer_form(directory, case) if open_question and i == asked
                      else None)
             if text else None) for i, (e, text) in enumerate(said)]
