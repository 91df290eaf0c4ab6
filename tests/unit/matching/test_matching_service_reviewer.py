"""Every review decision is tied to the signed-in account: approve, reject and pick record who decided from
the session (never a name typed into a form or a JSON body), and each of them and every change of a
category's moderation writes an audit entry (who, what, when)."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from services.matching.app import create_app
from services.matching.db import audit_log
from wspolnota.testing import signed_in


@pytest.fixture
def client(matching):  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": matching.service.db.url, "TESTING": True, "SECRET_KEY": "test",
                      "MATCHING_CLOCK": lambda: matching.now, "MATCHING_SETTINGS": matching.settings})
    return signed_in(app.test_client(), role="osl", login="akowalska", name="Anna Kowalska")


SIGNED_IN = "Anna Kowalska (akowalska)"


def audit(matching) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    with matching.service.db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(audit_log).order_by(audit_log.c.id)).mappings()]


def csrf(page: str, prefix: str) -> str:
    return re.search(rf'name="{prefix}-csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_a_reviewer_typed_in_the_api_body_is_refused_and_never_stored(matching, client) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    need_id = matching.need()
    proposal = matching.match_of(need_id)
    refused = client.post(f"/api/matches/{proposal['id']}/approve", json={"reviewer": "Ktoś Inny"})
    assert refused.status_code == 422 and "reviewer" in refused.get_data(as_text=True)
    assert matching.match_of(need_id)["status"] == "proposed"
    approved = client.post(f"/api/matches/{proposal['id']}/approve", json={})
    assert approved.status_code == 200, approved.json
    assert approved.json["reviewer"] == SIGNED_IN
    assert matching.match_of(need_id, "offered")["reviewer"] == SIGNED_IN
    [entry] = [e for e in audit(matching) if e["action"] == "approve"]
    assert (entry["actor"], entry["subject_id"], entry["at"]) == (SIGNED_IN, proposal["id"], matching.now)


def test_the_review_form_has_no_reviewer_field_and_a_posted_one_is_ignored(matching, client) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    need_id = matching.need()
    proposal = matching.match_of(need_id)
    page = client.get(f"/matches/{proposal['id']}").get_data(as_text=True)
    assert "reviewer" not in page
    response = client.post(f"/matches/{proposal['id']}/reject", data={
        "reject-csrf_token": csrf(page, "reject"), "reject-reason": "Pani Zofia woli kogoś innego",
        "reject-reviewer": "Ktoś Inny"})
    assert response.status_code == 302
    assert matching.match_of(need_id, "rejected")["reviewer"] == SIGNED_IN
    [entry] = audit(matching)
    assert (entry["action"], entry["actor"], entry["subject_id"]) == ("reject", SIGNED_IN, proposal["id"])
    assert "Zofia" not in entry["detail"]  # the typed reason stays on the match, not in the audit log


def test_a_staff_pick_is_audited_with_the_signed_in_account(matching, client) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    other = matching.volunteer(village="kajetanow", radius_km=15)
    need_id = matching.need()
    proposal = matching.match_of(need_id)
    response = client.post(f"/api/matches/{proposal['id']}/pick", json={"volunteer_id": other})
    assert response.status_code == 201, response.json
    assert response.json["reviewer"] == SIGNED_IN
    actions = [(e["action"], e["actor"]) for e in audit(matching)]
    assert actions == [("pick", SIGNED_IN), ("approve", SIGNED_IN)]
    assert other in audit(matching)[0]["detail"]


def test_a_change_of_a_categorys_moderation_is_audited(matching, client) -> None:  # type: ignore[no-untyped-def]
    response = client.put("/api/moderation/ZAK", json={"mode": "auto"})
    assert response.status_code == 200
    [entry] = audit(matching)
    assert (entry["action"], entry["actor"], entry["subject_id"], entry["detail"]) == (
        "moderation", SIGNED_IN, "ZAK", "review -> auto")
