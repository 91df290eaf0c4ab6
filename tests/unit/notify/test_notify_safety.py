"""A revoked credential or a pause pending a safety review: the organiser hears of it once, with no name."""
from __future__ import annotations

from notify_support import VOLUNTEER, event, ledger

CREDENTIAL = "44444444-4444-4444-8444-444444444444"


def revoked(reason: str = "adverse_result") -> dict[str, str]:
    return {"volunteer_id": VOLUNTEER, "credential_id": CREDENTIAL, "kind": "kamilka_check", "reason": reason}


def test_a_revoked_credential_is_told_to_the_organiser_once_with_a_link_to_the_volunteer(db, deliver) -> None:
    revocation = event("CredentialRevoked", revoked(), key=VOLUNTEER)
    deliver(revocation)
    deliver(revocation)  # redelivered: still one message
    [row] = ledger(db, kind="volunteer_safety")
    assert (row["recipient"], row["channel"]) == ("organizator", "email")
    assert row["subject"] == "Cofnięte uprawnienie wykonawcy: sprawdzenie z ustawy Kamilka"
    assert "niekorzystny wynik nowego sprawdzenia" in row["body"] and "adverse_result" not in row["body"]
    assert f"http://test/volunteers/wykonawcy/{VOLUNTEER}" in row["body"]


def test_a_pause_pending_a_safety_review_is_told_to_the_organiser(db, deliver) -> None:
    deliver(event("VolunteerPaused", {"volunteer_id": VOLUNTEER, "reason": "safety_review"}, key=VOLUNTEER))
    [row] = ledger(db, kind="volunteer_safety")
    assert row["recipient"] == "organizator"
    assert row["subject"] == "Wykonawca wstrzymany do wyjaśnienia (ochrona małoletnich)"
    assert f"/volunteers/wykonawcy/{VOLUNTEER}" in row["body"]


def test_a_volunteers_own_pause_tells_the_organiser_nothing(db, deliver) -> None:
    deliver(event("VolunteerPaused", {"volunteer_id": VOLUNTEER}, key=VOLUNTEER))
    assert ledger(db, kind="volunteer_safety") == []


def test_each_revocation_is_its_own_message(db, deliver) -> None:
    deliver(event("CredentialRevoked", revoked(), key=VOLUNTEER))
    deliver(event("CredentialRevoked", revoked("revoked_by_staff"), key=VOLUNTEER))
    bodies = [r["body"] for r in ledger(db, kind="volunteer_safety")]
    assert len(bodies) == 2 and any("decyzja pracownika CUS" in b for b in bodies)


def test_a_check_superseded_by_a_newer_clean_one_tells_the_organiser_nothing(db, deliver) -> None:
    deliver(event("CredentialRevoked", revoked("superseded"), key=VOLUNTEER))  # a routine renewal
    assert ledger(db, kind="volunteer_safety") == []
