"""The conversation listens: what a first message (and every later one) says is taken, and
only what is missing is asked. Rules from the packs' vocabulary, cited per policy."""

from __future__ import annotations

from pathlib import Path

from policy.impact import answers_for, derive
from policy.pack import load_pack, load_pack_file
from policy.understanding import DeploymentRef, read
from tests.test_intake import Chat

DATA = Path(__file__).resolve().parent / "data" / "packs"


def test_a_first_message_that_says_everything_opens_in_one_tap() -> None:
    """Konneqt P1 – Critical, "Identify the specific deployment and products affected": type,
    impact, deployment and product from one message; one summary, one tap."""
    chat = Chat("alice")
    chat.send("P1: acme-prod orders API returns 500 for a substantial part of our traffic")
    assert chat.state and chat.state.step == "confirm"
    assert "from your message" in chat.last
    assert "Incident Priority Level Guidelines: P1" in chat.last  # the rule that decided
    chat.send(choice="confirm:open")
    assert chat.draft is not None
    assert (chat.draft.case_type, chat.draft.priority, chat.draft.deployment) == (
        "incident", "P1", "acme-prod")
    assert chat.draft.fields["product"] == "orders API"


def test_an_environment_word_picks_the_one_deployment_in_it() -> None:
    """"Our production login is down for all users": acme's one production deployment, a
    managed one, completely unavailable → P0 – Catastrophic."""
    chat = Chat("adam")
    chat.send("Our production login is down for all users")
    assert chat.state and chat.state.deployment == "acme-prod"
    assert chat.state.priority == "P0" and chat.state.step == "confirm"


def test_a_negation_is_not_an_outage() -> None:
    """"not down … a restart fixes it" is P2 – High (fails, restart recovers), not P0."""
    chat = Chat("adam")
    chat.send("acme-prod gateway is not down, but it crashes every few hours and a restart "
              "fixes it")
    assert chat.state and chat.state.priority == "P2"


def test_a_hedge_only_me_nothing_lost_is_low() -> None:
    """dk-saas Low: a single user affected; "nothing is lost" answers the data question."""
    chat = Chat("nanna")
    chat.send("only me: my department change in Entra never reached Salesforce in prod, "
              "nothing is lost")
    assert chat.state and chat.state.priority == "low"
    assert chat.state.deployment == "nordlys-prod"


def test_a_named_priority_the_impact_contradicts_is_explained() -> None:
    """Konneqt P3 – Medium: "nothing seems affected" — the named P1 is shown beside the
    policy's P3, with one tap to keep the customer's own."""
    chat = Chat("gabriela")
    chat.send("P1 - prod gateway logs are full of pool warnings, honestly nothing seems "
              "affected and requests all succeed")
    assert chat.state and chat.state.priority == "P3" and chat.state.stated_priority == "P1"
    assert "You named P1 – Critical" in chat.last
    assert "change:priority" in chat.choices()


def test_a_natural_answer_picks_the_deployment() -> None:
    """Any question accepts a natural answer: "the staging one"."""
    chat = Chat("adam")
    chat.send("The developer portal is a bit slower than usual, nobody is blocked")
    assert chat.state and chat.state.step == "deployment"
    chat.send("the staging one")
    assert chat.state and chat.state.deployment == "acme-staging"


def test_a_correction_in_words_at_the_summary_changes_that_value() -> None:
    """The summary: a value taken from the words is corrected in one step."""
    chat = Chat("adam")
    chat.send("acme-prod developer portal is a bit slower than usual, nobody is blocked")
    assert chat.state and chat.state.deployment == "acme-prod"
    chat.send("it's staging actually")
    assert chat.state and chat.state.deployment == "acme-staging"
    assert chat.state.step == "confirm"


def test_a_change_button_asks_once_and_returns_to_the_summary() -> None:
    """"Change deployment" asks that one question, then the summary is back."""
    chat = Chat("adam")
    chat.send("acme-prod developer portal is a bit slower than usual, nobody is blocked")
    chat.send(choice="change:deployment")
    assert chat.state and chat.state.step == "deployment"
    chat.send(choice="acme-staging")
    assert chat.state and chat.state.step == "confirm"
    assert "acme-staging" in chat.last


def test_qscim_environment_kind_and_connector_are_read_from_the_message() -> None:
    """QSCIM §7 "Specify the affected environment and connector": read, not asked."""
    chat = Chat("ivan")
    chat.send("initech-saas (SaaS): the LDAP connector sync is severely degraded, jobs take "
              "6 hours instead of 20 minutes")
    assert chat.state and chat.state.fields == {"environment-kind": "SaaS", "connector": "LDAP"}
    assert chat.state.priority == "P2" and chat.state.step == "confirm"


def test_a_question_is_read_as_a_query_and_needs_no_deployment() -> None:
    """Konneqt Support Case Types: Query — features, usage, best practice; no deployment."""
    chat = Chat("alice")
    chat.send("quick question - how do I configure rate limiting per consumer application?")
    assert chat.state and chat.state.case_type == "query" and chat.state.step == "confirm"
    assert chat.state.deployment is None


def test_standard_pre_production_incident_is_refused_before_any_other_question() -> None:
    """Konneqt Standard: incidents in production only — said as soon as it is known."""
    chat = Chat("gabriela")
    chat.send("globex-qa gateway crashes every hour, a restart brings it back")
    assert chat.state and chat.state.step == "not_covered"
    assert "alternative:query" in chat.choices()


def test_a_fifth_pack_understands_by_its_vocabulary() -> None:
    """A vendor's own pack: shared phrase sets by name plus its own words, no code."""
    pack = load_pack_file(DATA / "harbour.toml")
    reading = read(pack, "the cranes stopped, it's jammed", [DeploymentRef("quay", "production")])
    assert reading.case_type == "incident" and reading.impact == {"down": "yes"}
    assert derive(pack, reading.impact) is not None


def test_the_earliest_open_rule_decides_the_priority() -> None:
    """Konneqt guidelines are asked top-down: P1 only once P0 is ruled out."""
    pack = load_pack("konneqt")
    assert derive(pack, {"critical-impact": "yes"}) is None
    assert derive(pack, {"critical-impact": "yes"}, partial=True) is not None
    answers = answers_for(pack, pack.impact.rules[2], {})
    assert derive(pack, answers) is not None and derive(pack, answers).priority == "P2"  # type: ignore[union-attr]
