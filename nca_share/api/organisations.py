# mypy: disable-error-code="untyped-decorator"
"""``GET /api/v1/organisations/<id>``: a minimal organisation read (scope ``orgs:read``).

Staff may read any organisation; a member only their own; coordinators those that are
members of their partnership. Everything else is 404, so organisation ids do not leak.
The constituency package extends this API.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from nca_share.api import errors
from nca_share.api.auth import requires
from nca_share.api.schemas import OrganisationOut
from nca_share.constituency.models import Organisation
from nca_share.errors import NotFound
from nca_share.web.context import db_session
from nca_share.web.session import current_principal

blp = Blueprint(
    "organisations", __name__, url_prefix="/api/v1/organisations", description="Organisations"
)


@blp.route("/<int:organisation_id>")
class OrganisationResource(MethodView):
    @requires("orgs:read")
    @blp.response(200, OrganisationOut)
    @errors(blp, 401, 403, 404)
    def get(self, organisation_id: int) -> dict[str, Any]:
        """One organisation the caller may see."""
        principal = current_principal()
        org = db_session().get(Organisation, organisation_id)
        if org is None or not (principal.is_staff or organisation_id in principal.organisation_ids):
            raise NotFound("no such organisation", details={"id": organisation_id})
        return {"id": org.id, "kvk": org.kvk, "name": org.name}
