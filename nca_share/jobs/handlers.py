"""Built-in job handlers of the jobs package: ``noop`` and ``purge_finished_jobs``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from nca_share.errors import ValidationError
from nca_share.jobs.registry import JobContext
from nca_share.jobs.service import JobService


def noop(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any] | None:
    """Do nothing; echoes ``payload`` back (health checks, debugging the worker)."""
    ctx.logger.debug("noop")
    return {"echo": payload}


def purge_finished_jobs(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any] | None:
    """Delete done jobs older than ``payload["older_than_days"]`` days (default 30).

    :raises ValidationError: ``older_than_days`` is not a positive integer.
    """
    days = payload.get("older_than_days", 30)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValidationError(
            "older_than_days must be a positive integer", location="payload.older_than_days"
        )
    with ctx.database.session() as session:
        deleted = JobService(session, ctx.clock).purge_finished(timedelta(days=days))
    ctx.logger.info("purged %d finished jobs older than %d days", deleted, days)
    return {"deleted": deleted}
