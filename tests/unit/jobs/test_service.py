"""JobService: idempotent enqueueing in the caller's transaction, operator helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from nca_share.clock import FrozenClock
from nca_share.db import Database
from nca_share.errors import Conflict, NotFound, ValidationError
from nca_share.jobs.models import Job, JobState
from nca_share.jobs.service import JobService


def _count(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(Job)) or 0


def test_enqueue_twice_with_same_unique_key_exists_once(
    database: Database, clock: FrozenClock
) -> None:
    """A job enqueued twice with the same unique key exists once; the second call returns None."""
    with database.session() as session:
        first = JobService(session, clock).enqueue("noop", {"n": 1}, unique_key="feed-7:slot-1")
    with database.session() as session:
        second = JobService(session, clock).enqueue("noop", {"n": 2}, unique_key="feed-7:slot-1")
        same_tx = JobService(session, clock).enqueue("noop", {"n": 3}, unique_key="feed-7:slot-1")
    assert isinstance(first, int)
    assert second is None
    assert same_tx is None
    with database.session() as session:
        jobs = session.scalars(select(Job)).all()
    assert [(j.id, j.payload, j.unique_key) for j in jobs] == [(first, {"n": 1}, "feed-7:slot-1")]


def test_jobs_without_unique_key_are_all_kept(database: Database, clock: FrozenClock) -> None:
    """Without a unique key every enqueue adds a row."""
    with database.session() as session:
        ids = [JobService(session, clock).enqueue("noop", {}) for _ in range(3)]
    assert len(set(ids)) == 3
    assert None not in ids
    assert _count(database) == 3


def test_enqueue_joins_the_callers_transaction(database: Database, clock: FrozenClock) -> None:
    """A rolled-back transaction takes its job with it; nothing is committed by enqueue."""
    with database.sessionmaker() as session:
        JobService(session, clock).enqueue("noop", {}, unique_key="k")
        session.rollback()
    assert _count(database) == 0
    with database.sessionmaker() as session:
        JobService(session, clock).enqueue("noop", {}, unique_key="k")
        assert _count(database) == 0  # not visible to others before the caller commits
        session.commit()
    assert _count(database) == 1


def test_enqueue_defaults(database: Database, clock: FrozenClock) -> None:
    """A new job is queued, due now by the injected clock, with no attempts."""
    with database.session() as session:
        job_id = JobService(session, clock).enqueue("noop", {"a": [1, "b"]}, max_attempts=3)
        assert job_id is not None
    with database.session() as session:
        job = JobService(session).get(job_id)
    assert job.state is JobState.QUEUED
    assert job.run_after == clock.now()
    assert job.created_at == clock.now()
    assert (job.attempts, job.max_attempts, job.payload) == (0, 3, {"a": [1, "b"]})


@pytest.mark.parametrize(
    ("kind", "payload", "kwargs", "location"),
    [
        ("no_such_kind", {}, {}, "kind"),
        ("noop", ["not", "an", "object"], {}, "payload"),
        ("noop", {"when": datetime(2026, 1, 1, tzinfo=UTC)}, {}, "payload"),
        ("noop", {"x": float("nan")}, {}, "payload"),
        ("noop", {}, {"unique_key": ""}, "unique_key"),
        ("noop", {}, {"unique_key": "k" * 301}, "unique_key"),
        ("noop", {}, {"run_after": datetime(2026, 1, 1)}, "run_after"),  # noqa: DTZ001
        ("noop", {}, {"max_attempts": 0}, "max_attempts"),
    ],
)
def test_enqueue_rejects_bad_input(
    database: Database, kind: str, payload: object, kwargs: dict[str, object], location: str
) -> None:
    """Unknown kinds and malformed payloads, keys, times and attempts raise ValidationError."""
    with database.session() as session, pytest.raises(ValidationError) as info:
        JobService(session).enqueue(kind, payload, **kwargs)  # type: ignore[arg-type]
    assert info.value.location == location
    assert _count(database) == 0


def test_list_filters_and_pages(database: Database, clock: FrozenClock) -> None:
    """list_jobs filters by state and kind, newest first, paging on with before_id."""
    with database.session() as session:
        service = JobService(session, clock)
        ids = [service.enqueue("noop" if n % 2 else "purge_finished_jobs", {}) for n in range(5)]
        service.cancel(ids[1] or 0)
    with database.session() as session:
        service = JobService(session, clock)
        assert [j.id for j in service.list_jobs()] == list(reversed(ids))
        assert [j.id for j in service.list_jobs(kind="noop")] == [ids[3], ids[1]]
        assert [j.id for j in service.list_jobs(state="dead")] == [ids[1]]
        assert [j.id for j in service.list_jobs(limit=2)] == [ids[4], ids[3]]
        assert [j.id for j in service.list_jobs(before_id=ids[3], limit=2)] == [ids[2], ids[1]]
        assert service.counts() == {"queued": 4, "running": 0, "done": 0, "dead": 1}


def test_retry_and_cancel(database: Database, clock: FrozenClock) -> None:
    """Cancel dead-letters a queued job; retry queues it again, due now, attempts reset."""
    with database.session() as session:
        job_id = JobService(session, clock).enqueue(
            "noop", {}, run_after=clock.now() + timedelta(hours=1)
        )
        assert job_id is not None
    with database.session() as session:
        job = JobService(session, clock).cancel(job_id)
        assert (job.state, job.last_error) == (JobState.DEAD, "cancelled by an operator")
        job.attempts = 5
    clock.advance(timedelta(minutes=1))
    with database.session() as session:
        job = JobService(session, clock).retry(job_id)
    with database.session() as session:
        job = JobService(session).get(job_id)
    assert (job.state, job.attempts, job.run_after, job.finished_at) == (
        JobState.QUEUED,
        0,
        clock.now(),
        None,
    )
    with database.session() as session:
        job = session.get_one(Job, job_id)
        job.state = JobState.RUNNING
    with database.session() as session, pytest.raises(Conflict):
        JobService(session, clock).retry(job_id)
    with database.session() as session, pytest.raises(Conflict):
        JobService(session, clock).cancel(job_id)
    with database.session() as session, pytest.raises(NotFound):
        JobService(session, clock).retry(job_id + 100)


def test_purge_deletes_only_old_done_jobs(database: Database, clock: FrozenClock) -> None:
    """Only done jobs finished before the cutoff go; dead and recent ones stay."""
    with database.session() as session:
        service = JobService(session, clock)
        old_done, new_done, old_dead = (service.enqueue("noop", {}) for _ in range(3))
    with database.session() as session:
        for job_id, state, age in (
            (old_done, JobState.DONE, 40),
            (new_done, JobState.DONE, 5),
            (old_dead, JobState.DEAD, 40),
        ):
            job = session.get_one(Job, job_id)
            job.state = state
            job.finished_at = clock.now() - timedelta(days=age)
    with database.session() as session:
        assert JobService(session, clock).purge_finished(timedelta(days=30)) == 1
    with database.session() as session:
        remaining = set(session.scalars(select(Job.id)))
    assert remaining == {new_done, old_dead}


def test_has_pending_sees_only_queued_and_running_keys(
    database: Database, clock: FrozenClock
) -> None:
    """has_pending matches key prefixes exactly, ignoring done and dead jobs."""
    with database.session() as session:
        service = JobService(session, clock)
        queued = service.enqueue("noop", {}, unique_key="collect_feed:7:2026-11-28T12:00")
        done = service.enqueue("noop", {}, unique_key="collect_feed:8:2026-11-28T12:00")
        service.enqueue("noop", {}, unique_key="collect_feed:9%:x")
    with database.session() as session:
        session.get_one(Job, done).state = JobState.DONE
    with database.session() as session:
        service = JobService(session, clock)
        assert service.has_pending("collect_feed:7:")
        assert not service.has_pending("collect_feed:8:")
        assert not service.has_pending("COLLECT_FEED:7:")
        assert not service.has_pending("collect_feed:70:")
        assert not service.has_pending("collect_feed:9_:")
        assert service.has_pending("collect_feed:9%:")
        session.get_one(Job, queued).state = JobState.RUNNING
        session.flush()
        assert service.has_pending("collect_feed:7:")
        with pytest.raises(ValidationError):
            service.has_pending("")
