"""Child safety and trust in credentials: the latest Kamilka check decides, an adverse result revokes and pauses,
staff revoke any credential with an audited reason, a renewal survives the old expiry, partners never reach
minors, and every date is the Warsaw date."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from services.volunteers import handlers, jobs, model
from services.volunteers.db import audit_log
from tests.unit.volunteers.conftest import TODAY, clean_kamilka_check, csrf_token, record, register

MINORS = {"KOR", "OPI+minor"}


def eligible(client, volunteer_id: str, on: date | None = None) -> set[str]:  # type: ignore[no-untyped-def]
    query = f"?on={on.isoformat()}" if on else ""
    return set(client.get(f"/api/volunteers/{volunteer_id}{query}").json["eligible_categories"])


def a_member_of_staff_with_a_clean_check(client, days_ago: int = 30) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    volunteer_id = register(client, provider_type="staff")
    check = record(client, volunteer_id, **clean_kamilka_check(TODAY - timedelta(days=days_ago)))
    assert MINORS <= eligible(client, volunteer_id)
    return volunteer_id, check["id"]


def events(outbox, event_type: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return [d for t, _, d in outbox.all() if t == event_type]


# --- the latest check decides ---------------------------------------------------------------------


def test_a_later_listed_check_closes_minors_at_once_although_the_older_clean_check_is_still_in_date(client) -> None:
    volunteer_id, _ = a_member_of_staff_with_a_clean_check(client)
    record(client, volunteer_id, **clean_kamilka_check(TODAY, register_result="listed"))
    assert not eligible(client, volunteer_id, TODAY + timedelta(days=60)) & MINORS


def test_a_later_check_with_a_krk_entry_closes_minors_as_a_listed_one_does(client) -> None:
    volunteer_id, _ = a_member_of_staff_with_a_clean_check(client)
    record(client, volunteer_id, **clean_kamilka_check(TODAY, krk_entry=True))
    assert not eligible(client, volunteer_id, TODAY + timedelta(days=60)) & MINORS


def test_an_adverse_result_revokes_the_earlier_checks_announces_it_pauses_for_review_and_is_audited(
        client, db, outbox) -> None:
    volunteer_id, clean_id = a_member_of_staff_with_a_clean_check(client)
    record(client, volunteer_id, **clean_kamilka_check(TODAY, register_result="listed"))
    assert events(outbox, "CredentialRevoked") == [
        {"volunteer_id": volunteer_id, "credential_id": clean_id, "kind": "kamilka_check", "reason": "adverse_result"}]
    assert events(outbox, "VolunteerPaused") == [{"volunteer_id": volunteer_id, "reason": "safety_review"}]
    rows = {c["id"]: c for c in client.get(f"/api/volunteers/{volunteer_id}/credentials").json}
    assert rows[clean_id]["revoked_at"] is not None
    assert client.get(f"/api/volunteers/{volunteer_id}").json["paused"] is True
    with db.engine.connect() as conn:
        assert "kamilka_adverse" in conn.execute(sa.select(audit_log.c.action)).scalars().all()
    assert "Niekorzystny" not in outbox.raw()  # the reason text stays here


def test_an_adverse_result_for_a_person_already_on_a_pause_still_announces_the_safety_review(client, outbox) -> None:
    volunteer_id, _ = a_member_of_staff_with_a_clean_check(client)
    assert client.post(f"/api/volunteers/{volunteer_id}/pause").status_code == 200
    record(client, volunteer_id, **clean_kamilka_check(TODAY, register_result="listed"))
    assert events(outbox, "VolunteerPaused")[-1] == {"volunteer_id": volunteer_id, "reason": "safety_review"}


def test_a_newer_clean_check_takes_over_and_the_older_one_is_announced_as_superseded(client, outbox) -> None:
    volunteer_id, old_id = a_member_of_staff_with_a_clean_check(client, days_ago=300)
    new = record(client, volunteer_id, **clean_kamilka_check(TODAY))
    assert events(outbox, "CredentialRevoked") == [
        {"volunteer_id": volunteer_id, "credential_id": old_id, "kind": "kamilka_check", "reason": "superseded"}]
    assert events(outbox, "CredentialRecorded")[-1]["credential_id"] == new["id"]
    # the new check is announced before the old one is withdrawn: folded in order, no moment without a check
    order = outbox.types()
    assert len(order) - 1 - order[::-1].index("CredentialRecorded") < order.index("CredentialRevoked")
    assert MINORS <= eligible(client, volunteer_id, TODAY + timedelta(days=200))  # the new one's year


def test_an_older_check_recorded_late_neither_decides_nor_is_announced(client, outbox) -> None:
    volunteer_id, _ = a_member_of_staff_with_a_clean_check(client, days_ago=10)
    before = len(events(outbox, "CredentialRecorded"))
    record(client, volunteer_id, **clean_kamilka_check(TODAY - timedelta(days=100)))
    assert len(events(outbox, "CredentialRecorded")) == before
    assert "CredentialRevoked" not in outbox.types()


def test_the_profile_snapshot_lists_only_the_deciding_clean_check_and_names_each_credential(client, outbox) -> None:
    volunteer_id, old_id = a_member_of_staff_with_a_clean_check(client, days_ago=300)
    new = record(client, volunteer_id, **clean_kamilka_check(TODAY))
    agreement = record(client, volunteer_id, kind="agreement", valid_from=TODAY.isoformat(), written=True)
    client.patch(f"/api/volunteers/{volunteer_id}", json={"radius_km": 5})
    snapshot = events(outbox, "VolunteerUpdated")[-1]["credentials"]
    assert {c["credential_id"] for c in snapshot} == {new["id"], agreement["id"]}
    assert [c for c in snapshot if c["kind"] == "agreement"][0]["written"] is True
    assert all("written" not in c for c in snapshot if c["kind"] != "agreement")
    recorded = events(outbox, "CredentialRecorded")[-1]
    assert recorded["credential_id"] == agreement["id"] and recorded["written"] is True


# --- staff revoke a credential ---------------------------------------------------------------------


def test_staff_revoke_a_credential_with_a_reason_that_is_audited_and_stays_in_the_service(client, db, outbox) -> None:
    volunteer_id, check_id = a_member_of_staff_with_a_clean_check(client)
    response = client.post(f"/api/volunteers/{volunteer_id}/credentials/{check_id}/revoke",
                           json={"reason": "Dokument okazał się sfałszowany"})
    assert response.status_code == 200, response.json
    assert response.json["revoked_by"] == "personel CUS" and response.json["revoked_at"]
    assert response.json["revoke_reason"] == "Dokument okazał się sfałszowany"
    assert not eligible(client, volunteer_id) & MINORS
    assert events(outbox, "CredentialRevoked") == [
        {"volunteer_id": volunteer_id, "credential_id": check_id, "kind": "kamilka_check", "reason": "revoked_by_staff"}]
    assert outbox.types()[-1] == "VolunteerUpdated" and events(outbox, "VolunteerUpdated")[-1]["credentials"] == []
    assert "sfałszowany" not in outbox.raw()
    with db.engine.connect() as conn:
        actions = conn.execute(sa.select(audit_log.c.action, audit_log.c.actor)).all()
    assert ("credential_revoke", "personel CUS") in actions


def test_revoking_a_renewed_credential_leaves_the_renewal_counting(client, outbox) -> None:
    volunteer_id = register(client, provider_type="staff")
    old = record(client, volunteer_id, kind="driving_licence", valid_from="2010-01-01")
    new = record(client, volunteer_id, kind="driving_licence", valid_from="2020-01-01")
    record(client, volunteer_id, kind="own_car", valid_from=TODAY.isoformat(),
           valid_until=(TODAY + timedelta(days=100)).isoformat())
    client.post(f"/api/volunteers/{volunteer_id}/credentials/{old['id']}/revoke", json={"reason": "stary dokument"})
    assert "TRN" in eligible(client, volunteer_id)
    assert [c["credential_id"] for c in events(outbox, "VolunteerUpdated")[-1]["credentials"]
            if c["kind"] == "driving_licence"] == [new["id"]]


def test_revoking_answers_field_errors_404_and_409_as_fitting(client) -> None:
    volunteer_id, check_id = a_member_of_staff_with_a_clean_check(client)
    other = register(client, email="jan@example.pl")
    url = f"/api/volunteers/{volunteer_id}/credentials/{check_id}/revoke"
    missing = client.post(url, json={})
    assert missing.status_code == 422 and missing.json["errors"]["json"]["reason"] == ["To pole jest wymagane."]
    assert client.post(url, json={"reason": "x" * 501}).status_code == 422
    assert client.post(f"/api/volunteers/{other}/credentials/{check_id}/revoke",
                       json={"reason": "pomyłka"}).status_code == 404
    assert client.post(f"/api/volunteers/{volunteer_id}/credentials/nie-ma/revoke",
                       json={"reason": "pomyłka"}).status_code == 404
    assert client.post(url, json={"reason": "pomyłka"}).status_code == 200
    again = client.post(url, json={"reason": "pomyłka"})
    assert again.status_code == 409 and again.json["message"] == "To uprawnienie zostało już cofnięte."


def test_staff_revoke_a_credential_on_the_profile_page_and_must_give_a_reason(client, outbox) -> None:
    volunteer_id, check_id = a_member_of_staff_with_a_clean_check(client)
    page = client.get(f"/wykonawcy/{volunteer_id}").get_data(as_text=True)
    url = f"/wykonawcy/{volunteer_id}/uprawnienia/{check_id}/cofniecie"
    assert url in page and "Cofnij uprawnienie" in page
    token = csrf_token(page)
    without_csrf = client.post(url, data={"reason": "pomyłka"})
    assert without_csrf.status_code == 400
    without_reason = client.post(url, data={"csrf_token": token, "reason": "  "})
    assert without_reason.status_code == 422 and "To pole jest wymagane." in without_reason.get_data(as_text=True)
    assert "CredentialRevoked" not in outbox.types()
    done = client.post(url, data={"csrf_token": token, "reason": "Osoba cofnęła zgodę"}, follow_redirects=True)
    assert "Cofnięto uprawnienie." in done.get_data(as_text=True)
    assert "Osoba cofnęła zgodę" in done.get_data(as_text=True)  # the reason is shown to staff on the card
    assert events(outbox, "CredentialRevoked")[-1]["reason"] == "revoked_by_staff"


# --- renewal and expiry ----------------------------------------------------------------------------


def test_a_renewal_survives_the_old_credentials_expiry_which_names_only_the_old_one(client, db, outbox) -> None:
    volunteer_id = register(client)  # a volunteer: may act only under an in-date agreement
    old = record(client, volunteer_id, kind="agreement", valid_from=(TODAY - timedelta(days=400)).isoformat(),
                 valid_until=(TODAY - timedelta(days=1)).isoformat(), written=True)
    new = record(client, volunteer_id, kind="agreement", valid_from=(TODAY - timedelta(days=5)).isoformat(),
                 written=True)
    assert jobs.expire_credentials(db, TODAY).expired == 1
    assert events(outbox, "CredentialExpired") == [{"volunteer_id": volunteer_id, "credential_id": old["id"],
                                                   "kind": "agreement", "valid_until": old["valid_until"]}]
    assert "ZAK" in eligible(client, volunteer_id)
    assert new["id"] != old["id"]


def test_a_revoked_credential_is_not_announced_again_when_it_lapses(client, db, outbox) -> None:
    volunteer_id = register(client, provider_type="staff")
    old = record(client, volunteer_id, kind="first_aid", valid_from=(TODAY - timedelta(days=400)).isoformat(),
                 valid_until=(TODAY - timedelta(days=1)).isoformat())
    client.post(f"/api/volunteers/{volunteer_id}/credentials/{old['id']}/revoke", json={"reason": "pomyłka"})
    assert jobs.expire_credentials(db, TODAY).expired == 0


# --- partner organisations and the Warsaw date ------------------------------------------------------


def test_a_partner_organisation_never_reaches_minors_even_with_a_clean_check(client) -> None:
    org = register(client, name="OSP Kajetanów", provider_type="partner_organisation", organisation_kind="osp",
                   contact_person="Jan Kowalski", email="osp@example.pl")
    record(client, org, **clean_kamilka_check(TODAY))
    allowed = eligible(client, org)
    assert "ZAK" in allowed and not allowed & MINORS


def test_the_periodic_expiry_judges_the_day_on_the_warsaw_calendar(client, db, outbox) -> None:
    volunteer_id = register(client, provider_type="staff")
    record(client, volunteer_id, kind="first_aid", valid_from="2026-01-01", valid_until="2026-12-06")
    half_past_midnight_in_warsaw = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)  # 7 December, 00:30 in Warsaw
    jobs.PERIODIC["expire-credentials"](db, half_past_midnight_in_warsaw)
    assert [d["valid_until"] for d in events(outbox, "CredentialExpired")] == ["2026-12-06"]


def test_the_model_lets_only_the_latest_check_decide() -> None:
    clean = {"register_checked_on": "2026-11-01", "checked_by": "A", "register_result": "not_listed",
             "krk_seen_on": "2026-11-01", "countries_last_20_years": ["PL"]}
    day = date(2026, 12, 3)
    old_clean = model.Credential("kamilka_check", date(2026, 11, 1), date(2027, 11, 1), clean)
    later_listed = model.Credential("kamilka_check", date(2026, 12, 1), date(2027, 12, 1),
                                    {**clean, "register_checked_on": "2026-12-01", "register_result": "listed"})
    staff = model.Provider(model.STAFF, verified=True, credentials=(later_listed, old_clean))
    assert not model.eligible_categories(staff, day) & MINORS  # recorded in any order: the register date decides
    assert handlers.counting_credentials(staff.credentials) == []


def test_a_revoked_renewal_does_not_silence_the_warning_about_the_credential_it_was_to_replace(client) -> None:
    volunteer_id = register(client, provider_type="staff")
    record(client, volunteer_id, kind="first_aid", valid_from=(TODAY - timedelta(days=400)).isoformat(),
           valid_until=(TODAY + timedelta(days=10)).isoformat())
    renewal = record(client, volunteer_id, kind="first_aid", valid_from=TODAY.isoformat(),
                     valid_until=(TODAY + timedelta(days=800)).isoformat())
    assert client.get("/api/credentials/expiring").json == []
    client.post(f"/api/volunteers/{volunteer_id}/credentials/{renewal['id']}/revoke", json={"reason": "pomyłka"})
    assert [w["volunteer_id"] for w in client.get("/api/credentials/expiring").json] == [volunteer_id]
