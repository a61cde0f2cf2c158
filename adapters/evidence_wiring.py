"""Composition of the SLA-evidence features: their settings from the environment, the
scheduler with the evidence jobs, and signed report links (for Teams cards and emails: a
link works without a login until it expires, and only for the report it names)."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta
from urllib.parse import urlencode

from adapters.probes import http_check
from adapters.settings import Settings
from bot.deployment import Directory
from bot.evidence_jobs import EvidenceScheduler
from bot.evidence_settings import EvidenceSettings
from bot.scheduler import NoticeSink, SchedulerSettings
from bot.service_windows import WindowSettings
from bot.store.base import Store
from bot.surveys import SurveySettings

LINK_DAYS = 45


def evidence_settings(settings: Settings) -> EvidenceSettings:
    return EvidenceSettings(
        surveys=SurveySettings(
            enabled=settings.frontdoor_surveys, sample=settings.frontdoor_survey_sample,
            cooldown=timedelta(days=settings.frontdoor_survey_cooldown_days),
            low_score=settings.frontdoor_survey_low_score),
        windows=WindowSettings(
            remind_before=timedelta(hours=settings.frontdoor_maintenance_reminder_hours)))


def evidence_scheduler(store: Store, directory: Directory, sink: NoticeSink, worker_id: str,
                       scheduler_settings: SchedulerSettings,
                       settings: Settings) -> EvidenceScheduler:
    """The SLA scheduler plus monthly reports, maintenance reminders and health probes."""
    return EvidenceScheduler(
        store, directory, sink, worker_id, scheduler_settings,
        probe_check=http_check if settings.frontdoor_probes else None,
        monthly_reports=settings.frontdoor_monthly_reports,
        windows=evidence_settings(settings).windows)


def _signature(secret: str, path: str, expires: int) -> str:
    return hmac.new(secret.encode(), f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()


def signed_link(settings: Settings, path: str, now: float | None = None) -> str | None:
    """An absolute link to `path` that works for LINK_DAYS, or None when the server has no
    public address or no signing secret."""
    if not settings.frontdoor_public_url or settings.frontdoor_report_secret is None:
        return None
    expires = int((now or time.time()) + LINK_DAYS * 86_400)
    sig = _signature(settings.frontdoor_report_secret.get_secret_value(), path, expires)
    return (f"{settings.frontdoor_public_url.rstrip('/')}{path}?"
            f"{urlencode({'expires': expires, 'sig': sig})}")


def link_is_valid(settings: Settings, path: str, expires: str, sig: str,
                  now: float | None = None) -> bool:
    if settings.frontdoor_report_secret is None:
        return False
    try:
        until = int(expires)
    except ValueError:
        return False
    if until < (now or time.time()):
        return False
    wanted = _signature(settings.frontdoor_report_secret.get_secret_value(), path, until)
    return hmac.compare_digest(wanted, sig)
