"""Scheduler: periodic slots, schedule providers, concurrent schedulers, APScheduler wiring."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from nca_share.clock import FrozenClock
from nca_share.config import Settings
from nca_share.db import Database
from nca_share.jobs import registry
from nca_share.jobs.models import Job
from nca_share.jobs.registry import PeriodicJob
from nca_share.jobs.scheduler import TICK_JOB_ID, Scheduler, periodic_key, slot_start

EVERY_5M = PeriodicJob("test-every-5m", "noop", timedelta(minutes=5), {"p": 1})
PROVIDER = "tests.unit.jobs.handlers:due_test_jobs"


@pytest.fixture
def periodic(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the test periodic job and the test provider are registered."""
    monkeypatch.setattr(registry, "PERIODIC", [EVERY_5M])
    monkeypatch.setattr(registry, "SCHEDULE_PROVIDERS", {"test": PROVIDER})


def _keys(database: Database) -> list[str]:
    with database.session() as session:
        return sorted(k or "" for k in session.scalars(select(Job.unique_key)))


def test_slot_start_is_epoch_aligned() -> None:
    """Slots start at multiples of their length since the epoch, in UTC."""
    now = datetime(2026, 11, 28, 12, 7, 31, 5, tzinfo=UTC)
    assert slot_start(now, timedelta(minutes=5)) == datetime(2026, 11, 28, 12, 5, tzinfo=UTC)
    assert slot_start(now, timedelta(days=1)) == datetime(2026, 11, 28, tzinfo=UTC)
    slot = datetime(2026, 11, 28, 12, 5, tzinfo=UTC)
    assert slot_start(slot, timedelta(minutes=5)) == slot
    assert periodic_key(EVERY_5M, now) == "test-every-5m:2026-11-28T12:05:00+00:00"
    with pytest.raises(ValueError, match="positive"):
        slot_start(now, timedelta(0))


@pytest.mark.usefixtures("periodic")
def test_tick_enqueues_each_slot_once(
    database: Database, settings: Settings, clock: FrozenClock
) -> None:
    """Ticks within one slot add nothing new; the next slot adds the next jobs."""
    scheduler = Scheduler(database, settings, clock)
    first = scheduler.tick()
    assert len(first) == 4  # one periodic + three provider jobs
    clock.advance(timedelta(minutes=2))
    assert scheduler.tick() == []
    clock.advance(timedelta(minutes=4))  # 12:06:07: a new 5-minute slot, same 15-minute slot
    assert len(scheduler.tick()) == 1
    assert _keys(database) == sorted(
        [
            "test-every-5m:2026-11-28T12:00:00+00:00",
            "test-every-5m:2026-11-28T12:05:00+00:00",
            "test-feed-1:2026-11-28T12:00:00+00:00",
            "test-feed-2:2026-11-28T12:00:00+00:00",
            "test-feed-3:2026-11-28T12:00:00+00:00",
        ]
    )
    with database.session() as session:
        job = session.get_one(Job, first[0])
    assert (job.kind, job.payload, job.run_after) == (
        "noop",
        {"p": 1},
        datetime(2026, 11, 28, 12, 0, 7, tzinfo=UTC),
    )


@pytest.mark.usefixtures("periodic")
def test_two_schedulers_at_once_enqueue_each_slot_once(
    database: Database, settings: Settings
) -> None:
    """Two schedulers ticking concurrently over many slots enqueue every slot exactly once."""
    rounds = 12
    start = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    barrier = threading.Barrier(2)
    created: list[list[int]] = [[], []]
    errors: list[BaseException] = []

    def run(n: int) -> None:
        clock = FrozenClock(start)
        scheduler = Scheduler(database, settings, clock)
        try:
            for r in range(rounds):
                clock.set(start + r * timedelta(minutes=5))
                barrier.wait(timeout=30)
                created[n].extend(scheduler.tick())
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    keys = _keys(database)
    assert len(keys) == len(set(keys)) == rounds + 3 * (rounds // 3)
    with database.session() as session:
        ids = set(session.scalars(select(Job.id)))
    both = created[0] + created[1]
    assert sorted(both) == sorted(ids)  # every row created by exactly one scheduler


def test_failing_provider_stops_nothing_else(
    database: Database,
    settings: Settings,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A provider that raises (or cannot be imported) loses only its own jobs."""
    monkeypatch.setattr(registry, "PERIODIC", [EVERY_5M])
    monkeypatch.setattr(
        registry,
        "SCHEDULE_PROVIDERS",
        {
            "broken": "tests.unit.jobs.handlers:broken_provider",
            "missing": "tests.unit.jobs.no_such_module:provider",
            "test": PROVIDER,
        },
    )
    assert len(Scheduler(database, settings, clock).tick()) == 4
    assert not any(k.startswith("broken:") for k in _keys(database))


def test_default_periodic_jobs_are_valid(
    database: Database, settings: Settings, clock: FrozenClock
) -> None:
    """Every shipped periodic job names a registered kind and is enqueued by a tick."""
    assert registry.PERIODIC
    for periodic in registry.PERIODIC:
        assert periodic.kind in registry.HANDLERS
        assert periodic.every > timedelta(0)
    ids = Scheduler(database, settings, clock).tick()
    assert len(ids) >= len(registry.PERIODIC)


@pytest.mark.usefixtures("periodic")
def test_start_runs_tick_in_apscheduler(database: Database, settings: Settings) -> None:
    """start() registers one tick job with a fixed id and runs it at once; shutdown stops it."""
    scheduler = Scheduler(database, settings)
    scheduler.start(interval_s=3600)
    try:
        assert scheduler._aps is not None
        assert [j.id for j in scheduler._aps.get_jobs()] == [TICK_JOB_ID]
        deadline = time.monotonic() + 10
        while len(_keys(database)) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        scheduler.shutdown()
    assert not scheduler.running
    assert len(_keys(database)) == 4
