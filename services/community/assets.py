"""Use cases of the community assets register (places, local leaders, equipment and transport to lend)."""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.community import model
from services.community.db import assets, audit_log
from wspolnota.errors import Invalid, NotFound
from wspolnota.service import Clock, utc_now

FIELDS = ("kind", "subtype", "village", "name", "description", "capacity", "accessible", "accessibility_note",
          "lendable", "contact", "consent_date")


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    row = {k: data.get(k) for k in FIELDS}
    for k in ("subtype", "description", "accessibility_note", "contact"):
        row[k] = (row[k] or "").strip()
    row["name"] = (row["name"] or "").strip()
    row["accessible"] = bool(row["accessible"])
    row["lendable"] = bool(row["lendable"])
    return row


def add_asset(session: Session, data: dict[str, Any], *, actor: str = "", clock: Clock = utc_now) -> dict[str, Any]:
    row = _clean(data)
    errors = model.asset_errors(row)
    if errors:
        raise Invalid(errors)
    now = clock()
    row.update(id=str(uuid.uuid4()), active=True, created_at=now, updated_at=now)
    session.execute(sa.insert(assets).values(**row))
    if row["kind"] == model.LEADER:
        _audit(session, "create", row["id"], actor, now)
    return row


def update_asset(session: Session, asset_id: str, data: dict[str, Any], *, actor: str = "",
                 clock: Clock = utc_now) -> dict[str, Any]:
    current = get_asset(session, asset_id)
    row = _clean({**current, **data})
    errors = model.asset_errors(row)
    if errors:
        raise Invalid(errors)
    now = clock()
    session.execute(sa.update(assets).where(assets.c.id == asset_id).values(**row, updated_at=now))
    if row["kind"] == model.LEADER:
        _audit(session, "update", asset_id, actor, now)
    return get_asset(session, asset_id)


def remove_asset(session: Session, asset_id: str, *, actor: str = "", clock: Clock = utc_now) -> None:
    """Take an asset off the register. A leader's name and contact are blanked (consent withdrawn, RODO art. 17)."""
    asset = get_asset(session, asset_id)
    now = clock()
    values: dict[str, Any] = {"active": False, "updated_at": now}
    if asset["kind"] == model.LEADER:
        values.update(name="(usunięto)", contact="", description="")
        _audit(session, "erase", asset_id, actor, now)
    session.execute(sa.update(assets).where(assets.c.id == asset_id).values(**values))


def get_asset(session: Session, asset_id: str) -> dict[str, Any]:
    row = session.execute(sa.select(assets).where(assets.c.id == asset_id)).mappings().first()
    if row is None:
        raise NotFound("Nie ma takiego zasobu.")
    return dict(row)


def list_assets(conn: sa.Connection | Session, village: str | None = None, kind: str | None = None
                ) -> list[dict[str, Any]]:
    query = sa.select(assets).where(assets.c.active.is_(True))
    if village:
        query = query.where(assets.c.village == village)
    if kind:
        query = query.where(assets.c.kind == kind)
    return [dict(r) for r in conn.execute(query.order_by(assets.c.village, assets.c.kind, assets.c.name)).mappings()]


def _audit(session: Session, action: str, asset_id: str, actor: str, now: Any) -> None:
    session.execute(sa.insert(audit_log).values(at=now, actor=actor or "system", action=action, subject="leader",
                                                subject_id=asset_id, purpose="rejestr zasobów"))
