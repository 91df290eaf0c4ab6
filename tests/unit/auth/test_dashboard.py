"""The organiser's dashboard at the front door's `/`: the four real service apps serve their JSON APIs over
HTTP in threads, the front door reads them on the signed-in person's behalf and every service applies its own
role policy. Sections show counts, the first items and links to act; a service that is down, too slow or
refuses the role leaves a "niedostępne" notice and the rest of the page works."""
from __future__ import annotations

import json
import re
import shutil
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from services.front import dashboard
from services.front.accounts import AuthStore
from wspolnota import localtime

PASSWORD = "Zagnansk-2026-haslo"
SECRET = "one-secret-for-all-apps"
NOW = datetime.now(UTC)
PERSONAL = ("Zofia Nowak", "ul. Leśna 5", "R-ZOFIA-1", "Jan Wolontariusz", "jan@example.org")
ROLES = {"osl.kowalska": "osl", "pracownik": "social_worker", "ipus": "ipus_coordinator", "dyrektor": "director",
         "audytor": "auditor", "admin": "admin"}


# --- the stack: four real service apps on SQLite, each served over HTTP in a thread --------------------------
def serve(app: Any, running: list[Any]) -> str:
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    running.append(httpd)
    return f"http://127.0.0.1:{httpd.server_port}"


@dataclass
class Stack:
    apps: dict[str, Any]
    urls: dict[str, str]
    store: AuthStore

    def db(self, service: str) -> Any:
        return self.apps[service].extensions["db"]

    def front(self, **config: Any) -> Any:
        from services.front.app import create_app

        return create_app({"AUTH_DATABASE_URL": self.store.url, "SECRET_KEY": SECRET,
                           "UPSTREAMS": {**self.urls, **config.pop("UPSTREAMS", {})}, **config})

    def signed_in(self, login: str, **config: Any) -> Any:
        client = self.front(**config).test_client()
        sign_in(client, login)
        return client


SERVICES = ("needs", "volunteers", "matching", "notify", "community")


def factories() -> dict[str, tuple[Callable[..., Any], Callable[..., Any]]]:
    from services.community.app import create_app as community_app
    from services.community.db import make_db as community_db
    from services.matching.app import create_app as matching_app
    from services.matching.db import make_db as matching_db
    from services.needs.app import create_app as needs_app
    from services.needs.db import make_db as needs_db
    from services.notify.app import create_app as notify_app
    from services.notify.db import make_db as notify_db
    from services.volunteers.app import create_app as volunteers_app
    from services.volunteers.db import make_db as volunteers_db

    return {"needs": (needs_app, needs_db), "volunteers": (volunteers_app, volunteers_db),
            "matching": (matching_app, matching_db), "notify": (notify_app, notify_db),
            "community": (community_app, community_db)}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five databases migrated and the staff accounts added once; each test gets fresh copies."""
    folder = tmp_path_factory.mktemp("dashboard-template")
    store = AuthStore(f"sqlite:///{folder / 'auth.db'}")
    store.migrate()
    for login, role in ROLES.items():
        store.add(login, role, PASSWORD, login.title())
    store.dispose()
    for name, (_, make_db) in factories().items():
        db = make_db(f"sqlite:///{folder / (name + '.db')}")
        db.migrate()
        db.dispose()
    return folder


@pytest.fixture
def stack(tmp_path: Path, migrated: Path) -> Iterator[Stack]:
    for name in ("auth", *SERVICES):
        shutil.copy(migrated / f"{name}.db", tmp_path / f"{name}.db")
    store = AuthStore(f"sqlite:///{tmp_path / 'auth.db'}")
    apps: dict[str, Any] = {}
    urls: dict[str, str] = {}
    running: list[Any] = []
    for name, (factory, _) in factories().items():
        apps[name] = factory({"DATABASE_URL": f"sqlite:///{tmp_path / (name + '.db')}", "SECRET_KEY": SECRET})
        urls[name] = serve(apps[name], running)
    yield Stack(apps, urls, store)
    for httpd in running:
        httpd.shutdown()
    for app in apps.values():
        app.extensions["db"].dispose()
    store.dispose()


def sign_in(client: Any, login: str) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answer = client.post("/auth/login", data={"login": login, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302, answer.get_data(as_text=True)


def section(html: str, key: str) -> str:
    found = re.search(rf'<section[^>]*data-section="{key}".*?</section>', html, re.S)
    assert found, f"no section {key}"
    return found.group(0)


def count(html: str, key: str) -> str:
    found = re.search(rf'data-count="{key}">([^<]+)<', section(html, key))
    assert found, section(html, key)
    return found.group(1)


def links(html: str, key: str) -> list[tuple[str, str]]:
    return re.findall(r'<li><a href="([^"]+)">([^<]+)</a>', section(html, key))


def shown_sections(html: str) -> list[str]:
    return re.findall(r'data-section="(\w+)"', html)


# --- seeding each service's own tables -----------------------------------------------------------------------
def add_proposal(stack: Stack, status: str, *, urgent: bool = False, category: str = "ZAK",
                 village: str = "zagnansk", starts: datetime = NOW + timedelta(days=2),
                 deadline: datetime | None = None) -> str:
    from services.matching.db import proposals

    pid = str(uuid.uuid4())
    with stack.db("matching").engine.begin() as conn:
        conn.execute(sa.insert(proposals).values(
            id=pid, need_id=str(uuid.uuid4()), volunteer_id=str(uuid.uuid4()), offer_id=str(uuid.uuid4()),
            category=category, village=village, window_start=starts, status=status, reason="test",
            created_at=NOW, urgent=urgent, score=10, deadline=deadline, updated_at=NOW))
    return pid


def add_needs(stack: Stack, *ages: timedelta, status: str = "open", urgency: str = "normal") -> list[str]:
    from services.needs.db import needs

    ids = [str(uuid.uuid4()) for _ in ages]
    with stack.db("needs").engine.begin() as conn:
        conn.execute(sa.insert(needs), [dict(
            id=nid, resident_ref="R-ZOFIA-1", category="TRN", village="kajetanow",
            description="Zofia Nowak, ul. Leśna 5 — wizyta u lekarza", window_start=NOW + timedelta(days=3),
            window_end=NOW + timedelta(days=3, hours=2), duration_minutes=60, urgent=urgency == "urgent",
            urgency=urgency, slots=1, status=status, created_at=NOW - age, updated_at=NOW - age)
            for nid, age in zip(ids, ages, strict=True)])
    return ids


def add_concern(stack: Stack, urgent: bool = True, acknowledged: bool = False) -> str:
    from services.needs.db import concerns

    cid = str(uuid.uuid4())
    with stack.db("needs").engine.begin() as conn:
        conn.execute(sa.insert(concerns).values(
            id=cid, resident_ref="R-ZOFIA-1", reported_by="wolontariusz:x", channel="volunteer_space",
            text="Zofia Nowak, ul. Leśna 5: nie otwiera drzwi", urgent=urgent, created_at=NOW - timedelta(hours=1),
            acknowledged_by="osl" if acknowledged else None, acknowledged_at=NOW if acknowledged else None))
    return cid


def add_credential(stack: Stack, valid_until: date, kind: str = "first_aid", renewed_until: date | None = None) -> str:
    from services.volunteers.db import credentials, volunteers

    vid = str(uuid.uuid4())
    with stack.db("volunteers").engine.begin() as conn:
        conn.execute(sa.insert(volunteers).values(
            id=vid, name="Jan Wolontariusz", email=f"jan{vid[:4]}@example.org", phone="600100200",
            provider_type="volunteer", villages=["zagnansk"], created_at=NOW))
        for start, until in ((localtime.today() - timedelta(days=300), valid_until),
                             *([(localtime.today() - timedelta(days=1), renewed_until)] if renewed_until else [])):
            conn.execute(sa.insert(credentials).values(
                id=str(uuid.uuid4()), volunteer_id=vid, kind=kind, valid_from=start, valid_until=until, details={},
                recorded_by="test", recorded_at=NOW))
    return vid


def add_failed_notification(stack: Stack, resolved: bool = False) -> str:
    from services.notify.db import dead_letters, notifications

    nid = str(uuid.uuid4())
    with stack.db("notify").engine.begin() as conn:
        conn.execute(sa.insert(notifications).values(
            id=nid, cause_event_id=str(uuid.uuid4()), kind="offer", channel="sms",
            recipient=f"volunteer:{uuid.uuid4()}", subject="Prośba o pomoc", body="…", status="failed",
            created_at=NOW, attempts=5))
        conn.execute(sa.insert(dead_letters).values(
            notification_id=nid, kind="offer", channel="sms", recipient="volunteer:x", attempts=5,
            reason="bramka SMS odrzuciła wiadomość", failed_at=datetime(2026, 11, 20, 8, 30, tzinfo=UTC),
            resolved_at=NOW if resolved else None))
    return nid


# --- the organiser's day -------------------------------------------------------------------------------------
def test_the_organiser_sees_the_five_sections_with_counts_first_items_and_links_to_act(stack: Stack) -> None:
    calm = add_proposal(stack, "proposed", starts=datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    urgent = add_proposal(stack, "proposed", urgent=True, category="TRN", village="kajetanow")
    offered = add_proposal(stack, "offered", deadline=datetime(2026, 12, 2, 11, 15, tzinfo=UTC))
    add_proposal(stack, "accepted")
    old_open = add_needs(stack, timedelta(hours=72), timedelta(hours=49))
    add_needs(stack, timedelta(hours=47))  # not yet 48 h
    add_needs(stack, timedelta(hours=100), status="proposed")  # matched, waiting for review
    soon = add_credential(stack, localtime.today() + timedelta(days=10))
    lapsed = add_credential(stack, localtime.today() - timedelta(days=5), kind="kamilka_check")
    add_credential(stack, localtime.today() - timedelta(days=5), renewed_until=localtime.today() + timedelta(days=700))
    add_credential(stack, localtime.today() - timedelta(days=400))  # long gone: the provider's page keeps it
    add_credential(stack, localtime.today() + timedelta(days=60))  # not yet a warning
    add_failed_notification(stack)
    add_failed_notification(stack, resolved=True)

    html = stack.signed_in("osl.kowalska").get("/").get_data(as_text=True)

    assert shown_sections(html) == ["concerns", "proposals", "offers", "unmatched", "credentials", "failed",
                                    "surveys", "plans", "activities", "requests", "visit_checks", "need_checks",
                                    "calls", "call_list", "feedback"]
    assert "niedostępne" not in html.lower()
    assert count(html, "proposals") == "2"
    assert [href for href, _ in links(html, "proposals")] == [f"/matching/matches/{urgent}", f"/matching/matches/{calm}"]
    assert links(html, "proposals")[0][1] == "Przejrzyj: Transport i towarzyszenie — Kajetanów"
    assert "01.12.2026 10:00" in section(html, "proposals")  # 9:00 UTC is 10:00 in Warsaw in December
    assert count(html, "offers") == "1"
    assert links(html, "offers")[0][0] == f"/matching/matches/{offered}"
    assert "termin odpowiedzi 02.12.2026 12:15" in section(html, "offers")
    assert count(html, "unmatched") == "2"
    assert sorted(href for href, _ in links(html, "unmatched")) == sorted(f"/needs/needs/{n}" for n in old_open)
    assert count(html, "credentials") == "2"
    assert links(html, "credentials") == [
        (f"/volunteers/wykonawcy/{lapsed}", "Uzupełnij: weryfikacja Kamilka (ochrona małoletnich) — wykonawca "
         + lapsed[:8]),
        (f"/volunteers/wykonawcy/{soon}", "Uzupełnij: szkolenie z pierwszej pomocy — wykonawca " + soon[:8])]
    assert "(wygasło)" in section(html, "credentials") and "(za 10 dni)" in section(html, "credentials")
    assert count(html, "failed") == "1"
    assert links(html, "failed")[0][0] == "/notify/"
    assert "20.11.2026 09:30" in section(html, "failed") and "prób: 5" in section(html, "failed")
    for service in ("needs", "volunteers", "matching", "notify"):
        assert f'href="/{service}/"' in html  # the links to the four services stay
    for personal in PERSONAL:
        assert personal not in html


def test_the_organiser_sees_the_surveys_collecting_answers_with_their_counts(stack: Stack) -> None:
    from services.community import surveys

    with stack.db("community").transaction() as session:
        open_survey = surveys.create_survey(session, {"title": "Potrzeby seniorów", "villages": ["kajetanow"]})
        question = surveys.add_question(session, open_survey["id"], {"kind": "single", "text": "Bus?",
                                                                     "required": True, "options": ["tak", "nie"]})
        surveys.publish(session, open_survey["id"])
        for _ in range(2):
            surveys.submit_response(session, open_survey["id"], "kajetanow", {question["id"]: 0}, channel="paper")
        surveys.create_survey(session, {"title": "Szkic"})  # a draft collects nothing: not shown
    html = stack.signed_in("osl.kowalska").get("/").get_data(as_text=True)
    assert count(html, "surveys") == "1"
    assert links(html, "surveys") == [(f"/community/ankiety/{open_survey['id']}",
                                       "Otwórz: Potrzeby seniorów — Kajetanów")]
    assert "odpowiedzi: 2" in section(html, "surveys")
    assert "surveys" not in shown_sections(stack.signed_in("pracownik").get("/").get_data(as_text=True))


def community_work(stack: Stack) -> dict[str, str]:
    """A plan in force (one action half done, one not started), one that ended, and two activities to come: a
    workshop with three of ten places taken and two helpers wanted, and a picnic without a limit of places."""
    from services.community import plan_handlers as h

    outbox = stack.apps["community"].extensions["wspolnota.parts"].outbox
    today = localtime.today()
    with stack.db("community").transaction() as session:
        current = h.create_plan(session, "Plan organizowania społeczności", today - timedelta(days=60),
                                today + timedelta(days=300), NOW)
        goal = h.add_goal(session, current, "Seniorzy wychodzą z domu", NOW)
        half = h.add_action(session, current, {"goal_id": goal, "title": "Warsztaty w świetlicy"}, NOW)
        h.add_action(session, current, {"goal_id": goal, "title": "Piknik sąsiedzki"}, NOW)
        h.set_action_progress(session, half, "in_progress", 50, NOW)
        ended = h.create_plan(session, "Plan na miniony rok", today - timedelta(days=500), today - timedelta(days=1),
                              NOW)
        start = NOW + timedelta(days=3)
        [workshop] = h.schedule_activity(session, outbox, {
            "kind": "workshop", "title": "Warsztaty rękodzieła", "village": "kajetanow", "starts_at": start,
            "ends_at": start + timedelta(hours=2), "capacity": 10, "helpers_wanted": 2}, NOW)
        [picnic] = h.schedule_activity(session, outbox, {
            "kind": "event", "title": "Piknik sąsiedzki", "village": "belno", "starts_at": start + timedelta(days=7),
            "ends_at": start + timedelta(days=7, hours=4), "capacity": None, "helpers_wanted": 0}, NOW)
        for name in ("Zofia Nowak", "Anna Kowalska", "Jan Zieliński"):
            h.register(session, workshop, name, "600100200", "staff", NOW)
    return {"plan": current, "ended": ended, "workshop": workshop, "picnic": picnic}


def test_the_organiser_sees_the_plans_progress_and_activities_with_free_places_and_missing_helpers(
        stack: Stack) -> None:
    work = community_work(stack)
    html = stack.signed_in("osl.kowalska").get("/").get_data(as_text=True)
    assert count(html, "plans") == "1"  # the plan that ended is not today's work
    assert links(html, "plans") == [(f"/community/plans/{work['plan']}",
                                     "Aktualizuj postęp: Plan organizowania społeczności — wersja 1")]
    assert "postęp: 25%; działań: 2" in section(html, "plans") and "(projekt)" in section(html, "plans")
    assert count(html, "activities") == "2"
    assert links(html, "activities") == [
        (f"/community/activities/{work['workshop']}", "Otwórz: Warsztaty rękodzieła — Kajetanów"),
        (f"/community/activities/{work['picnic']}", "Otwórz: Piknik sąsiedzki — Belno")]
    activities = section(html, "activities")
    assert "<strong>(brakuje pomocników: 2)</strong>; wolne miejsca: 7" in activities
    assert "bez limitu miejsc" in activities and activities.count("brakuje pomocników") == 1
    assert "Zofia Nowak" not in html and "Jan Zieliński" not in html  # who registered stays in community


def test_the_community_sections_are_read_only_for_the_director_counts_for_the_auditor_and_absent_for_others(
        stack: Stack) -> None:
    work = community_work(stack)
    director = stack.signed_in("dyrektor").get("/").get_data(as_text=True)
    assert links(director, "activities")[0] == (f"/community/activities/{work['workshop']}",
                                                "Zobacz: Warsztaty rękodzieła — Kajetanów")
    assert links(director, "plans")[0][1].startswith("Zobacz: ")
    auditor = stack.signed_in("audytor").get("/").get_data(as_text=True)
    assert (count(auditor, "plans"), count(auditor, "activities")) == ("1", "2")
    assert links(auditor, "plans") == [] and links(auditor, "activities") == []
    for login in ("pracownik", "ipus"):
        shown = shown_sections(stack.signed_in(login).get("/").get_data(as_text=True))
        assert "plans" not in shown and "activities" not in shown


def test_a_community_service_that_answers_nonsense_leaves_a_notice() -> None:
    def nonsense(environ: Any, start: Callable[..., Any]) -> Any:
        return Response(json.dumps(["not", "an", "overview"]), content_type="application/json")(environ, start)

    running: list[Any] = []
    url = serve(nonsense, running)
    try:
        [plans] = dashboard.gather({"community": url}, None, {"plans": "act"})
    finally:
        running[0].shutdown()
    assert plans.unavailable == "usługa odpowiedziała niezrozumiale"


def test_sections_without_work_say_so(stack: Stack) -> None:
    html = stack.signed_in("osl.kowalska").get("/").get_data(as_text=True)
    assert [count(html, key) for key in dashboard.SECTIONS] == ["0"] * len(dashboard.SECTIONS) == ["0"] * 15
    assert "Żadna propozycja nie czeka na przegląd." in section(html, "proposals")
    assert "Każde zgłoszenie niepokoju zostało przyjęte." in section(html, "concerns")
    assert "Wszystkie powiadomienia zostały wysłane." in section(html, "failed")
    assert "Żadna ankieta nie zbiera teraz odpowiedzi." in section(html, "surveys")
    assert "Nie ma planu w toku." in section(html, "plans")
    assert "Nie zaplanowano żadnych zajęć." in section(html, "activities")


def test_only_the_first_items_are_listed_and_the_count_says_how_many_there_are(stack: Stack) -> None:
    for _ in range(dashboard.FIRST_N + 2):
        add_proposal(stack, "proposed")
    html = stack.signed_in("osl.kowalska").get("/").get_data(as_text=True)
    assert count(html, "proposals") == str(dashboard.FIRST_N + 2)
    assert len(links(html, "proposals")) == dashboard.FIRST_N
    assert f"Pokazano pierwsze {dashboard.FIRST_N} z {dashboard.FIRST_N + 2}." in section(html, "proposals")


def test_old_unmatched_needs_are_found_on_the_last_pages_of_the_needs_list(stack: Stack,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dashboard, "NEEDS_PAGE_SIZE", 2)
    add_needs(stack, timedelta(hours=1), timedelta(hours=2), timedelta(hours=3))
    old = add_needs(stack, timedelta(hours=50), timedelta(hours=60), timedelta(hours=70))
    html = stack.signed_in("osl.kowalska").get("/").get_data(as_text=True)
    assert count(html, "unmatched") == "3"
    assert sorted(href for href, _ in links(html, "unmatched")) == sorted(f"/needs/needs/{n}" for n in old)

    monkeypatch.setattr(dashboard, "NEEDS_MAX_PAGES", 1)
    html = stack.signed_in("osl.kowalska").get("/").get_data(as_text=True)
    assert count(html, "unmatched") == "2+"
    assert "(co najmniej)" in section(html, "unmatched")


# --- failures stay inside their section ----------------------------------------------------------------------
def test_a_service_that_is_down_leaves_a_notice_and_the_rest_of_the_page_works(stack: Stack) -> None:
    add_proposal(stack, "proposed")
    with socket.socket() as probe:  # a free port: nobody listens there once the probe is closed
        probe.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{probe.getsockname()[1]}"
    html = stack.signed_in("osl.kowalska", UPSTREAMS={"notify": down}).get("/").get_data(as_text=True)
    assert "Niedostępne — usługa nie odpowiada." in section(html, "failed")
    assert 'data-count="failed"' not in html
    assert count(html, "proposals") == "1"


def test_a_service_too_slow_to_answer_is_cut_short(stack: Stack) -> None:
    release = threading.Event()

    def stuck(environ: Any, start: Callable[..., Any]) -> list[bytes]:
        release.wait(30)
        start("200 OK", [("Content-Type", "application/json")])
        return [b"[]"]

    running: list[Any] = []
    slow = serve(stuck, running)
    try:
        client = stack.signed_in("osl.kowalska", UPSTREAMS={"volunteers": slow}, DASHBOARD_TIMEOUT_S=(1.0, 0.3))
        html = client.get("/").get_data(as_text=True)
    finally:
        release.set()
        running[0].shutdown()
    assert "Niedostępne — usługa nie odpowiedziała na czas." in section(html, "credentials")
    assert count(html, "unmatched") == "0"


def test_a_section_the_service_refuses_to_the_role_shows_a_notice(stack: Stack) -> None:
    add_failed_notification(stack)
    # notify lets only OSL, IPUS, director, admin and auditor read its ledger: a social worker asking is refused
    client = stack.signed_in("pracownik", DASHBOARD_SECTIONS={"social_worker": {"proposals": "act", "failed": "act"}})
    html = client.get("/").get_data(as_text=True)
    assert "Niedostępne — brak uprawnień do tych danych." in section(html, "failed")
    assert count(html, "proposals") == "0"


def test_concerns_nobody_acknowledged_come_first_with_a_link_and_never_their_text(stack: Stack) -> None:
    calm = add_concern(stack, urgent=False)
    urgent = add_concern(stack)
    add_concern(stack, acknowledged=True)
    html = stack.signed_in("pracownik").get("/").get_data(as_text=True)
    assert shown_sections(html)[0] == "concerns" and count(html, "concerns") == "2"
    assert [href for href, _ in links(html, "concerns")] == [f"/needs/zgloszenia/{urgent}",
                                                             f"/needs/zgloszenia/{calm}"]
    assert links(html, "concerns")[0][1] == "Przeczytaj i przyjmij: o mieszkańcu — od wolontariusza"
    for personal in ("nie otwiera drzwi", *PERSONAL):
        assert personal not in html


def add_call(stack: Stack, due: datetime, kind: str = "resident_arranged") -> str:
    from services.notify.db import call_tasks, notifications

    nid = str(uuid.uuid4())
    with stack.db("notify").engine.begin() as conn:
        conn.execute(sa.insert(notifications).values(
            id=nid, cause_event_id=str(uuid.uuid4()), kind=kind, channel="call", recipient="mieszkaniec:M-TEL234",
            subject="Pomoc umówiona", body="Dzień dobry, dzwonię z CUS.", status="recorded", created_at=NOW))
        conn.execute(sa.insert(call_tasks).values(id=nid, resident_ref="M-TEL234", kind=kind, due_at=due,
                                                  status="open", attempts=0, created_at=NOW))
    return nid


def test_calls_due_today_are_listed_with_a_link_and_never_a_phone(stack: Stack) -> None:
    overdue = add_call(stack, NOW - timedelta(hours=2))
    add_call(stack, NOW + timedelta(days=3), kind="resident_reminder")  # not today
    html = stack.signed_in("osl.kowalska").get("/").get_data(as_text=True)
    assert count(html, "call_list") == "1"
    assert links(html, "call_list") == [(f"/notify/do-zadzwonienia/{overdue}", "Zadzwoń: pomoc umówiona")]
    assert "termin minął" in section(html, "call_list") and "M-TEL234" not in section(html, "call_list")


# --- each role sees what it can use --------------------------------------------------------------------------
def test_a_social_worker_sees_the_matching_and_needs_sections_only(stack: Stack) -> None:
    html = stack.signed_in("pracownik").get("/").get_data(as_text=True)
    assert shown_sections(html) == ["concerns", "proposals", "offers", "unmatched", "requests", "calls", "call_list",
                                    "feedback"]


def test_the_director_sees_everything_read_only(stack: Stack) -> None:
    pid = add_proposal(stack, "proposed")
    add_failed_notification(stack)
    html = stack.signed_in("dyrektor").get("/").get_data(as_text=True)
    assert shown_sections(html) == list(dashboard.SECTIONS)
    assert links(html, "proposals") == [(f"/matching/matches/{pid}", "Zobacz: Zakupy i sprawunki — Zagnańsk")]
    assert links(html, "failed")[0][1].startswith("Zobacz: ")
    assert "Tylko podgląd dla Twojej roli." in section(html, "proposals")


def test_the_auditor_sees_counts_only(stack: Stack) -> None:
    add_proposal(stack, "proposed")
    add_needs(stack, timedelta(hours=80))
    add_failed_notification(stack)
    html = stack.signed_in("audytor").get("/").get_data(as_text=True)
    assert shown_sections(html) == list(dashboard.SECTIONS)
    assert [count(html, key) for key in ("proposals", "unmatched", "failed")] == ["1", "1", "1"]
    assert all(links(html, key) == [] for key in dashboard.SECTIONS)


def test_acting_links_follow_the_services_policy() -> None:
    # the IPUS coordinator may decide proposals but not retry notifications: that section is read-only
    assert dashboard.sections_for("ipus_coordinator") == {"concerns": "act", "proposals": "act", "offers": "act",
                                                         "unmatched": "act", "failed": "view", "call_list": "act",
                                                         "feedback": "view"}
    assert dashboard.sections_for("auditor", {"auditor": {"proposals": "act"}}) == {"proposals": "view"}


def test_the_sections_are_read_at_the_same_time() -> None:
    """Every first request waits until all of them have arrived: read one after another, they would time out."""
    together = threading.Barrier(len(dashboard.SECTIONS), timeout=10)
    seen: set[str] = set()

    def upstream(environ: Any, start: Callable[..., Any]) -> Any:
        request = Request(environ)
        first = request.full_path
        if first not in seen:
            seen.add(first)
            together.wait()
        body: Any = {"plans": [], "upcoming": [], "helpers_missing": 0} if request.path == "/api/overview" else []
        return Response(json.dumps(body), headers={"X-Total-Count": "0"}, content_type="application/json")(
            environ, start)

    running: list[Any] = []
    url = serve(upstream, running)
    try:
        sections = dashboard.gather(dict.fromkeys(SERVICES, url), None,
                                    dict.fromkeys(dashboard.SECTIONS, "act"))
    finally:
        running[0].shutdown()
    assert [(s.key, s.unavailable, s.count) for s in sections] == [(key, "", 0) for key in dashboard.SECTIONS]


def test_the_session_cookie_of_the_signed_in_person_is_what_the_services_see(stack: Stack) -> None:
    add_proposal(stack, "proposed")
    anonymous = dashboard.gather(stack.urls, None, {"proposals": "act"})
    assert anonymous[0].unavailable == "brak uprawnień do tych danych"


def test_an_anonymous_visitor_is_sent_to_sign_in(stack: Stack) -> None:
    answer = stack.front().test_client().get("/")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/auth/login")


def test_the_proposal_count_is_matchings_total_not_the_200_rows_it_sends() -> None:
    import requests

    from services.front import dashboard

    def reply(total: str | None) -> requests.Response:
        response = requests.Response()
        response.status_code, response._content = 200, b"[]"
        if total is not None:
            response.headers["X-Total-Count"] = total
        return response

    assert dashboard._total(reply("205"), [{}] * 200) == (205, False)
    assert dashboard._total(reply(None), [{}] * 200) == (200, True)  # an older matching: "at least"
    assert dashboard._total(reply(None), [{}] * 7) == (7, False)
