"""Announced service windows: engineers and admins announce maintenance (chat command, form,
CLI); the customer is told in its own time zone, reminded before it starts and told when it
ends; "is any maintenance planned?" gets an answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.bulletins import customer_audience
from bot.handler import Handler
from bot.messages import Inbound, Outcome, Place
from bot.service_windows import ServiceWindows
from bot.store.base import Store
from tests.evidence_month import CPH, DIRECTORY, LON, NY, at


@pytest.fixture
async def handler(store: Store) -> AsyncIterator[Handler]:
    yield Handler(store, DIRECTORY)


async def say(handler: Handler, user: str, when: datetime, text: str | None = None,
              form: dict[str, str] | None = None) -> Outcome:
    person = DIRECTORY.person(user)
    assert person is not None
    return await handler.handle(Inbound(person, Place("web", f"web:{user}"), when, text=text,
                                        form=form))


async def test_an_engineer_announces_maintenance_and_the_customer_is_told_in_its_zone(
        handler: Handler) -> None:
    out = await say(handler, "ana", at(NY, 10, 8),
                    "maintenance nordlys-prod 2026-11-12 14:00-15:00 security patches")
    assert "Announced MW-1 for Nordlys Energi (nordlys-prod): Thu 12 Nov 2026 14:00–15:00 " \
           "CET — security patches" in out.replies[0].text
    [window] = await handler.store.service_windows(["nordlys"])
    assert (window.starts_at, window.ends_at) == (at(CPH, 12, 14), at(CPH, 12, 15))
    [told] = await handler.store.bulletins([customer_audience("nordlys")])
    assert told.kind == "maintenance" and "14:00–15:00 CET" in told.text
    pending = await handler.store.claim_outbox(at(NY, 10, 8), 10, 30, "t")
    assert [i.platform for i in pending] == ["bulletin"]  # fanned out to each platform


async def test_customers_may_not_announce_maintenance(handler: Handler) -> None:
    out = await say(handler, "nils", at(CPH, 10, 8), "maintenance")
    assert out.replies[0].text == "No maintenance is planned."
    refused = await ServiceWindows(handler.store, DIRECTORY).planned(
        DIRECTORY.person("nils"), at(CPH, 10, 8))  # type: ignore[arg-type]
    assert refused == "No maintenance is planned."
    with pytest.raises(Exception, match="Only the support team"):
        from bot.service_windows import parse_announcement

        await ServiceWindows(handler.store, DIRECTORY).announce(
            DIRECTORY.person("nils"),  # type: ignore[arg-type]
            parse_announcement(DIRECTORY, "nordlys-prod 2026-11-12 14:00-15:00 x"),
            at(CPH, 10, 8))


async def test_is_any_maintenance_planned_gets_an_answer(handler: Handler) -> None:
    await say(handler, "ana", at(LON, 20, 12),
              "maintenance identity-platform 2026-11-22 01:00 for 90m database upgrade")
    await say(handler, "ana", at(LON, 20, 12), "maintenance ACME 2026-11-23 22:00-23:00 dns")
    uma = await say(handler, "uma", at(LON, 21, 9), "is any maintenance planned?")
    assert uma.replies[0].text == (
        "Planned maintenance:\n• MW-1 Umbrella Health, identity-platform: Sun 22 Nov 2026 "
        "01:00–02:30 GMT — database upgrade")
    vendor = await say(handler, "olivia", at(LON, 21, 9), "planned maintenance")
    assert "MW-1" in vendor.replies[0].text and "MW-2 Acme Corp, all of Acme Corp's " \
        "deployments" in vendor.replies[0].text


async def test_customers_are_reminded_before_and_told_when_it_ends_once_each(
        handler: Handler) -> None:
    await say(handler, "ana", at(CPH, 9, 9),
              "maintenance nordlys-prod 2026-11-12 14:00-15:00 security patches")
    windows = ServiceWindows(handler.store, DIRECTORY)
    assert await windows.due(at(CPH, 11, 13)) == 0  # more than 24 h before
    assert await windows.due(at(CPH, 11, 14, 30)) == 1  # the reminder
    assert await windows.due(at(CPH, 11, 15)) == 0
    assert await windows.due(at(CPH, 12, 15, 1)) == 1  # it's over
    assert await windows.due(at(CPH, 12, 16)) == 0
    kinds = [b.kind for b in await handler.store.bulletins([customer_audience("nordlys")])]
    assert kinds == ["maintenance", "maintenance_reminder", "maintenance_ended"]


async def test_a_cancelled_window_is_said_and_never_counted(handler: Handler) -> None:
    await say(handler, "ana", at(CPH, 9, 9),
              "maintenance nordlys-prod 2026-11-12 14:00-15:00 security patches")
    out = await say(handler, "ana", at(CPH, 10, 9), "cancel maintenance MW-1")
    assert out.replies[0].text == "Cancelled MW-1; Nordlys Energi was told."
    [window] = await handler.store.service_windows(["nordlys"])
    assert not window.active
    assert await ServiceWindows(handler.store, DIRECTORY).due(at(CPH, 12, 15, 1)) == 0


async def test_the_maintenance_form_announces_too(handler: Handler) -> None:
    form = (await say(handler, "olivia", at(CPH, 9, 9), "maintenance")).replies[0].form
    assert form is not None and form.title == "Announce maintenance"
    out = await say(handler, "olivia", at(CPH, 9, 9), form={
        "_evidence": "maintenance", "target": "nordlys-prod", "date": "2026-11-12",
        "start": "14:00", "end": "15:30", "reason": "patches"})
    assert "Announced MW-1" in out.replies[0].text and "14:00–15:30" in out.replies[0].text


@pytest.mark.parametrize(("text", "error"), [
    ("maintenance pluto 2026-11-12 14:00-15:00 x", "No customer or deployment 'pluto'"),
    ("maintenance nordlys-prod 2026-11-12 15:00-14:00 x", "must end after it starts"),
    ("maintenance nordlys-prod tomorrow afternoon", "Say “maintenance <customer"),
])
async def test_a_bad_announcement_says_what_to_write(handler: Handler, text: str,
                                                     error: str) -> None:
    out = await say(handler, "ana", at(CPH, 9, 9), text)
    assert error in out.replies[0].text


async def test_a_window_announced_after_it_began_is_said_to_count_as_downtime(
        handler: Handler) -> None:
    out = await say(handler, "olivia", at(CPH, 18, 13, 10),
                    "maintenance nordlys-prod 2026-11-18 13:00-13:30 emergency restart")
    assert "counts it as downtime" in out.replies[0].text
    [window] = await handler.store.service_windows(["nordlys"])
    assert window.announced_at - window.starts_at == timedelta(minutes=10)


def test_the_cli_announces_lists_and_cancels(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from adapters.cli import main

    monkeypatch.setenv("FRONTDOOR_DB", str(tmp_path / "cli.db"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert main(["maintenance", "announce", "nordlys-prod", "--start", "2099-03-04T14:00",
                 "--end", "2099-03-04T15:00", "--reason", "patches", "--as", "ana"]) == 0
    announced = json.loads(capsys.readouterr().out)
    assert announced["window"]["id"] == "MW-1"
    assert announced["window"]["starts_at"] == "2099-03-04T14:00:00+01:00"  # the customer's zone
    assert main(["maintenance", "list"]) == 0
    assert [w["id"] for w in json.loads(capsys.readouterr().out)["windows"]] == ["MW-1"]
    assert main(["maintenance", "cancel", "MW-1"]) == 0
    assert main(["maintenance", "announce", "nordlys-prod", "--start", "2099-03-04T14:00",
                 "--end", "2099-03-04T15:00", "--reason", "x", "--as", "nils"]) == 2
    assert "not an engineer or admin" in capsys.readouterr().err


async def test_the_maintenance_form_is_a_slack_modal_and_a_teams_card(
        handler: Handler) -> None:
    """Slack: the reply's button opens the form as a modal (drawn again from its id);
    Teams: the form is the card."""
    import json

    from adapters.slack.render import render_message
    from adapters.teams.render import render_activity

    reply = (await say(handler, "olivia", at(CPH, 9, 9), "maintenance")).replies[0]
    assert reply.form is not None
    message = json.dumps(render_message(reply))
    assert reply.form.id in message  # the button that opens the modal carries the form id
    olivia = DIRECTORY.person("olivia")
    assert olivia is not None
    again = handler.evidence.form_by_id(olivia, reply.form.id)
    assert again is not None and [f.id for f in again.fields] == [f.id for f in
                                                                   reply.form.fields]
    nils = DIRECTORY.person("nils")
    assert nils is not None and handler.evidence.form_by_id(nils, reply.form.id) is None
    card = json.dumps(render_activity(reply))
    assert "Input.ChoiceSet" in card and "Announce" in card
