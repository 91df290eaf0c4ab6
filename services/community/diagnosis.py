"""The diagnosis report for the gmina or one village: survey results, needs beside providers, the community's
assets and the organiser's written conclusions. Each save is a new version with the data frozen as it was
(`snapshot`), so earlier diagnoses stay readable as they were written."""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.community import assets as asset_cases
from services.community import model, surveys
from services.community.db import diagnoses, known_needs, known_providers
from services.community.db import surveys as survey_table
from wspolnota import reference
from wspolnota.errors import Invalid, NotFound
from wspolnota.service import Clock, utc_now

GMINA = "gmina"


def scopes() -> list[str]:
    return [GMINA, *sorted(reference.villages(), key=lambda c: str(reference.villages()[c]["name"]))]


def diagnosis_errors(data: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.get("scope") not in scopes():
        errors["scope"] = "Wybierz gminę albo miejscowość z listy."
    title = (data.get("title") or "").strip()
    if not title:
        errors["title"] = model.REQUIRED
    elif len(title) > 200:
        errors["title"] = "Najwyżej 200 znaków."
    if len(data.get("conclusions") or "") > 20000:
        errors["conclusions"] = "Najwyżej 20000 znaków."
    return errors


def snapshot(session: Session | sa.Connection, scope: str, now: Any) -> dict[str, Any]:
    """Everything the report shows, as plain JSON, computed now for the gmina or one village."""
    village = None if scope == GMINA else scope
    survey_results = []
    for sid in session.execute(sa.select(survey_table.c.id).where(survey_table.c.status != model.DRAFT)
                               .order_by(survey_table.c.created_at)).scalars():
        result = surveys.results(session, sid, village)
        if result["responses"] == 0:
            continue
        s = result["survey"]
        survey_results.append({
            "id": s["id"], "title": s["title"], "status": s["status"], "responses": result["responses"],
            "by_village": result["by_village"],
            "questions": [{**q, "texts": [list(t) for t in q.get("texts", [])]} for q in result["questions"]]})
    rows = asset_cases.list_assets(session, village)
    # a leader is frozen by role only: a name listed with consent must go when the consent does
    asset_rows = [{**{k: r[k] for k in ("kind", "subtype", "village", "name", "capacity", "accessible",
                                        "accessibility_note", "lendable")},
                   **({"name": ""} if r["kind"] == model.LEADER else {})} for r in rows]
    return {"generated_at": now.isoformat(), "scope": scope, "surveys": survey_results, "assets": asset_rows,
            "needs_providers": needs_beside_providers(session, village)}


def needs_beside_providers(session: Session | sa.Connection, village: str | None) -> list[dict[str, Any]]:
    """Per village: needs open, completed and cancelled (as the needs service announced them) and the active
    providers who serve it (as the volunteers service announced them)."""
    codes = [village] if village else list(reference.villages())
    need_rows = session.execute(sa.select(known_needs.c.village, known_needs.c.status, sa.func.count())
                                .group_by(known_needs.c.village, known_needs.c.status)).all()
    providers = session.execute(sa.select(known_providers.c.villages)
                                .where(known_providers.c.active.is_(True))).scalars().all()
    out = []
    for code in codes:
        counts = {status: n for v, status, n in need_rows if v == code}
        out.append({"village": code, "open": counts.get("open", 0), "completed": counts.get("completed", 0),
                    "cancelled": counts.get("cancelled", 0),
                    "providers": sum(1 for villages in providers if code in (villages or []))})
    return out


def create_version(session: Session, data: dict[str, Any], *, author: str = "", clock: Clock = utc_now
                   ) -> dict[str, Any]:
    errors = diagnosis_errors(data)
    if errors:
        raise Invalid(errors)
    scope = data["scope"]
    latest = session.execute(sa.select(sa.func.max(diagnoses.c.version)).where(diagnoses.c.scope == scope)).scalar()
    now = clock()
    row = {"id": str(uuid.uuid4()), "scope": scope, "version": (latest or 0) + 1, "title": data["title"].strip(),
           "conclusions": (data.get("conclusions") or "").strip(), "snapshot": snapshot(session, scope, now),
           "author": author, "created_at": now}
    session.execute(sa.insert(diagnoses).values(**row))
    return row


def get_version(session: Session | sa.Connection, diagnosis_id: str) -> dict[str, Any]:
    row = session.execute(sa.select(diagnoses).where(diagnoses.c.id == diagnosis_id)).mappings().first()
    if row is None:
        raise NotFound("Nie ma takiej diagnozy.")
    return dict(row)


def versions(session: Session | sa.Connection, scope: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(diagnoses.c.id, diagnoses.c.scope, diagnoses.c.version, diagnoses.c.title,
                      diagnoses.c.author, diagnoses.c.created_at)
    if scope:
        query = query.where(diagnoses.c.scope == scope)
    return [dict(r) for r in session.execute(query.order_by(diagnoses.c.scope, diagnoses.c.version.desc())).mappings()]
