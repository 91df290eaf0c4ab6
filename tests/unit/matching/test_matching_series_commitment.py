"""One "yes" for a weekly series: the later occurrences go to the committed provider without offers, each through
every gate at its own time; a failing gate sends that week to the cascade; stepping back re-offers."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bench.matching.service_harness import NOW, TOMORROW_9, MatchingService, new_id
from services.matching import series
from services.matching.handlers import handlers
from services.matching.model import ACTIVE, NotAllowed

WEEKS = 4


def weekly_series(matching: MatchingService, weeks: int = WEEKS, **over) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    series_id = new_id()
    needs = [matching.need(start=TOMORROW_9 + timedelta(days=7 * k), series_id=series_id, plan_ref="IPUS/1/2026",
                           continuity=True, **over) for k in range(weeks)]
    return series_id, needs


def provider(matching: MatchingService, village: str = "zagnansk", **over) -> str:  # type: ignore[no-untyped-def]
    """A volunteer available for the next five weeks."""
    volunteer_id = matching.volunteer(village=village, offer=False, **over)
    matching.offer(volunteer_id, village=village, categories=tuple(over.get("categories", ("ZAK",))),
                   available_to=(NOW + timedelta(days=40)).isoformat())
    return volunteer_id


def accept_first_for_the_series(matching: MatchingService, need_id: str, volunteer_id: str) -> str:
    proposal = matching.match_of(need_id)
    assert proposal["volunteer_id"] == volunteer_id
    matching.approve(proposal["id"])
    matching.respond(proposal["id"], volunteer_id, "accept", scope="series")
    return str(proposal["id"])


def test_accepting_the_series_gives_every_later_visit_to_the_provider_without_an_offer(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = provider(matching)
    series_id, needs = weekly_series(matching)
    first = accept_first_for_the_series(matching, needs[0], volunteer)
    for need_id in needs:
        assert matching.match_of(need_id, "accepted")["volunteer_id"] == volunteer
    [offer] = matching.events("MatchOffered")  # only the first week was offered
    assert offer["match_id"] == first and offer["series_id"] == series_id
    [committed] = matching.events("SeriesCommitted")
    given = [e for e in matching.events("MatchAccepted") if e.get("series_commitment")]
    assert {e["need_id"] for e in given} == set(needs[1:])
    assert all(e["series_commitment"] == committed["commitment_id"] and e["agreed_start"] for e in given)
    assert not [e for e in matching.events() if e["type"] == "MatchProposed" and e["need_id"] == needs[3]]


def test_a_plain_acceptance_of_a_series_visit_commits_to_nothing(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = provider(matching)
    _, needs = weekly_series(matching, weeks=2)
    proposal = matching.match_of(needs[0])
    matching.approve(proposal["id"])
    matching.respond(proposal["id"], volunteer, "accept")
    assert matching.events("SeriesCommitted") == []
    assert matching.matches(need_id=needs[1], status="accepted") == []


def test_the_commitments_visits_count_as_one_open_task(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = provider(matching, max_open_tasks=2)
    _, needs = weekly_series(matching)
    accept_first_for_the_series(matching, needs[0], volunteer)
    assert len(matching.matches(volunteer_id=volunteer, status="accepted")) == WEEKS
    other = matching.need(start=TOMORROW_9 + timedelta(hours=5))
    assert matching.match_of(other)["volunteer_id"] == volunteer  # one task taken, one left


def test_a_week_without_a_kamilka_check_goes_to_the_cascade_and_the_commitment_stays(matching) -> None:  # type: ignore[no-untyped-def]
    check_until = (TOMORROW_9 + timedelta(days=8)).date().isoformat()  # covers weeks 0 and 1 only
    kamilka = [{"kind": "kamilka_check", "valid_from": "2026-01-01", "valid_until": check_until,
                "credential_id": new_id()}]
    volunteer = provider(matching, categories=("KOR",), credentials=kamilka)
    backup = provider(matching, village="kajetanow", radius_km=15, categories=("KOR",), credentials=[
        {"kind": "kamilka_check", "valid_from": "2026-01-01", "valid_until": "2027-12-31", "credential_id": new_id()}])
    _, needs = weekly_series(matching, category="KOR", involves_minor=True)
    accept_first_for_the_series(matching, needs[0], volunteer)
    assert matching.match_of(needs[1], "accepted")["volunteer_id"] == volunteer
    skipped = matching.events("SeriesVisitSkipped")
    assert {(e["need_id"], e["reason"]) for e in skipped} == {(needs[2], "kamilka_gate"), (needs[3], "kamilka_gate")}
    for need_id in needs[2:]:
        assert matching.matches(need_id=need_id, volunteer_id=volunteer, status="accepted") == []
        # the normal path: offered at once by the cascade, or the proposal made for it before stays for review
        assert [m["volunteer_id"] for m in matching.matches(need_id=need_id) if m["status"] in ACTIVE] == [backup]
    assert matching.events("SeriesCommitmentEnded") == []


def test_a_revoked_check_the_series_needs_ends_the_commitment(matching) -> None:  # type: ignore[no-untyped-def]
    credential_id = new_id()
    volunteer = provider(matching, categories=("KOR",), credentials=[
        {"kind": "kamilka_check", "valid_from": "2026-01-01", "valid_until": "2027-12-31",
         "credential_id": credential_id}])
    _, needs = weekly_series(matching, category="KOR", involves_minor=True)
    accept_first_for_the_series(matching, needs[0], volunteer)
    matching.publish("volunteers", "CredentialRevoked", volunteer, {
        "volunteer_id": volunteer, "credential_id": credential_id, "kind": "kamilka_check",
        "reason": "revoked_by_staff"})
    [ended] = matching.events("SeriesCommitmentEnded")
    assert ended["reason"] == "credential_revoked"
    assert matching.matches(volunteer_id=volunteer, status="accepted") == []


def test_an_absence_sends_that_week_to_the_cascade(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = provider(matching)
    backup = provider(matching, village="kajetanow", radius_km=15)
    _, needs = weekly_series(matching)
    away = (TOMORROW_9 + timedelta(days=14)).date().isoformat()
    matching.publish("volunteers", "VolunteerUpdated", volunteer, {
        "volunteer_id": volunteer, "provider_type": "volunteer", "villages": ["zagnansk"], "verified": True,
        "credentials": [{"kind": "agreement", "valid_from": "2026-01-01", "valid_until": None, "written": True,
                         "credential_id": new_id()}],
        "unavailable": [{"starts_on": away, "ends_on": away}]})
    accept_first_for_the_series(matching, needs[0], volunteer)
    assert [e["need_id"] for e in matching.events("SeriesVisitSkipped")] == [needs[2]]
    assert [m["volunteer_id"] for m in matching.matches(need_id=needs[2]) if m["status"] in ACTIVE] == [backup]
    assert matching.match_of(needs[3], "accepted")["volunteer_id"] == volunteer


def test_occurrences_beyond_the_horizon_wait_for_the_committed_provider(matching) -> None:  # type: ignore[no-untyped-def]
    matching.settings = replace(matching.settings, horizon_days=10)
    matching.service.loop.handlers = handlers(matching.service.outbox, clock=lambda: matching.now,
                                              settings=matching.settings)
    volunteer = provider(matching)
    provider(matching, village="kajetanow", radius_km=15)
    _, needs = weekly_series(matching, weeks=3)  # the third week is 15 days away
    accept_first_for_the_series(matching, needs[0], volunteer)
    assert matching.match_of(needs[1], "accepted")["volunteer_id"] == volunteer
    matching.now += timedelta(days=2)
    matching.tick()
    assert [m for m in matching.matches(need_id=needs[2]) if m["status"] in ACTIVE] == []  # kept for them
    matching.now += timedelta(days=5)
    matching.tick()
    assert matching.match_of(needs[2], "accepted")["volunteer_id"] == volunteer


def test_stepping_back_from_one_visit_re_offers_it_and_keeps_the_other_weeks(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = provider(matching)
    backup = provider(matching, village="kajetanow", radius_km=15)
    _, needs = weekly_series(matching)
    accept_first_for_the_series(matching, needs[0], volunteer)
    visit = matching.match_of(needs[1], "accepted")
    result = matching.act(series.step_back, visit["id"], volunteer, "visit", "illness", "Anna (OSL)", matching.now,
                          matching.settings)
    assert (result["cancelled"], result["short_notice"], result["repeated"]) == (1, False, False)
    [cancelled] = [e for e in matching.events("MatchCancelled") if e["reason"] == "stepped_back"]
    assert cancelled["match_id"] == visit["id"]
    assert matching.match_of(needs[1], "offered")["volunteer_id"] == backup
    [told] = matching.events("MatchSteppedBack")
    assert (told["scope"], told["reason"], told["short_notice"], told["cancelled"]) == ("visit", "illness", False, 1)
    for need_id in (needs[0], needs[2], needs[3]):
        assert matching.match_of(need_id, "accepted")["volunteer_id"] == volunteer
    matching.tick()
    assert matching.matches(need_id=needs[1], volunteer_id=volunteer, status="accepted") == []

    again = matching.act(series.step_back, visit["id"], volunteer, "visit", "illness", "Anna (OSL)", matching.now,
                         matching.settings)
    assert again["repeated"] and again["id"] == result["id"]
    assert len(matching.events("MatchSteppedBack")) == 1
    assert len([e for e in matching.events("MatchCancelled") if e["reason"] == "stepped_back"]) == 1


def test_stepping_back_from_the_series_cancels_every_future_visit_and_is_urgent_at_short_notice(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = provider(matching)
    provider(matching, village="kajetanow", radius_km=15)
    _, needs = weekly_series(matching)
    first = accept_first_for_the_series(matching, needs[0], volunteer)
    matching.now = TOMORROW_9 - timedelta(hours=3)  # the first visit is 3 h away
    result = matching.act(series.step_back, first, volunteer, "series", "family", "wykonawca", matching.now,
                          matching.settings)
    assert result["cancelled"] == WEEKS and result["short_notice"]
    [ended] = matching.events("SeriesCommitmentEnded")
    assert ended["reason"] == "stepped_back"
    assert {e["need_id"] for e in matching.events("MatchCancelled") if e["reason"] == "stepped_back"} == set(needs)
    [told] = matching.events("MatchSteppedBack")
    assert told["short_notice"] and told["scope"] == "series" and told["cancelled"] == WEEKS
    assert matching.matches(volunteer_id=volunteer, status="accepted") == []
    matching.tick()
    assert matching.matches(volunteer_id=volunteer, status="accepted") == []  # nothing taken back
    matching.act(series.step_back, first, volunteer, "series", "family", "wykonawca", matching.now, matching.settings)
    assert len(matching.events("MatchSteppedBack")) == 1 and len(matching.events("SeriesCommitmentEnded")) == 1


def test_a_step_back_that_does_not_fit_is_refused(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = provider(matching)
    other = provider(matching, village="kajetanow", radius_km=15)
    need_id = matching.need()
    proposal = matching.match_of(need_id)
    with pytest.raises(NotAllowed):  # only an accepted visit
        matching.act(series.step_back, proposal["id"], volunteer, "visit", "other", "x", matching.now, matching.settings)
    matching.approve(proposal["id"])
    matching.respond(proposal["id"], volunteer, "accept")
    with pytest.raises(NotAllowed):  # not theirs
        matching.act(series.step_back, proposal["id"], other, "visit", "other", "x", matching.now, matching.settings)
    with pytest.raises(NotAllowed):  # no series
        matching.act(series.step_back, proposal["id"], volunteer, "series", "other", "x", matching.now,
                     matching.settings)
    assert matching.events("MatchSteppedBack") == []


def test_a_step_back_through_the_providers_link_arrives_as_an_event(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = provider(matching)
    _, needs = weekly_series(matching, weeks=2)
    first = accept_first_for_the_series(matching, needs[0], volunteer)
    for _ in range(2):
        matching.publish("notifications", "ProviderSteppedBack", first, {
            "match_id": first, "volunteer_id": volunteer, "scope": "series", "reason": "schedule"})
    [told] = matching.events("MatchSteppedBack")
    assert told["cancelled"] == 2 and told["reason"] == "schedule"


def test_the_gates_are_the_matchers_rules_but_the_offer_history_and_the_task_limit() -> None:
    from services.matching import rules

    assert set(rules.RULES) - set(series.GATES) == {rules.not_declined_before, rules.open_tasks_left}
    assert [r for r in rules.RULES if r in series.GATES] == list(series.GATES)  # in the funnel's order


def test_a_week_whose_hours_are_taken_goes_to_the_cascade(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = provider(matching, capacity_hours_per_week=1.5)
    backup = provider(matching, village="kajetanow", radius_km=15)
    busy = matching.need(start=TOMORROW_9 + timedelta(days=8))  # the Saturday after week 1's visit
    proposal = matching.match_of(busy)
    assert proposal["volunteer_id"] == volunteer
    matching.approve(proposal["id"])
    matching.respond(proposal["id"], volunteer, "accept")
    _, needs = weekly_series(matching, weeks=3)
    accept_first_for_the_series(matching, needs[0], volunteer)
    assert [(e["need_id"], e["reason"]) for e in matching.events("SeriesVisitSkipped")] == [
        (needs[1], "weekly_hours_left")]
    assert [m["volunteer_id"] for m in matching.matches(need_id=needs[1]) if m["status"] in ACTIVE] == [backup]
    assert matching.match_of(needs[2], "accepted")["volunteer_id"] == volunteer
