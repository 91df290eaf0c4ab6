"""The staff pages of the volunteers service: the list, a provider's card and its forms, the audit log.

Every form posts to its own URL, runs one use case in one transaction and redirects to the card; a refusal
(wspolnota.errors: Invalid, Refused) is shown beside the form, which is rendered again with status 422.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from services.volunteers import forms, handlers, hours, hours_view, model, schemas, signed_in
from services.volunteers.db import availability_exceptions, confirmation_mails, offers, volunteers
from wspolnota import errors, reference
from wspolnota.transport.outbox import Outbox
from wspolnota.web import current_parts

STATUS_PL = {"draft": "czeka na weryfikację", "published": "opublikowana", "withdrawn": "wycofana"}
DUPLICATE = "Ten formularz został już wysłany — nic nie zapisano drugi raz."

bp = Blueprint("volunteers", __name__)


@bp.app_template_filter("hours")
def hours_text(value: float) -> str:
    """Hours for staff to the quarter: "3,5", "0,75", "12,0" on Polish pages ("3.5" on English ones)."""
    from babel.numbers import format_decimal
    from flask_babel import get_locale

    return str(format_decimal(value, "#,##0.0#", locale=str(get_locale() or "pl")))


def page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """A template of this service with the Polish names of villages, categories and kinds."""
    names = {"categories": reference.categories(), "villages": reference.villages(),
             "provider_types": forms.PROVIDER_TYPES_PL, "credential_names": forms.CREDENTIALS_PL,
             "organisation_kinds": forms.ORGANISATION_KINDS_PL, "exception_names": forms.EXCEPTIONS_PL,
             "offer_status": STATUS_PL, "weekdays": forms.WEEKDAYS_PL,
             "spoken_languages": forms.LANGUAGES_PL}
    return render_template(f"volunteers/{template}", **names, **context), status


def outbox() -> Outbox:
    given = current_parts().outbox
    assert given is not None
    return given


def show_refusal(form: FlaskForm | None, err: errors.DomainError) -> None:
    """A refused use case's message beside the form (field errors on their fields), else as a flash."""
    if form is None:
        flash(err.message or str(err), "error")
    elif err.errors:
        forms.apply_errors(form, err.errors)
    else:
        form.form_errors.append(err.message or str(err))


def attempt(use_case: Any, *args: Any, form: FlaskForm | None = None, **kw: Any) -> bool:
    """Run a use case for a staff form; a refusal becomes a message on the form. True if done."""
    try:
        with current_parts().db.transaction() as session:
            use_case(session, *args, **kw)
        return True
    except errors.NotFound:
        abort(404)
    except (errors.Refused, errors.Invalid) as err:
        show_refusal(form, err)
        return False


def without(form: Any, *names: str) -> Any:
    """The form, with some keys dropped from its data (the edit form does not change consent/verification)."""
    original = form.to_data

    def to_data() -> dict[str, Any]:
        data = original()
        for name in names:
            data.pop(name, None)
        return data  # type: ignore[no-any-return]

    form.to_data = to_data
    return form


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    today = signed_in.today()
    with current_parts().db.transaction() as session:
        providers = session.execute(sa.select(volunteers).where(volunteers.c.erased_at.is_(None))
                                    .order_by(volunteers.c.created_at.desc()).limit(200)).mappings().all()
        offer_rows = session.execute(
            sa.select(offers, volunteers.c.provider_type)
            .join(volunteers, volunteers.c.id == offers.c.volunteer_id)
            .order_by(offers.c.created_at.desc()).limit(100)).mappings().all()
        warnings = handlers.expiring_soon(session, today)
        unsent = session.execute(sa.select(confirmation_mails.c.volunteer_id)
                                 .where(confirmation_mails.c.sent_at.is_(None))).scalars().all()
    return page("index.html", providers=providers, offers=offer_rows, warnings=warnings,
                unsent=set(unsent), today=today)[0]


@bp.route("/wykonawcy/nowy", methods=["GET", "POST"])
def new_provider():  # type: ignore[no-untyped-def]
    form = forms.ProviderForm()
    if request.method == "GET":
        form.submission.data = forms.new_token()
    elif form.validate_on_submit():
        data = forms.load(schemas.VolunteerCreate(), form)
        if data is not None:
            created: dict[str, Any] = {}
            try:
                with current_parts().db.transaction() as session:
                    created = signed_in.register(session, outbox(), data, source="staff",
                                                 submission=form.submission.data)
            except handlers.DuplicateSubmission as err:
                flash(DUPLICATE, "info")
                return redirect(url_for(".profile", volunteer_id=err.volunteer_id) if err.volunteer_id
                                else url_for(".index"))
            except handlers.Conflict as err:
                form.email.errors = [*form.email.errors, str(err)]
            else:
                flash("Zapisano wykonawcę.", "info")
                return redirect(url_for(".profile", volunteer_id=created["id"]))
    return page("provider_form.html", 200 if request.method == "GET" else 422, form=form, editing=False)


@bp.route("/wykonawcy/<volunteer_id>/edycja", methods=["GET", "POST"])
def edit_provider(volunteer_id):  # type: ignore[no-untyped-def]
    form = forms.ProviderForm()
    with current_parts().db.transaction() as session:
        try:
            current = handlers.get_volunteer(session, volunteer_id)
        except handlers.NotFound:
            abort(404)
        handlers.audit(session, signed_in.staff_actor(), "profile_read", volunteer_id, "edycja profilu")
    if current["erased_at"] is not None:
        abort(410)
    if request.method == "GET":
        form.fill(dict(current))
        form.submission.data = forms.new_token()
    elif form.validate_on_submit():
        data = forms.load(schemas.VolunteerUpdate(), without(form, "consent", "verified"))
        if data is not None and attempt(signed_in.update, outbox(), volunteer_id, data,
                                        submission=form.submission.data, form=form):
            flash("Zapisano zmiany.", "info")
            return redirect(url_for(".profile", volunteer_id=volunteer_id))
    return page("provider_form.html", 200 if request.method == "GET" else 422, form=form, editing=True,
                volunteer=current)


def render_profile(volunteer_id: str, status: int = 200, **override: Any) -> tuple[str, int]:
    """The provider's card; a failing form passed in `override` replaces its empty twin."""
    today = signed_in.today()
    with current_parts().db.transaction() as session:
        try:
            v = handlers.get_volunteer(session, volunteer_id)
        except handlers.NotFound:
            abort(404)
        creds = handlers.credential_rows(session, volunteer_id)
        shown = signed_in.shown_credentials(session, volunteer_id, creds, "karta wykonawcy")
        exceptions = session.execute(sa.select(availability_exceptions)
                                     .where(availability_exceptions.c.volunteer_id == volunteer_id)
                                     .order_by(availability_exceptions.c.starts_on)).mappings().all()
        offer_rows = session.execute(sa.select(offers).where(offers.c.volunteer_id == volunteer_id)
                                     .order_by(offers.c.created_at.desc())).mappings().all()
        mails = session.execute(sa.select(confirmation_mails)
                                .where(confirmation_mails.c.volunteer_id == volunteer_id)).mappings().all()
        handlers.audit(session, signed_in.staff_actor(), "profile_read", volunteer_id, "karta wykonawcy")
        p = handlers.as_provider(v, creds)
        cleared, cleared_until = handlers.minors_clearance(p, today)
        hours_given = hours.summary(session, volunteer_id, today)
        by_month = hours_view.hours_section(session, volunteer_id, today, override.pop("period_form", None))
    context: dict[str, Any] = {
        "credential_form": forms.CredentialForm(formdata=None),
        "exception_form": forms.ExceptionForm(formdata=None), "offer_form": forms.OfferForm(formdata=None),
        "verify_form": forms.VerifyForm(formdata=None), "action_form": forms.ActionForm(formdata=None),
        "erase_form": forms.EraseForm(formdata=None)}
    for name in ("credential_form", "exception_form", "offer_form"):
        context[name].submission.data = forms.new_token()
    context.update(override)
    horizon = today + timedelta(days=model.WARN_DAYS_AHEAD)
    soon = {c["id"] for c in creds if c["valid_until"] is not None and today <= c["valid_until"] <= horizon}
    return page("profile.html", status, v=v, creds=shown, exceptions=exceptions, offers=offer_rows,
                mails=mails, eligible=sorted(model.eligible_categories(p, today)), today=today,
                expiring=soon, minors_cleared=cleared, minors_until=cleared_until, hours=hours_given,
                criminal_record_access=signed_in.may_read_criminal_record(), **by_month, **context)


@bp.get("/wykonawcy/<volunteer_id>")
def profile(volunteer_id):  # type: ignore[no-untyped-def]
    return render_profile(volunteer_id)


def rerender_profile(volunteer_id: str, **override: Any) -> tuple[str, int]:
    return render_profile(volunteer_id, 422, **override)


def profile_form_post(volunteer_id: str, form: Any, form_name: str, schema: schemas.PolishSchema,
                      use_case: Any):  # type: ignore[no-untyped-def]
    if form.validate_on_submit():
        data = forms.load(schema, form)
        if data is not None:
            try:
                with current_parts().db.transaction() as session:
                    use_case(session, outbox(), volunteer_id, data, submission=form.submission.data)
            except handlers.DuplicateSubmission:
                flash(DUPLICATE, "info")
                return redirect(url_for(".profile", volunteer_id=volunteer_id))
            except errors.NotFound:
                abort(404)
            except (errors.Refused, errors.Invalid) as err:
                show_refusal(form, err)
            else:
                flash("Zapisano.", "info")
                return redirect(url_for(".profile", volunteer_id=volunteer_id))
    return rerender_profile(volunteer_id, **{form_name: form})


@bp.post("/wykonawcy/<volunteer_id>/uprawnienia")
def add_credential(volunteer_id):  # type: ignore[no-untyped-def]
    return profile_form_post(volunteer_id, forms.CredentialForm(), "credential_form", schemas.Credential(),
                             signed_in.record_credential)


@bp.post("/wykonawcy/<volunteer_id>/uprawnienia/<credential_id>/cofniecie")
def revoke_credential_page(volunteer_id, credential_id):  # type: ignore[no-untyped-def]
    form = forms.RevokeCredentialForm()
    if form.validate_on_submit():
        data = forms.load(schemas.CredentialRevoke(), form)
        if data is not None and attempt(signed_in.revoke_credential, outbox(), credential_id, data["reason"],
                                        volunteer_id=volunteer_id, form=form):
            flash("Cofnięto uprawnienie.", "info")
            return redirect(url_for(".profile", volunteer_id=volunteer_id))
    return rerender_profile(volunteer_id, revoke_form=form, revoke_target=credential_id)


@bp.post("/wykonawcy/<volunteer_id>/wyjatki")
def add_exception_page(volunteer_id):  # type: ignore[no-untyped-def]
    return profile_form_post(volunteer_id, forms.ExceptionForm(), "exception_form",
                             schemas.AvailabilityException(), signed_in.add_exception)


@bp.post("/wykonawcy/<volunteer_id>/oferty")
def add_offer(volunteer_id):  # type: ignore[no-untyped-def]
    return profile_form_post(volunteer_id, forms.OfferForm(), "offer_form", schemas.OfferCreate(),
                             handlers.publish_offer)


@bp.post("/wykonawcy/<volunteer_id>/weryfikacja")
def verify(volunteer_id):  # type: ignore[no-untyped-def]
    form = forms.VerifyForm()
    if form.validate_on_submit():
        if attempt(signed_in.verify, outbox(), volunteer_id):
            flash("Zweryfikowano — wykonawca może otrzymywać propozycje.", "info")
        return redirect(url_for(".profile", volunteer_id=volunteer_id))
    return rerender_profile(volunteer_id, verify_form=form)


@bp.post("/wykonawcy/<volunteer_id>/przerwa")
def pause_page(volunteer_id):  # type: ignore[no-untyped-def]
    if forms.ActionForm().validate_on_submit() and attempt(handlers.pause, outbox(), volunteer_id):
        flash("Wstrzymano — wykonawca nie dostanie nowych zadań.", "info")
    return redirect(url_for(".profile", volunteer_id=volunteer_id))


@bp.post("/wykonawcy/<volunteer_id>/wznowienie")
def resume_page(volunteer_id):  # type: ignore[no-untyped-def]
    if forms.ActionForm().validate_on_submit() and attempt(handlers.resume, outbox(), volunteer_id):
        flash("Wznowiono.", "info")
    return redirect(url_for(".profile", volunteer_id=volunteer_id))


@bp.post("/wykonawcy/<volunteer_id>/usuniecie")
def erase_page(volunteer_id):  # type: ignore[no-untyped-def]
    form = forms.EraseForm()
    if form.validate_on_submit() and form.confirm.data:
        if attempt(signed_in.erase, outbox(), volunteer_id):
            flash("Usunięto dane osobowe.", "info")
        return redirect(url_for(".profile", volunteer_id=volunteer_id))
    form.confirm.errors = ["Zaznacz potwierdzenie, aby usunąć dane."]
    return rerender_profile(volunteer_id, erase_form=form)


@bp.post("/oferty/<offer_id>/wycofanie")
def withdraw_page(offer_id):  # type: ignore[no-untyped-def]
    with current_parts().db.engine.connect() as conn:
        owner = conn.execute(sa.select(offers.c.volunteer_id).where(offers.c.id == offer_id)).scalar()
    if owner is None:
        abort(404)
    if forms.ActionForm().validate_on_submit() and attempt(handlers.withdraw_offer, outbox(), offer_id):
        flash("Wycofano ofertę.", "info")
    return redirect(url_for(".profile", volunteer_id=owner))


@bp.get("/audit")
def audit_page():  # type: ignore[no-untyped-def]
    with current_parts().db.transaction() as session:
        entries = handlers.audit_entries(session, limit=200)
    return page("audit.html", entries=entries)[0]
