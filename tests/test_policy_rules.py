"""One test per policy rule, named after it, citing the seed clause.

Expected instants are computed by hand on real calendars (comments show the working).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from policy.errors import CaseFactsError, PackError
from policy.pack import WarTeam, load_pack, load_pack_file
from policy.sla import CaseEvent, CaseFacts, SlaStatus, Subscription, assess, sla_status

NY = ZoneInfo("America/New_York")
SP = ZoneInfo("America/Sao_Paulo")
CPH = ZoneInfo("Europe/Copenhagen")
LON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")
DATA = Path(__file__).parent / "data" / "packs"


def at(tz: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=tz)  # type: ignore[misc]


def status(
    pack: str,
    plan: str | None,
    facts: CaseFacts,
    opened: datetime,
    *more: CaseEvent,
    now: datetime | None = None,
    tz: str | None = None,
    country: str | None = None,
) -> SlaStatus:
    events = [CaseEvent("opened", opened, facts=facts), *more]
    when = now or max(e.at for e in events)
    return sla_status(load_pack(pack), Subscription(plan, tz, country), events, when)


def due(s: SlaStatus, clock: str) -> datetime | None:
    return s.clocks[clock].due


# ---- Konneqt


@pytest.mark.parametrize(
    ("priority", "response", "workaround", "resolution"),
    [
        ("P0", timedelta(minutes=30), timedelta(hours=4), timedelta(hours=48)),
        ("P1", timedelta(hours=1), timedelta(hours=24), timedelta(hours=48)),
        ("P2", timedelta(hours=4), timedelta(hours=48), timedelta(hours=72)),
        ("P3", timedelta(hours=6), timedelta(hours=72), timedelta(hours=45)),  # 1 BW = 5 × 9 h
    ],
)
def test_konneqt_enterprise_incident_targets(
    priority: str, response: timedelta, workaround: timedelta, resolution: timedelta
) -> None:
    """Konneqt, Enterprise Support Plan Service Levels: the incident table (status every 4 h)."""
    pack = load_pack("konneqt")
    a = assess(pack, "enterprise", CaseFacts("incident", priority, managed=True))
    cal = pack.calendar(a.calendar or "")
    assert a.covered and a.priority == priority and a.target is not None
    assert a.target.response and a.target.response.duration_on(cal) == response
    assert a.target.workaround and a.target.workaround.duration_on(cal) == workaround
    assert a.target.resolution and a.target.resolution.duration_on(cal) == resolution
    assert a.target.status_update and a.target.status_update.duration_on(cal) == timedelta(hours=4)


def test_konneqt_p0_only_for_managed_deployments_is_reclassified_to_p1() -> None:
    """Konneqt Enterprise table: "*P0 priority is applicable for Managed Deployments only."."""
    a = assess(load_pack("konneqt"), "enterprise", CaseFacts("incident", "P0", managed=False))
    assert a.priority == "P1" and a.requested_priority == "P0"
    assert any("Managed Deployments only" in n.text for n in a.notes)


def test_konneqt_p0_on_a_managed_deployment_stays_p0() -> None:
    """Konneqt Enterprise table: P0 applies to Managed Deployments."""
    a = assess(load_pack("konneqt"), "enterprise", CaseFacts("incident", "p0", managed=True))
    assert a.priority == "P0"


def test_konneqt_response_runs_from_the_report_and_a_window_used_up_ends_at_its_close() -> None:
    """Konneqt Definitions "Response Time"; policies.md: a due using up a window is its close."""
    # Fri 20 Nov 16:30 EST + 30 min = Fri 17:00 exactly (window close, not Mon 08:00).
    s = status("konneqt", "enterprise", CaseFacts("incident", "P0", managed=True),
               at(NY, 2026, 11, 20, 16, 30))
    assert due(s, "response") == at(NY, 2026, 11, 20, 17, 0)


def test_konneqt_workaround_and_resolution_run_from_acknowledgement() -> None:
    """Konneqt Definitions: "Workaround Time"/"Resolution Time" run from acknowledgement."""
    opened = at(NY, 2026, 11, 20, 16, 30)
    s = status("konneqt", "enterprise", CaseFacts("incident", "P0", managed=True), opened)
    assert s.clocks["workaround"].state == "not_started"
    ack = CaseEvent("acknowledged", at(NY, 2026, 11, 23, 8, 0))
    s = status("konneqt", "enterprise", CaseFacts("incident", "P0", managed=True), opened, ack)
    # Workaround 4 h from Mon 08:00 → 12:00. Resolution 48 h: Mon 9, Tue 18, Wed 27, Thu 26 Nov
    # Thanksgiving closed, Fri 36, Mon 30 Nov 45, Tue 1 Dec 08:00 + 3 h → 11:00.
    assert due(s, "workaround") == at(NY, 2026, 11, 23, 12, 0)
    assert due(s, "resolution") == at(NY, 2026, 12, 1, 11, 0)
    assert s.clocks["response"].state == "breached"  # acknowledged Mon 08:00, due Fri 17:00


def test_konneqt_p3_resolution_is_one_business_week() -> None:
    """Konneqt Enterprise P3: resolution "1 Business Week" = 5 Business Days (Definitions)."""
    # 45 h from Mon 23 Nov 08:00: Mon, Tue, Wed, (Thu Thanksgiving), Fri, Mon 30 Nov → 17:00.
    s = status("konneqt", "enterprise", CaseFacts("incident", "P3"), at(NY, 2026, 11, 23, 8, 0),
               CaseEvent("acknowledged", at(NY, 2026, 11, 23, 8, 0)))
    assert due(s, "resolution") == at(NY, 2026, 11, 30, 17, 0)


def test_konneqt_waiting_on_customer_pauses_workaround_and_resolution_not_response() -> None:
    """Konneqt Service Levels: "considering any delays in the Subscriber's provision of
    necessary information"."""
    opened = at(NY, 2026, 11, 23, 7, 30)
    events = [
        CaseEvent("acknowledged", at(NY, 2026, 11, 23, 8, 0)),
        CaseEvent("waiting_on_customer", at(NY, 2026, 11, 23, 12, 0)),
        CaseEvent("customer_responded", at(NY, 2026, 11, 24, 12, 0)),
    ]
    s = status("konneqt", "enterprise", CaseFacts("incident", "P1"), opened, *events)
    # 4 h used Mon 08–12; 20 h left from Tue 12:00: Tue 5, Wed 9, Thu closed, Fri 27 08:00 + 6 h.
    assert due(s, "workaround") == at(NY, 2026, 11, 27, 14, 0)
    assert s.clocks["response"].state == "met"
    paused = status("konneqt", "enterprise", CaseFacts("incident", "P1"), opened, *events[:2],
                    now=at(NY, 2026, 11, 23, 15, 0))
    assert paused.clocks["workaround"].state == "paused"
    assert paused.clocks["workaround"].remaining == timedelta(hours=20)
    assert paused.clocks["response"].state == "met"


def test_konneqt_reclassification_recomputes_dues_from_the_original_start() -> None:
    """Konneqt Incidents Service Levels: misclassified cases are reclassified; new targets apply
    from the original report."""
    opened = at(NY, 2026, 11, 23, 8, 0)
    s = status("konneqt", "enterprise", CaseFacts("incident", "P3"), opened,
               CaseEvent("reclassified", at(NY, 2026, 11, 23, 10, 0), priority="P1"))
    assert s.assessment.priority == "P1"
    assert due(s, "response") == at(NY, 2026, 11, 23, 9, 0)
    assert s.clocks["response"].state == "breached"


def test_konneqt_standard_plan_counts_12x5_at_gmt_minus_3() -> None:
    """Konneqt Standard: "Americas: 12×5 (8:00 a.m.–8:00 p.m. GMT-3)"."""
    # Fri 20 Nov 19:30 -03 + 2 h: 30 min Friday, Mon 23 Nov 08:00 + 1 h 30 → 09:30 -03.
    s = status("konneqt", "standard", CaseFacts("incident", "P1", "production"),
               at(SP, 2026, 11, 20, 19, 30))
    assert due(s, "response") == at(SP, 2026, 11, 23, 9, 30)


def test_konneqt_standard_query_is_one_business_day_of_12_hours_skipping_us_holidays() -> None:
    """Konneqt Standard General Queries: 1 Business Day; Definitions: US public holidays."""
    # Wed 25 Nov 10:00 -03: 10 h Wednesday, Thu 26 Thanksgiving closed, Fri 27 08:00 + 2 h.
    s = status("konneqt", "standard", CaseFacts("query"), at(SP, 2026, 11, 25, 10, 0))
    assert due(s, "response") == at(SP, 2026, 11, 27, 10, 0)


def test_konneqt_standard_incidents_are_production_only_and_offer_a_query() -> None:
    """Konneqt Standard: Incidents "Production only"; policies.md: offer a Query instead."""
    a = assess(load_pack("konneqt"), "standard", CaseFacts("incident", "P2", "pre-production"))
    assert not a.covered and a.alternative_case_type == "query"


def test_konneqt_standard_p3_workaround_is_72_hours() -> None:
    """Konneqt Standard P3: the seed's "72 Business Week" read as 72 hours (policies.md §1)."""
    pack = load_pack("konneqt")
    a = assess(pack, "standard", CaseFacts("incident", "P3", "production"))
    assert a.target and a.target.workaround
    assert a.target.workaround.duration_on(pack.calendar("americas-12x5")) == timedelta(hours=72)


def test_konneqt_service_requests_only_for_managed_deployments() -> None:
    """Konneqt Support Case Types: a Service Request is "submitted by a Subscriber of a Managed
    Deployment"."""
    pack = load_pack("konneqt")
    assert not assess(pack, "enterprise", CaseFacts("service-request")).covered
    assert assess(pack, "enterprise", CaseFacts("service request", managed=True)).covered


def test_konneqt_change_requests_are_never_filed_by_a_customer() -> None:
    """Konneqt Support Case Types: Change Requests "are created by Konneqt"."""
    assert load_pack("konneqt").case_types["change-request"].filed_by == ("vendor",)


def test_konneqt_confirmed_vulnerability_becomes_an_incident() -> None:
    """Konneqt Security Report Analysis: "If a vulnerability is confirmed, Konneqt will open an
    Incident"; 1 h response, 2 Business Weeks resolution."""
    pack = load_pack("konneqt")
    assert pack.case_types["security-report"].becomes == "incident"
    a = assess(pack, "enterprise", CaseFacts("security report"))
    assert a.target and a.target.resolution and a.target.resolution.business_days == 10


def test_konneqt_query_hour_limits() -> None:
    """Konneqt Query Response and Limits: 50 hours (Enterprise), 25 hours (Standard)."""
    pack = load_pack("konneqt")
    assert pack.plans["enterprise"].query_hours == 50
    assert pack.plans["standard"].query_hours == 25


def test_konneqt_missed_workaround_or_resolution_forms_a_war_team() -> None:
    """Konneqt Service Levels: escalation to the executive team and an Incident war team."""
    pack = load_pack("konneqt")
    trigger = next(t for t in pack.escalation.triggers if t.kind == "breach")
    assert set(trigger.clocks) == {"workaround", "resolution"} and trigger.to == "executive"
    assert pack.escalation.war_team is not None
    assert "Status update frequency" in pack.escalation.war_team.response_plan
    # agreed by picking a cadence, the others in free text
    assert pack.escalation.war_team.cadence_item == "Status update frequency"


def test_a_war_teams_cadence_item_must_be_one_of_its_plan_items() -> None:
    """A pack whose cadence item is not in its response plan is refused on load."""
    with pytest.raises(ValidationError, match="cadence_item 'Cadence' is not one of"):
        WarTeam(members=("engineers",), response_plan=("Technical assessment",),
                cadence_item="Cadence", clause="x")


def test_konneqt_retention_is_90_days() -> None:
    """Konneqt Data Retention: 90 days for PII, attachments and portal data."""
    assert {r.days for r in load_pack("konneqt").retention.values()} == {90}


def test_konneqt_status_updates_every_4_coverage_hours_after_acknowledgement() -> None:
    """Konneqt Enterprise table: Status Update Frequency 4 hours."""
    s = status("konneqt", "enterprise", CaseFacts("incident", "P2"), at(NY, 2026, 11, 25, 15, 0),
               CaseEvent("acknowledged", at(NY, 2026, 11, 25, 15, 0)))
    assert s.status_update_every == timedelta(hours=4)
    # Wed 15:00 + 4 h: 2 h Wednesday, Thanksgiving, Fri 27 Nov 08:00 + 2 h.
    assert s.next_status_update == at(NY, 2026, 11, 27, 10, 0)


def test_konneqt_war_team_cadence_makes_status_updates_more_frequent_never_less() -> None:
    """Konneqt Service Levels: the war team's response plan sets the status update frequency
    and the support team works under its direction; the table's 4 hours stay the floor of
    what the customer is owed, so 2 hours agreed tightens it and 8 hours does not loosen it."""
    opened, now = at(NY, 2026, 11, 24, 8, 50), at(NY, 2026, 11, 24, 9, 30)
    acked = CaseEvent("acknowledged", at(NY, 2026, 11, 24, 9, 0))
    facts = CaseFacts("incident", "P1")

    tighter = status("konneqt", "enterprise", facts, opened, acked, CaseEvent(
        "status_cadence_agreed", at(NY, 2026, 11, 24, 9, 15), every=timedelta(hours=2)),
        now=now)
    looser = status("konneqt", "enterprise", facts, opened, acked, CaseEvent(
        "status_cadence_agreed", at(NY, 2026, 11, 24, 9, 15), every=timedelta(hours=8)),
        now=now)

    assert tighter.status_update_every == timedelta(hours=2)
    assert tighter.next_status_update == at(NY, 2026, 11, 24, 11, 0)
    assert looser.status_update_every == timedelta(hours=4)
    assert looser.next_status_update == at(NY, 2026, 11, 24, 13, 0)


# ---- QSCIM


def test_qscim_inherits_konneqt_targets_without_copying_them() -> None:
    """QSCIM §1: Konneqt's support services; policies.md §2: same plans and targets."""
    qscim, konneqt = load_pack("qscim"), load_pack("konneqt")
    assert qscim.plans["enterprise"].targets == konneqt.plans["enterprise"].targets
    text = (Path(__file__).parent.parent / "policy/packs/qscim.toml").read_text()
    assert "targets =" not in text and "response =" not in text


def test_qscim_covers_8x5_on_every_plan() -> None:
    """QSCIM §4.1: 8×5 coverage, 08:00–17:00 local business time."""
    # Standard plan, Fri 20 Nov 16:30 New York + 2 h: 30 min Fri, Mon 08:00 + 1 h 30 → 09:30.
    s = status("qscim", "standard", CaseFacts("incident", "P1", "production"),
               at(NY, 2026, 11, 20, 16, 30), tz="America/New_York", country="US")
    assert due(s, "response") == at(NY, 2026, 11, 23, 9, 30)


def test_qscim_intake_captures_environment_kind_and_connector() -> None:
    """QSCIM §7: "Specify the affected environment and connector"."""
    intake = load_pack("qscim").intake
    assert {o.id for o in intake["environment-kind"].options} == {"saas", "on-premises", "hybrid"}
    assert "connector" in intake


# ---- ConnectSoft


def test_connectsoft_basic_is_best_effort_typically_two_to_three_days() -> None:
    """ConnectSoft Basic / Starter: "Best effort (no SLA) - Typically 2-3 business days"."""
    s = status("connectsoft", "basic", CaseFacts("incident", "critical"),
               at(NY, 2026, 10, 19, 10, 0))
    assert s.clocks["response"].state == "best_effort" and due(s, "response") is None
    assert any("2–3 business days" in n.text for n in s.notes)


def test_connectsoft_standard_critical_4h_in_extended_hours() -> None:
    """ConnectSoft Standard: "4-hour response for critical issues"; extended hours 08–20."""
    # Fri 16 Oct 18:00 New York: 2 h Friday, Mon 19 Oct 08:00 + 2 h → 10:00.
    s = status("connectsoft", "standard", CaseFacts("incident", "critical"),
               at(NY, 2026, 10, 16, 18, 0))
    assert due(s, "response") == at(NY, 2026, 10, 19, 10, 0)


def test_connectsoft_standard_high_one_business_day() -> None:
    """ConnectSoft Standard: "1-business-day response for high priority" (12 h extended day)."""
    s = status("connectsoft", "standard", CaseFacts("incident", "2"), at(NY, 2026, 10, 19, 10, 0))
    assert due(s, "response") == at(NY, 2026, 10, 20, 10, 0)


def test_connectsoft_standard_medium_and_low_are_best_effort() -> None:
    """policies.md §3: Standard has targets for Critical and High only."""
    for severity in ("medium", "low"):
        s = status("connectsoft", "standard", CaseFacts("incident", severity),
                   at(NY, 2026, 10, 19, 10, 0))
        assert s.clocks["response"].state == "best_effort"


def test_connectsoft_premium_critical_counts_24_7() -> None:
    """ConnectSoft Premium: "24/7 support for critical issues", Critical 1-hour response."""
    s = status("connectsoft", "premium", CaseFacts("incident", "Critical/1"),
               at(LON, 2026, 11, 28, 2, 0), tz="Europe/London", country="GB")
    assert due(s, "response") == at(UTC, 2026, 11, 28, 3, 0)


def test_connectsoft_premium_high_medium_low_in_extended_hours() -> None:
    """ConnectSoft Premium: High 4-hour, Medium 1-business-day, Low 2-business-day response."""
    start = at(NY, 2026, 10, 19, 10, 0)  # Monday
    high = status("connectsoft", "premium", CaseFacts("incident", "high"), start)
    medium = status("connectsoft", "premium", CaseFacts("incident", "medium"), start)
    low = status("connectsoft", "premium", CaseFacts("incident", "sev 4"), start)
    assert due(high, "response") == at(NY, 2026, 10, 19, 14, 0)
    assert due(medium, "response") == at(NY, 2026, 10, 20, 10, 0)  # 10 h Mon + 2 h Tue
    assert due(low, "response") == at(NY, 2026, 10, 21, 10, 0)  # 10 + 12 + 2


def test_connectsoft_counts_in_the_subscriptions_zone_and_holidays() -> None:
    """policies.md §3: hours in the subscription's time zone and holiday country."""
    # London, Fri 18 Dec 2026 19:00 + 4 h (Standard, Critical): 1 h Fri; Mon 21 Dec 08:00 + 3 h.
    s = status("connectsoft", "standard", CaseFacts("incident", "critical"),
               at(LON, 2026, 12, 18, 19, 0), tz="Europe/London", country="GB")
    assert due(s, "response") == at(LON, 2026, 12, 21, 11, 0)
    # Boxing Day observed Mon 28 Dec in GB: Thu 24 Dec 19:00 + 4 h → 1 h Thu, Fri 25 closed,
    # Mon 28 closed, Tue 29 Dec 08:00 + 3 h → 11:00.
    s = status("connectsoft", "standard", CaseFacts("incident", "critical"),
               at(LON, 2026, 12, 24, 19, 0), tz="Europe/London", country="GB")
    assert due(s, "response") == at(LON, 2026, 12, 29, 11, 0)


def test_connectsoft_escalation_levels_3_and_4_for_premium_only() -> None:
    """ConnectSoft Escalation Ladder: L3 and L4 "Enterprise customers only"."""
    levels = load_pack("connectsoft").escalation.levels
    assert levels["L3"].plans == ("premium",) and levels["L4"].plans == ("premium",)
    assert levels["L1"].plans is None and levels["L2"].plans is None


def test_connectsoft_critical_incidents_escalate_immediately() -> None:
    """ConnectSoft Escalation Triggers: "Always escalate critical incidents immediately."."""
    triggers = load_pack("connectsoft").escalation.triggers
    assert any(t.kind == "priority" and "critical" in t.priorities for t in triggers)


# ---- dk-saas


@pytest.mark.parametrize(
    ("users", "data_loss", "priority"),
    [
        ("all", "yes", "highest"),
        ("some", "yes", "high"),
        ("some", "no", "medium"),
        ("one", "no", "low"),
        ("none", "no", "lowest"),
        ("all", "no", "high"),  # settled in the pack: not in the seed's table
    ],
)
def test_dk_saas_priority_follows_users_affected_and_risk_of_data_loss(
    users: str, data_loss: str, priority: str
) -> None:
    """dk-saas SLA, Incident management: ticket priorities by users affected × data loss."""
    pack = load_pack("dk-saas")
    answers = {"users-affected": users, "data-loss": data_loss}
    decided = next(
        r for r in pack.impact.rules
        if all(answers.get(q) in ok for q, ok in r.when.items())
    )
    assert decided.priority == priority


@pytest.mark.parametrize(
    ("priority", "hours"), [("highest", 1), ("high", 4), ("medium", 8), ("low", 12), ("lowest", 16)]
)
def test_dk_saas_first_response_in_business_hours(priority: str, hours: int) -> None:
    """dk-saas SLA (first response): 1 / 4 / 8 / 12 / 16 business hours."""
    pack = load_pack("dk-saas")
    a = assess(pack, None, CaseFacts("incident", priority))
    assert a.target and a.target.response
    assert a.target.response.duration_on(pack.calendar("danish-operating-hours")) == timedelta(
        hours=hours
    )


def test_dk_saas_closed_on_ascension_day_and_the_bank_holiday_after_it() -> None:
    """dk-saas Operating hours: excluding public holidays and bank holidays."""
    # Thu 14 May 2026 is Ascension Day, Fri 15 May a bank holiday: Mon 18 May 08:00 + 1 h.
    s = status("dk-saas", None, CaseFacts("incident", "highest"), at(CPH, 2026, 5, 14, 10, 0))
    assert due(s, "response") == at(CPH, 2026, 5, 18, 9, 0)


def test_dk_saas_closed_on_constitution_day() -> None:
    """dk-saas Operating hours: bank holiday 5 June (Constitution Day)."""
    # Thu 4 Jun 15:30 + 4 h: 30 min Thu, Fri 5 Jun closed, Mon 8 Jun 08:00 + 3 h 30 → 11:30.
    s = status("dk-saas", None, CaseFacts("incident", "high"), at(CPH, 2026, 6, 4, 15, 30))
    assert due(s, "response") == at(CPH, 2026, 6, 8, 11, 30)


def test_dk_saas_closed_on_christmas_eve_and_new_years_eve() -> None:
    """dk-saas Operating hours: bank holidays 24 and 31 December."""
    # Wed 23 Dec 15:30 + 1 h: 30 min Wed; 24, 25 closed; weekend; Mon 28 Dec 08:30.
    s = status("dk-saas", None, CaseFacts("incident", "highest"), at(CPH, 2026, 12, 23, 15, 30))
    assert due(s, "response") == at(CPH, 2026, 12, 28, 8, 30)
    # Wed 30 Dec 15:00 + 8 h: 1 h Wed; 31 Dec and 1 Jan closed; Mon 4 Jan 08:00 + 7 h → 15:00.
    s = status("dk-saas", None, CaseFacts("incident", "medium"), at(CPH, 2026, 12, 30, 15, 0))
    assert due(s, "response") == at(CPH, 2027, 1, 4, 15, 0)


def test_dk_saas_counts_across_the_autumn_clock_change() -> None:
    """dk-saas Operating hours 08:00–16:00 Copenhagen time, across the end of summer time."""
    # Fri 23 Oct 15:00 CEST + 12 h: 1 h Fri, Mon 26 Oct (CET) 8 h, Tue 27 Oct 08:00 + 3 h.
    s = status("dk-saas", None, CaseFacts("incident", "low"), at(CPH, 2026, 10, 23, 15, 0))
    assert due(s, "response") == at(CPH, 2026, 10, 27, 11, 0)
    assert due(s, "response") == datetime(2026, 10, 27, 10, 0, tzinfo=UTC)


def test_dk_saas_default_priority_is_medium() -> None:
    """dk-saas Incident management: "Medium (default)"."""
    assert assess(load_pack("dk-saas"), None, CaseFacts("incident")).priority == "medium"


def test_dk_saas_hypercare_critical_incidents_get_the_highest_priority() -> None:
    """dk-saas Hypercare, Priority issue resolution: "treated with the highest priority"."""
    pack = load_pack("dk-saas")
    assert assess(pack, None, CaseFacts("incident", "high", hypercare=True)).priority == "highest"
    assert assess(pack, None, CaseFacts("incident", "high")).priority == "high"


def test_dk_saas_hypercare_brings_proactive_updates() -> None:
    """dk-saas Hypercare, Proactive communication: regular updates to the customer."""
    s = status("dk-saas", None, CaseFacts("incident", "medium", hypercare=True),
               at(CPH, 2026, 11, 23, 9, 0), CaseEvent("acknowledged", at(CPH, 2026, 11, 23, 9, 0)))
    assert s.status_update_every == timedelta(hours=4)
    assert s.next_status_update == at(CPH, 2026, 11, 23, 13, 0)


# ---- the engine knows no vendor


def test_a_fifth_policy_is_a_new_file_not_new_code() -> None:
    """Adding a policy is data: an invented pack loads and runs through the same engine."""
    pack = load_pack_file(DATA / "harbour.toml")
    sydney = ZoneInfo("Australia/Sydney")
    events = [CaseEvent("opened", at(sydney, 2026, 11, 28, 18, 50),
                        facts=CaseFacts("fault", "u1"))]
    s = sla_status(pack, Subscription(), events, events[0].at)
    # Sat 18:50 + 15 min: 10 min Saturday, Mon 30 Nov 07:00 + 5 min → 07:05.
    assert s.clocks["response"].due == at(sydney, 2026, 11, 30, 7, 5)
    # 1 BD = 12 h on this calendar: 10 min Sat, 12 h − 10 min from Mon 07:00 → 18:50.
    assert s.clocks["resolution"].due == at(sydney, 2026, 11, 30, 18, 50)


def test_a_bad_pack_names_the_file_the_key_and_what_was_expected(tmp_path: Path) -> None:
    """Packs: "A bad pack fails with a message naming the file, the key path and what was
    expected"."""
    text = (DATA / "harbour.toml").read_text().replace('response = "15m"', 'response = "soon"')
    bad = tmp_path / "broken.toml"
    bad.write_text(text)
    with pytest.raises(PackError) as err:
        load_pack_file(bad)
    message = str(err.value)
    assert "broken.toml" in message and "plans.only.targets.0.response" in message
    assert "'30m'" in message


def test_a_pack_refuses_unknown_keys(tmp_path: Path) -> None:
    """Packs are validated with extra="forbid": a typo is an error, not silently ignored."""
    bad = tmp_path / "typo.toml"
    bad.write_text((DATA / "harbour.toml").read_text().replace("priority_word", "priority_wrod"))
    with pytest.raises(PackError, match="priority_wrod"):
        load_pack_file(bad)


def test_a_pack_checks_its_cross_references(tmp_path: Path) -> None:
    """Packs: cross-references (a plan naming a calendar that exists) are checked at load."""
    bad = tmp_path / "xref.toml"
    bad.write_text((DATA / "harbour.toml").read_text().replace('calendar = "six-day"',
                                                               'calendar = "seven-day"'))
    with pytest.raises(PackError, match=r"plans\.only\.calendar: unknown calendar 'seven-day'"):
        load_pack_file(bad)


def test_a_pack_that_extends_itself_is_refused(tmp_path: Path) -> None:
    """Packs: `extends` must not go round in a circle."""
    (tmp_path / "a.toml").write_text('extends = "b"\n')
    (tmp_path / "b.toml").write_text('extends = "a"\n')
    with pytest.raises(PackError, match="circle"):
        load_pack_file(tmp_path / "a.toml")


def test_unknown_priority_names_the_levels() -> None:
    """Priority names are case-insensitive; an unknown one lists the pack's levels."""
    pack = load_pack("connectsoft")
    assert [pack.priority(p) for p in ("Critical", "1", "SEV-2", "Severity 3", "low")] == [
        "critical", "critical", "high", "medium", "low"
    ]
    with pytest.raises(CaseFactsError, match="critical, high, medium, low"):
        pack.priority("blocker")
