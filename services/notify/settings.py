"""Notify's settings as one frozen value, read from the declarations in wspolnota.config.SETTINGS (names,
defaults and docs live there; the README's table is generated from them). The bootstrap builds it once and
hands it to the handlers, the sender and the web app.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import time
from typing import get_type_hints

from wspolnota import config


@dataclass(frozen=True)
class Settings:
    smtp_host: str
    smtp_port: int
    smtp_security: str  # none | starttls | ssl
    smtp_user: str
    smtp_password: str
    smtp_timeout_s: float
    smtp_ca_file: str
    mail_from: str
    sms_gateway_url: str
    sms_gateway_token: str
    sms_sender: str
    case_webhook_url: str
    case_webhook_secret: str  # a secret (wspolnota.config.SECRETS): the processes check it at start
    webhook_replay_window_s: int
    http_timeout_s: float
    volunteers_internal_url: str
    community_internal_url: str
    internal_service_token: str  # a secret, as above
    organiser_email: str
    organiser_phone: str
    ipus_coordinator_email: str
    ipus_coordinator_phone: str
    public_url: str
    link_secret: str
    secret_key: str  # SECRET_KEY (a secret): volunteers' sign-in links are signed with a key derived from it
    link_max_age_h: float
    quiet_hours: str
    timezone: str
    max_attempts: int
    retry_base_s: float
    retry_max_s: float
    sending_lease_s: float
    sender_poll_s: float
    sender_batch: int
    reminder_hours: float
    unmatched_hours: float
    credential_warning_days: float
    sink_smtp_port: int
    sink_http_port: int
    needs_internal_url: str = "http://127.0.0.1:8001"  # a concern's social worker, asked at send time
    check_link_max_age_h: float = 168.0  # "did it happen?" and "is it still needed?" links
    link_pages_per_minute: int = 30  # those link pages, per client address
    resident_quiet_hours: str = "20:00-08:00"  # residents' notices: never an SMS to a resident in this span
    director_email: str = "dyrektor@cus-zagnansk.local"  # concerns escalated past their deadline

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """The settings from the environment (or `env`; `{}` gives the declared defaults), then `overrides`."""
        env = os.environ if env is None else env
        types = get_type_hints(cls)
        values: dict[str, object] = {f.name: types[f.name](config.get(env_name(f.name), env)) for f in fields(cls)}
        # A public or empty secret is never used: it becomes "" (the processes that need it refused to start
        # already), or its development value when WSPOLNOTA_DEV_SECRETS=1 asked for those.
        for field_name, secret in (("case_webhook_secret", "NOTIFY_CASE_WEBHOOK_SECRET"),
                                   ("internal_service_token", "INTERNAL_SERVICE_TOKEN"), ("secret_key", "SECRET_KEY")):
            values[field_name] = _secret_or_empty(secret, str(values[field_name]))
        link = str(values["link_secret"])
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


UNPREFIXED = {"volunteers_internal_url", "community_internal_url", "needs_internal_url", "internal_service_token", "secret_key"}


def env_name(field_name: str) -> str:
    """NOTIFY_SMTP_HOST for smtp_host; the shared ones keep their agreed names (VOLUNTEERS_INTERNAL_URL)."""
    return field_name.upper() if field_name in UNPREFIXED else f"NOTIFY_{field_name.upper()}"
