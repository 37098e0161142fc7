"""Test-only job handlers and the fixture-free helpers the jobs tests share.

Registered per test with ``register_test_handlers`` (patching ``registry.HANDLERS``), and in
worker child processes by ``run_worker_process``.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import BigInteger, Column, Engine, Integer, MetaData, String, Table, select

from nca_share.config import load_settings
from nca_share.db import Database
from nca_share.errors import RetryableJobError, ValidationError
from nca_share.jobs import registry
from nca_share.jobs.registry import JobContext
from nca_share.jobs.worker import Worker

TEST_HANDLERS = {
    "test_record": "tests.unit.jobs.handlers:record_run",
    "test_flaky": "tests.unit.jobs.handlers:flaky",
    "test_fail": "tests.unit.jobs.handlers:always_fail",
    "test_invalid": "tests.unit.jobs.handlers:invalid_payload",
    "test_crash": "tests.unit.jobs.handlers:crash",
    "test_wait_heartbeat": "tests.unit.jobs.handlers:wait_for_heartbeat",
    "test_leaky": "tests.unit.jobs.handlers:leaky_error",
    "test_rate_limited": "tests.unit.jobs.handlers:rate_limited",
}

_meta = MetaData()
#: one row per handler run: which job, which worker, when it started and ended (ns).
RUNS = Table(
    "test_job_runs",
    _meta,
    Column("id", Integer, primary_key=True),
    Column("job_id", Integer, nullable=False),
    Column("worker", String(200), nullable=False),
    Column("started_ns", BigInteger, nullable=False),
    Column("ended_ns", BigInteger, nullable=False),
)


def register_test_handlers() -> None:
    """Add the test kinds to the registry of this process."""
    registry.HANDLERS.update(TEST_HANDLERS)


def create_runs_table(engine: Engine) -> None:
    RUNS.create(engine, checkfirst=True)


def drop_runs_table(engine: Engine) -> None:
    RUNS.drop(engine, checkfirst=True)


def read_runs(engine: Engine) -> list[tuple[int, str, int, int]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(RUNS.c.job_id, RUNS.c.worker, RUNS.c.started_ns, RUNS.c.ended_ns)
        ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def record_run(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Take a few milliseconds and record (job, worker, start, end)."""
    started = time.monotonic_ns()
    time.sleep(random.uniform(0, float(payload.get("max_sleep_s", 0.002))))
    ended = time.monotonic_ns()
    with ctx.database.engine.begin() as conn:
        conn.execute(
            RUNS.insert().values(
                job_id=ctx.job_id, worker=ctx.worker_id, started_ns=started, ended_ns=ended
            )
        )
    return {"worker": ctx.worker_id}


def flaky(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Fail until attempt ``succeed_on``."""
    if ctx.attempt < int(payload["succeed_on"]):
        raise RetryableJobError(f"transient failure on attempt {ctx.attempt}")
    return {"attempt": ctx.attempt}


def always_fail(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Fail with an unexpected exception every time."""
    raise RuntimeError("server answered 503")


def invalid_payload(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Reject the payload as malformed."""
    raise ValidationError("feed_id missing", location="payload.feed_id")


def crash(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Interrupt the worker itself (like Ctrl-C during a job)."""
    raise KeyboardInterrupt


def leaky_error(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Fail with a message that contains credentials."""
    raise RuntimeError(
        "GET https://alice:s3cr3t@feeds.example/taxii failed; api_key=abcdef token: xyz\nline 2"
    )


#: set by ``wait_for_heartbeat`` once it saw its lease renewed.
HEARTBEAT_SEEN = threading.Event()


def wait_for_heartbeat(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Move the (frozen) clock forward, then wait until the worker renewed the lease."""
    from nca_share.clock import FrozenClock
    from nca_share.jobs.models import Job

    assert isinstance(ctx.clock, FrozenClock)
    ctx.clock.advance(timedelta(seconds=float(payload["advance_s"])))
    expected = ctx.clock.now() + timedelta(seconds=ctx.settings.jobs.lease_seconds)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with ctx.database.session() as session:
            job = session.get(Job, ctx.job_id)
            assert job is not None
            if job.lease_until == expected:
                HEARTBEAT_SEEN.set()
                return {"renewed_to": expected.isoformat()}
        time.sleep(0.01)
    raise RetryableJobError("lease never renewed")


def run_worker_process(
    database_url: str, data_dir: str, name: str, barrier: Any, results: Any
) -> None:
    """Child-process entry: one worker in burst mode, started together with its siblings."""
    register_test_handlers()
    settings = load_settings(database_url=database_url, data_dir=data_dir)
    database = Database(settings)
    worker = Worker(database, settings, worker_id=name)
    barrier.wait(timeout=60)
    ran = worker.run_forever(threading.Event(), burst=True)
    results.put((name, ran))
    database.dispose()


def due_test_jobs(session: Any, now: Any) -> Any:
    """A schedule provider: three "feeds", each due once per 15-minute slot."""
    from nca_share.jobs.registry import ScheduledJob
    from nca_share.jobs.scheduler import slot_start

    slot = slot_start(now, timedelta(minutes=15)).isoformat()
    for feed in (1, 2, 3):
        yield ScheduledJob("noop", {"feed": feed}, f"test-feed-{feed}:{slot}")


def broken_provider(session: Any, now: Any) -> Any:
    """A schedule provider that yields one job and then fails."""
    from nca_share.jobs.registry import ScheduledJob

    yield ScheduledJob("noop", {"broken": True}, f"broken:{now.isoformat()}")
    raise RuntimeError("feed table unreadable")


def rate_limited(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Fail like a server answering 429 with Retry-After."""
    raise RetryableJobError("429 Too Many Requests", details={"retry_after_s": payload["after"]})
