"""The REST API under ``/api/v1``: flask-smorest blueprints, JSON errors, keyset cursors,
token and session authentication. The OpenAPI 3 document at ``/api/v1/openapi.json`` is
generated from the blueprints' schemas.

Adapters only: each endpoint parses the request, calls a service, shapes the response.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Flask
from flask_smorest import Api


class ErrorSchema(ma.Schema):
    """Every API error: a stable machine code, a human message, structured details."""

    code = ma.fields.String(required=True, metadata={"description": "Machine-readable code"})
    message = ma.fields.String(required=True, metadata={"description": "Human-readable text"})
    details = ma.fields.Dict(required=True, metadata={"description": "Structured details"})


class NcaApi(Api):  # type: ignore[misc]
    """flask-smorest's Api with our error envelope (the app's handlers render it)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        # nca_share.web.errors handles every error once for the whole app.
        return None


def init_api(app: Flask) -> NcaApi:
    """Create the API for ``app`` (blueprints are registered by the app factory)."""
    api = NcaApi(
        spec_kwargs={
            "info": {
                "description": "REST API of nca_share. Authenticate with "
                "`Authorization: Bearer ncas_…` (an API token acting within its scopes) or "
                "the browser session (unsafe methods then need the `X-CSRFToken` header). "
                "Errors are `{code, message, details}`; lists page with an opaque "
                "`cursor` (pass `next_cursor`). STIX reads are filtered by TLP.",
            },
            "servers": [{"url": "/"}],
        }
    )
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "ncas_…"}
    )
    api.spec.options["security"] = [{"bearerAuth": []}]
    app.extensions["nca_share.api"] = api
    return api


_DESCRIPTIONS = {
    400: "Bad request",
    401: "Not authenticated (missing, invalid, expired or revoked token)",
    403: "Authenticated, but the scope or role is missing",
    404: "Not found (or not visible to the caller)",
    422: "Invalid parameters",
    429: "Too many requests",
}


def errors(blp: Any, *statuses: int) -> Any:
    """Decorator documenting the error responses of an endpoint (all ``ErrorSchema``)."""

    def decorator(view: Any) -> Any:
        for status in statuses:
            view = blp.alt_response(
                status, schema=ErrorSchema, description=_DESCRIPTIONS.get(status, "Error")
            )(view)
        return view

    return decorator
