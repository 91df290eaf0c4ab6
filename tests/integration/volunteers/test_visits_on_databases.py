"""The volunteer's visits on SQLite and PostgreSQL: the projection of the matches topic through the service's
handlers in any order and twice keeps the latest status; an answer from the space is written once; and the needs
service's internal visit-contact API answers the resident's details only to the service token, only for the
volunteer's accepted visit and only near its time, audited with the volunteer as the actor."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.needs.app import create_app as needs_app
from services.needs.bootstrap import bootstrap as needs_bootstrap
from services.needs.db import audit_log
from services.needs.db import make_db as make_needs_db
from services.volunteers import visits
from services.volunteers.bootstrap import bootstrap as volunteers_bootstrap
from services.volunteers.db import make_db as make_volunteers_db
from services.volunteers.db import visits as visits_table
from wspolnota import errors, localtime
from wspolnota.transport import Event

pytestmark = pytest.mark.integration
TOKEN = "test-internal-token"
NOW = datetime.now(UTC)


def match_event(kind: str, match_id: str, need_id: str, volunteer_id: str, at: datetime, **data: object) -> Event:
    return Event(kind, need_id, {"match_id": match_id, "need_id": need_id, "volunteer_id": volunteer_id, **data},
                 "matching", time=at)


def test_the_visits_projection_and_an_answer_on_this_database(database_url: str) -> None:
    db = make_volunteers_db(database_url)
    db.migrate()
    try:
        parts = volunteers_bootstrap(database_url)
        handle = parts.handlers
        match_id, need_id, volunteer_id = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        start = NOW + timedelta(days=2)
        offered = match_event("MatchOffered", match_id, need_id, volunteer_id, NOW - timedelta(minutes=10),
                              deadline=(NOW + timedelta(hours=5)).isoformat(), urgent=False, category="ZAK",
                              village="belno", window_start=start.isoformat(), agreed_start=start.isoformat(),
                              agreed_end=(start + timedelta(hours=1)).isoformat(), series_id="s-1")
        expired = match_event("MatchExpired", match_id, need_id, volunteer_id, NOW - timedelta(minutes=20))
        for e in (expired, offered, expired, offered):
            with db.transaction() as session:
                handle[e.type](session, e)
        with db.engine.connect() as conn:
            row = conn.execute(sa.select(visits_table).where(visits_table.c.match_id == match_id)).mappings().one()
        assert (row["status"], row["series_id"], row["starts_at"]) == ("offered", "s-1", start)
        assert parts.outbox is not None
        with db.transaction() as session:
            visits.answer(session, parts.outbox, volunteer_id, match_id, "accept", NOW, series=True)
        with pytest.raises(errors.Refused), db.transaction() as session:
            visits.answer(session, parts.outbox, volunteer_id, match_id, "decline", NOW, reason_code="busy")
        with db.engine.connect() as conn:
            sent = conn.execute(sa.select(db.outbox.c.type).where(db.outbox.c.type == "VisitAnswered")).all()
            answered = conn.execute(sa.select(visits_table.c.answered)).scalar()
        assert len(sent) == 1 and answered == "accept_series"
    finally:
        db.dispose()


def test_the_visit_contact_api_on_this_database(database_url: str) -> None:
    db = make_needs_db(database_url)
    db.migrate()
    try:
        app = needs_app({"DATABASE_URL": database_url, "TESTING": True, "AUTH_DISABLED": True,
                         "INTERNAL_SERVICE_TOKEN": TOKEN})
        http = app.test_client()
        resident = http.post("/api/residents", json={
            "name": "Leokadia Zmyślona", "address": "ul. Nieistniejąca 4", "village": "jasiow",
            "phone": "+48500000111", "preferred_channel": "sms", "legal_basis": "consent",
            "consent_date": localtime.today().isoformat()}).json
        near_start, far_start = NOW + timedelta(hours=5), NOW + timedelta(days=4)
        ids = {}
        for name, start in (("near", near_start), ("far", far_start)):
            made = http.post("/api/needs", json={
                "resident_ref": resident["ref"], "category": "ZAK", "village": "jasiow", "description": "Zakupy",
                "window_start": start.isoformat(), "window_end": (start + timedelta(hours=2)).isoformat(),
                "duration_minutes": 60})
            assert made.status_code == 201, made.json
            ids[name] = made.json["id"]
        volunteer_id, other = str(uuid.uuid4()), str(uuid.uuid4())
        handle = needs_bootstrap(database_url).handlers
        matches = {name: str(uuid.uuid4()) for name in ids}
        for name, need_id in ids.items():
            for kind in ("MatchProposed", "MatchAccepted"):
                extras = ({"offer_id": str(uuid.uuid4()), "category": "ZAK", "village": "jasiow", "urgent": False,
                           "window_start": NOW.isoformat(), "reason": "pasuje"} if kind == "MatchProposed" else {})
                e = match_event(kind, matches[name], need_id, volunteer_id, NOW, **extras)
                with db.transaction() as session:
                    handle[kind](session, e)

        def ask(name: str, who: str, token: str | None = TOKEN):  # type: ignore[no-untyped-def]
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return http.get(f"/internal/matches/{matches[name]}/visit-contact?volunteer_id={who}", headers=headers)

        assert ask("near", volunteer_id, None).status_code == 401
        assert ask("near", volunteer_id, "wrong").status_code == 401
        assert ask("near", other).status_code == 404
        assert ask("far", volunteer_id).status_code == 403
        with db.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(
                audit_log.c.actor.like("wolontariusz:%"))).scalar() == 0
        answer = ask("near", volunteer_id)
        assert answer.status_code == 200, answer.json
        assert (answer.json["first_name"], answer.json["address"], answer.json["phone"]) == (
            "Leokadia", "ul. Nieistniejąca 4", "+48500000111")
        with db.engine.connect() as conn:
            [entry] = conn.execute(sa.select(audit_log).where(audit_log.c.actor == f"wolontariusz:{volunteer_id}")
                                   ).mappings().all()
        assert entry["subject_id"] == resident["ref"] and matches["near"] in entry["purpose"]
        assert http.get(f"/internal/matches/{matches['near']}/visit-contact", headers={
            "Authorization": f"Bearer {TOKEN}"}).status_code == 422  # no volunteer_id

        # a need with a long window: the details follow the agreed visit inside it, not the window's start
        long = http.post("/api/needs", json={
            "resident_ref": resident["ref"], "category": "ZAK", "village": "jasiow", "description": "Zakupy",
            "window_start": near_start.isoformat(), "window_end": (NOW + timedelta(hours=40)).isoformat(),
            "duration_minutes": 60})
        assert long.status_code == 201, long.json
        matches["long"] = str(uuid.uuid4())
        agreed = NOW + timedelta(hours=30)
        for kind in ("MatchProposed", "MatchAccepted"):
            extras = {"agreed_start": agreed.isoformat(), "agreed_end": (agreed + timedelta(hours=1)).isoformat()}
            if kind == "MatchProposed":
                extras.update({"offer_id": str(uuid.uuid4()), "category": "ZAK", "village": "jasiow",
                               "urgent": False, "window_start": near_start.isoformat(), "reason": "pasuje"})
            with db.transaction() as session:
                handle[kind](session, match_event(kind, matches["long"], long.json["id"], volunteer_id, NOW,
                                                  **extras))
        refused = ask("long", volunteer_id)  # the window starts in 5 h, the agreed visit in 30 h: not yet
        assert refused.status_code == 403, refused.json
    finally:
        db.dispose()
