"""The community service's JSON API (flask-smorest): body errors come back as 422 with Polish field messages;
the use cases' NotFound / Invalid / Refused through wspolnota/errors.py (404, 422, 409)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from services.community import assets, diagnosis, model, schemas, surveys
from services.community.pages import actor, outbox
from wspolnota import reference
from wspolnota.web import current_parts

blp = Blueprint("community_api", __name__, url_prefix="/api",
                description="Organizowanie społeczności lokalnej: diagnoza, plan, animacja, partnerzy")


class VillageOut(Schema):
    code = fields.String()
    name = fields.String()


class ReferenceOut(Schema):
    villages = fields.List(fields.Nested(VillageOut))


@blp.route("/reference")
class Reference(MethodView):
    @blp.response(200, ReferenceOut)
    def get(self):  # type: ignore[no-untyped-def]
        """Villages of the gmina (the codes every community record uses)."""
        return {"villages": [{"code": code, "name": v["name"]} for code, v in reference.villages().items()]}


# --- assets ---------------------------------------------------------------------------------------------------
@blp.route("/assets")
class AssetCollection(MethodView):
    @blp.arguments(schemas.AssetQuery, location="query")
    @blp.response(200, schemas.AssetOut(many=True))
    def get(self, query):  # type: ignore[no-untyped-def]
        """The assets register (places, leaders with consent, equipment, transport), by village and kind."""
        with current_parts().db.engine.connect() as conn:
            return assets.list_assets(conn, query.get("village"), query.get("kind"))

    @blp.arguments(schemas.AssetIn)
    @blp.response(201, schemas.AssetOut)
    def post(self, data):  # type: ignore[no-untyped-def]
        parts = current_parts()
        with parts.db.transaction() as session:
            return assets.add_asset(session, outbox(), data, actor=actor(), clock=parts.clock)


@blp.route("/assets/<asset_id>")
class AssetItem(MethodView):
    @blp.response(200, schemas.AssetOut)
    def get(self, asset_id):  # type: ignore[no-untyped-def]
        with current_parts().db.transaction() as session:
            return assets.get_asset(session, asset_id)

    @blp.arguments(schemas.AssetPatch(partial=True))
    @blp.response(200, schemas.AssetOut)
    def patch(self, data, asset_id):  # type: ignore[no-untyped-def]
        parts = current_parts()
        with parts.db.transaction() as session:
            return assets.update_asset(session, outbox(), asset_id, data, actor=actor(), clock=parts.clock)


# --- surveys --------------------------------------------------------------------------------------------------
@blp.route("/surveys")
class SurveyCollection(MethodView):
    @blp.response(200, schemas.SurveySummary(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        """Surveys with their response counts."""
        with current_parts().db.engine.connect() as conn:
            return surveys.list_surveys(conn)

    @blp.arguments(schemas.SurveyIn)
    @blp.response(201, schemas.SurveyOut)
    def post(self, data):  # type: ignore[no-untyped-def]
        """A new survey (a draft: add questions, then publish)."""
        parts = current_parts()
        with parts.db.transaction() as session:
            return surveys.create_survey(session, data, clock=parts.clock)


@blp.route("/surveys/<survey_id>")
class SurveyItem(MethodView):
    @blp.response(200, schemas.SurveyOut)
    def get(self, survey_id):  # type: ignore[no-untyped-def]
        with current_parts().db.engine.connect() as conn:
            return surveys.get_survey(conn, survey_id)


@blp.route("/surveys/<survey_id>/questions")
class SurveyQuestions(MethodView):
    @blp.arguments(schemas.QuestionIn)
    @blp.response(201, schemas.QuestionOut)
    @blp.alt_response(409, description="the survey is no longer a draft")
    def post(self, data, survey_id):  # type: ignore[no-untyped-def]
        parts = current_parts()
        with parts.db.transaction() as session:
            return surveys.add_question(session, survey_id, data, clock=parts.clock)


@blp.route("/surveys/<survey_id>/publish")
class SurveyPublish(MethodView):
    @blp.response(200, schemas.SurveyOut)
    @blp.alt_response(409, description="not a draft, or no questions")
    def post(self, survey_id):  # type: ignore[no-untyped-def]
        parts = current_parts()
        with parts.db.transaction() as session:
            return surveys.publish(session, survey_id, clock=parts.clock)


@blp.route("/surveys/<survey_id>/close")
class SurveyClose(MethodView):
    @blp.response(200, schemas.SurveyOut)
    @blp.alt_response(409, description="not published")
    def post(self, survey_id):  # type: ignore[no-untyped-def]
        """Close the survey; publishes SurveyClosed with the counts."""
        parts = current_parts()
        assert parts.outbox is not None
        with parts.db.transaction() as session:
            return surveys.close(session, outbox(), survey_id, clock=parts.clock)


@blp.route("/surveys/<survey_id>/responses")
class SurveyResponses(MethodView):
    @blp.arguments(schemas.PaperResponseIn)
    @blp.response(201, schemas.ResponseOut)
    @blp.alt_response(409, description="the survey is not published")
    def post(self, data, survey_id):  # type: ignore[no-untyped-def]
        """A paper questionnaire entered by staff; a repeated `submission_key` stores nothing new."""
        parts = current_parts()
        with parts.db.transaction() as session:
            return surveys.submit_response(session, survey_id, data["village"], data["answers"],
                                           channel=model.PAPER, entered_by=actor(),
                                           submission_key=data.get("submission_key"), clock=parts.clock)


@blp.route("/surveys/<survey_id>/results")
class SurveyResults(MethodView):
    @blp.arguments(schemas.ResultsQuery, location="query")
    @blp.response(200, schemas.ResultsOut)
    def get(self, query, survey_id):  # type: ignore[no-untyped-def]
        """Counts per option and village, scale and number statistics, open answers."""
        with current_parts().db.engine.connect() as conn:
            result = surveys.results(conn, survey_id, query.get("village"))
        return {**result, "questions": [{**q, "texts": [list(t) for t in q.get("texts", [])]}
                                        for q in result["questions"]]}


# --- diagnosis ------------------------------------------------------------------------------------------------
@blp.route("/diagnoses")
class DiagnosisCollection(MethodView):
    @blp.response(200, schemas.DiagnosisSummary(many=True))
    def get(self):  # type: ignore[no-untyped-def]
        with current_parts().db.engine.connect() as conn:
            return diagnosis.versions(conn)

    @blp.arguments(schemas.DiagnosisIn)
    @blp.response(201, schemas.DiagnosisOut)
    def post(self, data):  # type: ignore[no-untyped-def]
        """A new version of the diagnosis for the gmina ("gmina") or a village, with the data frozen now."""
        parts = current_parts()
        with parts.db.transaction() as session:
            return diagnosis.create_version(session, data, author=actor(), clock=parts.clock)


@blp.route("/diagnoses/<diagnosis_id>")
class DiagnosisItem(MethodView):
    @blp.response(200, schemas.DiagnosisOut)
    def get(self, diagnosis_id):  # type: ignore[no-untyped-def]
        with current_parts().db.engine.connect() as conn:
            return diagnosis.get_version(conn, diagnosis_id)
