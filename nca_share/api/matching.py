# mypy: disable-error-code="untyped-decorator"
"""``/api/v1/matching``: notices (the informatiedienst), an organisation's matches with their
explanations, and the recipient preview for analysts. Scope ``matches:read``.

Notices and matches are filtered through the access policy: a notice through its own grant
(``notice:<id>``), a match through the TLP and grants of the STIX object it is about, and an
organisation's matches only for its members and staff. The preview is staff-only.
Adapters only: the rules live in ``nca_share.matching``.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from nca_share.access import AccessPolicy
from nca_share.api import errors
from nca_share.api.auth import requires
from nca_share.errors import NotFound, PermissionDenied
from nca_share.matching.engine import Criteria
from nca_share.matching.live import live_index
from nca_share.matching.models import Match
from nca_share.matching.notices import NoticeService
from nca_share.matching.preview import PreviewService
from nca_share.web.context import db_session, get_clock, get_database, get_settings
from nca_share.web.session import current_principal

blp = Blueprint(
    "matching_api",
    __name__,
    url_prefix="/api/v1/matching",
    description="Matching: notices, matches and recipient preview",
)


class NoticeOut(ma.Schema):
    id = ma.fields.Integer()
    organisation_id = ma.fields.Integer()
    stix_id = ma.fields.String()
    dimension = ma.fields.String()
    observable = ma.fields.String()
    category = ma.fields.String()
    urgent = ma.fields.Boolean()
    tlp = ma.fields.Integer()
    state = ma.fields.String()
    explanation_nl = ma.fields.String()
    explanation_en = ma.fields.String()
    repeat_count = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    last_seen_at = ma.fields.DateTime()
    notified_at = ma.fields.DateTime(allow_none=True)
    payload = ma.fields.Dict()


class NoticeList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(NoticeOut))


class NoticeQuery(ma.Schema):
    organisation_id = ma.fields.Integer(load_default=None)
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))


class MatchOut(ma.Schema):
    id = ma.fields.Integer()
    organisation_id = ma.fields.Integer()
    asset_id = ma.fields.Integer(allow_none=True)
    stix_id = ma.fields.String()
    stix_type = ma.fields.String()
    dimension = ma.fields.String()
    matched_value = ma.fields.String()
    asset_value = ma.fields.String(allow_none=True)
    confidence = ma.fields.Integer()
    tlp = ma.fields.Integer()
    source = ma.fields.String()
    evidence = ma.fields.Dict()
    explanation_nl = ma.fields.String()
    explanation_en = ma.fields.String()
    first_seen = ma.fields.DateTime()
    last_seen = ma.fields.DateTime()


class MatchList(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(MatchOut))


class CriteriaIn(ma.Schema):
    sectors = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=100)), load_default=list
    )
    nis2 = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=40)), load_default=list)
    regions = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=60)), load_default=list
    )
    products = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=500)), load_default=list
    )
    partnerships = ma.fields.List(ma.fields.Integer(), load_default=list)


class PreviewIn(ma.Schema):
    stix_ids = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=3, max=300)),
        load_default=list,
        validate=ma.validate.Length(max=5000),
    )
    criteria = ma.fields.Nested(CriteriaIn, load_default=None)
    locale = ma.fields.String(load_default="nl", validate=ma.validate.OneOf(["nl", "en"]))


class PreviewOut(ma.Schema):
    objects = ma.fields.Integer()
    recipient_count = ma.fields.Integer()
    recipients = ma.fields.List(ma.fields.Dict())
    per_dimension = ma.fields.Dict()
    per_sector = ma.fields.Dict()
    per_nis2_class = ma.fields.Dict()
    per_maturity = ma.fields.Dict()
    per_partnership = ma.fields.Dict()


@blp.route("/notices")
class Notices(MethodView):
    @requires("matches:read")
    @blp.arguments(NoticeQuery, location="query")
    @blp.response(200, NoticeList)
    @errors(blp, 401, 403, 422)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Notices the caller may see, newest first (members: their organisations')."""
        service = NoticeService(db_session(), get_settings())
        items = service.visible_for(
            current_principal(), organisation_id=args["organisation_id"], limit=args["limit"]
        )
        return {"items": items}


@blp.route("/notices/<int:notice_id>")
class NoticeResource(MethodView):
    @requires("matches:read")
    @blp.response(200, NoticeOut)
    @errors(blp, 401, 403, 404)
    def get(self, notice_id: int) -> Any:
        """One notice (404 when it does not exist or is not visible)."""
        return NoticeService(db_session(), get_settings()).get_visible(
            current_principal(), notice_id
        )


@blp.route("/organisations/<int:organisation_id>/matches")
class OrganisationMatches(MethodView):
    @requires("matches:read")
    @blp.arguments(NoticeQuery, location="query")
    @blp.response(200, MatchList)
    @errors(blp, 401, 403, 404, 422)
    def get(self, args: dict[str, Any], organisation_id: int) -> dict[str, Any]:
        """An organisation's matches whose STIX object the caller may see."""
        principal = current_principal()
        if not (principal.is_staff or organisation_id in principal.organisation_ids):
            raise NotFound("no such organisation", details={"id": organisation_id})
        session = db_session()
        rows = session.scalars(
            select(Match)
            .where(
                Match.organisation_id == organisation_id,
                AccessPolicy(session).filter(principal, Match.tlp, Match.stix_id),
            )
            .order_by(Match.last_seen.desc(), Match.id.desc())
            .limit(args["limit"])
        )
        return {"items": list(rows)}


@blp.route("/preview")
class PreviewResource(MethodView):
    @requires("matches:read")
    @blp.arguments(PreviewIn)
    @blp.response(200, PreviewOut)
    @errors(blp, 401, 403, 422)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Who would receive these objects (and criteria): staff only."""
        principal = current_principal()
        if not principal.is_staff:
            raise PermissionDenied("the preview is for analysts")
        crit = body.get("criteria") or {}
        criteria = Criteria(
            sectors=tuple(crit.get("sectors", [])),
            nis2=tuple(crit.get("nis2", [])),
            regions=tuple(crit.get("regions", [])),
            products=tuple(crit.get("products", [])),
            partnerships=tuple(crit.get("partnerships", [])),
        )
        index = live_index(get_database())
        service = PreviewService(
            db_session(), index, clock=get_clock(), timezone=get_settings().timezone
        )
        return service.preview(body["stix_ids"], criteria, locale=body["locale"]).as_dict()
