"""Languages for staff pages: Polish by default, English available (Flask-Babel).

Message ids are the Polish texts themselves (the product's language of record); the English catalogue
lives in wspolnota/translations/en/LC_MESSAGES/messages.po. Templates and code mark text with `_()`.
Dates and times are shown in Europe/Warsaw whatever the language.

The compiled catalogue (messages.mo) is not kept in git: `install()` compiles it with babel's API when it
is missing or older than the .po (a fresh clone, or an edited .po), next to the .po when that directory is
writable, otherwise into a private cache directory (a read-only install, e.g. the container image).

Texts that come from Python dictionaries at run time (statuses, roles, flash messages) are translated in
templates with the `tr` filter: a plain catalogue look-up that never formats and never marks the text safe,
so it is also safe on values that may carry user input (unknown texts pass through unchanged).
`extract_runtime` lets pybabel collect those dictionaries' values (see babel.cfg and docs/i18n.md).
"""
from __future__ import annotations

import hashlib
import importlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask_babel import Babel, get_locale, gettext

LANGUAGES = ("pl", "en")
LANGUAGE_NAMES = {"pl": "Polski", "en": "English"}
DEFAULT = "pl"
COOKIE = "wspolnota_lang"
TRANSLATIONS = Path(__file__).parent / "translations"
DOMAIN = "messages"

log = logging.getLogger(__name__)


def select_locale() -> str:
    """?lang= wins (and is remembered by the cookie set in after_request), then the cookie, then Polish."""
    wanted = request.args.get("lang") or request.cookies.get(COOKIE)
    return wanted if wanted in LANGUAGES else DEFAULT


def _stale(po: Path, mo: Path) -> bool:
    return not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime


def _write_mo(po: Path, mo: Path) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f, locale=po.parents[1].name, domain=DOMAIN)
    mo.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=mo.parent, prefix=".messages-", suffix=".mo")
    try:
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog)  # fuzzy entries are left out, as pybabel compile does
        os.replace(tmp, mo)  # atomic: several processes may compile at once
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def compile_catalogs(source: Path = TRANSLATIONS) -> Path:
    """Compile every <lang>/LC_MESSAGES/messages.po whose .mo is missing or older; returns the directory to use."""
    pos = sorted(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    try:
        for po in pos:
            mo = po.with_suffix(".mo")
            if _stale(po, mo):
                _write_mo(po, mo)
        return source
    except OSError as err:  # a read-only install: compile into a private cache instead
        key = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:12]
        cache = Path(tempfile.gettempdir()) / f"wspolnota-translations-{os.getuid()}-{key}"
        log.info("translations directory not writable (%s); compiling into %s", err.__class__.__name__, cache)
        for po in pos:
            mo = cache / po.relative_to(source).with_suffix(".mo")
            if _stale(po, mo):
                _write_mo(po, mo)
        return cache


def translate(text: Any) -> Any:
    """The `tr` filter: look a run-time text up in the catalogue; unknown or empty texts pass through."""
    if not text or not isinstance(text, str):
        return text
    return str(gettext(text))


def html_lang() -> str:
    return str(get_locale() or DEFAULT)


def language_url(lang: str) -> str:
    """This page in another language: the same path (behind the proxy prefix) and query, with ?lang=."""
    from urllib.parse import urlencode

    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"] + [("lang", lang)]
    return f"{request.script_root}{request.path}?{urlencode(args)}"


def install(app: Flask) -> Babel:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/Warsaw")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(compile_catalogs()))
    babel = Babel(app, locale_selector=select_locale)
    app.jinja_env.filters["tr"] = translate

    @app.after_request
    def _remember_language(response):  # type: ignore[no-untyped-def]
        wanted = request.args.get("lang")
        if wanted in LANGUAGES and request.cookies.get(COOKIE) != wanted:
            response.set_cookie(COOKIE, wanted, max_age=365 * 24 * 3600, samesite="Lax", path="/")
        return response

    @app.context_processor
    def _language():  # type: ignore[no-untyped-def]
        return {"current_language": html_lang(), "languages": LANGUAGES, "language_names": LANGUAGE_NAMES,
                "language_url": language_url}

    return babel


def extract_runtime(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Iterator[tuple[int, str, str, list[str]]]:
    """pybabel extractor for wspolnota/translations/runtime_sources.txt.

    Each line is either `module:NAME` (every string value of that dict/list/tuple becomes a msgid) or a
    literal Polish text in double quotes (a fixed flash message or label defined where `_()` cannot be used).
    """
    for lineno, raw in enumerate(fileobj.read().decode("utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith('"') and line.endswith('"'):
            yield lineno, "gettext", line[1:-1], []
            continue
        module, _, name = line.partition(":")
        value = getattr(importlib.import_module(module), name)
        values = value.values() if isinstance(value, dict) else value
        for text in values:
            if isinstance(text, str) and text:
                yield lineno, "gettext", text, [f"{module}:{name}"]
