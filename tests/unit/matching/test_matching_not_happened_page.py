"""Staff mark an accepted visit that did not take place on the match page ("Nie odbyła się"): the follow-up of an
unanswered "did it happen?"; only an accepted visit, once, under the signed-in account."""
from __future__ import annotations

import re

import pytest

from services.matching.app import create_app


@pytest.fixture
def client(matching):  # type: ignore[no-untyped-def]
    app = create_app({"DATABASE_URL": matching.service.db.url, "TESTING": True, "AUTH_DISABLED": True,
                      "SECRET_KEY": "test", "MATCHING_CLOCK": lambda: matching.now,
                      "MATCHING_SETTINGS": matching.settings})
    return app.test_client()


def test_staff_mark_an_accepted_visit_as_not_done(matching, client) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer()
    need_id = matching.need()
    matching.approve(matching.match_of(need_id)["id"])
    offered = matching.match_of(need_id, "offered")
    url = f"/matches/{offered['id']}/not-happened"
    assert client.post(url, data={}).status_code == 400  # no CSRF token: nothing changes
    matching.respond(offered["id"], volunteer, "accept")
    page = client.get(f"/matches/{offered['id']}").get_data(as_text=True)
    assert "Nie odbyła się" in page
    csrf = token(page)
    assert client.post(url, data={"notdone-csrf_token": csrf}).status_code == 302
    matching.system.pump()
    assert [e["reason"] for e in matching.events("MatchCancelled")] == ["did_not_happen_staff"]
    again = client.post(url, data={"notdone-csrf_token": csrf})  # no longer accepted: refused, nothing changes
    assert again.status_code == 409 and "tylko wizytę przyjętą" in again.get_data(as_text=True)
    matching.system.pump()
    assert len(matching.events("MatchCancelled")) == 1


def token(page: str) -> str:
    found = re.search(r'name="notdone-csrf_token" type="hidden" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)
