"""The daily job: CredentialExpired once per lapsed credential, and staff warnings 30 days ahead."""
from __future__ import annotations

from datetime import date, timedelta

from services.volunteers import cli, jobs
from tests.unit.volunteers.conftest import TODAY, record, register


def a_volunteer_with_first_aid_until(client, until: date) -> str:  # type: ignore[no-untyped-def]
    volunteer_id = register(client)
    record(client, volunteer_id, kind="first_aid", valid_from=(TODAY - timedelta(days=400)).isoformat(),
           valid_until=until.isoformat())
    return volunteer_id


def test_a_lapsed_credential_is_announced_once_however_often_the_job_runs(client, db, outbox) -> None:
    volunteer_id = a_volunteer_with_first_aid_until(client, TODAY - timedelta(days=1))
    assert jobs.expire_credentials(db, TODAY).expired == 1
    assert jobs.expire_credentials(db, TODAY).expired == 0
    expired = [(k, d) for t, k, d in outbox.all() if t == "CredentialExpired"]
    credential_id = client.get(f"/api/volunteers/{volunteer_id}/credentials").json[0]["id"]
    assert expired == [(volunteer_id, {"volunteer_id": volunteer_id, "credential_id": credential_id,
                                       "kind": "first_aid", "valid_until": (TODAY - timedelta(days=1)).isoformat()})]


def test_a_credential_valid_today_is_not_expired_yet(client, db) -> None:
    a_volunteer_with_first_aid_until(client, TODAY)
    assert jobs.expire_credentials(db, TODAY).expired == 0
    assert jobs.expire_credentials(db, TODAY + timedelta(days=1)).expired == 1


def test_staff_see_credentials_ending_within_thirty_days(client, db) -> None:
    soon = a_volunteer_with_first_aid_until(client, TODAY + timedelta(days=30))
    later = register(client, email="jan@example.pl", name="Jan Kos")
    record(client, later, kind="first_aid", valid_from=TODAY.isoformat(),
           valid_until=(TODAY + timedelta(days=31)).isoformat())
    assert jobs.expire_credentials(db, TODAY).expiring_soon == 1
    assert [w["volunteer_id"] for w in client.get("/api/credentials/expiring").json] == [soon]
    page = client.get("/").get_data(as_text=True)
    assert "Uprawnienia wygasające w ciągu 30 dni" in page
    assert "Zofia Wiśniewska" in page.split('id="wykonawcy"')[0] and "Jan Kos" not in page.split('id="wykonawcy"')[0]


def test_a_credential_already_renewed_is_no_longer_warned_about(client, db) -> None:
    renewed = a_volunteer_with_first_aid_until(client, TODAY + timedelta(days=10))
    record(client, renewed, kind="first_aid", valid_from=(TODAY + timedelta(days=11)).isoformat(),
           valid_until=(TODAY + timedelta(days=800)).isoformat())  # the next course, from the day after
    gap = register(client, email="ola@example.pl", name="Ola Nowak")
    record(client, gap, kind="first_aid", valid_from=(TODAY - timedelta(days=400)).isoformat(),
           valid_until=(TODAY + timedelta(days=10)).isoformat())
    record(client, gap, kind="first_aid", valid_from=(TODAY + timedelta(days=20)).isoformat(),
           valid_until=(TODAY + timedelta(days=800)).isoformat())  # a gap of nine days: still a warning
    assert [w["volunteer_id"] for w in client.get("/api/credentials/expiring").json] == [gap]


def test_the_command_runs_the_job_on_the_configured_database(client, db, monkeypatch, capsys) -> None:
    a_volunteer_with_first_aid_until(client, TODAY - timedelta(days=3))
    monkeypatch.setenv("DATABASE_URL", db.url)
    assert cli.main(["expire-credentials", "--date", TODAY.isoformat()]) == 0
    assert "expired=1" in capsys.readouterr().out
