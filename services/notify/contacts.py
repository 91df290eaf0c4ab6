"""Contact details, fetched at send time from the volunteers and community services' internal APIs
(docs/events.md).

Notify never stores a volunteer's or a resident's address: the ledger names the recipient by id
("wolontariusz:<provider id>", "uczestnik:<registration id>") and the sender asks for the address just before
sending. Staff recipients come from settings.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

import requests

from services.notify import feedback
from services.notify.channels import NotOnThisChannel, PermanentFailure, QuietHours, TemporaryFailure
from services.notify.messages import ENGAGEMENT_KINDS, quiet_until
from services.notify.settings import Settings
from wspolnota.service import Clock, utc_now

VOLUNTEER = "wolontariusz:"
PARTICIPANT = "uczestnik:"  # a resident registered for a community activity (registration id)
ORGANISER = "organizator"
SOCIAL_WORKER = "pracownik_socjalny:"  # a concern's resident's social worker (concern id), asked of needs
IPUS_COORDINATOR = "koordynator_ipus"
CASE_SYSTEM = "system_cus"


@dataclass(frozen=True)
class Contact:
    name: str
    email: str | None
    phone: str | None
    preferred_channel: str | None = None
    quiet_hours: str | None = None  # "21:00-07:00", Warsaw time: the volunteer's own quiet hours for SMS
    engagement: bool = True  # False: the volunteer switched off thank-you messages and nudges


class VolunteerContacts:
    """GET {base}/internal/volunteers/<id>/contact with the shared bearer token."""

    PATH = "/internal/volunteers/{id}/contact"
    SERVICE, MISSING = "usługa wolontariuszy", "brak wolontariusza w usłudze wolontariuszy (404)"

    def __init__(self, base_url: str, token: str, timeout_s: float = 5.0,
                 session: requests.Session | None = None):
        self.base_url, self.token, self.timeout_s = base_url.rstrip("/"), token, timeout_s
        self.http = session or requests.Session()

    def fetch(self, volunteer_id: str) -> Contact:
        url = self.base_url + self.PATH.format(id=volunteer_id)
        service = self.SERVICE
        try:
            response = self.http.get(url, headers={"Authorization": f"Bearer {self.token}",
                                                   "X-Service-Name": "notify"},
                                     timeout=self.timeout_s)
        except requests.RequestException as err:
            raise TemporaryFailure(f"{service} nie odpowiada ({type(err).__name__})") from err
        if response.status_code == 404:
            raise PermanentFailure(self.MISSING)
        if response.status_code in (401, 403):
            raise TemporaryFailure(f"{service} odmówiła dostępu ({response.status_code}); "
                                   "sprawdź INTERNAL_SERVICE_TOKEN")
        if response.status_code != 200:
            raise TemporaryFailure(f"{service} odpowiedziała {response.status_code}")
        try:
            body = response.json()
            return Contact(name=str(body.get("name") or ""), email=body.get("email") or None,
                           phone=body.get("phone") or None, preferred_channel=body.get("preferred_channel"),
                           quiet_hours=body.get("quiet_hours") or None,
                           engagement=body.get("engagement_messages") is not False)
        except (ValueError, AttributeError) as err:
            raise TemporaryFailure(f"{service} zwróciła niepoprawny JSON") from err


class ParticipantContacts(VolunteerContacts):
    """GET {base}/internal/registrations/<id>/contact (community): a registered resident's address, given only
    with their consent to reminders (an empty address: nothing is sent on that channel)."""

    PATH = "/internal/registrations/{id}/contact"
    SERVICE, MISSING = "usługa społeczności", "brak zapisu w usłudze społeczności (404: wypisany lub usunięty)"


class ConcernRecipients:
    """GET {base}/internal/concerns/<id>/recipient (needs): the e-mail address of the social worker assigned to
    the resident a concern is about; "" when none is assigned (or a general concern)."""

    PATH = "/internal/concerns/{id}/recipient"
    SERVICE = "usługa potrzeb"

    def __init__(self, base_url: str, token: str, timeout_s: float = 5.0,
                 session: requests.Session | None = None):
        self.base_url, self.token, self.timeout_s = base_url.rstrip("/"), token, timeout_s
        self.http = session or requests.Session()

    def fetch(self, concern_id: str) -> str:
        url = self.base_url + self.PATH.format(id=concern_id)
        try:
            response = self.http.get(url, headers={"Authorization": f"Bearer {self.token}",
                                                   "X-Service-Name": "notify"}, timeout=self.timeout_s)
        except requests.RequestException as err:
            raise TemporaryFailure(f"{self.SERVICE} nie odpowiada ({type(err).__name__})") from err
        if response.status_code == 404:
            raise PermanentFailure("brak zgłoszenia w usłudze potrzeb (404)")
        if response.status_code in (401, 403):
            raise TemporaryFailure(f"{self.SERVICE} odmówiła dostępu ({response.status_code}); "
                                   "sprawdź INTERNAL_SERVICE_TOKEN")
        if response.status_code != 200:
            raise TemporaryFailure(f"{self.SERVICE} odpowiedziała {response.status_code}")
        try:
            return str(response.json().get("email") or "")
        except (ValueError, AttributeError) as err:
            raise TemporaryFailure(f"{self.SERVICE} zwróciła niepoprawny JSON") from err


class AddressBook:
    """Where a ledger recipient is reached on a channel; None when it has no address there."""

    def __init__(self, settings: Settings, volunteers: VolunteerContacts,
                 participants: VolunteerContacts | None = None, clock: Clock = utc_now,
                 concerns: ConcernRecipients | None = None, feedback_contacts: feedback.FeedbackContacts | None = None):
        self.settings, self.volunteers, self.clock = settings, volunteers, clock
        self.feedback_contacts = feedback_contacts
        self.participants = participants or ParticipantContacts(
            settings.community_internal_url, settings.internal_service_token, settings.http_timeout_s)
        self.concerns = concerns or ConcernRecipients(
            settings.needs_internal_url, settings.internal_service_token, settings.http_timeout_s)

    def address(self, recipient: str, channel: str, urgent: bool = False, kind: str | None = None) -> str | None:
        s = self.settings
        if recipient.startswith(PARTICIPANT):
            # One message per resident: SMS when they gave a phone (rural residents read SMS first), else e-mail.
            contact = self.participants.fetch(recipient.removeprefix(PARTICIPANT))
            if channel == "email" and contact.phone:
                raise NotOnThisChannel("uczestnik dostaje SMS")
            return {"email": contact.email, "sms": contact.phone}.get(channel)
        if recipient.startswith(SOCIAL_WORKER):
            # at send time, so a social worker assigned (or changed) after the report still gets it; none: the
            # organiser. E-mail only: the message is a link to a staff page.
            if channel != "email":
                return None
            return self.concerns.fetch(recipient.removeprefix(SOCIAL_WORKER)) or s.organiser_email or None
        if recipient.startswith(VOLUNTEER):
            contact = self.volunteers.fetch(recipient.removeprefix(VOLUNTEER))
            if kind in ENGAGEMENT_KINDS and not contact.engagement:
                raise NotOnThisChannel("wolontariusz wyłączył podziękowania i przypomnienia")
            addresses = {"email": contact.email, "sms": contact.phone}
            preferred = contact.preferred_channel
            if (not urgent and preferred in addresses and preferred != channel and addresses[preferred]
                    and channel in addresses):
                raise NotOnThisChannel(f"wolontariusz woli kanał {'e-mail' if preferred == 'email' else 'SMS'}")
            if channel == "sms" and not urgent and contact.quiet_hours:
                until = personal_quiet_until(contact.quiet_hours, self.clock())
                if until is not None:
                    raise QuietHours(until)
            return addresses.get(channel)
        found = feedback.address(s, self.feedback_contacts, recipient, channel)  # the director; a resident asked for feedback
        if found is not None:
            return found
        staff = {
            (ORGANISER, "email"): s.organiser_email, (ORGANISER, "sms"): s.organiser_phone,
            (IPUS_COORDINATOR, "email"): s.ipus_coordinator_email, (IPUS_COORDINATOR, "sms"): s.ipus_coordinator_phone,
            (CASE_SYSTEM, "webhook"): s.case_webhook_url,
        }
        return staff.get((recipient, channel)) or None


def personal_quiet_until(span: str, now: datetime) -> datetime | None:
    """When a volunteer's own quiet hours ("21:00-07:00", Warsaw time) that `now` falls in end, or None (also for
    a span that cannot be read: the message goes, as without quiet hours)."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in span.split("-"))
    except ValueError:
        return None
    if start == end:
        return None
    return quiet_until(now, start, end)
