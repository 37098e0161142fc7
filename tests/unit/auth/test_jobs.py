"""The daily job that prunes login attempts, run the way a worker runs it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from nca_share.auth.models import LoginAttempt
from nca_share.clock import FrozenClock
from nca_share.config import Settings
from nca_share.db import Database
from nca_share.jobs import registry
from nca_share.jobs.service import JobService
from nca_share.jobs.worker import Worker


def test_prune_login_attempts_job(settings: Settings, database: Database) -> None:
    """Attempts older than the payload's days are deleted, newer ones kept; it is scheduled."""
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    clock = FrozenClock(now)
    with database.session() as session:
        session.add_all(
            [
                LoginAttempt(at=now - timedelta(days=9), email="a@example.nl", ip="192.0.2.1",
                             success=False),
                LoginAttempt(at=now - timedelta(days=1), email="a@example.nl", ip="192.0.2.1",
                             success=False),
            ]
        )  # fmt: skip
        JobService(session, clock).enqueue("prune_login_attempts", {"older_than_days": 7})
    assert Worker(database, settings, clock=clock).run_once()
    with database.session() as session:
        left = session.scalars(select(LoginAttempt.at)).all()
        assert left == [now - timedelta(days=1)]
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 1
    assert any(p.kind == "prune_login_attempts" for p in registry.PERIODIC)
