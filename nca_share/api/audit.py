# mypy: disable-error-code="untyped-decorator"
"""``GET /api/v1/audit``: the audit log for operators (scope ``audit:read``), newest first."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from nca_share.api import errors
from nca_share.api.auth import requires
from nca_share.api.schemas import AuditArgs, AuditPage
from nca_share.auth.audit import AuditQuery
from nca_share.errors import ValidationError
from nca_share.web.services import audit_log

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="Audit log")


@blp.route("")
class Audit(MethodView):
    @requires("audit:read")
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, AuditPage)
    @errors(blp, 401, 403)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Entries matching the filters, newest first; page with ``cursor``."""
        before = None
        if args.get("cursor"):
            if not args["cursor"].isdigit():
                raise ValidationError("invalid page cursor", location="cursor")
            before = int(args["cursor"])
        limit = args["limit"]
        rows = list(
            audit_log().list(
                AuditQuery(
                    action=args.get("action"),
                    actor_email=args.get("actor"),
                    since=args.get("since"),
                    until=args.get("until"),
                    before_id=before,
                    limit=limit + 1,
                )
            )
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "items": [
                {
                    "id": r.id,
                    "at": r.at,
                    "actor_email": r.actor_email,
                    "action": r.action,
                    "target": r.target,
                    "details": r.details or {},
                    "ip": r.ip,
                }
                for r in rows
            ],
            "next_cursor": str(rows[-1].id) if more and rows else None,
        }
