"""`Reply` → the JSON the web chat and scripts read (pure).

Safe rendering: the page inserts every text with `textContent` (never as HTML) and turns only
our ``**bold**`` into ``<strong>``, so the JSON carries text as typed — with the bidirectional
controls removed (`shown`, adapters/safe_text.py), as on every platform.
"""

from __future__ import annotations

from typing import Any

from adapters.safe_text import strip_bidi_controls
from bot.choice_ids import is_nav
from bot.messages import ArticleLink, CaseCard, Choice, Form, Reply, ResponsePlan


def choice_json(choice: Choice) -> dict[str, Any]:
    """`nav`: Back / Cancel, shown apart from the answers (the page never parses ids)."""
    return {"id": choice.id, "label": choice.label, "explanation": choice.explanation,
            "nav": is_nav(choice.id), "primary": choice.primary}


def form_json(form: Form) -> dict[str, Any]:
    return {
        "id": form.id,
        "title": form.title,
        "submit_label": form.submit_label,
        "intro": form.intro,
        "fields": [
            {"id": f.id, "label": f.label, "kind": f.kind, "required": f.required,
             "hint": f.hint, "value": f.value, "choices": [choice_json(c) for c in f.choices],
             "reveal": f.reveal}
            for f in form.fields
        ],
    }


def article_json(article: ArticleLink) -> dict[str, Any]:
    return {"id": article.id, "title": article.title, "url": article.url,
            "excerpt": article.excerpt, "note": article.note,
            "action": choice_json(article.action) if article.action else None}


def card_json(card: CaseCard) -> dict[str, Any]:
    return {
        "case_id": card.case_id, "title": card.title, "customer": card.customer,
        "case_type": card.case_type, "priority": card.priority,
        "environment": card.environment, "status": card.status, "assignee": card.assignee,
        "clocks": [{"label": c.label, "state": c.state, "due": c.due,
                    "remaining": c.remaining, "explanation": c.explanation,
                    "urgency": c.urgency}
                   for c in card.clocks],
        "flags": list(card.flags), "urgency": card.urgency,
        "facts": [{"label": k, "value": v} for k, v in card.facts],
        "next_due": {"label": card.next_due.label, "text": card.next_due.text,
                     "urgency": card.next_due.urgency} if card.next_due else None,
        "priority_tone": card.priority_tone,
        "articles": [article_json(a) for a in card.articles],
    }


def plan_json(plan: ResponsePlan) -> dict[str, Any]:
    return {
        "case_id": plan.case_id, "title": plan.title, "agreed": plan.agreed,
        "total": len(plan.items), "clause": plan.clause,
        "items": [{"number": i.number, "label": i.label, "done": i.done, "value": i.value,
                   "by": i.by, "at": i.at, "hint": i.hint,
                   "action": choice_json(i.action) if i.action else None}
                  for i in plan.items],
    }


def shown(value: Any) -> Any:
    """A JSON value with every string in it free of bidi controls (ids have none)."""
    if isinstance(value, str):
        return strip_bidi_controls(value)
    if isinstance(value, dict):
        return {key: shown(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [shown(inner) for inner in value]
    return value


def reply_json(reply: Reply) -> dict[str, Any]:
    """The reply as the web chat's JSON, `shown`."""
    return shown(_reply_json(reply))  # type: ignore[no-any-return]


def _reply_json(reply: Reply) -> dict[str, Any]:
    out: dict[str, Any] = {
        "text": reply.text,
        "choices": [choice_json(c) for c in reply.choices],
        "actions": [choice_json(a) for a in reply.actions],
    }
    if reply.form is not None:
        out["form"] = form_json(reply.form)
    if reply.card is not None:
        out["card"] = card_json(reply.card)
    if reply.plan is not None:
        out["plan"] = plan_json(reply.plan)
    if reply.articles:
        # what the page shows above and below the articles it lists natively
        out["articles"] = [article_json(a) for a in reply.articles]
        out["lead"] = reply.lead()
        out["after"] = reply.after_articles()
    if reply.private:
        out["private"] = True
    return out
