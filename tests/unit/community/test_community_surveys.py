"""Surveys end to end in one app: build, publish, answer online and on paper, results, export, close."""
from __future__ import annotations

import io
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from services.community import surveys
from services.community.db import audit_log, survey_answers, survey_contacts, survey_responses, survey_tokens
from wspolnota.db import Database
from wspolnota.transport import decode

QUESTIONS = [
    {"kind": "single", "text": "Czy korzysta Pan/Pani ze świetlicy?", "required": "y", "options": "tak\nnie"},
    {"kind": "multiple", "text": "Czego brakuje w sołectwie?", "options": "transport\nzajęcia dla seniorów\nplac zabaw"},
    {"kind": "scale", "text": "Jak ocenia Pan/Pani życie w sołectwie?", "required": "y", "min_value": "1",
     "max_value": "5"},
    {"kind": "number", "text": "Ile osób liczy gospodarstwo domowe?", "min_value": "1", "max_value": "20"},
    {"kind": "text", "text": "Co warto zmienić?"},
]


def build(organiser: Any, **survey: Any) -> dict[str, Any]:
    form = {"title": "Diagnoza potrzeb 2026", "intro": "Ankieta CUS", **survey}
    response = organiser.post("/ankiety/nowa", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    survey_id = response.headers["Location"].rstrip("/").split("/")[-1]
    for q in QUESTIONS:
        assert organiser.post(f"/ankiety/{survey_id}/pytania", data=q).status_code == 302
    assert organiser.post(f"/ankiety/{survey_id}/publikuj").status_code == 302
    return organiser.application.extensions["wspolnota.parts"].db, survey_id


def the_survey(db: Database, survey_id: str) -> dict[str, Any]:
    with db.engine.connect() as conn:
        return surveys.get_survey(conn, survey_id)


def public_answer(survey: dict[str, Any], *, village: str = "zagnansk", single: str = "0", scale: str = "4",
                  **extra: Any) -> dict[str, Any]:
    q = {x["kind"]: f"q_{x['id']}" for x in survey["questions"]}
    return {"village": village, q["single"]: single, q["multiple"]: ["0", "1"], q["scale"]: scale,
            q["number"]: "3", q["text"]: "Więcej autobusów do Kielc", **extra}


def count(db: Database, table: sa.Table) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_a_survey_is_built_published_answered_on_a_phone_and_on_paper_and_its_results_shown(
        app: Flask, organiser: Any) -> None:
    db, survey_id = build(organiser)
    survey = the_survey(db, survey_id)
    assert survey["status"] == "published" and [q["kind"] for q in survey["questions"]] == [
        "single", "multiple", "scale", "number", "text"]
    public = app.test_client()  # no account
    page = public.get(f"/a/{survey['public_key']}")
    assert page.status_code == 200 and 'name="viewport"' in page.get_data(as_text=True)
    assert "Wyloguj" not in page.get_data(as_text=True)
    thanks = public.post(f"/a/{survey['public_key']}", data=public_answer(survey))
    assert thanks.status_code == 200 and "Dziękujemy" in thanks.get_data(as_text=True)
    q = {x["kind"]: f"q_{x['id']}" for x in survey["questions"]}
    paper = organiser.post(f"/ankiety/{survey_id}/papierowe", data={
        "village": "kajetanow", q["single"]: "2", q["multiple"]: "1 3", q["scale"]: "2", q["number"]: "",
        q["text"]: "", "submission_id": "paper-1"})
    assert paper.status_code == 302
    again = organiser.post(f"/ankiety/{survey_id}/papierowe", data={
        "village": "kajetanow", q["single"]: "2", q["scale"]: "2", "submission_id": "paper-1"})
    assert again.status_code == 302 and count(db, survey_responses) == 2  # the same sheet twice: stored once
    results = organiser.get(f"/ankiety/{survey_id}/wyniki").get_data(as_text=True)
    assert "<svg" in results and 'role="img"' in results
    assert "Więcej autobusów do Kielc" in results and 'data-count="responses">2<' in results
    only_kajetanow = organiser.get(f"/ankiety/{survey_id}/wyniki?village=kajetanow").get_data(as_text=True)
    assert 'data-count="responses">1<' in only_kajetanow and "Więcej autobusów" not in only_kajetanow
    with db.engine.connect() as conn:
        paper_answers = {a["question_id"]: a for a in conn.execute(
            sa.select(survey_answers).join(survey_responses).where(survey_responses.c.channel == "paper")).mappings()}
    by_kind = {x["kind"]: x["id"] for x in survey["questions"]}
    assert paper_answers[by_kind["single"]]["choices"] == [1]
    assert paper_answers[by_kind["multiple"]]["choices"] == [0, 2]
    assert by_kind["number"] not in paper_answers


def test_bad_answers_get_polish_messages_and_nothing_is_stored(app: Flask, organiser: Any) -> None:
    db, survey_id = build(organiser)
    survey = the_survey(db, survey_id)
    public = app.test_client()
    response = public.post(f"/a/{survey['public_key']}", data=public_answer(
        survey, village="atlantyda", single="", scale="9", contact_phone="600 100 200"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in ("Wybierz swoją miejscowość z listy.", "Odpowiedz na to pytanie.", "Podaj liczbę od 1 do 5.",
                    "Zaznacz zgodę na kontakt"):
        assert message in page
    assert "Więcej autobusów do Kielc" in page  # what was typed stays in the form
    q = {x["kind"]: f"q_{x['id']}" for x in survey["questions"]}
    paper = organiser.post(f"/ankiety/{survey_id}/papierowe", data={"village": "zagnansk", q["single"]: "7",
                                                                     q["scale"]: "x"})
    assert paper.status_code == 422 and "Wybierz odpowiedź z listy." in paper.get_data(as_text=True)
    assert count(db, survey_responses) == count(db, survey_answers) == count(db, survey_contacts) == 0


def test_a_published_survey_keeps_its_questions(organiser: Any) -> None:
    db, survey_id = build(organiser)
    response = organiser.post(f"/ankiety/{survey_id}/pytania", data=QUESTIONS[0])
    assert response.status_code == 409
    assert "Opublikowanej ankiety nie można już zmieniać" in response.get_data(as_text=True)
    assert len(the_survey(db, survey_id)["questions"]) == len(QUESTIONS)


def test_a_question_form_with_errors_answers_in_polish(organiser: Any) -> None:
    response = organiser.post("/ankiety/nowa", data={"title": ""})
    assert response.status_code == 422 and "To pole jest wymagane." in response.get_data(as_text=True)
    survey_id = organiser.post("/ankiety/nowa", data={"title": "Ankieta"}).headers["Location"].split("/")[-1]
    response = organiser.post(f"/ankiety/{survey_id}/pytania", data={"kind": "single", "text": "Tak czy nie?",
                                                                      "options": "tak"})
    assert response.status_code == 422
    assert "Podaj co najmniej dwie odpowiedzi do wyboru" in response.get_data(as_text=True)
    response = organiser.post(f"/ankiety/{survey_id}/pytania", data={"kind": "scale", "text": "Ocena",
                                                                      "min_value": "jeden"})
    assert response.status_code == 422 and "Podaj liczbę całkowitą." in response.get_data(as_text=True)
    refused = organiser.post(f"/ankiety/{survey_id}/publikuj", follow_redirects=True)
    assert "Dodaj co najmniej jedno pytanie" in refused.get_data(as_text=True)


def test_closing_publishes_counts_only_and_stops_answers(app: Flask, organiser: Any) -> None:
    db, survey_id = build(organiser, villages=["zagnansk", "kajetanow"])
    survey = the_survey(db, survey_id)
    public = app.test_client()
    public.post(f"/a/{survey['public_key']}", data=public_answer(
        survey, contact_name="Zenobiusz", contact_phone="777 555 333", contact_consent="y"))
    public.post(f"/a/{survey['public_key']}", data=public_answer(survey, village="kajetanow"))
    assert public.post(f"/a/{survey['public_key']}", data=public_answer(survey, village="janow")).status_code == 422
    assert organiser.post(f"/ankiety/{survey_id}/zamknij").status_code == 302
    with db.engine.connect() as conn:
        [row] = conn.execute(sa.select(db.outbox)).mappings().all()
    event = decode(row["body"])
    assert event.type == "SurveyClosed" and event.key == survey_id
    assert event.data["responses"] == 2 and event.data["online"] == 2 and event.data["paper"] == 0
    assert event.data["questions"] == 5
    assert sorted(v["village"] for v in event.data["by_village"]) == ["kajetanow", "zagnansk"]
    assert "Zenobiusz" not in row["body"].decode() and "777 555" not in row["body"].decode()
    assert public.post(f"/a/{survey['public_key']}", data=public_answer(survey)).status_code == 410
    assert count(db, survey_responses) == 2


def test_one_answer_per_token(app: Flask, organiser: Any, db: Database) -> None:
    db, survey_id = build(organiser, one_answer_per_token="y")
    page = organiser.post(f"/ankiety/{survey_id}/kody", data={"count": "2"}).get_data(as_text=True)
    tokens = re.findall(r"\?t=([A-Za-z0-9_\-]+)</code>", page)
    assert len(tokens) == 2
    survey = the_survey(db, survey_id)
    public = app.test_client()
    url = f"/a/{survey['public_key']}"
    assert public.get(url).status_code == 403  # no token: no form
    assert public.post(url, data=public_answer(survey, t=tokens[0])).status_code == 200
    reused = public.post(url, data=public_answer(survey, t=tokens[0]))
    assert reused.status_code == 409 and "wykorzystany" in reused.get_data(as_text=True)
    assert public.post(url, data=public_answer(survey, t="zmyslony")).status_code == 409
    assert count(db, survey_responses) == 1
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).where(survey_tokens.c.used_at.is_not(None))).scalar() == 1
        assert tokens[0] not in str(conn.execute(sa.select(survey_tokens.c.token_hash)).scalars().all())


def test_public_answers_are_rate_limited(app: Flask, organiser: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMUNITY_PUBLIC_ANSWERS_PER_HOUR", "2")
    db, survey_id = build(organiser)
    survey = the_survey(db, survey_id)
    public = app.test_client()
    url = f"/a/{survey['public_key']}"
    assert [public.post(url, data=public_answer(survey)).status_code for _ in range(3)] == [200, 200, 429]
    assert count(db, survey_responses) == 2


def test_contact_details_stay_here_with_consent_are_audited_and_erasable(app: Flask, organiser: Any,
                                                                         reader: Any) -> None:
    db, survey_id = build(organiser)
    survey = the_survey(db, survey_id)
    app.test_client().post(f"/a/{survey['public_key']}", data=public_answer(
        survey, contact_name="Jan", contact_phone="600 100 200", contact_consent="y"))
    assert reader.get(f"/ankiety/{survey_id}/kontakty").status_code == 403  # the organiser's only
    page = organiser.get(f"/ankiety/{survey_id}/kontakty").get_data(as_text=True)
    assert "600 100 200" in page
    assert "600 100 200" not in organiser.get(f"/ankiety/{survey_id}/wyniki").get_data(as_text=True)
    with db.engine.connect() as conn:
        contact = conn.execute(sa.select(survey_contacts)).mappings().one()
    assert contact["consent_text"] == surveys.CONSENT_TEXT
    assert organiser.post(f"/ankiety/{survey_id}/kontakty/{contact['id']}/usun").status_code == 302
    assert "600 100 200" not in organiser.get(f"/ankiety/{survey_id}/kontakty").get_data(as_text=True)
    with db.engine.connect() as conn:
        erased = conn.execute(sa.select(survey_contacts)).mappings().one()
        actions = conn.execute(sa.select(audit_log.c.action)).scalars().all()
    assert erased["phone"] == "" and erased["erased_at"] is not None and "erase" in actions and "read" in actions
    assert count(db, survey_responses) == 1  # the answers stay


def test_answers_export_as_csv_and_xlsx(app: Flask, organiser: Any) -> None:
    db, survey_id = build(organiser)
    survey = the_survey(db, survey_id)
    app.test_client().post(f"/a/{survey['public_key']}", data=public_answer(
        survey, **{f"q_{survey['questions'][4]['id']}": "=HYPERLINK(1)"}))
    csv_body = organiser.get(f"/ankiety/{survey_id}/odpowiedzi.csv").get_data().decode("utf-8-sig")
    header, row = csv_body.strip().splitlines()
    assert header.startswith("odpowiedź;miejscowość;sposób;data;1. Czy korzysta")
    assert "Zagnańsk" in row and "transport; zajęcia dla seniorów" in row and "'=HYPERLINK(1)" in row
    xlsx = organiser.get(f"/ankiety/{survey_id}/odpowiedzi.xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    assert sheet is not None and sheet.max_row == 2 and sheet.cell(2, 2).value == "Zagnańsk"


def test_the_community_overview_shows_surveys_collecting_answers_with_their_counts(app: Flask, organiser: Any,
                                                                                  reader: Any) -> None:
    db, survey_id = build(organiser)
    survey = the_survey(db, survey_id)
    public = app.test_client()
    public.post(f"/a/{survey['public_key']}", data=public_answer(survey))
    page = reader.get("/").get_data(as_text=True)
    assert "Diagnoza potrzeb 2026" in page and "1 odpowiedź" in page
    public.post(f"/a/{survey['public_key']}", data=public_answer(survey))
    assert "2 odpowiedzi" in reader.get("/").get_data(as_text=True)
    assert "2 responses" in reader.get("/?lang=en").get_data(as_text=True)
