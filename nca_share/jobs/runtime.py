"""The embedded background runtime: one scheduler plus N worker threads in this process.

Used by ``nca-share up`` and the demo (web server + background work in one process on
SQLite). Nothing starts in the constructor; ``start()`` starts, ``stop()`` stops and joins.
"""

from __future__ import annotations

import logging
import threading

from nca_share.clock import Clock, SystemClock
from nca_share.config import Settings
from nca_share.db import Database
from nca_share.jobs.scheduler import DEFAULT_INTERVAL_S, Scheduler
from nca_share.jobs.worker import Worker, default_worker_id

logger = logging.getLogger(__name__)


class EmbeddedRuntime:
    """Scheduler + worker threads sharing one ``Database``.

    :param settings: ``settings.jobs.worker_threads`` is the default thread count.
    :param database: the process's database.
    :param threads: number of worker threads (0: scheduler only).
    :param scheduler: False to run workers only (another process schedules).
    :param clock: time source for scheduler and workers.
    :param tick_interval_s: seconds between scheduler ticks.
    """

    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        threads: int | None = None,
        scheduler: bool = True,
        clock: Clock | None = None,
        tick_interval_s: float = DEFAULT_INTERVAL_S,
    ) -> None:
        self.settings = settings
        self.database = database
        self.threads = settings.jobs.worker_threads if threads is None else max(0, threads)
        self.clock: Clock = clock or SystemClock()
        self.tick_interval_s = tick_interval_s
        self.scheduler: Scheduler | None = (
            Scheduler(database, settings, self.clock) if scheduler else None
        )
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads) or bool(
            self.scheduler and self.scheduler.running
        )

    def start(self) -> None:
        """Start the scheduler (background thread) and the worker threads."""
        if self.running:
            raise RuntimeError("runtime already started")
        self._stop.clear()
        self._threads = []
        base = default_worker_id()
        for n in range(self.threads):
            worker = Worker(
                self.database, self.settings, clock=self.clock, worker_id=f"{base}:{n + 1}"
            )
            thread = threading.Thread(
                target=self._run_worker,
                args=(worker,),
                name=f"nca-share-worker-{n + 1}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()
        if self.scheduler is not None:
            self.scheduler.start(interval_s=self.tick_interval_s)
        logger.info("embedded runtime started: %d worker threads", self.threads)

    def _run_worker(self, worker: Worker) -> None:
        try:
            worker.run_forever(self._stop)
        except Exception:  # run_forever handles its own errors; this is the last resort
            logger.exception("worker %s stopped unexpectedly", worker.worker_id)

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop ticking, let running jobs finish, join the threads.

        :param timeout: seconds to wait for each worker thread.
        :returns: True when every thread ended in time (a job still running keeps its lease,
            which expires, so nothing is lost either way).
        """
        self._stop.set()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
        for thread in self._threads:
            thread.join(timeout)
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            logger.warning("worker threads still running after %.0f s: %s", timeout, alive)
        return not alive
