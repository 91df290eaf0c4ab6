"""Editing an activity, residents' consent to reminders, unregistering and announcements: the rules, the use cases
(SQLite), the pages, the API and the internal contact API notify reads an address from."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.community import animation
from services.community import plan_handlers as h
from services.community.db import audit_log
from services.community.db_plan import registrations
from wspolnota.errors import Invalid, NotFound, Refused

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
START = NOW + timedelta(days=5)


def workshop(**over):  # type: ignore[no-untyped-def]
    return {"kind": "workshop", "title": "Warsztaty kulinarne", "village": "belno", "venue": "Świetlica w Belnie",
            "starts_at": START, "ends_at": START + timedelta(hours=3), "capacity": 3, "helpers_wanted": 1,
            "helpers_category": None, "involves_children": False, **over}


def scheduled(community, **over) -> str:  # type: ignore[no-untyped-def]
    with community.db.transaction() as s:
        [activity_id] = h.schedule_activity(s, community.outbox, workshop(**over), NOW)
    return activity_id


# --- the rules ---------------------------------------------------------------------------------------------
def test_capacity_may_not_go_below_the_registered_count_with_a_polish_plural() -> None:
    with pytest.raises(animation.AnimationRuleError, match="Zapisanych jest już 3 osoby") as err:
        animation.check_edit(animation.SCHEDULED, START, NOW, 2, 3)
    assert err.value.field == "capacity"
    animation.check_edit(animation.SCHEDULED, START, NOW, 3, 3)
    animation.check_edit(animation.SCHEDULED, START, NOW, None, 30)  # no limit
    assert animation.people_pl(5) == "osób" and animation.people_pl(22) == "osoby" and animation.people_pl(1) == "osoba"


def test_an_activity_that_started_was_held_or_was_cancelled_is_not_edited() -> None:
    with pytest.raises(animation.AnimationRuleError, match="już się rozpoczęły"):
        animation.check_edit(animation.SCHEDULED, NOW - timedelta(minutes=1), NOW, None, 0)
    with pytest.raises(animation.AnimationRuleError, match="już się rozpoczęły"):
        animation.check_edit(animation.HELD, START, NOW, None, 0)
    with pytest.raises(animation.AnimationRuleError, match="odwołane"):
        animation.check_edit(animation.CANCELLED, START, NOW, None, 0)


def test_reminders_need_the_consent_and_an_address() -> None:
    assert animation.gets_reminders(True, "600100200", "") and animation.gets_reminders(True, "", "a@b.pl")
    assert not animation.gets_reminders(False, "600100200", "a@b.pl")  # an address alone sends nothing
    assert not animation.gets_reminders(True, "", "")
    assert animation.check_reminder_contact(True, "", "") == {
        "email": "Podaj telefon lub e-mail, na który wyślemy przypomnienia."}
    assert animation.check_reminder_contact(False, "", "") == {}


def test_an_announcement_carries_no_phone_number_or_e_mail_address() -> None:
    assert animation.check_announcement(animation.SCHEDULED, "Zabierzcie fartuchy, zaczynamy o 17:00.") == {}
    for text in ("Dzwońcie pod 600 100 200", "Pytania: osl@cus.example.pl", "+48600100200"):
        assert animation.check_announcement(animation.SCHEDULED, text) == {
            "text": "Ogłoszenie nie może zawierać numeru telefonu ani adresu e-mail."}
    assert animation.check_announcement(animation.SCHEDULED, "x" * 301) == {"text": "Najwyżej 300 znaków."}
    assert "text" in animation.check_announcement(animation.CANCELLED, "Zabierzcie fartuchy")


# --- the use cases -----------------------------------------------------------------------------------------
def test_a_consenting_resident_is_announced_by_registration_id_only(community) -> None:  # type: ignore[no-untyped-def]
    activity_id = scheduled(community)
    with community.db.transaction() as s:
        yes = h.register(s, activity_id, "Anna Nowak", "600100200", "staff", NOW, email="anna@example.pl",
                         consent=True, outbox=community.outbox)
        no = h.register(s, activity_id, "Jan Kowalski", "600300400", "public", NOW, outbox=community.outbox)
        view = h.activity_view(s, activity_id)
    added = community.published("ParticipantAdded")
    assert added == [
        {"activity_id": activity_id, "participant_id": yes, "role": "resident", "reminders": True},
        {"activity_id": activity_id, "participant_id": no, "role": "resident", "reminders": False}]
    assert "600" not in str(community.published()) and "Nowak" not in str(community.published())
    assert [r["name"] for r in view["call_list"]] == ["Jan Kowalski"]  # to be told by phone


def test_consent_without_an_address_is_refused_and_nothing_is_written(community) -> None:  # type: ignore[no-untyped-def]
    activity_id = scheduled(community)
    with pytest.raises(Invalid) as err, community.db.transaction() as s:
        h.register(s, activity_id, "Anna Nowak", "", "staff", NOW, consent=True, outbox=community.outbox)
    assert "email" in err.value.errors
    assert community.published("ParticipantAdded") == []


def test_editing_moves_the_time_and_republishes_for_matching_and_notify(community) -> None:  # type: ignore[no-untyped-def]
    activity_id = scheduled(community)
    later = START + timedelta(days=1)
    with community.db.transaction() as s:
        changed = h.update_activity(s, community.outbox, activity_id, {
            "starts_at": later, "ends_at": later + timedelta(hours=2), "venue": "Remiza OSP"}, NOW)
    assert changed == ["time", "venue"]
    assert [e["starts_at"] for e in community.published("ActivityScheduled")] == [START.isoformat(),
                                                                                  later.isoformat()]
    assert [e["starts_at"] for e in community.published("HelpersWanted")] == [START.isoformat(), later.isoformat()]
    [notice] = community.published("ActivityChanged")
    assert notice == {"activity_id": activity_id, "changed": ["time", "venue"], "village": "belno",
                      "kind": "workshop", "starts_at": later.isoformat(),
                      "ends_at": (later + timedelta(hours=2)).isoformat()}  # the venue's text stays here
    with community.db.transaction() as s:
        assert h.update_activity(s, community.outbox, activity_id, {"venue": "Remiza OSP"}, NOW) == []
    assert len(community.published("ActivityChanged")) == 1


def test_capacity_below_the_registered_and_an_edit_after_the_start_are_refused(community) -> None:  # type: ignore[no-untyped-def]
    activity_id = scheduled(community)
    with community.db.transaction() as s:
        for name in ("Anna Nowak", "Jan Kowalski"):
            h.register(s, activity_id, name, "", "staff", NOW)
    with pytest.raises(Invalid) as err, community.db.transaction() as s:
        h.update_activity(s, community.outbox, activity_id, {"capacity": 1, "title": "Inny tytuł"}, NOW)
    assert err.value.errors == {"capacity": "Zapisanych jest już 2 osoby: liczba miejsc nie może być mniejsza."}
    with pytest.raises(Refused, match="rozpoczęły"), community.db.transaction() as s:
        h.update_activity(s, community.outbox, activity_id, {"title": "Inny"}, START + timedelta(minutes=5))
    with community.db.transaction() as s:
        assert h.activity_view(s, activity_id)["title"] == "Warsztaty kulinarne"
    assert community.published("ActivityChanged") == []


def test_unregistering_removes_the_contact_data_and_tells_notify_by_id(community) -> None:  # type: ignore[no-untyped-def]
    activity_id = scheduled(community)
    with community.db.transaction() as s:
        rid = h.register(s, activity_id, "Anna Nowak", "600100200", "staff", NOW, consent=True,
                         outbox=community.outbox)
        h.remove_registration(s, community.outbox, activity_id, rid, "osl.nowak", NOW)
        assert s.execute(sa.select(registrations).where(registrations.c.id == rid)).first() is None
        assert s.execute(sa.select(audit_log.c.action).where(audit_log.c.subject_id == rid)).scalars().all() == [
            "erase"]
    assert community.published("ParticipantRemoved") == [
        {"activity_id": activity_id, "participant_id": rid, "role": "resident", "reason": "unregistered"}]
    with pytest.raises(NotFound), community.db.transaction() as s:
        h.registration_contact(s, rid, "service:notify", NOW)


def test_the_contact_read_is_audited_and_gives_an_address_only_with_consent(community) -> None:  # type: ignore[no-untyped-def]
    activity_id = scheduled(community)
    with community.db.transaction() as s:
        yes = h.register(s, activity_id, "Anna Nowak", "600100200", "staff", NOW, email="anna@example.pl",
                         consent=True)
        no = h.register(s, activity_id, "Jan Kowalski", "600300400", "staff", NOW)
        assert h.registration_contact(s, yes, "service:notify", NOW)["phone"] == "600100200"
        assert h.registration_contact(s, no, "service:notify", NOW)["phone"] == ""
        reads = s.execute(sa.select(audit_log.c.actor, audit_log.c.subject_id).where(
            audit_log.c.action == "read")).all()
    assert sorted(reads) == sorted([("service:notify", yes), ("service:notify", no)])


# --- pages, API and the internal contact API ----------------------------------------------------------------
def test_the_edit_page_refuses_too_few_places_beside_the_field_and_saves_a_new_time(api, community) -> None:  # type: ignore[no-untyped-def]
    activity_id = scheduled(community)
    with community.db.transaction() as s:
        for name in ("Anna Nowak", "Jan Kowalski"):
            h.register(s, activity_id, name, "", "staff", NOW)
    form = {"title": "Warsztaty kulinarne", "village": "belno", "venue": "Świetlica w Belnie",
            "starts_at": "2026-03-08T10:00", "ends_at": "2026-03-08T12:00", "capacity": "1", "helpers_wanted": "1"}
    page = api.get(f"/activities/{activity_id}/edit")
    assert page.status_code == 200 and "Zmień zajęcia" in page.get_data(as_text=True)
    refused = api.post(f"/activities/{activity_id}/edit", data=form)
    assert refused.status_code == 422
    assert "Zapisanych jest już 2 osoby" in refused.get_data(as_text=True)
    saved = api.post(f"/activities/{activity_id}/edit", data={**form, "capacity": ""})
    assert saved.status_code == 302
    [notice] = community.published("ActivityChanged")
    assert notice["changed"] == ["time", "capacity"]
    assert datetime.fromisoformat(notice["starts_at"]) == datetime(2026, 3, 8, 9, 0, tzinfo=UTC)  # 10:00 Warsaw


def test_the_activity_page_registers_with_consent_lists_the_call_list_and_sends_an_announcement(api, community) -> None:  # type: ignore[no-untyped-def]
    activity_id = scheduled(community)
    assert api.post(f"/activities/{activity_id}", data={"r-name": "Anna Nowak", "r-phone": "600100200",
                                                        "r-consent": "y"}).status_code == 302
    assert api.post(f"/activities/{activity_id}", data={"r-name": "Jan Kowalski", "r-phone": "600300400"}
                    ).status_code == 302
    page = api.get(f"/activities/{activity_id}").get_data(as_text=True)
    assert "Do powiadomienia telefonicznie (1)" in page and "Jan Kowalski · 600300400" in page
    refused = api.post(f"/activities/{activity_id}", data={"form": "announcement", "a-text": "Tel. 600 100 200"})
    assert refused.status_code == 422 and "numeru telefonu" in refused.get_data(as_text=True)
    sent = api.post(f"/activities/{activity_id}", data={"form": "announcement", "a-text": "Zabierzcie fartuchy!"})
    assert sent.status_code == 302
    [posted] = community.published("AnnouncementPosted")
    assert posted["text"] == "Zabierzcie fartuchy!" and posted["activity_id"] == activity_id


def test_the_api_edits_registers_with_consent_unregisters_and_posts_an_announcement(api, community) -> None:  # type: ignore[no-untyped-def]
    activity_id = scheduled(community)
    bad = api.post(f"/api/activities/{activity_id}/registrations",
                   json={"name": "Anna Nowak", "email": "nie-adres", "consent": True})
    assert bad.status_code == 422 and "Niepoprawny adres e-mail." in str(bad.get_json())
    rid = api.post(f"/api/activities/{activity_id}/registrations",
                   json={"name": "Anna Nowak", "email": "anna@example.pl", "consent": True}).get_json()["id"]
    assert api.patch(f"/api/activities/{activity_id}", json={"capacity": 1}).get_json()["changed"] == ["capacity"]
    assert api.patch(f"/api/activities/{activity_id}", json={"capacity": 0}).status_code == 422
    assert api.post(f"/api/activities/{activity_id}/announcements", json={"text": "Zabierzcie fartuchy"}
                    ).status_code == 201
    assert api.delete(f"/api/activities/{activity_id}/registrations/{rid}").status_code == 204
    assert api.delete(f"/api/activities/{activity_id}/registrations/{rid}").status_code == 404


def test_the_internal_contact_api_wants_the_service_token(app, community) -> None:  # type: ignore[no-untyped-def]
    activity_id = scheduled(community)
    with community.db.transaction() as s:
        rid = h.register(s, activity_id, "Anna Nowak", "600100200", "staff", NOW, consent=True)
    client = app.test_client()
    url = f"/internal/registrations/{rid}/contact"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    token = app.config["INTERNAL_SERVICE_TOKEN"]
    answer = client.get(url, headers={"Authorization": f"Bearer {token}", "X-Service-Name": "notify"})
    assert answer.status_code == 200
    assert answer.get_json() == {"registration_id": rid, "activity_id": activity_id, "name": "Anna Nowak",
                                 "phone": "600100200", "email": "", "consent": True}


def test_erasing_a_resident_after_attendance_keeps_the_record_of_who_came_without_the_person(api, community) -> None:  # type: ignore[no-untyped-def]
    activity_id = scheduled(community)
    with community.db.transaction() as s:
        rid = h.register(s, activity_id, "Anna Nowak", "600100200", "staff", NOW, consent=True)
        h.record_attendance(s, community.outbox, activity_id, [rid], {}, START + timedelta(hours=1))
    page = api.get(f"/activities/{activity_id}").get_data(as_text=True)
    assert "Usuń dane (RODO)" in page
    assert api.post(f"/activities/{activity_id}/registrations/{rid}/remove", data={"reason": "erased"}
                    ).status_code == 302
    with community.db.transaction() as s:
        row = s.execute(sa.select(registrations).where(registrations.c.id == rid)).mappings().one()
    assert (row["name"], row["phone"], row["attended"]) == (h.ERASED_NAME, "", True)
    assert community.published("ParticipantRemoved")[-1]["reason"] == "erased"
