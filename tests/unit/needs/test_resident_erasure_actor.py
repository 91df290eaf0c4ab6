"""An erasure names the signed-in account in the audit log, never a name typed into the form, the body or a
header: the page's form and the API body have no field for it, and a typed one is refused."""
from __future__ import annotations

import re

from services.needs.app import create_app
from tests.unit.needs.conftest import resident_body
from wspolnota.testing import signed_in


def signed_in_needs(needs, role: str = "social_worker", login: str = "as.nowak", name: str = "Anna Nowak"):  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": needs.db.url, "TESTING": True, "SECRET_KEY": "erase-actor"})
    return app, signed_in(app.test_client(), role, login, name)


def erasures(needs) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    return [a for a in needs.rows("audit_log") if a["action"] == "erase"]


def test_the_erasure_page_records_the_signed_in_account_and_offers_no_field_for_a_name(needs) -> None:  # type: ignore[no-untyped-def]
    resident = needs.client.post("/api/residents", json=resident_body()).json
    app, client = signed_in_needs(needs)
    url = f"/residents/{resident['id']}/erase"
    page = client.get(url).get_data(as_text=True)
    assert set(re.findall(r'<(?:input|textarea|select)[^>]*name="([^"]+)"', page)) <= {"csrf_token", "reason", "confirm"}
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    done = client.post(url, data={"csrf_token": token, "reason": "wniosek 7/2026", "confirm": "y",
                                  "actor": "Ktoś Zupełnie Inny", "erased_by": "Ktoś Zupełnie Inny"},
                       headers={"X-Actor": "Ktoś Zupełnie Inny"})
    assert done.status_code == 302
    [entry] = erasures(needs)
    assert entry["actor"] == "Anna Nowak (as.nowak)" and entry["subject_id"] == resident["id"]
    assert "Ktoś" not in repr(needs.rows("audit_log"))
    app.extensions["db"].dispose()


def test_the_erasure_api_refuses_a_typed_name_and_ignores_headers(needs) -> None:  # type: ignore[no-untyped-def]
    resident = needs.client.post("/api/residents", json=resident_body()).json
    app, client = signed_in_needs(needs, "osl", "o.kowal", "Olga Kowal")
    url = f"/api/residents/{resident['id']}/erase"
    typed = client.post(url, json={"reason": "wniosek 8/2026", "erased_by": "Ktoś Inny"})
    assert typed.status_code == 422 and "erased_by" in typed.json["errors"]["json"]
    assert erasures(needs) == [] and needs.rows("residents")[0]["erased_at"] is None
    done = client.post(url, json={"reason": "wniosek 8/2026"}, headers={"X-Actor": "Ktoś Inny"})
    assert done.status_code == 200
    assert [e["actor"] for e in erasures(needs)] == ["Olga Kowal (o.kowal)"]
    app.extensions["db"].dispose()
