"""The volunteers service on SQLite and PostgreSQL, and its events through the real broker."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.volunteers import handlers, jobs
from services.volunteers.app import create_app
from services.volunteers.db import make_db
from tests.e2e.read_topic import read_records
from wspolnota import config, localtime
from wspolnota.transport import decode
from wspolnota.transport.kafka import KafkaProducerAdapter, ensure_topics
from wspolnota.transport.outbox import Relay

pytestmark = pytest.mark.integration
TODAY = localtime.today()
TOKEN = "integration-token"
PERSON = {"name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48 601 202 303",
          "villages": ["belno"], "notes": "Klucz u sąsiadki"}
EVERY_EVENT = ["VolunteerRegistered", "CredentialRecorded", "CredentialRecorded", "OfferPublished",
               "VolunteerUpdated", "VolunteerPaused", "VolunteerResumed", "CredentialExpired", "OfferWithdrawn",
               "VolunteerErased"]


def live_through_a_providers_life(client, db) -> str:  # type: ignore[no-untyped-def]
    """Every use case once, through the API: each leaves exactly one event (erasure: two)."""
    volunteer_id = client.post("/api/volunteers", json=PERSON).json["id"]
    ok = client.post(f"/api/volunteers/{volunteer_id}/credentials", json={
        "kind": "kamilka_check", "register_checked_on": TODAY.isoformat(),
        "register_result": "not_listed", "krk_seen_on": TODAY.isoformat(), "countries_last_20_years": ["PL"]})
    assert ok.status_code == 201, ok.json
    client.post(f"/api/volunteers/{volunteer_id}/credentials", json={
        "kind": "first_aid", "valid_from": "2024-01-10", "valid_until": (TODAY - timedelta(days=1)).isoformat()})
    start = datetime.now(UTC)
    offer = client.post(f"/api/volunteers/{volunteer_id}/offers", json={
        "categories": ["KOR"], "available_from": start.isoformat(),
        "available_to": (start + timedelta(days=30)).isoformat()})
    assert offer.status_code == 201, offer.json
    assert client.patch(f"/api/volunteers/{volunteer_id}", json={"radius_km": 4}).status_code == 200
    assert client.post(f"/api/volunteers/{volunteer_id}/pause").status_code == 200
    assert client.post(f"/api/volunteers/{volunteer_id}/resume").status_code == 200
    assert jobs.expire_credentials(db, TODAY).expired == 1
    contact = client.get(f"/internal/volunteers/{volunteer_id}/contact", headers={"Authorization": f"Bearer {TOKEN}"})
    assert contact.json["email"] == "zofia@example.pl"
    assert client.post(f"/api/volunteers/{volunteer_id}/erase").status_code == 200
    return str(volunteer_id)


def test_the_whole_provider_life_and_its_refusals_work_on_each_database(database_url: str) -> None:
    db = make_db(database_url)
    db.migrate()
    client = create_app({"DATABASE_URL": database_url, "TESTING": True, "AUTH_DISABLED": True, "INTERNAL_SERVICE_TOKEN": TOKEN}).test_client()
    try:
        bad = client.post("/api/volunteers", json={**PERSON, "villages": ["atlantyda"], "phone": "123"})
        assert bad.status_code == 422 and set(bad.json["errors"]["json"]) == {"villages", "phone"}
        headers = {"Idempotency-Key": "same-form-twice"}
        assert client.post("/api/volunteers", json={**PERSON, "email": "x@example.pl"}, headers=headers).status_code == 201
        assert client.post("/api/volunteers", json={**PERSON, "email": "y@example.pl"}, headers=headers).status_code == 409
        volunteer_id = live_through_a_providers_life(client, db)
        with db.engine.connect() as conn:
            types = conn.execute(sa.select(db.outbox.c.type).where(db.outbox.c.key == volunteer_id)
                                 .order_by(db.outbox.c.id)).scalars().all()
            volunteers_stored = conn.execute(sa.text("SELECT count(*) FROM volunteers")).scalar_one()
            audited = conn.execute(sa.text("SELECT count(*) FROM audit_log WHERE action = 'contact_read'")).scalar_one()
        assert types == EVERY_EVENT
        assert volunteers_stored == 2 and audited == 1
    finally:
        db.dispose()


def test_volunteer_events_cross_the_real_broker_valid_and_without_contact_data(
        kafka_bootstrap: str, topic_prefix: str, new_database: Callable[[], str]) -> None:
    """Read back without a consumer group, in another process (DESIGN §2: no group joins in the pytest process);
    each record is decoded and validated against the published schemas, as every consumer does."""
    db = make_db(new_database())
    db.migrate()
    client = create_app({"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True, "INTERNAL_SERVICE_TOKEN": TOKEN}).test_client()
    topic = config.topic("volunteers")
    ensure_topics([topic, f"{topic}.dlq"], kafka_bootstrap)
    producer = KafkaProducerAdapter(kafka_bootstrap)
    try:
        volunteer_id = live_through_a_providers_life(client, db)
        assert Relay(db, producer).run_once() == len(EVERY_EVENT)
        records = read_records(kafka_bootstrap, topic, len(EVERY_EVENT))
        received = [decode(r["value"].encode(), handlers.PUBLISHES) for r in records]  # raises if invalid
        assert [e.type for e in received] == EVERY_EVENT  # one key, one partition: in order
        assert {e.key for e in received} == {volunteer_id} and {r["partition"] for r in records} == {records[0]["partition"]}
        wire = " ".join(r["value"] for r in records)
        for secret in ("Zofia", "zofia@example.pl", "601 202 303", "+48601202303", "Klucz", "Anna Nowak"):
            assert secret not in wire
    finally:
        producer.close()
        db.dispose()
