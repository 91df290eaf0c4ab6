"""The community service's staff pages (Flask-WTF forms with CSRF, Polish errors), through `current_parts()`."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from services.community import assets, forms, model
from wspolnota.auth import current_user_or_none
from wspolnota.errors import Invalid, NotFound
from wspolnota.transport.outbox import Outbox
from wspolnota.web import current_parts

bp = Blueprint("community", __name__)


def outbox() -> Outbox:
    """The service's outbox (assets publish AssetRecorded / AssetRemoved in the same transaction)."""
    found = current_parts().outbox
    assert found is not None
    return found


def actor() -> str:
    user = current_user_or_none()
    return str(user.get("login", "")) if user else ""


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    """The organiser's community overview: surveys collecting answers (with their counts) and the register."""
    from services.community import surveys

    with current_parts().db.engine.connect() as conn:
        open_surveys = [s for s in surveys.list_surveys(conn) if s["status"] == model.PUBLISHED]
        asset_count = len(assets.list_assets(conn))
    return render_template("community/index.html", open_surveys=open_surveys, asset_count=asset_count)


# --- the assets register ------------------------------------------------------------------------------------
@bp.get("/zasoby")
def asset_list():  # type: ignore[no-untyped-def]
    village = request.args.get("village", "").strip()
    kind = request.args.get("kind", "").strip()
    with current_parts().db.engine.connect() as conn:
        rows = assets.list_assets(conn, village or None, kind or None)
    return render_template("community/assets.html", assets=rows, village=village, kind=kind,
                           kind_pl=model.ASSET_KIND_PL, subtype_pl=model.ASSET_SUBTYPE_PL)


def _asset_form_page(form: forms.AssetForm, asset: dict[str, Any] | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template("community/asset_form.html", form=form, asset=asset), status


@bp.route("/zasoby/nowy", methods=["GET", "POST"])
def new_asset():  # type: ignore[no-untyped-def]
    form = forms.AssetForm()
    if request.method == "GET":
        form.kind.data = request.args.get("kind", "")
        return _asset_form_page(form)
    if not form.validate_on_submit():
        return _asset_form_page(form, status=422)
    parts = current_parts()
    try:
        with parts.db.transaction() as session:
            assets.add_asset(session, outbox(), forms.asset_body(form), actor=actor(), clock=parts.clock)
    except Invalid as err:
        forms.attach_errors(form, err.errors)
        return _asset_form_page(form, status=422)
    flash("Zapisano zasób.")
    return redirect(url_for("community.asset_list"))


@bp.route("/zasoby/<asset_id>", methods=["GET", "POST"])
def edit_asset(asset_id: str):  # type: ignore[no-untyped-def]
    parts = current_parts()
    try:
        with parts.db.transaction() as session:
            asset = assets.get_asset(session, asset_id)
    except NotFound:
        abort(404)
    if not asset["active"]:
        abort(404)
    form = forms.AssetForm(data=asset) if request.method == "GET" else forms.AssetForm()
    if request.method == "GET":
        return _asset_form_page(form, asset)
    if not form.validate_on_submit():
        return _asset_form_page(form, asset, 422)
    try:
        with parts.db.transaction() as session:
            assets.update_asset(session, outbox(), asset_id, forms.asset_body(form), actor=actor(), clock=parts.clock)
    except Invalid as err:
        forms.attach_errors(form, err.errors)
        return _asset_form_page(form, asset, 422)
    flash("Zapisano zmiany.")
    return redirect(url_for("community.asset_list"))


@bp.post("/zasoby/<asset_id>/usun")
def remove_asset(asset_id: str):  # type: ignore[no-untyped-def]
    form = forms.PolishForm()
    if not form.validate_on_submit():
        abort(400)
    parts = current_parts()
    try:
        with parts.db.transaction() as session:
            assets.remove_asset(session, outbox(), asset_id, actor=actor(), clock=parts.clock)
    except NotFound:
        abort(404)
    flash("Usunięto zasób z rejestru.")
    return redirect(url_for("community.asset_list"))
