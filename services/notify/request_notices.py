"""What a resident (or a relative / neighbour) who asked for help hears back: an acknowledgement when the request
arrives, "we're arranging help" when staff turn it into a need, or the reason when staff close it.

The ledger names the requester `wnioskodawca:<request id>`; the address is asked of the needs service at send time
(`GET /internal/requests/<id>/contact`, bearer token, every read audited there). Rows are recorded on SMS and e-mail;
the sender sends only on the channel the requester chose and skips the other. One message per request and kind
(the cause id is derived from the request id), so a redelivered or replayed event never sends twice.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from contracts import needs as need_contract
from services.notify.channels import NotOnThisChannel
from services.notify.internal_api import InternalApi
from services.notify.ledger import PROVIDER_CHANNELS, derived_id, record_rendered
from services.notify.messages import render
from services.notify.settings import Settings
from wspolnota import config
from wspolnota.transport import Event
from wspolnota.transport.outbox import Outbox

REQUESTER = "wnioskodawca:"


class RequesterContacts(InternalApi):
    """GET {base}/internal/requests/<id>/contact (needs): {phone, email, reply_channel}."""

    PATH = "/internal/requests/{id}/contact"
    SERVICE = "usługa potrzeb"
    MISSING = "brak prośby w usłudze potrzeb (404: usunięta)"

    def fetch(self, request_id: str) -> dict[str, str]:
        body = self.get_json(request_id)
        return {"phone": str(body.get("phone") or ""), "email": str(body.get("email") or ""),
                "reply_channel": str(body.get("reply_channel") or "")}


def requester_address(contacts: RequesterContacts, request_id: str, channel: str) -> str | None:
    """The requester's address on `channel`, only if it is the channel they chose (else NotOnThisChannel)."""
    found = contacts.fetch(request_id)
    chosen = found["reply_channel"] or ("sms" if found["phone"] else "email")
    if channel != chosen:
        raise NotOnThisChannel(f"wnioskodawca wybrał odpowiedź przez {'SMS' if chosen == 'sms' else 'e-mail'}")
    return {"sms": found["phone"], "email": found["email"]}.get(channel) or None


def handlers(outbox: Outbox, cfg: Settings) -> dict[str, Callable[[Session, Event], None]]:
    """{event name: handler} for the requests' events (merged into services/notify/handlers.py's)."""
    def centre_phone() -> str:
        return config.get("CENTRE_PHONE")

    def send(kind: str, **context: object) -> Callable[[Session, Event], None]:
        def handle(session: Session, event: Event) -> None:
            request_id = event.data["request_id"]
            extra = dict(context)
            if kind == "request_closed":
                code = event.data.get("reason", "")
                extra["reason"] = need_contract.REQUEST_CLOSE_REASON_PL.get(code, "sprawa została zamknięta")
            text = render(kind, centre_phone=centre_phone(), **extra)
            record_rendered(session, outbox, derived_id(request_id, kind), kind, REQUESTER + request_id,
                            PROVIDER_CHANNELS, text)
        return handle

    return {"RequestReceived": send("request_received"), "RequestConverted": send("request_converted"),
            "RequestClosed": send("request_closed")}
