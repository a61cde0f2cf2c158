"""The `frontdoor` command line, run as a real process (contract: shared/docs/architecture.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def frontdoor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )


def sla(*args: str) -> dict[str, Any]:
    done = frontdoor("sla", *args)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_sla_prints_the_contract_fields() -> None:
    """architecture.md: covered, priority, response/workaround/resolution_due, cadence, notes."""
    out = sla("--policy", "konneqt", "--plan", "enterprise", "--type", "incident",
              "--priority", "p1", "--opened", "2026-11-20T16:30:00-05:00",
              "--acknowledged", "2026-11-23T08:10:00-05:00")
    assert out["covered"] is True and out["priority"] == "P1"
    assert out["response_due"] == "2026-11-23T08:30:00-05:00"
    assert out["workaround_due"] == "2026-11-25T14:10:00-05:00"
    assert out["resolution_due"] == "2026-12-01T11:10:00-05:00"
    assert out["status_update_every"] == 240
    assert isinstance(out["notes"], list) and out["notes"]


def test_sla_without_acknowledgement_leaves_acknowledgement_clocks_null() -> None:
    """Konneqt: workaround and resolution run from acknowledgement, so they have no due yet."""
    out = sla("--policy", "konneqt", "--plan", "enterprise", "--type", "incident",
              "--priority", "P2", "--opened", "2026-11-20T10:00:00-05:00")
    assert out["response_due"] == "2026-11-20T14:00:00-05:00"
    assert out["workaround_due"] is None and out["resolution_due"] is None
    assert any("--acknowledged" in n for n in out["notes"])


def test_sla_reclassifies_p0_without_managed_and_keeps_it_with_managed() -> None:
    """Konneqt: P0 is for Managed Deployments only."""
    base = ["--policy", "konneqt", "--plan", "enterprise", "--type", "incident", "--priority",
            "P0", "--opened", "2026-11-20T16:30:00-05:00"]
    assert sla(*base)["priority"] == "P1"
    assert sla(*base, "--managed")["priority"] == "P0"
    assert sla(*base, "--managed")["response_due"] == "2026-11-20T17:00:00-05:00"


def test_sla_standard_pre_production_incident_is_not_covered() -> None:
    """Konneqt Standard: incidents production only."""
    out = sla("--policy", "konneqt", "--plan", "standard", "--type", "incident", "--priority",
              "P2", "--environment", "pre-production", "--opened", "2026-11-20T10:00:00-03:00")
    assert out["covered"] is False and out["response_due"] is None
    assert out["alternative_case_type"] == "query"


def test_sla_plan_may_be_omitted_for_a_one_plan_pack_and_naive_times_take_tz() -> None:
    """CLI: --plan may be omitted where a pack has one plan; --tz places a naive instant."""
    out = sla("--policy", "dk-saas", "--type", "incident", "--priority", "Highest",
              "--opened", "2026-12-23T15:30", "--tz", "Europe/Copenhagen")
    assert out["response_due"] == "2026-12-28T08:30:00+01:00"


def test_sla_priority_from_impact_answers() -> None:
    """dk-saas: priority follows from users affected × risk of data loss."""
    out = sla("--policy", "dk-saas", "--type", "incident", "--severity-from",
              "users-affected=some", "data-loss=yes", "--opened", "2026-11-23T09:00:00+01:00")
    assert out["priority"] == "high"
    assert out["response_due"] == "2026-11-23T13:00:00+01:00"


@pytest.mark.parametrize("case_type", ["incident", "query", "security-report", "service-request"])
def test_sla_accepts_every_konneqt_case_type(case_type: str) -> None:
    """CLI contract: --type incident|query|security-report|service-request."""
    out = sla("--policy", "konneqt", "--plan", "enterprise", "--type", case_type, "--priority",
              "P2", "--managed", "--opened", "2026-11-23T09:00:00-05:00")
    assert out["covered"] is True and out["response_due"]


@pytest.mark.parametrize("pack", ["konneqt", "qscim", "connectsoft", "dk-saas"])
def test_every_pack_accepts_type_incident(pack: str) -> None:
    """CLI contract: every pack accepts --type incident."""
    plan = {"konneqt": "enterprise", "qscim": "enterprise", "connectsoft": "premium"}.get(pack)
    args = ["--policy", pack, "--type", "incident", "--priority", "1",
            "--opened", "2026-11-23T09:00:00-05:00"]
    out = sla(*args, *(["--plan", plan] if plan else []))
    assert out["covered"] is True and out["response_due"]


@pytest.mark.parametrize(
    ("args", "argument"),
    [
        (["--policy", "nope", "--type", "incident", "--opened", "2026-11-23T09:00:00Z"],
         "--policy"),
        (["--policy", "konneqt", "--plan", "gold", "--type", "incident", "--priority", "P1",
          "--opened", "2026-11-23T09:00:00Z"], "--plan"),
        (["--policy", "konneqt", "--type", "incident", "--priority", "P1",
          "--opened", "2026-11-23T09:00:00Z"], "--plan"),
        (["--policy", "konneqt", "--plan", "enterprise", "--type", "rant", "--priority", "P1",
          "--opened", "2026-11-23T09:00:00Z"], "--type"),
        (["--policy", "konneqt", "--plan", "enterprise", "--type", "incident", "--priority", "P7",
          "--opened", "2026-11-23T09:00:00Z"], "--priority"),
        (["--policy", "konneqt", "--plan", "enterprise", "--type", "incident", "--priority", "P1",
          "--opened", "yesterday"], "--opened"),
        (["--policy", "konneqt", "--plan", "enterprise", "--type", "incident", "--priority", "P1",
          "--opened", "2026-11-23T09:00:00"], "--opened"),
        (["--policy", "konneqt", "--plan", "enterprise", "--type", "incident", "--priority", "P1",
          "--opened", "2026-11-23T09:00:00Z", "--tz", "Mars/Olympus"], "--tz"),
        (["--policy", "konneqt", "--plan", "enterprise", "--type", "incident", "--priority", "P1",
          "--opened", "2026-11-23T09:00:00Z", "--acknowledged", "2026-11-22T09:00:00Z"],
         "--acknowledged"),
        (["--policy", "dk-saas", "--type", "incident", "--severity-from", "users-affected=many",
          "--opened", "2026-11-23T09:00:00Z"], "--severity-from"),
        (["--policy", "konneqt", "--plan", "enterprise", "--type", "incident"], "--opened"),
    ],
)
def test_bad_arguments_give_one_line_naming_the_argument_and_exit_2(
    args: list[str], argument: str
) -> None:
    """Bad arguments → a one-line error naming the argument and exit 2; never a traceback."""
    done = frontdoor("sla", *args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and argument in lines[0], done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_scope_prints_decision_rule_clause_explanation() -> None:
    """architecture.md: `frontdoor scope` prints decision, rule, clause, explanation."""
    done = frontdoor("scope", "--policy", "qscim",
                     "we want you to write a brand new connector for our in-house HR tool")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["decision"] == "consulting"
    assert out["rule"] and "3.2" in out["clause"] and out["explanation"]


def test_policy_show_prints_the_plan_table() -> None:
    """`frontdoor policy show PACK`: the plan tables as a person reads them."""
    done = frontdoor("policy", "show", "konneqt")
    assert done.returncode == 0, done.stderr
    assert "P0 – Catastrophic" in done.stdout and "30 min" in done.stdout
    assert "1 Business Week" in done.stdout and "production only" in done.stdout


def test_policy_check_accepts_a_good_pack_and_rejects_a_bad_one(tmp_path: Path) -> None:
    """`frontdoor policy check FILE` validates a pack, naming the bad key."""
    good = frontdoor("policy", "check", str(ROOT / "policy/packs/qscim.toml"))
    assert good.returncode == 0 and "ok:" in good.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text((ROOT / "tests/data/packs/harbour.toml").read_text().replace(
        'hours = ["07:00-19:00"]', 'hours = ["19:00-07:00"]'))
    done = frontdoor("policy", "check", str(bad))
    assert done.returncode == 1
    assert "bad.toml" in done.stderr and "calendars.six-day.hours" in done.stderr
    assert "Traceback" not in done.stderr


def test_demo_runs() -> None:
    """The README's run command shows the engine on all four packs."""
    done = frontdoor("demo")
    assert done.returncode == 0, done.stderr
    for pack in ("konneqt", "qscim", "connectsoft", "dk-saas"):
        assert f"--policy {pack}" in done.stdout
