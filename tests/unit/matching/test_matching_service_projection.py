"""The projection: built from needs and volunteers events, tolerant of missing fields, rebuildable."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bench.matching.service_harness import NOW
from services.matching import projection, world
from services.matching.db import PROJECTION, applied_events, providers


def snapshot(matching):  # type: ignore[no-untyped-def]
    with matching.service.db.engine.connect() as conn:
        return {t.name: sorted(tuple(sorted(r.items())) for r in
                               (dict(m) for m in conn.execute(sa.select(t)).mappings()))
                for t in PROJECTION}


def test_fields_a_producer_leaves_out_take_the_agreed_defaults(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = matching.volunteer()
    with matching.service.db.engine.connect() as conn:
        row = conn.execute(sa.select(providers)).mappings().one()
    provider = projection.provider_from_row(row, None)
    assert row["volunteer_id"] == volunteer_id
    assert provider.verified and not provider.paused
    assert provider.languages == frozenset({"pl"}) and provider.hours_per_week == projection.DEFAULT_HOURS_PER_WEEK


def test_new_optional_fields_reach_the_matcher(matching) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer(languages=["pl", "uk"], radius_km=7.5, home_village="belno", max_open_tasks=1,
                       credentials=[{"kind": "own_car", "valid_from": "2026-01-01", "valid_until": None}])
    with matching.service.db.transaction() as session:
        [provider] = world.load_world(session, NOW, matching.settings).providers.values()
    assert provider.languages == frozenset({"pl", "uk"}) and provider.radius_km == 7.5
    assert provider.max_open_tasks == 1
    assert provider.holds("car", NOW.date()), "own_car on the bus is the rules' car"


def test_an_unverified_volunteer_is_never_proposed(matching) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer(verified=False)
    need_id = matching.need()
    assert matching.matches() == []
    assert matching.events("MatchProposed") == []
    with matching.service.db.engine.connect() as conn:
        funnel = conn.execute(sa.text("SELECT funnel FROM unmet_needs WHERE need_id = :n"), {"n": need_id}).scalar()
    assert "provider_verified" in funnel


def test_the_projection_rebuilt_from_applied_events_equals_the_live_one(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = matching.volunteer(categories=("ZAK", "TOW"))
    matching.publish("volunteers", "CredentialRecorded", volunteer_id, {
        "volunteer_id": volunteer_id, "kind": "first_aid", "valid_from": "2026-01-01", "valid_until": "2027-01-01"})
    matching.publish("volunteers", "VolunteerPaused", volunteer_id, {"volunteer_id": volunteer_id})
    offer_id = matching.offer(volunteer_id, categories=("OGR",))
    matching.publish("volunteers", "OfferWithdrawn", volunteer_id, {"offer_id": offer_id, "volunteer_id": volunteer_id})
    matching.need()
    cancelled = matching.need(category="TOW")
    matching.publish("needs", "NeedCancelled", cancelled, {"need_id": cancelled, "reason": ""})
    live = snapshot(matching)
    with matching.service.db.transaction() as session:
        replayed = projection.rebuild(session)
    assert replayed == 9
    assert snapshot(matching) == live
    with matching.service.db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(applied_events)).scalar() == 9


def test_a_rebuild_after_losing_the_projection_restores_it(matching) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    matching.need()
    live = snapshot(matching)
    with matching.service.db.transaction() as session:
        for table in PROJECTION:
            session.execute(sa.delete(table))
    assert snapshot(matching) != live
    with matching.service.db.transaction() as session:
        projection.rebuild(session)
    assert snapshot(matching) == live


def test_weekly_slots_become_windows_in_warsaw_time(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = matching.volunteer(offer=False)
    matching.offer(volunteer_id, weekly_slots=[{"weekday": 4, "start": "10:00", "end": "12:00"}])  # Fridays
    with matching.service.db.transaction() as session:
        free = projection.availability(session, NOW, horizon_days=7)[volunteer_id]
    [(window, _offer)] = free.windows
    assert window.start == NOW.replace(day=27, hour=9) and window.end - window.start == timedelta(hours=2)


def test_without_weekly_slots_of_its_own_an_offer_follows_the_profile_s_weekly_slots(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = matching.volunteer(offer=False, weekly_slots=[{"weekday": 4, "start": "10:00", "end": "12:00"}])
    matching.offer(volunteer_id)
    with matching.service.db.transaction() as session:
        free = projection.availability(session, NOW, horizon_days=7)[volunteer_id]
    assert [w.start for w, _ in free.windows] == [NOW.replace(day=27, hour=9)]


def test_absence_days_are_cut_out_of_the_free_time(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = matching.volunteer(unavailable=[{"starts_on": "2026-11-27", "ends_on": "2026-11-28"}])
    with matching.service.db.transaction() as session:
        free = projection.availability(session, NOW, horizon_days=7)[volunteer_id]
    for window, _ in free.windows:
        assert window.end <= NOW.replace(day=26, hour=23) or window.start >= NOW.replace(day=28, hour=23)
    assert len(free.windows) == 2
    need_id = matching.need()  # tomorrow, 27 November: away
    assert matching.matches(need_id=need_id) == []
