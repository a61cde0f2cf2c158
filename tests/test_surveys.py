"""Satisfaction surveys in the conversation: asked when a case is resolved, 1–5 and an optional
comment, sampled, a cooldown per person, a low score tells the engineers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.choice_ids import parse_choice, survey_score
from bot.evidence_settings import EvidenceSettings
from bot.handler import Handler, HandlerSettings
from bot.messages import Inbound, Outcome, Place
from bot.news import conversation_news
from bot.store.sqlite import SqliteStore
from bot.surveys import SurveySettings, sampled
from tests.evidence_month import DIRECTORY

AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def make(tmp_path: Path, **survey: object) -> tuple[SqliteStore, Handler]:
    store = SqliteStore(tmp_path / "s.db")
    settings = HandlerSettings(evidence=EvidenceSettings(
        surveys=SurveySettings(**survey)))  # type: ignore[arg-type]
    return store, Handler(store, DIRECTORY, settings)


@pytest.fixture
async def handler(tmp_path: Path) -> AsyncIterator[Handler]:
    store, handler = make(tmp_path)
    await store.open()
    yield handler
    await store.close()


async def say(handler: Handler, user: str, text: str | None = None, choice: str | None = None,
              form: dict[str, str] | None = None, at: datetime = AT) -> Outcome:
    person = DIRECTORY.person(user)
    assert person is not None
    return await handler.handle(Inbound(person, Place("web", f"web:{user}"), at, text=text,
                                        choice=choice, form=form))


async def resolved_case(handler: Handler, user: str = "alice") -> tuple[str, Outcome]:
    await say(handler, user, "P2 the orders API in acme-prod fails after a restart")
    out = await say(handler, user, choice="confirm:open")
    case_id = next(r.card.case_id for r in out.replies if r.card)
    await say(handler, "ana", f"ack {case_id}")
    return case_id, await say(handler, "ana", f"resolve {case_id} fixed")


async def test_resolving_a_case_asks_its_reporter_for_a_score(handler: Handler) -> None:
    case_id, out = await resolved_case(handler)
    survey = [n for n in out.notices if n.kind == "survey"]
    assert len(survey) == 1 and survey[0].audience == "customer"
    assert [c.id for c in survey[0].reply.choices] == [str(survey_score(case_id, n))
                                                      for n in range(1, 6)]
    assert f"How did we do on {case_id}?" in survey[0].reply.text
    events = await handler.store.case_events(case_id)
    assert [e.kind for e in events].count("survey_requested") == 1
    # the web chat's conversation shows the question with its buttons
    alice = DIRECTORY.person("alice")
    assert alice is not None
    shown = [r for e, r in conversation_news(DIRECTORY, alice, (
        await handler.store.get_case(case_id)), events) if r and e.kind == "survey_requested"]
    assert shown and len(shown[0].choices) == 5


async def test_a_score_then_a_comment_is_recorded_and_the_latest_counts(
        handler: Handler) -> None:
    case_id, _ = await resolved_case(handler)
    tap = await say(handler, "alice", choice=str(survey_score(case_id, 4)))
    assert "rated 4/5" in tap.replies[0].text and tap.replies[0].form is not None
    hidden = {f.id: f.value for f in tap.replies[0].form.fields if f.kind == "hidden"}
    alice = DIRECTORY.person("alice")
    assert alice is not None  # a Slack button draws the same form again from its id
    again = handler.evidence.form_by_id(alice, tap.replies[0].form.id)
    assert again is not None and {f.id: f.value for f in again.fields
                                  if f.kind == "hidden"} == hidden
    done = await say(handler, "alice", form={**{k: v or "" for k, v in hidden.items()},
                                             "comment": "fast and friendly"})
    assert "with your comment" in done.replies[0].text
    answers = [e.data for e in await handler.store.case_events(case_id)
               if e.kind == "survey_answered"]
    assert answers == [{"score": 4, "comment": ""}, {"score": 4, "comment": "fast and friendly"}]


async def test_a_low_score_notifies_the_engineers_channel_with_the_case(
        handler: Handler) -> None:
    case_id, _ = await resolved_case(handler)
    out = await say(handler, "alice", f"rate {case_id} 1 nobody called back")
    low = [n for n in out.notices if n.kind == "low_score"]
    assert len(low) == 1 and low[0].audience == "engineers"
    assert low[0].reply.card is not None and low[0].reply.card.case_id == case_id
    assert "rated 1/5" in low[0].reply.text and "nobody called back" in low[0].reply.text
    high = await say(handler, "alice", f"rate {case_id} 5 all good after all")
    assert not [n for n in high.notices if n.kind == "low_score"]


async def test_only_the_customer_side_rates_a_resolved_case(handler: Handler) -> None:
    case_id, _ = await resolved_case(handler)
    assert "customer's to give" in (await say(handler, "ana", f"rate {case_id} 5")).replies[
        0].text
    assert "can't find" in (await say(handler, "gabriela", f"rate {case_id} 5")).replies[0].text
    await say(handler, "alice", f"reopen {case_id} it is back")
    assert "isn't resolved yet" in (await say(handler, "alice", f"rate {case_id} 3")).replies[
        0].text
    bad = await say(handler, "alice", choice=f"survey:9:{case_id}")
    assert "from 1 (poor) to 5" in bad.replies[0].text


async def test_a_person_is_asked_again_only_after_the_cooldown(handler: Handler) -> None:
    _first, out1 = await resolved_case(handler)
    _second, out2 = await resolved_case(handler)
    assert [n.kind for n in out1.notices].count("survey") == 1
    assert [n.kind for n in out2.notices].count("survey") == 0  # within 14 days
    _third, out3 = await resolved_case(handler, "adam")  # someone else is asked
    assert [n.kind for n in out3.notices].count("survey") == 1


async def test_a_case_is_asked_once_even_when_resolved_again(tmp_path: Path) -> None:
    store, handler = make(tmp_path, cooldown=timedelta(seconds=1))
    await store.open()
    try:
        case_id, _ = await resolved_case(handler)
        await say(handler, "alice", f"reopen {case_id} back again")
        again = await say(handler, "ana", f"resolve {case_id} fixed for real")
        assert not [n for n in again.notices if n.kind == "survey"]
    finally:
        await store.close()


async def test_sampling_asks_the_configured_share_stably_per_case(tmp_path: Path) -> None:
    ids = [f"ACME-{n}" for n in range(1, 2001)]
    share = sum(sampled(i, 0.25) for i in ids) / len(ids)
    assert 0.2 < share < 0.3
    assert [sampled(i, 0.25) for i in ids[:50]] == [sampled(i, 0.25) for i in ids[:50]]
    store, handler = make(tmp_path, sample=0.0)
    await store.open()
    try:
        _, out = await resolved_case(handler)
        assert not [n for n in out.notices if n.kind == "survey"]
    finally:
        await store.close()


def test_survey_choice_ids_round_trip() -> None:
    choice = parse_choice(str(survey_score("ACME-4", 3)))
    assert (choice.kind, choice.value, choice.case_id) == ("survey", "3", "ACME-4")


async def test_slack_and_teams_post_the_scores_as_buttons_in_the_case_thread(
        handler: Handler) -> None:
    import json

    from adapters.slack.render import render_message
    from adapters.teams.render import render_activity
    from bot.notice_routing import deliveries

    case_id, out = await resolved_case(handler)
    [survey] = [n for n in out.notices if n.kind == "survey"]
    [post] = deliveries(survey)
    assert (post.where, post.op) == ("origin", "post") and len(post.reply.choices) == 5
    slack = json.dumps(render_message(post.reply))
    teams = json.dumps(render_activity(post.reply))
    for score in range(1, 6):
        assert str(survey_score(case_id, score)) in slack
        assert str(survey_score(case_id, score)) in teams
