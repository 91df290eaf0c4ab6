"""This service's own settings, from environment variables with safe local defaults.

They are read here rather than in wspolnota/config.py because only this service uses them.
"""
from __future__ import annotations

import os

from wspolnota import config

DEFAULTS = {
    # Shared secret of the internal contact API (notify sends it as a Bearer token); no default: a secret of
    # wspolnota.config.SECRETS, checked when the web app starts.
    "INTERNAL_SERVICE_TOKEN": "",
    # Outgoing mail for e-mail confirmations (the embedded run's SMTP sink listens on 127.0.0.1:8025).
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": "8025",
    "MAIL_FROM": "wolontariat@cuszagnansk.pl",
    # How many days a Kamilka check (register + KRK information) stays valid.
    "KAMILKA_CHECK_VALIDITY_DAYS": "365",
    # How long an e-mail confirmation link works.
    "CONFIRMATION_MAX_AGE_HOURS": "72",
}


def get(name: str) -> str:
    return os.environ.get(name) or DEFAULTS[name]


def app_defaults() -> dict[str, str | int]:
    """Flask config keys (a test_config may override them)."""
    return {
        "INTERNAL_SERVICE_TOKEN": config.secret("INTERNAL_SERVICE_TOKEN"),
        "SMTP_HOST": get("SMTP_HOST"),
        "SMTP_PORT": int(get("SMTP_PORT")),
        "MAIL_FROM": get("MAIL_FROM"),
        "KAMILKA_CHECK_VALIDITY_DAYS": int(get("KAMILKA_CHECK_VALIDITY_DAYS")),
        "CONFIRMATION_MAX_AGE_HOURS": int(get("CONFIRMATION_MAX_AGE_HOURS")),
    }
