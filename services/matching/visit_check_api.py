"""The organiser's follow-up tasks of "did it happen?" as JSON (the dashboard's "Wizyty bez potwierdzenia")."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from services.matching import visit_checks
from wspolnota.web import current_parts

blp = Blueprint("matching_visit_checks_api", __name__, url_prefix="/api",
                description="Wizyty bez potwierdzenia: pytanie „Czy wizyta się odbyła?” bez odpowiedzi")


class OverdueVisitOut(Schema):
    match_id = fields.String()
    need_id = fields.String()
    volunteer_id = fields.String()
    category = fields.String()
    village = fields.String()
    visit_start = fields.String()
    asked_at = fields.String()


@blp.route("/visit-checks/overdue")
class OverdueVisits(MethodView):
    @blp.response(200, OverdueVisitOut(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        """Accepted visits whose provider was asked MATCHING_VISIT_FOLLOWUP_HOURS ago and has not answered (nobody
        decided since), the oldest question first. Ids and codes only."""
        parts = current_parts()
        with parts.db.transaction() as session:
            return visit_checks.overdue(session, parts.clock())
