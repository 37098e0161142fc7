"""Who is signed in: the browser session and API tokens turned into a ``Principal``.

The session cookie holds only ``uid`` and the user's ``security_stamp`` (a changed password
or 2FA setting voids older sessions), or the ``pending_*`` keys between the password and
the TOTP step. ``load_principal`` runs before every request and sets ``g.user`` and
``g.principal``; bearer tokens are accepted only under ``/api/``.
"""

from __future__ import annotations

from typing import cast

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from nca_share.access import Principal, principal_for_user
from nca_share.auth.models import TOTP_REQUIRED_ROLES, User
from nca_share.web.context import db_session

#: Endpoints a signed-in user who still has to enrol in TOTP may reach.
ENROLMENT_ENDPOINTS = frozenset(
    {
        "account.totp_setup",
        "auth.logout",
        "main.set_language",
        "static",
        "health.healthz",
        "health.readyz",
    }
)


def init_app(app: Flask) -> None:
    """Resolve the principal before each request; force TOTP enrolment where required."""
    app.before_request(load_principal)
    app.before_request(enforce_totp_enrolment)
    app.jinja_env.globals["current_user"] = current_user
    app.jinja_env.globals["current_principal"] = current_principal


def current_user() -> User | None:
    """The signed-in user (session or API token), or ``None``."""
    return cast(User | None, g.get("user"))


def current_principal() -> Principal:
    """The principal of the current request (anonymous when nobody is signed in)."""
    principal = g.get("principal")
    return principal if isinstance(principal, Principal) else Principal.anonymous()


def needs_totp_enrolment(user: User) -> bool:
    """Staff and coordinators must have TOTP enabled before they may do anything else."""
    return not user.totp_enabled and any(r in TOTP_REQUIRED_ROLES for r in user.role_names())


def login_session(user: User) -> None:
    """Mark ``user`` as fully signed in (after password and, if enabled, TOTP)."""
    _fresh_session()
    session["uid"] = user.id
    session["stamp"] = user.security_stamp
    session.permanent = True


def begin_second_factor(user: User) -> None:
    """Password accepted; the TOTP (or recovery code) step is still due."""
    _fresh_session()
    session["pending_uid"] = user.id
    session["pending_stamp"] = user.security_stamp


def pending_user() -> User | None:
    """The user between the password and the TOTP step, if any."""
    uid = session.get("pending_uid")
    if not isinstance(uid, int):
        return None
    user = db_session().get(User, uid)
    if user is None or user.disabled or user.security_stamp != session.get("pending_stamp"):
        return None
    return user


def logout_session() -> None:
    """Forget the signed-in user (the language choice stays)."""
    _fresh_session()


def _fresh_session() -> None:
    """Start a new session (no fixation across login/logout); keep the language choice.

    The CSRF token is rotated too: the one cached for this request belonged to the old
    session, so forms rendered after this call get a new one.
    """
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def load_principal() -> None:
    """Set ``g.user`` and ``g.principal`` for this request."""
    g.user = None
    g.principal = Principal.anonymous()
    if request.endpoint == "static":
        return
    if request.path.startswith("/api/") and request.headers.get("Authorization"):
        from nca_share.api.auth import authenticate_bearer

        authenticate_bearer()
        return
    uid = session.get("uid")
    if not isinstance(uid, int):
        return
    user = db_session().get(User, uid)
    if user is None or user.disabled or user.security_stamp != session.get("stamp"):
        logout_session()
        return
    g.user = user
    g.principal = principal_for_user(db_session(), user)


def enforce_totp_enrolment() -> ResponseReturnValue | None:
    """Staff and coordinators without TOTP may only reach the enrolment page."""
    user = current_user()
    if user is None or g.principal.token_id is not None or not needs_totp_enrolment(user):
        return None
    if request.endpoint in ENROLMENT_ENDPOINTS:
        return None
    if request.path.startswith("/api/"):
        from nca_share.web.errors import error_response

        return error_response(403, code="totp_enrolment_required")
    return redirect(url_for("account.totp_setup"))


def set_user_locale(lang: str) -> None:
    """Remember the language in the signed-in user's profile."""
    from nca_share.web.services import auth_service

    user = current_user()
    if user is None or user.locale == lang:
        return
    auth_service().set_locale(user, lang)
    db_session().commit()
