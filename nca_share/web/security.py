"""Security headers and the CSRF gate for every request.

- Content-Security-Policy: only same-origin scripts and styles, no inline script, no
  framing, no plugins; plus ``X-Content-Type-Options``, ``Referrer-Policy`` and friends.
- CSRF: every unsafe request carrying the session cookie must carry a valid token
  (Flask-WTF). Requests authenticated with ``Authorization: Bearer`` carry no ambient
  credentials and are exempt.
"""

from __future__ import annotations

from flask import Flask, Response, abort, request, session

from nca_share.web.extensions import csrf

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)

_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}

_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def init_app(app: Flask) -> None:
    """Install the CSRF gate and the response headers."""
    app.before_request(_csrf_gate)
    app.after_request(_set_headers)


def is_bearer_request() -> bool:
    """Whether the request authenticates with an API token instead of the session cookie."""
    return request.headers.get("Authorization", "").lower().startswith("bearer ")


def _csrf_gate() -> None:
    if "\x00" in request.path:
        abort(404)  # a NUL can never be part of a real path (and must not reach the DB)
    if request.method not in _UNSAFE_METHODS:
        return
    if request.path.startswith("/api/") and (is_bearer_request() or "uid" not in session):
        # The API authenticates a bearer request by its token, never by the cookie; without
        # a session there are no ambient credentials to abuse (the API answers 401 itself).
        # Browser routes always check the token, whatever headers come along.
        return
    csrf.protect()


def _set_headers(response: Response) -> Response:
    for name, value in _HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if response.mimetype == "text/html" or request.path.startswith("/api/"):
        # Pages show TLP-marked data: keep them out of shared caches and history.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
