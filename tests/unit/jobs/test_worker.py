"""Worker: claiming with leases, outcomes, back-off, dead-lettering, lease ownership."""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from nca_share.clock import FrozenClock
from nca_share.config import Settings
from nca_share.db import Database
from nca_share.jobs import registry
from nca_share.jobs.models import Job, JobState
from nca_share.jobs.service import JobService
from nca_share.jobs.worker import Worker, backoff_bound, backoff_delay, describe_error
from tests.unit.jobs import handlers


def _enqueue(database: Database, clock: FrozenClock, kind: str, **kwargs: Any) -> int:
    payload = kwargs.pop("payload", {})
    with database.session() as session:
        job_id = JobService(session, clock).enqueue(kind, payload, **kwargs)
    assert job_id is not None
    return job_id


def _job(database: Database, job_id: int) -> Job:
    with database.session() as session:
        return session.get_one(Job, job_id)


def _worker(database: Database, settings: Settings, clock: FrozenClock, name: str) -> Worker:
    return Worker(database, settings, clock=clock, worker_id=name, rng=random.Random(7))


def test_claim_takes_a_lease(
    database: Database, job_settings: Settings, clock: FrozenClock
) -> None:
    """Claiming sets running, the lease, the worker and one more attempt; nothing else is due."""
    job_id = _enqueue(database, clock, "noop")
    worker = _worker(database, job_settings, clock, "w1")
    claimed = worker.claim()
    assert claimed is not None
    assert (claimed.id, claimed.attempt, claimed.max_attempts) == (job_id, 1, 4)
    job = _job(database, job_id)
    assert (job.state, job.attempts, job.locked_by) == (JobState.RUNNING, 1, "w1")
    assert job.lease_until == clock.now() + timedelta(seconds=60)
    assert _worker(database, job_settings, clock, "w2").claim() is None


def test_future_jobs_are_not_due(
    database: Database, job_settings: Settings, clock: FrozenClock
) -> None:
    """A job whose run_after lies ahead is claimed only once the clock reaches it."""
    job_id = _enqueue(database, clock, "noop", run_after=clock.now() + timedelta(minutes=5))
    worker = _worker(database, job_settings, clock, "w1")
    assert worker.claim() is None
    clock.advance(timedelta(minutes=5))
    claimed = worker.claim()
    assert claimed is not None
    assert claimed.id == job_id


def test_expired_lease_makes_the_job_due_again(
    database: Database, job_settings: Settings, clock: FrozenClock
) -> None:
    """A lease that expires makes the job due again; the old holder then finalises nothing."""
    job_id = _enqueue(database, clock, "test_flaky", payload={"succeed_on": 1})
    first = _worker(database, job_settings, clock, "dead-worker")
    held = first.claim()
    assert held is not None
    second = _worker(database, job_settings, clock, "w2")
    clock.advance(timedelta(seconds=60))
    assert second.claim() is None  # lease_until == now: not expired yet
    clock.advance(timedelta(seconds=1))
    again = second.claim()
    assert again is not None
    assert (again.id, again.attempt) == (job_id, 2)
    job = _job(database, job_id)
    assert (job.locked_by, job.attempts) == ("w2", 2)
    assert job.last_error == "lease of dead-worker expired on attempt 1"
    # the first worker wakes up and finishes: its outcome is dropped, w2 still holds the job
    assert first.execute(held) is None
    assert first.renew(held) is False
    job = _job(database, job_id)
    assert (job.state, job.locked_by, job.result) == (JobState.RUNNING, "w2", None)
    assert second.execute(again) is JobState.DONE
    assert _job(database, job_id).result == {"attempt": 2}


def test_expired_lease_on_last_attempt_dead_letters(
    database: Database, job_settings: Settings, clock: FrozenClock
) -> None:
    """A job whose worker died on every attempt is dead-lettered instead of run again."""
    job_id = _enqueue(database, clock, "noop", max_attempts=2)
    worker = _worker(database, job_settings, clock, "w")
    for _ in range(2):
        assert worker.claim() is not None
        clock.advance(timedelta(seconds=61))
    assert worker.claim() is None
    job = _job(database, job_id)
    assert job.state is JobState.DEAD
    assert job.attempts == 2
    assert job.last_error is not None
    assert "lease expired on attempt 2 of 2" in job.last_error


def test_success_records_result_and_touches_nothing_else(
    database: Database, job_settings: Settings, clock: FrozenClock
) -> None:
    """Success: done, result, finished_at, lease released; history and other jobs unchanged."""
    job_id = _enqueue(database, clock, "test_flaky", payload={"succeed_on": 2}, unique_key="u")
    other = _enqueue(database, clock, "noop", run_after=clock.now() + timedelta(hours=1))
    worker = _worker(database, job_settings, clock, "w")
    assert worker.run_once()
    failed = _job(database, job_id)
    clock.set(failed.run_after)
    assert worker.run_once()
    job = _job(database, job_id)
    assert job.state is JobState.DONE
    assert job.result == {"attempt": 2}
    assert job.finished_at == clock.now()
    assert (job.lease_until, job.locked_by) == (None, None)
    assert (job.attempts, job.payload, job.unique_key) == (2, {"succeed_on": 2}, "u")
    assert job.last_error == "RetryableJobError: transient failure on attempt 1"
    untouched = _job(database, other)
    assert (untouched.state, untouched.attempts, untouched.locked_by) == (JobState.QUEUED, 0, None)


def test_failures_back_off_then_dead_letter(
    database: Database, job_settings: Settings, clock: FrozenClock
) -> None:
    """Each failure requeues within the growing, capped bound; attempt 4 of 4 dead-letters."""
    job_id = _enqueue(database, clock, "test_fail")
    worker = _worker(database, job_settings, clock, "w")
    delays = []
    for attempt in range(1, 4):
        assert worker.run_once()
        job = _job(database, job_id)
        assert (job.state, job.attempts) == (JobState.QUEUED, attempt)
        delay = (job.run_after - clock.now()).total_seconds()
        assert 0 <= delay <= backoff_bound(attempt, 10.0, 80.0)
        delays.append(delay)
        assert job.last_error == "RuntimeError: server answered 503"
        if delay > 0:
            assert worker.claim() is None  # not due during the back-off
        clock.set(job.run_after)
    assert worker.run_once()
    job = _job(database, job_id)
    assert (job.state, job.attempts, job.finished_at) == (JobState.DEAD, 4, clock.now())
    assert job.last_error == "RuntimeError: server answered 503"
    assert not worker.run_once()
    assert len(set(delays)) == 3  # jittered: no two retries at the same offset


def test_job_max_attempts_overrides_settings(
    database: Database, job_settings: Settings, clock: FrozenClock
) -> None:
    """A job's own max_attempts wins over settings.jobs.max_attempts."""
    job_id = _enqueue(database, clock, "test_fail", max_attempts=1)
    assert _worker(database, job_settings, clock, "w").run_once()
    job = _job(database, job_id)
    assert (job.state, job.attempts) == (JobState.DEAD, 1)


def test_validation_error_dead_letters_at_once(
    database: Database, job_settings: Settings, clock: FrozenClock
) -> None:
    """A handler rejecting its payload (ValidationError) is dead-lettered on attempt one."""
    job_id = _enqueue(database, clock, "test_invalid")
    assert _worker(database, job_settings, clock, "w").run_once()
    job = _job(database, job_id)
    assert (job.state, job.attempts) == (JobState.DEAD, 1)
    assert job.last_error == "ValidationError: payload.feed_id: feed_id missing"


def test_unknown_kind_at_run_time_is_retried(
    database: Database,
    job_settings: Settings,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A kind this worker does not know (older deployment) is retried, not dead-lettered."""
    job_id = _enqueue(database, clock, "test_fail")
    monkeypatch.delitem(registry.HANDLERS, "test_fail")
    assert _worker(database, job_settings, clock, "w").run_once()
    job = _job(database, job_id)
    assert job.state is JobState.QUEUED
    assert job.last_error == "JobError: kind: unknown job kind 'test_fail'"


def test_interrupted_worker_releases_its_job(
    database: Database, job_settings: Settings, clock: FrozenClock
) -> None:
    """Ctrl-C inside a handler gives the job back at once (no lease wait) and propagates."""
    job_id = _enqueue(database, clock, "test_crash")
    with pytest.raises(KeyboardInterrupt):
        _worker(database, job_settings, clock, "w").run_once()
    job = _job(database, job_id)
    assert (job.state, job.locked_by, job.lease_until) == (JobState.QUEUED, None, None)


def test_last_error_is_short_and_redacted(
    database: Database, job_settings: Settings, clock: FrozenClock
) -> None:
    """last_error names the type and message on one line, without credentials."""
    job_id = _enqueue(database, clock, "test_leaky")
    _worker(database, job_settings, clock, "w").run_once()
    error = _job(database, job_id).last_error
    assert error == (
        "RuntimeError: GET https://***@feeds.example/taxii failed; api_key=*** token: *** line 2"
    )
    assert len(describe_error(ValueError("x" * 2000))) == 500


def test_heartbeat_renews_the_lease(
    database: Database, job_settings: Settings, clock: FrozenClock
) -> None:
    """While a handler runs, the heartbeat thread pushes lease_until forward."""
    handlers.HEARTBEAT_SEEN.clear()
    job_id = _enqueue(database, clock, "test_wait_heartbeat", payload={"advance_s": 45})
    worker = Worker(database, job_settings, clock=clock, worker_id="w", heartbeat_interval_s=0.01)
    assert worker.run_once()
    assert handlers.HEARTBEAT_SEEN.is_set()
    job = _job(database, job_id)
    assert job.state is JobState.DONE
    assert job.result == {"renewed_to": (clock.now() + timedelta(seconds=60)).isoformat()}


def test_backoff_grows_and_is_capped() -> None:
    """The bound doubles per attempt from the base and stops at the cap."""
    bounds = [backoff_bound(n, 10.0, 3600.0) for n in range(1, 12)]
    assert bounds[:4] == [10.0, 20.0, 40.0, 80.0]
    assert all(b2 >= b1 for b1, b2 in zip(bounds, bounds[1:], strict=False))
    assert bounds[-1] == 3600.0
    assert backoff_bound(10_000, 10.0, 3600.0) == 3600.0


def test_backoff_jitter_is_bounded_and_spread() -> None:
    """Jittered delays stay in [0, bound] and actually vary."""
    rng = random.Random(1)
    for attempt in (1, 3, 8, 20):
        bound = backoff_bound(attempt, 10.0, 600.0)
        samples = [backoff_delay(attempt, 10.0, 600.0, rng) for _ in range(500)]
        assert all(0.0 <= s <= bound for s in samples)
        assert max(samples) > 0.9 * bound
        assert min(samples) < 0.1 * bound


def test_run_forever_burst_runs_everything_due(
    database: Database, job_settings: Settings, clock: FrozenClock
) -> None:
    """Burst mode runs every due job, leaves future ones, and returns the count."""
    due = [_enqueue(database, clock, "noop", payload={"n": n}) for n in range(5)]
    later = _enqueue(database, clock, "noop", run_after=clock.now() + timedelta(days=1))
    worker = _worker(database, job_settings, clock, "w")
    assert worker.run_forever(threading.Event(), burst=True) == 5
    with database.session() as session:
        states = {row[0]: row[1] for row in session.execute(select(Job.id, Job.state))}
    assert {states[i] for i in due} == {JobState.DONE}
    assert states[later] is JobState.QUEUED


def test_run_forever_survives_database_errors(
    database: Database, job_settings: Settings, clock: FrozenClock
) -> None:
    """A database hiccup is logged and retried; the loop keeps going."""
    job_id = _enqueue(database, clock, "noop")
    worker = _worker(database, job_settings, clock, "w")
    real_claim = worker.claim
    calls = {"n": 0}

    def flaky_claim() -> Any:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise ConnectionError("database went away")
        return real_claim()

    worker.claim = flaky_claim  # type: ignore[method-assign]
    assert worker.run_forever(threading.Event(), burst=True) == 1
    assert _job(database, job_id).state is JobState.DONE


def test_run_forever_stops_on_event(
    database: Database, job_settings: Settings, clock: FrozenClock
) -> None:
    """A non-burst loop polls until its stop event is set."""
    worker = _worker(database, job_settings, clock, "w")
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop,))
    thread.start()
    _enqueue(database, clock, "noop")
    stop.set()
    thread.join(10)
    assert not thread.is_alive()


@pytest.mark.parametrize(("after", "expected"), [(70, 70.0), (5000, 80.0)])
def test_retry_after_hint_is_honoured_up_to_the_cap(
    database: Database, job_settings: Settings, clock: FrozenClock, after: int, expected: float
) -> None:
    """A RetryableJobError's retry_after_s sets the least delay, never beyond the cap."""
    job_id = _enqueue(database, clock, "test_rate_limited", payload={"after": after})
    _worker(database, job_settings, clock, "w").run_once()
    job = _job(database, job_id)
    assert job.state is JobState.QUEUED
    assert (job.run_after - clock.now()).total_seconds() == expected
