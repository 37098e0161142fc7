"""Maps errors to responses once for the whole app.

Under ``/api/`` every error is JSON ``{"code", "message", "details"}``; elsewhere an HTML
page in the user's language. A 500 never echoes the exception; it is logged instead.
Domain errors (``nca_share.errors``) carry no HTTP knowledge; the mapping lives here.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException, InternalServerError

from nca_share import errors as domain

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
}

_DOMAIN_STATUS: tuple[tuple[type[domain.NcaShareError], int], ...] = (
    (domain.TooManyAttempts, 429),
    (domain.AuthenticationError, 401),
    (domain.NotFound, 404),
    (domain.PermissionDenied, 403),
    (domain.Conflict, 409),
    (domain.ValidationError, 422),
)


def init_app(app: Flask) -> None:
    """Register the handlers for HTTP errors, domain errors and everything else."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(domain.NcaShareError, handle_domain_error)
    app.register_error_handler(DataError, handle_out_of_range)
    app.register_error_handler(OverflowError, handle_out_of_range)
    app.register_error_handler(Exception, handle_unexpected)


def wants_json() -> bool:
    """Whether the current request gets JSON errors (the REST API)."""
    return request.path == "/api" or request.path.startswith("/api/")


def _messages() -> dict[int, str]:
    return {
        400: _("The request is invalid."),
        401: _("You need to log in."),
        403: _("You are not allowed to do this."),
        404: _("This page or object does not exist."),
        405: _("This method is not allowed here."),
        409: _("This conflicts with existing data."),
        413: _("The request is too large."),
        415: _("This content type is not supported."),
        422: _("The input is invalid."),
        429: _("Too many requests; please try again later."),
        500: _("Something went wrong on our side."),
        503: _("The service is temporarily unavailable."),
    }


def error_response(
    status: int,
    message: str | None = None,
    details: dict[str, Any] | None = None,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Build the error response for ``status`` in the format of the current surface."""
    text = message or _messages().get(status) or _("Something went wrong.")
    if wants_json():
        body = {
            "code": code or _CODES.get(status, "error"),
            "message": text,
            "details": details or {},
        }
        response = jsonify(body)
    else:
        response = Response(
            render_template("error.html", status=status, message=text), mimetype="text/html"
        )
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status >= 500:
        return handle_unexpected(exc)
    details: dict[str, Any] = {}
    data = getattr(exc, "data", None)
    message: str | None = None
    headers: dict[str, str] = {}
    if isinstance(data, dict):
        # webargs/flask-smorest: validation messages per location and field.
        messages = data.get("messages") or data.get("errors")
        if messages:
            details["fields"] = messages
        if isinstance(data.get("message"), str):
            message = data["message"]
        headers.update(data.get("headers") or {})
    if status == 405 and exc.get_response().headers.get("Allow"):
        headers["Allow"] = exc.get_response().headers["Allow"]
    if isinstance(exc, CSRFError):
        message = _("The form has expired or is invalid (CSRF). Please try again.")
        return error_response(400, message, code="csrf_failed")
    if status == 401 and wants_json():
        headers.setdefault("WWW-Authenticate", 'Bearer realm="nca_share"')
    return error_response(status, message, details, headers=headers)


def handle_domain_error(exc: domain.NcaShareError) -> Response:
    for kind, status in _DOMAIN_STATUS:
        if isinstance(exc, kind):
            details = dict(exc.details)
            location = getattr(exc, "location", None)
            if location:
                details["location"] = location
            headers = {}
            if status == 401 and wants_json():
                headers["WWW-Authenticate"] = 'Bearer realm="nca_share"'
            # Domain messages are written for users and never contain secrets.
            return error_response(status, exc.message, details, code=exc.code, headers=headers)
    return handle_unexpected(exc)


def handle_out_of_range(exc: Exception) -> Response:
    """A request value the database cannot hold (PostgreSQL ``integer out of range``, a
    number too large for SQLite): the client's input is invalid, not the server broken.
    Any other ``OverflowError`` is a bug and stays a 500."""
    if isinstance(exc, OverflowError) and "SQLite" not in str(exc):
        return handle_unexpected(exc)
    log.info("value out of range on %s %s: %s", request.method, request.path, exc)
    return error_response(
        422, _("A value is out of range or malformed."), code="value_out_of_range"
    )


def handle_unexpected(exc: BaseException) -> Response:
    if not isinstance(exc, HTTPException) or isinstance(exc, InternalServerError):
        log.exception("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    status = exc.code if isinstance(exc, HTTPException) and exc.code else 500
    return error_response(status)
