"""Staff sign-in shared by the front door and the four services.

- Accounts live in one small database (AUTH_DATABASE_URL, default var/auth.db; Alembic versions in
  wspolnota/auth_migrations). Only the front door and the `wspolnota user` command open it.
- Passwords: argon2id (argon2-cffi). Five failed attempts lock the account for 15 minutes.
- The session is Flask's signed cookie (shared SECRET_KEY, cookie path "/", HttpOnly, SameSite=Lax): every
  service behind the one address verifies it locally. It ends after 8 h without activity or 12 h after sign-in,
  or on sign-out.
- `enforce(service)` runs before every request of every service: wspolnota.access decides (default deny);
  anonymous callers get 401 JSON (API) or a redirect to the sign-in page (HTML); a wrong role gets 403.
- Account changes: the role is copied into the cookie at sign-in. The front door (the only app holding the
  accounts database) re-reads the account on every request it serves: a deactivated or deleted account, or one
  whose role an admin changed, ends the session there and then (the person signs in again and gets the new
  role, or cannot sign in at all). In the embedded run every request passes through the front door's proxy,
  which forwards the ended session as no session, so the change takes effect at the very next request. In
  compose nginx sends service URLs straight to the services: a service trusts a session the front door checked
  less than RECHECK_S (60 s) ago and asks the front door (`GET /auth/check`, WSPOLNOTA_FRONT_URL) about an
  older one, remembering the answer for 60 s — so there the change takes effect within about a minute. If the
  front door does not answer, the service trusts the signed cookie (logged). See docs/dashboard.md.
- SESSION_COOKIE_SECURE (wspolnota.config) makes the cookie HTTPS-only: off for the embedded http run, on in
  compose.
"""
from __future__ import annotations

import logging
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext

from wspolnota import access, config
from wspolnota.db import UtcDateTime, make_engine

log = logging.getLogger("wspolnota.auth")

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
IDLE_TIMEOUT_S = 8 * 3600
ABSOLUTE_TIMEOUT_S = 12 * 3600
TOUCH_EVERY_S = 60
RECHECK_S = 60  # a service asks the front door about a session the front door has not checked for this long
CHECK_TIMEOUT_S = 2.0
SESSION_KEY = "staff"
LOGIN_URL = "/auth/login"
MIGRATIONS = Path(__file__).resolve().parent / "auth_migrations"

CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
COOKIE_SETTINGS = {
    "SESSION_COOKIE_NAME": "wspolnota_session",
    "SESSION_COOKIE_PATH": "/",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
}


def cookie_settings() -> dict[str, Any]:
    """COOKIE_SETTINGS plus SESSION_COOKIE_SECURE from the environment (read when an app is created)."""
    return {**COOKIE_SETTINGS, "SESSION_COOKIE_SECURE": config.get_bool("SESSION_COOKIE_SECURE")}

metadata = sa.MetaData()
users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("login", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(120), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("failed_attempts", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", UtcDateTime, nullable=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("password_changed_at", UtcDateTime, nullable=False),
)

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not-a-password-" + secrets.token_hex(8))


# --- accounts ----------------------------------------------------------------------------------------------
class AuthError(Exception):
    """A Polish message for the person at the keyboard."""


@dataclass(frozen=True)
class Outcome:
    ok: bool
    user: dict[str, Any] | None = None
    message: str = ""


def default_url() -> str:
    return config.get("AUTH_DATABASE_URL") or f"sqlite:///{config.var_dir() / 'auth.db'}"


class AuthStore:
    """The staff accounts database (duck-types wspolnota.db.Database for the Alembic env)."""

    service = "auth"

    def __init__(self, url: str | None = None):
        self.url = url or default_url()
        self.metadata = metadata
        self.engine = make_engine(self.url)

    def migrate(self) -> None:
        from alembic import command
        from alembic.config import Config

        with self.engine.begin() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
            cfg.attributes["database"] = self
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def dispose(self) -> None:
        self.engine.dispose()

    # queries
    def get(self, login: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.login == normalise(login))).mappings().first()
        return dict(row) if row else None

    def all(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.select(users).order_by(users.c.login)).mappings()]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one()

    # changes
    def add(self, login: str, role: str, password: str, display_name: str = "") -> None:
        login = normalise(login)
        check_login(login)
        check_role(role)
        check_password(password)
        if self.get(login):
            raise AuthError(f"Użytkownik „{login}” już istnieje.")
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.execute(sa.insert(users).values(
                login=login, display_name=(display_name or login).strip()[:120], role=role,
                password_hash=_hasher.hash(password), active=True, failed_attempts=0, created_at=now,
                password_changed_at=now))

    def update(self, login: str, *, role: str | None = None, active: bool | None = None,
               password: str | None = None, unlock: bool = False, display_name: str | None = None) -> None:
        values: dict[str, Any] = {}
        if role is not None:
            check_role(role)
            values["role"] = role
        if active is not None:
            values["active"] = active
        if display_name:
            values["display_name"] = display_name.strip()[:120]
        if password:
            check_password(password)
            values.update(password_hash=_hasher.hash(password), password_changed_at=datetime.now(UTC))
        if unlock or password:
            values.update(failed_attempts=0, locked_until=None)
        if not values:
            return
        with self.engine.begin() as conn:
            done = conn.execute(sa.update(users).where(users.c.login == normalise(login)).values(**values))
        if done.rowcount == 0:
            raise AuthError("Nie ma takiego użytkownika.")

    def authenticate(self, login: str, password: str, now: datetime | None = None) -> Outcome:
        """Check a password; count failures and lock the account after MAX_FAILURES of them."""
        now = now or datetime.now(UTC)
        wrong = Outcome(False, message="Nieprawidłowy login lub hasło.")
        user = self.get(login)
        if user is None or not user["active"]:
            _verify(_DUMMY_HASH, password)  # the same work whether or not the login exists
            return wrong
        if user["locked_until"] is not None and user["locked_until"] > now:
            return Outcome(False, message="Konto jest czasowo zablokowane po kolejnych nieudanych próbach "
                                          "logowania. Spróbuj ponownie za 15 minut lub poproś administratora "
                                          "o odblokowanie.")
        if not _verify(user["password_hash"], password):
            failures = (user["failed_attempts"] or 0) + 1
            values: dict[str, Any] = {"failed_attempts": failures}
            if failures >= MAX_FAILURES:
                values = {"failed_attempts": 0, "locked_until": now + LOCKOUT}
                log.warning("account locked after %d failed sign-ins", MAX_FAILURES)
            with self.engine.begin() as conn:
                conn.execute(sa.update(users).where(users.c.id == user["id"]).values(**values))
            return wrong
        values = {"failed_attempts": 0, "locked_until": None}
        if _hasher.check_needs_rehash(user["password_hash"]):
            values["password_hash"] = _hasher.hash(password)
        with self.engine.begin() as conn:
            conn.execute(sa.update(users).where(users.c.id == user["id"]).values(**values))
        return Outcome(True, user=user)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalise(login: str) -> str:
    return (login or "").strip().lower()


def check_login(login: str) -> None:
    if not (2 <= len(login) <= 64) or not all(ch.isalnum() or ch in "._-@" for ch in login):
        raise AuthError("Login: 2–64 znaki, litery, cyfry lub . _ - @.")


def check_role(role: str) -> None:
    if role not in access.ROLES:
        raise AuthError(f"Nieznana rola „{role}”. Dozwolone: {', '.join(access.ROLES)}.")


def check_password(password: str) -> None:
    if len(password or "") < 12:
        raise AuthError("Hasło musi mieć co najmniej 12 znaków.")


def ensure_first_admin(store: AuthStore, password: str | None = None) -> str | None:
    """An empty accounts database gets `admin`; returns the one-time password if it was generated."""
    if store.count():
        return None
    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(12)
    store.add("admin", access.ADMIN, password, "Administrator")
    return generated


# --- the session -------------------------------------------------------------------------------------------
def start_session(user: dict[str, Any], now: float | None = None) -> None:
    now = time.time() if now is None else now
    session.clear()  # no fixation: a fresh session (and CSRF token) for the signed-in person
    session[SESSION_KEY] = {"login": user["login"], "name": user.get("display_name") or user["login"],
                            "role": user["role"], "since": int(now), "seen": int(now), "checked": int(now)}
    session.permanent = False


def current_user() -> dict[str, Any] | None:
    """The signed-in staff member of this request ({login, name, role}) or None."""
    if "staff_user" in g:
        return g.staff_user  # type: ignore[no-any-return]
    user = session.get(SESSION_KEY)
    now = time.time()
    if not isinstance(user, dict) or user.get("role") not in access.ROLES:
        user = None
    elif now - user.get("seen", 0) > IDLE_TIMEOUT_S or now - user.get("since", 0) > ABSOLUTE_TIMEOUT_S:
        session.pop(SESSION_KEY, None)
        user = None
    elif not _account_still_valid(user, now):
        session.pop(SESSION_KEY, None)
        g.session_ended = True
        user = None
    elif now - user.get("seen", 0) > TOUCH_EVERY_S:
        touched = {"seen": int(now)}
        if "auth_store" in current_app.extensions:
            touched["checked"] = int(now)  # the front door has just read the account
        session[SESSION_KEY] = user = {**user, **touched}
    g.staff_user = user
    return user


_verdicts: dict[tuple[str, str, int], tuple[bool, float]] = {}
_verdicts_lock = threading.Lock()


def _account_still_valid(user: dict[str, Any], now: float) -> bool:
    """Is the account behind this session still active, with the same role?

    The front door reads the accounts database on every request. A service (no database) trusts a session the
    front door checked in the last RECHECK_S seconds; an older one it asks the front door about
    (AUTH_CHECK_URL, from WSPOLNOTA_FRONT_URL; compose sets it), remembering the answer for RECHECK_S. Without
    that URL, or when the front door does not answer, the service trusts the signed cookie."""
    store = current_app.extensions.get("auth_store")
    if store is None:
        return _ask_front_door(user, now)
    account = store.get(user.get("login", ""))
    if account is None or not account["active"]:
        log.info("session ended: the account is deactivated or gone")
        return False
    if account["role"] != user.get("role"):
        log.info("session ended: the account's role was changed")
        return False
    return True


def _ask_front_door(user: dict[str, Any], now: float) -> bool:
    url = current_app.config.get("AUTH_CHECK_URL")
    if not url or now - user.get("checked", 0) <= RECHECK_S:
        return True
    key = (str(user.get("login")), str(user.get("role")), int(user.get("since", 0)))
    with _verdicts_lock:
        known = _verdicts.get(key)
    if known is not None and now - known[1] <= RECHECK_S:
        return known[0]
    import requests

    name = current_app.config["SESSION_COOKIE_NAME"]
    try:
        answer = requests.get(url.rstrip("/") + "/auth/check", cookies={name: request.cookies.get(name, "")},
                              timeout=CHECK_TIMEOUT_S, allow_redirects=False)
    except requests.RequestException as err:
        log.warning("front door did not answer the session check (%s); trusting the signed cookie",
                    type(err).__name__)
        return True
    if answer.status_code not in (204, 401):
        log.warning("front door answered the session check with HTTP %s; trusting the signed cookie",
                    answer.status_code)
        return True
    valid = answer.status_code == 204
    with _verdicts_lock:
        if len(_verdicts) > 10_000:
            _verdicts.clear()
        _verdicts[key] = (valid, now)
    if not valid:
        log.info("session ended: the front door no longer knows it")
    return valid


def session_cookie_for_upstream() -> str | None:
    """The session cookie value to send to a service on the signed-in person's behalf, or None.

    Re-signed from this request's session, so a session the front door has just ended is never forwarded, and
    stamped as checked now (the front door has just read the account), so the service need not ask back."""
    user = current_user()
    if user is None:
        return None
    app = current_app
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    return serializer.dumps({**session, SESSION_KEY: {**user, "checked": int(time.time())}})  # type: ignore[no-any-return]


def actor_name(default: str) -> str:
    """Who is at the keyboard, for audit logs: "Jan Kowalski (jkowalski)", else `default`."""
    from flask import has_request_context

    if not has_request_context():
        return default
    user = current_user()
    if not user:
        return default
    return f"{user['name']} ({user['login']})"[:200] if user["name"] != user["login"] else user["login"]


def auth_disabled(app: Flask) -> bool:
    """Only a test app may switch sign-in off (TESTING and AUTH_DISABLED both set)."""
    return bool(app.testing and app.config.get("AUTH_DISABLED"))


def wants_json() -> bool:
    if request.path.startswith(("/api/", "/internal/")):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def enforce(service: str) -> Any:
    """before_request of every service app."""
    if request.url_rule is None or auth_disabled(current_app):
        return None  # 404/405 answer themselves
    allowed = access.allowed_roles(service, request.endpoint, request.method)
    if allowed == access.PUBLIC:
        return None
    user = current_user()
    if user is None:
        if wants_json():
            return jsonify(code=401, status="Unauthorized", message="Zaloguj się."), 401
        target = request.script_root + request.full_path.rstrip("?")
        return redirect(f"{LOGIN_URL}?{_urlencode(next=target)}")
    if user["role"] not in allowed:
        if wants_json():
            return jsonify(code=403, status="Forbidden", message="Brak uprawnień do tej operacji."), 403
        return render_template("auth/forbidden.html", user=user), 403
    return None


def _urlencode(**kw: str) -> str:
    from urllib.parse import urlencode

    return urlencode(kw)


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


def security_headers(response: Any) -> Any:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if current_user_or_none() is not None:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def current_user_or_none() -> dict[str, Any] | None:
    try:
        return g.get("staff_user")
    except RuntimeError:
        return None


def install(app: Flask, service: str) -> None:
    """Cookie settings, sign-in enforcement, security headers and the layout's `staff_user`."""
    app.config.update(cookie_settings())  # every app must read and write the same cookie
    app.config.setdefault("AUTH_CHECK_URL", config.get("WSPOLNOTA_FRONT_URL"))
    app.before_request(lambda: enforce(service))
    app.after_request(security_headers)

    @app.context_processor
    def _staff():  # type: ignore[no-untyped-def]
        from flask_wtf.csrf import generate_csrf

        return {"staff_user": current_user(), "role_pl": access.ROLE_PL, "csrf_token": generate_csrf}


# --- the sign-in pages (served by the front door) ----------------------------------------------------------
def build_blueprint(store_factory: Any) -> Blueprint:
    from flask_wtf import FlaskForm
    from wtforms import BooleanField, PasswordField, SelectField, StringField
    from wtforms.fields.choices import SelectChoice
    from wtforms.validators import DataRequired, Length, Optional

    class SignInForm(FlaskForm):  # type: ignore[misc]
        login = StringField("Login", validators=[DataRequired("Podaj login.")])
        password = PasswordField("Hasło", validators=[DataRequired("Podaj hasło.")])

    class SignOutForm(FlaskForm):  # type: ignore[misc]
        pass

    role_choices = [SelectChoice(r, access.ROLE_PL[r]) for r in access.ROLES]

    class NewUserForm(FlaskForm):  # type: ignore[misc]
        login = StringField("Login", validators=[DataRequired("Podaj login."), Length(2, 64, "Login: 2–64 znaki.")])
        display_name = StringField("Imię i nazwisko", validators=[Optional(), Length(max=120)])
        role = SelectField("Rola", choices=role_choices)
        password = PasswordField("Hasło (co najmniej 12 znaków)",
                                 validators=[DataRequired("Podaj hasło."), Length(min=12, message="Hasło musi mieć "
                                                                                  "co najmniej 12 znaków.")])

    class EditUserForm(FlaskForm):  # type: ignore[misc]
        role = SelectField("Rola", choices=role_choices)
        active = BooleanField("Konto aktywne")
        unlock = BooleanField("Odblokuj (wyzeruj nieudane próby)")
        password = PasswordField("Nowe hasło (puste: bez zmiany)",
                                 validators=[Optional(), Length(min=12, message="Hasło musi mieć co najmniej "
                                                                                "12 znaków.")])

    bp = Blueprint("auth", __name__, url_prefix="/auth")

    def require_admin() -> dict[str, Any]:
        user = current_user()
        if user is None:
            abort(redirect(f"{LOGIN_URL}?{_urlencode(next=request.path)}"))
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
            outcome = store_factory().authenticate(form.login.data, form.password.data)
            if outcome.ok:
                start_session(outcome.user)
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
        store = store_factory()
        form = NewUserForm()
        error = ""
        if form.validate_on_submit():
            try:
                store.add(form.login.data, form.role.data, form.password.data, form.display_name.data or "")
            except AuthError as err:
                error = str(err)
            else:
                flash(gettext("Dodano użytkownika „%(login)s”.", login=normalise(form.login.data)))
                return redirect(url_for("auth.users_page"))
        status = 422 if (error or form.errors) else 200
        return render_template("auth/users.html", users=store.all(), form=form, error=error,
                               now=datetime.now(UTC)), status

    @bp.route("/users/<login>", methods=["GET", "POST"])
    def user_page(login: str):  # type: ignore[no-untyped-def]
        me = require_admin()
        store = store_factory()
        user = store.get(login)
        if user is None:
            abort(404)
        form = EditUserForm(data={"role": user["role"], "active": user["active"]})
        error = ""
        if form.validate_on_submit():
            if user["login"] == me["login"] and (form.role.data != access.ADMIN or not form.active.data):
                error = "Nie możesz odebrać sobie roli administratora ani wyłączyć własnego konta."
            else:
                try:
                    store.update(user["login"], role=form.role.data, active=bool(form.active.data),
                                 password=form.password.data or None, unlock=bool(form.unlock.data))
                except AuthError as err:
                    error = str(err)
                else:
                    flash(gettext("Zapisano zmiany użytkownika „%(login)s”.", login=user["login"]))
                    return redirect(url_for("auth.users_page"))
        status = 422 if (error or form.errors) else 200
        return render_template("auth/user.html", user=user, form=form, error=error), status

    return bp
