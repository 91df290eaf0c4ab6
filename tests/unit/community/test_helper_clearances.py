"""The Kamilka gate for helpers at activities with children, over every order of the volunteers' credential events:
the community service's view always agrees with the rule "a check recorded, not expired or revoked since, covers the
day" (docs/events.md, "Credential events")."""
from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.community import clearances
from services.community.handlers import on_provider
from wspolnota.transport import Event

VOLUNTEER = "11111111-2222-4333-8444-555555555555"
IDS = [f"2222222{n}-3333-4444-8555-666666666666" for n in range(3)]
DAY = date(2026, 6, 13)

step = st.one_of(
    st.tuples(st.just("record"), st.sampled_from(IDS), st.integers(-30, 30), st.integers(-30, 60)),
    st.tuples(st.just("expire"), st.sampled_from(IDS), st.just(0), st.just(0)),
    st.tuples(st.just("revoke"), st.sampled_from(IDS), st.just(0), st.just(0)),
    st.tuples(st.just("snapshot"), st.sampled_from(IDS), st.integers(-30, 30), st.integers(-30, 60)),
    st.tuples(st.just("erase"), st.just(""), st.just(0), st.just(0)),
)


def _event(kind: str, credential_id: str, start: int, length: int) -> Event:
    base = {"volunteer_id": VOLUNTEER}
    credential = {"kind": "kamilka_check", "credential_id": credential_id,
                  "valid_from": (DAY + timedelta(days=start)).isoformat(),
                  "valid_until": (DAY + timedelta(days=start + length)).isoformat()}
    if kind == "record":
        return Event("CredentialRecorded", VOLUNTEER, {**base, **credential}, "volunteers")
    if kind == "expire":
        return Event("CredentialExpired", VOLUNTEER, {**base, "kind": "kamilka_check", "credential_id": credential_id},
                     "volunteers")
    if kind == "revoke":
        return Event("CredentialRevoked", VOLUNTEER, {**base, "kind": "kamilka_check", "credential_id": credential_id,
                                                      "reason": "revoked_by_staff"}, "volunteers")
    if kind == "erase":
        return Event("VolunteerErased", VOLUNTEER, base, "volunteers")
    return Event("VolunteerUpdated", VOLUNTEER, {**base, "provider_type": "volunteer", "villages": ["belno"],
                                                 "credentials": [credential]}, "volunteers")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(step, max_size=12))
def test_a_helper_is_cleared_exactly_when_a_check_still_standing_covers_the_day(db, steps):
    held: dict[str, tuple[date, date]] = {}  # the rule, told plainly
    known = True
    with db.transaction() as s:
        on_provider(s, Event("VolunteerRegistered", VOLUNTEER, {
            "volunteer_id": VOLUNTEER, "provider_type": "volunteer", "villages": ["belno"]}, "volunteers"))
        clearances.on_volunteer_event(s, Event("VolunteerRegistered", VOLUNTEER, {
            "volunteer_id": VOLUNTEER, "provider_type": "volunteer", "villages": ["belno"]}, "volunteers"))
        for kind, credential_id, start, length in steps:
            event = _event(kind, credential_id, start, length)
            on_provider(s, event)
            clearances.on_volunteer_event(s, event)
            window = (DAY + timedelta(days=start), DAY + timedelta(days=start + length))
            if kind == "record":
                held[credential_id] = window
            elif kind in ("expire", "revoke"):
                held.pop(credential_id, None)
            elif kind == "snapshot":
                held, known = {credential_id: window}, True
            else:
                held, known = {}, False
        expected = known and any(start <= DAY <= until for start, until in held.values())
        assert clearances.cleared_for_children(s, VOLUNTEER, DAY) == expected
