"""Case cards people read at a glance, measured: a support conversation per policy pack
through the Teams and Slack fakes (frontdoor_testkit/card_tour.py), every Adaptive Card the
bot posted rendered by Microsoft's renderer (npm `adaptivecards`, the Teams host config) in
headless Chromium at 450 px, Teams' chat column (frontdoor_testkit/card_check.py), and every
Block Kit payload validated with slack_sdk's models. One test per rule.

Screenshots of every card, as posted and with "More…" and "Why?" opened, are saved in
$FRONTDOOR_SCREENSHOTS/cards (default /tmp/frontdoor-cards): look at them. Without Chromium or
npm these tests skip on a laptop, saying how to install them, and fail in CI (CI=true);
`.ci/run` installs both.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.deployment import load_deployment
from frontdoor_testkit.card_check import WIDTH, CardRenderer, Rendered, install
from frontdoor_testkit.card_tour import (
    ENGINEER_CHAT,
    ESCALATIONS,
    SCRIPTS,
    SLACK_ENGINEERS,
    SLACK_ESCALATIONS,
    SLACK_WAR_ROOM,
    WAR_ROOM,
    Tour,
    run_tour,
)
from frontdoor_testkit.chromium import CHROMIUM, INSTALL_HINT
from frontdoor_testkit.redis_server import in_ci
from frontdoor_testkit.teams_client import ENGINEERS
from tests.test_slack_render import assert_valid_home, assert_valid_message, assert_valid_modal

ROOT = Path(__file__).resolve().parent.parent
SHOTS = Path(os.environ.get("FRONTDOOR_SCREENSHOTS", "/tmp")) / "frontdoor-cards"
ENGINEERS_CARD_MAX_PX = 450
CASE_ID = re.compile(r"\b[A-Z][A-Z0-9]*-\d+\b")
DEPLOYMENT = load_deployment(ROOT / "examples" / "frontdoor.toml")
VENDOR_ZONE = DEPLOYMENT.vendor.timezone

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not in_ci(),
    reason=f"Chromium is not at {CHROMIUM}: {INSTALL_HINT}",
)


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> Tour:
    return run_tour(tmp_path_factory.mktemp("card-tour"))


def _where(conversation: str) -> str:
    base = conversation.split(";")[0]
    names = {ENGINEERS: "engineers", ESCALATIONS: "escalations", WAR_ROOM: "war-room",
             ENGINEER_CHAT: "engineer-chat"}
    if base in names:
        return names[base] + ("-thread" if ";" in conversation else "")
    return "customer-" + base.removeprefix("a:personal-")


@pytest.fixture(scope="module")
def rendered(tour: Tour) -> Iterator[list[tuple[str, dict[str, Any], Rendered]]]:
    """Every Adaptive Card the bot posted, rendered at 450 px (and photographed)."""
    problem = install()
    if problem is not None:
        if in_ci():
            pytest.fail(problem, pytrace=False)
        pytest.skip(problem)
    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    out = []
    with CardRenderer(str(CHROMIUM)) as renderer:
        for n, (call, card) in enumerate(tour.teams_cards()):
            where = _where(call.conversation)
            case = CASE_ID.search(call.text)
            name = f"{n:03d}-{where}" + (f"-{case.group(0)}" if case else "")
            out.append((where, card, renderer.render(card, SHOTS / name)))
    yield out


def _engineers_cards(rendered: list[tuple[str, dict[str, Any], Rendered]]
                     ) -> list[tuple[str, dict[str, Any], Rendered]]:
    """The case cards in the engineers' channel (not the news posted under them)."""
    return [r for r in rendered if r[0] == "engineers"]


# ---- Teams, measured by Microsoft's renderer ------------------------------------------------


def test_the_tour_posts_cards_on_every_pack(tour: Tour,
                                           rendered: list[tuple[str, Any, Rendered]]) -> None:
    assert set(tour.cases) == {s.pack for s in SCRIPTS}
    assert len(rendered) >= 60
    assert any(where == "war-room" for where, _, _ in rendered)
    assert all(r.screenshots for _, _, r in rendered)


def test_no_action_label_or_title_is_cut_at_450_px(
        rendered: list[tuple[str, Any, Rendered]]) -> None:
    cut = [(r.screenshots[0].name, t["kind"], t["text"]) for _, _, r in rendered
           for t in (*r.closed.truncated, *r.opened.truncated)]
    assert not cut, cut
    assert all(r.closed.width == WIDTH for _, _, r in rendered)


def test_an_engineers_card_is_at_most_450_px_tall_before_why_is_opened(
        rendered: list[tuple[str, Any, Rendered]]) -> None:
    cards = _engineers_cards(rendered)
    assert len(cards) >= 8
    tall = [(r.screenshots[0].name, r.closed.height) for _, _, r in cards
            if r.closed.height > ENGINEERS_CARD_MAX_PX]
    assert not tall, tall


def test_every_card_parses_without_a_warning(
        rendered: list[tuple[str, Any, Rendered]]) -> None:
    warned = [(r.screenshots[0].name, r.warnings) for _, _, r in rendered if r.warnings]
    assert not warned, warned


def test_at_most_three_buttons_in_sight_on_a_teams_card(
        rendered: list[tuple[str, Any, Rendered]]) -> None:
    """A row of buttons as posted (a question's answers may take several rows)."""
    for _, card, result in rendered:
        rows = [e for e in card["body"] if e.get("type") == "ActionSet"]
        assert all(len(row["actions"]) <= 3 for row in rows), result.screenshots[0].name


def test_the_articles_found_for_a_case_are_folded_on_the_engineers_card(
        rendered: list[tuple[str, Any, Rendered]]) -> None:
    """A question's case carries the documentation found for it: one line says how many,
    the articles (each with its send button) unfold from it, so the card stays short."""
    with_articles = [result for _, card, result in _engineers_cards(rendered)
                     if "Send to customer" in str(card)]
    assert with_articles
    for result in with_articles:
        assert "Send to customer" not in result.closed.buttons
        assert "Send to customer" in result.opened.buttons


def test_a_case_card_in_the_engineers_channel_has_its_buttons_in_one_row(
        rendered: list[tuple[str, Any, Rendered]]) -> None:
    for _, card, result in _engineers_cards(rendered):
        rows = [e for e in card["body"] if e.get("type") == "ActionSet"]
        assert len(rows) <= 1, result.screenshots[0].name


# ---- Slack, validated with slack_sdk's models -----------------------------------------------


def test_every_block_kit_payload_validates(tour: Tour) -> None:
    messages = list(tour.slack_messages())
    assert len(messages) >= 60
    for _, message in messages:
        assert_valid_message(message)  # structure, at most three buttons an actions block
    for call, view in tour.slack_views():
        if call.method == "views.publish":
            assert_valid_home(view)
        else:
            assert_valid_modal(view)


def test_every_slack_case_card_has_one_next_due_line(tour: Tour) -> None:
    cards = 0
    for _, message in tour.slack_messages():
        headers = [b for b in message["blocks"] if b["type"] == "header"
                   and re.match(r"[A-Z][A-Z0-9]*-\d+ · ", b["text"]["text"])]
        if not headers:
            continue
        cards += 1
        due = [b for b in message["blocks"] if str(b.get("block_id", "")).startswith(
            "next-due:")]
        assert len(due) == len(headers), message["text"][:200]
    assert cards >= 20


def test_the_war_room_post_mentions_the_war_team(tour: Tour) -> None:
    slack = [m for c, m in tour.slack_messages() if c.params.get("channel") == SLACK_WAR_ROOM
             and "War team" in m["text"]]
    assert slack
    team = next(b for b in slack[0]["blocks"] if str(b.get("block_id", "")).startswith(
        "war-team:"))
    assert "<@U0ANA>" in team["text"]["text"] and "<@U0OLIVIA>" in team["text"]["text"]
    assert team["text"]["text"].count("Ana Ruiz") + team["text"]["text"].count("<@U0ANA>") == 1
    teams = [c for c, _ in tour.teams_cards() if c.conversation == WAR_ROOM]
    assert teams
    entities = teams[0].card["msteams"]["entities"] if teams[0].card else []
    assert {e["mentioned"]["id"] for e in entities} >= {"29:ana", "29:ben", "29:olivia"}


def test_why_in_slack_answers_with_each_dues_arithmetic_to_the_asker_only(tour: Tour) -> None:
    assert len(tour.why) == len(SCRIPTS)
    for answer in tour.why:
        assert answer.params["user"] == "U0ANA"
        assert "How the dues of" in answer.params["text"]


# ---- what people read, wherever --------------------------------------------------------------


def _zones(zone: str) -> set[str]:
    """The abbreviations a zone's times are labelled with, in winter and summer."""
    tz = ZoneInfo(zone)
    return {datetime(2026, month, 15, 12, tzinfo=tz).tzname() or zone for month in (1, 7)}


def _customer_zone(key: str) -> str | None:
    for script in SCRIPTS:
        if key in {script.chat.removeprefix("a:personal-"), script.slack_channel}:
            return DEPLOYMENT.customers[script.customer].timezone
    return None


def test_one_time_zone_per_reader_on_every_card_and_post(tour: Tour) -> None:
    """The engineers' channels and chat read the vendor's zone, a customer's conversation
    the customer's, history and explanations included."""
    times = re.compile(r"\b\d{1,2}:\d{2} ([A-Z]{3,5}|UTC|[+-]\d{2,4})\b")
    vendor_channels = {SLACK_ENGINEERS, SLACK_ESCALATIONS, SLACK_WAR_ROOM}
    seen: list[tuple[str, str]] = []
    for call in tour.teams:
        zone = _customer_zone(call.conversation.split(";")[0].removeprefix("a:personal-")) \
            or VENDOR_ZONE
        seen += [(zone, label) for label in times.findall(call.text)]
    for call, message in tour.slack_messages():
        channel = str(call.params.get("channel", ""))
        zone = VENDOR_ZONE if channel in vendor_channels else _customer_zone(channel) or ""
        text = message["text"] + str(message["blocks"])
        seen += [(zone, label) for label in times.findall(text)]
    wrong = sorted({(zone, label) for zone, label in seen if label not in _zones(zone)})
    assert len(seen) > 100 and not wrong, wrong


def test_status_posts_fresh_cards_under_the_question(tour: Tour) -> None:
    assert tour.status_kinds and set(tour.status_kinds) == {"send"}


def test_teams_says_in_the_channel_where_an_engineers_form_opened(tour: Tour) -> None:
    assert len(tour.form_notes) == 2 * len(SCRIPTS)  # "Ask customer" and "Escalate"
    assert all("Ana: “" in note.text for note in tour.form_notes)
