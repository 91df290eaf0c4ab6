"""The JSON API and its events: providers, credentials, availability, offers, pause, erasure, contact."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from services.volunteers.db import audit_log
from services.volunteers.signed_in import STAFF_ACTOR
from tests.unit.volunteers.conftest import (
    TODAY,
    TOKEN,
    clean_kamilka_check,
    count,
    make_app,
    person,
    record,
    register,
)

# Whole numbers only: a bare "601" also turns up inside random UUIDs.
CONTACT_DATA = ("Zofia", "Wiśniewska", "zofia@example.pl", "601202303", "601 202 303", "202 303")


def test_registering_a_provider_publishes_its_profile_without_contact_data(client, outbox) -> None:
    volunteer_id = register(client, home_village="belno", radius_km=5, languages=["pl", "uk"], skills=["gotowanie"],
                            capacity_hours_per_week=6, max_open_tasks=2,
                            weekly_slots=[{"weekday": 0, "start": "16:00", "end": "19:00"}],
                            notes="Prosi o telefon po 16:00")
    [(kind, key, data)] = outbox.all()
    assert (kind, key) == ("VolunteerRegistered", volunteer_id)
    assert data["villages"] == ["belno"] and data["languages"] == ["pl", "uk"] and data["verified"] is True
    assert data["weekly_slots"] == [{"weekday": 0, "start": "16:00", "end": "19:00"}]
    assert not any(text in outbox.raw() for text in CONTACT_DATA + ("Prosi o telefon",))


def test_the_profile_api_never_returns_contact_data(client) -> None:
    volunteer_id = register(client)
    body = client.get(f"/api/volunteers/{volunteer_id}").get_data(as_text=True)
    assert "zofia@example.pl" not in body and "601202303" not in body and "601 202 303" not in body
    assert volunteer_id in body


def test_a_partner_organisation_has_a_contact_person_and_standing_offers(client, outbox) -> None:
    org = register(client, name="KGW Samsonowianki", provider_type="partner_organisation", organisation_kind="kgw",
                   contact_person="Maria Kowalska", email="kgw@example.pl")
    start = datetime.now(UTC)
    offer = client.post(f"/api/volunteers/{org}/offers", json={
        "categories": ["POS"], "available_from": start.isoformat(),
        "available_to": (start + timedelta(days=365)).isoformat(), "standing": True,
        "weekly_slots": [{"weekday": 4, "start": "11:00", "end": "13:00"}]})
    assert offer.status_code == 201, offer.json
    published = outbox.all()[-1]
    assert published[0] == "OfferPublished" and published[2]["standing"] is True
    assert published[2]["weekly_slots"] == [{"weekday": 4, "start": "11:00", "end": "13:00"}]
    contact = client.get(f"/internal/volunteers/{org}/contact", headers={"Authorization": f"Bearer {TOKEN}"})
    assert contact.json["name"] == "Maria Kowalska" and contact.json["email"] == "kgw@example.pl"


def test_an_update_publishes_volunteer_updated(client, outbox) -> None:
    volunteer_id = register(client)
    response = client.patch(f"/api/volunteers/{volunteer_id}", json={"villages": ["umer", "belno"], "radius_km": 3})
    assert response.status_code == 200, response.json
    kind, _, data = outbox.all()[-1]
    assert kind == "VolunteerUpdated" and data["villages"] == ["umer", "belno"] and data["radius_km"] == 3


def test_credentials_are_recorded_and_announced_and_open_categories(client, outbox) -> None:
    volunteer_id = register(client)
    record(client, volunteer_id, kind="agreement", valid_from=TODAY.isoformat(), written=True)
    record(client, volunteer_id, kind="driving_licence", valid_from="2010-05-01")
    record(client, volunteer_id, kind="own_car", valid_from=TODAY.isoformat(),
           valid_until=(TODAY + timedelta(days=200)).isoformat())
    check = record(client, volunteer_id, **clean_kamilka_check(TODAY))
    assert check["valid_until"] == (TODAY + timedelta(days=365)).isoformat()
    recorded = [d for t, _, d in outbox.all() if t == "CredentialRecorded"]
    assert [d["kind"] for d in recorded] == ["agreement", "driving_licence", "own_car", "kamilka_check"]
    assert STAFF_ACTOR not in outbox.raw()  # who checked stays here
    eligible = client.get(f"/api/volunteers/{volunteer_id}").json["eligible_categories"]
    assert {"TRN", "KOR", "OPI+minor"} <= set(eligible)


def test_the_kamilka_validity_is_configurable(db) -> None:
    client = make_app(db, AUTH_DISABLED=True, KAMILKA_CHECK_VALIDITY_DAYS=90).test_client()
    volunteer_id = register(client)
    check = record(client, volunteer_id, **clean_kamilka_check(TODAY))
    assert check["valid_until"] == (TODAY + timedelta(days=90)).isoformat()


def test_a_kamilka_check_finding_the_person_listed_is_kept_but_not_announced(client, outbox) -> None:
    volunteer_id = register(client)
    record(client, volunteer_id, **clean_kamilka_check(TODAY, register_result="listed"))
    assert "CredentialRecorded" not in outbox.types()
    assert "KOR" not in client.get(f"/api/volunteers/{volunteer_id}").json["eligible_categories"]


def test_pause_and_resume_are_events_and_a_paused_provider_is_eligible_for_nothing(client, outbox) -> None:
    volunteer_id = register(client, provider_type="staff")
    assert client.post(f"/api/volunteers/{volunteer_id}/pause").status_code == 200
    assert client.get(f"/api/volunteers/{volunteer_id}").json["eligible_categories"] == []
    assert client.post(f"/api/volunteers/{volunteer_id}/pause").status_code == 409
    assert client.post(f"/api/volunteers/{volunteer_id}/resume").status_code == 200
    assert outbox.types()[-2:] == ["VolunteerPaused", "VolunteerResumed"]
    assert "ZAK" in client.get(f"/api/volunteers/{volunteer_id}").json["eligible_categories"]


def test_an_unverified_provider_cannot_publish_an_offer_until_staff_verify(client, outbox) -> None:
    volunteer_id = register(client, verified=False)
    start = datetime.now(UTC)
    offer = {"categories": ["ZAK"], "available_from": start.isoformat(),
             "available_to": (start + timedelta(days=7)).isoformat()}
    refused = client.post(f"/api/volunteers/{volunteer_id}/offers", json=offer)
    assert refused.status_code == 409 and "zweryfikowany" in refused.json["message"]
    verified = client.post(f"/api/volunteers/{volunteer_id}/verify")
    assert verified.status_code == 200 and verified.json["verified"] is True
    assert client.post(f"/api/volunteers/{volunteer_id}/offers", json=offer).status_code == 201
    assert outbox.types() == ["VolunteerRegistered", "VolunteerUpdated", "OfferPublished"]


def test_an_offer_is_withdrawn_once(client, outbox) -> None:
    volunteer_id = register(client)
    start = datetime.now(UTC)
    offer = client.post(f"/api/volunteers/{volunteer_id}/offers", json={
        "categories": ["ZAK"], "available_from": start.isoformat(),
        "available_to": (start + timedelta(days=7)).isoformat()}).json
    assert client.post(f"/api/offers/{offer['id']}/withdraw").json["status"] == "withdrawn"
    assert client.post(f"/api/offers/{offer['id']}/withdraw").status_code == 409
    assert outbox.all()[-1] == ("OfferWithdrawn", volunteer_id, {"offer_id": offer["id"], "volunteer_id": volunteer_id})


def test_an_absence_is_stored_and_its_days_but_not_its_reason_are_published(client, db, outbox) -> None:
    volunteer_id = register(client)
    starts, ends = TODAY + timedelta(days=20), TODAY + timedelta(days=23)
    response = client.post(f"/api/volunteers/{volunteer_id}/exceptions", json={
        "starts_on": starts.isoformat(), "ends_on": ends.isoformat(), "reason": "sick"})
    assert response.status_code == 201 and count(db, "availability_exceptions") == 1
    kind, _, data = outbox.all()[-1]
    assert kind == "VolunteerUpdated"
    assert data["unavailable"] == [{"starts_on": starts.isoformat(), "ends_on": ends.isoformat()}]
    assert "sick" not in outbox.raw()


def test_erasure_overwrites_personal_data_withdraws_offers_and_tells_every_service(client, db, outbox) -> None:
    volunteer_id = register(client, notes="Alergia na psy")
    start = datetime.now(UTC)
    client.post(f"/api/volunteers/{volunteer_id}/offers", json={
        "categories": ["ZAK"], "available_from": start.isoformat(),
        "available_to": (start + timedelta(days=7)).isoformat()})
    assert client.post(f"/api/volunteers/{volunteer_id}/erase").status_code == 200
    assert outbox.types()[-2:] == ["OfferWithdrawn", "VolunteerErased"]
    with db.engine.connect() as conn:
        stored = " ".join(str(v) for v in conn.execute(sa.text("SELECT * FROM volunteers")).one())
    assert "Zofia" not in stored and "zofia@example.pl" not in stored and "Alergia" not in stored
    assert client.get(f"/internal/volunteers/{volunteer_id}/contact",
                      headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
    # The address is free again for a new registration.
    register(client)


def test_the_contact_api_needs_the_service_token_and_audits_every_read(client, db) -> None:
    volunteer_id = register(client, preferred_channel="sms")
    url = f"/internal/volunteers/{volunteer_id}/contact"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get(url, headers={"Authorization": f"Bearer {TOKEN}", "X-Service-Name": "notify"})
    assert ok.status_code == 200
    assert ok.json == {"name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48601202303",
                       "preferred_channel": "sms", "quiet_hours": None, "engagement_messages": True}
    client.get(url, headers={"Authorization": f"Bearer {TOKEN}"})
    with db.engine.connect() as conn:
        reads = conn.execute(sa.select(audit_log.c.actor, audit_log.c.action, audit_log.c.volunteer_id)
                             .where(audit_log.c.action == "contact_read")).all()
    assert [tuple(r) for r in reads] == [("service:notify", "contact_read", volunteer_id),
                                         ("service:service", "contact_read", volunteer_id)]


def test_the_openapi_document_describes_every_api(client) -> None:
    paths = client.get("/api/openapi.json").json["paths"]
    assert {"/api/volunteers", "/api/volunteers/{volunteer_id}", "/api/volunteers/{volunteer_id}/credentials",
            "/api/volunteers/{volunteer_id}/offers", "/api/volunteers/{volunteer_id}/pause",
            "/api/volunteers/{volunteer_id}/erase", "/api/offers/{offer_id}/withdraw", "/api/credentials/expiring",
            "/internal/volunteers/{volunteer_id}/contact"} <= set(paths)


def test_an_idempotency_key_makes_a_repeated_registration_harmless(client, db, outbox) -> None:
    headers = {"Idempotency-Key": "abc-123"}
    assert client.post("/api/volunteers", json=person(), headers=headers).status_code == 201
    again = client.post("/api/volunteers", json=person(email="inna@example.pl"), headers=headers)
    assert again.status_code == 409 and again.headers["Location"].startswith("/api/volunteers/")
    assert count(db, "volunteers") == 1 and outbox.types() == ["VolunteerRegistered"]
