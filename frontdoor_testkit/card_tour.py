"""A support conversation per policy pack, through the Teams and the Slack fakes, keeping
everything the bot posted: what tests/test_card_rendering.py renders and checks.

One `frontdoor serve` speaks both platforms (Teams in emulator mode, Slack against the fake
Web API) on a copy of the demo deployment in which every customer also has a Teams tenant.
Per pack, a customer files one case by typing what happened and a question with the one-card
form (declining the articles it is offered first); an engineer acknowledges the first, asks
the customer a question (the form opens in the engineer's own chat), the customer answers it
in the answer box, asks for `status`, the engineer escalates; then `frontdoor tick --at`
moves the clock a day and a week on: the reminders, the missed targets, Konneqt's war room.
Answers are picked the way a hurried person would: the first one offered.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from frontdoor_testkit.fake_bot_framework import Call as TeamsCall
from frontdoor_testkit.fake_bot_framework import FakeConnector
from frontdoor_testkit.fake_slack import Call as SlackCall
from frontdoor_testkit.fake_slack import FakeSlack
from frontdoor_testkit.server_process import ROOT, ServerProcess
from frontdoor_testkit.slack_client import SlackSession, all_text, submission
from frontdoor_testkit.slack_signing import BOT_TOKEN, SIGNING_SECRET
from frontdoor_testkit.teams_client import ENGINEERS, VENDOR_TENANT, TeamsSession

ESCALATIONS = "19:escalations@thread.tacv2"
WAR_ROOM = "19:war-room@thread.tacv2"
ENGINEER_CHAT = "a:personal-ana"
SLACK_ENGINEERS, SLACK_ESCALATIONS, SLACK_WAR_ROOM = "C0ENGINEERS", "C0ESCALATE", "C0WARROOM"
CASE_OPEN = re.compile(r"Case ([A-Z][A-Z0-9]*-\d+) is open")
SLACK_POSTS = ("chat.postMessage", "chat.update", "chat.postEphemeral")
SLACK_VIEWS = ("views.open", "views.update", "views.publish")
# What a hurried person never presses first: going back, giving up, folding, explaining.
_NOT_AN_ANSWER = ("cmd:", "impact:skip", "confirm:explain", "case:")
TYPED_ANSWER = "the reporting service"  # to a question with no buttons (a product's name …)


@dataclass(frozen=True)
class PackScript:
    """Who files on one pack, where, and what they say."""

    pack: str
    customer: str
    person: str  # the customer user's id in the deployment file
    slack_user: str
    slack_channel: str
    what_happened: str  # filed by typing: says what happened
    form_description: str  # filed with the one-card form

    @property
    def teams_user(self) -> str:
        return f"29:{self.person}"

    @property
    def tenant(self) -> str:
        return f"{self.customer}-tenant"

    @property
    def chat(self) -> str:
        return f"a:personal-{self.person}"


# The form files a question (the documentation is offered first, and declined), so the
# engineers' card carries the articles found for it.
SCRIPTS = (
    PackScript("konneqt", "acme", "adam", "U0ADAM", "C0ACME",
               "P1: acme-prod orders API returns 500 for a substantial part of our traffic",
               "How do we set up rate limiting and throttling policies on the API gateway?"),
    PackScript("qscim", "initech", "irene", "U0IRENE", "C0INITECH",
               "initech-saas: provisioning to Azure AD stopped, no new hire got an account "
               "since this morning",
               "Which Graph permissions does the Azure AD connector app registration need?"),
    PackScript("connectsoft", "umbrella", "ulrich", "U0ULRICH", "C0UMBRELLA",
               "identity-platform: login fails for every user since 08:00, a complete outage",
               "How do we import users from a CSV file into the identity platform?"),
    PackScript("dk-saas", "nordlys", "nanna", "U0NANNA", "C0NORDLYS",
               "The nightly meter import wrote zero rows again, all our users are affected and "
               "data may be lost",
               "How do we map Entra groups to Salesforce user segments in the user sync?"),
)
FORM_TYPE = "query"


def tour_deployment(source: Path, target: Path) -> Path:
    """The deployment file with a Teams tenant for every customer and a Teams id for every
    customer user (`29:<id>`), so each pack can be filed from Teams too; its documentation
    folders named where they are."""
    raw = tomllib.loads(source.read_text(encoding="utf-8"))
    lines = source.read_text(encoding="utf-8").split("\n")
    missing_tenant = {cid for cid, c in raw["customers"].items() if "teams_tenant" not in c}
    missing_user = {u["id"] for c in raw["customers"].values() for u in c.get("users", ())
                    if "teams" not in u}
    out: list[str] = []
    for line in lines:
        folder = re.fullmatch(r'path = "([^"/][^"]*)"', line.strip())
        if folder:  # a knowledge source, relative to the file: where the copy can find it
            line = f'path = "{(source.parent / folder.group(1)).resolve()}"'
        out.append(line)
        header = re.fullmatch(r"\[customers\.([a-z0-9_-]+)\]", line.strip())
        if header and header.group(1) in missing_tenant:
            out.append(f'teams_tenant = "{header.group(1)}-tenant"')
        user = re.fullmatch(r'id = "([a-z0-9_-]+)"', line.strip())
        if user and user.group(1) in missing_user:
            out.append(f'teams = "29:{user.group(1)}"')
    target.write_text("\n".join(out), encoding="utf-8")
    return target


@dataclass
class Tour:
    """Everything the bot posted, and where."""

    teams: list[TeamsCall] = field(default_factory=list)
    slack: list[SlackCall] = field(default_factory=list)
    cases: dict[str, list[str]] = field(default_factory=dict)  # pack → case ids (text, form)
    status_kinds: list[str] = field(default_factory=list)  # Teams calls after "status"
    why: list[SlackCall] = field(default_factory=list)  # Slack's answers to "Why?"
    form_notes: list[TeamsCall] = field(default_factory=list)  # said where a form opened

    def teams_cards(self) -> Iterator[tuple[TeamsCall, dict[str, Any]]]:
        for call in self.teams:
            card = call.card
            if card is not None and call.status < 300:
                yield call, card

    def slack_messages(self) -> Iterator[tuple[SlackCall, dict[str, Any]]]:
        for call in self.slack:
            if call.method in SLACK_POSTS and call.params.get("blocks"):
                yield call, {"text": call.params.get("text", ""),
                             "blocks": call.params["blocks"]}

    def slack_views(self) -> Iterator[tuple[SlackCall, dict[str, Any]]]:
        for call in self.slack:
            if call.method in SLACK_VIEWS and isinstance(call.params.get("view"), dict):
                yield call, call.params["view"]


# ---- Teams ---------------------------------------------------------------------------------


def _first_answer(card: dict[str, Any]) -> dict[str, Any] | None:
    """The first answer on a question card (not Back/Cancel, not a form, not "More…")."""
    for action_set in (e for e in card.get("body", []) if e.get("type") == "ActionSet"):
        for action in action_set["actions"]:
            choice = str((action.get("data") or {}).get("choice", ""))
            if action["type"] == "Action.Submit" and choice \
                    and not choice.startswith(_NOT_AN_ANSWER):
                return action
    return None


def _choice_values(card: dict[str, Any], input_id: str) -> list[str]:
    found: list[str] = []

    def walk(element: Any) -> None:
        if isinstance(element, dict):
            if element.get("id") == input_id and element.get("type") == "Input.ChoiceSet":
                found.extend(c["value"] for c in element["choices"])
            for value in element.values():
                walk(value)
        elif isinstance(element, list):
            for value in element:
                walk(value)

    walk(card)
    return found


class TeamsDriver:
    def __init__(self, session: TeamsSession) -> None:
        self.session = session
        self.fake = session.fake

    def latest_card(self, conversation: str, after: int) -> TeamsCall:
        self.fake.settle(quiet=0.5)
        calls = [c for c in self.fake.calls[after:] if c.conversation == conversation
                 and c.status < 300 and c.kind in ("send", "reply", "update")]
        with_card = [c for c in calls if c.card is not None]
        assert with_card, f"no card in {conversation}: {[c.text[:100] for c in calls]}"
        return with_card[-1]

    def converse(self, script: PackScript, after: int, description: str) -> str:
        """Answer the intake until the case is open; returns its id."""
        s, user, tenant, chat = self.session, script.teams_user, script.tenant, script.chat
        for _ in range(16):
            card = self.latest_card(chat, after)
            text = card.text
            opened = CASE_OPEN.search(text)
            if opened:
                return opened.group(1)
            after = self.fake.count()
            if "Please check and confirm" in text:
                s.click(user, tenant, card, "Open the case")
            elif "answer it?" in text:  # articles offered first: they didn't
                s.click(user, tenant, card, "No, open a case")
            elif "consulting rather than standard support" in text:
                s.click(user, tenant, card, "File it as support anyway")
            elif "usually isn't covered" in text:
                s.click(user, tenant, card, "File it for review")
            elif "Describe the problem" in text:
                s.say(user, tenant, chat, description)
            else:
                answer = _first_answer(card.card) if card.card is not None else None
                if answer is None:  # a question to answer in words (a pack's own field)
                    s.say(user, tenant, chat, TYPED_ANSWER)
                else:
                    s.click(user, tenant, card, answer["title"])
        raise AssertionError(f"the intake on {script.pack} did not end in a case")

    def file_by_text(self, script: PackScript) -> str:
        after = self.fake.count()
        self.session.say(script.teams_user, script.tenant, script.chat, script.what_happened)
        return self.converse(script, after, script.what_happened)

    def file_by_form(self, script: PackScript) -> str:
        after = self.fake.count()
        self.session.say(script.teams_user, script.tenant, script.chat, "support")
        card = self.fake.wait("Fill in one form", script.chat, after=after)
        assert card.card is not None
        types = _choice_values(card.card, "case_type")
        case_type = FORM_TYPE if FORM_TYPE in types else types[0]
        after = self.fake.count()
        self.session.click(script.teams_user, script.tenant, card, "Fill in one form", {
            "case_type": case_type, "description": script.form_description})
        return self.converse(script, after, script.form_description)

    def engineers_card(self, case_id: str) -> TeamsCall:
        self.fake.settle(quiet=0.5)
        cards = [c for c in self.fake.calls if c.conversation == ENGINEERS
                 and c.card is not None and f"{case_id} · " in c.text and c.status < 300]
        assert cards, f"no engineers' card for {case_id}"
        return cards[-1]

    def engineer_form(self, case_id: str, button: str, values: dict[str, str],
                      tour: Tour) -> None:
        """Ana presses `button` on the engineers' card; the form opens in her own chat (the
        channel says so); she fills it in."""
        after = self.fake.count()
        self.session.click("29:ana", VENDOR_TENANT, self.engineers_card(case_id), button)
        form = self.latest_card(ENGINEER_CHAT, after)
        notes = [c for c in self.fake.calls[after:] if c.conversation.startswith(ENGINEERS)
                 and "personal chat" in c.text]
        tour.form_notes += notes
        self.session.click("29:ana", VENDOR_TENANT, form, "Send", values)
        self.fake.settle(quiet=0.5)

    def run(self, script: PackScript, tour: Tour) -> None:
        s, fake = self.session, self.fake
        text_case = self.file_by_text(script)
        form_case = self.file_by_form(script)
        tour.cases[script.pack] = [text_case, form_case]
        s.click("29:ana", VENDOR_TENANT, self.engineers_card(text_case), "Acknowledge")
        fake.settle(quiet=0.5)
        self.engineer_form(text_case, "Ask customer",
                           {"text": "Which region and which account IDs are affected?"}, tour)
        question = fake.wait(f"asks on {text_case}", script.chat)
        s.click(script.teams_user, script.tenant, question, "Send answer",
                {"text": "EU region, every account since the 08:00 deploy"})
        fake.settle(quiet=0.5)
        after = fake.count()
        s.say(script.teams_user, script.tenant, script.chat, "status")
        fake.settle(quiet=0.5)
        tour.status_kinds += [c.kind for c in fake.calls[after:] if c.conversation == script.chat]
        self.engineer_form(text_case, "Escalate",
                           {"text": "Customer's operations are blocked", "level": ""}, tour)


# ---- Slack ---------------------------------------------------------------------------------


def _slack_first_answer(blocks: list[dict[str, Any]]) -> str | None:
    for block in blocks:
        if block.get("type") != "actions":
            continue
        for element in block["elements"]:
            if element.get("type") != "button":
                continue
            choice = str(json.loads(element.get("value") or "{}").get("choice", ""))
            if choice and not choice.startswith(_NOT_AN_ANSWER):
                return str(element["text"]["text"])
    return None


class SlackDriver:
    def __init__(self, session: SlackSession) -> None:
        self.session = session
        self.fake = session.fake

    def latest(self, channel: str, thread: str | None, after: int) -> SlackCall:
        self.session.settle(quiet=0.5)
        calls = [c for c in self.fake.calls[after:] if c.method == "chat.postMessage"
                 and c.params.get("channel") == channel
                 and (thread is None or c.params.get("thread_ts") == thread)]
        assert calls, f"no post in {channel}/{thread}"
        return calls[-1]

    def converse(self, script: PackScript, thread: str, after: int, description: str) -> str:
        s, user, channel = self.session, script.slack_user, script.slack_channel
        for _ in range(16):
            post = self.latest(channel, thread, after)
            text = all_text(post)
            opened = CASE_OPEN.search(text)
            if opened:
                return opened.group(1)
            after = len(self.fake.calls)
            if "Please check and confirm" in text:
                s.click(user, post, "Open the case")
            elif "answer it?" in text:  # articles offered first: they didn't
                s.click(user, post, "No, open a case")
            elif "consulting rather than standard support" in text:
                s.click(user, post, "File it as support anyway")
            elif "usually isn't covered" in text:
                s.click(user, post, "File it for review")
            elif "Describe the problem" in text:
                s.say_in_thread(user, channel, thread, description)
            else:
                answer = _slack_first_answer(post.params.get("blocks") or [])
                if answer is None:  # a question to answer in words (a pack's own field)
                    s.say_in_thread(user, channel, thread, TYPED_ANSWER)
                else:
                    s.click(user, post, answer)
        raise AssertionError(f"the Slack intake on {script.pack} did not end in a case")

    def modal(self, user: str, post: SlackCall, label: str, values: dict[str, str]) -> None:
        """Press `label` (a button, or an option of the "More…" menu), fill in the modal it
        opens and submit it."""
        opened = len(self.fake.of("views.open"))
        self.session.click(user, post, label)
        view = self.fake.wait_for("views.open", opened + 1)[-1].params["view"]
        status, _ = self.session.interaction(submission(user, view, values))
        assert status == 200, status
        self.session.settle(quiet=0.5)

    def engineers_card(self, case_id: str) -> SlackCall:
        self.session.settle(quiet=0.5)
        cards = [c for c in self.fake.calls if c.method in ("chat.postMessage", "chat.update")
                 and c.params.get("channel") == SLACK_ENGINEERS
                 and f"{case_id} · " in all_text(c) and not c.params.get("thread_ts")]
        assert cards, f"no engineers' card for {case_id}"
        return cards[-1]

    def run(self, script: PackScript, tour: Tour) -> None:
        s, user, channel = self.session, script.slack_user, script.slack_channel
        after = len(self.fake.calls)
        thread = s.mention(user, channel, script.what_happened)
        text_case = self.converse(script, thread, after, script.what_happened)
        after = len(self.fake.calls)
        form_thread = s.mention(user, channel, "support")
        question = s.wait_post(channel, "Fill in one form", form_thread)
        opened = len(self.fake.of("views.open"))
        s.click(user, question, "Fill in one form")
        view = self.fake.wait_for("views.open", opened + 1)[-1].params["view"]
        types = [o["value"] for b in view["blocks"] if b.get("block_id") == "case_type"
                 for o in b["element"]["options"]]
        case_type = FORM_TYPE if FORM_TYPE in types else types[0]
        s.interaction(submission(user, view, {"case_type": case_type,
                                              "description": script.form_description}))
        self.converse(script, form_thread, after, script.form_description)
        s.click("U0ANA", self.engineers_card(text_case), "Acknowledge")
        s.settle(quiet=0.5)
        ephemerals = len(self.fake.of("chat.postEphemeral"))
        s.click("U0ANA", self.engineers_card(text_case), "Why?")
        tour.why.append(self.fake.wait_for("chat.postEphemeral", ephemerals + 1)[-1])
        self.modal("U0ANA", self.engineers_card(text_case), "Ask customer",
                   {"text": "Which region and which account IDs are affected?"})
        question = s.wait_post(channel, f"asks on {text_case}", thread)
        self.modal(user, question, "Answer", {"text": "EU region, every account since 08:00"})
        s.command(user, channel, "status")
        self.modal("U0ANA", self.engineers_card(text_case), "Escalate",
                   {"text": "Customer's operations are blocked"})
        s.event({"type": "app_home_opened", "user": "U0ANA", "tab": "home",
                 "channel": "D0ANA", "event_ts": str(time.time())})


# ---- the whole tour ------------------------------------------------------------------------


def tick(env: dict[str, str], at: datetime) -> None:
    """`frontdoor tick --at`, on the server's store, delivering to the same fakes."""
    full = {k: v for k, v in os.environ.items()
            if k.lower() not in {"http_proxy", "https_proxy", "all_proxy"}}
    full.update({"LOG_LEVEL": "WARNING", **env})
    done = subprocess.run([sys.executable, "-m", "adapters.cli", "tick", "--at",
                           at.isoformat()], cwd=ROOT, env=full, capture_output=True,
                          text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def run_tour(tmp: Path) -> Tour:
    """The scripted conversations of every pack on both platforms, then a day and a week of
    the clock; returns what the bot posted."""
    connector, slack_fake = FakeConnector(), FakeSlack()
    connector.start()
    slack_url = slack_fake.start()
    env = {"FRONTDOOR_DB": str(tmp / "tour.db"),
           "FRONTDOOR_CONFIG": str(tour_deployment(ROOT / "examples" / "frontdoor.toml",
                                                   tmp / "tour.toml")),
           "MICROSOFT_APP_TENANT_ID": VENDOR_TENANT, "FRONTDOOR_TEAMS_EMULATOR": "true",
           "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET,
           "SLACK_API_URL": slack_url}
    server = ServerProcess(env, tmp / "server.log")
    tour = Tour()
    try:
        teams = TeamsSession(server, connector)
        for conversation in (ENGINEERS, ESCALATIONS, WAR_ROOM):
            teams.install(VENDOR_TENANT, conversation)
        teams.say("29:ana", VENDOR_TENANT, ENGINEER_CHAT, "help")  # her chat with the bot
        slack = SlackSession(server, slack_fake)
        for script in SCRIPTS:
            TeamsDriver(teams).run(script, tour)
            SlackDriver(slack).run(script, tour)
        now = datetime.now(UTC)
        for later in (timedelta(days=1), timedelta(days=7)):
            tick(env, now + later)
        connector.settle(quiet=0.8)
        slack.settle(quiet=0.8)
        tour.teams = list(connector.calls)
        tour.slack = list(slack_fake.calls)
        return tour
    finally:
        server.stop()
        connector.stop()
        slack_fake.stop()
