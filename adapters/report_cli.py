"""`frontdoor report` and `frontdoor maintenance`: SLA evidence from the command line.

    frontdoor report --customer ACME --month 2026-11 --format pdf [--output FILE]
    frontdoor report --customer all --month 2026-11             (the summary, html or json)
    frontdoor report --customer NORD --from 2026-11-02 --to 2026-11-13 --format csv --output -
    frontdoor maintenance announce nordlys-prod --start 2026-11-12T14:00 --end 2026-11-12T15:00 \
        --reason "security patches" [--as olivia]
    frontdoor maintenance list | cancel MW-3 [--as olivia]

Times without an offset are the customer's. Files are written where --output says (`-`:
standard output, for csv and json), else `sla-report-<customer>-<period>.<format>`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from adapters.errors import UsageError

_T = TypeVar("_T")


def _usage(message: str) -> Exception:
    return UsageError(message)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _when(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time (e.g. 2026-11-12T14:00)") from None


def add_evidence_commands(sub: Any) -> None:
    """Add `report` and `maintenance` to the `frontdoor` parser's subcommands."""
    report = sub.add_parser("report", help="an SLA report (HTML with charts, PDF, CSV, JSON)")
    report.add_argument("--customer", required=True, metavar="CUSTOMER",
                        help="id, case prefix or name (ACME), or `all` for the summary")
    report.add_argument("--month", metavar="YYYY-MM", help="the calendar month")
    report.add_argument("--from", dest="first", type=_day, metavar="YYYY-MM-DD",
                        help="first day (with --to), instead of --month")
    report.add_argument("--to", dest="last", type=_day, metavar="YYYY-MM-DD", help="last day")
    report.add_argument("--format", choices=["html", "pdf", "csv", "json"], default="html")
    report.add_argument("--output", metavar="PATH", help="file to write (`-`: standard output)")
    report.add_argument("--at", type=_when, metavar="ISO8601",
                        help="as of this instant (default: now)")

    maintenance = sub.add_parser("maintenance", help="announce, list or cancel service windows")
    msub = maintenance.add_subparsers(dest="maintenance_command", required=True,
                                      parser_class=type(maintenance))
    announce = msub.add_parser("announce", help="announce a window (the customer is told)")
    announce.add_argument("target", help="a customer (ACME) or one of its deployments")
    announce.add_argument("--start", required=True, type=_when, help="ISO 8601 start")
    announce.add_argument("--end", required=True, type=_when, help="ISO 8601 end")
    announce.add_argument("--reason", required=True)
    announce.add_argument("--as", dest="as_user", help="the engineer or admin announcing "
                          "(default: the first admin of the deployment file)")
    msub.add_parser("list", help="windows still to come or in progress")
    cancel = msub.add_parser("cancel", help="cancel a planned window")
    cancel.add_argument("window", metavar="MW-N")
    cancel.add_argument("--as", dest="as_user")


def _run(work: Coroutine[Any, Any, _T]) -> _T:
    from bot.errors import FrontdoorError

    try:
        return asyncio.run(work)
    except FrontdoorError as exc:
        raise _usage(str(exc)) from None


async def _with_store(use: Callable[[Any, Any], Coroutine[Any, Any, _T]]) -> _T:
    from adapters.compose import load_directory, opened_store
    from adapters.settings import Settings

    settings = Settings()
    directory = load_directory(settings)
    async with opened_store(settings) as store:
        return await use(store, directory)


def cmd_report(args: argparse.Namespace) -> dict[str, Any] | str:
    from adapters.report_render import render, render_summary
    from bot.reports.collect import (
        customer_id_for,
        customer_report,
        period_for,
        vendor_summary,
    )

    if (args.first is None) != (args.last is None):
        raise _usage("argument --from/--to: give both, or --month")
    if args.month and args.first:
        raise _usage("argument --month: give a month or --from/--to, not both")
    now = args.at or datetime.now(UTC)
    if now.tzinfo is None:
        raise _usage(f"argument --at: {now.isoformat()} has no offset")

    async def build(store: Any, directory: Any) -> tuple[bytes, str]:
        if args.customer.lower() == "all":
            if args.format not in {"html", "json"}:
                raise _usage("argument --format: the summary across customers is html or json")
            first = next(iter(directory.deployment.customers))
            key = args.month or period_for(directory, first, now=now).key
            summary = await vendor_summary(store, directory, key, now)
            return render_summary(summary, args.format), f"sla-summary-{key}.{args.format}"
        cid = customer_id_for(directory, args.customer)
        first_day = datetime.combine(args.first, datetime.min.time()) if args.first else None
        last_day = datetime.combine(args.last, datetime.min.time()) if args.last else None
        period = period_for(directory, cid, month=args.month, first=first_day, last=last_day,
                            now=now)
        report = await customer_report(store, directory, cid, period, now)
        short = directory.customer(cid).short.lower()
        return render(report, args.format), f"sla-report-{short}-{period.key}.{args.format}"

    body, name = _run(_with_store(build))
    if args.output == "-":
        if args.format == "pdf":
            raise _usage("argument --output: a PDF goes to a file, not standard output")
        sys.stdout.write(body.decode())
        return ""
    path = Path(args.output or name)
    try:
        path.write_bytes(body)
    except OSError as exc:
        raise _usage(f"argument --output: cannot write {path}: {exc.strerror}") from None
    return {"written": str(path), "format": args.format, "bytes": len(body)}


def cmd_maintenance(args: argparse.Namespace) -> dict[str, Any]:
    from bot.service_windows import Announcement, ServiceWindows, find_target

    now = datetime.now(UTC)

    async def work(store: Any, directory: Any) -> dict[str, Any]:
        windows = ServiceWindows(store, directory)
        if args.maintenance_command == "list":
            found = [w for w in await store.service_windows(ending_after=now) if w.active]
            return {"windows": [w.model_dump(mode="json") for w in found]}
        person = _operator(directory, args.as_user)
        if args.maintenance_command == "cancel":
            return {"cancelled": args.window,
                    "said": await windows.cancel(person, args.window, now)}
        customer_id, deployment = find_target(directory, args.target)
        tz = directory.customer(customer_id).tz
        start = args.start if args.start.tzinfo else args.start.replace(tzinfo=tz)
        end = args.end if args.end.tzinfo else args.end.replace(tzinfo=tz)
        if end <= start:
            raise _usage("argument --end: a service window must end after it starts")
        window, said = await windows.announce(
            person, Announcement(customer_id, deployment, start, end, args.reason), now)
        return {"window": window.model_dump(mode="json"), "said": said}

    return _run(_with_store(work))


def _operator(directory: Any, as_user: str | None) -> Any:
    if as_user:
        person = directory.person(as_user)
        if person is None or not person.is_vendor:
            raise _usage(f"argument --as: {as_user!r} is not an engineer or admin of the "
                         "deployment file")
        return person
    admins = [p for p in directory.people() if p.role == "admin"]
    if not admins:
        raise _usage("argument --as: the deployment file has no admin; name an engineer")
    return admins[0]


EVIDENCE_COMMANDS: dict[str, Callable[[argparse.Namespace], Any]] = {
    "report": cmd_report, "maintenance": cmd_maintenance}
