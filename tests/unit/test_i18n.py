"""Staff pages speak Polish by default and English on request; the catalogue covers every marked text."""
from __future__ import annotations

import html
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from wspolnota import i18n, reference
from wspolnota.config import ROOT
from wspolnota.testing import WRITTEN_AGREEMENT, InMemorySystem, signed_in

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
PO = i18n.TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"

# Words that only a Polish page would show: any word with a Polish letter, plus common Polish words without one.
POLISH_LETTERS = re.compile(r"\w*[ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]\w*")
POLISH_WORDS = {"brak", "zapisz", "nie", "tak", "lub", "oraz", "jest", "dla", "przez", "wszystkie", "potrzeby",
                "potrzeba", "wykonawca", "wykonawcy", "kategoria", "termin", "oferty", "szczegóły", "powiadomienia",
                "dopasowania", "wyloguj", "odrzuć", "zatwierdź", "mieszkaniec", "uwagi", "skrzynka", "filtruj",
                "kiedy", "kto", "stan", "rodzaj", "opis", "wizyta", "pilna", "przerwa", "aktywny", "zaloguj"}


def data_words() -> set[str]:
    """Names from the reference data and the product's own name are proper nouns, the same in every language."""
    words = {"Wspólnota", "Wspólnoty"}
    for item in [*reference.villages().values(), *reference.categories().values()]:
        words.update(re.findall(r"\w+", item["name"]))
    return words


def visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<(code|pre)\b.*?</\1>", " ", page, flags=re.S)  # identifiers and message bodies (data)
    # texts that are always Polish (stored reasons, messages sent to people) are marked as such for screen readers
    page = re.sub(r'<(\w+)\b[^>]*\blang="pl"[^>]*>.*?</\1>', " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def polish_left(page: str, allowed: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    text = visible_text(page)
    ok = data_words() | set(allowed)
    found = [w for w in POLISH_LETTERS.findall(text) if w not in ok]
    found += [w for w in re.findall(r"\w+", text) if w.lower() in POLISH_WORDS and w not in ok]
    return sorted(set(found))


@pytest.fixture
def system(tmp_path: Path) -> Any:
    s = InMemorySystem(tmp_path)
    yield s
    s.close()


@pytest.fixture
def clients(system: Any) -> dict[str, Any]:
    from services.matching.app import create_app as matching_app
    from services.needs.app import create_app as needs_app
    from services.notify.app import create_app as notify_app
    from services.volunteers.app import create_app as volunteers_app

    factories = {"needs": needs_app, "volunteers": volunteers_app, "matching": matching_app, "notify": notify_app}
    return {name: signed_in(f({"DATABASE_URL": system[name].db.url, "TESTING": True, "SECRET_KEY": "i18n"})
                            .test_client(), role="osl", name="Anna Organizatorka")
            for name, f in factories.items()}


@pytest.fixture
def proposal(system: Any, clients: dict[str, Any]) -> dict[str, Any]:
    """A need in Belno, a volunteer who can shop there tomorrow, and the proposal matching made of them."""
    person = {"name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48 601 202 303",
              "villages": ["belno"]}
    volunteer = clients["volunteers"].post("/api/volunteers", json=person).json
    clients["volunteers"].post(f"/api/volunteers/{volunteer['id']}/credentials", json=WRITTEN_AGREEMENT)
    clients["volunteers"].post(f"/api/volunteers/{volunteer['id']}/offers", json={
        "categories": ["ZAK"], "available_from": TOMORROW.isoformat(),
        "available_to": (TOMORROW + timedelta(hours=8)).isoformat()})
    need = clients["needs"].post("/api/needs", json={
        "resident_ref": "R-017", "category": "ZAK", "village": "belno", "description": "Zakupy",
        "window_start": TOMORROW.isoformat(), "window_end": (TOMORROW + timedelta(hours=4)).isoformat(),
        "duration_minutes": 60}).json
    system.pump()
    [match] = clients["matching"].get("/api/proposals").json
    return {"need": need, "volunteer": volunteer, "match": match}


def main_pages(proposal: dict[str, Any]) -> list[tuple[str, str]]:
    return [("needs", "/"), ("needs", f"/needs/{proposal['need']['id']}"), ("needs", "/needs/new"),
            ("needs", "/residents"), ("needs", "/packages"), ("needs", "/reference"),
            ("volunteers", "/"), ("volunteers", f"/wykonawcy/{proposal['volunteer']['id']}"),
            ("volunteers", "/wykonawcy/nowy"),
            ("matching", "/"), ("matching", f"/matches/{proposal['match']['id']}"), ("matching", "/moderation"),
            ("notify", "/"), ("notify", "/skrzynka")]


def test_the_main_staff_pages_are_in_polish_by_default(clients: dict[str, Any], proposal: dict[str, Any]) -> None:
    for service, path in main_pages(proposal):
        page = clients[service].get(path).get_data(as_text=True)
        assert '<html lang="pl">' in page, (service, path)
        assert "Przejdź do treści" in page and "Wyloguj" in page, (service, path)


def test_the_main_staff_pages_in_english_keep_no_polish_interface_text(clients: dict[str, Any],
                                                                        proposal: dict[str, Any]) -> None:
    # what stays Polish is data: people's names, a category name, and texts marked lang="pl"
    data = {"Zofia", "Wiśniewska", "Organizatorka", "Anna", "Zakupy"}
    for service, path in main_pages(proposal):
        response = clients[service].get(path + ("&" if "?" in path else "?") + "lang=en")
        assert response.status_code == 200, (service, path)
        page = response.get_data(as_text=True)
        assert '<html lang="en">' in page, (service, path)
        assert "Skip to content" in page and "Sign out" in page, (service, path)
        assert polish_left(page, data) == [], (service, path)


def test_a_proposal_reads_in_english_with_translated_labels_and_choices(clients: dict[str, Any],
                                                                       proposal: dict[str, Any]) -> None:
    page = clients["matching"].get(f"/matches/{proposal['match']['id']}?lang=en").get_data(as_text=True)
    assert "Approve and send the offer" in page and "Reason for rejecting" in page and "to review" in page
    form = clients["needs"].get("/needs/new?lang=en").get_data(as_text=True)
    assert "Resident (pseudonym)" in form and "one-off" in form and "— choose —" in form


def test_english_is_remembered_by_a_cookie_until_polish_is_chosen(clients: dict[str, Any]) -> None:
    needs = clients["needs"]
    first = needs.get("/?lang=en")
    assert i18n.COOKIE + "=en" in first.headers["Set-Cookie"]
    assert "Residents' needs" in needs.get("/").get_data(as_text=True)
    assert "Potrzeby mieszkańców" in needs.get("/?lang=pl").get_data(as_text=True)
    assert "Potrzeby mieszkańców" in needs.get("/").get_data(as_text=True)


def test_the_header_offers_both_languages_with_their_lang_attributes(clients: dict[str, Any]) -> None:
    page = clients["needs"].get("/residents?page=2").get_data(as_text=True)
    assert 'href="/residents?page=2&amp;lang=en" lang="en" hreflang="en">English</a>' in page
    assert 'lang="pl" hreflang="pl" aria-current="true">Polski</a>' in page


def test_a_translated_run_time_text_is_still_escaped(clients: dict[str, Any]) -> None:
    from flask import render_template_string

    app = clients["needs"].application
    with app.test_request_context("/?lang=en"):
        assert render_template_string("{{ t|tr }}", t="Zapisano zmiany.") == "Changes saved."
        assert render_template_string("{{ t|tr }}", t="<b>Zapisano</b>") == "&lt;b&gt;Zapisano&lt;/b&gt;"
        assert render_template_string("{{ t|tr }}", t="") == ""


def test_times_are_shown_in_warsaw_time_in_both_languages(clients: dict[str, Any]) -> None:
    from wspolnota.web import local_dt

    app = clients["needs"].application
    winter = datetime(2026, 1, 15, 8, 30, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 8, 30)  # naive values from SQLite are UTC
    with app.test_request_context("/"):
        assert (local_dt(winter), local_dt(summer)) == ("15.01.2026 09:30", "15.07.2026 10:30")
    with app.test_request_context("/?lang=en"):
        assert (local_dt(winter), local_dt(summer)) == ("15 Jan 2026, 09:30", "15 Jul 2026, 10:30")
    assert local_dt(winter) == "15.01.2026 09:30"  # outside a request: Polish


# The pages and forms translated so far; a page joins this list once its texts have English translations
# (new pages by other work may be added here together with their entries in messages.po).
COVERED = {
    "wspolnota/templates/base.html", "wspolnota/translations/runtime_sources.txt",
    "wspolnota/templates/auth/forbidden.html",
    *(f"services/front/templates/auth/{n}.html" for n in ("login", "user", "users")),
    *(f"services/{s}/forms.py" for s in ("needs", "volunteers", "matching")),
    *(f"services/matching/templates/matching/{n}.html" for n in ("_field", "index", "match", "moderation")),
    *(f"services/needs/templates/needs/{n}.html" for n in (
        "_ui", "api_docs", "audit", "cancel", "csrf", "duplicate", "index", "need", "need_form", "package",
        "package_form", "packages", "reference", "resident", "resident_form", "residents")),
    *(f"services/notify/templates/notify/{n}.html" for n in (
        "_offer", "inbox", "index", "response", "response_done")),
    *(f"services/volunteers/templates/volunteers/{n}.html" for n in (
        "_macros", "audit", "confirm", "csrf", "index", "profile", "provider_form", "register", "register_done")),
    "services/volunteers/self_forms.py",
    *(f"services/volunteers/templates/volunteers/self/{n}.html" for n in (
        "_layout", "availability", "csrf", "home", "link_sent", "link_unusable", "sign_in", "too_many", "use_link",
        "where")),
}


def test_every_marked_text_of_the_translated_pages_has_an_english_translation() -> None:
    """pybabel's extraction (babel.cfg: code, templates, run-time dictionaries) checked against messages.po."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg
    from babel.messages.pofile import read_po

    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
    marked = {(m[2] if isinstance(m[2], str) else m[2][0], m[0])
              for m in extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)
              if m[2]}  # every file with marked texts, not only the ones listed in COVERED
    assert COVERED <= {path for _, path in marked}, "a covered file lost its marked texts or moved"
    with PO.open("rb") as f:
        catalog = read_po(f)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog
                  if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else [m.string])}
    missing = sorted({(text, path) for text, path in marked if text not in translated})
    assert missing == [], ("texts without an English translation — see docs/i18n.md "
                           f"(pybabel extract + update, then translate): {missing}")


def test_a_missing_or_stale_compiled_catalogue_is_compiled_from_the_po(tmp_path: Path) -> None:
    source = tmp_path / "translations"
    shutil.copytree(i18n.TRANSLATIONS, source, ignore=shutil.ignore_patterns("*.mo"))
    mo = source / "en" / "LC_MESSAGES" / "messages.mo"
    assert i18n.compile_catalogs(source) == source and mo.exists()
    po = mo.with_suffix(".po")
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "Skip to content"', 'msgstr "Skip ahead"'),
                  encoding="utf-8")
    stamp = mo.stat().st_mtime - 10
    import os

    os.utime(mo, (stamp, stamp))
    i18n.compile_catalogs(source)
    from babel.messages.mofile import read_mo

    with mo.open("rb") as f:
        assert read_mo(f)["Przejdź do treści"].string == "Skip ahead"


def test_the_sign_in_and_user_pages_read_in_english_including_the_roles(tmp_path: Path) -> None:
    import re as regex

    from services.front.accounts import AuthStore
    from services.front.app import create_app as front_door

    store = AuthStore(f"sqlite:///{tmp_path / 'auth.db'}")
    store.migrate()
    store.add("admin", "admin", "Zagnansk-2026-haslo", "Administratorka")
    client = front_door({"AUTH_DATABASE_URL": store.url, "SECRET_KEY": "i18n"}).test_client()
    login = client.get("/auth/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in login and "Sign in to Wspólnota" in login and ">Password</label>" in login
    token = regex.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)  # type: ignore[union-attr]
    wrong = client.post("/auth/login", data={"login": "admin", "password": "nie-to-haslo", "csrf_token": token})
    assert "Wrong login or password." in wrong.get_data(as_text=True)
    client.post("/auth/login", data={"login": "admin", "password": "Zagnansk-2026-haslo", "csrf_token": token})
    users = client.get("/auth/users").get_data(as_text=True)
    assert ">local community organiser (OSL)</option>" in users and ">auditor (read-only)</option>" in users
    assert polish_left(users, {"Administratorka"}) == []
    polish = client.get("/auth/users?lang=pl").get_data(as_text=True)
    assert '<option value="osl">organizator społeczności lokalnej (OSL)</option>' in polish
    store.dispose()


def test_a_read_only_install_compiles_the_catalogue_into_a_private_cache(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "installed" / "translations"
    shutil.copytree(i18n.TRANSLATIONS, source, ignore=shutil.ignore_patterns("*.mo"))
    write = i18n._write_mo

    def read_only_package(po: Path, mo: Path) -> None:
        if source in mo.parents:
            raise PermissionError(13, "Permission denied", str(mo))
        write(po, mo)

    monkeypatch.setattr(i18n, "_write_mo", read_only_package)
    used = i18n.compile_catalogs(source)
    assert used != source and not (source / "en" / "LC_MESSAGES" / "messages.mo").exists()
    assert (used / "en" / "LC_MESSAGES" / "messages.mo").exists()
