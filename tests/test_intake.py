"""The guided intake as a pure state machine: free text, buttons, forms, back/cancel/help,
expiry, scope and coverage paths — each test named after the behaviour or clause."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.deployment import Directory, load_deployment
from bot.handler import Handler
from bot.intake import CaseDraft, IntakeContext, IntakeResult, IntakeState, parse_priority, step
from bot.messages import Inbound, Person, Place, Reply
from policy.pack import load_pack

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = Directory(load_deployment(ROOT / "examples" / "frontdoor.toml"))
NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=NY)  # a Tuesday


class Chat:
    """Drives the state machine as a person would, keeping the state between turns."""

    def __init__(self, user: str, *, idle: timedelta = timedelta(minutes=30)) -> None:
        person = DIRECTORY.person(user)
        assert person is not None
        self.person: Person = person
        handler = Handler.__new__(Handler)
        handler.directory = DIRECTORY
        customers = {cid: c for cid, c in DIRECTORY.deployment.customers.items()
                     if person.may_see_customer(cid) and (person.role != "partner"
                                                          or cid in person.served_customers)}
        self.ctx = IntakeContext(
            person=person, customers=customers, pack_for=DIRECTORY.pack_of,
            vendor_name="Northwind Software", idle_timeout=idle,
            clocks_preview=handler._clocks_preview, explain_preview=handler._explain_preview)
        self.state: IntakeState | None = None
        self.at = T0
        self.draft: CaseDraft | None = None
        self.replies: list[Reply] = []

    def send(self, text: str | None = None, *, choice: str | None = None,
             form: dict[str, str] | None = None, after: timedelta = timedelta(seconds=20)
             ) -> list[Reply]:
        self.at += after
        result: IntakeResult = step(self.state, Inbound(
            self.person, Place("web", "t"), self.at, text=text, choice=choice, form=form),
            self.ctx)
        self.state = result.state
        self.draft = result.draft
        self.replies = result.replies
        return result.replies

    @property
    def last(self) -> str:
        return self.replies[-1].text if self.replies else ""

    def choices(self) -> list[str]:
        return [c.id for c in self.replies[-1].choices]


def test_greets_and_asks_the_case_type_in_the_packs_words() -> None:
    """Konneqt: "Correctly classify the issue as an Incident, Query, Security Report Analysis,
    Service Request" — offered with one-line descriptions."""
    chat = Chat("alice")
    chat.send("hello")
    assert chat.replies[0].text.startswith("Hi Alice")
    assert "Konneqt" in chat.replies[0].text
    assert chat.choices()[:4] == ["incident", "query", "security-report", "service-request"]
    assert all(c.explanation for c in chat.replies[-1].choices if not c.id.startswith("cmd:"))


def test_change_requests_are_never_offered_to_customers() -> None:
    """Konneqt: Change Requests are created by Konneqt, never by a customer."""
    chat = Chat("alice")
    chat.send("hi")
    assert "change-request" not in chat.choices()
    chat.send("change request")
    assert "A Change Request can't be filed here" in chat.replies[0].text
    assert chat.state and chat.state.case_type is None


def test_service_requests_only_where_the_customer_has_a_managed_deployment() -> None:
    """Konneqt: Service Requests are for Managed Deployments; Globex has none."""
    assert "service-request" in _types_offered("alice")
    assert "service-request" not in _types_offered("gabriela")


def _types_offered(user: str) -> list[str]:
    chat = Chat(user)
    chat.send("hi")
    return chat.choices()


def test_impact_questions_derive_the_priority_and_show_the_rule_that_decided() -> None:
    """Konneqt Incident Priority Level Guidelines: when the message said nothing of the
    impact, one question lists the guidelines top-down; the chosen one decides."""
    chat = Chat("alice")
    chat.send("hi")
    chat.send(choice="incident")
    assert "Which best describes the impact?" in chat.last
    assert "1. P0 – Catastrophic" in chat.last and "4. P3 – Medium" in chat.last
    chat.send("2")
    assert chat.state and chat.state.priority == "P1"
    assert chat.state.priority_source == "derived"
    assert "Incident Priority Level Guidelines: P1" in (chat.state.priority_reason or "")


def test_an_answer_in_words_answers_the_impact_question() -> None:
    """Any question accepts a natural answer: "it's down" for ConnectSoft's impact."""
    chat = Chat("uma")
    chat.send("hi")
    chat.send(choice="incident")
    chat.send("it's down")
    assert chat.state and chat.state.priority == "critical"

def test_the_customer_may_choose_another_priority_and_it_is_recorded_as_customer_set() -> None:
    """Konneqt: "A Subscriber initially determines the priority level of Incidents"."""
    chat = Chat("alice")
    chat.send("hi")
    chat.send("incident")
    chat.send("no")
    chat.send("yes")  # derived P1
    chat.send("it's high")
    assert chat.state and chat.state.priority == "P2"
    assert chat.state.priority_source == "customer"


def test_free_text_alone_files_a_case() -> None:
    """Works by free text alone: "P1", "prod", "open"."""
    chat = Chat("alice")
    chat.send("hi")
    chat.send("P1")
    assert chat.state and chat.state.case_type == "incident" and chat.state.priority == "P1"
    chat.send("prod")
    assert chat.state and chat.state.deployment == "acme-prod"
    chat.send("Integration runtime")
    chat.send("Orders API returns HTTP 500 since the 09:40 deploy, every request fails")
    assert "Please check and confirm" in chat.last
    assert "Response: due Tue 24 Nov 11:0" in chat.last  # P1: 1 h from ~10:01
    chat.send("open")
    assert chat.draft is not None and chat.state is None
    assert chat.draft.priority == "P1" and chat.draft.priority_source == "customer"


def test_numbers_pick_the_listed_options() -> None:
    """Numbered options can be answered by typing the number."""
    chat = Chat("alice")
    chat.send("hi")
    chat.send("2")
    assert chat.state and chat.state.case_type == "query"


def test_an_opening_message_with_content_becomes_the_description() -> None:
    """A person who starts with the problem isn't asked to type it again."""
    chat = Chat("alice")
    chat.send("our nightly export job stopped producing files since Monday")
    assert chat.state and chat.state.description and "export job" in chat.state.description


def test_back_restores_the_previous_answer() -> None:
    """"back" changes the previous answer."""
    chat = Chat("alice")
    chat.send("hi")
    chat.send("incident")
    chat.send("back")
    assert chat.state and chat.state.case_type is None and chat.state.step == "case_type"


def test_cancel_ends_without_filing() -> None:
    """"cancel" at any point: nothing is filed."""
    chat = Chat("alice")
    chat.send("hi")
    chat.send("incident")
    chat.send("cancel")
    assert chat.state is None and chat.draft is None and "nothing was filed" in chat.last


def test_start_over_resets() -> None:
    """"start over" forgets every answer."""
    chat = Chat("alice")
    chat.send("hi")
    chat.send("query")
    chat.send("start over")
    assert chat.state and chat.state.case_type is None


def test_help_says_what_is_expected_and_keeps_the_state() -> None:
    """"help" explains what the current question expects."""
    chat = Chat("alice")
    chat.send("hi")
    chat.send("help")
    assert "case type" in chat.replies[0].text and chat.state and chat.state.step == "case_type"


def test_a_message_not_understood_gets_what_was_expected() -> None:
    """An unclear answer is met with what was expected, and the question again."""
    chat = Chat("alice")
    chat.send("hi")
    chat.send("banana smoothie")
    assert "didn't catch" in chat.replies[0].text and "Incident" in chat.replies[0].text
    assert chat.state and chat.state.step == "case_type"


def test_idle_conversations_expire_with_a_message() -> None:
    """Idle conversations expire after a configurable time, with a message."""
    chat = Chat("alice", idle=timedelta(minutes=10))
    chat.send("hi")
    chat.send("incident")
    chat.send("no", after=timedelta(minutes=11))
    assert "expired after 10 minutes" in chat.replies[0].text
    assert chat.state and chat.state.case_type is None


def test_p0_on_a_non_managed_deployment_is_explained_not_silent() -> None:
    """Konneqt: P0 is for Managed Deployments only; the customer is told why."""
    chat = Chat("alice")
    chat.send("hi")
    chat.send("P0")
    chat.send("staging")
    chat.send("Integration runtime")
    chat.send("The staging cluster is completely down and nobody can deploy anything")
    assert "Reclassified from P0 – Catastrophic to P1 – Critical" in chat.last
    chat.send("open")
    assert chat.draft and chat.draft.priority == "P1" and chat.draft.requested_priority == "P0"


def test_standard_plan_non_production_incident_offers_a_query_instead() -> None:
    """Konneqt Standard: incidents production only — said as soon as the deployment is
    known, with a Query offered."""
    chat = Chat("gabriela")
    chat.send("hi")
    chat.send("incident")
    chat.send(choice="impact:skip")
    chat.send("P2")
    assert "production only" in chat.last  # the deployment question says the limit
    chat.send("qa")
    assert "isn't covered" in chat.last and "Production only" in chat.last
    assert "alternative:query" in chat.choices()
    chat.send(choice="alternative:query")
    chat.send("Our QA environment rejects every login since yesterday's upgrade")
    assert "Please check and confirm" in chat.last and "Query" in chat.last
    chat.send("open")
    assert chat.draft and chat.draft.case_type == "query"


def test_case_types_the_plan_does_not_cover_are_not_offered() -> None:
    """Konneqt Standard has no Security Report Analysis target: not offered, said why."""
    chat = Chat("gabriela")
    chat.send("hi")
    assert "security-report" not in chat.choices()
    assert "Not in your Standard plan: Security Report Analysis" in chat.last

def test_qscim_asks_environment_kind_and_connector() -> None:
    """QSCIM §7: "Specify the affected environment and connector"."""
    chat = Chat("ivan")
    chat.send("hi")
    chat.send("query")
    assert "SaaS, on-premises or hybrid" in chat.last
    chat.send("hybrid")
    assert "connector" in chat.last.lower()
    chat.send("LDAP")
    assert chat.state and chat.state.fields == {"environment-kind": "Hybrid", "connector": "LDAP"}


def test_qscim_custom_connector_is_consulting_and_a_request_can_be_sent() -> None:
    """QSCIM §3.2: custom connector development is consulting; offer a consulting request."""
    chat = Chat("ivan")
    chat.send("hi")
    chat.send("query")
    chat.send("SaaS")
    chat.send("none yet")
    chat.send("We need you to build a brand new connector for our in-house payroll system")
    assert "consulting" in chat.last and "3.2" in chat.last
    chat.send(choice="consulting:request")
    assert chat.draft and chat.draft.consulting_request and chat.state is None


def test_dk_saas_consultancy_needs_the_customers_explicit_approval() -> None:
    """dk-saas: "Consultancy services are subject to prior approval by Customer"."""
    chat = Chat("nils")
    chat.send("hi")
    chat.send("inquiry")
    chat.send("A colleague deleted 40 store locations by mistake, please restore them all")
    assert "consulting" in chat.last
    labels = [c.label for c in chat.replies[-1].choices]
    assert "I approve a paid consulting request" in labels
    chat.send(choice="consulting:request")
    assert chat.draft and chat.draft.consulting_approved


def test_consulting_can_still_be_filed_as_support_for_review() -> None:
    """A keyword match must not block a real product problem: file it for review."""
    chat = Chat("ivan")
    chat.send("hi")
    chat.send("query")
    chat.send("SaaS")
    chat.send("custom")
    chat.send("We need you to build a brand new connector for our in-house payroll system")
    chat.send(choice="consulting:support")
    assert "Please check and confirm" in chat.last and "filed for review" in chat.last


def test_dk_saas_impact_matrix_in_chat() -> None:
    """dk-saas: priority from users affected × risk of data loss."""
    chat = Chat("nanna")
    chat.send("hi")
    chat.send("support ticket")
    chat.send("some users, and we may lose data")
    assert chat.state and chat.state.priority == "high"


def test_dk_saas_a_button_of_the_impact_list_decides() -> None:
    """dk-saas: a line of the impact list sets both answers (all users, data at risk)."""
    chat = Chat("nanna")
    chat.send("hi")
    chat.send("support ticket")
    chat.send(choice="level:2")
    assert chat.state and chat.state.priority == "highest"

def test_partner_chooses_which_served_customer() -> None:
    """A partner files for the customers it serves, and only those."""
    chat = Chat("pia")
    chat.send("hi")
    assert set(chat.choices()) - {"cmd:cancel"} == {"acme", "umbrella"}
    chat.send("Umbrella")
    assert chat.state and chat.state.customer_id == "umbrella"
    assert "To set the severity" in chat.send("incident")[-1].text


def test_one_shot_form_asks_everything_at_once() -> None:
    """One-shot forms that ask everything at once land on the same confirmation."""
    chat = Chat("alice")
    chat.send("hi")
    form = chat.replies[-1].form
    assert form is not None and {"case_type", "priority", "description"} <= {
        f.id for f in form.fields}
    chat.send(form={"case_type": "incident", "priority": "P2", "deployment": "acme-prod",
                    "field.product": "Gateway",
                    "description": "Latency on the gateway is ten times normal since noon"})
    assert "Please check and confirm" in chat.last and "P2 – High (chosen by you)" in chat.last


def test_a_form_with_mistakes_names_each_field() -> None:
    """Bad input gets a clear error naming the field."""
    chat = Chat("alice")
    chat.send("hi")
    chat.send(form={"case_type": "incident", "priority": "P9", "description": "short"})
    text = " ".join(r.text for r in chat.replies)
    assert "Priority: 'P9'" in text and "Description:" in text


def test_explain_shows_how_each_due_was_computed() -> None:
    """Confirms with the SLA clocks, the explanation one tap away."""
    chat = Chat("alice")
    chat.send("hi")
    chat.send("P2")
    chat.send("prod")
    chat.send("Gateway")
    chat.send("Latency on the gateway is ten times normal since noon")
    chat.send("why")
    assert "Response target 4 hours" in chat.replies[0].text


@pytest.mark.parametrize(("text", "pack", "expected"), [
    ("P1", "konneqt", "P1"), ("it's high", "konneqt", "P2"), ("critical", "connectsoft",
                                                                "critical"),
    ("sev 2", "connectsoft", "high"), ("Highest", "dk-saas", "highest"),
    ("I'd say medium", "dk-saas", "medium"), ("banana", "konneqt", None),
])
def test_priorities_are_understood_as_people_write_them(
    text: str, pack: str, expected: str | None
) -> None:
    """Priority names are case-insensitive and survive filler words."""
    assert parse_priority(load_pack(pack), text) == expected


def test_typed_numbers_at_the_priority_step_match_the_numbered_list() -> None:
    """The numbered list and the buttons are the same options in the same order; the
    current priority is offered once, as "Keep"."""
    chat = Chat("adam")
    chat.send("hi")
    chat.send("1")  # Incident
    chat.send("3")  # P2: fails but recovers
    chat.send("acme-prod")
    chat.send("Gateway")
    chat.send("The gateway crashes every few hours and recovers after a restart")
    chat.send(choice="change:priority")
    assert "1. Keep P2 – High" in chat.last and "2. P0 – Catastrophic" in chat.last
    assert "P2 – High —" not in chat.last  # not offered twice
    chat.send("1")
    assert chat.state and chat.state.priority == "P2"
    assert "Please check and confirm" in chat.last

def test_a_distinctive_part_of_a_deployment_name_is_enough() -> None:
    """"saas" picks initech-saas when no other deployment has that word."""
    chat = Chat("ivan")
    chat.send("hi")
    chat.send("incident")
    chat.send("P1")
    chat.send("saas")
    assert chat.state and chat.state.deployment == "initech-saas"


def test_an_opening_message_with_a_priority_code_sets_type_priority_and_description() -> None:
    """"P1: the orders API is down for everyone" — incident; the impact described decides
    (P0: completely unavailable), the named P1 is kept beside it; the whole message is the
    description."""
    chat = Chat("alice")
    text = "P1: the orders API is down since 09:40 for everyone"
    chat.send(text)
    assert chat.state and chat.state.case_type == "incident" and chat.state.priority == "P0"
    assert chat.state.stated_priority == "P1"
    assert chat.state.description == text
    assert chat.state.step == "deployment"
