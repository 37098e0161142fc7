"""Background jobs of ``nca_share.auth``: pruning the login attempts kept for throttling."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from nca_share.auth.service import AuthService
from nca_share.errors import ValidationError
from nca_share.jobs.registry import JobContext


def prune_login_attempts(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any] | None:
    """Delete login attempts older than ``payload["older_than_days"]`` days (default 7): they
    only serve rate limiting and lockout, and they hold e-mail and IP addresses.

    :raises ValidationError: ``older_than_days`` is not a positive integer.
    """
    days = payload.get("older_than_days", 7)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValidationError(
            "older_than_days must be a positive integer", location="payload.older_than_days"
        )
    with ctx.database.session() as session:
        deleted = AuthService(session, ctx.settings, clock=ctx.clock).prune_login_attempts(
            timedelta(days=days)
        )
    ctx.logger.info("pruned %d login attempts older than %d days", deleted, days)
    return {"deleted": deleted}
