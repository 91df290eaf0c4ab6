"""'Today' is the date in Zagnańsk, not on the server: the containers and CI run in UTC, which is a day behind
Warsaw between midnight and 01:00 (02:00 in summer)."""
from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from marshmallow import ValidationError

from services.needs.schemas import ResidentCreate
from services.volunteers import model
from wspolnota import localtime

# 23:30 UTC on 15 January is 00:30 on 16 January in Warsaw (CET, UTC+1). A day far from the real one, so a
# service that used the machine's date instead would fail one of the two checks in each test below.
JUST_AFTER_MIDNIGHT_IN_WARSAW = datetime(2031, 1, 15, 23, 30, tzinfo=UTC)


@pytest.mark.parametrize(("moment", "day"), [
    (datetime(2026, 12, 4, 22, 59, tzinfo=UTC), date(2026, 12, 4)),
    (datetime(2026, 12, 4, 23, 0, tzinfo=UTC), date(2026, 12, 5)),
    (datetime(2026, 7, 1, 21, 59, tzinfo=UTC), date(2026, 7, 1)),   # CEST, UTC+2
    (datetime(2026, 7, 1, 22, 0, tzinfo=UTC), date(2026, 7, 2)),
    (datetime(2026, 12, 4, 23, 30), date(2026, 12, 5)),               # naive: taken as UTC, as SQLite returns it
])
def test_the_local_day_is_the_day_in_warsaw(moment: datetime, day: date) -> None:
    assert localtime.local_day(moment) == day


@pytest.fixture
def after_midnight_in_warsaw(monkeypatch: pytest.MonkeyPatch) -> date:
    monkeypatch.setattr(localtime, "now", lambda: JUST_AFTER_MIDNIGHT_IN_WARSAW)
    assert localtime.today() == date(2031, 1, 16)
    return date(2031, 1, 16)


def test_a_consent_given_today_is_not_in_the_future_after_midnight(after_midnight_in_warsaw: date) -> None:
    resident = {"name": "Anna Nowak", "address": "Belno 12", "village": "belno", "preferred_channel": "phone",
                "phone": "+48 601 202 303", "legal_basis": "consent",
                "consent_date": after_midnight_in_warsaw.isoformat()}
    ResidentCreate().load(resident)  # raised "Data zgody nie może być w przyszłości." with the server's UTC date
    tomorrow = date(2031, 1, 17).isoformat()
    with pytest.raises(ValidationError) as err:
        ResidentCreate().load({**resident, "consent_date": tomorrow})
    assert err.value.messages["consent_date"] == "Data zgody nie może być w przyszłości."


def test_a_register_check_made_today_is_not_in_the_future_after_midnight(tmp_path: Path) -> None:
    from services.volunteers.app import create_app
    from services.volunteers.bootstrap import bootstrap

    parts = bootstrap(f"sqlite:///{tmp_path / 'volunteers.db'}", clock=lambda: JUST_AFTER_MIDNIGHT_IN_WARSAW)
    parts.db.migrate()
    client = create_app({"TESTING": True, "AUTH_DISABLED": True}, parts=parts).test_client()
    person = {"name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48 601 202 303",
              "villages": ["belno"]}
    volunteer_id = client.post("/api/volunteers", json=person).json["id"]
    warsaw_today = date(2031, 1, 16).isoformat()
    check = {"kind": model.KAMILKA_CHECK, "register_checked_on": warsaw_today,
             "register_result": model.KAMILKA_NOT_LISTED, "krk_seen_on": warsaw_today}
    assert client.post(f"/api/volunteers/{volunteer_id}/credentials", json=check).status_code == 201
    refused = client.post(f"/api/volunteers/{volunteer_id}/credentials", json={**check, "krk_seen_on": "2031-01-17"})
    assert refused.status_code == 422
    assert refused.json["errors"]["json"]["krk_seen_on"] == ["Data nie może być z przyszłości."]
    parts.dispose()
