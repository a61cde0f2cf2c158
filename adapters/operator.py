"""The operator's commands on what the store keeps: `frontdoor audit export`, `frontdoor
retention`, `frontdoor privacy export|erase` — the parts from adapters/compose.py, the work
bot's (bot.audit, bot.retention, bot.subject)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.compose import load_directory, opened_store
from adapters.settings import Settings
from bot.audit import OPERATOR_ACTOR, export_lines, record_audit
from bot.deployment import Directory
from bot.records import AuditRecord
from bot.retention import RetentionService
from bot.store.base import Store
from bot.subject import SubjectService


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[tuple[Store, Directory]]:
    """The deployment file and the store the settings name (built by the composition root),
    open for one command."""
    directory = load_directory(settings)
    async with opened_store(settings) as store:
        yield store, directory


async def audit_export(settings: Settings, since: datetime, output: Path | None,
                       now: datetime) -> dict[str, Any]:
    """Write the audit since `since` as JSON lines (to `output`, else stdout)."""
    async with opened(settings) as (store, _):
        written = 0
        out = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            async for line in export_lines(store, since):
                out.write(line + "\n")
                written += 1
        finally:
            if output:
                out.close()
            else:
                out.flush()
        await record_audit(store, AuditRecord(
            at=now, actor=OPERATOR_ACTOR, role="admin", action="audit_export", allowed=True,
            detail=f"{written} entries since {since.isoformat()}"
                   + (f" to {output.name}" if output else "")))
    return {"exported": written, "output": str(output) if output else None,
            "since": since.isoformat()}


async def retention(settings: Settings, at: datetime, dry_run: bool) -> dict[str, Any]:
    async with opened(settings) as (store, directory):
        report = await RetentionService(store, directory).run(at, dry_run=dry_run)
    return report.as_json()


async def privacy_export(settings: Settings, person: str, now: datetime) -> dict[str, Any]:
    async with opened(settings) as (store, directory):
        return await SubjectService(store, directory).export(person, now)


async def privacy_erase(settings: Settings, person: str, now: datetime) -> dict[str, Any]:
    async with opened(settings) as (store, directory):
        return await SubjectService(store, directory).erase(person, now)
