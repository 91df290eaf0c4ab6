"""The offer cascade: one provider at a time with a deadline, k at once for urgent needs, and undoing
matches when an offer is withdrawn, a provider pauses or a credential expires."""
from __future__ import annotations

from datetime import timedelta

import pytest

from services.matching import actions, model, store


def approved_need(matching, **need):  # type: ignore[no-untyped-def]
    need_id = matching.need(**need)
    matching.approve(matching.match_of(need_id)["id"])
    return need_id


def test_an_approved_match_is_offered_to_one_provider_with_a_deadline(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer()
    matching.volunteer(village="kajetanow", radius_km=15)
    need_id = approved_need(matching)
    [offered] = matching.matches(status="offered")
    assert offered["volunteer_id"] == volunteer
    assert offered["deadline"] == matching.now + matching.settings.offer_deadline
    [event] = matching.events("MatchOffered")
    assert event["need_id"] == need_id and event["deadline"] == offered["deadline"].isoformat()
    assert [e["type"] for e in matching.events()] == ["MatchProposed", "MatchApproved", "MatchOffered"]


def test_acceptance_confirms_the_match(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer()
    need_id = approved_need(matching)
    matching.respond(matching.match_of(need_id, "offered")["id"], volunteer, "accept")
    assert matching.match_of(need_id, "accepted")["volunteer_id"] == volunteer
    assert matching.events("MatchAccepted")[0]["volunteer_id"] == volunteer


def test_a_decline_offers_the_task_to_the_next_candidate_without_a_new_review(matching) -> None:  # type: ignore[no-untyped-def]
    first = matching.volunteer()
    second = matching.volunteer(village="kajetanow", radius_km=15)
    need_id = approved_need(matching)
    matching.respond(matching.match_of(need_id, "offered")["id"], first, "decline", "Jestem chory")
    [declined] = matching.events("MatchDeclined")
    assert (declined["volunteer_id"], declined["reason"]) == (first, "Jestem chory")
    nxt = matching.match_of(need_id, "offered")
    assert nxt["volunteer_id"] == second and nxt["reviewer"] == store.CASCADE_REVIEWER


def test_a_timeout_expires_the_offer_and_moves_to_the_next_candidate(matching) -> None:  # type: ignore[no-untyped-def]
    first = matching.volunteer()
    second = matching.volunteer(village="kajetanow", radius_km=15)
    need_id = approved_need(matching)
    matching.now += matching.settings.offer_deadline - timedelta(minutes=1)
    assert matching.tick()["expired"] == 0
    matching.now += timedelta(minutes=1)
    assert matching.tick()["expired"] == 1
    assert matching.events("MatchExpired")[0]["volunteer_id"] == first
    assert matching.match_of(need_id, "offered")["volunteer_id"] == second


def test_a_late_answer_to_an_expired_offer_changes_nothing(matching) -> None:  # type: ignore[no-untyped-def]
    first = matching.volunteer()
    need_id = approved_need(matching)
    offer = matching.match_of(need_id, "offered")
    matching.now += matching.settings.offer_deadline
    matching.tick()
    matching.respond(offer["id"], first, "accept")
    assert matching.events("MatchAccepted") == []
    assert matching.match_of(need_id, "expired")["id"] == offer["id"]


def test_when_nobody_is_left_the_need_returns_to_the_solver_and_staff_review(matching) -> None:  # type: ignore[no-untyped-def]
    only = matching.volunteer()
    need_id = approved_need(matching)
    matching.respond(matching.match_of(need_id, "offered")["id"], only, "decline")
    assert matching.matches(need_id=need_id, status="offered") == []
    newcomer = matching.volunteer(village="belno", radius_km=10)
    assert matching.match_of(need_id, "proposed")["volunteer_id"] == newcomer


def test_an_urgent_need_alerts_k_providers_and_the_first_acceptance_wins(matching) -> None:  # type: ignore[no-untyped-def]
    people = [matching.volunteer(village=v, radius_km=15) for v in ("zagnansk", "belno", "kajetanow", "chrusty")]
    need_id = approved_need(matching, urgent=True)
    offered = matching.matches(need_id=need_id, status="offered")
    assert len(offered) == matching.settings.urgent_parallel == 2
    assert all(o["deadline"] == matching.now + matching.settings.urgent_offer_deadline for o in offered)
    winner = offered[1]
    matching.respond(winner["id"], winner["volunteer_id"], "accept")
    assert matching.match_of(need_id, "accepted")["volunteer_id"] == winner["volunteer_id"]
    covered = matching.events("MatchCancelled")
    assert sorted(c["volunteer_id"] for c in covered) == sorted(
        o["volunteer_id"] for o in offered if o["id"] != winner["id"])
    assert {c["reason"] for c in covered} == {"covered"}
    assert set(people) >= {o["volunteer_id"] for o in offered}


def test_a_multi_volunteer_need_is_covered_only_when_every_slot_accepted(matching) -> None:  # type: ignore[no-untyped-def]
    a, b = matching.volunteer(), matching.volunteer(village="belno", radius_km=10)
    need_id = matching.need(slots=2, category="ZAK")
    for proposal in matching.matches(need_id=need_id, status="proposed"):
        matching.approve(proposal["id"])
    offers = {m["volunteer_id"]: m["id"] for m in matching.matches(need_id=need_id, status="offered")}
    assert set(offers) == {a, b}
    matching.respond(offers[a], a, "accept")
    assert matching.match_of(need_id, "offered")["volunteer_id"] == b
    matching.respond(offers[b], b, "accept")
    assert len(matching.matches(need_id=need_id, status="accepted")) == 2


def test_a_withdrawn_offer_cancels_the_match_and_the_need_is_offered_to_the_next(matching) -> None:  # type: ignore[no-untyped-def]
    first = matching.volunteer()
    second = matching.volunteer(village="kajetanow", radius_km=15)
    need_id = approved_need(matching)
    offer = matching.match_of(need_id, "offered")
    matching.publish("volunteers", "OfferWithdrawn", first, {"offer_id": offer["offer_id"], "volunteer_id": first})
    [cancelled] = matching.events("MatchCancelled")
    assert (cancelled["match_id"], cancelled["reason"]) == (offer["id"], "offer_withdrawn")
    assert matching.match_of(need_id, "offered")["volunteer_id"] == second


def test_a_pause_cancels_even_an_accepted_match_and_the_need_is_rematched(matching) -> None:  # type: ignore[no-untyped-def]
    first = matching.volunteer()
    second = matching.volunteer(village="kajetanow", radius_km=15)
    need_id = approved_need(matching)
    matching.respond(matching.match_of(need_id, "offered")["id"], first, "accept")
    matching.publish("volunteers", "VolunteerPaused", first, {"volunteer_id": first})
    assert matching.events("MatchCancelled")[0]["reason"] == "volunteer_paused"
    assert matching.match_of(need_id, "offered")["volunteer_id"] == second


def test_an_expired_kamilka_check_cancels_tutoring_but_not_shopping(matching) -> None:  # type: ignore[no-untyped-def]
    checked = [{"kind": "kamilka_check", "valid_from": "2026-01-01", "valid_until": "2027-06-30"}]
    tutor = matching.volunteer(categories=("KOR", "ZAK"), credentials=checked)
    tutoring = approved_need(matching, category="KOR")
    shopping = approved_need(matching, category="ZAK")
    matching.publish("volunteers", "CredentialExpired", tutor, {"volunteer_id": tutor, "kind": "kamilka_check"})
    [cancelled] = matching.events("MatchCancelled")
    assert (cancelled["need_id"], cancelled["reason"]) == (tutoring, "credential_expired")
    assert matching.match_of(shopping, "offered")["volunteer_id"] == tutor
    assert matching.matches(need_id=tutoring, status="offered") == []


def test_a_cancelled_need_cancels_its_offers(matching) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    need_id = approved_need(matching)
    matching.publish("needs", "NeedCancelled", need_id, {"need_id": need_id, "reason": ""})
    assert matching.events("MatchCancelled")[0]["reason"] == "need_cancelled"
    assert matching.matches(need_id=need_id, status="offered") == []
    matching.tick()
    assert matching.matches(need_id=need_id, status="proposed") == []


def test_a_completed_need_completes_the_accepted_match_with_its_hours(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer()
    need_id = approved_need(matching, duration_minutes=90)
    matching.respond(matching.match_of(need_id, "offered")["id"], volunteer, "accept")
    matching.publish("needs", "NeedCompleted", need_id, {"need_id": need_id})
    [done] = matching.events("MatchCompleted")
    assert (done["volunteer_id"], done["hours"], done["category"]) == (volunteer, 1.5, "ZAK")


def test_staff_confirm_an_accepted_visit_with_its_hours(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer()
    need_id = approved_need(matching)
    offered = matching.match_of(need_id, "offered")
    with pytest.raises(model.NotAllowed, match="przyjęte"):
        matching.act(actions.complete_match, offered["id"], 1.0, matching.now)
    matching.respond(offered["id"], volunteer, "accept")
    matching.act(actions.complete_match, offered["id"], 2.5, matching.now)
    assert matching.events("MatchCompleted") == [{
        "type": "MatchCompleted", "match_id": offered["id"], "need_id": need_id, "volunteer_id": volunteer,
        "hours": 2.5, "category": "ZAK"}]  # the scope of the work, for the volunteer's hours ledger


def test_an_offer_for_a_visit_starting_soon_must_be_answered_before_its_agreed_start(matching) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer()
    start = matching.now + timedelta(minutes=30)
    need_id = approved_need(matching, start=start, window_end=(start + timedelta(minutes=90)).isoformat())
    offered = matching.match_of(need_id, "offered")
    assert offered["agreed_start"] == start  # a 60-minute visit in a 90-minute window, at its earliest free start
    assert matching.settings.offer_deadline > offered["agreed_start"] - matching.now
    assert offered["deadline"] == offered["agreed_start"]
