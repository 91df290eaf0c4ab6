"""Languages for staff pages: Polish by default, English available (Flask-Babel).

Message ids are the Polish texts themselves (the product's language of record); the English catalogue
lives in wspolnota/translations/en/LC_MESSAGES/messages.po. Templates and code mark text with `_()`.
Dates and times are shown in Europe/Warsaw whatever the language.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, request
from flask_babel import Babel

LANGUAGES = ("pl", "en")
DEFAULT = "pl"
COOKIE = "wspolnota_lang"
TRANSLATIONS = Path(__file__).parent / "translations"


def select_locale() -> str:
    """?lang= wins (and is remembered by the cookie set in after_request), then the cookie, then Polish."""
    wanted = request.args.get("lang") or request.cookies.get(COOKIE)
    return wanted if wanted in LANGUAGES else DEFAULT


def install(app: Flask) -> Babel:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/Warsaw")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel = Babel(app, locale_selector=select_locale)

    @app.after_request
    def _remember_language(response):  # type: ignore[no-untyped-def]
        wanted = request.args.get("lang")
        if wanted in LANGUAGES and request.cookies.get(COOKIE) != wanted:
            response.set_cookie(COOKIE, wanted, max_age=365 * 24 * 3600, samesite="Lax", path="/")
        return response

    @app.context_processor
    def _language():  # type: ignore[no-untyped-def]
        return {"current_language": select_locale(), "languages": LANGUAGES}

    return babel
