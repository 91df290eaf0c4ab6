"""What the CUS case system may do here (docs/case-system.md): the use cases its API and its CSV files share.

No HTTP here: `caseapi.py` answers the API, `casepages.py` the staff page, `csvio.py` reads and writes the
files and registers each row through `create_need`. A need the case system sent is linked to it
(`case_system_needs`: who sent it, under which id of theirs); the case system sees only such needs.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError, fields, validate
from sqlalchemy.orm import Session

from services.needs import handlers, schemas
from services.needs.db import case_system_needs
from wspolnota import config
from wspolnota.schemas import village_field
from wspolnota.transport.outbox import Outbox

NEED_MISSING = "Nie ma takiej potrzeby z systemu dziedzinowego."
PLAN_MISSING = "Nie ma takiego planu IPUS."


class CaseNeedCreate(schemas.NeedCreate):
    """A one-off need for a plan. `resident_ref` and `village` may be left out when this service already
    has the plan's support package (they are taken from it; a different resident is refused)."""

    class Meta:
        exclude = ("source",)

    plan_ref = fields.String(required=True, validate=schemas.REF, metadata={"description": "IPUS number"})
    resident_ref = fields.String(load_default=None, validate=validate.Length(min=1, max=64),
                                 metadata={"description": "pseudonym shared by CUS and the case system"})
    village = village_field(load_default=None)
    external_id = fields.String(load_default=None, validate=schemas.REF,
                                metadata={"description": "the case system's own id of this need; unique"})


class BodyInvalid(Exception):
    """A body the case system sent that cannot be registered: field → Polish messages."""

    def __init__(self, messages: dict[str, Any]):
        super().__init__(messages)
        self.messages = messages


class AlreadyRegistered(Exception):
    def __init__(self, need_id: str):
        super().__init__(need_id)
        self.need_id = need_id


def keep_keys_days() -> int:
    """CASE_SYSTEM_IDEMPOTENCY_DAYS: one value for the API's replay window and the job that forgets keys."""
    return config.get_int("CASE_SYSTEM_IDEMPOTENCY_DAYS")


def need_by_external_id(session: Session, external_id: str) -> str | None:
    return session.execute(sa.select(case_system_needs.c.need_id)
                           .where(case_system_needs.c.external_id == external_id)).scalar()


def with_plan(session: Session, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Fill the resident and village from the plan's package; refuse a plan of someone else."""
    plan_ref = body.get("plan_ref")
    if not isinstance(plan_ref, str):
        return body, {}
    package = handlers._package(session, plan_ref)
    errors: dict[str, list[str]] = {}
    if package is None:
        if not body.get("resident_ref"):
            errors["resident_ref"] = ["Nie ma tu pakietu wsparcia o tym numerze planu; podaj pseudonim mieszkańca."]
        if not body.get("village"):
            errors["village"] = ["To pole jest wymagane."]
        return body, errors
    if package["status"] != "open":
        errors["plan_ref"] = ["Ten pakiet wsparcia jest już zamknięty."]
    if body.get("resident_ref") and body["resident_ref"] != package["resident_ref"]:
        errors["resident_ref"] = ["Ten plan IPUS dotyczy innego mieszkańca."]
    return {**body, "resident_ref": body.get("resident_ref") or package["resident_ref"],
            "village": body.get("village") or package["village"]}, errors


def create_need(session: Session, outbox: Outbox, body: Any, origin: str, actor: str, now: datetime
                ) -> dict[str, Any]:
    """Register a need the case system sent (BodyInvalid, AlreadyRegistered); publishes NeedRegistered."""
    if not isinstance(body, dict):
        raise BodyInvalid({"_schema": ["Treść żądania musi być obiektem JSON."]})
    body, errors = with_plan(session, body)
    try:
        data = CaseNeedCreate().load(body)
    except ValidationError as err:
        errors = {**err.messages, **errors}  # type: ignore[dict-item]
    if errors:
        raise BodyInvalid(errors)
    external_id = data.pop("external_id")
    if external_id:
        existing = need_by_external_id(session, external_id)
        if existing:
            raise AlreadyRegistered(existing)
    try:
        # an API key is no person with a role: it may never switch the category's staff review off
        row = handlers.register_need(session, outbox, {**data, "source": "case_system"}, actor=actor,
                                     may_moderate=False)
    except handlers.Invalid as err:
        raise BodyInvalid({k: v if isinstance(v, list) else [v] for k, v in err.errors.items()}) from err
    session.execute(sa.insert(case_system_needs).values(need_id=row["id"], origin=origin[:100],
                                                        external_id=external_id, created_at=now))
    return {**row, "external_id": external_id}


def linked_need(session: Session, need_id: str, for_update: bool = False) -> dict[str, Any]:
    """A need that came from the case system (others are not its business: NotFound)."""
    link = session.execute(sa.select(case_system_needs).where(case_system_needs.c.need_id == need_id)
                           ).mappings().first()
    if link is None:
        raise handlers.NotFound(need_id, NEED_MISSING)
    return {**handlers.get_need(session, need_id, for_update), "external_id": link["external_id"]}


def update_need(session: Session, outbox: Outbox, need_id: str, changes: dict[str, Any], actor: str
                ) -> dict[str, Any]:
    """Change the terms of a need the case system sent (it may never switch staff review off)."""
    link = linked_need(session, need_id, for_update=True)
    row = handlers.update_need(session, outbox, need_id, changes, actor, may_moderate=False)
    return {**row, "external_id": link["external_id"]}


def cancel_need(session: Session, outbox: Outbox, need_id: str, reason: str, actor: str) -> dict[str, Any]:
    link = linked_need(session, need_id, for_update=True)
    row = handlers.cancel_need(session, outbox, need_id, reason, actor)
    return {**row, "external_id": link["external_id"]}
