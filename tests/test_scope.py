"""Scope rules: one test per rule of every pack, named after it, each over phrasings written the
way customers write (not the seed's words), plus answers, uncertainty, precedence, inheritance,
validation and the held-out and development accuracy floors.

Besides the per-rule tests, each pack has tests of the classes the first blind set exposed:
intent beats topic ("build us a connector", "fix our own database", "weeks of work", "windows xp",
"where do I find my rota?"), and in-scope requests that merely mention such cue words stay in
scope.

Seeds: 000 = QSCIM, 001 = Konneqt, 002 = ConnectSoft, 003 = Danish SaaS (dk-saas).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from policy.errors import CaseFactsError
from policy.scope import (
    ScopeDecision,
    ScopeSection,
    americanise,
    decide_scope,
    normalise_words,
    stem,
)

ROOT = Path(__file__).resolve().parent.parent


def _bench() -> Any:
    """bench/scope_accuracy.py as a module (it knows how to load the scope sections)."""
    if "scope_accuracy" in sys.modules:
        return sys.modules["scope_accuracy"]
    spec = importlib.util.spec_from_file_location(
        "scope_accuracy", ROOT / "bench" / "scope_accuracy.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["scope_accuracy"] = module
    spec.loader.exec_module(module)
    return module


_SECTIONS: dict[str, ScopeSection] = {}


def section(pack: str) -> ScopeSection:
    """The pack's scope section, as the shipped pack file has it."""
    if pack not in _SECTIONS:
        _SECTIONS[pack] = _bench().load_section(pack)
    return _SECTIONS[pack]


def check(
    pack: str,
    text: str,
    decision: str,
    rule: str | None,
    *,
    confident: bool | None = True,
    case_type: str | None = None,
) -> ScopeDecision:
    got = decide_scope(section(pack), text, case_type=case_type)
    why = f"{text!r} → {got.decision} via {got.rule} (matched {got.matched}, sure={got.confident})"
    assert (got.decision, got.rule) == (decision, rule), why
    if confident is not None:
        assert got.confident is confident, why
    return got


# ==== Konneqt (seed 001, "Scope") =============================================================


@pytest.mark.parametrize(
    "text",
    [
        "Since this morning the API gateway answers every call with a 503",
        "Our production message broker crashed twice overnight, logs attached",
        "the token endpoint is timing out for all of our apps",
        "Publisher portal throws an exception when I save an API",
        "Throughput dropped and latency went through the roof after the last update",
        "Integration flows stopped processing in our QA environment",
        "analytics shows no data since Tuesday",
        "Key manager is unresponsive and consumers are getting errors",
    ],
)
def test_konneqt_product_incident_is_in_scope(text: str) -> None:
    """Konneqt › Scope: an Incident must affect Supported Konneqt Product instances of the
    Subscription — a fault on one's own deployment is in scope."""
    check("konneqt", text, "in_scope", "product-incident")


@pytest.mark.parametrize(
    "text",
    [
        "How can I rate-limit a single API per consumer?",
        "What's the recommended approach for versioning our APIs?",
        "is there a way to export all subscriptions to CSV",
        "Quick question: where do I find the setting for token expiry?",
        "Could you explain the difference between the two gateway modes?",
        "Any best practices for blue/green upgrades of the gateway?",
        "Wondering whether mutual TLS can be enforced per API",
        "how to enable CORS on one resource only",
    ],
)
def test_konneqt_product_query_is_in_scope(text: str) -> None:
    """Konneqt › Support Case Types › Query: questions about features, usage, functional
    implementation or best practices."""
    check("konneqt", text, "in_scope", "product-query")


@pytest.mark.parametrize(
    "text",
    [
        "Our subsidiary in Brazil has an unrelated project, can we raise their questions here?",
        "This is for a different business unit's integration, not the one on our contract",
        "Another department is starting a separate project on Konneqt, can you advise them too?",
        "question from our sister company about their own rollout",
        "We'd like to use our hours for a completely different project",
        "This deployment belongs to another subscription, but could you look anyway?",
        "it's for a partner company's programme, not ours",
        "Can our other division's dev team send you queries on this account?",
    ],
)
def test_konneqt_other_project_is_not_covered(text: str) -> None:
    """Konneqt › Scope: "Queries related to completely different projects are out of scope—
    distinct projects ... should have separate Subscriptions"."""
    got = check("konneqt", text, "not_covered", "other-project")
    assert got.alternative and "subscription" in got.alternative


@pytest.mark.parametrize(
    "text",
    [
        "Our pen testers flagged 4 findings on the production gateway, please analyse",
        "Attached the Qualys scan of our staging deployment, which of these are real?",
        "Vulnerability scanner reports an outdated jQuery in the dev portal",
        "Can you review the security report our auditors produced for our cluster?",
        "Nessus says CVE-2024-1234 affects our install, is that right?",
        "OWASP ZAP results for the publisher, need your analysis",
        "Security findings report from last week's penetration test on prod",
        "our snyk scan lists vulnerabilities in the distribution we run",
    ],
)
def test_konneqt_security_report_analysis_is_in_scope(text: str) -> None:
    """Konneqt › Scope: Security Report Analysis for reports "specifically relevant to or
    generated for a Subscriber's Konneqt deployments"."""
    check("konneqt", text, "in_scope", "security-report-analysis")


@pytest.mark.parametrize(
    "text",
    [
        "Here's a pentest report of our marketing site, which isn't running Konneqt",
        "Vulnerability scan of another system entirely, could you go through it?",
        "Can you analyse the security report for our CRM? It's a non-Konneqt app",
        "CVE findings on our public website (not built on Konneqt), please review",
        "security scan of someone else's software that we're evaluating",
        "Our customer-facing website got a nessus report, can you check the findings?",
        "please analyse this vulnerability report for another vendor's product",
        "Penetration test results for a different application, unrelated system",
    ],
)
def test_konneqt_security_report_other_system_is_not_covered(text: str) -> None:
    """Konneqt › Scope: Security Report Analysis is "limited to ... reports ... for a
    Subscriber's Konneqt deployments"; a report on another system is not covered."""
    check("konneqt", text, "not_covered", "security-report-other-system")


@pytest.mark.parametrize(
    "text",
    [
        "Our homegrown mediator throws NPEs after the upgrade",
        "we built a custom handler and since 4.2 it is never invoked",
        "The bespoke plugin our devs wrote stopped loading",
        "Custom extension we developed breaks token generation",
        "in-house add-on causes the gateway to restart",
        "Our customised interceptor class fails to deploy",
        "tailor-made policy class no longer compiles against the new version",
        "A self-written module of ours is leaking memory",
    ],
)
def test_konneqt_custom_extension_is_consulting(text: str) -> None:
    """Konneqt › Scope: custom product extensions — investigated, but the SLA may be suspended
    and "a full resolution ... may require a consulting engagement"."""
    got = check("konneqt", text, "consulting", "custom-extension")
    assert got.alternative == "a consulting engagement"


@pytest.mark.parametrize(
    "text",
    [
        "One of the disks in our RAID array died and the node is gone",
        "Motherboard failure on the box hosting the gateway",
        "The physical server's power supply blew up last night",
        "faulty RAM in the blade running the key manager",
        "Our storage array controller failed so the DB is offline",
        "hard drive crashed on the VM host",
        "network card keeps dropping packets on the bare metal host",
        "The hardwre under the cluster is failing, fans screaming and overheating",
    ],
)
def test_konneqt_hardware_failure_is_not_covered(text: str) -> None:
    """Konneqt › Scope: "seek an alternative solution—particularly when the issue is caused by:
    Hardware failures"."""
    got = check("konneqt", text, "not_covered", "hardware-failure", confident=None)
    assert got.alternative and "hardware" in got.alternative


@pytest.mark.parametrize(
    "text",
    [
        "The JDBC driver from our database vendor leaks connections",
        "A Windows update broke TLS on the host",
        "Our antivirus quarantines files the gateway needs",
        "It's a bug in a 3rd-party library we added",
        "The Linux kernel patch causes the JVM to hang",
        "third party load balancer drops long requests",
        "SQL Server itself is deadlocking under load",
        "operating system upgrade broke the network stack",
    ],
)
def test_konneqt_third_party_software_is_not_covered(text: str) -> None:
    """Konneqt › Scope: "seek an alternative solution ... Third-party software"."""
    check("konneqt", text, "not_covered", "third-party-software")


@pytest.mark.parametrize(
    "text",
    [
        "We patched the core jars to change the token format and now startup fails",
        "our team altered the product source code and rebuilt it",
        "We run our own fork of Konneqt with lots of changes",
        "I modified the binaries to skip a licence check",
        "we tweaked internals of the distribution, now the console is blank",
        "Recompiled the product code with some changes of ours",
        "Someone edited the class files inside the core",
        "after we rewrote parts of the core the gateway won't boot",
    ],
)
def test_konneqt_heavily_modified_product_is_not_covered(text: str) -> None:
    """Konneqt › Scope: "Heavily modified Konneqt products that are outside well-documented and
    supported extension mechanisms"."""
    check("konneqt", text, "not_covered", "heavily-modified-product")


@pytest.mark.parametrize(
    "text",
    [
        "We're on an unsupported JDK version and the server won't start",
        "Running it on FreeBSD, which isn't supported, and it core dumps",
        "It's deployed on an uncertified OS and crashes randomly",
        "we run an end-of-life version of the platform",
        "our load is far more than the published specs allow",
        "We exceed the documented limits for concurrent connections",
        "traffic is way more than the sizing guide's maximum",
        "the database we use is not on the supported list",
    ],
)
def test_konneqt_unsupported_environment_is_not_covered(text: str) -> None:
    """Konneqt › Scope: "Attempts to use the software in an unsupported environment or beyond its
    published specifications"."""
    check("konneqt", text, "not_covered", "unsupported-environment")


@pytest.mark.parametrize(
    "text",
    [
        "Could your engineers design our whole API programme for us?",
        "We'd like you to build the integration layer on our behalf",
        "Can Konneqt do the work of migrating all our services for us?",
        "we need a consultant to plan our rollout",
        "Please set up a workshop on our target architecture",
        "can your people write the mediation logic for us",
        "Looking for professional services to implement our gateway",
        "We want a solution design for the new platform",
    ],
)
def test_konneqt_consulting_request_is_consulting(text: str) -> None:
    """Konneqt › Scope: "Requests that are effectively consulting services"."""
    check("konneqt", text, "consulting", "consulting-request")


@pytest.mark.parametrize(
    "text",
    [
        "Can an engineer come on-site to our Madrid office next week?",
        "We need someone in person at our data center to fix the install",
        "please send an engineer to our premises",
        "Could you fly out and look at the setup face to face?",
        "we'd like a site visit to review the deployment",
        "is it possible for somebody to visit us onsite?",
        "Our CIO wants one of your people physically present during the cut-over",
        "Need a technician at our premises on Monday",
    ],
)
def test_konneqt_on_site_visit_is_not_covered(text: str) -> None:
    """Konneqt › Scope: "Issues requiring an on-site visit (unless covered under the
    Subscription)" — seek an alternative solution."""
    check("konneqt", text, "not_covered", "on-site-visit")


@pytest.mark.parametrize(
    "text",
    [
        "Our subscription expired last month but production is down, can you still help?",
        "We run the gateway in production without a licence and it crashed",
        "we're running 12 cores but our licence only covers 8 and it's slow",
        "the subscription lapsed in March, can we still raise this incident?",
        "This cluster is unlicensed, but could you look at the error anyway?",
        "We use more nodes than our subscription allows and one keeps failing",
    ],
)
def test_konneqt_outside_subscription_is_not_covered(text: str) -> None:
    """Konneqt › Scope: an Incident must affect instances "associated with and within the usage
    limits defined by the Subscription"; the SLA is suspended on subscription lapse, unlicensed
    production use and exceeded usage limits."""
    got = check("konneqt", text, "not_covered", "outside-subscription")
    assert got.alternative and "subscription" in got.alternative


# ---- Konneqt: intent beats topic (what is asked, whose thing it is) --------------------------


@pytest.mark.parametrize(
    "text",
    [
        # the size or shape of an engagement
        "We'd like your engineers to design our whole integration architecture: six weeks of work",
        "Could one of your people pair with our team for a few weeks to implement the flows?",
        "Please performance-tune our entire estate and put together a capacity plan",
        "What would it cost to have you migrate all our services off the old ESB?",
        "We're short-staffed this quarter. Could someone implement the new APIs?",
        # asking Konneqt to make something
        "Can you guys build us a service that converts EDI to JSON?",
        "could your team write the transformation logic for us",
        "We don't have anyone who knows the product: can you take over implementing our flows?",
    ],
)
def test_konneqt_effectively_consulting_by_intent(text: str) -> None:
    """Konneqt › Scope: "Requests that are effectively consulting services" — known by what is
    asked (make it for us), the shape of the work (weeks of it, pairing, a whole estate, a
    capacity plan) or the lack of people to do it, not by the product words around it."""
    got = decide_scope(section("konneqt"), text)
    why = f"{text!r} → {got.decision} via {got.rule} (matched {got.matched})"
    assert (got.decision, got.confident) == ("consulting", True), why


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        # whose software it is
        (
            "Our self-managed Kafka cluster keeps losing partitions, can you debug Kafka for us?",
            "third-party-software",
        ),
        (
            "It's nothing to do with you really, but our mail server bounces everything",
            "third-party-software",
        ),
        (
            "our Postgres database (not your product) is corrupting indexes, could you fix it?",
            "third-party-software",
        ),
        (
            "The nginx in front of the gateway returns 413s, can you fix our nginx config?",
            "third-party-software",
        ),
        (
            "Our RabbitMQ (we run it ourselves) drops messages, can you troubleshoot RabbitMQ?",
            "third-party-software",
        ),
        # environments unsupported by their nature, and beyond the published limits
        (
            "running it on windows xp embedded on a factory floor pc and it won't start",
            "unsupported-environment",
        ),
        (
            "We're on a Raspberry Pi with an ARM build we compiled ourselves; it crashes randomly",
            "unsupported-environment",
        ),
        (
            "the product runs on an old Solaris 9 box we can't upgrade and now it won't start",
            "unsupported-environment",
        ),
        (
            "We push four times the maximum TPS your sizing guide lists through one node",
            "unsupported-environment",
        ),
        (
            "i know the published sizing limits are way lower, but can you make it work anyway?",
            "unsupported-environment",
        ),
        # the product itself changed
        (
            "We forked the product and swapped the core routing engine for our own implementation",
            "heavily-modified-product",
        ),
        (
            "We heavily patched the product's source to add our own auth; now key manager throws",
            "heavily-modified-product",
        ),
    ],
)
def test_konneqt_not_covered_by_intent(text: str, rule: str) -> None:
    """Konneqt › Scope, "seek an alternative solution": third-party software ("nothing to do
    with you", "our own Kafka", "fix our database"), an unsupported environment or use beyond
    the published specifications, a heavily modified product."""
    check("konneqt", text, "not_covered", rule)


@pytest.mark.parametrize(
    "text",
    [
        "The gateway can't connect to our Postgres database after we rotated its password",
        "Can you help us find why the gateway restarts every few hours? It's been weeks",
        "how do I write a custom mediator? is there an example in the docs?",
        "When does our subscription expire?",
        "Where is the maximum payload size documented? We need the published limit for go-live",
        "Our own custom policy works fine, but the built-in rate limiter ignores the burst setting",
        "Could you send us the list of supported JDK versions?",
        "(managed deployment) please bump the heap on our prod gateway nodes to 4GB for us",
        "the gateway stopped routing to our backend, which we run on Postgres",
        "we run the gateway in docker on our own servers and it fails health checks",
        "Is Windows Server 2022 supported?",
        "Please fix the database connection pool leak in the gateway",
        "How do I configure the gateway to talk to our Oracle database?",
        "We use Microsoft Entra as IdP for the gateway and tokens fail validation",
    ],
)
def test_konneqt_cue_words_in_ordinary_requests_stay_in_scope(text: str) -> None:
    """Konneqt › Scope: Incidents and Queries on the subscribed product stay in scope when they
    merely mention a database, weeks, docs, limits or "for us"."""
    got = decide_scope(section("konneqt"), text)
    assert got.decision == "in_scope", got


# ==== QSCIM (seed 000) ========================================================================


@pytest.mark.parametrize(
    "text",
    [
        "Please help us activate our hybrid environment",
        "We're provisioning a new SaaS tenant and it's stuck",
        "install of QSCIM on-premises fails at step 3",
        "Need help standing up the on-prem instance",
        "How do we give our admins access? Access configuration is confusing",
        "the validation step after installation reports errors",
        "Deploying the LDAP connector from the library, where do I start?",
        "spinning up a QSCIM cluster on premise for the first time",
    ],
)
def test_qscim_2_1_deployment_support_is_in_scope(text: str) -> None:
    """QSCIM §2.1 Deployment Support: provisioning and activation of environments (SaaS,
    on-premises, hybrid), access configuration, connector deployment from the built-in library,
    system validation."""
    check("qscim", text, "in_scope", "deployment-support")


@pytest.mark.parametrize(
    "text",
    [
        "Setting up a provisioning pipeline from HR to our apps",
        "which auth methods can I configure for the SCIM API?",
        "Registering our endpoint gives a 401",
        "need help configuring OAuth client credentials",
        "our pipelines stay in pending forever",
        "how do we wire up SAML for the admin console",
        "endpoint registration for the ServiceNow app please",
        "Can't get the bearer token authentication to work",
    ],
)
def test_qscim_2_2_setup_support_is_in_scope(text: str) -> None:
    """QSCIM §2.2 Setup Support: provisioning pipelines, authentication methods, endpoint
    registration."""
    check("qscim", text, "in_scope", "setup-support")


@pytest.mark.parametrize(
    "text",
    [
        "How do I point the Oracle connector at our HR schema?",
        "Azure AD connector: which attributes come across by default?",
        "LDAP group sync question",
        "We use the Entra ID connector and want to know the mapping options",
        "Where are the standard mapping templates?",
        "is there a default mapping for Active Directory users",
        "Help with the built-in connector for OpenLDAP please",
        "we don't need a custom connector, just help with the Oracle one",
    ],
)
def test_qscim_2_3_builtin_connector_guidance_is_in_scope(text: str) -> None:
    """QSCIM §2.3 Product Usage & Connector Guidance (built-in connectors, e.g. Oracle, LDAP,
    Azure AD) and its Note: point to the documentation and standard mapping templates."""
    check("qscim", text, "in_scope", "builtin-connector-guidance")


@pytest.mark.parametrize(
    "text",
    [
        "How does QSCIM work out group membership changes?",
        "What happens in QSCIM when a user is deactivated upstream?",
        "Can you explain how qscim handles retries?",
        "is it possible to schedule a full resync?",
        "What's the recommended way to organise user groups?",
        "how to read the audit view",
        "Quick question about how deprovisioning works",
        "Any best practices for naming?",
    ],
)
def test_qscim_2_3_product_query_is_in_scope(text: str) -> None:
    """QSCIM §2.3 Product Usage & Connector Guidance: "Response to comprehensive questions
    related to how QSCIM works" (Konneqt's Query rule, re-cited by QSCIM)."""
    got = check("qscim", text, "in_scope", "product-query", confident=None)
    assert got.clause and got.clause.startswith("QSCIM §2.3")


@pytest.mark.parametrize(
    "text",
    [
        "We need a connector setup for Workday",
        "help configuring a connector to our ticketing tool",
        "How do we hook up a connector for SuccessFactors?",
        "Setting up the connector for our payroll system",
        "we'd like to use a connector with our homemade app",
        "connect our ERP using a connector",
        "Configure connectors for two new apps",
        "need to deploy a connector to a new target",
    ],
)
def test_qscim_connector_setup_unnamed_connector_asks_if_builtin(text: str) -> None:
    """QSCIM §2.3 vs §3.2: a connector that isn't named may be built-in (in scope) or custom
    (consulting) — lean in scope, but ask "Is the connector from the built-in library?"."""
    got = check("qscim", text, "in_scope", "connector-setup", confident=False)
    assert got.question is not None and got.question.id == "builtin-connector"


@pytest.mark.parametrize(
    "text",
    [
        "We need help with something the docs don't cover for the LDAP connector",
        "Our mapping needs are not documented anywhere, can you help",
        "Deep customisation of the Azure AD connector's attribute logic",
        "Non-standard config of our existing Oracle connector for a multi-tenant setup",
        "We want a very complex transformation of attributes",
        "advanced mapping customization beyond the documentation",
        "the guides don't cover our unusual configuration",
        "Need an exotic setup: nested OU mappings with custom rules",
    ],
)
def test_qscim_3_1_advanced_configuration_is_consulting(text: str) -> None:
    """QSCIM §3.1 Advanced Configuration Support: help "beyond what is available in
    documentation (e.g., deep customization or non-standard configurations of existing
    connectors)" is a consulting engagement."""
    check("qscim", text, "consulting", "advanced-configuration")


@pytest.mark.parametrize(
    "text",
    [
        "Can you build us a connector for our in-house HR tool?",
        "We want to develop our own connector for Workday",
        "extending the Oracle connector to write to a second table",
        "Could your team write a bespoke connector for SAP?",
        "customising the LDAP connector code to support our schema",
        "We need a brand new connector for a legacy mainframe",
        "Modify the Azure AD connector so it also syncs photos",
        "homegrown connector creation for our billing system",
    ],
)
def test_qscim_3_2_custom_connector_development_is_consulting(text: str) -> None:
    """QSCIM §3.2 Custom Connector Development: "The creation, customization, or extension of
    connectors ... is not included in standard support"."""
    got = check("qscim", text, "consulting", "custom-connector-development")
    assert got.clause == "QSCIM §3.2 Custom Connector Development"


@pytest.mark.parametrize(
    "text",
    [
        "Can we get 24/7 support from you for our go-live weekend?",
        "is QSCIM support available on weekends?",
        "we need someone on call during the cutover on Saturday",
        "Do you offer round-the-clock support for QSCIM?",
        "Our ops team wants out-of-hours support for the provisioning pipelines",
        "who do we call at night if QSCIM breaks? we need 24x7 cover",
    ],
)
def test_qscim_round_the_clock_support_is_not_covered(text: str) -> None:
    """QSCIM §4 8×5 Support Policy: "Most Konneqt partners are certified to offer 24×7 services
    if required ... a revenue stream for partners, not Konneqt"."""
    got = check("qscim", text, "not_covered", "round-the-clock-support")
    assert got.alternative and "partner" in got.alternative


@pytest.mark.parametrize(
    ("text", "decision"),
    [
        ("there's no Workday connector in the library, could you guys make us one?", "consulting"),
        (
            "Any chance your team could knock together a connector for our Dynamics 365?",
            "consulting",
        ),
        ("Your library doesn't have a connector for BambooHR. Can you create one?", "consulting"),
        (
            "We'd love a custom ServiceNow connector; what would it cost for you to develop one?",
            "consulting",
        ),
        (
            "The Oracle connector must merge three schemas before provisioning. I read the docs "
            "and there's nothing about it. Can you set it up?",
            "consulting",
        ),
        (
            "Need the Azure AD connector to do something the documentation doesn't mention. Could "
            "you do it for us?",
            "consulting",
        ),
        (
            "The problem isn't really QSCIM, it's our Oracle database: ORA-00600 all day. Can you "
            "fix the database?",
            "not_covered",
        ),
        (
            "The LDAP server (OpenLDAP, which we run ourselves) keeps segfaulting, can you debug "
            "slapd for us?",
            "not_covered",
        ),
        (
            "We compiled QSCIM from source for AIX ourselves and the service won't start",
            "not_covered",
        ),
    ],
)
def test_qscim_intent_beats_connector_topic(text: str, decision: str) -> None:
    """QSCIM §3.1/§3.2 and the inherited Konneqt rules: a built-in connector's name (Oracle,
    LDAP, Azure AD) is a topic; what the customer asks for — make one for us, something the docs
    don't cover, fix our own database — decides."""
    got = decide_scope(section("qscim"), text)
    why = f"{text!r} → {got.decision} via {got.rule} (matched {got.matched})"
    assert (got.decision, got.confident) == (decision, True), why


@pytest.mark.parametrize(
    "text",
    [
        "first time setting up the Oracle connector from your library, which mapping do I use?",
        "How do I point the Oracle connector at a read-only account?",
        "Can you walk us through setting up the Oracle connector? The docs are thin on HR schemas",
        "The Azure AD connector stopped provisioning users to our HR database last night",
        "how do i register a new endpoint? the docs page seems to skip that step",
        "QSCIM can't read from our Oracle database since the password rotation",
        "how does qscim handle on-call rotations in ServiceNow?",
        "the provisioning pipeline fails every night at 2am",
        "How do I map a custom attribute with the Azure AD connector?",
        "the LDAP connector returns error code 49 when binding",
        "The Oracle connector writes duplicate rows to the target table",
    ],
)
def test_qscim_cue_words_in_ordinary_requests_stay_in_scope(text: str) -> None:
    """QSCIM §2: built-in connector guidance, setup and usage questions stay in scope when they
    mention databases, docs or the night."""
    got = decide_scope(section("qscim"), text)
    assert got.decision == "in_scope", got


# ==== ConnectSoft (seed 002, "Scope") =========================================================


@pytest.mark.parametrize(
    "text",
    [
        "Something's off: requests time out everywhere",
        "we get a 502 on every call since the release",
        "Dashboard is broken after the update",
        "The app crashes when opening settings",
        "Outage across our tenant right now",
        "Data loss reported by two users",
        "the webhooks have stopped",
        "We see an exception in the logs every minute",
    ],
)
def test_connectsoft_product_incident_is_in_scope(text: str) -> None:
    """ConnectSoft › Scope › Included: support for platforms, factory-built and partner
    solutions — a generic fault report is in scope."""
    check("connectsoft", text, "in_scope", "product-incident")


@pytest.mark.parametrize(
    "text",
    [
        "Identity login page returns an error for every tenant",
        "Audit trail is missing events from last night",
        "the config service hands back stale values",
        "Our chatbot stopped replying in Teams",
        "SSO service rejects valid tokens",
        "feature flags in the configuration service aren't applied",
        "audit logs export is slow",
        "Bot platform question: can it post adaptive cards?",
    ],
)
def test_connectsoft_platform_saas_is_in_scope(text: str) -> None:
    """ConnectSoft › Scope › Included: "Platform SaaS support (Identity, Audit, Config, Bot)"."""
    check("connectsoft", text, "in_scope", "platform-saas")


@pytest.mark.parametrize(
    "text",
    [
        "The factory-built portal is slow since Monday",
        "Our bespoke SaaS you delivered throws errors on export",
        "issue with the app you built for us in the factory project",
        "the custom SaaS from our factory project is down",
        "System you built for us keeps logging us out",
        "Factory project app: invoices are not generated",
        "application you built rejects uploads over 5 MB",
        "The solution delivered by ConnectSoft fails at night",
    ],
)
def test_connectsoft_factory_built_saas_is_in_scope(text: str) -> None:
    """ConnectSoft › Scope › Included: "Factory-built custom SaaS support"."""
    check("connectsoft", text, "in_scope", "factory-built-saas")


@pytest.mark.parametrize(
    "text",
    [
        "Our implementation partner says the failure is on your side",
        "The solution our partner delivered shows a blank page",
        "Escalating from our system integrator: orders vanish",
        "partner-delivered app can't reach the API",
        "Our reseller set this up and now login fails",
        "co-support case: the partner needs your second line",
        "Partner built integration times out",
        "the integrator who built our solution asked us to open this",
    ],
)
def test_connectsoft_partner_delivered_is_in_scope(text: str) -> None:
    """ConnectSoft › Scope › Included: "Partner-delivered solution support (co-support
    model)" — partner first line, ConnectSoft second line."""
    check("connectsoft", text, "in_scope", "partner-delivered", confident=None)


@pytest.mark.parametrize(
    "text",
    [
        "Where's the KB article about rotating secrets?",
        "Link to the docs for tenant onboarding?",
        "The documentation for webhooks seems outdated",
        "is there a guide for exporting data",
        "can't find the manual for the admin console",
        "Which knowledge base page covers SSO?",
        "release notes for the last version please",
        "where is the reference for the REST API",
    ],
)
def test_connectsoft_documentation_and_kb_is_in_scope(text: str) -> None:
    """ConnectSoft › Scope › Included: "Documentation and knowledge base access"."""
    check("connectsoft", text, "in_scope", "documentation-and-kb")


@pytest.mark.parametrize(
    "text",
    [
        "Feature request: dark mode in the console",
        "It would be great if exports supported Parquet",
        "please add an option to bulk-delete users",
        "Suggestion: let admins schedule reports",
        "enhancement request for the search page",
        "Could you add filtering by date range? Just an idea for the roadmap",
        "would be nice if we could pin favourites",
        "Small improvement idea for the login page",
    ],
)
def test_connectsoft_feature_request_is_in_scope(text: str) -> None:
    """ConnectSoft › Support Channels › Email/Tickets: "Feature requests" are a support
    channel use (Severity 4)."""
    check("connectsoft", text, "in_scope", "feature-request")


@pytest.mark.parametrize(
    "text",
    [
        "Could you develop a custom approval module for us?",
        "We want you to build a bespoke reporting dashboard",
        "can your devs code a tailor-made plugin for our sales team",
        "Please create custom functionality just for us",
        "We'd like you to build a new feature for us on the factory app",
        "Implement a custom screen for our warehouse staff",
        "Write an extension that adds our own pricing logic",
        "program a custom report for finance",
    ],
)
def test_connectsoft_custom_development_is_consulting(text: str) -> None:
    """ConnectSoft › Scope › Not Included: "Custom development (separate service)"."""
    got = check("connectsoft", text, "consulting", "custom-development")
    assert got.alternative and "separate service" in got.alternative


@pytest.mark.parametrize(
    "text",
    [
        "Please review our solution architecture before go-live",
        "We need help designing the target architecture for our landscape",
        "Can you redesign our microservices topology?",
        "Looking for an architecture review of our system",
        "We'd like consulting on our system design",
        "an assessment of our infrastructure design please",
        "Help us plan the architecture for scalability",
        "We want a design engagement for the new platform",
    ],
)
def test_connectsoft_architecture_consulting_is_consulting(text: str) -> None:
    """ConnectSoft › Scope › Not Included: "Architecture consulting (separate service)"."""
    check("connectsoft", text, "consulting", "architecture-consulting")


@pytest.mark.parametrize(
    "text",
    [
        "Can you train our admins on the Identity console?",
        "We'd like a training session for new staff",
        "Is there a course for developers?",
        "Please organise onboarding sessions for our ops team",
        "Need someone to teach our helpdesk the basics",
        "coaching for our product owners on the bot builder",
        "a bootcamp for our engineers",
        "trainings for the Audit platform users",
    ],
)
def test_connectsoft_training_is_consulting(text: str) -> None:
    """ConnectSoft › Scope › Not Included: "Training (separate service)"."""
    check("connectsoft", text, "consulting", "training")


@pytest.mark.parametrize(
    "text",
    [
        "We need you to build an integration between Audit and our SIEM",
        "Can your engineers code an adapter so our ERP pushes orders in?",
        "please develop a connector to our CRM",
        "create a webhook bridge to our ticketing tool",
        "Integrate the platform with SAP for us - build it please",
        "We want a custom ETL feeding into the config service",
        "Write middleware to connect our legacy system",
        "Implement an API client for our billing system",
    ],
)
def test_connectsoft_integration_development_is_consulting(text: str) -> None:
    """ConnectSoft › Scope › Not Included: "Integration development (separate service or
    professional services)"."""
    check("connectsoft", text, "consulting", "integration-development")


@pytest.mark.parametrize(
    "text",
    [
        "my laptop's outlook keeps crashing whenever i open an attachment",
        "Can you help fix our own on-prem Exchange server? It's nothing to do with your platforms",
        "Our office VPN drops every hour, can you help? I know it's not really your area",
        "Teams on my desktop keeps freezing, nothing to do with the bot",
        "Our printer on the 3rd floor won't print, can someone take a look?",
        "Our own SharePoint farm throws errors, could you look at it even though it's not yours?",
    ],
)
def test_connectsoft_unrelated_system_is_not_covered(text: str) -> None:
    """ConnectSoft › Scope › Included lists platforms, factory-built SaaS, partner-delivered
    solutions and documentation; the customer's own IT or another vendor's software is none of
    them."""
    check("connectsoft", text, "not_covered", "unrelated-system")


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (
            "We need an integration built between your Identity platform and our SAP HR system",
            "integration-development",
        ),
        (
            "pls write us a sync job that pulls our Salesforce contacts into the Config platform",
            "integration-development",
        ),
        ("Could you hook the Audit platform up to our data warehouse?", "integration-development"),
        (
            "we'd like you to write a script exporting Identity users to our HR database nightly",
            "integration-development",
        ),
        ("Can you build us a dashboard on the Audit platform?", "custom-development"),
    ],
)
def test_connectsoft_development_intent_beats_platform_topic(text: str, rule: str) -> None:
    """ConnectSoft › Scope › Not Included: custom and integration development — even when the
    request names a platform (Identity, Audit, Config, Bot), which alone would be in scope."""
    check("connectsoft", text, "consulting", rule)


@pytest.mark.parametrize(
    "text",
    [
        "the export job you built for us in the factory project skips records",
        "The sync between Audit and our SIEM that your team set up is failing with 401s",
        "Identity: SSO into Salesforce fails with invalid audience since your update",
        "Is there an API to read Config values from our own services?",
        "How do we rotate the signing keys on the Identity platform?",
        "How do we connect Salesforce to Identity?",
        "Can you check the Salesforce sync for us?",
        "Can you add me to the Slack support channel?",
        "We want to integrate with your Identity platform - which API do we use?",
        "our third-party monitoring shows Identity errors since 10:00",
        "Please add a CSV export to the Audit platform's event search screen",
    ],
)
def test_connectsoft_cue_words_in_ordinary_requests_stay_in_scope(text: str) -> None:
    """ConnectSoft › Scope › Included: faults and questions on what ConnectSoft built stay in
    scope ("you built", "your team set up", "our own services")."""
    got = decide_scope(section("connectsoft"), text)
    assert got.decision == "in_scope", got


# ==== dk-saas (seed 003) ======================================================================


@pytest.mark.parametrize(
    "text",
    [
        "The application is down",
        "We get an error when saving",
        "Page crashes when opening the employee list",
        "It's very slow today",
        "Outage since 9 o'clock",
        "Export stopped working",
        "there's a bug in the calendar view",
        "Nothing loads, just an exception",
    ],
)
def test_dk_saas_service_incident_is_in_scope(text: str) -> None:
    """dk-saas › SLA › Incident management: faults in the service are handled by priority."""
    check("dk-saas", text, "in_scope", "service-incident")


@pytest.mark.parametrize(
    "text",
    [
        "Several staff ended up in the wrong segment",
        "user/segment mismatch after the reorg",
        "Colleagues are assigned to the wrong segment",
        "segments don't match what we configured",
        "The configuration for the Aarhus office looks off",
        "Could you check our settings for the new department?",
        "employees show up in the wrong segment",
        "Segment assignment is incorrect for managers",
    ],
)
def test_dk_saas_configuration_support_is_in_scope(text: str) -> None:
    """dk-saas › 2nd Level Support: "Configuration support e.g. user/segment mismatch"."""
    check("dk-saas", text, "in_scope", "configuration-support")


@pytest.mark.parametrize(
    "text",
    [
        "Users haven't synchronised since Friday",
        "the nightly sync fails",
        "Synchronisation with Salesforce stopped",
        "changes are not coming through",
        "Employee data is out of date compared to HR",
        "syncing takes forever and then times out",
        "The import job didn't run",
        "new hires aren't synced",
    ],
)
def test_dk_saas_synchronisation_issues_is_in_scope(text: str) -> None:
    """dk-saas › 2nd Level Support: "Synchronization issues"."""
    check("dk-saas", text, "in_scope", "synchronisation-issues")


@pytest.mark.parametrize(
    "text",
    [
        "Phone numbers are flagged as invalid",
        "Validation rejects valid e-mail addresses",
        "The data check complains about postcodes",
        "validation error on the start date field",
        "Why does it validate the cost centre this way?",
        "data validation blocks our import",
        "Records rejected as invalid without a reason",
        "validation rules seem too strict",
    ],
)
def test_dk_saas_data_validation_is_in_scope(text: str) -> None:
    """dk-saas › 2nd Level Support: "Data validation"."""
    check("dk-saas", text, "in_scope", "data-validation")


@pytest.mark.parametrize(
    "text",
    [
        "The business rule for manager assignment isn't firing",
        "Our business rules put people in the wrong team",
        "business logic for holidays seems off",
        "The rule engine skips new hires",
        "an assignment rule misbehaves",
        "Workflow rule sends two e-mails",
        "How do business rules get evaluated?",
        "The rule that sets cost centres ignores contractors",
    ],
)
def test_dk_saas_business_rules_is_in_scope(text: str) -> None:
    """dk-saas › 2nd Level Support: "Business rules"."""
    check("dk-saas", text, "in_scope", "business-rules")


@pytest.mark.parametrize(
    "text",
    [
        "How do we use the extension interface in Salesforce?",
        "Which extension points exist for Salesforce?",
        "Guidance on extending the Salesforce side with a custom field",
        "where do hooks go in SFDC",
        "Salesforce extension interface: can we add our own field?",
        "extending the app in Salesforce Lightning",
        "We'd like advice on the extension interface for Sales Cloud",
        "Is there a hook in Salesforce to add an extra field?",
    ],
)
def test_dk_saas_salesforce_extension_guidance_is_in_scope(text: str) -> None:
    """dk-saas › 2nd Level Support: "Extension interface guidance in Salesforce"."""
    check("dk-saas", text, "in_scope", "salesforce-extension-guidance")


@pytest.mark.parametrize(
    "text",
    [
        "We accidentally deleted 30 employees, can you restore them?",
        "Someone removed our Odense location, please bring it back",
        "Deleted users by mistake, can you recover them?",
        "an admin wiped two departments - we need them restored",
        "Can you undo the deletion of our users from yesterday?",
        "we erased a site, please get it back",
        "Please reinstate the employees we removed",
        "Restore the locations that got deleted by our HR admin",
    ],
)
def test_dk_saas_restore_deleted_data_is_consulting(text: str) -> None:
    """dk-saas › Consultancy services: "Customer or End User deletes users (employees and
    locations) and needs help to restore data"."""
    got = check("dk-saas", text, "consulting", "restore-deleted-data")
    assert got.alternative and "approval" in got.alternative


@pytest.mark.parametrize(
    "text",
    [
        "Help debugging our security proxy in front of Graph API",
        "We want a reverse proxy in front of Microsoft Graph",
        "The proxy for MS Graph rejects our calls",
        "Guidance on putting a gateway in front of the Graph API",
        "deploying a security proxy for graph",
        "Graph API behind our WAF returns 403",
        "How do we configure an API gateway in front of Microsoft Graph?",
        "security proxy setup for the graph endpoint",
    ],
)
def test_dk_saas_security_proxy_graph_is_consulting(text: str) -> None:
    """dk-saas › Consultancy services: "Guidance and debugging assistance related to deployment
    of Security Proxy in front of Graph API"."""
    check("dk-saas", text, "consulting", "security-proxy-graph")


@pytest.mark.parametrize(
    "text",
    [
        "Can you validate the SCIM segmentation of our Entra users?",
        "Data quality of users coming from Entra ID is poor",
        "Help segmenting Azure AD users via SCIM",
        "Entra user data is a mess, we need help with quality",
        "SCIM user segmentation guidance please",
        "Validation of Entra data related to SCIM segmentation",
        "The quality of our data in Entra ID needs a clean-up",
        "inconsistent data from AAD via SCIM",
    ],
)
def test_dk_saas_scim_entra_segmentation_is_consulting(text: str) -> None:
    """dk-saas › Consultancy services: "Guidance and data validation related to SCIM user data
    segmentation and data quality for Entra Users"."""
    check("dk-saas", text, "consulting", "scim-entra-segmentation")


@pytest.mark.parametrize(
    "text",
    [
        "Salesforce user segmentation for our Entra data",
        "Data quality in Salesforce is poor after the mapping from Entra",
        "mapping Entra users into Salesforce with proper segments",
        "Segmenting users in Salesforce",
        "Bad data in SFDC user records",
        "We need Entra ID data mapped to Salesforce users cleanly",
        "help with Salesforce segment design",
        "Salesforce data quality for user mapping",
    ],
)
def test_dk_saas_salesforce_segmentation_mapping_is_consulting(text: str) -> None:
    """dk-saas › Consultancy services: "Salesforce user data segmentation and data quality for
    Entra User data mapping"."""
    check("dk-saas", text, "consulting", "salesforce-segmentation-mapping")


@pytest.mark.parametrize(
    "text",
    [
        "Salesforce users can't see records they should",
        "Please diagnose our sharing settings",
        "Our sharing rules hide accounts from sales reps",
        "record visibility in Salesforce is off",
        "Org-wide defaults seem wrong",
        "Role hierarchy and record access problem",
        "why can't our team see the records in SFDC?",
        "sharing model question for customer-specific data",
    ],
)
def test_dk_saas_salesforce_sharing_settings_is_consulting(text: str) -> None:
    """dk-saas › Consultancy services: "Diagnostic assistance in relation to Salesforce sharing
    settings for customer specific data or customer specific data configuration"."""
    check("dk-saas", text, "consulting", "salesforce-sharing-settings")


@pytest.mark.parametrize(
    "text",
    [
        "We want an advanced CRM flow for lead routing",
        "Please build a complex flow in the CRM",
        "Design a new CRM flow for onboarding",
        "Could you rework our CRM flows?",
        "elaborate multi-step flow for approvals in the CRM",
        "sophisticated process builder setup",
        "create a custom flow that routes leads",
        "Tailor our CRM flows to the new regions",
    ],
)
def test_dk_saas_crm_flows_advanced_is_consulting(text: str) -> None:
    """dk-saas › Consultancy services: "Advanced configuration of CRM flows"."""
    check("dk-saas", text, "consulting", "crm-flows-advanced")


@pytest.mark.parametrize(
    "text",
    [
        "Configure some advanced CRM data fetchers for pricing",
        "we need a complex data fetcher",
        "Build a new fetcher for product data",
        "custom data fetchers for our ERP",
        "Redesign the data fetchers",
        "elaborate fetcher for the order history",
        "Create a data fetcher with special filters",
        "Tailored data fetchers for each region",
    ],
)
def test_dk_saas_crm_data_fetchers_advanced_is_consulting(text: str) -> None:
    """dk-saas › Consultancy services: "Advanced configuration of CRM data fetchers"."""
    check("dk-saas", text, "consulting", "crm-data-fetchers-advanced")


@pytest.mark.parametrize(
    "text",
    [
        "We need more licences",
        "Help reassigning licenses between departments",
        "How many seats do we have left?",
        "licence management help please",
        "Our license count seems wrong",
        "Could you sort out our licensing?",
        "Move seats from Sales to Support",
        "licences for the new hires",
    ],
)
def test_dk_saas_licence_management_is_consulting(text: str) -> None:
    """dk-saas › Consultancy services: "License management assistance"."""
    check("dk-saas", text, "consulting", "licence-management")


@pytest.mark.parametrize(
    "text",
    [
        "An end user forgot their password",
        "Can you reset the password for Mette?",
        "One of our staff is locked out",
        "MFA reset needed for a colleague",
        "How does a normal user change their profile picture?",
        "A user can't log in, she typed the wrong password",
        "How do I, as an end user, update my own notification settings?",
        "Where can a regular user change their display language?",
    ],
)
def test_dk_saas_first_level_support_is_not_covered(text: str) -> None:
    """dk-saas › Support: "1st Level support — End User, Customer"; the provider is 2nd level.
    End users' own how-to and account questions go to the customer's own first level."""
    got = check("dk-saas", text, "not_covered", "first-level-support")
    assert got.alternative and "first-level" in got.alternative


@pytest.mark.parametrize(
    "text",
    [
        "our office printer isn't working, can you take a look?",
        "Outlook on my laptop keeps freezing",
        "The wifi in the Aarhus store keeps dropping",
        "can you fix our card terminal? nothing to do with your app, I know",
        "My PC is very slow since the windows update",
        "our file server is full, can you help?",
    ],
)
def test_dk_saas_outside_the_service_is_not_covered(text: str) -> None:
    """dk-saas › Support: support covers the provider's application (2nd level: configuration,
    synchronisation, data validation, business rules, extension guidance), not the customer's
    own IT."""
    check("dk-saas", text, "not_covered", "outside-the-service")


@pytest.mark.parametrize(
    "text",
    [
        "how do i swap my shift with a colleague in the app?",
        "A new colleague can't work out how to set her availability, can you explain it to her?",
        "where can I find my payslips?",
        "new employee asks how to upload a profile photo",
        "how can I change the language of the app on my own phone?",
        "one of the shop assistants doesnt know how to request a day off, could you show her",
    ],
)
def test_dk_saas_first_level_how_to_without_saying_end_user(text: str) -> None:
    """dk-saas › Support: "1st Level support — End User, Customer". An individual's own how-to
    about a personal task (rota, payslip, profile photo, day off) is first level even when
    nobody says "end user"."""
    check("dk-saas", text, "not_covered", "first-level-support")


@pytest.mark.parametrize(
    "text",
    [
        "One employee's shifts disappeared from her schedule after yesterday's sync",
        "The app crashes for a single user when she opens the calendar on her phone",
        "How do business rules decide who gets the manager role?",
        "Since this morning nobody at the Odense location can see their rota",
        "usernames come through in lowercase from Entra, is that a config setting?",
        "We use a third-party payroll system that feeds the app; the import failed",
    ],
)
def test_dk_saas_single_user_faults_stay_in_scope(text: str) -> None:
    """dk-saas › SLA: a fault affecting one user is an incident (priority Low), not first-level
    support; only how-to and account questions are (and an account *setting* for everyone is
    configuration)."""
    got = decide_scope(section("dk-saas"), text)
    assert got.decision == "in_scope", got


# ==== coverage: every rule has its test =======================================================

_TESTED_RULES = {
    "konneqt": {
        "product-incident",
        "product-query",
        "other-project",
        "security-report-analysis",
        "security-report-other-system",
        "custom-extension",
        "hardware-failure",
        "third-party-software",
        "heavily-modified-product",
        "unsupported-environment",
        "consulting-request",
        "on-site-visit",
        "outside-subscription",
    },
    "qscim": {
        "deployment-support",
        "setup-support",
        "builtin-connector-guidance",
        "product-query",
        "connector-setup",
        "advanced-configuration",
        "custom-connector-development",
        "round-the-clock-support",
    },
    "connectsoft": {
        "product-incident",
        "platform-saas",
        "factory-built-saas",
        "partner-delivered",
        "documentation-and-kb",
        "feature-request",
        "custom-development",
        "architecture-consulting",
        "training",
        "integration-development",
        "unrelated-system",
    },
    "dk-saas": {
        "service-incident",
        "configuration-support",
        "synchronisation-issues",
        "data-validation",
        "business-rules",
        "salesforce-extension-guidance",
        "restore-deleted-data",
        "security-proxy-graph",
        "scim-entra-segmentation",
        "salesforce-segmentation-mapping",
        "salesforce-sharing-settings",
        "crm-flows-advanced",
        "crm-data-fetchers-advanced",
        "licence-management",
        "first-level-support",
        "outside-the-service",
    },
}
# Rules reached only through an answer (no patterns) or too generic to need their own test.
_ANSWER_ONLY = {
    ("konneqt", "subscribed-project"),
    ("connectsoft", "platform-architecture-question"),
    ("connectsoft", "product-query"),
    ("dk-saas", "general-inquiry"),
}


@pytest.mark.parametrize("pack", sorted(_TESTED_RULES))
def test_every_rule_has_a_phrasing_test(pack: str) -> None:
    """Each scope rule of each pack is exercised by a test named after it."""
    inherited = _TESTED_RULES["konneqt"] if pack == "qscim" else set()
    missing = {
        rid
        for rid in section(pack).rules
        if rid not in _TESTED_RULES[pack] | inherited
        and (pack, rid) not in _ANSWER_ONLY
        and ("konneqt", rid) not in _ANSWER_ONLY
    }
    assert not missing, f"rules without a test: {sorted(missing)}"


# ==== structured answers decide over words ====================================================


def test_answer_builtin_overrides_custom_connector_words() -> None:
    """QSCIM §2.3 vs §3.2: the customer says the connector is built-in — the answer wins."""
    got = decide_scope(
        section("qscim"),
        "We need to build a connector for our directory",
        answers={"builtin-connector": "yes"},
    )
    assert (got.decision, got.rule, got.confident) == (
        "in_scope",
        "builtin-connector-guidance",
        True,
    )
    assert got.matched == ("builtin-connector=yes",)


def test_answer_custom_connector_overrides_in_scope_words() -> None:
    """QSCIM §3.2: "Is it built-in?" — "No" makes setting it up consulting."""
    got = decide_scope(
        section("qscim"), "help setting up the connector", answers={"builtin-connector": "no"}
    )
    assert (got.decision, got.rule, got.confident) == (
        "consulting",
        "custom-connector-development",
        True,
    )


def test_answers_combine_to_the_stricter_outcome() -> None:
    """QSCIM §3.1: a built-in connector configured beyond the documentation is consulting."""
    got = decide_scope(
        section("qscim"),
        "LDAP connector question",
        answers={"builtin-connector": "yes", "beyond-documentation": "yes"},
    )
    assert (got.decision, got.rule) == ("consulting", "advanced-configuration")


def test_answer_leaves_unrelated_strong_rule_standing() -> None:
    """Konneqt › Scope (hardware): saying the connector is built-in doesn't make a dead disk
    Konneqt's problem."""
    got = decide_scope(
        section("qscim"),
        "the disk of the server running the Oracle connector died",
        answers={"builtin-connector": "yes"},
    )
    assert (got.decision, got.rule) == ("not_covered", "hardware-failure")


def test_answer_decides_a_tie() -> None:
    """dk-saas: "Entra users land in the wrong segment" ties configuration support (in scope)
    and SCIM/Entra segmentation (consultancy); the answer settles it either way."""
    text = "Entra users land in the wrong segment"
    app = decide_scope(section("dk-saas"), text, answers={"data-source": "app-config"})
    entra = decide_scope(section("dk-saas"), text, answers={"data-source": "entra-data"})
    assert (app.decision, app.rule) == ("in_scope", "configuration-support")
    assert (entra.decision, entra.rule) == ("consulting", "scim-entra-segmentation")


def test_answer_by_label_and_unknown_questions_ignored() -> None:
    """Answers may be given by label; answers to other intake questions are not ours."""
    got = decide_scope(
        section("konneqt"),
        "everything is slow",
        answers={"cause": "A hardware failure", "environment": "production"},
    )
    assert (got.decision, got.rule) == ("not_covered", "hardware-failure")


def test_answer_that_is_not_an_option_is_refused() -> None:
    with pytest.raises(CaseFactsError, match="builtin-connector"):
        decide_scope(section("qscim"), "connector", answers={"builtin-connector": "maybe?"})


def test_unsure_answer_is_not_asked_again() -> None:
    """An "I'm not sure" answer settles nothing, and the question isn't repeated."""
    got = decide_scope(
        section("qscim"), "set up a connector for Workday", answers={"builtin-connector": "unsure"}
    )
    assert got.question is None
    assert got.rule == "connector-setup"


def test_answer_only_rule_reached_through_question() -> None:
    """Konneqt › Scope (Queries about the subscribed project): the `same-project` answer."""
    got = decide_scope(
        section("konneqt"), "question from another department", answers={"same-project": "yes"}
    )
    assert (got.decision, got.rule) == ("in_scope", "subscribed-project")


# ==== unsure → confident False and the right question =========================================


@pytest.mark.parametrize(
    ("pack", "text", "question"),
    [
        ("qscim", "the connector keeps failing", "builtin-connector"),
        ("qscim", "we need a new connector", "builtin-connector"),
        ("qscim", "help me configure a connector for Workday", "builtin-connector"),
        ("dk-saas", "Entra users land in the wrong segment", "data-source"),
        ("dk-saas", "the CRM flow is acting up", "crm-work"),
        ("dk-saas", "half the users are gone, please restore", "who-deleted"),
        ("connectsoft", "question about the architecture", "architecture"),
    ],
)
def test_unsure_asks_the_right_question(pack: str, text: str, question: str) -> None:
    got = decide_scope(section(pack), text)
    assert got.confident is False
    assert got.question is not None and got.question.id == question, got


def test_nothing_matched_is_not_confident() -> None:
    got = decide_scope(section("konneqt"), "hello there")
    assert (got.decision, got.rule, got.confident) == ("in_scope", None, False)
    assert got.explanation == section("konneqt").default_explanation


def test_question_carries_options_and_what_they_imply() -> None:
    """QSCIM: "Is the connector from the built-in library (Oracle, LDAP, Azure AD …)?"."""
    q = section("qscim").questions["builtin-connector"]
    assert "built-in" in q.text and "Oracle" in q.text
    implied = {o.id: o.rule for o in q.options}
    assert implied == {
        "yes": "builtin-connector-guidance",
        "no": "custom-connector-development",
        "unsure": None,
    }
    beyond = section("qscim").questions["beyond-documentation"]
    assert "documentation" in beyond.text


# ==== precedence: specific beats general ======================================================


def test_specific_scim_data_validation_beats_general_data_validation() -> None:
    """dk-saas: "Data validation" is 2nd level, but "data validation related to SCIM user data
    segmentation" is consultancy — the more specific rule wins."""
    general = decide_scope(section("dk-saas"), "data validation fails on import")
    specific = decide_scope(
        section("dk-saas"), "data validation related to SCIM user segmentation in Entra"
    )
    assert (general.decision, general.rule) == ("in_scope", "data-validation")
    assert (specific.decision, specific.rule, specific.confident) == (
        "consulting",
        "scim-entra-segmentation",
        True,
    )


def test_override_heavily_modified_beats_custom_extension() -> None:
    """Konneqt › Scope: changing the product's own code is "heavily modified", not an
    extension."""
    got = decide_scope(section("konneqt"), "we modified the core jars of our custom plugin")
    assert got.rule == "heavily-modified-product"


def test_integration_fault_is_support_not_development() -> None:
    """ConnectSoft: building an integration is a separate service; a broken one is support."""
    build = decide_scope(section("connectsoft"), "build an integration to our ERP")
    broken = decide_scope(section("connectsoft"), "the ERP integration on the Audit platform fails")
    assert build.decision == "consulting"
    assert broken.decision == "in_scope"


def test_generic_trouble_words_lose_to_specific_rules() -> None:
    got = decide_scope(section("konneqt"), "error: the RAID controller failed, server down")
    assert got.rule == "hardware-failure"


def test_first_level_yields_when_everyone_is_affected() -> None:
    """dk-saas: a password problem for everyone is an incident, not first-level support."""
    got = decide_scope(section("dk-saas"), "nobody can log in, password page errors for everyone")
    assert got.decision == "in_scope"


# ==== inheritance: qscim extends konneqt ======================================================


def test_qscim_inherits_konneqt_hardware_rule() -> None:
    """QSCIM extends Konneqt: Konneqt › Scope's hardware rule still applies to QSCIM."""
    got = decide_scope(section("qscim"), "the server hosting QSCIM lost its power supply")
    assert (got.decision, got.rule) == ("not_covered", "hardware-failure")
    assert got.clause == section("konneqt").rules["hardware-failure"].clause


@pytest.mark.parametrize(
    "rule", ["on-site-visit", "third-party-software", "other-project", "custom-extension"]
)
def test_qscim_inherits_every_konneqt_rule(rule: str) -> None:
    assert section("qscim").rules[rule] == section("konneqt").rules[rule]


def test_qscim_overrides_only_what_it_restates() -> None:
    """The inherited Query rule keeps Konneqt's decision but cites QSCIM §2.3."""
    k, q = section("konneqt").rules["product-query"], section("qscim").rules["product-query"]
    assert q.decision == k.decision and q.summary == k.summary
    assert q.clause.startswith("QSCIM §2.3") and not k.clause.startswith("QSCIM")


# ==== scoring: intent beats topic, close calls are unsure ==================================


def test_override_settles_equal_evidence_but_yields_to_a_stronger_intent() -> None:
    """An `overrides` settles rules with evidence of equal weight; a rule matched on an intent
    cue (weight 2) outranks a topic rule (weight 1) even when the topic rule overrides it."""
    s = ScopeSection.model_validate(
        {
            "concepts": {
                "topic": ["widget"],
                "vendor-thing": ["database"],
                "not-yours": {"terms": ["nothing to do with you"], "weight": 2},
            },
            "rules": {
                "widget-help": _rule(patterns=[["topic"]], overrides=["theirs"]),
                "theirs": _rule(decision="not_covered", patterns=[["vendor-thing"], ["not-yours"]]),
            },
        }
    )
    assert decide_scope(s, "the widget database is slow").rule == "widget-help"
    got = decide_scope(s, "our widget, nothing to do with you, is slow")
    assert (got.decision, got.rule, got.confident) == ("not_covered", "theirs", True)


def test_a_close_rival_with_another_decision_leaves_us_unsure() -> None:
    """A winner only slightly ahead of a rule deciding otherwise is not a confident answer; the
    tentative decision is then the stricter one (nothing promised that isn't owed)."""

    def section_with(weight_a: float, weight_b: float) -> ScopeSection:
        return ScopeSection.model_validate(
            {
                "concepts": {
                    "a": {"terms": ["alpha"], "weight": weight_a},
                    "b": {"terms": ["beta"], "weight": weight_b},
                },
                "rules": {
                    "ra": _rule(patterns=[["a"]]),
                    "rb": _rule(decision="consulting", patterns=[["b"]], question="q"),
                },
                "questions": {
                    "q": {
                        "text": "?",
                        "options": [
                            {"id": "y", "label": "Y", "rule": "rb"},
                            {"id": "n", "label": "N", "rule": "ra"},
                        ],
                    }
                },
            }
        )

    for wa, wb in [(1.0, 1.25), (1.25, 1.0)]:
        close = decide_scope(section_with(wa, wb), "alpha and beta")
        assert (close.rule, close.confident) == ("rb", False)
        assert close.question is not None and close.question.id == "q"
    clear = decide_scope(section_with(1.0, 2.0), "alpha and beta")
    assert (clear.rule, clear.confident) == ("rb", True)
    clear = decide_scope(section_with(2.0, 1.0), "alpha and beta")
    assert (clear.rule, clear.confident) == ("ra", True)


def test_pattern_table_sets_its_own_reach() -> None:
    """A pattern written as a list takes the rule's `within`; a `{ concepts = [...] }` table
    without `within` matches anywhere (cues in different sentences)."""
    s = ScopeSection.model_validate(
        {
            "concepts": {"a": ["alpha"], "b": ["beta"], "c": ["gamma"], "d": ["delta"]},
            "rules": {
                "r": _rule(
                    decision="consulting",
                    patterns=[["a", "b"], {"concepts": ["c", "d"]}],
                    within=3,
                )
            },
        }
    )
    far = "one two three four five six seven"
    assert decide_scope(s, "alpha beta").rule == "r"
    assert decide_scope(s, f"alpha {far} beta").rule is None
    assert decide_scope(s, f"gamma. {far}. delta").rule == "r"
    with pytest.raises(ValidationError, match="no concept named 'ghost'"):
        ScopeSection.model_validate({"rules": {"r": _rule(patterns=[{"concepts": ["ghost"]}])}})


def test_particle_after_the_object_still_completes_a_phrasal_verb() -> None:
    s = ScopeSection.model_validate(
        {
            "concepts": {"hook": ["hook up"]},
            "rules": {"r": _rule(patterns=[["hook"]])},
        }
    )
    assert decide_scope(s, "please hook the audit platform up").rule == "r"
    assert decide_scope(s, "please hook the audit platform and reporting database up").rule is None


# ==== language ================================================================================


@pytest.mark.parametrize(
    ("british", "american"),
    [
        ("customise", "customize"),
        ("customisation", "customization"),
        ("licence", "license"),
        ("organisation", "organization"),
        ("synchronise", "synchronize"),
        ("synchronisation", "synchronization"),
        ("catalogue", "catalog"),
        ("behaviour", "behavior"),
        ("analyse", "analyze"),
        ("centre", "center"),
    ],
)
def test_british_and_american_spellings_meet(british: str, american: str) -> None:
    assert stem(americanise(british)) == stem(americanise(american))


@pytest.mark.parametrize(
    "word", ["promise", "enterprise", "premise", "raise", "advise", "noise", "exercise"]
)
def test_ise_words_that_are_american_too_stay(word: str) -> None:
    assert americanise(word) == word


@pytest.mark.parametrize(
    "forms",
    [
        ("configure", "configured", "configuring", "configuration", "configurations"),
        ("validate", "validated", "validation", "validating"),
        ("customise", "customized", "customising", "customization", "custom"),
        ("synchronise", "synchronised", "synchronizing", "synchronisation"),
        ("licence", "licences", "licensing", "licensed"),
        ("install", "installed", "installing", "installation"),
        ("cancelled", "canceled", "cancel"),
    ],
)
def test_inflections_share_a_stem(forms: tuple[str, ...]) -> None:
    assert len({stem(americanise(f)) for f in forms}) == 1, [stem(americanise(f)) for f in forms]


def test_negated_topic_does_not_count_but_failures_do() -> None:
    assert normalise_words("users can't synchronise") == ("user", "not", "synchron")
    got = decide_scope(section("konneqt"), "this is not a hardware problem, the gateway crashed")
    assert got.rule == "product-incident"
    got = decide_scope(section("dk-saas"), "users can't sync from Entra")
    assert got.rule == "synchronisation-issues"


def test_one_letter_typos_still_match() -> None:
    got = decide_scope(section("konneqt"), "the hardwre is faulty")
    assert got.rule == "hardware-failure"
    got = decide_scope(section("dk-saas"), "synchronisaton keeps failing")
    assert got.rule == "synchronisation-issues"


def test_contractions_without_apostrophes_negate_too() -> None:
    for bare, proper in [("doesnt", "doesn't"), ("cant", "can't"), ("isnt", "isn't")]:
        assert normalise_words(f"it {bare} sync") == normalise_words(f"it {proper} sync")
    assert "not" in normalise_words("we dont need a custom connector")


def test_chat_shorthand_and_auxiliary_contractions() -> None:
    """Chat shorthand ("can u") is expanded; "you've built" keeps its "have" (it exists)."""
    assert normalise_words("can u build us one") == normalise_words("can you build us one")
    assert normalise_words("ur docs") == normalise_words("your docs")
    s = ScopeSection.model_validate(
        {"concepts": {"c": ["you have built"]}, "rules": {"r": _rule(patterns=[["c"]])}}
    )
    assert decide_scope(s, "the app you've built for us").rule == "r"
    assert decide_scope(s, "could you build it").rule is None


def test_function_words_of_a_term_must_follow_closely() -> None:
    """Content words of a term may have small gaps between them; a function word may not drift
    far: "customise the" is not "custom attribute with the"."""
    s = ScopeSection.model_validate(
        {"concepts": {"c": ["customise the"]}, "rules": {"r": _rule(patterns=[["c"]])}}
    )
    assert decide_scope(s, "please customise the mapping").rule == "r"
    assert decide_scope(s, "a custom attribute with the connector").rule is None


def test_irregular_forms_meet_their_base_but_past_making_stays_apart() -> None:
    """took/taking → take, making → make; "built"/"wrote" stay apart from "build"/"write" so
    "the app you built" (exists) isn't read as "build us an app" (asks for something new)."""
    assert normalise_words("took over") == normalise_words("take over")
    assert normalise_words("making") == normalise_words("make")
    assert normalise_words("lost") == normalise_words("losing") == normalise_words("lose")
    assert normalise_words("built") != normalise_words("build")
    assert normalise_words("wrote") != normalise_words("write")


# ==== the engine: pure, deterministic, fast, validated ========================================


def test_deterministic() -> None:
    """The same words always get the same verdict (its speed is bench/scope_accuracy.py's
    to report, not a timed test's)."""
    s = section("qscim")
    text = "We patched the connector source and the Azure AD sync fails on our hybrid install"
    first = decide_scope(s, text)
    for _ in range(50):
        assert decide_scope(s, text) == first


def test_case_type_limits_rules() -> None:
    s = ScopeSection.model_validate(
        {
            "concepts": {"hw": ["hardware"]},
            "rules": {
                "hw": {
                    "decision": "not_covered",
                    "clause": "c",
                    "summary": "s",
                    "explanation": "e",
                    "patterns": [["hw"]],
                    "case_types": ["incident"],
                }
            },
        }
    )
    assert decide_scope(s, "hardware broke", case_type="Incident").rule == "hw"
    assert decide_scope(s, "hardware broke", case_type="query").rule is None
    assert decide_scope(s, "hardware broke").rule == "hw"


def _rule(**extra: Any) -> dict[str, Any]:
    return {"decision": "in_scope", "clause": "c", "summary": "s", "explanation": "e", **extra}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rules": {"a": _rule(question="nope")}}, "rules.a.question: no question named 'nope'"),
        ({"rules": {"a": _rule(patterns=[["ghost"]])}}, "rules.a.patterns[0]: no concept named"),
        ({"rules": {"a": _rule(overrides=["b"])}}, "rules.a.overrides: no rule named 'b'"),
        (
            {"rules": {"a": _rule(overrides=["b"]), "b": _rule(overrides=["a"])}},
            "override each other",
        ),
        ({"rules": {"a": _rule(needs_answer=True)}}, "needs_answer = true requires `question`"),
        ({"rules": {"a": _rule(id="b")}}, "rules.a.id: must equal its key"),
        ({"concepts": {"x": ["the"]}}, "single stop word"),
        (
            {
                "questions": {
                    "q": {
                        "text": "?",
                        "options": [
                            {"id": "y", "label": "Y", "rule": "zz"},
                            {"id": "n", "label": "N"},
                        ],
                    }
                }
            },
            "questions.q.options[y].rule: no rule named 'zz'",
        ),
        (
            {"questions": {"q": {"text": "?", "options": [{"id": "y", "label": "Y"}]}}},
            "two options",
        ),
        ({"default": "maybe"}, "in_scope"),
        ({"rules": {"a": _rule(colour="red")}}, "Extra inputs are not permitted"),
    ],
)
def test_section_validation_names_the_problem(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as err:
        ScopeSection.model_validate(data)
    assert message in str(err.value)


def test_models_are_frozen() -> None:
    s = section("konneqt")
    with pytest.raises(ValidationError):
        s.rules["hardware-failure"].decision = "in_scope"  # type: ignore[misc]


def test_policy_scope_imports_no_bot_or_adapters() -> None:
    source = (ROOT / "policy" / "scope.py").read_text()
    assert "import bot" not in source and "from bot" not in source
    assert "adapters" not in source


# ==== held-out and development accuracy ======================================================

# Measured with `.venv/bin/python bench/scope_accuracy.py`: 68/68 = 100 % (was 67/68; the miss,
# a connector's source modified, was fixed by a seed reading — §3.2 "customization ... of
# connectors" overrides "heavily modified product" — not by adding its words). The floor is the
# first measured figure minus a margin of about two examples, so a regression fails but an
# honest edit to a pack doesn't.
HELDOUT_FLOOR = 0.95
# Measured with `.venv/bin/python bench/scope_accuracy.py --dev`: 80/80 = 100 %, none wrong and
# confident (as a blind held-out set, before this work: 62/80 = 77.5 %, 11 wrong and confident).
# The set is now used for development; the floor leaves a margin of three examples.
DEV_FLOOR = 0.96


def test_heldout_accuracy_stays_above_floor() -> None:
    bench = _bench()
    results = bench.evaluate()
    assert len(results) >= 60
    assert {r.example.pack for r in results} == {"konneqt", "qscim", "connectsoft", "dk-saas"}
    assert bench.accuracy(results) >= HELDOUT_FLOOR


def test_dev_set_accuracy_stays_above_floor() -> None:
    bench = _bench()
    results = bench.evaluate(bench.load_examples(bench.DEV))
    assert len(results) >= 80
    assert {r.example.pack for r in results} == {"konneqt", "qscim", "connectsoft", "dk-saas"}
    misses = [(r.example.text, r.decision.rule) for r in results if not r.correct]
    assert bench.accuracy(results) >= DEV_FLOOR, misses
    wrong_but_sure = [r.example.text for r in results if r.decision.confident and not r.correct]
    assert len(wrong_but_sure) <= 1, wrong_but_sure


# A blind held-out set written after the matcher was tuned, by someone who never saw its
# vocabulary, and never tuned on: 92/100, 5 of the 8 misses given as confident (measured
# with `.venv/bin/python bench/scope_accuracy.py --file tests/data/scope_heldout_fresh.toml`).
# Do not tune on it; when it stops being blind, write a new one.
FRESH_FLOOR = 0.90


def test_blind_heldout_accuracy_stays_above_floor() -> None:
    bench = _bench()
    results = bench.evaluate(bench.load_examples(ROOT / "tests/data/scope_heldout_fresh.toml"))
    assert len(results) == 100
    assert bench.accuracy(results) >= FRESH_FLOOR
