"""Concurrent workers never run the same job twice at once: processes and threads.

Two worker PROCESSES (``multiprocessing`` spawn, each a real ``Worker`` in burst mode with its
own engine) share ~200 jobs of a test handler that records (job, worker, start, end); on
PostgreSQL they claim with ``FOR UPDATE SKIP LOCKED``, on SQLite through ``BEGIN IMMEDIATE``.
The same is checked with worker threads in one process.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from nca_share.config import Settings
from nca_share.db import Database
from nca_share.jobs import registry
from nca_share.jobs.models import Job, JobState
from nca_share.jobs.service import JobService
from nca_share.jobs.worker import Worker
from tests.unit.jobs import handlers

JOBS = 200


@pytest.fixture
def runs_table(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The test handler kinds registered and their ``test_job_runs`` table, dropped after."""
    for kind, path in handlers.TEST_HANDLERS.items():
        monkeypatch.setitem(registry.HANDLERS, kind, path)
    handlers.create_runs_table(database.engine)
    yield database
    handlers.drop_runs_table(database.engine)


def _enqueue(database: Database) -> list[int]:
    with database.session() as session:
        service = JobService(session)
        ids = [
            service.enqueue("test_record", {"max_sleep_s": 0.003}, unique_key=f"run-{n}")
            for n in range(JOBS)
        ]
    assert None not in ids
    return [i for i in ids if i is not None]


def _assert_each_ran_once(database: Database, ids: list[int], workers: set[str]) -> None:
    runs = handlers.read_runs(database.engine)
    per_job: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
    for job_id, worker, start, end in runs:
        per_job[job_id].append((worker, start, end))
    assert sorted(per_job) == sorted(ids)
    twice = {job_id: r for job_id, r in per_job.items() if len(r) != 1}
    assert twice == {}, f"jobs run more than once: {twice}"
    for job_runs in per_job.values():  # no two runs of one job overlap (with one run: trivially)
        spans = sorted((start, end) for _, start, end in job_runs)
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    ran_by = {worker for worker, _, _ in (r[0] for r in per_job.values())}
    assert ran_by == workers  # every worker took part: the claims really raced
    with database.session() as session:
        states = set(session.scalars(select(Job.state)))
        attempts = set(session.scalars(select(Job.attempts)))
    assert states == {JobState.DONE}
    assert attempts == {1}


@pytest.mark.slow
def test_two_worker_processes_never_run_a_job_twice(
    runs_table: Database, settings: Settings, tmp_path: Path
) -> None:
    """Two worker processes sharing 200 jobs run each exactly once, never concurrently."""
    database = runs_table
    ids = _enqueue(database)
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    names = ["proc-a", "proc-b"]
    procs = [
        ctx.Process(
            target=handlers.run_worker_process,
            args=(database.url, str(tmp_path / "var"), name, barrier, results),
        )
        for name in names
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    exit_codes = [proc.exitcode for proc in procs]
    counts = dict(results.get(timeout=5) for _ in procs)
    results.close()
    results.join_thread()
    assert exit_codes == [0, 0]
    assert sum(counts.values()) == JOBS
    _assert_each_ran_once(database, ids, set(names))


def test_worker_threads_never_run_a_job_twice(runs_table: Database, settings: Settings) -> None:
    """Four worker threads on one database run each of 200 jobs exactly once."""
    database = runs_table
    ids = _enqueue(database)
    names = [f"thread-{n}" for n in range(4)]
    counts: dict[str, int] = {}
    start = threading.Barrier(len(names))

    def run(name: str) -> None:
        worker = Worker(database, settings, worker_id=name, rng=random.Random(name))
        start.wait(timeout=30)
        counts[name] = worker.run_forever(threading.Event(), burst=True)

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sum(counts.values()) == JOBS
    _assert_each_ran_once(database, ids, set(names))
