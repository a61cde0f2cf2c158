"""A case's history as sentences people read (the web chat's feed, case timelines)."""

from __future__ import annotations

from bot.deployment import Directory
from bot.records import CaseEventRecord, CaseRecord


def consulting_words(directory: Directory, case: CaseRecord) -> str:
    """What the customer did by sending a consulting request, in the words of the button
    they pressed: an approval where the pack needs one, else a request."""
    pack = directory.pack_of(case.customer_id)
    if pack.consulting and pack.consulting.needs_prior_approval:
        return "approved a paid consulting request"
    return "sent a consulting request"


def describe_event(directory: Directory, case: CaseRecord, event: CaseEventRecord) -> str:
    who = event.actor_name or directory.name_of(event.actor)
    reason = f": {event.reason}" if event.reason else ""
    data = event.data
    texts = {
        "opened": f"{who} opened {case.id} — {case.title}",
        "acknowledged": f"{who} acknowledged {case.id}",
        "assigned": f"{case.id} assigned to {data.get('assignee_name', data.get('assignee'))}",
        "waiting_on_customer": f"{who} asked the customer on {case.id}{reason}",
        "customer_responded": f"{who} answered on {case.id}{reason}",
        "in_progress": f"{case.id} is in progress",
        "workaround_provided": f"{who} provided a workaround on {case.id}{reason}",
        "resolved": f"{who} resolved {case.id}{reason}",
        "closed": f"{who} closed {case.id}",
        "reopened": f"{who} reopened {case.id}{reason}",
        "reclassified": f"{who} reclassified {case.id}{reason}",
        "escalated": f"{who} escalated {case.id} to {data.get('level')}{reason}",
        "status_update": f"Update on {case.id} from {who}{reason}",
        "comment": f"{who} commented on {case.id}{reason}",
        "query_time": f"{who} logged {data.get('minutes')} min on {case.id}",
        "sla_suspended": f"{who} suspended the SLA on {case.id}{reason}",
        "sla_reinstated": f"{who} reinstated the SLA on {case.id}",
        "consulting_approved": f"{who} {consulting_words(directory, case)} ({case.id})",
        "sla_notice": f"{case.id}: {event.reason or 'SLA notice'}",
        "article_sent": f"{who} sent the article “{data.get('title')}” to the customer on "
                        f"{case.id}",
        "response_plan": f"{who} agreed “{data.get('label')}” for the war team of {case.id}: "
                         f"{data.get('shown')}",
    }
    return texts.get(event.kind, f"{case.id}: {event.kind.replace('_', ' ')}{reason}")
