"""Case cards people read at a glance, and the next step where the person is looking: the
channel-neutral rules, one test each, through the real handler (the platforms' renderings
are tests/test_teams_render.py, tests/test_slack_render.py and, measured in a browser,
tests/test_card_rendering.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.case_card import case_actions, priority_tone
from bot.cases import _title_of
from bot.choice_ids import parse_choice
from bot.handler import Handler
from bot.messages import Inbound, Place
from bot.notice_routing import deliveries
from bot.store.sqlite import SqliteStore
from policy.pack import load_pack
from tests.test_customer_informed import (
    DIRECTORY,
    MONDAY,
    SATURDAY,
    card_for,
    only,
    open_case,
    say,
)


@pytest.fixture
async def handler(tmp_path: Path) -> AsyncIterator[Handler]:
    store = SqliteStore(tmp_path / "cards.db")
    await store.open()
    yield Handler(store, DIRECTORY)
    await store.close()


def _labels(reply_actions: tuple[object, ...]) -> list[str]:
    return [getattr(a, "label", "") for a in reply_actions]


# ---- the header and the one next-due line ----------------------------------------------------


async def test_a_running_clock_is_one_next_due_line_with_business_time_left(
        handler: Handler) -> None:
    case_id = await open_case(handler, at=MONDAY)
    card = await card_for(handler, "ana", case_id, MONDAY + timedelta(minutes=10))
    assert card.next_due is not None and card.next_due.urgency == ""
    assert card.next_due.text == "Response due Mon 7 Dec 08:30 EST — 20 business min left"


async def test_a_missed_target_is_the_next_due_line_saying_how_long_ago(
        handler: Handler) -> None:
    case_id = await open_case(handler, at=MONDAY)
    card = await card_for(handler, "ana", case_id, MONDAY + timedelta(hours=10, minutes=5))
    assert card.next_due is not None and card.next_due.urgency == "breached"
    assert card.next_due.text == "Response due Mon 7 Dec 08:30 EST — missed 9 h ago"
    assert "Response missed" in card.flags and "Response missed" not in card.other_flags


async def test_outside_coverage_the_next_due_line_says_when_counting_resumes(
        handler: Handler) -> None:
    case_id = await open_case(handler)  # Saturday: Acme's coverage opens Monday 08:00
    card = await card_for(handler, "alice", case_id, SATURDAY)
    assert card.next_due is not None
    assert card.next_due.text == ("Response due Mon 7 Dec 08:30 EST — 30 business min left "
                                  "from Mon 7 Dec 08:00 EST")


async def test_while_the_customer_is_asked_the_next_due_line_says_the_clock_waits(
        handler: Handler) -> None:
    case_id = await open_case(handler, at=MONDAY)
    await say(handler, "ana", f"ack {case_id}", at=MONDAY + timedelta(minutes=5))
    await say(handler, "ana", f"ask {case_id} which region?", at=MONDAY + timedelta(minutes=9))
    later = MONDAY + timedelta(hours=1)
    mine = await card_for(handler, "alice", case_id, later)
    assert mine.next_due is not None
    assert mine.next_due.text.startswith("Workaround clock paused until you answer")
    engineers = await card_for(handler, "ana", case_id, later)
    assert engineers.next_due is not None
    assert engineers.next_due.text.startswith(
        "Workaround clock paused until the customer answers")


async def test_a_resolved_case_says_nothing_is_due_and_how_the_targets_went(
        handler: Handler) -> None:
    case_id = await open_case(handler, at=MONDAY)
    await say(handler, "ana", f"resolve {case_id} fixed", at=MONDAY + timedelta(minutes=5))
    card = await card_for(handler, "alice", case_id, MONDAY + timedelta(hours=1))
    assert card.next_due is not None
    assert card.next_due.text == "Nothing due now — every target met so far"


def test_a_title_is_cut_at_a_word_never_mid_word() -> None:
    title = _title_of("The monthly report totals column is empty since the upgrade to version "
                      "4.2 and nothing we try helps at all")
    assert title == ("The monthly report totals column is empty since the upgrade to version "
                     "4.2 and…")
    assert len(_title_of("x" * 200)) == 80  # one endless word: cut, there is no better place


@pytest.mark.parametrize(("pack", "priority", "tone"), [
    ("konneqt", "P0", "critical"), ("konneqt", "P1", "critical"), ("konneqt", "P2", "high"),
    ("konneqt", "P3", "normal"), ("connectsoft", "critical", "critical"),
    ("connectsoft", "high", "high"), ("connectsoft", "low", "low"),
    ("dk-saas", "highest", "critical"), ("dk-saas", "high", "high"),
    ("dk-saas", "medium", "normal"), ("dk-saas", "lowest", "low"),
])
def test_the_priority_badge_is_coloured_by_the_packs_own_words(pack: str, priority: str,
                                                               tone: str) -> None:
    assert priority_tone(load_pack(pack), priority) == tone


# ---- only the actions that fit, the likeliest first ------------------------------------------


async def test_a_new_case_leads_with_acknowledge_for_the_engineers(handler: Handler) -> None:
    case_id = await open_case(handler, at=MONDAY)
    case = await handler.store.get_case(case_id)
    ana = DIRECTORY.person("ana")
    assert case is not None and ana is not None
    actions = case_actions(ana, case)
    assert _labels(actions)[:3] == ["Acknowledge", "Ask customer", "Assign to me"]
    assert [a.primary for a in actions][:2] == [True, False]


async def test_a_question_to_the_customer_leads_with_answer_for_the_customer(
        handler: Handler) -> None:
    case_id = await open_case(handler, at=MONDAY)
    await say(handler, "ana", f"ask {case_id} which region?", at=MONDAY + timedelta(minutes=9))
    case = await handler.store.get_case(case_id)
    alice, ana = DIRECTORY.person("alice"), DIRECTORY.person("ana")
    assert case is not None and alice is not None and ana is not None
    assert _labels(case_actions(alice, case)) == ["Answer", "Add a comment"]
    assert case_actions(alice, case)[0].primary
    assert _labels(case_actions(ana, case))[:3] == ["Resume", "Post an update", "Resolve"]


async def test_a_resolved_case_leads_with_close_for_the_customer(handler: Handler) -> None:
    case_id = await open_case(handler, at=MONDAY)
    await say(handler, "ana", f"resolve {case_id} fixed", at=MONDAY + timedelta(minutes=5))
    case = await handler.store.get_case(case_id)
    alice = DIRECTORY.person("alice")
    assert case is not None and alice is not None
    assert _labels(case_actions(alice, case)) == ["Close", "Reopen", "Add a comment"]


async def test_why_answers_with_every_clock_and_its_arithmetic_to_the_asker_only(
        handler: Handler) -> None:
    case_id = await open_case(handler, at=MONDAY)
    card = await card_for(handler, "ana", case_id, MONDAY)
    assert card.explain is not None and card.explain.label == "Why?"
    answer = only(await say(handler, "ana", choice=card.explain.id, at=MONDAY))
    assert answer.private
    assert answer.text.startswith(f"How the dues of {case_id} were worked out (times in "
                                  "America/New_York):")
    assert "• Response: due Mon 7 Dec 08:30 EST" in answer.text
    assert "Response target 30 min (30 min of coverage" in answer.text  # the arithmetic
    typed = only(await say(handler, "ana", f"why {case_id}", at=MONDAY))
    assert typed.text == answer.text


# ---- the next step where the person is looking -----------------------------------------------


async def test_an_engineers_question_arrives_with_an_answer_box(handler: Handler) -> None:
    case_id = await open_case(handler, at=MONDAY)
    await say(handler, "ana", f"ack {case_id}", at=MONDAY)
    out = await say(handler, "ana", f"ask {case_id} which region?", at=MONDAY)
    [notice] = [n for n in out.notices if n.audience == "customer"]
    [news] = [d.reply for d in deliveries(notice) if d.op == "post"]
    assert news.text.startswith("Ana Ruiz (engineer) asks on") and news.form is not None
    assert news.form.submit_label == "Send answer"
    hidden = {f.id: f.value for f in news.form.fields if f.kind == "hidden"}
    assert hidden == {"_action": "provide_info", "_case": case_id}
    [card] = [d.reply for d in deliveries(notice) if d.op == "card"]
    assert card.form is None  # the card updated far up the chat carries no second box


async def test_the_answer_box_answers_and_resumes_the_clocks(handler: Handler) -> None:
    case_id = await open_case(handler, at=MONDAY)
    await say(handler, "ana", f"ask {case_id} which region?", at=MONDAY)
    alice = DIRECTORY.person("alice")
    assert alice is not None
    await handler.handle(Inbound(alice, Place("teams", "a:personal-alice"),
                                 MONDAY + timedelta(minutes=30),
                                 form={"_action": "provide_info", "_case": case_id,
                                       "text": "EU region"}))
    case = await handler.store.get_case(case_id)
    events = await handler.store.case_events(case_id)
    assert case is not None and case.status == "in_progress"
    assert events[-1].kind == "customer_responded" and events[-1].reason == "EU region"


async def test_a_comment_on_a_case_waiting_on_the_customer_says_the_clocks_stay_paused(
        handler: Handler) -> None:
    case_id = await open_case(handler, at=MONDAY)
    await say(handler, "ana", f"ask {case_id} which region?", at=MONDAY)
    reply = (await say(handler, "alice", f"comment {case_id} we are looking",
                       at=MONDAY + timedelta(minutes=3))).replies[0]
    assert (f"{case_id} still waits for your answer to Ana Ruiz (engineer)'s question "
            "(“which region?”), so the clocks the policy pauses stay paused") in reply.text
    case = await handler.store.get_case(case_id)
    assert case is not None and case.status == "waiting_on_customer"


async def test_status_posts_fresh_cards_rather_than_updating_old_ones(
        handler: Handler) -> None:
    await open_case(handler, at=MONDAY)
    replies = (await say(handler, "alice", "status", at=MONDAY)).replies
    assert replies[0].text == "1 open case:"
    assert [r.fresh for r in replies[1:]] == [True]


async def test_the_one_card_form_carries_what_was_said_and_asks_only_what_is_open(
        handler: Handler) -> None:
    said = "the orders API on acme-prod is down for every user since 09:40"
    out = await say(handler, "alice", said, at=MONDAY)
    form = next((r.form for r in out.replies if r.form is not None), None)
    if form is None:  # the message said enough for a summary: reach the type question
        out = await say(handler, "alice", choice="change:case_type", at=MONDAY)
        form = next(r.form for r in out.replies if r.form is not None)
    fields = {f.id: f for f in form.fields}
    assert fields["description"].value == said
    assert "deployment" not in fields and "field.product" not in fields  # already known
    assert all(f.reveal for f in form.fields if f.id.startswith("impact."))
    assert form.open_label == "Fill in one form"


async def test_an_engineers_form_names_the_case_with_its_priority_and_title(
        handler: Handler) -> None:
    case_id = await open_case(handler, at=MONDAY)
    form = only(await say(handler, "ana", choice=f"case:escalate:{case_id}", at=MONDAY)).form
    assert form is not None
    assert form.intro == (f"{case_id} · P0 – Catastrophic · The orders API returns 500 for "
                          "most calls")
    assert parse_choice(form.id).case_id == case_id


async def test_the_intake_summary_offers_open_the_case_first_its_corrections_after(
        handler: Handler) -> None:
    out = await say(handler, "alice", "P1: acme-prod orders API returns 500 for a substantial "
                    "part of our traffic", at=MONDAY)
    summary = out.replies[-1]
    assert summary.text.startswith("Please check and confirm")
    assert summary.choice_kind == "actions"
    assert summary.choices[0].label == "Open the case" and summary.choices[0].primary

