"""Matching keeps every FeedbackGiven once with the match's category: the match page lists it, the report "oceny"
counts it by month and category with its charts, and the API the dashboard reads lists the score 3 nobody has
marked as seen; marking needs the CSRF token and names the signed-in account."""
from __future__ import annotations

import csv
import dataclasses
import io
import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from contracts import needs as need_contract
from services.matching.db import feedback
from services.matching.handlers import CONSUMES, handlers
from tests.unit.matching.test_reports import NOW, World, at, build_world
from wspolnota.testing import signed_in
from wspolnota.transport import new_event


@pytest.fixture
def world(matching: Any) -> World:
    return build_world(matching)


@pytest.fixture
def client(matching: Any) -> Iterator[Any]:
    from services.matching.app import create_app

    app = create_app({"DATABASE_URL": matching.service.db.url, "TESTING": True, "AUTH_DISABLED": True,
                      "SECRET_KEY": "test", "MATCHING_CLOCK": lambda: NOW})
    yield app.test_client()
    app.extensions["db"].dispose()


def given(matching: Any, w: Any, match: str, source: str, score: int, when: datetime, fid: str | None = None) -> str:
    fid = fid or str(uuid.uuid4())
    event = new_event(CONSUMES, "test", "FeedbackGiven", w.id(match), {
        "feedback_id": fid, "match_id": w.id(match), "need_id": None, "source": source, "score": score})
    event = dataclasses.replace(event, time=when)
    table = handlers(matching.service.outbox, lambda: when)
    with matching.service.db.transaction() as session:
        table["FeedbackGiven"](session, event)
    return fid


def test_feedback_is_kept_once_with_the_matchs_category(matching, world) -> None:  # type: ignore[no-untyped-def]
    fid = given(matching, world, "M1", "volunteer", 2, at("2026-11-03T13:00:00"))
    given(matching, world, "M1", "volunteer", 2, at("2026-11-03T13:00:00"), fid)  # redelivered
    with matching.service.db.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(sa.select(feedback)).mappings()]
    assert [(r["match_id"], r["category"], r["need_id"], r["score"]) for r in rows] == [
        (world.id("M1"), "ZAK", world.id("N1"), 2)]
    assert "FeedbackGiven" in need_contract.EVENTS


def test_the_report_counts_by_score_per_month_and_category_and_draws_charts(matching, world, client) -> None:  # type: ignore[no-untyped-def]
    given(matching, world, "M1", "volunteer", 1, at("2026-11-03T13:00:00"))
    given(matching, world, "M1", "resident_sms", 3, at("2026-11-04T13:00:00"))
    given(matching, world, "M2", "resident_call", 2, at("2026-11-06T10:00:00"))
    given(matching, world, "M8", "volunteer", 1, at("2026-08-04T10:00:00"))  # outside the period
    page = client.get("/raporty/oceny").get_data(as_text=True)
    assert "Oceny wizyt" in page and "chart-feedback-title" in page and "chart-feedback-bad-title" in page
    exported = client.get("/raporty/oceny/eksport.csv").get_data(as_text=True)
    rows = {r[0]: r[1:] for r in csv.reader(io.StringIO(exported.lstrip("\ufeff")), delimiter=";") if r}
    assert rows["listopad 2026"] == ["1", "1", "1", "3"]
    categories = {k: v for k, v in rows.items() if k.startswith("Kategoria:")}
    assert sorted(categories.values()) == [["0", "1", "0", "1"], ["1", "0", "1", "2"]]


def test_the_dashboard_api_lists_unseen_bad_scores_and_marking_names_the_account(matching, world, client) -> None:  # type: ignore[no-untyped-def]
    bad = given(matching, world, "M1", "resident_sms", 3, at("2026-11-04T13:00:00"))
    given(matching, world, "M1", "volunteer", 1, at("2026-11-04T14:00:00"))
    listed = client.get("/api/feedback").json
    assert [(f["feedback_id"], f["score"], f["category"]) for f in listed] == [(bad, 3, "ZAK")]
    assert client.get("/api/feedback?status=zle").status_code == 422
    signed_in(client, "osl", "osl.kowalska")
    page = client.get(f"/matches/{world.id('M1')}").get_data(as_text=True)
    assert "mieszkaniec (SMS)" in page and "Oznacz jako przeczytane" in page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]*)"', page)
    assert token is not None
    url = f"/matches/{world.id('M1')}/oceny/{bad}/przeczytane"
    assert client.post(url).status_code == 400
    assert client.post(url, data={"csrf_token": token.group(1)}).status_code == 302
    assert client.get("/api/feedback").json == []
    with matching.service.db.engine.connect() as conn:
        assert conn.execute(sa.select(feedback.c.seen_by).where(feedback.c.feedback_id == bad)).scalar() == \
            "osl.kowalska"
    assert client.post(f"/matches/{world.id('M1')}/oceny/{uuid.uuid4()}/przeczytane",
                       data={"csrf_token": token.group(1)}).status_code == 404
