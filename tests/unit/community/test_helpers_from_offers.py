"""Helpers who accepted an offer join the activity through community's own Kamilka gate; a withdrawn acceptance
or a check that no longer covers the day takes them off an activity with children, in any order of events."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.community import clearances
from services.community import plan_handlers as h
from services.community.db_plan import activity_helpers, helper_acceptances_waiting
from services.community.handlers import handlers
from wspolnota import localtime
from wspolnota.transport import Event

VOLUNTEER = "11111111-2222-4333-8444-555555555555"
OFFER = "33333333-2222-4333-8444-555555555555"
START = (datetime.now(UTC) + timedelta(days=30)).replace(hour=9, minute=0, second=0, microsecond=0)
DAY = localtime.local_day(START)
IDS = [f"2222222{n}-3333-4444-8555-666666666666" for n in range(3)]


def activity(children: bool = True, **over):  # type: ignore[no-untyped-def]
    return {"kind": "event", "title": "Piknik rodzinny", "village": "belno", "starts_at": START,
            "ends_at": START + timedelta(hours=3), "capacity": None, "helpers_wanted": 2,
            "involves_children": children, **over}


def follow(community, session, event):  # type: ignore[no-untyped-def]
    handler = handlers(community.outbox).get(event.type)
    if handler is not None:
        handler(session, event)


def registered(credentials=()):  # type: ignore[no-untyped-def]
    return Event("VolunteerRegistered", VOLUNTEER, {"volunteer_id": VOLUNTEER, "provider_type": "volunteer",
                                                    "villages": ["belno"], "credentials": list(credentials)}, "volunteers")


def kamilka(credential_id: str = IDS[0], start: int = -100, length: int = 400) -> dict:  # type: ignore[type-arg]
    return {"kind": "kamilka_check", "credential_id": credential_id,
            "valid_from": (DAY + timedelta(days=start)).isoformat(),
            "valid_until": (DAY + timedelta(days=start + length)).isoformat()}


def accepted(activity_id: str) -> Event:
    return Event("HelperAccepted", activity_id, {"match_id": OFFER, "activity_id": activity_id,
                                                 "volunteer_id": VOLUNTEER}, "matching")


def helpers_of(session, activity_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    return list(session.execute(sa.select(activity_helpers.c.provider_id).where(
        activity_helpers.c.activity_id == activity_id)).scalars())


def test_an_accepted_offer_makes_the_volunteer_a_helper_and_the_page_shows_who_is_missing(community, api):
    with community.db.transaction() as s:
        [activity_id] = h.schedule_activity(s, community.outbox, activity(children=False), START - timedelta(days=40))
        follow(community, s, registered())
        follow(community, s, accepted(activity_id))
        follow(community, s, accepted(activity_id))  # delivered twice: one helper
        assert helpers_of(s, activity_id) == [VOLUNTEER]
    page = api.get(f"/activities/{activity_id}").get_data(as_text=True)
    assert VOLUNTEER in page and "Brakuje pomocników: 1" in page


def test_an_acceptance_without_a_check_waits_until_the_check_reaches_this_service(community):
    with community.db.transaction() as s:
        [activity_id] = h.schedule_activity(s, community.outbox, activity(), START - timedelta(days=40))
        follow(community, s, accepted(activity_id))  # before even the registration (another topic)
        follow(community, s, registered())
        assert helpers_of(s, activity_id) == []
        follow(community, s, Event("CredentialRecorded", VOLUNTEER, {"volunteer_id": VOLUNTEER, **kamilka()},
                                   "volunteers"))
        assert helpers_of(s, activity_id) == [VOLUNTEER]


def test_a_waiting_acceptance_that_matching_withdrew_is_never_taken(community):
    with community.db.transaction() as s:
        [activity_id] = h.schedule_activity(s, community.outbox, activity(), START - timedelta(days=40))
        follow(community, s, registered())
        follow(community, s, accepted(activity_id))
        follow(community, s, Event("HelperCancelled", activity_id, {
            "match_id": OFFER, "activity_id": activity_id, "volunteer_id": VOLUNTEER, "reason": "credential_revoked",
            "accepted": True}, "matching"))
        follow(community, s, Event("CredentialRecorded", VOLUNTEER, {"volunteer_id": VOLUNTEER, **kamilka()},
                                   "volunteers"))
        assert helpers_of(s, activity_id) == []


def test_a_withdrawn_acceptance_takes_the_helper_off(community):
    with community.db.transaction() as s:
        [activity_id] = h.schedule_activity(s, community.outbox, activity(), START - timedelta(days=40))
        follow(community, s, registered([kamilka()]))
        follow(community, s, accepted(activity_id))
        assert helpers_of(s, activity_id) == [VOLUNTEER]
        follow(community, s, Event("HelperCancelled", activity_id, {
            "match_id": OFFER, "activity_id": activity_id, "volunteer_id": VOLUNTEER, "reason": "activity_cancelled",
            "accepted": True}, "matching"))
        assert helpers_of(s, activity_id) == []


def test_a_revoked_check_takes_the_helper_off_an_upcoming_activity_with_children_only(community):
    with community.db.transaction() as s:
        [children] = h.schedule_activity(s, community.outbox, activity(), START - timedelta(days=40))
        [adults] = h.schedule_activity(s, community.outbox, activity(children=False), START - timedelta(days=40))
        follow(community, s, registered([kamilka()]))
        follow(community, s, accepted(children))
        follow(community, s, accepted(adults))
        follow(community, s, Event("CredentialRevoked", VOLUNTEER, {
            "volunteer_id": VOLUNTEER, "kind": "kamilka_check", "credential_id": IDS[0],
            "reason": "revoked_by_staff"}, "volunteers"))
        assert helpers_of(s, children) == [] and helpers_of(s, adults) == [VOLUNTEER]


# -- the gate over every order of credential events and acceptances --------------------------------------------
step = st.one_of(
    st.tuples(st.just("record"), st.sampled_from(IDS), st.integers(-30, 30), st.integers(-30, 60)),
    st.tuples(st.just("expire"), st.sampled_from(IDS), st.just(0), st.just(0)),
    st.tuples(st.just("revoke"), st.sampled_from(IDS), st.just(0), st.just(0)),
    st.tuples(st.just("snapshot"), st.sampled_from(IDS), st.integers(-30, 30), st.integers(-30, 60)),
    st.tuples(st.just("erase"), st.just(""), st.just(0), st.just(0)),
    st.tuples(st.just("accept"), st.just(""), st.just(0), st.just(0)),
    st.tuples(st.just("staff_add"), st.just(""), st.just(0), st.just(0)),
)


def _event(kind: str, credential_id: str, start: int, length: int, activity_id: str) -> Event:
    base = {"volunteer_id": VOLUNTEER}
    if kind == "record":
        return Event("CredentialRecorded", VOLUNTEER, {**base, **kamilka(credential_id, start, length)}, "volunteers")
    if kind == "expire":
        return Event("CredentialExpired", VOLUNTEER, {**base, "kind": "kamilka_check", "credential_id": credential_id},
                     "volunteers")
    if kind == "revoke":
        return Event("CredentialRevoked", VOLUNTEER, {**base, "kind": "kamilka_check", "credential_id": credential_id,
                                                      "reason": "revoked_by_staff"}, "volunteers")
    if kind == "erase":
        return Event("VolunteerErased", VOLUNTEER, base, "volunteers")
    if kind == "snapshot":
        return Event("VolunteerUpdated", VOLUNTEER, {**base, "provider_type": "volunteer", "villages": ["belno"],
                                                     "credentials": [kamilka(credential_id, start, length)]},
                     "volunteers")
    return accepted(activity_id)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(step, max_size=14))
def test_no_helper_at_an_activity_with_children_lacks_a_check_covering_its_day(community, steps):
    with community.db.transaction() as s:
        s.execute(sa.delete(activity_helpers))
        s.execute(sa.delete(helper_acceptances_waiting))
        [activity_id] = h.schedule_activity(s, community.outbox, activity(), START - timedelta(days=40))
        follow(community, s, registered())
        for kind, credential_id, start, length in steps:
            if kind == "staff_add":
                try:
                    h.add_helper(s, activity_id, VOLUNTEER)
                except Exception:  # noqa: BLE001 - refused or unknown: the gate said no
                    pass
            else:
                follow(community, s, _event(kind, credential_id, start, length, activity_id))
            for helper in helpers_of(s, activity_id):
                assert clearances.cleared_for_children(s, helper, DAY), (kind, steps)

