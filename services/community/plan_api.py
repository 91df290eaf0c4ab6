"""JSON API of the organising plan, activities, self-help groups and the partner network.

Module-level flask-smorest blueprints over `current_parts()`; bad bodies answer 422 with Polish field errors and
the use cases' NotFound / Invalid / Refused answer 404 / 422 / 409 (wspolnota/errors.py), nothing half-written.
"""
from __future__ import annotations

import hmac
import logging
from typing import Any

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from contracts import community as contract
from services.community import plan_handlers as h
from services.community import plan_schemas as s
from services.community import surveys
from wspolnota import config
from wspolnota.auth import actor_name
from wspolnota.errors import api_error
from wspolnota.web import current_parts

log = logging.getLogger("community.web")
blp = Blueprint("community_plan_api", __name__, url_prefix="/api",
                description="Plan organizowania społeczności lokalnej, zajęcia, grupy samopomocowe, partnerzy.")
public = Blueprint("community_public_api", __name__, url_prefix="/api/public",
                   description="Zapisy mieszkańców przez publiczny link (bez konta, z limitem).")


def _now():  # type: ignore[no-untyped-def]
    return current_parts().clock()


def _tx():  # type: ignore[no-untyped-def]
    return current_parts().db.transaction()


def _outbox():  # type: ignore[no-untyped-def]
    outbox = current_parts().outbox
    assert outbox is not None
    return outbox


# --- the plan ------------------------------------------------------------------------------------------------
@blp.route("/plans")
class Plans(MethodView):
    @blp.response(200, s.PlanSummary(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        import sqlalchemy as sa

        from services.community.db_plan import plans

        with _tx() as session:
            return [dict(r) for r in session.execute(sa.select(plans).order_by(plans.c.starts_on.desc()))
                    .mappings()]

    @blp.arguments(s.PlanCreate)
    @blp.response(201, s.Created)
    def post(self, data: dict[str, Any]):  # type: ignore[no-untyped-def]
        with _tx() as session:
            return {"id": h.create_plan(session, data["title"], data["starts_on"], data["ends_on"], _now())}


@blp.route("/plans/<plan_id>")
class PlanItem(MethodView):
    @blp.response(200, s.PlanOut)
    def get(self, plan_id: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            return h.plan_view(session, plan_id)


@blp.route("/plans/<plan_id>/goals")
class PlanGoals(MethodView):
    @blp.arguments(s.GoalCreate)
    @blp.response(201, s.Created)
    def post(self, data: dict[str, Any], plan_id: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            return {"id": h.add_goal(session, plan_id, data["title"], _now(), data["description"],
                                     data["diagnosis_ref"])}


@blp.route("/plans/<plan_id>/actions")
class PlanActions(MethodView):
    @blp.arguments(s.ActionCreate)
    @blp.response(201, s.Created)
    def post(self, data: dict[str, Any], plan_id: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            return {"id": h.add_action(session, plan_id, data, _now())}


@blp.route("/actions/<action_id>/progress")
class ActionProgress(MethodView):
    @blp.arguments(s.ActionProgress)
    @blp.response(200, s.Created)
    def post(self, data: dict[str, Any], action_id: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            h.set_action_progress(session, action_id, data["status"], data["percent_done"], _now(),
                                  automatic=data["automatic"])
        return {"id": action_id}


@blp.route("/actions/<action_id>/partners")
class ActionPartners(MethodView):
    @blp.arguments(s.PartnerLink)
    @blp.response(201, s.Created)
    def post(self, data: dict[str, Any], action_id: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            h.link_partner(session, action_id, data["org_id"], _now(), data["role"])
        return {"id": action_id}


@blp.route("/plans/<plan_id>/indicators")
class PlanIndicators(MethodView):
    @blp.arguments(s.IndicatorCreate)
    @blp.response(201, s.Created)
    def post(self, data: dict[str, Any], plan_id: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            return {"id": h.add_indicator(session, plan_id, data, _now())}


@blp.route("/indicators/<indicator_id>/value")
class IndicatorValue(MethodView):
    @blp.arguments(s.IndicatorValue)
    @blp.response(200, s.Created)
    def post(self, data: dict[str, Any], indicator_id: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            h.set_indicator_value(session, indicator_id, data["value"])
        return {"id": indicator_id}


@blp.route("/plans/<plan_id>/approve")
class PlanApprove(MethodView):
    @blp.response(200, s.Approved)
    def post(self, plan_id: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            return {"version": h.approve_plan(session, _outbox(), plan_id, actor_name("API"), _now())}


@blp.route("/plans/<plan_id>/versions/<version>")
class PlanVersion(MethodView):
    @blp.response(200)
    def get(self, plan_id: str, version: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            row = h.approved_version(session, plan_id, h.number_in_path(version))
        return {"version": row["version"], "approved_at": row["approved_at"].isoformat(),
                "approved_by": row["approved_by"], **row["snapshot"]}


@blp.route("/plans/<plan_id>/report/<year>")
class PlanReport(MethodView):
    @blp.response(200, s.PlanOut)
    def get(self, plan_id: str, year: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            return h.yearly_report(session, plan_id, h.number_in_path(year))


@blp.route("/overview")
class Overview(MethodView):
    @blp.response(200, s.OverviewOut)
    def get(self):  # type: ignore[no-untyped-def]
        """The organiser's dashboard: plan progress, upcoming activities with free places and missing helpers."""
        with _tx() as session:
            return h.overview(session, _now())


# --- activities ---------------------------------------------------------------------------------------------
@blp.route("/activities")
class Activities(MethodView):
    @blp.response(200, s.ActivityOut(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        with _tx() as session:
            return h.upcoming_activities(session, _now())

    @blp.arguments(s.ActivityCreate)
    @blp.response(201, s.CreatedMany)
    def post(self, data: dict[str, Any]):  # type: ignore[no-untyped-def]
        with _tx() as session:
            return {"ids": h.schedule_activity(session, _outbox(), data, _now())}


@blp.route("/activities/<activity_id>")
class ActivityItem(MethodView):
    @blp.response(200, s.ActivityOut)
    def get(self, activity_id: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            return h.activity_view(session, activity_id)

    @blp.arguments(s.ActivityUpdate)
    @blp.response(200, s.Changed)
    def patch(self, data: dict[str, Any], activity_id: str):  # type: ignore[no-untyped-def]
        """Edit a scheduled activity before it starts; participants hear of a new time, village or venue."""
        with _tx() as session:
            return {"id": activity_id, "changed": h.update_activity(session, _outbox(), activity_id, data, _now())}


@blp.route("/activities/<activity_id>/announcements")
class ActivityAnnouncements(MethodView):
    @blp.arguments(s.AnnouncementCreate)
    @blp.response(201, s.Created)
    def post(self, data: dict[str, Any], activity_id: str):  # type: ignore[no-untyped-def]
        """A short announcement to consenting registered residents and the helpers (no names, phones, e-mails)."""
        with _tx() as session:
            return {"id": h.post_announcement(session, _outbox(), activity_id, data["text"], actor_name("API"),
                                              _now())}


@blp.route("/activities/<activity_id>/registrations/<registration_id>")
class ActivityRegistrationItem(MethodView):
    @blp.response(204)
    def delete(self, activity_id: str, registration_id: str):  # type: ignore[no-untyped-def]
        """The resident unregisters (`?reason=erased`: their data are erased): the registration and its contact data
        go (after attendance only the contact data), messages not sent are cancelled."""
        reason = contract.ERASED if request.args.get("reason") == contract.ERASED else contract.UNREGISTERED
        with _tx() as session:
            h.remove_registration(session, _outbox(), activity_id, registration_id, actor_name("API"), _now(),
                                  reason)


@blp.route("/activities/<activity_id>/cancel")
class ActivityCancel(MethodView):
    @blp.response(200, s.Created)
    def post(self, activity_id: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            h.cancel_activity(session, _outbox(), activity_id, _now())
        return {"id": activity_id}


@blp.route("/activities/<activity_id>/registrations")
class ActivityRegistrations(MethodView):
    @blp.arguments(s.RegistrationCreate)
    @blp.response(201, s.Created)
    def post(self, data: dict[str, Any], activity_id: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            return {"id": h.register(session, activity_id, data["name"], data["phone"], "staff", _now(),
                                     email=data["email"], consent=data["consent"], outbox=_outbox())}


@blp.route("/activities/<activity_id>/helpers")
class ActivityHelpers(MethodView):
    @blp.arguments(s.HelperAdd)
    @blp.response(201, s.Created)
    def post(self, data: dict[str, Any], activity_id: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            h.add_helper(session, activity_id, data["provider_id"], _outbox())
        return {"id": activity_id}


@blp.route("/activities/<activity_id>/attendance")
class ActivityAttendance(MethodView):
    @blp.arguments(s.Attendance)
    @blp.response(200, s.AttendanceOut)
    def post(self, data: dict[str, Any], activity_id: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            return h.record_attendance(session, _outbox(), activity_id, data["present"], data["helpers"], _now())


# --- self-help groups ---------------------------------------------------------------------------------------
@blp.route("/groups")
class Groups(MethodView):
    @blp.arguments(s.GroupCreate)
    @blp.response(201, s.Created)
    def post(self, data: dict[str, Any]):  # type: ignore[no-untyped-def]
        with _tx() as session:
            return {"id": h.create_group(session, data, _now())}


@blp.route("/groups/<group_id>")
class GroupItem(MethodView):
    @blp.response(200)
    def get(self, group_id: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            view = h.group_view(session, group_id)
        return h.as_json(view)


@blp.route("/groups/<group_id>/members")
class GroupMembers(MethodView):
    @blp.arguments(s.MemberCreate)
    @blp.response(201, s.Created)
    def post(self, data: dict[str, Any], group_id: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            return {"id": h.add_member(session, group_id, data["name"], data["phone"], data["joined_on"])}


@blp.route("/groups/<group_id>/meetings")
class GroupMeetings(MethodView):
    @blp.arguments(s.MeetingCreate)
    @blp.response(201, s.Created)
    def post(self, data: dict[str, Any], group_id: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            return {"id": h.record_group_meeting(session, group_id, data["held_on"], data["present"], data["note"],
                                                 _now())}


# --- partners -----------------------------------------------------------------------------------------------
@blp.route("/partners")
class Partners(MethodView):
    @blp.arguments(s.PartnerQuery, location="query")
    @blp.response(200)
    def get(self, args: dict[str, Any]):  # type: ignore[no-untyped-def]
        """The partner organisations (optionally of one kind) with their name, kind and KRS from the volunteers
        register, and their cooperation data."""
        with _tx() as session:
            return h.as_json(h.partner_network(session, args["kind"]))


@blp.route("/partners/cooperation")
class PartnerCooperation(MethodView):
    @blp.arguments(s.PartnerQuery, location="query")
    @blp.response(200)
    def get(self, args: dict[str, Any]):  # type: ignore[no-untyped-def]
        """Who works with whom: partners by plan action, and the actions each pair of partners shares (ids, names)."""
        with _tx() as session:
            view = h.who_works_with_whom(h.partner_network(session, args["kind"]))

        def brief(p: dict[str, Any]) -> dict[str, Any]:
            return {"org_id": p["org_id"], "name": p["name"], "kind": p["kind"]}

        return {"actions": [{"id": a["id"], "title": a["title"], "plan_id": a["plan_id"],
                             "partners": [brief(p) for p in a["partners"]]} for a in view["actions"]],
                "pairs": [{"partners": [brief(pair["first"]), brief(pair["second"])],
                           "actions": [a["id"] for a in pair["actions"]]} for pair in view["pairs"]]}


@blp.route("/partners/<org_id>")
class PartnerItem(MethodView):
    @blp.arguments(s.PartnerProfile)
    @blp.response(200, s.Created)
    def put(self, data: dict[str, Any], org_id: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            h.set_partner_profile(session, org_id, data["brings"], _now())
        return {"id": org_id}


@blp.route("/partners/<org_id>/agreements")
class PartnerAgreements(MethodView):
    @blp.arguments(s.AgreementCreate)
    @blp.response(201, s.Created)
    def post(self, data: dict[str, Any], org_id: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            return {"id": h.add_agreement(session, org_id, data["scope"], data["starts_on"], data["ends_on"],
                                          data["document_ref"], _now())}


@blp.route("/partners/<org_id>/log")
class PartnerLog(MethodView):
    @blp.arguments(s.LogEntry)
    @blp.response(201, s.Created)
    def post(self, data: dict[str, Any], org_id: str):  # type: ignore[no-untyped-def]
        with _tx() as session:
            h.log_cooperation(session, org_id, data["on"], data["kind"], data["note"], actor_name("API"), _now(),
                              data["action_id"])
        return {"id": org_id}


# --- the public registration link ----------------------------------------------------------------------------
def public_registration_allowed(token: str) -> bool:
    """The public link's rate limit: registrations per client address and activity link, per minute (a refused
    request still counts)."""
    parts = current_parts()
    return surveys.allow_public_request(parts.db, f"{request.remote_addr}|activity|{token[:40]}",
                                        config.get_int("COMMUNITY_REGISTRATIONS_PER_MINUTE"), 60, parts.clock())


@public.route("/activities/<token>/registrations")
class PublicRegistration(MethodView):
    @public.arguments(s.RegistrationCreate)
    @public.response(201, s.Created)
    def post(self, data: dict[str, Any], token: str):  # type: ignore[no-untyped-def]
        if not public_registration_allowed(token):
            api_error(429, "Zbyt wiele zapisów w krótkim czasie. Spróbuj ponownie za minutę.",
                      headers={"Retry-After": "60"})
        with _tx() as session:
            activity = h.activity_by_token(session, token)
            return {"id": h.register(session, activity["id"], data["name"], data["phone"], "public", _now(),
                                     email=data["email"], consent=data["consent"], outbox=_outbox())}


# --- the internal contact API (service token): notify reads a registered resident's address at send time ------
internal = Blueprint("community_internal_api", __name__, url_prefix="/internal/registrations",
                     description="Dla usług wewnętrznych (token usługi). Każdy odczyt jest rejestrowany.")


class RegistrationContactOut(Schema):
    registration_id = fields.String()
    activity_id = fields.String()
    name = fields.String()
    phone = fields.String(metadata={"description": "empty without the consent to reminders"})
    email = fields.String(metadata={"description": "empty without the consent to reminders"})
    consent = fields.Boolean()


@internal.route("/<registration_id>/contact")
@internal.response(200, RegistrationContactOut)
@internal.alt_response(401, description="missing or wrong service token")
@internal.doc(security=[{"serviceToken": []}])
def registration_contact(registration_id: str):  # type: ignore[no-untyped-def]
    """A registered resident's address at send time: Authorization: Bearer <INTERNAL_SERVICE_TOKEN>. Audited."""
    expected = current_app.config.get("INTERNAL_SERVICE_TOKEN") or ""
    given = request.headers.get("Authorization", "")
    if not expected or not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        log.warning("internal contact API: refused a request without a valid service token")
        api_error(401, "Wymagany token usługi.")
    caller = request.headers.get("X-Service-Name", "service")[:50]
    with _tx() as session:
        return h.registration_contact(session, registration_id, f"service:{caller}", _now())
