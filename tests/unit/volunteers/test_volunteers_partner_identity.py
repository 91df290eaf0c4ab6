"""Partner organisations: the KRS number (10 digits, organisations only) on the API, the form and the page, and
the organisation's public identity on the bus — never a person's name."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.volunteers.conftest import TODAY, count, csrf_token, hidden, record, register

ORG = {"name": "Koło Gospodyń Wiejskich w Samsonowie", "provider_type": "partner_organisation",
       "organisation_kind": "kgw", "contact_person": "Maria Kowalska", "email": "kgw@example.pl",
       "phone": "+48 601 202 303", "villages": ["samsonow"]}
KRS_TEN_DIGITS = "Numer KRS ma 10 cyfr."


def organisation(client, **over):  # type: ignore[no-untyped-def]
    return register(client, **{**ORG, **over})


def test_a_partner_organisation_with_its_krs_publishes_its_public_identity_and_no_contacts(client, outbox) -> None:
    org_id = organisation(client, krs="0000123456")
    assert client.get(f"/api/volunteers/{org_id}").json["krs"] == "0000123456"
    [(kind, key, data)] = outbox.all()
    assert (kind, key) == ("VolunteerRegistered", org_id)
    assert data["organisation"] == {"name": ORG["name"], "kind": "kgw", "krs": "0000123456"}
    raw = outbox.raw()
    assert not any(text in raw for text in ("Maria", "Kowalska", "kgw@example.pl", "601202303"))


def test_the_krs_is_optional_and_every_later_snapshot_carries_the_identity(client, outbox) -> None:
    org_id = organisation(client)
    assert outbox.all()[-1][2]["organisation"] == {"name": ORG["name"], "kind": "kgw", "krs": None}
    response = client.patch(f"/api/volunteers/{org_id}", json={"krs": "0000654321", "name": "KGW Samsonowianki"})
    assert response.status_code == 200, response.json
    kind, _, data = outbox.all()[-1]
    assert kind == "VolunteerUpdated"
    assert data["organisation"] == {"name": "KGW Samsonowianki", "kind": "kgw", "krs": "0000654321"}


@pytest.mark.parametrize("krs", ["12345", "00001234567", "000012345a", "0000 12345", "", "+000123456"])
def test_a_krs_that_is_not_ten_digits_is_refused_and_nothing_is_stored(client, db, krs) -> None:
    response = client.post("/api/volunteers", json={**ORG, "krs": krs})
    assert response.status_code == 422
    assert response.json["errors"]["json"]["krs"] == [KRS_TEN_DIGITS]
    assert count(db, "volunteers") == 0 and count(db, "outbox") == 0


def test_a_krs_on_a_person_is_refused_on_registration_and_on_update(client, db) -> None:
    response = client.post("/api/volunteers", json={**ORG, "provider_type": "volunteer", "krs": "0000123456"})
    assert response.status_code == 422
    assert response.json["errors"]["json"]["krs"] == ["Numer KRS podaje się tylko dla organizacji partnerskiej."]
    volunteer_id = register(client)
    response = client.patch(f"/api/volunteers/{volunteer_id}", json={"krs": "0000123456"})
    assert response.status_code == 422, response.json
    assert "tylko dla organizacji partnerskiej" in str(response.json)
    assert count(db, "outbox") == 1  # the registration only: nothing half-written


def test_a_bad_krs_on_update_leaves_the_organisation_as_it_was(client, db, outbox) -> None:
    org_id = organisation(client, krs="0000123456")
    response = client.patch(f"/api/volunteers/{org_id}", json={"krs": "123"})
    assert response.status_code == 422 and response.json["errors"]["json"]["krs"] == [KRS_TEN_DIGITS]
    assert client.get(f"/api/volunteers/{org_id}").json["krs"] == "0000123456" and len(outbox.all()) == 1


def test_an_organisation_turned_into_a_person_loses_its_krs_and_its_identity_on_the_bus(client, outbox) -> None:
    org_id = organisation(client, krs="0000123456")
    response = client.patch(f"/api/volunteers/{org_id}", json={"provider_type": "volunteer", "name": "Jan Nowak"})
    assert response.status_code == 200, response.json
    assert response.json["krs"] is None
    assert outbox.all()[-1][2].get("organisation") is None and "Jan Nowak" not in outbox.raw()


def provider_form(client, **over):  # type: ignore[no-untyped-def]
    page = client.get("/wykonawcy/nowy").get_data(as_text=True)
    return {"csrf_token": csrf_token(page), "submission": hidden(page, "submission"),
            "provider_type": "partner_organisation", "name": ORG["name"], "organisation_kind": "kgw",
            "contact_person": "Maria Kowalska", "email": "kgw@example.pl", "phone": "601 202 303",
            "villages": ["samsonow"], "languages": ["pl"], "consent": "y", "verified": "y", **over}


def test_staff_enter_the_krs_on_the_form_and_the_provider_page_shows_it(client, outbox) -> None:
    response = client.post("/wykonawcy/nowy", data=provider_form(client, krs=" 0000123456 "))
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Numer KRS" in page and "0000123456" in page
    assert outbox.all()[-1][2]["organisation"]["krs"] == "0000123456"


@pytest.mark.parametrize(("over", "message"), [
    ({"krs": "12-345"}, KRS_TEN_DIGITS),
    ({"krs": "00001234567"}, KRS_TEN_DIGITS),
    ({"krs": "0000123456", "provider_type": "volunteer", "organisation_kind": "", "contact_person": ""},
     "Numer KRS podaje się tylko dla organizacji partnerskiej."),
])
def test_a_bad_krs_on_the_form_is_shown_beside_the_field(client, db, over, message) -> None:
    response = client.post("/wykonawcy/nowy", data=provider_form(client, **over))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'for="krs"' in html
    assert count(db, "volunteers") == 0 and count(db, "outbox") == 0


@pytest.mark.parametrize("provider_type", ["volunteer", "paid_neighbour", "staff"])
def test_a_persons_name_never_appears_in_any_volunteers_event(client, outbox, provider_type) -> None:
    """Register, update, credentials, offer, pause, resume and erasure: every event a person's record produces."""
    volunteer_id = register(client, name="Bożydar Zawistowski", provider_type=provider_type)
    assert client.patch(f"/api/volunteers/{volunteer_id}", json={"name": "Bożydar Zawistowski-Nowak",
                                                                  "skills": ["gotowanie"]}).status_code == 200
    record(client, volunteer_id, kind="first_aid", valid_from=TODAY.isoformat(),
           valid_until=(TODAY + timedelta(days=300)).isoformat())
    start = datetime.now(UTC)
    assert client.post(f"/api/volunteers/{volunteer_id}/offers", json={
        "categories": ["ZAK"], "available_from": start.isoformat(),
        "available_to": (start + timedelta(days=30)).isoformat()}).status_code == 201
    for action in ("pause", "resume", "erase"):
        assert client.post(f"/api/volunteers/{volunteer_id}/{action}").status_code in (200, 204), action
    events = outbox.all()
    assert len(events) >= 6
    assert all(data.get("organisation") is None for _, _, data in events)
    raw = outbox.raw()
    assert "Bożydar" not in raw and "Zawistowski" not in raw and "Bo\\u017cydar" not in raw


def test_announcing_the_organisations_sends_a_fresh_snapshot_of_each_and_of_nobody_else(client, db, outbox) -> None:
    from services.volunteers import handlers
    from services.volunteers.bootstrap import bootstrap

    org_id = organisation(client, krs="0000123456")
    gone = organisation(client, name="Stowarzyszenie Rozwiązane", email="old@example.pl")
    register(client, name="Bożydar Zawistowski")
    assert client.post(f"/api/volunteers/{gone}/erase").status_code == 200
    before = len(outbox.all())
    parts = bootstrap(db.url)
    try:
        with parts.db.transaction() as session:
            assert parts.outbox is not None
            assert handlers.announce_organisations(session, parts.outbox, TODAY) == 1
    finally:
        parts.dispose()
    [(kind, key, data)] = outbox.all()[before:]
    assert (kind, key) == ("VolunteerUpdated", org_id) and data["organisation"]["krs"] == "0000123456"
