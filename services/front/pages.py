"""The sign-in pages and staff-account management (`/auth/...`), and the services' session check.

The accounts store and the clock come from the front's bootstrap (`current_parts()`). Reading and checking the
session cookie, `enforce` and the security headers are the shared runtime's (wspolnota/auth.py): every
service verifies the cookie itself.
"""
from __future__ import annotations

import logging
import unicodedata
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext

from services.front.accounts import AuthError, AuthStore, normalise
from services.front.forms import EditUserForm, NewUserForm, SignInForm, SignOutForm
from wspolnota import access
from wspolnota.auth import LOGIN_URL, current_user, start_session
from wspolnota.web import current_parts

log = logging.getLogger("wspolnota.auth")

bp = Blueprint("auth", __name__, url_prefix="/auth")


def store() -> AuthStore:
    return current_parts().db  # type: ignore[return-value]


def safe_next(target: str | None) -> str:
    """Only paths on this site are followed after sign-in; anything else gives "/".

    Judged the way a browser reads a Location header: it drops tab, CR and LF anywhere and treats "\\" as
    "/", so "/\t/evil.example" means "//evil.example". Hence any control, format or whitespace character and
    any backslash is refused, and so is what `urlsplit` sees a scheme or host in, also once percent-decoded
    (a server on the way may decode the path and redirect again)."""
    if not target or not target.startswith("/"):
        return "/"
    if "\\" in target or any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in target):
        return "/"
    for candidate in (target, unquote(target)):
        parts = urlsplit(candidate)
        if parts.scheme or parts.netloc or candidate.startswith("//") or "\\" in candidate:
            return "/"
    return target


def require_admin() -> dict[str, Any]:
    user = current_user()
    if user is None:
        abort(redirect(f"{LOGIN_URL}?{urlencode({'next': request.path})}"))
    if user["role"] != access.ADMIN:
        abort(make_response(render_template("auth/forbidden.html", user=user), 403))
    return user


@bp.get("/check")
def check():  # type: ignore[no-untyped-def]
    """For the services: 204 while the caller's session is valid (account active, role unchanged), else 401."""
    return ("", 204) if current_user() is not None else ("", 401)


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    form = SignInForm()
    target = safe_next(request.args.get("next"))
    error = ""
    if form.validate_on_submit():
        outcome = store().authenticate(form.login.data, form.password.data)
        if outcome.ok:
            start_session(outcome.user)  # type: ignore[arg-type]  # ok means a user
            log.info("staff signed in")
            return redirect(target)
        error = outcome.message
    status = 401 if error else 400 if form.errors else 200
    return render_template("auth/login.html", form=form, error=error, next=target), status


@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    form = SignOutForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=SignInForm(formdata=None), next="/",
                               error="Sesja formularza wygasła — spróbuj jeszcze raz."), 400
    session.clear()
    flash("Wylogowano.")
    return redirect(url_for("auth.login"))


@bp.route("/users", methods=["GET", "POST"])
def users_page():  # type: ignore[no-untyped-def]
    require_admin()
    accounts = store()
    form = NewUserForm()
    error = ""
    if form.validate_on_submit():
        try:
            accounts.add(form.login.data, form.role.data, form.password.data, form.display_name.data or "")
        except AuthError as err:
            error = str(err)
        else:
            flash(gettext("Dodano użytkownika „%(login)s”.", login=normalise(form.login.data)))
            return redirect(url_for("auth.users_page"))
    status = 422 if (error or form.errors) else 200
    return render_template("auth/users.html", users=accounts.all(), form=form, error=error,
                           now=current_parts().clock()), status


@bp.route("/users/<login>", methods=["GET", "POST"])
def user_page(login: str):  # type: ignore[no-untyped-def]
    me = require_admin()
    accounts = store()
    user = accounts.get(login)
    if user is None:
        abort(404)
    form = EditUserForm(data={"role": user["role"], "active": user["active"]})
    error = ""
    if form.validate_on_submit():
        if user["login"] == me["login"] and (form.role.data != access.ADMIN or not form.active.data):
            error = "Nie możesz odebrać sobie roli administratora ani wyłączyć własnego konta."
        else:
            try:
                accounts.update(user["login"], role=form.role.data, active=bool(form.active.data),
                                password=form.password.data or None, unlock=bool(form.unlock.data))
            except AuthError as err:
                error = str(err)
            else:
                flash(gettext("Zapisano zmiany użytkownika „%(login)s”.", login=user["login"]))
                return redirect(url_for("auth.users_page"))
    status = 422 if (error or form.errors) else 200
    return render_template("auth/user.html", user=user, form=form, error=error), status
