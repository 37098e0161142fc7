"""API authentication: ``Authorization: Bearer ncas_…`` tokens (scoped) or the browser
session, and the ``requires`` decorator every endpoint uses.

A token acts for its user within its scopes; a session has every scope its user's roles
allow (``nca_share.access.require_scope`` decides). Anonymous callers get 401, callers
without the scope 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, request

from nca_share.access import Principal, require_scope
from nca_share.errors import AuthenticationError
from nca_share.web.session import current_principal

F = TypeVar("F", bound=Callable[..., Any])


def authenticate_bearer() -> None:
    """Resolve ``Authorization: Bearer …`` into ``g.principal`` (and ``g.user``).

    :raises AuthenticationError: a malformed, unknown, expired or revoked token.
    """
    from nca_share.web.context import db_session
    from nca_share.web.services import auth_service

    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthenticationError("use 'Authorization: Bearer <token>'")
    principal = auth_service().authenticate_token(value.strip())
    db_session().commit()  # last_used_at
    g.principal = principal
    g.user = None


def requires(scope: str) -> Callable[[F], F]:
    """Allow the endpoint only to principals holding ``scope`` (401 anonymous, 403 else)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            require_scope(current_principal(), scope)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator


def principal() -> Principal:
    """The principal of the current API request."""
    return current_principal()
