"""The community service's JSON API (flask-smorest): field errors come back as 422, domain errors through
wspolnota/errors.py (404, 422, 409)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from wspolnota import reference

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
