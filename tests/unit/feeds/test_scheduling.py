"""Feed scheduling: one job per feed and slot, back-off after failures, reset on success."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from nca_share.clock import FrozenClock
from nca_share.config import Settings
from nca_share.db import Database
from nca_share.feeds.jobs import due_feed_jobs, slot_of
from nca_share.feeds.service import Collector, FeedInput, FeedService, backoff_seconds
from nca_share.jobs.models import Job
from nca_share.jobs.scheduler import Scheduler

START = datetime(2026, 3, 2, 10, 0, 5, tzinfo=UTC)


def _feed(database: Database, settings: Settings, url: str, interval: int = 3600) -> int:
    with database.session() as session:
        return (
            FeedService(session, settings)
            .add(FeedInput(name="f", type="stix-file", url=url, interval_s=interval))
            .id
        )


def _collect_jobs(database: Database) -> list[Job]:
    with database.session() as session:
        return list(session.scalars(select(Job).where(Job.kind == "collect_feed")))


def test_two_schedulers_at_once_enqueue_once_per_slot(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    """Two schedulers ticking concurrently within a slot create one job; the next slot one more."""
    feed_id = _feed(database, settings, str(tmp_path / "none.json"))
    clock = FrozenClock(START)
    schedulers = [Scheduler(Database(settings), settings, clock) for _ in range(2)]
    barrier = threading.Barrier(2)

    def tick(scheduler: Scheduler) -> None:
        barrier.wait()
        for _ in range(3):
            scheduler.tick()

    threads = [threading.Thread(target=tick, args=(s,)) for s in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    jobs = _collect_jobs(database)
    assert [j.payload for j in jobs] == [{"feed_id": feed_id}]
    clock.advance(timedelta(hours=1))
    for scheduler in schedulers:
        scheduler.tick()
    assert len(_collect_jobs(database)) == 2
    for scheduler in schedulers:
        scheduler.database.dispose()


def test_failures_back_off_and_success_resets(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    """A failing feed is not due until its back-off passes; the delay doubles up to the cap;
    a success clears it."""
    bundle = tmp_path / "b.json"
    _feed(database, settings, str(bundle), interval=60)
    clock = FrozenClock(START)
    collector = Collector(database, settings, clock)
    assert collector.run("f").status == "error"
    with database.session() as session:
        feed = FeedService(session, settings).get("f")
        assert feed.retry_after == START + timedelta(seconds=backoff_seconds(1))
        assert "No such file" in (feed.last_error or "")
    clock.advance(timedelta(seconds=61))  # next slot, back-off (60 s) over: due
    with database.session() as session:
        due = list(due_feed_jobs(session, clock.now()))
        assert len(due) == 1
        assert due[0].unique_key.endswith(slot_of(clock.now(), 60).strftime("%Y%m%dT%H%M%S"))
    collector.run("f")
    with database.session() as session:
        feed = FeedService(session, settings).get("f")
        assert feed.consecutive_failures == 2
        assert feed.retry_after == clock.now() + timedelta(seconds=backoff_seconds(2))
    clock.advance(timedelta(seconds=61))  # a new slot, but inside the 120 s back-off
    with database.session() as session:
        assert list(due_feed_jobs(session, clock.now())) == []
    clock.advance(timedelta(seconds=60))
    with database.session() as session:
        assert len(list(due_feed_jobs(session, clock.now()))) == 1
    bundle.write_text(
        '{"type": "bundle", "id": "bundle--6b0c8a64-0f67-4cc7-9c2e-1f5b8c1d2e3f", "objects": []}'
    )
    clock.advance(timedelta(hours=1))
    assert collector.run("f").status == "ok"
    with database.session() as session:
        feed = FeedService(session, settings).get("f")
        assert (feed.consecutive_failures, feed.retry_after) == (0, None)
        assert feed.last_success_at == clock.now()


def test_backoff_is_capped() -> None:
    """The back-off doubles from 60 s and stops at 6 hours."""
    assert [backoff_seconds(n) for n in (0, 1, 2, 3)] == [0, 60, 120, 240]
    assert backoff_seconds(50) == 6 * 3600


def test_scheduled_job_runs_through_the_worker(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    """The scheduler enqueues collect_feed, a worker runs it, the feed is collected once."""
    from nca_share.jobs.worker import Worker

    bundle = tmp_path / "b.json"
    bundle.write_text(
        '{"type": "bundle", "id": "bundle--6b0c8a64-0f67-4cc7-9c2e-1f5b8c1d2e3f", "objects": ['
        '{"type": "malware", "spec_version": "2.1", "id": '
        '"malware--6b0c8a64-0f67-4cc7-9c2e-1f5b8c1d2e30", "created": "2025-01-01T00:00:00Z",'
        ' "modified": "2025-01-01T00:00:00Z", "name": "x", "is_family": true}]}'
    )
    _feed(database, settings, str(bundle))
    clock = FrozenClock(datetime.now(UTC))
    Scheduler(database, settings, clock).tick()
    worker = Worker(database, settings, clock=clock)
    runs = 0
    while worker.run_once():  # the periodic maintenance job is due too
        runs += 1
    assert runs >= 1
    job = _collect_jobs(database)[0]
    assert job.state == "done", job.last_error
    assert job.result is not None
    assert job.result["added"] == 1
    with database.session() as session:
        feed = FeedService(session, settings).get("f")
        assert feed.last_success_at == clock.now()
    assert Scheduler(database, settings, clock).tick() == []
