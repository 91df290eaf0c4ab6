"""Notify's own settings, from environment variables with safe local defaults (see docs/notify.md).

They live here rather than in wspolnota.config because only notify's processes read them.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import time
from typing import Any, cast

from wspolnota import config


@dataclass(frozen=True)
class Settings:
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_security: str = "none"  # none | starttls | ssl
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_timeout_s: float = 10.0
    smtp_ca_file: str = ""  # extra CA bundle to trust (a private mail server); system CAs otherwise
    mail_from: str = "CUS Zagnańsk <powiadomienia@cus-zagnansk.local>"
    sms_gateway_url: str = "http://127.0.0.1:8026/sms"
    sms_gateway_token: str = ""
    sms_sender: str = "CUSZagnansk"
    case_webhook_url: str = "http://127.0.0.1:8026/webhook"
    case_webhook_secret: str = ""  # secrets: wspolnota.config.SECRETS; the processes check them at start
    webhook_replay_window_s: int = 300
    http_timeout_s: float = 10.0
    volunteers_internal_url: str = "http://127.0.0.1:8002"
    internal_service_token: str = ""
    organiser_email: str = "organizator@cus-zagnansk.local"
    organiser_phone: str = ""
    ipus_coordinator_email: str = "koordynator.ipus@cus-zagnansk.local"
    ipus_coordinator_phone: str = ""
    public_url: str = "http://127.0.0.1:8000/notify"
    link_secret: str = ""
    link_max_age_h: float = 72.0
    quiet_hours: str = "20:00-08:00"
    timezone: str = "Europe/Warsaw"
    max_attempts: int = 5
    retry_base_s: float = 30.0
    retry_max_s: float = 3600.0
    sending_lease_s: float = 120.0
    sender_poll_s: float = 1.0
    sender_batch: int = 50
    reminder_hours: float = 24.0
    unmatched_hours: float = 48.0
    credential_warning_days: float = 30.0
    sink_smtp_port: int = 8025
    sink_http_port: int = 8026

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            name = env_name(f.name)
            raw = env.get(name, "")
            if raw != "":
                values[f.name] = cast(Any, type(f.default))(raw)
        # A public or empty secret is never used: it becomes "" (the processes that need it refused to start
        # already), or its development value when WSPOLNOTA_DEV_SECRETS=1 asked for those.
        for field_name, secret in (("case_webhook_secret", "NOTIFY_CASE_WEBHOOK_SECRET"),
                                   ("internal_service_token", "INTERNAL_SERVICE_TOKEN")):
            values[field_name] = _secret_or_empty(secret, str(values.get(field_name) or ""))
        link = str(values.get("link_secret") or "")
        values["link_secret"] = link if not config.is_public(link) else _secret_or_empty(
            "SECRET_KEY", env.get("SECRET_KEY", ""))
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def quiet_window(self) -> tuple[time, time]:
        start, end = self.quiet_hours.split("-")
        return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


def _secret_or_empty(name: str, value: str) -> str:
    try:
        return config.secret(name, value)
    except config.MissingSecret:
        return ""


UNPREFIXED = {"volunteers_internal_url", "internal_service_token"}


def env_name(field_name: str) -> str:
    """NOTIFY_SMTP_HOST for smtp_host; the shared ones keep their agreed names (VOLUNTEERS_INTERNAL_URL)."""
    return field_name.upper() if field_name in UNPREFIXED else f"NOTIFY_{field_name.upper()}"
