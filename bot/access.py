"""Who may do what to whose cases (roles from the deployment file).

One table, so the authorisation matrix test reads it like the policy: customer users act on
their own organisation's cases; customer admins also manage their organisation's users
(Konneqt: the designated administrator adds or removes users); partners act for the
customers they serve and escalate; engineers do every lifecycle action; admins everything.
A war team's response plan is the vendor's to agree (its engineers and executives, who are
the deployment's engineers and admins): customers and partners see it, never fill it in.
"""

from __future__ import annotations

from typing import Literal

from bot.messages import Person

Action = Literal[
    "file", "view", "comment", "provide_info", "close", "reopen", "escalate",
    "acknowledge", "assign", "ask_customer", "start_progress", "workaround", "resolve",
    "reclassify", "status_update", "log_hours", "suspend_sla", "reinstate_sla", "manage_users",
    "response_plan", "send_article",
]

_CUSTOMER: frozenset[str] = frozenset(
    {"file", "view", "comment", "provide_info", "close", "reopen"}
)
# Engineers don't answer for the customer ("provide_info"); they resume the case instead
# ("start_progress"), which ends the pause just the same.
_ENGINEER: frozenset[str] = frozenset(
    {"file", "view", "comment", "close", "reopen", "escalate", "acknowledge",
     "assign", "ask_customer", "start_progress", "workaround", "resolve", "reclassify",
     "status_update", "log_hours", "suspend_sla", "reinstate_sla", "response_plan",
     "send_article"}
)
ALLOWED: dict[str, frozenset[str]] = {
    "customer_user": _CUSTOMER,
    "customer_admin": _CUSTOMER | {"manage_users"},
    "partner": _CUSTOMER | {"escalate"},
    "engineer": _ENGINEER,
    "admin": _ENGINEER | {"manage_users"},
}


# What a refused action is called when a verb + "cases" doesn't say it.
_DOING = {
    "response_plan": "fill in a war team's response plan: the vendor's support engineers and "
                     "executives agree it",
    "manage_users": "manage users: each customer's administrator adds and removes their "
                    "organisation's",
}


def may(person: Person, action: str, customer_id: str) -> bool:
    """Whether `person` may do `action` on something of customer `customer_id`."""
    return action in ALLOWED[person.role] and person.may_see_customer(customer_id)


def refusal(person: Person, action: str) -> str:
    """The sentence a refused person reads (the same whether the case exists or not)."""
    if action not in ALLOWED[person.role]:
        doing = _DOING.get(action, f"{action.replace('_', ' ')} cases")
        return (f"Sorry, your role ({person.role.replace('_', ' ')}) can't {doing}. "
                "Ask the support team if you need this.")
    return "Sorry, I can't find that case among the cases you can see."
