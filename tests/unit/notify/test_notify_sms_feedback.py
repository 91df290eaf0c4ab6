"""Escalated concerns reach the director once; a completed visit asks its resident (with SMS consent) for a reply
code; the reply is matched by the phone's hash to the latest open request and published once as FeedbackGiven.
Reply codes: "1", " 1 ", "1." count; "7", "tak", "" and an unknown phone are recorded and do nothing else."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from notify_support import MATCH, NEED, VOLUNTEER, FakeAddressBook, FakeChannel, event, ledger, outbox_events

from services.notify import feedback
from services.notify.channels import NotOnThisChannel
from services.notify.contacts import AddressBook
from services.notify.db import feedback_requests, notifications, sms_replies
from services.notify.sender import Sender

CONCERN = "77777777-7777-4777-8777-777777777777"
NOON = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)  # 12:00 in Warsaw: not quiet hours
PHONE = "+48 600 100 200"
GATEWAY = {"Authorization": "Bearer gw-token"}


@pytest.mark.parametrize("text, code", [("1", 1), (" 1 ", 1), ("1.", 1), ("2)", 2), ("3\n", 3), ("3!", 3),
                                        ("7", None), ("0", None), ("tak", None), ("", None), ("12", None),
                                        ("1 2", None), (None, None), ("１", None)])
def test_a_reply_code_is_one_digit_1_to_3_with_at_most_a_dot_around_spaces(text: Any, code: int | None) -> None:
    assert feedback.reply_code(text) == code


def test_one_phone_written_in_different_ways_has_one_hash_and_the_hash_hides_it() -> None:
    hashes = {feedback.phone_hash(p, "k") for p in ("+48 600 100 200", "600100200", "0048600100200", "600-100-200")}
    assert len(hashes) == 1 and "600100200" not in hashes.pop()
    assert feedback.phone_hash(PHONE, "k") != feedback.phone_hash(PHONE, "other key")


def test_an_escalated_concern_is_one_urgent_email_to_the_director_with_a_link(deliver, db) -> None:
    escalated = event("ConcernEscalated", {"concern_id": CONCERN, "kind": "safeguarding", "urgent": True},
                      key="M-ABC123")
    deliver(escalated)
    deliver(escalated)  # redelivered
    deliver(event("ConcernEscalated", {"concern_id": CONCERN}, key="M-ABC123"))  # published again: same concern
    [row] = ledger(db, kind="concern_escalated")
    assert (row["recipient"], row["channel"], row["urgent"]) == ("dyrektor", "email", True)
    assert "http://test/needs/zgloszenia/" + CONCERN in row["body"] and "PILNE" in row["subject"]
    assert "ochrona przed krzywdzeniem" in row["body"]


def test_the_director_is_reached_at_the_configured_address(settings) -> None:
    book = AddressBook(replace(settings, director_email="dyrektor@cus.example.pl"), None)  # type: ignore[arg-type]
    assert book.address("dyrektor", "email", urgent=True) == "dyrektor@cus.example.pl"
    assert book.address("dyrektor", "sms", urgent=True) is None


def completed(**over: Any) -> Any:
    return event("MatchCompleted", {"match_id": MATCH, "need_id": NEED, "volunteer_id": VOLUNTEER, "hours": 1.0,
                                    **over})


def test_a_completed_visit_asks_its_resident_once_by_sms_and_still_thanks_the_volunteer(deliver, db) -> None:
    deliver(completed())
    deliver(completed(hours=1.5))  # a correction
    [row] = ledger(db, kind="feedback_request")
    assert (row["recipient"], row["channel"]) == (f"mieszkaniec_wizyty:{MATCH}", "sms")
    # the request's words; SMS go out in the GSM alphabet (services/notify/ledger.py: sms_text)
    assert row["body"] == "CUS Zagnansk: Jak oceniasz wizyte? Odpisz 1 - dobrze, 2 - srednio, 3 - zle"
    assert len(ledger(db, kind="visit_thanks")) >= 1


class Contacts:
    def __init__(self, sms: bool, phone: str = PHONE):
        self.answer = feedback.FeedbackContact(sms, phone if sms else "")

    def fetch(self, match_id: str) -> feedback.FeedbackContact:
        return self.answer


def test_without_sms_consent_the_request_is_not_sent(settings) -> None:
    book = AddressBook(settings, None, feedback_contacts=Contacts(False))  # type: ignore[arg-type]
    with pytest.raises(NotOnThisChannel):
        book.address(f"mieszkaniec_wizyty:{MATCH}", "sms")
    agreed = AddressBook(settings, None, feedback_contacts=Contacts(True))  # type: ignore[arg-type]
    assert agreed.address(f"mieszkaniec_wizyty:{MATCH}", "sms") == PHONE


def send_request(db: Any, settings: Any) -> FakeChannel:
    sms = FakeChannel("sms")
    with db.engine.begin() as conn:
        conn.execute(sa.update(notifications).values(next_attempt_at=NOON))
    Sender(db, settings, {"sms": sms, "email": FakeChannel("email")},
           FakeAddressBook({(f"mieszkaniec_wizyty:{MATCH}", "sms"): PHONE}), clock=lambda: NOON,
           rng=lambda: 1.0).run_once()
    return sms


def test_the_sender_keeps_only_the_phones_hash_when_the_request_goes(deliver, db, settings) -> None:
    deliver(completed())
    sms = send_request(db, settings)
    assert [m.address for m in sms.sent if m.kind == "feedback_request"] == [PHONE]
    with db.engine.connect() as conn:
        [row] = conn.execute(sa.select(feedback_requests)).mappings().all()
        stored = " ".join(str(v) for r in conn.execute(sa.select(notifications)).mappings() for v in r.values())
    assert row["phone_hash"] == feedback.phone_hash(PHONE, settings.secret_key) and row["sent_at"] == NOON
    assert "600" not in str(dict(row)) and "600 100" not in stored


@pytest.fixture
def app(db, settings):  # type: ignore[no-untyped-def]
    from services.notify.app import create_app
    from services.notify.bootstrap import bootstrap

    parts = bootstrap(db.url, settings=settings, clock=lambda: NOON + timedelta(hours=1))
    return create_app({"TESTING": True, "AUTH_DISABLED": True, "NOTIFY_SMS_INBOUND_TOKEN": "gw-token"}, parts=parts)


def reply(app: Any, text: Any, phone: str = PHONE, headers: dict[str, str] | None = None) -> Any:
    return app.test_client().post("/api/sms/inbound", headers=GATEWAY if headers is None else headers,
                                  json={"from": phone, "text": text, "received_at": "2026-11-26T12:05:00+00:00"})


def test_a_reply_code_becomes_feedback_given_once_and_later_replies_do_nothing(deliver, db, settings, app) -> None:
    deliver(completed())
    send_request(db, settings)
    assert reply(app, "tak").json["status"] == "no_code"
    answer = reply(app, " 3. ")
    assert answer.status_code == 200 and answer.json == {"status": "matched", "match_id": MATCH}
    assert reply(app, "1").json["status"] == "answered_before"  # a second answer or a gateway's retry
    [given] = outbox_events(db, "FeedbackGiven")
    assert given["data"] == {"feedback_id": given["data"]["feedback_id"], "match_id": MATCH, "need_id": NEED,
                             "source": "resident_sms", "score": 3}
    with db.engine.connect() as conn:
        outcomes = [r.outcome for r in conn.execute(sa.select(sms_replies).order_by(sms_replies.c.received_at))]
        kept = " ".join(str(dict(r)) for r in conn.execute(sa.select(sms_replies)).mappings())
    assert sorted(outcomes) == ["answered_before", "matched", "no_code"] and "tak" not in kept


def test_a_reply_from_an_unknown_phone_is_ignored(deliver, db, settings, app) -> None:
    deliver(completed())
    send_request(db, settings)
    assert reply(app, "1", phone="+48 511 222 333").json == {"status": "no_request", "match_id": None}
    assert outbox_events(db, "FeedbackGiven") == []


@pytest.mark.parametrize("body, field", [({"text": "1"}, "from"), ({"from": "12", "text": "1"}, "from"),
                                         ({"from": PHONE, "text": 1}, "text"),
                                         ({"from": PHONE, "text": "1", "received_at": "wczoraj"}, "received_at"),
                                         ({"from": PHONE, "text": "1", "received_at": "2026-11-26T12:00"},
                                          "received_at")])
def test_bad_input_gets_json_field_errors_and_nothing_is_written(app, db, body: dict[str, Any], field: str) -> None:
    answer = app.test_client().post("/api/sms/inbound", headers=GATEWAY, json=body)
    assert answer.status_code == 422 and field in answer.json["errors"]["json"]
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sms_replies)).scalar() == 0


def test_the_webhook_wants_the_gateways_token(app) -> None:
    assert reply(app, "1", headers={}).status_code == 401
    assert reply(app, "1", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert app.test_client().post("/api/sms/inbound", headers=GATEWAY, data="nie json").status_code == 422


def test_the_webhook_is_rate_limited_per_caller(app) -> None:
    app.config["NOTIFY_SMS_INBOUND_PER_MINUTE"] = 2
    statuses = [reply(app, "1").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_an_erased_residents_phone_hash_goes_and_their_reply_matches_nothing(deliver, db, settings, app) -> None:
    deliver(completed())
    send_request(db, settings)
    deliver(event("ResidentErased", {"resident_ref": "M-ABC123", "erased_at": NOON.isoformat(), "need_ids": [NEED]},
                  key="M-ABC123"))
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(feedback_requests.c.phone_hash)).scalar() is None
    assert reply(app, "1").json["status"] == "no_request"
