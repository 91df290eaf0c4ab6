"""The public self-registration pages: a person offers help, gets an e-mail with a signed link and confirms the
address. Open to anyone (wspolnota/access.py: PUBLIC); staff verify the person later on the card."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, request, url_for

from services.volunteers import forms, handlers, mail, schemas, signed_in
from services.volunteers.pages import page
from wspolnota.web import current_parts

bp = Blueprint("registration", __name__)


@bp.route("/zglos-sie", methods=["GET", "POST"])
def self_registration():  # type: ignore[no-untyped-def]
    form = forms.SelfRegistrationForm()
    if request.method == "GET":
        form.submission.data = forms.new_token()
    elif form.validate_on_submit():
        data = forms.load(schemas.SelfRegistration(), form)
        if data is not None:
            parts = current_parts()
            outbox = parts.outbox
            assert outbox is not None
            try:
                with parts.db.transaction() as session:
                    volunteer_id = handlers.self_register(session, outbox, data, form.submission.data,
                                                          today=signed_in.today())
            except handlers.Conflict:
                # A double submit or an address already registered: nothing stored, and the page does
                # not reveal whether the address is known.
                return redirect(url_for(".self_registration_done"))
            settings = signed_in.settings()
            token = mail.make_token(current_app.config["SECRET_KEY"], volunteer_id)
            link = url_for(".confirm_email", token=token, _external=True)
            mail.send_confirmation(parts.db, volunteer_id, data["email"], link, settings.smtp_host,
                                   settings.smtp_port, settings.mail_from)
            return redirect(url_for(".self_registration_done"))
    return page("register.html", 200 if request.method == "GET" else 422, form=form,
                consent_text=forms.CONSENT_TEXT)


@bp.get("/zglos-sie/dziekujemy")
def self_registration_done():  # type: ignore[no-untyped-def]
    return page("register_done.html")[0]


@bp.get("/zglos-sie/potwierdz/<token>")
def confirm_email(token):  # type: ignore[no-untyped-def]
    volunteer_id = mail.read_token(current_app.config["SECRET_KEY"], token,
                                   signed_in.settings().confirmation_max_age_hours * 3600)
    if volunteer_id is None:
        return page("confirm.html", 400, ok=False)
    try:
        with current_parts().db.transaction() as session:
            handlers.confirm_email(session, volunteer_id)
    except handlers.NotFound:
        return page("confirm.html", 400, ok=False)
    return page("confirm.html", ok=True)
