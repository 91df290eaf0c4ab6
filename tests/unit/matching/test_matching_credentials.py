"""Credentials as matching keeps them: one entry per credential, revocations, the safety pause, the visit's
Warsaw day, partner organisations and minors, and the volunteering agreement with its NNW insurance."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from matching_builders import THURSDAY, a_need, a_provider, credential

from bench.matching.service_harness import TOMORROW_9, new_id
from services.matching import world
from services.matching.rules import (
    AGREEMENT,
    KAMILKA_CHECK,
    NNW_INSURANCE,
    PAID_NEIGHBOUR,
    PARTNER_ORGANISATION,
    STAFF,
    Candidate,
    Credential,
    TimeWindow,
    first_rejection,
)

VISIT_DAY = TOMORROW_9.date()


def rejection(need, provider):  # type: ignore[no-untyped-def]
    return first_rejection(Candidate(need, provider, 0.0))


def kamilka(credential_id: str, valid_from: str = "2026-01-01", valid_until: str | None = "2027-06-30") -> dict:
    return {"kind": "kamilka_check", "valid_from": valid_from, "valid_until": valid_until,
            "credential_id": credential_id}


def accepted_tutoring(matching, credentials: list[dict]) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A volunteer with these credentials accepted tomorrow's KOR visit; returns (volunteer, match)."""
    volunteer_id = matching.volunteer(categories=("KOR", "ZAK"), credentials=credentials)
    need_id = matching.need(category="KOR")
    match = matching.match_of(need_id)
    matching.approve(match["id"])
    matching.respond(match["id"], volunteer_id, "accept")
    assert matching.match_of(need_id, "accepted")["volunteer_id"] == volunteer_id
    return volunteer_id, match["id"]


def status_of(matching, match_id: str) -> str:  # type: ignore[no-untyped-def]
    [row] = [m for m in matching.matches() if m["id"] == match_id]
    return str(row["status"])


# --- renewal, expiry and revocation by credential id ------------------------------------------------

def test_a_renewed_check_survives_the_old_checks_expiry_and_the_accepted_visit_stays(matching) -> None:  # type: ignore[no-untyped-def]
    old, renewal = new_id(), new_id()
    volunteer_id, match_id = accepted_tutoring(matching, [kamilka(old, valid_until="2026-12-31")])
    matching.publish("volunteers", "CredentialRecorded", volunteer_id,
                     {"volunteer_id": volunteer_id, **kamilka(renewal, "2026-11-20", "2027-11-20")})
    matching.publish("volunteers", "CredentialExpired", volunteer_id, {
        "volunteer_id": volunteer_id, "kind": "kamilka_check", "valid_until": "2026-12-31", "credential_id": old})
    assert status_of(matching, match_id) == "accepted"
    assert matching.events("MatchCancelled") == []


def test_an_old_expiry_without_an_id_removes_only_what_ended_by_its_date(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer_id, match_id = accepted_tutoring(matching, [kamilka(new_id(), valid_until="2026-12-31")])
    matching.publish("volunteers", "CredentialRecorded", volunteer_id,
                     {"volunteer_id": volunteer_id, **kamilka(new_id(), "2026-11-20", "2027-11-20")})
    matching.publish("volunteers", "CredentialExpired", volunteer_id,
                     {"volunteer_id": volunteer_id, "kind": "kamilka_check", "valid_until": "2026-12-31"})
    assert status_of(matching, match_id) == "accepted"


def test_the_last_check_expiring_cancels_the_accepted_visit_with_a_minor(matching) -> None:  # type: ignore[no-untyped-def]
    only = new_id()
    volunteer_id, match_id = accepted_tutoring(matching, [kamilka(only)])
    matching.publish("volunteers", "CredentialExpired", volunteer_id, {
        "volunteer_id": volunteer_id, "kind": "kamilka_check", "valid_until": "2027-06-30", "credential_id": only})
    assert status_of(matching, match_id) == "cancelled"
    assert [e["reason"] for e in matching.events("MatchCancelled")] == ["credential_expired"]


def test_a_revoked_check_cancels_accepted_visits_with_minors_but_not_the_others(matching) -> None:  # type: ignore[no-untyped-def]
    check = new_id()
    volunteer_id, tutoring = accepted_tutoring(matching, [kamilka(check)])
    shopping_need = matching.need(category="ZAK")
    shopping = matching.match_of(shopping_need)["id"]
    matching.publish("volunteers", "CredentialRevoked", volunteer_id, {
        "volunteer_id": volunteer_id, "credential_id": check, "kind": "kamilka_check", "reason": "adverse_result"})
    assert status_of(matching, tutoring) == "cancelled"
    assert status_of(matching, shopping) == "proposed"
    assert [e["reason"] for e in matching.events("MatchCancelled")] == ["credential_revoked"]


def test_a_revocation_after_the_visit_began_leaves_that_visit_for_staff_to_record(matching) -> None:  # type: ignore[no-untyped-def]
    check = new_id()
    volunteer_id, tutoring = accepted_tutoring(matching, [kamilka(check)])
    [visit] = [m for m in matching.matches() if m["id"] == tutoring]
    matching.now = visit["agreed_start"] + timedelta(minutes=30)  # the visit is under way
    matching.publish("volunteers", "CredentialRevoked", volunteer_id, {
        "volunteer_id": volunteer_id, "credential_id": check, "kind": "kamilka_check", "reason": "adverse_result"})
    assert status_of(matching, tutoring) == "accepted"  # it happened; cancelling it would erase the record


def test_a_revocation_leaves_no_copy_kept_without_an_id(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer_id, match_id = accepted_tutoring(matching, [
        {"kind": "kamilka_check", "valid_from": "2026-01-01", "valid_until": "2027-06-30"}])
    matching.publish("volunteers", "CredentialRevoked", volunteer_id, {
        "volunteer_id": volunteer_id, "credential_id": new_id(), "kind": "kamilka_check", "reason": "revoked_by_staff"})
    assert status_of(matching, match_id) == "cancelled"


def test_a_pause_pending_a_safety_review_cancels_every_active_match(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer_id, tutoring = accepted_tutoring(matching, [kamilka(new_id())])
    shopping = matching.match_of(matching.need(category="ZAK"))["id"]
    matching.publish("volunteers", "VolunteerPaused", volunteer_id,
                     {"volunteer_id": volunteer_id, "reason": "safety_review"})
    assert {status_of(matching, tutoring), status_of(matching, shopping)} == {"cancelled"}
    assert {e["reason"] for e in matching.events("MatchCancelled")} == {"safety_review"}


def test_a_snapshot_replaces_the_credentials_and_carries_the_written_form(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = matching.volunteer(credentials=[kamilka(new_id())])
    matching.publish("volunteers", "VolunteerUpdated", volunteer_id, {
        "volunteer_id": volunteer_id, "provider_type": "volunteer", "villages": ["zagnansk"], "verified": True,
        "credentials": [{"kind": "agreement", "valid_from": "2026-01-01", "valid_until": None, "written": True,
                         "credential_id": new_id()}]})
    with matching.service.db.transaction() as session:
        provider = world.load_world(session, matching.now, matching.settings).providers[volunteer_id]
    assert [(c.kind, c.written) for c in provider.credentials] == [("agreement", True)]


# --- the visit's day in Europe/Warsaw -----------------------------------------------------------------

def test_a_check_that_expired_the_day_before_does_not_pass_a_visit_at_half_past_midnight_warsaw_time() -> None:
    # 23:30 UTC on Thursday is 00:30 on Friday in Warsaw (winter, UTC+1)
    visit = a_need(category="KOR", windows=(TimeWindow(datetime(2026, 11, 26, 23, 30, tzinfo=UTC),
                                                       datetime(2026, 11, 27, 1, 30, tzinfo=UTC)),))
    tutor = a_provider(credentials=(credential(KAMILKA_CHECK, THURSDAY),))
    assert visit.day == date(2026, 11, 27)
    found = rejection(visit, tutor)
    assert found is not None and found.rule == "kamilka_gate"


def test_the_same_check_passes_a_visit_late_on_its_last_day() -> None:
    visit = a_need(category="KOR", windows=(TimeWindow(datetime(2026, 11, 26, 21, 0, tzinfo=UTC),
                                                       datetime(2026, 11, 26, 22, 30, tzinfo=UTC)),), duration_hours=1)
    tutor = a_provider(credentials=(credential(KAMILKA_CHECK, THURSDAY),),
                       availability=(TimeWindow(datetime(2026, 11, 26, 20, 0, tzinfo=UTC),
                                                datetime(2026, 11, 26, 23, 0, tzinfo=UTC)),))
    assert rejection(visit, tutor) is None


# --- partner organisations and minors -------------------------------------------------------------------

def test_a_partner_organisation_is_kept_from_every_need_involving_minors_whatever_its_check() -> None:
    partner = a_provider(type=PARTNER_ORGANISATION, credentials=(credential(KAMILKA_CHECK),))
    for need in (a_need(category="KOR"), a_need(category="OPI", involves_minor=True)):
        found = rejection(need, partner)
        assert found is not None and found.rule == "kamilka_gate"
        assert "Organizacja partnerska" in found.reason
    assert rejection(a_need(category="ZAK"), partner) is None


# --- the volunteering act: agreement (art. 44) and NNW insurance (art. 46) ---------------------------------

def agreement(valid_from: date, valid_until: date | None, written: bool) -> Credential:
    return Credential(AGREEMENT, valid_until, valid_from, written=written)


def test_a_volunteer_without_an_agreement_in_date_is_not_matched() -> None:
    for held in ((), (agreement(date(2025, 1, 1), date(2026, 11, 25), True),)):
        found = rejection(a_need(), a_provider(agreement=False, credentials=held))
        assert found is not None and found.rule == "volunteer_agreement"
        assert found.reason.startswith("Brak aktualnego porozumienia wolontariackiego")


def test_an_agreement_over_thirty_days_or_open_ended_must_be_written() -> None:
    for until in (None, date(2026, 12, 31)):
        found = rejection(a_need(), a_provider(agreement=False,
                                               credentials=(agreement(date(2026, 11, 1), until, False),)))
        assert found is not None and found.rule == "volunteer_agreement" and "formy pisemnej" in found.reason
        assert rejection(a_need(), a_provider(agreement=False,
                                              credentials=(agreement(date(2026, 11, 1), until, True),))) is None


def test_an_agreement_of_up_to_thirty_days_needs_nnw_insurance_in_date() -> None:
    short = agreement(date(2026, 11, 20), date(2026, 12, 19), False)  # 30 days
    found = rejection(a_need(), a_provider(agreement=False, credentials=(short,)))
    assert found is not None and found.rule == "nnw_insurance_for_short_agreement"
    assert "NNW" in found.reason
    lapsed = Credential(NNW_INSURANCE, date(2026, 11, 25), date(2026, 11, 1))
    assert rejection(a_need(), a_provider(agreement=False, credentials=(short, lapsed))) is not None
    insured = Credential(NNW_INSURANCE, date(2026, 12, 31), date(2026, 11, 1))
    assert rejection(a_need(), a_provider(agreement=False, credentials=(short, insured))) is None


def test_paid_neighbours_partners_and_staff_are_not_volunteers_under_the_act() -> None:
    for kind in (PAID_NEIGHBOUR, PARTNER_ORGANISATION, STAFF):
        assert rejection(a_need(), a_provider(type=kind, agreement=False)) is None


def test_the_agreement_reaches_the_rule_from_credential_recorded(matching) -> None:  # type: ignore[no-untyped-def]
    volunteer_id = matching.volunteer(agreement=False)
    need_id = matching.need()
    assert matching.matches(need_id=need_id) == []
    matching.publish("volunteers", "CredentialRecorded", volunteer_id, {
        "volunteer_id": volunteer_id, "kind": "agreement", "valid_from": "2026-01-01", "valid_until": None,
        "written": True, "credential_id": new_id()})
    matching.tick()
    assert matching.match_of(need_id)["volunteer_id"] == volunteer_id
