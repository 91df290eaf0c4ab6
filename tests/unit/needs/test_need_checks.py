""""Is it still needed?": an open need unmatched for the set days and not checked in as long is checked once with
the requesting worker; "nadal potrzebna" keeps it (next check that long after the answer), "już niepotrzebna"
cancels it through the normal cancel path with the code `no_longer_needed`; a stale or repeated answer changes
nothing; an unanswered question becomes the organiser's follow-up and is decided on the need's check page."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.needs import need_checks
from services.needs.need_checks import LastCheck, Waiting, select
from tests.unit.needs.conftest import NeedsHarness, resident_body
from wspolnota import config
from wspolnota.testing import signed_in
from wspolnota.transport import Event, encode

EVERY = timedelta(days=14)
NOW = datetime(2031, 3, 10, 9, 0, tzinfo=UTC)
N1, N2 = "11111111-0000-4000-8000-000000000001", "22222222-0000-4000-8000-000000000002"
TOKEN = {"Authorization": "Bearer dev-only-internal-token", "X-Service-Name": "notify"}


def test_a_need_waiting_long_and_never_checked_is_checked() -> None:
    assert select([Waiting(N1, "open", NOW - EVERY)], {}, NOW, EVERY) == [N1]
    assert select([Waiting(N1, "offered", NOW - timedelta(days=30))], {}, NOW, EVERY) == [N1]


def test_not_a_young_matched_closed_or_recently_checked_need_nor_one_whose_question_waits() -> None:
    assert select([Waiting(N1, "open", NOW - EVERY + timedelta(minutes=1))], {}, NOW, EVERY) == []
    assert select([Waiting(N1, "accepted", NOW - timedelta(days=30))], {}, NOW, EVERY) == []
    assert select([Waiting(N1, "cancelled", NOW - timedelta(days=30))], {}, NOW, EVERY) == []
    old = NOW - timedelta(days=40)
    assert select([Waiting(N1, "open", old)], {N1: LastCheck(NOW - timedelta(days=20), NOW - timedelta(days=13))},
                  NOW, EVERY) == []  # answered "still needed" 13 days ago
    assert select([Waiting(N1, "open", old)], {N1: LastCheck(NOW - timedelta(days=30), None)}, NOW, EVERY) == []
    assert select([Waiting(N1, "open", old)], {N1: LastCheck(NOW - timedelta(days=30), NOW - EVERY)},
                  NOW, EVERY) == [N1]
    assert select([Waiting(N1, "open", old)], {}, NOW, timedelta(0)) == []


def answered(needs: NeedsHarness, need_id: str, check_id: str, still: bool) -> None:
    """Notify's NeedCheckAnswered arrives on the notifications topic."""
    event = Event(type="NeedCheckAnswered", key=need_id, source="notify",
                  data={"need_id": need_id, "check_id": check_id, "still_needed": still})
    needs.system.broker.append(config.topic("notifications"), need_id.encode(), encode(event), [])
    needs.system.pump()


def asked(needs: NeedsHarness, now: datetime) -> list[str]:
    return need_checks.ask_need_checks(needs.db, now, EVERY)


def test_the_check_is_asked_once_and_a_yes_waits_as_long_again(needs: NeedsHarness) -> None:
    need = needs.register()
    now = datetime.now(UTC) + EVERY + timedelta(hours=1)
    assert asked(needs, now) == [need["id"]]
    assert asked(needs, now + timedelta(days=20)) == []  # the question waits for an answer: not asked again
    [due] = needs.published("NeedCheckDue")
    assert due.data == {"need_id": need["id"], "check_id": due.data["check_id"]}
    answered(needs, need["id"], due.data["check_id"], True)
    answered(needs, need["id"], due.data["check_id"], False)  # a second answer to the same check: nothing
    assert needs.status(need["id"]) == "open"
    assert asked(needs, datetime.now(UTC) + timedelta(days=13)) == []
    assert asked(needs, datetime.now(UTC) + EVERY + timedelta(minutes=1)) == [need["id"]]
    assert len(needs.published("NeedCheckDue")) == 2


def test_no_longer_needed_cancels_the_need_with_its_code_and_a_stale_answer_changes_nothing(
        needs: NeedsHarness) -> None:
    need = needs.register()
    asked(needs, datetime.now(UTC) + EVERY + timedelta(hours=1))
    [due] = needs.published("NeedCheckDue")
    answered(needs, need["id"], str(uuid.uuid4()), False)  # not this check
    assert needs.status(need["id"]) == "open"
    answered(needs, need["id"], due.data["check_id"], False)
    answered(needs, need["id"], due.data["check_id"], False)
    assert needs.status(need["id"]) == "cancelled"
    [cancelled] = needs.published("NeedCancelled")
    assert cancelled.data["reason"] == "no_longer_needed"
    timeline = [t["detail"] for t in needs.rows("need_timeline") if t["need_id"] == need["id"]]
    assert any("już niepotrzebna" in d for d in timeline)


def test_the_question_goes_to_the_residents_social_worker_or_the_organiser(needs: NeedsHarness) -> None:
    resident = needs.client.post("/api/residents", json=resident_body()).json
    need = needs.register(resident_ref=resident["ref"])
    url = f"/internal/needs/{need['id']}/check-recipient"
    assert needs.client.get(url, headers=TOKEN).json["email"] == ""  # none assigned: notify asks the organiser
    assert needs.submit(f"/residents/{resident['id']}/pracownik-socjalny",
                        {"social_worker_email": "a.nowak@cus.example.pl"}).status_code == 302
    assert needs.client.get(url, headers=TOKEN).json["email"] == "a.nowak@cus.example.pl"
    assert needs.client.get(url).status_code == 401
    assert needs.client.get(f"/internal/needs/{uuid.uuid4()}/check-recipient", headers=TOKEN).status_code == 404


def test_an_unanswered_question_is_the_organisers_follow_up_decided_on_the_check_page(needs: NeedsHarness) -> None:
    kept, dropped = needs.register(), needs.register()
    asked(needs, datetime.now(UTC) + EVERY + timedelta(hours=1))
    with needs.db.transaction() as session:
        assert need_checks.overdue(session, datetime.now(UTC) + EVERY + timedelta(days=6), timedelta(days=7)) == []
        later = need_checks.overdue(session, datetime.now(UTC) + EVERY + timedelta(days=8), timedelta(days=7))
    assert sorted(r["need_id"] for r in later) == sorted([kept["id"], dropped["id"]])
    assert "description" not in later[0] and "resident_ref" not in later[0]
    signed_in(needs.client, "osl")
    page = needs.page(f"/needs/{kept['id']}/sprawdzenie")
    assert "Nadal potrzebna" in page and "Już niepotrzebna" in page
    assert needs.submit(f"/needs/{kept['id']}/sprawdzenie", {"still": "1"}).status_code == 302
    assert needs.submit(f"/needs/{dropped['id']}/sprawdzenie", {"gone": "1"}).status_code == 302
    assert (needs.status(kept["id"]), needs.status(dropped["id"])) == ("open", "cancelled")
    with needs.db.transaction() as session:
        assert need_checks.overdue(session, datetime.now(UTC) + timedelta(days=60), timedelta(days=7)) == []
    assert "Nie ma pytania czekającego" in needs.page(f"/needs/{kept['id']}/sprawdzenie")
    assert needs.client.get("/api/need-checks/overdue").json == []
