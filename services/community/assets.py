"""Use cases of the community assets register (places, local leaders, equipment and transport to lend).

Every change is published on `community` in the same transaction (AssetRecorded / AssetRemoved, see
contracts/community.py): matching shows the places on its village map. A place carries its name; equipment and
transport carry kind, village and figures only; a local leader is published without name, role or contact, so
the bus knows only how many leaders a village has. `republish` sends every active asset again (the backfill for
assets recorded before the events existed: `python -m services.community.assets republish`)."""
from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from contracts import community as contract
from services.community import model
from services.community.db import assets, audit_log
from wspolnota.errors import Invalid, NotFound
from wspolnota.service import Clock, utc_now
from wspolnota.transport.outbox import Outbox

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


def asset_event(row: dict[str, Any]) -> dict[str, Any]:
    """AssetRecorded's payload: no leader's name, role or contact ever; a place's name, nothing else's."""
    leader = row["kind"] == model.LEADER
    return {"asset_id": row["id"], "kind": row["kind"], "village": row["village"],
            "subtype": "" if leader else (row.get("subtype") or ""),
            "name": row["name"] if row["kind"] == model.PLACE else None,
            "capacity": None if leader else row.get("capacity"),
            "accessible": False if leader else bool(row.get("accessible")),
            "lendable": False if leader else bool(row.get("lendable"))}


def _recorded(session: Session, outbox: Outbox, row: dict[str, Any]) -> None:
    outbox.add(session, contract.TOPIC, "AssetRecorded", row["id"], asset_event(row))


def add_asset(session: Session, outbox: Outbox, data: dict[str, Any], *, actor: str = "",
              clock: Clock = utc_now) -> dict[str, Any]:
    row = _clean(data)
    errors = model.asset_errors(row)
    if errors:
        raise Invalid(errors)
    now = clock()
    row.update(id=str(uuid.uuid4()), active=True, created_at=now, updated_at=now)
    session.execute(sa.insert(assets).values(**row))
    if row["kind"] == model.LEADER:
        _audit(session, "create", row["id"], actor, now)
    _recorded(session, outbox, row)
    return row


def update_asset(session: Session, outbox: Outbox, asset_id: str, data: dict[str, Any], *, actor: str = "",
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
    updated = get_asset(session, asset_id)
    if updated["active"]:
        _recorded(session, outbox, updated)
    return updated


def remove_asset(session: Session, outbox: Outbox, asset_id: str, *, actor: str = "",
                 clock: Clock = utc_now) -> None:
    """Take an asset off the register. A leader's name and contact are blanked (consent withdrawn, RODO art. 17)."""
    asset = get_asset(session, asset_id)
    now = clock()
    values: dict[str, Any] = {"active": False, "updated_at": now}
    if asset["kind"] == model.LEADER:
        values.update(name="(usunięto)", contact="", description="")
        _audit(session, "erase", asset_id, actor, now)
    session.execute(sa.update(assets).where(assets.c.id == asset_id).values(**values))
    outbox.add(session, contract.TOPIC, "AssetRemoved", asset_id, {"asset_id": asset_id})


def republish(session: Session, outbox: Outbox) -> int:
    """Every active asset published again (AssetRecorded is idempotent at the consumer): the backfill."""
    rows = list_assets(session)
    for row in rows:
        _recorded(session, outbox, row)
    return len(rows)


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


def main(argv: list[str] | None = None) -> int:
    """`python -m services.community.assets republish [--database-url URL]`: the one-off backfill."""
    import argparse

    from services.community.db import make_db
    from services.community.handlers import PUBLISHES

    parser = argparse.ArgumentParser(prog="python -m services.community.assets")
    parser.add_argument("command", choices=["republish"])
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    db = make_db(args.database_url)
    try:
        with db.transaction() as session:
            count = republish(session, Outbox(db, PUBLISHES))
    finally:
        db.dispose()
    print(f"republished {count} asset(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
