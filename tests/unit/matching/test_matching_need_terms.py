"""What a need asks of its provider besides credentials — personal care, skills, the resident's relatives —
comes from NeedRegistered/NeedUpdated and decides who is proposed (docs/matching.md)."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from services.matching import projection, world
from services.matching.db import applied_events, open_needs


def proposed_to(matching, need_id: str) -> set[str]:  # type: ignore[no-untyped-def]
    return {m["volunteer_id"] for m in matching.matches(need_id=need_id)}


def funnel_of(matching, need_id: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with matching.service.db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT funnel FROM unmet_needs WHERE need_id = :n"), {"n": need_id}).scalar()


def the_need(matching, need_id: str):  # type: ignore[no-untyped-def]
    with matching.service.db.transaction() as session:
        return world.load_world(session, matching.now, matching.settings).domain_need(need_id)


def test_a_need_marked_personal_care_is_never_proposed_to_a_volunteer(matching) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer(categories=("DOM",))
    need_id = matching.need(category="DOM", personal_care=True)
    assert proposed_to(matching, need_id) == set()
    assert "no_personal_care_by_volunteers" in funnel_of(matching, need_id)


def test_a_need_marked_personal_care_is_proposed_to_a_paid_neighbour(matching) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer(categories=("DOM",))
    neighbour = matching.volunteer(categories=("DOM",), provider_type="paid_neighbour")
    need_id = matching.need(category="DOM", personal_care=True)
    assert proposed_to(matching, need_id) == {neighbour}


def test_a_relative_of_the_resident_is_not_proposed_for_the_resident_s_need(matching) -> None:  # type: ignore[no-untyped-def]
    son = matching.volunteer()
    need_id = matching.need(relatives=[son])
    assert proposed_to(matching, need_id) == set()
    assert "not_a_relative" in funnel_of(matching, need_id)
    neighbour = matching.volunteer()
    assert proposed_to(matching, matching.need(relatives=[son])) == {neighbour}


def test_a_need_asking_for_a_skill_goes_to_a_volunteer_who_names_it(matching) -> None:  # type: ignore[no-untyped-def]
    matching.volunteer(categories=("CYF",), skills=["gotowanie"])
    need_id = matching.need(category="CYF", skills=["smartfon"])
    assert proposed_to(matching, need_id) == set()
    assert "skills_present" in funnel_of(matching, need_id)
    skilled = matching.volunteer(categories=("CYF",), skills=["Smartfon"])
    assert proposed_to(matching, matching.need(category="CYF", skills=["smartfon"])) == {skilled}


def test_an_edit_of_the_need_changes_what_it_asks(matching) -> None:  # type: ignore[no-untyped-def]
    need_id = matching.need(category="DOM")
    assert not the_need(matching, need_id).personal_care
    with matching.service.db.engine.connect() as conn:
        row = dict(conn.execute(sa.select(applied_events.c.data).where(applied_events.c.key == need_id)).scalar())
    matching.publish("needs", "NeedUpdated", need_id, {**row, "personal_care": True, "skills": ["gotowanie"]})
    need = the_need(matching, need_id)
    assert need.personal_care and need.skills == frozenset({"gotowanie"})


def test_an_older_need_event_without_the_new_fields_asks_for_nothing_more(matching) -> None:  # type: ignore[no-untyped-def]
    need_id = matching.need(requirements=["first_aid"])
    need = the_need(matching, need_id)
    assert (need.personal_care, need.skills, need.relatives) == (False, frozenset(), frozenset())
    assert need.credentials == frozenset({"first_aid"})


def test_the_terms_survive_a_rebuild_of_the_projection(matching) -> None:  # type: ignore[no-untyped-def]
    son = matching.volunteer()
    need_id = matching.need(personal_care=True, skills=["smartfon"], relatives=[son], requirements=["own_car"])
    before = the_need(matching, need_id)
    with matching.service.db.transaction() as session:
        projection.rebuild(session)
    after = the_need(matching, need_id)
    assert after == before
    assert after.relatives == frozenset({son}) and after.credentials == frozenset({"car"})


def test_erasing_the_resident_forgets_which_volunteers_are_the_resident_s_relatives(matching) -> None:  # type: ignore[no-untyped-def]
    son = matching.volunteer()
    need_id = matching.need(resident_ref="R-9", relatives=[son], skills=["smartfon"])
    matching.publish("needs", "ResidentErased", "R-9", {
        "resident_ref": "R-9", "erased_at": datetime.now(UTC).isoformat(), "need_ids": [need_id]})
    assert the_need(matching, need_id).relatives == frozenset()
    assert the_need(matching, need_id).skills == frozenset({"smartfon"})
    with matching.service.db.engine.connect() as conn:
        kept = conn.execute(sa.select(applied_events.c.data).where(applied_events.c.key == need_id)).scalars().all()
        items = conn.execute(sa.select(open_needs.c.requirements).where(open_needs.c.need_id == need_id)).scalar()
    assert all(not data.get("relatives") for data in kept)
    assert son not in str(items)
