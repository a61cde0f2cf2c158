"""The customer is kept informed, the clocks are honest, and the case actions say what they
did: one test per rule, through the real handler on both stores (SQLite and Redis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.case_card import case_card
from bot.deployment import Directory, load_deployment
from bot.handler import Handler
from bot.handler.intake_loop import explain_preview
from bot.intake import CaseDraft
from bot.messages import CaseCard, Inbound, Outcome, Place, Reply
from bot.news import conversation_news, customer_news
from bot.notice_routing import deliveries
from bot.store.base import Store
from bot.timeline import describe_event

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = Directory(load_deployment(ROOT / "examples" / "frontdoor.toml"))
SATURDAY = datetime(2026, 12, 5, 16, 30, tzinfo=UTC)  # Sat 5 Dec 11:30 EST
MONDAY = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)  # Mon 7 Dec 08:00 EST, Acme's opening


@pytest.fixture
def handler(store: Store) -> Handler:
    return Handler(store, DIRECTORY)


def draft(customer_id: str = "acme", priority: str | None = "P0", *,
          deployment: str = "acme-prod", consulting: bool = False) -> CaseDraft:
    dep = next(d for d in DIRECTORY.customer(customer_id).deployments if d.name == deployment)
    return CaseDraft(
        customer_id=customer_id, case_type="incident", priority=priority,
        requested_priority=priority, priority_source="customer", priority_reason=None,
        deployment=dep.name, environment=dep.environment, managed=dep.managed,
        hypercare=False, fields={}, description="The orders API returns 500 for most calls",
        scope=None, consulting_request=consulting, consulting_approved=consulting)


async def open_case(handler: Handler, user: str = "alice", at: datetime = SATURDAY,
                    **kw: object) -> str:
    person = DIRECTORY.person(user)
    assert person is not None
    case = await handler.cases.open_case(person, draft(**kw),  # type: ignore[arg-type]
                                         Place("web", f"web:{user}"), at)
    return case.id


async def say(handler: Handler, user: str, text: str | None = None, *,
              choice: str | None = None, at: datetime = SATURDAY) -> Outcome:
    person = DIRECTORY.person(user)
    assert person is not None
    return await handler.handle(Inbound(person, Place("web", f"web:{user}"), at, text=text,
                                        choice=choice))


async def card_for(handler: Handler, user: str, case_id: str, at: datetime) -> CaseCard:
    person = DIRECTORY.person(user)
    assert person is not None
    case = await handler.store.get_case(case_id)
    assert case is not None
    reply = case_card(DIRECTORY, person, case, await handler.store.case_events(case_id), at)
    assert reply.card is not None
    return reply.card


def only(outcome: Outcome) -> Reply:
    assert len(outcome.replies) == 1, [r.text for r in outcome.replies]
    return outcome.replies[0]


# ---- honest clocks ---------------------------------------------------------------------------


async def test_a_running_clock_outside_coverage_says_paused_until_the_next_opening(
        handler: Handler) -> None:
    """Konneqt Enterprise is 8x5: a P0 filed on a Saturday waits for Monday 08:00."""
    case_id = await open_case(handler)
    response = (await card_for(handler, "alice", case_id, SATURDAY)).clocks[0]
    assert response.state == "paused — outside coverage until Mon 7 Dec 08:00 EST"
    assert response.due == "Mon 7 Dec 08:30 EST"
    monday = (await card_for(handler, "alice", case_id, MONDAY + timedelta(minutes=5)))
    assert monday.clocks[0].state == "running"


async def test_remaining_time_is_labelled_as_business_time(handler: Handler) -> None:
    case_id = await open_case(handler)
    response = (await card_for(handler, "alice", case_id, SATURDAY)).clocks[0]
    assert response.remaining == "30 business min left"
    late = await card_for(handler, "alice", case_id, MONDAY + timedelta(minutes=45))
    assert late.clocks[0].remaining == "15 business min over"


async def test_each_reader_gets_one_labelled_zone_in_clocks_and_explanations(
        handler: Handler) -> None:
    """Nordlys reads Copenhagen time; the vendor's engineers read New York time."""
    case_id = await open_case(handler, "nils", customer_id="nordlys", priority="highest",
                              deployment="nordlys-prod")
    for user, zone, other in (("nils", "CET", "EST"), ("ana", "EST", "CET")):
        clock = (await card_for(handler, user, case_id, SATURDAY)).clocks[0]
        assert zone in (clock.due or "") and zone in clock.explanation, clock
        assert other not in clock.explanation and other not in clock.state


async def test_the_queue_marks_breached_escalated_and_under_a_quarter_left(
        handler: Handler) -> None:
    fresh = await open_case(handler, at=MONDAY)  # P0: 30 min to respond
    nearly = await open_case(handler, at=MONDAY - timedelta(minutes=1))
    escalated = await open_case(handler, at=MONDAY + timedelta(minutes=20))
    late = await open_case(handler, at=datetime(2026, 12, 4, 21, 0, tzinfo=UTC))  # Fri 16:00
    await say(handler, "ana", f"escalate {escalated} customer impact", at=MONDAY +
              timedelta(minutes=21))
    now = MONDAY + timedelta(minutes=24)  # fresh: 6 min left of 30 (< 25 %)
    urgency = {c.case_id: c.urgency for _, r in await handler.queue(
        DIRECTORY.person("ana"), now) if (c := r.card) is not None}  # type: ignore[arg-type]
    assert urgency[late] == "breached"
    assert urgency[escalated] == "escalated"
    assert urgency[fresh] == "due_soon" and urgency[nearly] == "due_soon"
    shown = await card_for(handler, "ana", late, now)
    assert shown.flags[0] == "Response missed"


async def test_a_clock_with_most_of_its_target_left_does_not_stand_out(
        handler: Handler) -> None:
    case_id = await open_case(handler, at=MONDAY)
    shown = await card_for(handler, "ana", case_id, MONDAY + timedelta(minutes=5))
    assert shown.urgency == "" and shown.flags == ()


# ---- the small defects ------------------------------------------------------------------------


async def test_a_case_action_without_a_case_id_asks_which_case(handler: Handler) -> None:
    first = await open_case(handler)
    second = await open_case(handler)
    reply = only(await say(handler, "ana", "ack"))
    assert reply.text.startswith("Which case?")
    assert {c.id for c in reply.choices} == {f"case:acknowledge:{first}",
                                             f"case:acknowledge:{second}"}
    started, _ = await handler.store.load_conversation("web:web:ana:-:ana")
    assert started is None  # no intake was started
    picked = await say(handler, "ana", choice=reply.choices[0].id)
    assert picked.replies[0].card is not None and picked.replies[0].card.status == \
        "acknowledged"


async def test_a_case_action_without_a_case_id_for_a_customer_lists_their_cases(
        handler: Handler) -> None:
    case_id = await open_case(handler)
    await say(handler, "ana", f"resolve {case_id} restarted the gateway")
    reply = only(await say(handler, "alice", "close"))
    assert [c.id for c in reply.choices] == [f"case:close:{case_id}"]


async def test_a_second_acknowledgement_says_by_whom_and_when(handler: Handler) -> None:
    case_id = await open_case(handler)
    await say(handler, "ana", f"ack {case_id}")
    again = only(await say(handler, "ben", f"ack {case_id}"))
    assert again.text == (f"{case_id} is already acknowledged by Ana Ruiz (engineer) at "
                          "Sat 5 Dec 11:30 EST.")


async def test_resume_is_offered_only_while_waiting_on_the_customer(handler: Handler) -> None:
    case_id = await open_case(handler)
    acked = (await say(handler, "ana", f"ack {case_id}")).replies[0]
    assert "Resume" not in [a.label for a in acked.actions]
    asked = (await say(handler, "ana", f"ask {case_id} which version?")).replies[0]
    assert "Resume" in [a.label for a in asked.actions]


async def test_resuming_names_who_resumed(handler: Handler) -> None:
    case_id = await open_case(handler)
    await say(handler, "ana", f"ask {case_id} which version?")
    resumed = (await say(handler, "ana", choice=f"case:start_progress:{case_id}")).replies[0]
    assert resumed.text.startswith(f"Ana Ruiz (engineer) resumed work on {case_id}.")


async def test_the_resolve_reply_is_punctuated(handler: Handler) -> None:
    case_id = await open_case(handler)
    resolved = (await say(handler, "ana", f"resolve {case_id} patched the gateway")).replies[0]
    assert f"resolved {case_id}: patched the gateway. If it works" in resolved.text


async def test_a_note_is_said_once(handler: Handler) -> None:
    """The summary's "How were the times worked out?" names each note's clause once."""
    notes = [line for line in explain_preview(DIRECTORY, draft(priority="P1"), SATURDAY)
             if line.startswith("Note:")]
    assert notes == ["Note: Targets from: Enterprise: Incidents Service Levels, P1."]
    case_id = await open_case(handler)
    out = await say(handler, "ana", f"ask {case_id} which version?")
    for reply in [*out.replies, *(n.reply for n in out.notices)]:
        assert reply.text.count("which version?") == 1, reply.text


async def test_the_consulting_flag_is_in_sight_and_the_feed_uses_the_buttons_words(
        handler: Handler) -> None:
    """Konneqt needs no prior approval: the button said "Send a consulting request"."""
    case_id = await open_case(handler, priority=None, consulting=True)
    shown = await card_for(handler, "ana", case_id, SATURDAY)
    assert "Consulting request (no support SLA)" in shown.flags
    case = await handler.store.get_case(case_id)
    assert case is not None
    feed = [describe_event(DIRECTORY, case, e) for e in await handler.store.case_events(case_id)]
    assert f"Alice Chen (Acme admin) sent a consulting request ({case_id})" in feed
    assert not [line for line in feed if "paid" in line]


# ---- the customer kept informed, the same words on every channel -----------------------------


CUSTOMER_EVENTS = [
    ("ack {id}", "acknowledged", "Ana Ruiz (engineer) acknowledged {id} and picked it up."),
    ("ask {id} which version?", "waiting_on_customer",
     "Ana Ruiz (engineer) asks on {id}: which version? Answer here (or say “reply {id} …”)"),
    ("workaround {id} route traffic to the standby", "workaround_provided",
     "Ana Ruiz (engineer) provided a workaround on {id}: route traffic to the standby."),
    ("reclassify {id} P1 only one region", "reclassified",
     "{id} was reclassified by Ana Ruiz (engineer) (priority P0 – Catastrophic → P1 – Critical)"),
    ("resolve {id} patched", "resolved", "Ana Ruiz (engineer) resolved {id}: patched."),
]


async def test_every_channel_tells_the_customer_the_same(handler: Handler) -> None:
    """What Slack and Teams post in the case's thread is what the web chat shows in the
    conversation the case was filed from, for each event that matters to the customer."""
    case_id = await open_case(handler)
    alice = DIRECTORY.person("alice")
    assert alice is not None
    for command, kind, words in CUSTOMER_EVENTS:
        out = await say(handler, "ana", command.format(id=case_id))
        [notice] = [n for n in out.notices if n.audience == "customer" and n.kind != "survey"]
        posted = [d.reply.text for d in deliveries(notice) if d.op == "post"]
        case = await handler.store.get_case(case_id)
        assert case is not None
        events = await handler.store.case_events(case_id)
        news = conversation_news(DIRECTORY, alice, case, events)
        for survey in (n for n in out.notices if n.kind == "survey"):  # after a resolution
            assert news[-1][0].kind == "survey_requested" and news[-1][1] is not None
            assert survey.reply.text == news[-1][1].text
            assert survey.reply.choices == news[-1][1].choices
        [(event, web)] = [pair for pair in news if pair[0].kind != "survey_requested"][-1:]
        assert event.kind == kind and web is not None
        assert posted == [web.text] == [customer_news(DIRECTORY, case, event)]
        assert web.text.startswith(words.format(id=case_id)), web.text


async def test_a_resolution_offers_the_customer_close_and_reopen(handler: Handler) -> None:
    case_id = await open_case(handler)
    await say(handler, "ana", f"resolve {case_id} patched")
    case = await handler.store.get_case(case_id)
    alice = DIRECTORY.person("alice")
    assert case is not None and alice is not None
    news = conversation_news(DIRECTORY, alice, case, await handler.store.case_events(case_id))
    last = [reply for _, reply in news if reply is not None][-1]
    assert {"Close", "Reopen"} <= {a.label for a in last.actions}


async def test_the_customers_own_doings_are_not_news_to_them(handler: Handler) -> None:
    case_id = await open_case(handler)
    await say(handler, "ana", f"resolve {case_id} patched")
    await say(handler, "alice", f"reopen {case_id} still failing")
    case = await handler.store.get_case(case_id)
    alice = DIRECTORY.person("alice")
    assert case is not None and alice is not None
    news = conversation_news(DIRECTORY, alice, case, await handler.store.case_events(case_id))
    assert [e.kind for e, reply in news if reply is not None] == [
        "acknowledged", "resolved", "survey_requested"]  # the survey is the bot's, not hers


async def test_a_reopening_by_an_engineer_is_news_to_the_customer(handler: Handler) -> None:
    case_id = await open_case(handler)
    await say(handler, "ana", f"resolve {case_id} patched")
    out = await say(handler, "ana", f"reopen {case_id} the fix did not hold")
    [notice] = [n for n in out.notices if n.audience == "customer"]
    assert notice.reply.text.startswith(
        f"{case_id} was reopened by Ana Ruiz (engineer): the fix did not hold.")


async def test_a_resolved_case_stays_in_the_customers_list_until_closed(
        handler: Handler) -> None:
    case_id = await open_case(handler)
    alice = DIRECTORY.person("alice")
    ana = DIRECTORY.person("ana")
    assert alice is not None and ana is not None
    await say(handler, "ana", f"resolve {case_id} patched")
    assert case_id in [c.id for c, _ in await handler.queue(alice, SATURDAY)]
    assert case_id not in [c.id for c, _ in await handler.queue(ana, SATURDAY)]
    await say(handler, "alice", choice=f"case:close:{case_id}")
    assert case_id not in [c.id for c, _ in await handler.queue(alice, SATURDAY)]
