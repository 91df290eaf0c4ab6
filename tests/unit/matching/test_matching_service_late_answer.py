"""An acceptance that reaches matching after its offer closed is not dropped silently: matching publishes
MatchAnswerTooLate (codes only), so notify can tell the provider the truth and show it to the organiser."""
from __future__ import annotations

from services.matching import schemas


def offered_to(matching, volunteer: str, need_id: str):  # type: ignore[no-untyped-def]
    matching.approve(matching.match_of(need_id)["id"])
    row = matching.match_of(need_id, "offered")
    assert row["volunteer_id"] == volunteer
    return row


def test_an_acceptance_after_the_offer_expired_and_passed_on_tells_the_provider_so(matching) -> None:  # type: ignore[no-untyped-def]
    late = matching.volunteer()
    nxt = matching.volunteer(village="kajetanow", radius_km=15)
    need_id = matching.need()
    first = offered_to(matching, late, need_id)
    matching.now += matching.settings.offer_deadline
    matching.tick()
    assert matching.match_of(need_id, "offered")["volunteer_id"] == nxt
    matching.respond(first["id"], late, "accept")
    [told] = matching.events("MatchAnswerTooLate")
    assert told == {"type": "MatchAnswerTooLate", "match_id": first["id"], "need_id": need_id, "volunteer_id": late,
                    "status": schemas.TOO_LATE_PASSED_ON, "reason": None}
    assert matching.matches(id=first["id"])[0]["status"] == "expired"
    assert matching.match_of(need_id, "offered")["volunteer_id"] == nxt  # the next person's offer stands


def test_an_acceptance_of_an_offer_covered_by_someone_else_says_it_is_no_longer_needed(matching) -> None:  # type: ignore[no-untyped-def]
    first, second = matching.volunteer(), matching.volunteer(village="kajetanow", radius_km=15)
    need_id = matching.need(urgent=True)  # urgent: offered to two at once
    matching.approve(matching.match_of(need_id)["id"])
    rows = {r["volunteer_id"]: r for r in matching.matches(need_id=need_id, status="offered")}
    assert set(rows) == {first, second}
    matching.respond(rows[first]["id"], first, "accept")
    matching.respond(rows[second]["id"], second, "accept")
    [told] = matching.events("MatchAnswerTooLate")
    assert (told["volunteer_id"], told["status"], told["reason"]) == (second, schemas.TOO_LATE_NOT_NEEDED, "covered")
    assert matching.match_of(need_id, "accepted")["volunteer_id"] == first


def test_a_late_decline_and_a_repeated_acceptance_publish_nothing(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer = matching.volunteer()
    need_id = matching.need()
    row = offered_to(matching, volunteer, need_id)
    matching.respond(row["id"], volunteer, "accept")
    matching.respond(row["id"], volunteer, "accept")  # the visit is theirs: nothing to correct
    other = matching.need(start=matching.now.replace(day=28, hour=9))
    late = offered_to(matching, volunteer, other)
    matching.now += matching.settings.offer_deadline
    matching.tick()
    matching.respond(late["id"], volunteer, "decline")
    assert matching.events("MatchAnswerTooLate") == []
