"""Notify service web app: the ledger staff see (with failure alerts), the test inbox
("Skrzynka testowa"), the providers' response page behind signed links, and the JSON API."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, abort, flash, redirect, render_template, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_wtf import FlaskForm
from wtforms import SelectField, SubmitField
from wtforms.fields.choices import SelectChoice

from services.notify import schemas
from services.notify.db import dead_letters, make_db, notifications, sink_messages
from services.notify.handlers import PUBLISHES
from services.notify.links import LinkExpired, LinkInvalid, read_token
from services.notify.messages import category_name, village_name, when
from services.notify.responses import DECLINE_REASONS, AlreadyAnswered, find_offer, respond
from services.notify.settings import Settings
from wspolnota.transport.outbox import Outbox
from wspolnota.web import create_service_app, make_api

STATUS_PL = {"recorded": "w panelu", "pending": "czeka", "sending": "w trakcie wysyłki", "sent": "wysłane",
             "failed": "nieudane", "cancelled": "anulowane", "skipped": "pominięte (brak adresu)"}
CHANNEL_PL = {"panel": "panel", "email": "e-mail", "sms": "SMS", "webhook": "system CUS"}
TOKEN_IN_LINK = re.compile(r"(/o/)[A-Za-z0-9_\-.]+")


class ResponseForm(FlaskForm):
    reason = SelectField("Powód odmowy", default="", choices=[
        SelectChoice("", "— wybierz —"), *(SelectChoice(code, label) for code, label in DECLINE_REASONS.items())])
    accept = SubmitField("Przyjmuję zadanie")
    decline = SubmitField("Nie mogę pomóc")

    def validate_reason(self, field: SelectField) -> None:
        if self.decline.data and not field.data:
            from wtforms.validators import ValidationError

            raise ValidationError("Wybierz powód odmowy.")


class ActionForm(FlaskForm):
    """A button that changes state: CSRF-protected, nothing else."""


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    db = make_db((test_config or {}).get("DATABASE_URL"))
    app = create_service_app("notify", db, test_config)
    settings: Settings = (test_config or {}).get("NOTIFY_SETTINGS") or Settings.from_env()
    outbox = Outbox(db, PUBLISHES)
    api = make_api(app)
    blp = Blueprint("notify_api", __name__, url_prefix="/api/notifications", description="Powiadomienia")

    @blp.route("")
    class NotificationCollection(MethodView):
        @blp.response(200, schemas.NotificationOut(many=True))
        def get(self):  # type: ignore[no-untyped-def]
            with db.engine.connect() as conn:
                rows = conn.execute(sa.select(notifications).order_by(notifications.c.created_at.desc())
                                    .limit(500)).mappings().all()
            return [{**r, "body": TOKEN_IN_LINK.sub(r"\1…", r["body"])} for r in rows]

    @blp.route("/failed")
    class FailedNotifications(MethodView):
        @blp.response(200, schemas.DeadLetterOut(many=True))
        def get(self):  # type: ignore[no-untyped-def]
            """Notifications the sender gave up on and nobody has handled yet (the page's alert)."""
            with db.engine.connect() as conn:
                return conn.execute(sa.select(dead_letters).where(dead_letters.c.resolved_at.is_(None))
                                    .order_by(dead_letters.c.failed_at.desc())).mappings().all()

    api.register_blueprint(blp)

    @app.template_filter("hide_tokens")
    def hide_tokens(text: str) -> str:
        """Staff see that a link was sent, not the provider's own signed link."""
        return TOKEN_IN_LINK.sub(r"\1…", text or "")

    app.jinja_env.globals.update(STATUS_PL=STATUS_PL, CHANNEL_PL=CHANNEL_PL, category_name=category_name,
                                 village_name=village_name, when=when)

    @app.get("/")
    def index():  # type: ignore[no-untyped-def]
        with db.engine.connect() as conn:
            rows = conn.execute(sa.select(notifications).order_by(notifications.c.created_at.desc())
                                .limit(200)).mappings().all()
            alerts = conn.execute(sa.select(dead_letters).where(dead_letters.c.resolved_at.is_(None))
                                  .order_by(dead_letters.c.failed_at.desc())).mappings().all()
        return render_template("notify/index.html", notifications=rows, alerts=alerts, form=ActionForm())

    @app.post("/nieudane/<notification_id>/ponow")
    def retry_failed(notification_id: str):  # type: ignore[no-untyped-def]
        if not ActionForm().validate_on_submit():
            abort(400)
        now = datetime.now(UTC)
        with db.transaction() as session:
            n = session.execute(sa.update(notifications).where(
                notifications.c.id == notification_id, notifications.c.status == "failed").values(
                status="pending", attempts=0, next_attempt_at=now, last_error=None)).rowcount
            session.execute(sa.update(dead_letters).where(dead_letters.c.notification_id == notification_id)
                            .values(resolved_at=now))
        flash("Powiadomienie wróciło do kolejki wysyłki." if n else "To powiadomienie nie czeka na ponowienie.")
        return redirect(url_for("index"))

    @app.post("/nieudane/<notification_id>/zalatwione")
    def resolve_failed(notification_id: str):  # type: ignore[no-untyped-def]
        if not ActionForm().validate_on_submit():
            abort(400)
        with db.transaction() as session:
            session.execute(sa.update(dead_letters).where(dead_letters.c.notification_id == notification_id)
                            .values(resolved_at=datetime.now(UTC)))
        flash("Alert oznaczony jako załatwiony.")
        return redirect(url_for("index"))

    @app.get("/skrzynka")
    def test_inbox():  # type: ignore[no-untyped-def]
        with db.engine.connect() as conn:
            rows = conn.execute(sa.select(sink_messages).order_by(sink_messages.c.received_at.desc())
                                .limit(200)).mappings().all()
        return render_template("notify/inbox.html", messages=rows)

    @app.route("/o/<token>", methods=["GET", "POST"])
    def provider_response(token: str):  # type: ignore[no-untyped-def]
        try:
            claim = read_token(settings.link_secret, token, settings.link_max_age_h * 3600)
        except LinkExpired:
            return render_template("notify/response_closed.html", title="Link wygasł",
                                   message="Ten link jest już nieważny. Jeśli chcesz pomóc, zadzwoń do CUS."), 410
        except LinkInvalid:
            return render_template("notify/response_closed.html", title="Nieprawidłowy link",
                                   message="Tego linku nie rozpoznajemy. Sprawdź, czy został skopiowany "
                                           "w całości."), 404
        offer = find_offer(db, claim.offer_id)
        if offer is None:
            return render_template("notify/response_closed.html", title="Nieprawidłowy link",
                                   message="Nie znaleźliśmy tej prośby."), 404
        if offer.answer is not None:
            return render_template("notify/response_done.html", offer=offer, answer=offer.answer,
                                   again="zapisano" not in request.args)
        closed = offer.closed_message(datetime.now(UTC))
        if closed is not None:
            return render_template("notify/response_closed.html", title="Prośba jest już nieaktualna",
                                   message=closed), 410
        form = ResponseForm()
        if form.validate_on_submit():
            answer = "accept" if form.accept.data else "decline"
            try:
                respond(db, outbox, offer, answer, form.reason.data or "")
            except AlreadyAnswered:
                pass
            return redirect(url_for("provider_response", token=token, zapisano=1))
        action = "choose" if "wybor" in request.args else claim.action
        status = 400 if "csrf_token" in form.errors else 422 if form.errors else 200
        return render_template("notify/response.html", offer=offer, form=form, action=action), status

    return app
