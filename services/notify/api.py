"""Notify's JSON API: the ledger staff see (signed links hidden) and the failures nobody has handled yet."""
from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from services.notify import ledger, schemas
from services.notify.links import hide_tokens
from wspolnota.web import current_parts

blp = Blueprint("notify_api", __name__, url_prefix="/api/notifications", description="Powiadomienia")


@blp.route("")
class NotificationCollection(MethodView):
    @blp.response(200, schemas.NotificationOut(many=True))
    def get(self) -> list[dict[str, Any]]:
        return [{**r, "body": hide_tokens(r["body"])} for r in ledger.latest(current_parts().db, 500)]


@blp.route("/failed")
class FailedNotifications(MethodView):
    @blp.response(200, schemas.DeadLetterOut(many=True))
    def get(self) -> list[Any]:
        """Notifications the sender gave up on and nobody has handled yet (the page's alert)."""
        return ledger.open_alerts(current_parts().db)
