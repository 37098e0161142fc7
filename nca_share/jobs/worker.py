"""The worker loop: claim a due job with a lease, run its handler, record the outcome.

Claiming (one job per transaction):

* PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED LIMIT 1`` then ``UPDATE`` in the same
  transaction, so any number of worker processes on any machines claim disjoint jobs.
* SQLite: ``BEGIN IMMEDIATE`` takes the single write lock first, then the same SELECT and
  UPDATE; concurrent claimers queue on the lock (``busy_timeout``) instead of racing.

A job is due when it is queued with ``run_after <= now``, or running with an expired lease
(its worker died or hung): a killed worker loses nothing. Every claim increments ``attempts``;
an expired job that has used up its attempts is dead-lettered instead of run again.

Outcomes: success → ``done`` with ``result`` and ``finished_at``; ``ValidationError`` (a payload
that can never work) → ``dead`` at once; any other exception (``RetryableJobError`` included)
→ ``queued`` again with ``run_after = now + backoff`` (exponential from
``settings.jobs.backoff_base_s``, capped at ``backoff_cap_s``, full jitter; at least a
``RetryableJobError``'s ``details["retry_after_s"]``, up to the cap) until
``max_attempts`` (the job's or the settings'), then ``dead``. ``last_error`` keeps a short,
redacted ``Type: message``.

Idempotence: every outcome (and every lease renewal) is written with ``WHERE locked_by = me AND
attempts = my attempt AND state = 'running'``; a worker whose lease expired and whose job was
claimed again by another worker finalises nothing. Handlers themselves must be idempotent:
delivery is at least once.

Lease renewal: while a handler runs, a small heartbeat thread renews the lease every third of
``settings.jobs.lease_seconds``; handlers may also call ``ctx.heartbeat()`` (False once the
lease is lost, so a long handler can stop early).
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import socket
import threading
import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, select, text, update
from sqlalchemy.engine import Connection

from nca_share.clock import Clock, SystemClock
from nca_share.config import Settings
from nca_share.db import Database
from nca_share.errors import JobError, RetryableJobError, ValidationError
from nca_share.jobs.models import Job, JobState
from nca_share.jobs.registry import JobContext, resolve_handler
from nca_share.jobs.service import begin_immediate

logger = logging.getLogger(__name__)

_JOBS: Table = Job.__table__  # type: ignore[assignment]
_ERROR_MAX = 500
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@]+@")
_SECRET_PARAM = re.compile(
    r"(?i)\b(password|passwd|pwd|token|secret|api[_-]?key|authorization)(\s*[=:]\s*)\S+"
)


def backoff_bound(attempt: int, base_s: float, cap_s: float) -> float:
    """Upper bound in seconds of the delay after failed attempt number ``attempt`` (1-based):
    ``base_s * 2**(attempt-1)``, never more than ``cap_s``."""
    exponent = min(max(attempt - 1, 0), 60)
    return float(min(cap_s, base_s * 2.0**exponent))


def backoff_delay(attempt: int, base_s: float, cap_s: float, rng: random.Random) -> float:
    """The retry delay after failed attempt ``attempt``: full jitter, uniform in
    ``[0, backoff_bound(attempt)]`` (spreads retries of jobs that failed together)."""
    return rng.uniform(0.0, backoff_bound(attempt, base_s, cap_s))


def describe_error(exc: BaseException) -> str:
    """``Type: message`` on one line, at most 500 characters, with URL credentials and
    ``password=…``-style values blanked out (last_error is shown to operators)."""
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    message = _URL_USERINFO.sub(r"\1***@", message)
    message = _SECRET_PARAM.sub(r"\1\2***", message)
    message = " ".join(message.split())
    return message if len(message) <= _ERROR_MAX else message[: _ERROR_MAX - 1] + "…"


def _retry_after(exc: Exception, cap_s: float) -> float:
    """A server's own wait hint (``RetryableJobError(details={"retry_after_s": …})``, e.g.
    from HTTP 429/503 ``Retry-After``), honoured up to the back-off cap."""
    if not isinstance(exc, RetryableJobError):
        return 0.0
    hint = exc.details.get("retry_after_s")
    if isinstance(hint, bool) or not isinstance(hint, int | float) or hint != hint:
        return 0.0
    return float(min(max(hint, 0.0), cap_s))


def _begin_bookkeeping(conn: Connection) -> None:
    """Start a claim/outcome transaction: ``BEGIN IMMEDIATE`` on SQLite; on PostgreSQL
    ``synchronous_commit = off`` for this transaction only. Losing such a commit in a server
    crash merely makes a job run again (delivery is at least once anyway), and it saves the
    WAL flush wait that otherwise dominates a short job's cost."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL synchronous_commit TO OFF"))
    else:
        begin_immediate(conn)


def default_worker_id() -> str:
    """``host:pid:random`` — unique per Worker object, readable in ``jobs list``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class ClaimedJob:
    """A job this worker holds the lease of."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    lease_until: datetime


class _JobLogAdapter(logging.LoggerAdapter[logging.Logger]):
    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        extra = self.extra or {}
        return f"[job {extra.get('job_id')} {extra.get('kind')}] {msg}", kwargs


class _Heartbeat:
    """Renews a job's lease from a background thread while its handler runs."""

    def __init__(self, ctx: JobContext, interval_s: float) -> None:
        self._ctx = ctx
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"nca-share-heartbeat-{ctx.job_id}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                if not self._ctx.heartbeat():
                    self._ctx.logger.warning("lease lost to another worker")
                    return
            except Exception:
                self._ctx.logger.warning("lease renewal failed; retrying", exc_info=True)


class Worker:
    """Claims and runs due jobs; one per thread (it holds no connection between jobs).

    :param database: where the ``jobs`` table lives.
    :param settings: ``settings.jobs`` gives lease, back-off, attempts and poll interval.
    :param clock: time source for due checks, leases and back-off (tests freeze it).
    :param worker_id: recorded in ``locked_by``; unique per worker by default.
    :param rng: randomness for the back-off jitter.
    :param heartbeat_interval_s: lease renewal period; a third of the lease by default.
    """

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        clock: Clock | None = None,
        worker_id: str | None = None,
        rng: random.Random | None = None,
        heartbeat_interval_s: float | None = None,
    ) -> None:
        self.database = database
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.worker_id = worker_id or default_worker_id()
        self._rng = rng or random.Random()
        self._lease = timedelta(seconds=settings.jobs.lease_seconds)
        self._heartbeat_s = (
            heartbeat_interval_s
            if heartbeat_interval_s is not None
            else max(settings.jobs.lease_seconds / 3.0, 0.1)
        )

    # -- claiming ------------------------------------------------------------------------

    def claim(self) -> ClaimedJob | None:
        """Claim one due job (oldest ``run_after`` first) and take its lease.

        :returns: the claimed job, or None when nothing is due.
        """
        default_max = self.settings.jobs.max_attempts
        with self.database.engine.connect() as conn:
            _begin_bookkeeping(conn)
            now = self.clock.now()
            while True:
                row = conn.execute(self._due_query(conn, now, expired=True)).first()
                if row is None:
                    row = conn.execute(self._due_query(conn, now, expired=False)).first()
                if row is None:
                    conn.commit()
                    return None
                max_attempts = row.max_attempts or default_max
                expired = row.state == JobState.RUNNING
                if row.attempts >= max_attempts:
                    self._dead_on_claim(conn, row.id, now, row.attempts, max_attempts, expired)
                    continue
                values: dict[str, Any] = {
                    "state": JobState.RUNNING,
                    "attempts": row.attempts + 1,
                    "lease_until": now + self._lease,
                    "locked_by": self.worker_id,
                    "updated_at": now,
                }
                if expired:
                    values["last_error"] = (
                        f"lease of {row.locked_by} expired on attempt {row.attempts}"
                    )
                    logger.warning(
                        "job %d (%s): lease of %s expired; claiming it again",
                        row.id,
                        row.kind,
                        row.locked_by,
                    )
                conn.execute(update(_JOBS).where(_JOBS.c.id == row.id).values(**values))
                conn.commit()
                return ClaimedJob(
                    id=row.id,
                    kind=row.kind,
                    payload=dict(row.payload or {}),
                    attempt=row.attempts + 1,
                    max_attempts=max_attempts,
                    lease_until=values["lease_until"],
                )

    def _due_query(self, conn: Connection, now: datetime, *, expired: bool) -> Any:
        """Expired leases first (few rows), then queued jobs by ``run_after``: two simple
        range scans on ``ix_jobs_due (state, run_after)`` instead of one OR the planner
        cannot walk in order."""
        c = _JOBS.c
        if expired:
            where = and_(c.state == JobState.RUNNING, c.lease_until < now)
        else:
            where = and_(c.state == JobState.QUEUED, c.run_after <= now)
        stmt = (
            select(c.id, c.kind, c.payload, c.state, c.attempts, c.max_attempts, c.locked_by)
            .where(where)
            .order_by(c.run_after, c.id)
            .limit(1)
        )
        if conn.dialect.name != "sqlite":
            stmt = stmt.with_for_update(skip_locked=True)
        return stmt

    def _dead_on_claim(
        self,
        conn: Connection,
        job_id: int,
        now: datetime,
        attempts: int,
        max_attempts: int,
        expired: bool,
    ) -> None:
        reason = (
            f"lease expired on attempt {attempts} of {max_attempts}: the worker running it stopped"
            if expired
            else f"{attempts} of {max_attempts} attempts used"
        )
        conn.execute(
            update(_JOBS)
            .where(_JOBS.c.id == job_id)
            .values(
                state=JobState.DEAD,
                lease_until=None,
                locked_by=None,
                finished_at=now,
                updated_at=now,
                last_error=reason,
            )
        )
        logger.error("job %d dead-lettered: %s", job_id, reason)

    # -- running -------------------------------------------------------------------------

    def run_once(self) -> bool:
        """Claim one due job and run it to an outcome.

        :returns: True when a job was run, False when nothing was due.
        """
        job = self.claim()
        if job is None:
            return False
        self.execute(job)
        return True

    def execute(self, job: ClaimedJob) -> JobState | None:
        """Run a claimed job's handler and record the outcome.

        :returns: the job's new state, or None when the lease was lost meanwhile (another
            worker owns the job now, so this worker recorded nothing).
        """
        log = _JobLogAdapter(
            logging.getLogger("nca_share.jobs.run"), {"job_id": job.id, "kind": job.kind}
        )
        ctx = JobContext(
            settings=self.settings,
            database=self.database,
            clock=self.clock,
            job_id=job.id,
            kind=job.kind,
            attempt=job.attempt,
            max_attempts=job.max_attempts,
            logger=log,
            worker_id=self.worker_id,
            _heartbeat=lambda: self.renew(job),
        )
        heartbeat = _Heartbeat(ctx, self._heartbeat_s)
        heartbeat.start()
        failure: Exception | None = None
        result: dict[str, Any] | None = None
        try:
            try:
                handler = resolve_handler(job.kind)
            except ValidationError as exc:
                # an older worker may not know a new kind yet: retry, do not dead-letter
                raise JobError(str(exc)) from exc
            log.debug("attempt %d of %d", job.attempt, job.max_attempts)
            result = handler(ctx, job.payload)
            if result is not None and not isinstance(result, dict):
                raise ValidationError(
                    f"handler returned {type(result).__name__}, not a dict or None",
                    location="result",
                )
            try:
                json.dumps(result, allow_nan=False)
            except (TypeError, ValueError) as exc:
                raise ValidationError(f"result is not JSON: {exc}", location="result") from exc
        except Exception as exc:
            failure = exc
        except BaseException:
            heartbeat.stop()
            self._release(job)
            raise
        heartbeat.stop()
        if failure is None:
            return self._succeed(job, result, log)
        return self._fail(job, failure, log)

    def renew(self, job: ClaimedJob) -> bool:
        """Extend the lease of ``job``; False when this worker no longer holds it."""
        now = self.clock.now()
        return self._finish(job, {"lease_until": now + self._lease, "updated_at": now})

    def _finish(self, job: ClaimedJob, values: dict[str, Any]) -> bool:
        c = _JOBS.c
        with self.database.engine.begin() as conn:
            _begin_bookkeeping(conn)
            result = conn.execute(
                update(_JOBS)
                .where(
                    c.id == job.id,
                    c.state == JobState.RUNNING,
                    c.locked_by == self.worker_id,
                    c.attempts == job.attempt,
                )
                .values(**values)
            )
            return bool(result.rowcount)

    def _succeed(
        self, job: ClaimedJob, result: dict[str, Any] | None, log: logging.LoggerAdapter[Any]
    ) -> JobState | None:
        now = self.clock.now()
        values = {
            "state": JobState.DONE,
            "result": result,
            "finished_at": now,
            "lease_until": None,
            "locked_by": None,
            "updated_at": now,
        }
        if not self._finish(job, values):
            log.warning("finished, but its lease was lost to another worker: result dropped")
            return None
        log.info("done (attempt %d)", job.attempt)
        return JobState.DONE

    def _fail(
        self, job: ClaimedJob, exc: Exception, log: logging.LoggerAdapter[Any]
    ) -> JobState | None:
        now = self.clock.now()
        error = describe_error(exc)
        permanent = isinstance(exc, ValidationError)
        if permanent or job.attempt >= job.max_attempts:
            state = JobState.DEAD
            values: dict[str, Any] = {"state": state, "finished_at": now}
            log.error(
                "dead-lettered after attempt %d of %d: %s", job.attempt, job.max_attempts, error
            )
        else:
            state = JobState.QUEUED
            cfg = self.settings.jobs
            delay = backoff_delay(job.attempt, cfg.backoff_base_s, cfg.backoff_cap_s, self._rng)
            delay = max(delay, _retry_after(exc, cfg.backoff_cap_s))
            values = {"state": state, "run_after": now + timedelta(seconds=delay)}
            log.warning(
                "attempt %d of %d failed, retrying in %.1f s: %s",
                job.attempt,
                job.max_attempts,
                delay,
                error,
                exc_info=not isinstance(exc, JobError),
            )
        values.update(last_error=error, lease_until=None, locked_by=None, updated_at=now)
        if not self._finish(job, values):
            log.warning("failed, but its lease was lost to another worker: outcome dropped")
            return None
        return state

    def _release(self, job: ClaimedJob) -> None:
        """Give a job back at once when the worker itself is interrupted (Ctrl-C, exit)."""
        now = self.clock.now()
        try:
            self._finish(
                job,
                {
                    "state": JobState.QUEUED,
                    "run_after": now,
                    "lease_until": None,
                    "locked_by": None,
                    "updated_at": now,
                },
            )
        except Exception:
            logger.warning("job %d: could not release it; its lease will expire", job.id)

    # -- the loop --------------------------------------------------------------------------

    def run_forever(self, stop: threading.Event, *, burst: bool = False) -> int:
        """Run due jobs until ``stop`` is set, polling every ``settings.jobs.poll_interval_s``.

        Database errors are logged and retried with a growing pause (at most 30 s); handler
        errors never reach this loop.

        :param stop: set it (from a signal handler or another thread) to end the loop.
        :param burst: return as soon as nothing is due (or after 5 database errors in a row).
        :returns: the number of jobs run.
        """
        poll = self.settings.jobs.poll_interval_s
        ran = 0
        errors = 0
        while not stop.is_set():
            try:
                did_run = self.run_once()
            except Exception:
                errors += 1
                logger.exception("worker %s: database error (%d in a row)", self.worker_id, errors)
                if burst and errors >= 5:
                    break
                stop.wait(min(poll * 2.0**errors, 30.0))
                continue
            errors = 0
            if did_run:
                ran += 1
                continue
            if burst:
                break
            stop.wait(poll)
        return ran
