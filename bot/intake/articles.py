"""The offer of articles before a question becomes a case (the "suggest" step).

When what is being filed reads as a question — the pack's question type (`documentation_first`:
Konneqt's Query, ConnectSoft's Question, the Danish provider's Inquiry), or a type without
priorities whose scope verdict is usage and guidance (a rule with `guidance`) — the best
articles of the vendor's documentation are shown with a one-line excerpt: "Did one of these
answer it?" — "Yes, thanks" ends the intake with nothing filed (deflected); "No, open a case"
goes on to the summary, and the case records which articles were shown. Never for a type with
priorities (an incident), so never in the way of a P0/P1 or Highest; never for the vendor's own
people; and only when the search found something.
"""

from __future__ import annotations

from datetime import datetime

from bot.intake.state import IntakeContext, IntakeResult, IntakeState, Offer
from bot.intake.steps import NAV, Answer, chosen, cid, numbered
from bot.intake.vocabulary import norm, pick, yes_no
from bot.messages import ArticleLink, Choice, Inbound, Reply, articles_text

ANSWERED = Choice(cid("articles", "yes"), "Yes, thanks", "Nothing is filed")
NOT_ANSWERED = Choice(cid("articles", "no"), "No, open a case", "Go on and file it")
_SAID_YES = {"thanks", "thank you", "yes thanks", "yes thank you", "that helped", "it helped",
             "helped", "that answered it", "it answered it", "answered", "solved", "got it",
             "perfect", "great", "that did it", "that works", "all good", "found it"}
_SAID_NO = {"open a case", "open the case", "open", "file it", "file a case", "no open a case",
            "didnt help", "did not help", "it didnt", "not helpful", "none of them",
            "not answered", "still need help", "i still need help", "no thanks"}


def offers_articles(state: IntakeState, ctx: IntakeContext) -> bool:
    """Whether this intake, as it stands, is one to offer articles to."""
    if ctx.find_articles is None or ctx.person.is_vendor or state.customer_id is None \
            or state.case_type is None:
        return False
    pack = ctx.pack_for(state.customer_id)
    spec = pack.case_types[state.case_type]
    if spec.has_priority:
        return False  # an incident: never held up
    verdict = state.scope
    if verdict is None or verdict.decision != "in_scope" or state.file_despite_scope:
        return False
    rule = pack.scope.rules.get(verdict.rule or "")
    return spec.documentation_first or bool(rule is not None and rule.guidance)


def settle_offer(state: IntakeState, ctx: IntakeContext) -> bool:
    """True when articles are to be offered now: the intake is one to offer them to, the
    offer isn't answered yet, and the search found some."""
    if state.articles_settled or not offers_articles(state, ctx):
        return False
    assert ctx.find_articles is not None and state.customer_id is not None
    found = list(ctx.find_articles(state.customer_id, state.description or ""))
    state.articles = found
    if not found:
        state.articles_settled = True
    return bool(found)


def links(state: IntakeState) -> tuple[ArticleLink, ...]:
    return tuple(ArticleLink(a.id, a.title, a.url, a.excerpt) for a in state.articles)


def ask(state: IntakeState, ctx: IntakeContext, now: datetime) -> Reply:
    shown = links(state)
    choices = (ANSWERED, NOT_ANSWERED)
    one = len(shown) == 1
    text = "\n".join([
        f"Before I file it: {'this article' if one else 'these articles'} from "
        f"{ctx.vendor_name}'s documentation may answer your question.",
        *articles_text(shown),
        f"Did {'this' if one else 'one of these'} answer it?",
        numbered(choices)])
    return Reply(text, choices=(*choices, *NAV), articles=shown)


def read(state: IntakeState, inbound: Inbound, ctx: IntakeContext, now: datetime) -> Answer:
    text = (inbound.text or "").strip()
    pressed = chosen(inbound)
    answer = pressed.value if pressed.kind == "articles" else None
    if answer is None and text:
        picked = pick((ANSWERED, NOT_ANSWERED), text)
        key = norm(text)
        if picked is not None:
            answer = "yes" if picked is ANSWERED else "no"
        elif key in _SAID_YES:
            answer = "yes"
        elif key in _SAID_NO or key.startswith(("no ", "not ")):
            answer = "no"
        else:
            answer = yes_no(text)
    if answer == "yes":
        assert state.customer_id is not None
        offer = Offer("deflected", state.customer_id, tuple(a.id for a in state.articles))
        return IntakeResult(None, [Reply(
            "Glad that answered it — nothing was filed. If you need more help, just ask "
            "again.")], offer=offer)
    if answer == "no":
        state.articles_settled = True
        return None
    return "Say “yes” if an article answered your question, or “no” to open a case."
