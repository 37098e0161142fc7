# mypy: disable-error-code="untyped-decorator"
"""``/api/v1/stix``: the STIX store as the caller may see it (scope ``stix:read``).

Every read goes through ``nca_share.web.stix_reads.StixReads``, i.e. the access policy:
lists are filtered in SQL, single objects answer 404 when not visible.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from nca_share.access import TLP_NAMES
from nca_share.api import errors
from nca_share.api.auth import requires
from nca_share.api.schemas import (
    ObjectDetail,
    ObjectListArgs,
    ObjectPage,
    RelationshipList,
    VersionList,
)
from nca_share.stix.models import StixObject
from nca_share.web.context import db_session
from nca_share.web.session import current_principal
from nca_share.web.stix_reads import ObjectFilter, StixReads

blp = Blueprint(
    "stix", __name__, url_prefix="/api/v1/stix", description="STIX objects (filtered by TLP)"
)


def _reads() -> StixReads:
    return StixReads(db_session(), current_principal())


def summary(obj: StixObject) -> dict[str, Any]:
    return {
        "id": obj.stix_id,
        "type": obj.type,
        "spec_version": obj.spec_version,
        "name": obj.name,
        "created": obj.created,
        "modified": obj.modified,
        "date_added": obj.date_added,
        "revoked": obj.revoked,
        "tlp": TLP_NAMES[obj.tlp] if 0 <= obj.tlp < len(TLP_NAMES) else "RED",
        "source": obj.source,
    }


def detail(obj: StixObject) -> dict[str, Any]:
    return {
        **summary(obj),
        "current": obj.is_current,
        "marking_refs": list(obj.marking_refs or []),
        "object": obj.raw if isinstance(obj.raw, dict) else {},
    }


@blp.route("/objects")
class Objects(MethodView):
    @requires("stix:read")
    @blp.arguments(ObjectListArgs, location="query")
    @blp.response(200, ObjectPage)
    @errors(blp, 401, 403)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Current objects, oldest addition first; keyset-paginated with ``cursor``."""
        flt = ObjectFilter(
            types=(args["type"],) if args.get("type") else (),
            text=args.get("text"),
            added_after=args.get("added_after"),
        )
        page = _reads().search(flt, limit=args["limit"], cursor=args.get("cursor"))
        return {"items": [summary(o) for o in page.items], "next_cursor": page.next_cursor}


@blp.route("/objects/<stix_id>")
class Object(MethodView):
    @requires("stix:read")
    @blp.response(200, ObjectDetail)
    @errors(blp, 401, 403, 404)
    def get(self, stix_id: str) -> dict[str, Any]:
        """The current version of one object."""
        return detail(_reads().get(stix_id))


@blp.route("/objects/<stix_id>/versions")
class Versions(MethodView):
    @requires("stix:read")
    @blp.response(200, VersionList)
    @errors(blp, 401, 403, 404)
    def get(self, stix_id: str) -> dict[str, Any]:
        """Every visible version of one object, oldest first."""
        return {"items": [detail(v) for v in _reads().versions(stix_id)]}


@blp.route("/objects/<stix_id>/relationships")
class Relationships(MethodView):
    @requires("stix:read")
    @blp.response(200, RelationshipList)
    @errors(blp, 401, 403, 404)
    def get(self, stix_id: str) -> dict[str, Any]:
        """Relationships and reference edges of one object, both directions (visible only)."""
        return {
            "items": [
                {
                    "source_id": n.edge.source_id,
                    "target_id": n.edge.target_id,
                    "kind": n.edge.kind,
                    "relationship_type": n.edge.relationship_type,
                    "via_id": n.edge.via_id,
                    "direction": n.direction,
                    "other_in_store": n.other is not None,
                }
                for n in _reads().neighbours(stix_id)
            ]
        }
