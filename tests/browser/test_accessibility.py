"""Accessibility of the staff pages in real Chromium: axe-core's WCAG 2.1 A/AA rules, plus our own checks of
labels, the skip link, tab order, visible focus, no keyboard trap and no sideways scrolling at 200 % zoom.

All five services run in this process on the in-memory bus, mounted under /needs, /volunteers, /matching, /notify
and /community of one local address behind the front door, whose dashboard at / reads them as in production; the
browser carries a signed-in organiser's session (the organiser has a front-door account), and on the volunteer's
own pages the seeded volunteer's session too.
axe-core is vendored under tests/browser/vendor/axe-core (MPL-2.0, see its README) and injected by Playwright.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from wspolnota.testing import WRITTEN_AGREEMENT, InMemorySystem, signed_in

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
TOMORROW = (datetime.now(UTC) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
SECRET = "a11y-test-secret"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


class Site:
    """The four services under one address, with a need, a volunteer and the proposal matching made."""

    def __init__(self, workdir: Path, live_server: Any):
        from services.matching.app import create_app as matching_app
        from services.needs.app import create_app as needs_app
        from services.notify.app import create_app as notify_app
        from services.volunteers.app import create_app as volunteers_app

        self.system = InMemorySystem(workdir)
        from services.community.app import create_app as community_app

        factories = {"needs": needs_app, "volunteers": volunteers_app, "matching": matching_app, "notify": notify_app,
                     "community": community_app}
        self.apps: dict[str, Flask] = {
            name: f({"DATABASE_URL": self.system[name].db.url, "TESTING": True, "SECRET_KEY": SECRET})
            for name, f in factories.items()}
        from services.front.app import create_app as front_door  # sign-in pages at /auth, the dashboard at /

        served: dict[str, Any] = {}  # the front door needs the address it is served at (its dashboard reads the
        self.url = live_server(lambda environ, start: served["app"](environ, start))  # services through it)
        root = front_door({"AUTH_DATABASE_URL": f"sqlite:///{workdir / 'auth.db'}", "SECRET_KEY": SECRET,
                           "UPSTREAMS": {n: f"{self.url}/{n}" for n in self.apps}})
        # the organiser the test's session names has an account, so the front door shows the dashboard
        root.extensions["auth_store"].add("test.osl", "osl", "a11y-organiser-password-1", "Anna Organizatorka")
        served["app"] = DispatcherMiddleware(root, {f"/{n}": a for n, a in self.apps.items()})
        self.ids = self._seed()

    def api(self, service: str) -> Any:
        return signed_in(self.apps[service].test_client(), role="osl", name="Anna Organizatorka")

    def _seed(self) -> dict[str, str]:
        volunteers, needs = self.api("volunteers"), self.api("needs")
        volunteer = volunteers.post("/api/volunteers", json={
            "name": "Zofia Wiśniewska", "email": "zofia@example.pl", "phone": "+48 601 202 303",
            "villages": ["belno"]}).json
        volunteers.post(f"/api/volunteers/{volunteer['id']}/credentials", json=WRITTEN_AGREEMENT)
        volunteers.post(f"/api/volunteers/{volunteer['id']}/offers", json={
            "categories": ["ZAK"], "available_from": TOMORROW.isoformat(),
            "available_to": (TOMORROW + timedelta(hours=8)).isoformat()})
        need = needs.post("/api/needs", json={
            "resident_ref": "R-017", "category": "ZAK", "village": "belno", "description": "Zakupy",
            "window_start": TOMORROW.isoformat(), "window_end": (TOMORROW + timedelta(hours=4)).isoformat(),
            "duration_minutes": 60}).json
        self.system.pump()
        [match] = self.api("matching").get("/api/proposals").json
        from services.community import assets, plan_handlers

        community = self.system["community"]  # a place on the village map, a helper place on matching's pages
        with community.db.transaction() as session:
            assets.add_asset(session, community.outbox, {
                "kind": "place", "subtype": "swietlica", "village": "belno", "name": "Świetlica w Belnie",
                "capacity": 40, "accessible": True})
            [activity] = plan_handlers.schedule_activity(session, community.outbox, {
                "kind": "event", "title": "Piknik", "village": "belno", "venue": "Świetlica w Belnie",
                "starts_at": TOMORROW + timedelta(hours=5), "ends_at": TOMORROW + timedelta(hours=7),
                "capacity": None, "helpers_wanted": 2, "involves_children": False}, datetime.now(UTC))
        self.system.pump()
        return {"need": need["id"], "volunteer": volunteer["id"], "match": match["id"], "activity": activity}

    def session_cookie(self) -> dict[str, Any]:
        """The organiser's signed session cookie, as the front door's sign-in would set it."""
        app = self.apps["needs"]
        client = self.api("needs")
        name = app.config["SESSION_COOKIE_NAME"]
        cookie = client.get_cookie(name)
        assert cookie is not None
        return {"name": name, "value": cookie.value, "url": self.url}

    def volunteer_cookie(self) -> dict[str, Any]:
        """The seeded volunteer's own session cookie, as redeeming a sign-in link would set it."""
        from services.volunteers import sign_in

        value = sign_in.session_value(SECRET, {"id": self.ids["volunteer"], "session_version": 0}, datetime.now(UTC))
        host = self.url.split("://", 1)[1].split(":", 1)[0]
        return {"name": sign_in.COOKIE, "value": value, "domain": host, "path": "/volunteers/wolontariusz"}

    def visit(self, page: Any, name: str, url: str) -> Any:
        """Open a page; the volunteer's own pages with the volunteer signed in. Their sign-in page comes before
        them in `pages()`: signed in, it would send them to their home page."""
        if name.startswith(self.SPACE) and not any(c["name"] == self.volunteer_cookie()["name"]
                                                   for c in page.context.cookies()):
            page.context.add_cookies([self.volunteer_cookie()])
        return page.goto(url)

    def pages(self) -> list[tuple[str, str]]:
        return [("needs-list", "/needs/"), ("need", f"/needs/needs/{self.ids['need']}"),
                ("need-form", "/needs/needs/new"), ("volunteers", "/volunteers/"),
                ("volunteer", f"/volunteers/wykonawcy/{self.ids['volunteer']}"),
                ("provider-form", "/volunteers/wykonawcy/nowy"),
                ("matching", "/matching/"), ("proposal", f"/matching/matches/{self.ids['match']}"),
                ("helper-activity", f"/matching/pomocnicy/{self.ids['activity']}"),
                ("notify", "/notify/"), ("inbox", "/notify/skrzynka"),
                ("reports", "/matching/raporty"), ("report-heat-map", "/matching/raporty/potrzeby-i-potencjal"),
                ("report-coverage", "/matching/raporty/pokrycie"), ("village-map", "/matching/mapa"),
                ("case-system", "/needs/case-system"),
                # public pages of volunteers (their own layout; the organiser's cookie does not sign them in)
                ("volunteer-sign-in", "/volunteers/wolontariusz/logowanie"),
                ("self-registration", "/volunteers/zglos-sie"),
                ("milestones", "/volunteers/kamienie-milowe"),
                # community organising: the organiser's pages
                ("community", "/community/"), ("diagnosis", "/community/diagnoza"),
                ("assets", "/community/zasoby"), ("asset-form", "/community/zasoby/nowy"),
                ("surveys", "/community/ankiety"), ("survey-form", "/community/ankiety/nowa"),
                ("plans", "/community/plans"), ("activities", "/community/activities"),
                ("activity", f"/community/activities/{self.ids['activity']}"),
                ("activity-edit", f"/community/activities/{self.ids['activity']}/edit"),
                ("groups", "/community/groups"), ("partners", "/community/partners"),
                ("cooperation", "/community/partners/cooperation"),
                # the volunteer's own pages, signed in as the seeded volunteer (see `visit`)
                ("space-home", "/volunteers/wolontariusz/"), ("space-visits", "/volunteers/wolontariusz/wizyty"),
                ("space-availability", "/volunteers/wolontariusz/dostepnosc"),
                ("space-where", "/volunteers/wolontariusz/gdzie-i-jak"),
                ("space-hours", "/volunteers/wolontariusz/godziny"),
                ("space-messages", "/volunteers/wolontariusz/wiadomosci"),
                ("space-concern", "/volunteers/wolontariusz/niepokoj"),
                # the front door: the organiser's dashboard, then (signed out there) its sign-in page
                ("dashboard", "/"), ("sign-in", "/auth/login")]

    SPACE = "space-"
    FRONT_DOOR = ("sign-in",)


@pytest.fixture
def site(tmp_path: Path, live_server: Any) -> Iterator[Site]:
    s = Site(tmp_path, live_server)
    yield s
    s.system.close()


def tab(browser: Any, site: Site, **context: Any) -> Any:
    ctx = browser.new_context(locale="pl-PL", timezone_id="Europe/Warsaw", bypass_csp=True, **context)
    ctx.add_cookies([site.session_cookie()])
    page = ctx.new_page()
    page.set_default_timeout(20_000)
    return page


def axe_violations(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
            for v in result["violations"]]


UNNAMED_FIELDS = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden' && el.offsetParent !== null)
  .filter(el => {
    const labelled = el.labels && [...el.labels].some(l => l.textContent.trim());
    const aria = (el.getAttribute('aria-label') || '').trim() || el.getAttribute('aria-labelledby');
    const own = el.tagName === 'BUTTON' && el.textContent.trim();
    return !(labelled || aria || own || el.title);
  }).map(el => el.outerHTML.slice(0, 120))"""

FOCUSED = """() => { const el = document.activeElement; const s = getComputedStyle(el);
  return {tag: el.tagName, text: (el.innerText || el.value || '').trim().slice(0, 60), id: el.id,
          outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2, href: el.getAttribute('href')}; }"""


@pytest.mark.parametrize("lang", ["pl", "en"])
def test_the_main_staff_pages_pass_axe_wcag_21_aa_checks(browser: Any, site: Site, artifacts: Path, lang: str) -> None:
    page = tab(browser, site)
    found = {}
    for name, path in site.pages():
        response = site.visit(page, name, f"{site.url}{path}?lang={lang}")
        assert response is not None and response.ok, name
        if name not in site.FRONT_DOOR:  # the page itself was checked, not a sign-in page it sent us to
            assert page.url.endswith(f"{path}?lang={lang}"), (name, page.url)
        if name == "dashboard":  # every section read from its service, none "unavailable"
            assert "Niedostępne" not in page.content() and "Unavailable" not in page.content()
        assert page.locator("html").get_attribute("lang") == lang
        violations = axe_violations(page)
        if violations:
            found[name] = violations
    assert found == {}


def test_every_field_has_a_label_and_every_button_a_name(browser: Any, site: Site) -> None:
    page = tab(browser, site)
    for name, path in site.pages():
        site.visit(page, name, f"{site.url}{path}")
        assert page.evaluate(UNNAMED_FIELDS) == [], name


def test_the_skip_link_comes_first_and_moves_focus_to_the_content(browser: Any, site: Site, artifacts: Path) -> None:
    page = tab(browser, site)
    page.goto(f"{site.url}/matching/matches/{site.ids['match']}")
    page.keyboard.press("Tab")
    first = page.evaluate(FOCUSED)
    assert (first["text"], first["href"], first["outline"]) == ("Przejdź do treści", "#tresc", True)
    assert page.locator(".skip-link").bounding_box()["y"] >= 0  # visible once focused
    page.screenshot(path=str(artifacts / "a11y-skip-link-focused.png"))
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "tresc"


def test_tab_order_reaches_the_decision_with_a_visible_focus_and_never_traps(browser: Any, site: Site,
                                                                            artifacts: Path) -> None:
    page = tab(browser, site)
    page.goto(f"{site.url}/matching/matches/{site.ids['match']}")
    seen = []
    for _ in range(200):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["tag"] == "BODY":  # past the last element: focus left the page, so nothing trapped it
            break
        assert focused["outline"], f"no visible focus on {focused}"
        seen.append(focused["text"])
        if focused["text"] == "Zatwierdź i wyślij ofertę":
            page.screenshot(path=str(artifacts / "a11y-focus-on-approve.png"))
    else:
        pytest.fail(f"Tab never left the page: {seen[-10:]}")
    order = [t for t in seen if t in ("Przejdź do treści", "Potrzeby", "Wyloguj", "Zatwierdź i wyślij ofertę",
                                      "Odrzuć")]
    assert order == ["Przejdź do treści", "Potrzeby", "Wyloguj", "Zatwierdź i wyślij ofertę", "Odrzuć"]


@pytest.mark.parametrize("lang", ["pl", "en"])
def test_at_200_percent_zoom_no_page_scrolls_sideways(browser: Any, site: Site, artifacts: Path, lang: str) -> None:
    """A 1280 px wide window at 200 % zoom lays pages out in 640 CSS pixels."""
    page = tab(browser, site, viewport={"width": 640, "height": 400}, device_scale_factor=2)
    wide = {}
    for name, path in site.pages():
        site.visit(page, name, f"{site.url}{path}?lang={lang}")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            wide[name] = overflow
        if lang == "pl":
            page.screenshot(path=str(artifacts / f"a11y-640px-{name}.png"), full_page=True)
    assert wide == {}


def test_the_checks_catch_a_page_that_breaks_them(browser: Any) -> None:
    """The same checks fail on an unlabelled field, low contrast and a too-wide element."""
    page = browser.new_page(viewport={"width": 640, "height": 400})
    page.set_content('<!doctype html><html lang="pl"><head><title>x</title></head><body><main>'
                     '<input type="text"><p style="color:#aaa">słabo widoczny tekst</p>'
                     '<div style="width:2000px">szeroki</div></main></body></html>')
    violations = " ".join(axe_violations(page))
    assert "label" in violations and "color-contrast" in violations
    assert page.evaluate(UNNAMED_FIELDS) != []
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") > 0
