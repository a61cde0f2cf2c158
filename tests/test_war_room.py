"""Konneqt's war team and its response plan, read as the policy.

Service Levels: “If a Workaround is not achieved within the Target Workaround Time, or if a
resolution is not reached within the Target Resolution Time … the Incident will be escalated
to the Konneqt executive team”, which forms the Incident war team (support engineers,
executives, the subscriber's representatives) and sets a response plan: technical
assessment, evaluation of mitigation strategies, resource allocation, status-update
frequency (pack clause: “Service Levels: the Incident “war team” and its response plan”).

Everything runs for real: the scheduler fires the missed target on a real store (SQLite and
Redis), the conversation handler takes the button presses and form submissions, and the
Slack and Teams renderers turn the post into Block Kit and an Adaptive Card.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.slack import render as slack_render
from adapters.slack.actions import ActionId, decode_button_value, parse_action_id
from adapters.slack.notices import notice_items as slack_items
from adapters.teams import render as teams_render
from adapters.teams.actions import decode_submission
from adapters.teams.notices import notice_items as teams_items
from bot.case_card import case_card
from bot.cases import CaseService
from bot.deployment import Directory, load_deployment
from bot.handler import Handler
from bot.intake import CaseDraft
from bot.messages import Inbound, Notice, Outcome, Place, Reply
from bot.scheduler import Scheduler
from bot.sla_view import case_status
from bot.store.base import Store
from bot.timeline import describe_event
from policy.pack import load_pack
from tests.test_slack_render import assert_valid_message, assert_valid_modal
from tests.test_teams_render import _walk

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = Directory(load_deployment(ROOT / "examples" / "frontdoor.toml"))
WAR = load_pack("konneqt").escalation.war_team
assert WAR is not None
CLAUSE = WAR.clause  # "Service Levels: the Incident “war team” and its response plan"
NY = ZoneInfo("America/New_York")
OPENED = datetime(2026, 11, 23, 8, 0, tzinfo=NY)  # Mon, P1 Enterprise, acme-prod (managed)
ACKNOWLEDGED = datetime(2026, 11, 23, 8, 40, tzinfo=NY)
# Workaround 24 business hours from Mon 08:40 (8x5): Mon 8 h 20, Tue 9 h, Wed 6 h 40 → 14:40.
WORKAROUND_MISSED = datetime(2026, 11, 25, 14, 40, tzinfo=NY)
LATER = datetime(2026, 11, 25, 15, 5, tzinfo=NY)
ITEMS = ["Technical assessment", "Evaluation of mitigation strategies", "Resource allocation",
         "Status update frequency"]


@dataclass
class WarRoom:
    """One Acme P1 whose workaround target was missed, and the people around it."""

    store: Store
    handler: Handler
    case_id: str
    formed: list[Notice] = field(default_factory=list)

    def person(self, who: str) -> Any:
        person = DIRECTORY.person(who)
        assert person is not None
        return person

    async def press(self, who: str, choice: str, at: datetime = LATER) -> Outcome:
        return await self.handler.handle(Inbound(self.person(who), Place("slack", "C0WARROOM",
                                                                         "1.000001"),
                                                 at, choice=choice))

    async def submit(self, who: str, form: dict[str, str], at: datetime = LATER) -> Outcome:
        return await self.handler.handle(Inbound(self.person(who), Place("slack", "C0WARROOM",
                                                                         "1.000001"),
                                                 at, form=form))

    async def say(self, who: str, text: str, at: datetime = LATER) -> Outcome:
        return await self.handler.handle(Inbound(self.person(who), Place("web", f"web:{who}"),
                                                 at, text=text))

    async def plan_events(self) -> list[Any]:
        return [e for e in await self.store.case_events(self.case_id)
                if e.kind == "response_plan"]


async def _open_p1(store: Store, at: datetime = OPENED) -> str:
    alice = DIRECTORY.person("alice")
    assert alice is not None
    draft = CaseDraft(
        customer_id="acme", case_type="incident", priority="P1", requested_priority="P1",
        priority_source="customer", priority_reason=None, deployment="acme-prod",
        environment="production", managed=True, hypercare=False, fields={},
        description="Checkout fails: every call to the orders API returns 503", scope=None)
    case = await CaseService(store, DIRECTORY).open_case(alice, draft, Place("web", "t"), at)
    return case.id


@pytest.fixture
async def war_room(store: Store) -> WarRoom:
    """The scheduler fires the missed workaround target (as `frontdoor tick` would)."""
    notices: list[Notice] = []

    async def sink(batch: Sequence[Notice], key: str, now: datetime) -> None:
        notices.extend(batch)

    scheduler = Scheduler(store, DIRECTORY, sink, "test")
    handler = Handler(store, DIRECTORY, on_case_change=scheduler.reschedule)
    case_id = await _open_p1(store)
    ana = DIRECTORY.person("ana")
    assert ana is not None
    await handler.cases.act(ana, case_id, "acknowledge", ACKNOWLEDGED)
    await store.schedule_case(case_id, WORKAROUND_MISSED)
    await scheduler.tick(WORKAROUND_MISSED)
    return WarRoom(store, handler, case_id,
                   [n for n in notices if n.audience == "war_room"])


def _choice(post: Reply, number: int) -> str:
    assert post.plan is not None
    action = post.plan.items[number - 1].action
    assert action is not None
    return action.id


# ---- the post ------------------------------------------------------------------------------


async def test_a_missed_workaround_target_posts_the_war_team_with_four_open_plan_fields(
    war_room: WarRoom,
) -> None:
    """Service Levels: the missed Target Workaround Time escalates to the executive team and
    forms the war team — the post names its support engineers, executives and the
    customer's representatives, and each response-plan item is an open field with its own
    button (clause: the Incident “war team” and its response plan)."""
    assert len(war_room.formed) == 1
    post = war_room.formed[0]
    assert post.kind == "war_team" and post.case_id == war_room.case_id
    plan = post.reply.plan
    assert plan is not None and plan.clause == CLAUSE
    assert [i.label for i in plan.items] == ITEMS and plan.agreed == 0
    assert all(not i.done and i.action is not None for i in plan.items)
    assert [i.action.id for i in plan.items if i.action] == [
        f"case:response_plan/{slug}:{war_room.case_id}" for slug in (
            "technical-assessment", "evaluation-of-mitigation-strategies",
            "resource-allocation", "status-update-frequency")]
    text = post.reply.text
    assert "workaround target" in text and "executive team" in text
    assert "Ana Ruiz" in text and "Ben Okafor" in text  # support engineers
    assert "executives: Olivia Park" in text  # the vendor's admins are its executives
    assert "customer representatives: Alice Chen" in text  # Acme's customer admin
    assert "☐ 4. Status update frequency — open (the policy's cadence: every 4 h)" in text
    case = await war_room.store.get_case(war_room.case_id)
    assert case is not None and case.escalation_level == "executive"


async def test_no_response_plan_before_the_war_team_is_formed(store: Store) -> None:
    """The war team is formed by the missed target (or an escalation to the executive team):
    before that there is no plan to fill in, and the engineer is told what forms it."""
    handler = Handler(store, DIRECTORY)
    case_id = await _open_p1(store)
    ana = DIRECTORY.person("ana")
    assert ana is not None
    outcome = await handler.handle(Inbound(ana, Place("web", "web:ana"), LATER,
                                           text=f"plan {case_id} 1 DB pool exhausted"))
    assert "no war team yet" in outcome.replies[0].text and CLAUSE in outcome.replies[0].text
    assert not [e for e in await store.case_events(case_id) if e.kind == "response_plan"]


async def test_an_engineer_escalating_to_the_executive_team_forms_the_war_team(
    store: Store,
) -> None:
    """The executive level's first duty is to form the Incident war team: an engineer's
    escalation to it posts the war room just like a missed target does."""
    handler = Handler(store, DIRECTORY)
    case_id = await _open_p1(store)
    ana = DIRECTORY.person("ana")
    assert ana is not None
    outcome = await handler.handle(Inbound(ana, Place("web", "web:ana"), LATER, form={
        "_action": "escalate", "_case": case_id, "level": "executive",
        "text": "Checkout down for every Acme customer"}))
    posts = [n for n in outcome.notices if n.audience == "war_room"]
    assert len(posts) == 1 and posts[0].reply.plan is not None
    assert "the war team is formed" in posts[0].reply.text
    assert posts[0].reply.plan.agreed == 0


# ---- filling it in -------------------------------------------------------------------------


async def test_an_engineer_fills_in_an_item_recorded_and_the_post_updated_in_place(
    war_room: WarRoom,
) -> None:
    """The war team sets the response plan: an engineer presses an item's button, gets the
    form, submits the technical assessment — it is in the case history (item, text, who,
    when), and the war-room post is updated in place with that item ☑ and the rest open."""
    pressed = await war_room.press("ana", _choice(war_room.formed[0].reply, 1))
    form = pressed.replies[0].form
    assert form is not None and pressed.replies[0].private
    assert [f.label for f in form.fields if f.kind != "hidden"] == ["Technical assessment"]
    assert not await war_room.plan_events()  # a button alone records nothing
    hidden = {f.id: f.value or "" for f in form.fields if f.kind == "hidden"}
    done = await war_room.submit("ana", {**hidden, "text": "Connection pool exhausted on "
                                                            "orders-db after the 4.2 upgrade"})
    [event] = await war_room.plan_events()
    assert (event.actor, event.data["item"], event.data["value"]) == (
        "ana", "technical-assessment",
        "Connection pool exhausted on orders-db after the 4.2 upgrade")
    assert event.at == LATER
    assert "Recorded" in done.replies[0].text and done.replies[0].private
    [update] = [n for n in done.notices if n.audience == "war_room"]
    assert update.kind == "response_plan" and update.reply.plan is not None
    first, *rest = update.reply.plan.items
    assert first.done and first.value and first.value.startswith("Connection pool")
    assert first.by == "Ana Ruiz (engineer)" and first.at == "Wed 25 Nov 15:05 EST"
    assert first.action is not None and first.action.label == "Change"
    assert [i.done for i in rest] == [False, False, False]
    assert update.reply.plan.title == "Response plan — 1 of 4 agreed"
    # In place: on Slack and Teams the update targets the post the missed target created.
    for items_of in (slack_items, teams_items):
        created = await items_of(war_room.store, DIRECTORY, war_room.formed[0], LATER)
        updated = await items_of(war_room.store, DIRECTORY, update, LATER)
        assert [i.payload["op"] for i in created] == ["card"]
        assert [i.payload["op"] for i in updated] == ["card", "thread_reply"]
        assert created[0].payload["card_key"] == updated[0].payload["card_key"] == \
            f"{war_room.case_id}:war_room"


async def test_filling_in_an_item_again_replaces_it_and_the_history_keeps_both(
    war_room: WarRoom,
) -> None:
    """An agreed item can be revised: the post shows the latest, the history both."""
    olivia_first = await war_room.say("olivia", f"plan {war_room.case_id} 3 Ana and Ben "
                                                "full time")
    assert "Recorded" in olivia_first.replies[0].text
    revised = await war_room.say("ana", f"plan {war_room.case_id} resources Ana, Ben and a "
                                        "DBA from the database team", at=LATER)
    events = await war_room.plan_events()
    assert [(e.actor, e.data["value"]) for e in events] == [
        ("olivia", "Ana and Ben full time"),
        ("ana", "Ana, Ben and a DBA from the database team")]
    [update] = [n for n in revised.notices if n.audience == "war_room"]
    assert update.reply.plan is not None
    item = update.reply.plan.items[2]
    assert item.value == "Ana, Ben and a DBA from the database team"
    assert item.by == "Ana Ruiz (engineer)"
    assert update.reply.plan.agreed == 1


async def test_the_status_update_frequency_is_a_choice_of_cadences_the_policys_by_default(
    war_room: WarRoom,
) -> None:
    """Status-update frequency is agreed as a cadence; the form offers cadences with the
    policy's own for this case (P1 Enterprise: every 4 h of coverage) preselected."""
    pressed = await war_room.press("ben", _choice(war_room.formed[0].reply, 4))
    form = pressed.replies[0].form
    assert form is not None
    [cadence] = [f for f in form.fields if f.kind != "hidden"]
    assert cadence.kind == "choice" and cadence.value == "4h"
    labels = {c.id: c.label for c in cadence.choices}
    assert labels["4h"] == "Every 4 h (the policy's cadence)" and "2h" in labels
    hidden = {f.id: f.value or "" for f in form.fields if f.kind == "hidden"}
    done = await war_room.submit("ben", {**hidden, "text": "2h"})
    [event] = await war_room.plan_events()
    assert (event.data["value"], event.data["shown"]) == ("2h", "every 2 h")
    [update] = [n for n in done.notices if n.audience == "war_room"]
    assert update.reply.plan is not None and update.reply.plan.items[3].value == "every 2 h"
    bad = await war_room.say("ben", f"plan {war_room.case_id} 4 whenever")
    assert "is a cadence" in bad.replies[0].text and len(await war_room.plan_events()) == 1


async def test_an_agreed_cadence_moves_the_next_status_update_but_never_later(
    war_room: WarRoom,
) -> None:
    """The support team works under the war team's direction: status updates every 2 h
    agreed means the next prompt comes 2 coverage hours after the last update (not the
    table's 4); 8 h agreed keeps the table's 4 h, which the customer is owed."""
    case_id = war_room.case_id
    await war_room.say("ben", f"comment {case_id} Failover to the secondary is under way")
    # Wed 15:05 + 2 h of 8x5 coverage: 1 h 55 on Wednesday, Thanksgiving, Fri 27 Nov 08:05.
    two_hours = datetime(2026, 11, 27, 8, 5, tzinfo=NY)
    await war_room.say("ben", f"plan {case_id} 4 2h")
    case = await war_room.store.get_case(case_id)
    assert case is not None
    events = await war_room.store.case_events(case_id)
    status = case_status(load_pack("konneqt"), DIRECTORY.customer("acme"), case, events, LATER)
    assert status is not None and status.next_status_update == two_hours
    ahead = await war_room.store.claim_due_cases(two_hours - timedelta(minutes=1), 10, 60, "t")
    assert ahead == []  # the case's timer is the new prompt, nothing sooner
    [(claimed, due)] = await war_room.store.claim_due_cases(two_hours, 10, 60, "t")
    assert claimed == case_id and due == two_hours
    await war_room.store.release_case(case_id, "t", due)

    for looser in ("8h", "1 business day"):  # a later, looser agreement: the table's again
        await war_room.say("ben", f"plan {case_id} 4 2h")
        await war_room.say("ben", f"plan {case_id} 4 {looser}")
        events = await war_room.store.case_events(case_id)
        status = case_status(load_pack("konneqt"), DIRECTORY.customer("acme"), case, events,
                             LATER)
        assert status is not None and status.status_update_every == timedelta(hours=4), looser


@pytest.mark.parametrize("who", ["alice", "adam", "pia"])
async def test_customers_and_partners_cannot_fill_in_the_response_plan(
    war_room: WarRoom, who: str,
) -> None:
    """The response plan is the vendor's (its engineers and executives) to agree: the
    customer's admin and users and the partner are refused — with the clause — at the
    button and at a submitted form, nothing is recorded, and the refusal is audited."""
    item = _choice(war_room.formed[0].reply, 1)
    pressed = await war_room.press(who, item)
    assert pressed.replies[0].form is None and pressed.replies[0].private
    refusal = pressed.replies[0].text
    assert "can't fill in a war team's response plan" in refusal and CLAUSE in refusal
    forged = await war_room.submit(who, {"_action": "response_plan/technical-assessment",
                                         "_case": war_room.case_id, "text": "All fine"})
    assert "can't fill in a war team's response plan" in forged.replies[0].text
    assert not forged.notices
    typed = await war_room.say(who, f"plan {war_room.case_id} 1 All fine")
    assert "can't fill in" in typed.replies[0].text
    assert not await war_room.plan_events()
    audit = await war_room.store.audit_entries(war_room.case_id)
    assert [e.action for e in audit if e.actor == who and not e.allowed] == \
        ["response_plan"] * 3


async def test_the_case_card_and_the_timeline_show_the_plan(war_room: WarRoom) -> None:
    """The case card says how far the plan is; the case history reads as who agreed what."""
    await war_room.say("ana", f"plan {war_room.case_id} 2 Fail over to the standby cluster")
    case = await war_room.store.get_case(war_room.case_id)
    assert case is not None
    events = await war_room.store.case_events(war_room.case_id)
    card = case_card(DIRECTORY, DIRECTORY.person("ana"), case, events,  # type: ignore[arg-type]
                     LATER)
    assert card.card is not None
    assert ("Response plan", "1 of 4 agreed (Evaluation of mitigation strategies)") in \
        card.card.facts
    lines = [describe_event(DIRECTORY, case, e) for e in events]
    assert (f"Ana Ruiz (engineer) agreed “Evaluation of mitigation strategies” for the war "
            f"team of {war_room.case_id}: Fail over to the standby cluster") in lines


async def test_the_plan_is_closed_with_the_case(war_room: WarRoom) -> None:
    """The war team works until the incident is resolved: a resolved case's post has no
    buttons left, and an entry is refused."""
    ana = war_room.person("ana")
    await war_room.handler.cases.act(ana, war_room.case_id, "resolve", LATER, text="patched")
    shown = await war_room.say("ana", f"plan {war_room.case_id}")
    assert shown.replies[0].plan is not None
    assert all(i.action is None for i in shown.replies[0].plan.items)
    refused = await war_room.say("ana", f"plan {war_room.case_id} 1 too late")
    assert "resolved" in refused.replies[0].text and not await war_room.plan_events()


# ---- rendering -----------------------------------------------------------------------------


async def test_slack_renders_each_item_as_a_section_with_its_fill_in_button(
    war_room: WarRoom,
) -> None:
    """Block Kit: one section per item (☐ open / ☑ agreed, who and when) with its button as
    the accessory, carrying the neutral case action; the modal fills in the one item."""
    post = war_room.formed[0].reply
    message = slack_render.render_message(post)
    assert_valid_message(message)
    sections = [b for b in message["blocks"] if b.get("block_id", "").startswith("plan-")]
    assert [s["text"]["text"].split("\n")[0] for s in sections] == [
        f"☐ *{n}. {label}*" for n, label in enumerate(ITEMS, start=1)]
    for number, section in enumerate(sections, start=1):
        button = section["accessory"]
        assert parse_action_id(button["action_id"]) is ActionId.CASE
        value = decode_button_value(button["value"])
        assert value.choice == _choice(post, number) and value.case == war_room.case_id
        assert button["text"]["text"] == "Fill in"
    assert CLAUSE in str(message["blocks"][-1])
    pressed = await war_room.press("ana", _choice(post, 1))
    form = pressed.replies[0].form
    assert form is not None
    modal = slack_render.render_modal(form, slack_render.metadata_for(form, "C0WARROOM", None))
    assert_valid_modal(modal)
    hidden = {f.id: f.value or "" for f in form.fields if f.kind == "hidden"}
    done = await war_room.submit("ana", {**hidden, "text": "Pool exhausted <orders-db> & co"})
    [update] = [n for n in done.notices if n.audience == "war_room"]
    items = await slack_items(war_room.store, DIRECTORY, update, LATER)
    card = items[0].payload["message"]
    assert_valid_message(card)
    first = next(b for b in card["blocks"] if b.get("block_id") == "plan-1")
    assert first["text"]["text"].startswith("☑ *1. Technical assessment*\nPool exhausted "
                                            "&lt;orders-db&gt; &amp; co\n_Ana Ruiz")
    assert first["accessory"]["text"]["text"] == "Change"
    under = items[1].payload["message"]["text"]
    assert under.startswith("Ana Ruiz (engineer) agreed “Technical assessment”")


async def test_teams_renders_each_item_as_a_container_with_a_submit_button(
    war_room: WarRoom,
) -> None:
    """Adaptive Card (Action.Submit only): one container per item with its state and an
    Action.Submit whose data is the neutral choice id; the plan's title and the clause."""
    post = war_room.formed[0].reply
    activity = teams_render.render_activity(post)
    card = activity["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    plan = next(e for e in card["body"] if e.get("type") == "Container"
                and e["items"][0].get("text") == "Response plan — 0 of 4 agreed")
    items = [c for c in plan["items"] if c.get("type") == "Container"]
    assert [c["items"][0]["text"] for c in items] == [
        f"☐ **{n}. {label}**" for n, label in enumerate(ITEMS, start=1)]
    for number, container in enumerate(items, start=1):
        [submit] = container["items"][-1]["actions"]
        assert submit["type"] == "Action.Submit" and submit["title"] == "Fill in"
        target, _ = decode_submission(submit["data"])
        assert target.choice == _choice(post, number)
    assert "Action.Execute" not in str(card)
    assert plan["items"][-1]["text"] == CLAUSE
    await war_room.say("ana", f"plan {war_room.case_id} 4 4h")
    shown = await war_room.say("ana", f"plan {war_room.case_id}")
    card = teams_render.render_card(shown.replies[0])
    texts = [e.get("text") for e in _walk(card)]
    assert "☑ **4. Status update frequency**" in texts and "every 4 h" in texts

