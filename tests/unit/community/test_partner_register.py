"""The partner network as one register: the organisation's public identity followed from the volunteers events,
the list with kinds and KRS, the filter, and who works with whom."""
from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from contracts import volunteers as volunteer_contract
from services.community import plan_handlers as h
from services.community.db import known_providers
from services.community.handlers import handlers
from wspolnota.transport import Event

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KGW = "0f0f0f0f-1111-4222-8333-444444444444"
OSP = "0f0f0f0f-1111-4222-8333-555555555555"
SCHOOL = "0f0f0f0f-1111-4222-8333-666666666666"
PERSON = "11111111-2222-4333-8444-555555555555"


def follow(community, s, event_type, data):  # type: ignore[no-untyped-def]
    """A volunteers event as the consumer hands it over: validated with the contract, then the service's handler."""
    loaded = volunteer_contract.EVENTS[event_type]().load(data)
    handlers(community.outbox)[event_type](s, Event(event_type, data["volunteer_id"], loaded, "volunteers"))


def organisation(org_id, name, kind, krs=None, villages=("belno",)):  # type: ignore[no-untyped-def]
    return {"volunteer_id": org_id, "provider_type": "partner_organisation", "villages": list(villages),
            "organisation": {"name": name, "kind": kind, "krs": krs}}


def three_partners(community, s):  # type: ignore[no-untyped-def]
    follow(community, s, "VolunteerRegistered", organisation(KGW, "KGW Belnianki", "kgw", "0000123456"))
    follow(community, s, "VolunteerRegistered", organisation(OSP, "OSP Samsonów", "osp", None, ("samsonow",)))
    follow(community, s, "VolunteerRegistered", organisation(SCHOOL, "Szkoła Podstawowa w Zagnańsku", "school"))


def identity(s, provider_id):  # type: ignore[no-untyped-def]
    row = s.execute(sa.select(known_providers.c.name, known_providers.c.kind, known_providers.c.krs)
                    .where(known_providers.c.volunteer_id == provider_id)).one()
    return tuple(row)


def test_an_organisations_name_kind_and_krs_follow_its_events(community):
    with community.db.transaction() as s:
        follow(community, s, "VolunteerRegistered", organisation(KGW, "KGW Belnianki", "kgw"))
        assert identity(s, KGW) == ("KGW Belnianki", "kgw", None)
        follow(community, s, "VolunteerUpdated", organisation(KGW, "KGW Belnianki z Belna", "kgw", "0000123456"))
        assert identity(s, KGW) == ("KGW Belnianki z Belna", "kgw", "0000123456")
        follow(community, s, "VolunteerUpdated", {"volunteer_id": KGW, "provider_type": "volunteer",
                                                  "villages": ["belno"]})
        assert identity(s, KGW) == (None, None, None)  # no longer an organisation: no identity


def test_a_person_never_leaves_a_name_here_even_if_an_event_carried_one(community):
    with community.db.transaction() as s:
        follow(community, s, "VolunteerRegistered", {**organisation(PERSON, "Jan Kowalski", "other"),
                                                     "provider_type": "volunteer"})
        assert identity(s, PERSON) == (None, None, None)


def test_the_register_lists_partners_by_name_and_filters_by_kind(community):
    with community.db.transaction() as s:
        three_partners(community, s)
        assert [p["label"] for p in h.partner_network(s)] == [
            "KGW Belnianki", "OSP Samsonów", "Szkoła Podstawowa w Zagnańsku"]
        [osp] = h.partner_network(s, "osp")
    assert (osp["org_id"], osp["name"], osp["kind"], osp["krs"], osp["villages"]) == (
        OSP, "OSP Samsonów", "osp", None, ["samsonow"])


def shared_actions(community, s):  # type: ignore[no-untyped-def]
    plan_id = h.create_plan(s, "Plan 2026", date(2026, 1, 1), date(2026, 12, 31), NOW)
    goal_id = h.add_goal(s, plan_id, "Wspólnota wsi", NOW)
    festyn = h.add_action(s, plan_id, {"goal_id": goal_id, "title": "Festyn rodzinny", "partners": [KGW, OSP]},
                          NOW)
    pokazy = h.add_action(s, plan_id, {"goal_id": goal_id, "title": "Pokazy pierwszej pomocy",
                                       "partners": [OSP, SCHOOL, KGW]}, NOW)
    czytanie = h.add_action(s, plan_id, {"goal_id": goal_id, "title": "Czytanie seniorom", "partners": [SCHOOL]},
                            NOW)
    return festyn, pokazy, czytanie


def test_who_works_with_whom_lists_partners_by_action_and_the_actions_each_pair_shares(community):
    with community.db.transaction() as s:
        three_partners(community, s)
        festyn, pokazy, czytanie = shared_actions(community, s)
        view = h.who_works_with_whom(h.partner_network(s))
    by_action = {a["title"]: [p["label"] for p in a["partners"]] for a in view["actions"]}
    assert by_action == {"Czytanie seniorom": ["Szkoła Podstawowa w Zagnańsku"],
                         "Festyn rodzinny": ["KGW Belnianki", "OSP Samsonów"],
                         "Pokazy pierwszej pomocy": ["KGW Belnianki", "OSP Samsonów",
                                                     "Szkoła Podstawowa w Zagnańsku"]}
    pairs = [(p["first"]["org_id"], p["second"]["org_id"], [a["id"] for a in p["actions"]]) for p in view["pairs"]]
    assert pairs == [(KGW, OSP, [festyn, pokazy]), (KGW, SCHOOL, [pokazy]), (OSP, SCHOOL, [pokazy])]


def test_the_partner_pages_show_the_register_and_who_works_with_whom(api, community):
    with community.db.transaction() as s:
        three_partners(community, s)
        h.set_partner_profile(s, KGW, "sala i ciasta", NOW)
        h.add_agreement(s, KGW, "festyny", date(2026, 1, 1), None, "CUS/2026/4", NOW)
        shared_actions(community, s)
    page = api.get("/partners").get_data(as_text=True)
    for text in ("KGW Belnianki", "Koło Gospodyń Wiejskich", "0000123456", "Belno", "sala i ciasta",
                 "Festyn rodzinny (zaplanowane)", "OSP Samsonów", "Ochotnicza Straż Pożarna", "Samsonów"):
        assert text in page, text
    assert KGW[:8] + "<" not in page  # names, not shortened ids
    only_osp = api.get("/partners?kind=osp").get_data(as_text=True)
    assert "OSP Samsonów" in only_osp and "KGW Belnianki" not in only_osp
    assert "KGW Belnianki" in api.get("/partners?kind=unknown").get_data(as_text=True)  # unknown kind: all
    cooperation = api.get("/partners/cooperation").get_data(as_text=True)
    assert "KGW Belnianki + OSP Samsonów" in cooperation and "2: " in cooperation
    partner = api.get(f"/partners/{KGW}").get_data(as_text=True)
    assert "<h1>KGW Belnianki</h1>" in partner and "0000123456" in partner
    assert f'href="/volunteers/wykonawcy/{KGW}"' in partner


def test_the_partner_api_filters_by_kind_and_answers_who_works_with_whom(api, community):
    with community.db.transaction() as s:
        three_partners(community, s)
        festyn, pokazy, _ = shared_actions(community, s)
    [kgw] = api.get("/api/partners?kind=kgw").get_json()
    assert (kgw["name"], kgw["kind"], kgw["krs"]) == ("KGW Belnianki", "kgw", "0000123456")
    assert api.get("/api/partners?kind=castle").status_code == 422
    body = api.get("/api/partners/cooperation").get_json()
    first = body["pairs"][0]
    assert [p["org_id"] for p in first["partners"]] == [KGW, OSP] and first["actions"] == [festyn, pokazy]


def test_the_action_form_offers_partners_by_name(api, community):
    with community.db.transaction() as s:
        three_partners(community, s)
        plan_id = h.create_plan(s, "Plan 2026", date(2026, 1, 1), date(2026, 12, 31), NOW)
        h.add_goal(s, plan_id, "Wspólnota wsi", NOW)
    page = api.get(f"/plans/{plan_id}/actions/new").get_data(as_text=True)
    assert f'value="{OSP}">OSP Samsonów</option>' in page
