"""Settings of the SLA-evidence features the conversation uses (adapters build them from the
environment: FRONTDOOR_SURVEY_*, FRONTDOOR_MAINTENANCE_REMINDER_HOURS)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.service_windows import WindowSettings
from bot.surveys import SurveySettings


@dataclass(frozen=True, slots=True)
class EvidenceSettings:
    surveys: SurveySettings = field(default_factory=SurveySettings)
    windows: WindowSettings = field(default_factory=WindowSettings)
