"""EmbeddedRuntime: scheduler and worker threads in one process, started and stopped cleanly."""

from __future__ import annotations

import threading
import time

from sqlalchemy import select

from nca_share.config import Settings
from nca_share.db import Database
from nca_share.jobs.models import Job, JobState
from nca_share.jobs.registry import PERIODIC
from nca_share.jobs.runtime import EmbeddedRuntime
from nca_share.jobs.service import JobService


def test_runtime_runs_jobs_and_stops(database: Database, job_settings: Settings) -> None:
    """Started, the runtime runs queued jobs and the scheduler's; stop() joins every thread."""
    with database.session() as session:
        ids = [JobService(session).enqueue("noop", {"n": n}) for n in range(10)]
    before = threading.active_count()
    runtime = EmbeddedRuntime(job_settings, database, threads=3)
    assert threading.active_count() == before  # nothing starts in the constructor
    runtime.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with database.session() as session:
                states = list(session.scalars(select(Job.state)))
            # the ten jobs plus every periodic job the scheduler enqueues on its first tick
            if len(states) >= len(ids) + len(PERIODIC) and set(states) == {JobState.DONE}:
                break
            time.sleep(0.02)
    finally:
        assert runtime.stop(timeout=10)
    assert not runtime.running
    with database.session() as session:
        jobs = session.scalars(select(Job)).all()
    assert {j.state for j in jobs} == {JobState.DONE}
    assert {j.kind for j in jobs} == {"noop"} | {p.kind for p in PERIODIC}
    assert len({j.locked_by for j in jobs}) == 1  # released: None
