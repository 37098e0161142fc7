"""The scheduler: decides WHEN periodic work is due and only enqueues it (never runs it).

``Scheduler.tick(now)`` is the whole logic and is called directly by tests:

1. every :class:`~nca_share.jobs.registry.PeriodicJob` in ``registry.PERIODIC`` is enqueued
   once per time slot, with unique key ``f"{id}:{slot_start.isoformat()}"``; slots are aligned
   to the Unix epoch in UTC, so every scheduler (and every tick within a slot) computes the same
   key. A scheduler that was down for several slots enqueues only the current one (no catch-up
   storm);
2. every schedule provider in ``registry.SCHEDULE_PROVIDERS`` is called with
   ``(session, now)`` and what it yields is enqueued with the provider's unique keys.

Because duplicates die on the ``jobs.unique_key`` constraint (``ON CONFLICT DO NOTHING``), two
schedulers running at once enqueue each slot exactly once. Each provider runs in its own
transaction, so a failing provider neither stops the others nor the periodic jobs.

``start()`` runs ``tick`` every ``interval_s`` seconds through APScheduler 3 (pinned ``<4``):
a ``BackgroundScheduler`` when embedded (``EmbeddedRuntime``), a ``BlockingScheduler`` for
``nca-share scheduler``. APScheduler holds one job with an explicit id and
``replace_existing=True``; it keeps no state of its own (memory job store): the database is
the only truth.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from nca_share.clock import Clock, SystemClock
from nca_share.config import Settings
from nca_share.db import Database
from nca_share.errors import ValidationError
from nca_share.jobs import registry
from nca_share.jobs.registry import PeriodicJob
from nca_share.jobs.service import JobService, begin_immediate

logger = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TICK_JOB_ID = "nca_share.jobs.scheduler.tick"
DEFAULT_INTERVAL_S = 30.0


def slot_start(now: datetime, every: timedelta) -> datetime:
    """Start of the time slot of length ``every`` that contains ``now`` (epoch-aligned, UTC).

    :raises ValueError: ``every`` is not positive or ``now`` is naive.
    """
    if every <= timedelta(0):
        raise ValueError("a slot length must be positive")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return EPOCH + ((now - EPOCH) // every) * every


def periodic_key(job: PeriodicJob, now: datetime) -> str:
    """The unique key of ``job``'s slot containing ``now``."""
    return f"{job.id}:{slot_start(now, job.every).isoformat()}"


class Scheduler:
    """Enqueues periodic and provider-scheduled jobs; runs no job itself.

    :param database: where jobs are enqueued (and providers read their schedules).
    :param settings: the process settings.
    :param clock: time source for ``tick()`` without an explicit ``now``.
    """

    def __init__(self, database: Database, settings: Settings, clock: Clock | None = None) -> None:
        self.database = database
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self._aps: BaseScheduler | None = None

    def tick(self, now: datetime | None = None) -> list[int]:
        """Enqueue everything due at ``now`` (default: the clock's now).

        Errors are logged, never raised: one bad provider must not stop the rest.

        :returns: ids of the jobs this call created (keys that already existed are skipped).
        """
        now = now or self.clock.now()
        created: list[int] = []
        try:
            with self.database.session() as session:
                begin_immediate(session)
                service = JobService(session, self.clock)
                batch: list[int] = []
                for periodic in registry.PERIODIC:
                    try:
                        job_id = service.enqueue(
                            periodic.kind,
                            dict(periodic.payload),
                            unique_key=periodic_key(periodic, now),
                            run_after=now,
                        )
                    except ValidationError:
                        logger.exception("periodic job %r is misconfigured", periodic.id)
                        continue
                    if job_id is not None:
                        batch.append(job_id)
            created.extend(batch)
        except Exception:
            logger.exception("enqueueing periodic jobs failed")
        for name in list(registry.SCHEDULE_PROVIDERS):
            try:
                provider = registry.resolve_provider(name)
                with self.database.session() as session:
                    begin_immediate(session)
                    service = JobService(session, self.clock)
                    batch = []
                    for scheduled in provider(session, now):
                        job_id = service.enqueue(
                            scheduled.kind,
                            dict(scheduled.payload),
                            unique_key=scheduled.unique_key,
                            run_after=scheduled.run_after or now,
                        )
                        if job_id is not None:
                            batch.append(job_id)
                created.extend(batch)
            except Exception:
                logger.exception("schedule provider %r failed", name)
        if created:
            logger.info("scheduler tick at %s enqueued %d jobs", now.isoformat(), len(created))
        return created

    def start(self, *, blocking: bool = False, interval_s: float = DEFAULT_INTERVAL_S) -> None:
        """Run ``tick`` now and then every ``interval_s`` seconds.

        :param blocking: use a ``BlockingScheduler`` (returns only after ``shutdown()`` from a
            signal handler or another thread); otherwise a ``BackgroundScheduler`` thread.
        :param interval_s: seconds between ticks (well below the shortest periodic slot).
        """
        if self._aps is not None and self._aps.running:
            raise RuntimeError("scheduler already started")
        aps: BaseScheduler = (
            BlockingScheduler(timezone=UTC) if blocking else BackgroundScheduler(timezone=UTC)
        )
        aps.add_job(
            self.tick,
            "interval",
            seconds=interval_s,
            id=TICK_JOB_ID,
            name="enqueue due jobs",
            replace_existing=True,
            next_run_time=datetime.now(UTC),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(interval_s)),
        )
        self._aps = aps
        logger.info("scheduler started: tick every %.0f s", interval_s)
        aps.start()

    @property
    def running(self) -> bool:
        return self._aps is not None and self._aps.running

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop ticking (a running tick finishes first when ``wait``)."""
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=wait)
            logger.info("scheduler stopped")
