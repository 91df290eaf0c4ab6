"""The volunteer's visits: the projection of the matches topic keeps the latest status whatever the order and
however often events arrive; the visits page answers offers, steps back and confirms visits through events of the
volunteers topic, with CSRF, Polish errors and nothing half-written; the resident's details only near the visit."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.volunteers import visits
from services.volunteers.db import hours_ledger
from services.volunteers.db import visits as visits_table
from tests.unit.volunteers.conftest import NOW, Outbox, csrf_token
from tests.unit.volunteers.test_volunteers_sign_in import Volunteers, text
from wspolnota.db import Database
from wspolnota.transport import Event

NEED = str(uuid.uuid4())


def event(kind: str, match_id: str, volunteer_id: str, at: datetime, **data: Any) -> Event:
    return Event(kind, NEED, {"match_id": match_id, "need_id": NEED, "volunteer_id": volunteer_id, **data},
                 "matching", time=at)


def offered(match_id: str, volunteer_id: str, start: datetime, *, series: str | None = None,
            at: datetime = NOW - timedelta(hours=1)) -> Event:
    return event("MatchOffered", match_id, volunteer_id, at, deadline=(NOW + timedelta(hours=6)).isoformat(),
                 urgent=False, category="ZAK", village="belno", window_start=start.isoformat(),
                 agreed_start=start.isoformat(), agreed_end=(start + timedelta(hours=1)).isoformat(),
                 series_id=series)


def fold(db: Database, *events: Event) -> None:
    for e in events:
        with db.transaction() as session:
            visits.on_match_event(session, e, NOW)


def visit(db: Database, match_id: str) -> dict[str, Any]:
    with db.engine.connect() as conn:
        return dict(conn.execute(sa.select(visits_table).where(visits_table.c.match_id == match_id)).mappings().one())


@pytest.fixture
def v(db: Database) -> Volunteers:
    return Volunteers(db, CENTRE_PHONE="+48 41 300 00 00")


@pytest.fixture
def me(v: Volunteers) -> tuple[str, Any]:
    volunteer_id = v.register()
    return volunteer_id, v.signed_in_client(volunteer_id)


def post(client: Any, action: str, data: dict[str, Any]) -> Any:
    token = csrf_token(client.get("/wolontariusz/").get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **data})


# --- the projection --------------------------------------------------------------------------------------------
LIFECYCLE = ["MatchOffered", "MatchAccepted", "MatchCompleted"]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(list(range(3)) * 2))
def test_the_projection_keeps_the_latest_status_in_any_order_and_repeats_change_nothing(
        db: Database, order: list[int]) -> None:
    match_id, volunteer_id = str(uuid.uuid4()), str(uuid.uuid4())
    start = NOW + timedelta(days=2)
    base = NOW - timedelta(hours=3)
    made = {0: offered(match_id, volunteer_id, start, at=base),
            1: event("MatchAccepted", match_id, volunteer_id, base + timedelta(minutes=5)),
            2: event("MatchCompleted", match_id, volunteer_id, base + timedelta(minutes=10), hours=1.5,
                     category="ZAK")}
    fold(db, *(made[i] for i in order))
    row = visit(db, match_id)
    assert row["status"] == "completed"
    assert (row["category"], row["village"], row["starts_at"]) == ("ZAK", "belno", start)
    with db.transaction() as session:
        assert not any(visits.on_match_event(session, made[i], NOW) for i in range(3))


def test_an_older_cancellation_does_not_undo_a_later_acceptance_and_a_commitment_is_kept(db: Database) -> None:
    match_id, volunteer_id = str(uuid.uuid4()), str(uuid.uuid4())
    accepted = event("MatchAccepted", match_id, volunteer_id, NOW - timedelta(minutes=1))
    older = event("MatchCancelled", match_id, volunteer_id, NOW - timedelta(minutes=30), reason="covered")
    commitment = Event("SeriesCommitted", "s1", {"commitment_id": str(uuid.uuid4()), "series_id": "s1",
                                                 "volunteer_id": volunteer_id, "match_id": match_id,
                                                 "need_id": NEED}, "matching", time=NOW)
    fold(db, commitment, accepted, older, offered(match_id, volunteer_id, NOW + timedelta(days=1)), commitment)
    row = visit(db, match_id)
    assert row["status"] == "accepted" and row["series_id"] == "s1" and row["series_commitment_id"]
    assert row["starts_at"] == NOW + timedelta(days=1)  # a late offer still brings the facts


def test_the_details_window_opens_a_day_before_and_closes_twelve_hours_after() -> None:
    row = {"status": "accepted", "stepped_back": None, "starts_at": NOW, "ends_at": NOW + timedelta(hours=1)}
    assert not visits.details_open(row, NOW - timedelta(hours=24, seconds=1), 24, 12)
    assert visits.details_open(row, NOW - timedelta(hours=24), 24, 12)
    assert visits.details_open(row, NOW + timedelta(hours=13), 24, 12)
    assert not visits.details_open(row, NOW + timedelta(hours=13, seconds=1), 24, 12)
    assert not visits.details_open({**row, "stepped_back": "visit"}, NOW, 24, 12)
    assert not visits.details_open({**row, "status": "cancelled"}, NOW, 24, 12)


# --- the page --------------------------------------------------------------------------------------------------
def test_an_offer_is_accepted_once_as_a_visit_answered_event(v: Volunteers, me: tuple[str, Any],
                                                             outbox: Outbox) -> None:
    volunteer_id, client = me
    match_id = str(uuid.uuid4())
    fold(v.db, offered(match_id, volunteer_id, NOW + timedelta(days=3), series="s1"))
    page = text(client.get("/wolontariusz/wizyty"))
    assert "Przyjmuję tę wizytę" in page and "Przyjmuję cały cykl" in page and "Nie tym razem" in page
    assert "Belno" in page and "Zakupy i sprawunki" in page
    assert post(client, f"/wolontariusz/wizyty/{match_id}/odpowiedz", {"odpowiedz": "accept_series"}).status_code == 302
    answers = [d for t, _, d in outbox.all() if t == "VisitAnswered"]
    assert answers == [{"match_id": match_id, "volunteer_id": volunteer_id, "response": "accept", "reason": "",
                        "scope": "series"}]
    again = post(client, f"/wolontariusz/wizyty/{match_id}/odpowiedz", {"odpowiedz": "decline", "powod": "busy"})
    assert again.status_code == 409 and "już odpowiedziałeś" in text(again)
    assert len([t for t, _, _ in outbox.all() if t == "VisitAnswered"]) == 1


def test_a_decline_carries_the_response_pages_reason_and_a_bad_answer_changes_nothing(
        v: Volunteers, me: tuple[str, Any], outbox: Outbox) -> None:
    volunteer_id, client = me
    match_id = str(uuid.uuid4())
    fold(v.db, offered(match_id, volunteer_id, NOW + timedelta(days=3)))
    bad = post(client, f"/wolontariusz/wizyty/{match_id}/odpowiedz", {"odpowiedz": "decline", "powod": "<b>"})
    assert bad.status_code == 422 and "Wybierz powód z listy." in text(bad)
    no_series = post(client, f"/wolontariusz/wizyty/{match_id}/odpowiedz", {"odpowiedz": "accept_series"})
    assert no_series.status_code == 409
    assert "VisitAnswered" not in outbox.types() and visit(v.db, match_id)["answered"] is None
    assert post(client, f"/wolontariusz/wizyty/{match_id}/odpowiedz",
                {"odpowiedz": "decline", "powod": "distance"}).status_code == 302
    assert [d["reason"] for t, _, d in outbox.all() if t == "VisitAnswered"] == ["To dla mnie za daleko"]


def test_without_the_csrf_token_or_for_someone_elses_visit_nothing_is_sent(v: Volunteers, me: tuple[str, Any],
                                                                           outbox: Outbox) -> None:
    volunteer_id, client = me
    match_id = str(uuid.uuid4())
    fold(v.db, offered(match_id, str(uuid.uuid4()), NOW + timedelta(days=3)))
    assert client.post(f"/wolontariusz/wizyty/{match_id}/odpowiedz", data={"odpowiedz": "accept"}).status_code == 400
    assert post(client, f"/wolontariusz/wizyty/{match_id}/odpowiedz", {"odpowiedz": "accept"}).status_code == 404
    assert "Przyjmuję tę wizytę" not in text(client.get("/wolontariusz/wizyty"))
    assert "VisitAnswered" not in outbox.types()
    assert v.app.test_client().get("/wolontariusz/wizyty").status_code == 302  # not signed in


def test_upcoming_visits_count_with_polish_plurals_and_step_back_is_sent_once(
        v: Volunteers, me: tuple[str, Any], outbox: Outbox) -> None:
    volunteer_id, client = me
    ids = [str(uuid.uuid4()) for _ in range(5)]
    for n, match_id in enumerate(ids):
        fold(v.db, offered(match_id, volunteer_id, NOW + timedelta(days=7 * (n + 2)), series="s1"),
             event("MatchAccepted", match_id, volunteer_id, NOW))
        page = text(client.get("/wolontariusz/wizyty"))
        assert {0: "(1 wizyta)", 1: "(2 wizyty)", 4: "(5 wizyt)"}.get(n, "") in page
    assert "+48 41 300 00 00" in page and "Dane mieszkańca zobaczysz dzień przed wizytą." in page
    raw = client.get("/wolontariusz/wizyty").get_data(as_text=True)
    assert all(f"/wolontariusz/wizyty/{m}/niepokoj" in raw for m in ids)  # a concern about each visit's resident
    response = post(client, f"/wolontariusz/wizyty/{ids[0]}/rezygnacja", {"zakres": "visit", "powod": "illness"})
    assert response.status_code == 302
    assert post(client, f"/wolontariusz/wizyty/{ids[0]}/rezygnacja",
                {"zakres": "visit", "powod": "illness"}).status_code == 409
    bad = post(client, f"/wolontariusz/wizyty/{ids[1]}/rezygnacja", {"zakres": "visit", "powod": "bo tak"})
    assert bad.status_code == 422
    assert [d for t, _, d in outbox.all() if t == "VisitSteppedBack"] == [
        {"match_id": ids[0], "volunteer_id": volunteer_id, "scope": "visit", "reason": "illness"}]


def test_a_past_visit_is_confirmed_with_its_minutes_and_counts_at_once(v: Volunteers, me: tuple[str, Any],
                                                                      outbox: Outbox) -> None:
    volunteer_id, client = me
    past, future = str(uuid.uuid4()), str(uuid.uuid4())
    fold(v.db, offered(past, volunteer_id, NOW - timedelta(hours=3)), event("MatchAccepted", past, volunteer_id, NOW),
         offered(future, volunteer_id, NOW + timedelta(days=1)), event("MatchAccepted", future, volunteer_id, NOW))
    for minutes in ("", "abc", "4", "721", "-5"):
        bad = post(client, f"/wolontariusz/wizyty/{past}/potwierdzenie", {"odbyla": "tak", "minuty": minutes})
        assert bad.status_code == 422 and "od 5 do 720" in text(bad)
    early = post(client, f"/wolontariusz/wizyty/{future}/potwierdzenie", {"odbyla": "tak", "minuty": "60"})
    assert early.status_code == 409
    assert "VisitConfirmed" not in outbox.types()
    assert post(client, f"/wolontariusz/wizyty/{past}/potwierdzenie",
                {"odbyla": "tak", "minuty": "90"}).status_code == 302
    assert [d for t, _, d in outbox.all() if t == "VisitConfirmed"] == [
        {"match_id": past, "volunteer_id": volunteer_id, "happened": True, "minutes": 90}]
    with v.db.engine.connect() as conn:
        assert conn.execute(sa.select(hours_ledger.c.hours).where(hours_ledger.c.source_id == past)).scalar() == 1.5
    assert "Potwierdzono: 90 min." in text(client.get("/wolontariusz/wizyty"))
    # matching's MatchCompleted corrects the hours
    fold(v.db, event("MatchCompleted", past, volunteer_id, datetime.now(UTC) + timedelta(days=3650), hours=1.25,
                     category="ZAK"))
    from services.volunteers import hours
    with v.db.transaction() as session:
        hours.on_match_completed(session, event("MatchCompleted", past, volunteer_id,
                                                datetime.now(UTC) + timedelta(days=3650), hours=1.25, category="ZAK"))
    with v.db.engine.connect() as conn:
        assert conn.execute(sa.select(hours_ledger.c.hours).where(hours_ledger.c.source_id == past)).scalar() == 1.25


def test_the_residents_details_show_only_inside_the_window(v: Volunteers, me: tuple[str, Any],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    volunteer_id, client = me
    near, far = str(uuid.uuid4()), str(uuid.uuid4())
    fold(v.db, offered(near, volunteer_id, NOW + timedelta(hours=5)), event("MatchAccepted", near, volunteer_id, NOW),
         offered(far, volunteer_id, NOW + timedelta(days=5)), event("MatchAccepted", far, volunteer_id, NOW))
    asked: list[str] = []

    def contact(base: str, token: str, match_id: str, who: str, timeout_s: float = 5.0) -> dict[str, str]:
        asked.append(match_id)
        assert who == volunteer_id
        return {"first_name": "Halina", "address": "Bełno 12", "village": "belno", "phone": "+48 600 100 200"}
    monkeypatch.setattr(visits, "visit_contact", contact)
    page = client.get("/wolontariusz/wizyty").get_data(as_text=True)
    assert asked == [near]
    near_part = page[page.index(f'id="wizyta-{near}"'):page.index(f'id="wizyta-{far}"')]
    assert "Halina" in near_part and "Bełno 12" in near_part and 'href="tel:+48 600 100 200"' in near_part
    assert "Dane mieszkańca zobaczysz dzień przed wizytą." in re.sub(r"\s+", " ", page[page.index(f'id="wizyta-{far}"'):])


def test_the_certificate_downloads_from_the_space_after_a_confirmed_visit(v: Volunteers, me: tuple[str, Any]) -> None:
    import io

    from pypdf import PdfReader

    volunteer_id, client = me
    empty = client.get("/wolontariusz/zaswiadczenie.pdf")
    assert empty.status_code == 302  # no hours yet: a Polish message on the home page
    match_id = str(uuid.uuid4())
    fold(v.db, offered(match_id, volunteer_id, NOW - timedelta(hours=3)), event("MatchAccepted", match_id,
                                                                             volunteer_id, NOW))
    assert post(client, f"/wolontariusz/wizyty/{match_id}/potwierdzenie",
                {"odbyla": "tak", "minuty": "120"}).status_code == 302
    pdf = client.get("/wolontariusz/zaswiadczenie.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    words = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Zofia Wiśniewska" in words and "Zakupy i sprawunki" in words
