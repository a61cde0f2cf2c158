"""`frontdoor`: the command line, for operators and scripts (each process it starts is put
together in adapters/compose.py).

Every command prints JSON or an aligned table; bad arguments print one line naming the
argument and exit 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import sys
from collections.abc import Coroutine, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.errors import UsageError
from adapters.report_cli import EVIDENCE_COMMANDS, add_evidence_commands
from policy.errors import PolicyError
from policy.impact import derive
from policy.pack import Pack, available_packs, load_pack, load_pack_file
from policy.scope import decide_scope
from policy.sla import CaseEvent, CaseFacts, SlaStatus, Subscription, sla_status

if TYPE_CHECKING:
    from adapters.settings import Settings

EXIT_USAGE = 2
_T = TypeVar("_T")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


# ---- argument helpers


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{name!r} is not an IANA time zone (e.g. America/New_York)"
        ) from None


def _instant(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 instant (e.g. 2026-11-20T16:30:00-05:00)"
        ) from None


def _answers(pairs: Sequence[str] | None, arg: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key or not value:
            raise UsageError(f"argument {arg}: {pair!r} is not KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def _aware(value: datetime | None, tz: ZoneInfo | None, arg: str) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    if tz is None:
        raise UsageError(f"argument {arg}: {value.isoformat()} has no offset; add one or give --tz")
    return value.replace(tzinfo=tz)


def _pack(name: str) -> Pack:
    try:
        return load_pack(name)
    except PolicyError as exc:
        raise UsageError(f"argument --policy: {exc}") from None


# ---- sla


def _derive_priority(pack: Pack, answers: dict[str, str]) -> tuple[str, str]:
    for key, value in answers.items():
        question = pack.impact.questions.get(key)
        if question is None:
            known = ", ".join(pack.impact.questions) or "none"
            raise UsageError(f"argument --severity-from: no impact question {key!r} ({known})")
        if question.option(value) is None:
            options = ", ".join(o.id for o in question.options)
            raise UsageError(f"argument --severity-from: {key}={value!r}; answers: {options}")
    derived = derive(pack, answers, partial=True)
    if derived is None:
        raise UsageError("argument --severity-from: the answers decide no priority")
    return derived.priority, derived.because


def cmd_sla(args: argparse.Namespace) -> dict[str, Any]:
    pack = _pack(args.policy)
    tz: ZoneInfo | None = args.tz
    opened = _aware(args.opened, tz, "--opened")
    acknowledged = _aware(args.acknowledged, tz, "--acknowledged")
    now = _aware(args.now, tz, "--now")
    assert opened is not None
    if acknowledged is not None and acknowledged < opened:
        raise UsageError("argument --acknowledged: is before --opened")
    priority = args.priority
    derived_note = None
    answers = _answers(args.severity_from, "--severity-from")
    if answers:
        derived, because = _derive_priority(pack, answers)
        derived_note = f"Priority from the impact answers: {because}"
        priority = priority or derived
    facts = CaseFacts(
        case_type=args.type,
        priority=priority,
        environment=args.environment,
        managed=args.managed,
        hypercare=args.hypercare,
    )
    events = [CaseEvent("opened", opened, facts=facts)]
    if acknowledged is not None:
        events.append(CaseEvent("acknowledged", acknowledged))
    at = now or max(e.at for e in events)
    subscription = Subscription(
        plan=args.plan,
        timezone=tz.key if tz else None,
        holiday_country=args.holiday_country,
    )
    try:
        status = sla_status(pack, subscription, events, at, display_tz=tz)
    except PolicyError as exc:
        raise UsageError(_argument_for(str(exc)) + str(exc)) from None
    return _sla_json(pack, status, tz, derived_note)


def _argument_for(message: str) -> str:
    lowered = message.lower()
    for word, arg in (("plan", "--plan"), ("case type", "--type"), ("environment",
                      "--environment"), ("priority", "--priority"), ("severity", "--priority"),
                      ("time zone", "--tz"), ("holiday", "--holiday-country")):
        if word in lowered:
            return f"argument {arg}: "
    return ""


def _sla_json(
    pack: Pack, status: SlaStatus, tz: ZoneInfo | None, derived_note: str | None
) -> dict[str, Any]:
    a = status.assessment

    def iso(value: datetime | None) -> str | None:
        if value is None:
            return None
        return (value.astimezone(tz) if tz else value).isoformat()

    clocks = {
        name: {
            "target": c.target.text if c.target else None,
            "state": c.state,
            "due": iso(c.due),
            "remaining_minutes": (
                round(c.remaining.total_seconds() / 60) if c.remaining is not None else None
            ),
            "explanation": c.explanation,
        }
        for name, c in status.clocks.items()
    }
    notes = [f"{n.text} [{n.clause}]" for n in status.notes]
    if derived_note:
        notes.insert(0, derived_note)
    for name in ("workaround", "resolution"):
        clock = status.clocks.get(name)
        if clock is not None and clock.state == "not_started":
            notes.append(f"{clock.explanation} Pass --acknowledged to see its due.")
    every = status.status_update_every
    return {
        "policy": pack.id,
        "policy_version": pack.policy_version,
        "plan": a.plan,
        "case_type": a.case_type,
        "covered": a.covered,
        "priority": a.priority,
        "requested_priority": a.requested_priority,
        "alternative_case_type": a.alternative_case_type,
        "response_due": clocks.get("response", {}).get("due"),
        "workaround_due": clocks.get("workaround", {}).get("due"),
        "resolution_due": clocks.get("resolution", {}).get("due"),
        "status_update_every": round(every.total_seconds() / 60) if every else None,
        "coverage": pack.calendars[a.calendar].description if a.calendar else None,
        "clocks": clocks,
        "notes": notes,
    }


# ---- scope


def cmd_scope(args: argparse.Namespace) -> dict[str, Any]:
    pack = _pack(args.policy)
    text = " ".join(args.text).strip()
    if not text:
        raise UsageError("argument text: say what the request is about")
    answers = _answers(args.answer, "--answer")
    case_type = None
    if args.type:
        try:
            case_type = pack.case_type(args.type)
        except PolicyError as exc:
            raise UsageError(f"argument --type: {exc}") from None
    decision = decide_scope(pack.scope, text, answers, case_type=case_type)
    out: dict[str, Any] = {
        "policy": pack.id,
        "decision": decision.decision,
        "rule": decision.rule,
        "clause": decision.clause,
        "explanation": decision.explanation,
        "confident": decision.confident,
        "matched": list(decision.matched),
        "alternative": decision.alternative,
        "question": None,
    }
    if decision.question is not None:
        out["question"] = {
            "id": decision.question.id,
            "text": decision.question.text,
            "options": [{"id": o.id, "label": o.label} for o in decision.question.options],
        }
    return out


# ---- policy show / check


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("─" * w for w in widths))
    return "\n".join(lines)


def render_pack(pack: Pack) -> str:
    """The plan tables as a person reads them."""
    out = [f"{pack.name} — pack {pack.id!r}, policy version {pack.policy_version}",
           f"source: {pack.source}", ""]
    for pname, plan in pack.plans.items():
        cal = pack.calendars[plan.calendar]
        extra = []
        if plan.query_hours:
            extra.append(f"query hours {plan.query_hours} per term")
        extra += [f"availability {a.target}" + (f" ({', '.join(a.product_types)})"
                                                 if a.product_types else "")
                  for a in plan.availability]
        out.append(f"Plan {plan.label} ({pname}) — {cal.description}"
                   + (f"; {'; '.join(extra)}" if extra else ""))
        rows = [["case type", pack.priority_word.lower(), "response", "workaround", "resolution",
                 "status updates", "notes"]]
        for row in plan.targets:
            notes = []
            if row.environments:
                notes.append(" / ".join(row.environments) + " only")
            if row.calendar:
                notes.append(pack.calendars[row.calendar].description.split(",")[0])
            if row.note:
                notes.append(row.note)
            rows.append([
                pack.case_types[row.case_type].label,
                pack.priorities[row.priority].label if row.priority else "—",
                *[(t.text if t else "—") for t in (row.response, row.workaround, row.resolution,
                                                   row.status_update)],
                "; ".join(notes),
            ])
        out += [_table(rows), ""]
    out.append("Rules the policy forces:")
    for rule in pack.rules:
        out.append(f"  • {rule.explanation} [{rule.clause}]")
    if not pack.rules:
        out.append("  (none)")
    out += ["", "Case types:"]
    for ct in pack.case_types.values():
        filers = ", ".join(ct.filed_by)
        managed = " Managed Deployments only." if ct.managed_only else ""
        out.append(f"  • {ct.label}: {ct.description} (filed by: {filers}).{managed}")
    if pack.scope.rules:
        out += ["", "Scope:"]
        for rid, scope_rule in pack.scope.rules.items():
            out.append(f"  • {scope_rule.decision:<11} {rid}: {scope_rule.summary} "
                       f"[{scope_rule.clause}]")
    return "\n".join(out)


def cmd_policy(args: argparse.Namespace) -> str:
    if args.policy_command == "show":
        return render_pack(_pack(args.pack))
    try:
        pack = load_pack_file(args.file)
    except PolicyError as exc:
        raise _CheckFailed(str(exc)) from None
    return (f"ok: {args.file} is pack {pack.id!r} version {pack.policy_version}: "
            f"{len(pack.plans)} plans, {len(pack.case_types)} case types, "
            f"{len(pack.priorities)} {pack.priority_word.lower()} levels, "
            f"{len(pack.scope.rules)} scope rules")


class _CheckFailed(Exception):
    pass


# ---- demo


def cmd_demo(args: argparse.Namespace) -> str:
    """What the run command shows until the server exists: the policy engine on the four packs."""
    examples = [
        ("konneqt", "enterprise", "incident", "P1", "2026-11-20T16:30:00-05:00", None,
         "America/New_York"),
        ("qscim", "standard", "incident", "P2", "2026-11-25T15:00:00-05:00", None,
         "America/New_York"),
        ("connectsoft", "premium", "incident", "critical", "2026-11-28T02:00:00+00:00", None,
         "Europe/London"),
        ("dk-saas", None, "incident", "high", "2026-12-23T15:00:00+01:00", None,
         "Europe/Copenhagen"),
    ]
    lines = ["Frontdoor policy engine — the four shipped packs", ""]
    for pack_id, plan, ctype, prio, opened, _ack, zone in examples:
        ns = argparse.Namespace(
            policy=pack_id, plan=plan, type=ctype, priority=prio, opened=_instant(opened),
            acknowledged=None, now=None, environment=None, managed=False, hypercare=False,
            tz=ZoneInfo(zone), holiday_country=None, severity_from=None,
        )
        result = cmd_sla(ns)
        lines.append(f"$ frontdoor sla --policy {pack_id}"
                     + (f" --plan {plan}" if plan else "")
                     + f" --type {ctype} --priority {prio} --opened {opened} --tz {zone}")
        lines.append(f"  response due {result['response_due']}")
        lines.append(f"  {result['clocks']['response']['explanation']}")
        lines.append("")
    scope_examples = [("qscim", "we need a bespoke connector built for our HR system"),
                      ("dk-saas", "an admin deleted some locations by mistake, please restore")]
    for pack_id, text in scope_examples:
        ns = argparse.Namespace(policy=pack_id, text=[text], answer=None, type=None)
        result = cmd_scope(ns)
        lines.append(f'$ frontdoor scope --policy {pack_id} "{text}"')
        lines.append(f"  {result['decision']} — {result['clause']}: {result['explanation']}")
        lines.append("")
    lines.append("Try: frontdoor policy show konneqt | frontdoor sla --help | "
                 "frontdoor scope --help")
    return "\n".join(lines)


# ---- serve and chat


def cmd_serve(args: argparse.Namespace) -> str:
    """Run the web process (web chat, Slack and Teams front doors, health, metrics)."""
    from aiohttp import web

    from adapters.logs import configure_logging
    from adapters.runtime import tune_garbage_collector
    from adapters.server import create_app
    from adapters.settings import Settings
    from bot.errors import ConfigError

    settings = Settings()
    if args.port is not None:
        settings = settings.model_copy(update={"port": args.port})
    if args.socket_mode:
        if not (settings.slack_app_token and settings.slack_bot_token):
            raise UsageError("argument --socket-mode: needs SLACK_APP_TOKEN (xapp-…) and "
                             "SLACK_BOT_TOKEN")
        settings = settings.model_copy(update={"slack_socket_mode": True})
    if settings.frontdoor_web_chat and not _is_loopback(args.host) and not args.expose_web_chat:
        raise UsageError(
            f"argument --host: the demo web chat lets anyone pick any identity, so it only "
            f"listens on this machine; to serve {args.host} set FRONTDOOR_WEB_CHAT=false (as "
            "the Procfile does), or pass --expose-web-chat if you mean to")
    _require_free_port(args.host, settings.port)
    configure_logging(settings.log_level)
    try:
        app = create_app(settings)
    except ConfigError as exc:
        raise UsageError(f"FRONTDOOR_CONFIG: {exc}") from None
    store = "Redis" if settings.redis_url else f"SQLite at {settings.frontdoor_db}"
    print(f"Frontdoor on http://{args.host}:{settings.port}/ — web chat "
          f"{'on' if settings.frontdoor_web_chat else 'off'}, {store}, deployment file "
          f"{settings.frontdoor_config}. Ctrl-C stops it.", flush=True)
    if settings.frontdoor_web_chat and not _is_loopback(args.host):
        print(f"Warning: the web chat is on {args.host} (--expose-web-chat): anyone who can "
              "reach it can act as anyone in the deployment file.", flush=True)
    tune_garbage_collector()
    try:
        web.run_app(app, host=args.host, port=settings.port, print=None,
                    access_log=None, handle_signals=True)
    except OSError as exc:  # taken between our check and the bind
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(_port_in_use(args.host, settings.port)) from None
        raise
    return ""


def _is_loopback(host: str) -> bool:
    """Whether `host` is this machine only (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _port_in_use(host: str, port: int) -> str:
    return (f"argument --port: port {port} on {host} is already in use (another Frontdoor?); "
            "stop that process or pick another with --port N")


def _require_free_port(host: str, port: int) -> None:
    """One line naming --port when the port is taken, before anything starts."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"argument --host: {host!r} is not an address here ({exc.strerror})"
                         ) from None
    for family, kind, proto, _, address in infos[:1]:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise UsageError(_port_in_use(host, port)) from None
                raise UsageError(f"argument --host: cannot listen on {host}:{port} "
                                 f"({exc.strerror})") from None


def cmd_worker(_args: argparse.Namespace) -> str:
    """The scheduler process; with Redis run as many as you like."""
    import asyncio

    from adapters.compose import run_worker
    from adapters.logs import configure_logging
    from adapters.runtime import tune_garbage_collector
    from adapters.settings import Settings

    settings = Settings()
    configure_logging(settings.log_level)
    tune_garbage_collector()
    asyncio.run(run_worker(settings))
    return ""


def cmd_tick(args: argparse.Namespace) -> dict[str, Any]:
    """Fire what is due at --at once (operators, tests)."""
    import asyncio

    from adapters.compose import run_tick
    from adapters.logs import configure_logging
    from adapters.settings import Settings

    if args.at.tzinfo is None:
        raise UsageError(f"argument --at: {args.at.isoformat()} has no offset")
    settings = Settings()
    configure_logging(settings.log_level)
    fired, delivered, retention = asyncio.run(run_tick(settings, args.at))
    return {"at": args.at.isoformat(), "cases_fired": fired, "posts_delivered": delivered,
            "retention_purged": retention}


def _operator_settings() -> Settings:
    from adapters.logs import configure_logging
    from adapters.settings import Settings

    settings = Settings()
    configure_logging(settings.log_level)
    return settings


def _now() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)


def _run_operator(work: Coroutine[Any, Any, _T]) -> _T:
    """Run one of adapters.operator's coroutines; a bad deployment file or an unreachable
    store is one line naming what to fix."""
    import asyncio

    from bot.errors import ConfigError, StoreError

    try:
        return asyncio.run(work)
    except ConfigError as exc:
        raise UsageError(f"FRONTDOOR_CONFIG: {exc}") from None
    except StoreError as exc:
        raise UsageError(f"the store: {exc}") from None


def cmd_audit(args: argparse.Namespace) -> dict[str, Any] | str:
    """`audit export --since ISO`: the audit as JSON lines a SIEM ingests."""
    from pathlib import Path

    from adapters import operator

    if args.since.tzinfo is None:
        raise UsageError(f"argument --since: {args.since.isoformat()} has no offset "
                         "(e.g. 2026-12-01T00:00:00Z)")
    output = Path(args.output) if args.output else None
    if output is not None and not output.parent.is_dir():
        raise UsageError(f"argument --output: the directory {output.parent} does not exist")
    result = _run_operator(operator.audit_export(_operator_settings(), args.since, output,
                                                 _now()))
    return result if output is not None else ""


def cmd_retention(args: argparse.Namespace) -> dict[str, Any]:
    """What each pack's retention rules take out, per customer (`--dry-run`: only say)."""
    from adapters import operator

    at = args.at or _now()
    if at.tzinfo is None:
        raise UsageError(f"argument --at: {at.isoformat()} has no offset")
    return _run_operator(operator.retention(_operator_settings(), at, args.dry_run))


def cmd_privacy(args: argparse.Namespace) -> dict[str, Any]:
    """A person's data: `export PERSON` (GDPR art. 15) or `erase PERSON` (art. 17)."""
    from adapters import operator

    person = args.person.strip()
    if not person:
        raise UsageError("argument PERSON: give the person's id (from the deployment file, "
                         "or the one a customer admin added)")
    work = operator.privacy_export if args.privacy_command == "export" \
        else operator.privacy_erase
    return _run_operator(work(_operator_settings(), person, _now()))


def cmd_chat(args: argparse.Namespace) -> str:
    """The same conversation in a terminal (reads lines, prints replies as text)."""
    import asyncio

    from adapters.compose import chat_session
    from adapters.settings import Settings
    from adapters.terminal import run_terminal_chat
    from bot.errors import ConfigError

    async def chat() -> None:
        async with chat_session(Settings()) as (handler, identities):
            await run_terminal_chat(handler, identities, args.as_user)

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(chat())
    except ConfigError as exc:
        sys.exit(f"frontdoor chat: error: {exc}")
    return ""


def cmd_teams_package(args: argparse.Namespace) -> dict[str, Any]:
    """Build the Teams app package (manifest.json and icons) for upload."""
    from pathlib import Path

    from adapters.compose import teams_package
    from adapters.errors import PackageError
    from adapters.settings import Settings
    from bot.errors import ConfigError

    settings = Settings()
    if not settings.microsoft_app_id.strip():
        raise UsageError("MICROSOFT_APP_ID: set it to the bot's Microsoft app id (a GUID) "
                         "from its Azure Bot registration")
    output = Path(args.output)
    try:
        manifest = teams_package(settings, output, version=args.version, name=args.name,
                                 domains=tuple(args.domain or ()))
    except ConfigError as exc:
        raise UsageError(f"FRONTDOOR_CONFIG: {exc}") from None
    except PackageError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"argument --output: cannot write {output}: {exc.strerror}") from None
    return {"package": str(output), "app_id": manifest["id"], "version": manifest["version"],
            "manifest_version": manifest["manifestVersion"]}


# ---- the knowledge base


def _knowledge_base() -> Any:
    from adapters.compose import load_directory, open_knowledge
    from adapters.settings import Settings
    from bot.errors import ConfigError

    settings = Settings()
    try:
        directory = load_directory(settings)
    except ConfigError as exc:
        raise UsageError(f"FRONTDOOR_CONFIG: {exc}") from None
    kb = open_knowledge(settings, directory)
    if kb is None:
        raise UsageError(f"FRONTDOOR_CONFIG: {settings.frontdoor_config} has no [knowledge] "
                         "section (the documents to index)")
    return kb


def cmd_kb(args: argparse.Namespace) -> dict[str, Any]:
    """`kb index`: build the search index of the deployment's documents; `kb search`: what a
    customer (or, without --customer, the vendor) would be shown for a question."""
    import time

    from bot.errors import KnowledgeError

    kb = _knowledge_base()
    try:
        if args.kb_command == "index":
            stats = kb.rebuild()
            return {"index": str(stats.path), "articles": stats.articles,
                    "sources": stats.sources, "seconds": round(stats.seconds, 3)}
        if kb.needs_build():
            kb.rebuild()
        kb.reload()
        if args.customer and args.customer not in kb.directory.deployment.customers:
            known = ", ".join(kb.directory.deployment.customers)
            raise UsageError(f"argument --customer: no customer {args.customer!r} "
                             f"(known: {known})")
        started = time.perf_counter()
        hits = kb.search(" ".join(args.text), args.customer, limit=args.limit)
        elapsed = time.perf_counter() - started
    except KnowledgeError as exc:
        raise UsageError(str(exc)) from None
    finally:
        kb.close()
    return {"milliseconds": round(1000 * elapsed, 2), "articles": [
        {"id": h.article.id, "title": h.article.title, "url": kb.url_of(h.article),
         "excerpt": h.excerpt, "score": round(h.score, 3), "coverage": round(h.coverage, 2)}
        for h in hits]}


# ---- parser and entry point


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="frontdoor", description="Frontdoor: a support front door in chat.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sla = sub.add_parser("sla", help="compute a case's SLA dues from its policy")
    sla.add_argument("--policy", required=True, help=f"pack: {', '.join(available_packs())}")
    sla.add_argument("--plan", help="plan (may be omitted where the pack has one plan)")
    sla.add_argument("--type", required=True,
                     help="case type: incident, query, security-report, service-request …")
    sla.add_argument("--priority", help="priority or severity (P1, Critical, 1, Highest …)")
    sla.add_argument("--severity-from", nargs="+", metavar="QUESTION=ANSWER",
                     help="derive the priority from impact answers (e.g. users-affected=all)")
    sla.add_argument("--opened", required=True, type=_instant, help="ISO 8601 report instant")
    sla.add_argument("--acknowledged", type=_instant, help="ISO 8601 acknowledgement instant")
    sla.add_argument("--now", type=_instant, help="evaluate clock states at this instant")
    sla.add_argument("--environment", choices=["production", "pre-production"])
    sla.add_argument("--managed", action="store_true", help="the deployment is a Managed one")
    sla.add_argument("--hypercare", action="store_true", help="the customer is in hypercare")
    sla.add_argument("--tz", type=_zone, help="the subscription's IANA time zone")
    sla.add_argument("--holiday-country", help="the subscription's holiday country (ISO code)")

    scope = sub.add_parser("scope", help="is a request in scope, consulting or not covered?")
    scope.add_argument("--policy", required=True)
    scope.add_argument("--type", help="case type the request would be filed as")
    scope.add_argument("--answer", action="append", metavar="QUESTION=ANSWER",
                       help="an answer to one of the pack's scope questions")
    scope.add_argument("text", nargs="+", help="the customer's words")

    policy = sub.add_parser("policy", help="show or check policy packs")
    psub = policy.add_subparsers(dest="policy_command", required=True, parser_class=_Parser)
    show = psub.add_parser("show", help="print a pack's plan tables")
    show.add_argument("pack")
    check = psub.add_parser("check", help="validate a pack file")
    check.add_argument("file")

    sub.add_parser("demo", help="show the policy engine on the shipped packs")

    serve = sub.add_parser("serve", help="run the web process (web chat, Slack, Teams)")
    serve.add_argument("--port", type=int, help="port (default: $PORT or 8080)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    serve.add_argument("--socket-mode", action="store_true",
                       help="receive Slack over Socket Mode (no public URL needed)")
    serve.add_argument("--expose-web-chat", action="store_true",
                       help="serve the demo web chat (unauthenticated: anyone can act as "
                       "anyone) on a non-loopback --host, on purpose")

    sub.add_parser("worker", help="run the scheduler: SLA reminders, breaches, escalations")
    tick = sub.add_parser("tick", help="fire every SLA timer due at an instant once (and "
                          "that day's retention run), then exit")
    tick.add_argument("--at", required=True, type=_instant, help="ISO 8601 instant with offset")

    retention = sub.add_parser("retention", help="apply the packs' retention rules now, per "
                               "customer (the scheduler does so daily)")
    retention.add_argument("--dry-run", action="store_true",
                           help="only show what would go and the clause that says so")
    retention.add_argument("--at", type=_instant, help="as at this ISO 8601 instant "
                           "(default: now)")

    audit = sub.add_parser("audit", help="the audit log")
    asub = audit.add_subparsers(dest="audit_command", required=True, parser_class=_Parser)
    export = asub.add_parser("export", help="write the audit as JSON lines (for a SIEM)")
    export.add_argument("--since", required=True, type=_instant,
                        help="ISO 8601 instant with offset: entries at or after it")
    export.add_argument("--output", metavar="PATH", help="file to write (default: stdout)")

    privacy = sub.add_parser("privacy", help="a person's data: export (GDPR art. 15) or "
                             "erase (art. 17)")
    prsub = privacy.add_subparsers(dest="privacy_command", required=True, parser_class=_Parser)
    for name, text in (("export", "everything held about the person, as JSON"),
                       ("erase", "pseudonymise the person everywhere (cases and clocks "
                                 "intact)")):
        person = prsub.add_parser(name, help=text)
        person.add_argument("person", metavar="PERSON", help="the person's id")

    package = sub.add_parser("teams-package", help="build the Teams app package (zip) to upload")
    package.add_argument("--output", default="frontdoor-teams.zip", metavar="PATH",
                         help="where to write the zip (default frontdoor-teams.zip)")
    package.add_argument("--version", default="1.0.0", help="the app's version (1.0.0); "
                         "raise it for every upload of a changed package")
    package.add_argument("--name", default="Frontdoor", help="the app's short name in Teams")
    package.add_argument("--domain", action="append", metavar="HOST",
                         help="a domain the app links to (validDomains); repeatable")

    add_evidence_commands(sub)

    kb = sub.add_parser("kb", help="the knowledge base: build its index, try a search")
    kbsub = kb.add_subparsers(dest="kb_command", required=True, parser_class=_Parser)
    kbsub.add_parser("index", help="index the documents named in [knowledge]")
    search = kbsub.add_parser("search", help="the articles a question finds")
    search.add_argument("--customer", help="as this customer would see them (its sources, its "
                        "pack's synonyms); default: the vendor's view, every source")
    search.add_argument("--limit", type=int, default=3, choices=range(1, 21), metavar="N",
                        help="at most N articles (default 3)")
    search.add_argument("text", nargs="+", help="the question")

    chat = sub.add_parser("chat", help="talk to the front door in this terminal")
    chat.add_argument("--as", dest="as_user", required=True, metavar="USER_ID",
                      help="a person's id from the deployment file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"sla": cmd_sla, "scope": cmd_scope, "policy": cmd_policy, "demo": cmd_demo,
                "serve": cmd_serve, "chat": cmd_chat, "worker": cmd_worker, "tick": cmd_tick,
                "teams-package": cmd_teams_package, "retention": cmd_retention,
                "audit": cmd_audit, "privacy": cmd_privacy, "kb": cmd_kb,
                **EVIDENCE_COMMANDS}
    try:
        result = handlers[args.command](args)
    except UsageError as exc:
        print(f"frontdoor {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except _CheckFailed as exc:
        print(f"frontdoor policy check: invalid pack\n{exc}", file=sys.stderr)
        return 1
    except PolicyError as exc:
        print(f"frontdoor {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(result, str):
        if result:
            print(result)
    else:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
