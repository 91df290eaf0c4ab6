"""Well-being call series (needs' `CallSeriesEscalated`): two calls in a row were not answered, so the resident's
social worker (the organiser when the resident has none) gets one e-mail with a link to the series page.

The recipient is named by the series id (`contacts.CALL_SERIES_WORKER`); the sender asks the needs service for the
address at send time (`GET /internal/call-series/<id>/recipient`). The ledger row's cause is derived from the
escalation id, so the same escalation delivered again (or republished) is one message. No name travels or is kept.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from services.notify.contacts import CALL_SERIES_WORKER
from services.notify.ledger import derived_id, record
from services.notify.messages import render
from services.notify.settings import Settings
from wspolnota.transport import Event
from wspolnota.transport.outbox import Outbox


def call_handlers(outbox: Outbox, cfg: Settings) -> dict[str, Callable[[Session, Event], Any]]:
    """{event name: handler} merged into handlers.handlers()'s dict."""

    def on_call_series_escalated(session: Session, event: Event) -> None:
        d = event.data
        front_door = cfg.public_url.rstrip("/").removesuffix("/notify")
        text = render("call_series_escalated", link=f"{front_door}/needs/rozmowy/{d['series_id']}")
        record(session, outbox, derived_id(d["escalation_id"], "call_series_escalated"), "call_series_escalated",
               CALL_SERIES_WORKER + d["series_id"], "email", text.subject, text.email, urgent=True)

    return {"CallSeriesEscalated": on_call_series_escalated}
