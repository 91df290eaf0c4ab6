"""A volunteer signs in with a single-use link: the rules of the link (expiry, one use, a forged or foreign
link), answers that say nothing about who is known, rate limits, the volunteer's own session (sign-out, sign out
everywhere, 30 days) and the pages' frame (phone viewport, no staff navigation)."""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from contracts.volunteers import read_sign_in_token, sign_in_token
from services.volunteers import sign_in
from services.volunteers.db import audit_log, sign_in_tokens, volunteers
from tests.unit.volunteers.conftest import NOW, Outbox, csrf_token, person
from wspolnota.db import Database
from wspolnota.testing import ManualClock

SECRET = "test-secret-key"


class Volunteers:
    """The volunteers web app on a clock the test moves, a staff client (sign-in off) and helpers."""

    def __init__(self, db: Database, **config: Any):
        from services.volunteers.app import create_app
        from services.volunteers.bootstrap import bootstrap
        from services.volunteers.settings import Settings

        self.db, self.clock = db, ManualClock(NOW)
        cfg = {"DATABASE_URL": db.url, "TESTING": True, "AUTH_DISABLED": True, "SECRET_KEY": SECRET, **config}
        self.app = create_app(cfg, parts=bootstrap(db.url, settings=Settings.from_config(cfg), clock=self.clock))
        self.staff = self.app.test_client()

    def register(self, **over: Any) -> str:
        response = self.staff.post("/api/volunteers", json=person(**over))
        assert response.status_code == 201, response.json
        return str(response.json["id"])

    def ask(self, client: Any, identifier: str) -> Any:
        page = client.get("/wolontariusz/logowanie")
        return client.post("/wolontariusz/logowanie", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                                            "identifier": identifier})

    def tokens(self, volunteer_id: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(sign_in_tokens).order_by(sign_in_tokens.c.created_at)
        if volunteer_id:
            query = query.where(sign_in_tokens.c.volunteer_id == volunteer_id)
        with self.db.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def link(self, token_id: str) -> str:
        return f"/wolontariusz/wejscie/{sign_in_token(SECRET, token_id)}"

    def use(self, client: Any, link: str) -> Any:
        page = client.get(link)
        if page.status_code != 200:
            return page
        return client.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True))})

    def signed_in_client(self, volunteer_id: str) -> Any:
        client = self.app.test_client()
        self.ask(client, "zofia@example.pl")
        response = self.use(client, self.link(self.tokens(volunteer_id)[-1]["id"]))
        assert response.status_code == 302 and response.location.endswith("/wolontariusz/")
        return client


@pytest.fixture
def v(db: Database) -> Volunteers:
    return Volunteers(db)


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


# --- the link's rules ------------------------------------------------------------------------------------------
def test_the_signed_token_names_the_token_id_and_nothing_else_reads_as_one() -> None:
    token_id = "0b9e5c1a-3f3c-4c1e-9d55-2f8f0a1b2c3d"
    token = sign_in_token(SECRET, token_id)
    assert read_sign_in_token(SECRET, token) == token_id
    assert read_sign_in_token("another-key", token) is None  # a link signed with another key
    assert read_sign_in_token(SECRET, token[:-2] + ("AA" if token[-2:] != "AA" else "BB")) is None
    assert read_sign_in_token(SECRET, token_id) is None  # the id from the bus alone opens nothing
    for junk in ("", ".", "ąę.żź", "x" * 500, "a.b.c"):
        assert read_sign_in_token(SECRET, junk) is None


def test_a_link_works_once(v: Volunteers) -> None:
    volunteer_id = v.register()
    v.ask(v.app.test_client(), "zofia@example.pl")
    link = v.link(v.tokens(volunteer_id)[0]["id"])
    assert v.use(v.app.test_client(), link).status_code == 302
    again = v.use(v.app.test_client(), link)
    assert again.status_code == 410
    assert "został już użyty" in text(again) and "Wyślij nowy link" in text(again)


def test_a_link_expires_after_its_minutes_even_if_never_used(v: Volunteers) -> None:
    volunteer_id = v.register()
    v.ask(v.app.test_client(), "zofia@example.pl")
    link = v.link(v.tokens(volunteer_id)[0]["id"])
    client = v.app.test_client()
    page = client.get(link)
    v.clock.advance(timedelta(minutes=15))
    late = client.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert late.status_code == 410 and "wygasł" in text(late)
    assert v.app.test_client().get(link).status_code == 410
    assert v.tokens(volunteer_id)[0]["used_at"] is None


def test_opening_the_link_uses_nothing_up_only_the_button_does(v: Volunteers) -> None:
    """Mail scanners open links: the GET shows a button, and the link still works after it."""
    volunteer_id = v.register()
    v.ask(v.app.test_client(), "zofia@example.pl")
    link = v.link(v.tokens(volunteer_id)[0]["id"])
    for _ in range(3):
        assert v.app.test_client().get(link).status_code == 200
    assert v.tokens(volunteer_id)[0]["used_at"] is None
    assert v.use(v.app.test_client(), link).status_code == 302


@pytest.mark.parametrize("token", ["nonsense", "a.b", "x" * 300, "%00", "..%2F..%2Fetc"])
def test_a_forged_or_broken_link_gets_the_polish_page_with_a_new_link_button(v: Volunteers, token: str) -> None:
    response = v.app.test_client().get(f"/wolontariusz/wejscie/{token}")
    assert response.status_code in (404, 410)
    if response.status_code == 410:
        assert "Link nie działa" in text(response) and "Wyślij nowy link" in text(response)


def test_the_link_of_a_person_erased_in_the_meantime_signs_nobody_in(v: Volunteers) -> None:
    volunteer_id = v.register()
    v.ask(v.app.test_client(), "zofia@example.pl")
    link = v.link(v.tokens(volunteer_id)[0]["id"])
    assert v.staff.post(f"/api/volunteers/{volunteer_id}/erase").status_code in (200, 204)
    assert v.use(v.app.test_client(), link).status_code == 410


def test_without_the_csrf_token_the_button_signs_nobody_in(v: Volunteers) -> None:
    volunteer_id = v.register()
    v.ask(v.app.test_client(), "zofia@example.pl")
    link = v.link(v.tokens(volunteer_id)[0]["id"])
    assert v.app.test_client().post(link, data={}).status_code == 400
    assert v.tokens(volunteer_id)[0]["used_at"] is None


# --- asking for a link: one answer for everyone ------------------------------------------------------------------
def test_a_known_and_an_unknown_address_get_the_same_answer_and_only_the_known_one_a_link(
        v: Volunteers, outbox: Outbox) -> None:
    volunteer_id = v.register()
    known = v.ask(v.app.test_client(), "Zofia@Example.pl ")
    unknown = v.ask(v.app.test_client(), "nikt@example.pl")
    assert (known.status_code, known.location) == (unknown.status_code, unknown.location)
    assert text(v.app.test_client().get(known.location)) == text(v.app.test_client().get(unknown.location))
    sent = [(key, data) for t, key, data in outbox.all() if t == "SignInLinkRequested"]
    assert [(key, data["channel"]) for key, data in sent] == [(volunteer_id, "email")]
    assert set(sent[0][1]) == {"volunteer_id", "token_id", "channel", "expires_at"}
    assert "zofia@example.pl" not in outbox.raw().lower() and "601202303" not in outbox.raw()


def test_a_phone_number_in_any_usual_spelling_asks_for_an_sms(v: Volunteers, outbox: Outbox) -> None:
    volunteer_id = v.register()
    for spelling in ("601 202 303", "+48601202303", "601-202-303"):
        assert v.ask(v.app.test_client(), spelling).status_code == 302
    sent = [data for t, _, data in outbox.all() if t == "SignInLinkRequested"]
    assert [(d["volunteer_id"], d["channel"]) for d in sent] == [(volunteer_id, "sms")] * 3
    unknown = v.ask(v.app.test_client(), "602 000 000")
    assert unknown.status_code == 302 and unknown.location.endswith("kanal=sms")


@pytest.mark.parametrize("provider", [{"provider_type": "partner_organisation", "organisation_kind": "kgw",
                                       "contact_person": "Anna Nowak"}, {"verified": False}])
def test_an_organisation_or_an_unconfirmed_self_registration_gets_no_link_and_the_same_answer(
        v: Volunteers, outbox: Outbox, provider: dict[str, Any]) -> None:
    v.register(**provider)
    assert v.ask(v.app.test_client(), "zofia@example.pl").status_code == 302
    assert "SignInLinkRequested" not in outbox.types()


@pytest.mark.parametrize("typed, message", [
    ("", "Podaj adres e-mail albo numer telefonu."),
    ("   ", "Podaj adres e-mail albo numer telefonu."),
    ("zofia@", "Niepoprawny adres e-mail."),
    ("12345", "Podaj adres e-mail albo numer telefonu (9 cyfr"),
    ("<script>alert(1)</script>", "Podaj adres e-mail albo numer telefonu (9 cyfr"),
    ("a" * 250 + "@example.pl", "Podaj adres e-mail albo numer telefonu."),
    ("'; DROP TABLE volunteers; --", "Podaj adres e-mail albo numer telefonu (9 cyfr"),
])
def test_bad_input_gets_a_polish_form_error_and_sends_nothing(v: Volunteers, outbox: Outbox, typed: str,
                                                              message: str) -> None:
    v.register()
    response = v.ask(v.app.test_client(), typed)
    assert response.status_code == 422
    assert message in text(response) and "<script>alert" not in response.get_data(as_text=True)
    assert "SignInLinkRequested" not in outbox.types()


def test_asking_without_the_csrf_token_is_refused(v: Volunteers, outbox: Outbox) -> None:
    v.register()
    assert v.app.test_client().post("/wolontariusz/logowanie", data={"identifier": "zofia@example.pl"}
                                    ).status_code == 400
    assert "SignInLinkRequested" not in outbox.types()


def test_an_address_asked_for_too_often_gets_429_whether_known_or_not(db: Database, outbox: Outbox) -> None:
    v = Volunteers(db, VOLUNTEER_SIGN_IN_PER_ADDRESS_PER_HOUR=2)
    v.register()
    for address in ("zofia@example.pl", "nikt@example.pl"):
        answers = [v.ask(v.app.test_client(), address).status_code for _ in range(3)]
        assert answers == [302, 302, 429]
    assert outbox.types().count("SignInLinkRequested") == 2
    v.clock.advance(timedelta(hours=1))
    assert v.ask(v.app.test_client(), "zofia@example.pl").status_code == 302


def test_one_source_asking_for_many_addresses_is_stopped(db: Database) -> None:
    v = Volunteers(db, VOLUNTEER_SIGN_IN_PER_SOURCE_PER_HOUR=3)
    client = v.app.test_client()
    answers = [v.ask(client, f"osoba{i}@example.pl").status_code for i in range(4)]
    assert answers == [302, 302, 302, 429]
    assert "Zbyt wiele prób" in text(v.ask(client, "inna@example.pl"))
    other = v.app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert v.ask(other, "osoba9@example.pl").status_code == 302


def test_the_limiter_counts_per_key_and_window() -> None:
    from services.volunteers.db import make_db

    db = make_db("sqlite://")
    db.migrate()
    try:
        assert [sign_in.allow(db, "a", 2, 3600, NOW) for _ in range(3)] == [True, True, False]
        assert sign_in.allow(db, "b", 2, 3600, NOW)
        assert sign_in.allow(db, "a", 2, 3600, NOW + timedelta(hours=1))
    finally:
        db.dispose()


# --- the session ---------------------------------------------------------------------------------------------------
def test_signing_in_sets_the_volunteers_own_cookie_not_the_staff_session(v: Volunteers) -> None:
    volunteer_id = v.register()
    client = v.app.test_client()
    v.ask(client, "zofia@example.pl")
    response = v.use(client, v.link(v.tokens(volunteer_id)[0]["id"]))
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(sign_in.COOKIE + "="))
    assert "HttpOnly" in cookie and "Path=/wolontariusz" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age=2592000" in cookie  # 30 days
    home = client.get("/wolontariusz/")
    assert home.status_code == 200 and "Zofia Wiśniewska" in text(home)
    assert home.headers["Cache-Control"] == "no-store"
    with v.db.engine.connect() as conn:
        actions = conn.execute(sa.select(audit_log.c.action, audit_log.c.actor)
                               .where(audit_log.c.volunteer_id == volunteer_id)).all()
    assert ("sign_in", f"wolontariusz:{volunteer_id}") in actions
    assert ("sign_in_link", f"wolontariusz:{volunteer_id}") in actions
    assert ("self_read", f"wolontariusz:{volunteer_id}") in actions  # reading their own data is audited too


def test_the_pages_need_the_volunteers_session(v: Volunteers) -> None:
    client = v.app.test_client()
    for path in ("/wolontariusz/", "/wolontariusz/dostepnosc", "/wolontariusz/gdzie-i-jak"):
        response = client.get(path)
        assert response.status_code == 302 and response.location.endswith("/wolontariusz/logowanie")
    client.set_cookie(sign_in.COOKIE, "forged.value", path="/wolontariusz")
    assert client.get("/wolontariusz/").status_code == 302


def test_a_session_lasts_thirty_days(v: Volunteers) -> None:
    client = v.signed_in_client(v.register())
    v.clock.advance(timedelta(days=29, hours=23))
    assert client.get("/wolontariusz/").status_code == 200
    v.clock.advance(timedelta(hours=2))
    assert client.get("/wolontariusz/").status_code == 302


def test_sign_out_ends_this_session(v: Volunteers) -> None:
    client = v.signed_in_client(v.register())
    home = client.get("/wolontariusz/")
    out = client.post("/wolontariusz/wyloguj", data={"csrf_token": csrf_token(home.get_data(as_text=True))})
    assert out.status_code == 302
    assert client.get("/wolontariusz/").status_code == 302


def test_sign_out_everywhere_ends_every_session_of_the_person(v: Volunteers) -> None:
    volunteer_id = v.register()
    phone, laptop = v.signed_in_client(volunteer_id), v.signed_in_client(volunteer_id)
    stolen = laptop.get_cookie(sign_in.COOKIE, path="/wolontariusz").value
    home = phone.get("/wolontariusz/")
    assert phone.post("/wolontariusz/wyloguj-wszedzie",
                      data={"csrf_token": csrf_token(home.get_data(as_text=True))}).status_code == 302
    assert laptop.get("/wolontariusz/").status_code == 302
    thief = v.app.test_client()
    thief.set_cookie(sign_in.COOKIE, stolen, path="/wolontariusz")
    assert thief.get("/wolontariusz/").status_code == 302
    assert v.signed_in_client(volunteer_id).get("/wolontariusz/").status_code == 200  # a new link works
    with v.db.engine.connect() as conn:
        assert conn.execute(sa.select(volunteers.c.session_version)
                            .where(volunteers.c.id == volunteer_id)).scalar() == 1


def test_sign_out_everywhere_needs_the_csrf_token(v: Volunteers) -> None:
    client = v.signed_in_client(v.register())
    assert client.post("/wolontariusz/wyloguj-wszedzie", data={}).status_code == 400
    assert client.get("/wolontariusz/").status_code == 200


def test_a_staff_session_is_not_a_volunteers_session(db: Database) -> None:
    from wspolnota.testing import signed_in

    v = Volunteers(db, AUTH_DISABLED=False)
    client = signed_in(v.app.test_client(), role="admin")
    assert client.get("/wolontariusz/").status_code == 302


# --- the frame: phone-first, public header -------------------------------------------------------------------------
def test_every_page_has_the_phone_viewport_and_no_staff_navigation(v: Volunteers) -> None:
    volunteer_id = v.register()
    client = v.signed_in_client(volunteer_id)
    pages = [client.get(p) for p in ("/wolontariusz/", "/wolontariusz/dostepnosc", "/wolontariusz/gdzie-i-jak")]
    anonymous = v.app.test_client()
    pages += [anonymous.get("/wolontariusz/logowanie"), anonymous.get("/wolontariusz/logowanie/wyslano"),
              anonymous.get("/wolontariusz/wejscie/zly.link")]
    for page in pages:
        html = page.get_data(as_text=True)
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        assert 'href="/needs/"' not in html and 'href="/matching/"' not in html
        assert 'aria-label="Usługi"' not in html
        assert '<html lang="pl">' in html and "<script" not in html
        assert 'class="skip-link"' in html
