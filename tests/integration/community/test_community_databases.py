"""The community service on both engines it runs on (SQLite and PostgreSQL): surveys answered online and on
paper, one-answer tokens spent once even by racing requests, the rate-limit window, versioned diagnoses, and
nothing half-written when a rule refuses."""
from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from services.community import diagnosis, surveys
from services.community.app import create_app
from services.community.db import diagnoses, survey_answers, survey_contacts, survey_responses, survey_tokens
from wspolnota.errors import Invalid, Refused
from wspolnota.testing import signed_in
from wspolnota.transport import decode

pytestmark = pytest.mark.integration
NOW = datetime(2026, 4, 1, 10, 0, tzinfo=UTC)


def make(database_url: str) -> Any:
    app = create_app({"DATABASE_URL": database_url, "TESTING": True, "SECRET_KEY": "test-secret",
                      "WTF_CSRF_ENABLED": False}, clock=lambda: NOW)
    app.extensions["db"].migrate()
    return app


def a_survey(db: Any, **kw: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with db.transaction() as session:
        survey = surveys.create_survey(session, {"title": "Diagnoza 2026", **kw})
        questions = [
            surveys.add_question(session, survey["id"], {"kind": "multiple", "text": "Czego brakuje?",
                                                         "options": ["transport", "świetlica", "lekarz"]}),
            surveys.add_question(session, survey["id"], {"kind": "scale", "text": "Ocena", "required": True,
                                                         "min_value": 0, "max_value": 10}),
            surveys.add_question(session, survey["id"], {"kind": "text", "text": "Uwagi"}),
        ]
        surveys.publish(session, survey["id"])
    with db.engine.connect() as conn:
        return surveys.get_survey(conn, survey["id"]), questions


def count(db: Any, table: sa.Table) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_answers_results_and_closing_on_this_engine(database_url: str) -> None:
    app = make(database_url)
    db = app.extensions["db"]
    survey, (multi, scale, text) = a_survey(db)
    public = app.test_client()
    for village, picked, score in (("zagnansk", ["0", "2"], "8"), ("zagnansk", ["0"], "6"), ("kajetanow", [], "3")):
        response = public.post(f"/a/{survey['public_key']}", data={
            "village": village, f"q_{multi['id']}": picked, f"q_{scale['id']}": score,
            f"q_{text['id']}": "Żółć — ąęśćźżń", "contact_email": "osoba@example.pl", "contact_consent": "y"})
        assert response.status_code == 200
    organiser = signed_in(app.test_client(), "osl")
    assert organiser.post(f"/ankiety/{survey['id']}/papierowe", data={
        "village": "kajetanow", f"q_{multi['id']}": "2 3", f"q_{scale['id']}": "10"}).status_code == 302
    with db.engine.connect() as conn:
        result = surveys.results(conn, survey["id"])
    assert result["responses"] == 4 and result["by_village"] == {"kajetanow": 2, "zagnansk": 2}
    multiple, score, texts = result["questions"]
    assert multiple["counts"] == [2, 1, 2] and score["mean"] == pytest.approx(27 / 4)
    assert texts["texts"][0][1] == "Żółć — ąęśćźżń"
    assert organiser.post(f"/ankiety/{survey['id']}/zamknij").status_code == 302
    with db.engine.connect() as conn:
        [body] = conn.execute(sa.select(db.outbox.c.body)).scalars().all()
    event = decode(body)
    assert (event.data["responses"], event.data["online"], event.data["paper"]) == (4, 3, 1)
    assert b"osoba@example.pl" not in body
    assert count(db, survey_contacts) == 3
    db.dispose()


def test_a_token_is_spent_once_even_by_racing_answers(database_url: str) -> None:
    app = make(database_url)
    db = app.extensions["db"]
    survey, (_, scale, _) = a_survey(db, one_answer_per_token=True)
    with db.transaction() as session:
        [token] = surveys.issue_tokens(session, survey["id"], 1)
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def answer() -> None:
        barrier.wait()
        try:
            with db.transaction() as session:
                surveys.submit_response(session, survey["id"], "zagnansk", {scale["id"]: 5}, channel="online",
                                        token=token)
            outcomes.append("stored")
        except Refused:
            outcomes.append("refused")
        except sa.exc.OperationalError:  # SQLite: the database is locked for the losers
            outcomes.append("refused")

    threads = [threading.Thread(target=answer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("stored") == 1 and count(db, survey_responses) == 1
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(survey_tokens.c.used_at)).scalar_one() is not None
    db.dispose()


def test_a_refused_answer_leaves_nothing_behind(database_url: str) -> None:
    app = make(database_url)
    db = app.extensions["db"]
    survey, (multi, scale, _) = a_survey(db, one_answer_per_token=True)
    with db.transaction() as session:
        [token] = surveys.issue_tokens(session, survey["id"], 1)
    with pytest.raises(Invalid), db.transaction() as session:
        surveys.submit_response(session, survey["id"], "zagnansk", {scale["id"]: 11}, channel="online", token=token,
                                contact={"phone": "600 100 200", "consent": True})
    with pytest.raises(Refused), db.transaction() as session:
        surveys.submit_response(session, survey["id"], "zagnansk", {scale["id"]: 4}, channel="online",
                                token="nie-ten")
    assert count(db, survey_responses) == count(db, survey_answers) == count(db, survey_contacts) == 0
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(survey_tokens.c.used_at)).scalar_one() is None  # still unspent
    db.dispose()


def test_the_rate_limit_window_counts_every_request_of_a_client(database_url: str) -> None:
    app = make(database_url)
    db = app.extensions["db"]
    allowed = [surveys.allow_public_request(db, "203.0.113.7|klucz", 3, 3600, NOW) for _ in range(5)]
    assert allowed == [True, True, True, False, False]
    assert surveys.allow_public_request(db, "203.0.113.8|klucz", 3, 3600, NOW)
    later = NOW.replace(hour=12)
    assert surveys.allow_public_request(db, "203.0.113.7|klucz", 3, 3600, later)
    db.dispose()


def test_diagnosis_versions_are_numbered_per_scope(database_url: str) -> None:
    app = make(database_url)
    db = app.extensions["db"]
    a_survey(db)
    for scope in ("gmina", "zagnansk", "gmina"):
        with db.transaction() as session:
            diagnosis.create_version(session, {"scope": scope, "title": f"Diagnoza {scope}"}, clock=lambda: NOW)
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(diagnoses.c.scope, diagnoses.c.version)
                            .order_by(diagnoses.c.scope, diagnoses.c.version)).all()
        snap = conn.execute(sa.select(diagnoses.c.snapshot).where(diagnoses.c.scope == "zagnansk")).scalar_one()
    assert [tuple(r) for r in rows] == [("gmina", 1), ("gmina", 2), ("zagnansk", 1)]
    assert snap["scope"] == "zagnansk" and snap["needs_providers"][0]["village"] == "zagnansk"
    with pytest.raises(sa.exc.IntegrityError), db.transaction() as session:
        session.execute(sa.insert(diagnoses).values(id="x", scope="gmina", version=1, title="t", snapshot={},
                                                    created_at=NOW))
    db.dispose()
