"""The one settings object, read from the environment (and `.env`) once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.store import Store, open_store

_CHECKOUT = Path(__file__).resolve().parent.parent
# The example deployment file: the checkout's `examples/frontdoor.toml`, or in an installed
# wheel the copy packaged with us (adapters/defaults/frontdoor.toml is a link to it in git).
EXAMPLE_CONFIG = (_CHECKOUT / "examples" / "frontdoor.toml"
                  if (_CHECKOUT / "pyproject.toml").is_file()
                  else Path(__file__).resolve().parent / "defaults" / "frontdoor.toml")


class Settings(BaseSettings):
    """Environment names are the architecture contract (shared/docs/architecture.md)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    microsoft_app_id: str = ""
    microsoft_app_password: SecretStr | None = None
    microsoft_app_tenant_id: str = ""
    microsoft_app_type: str = "MultiTenant"
    frontdoor_teams_emulator: bool | None = Field(
        default=None, description="without MICROSOFT_APP_ID, accept unauthenticated Bot "
        "Framework Emulator requests on /api/messages (anyone can claim any identity: local "
        "only); default: on when FRONTDOOR_WEB_CHAT is")
    frontdoor_teams_service_url: str | None = Field(
        default=None, description="Bot Framework service URL for proactive posts to a Teams "
        "conversation no message came from yet; default with MICROSOFT_APP_ID: Teams' "
        "global https://smba.trafficmanager.net/teams/ (a government cloud has its own)")
    frontdoor_test_botframework_openid_url: str | None = Field(
        default=None, description="TEST ONLY: check Teams tokens against this OpenID "
        "metadata instead of the Bot Framework's, and send a fixed test token outbound "
        "instead of asking Azure AD. Never set it in production.")
    frontdoor_teams_website_url: str = "https://frontdoor.example.com/"
    frontdoor_teams_privacy_url: str = "https://frontdoor.example.com/privacy"
    frontdoor_teams_terms_url: str = "https://frontdoor.example.com/terms"
    frontdoor_teams_accent_color: str = "#2F5EA8"
    redis_url: str | None = None
    frontdoor_redis_prefix: str = Field(default="fd:", min_length=1,
                                        description="key prefix, to share one Redis")
    frontdoor_db: Path = Path("frontdoor.db")
    frontdoor_sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        default="NORMAL", description="SQLite's fsync policy: NORMAL (a crash of the process "
        "loses nothing committed; a power cut may lose the last commits) or FULL (nothing "
        "committed is lost, each commit waits for the disk)")
    frontdoor_config: Path = EXAMPLE_CONFIG
    frontdoor_web_chat: bool = Field(
        default=True, description="serve the local web chat (identities are picked, not "
        "authenticated: keep it off on a public address)")
    frontdoor_idle_minutes: int = Field(default=30, gt=0)
    frontdoor_ticket_emoji: str = Field(default="ticket", description="reaction that files "
                                        "the message as a case")
    frontdoor_reminders: str = Field(default="50,75,90", description="reminders before each "
                                     "due, in % of the target, comma-separated")
    frontdoor_scheduler_lease_seconds: float = Field(
        default=60.0, gt=0, description="how long a worker holds a claimed case timer; a "
        "worker killed mid-fire delays that case's notices by up to this long")
    frontdoor_web_works_queue: bool = Field(
        default=True, description="the web process also works the store's queue (stored "
        "Slack events, posts); with Redis, false leaves that to `frontdoor worker` processes "
        "and keeps the web process to acknowledging (SQLite: always true)")
    frontdoor_body_read_seconds: float = Field(
        default=10.0, gt=0, le=300, description="how long a request body may take to arrive "
        "before the request is answered 408 (a client trickling its body holds nothing open "
        "for longer)")
    frontdoor_metrics_token: SecretStr | None = Field(
        default=None, description="when set, GET /metrics answers only requests that carry "
        "`Authorization: Bearer <this token>` (set it wherever the port is reachable by "
        "others: the counters tell who uses the service how)")
    frontdoor_public_url: str | None = Field(
        default=None, pattern=r"^https?://", description="the address people reach this "
        "server at (as in the Slack manifest): links to articles served at /kb/ use it; "
        "default with the web chat on: http://127.0.0.1:PORT")
    # SLA evidence (adapters/evidence_wiring.py): surveys, maintenance, reports, probes
    frontdoor_surveys: bool = Field(default=True, description="ask for a 1–5 score when a "
                                    "case is resolved")
    frontdoor_survey_sample: float = Field(default=1.0, ge=0, le=1, description="share of "
                                           "resolved cases whose reporter is asked")
    frontdoor_survey_cooldown_days: float = Field(default=14, ge=0, description="a person "
                                                  "is asked at most once in this many days")
    frontdoor_survey_low_score: int = Field(default=2, ge=1, le=5, description="at or below: "
                                            "the engineers' channel is told")
    frontdoor_maintenance_reminder_hours: float = Field(default=24, gt=0, description="remind "
                                                        "customers this long before a window")
    frontdoor_monthly_reports: bool = Field(default=True, description="on the first business "
                                            "day, send each customer's admins last month's "
                                            "report and the vendor's admins the summary")
    frontdoor_probes: bool = Field(default=True, description="run the deployment file's "
                                   "health probes (worker, and the web process with SQLite)")
    frontdoor_report_secret: SecretStr | None = Field(default=None, description="signs report "
                                                      "links (without it no links are made)")
    port: int = Field(default=8080, gt=0, lt=65536)
    slack_socket_mode: bool = Field(default=False, description="receive Slack over Socket "
                                    "Mode (SLACK_APP_TOKEN) instead of POST /slack/events")
    log_level: str = "INFO"

    def public_url(self) -> str | None:
        """This server's address for links (None: not known, so no links to /kb/ pages)."""
        if self.frontdoor_public_url:
            return self.frontdoor_public_url.rstrip("/")
        return f"http://127.0.0.1:{self.port}" if self.frontdoor_web_chat else None

    @field_validator("frontdoor_sqlite_synchronous", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    def open_store(self) -> Store:
        """The configured store, not yet opened (Redis with REDIS_URL, else SQLite)."""
        return open_store(self.redis_url, self.frontdoor_db, self.frontdoor_redis_prefix,
                          sqlite_synchronous=self.frontdoor_sqlite_synchronous)

    def reminder_fractions(self) -> tuple[float, ...]:
        """FRONTDOOR_REMINDERS as fractions (50,75,90 → 0.5, 0.75, 0.9)."""
        out = []
        for part in self.frontdoor_reminders.split(","):
            part = part.strip().rstrip("%")
            if not part:
                continue
            value = float(part) / 100
            if not 0 < value < 1:
                raise ValueError(f"FRONTDOOR_REMINDERS: {part}% is not between 0 and 100")
            out.append(value)
        return tuple(sorted(set(out)))
