"""The volunteers service's settings as one typed object, read through wspolnota/config.py (where each variable,
its default and its meaning are declared) and handed out by the service's bootstrap (`Parts.settings`)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from wspolnota import config


@dataclass(frozen=True)
class Settings:
    smtp_host: str  # SMTP_HOST: where e-mail confirmations go
    smtp_port: int  # SMTP_PORT
    mail_from: str  # MAIL_FROM
    kamilka_check_validity_days: int  # KAMILKA_CHECK_VALIDITY_DAYS
    confirmation_max_age_hours: int  # CONFIRMATION_MAX_AGE_HOURS
    volunteer_sign_in_link_minutes: int  # VOLUNTEER_SIGN_IN_LINK_MINUTES
    volunteer_session_days: int  # VOLUNTEER_SESSION_DAYS
    volunteer_sign_in_per_address_per_hour: int  # VOLUNTEER_SIGN_IN_PER_ADDRESS_PER_HOUR
    volunteer_sign_in_per_source_per_hour: int  # VOLUNTEER_SIGN_IN_PER_SOURCE_PER_HOUR
    centre_name: str  # CENTRE_NAME: on the certificate of volunteering
    centre_address: str  # CENTRE_ADDRESS
    centre_place: str  # CENTRE_PLACE: the place of issue
    certificate_font_dir: str  # CERTIFICATE_FONT_DIR: DejaVu Sans for Polish letters in the PDF
    volunteer_resident_details_before_h: int  # VOLUNTEER_RESIDENT_DETAILS_BEFORE_H
    volunteer_resident_details_after_h: int  # VOLUNTEER_RESIDENT_DETAILS_AFTER_H
    centre_phone: str  # CENTRE_PHONE: the centre's phone on the visits page and when a concern cannot be sent
    needs_internal_url: str  # NEEDS_INTERNAL_URL: the needs service's internal API (visit contact, concerns)

    @classmethod
    def from_config(cls, overrides: Mapping[str, Any] | None = None) -> Settings:
        """From the environment (wspolnota.config); `overrides` by variable name (SMTP_PORT=…) win, so a test
        app's config can change one of them."""
        given = {k.upper(): v for k, v in (overrides or {}).items()}
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f.name.upper()
            raw = given[name] if name in given else config.get(name)
            values[f.name] = int(raw) if f.type in ("int", int) else str(raw)
        return cls(**values)
