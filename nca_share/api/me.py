# mypy: disable-error-code="untyped-decorator"
"""``GET /api/v1/me``: who the caller is (user, roles, effective scopes, token)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from nca_share.api import errors
from nca_share.api.schemas import Me
from nca_share.auth.scopes import allowed_scopes
from nca_share.errors import AuthenticationError
from nca_share.web.services import auth_service
from nca_share.web.session import current_principal

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The caller")


@blp.route("")
class MeResource(MethodView):
    @blp.response(200, Me)
    @errors(blp, 401)
    def get(self) -> dict[str, Any]:
        """The authenticated user and the scopes this request may use."""
        principal = current_principal()
        if principal.user_id is None:
            raise AuthenticationError("authentication required")
        user = auth_service().get_user(principal.user_id)
        scopes = (
            principal.scopes if principal.scopes is not None else allowed_scopes(principal.roles)
        )
        return {
            "id": user.id,
            "email": user.email,
            "locale": user.locale,
            "roles": [
                {
                    "role": r.role,
                    "organisation_id": r.organisation_id,
                    "partnership_id": r.partnership_id,
                }
                for r in user.roles
            ],
            "scopes": sorted(scopes),
            "token_id": principal.token_id,
            "totp_enabled": user.totp_enabled,
        }
