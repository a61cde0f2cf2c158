"""Scripted conversations for each pack through the JSON API, over real HTTP, against a real
`frontdoor serve` process on SQLite: one per case type, plus the consulting and not-covered
paths, a restart mid-intake, and bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from frontdoor_testkit.server_process import (
    ServerProcess,
    case_id_of,
    choice_ids,
    past_any_offer,
    texts,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("serve")
    proc = ServerProcess({"FRONTDOOR_DB": str(tmp / "frontdoor.db")}, tmp / "server.log")
    yield proc
    proc.stop()


def file_case(server: ServerProcess, user: str, steps: list[tuple[str, str]]) -> str:
    """Send ("text"|"choice", value) steps, then open the case; return its id."""
    replies = server.say(user, "cancel")
    replies = server.say(user, "hi")
    for kind, value in steps:
        replies = server.say(user, **{kind: value})  # type: ignore[arg-type]
    replies = past_any_offer(server, user, replies)  # a question may be offered articles
    assert "Please check and confirm" in texts(replies), texts(replies)
    replies = server.say(user, choice="confirm:open")
    return case_id_of(replies)


def card(server: ServerProcess, user: str, case_id: str) -> dict[str, object]:
    status, body = server.get(f"/chat/cases?user={user}")
    assert status == 200
    for reply in body["cases"]:
        if reply["card"]["case_id"] == case_id:
            return dict(reply["card"])
    raise AssertionError(f"{case_id} not among {user}'s cases")


# ---- Konneqt Enterprise (Acme)


def test_konneqt_incident_by_buttons(server: ServerProcess) -> None:
    """Konneqt Incident: impact questions → P1, managed production deployment, product."""
    case_id = file_case(server, "alice", [
        ("choice", "incident"), ("choice", "impact:no"), ("choice", "impact:yes"),
        ("choice", "acme-prod"), ("text", "API gateway"),
        ("text", "Every call to the orders API returns 503 since 09:40, checkout is down"),
    ])
    assert case_id.startswith("ACME-")
    got = card(server, "alice", case_id)
    assert got["priority"] == "P1 – Critical" and got["status"] == "new"
    clocks = {c["label"]: c for c in got["clocks"]}  # type: ignore[attr-defined]
    assert clocks["Response"]["due"] and clocks["Workaround"]["state"] == \
        "starts at acknowledgement"


def test_konneqt_query(server: ServerProcess) -> None:
    """Konneqt Query: no deployment needed, 1 Business Day response."""
    case_id = file_case(server, "adam", [
        ("choice", "query"),
        ("text", "What is the recommended way to rotate the API keys used by our services?"),
    ])
    got = card(server, "adam", case_id)
    assert got["case_type"] == "Query" and got["priority"] is None


def test_konneqt_security_report(server: ServerProcess) -> None:
    """Konneqt Security Report Analysis: 1 h response, 2 Business Weeks resolution."""
    case_id = file_case(server, "alice", [
        ("choice", "security-report"), ("choice", "acme-prod"), ("text", "Gateway"),
        ("text", "Our quarterly scan of the production gateway flagged TLS 1.0 as enabled"),
    ])
    assert card(server, "alice", case_id)["case_type"] == "Security Report Analysis"


def test_konneqt_service_request_on_a_managed_deployment(server: ServerProcess) -> None:
    """Konneqt Service Request: for Managed Deployments."""
    case_id = file_case(server, "alice", [
        ("choice", "service-request"), ("text", "prod"), ("text", "Gateway"),
        ("text", "Please raise the gateway rate limit for partner traffic to 500 requests/s"),
    ])
    assert card(server, "alice", case_id)["case_type"] == "Service Request"


# ---- Konneqt Standard (Globex): not covered → a Query instead


def test_konneqt_standard_pre_production_incident_becomes_a_query(server: ServerProcess) -> None:
    """Konneqt Standard: incidents production only; the customer is offered a Query."""
    server.say("gabriela", "cancel")
    server.say("gabriela", "hi")
    for step in ["incident", "impact:skip", "priority:P2", "globex-qa"]:
        replies = server.say("gabriela", choice=step)
    # Said as soon as the deployment is known, before the product question.
    assert "isn't covered" in texts(replies)
    assert "alternative:query" in choice_ids(replies)
    replies = server.say("gabriela", choice="alternative:query")
    replies = server.say("gabriela", "Logins on our QA system fail since yesterday's upgrade")
    past_any_offer(server, "gabriela", replies)
    replies = server.say("gabriela", choice="confirm:open")
    assert card(server, "gabriela", case_id_of(replies))["case_type"] == "Query"


# ---- QSCIM (Initech)


def test_qscim_incident_captures_environment_kind_and_connector(server: ServerProcess) -> None:
    """QSCIM §7: the affected environment and connector."""
    case_id = file_case(server, "ivan", [
        ("choice", "incident"), ("choice", "impact:no"), ("choice", "impact:no"),
        ("choice", "impact:yes"), ("choice", "initech-saas"),
        ("choice", "saas"), ("text", "LDAP"),
        ("text", "Provisioning stopped: new hires since Monday never appear in the directory"),
    ])
    got = card(server, "ivan", case_id)
    assert got["priority"] == "P2 – High"
    facts = {f["label"]: f["value"] for f in got["facts"]}  # type: ignore[attr-defined]
    assert facts["Environment kind"] == "SaaS" and facts["Connector"] == "LDAP"


def test_qscim_custom_connector_goes_to_a_consulting_request(server: ServerProcess) -> None:
    """QSCIM §3.2 Custom Connector Development is consulting."""
    server.say("irene", "cancel")
    server.say("irene", "hi")
    server.say("irene", choice="query")
    server.say("irene", choice="on-premises")
    server.say("irene", "none")
    replies = server.say(
        "irene", "Could you build us a new connector for our home-grown payroll system?")
    assert "consulting" in texts(replies) and "§3.2" in texts(replies)
    replies = server.say("irene", choice="consulting:request")
    assert "Consulting request INIT-" in texts(replies)
    flags = card(server, "irene", case_id_of(replies))["flags"]  # type: ignore[index]
    assert "Consulting request (no support SLA)" in flags  # in sight, not under Details


# ---- ConnectSoft Premium (Umbrella)


def test_connectsoft_critical_incident(server: ServerProcess) -> None:
    """ConnectSoft: Severity 1 (Critical) from the impact; Premium counts it 24/7."""
    case_id = file_case(server, "uma", [
        ("choice", "incident"), ("choice", "impact:down"),         ("choice", "platform"),
        ("text", "Identity platform login page returns 502 for all our staff since 07:10"),
    ])
    got = card(server, "uma", case_id)
    assert got["priority"] == "Severity 1 – Critical" and case_id.startswith("UMB-")


def test_connectsoft_question(server: ServerProcess) -> None:
    """ConnectSoft: general questions are Severity 4 (Low)."""
    case_id = file_case(server, "ulrich", [
        ("choice", "query"),
        ("text", "Where do I find the audit log retention settings in the admin console?"),
    ])
    assert card(server, "ulrich", case_id)["priority"] == "Severity 4 – Low"


def test_connectsoft_feature_request(server: ServerProcess) -> None:
    """ConnectSoft: feature requests are Severity 4 (Low)."""
    case_id = file_case(server, "uma", [
        ("choice", "feature-request"),
        ("text", "Please add a CSV export to the Audit platform's event search screen"),
    ])
    assert card(server, "uma", case_id)["case_type"] == "Feature request"


# ---- dk-saas (Nordlys, in hypercare)


def test_dk_saas_incident_in_hypercare_goes_to_the_highest_priority(
    server: ServerProcess,
) -> None:
    """dk-saas: priority from impact; Hypercare: critical incidents at the highest priority."""
    case_id = file_case(server, "nanna", [
        ("choice", "incident"), ("choice", "impact:some"), ("choice", "impact:yes"),
                ("text", "Synchronisation drops half of the employee records from the nightly run"),
    ])
    got = card(server, "nanna", case_id)
    assert got["priority"] == "Highest (critical)"
    facts = {f["label"]: f["value"] for f in got["facts"]}  # type: ignore[attr-defined]
    assert facts["Hypercare"] == "yes" and "Next status update" not in facts


def test_dk_saas_inquiry(server: ServerProcess) -> None:
    """dk-saas: an inquiry is Lowest, 16 business hours."""
    case_id = file_case(server, "nils", [
        ("choice", "query"),
        ("text", "Which business rules decide the segment of a user with two departments?"),
    ])
    assert card(server, "nils", case_id)["priority"] == "Lowest"


def test_dk_saas_consultancy_is_sent_only_with_explicit_approval(server: ServerProcess) -> None:
    """dk-saas: consultancy is paid separately and needs the customer's prior approval."""
    server.say("nils", "cancel")
    server.say("nils", "hi")
    server.say("nils", choice="query")
    replies = server.say("nils", "We'd like help with advanced configuration of our CRM flows")
    labels = [c["label"] for c in replies[-1]["choices"]]
    assert "I approve a paid consulting request" in labels
    replies = server.say("nils", choice="consulting:request")
    assert "Your approval is recorded" in texts(replies)


# ---- the engineer's side


def test_engineer_acknowledges_and_the_customer_sees_it(server: ServerProcess) -> None:
    """Acknowledge records the acknowledgement and tells the customer who picked it up."""
    case_id = file_case(server, "adam", [
        ("choice", "incident"), ("choice", "impact:no"), ("choice", "impact:no"),
        ("choice", "impact:no"), ("choice", "acme-staging"),
        ("text", "Reports"), ("text", "The monthly report renders the totals column empty"),
    ])
    status, body = server.get("/chat/cases?user=ana")
    assert status == 200 and any(r["card"]["case_id"] == case_id for r in body["cases"])
    replies = server.say("ana", choice=f"case:acknowledge:{case_id}")
    assert "and picked it up" in texts(replies)
    assert card(server, "adam", case_id)["status"] == "acknowledged"
    status, feed = server.get("/chat/feed?user=adam")
    assert any(i["case_id"] == case_id and "acknowledged" in i["text"] for i in feed["items"])


def test_the_war_room_response_plan_is_filled_in_from_the_web_chat(
    server: ServerProcess,
) -> None:
    """Konneqt Service Levels (the Incident “war team” and its response plan): once the P1
    goes to the executive team the war room lists it with four open plan items; the
    customer can neither read the war room nor fill an item in; an engineer's entry is on
    the post (☑, who), in the case's activity, and the other items stay open."""
    case_id = file_case(server, "alice", [
        ("choice", "incident"), ("choice", "impact:no"), ("choice", "impact:yes"),
        ("choice", "acme-prod"), ("text", "API gateway"),
        ("text", "Checkout is down: every orders API call returns 503 since 09:40"),
    ])

    def post() -> dict[str, object]:
        status, body = server.get("/chat/war-room?user=ana")
        assert status == 200
        found = [p for p in body["posts"] if p["plan"]["case_id"] == case_id]
        assert len(found) == 1, body
        return dict(found[0])

    status, body = server.get("/chat/war-room?user=ana")
    assert status == 200 and case_id not in str(body)  # no war team yet
    replies = server.say("ana", form={"_action": "escalate", "_case": case_id,
                                      "level": "executive", "text": "Checkout down"})
    assert "escalated" in texts(replies)
    plan = post()["plan"]
    assert [(i["label"], i["done"]) for i in plan["items"]] == [  # type: ignore[index]
        ("Technical assessment", False), ("Evaluation of mitigation strategies", False),
        ("Resource allocation", False), ("Status update frequency", False)]
    button = plan["items"][0]["action"]["id"]  # type: ignore[index]
    assert server.get("/chat/war-room?user=alice")[0] == 403

    refused = server.say("alice", choice=button)
    assert "can't fill in a war team's response plan" in texts(refused)
    assert "form" not in refused[0]

    form = server.say("ana", choice=button)[0]["form"]
    values = {f["id"]: f["value"] for f in form["fields"] if f["id"].startswith("_")}
    done = server.say("ana", form={**values, "text": "orders-db connection pool exhausted"})
    assert "Recorded" in texts(done)
    items = post()["plan"]["items"]  # type: ignore[index]
    assert items[0]["done"] and items[0]["value"] == "orders-db connection pool exhausted"
    assert items[0]["by"] == "Ana Ruiz (engineer)" and items[0]["action"]["label"] == "Change"
    assert [i["done"] for i in items[1:]] == [False, False, False]
    status, feed = server.get("/chat/feed?user=ana")
    assert any(i["case_id"] == case_id and "agreed “Technical assessment”" in i["text"]
               for i in feed["items"])


def test_a_customer_cannot_see_another_organisations_case(server: ServerProcess) -> None:
    """Customer users see their organisation's cases only."""
    case_id = file_case(server, "nils", [
        ("choice", "query"), ("text", "How often does the Salesforce extension sync users?")])
    replies = server.say("alice", case_id)
    assert "can't find that case" in texts(replies)
    _status, body = server.get("/chat/cases?user=alice")
    assert all(not r["card"]["case_id"].startswith("NORD-") for r in body["cases"])


# ---- bad input


@pytest.mark.parametrize(("body", "status", "words"), [
    (b"not json", 400, "must be JSON"),
    (b"[1, 2]", 400, "JSON object"),
    (b'{"text": "hi"}', 400, '"user"'),
    (b'{"user": "mallory", "text": "hi"}', 403, "unknown user"),
    (b'{"user": "alice"}', 400, "exactly one"),
    (b'{"user": "alice", "text": "hi", "choice": "x"}', 400, "exactly one"),
    (b'{"user": "alice", "form": {"a": {"b": 1}}}', 400, "form"),
    (b'{"user": "alice", "text": 42}', 400, "text"),
])
def test_bad_requests_get_a_clear_error_never_a_500(
    server: ServerProcess, body: bytes, status: int, words: str
) -> None:
    """Bad input gets a clear error, never a crash or a 500."""
    got, answer = server.request("POST", "/chat/messages", body,
                                 {"Content-Type": "application/json"})
    assert got == status and words in answer["error"]


def test_health_and_metrics(server: ServerProcess) -> None:
    """GET /healthz answers for the store; GET /metrics speaks Prometheus."""
    assert server.get("/healthz") == (200, {"status": "ok", "store": "sqlite"})
    status, text = server.get("/metrics")
    assert status == 200 and "frontdoor_http_requests_total" in text


# ---- restart


def test_a_restart_mid_intake_resumes_where_it_was(tmp_path: Path) -> None:
    """Conversation state lives in the store: a new process picks up the next question."""
    env = {"FRONTDOOR_DB": str(tmp_path / "restart.db")}
    first = ServerProcess(env, tmp_path / "first.log")
    try:
        first.say("alice", "hi")
        replies = first.say("alice", choice="incident")
        assert "completely unavailable" in texts(replies)
        first.say("alice", choice="impact:no")
    finally:
        first.stop()
    second = ServerProcess(env, tmp_path / "second.log")
    try:
        replies = second.say("alice", "yes")
        assert "P1 – Critical" in texts(replies)
    finally:
        second.stop()
