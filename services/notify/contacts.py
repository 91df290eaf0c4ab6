"""Contact details, fetched at send time from the volunteers and community services' internal APIs
(docs/events.md).

Notify never stores a volunteer's or a resident's address: the ledger names the recipient by id
("wolontariusz:<provider id>", "uczestnik:<registration id>") and the sender asks for the address just before
sending. Staff recipients come from settings.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from services.notify import feedback
from services.notify.channels import NotOnThisChannel, QuietHours
from services.notify.internal_api import InternalApi
from services.notify.messages import ENGAGEMENT_KINDS, quiet_until
from services.notify.settings import Settings
from wspolnota.service import Clock, utc_now

VOLUNTEER = "wolontariusz:"
PARTICIPANT = "uczestnik:"  # a resident registered for a community activity (registration id)
ORGANISER = "organizator"
REQUESTER = "wnioskodawca:"  # who asked for help through a resident's request (request id), asked of needs
SOCIAL_WORKER = "pracownik_socjalny:"  # a concern's resident's social worker (concern id), asked of needs
NEED_WORKER = "pracownik_potrzeby:"  # the worker who asked for a need (need id): its resident's social worker
CALL_SERIES_WORKER = "pracownik_socjalny_rozmowy:"  # a call series' social worker (series id), asked of needs
RESIDENT = "mieszkaniec:"  # a resident's notices about their visits (the pseudonym), asked of needs
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


class VolunteerContacts(InternalApi):
    """GET {base}/internal/volunteers/<id>/contact with the shared bearer token."""

    PATH = "/internal/volunteers/{id}/contact"
    SERVICE, MISSING = "usługa wolontariuszy", "brak wolontariusza w usłudze wolontariuszy (404)"

    def fetch(self, volunteer_id: str) -> Contact:
        body = self.get_json(volunteer_id)
        return Contact(name=str(body.get("name") or ""), email=body.get("email") or None,
                       phone=body.get("phone") or None, preferred_channel=body.get("preferred_channel"),
                       quiet_hours=body.get("quiet_hours") or None,
                       engagement=body.get("engagement_messages") is not False)


class ParticipantContacts(VolunteerContacts):
    """GET {base}/internal/registrations/<id>/contact (community): a registered resident's address, given only
    with their consent to reminders (an empty address: nothing is sent on that channel)."""

    PATH = "/internal/registrations/{id}/contact"
    SERVICE, MISSING = "usługa społeczności", "brak zapisu w usłudze społeczności (404: wypisany lub usunięty)"


class ConcernRecipients(InternalApi):
    """GET {base}/internal/concerns/<id>/recipient (needs): the e-mail address of the social worker assigned to
    the resident a concern is about; "" when none is assigned (or a general concern)."""

    PATH = "/internal/concerns/{id}/recipient"
    SERVICE = "usługa potrzeb"
    MISSING = "brak zgłoszenia w usłudze potrzeb (404)"

    def fetch(self, concern_id: str) -> str:
        return str(self.get_json(concern_id).get("email") or "")


class NeedCheckRecipients(ConcernRecipients):
    """GET {base}/internal/needs/<id>/check-recipient (needs): who is asked "is it still needed?" — the e-mail of the
    need's resident's social worker; "" when none is assigned (then the organiser)."""

    PATH = "/internal/needs/{id}/check-recipient"
    MISSING = "brak potrzeby w usłudze potrzeb (404)"


class CallSeriesRecipients(ConcernRecipients):
    """GET {base}/internal/call-series/<id>/recipient (needs): the social worker of a call series' resident."""

    PATH = "/internal/call-series/{id}/recipient"
    MISSING = "brak cyklu rozmów w usłudze potrzeb (404)"


@dataclass(frozen=True)
class ResidentContact:
    """How a resident is reached (needs' notice contact): the channel they consented to (sms | call | none)."""

    resident_ref: str
    channel: str
    consent: bool
    phone: str


class ResidentContacts(InternalApi):
    """GET {base}/internal/residents/<ref>/notice-contact (needs), with who asks (`for`) and why (`purpose`), which
    needs writes to its audit log: the channel, the consent and the phone (empty without the consent)."""

    PATH = "/internal/residents/{id}/notice-contact"
    SERVICE = "usługa potrzeb"
    MISSING = "brak mieszkańca w usłudze potrzeb (404: nieznany lub dane usunięte)"

    def fetch(self, resident_ref: str, purpose: str, asked_for: str = "") -> ResidentContact:
        body = self.get_json(resident_ref, {"purpose": purpose, "for": asked_for})
        return ResidentContact(resident_ref=resident_ref, channel=str(body.get("channel") or "none"),
                               consent=bool(body.get("consent")), phone=str(body.get("phone") or ""))


class AddressBook:
    """Where a ledger recipient is reached on a channel; None when it has no address there."""

    def __init__(self, settings: Settings, volunteers: VolunteerContacts,
                 participants: VolunteerContacts | None = None, clock: Clock = utc_now,
                 concerns: ConcernRecipients | None = None, call_series: ConcernRecipients | None = None,
                 residents: ResidentContacts | None = None,
                 feedback_contacts: feedback.FeedbackContacts | None = None):
        self.settings, self.volunteers, self.clock = settings, volunteers, clock
        self.feedback_contacts = feedback_contacts
        self.participants = participants or ParticipantContacts(
            settings.community_internal_url, settings.internal_service_token, settings.http_timeout_s)
        self.concerns = concerns or ConcernRecipients(
            settings.needs_internal_url, settings.internal_service_token, settings.http_timeout_s)
        self.call_series = call_series or CallSeriesRecipients(
            settings.needs_internal_url, settings.internal_service_token, settings.http_timeout_s)
        self.residents = residents or ResidentContacts(
            settings.needs_internal_url, settings.internal_service_token, settings.http_timeout_s)

    def address(self, recipient: str, channel: str, urgent: bool = False, kind: str | None = None) -> str | None:
        s = self.settings
        if recipient.startswith(RESIDENT):
            return self.resident_phone(recipient.removeprefix(RESIDENT), channel)
        if recipient.startswith(PARTICIPANT):
            # One message per resident: SMS when they gave a phone (rural residents read SMS first), else e-mail.
            contact = self.participants.fetch(recipient.removeprefix(PARTICIPANT))
            if channel == "email" and contact.phone:
                raise NotOnThisChannel("uczestnik dostaje SMS")
            return {"email": contact.email, "sms": contact.phone}.get(channel)
        if recipient.startswith(REQUESTER):
            # a resident's request for help: the channel the requester chose, asked of needs at send time
            from services.notify.request_notices import RequesterContacts, requester_address

            self.requesters = getattr(self, "requesters", None) or RequesterContacts(
                s.needs_internal_url, s.internal_service_token, s.http_timeout_s)
            return requester_address(self.requesters, recipient.removeprefix(REQUESTER), channel)
        if recipient.startswith(CALL_SERIES_WORKER):  # an escalated call series: as a concern, by the series id
            if channel != "email":
                return None
            return self.call_series.fetch(recipient.removeprefix(CALL_SERIES_WORKER)) or s.organiser_email or None
        if recipient.startswith(SOCIAL_WORKER):
            # at send time, so a social worker assigned (or changed) after the report still gets it; none: the
            # organiser. E-mail only: the message is a link to a staff page.
            if channel != "email":
                return None
            return self.concerns.fetch(recipient.removeprefix(SOCIAL_WORKER)) or s.organiser_email or None
        if recipient.startswith(NEED_WORKER):  # "is it still needed?": at send time, as a concern's; e-mail only
            if channel != "email":
                return None
            need_workers = NeedCheckRecipients(s.needs_internal_url, s.internal_service_token, s.http_timeout_s,
                                               session=getattr(self.concerns, "http", None))
            return need_workers.fetch(recipient.removeprefix(NEED_WORKER)) or s.organiser_email or None
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

    def resident_phone(self, resident_ref: str, channel: str) -> str | None:
        """A resident's SMS: never in the residents' quiet hours (urgent or not; checked before the contact is read,
        so a held message reads nothing), only with their consent to SMS, to the phone on their record now."""
        if channel != "sms":
            return None
        until = personal_quiet_until(self.settings.resident_quiet_hours, self.clock())
        if until is not None:
            raise QuietHours(until)
        contact = self.residents.fetch(resident_ref, "SMS do mieszkańca o wizycie")
        if not contact.consent or contact.channel == "none":
            raise NotOnThisChannel("mieszkaniec nie zgodził się na powiadomienia")
        if contact.channel != "sms":
            raise NotOnThisChannel("mieszkaniec woli telefon od pracownika (lista „Do zadzwonienia”)")
        return contact.phone or None


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
