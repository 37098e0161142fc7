"""Enqueueing jobs and the operator's view of the ``jobs`` table (list, get, retry, cancel).

``JobService.enqueue`` writes into the caller's session and never commits, so a job is stored
in the same transaction as the change that causes it ("nothing published but not queued").
Claiming and finishing jobs is the worker's business (``nca_share.jobs.worker``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from nca_share.clock import Clock, SystemClock
from nca_share.errors import Conflict, NotFound, ValidationError
from nca_share.jobs.models import Job, JobState
from nca_share.jobs.registry import known_kinds

_KIND_MAX = 100
_UNIQUE_KEY_MAX = 300


def begin_immediate(bind: Session | Connection) -> None:
    """Start a write transaction at once on SQLite (``BEGIN IMMEDIATE``); no-op elsewhere.

    SQLite's default deferred transactions fail with "database is locked" when a transaction
    that has read tries to write after another writer committed; taking the write lock first
    makes read-then-write transactions wait their turn instead. Call it before any statement.
    """
    dialect = bind.get_bind().dialect if isinstance(bind, Session) else bind.dialect
    if dialect.name == "sqlite":
        bind.execute(text("BEGIN IMMEDIATE"))


def _check_payload(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise ValidationError("a job payload must be a JSON object", location="payload")
    try:
        json.dumps(payload, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"payload is not JSON-serialisable: {exc}", location="payload"
        ) from exc
    return payload


class JobService:
    """Jobs as seen by the code that creates them and by operators.

    :param session: the caller's session; this service never commits it.
    :param clock: the time source for ``run_after`` and timestamps.
    """

    def __init__(self, session: Session, clock: Clock | None = None) -> None:
        self.session = session
        self.clock: Clock = clock or SystemClock()

    # -- creating work -------------------------------------------------------------------

    def enqueue(
        self,
        kind: str,
        payload: dict[str, Any] | None = None,
        *,
        unique_key: str | None = None,
        run_after: datetime | None = None,
        max_attempts: int | None = None,
    ) -> int | None:
        """Add a job in the caller's transaction.

        :param kind: a kind registered in ``nca_share.jobs.registry.HANDLERS``.
        :param payload: JSON object given to the handler (keep it to ids, not data).
        :param unique_key: while a job with this key exists, enqueueing it again is a no-op.
        :param run_after: not before this time (timezone-aware); now by default.
        :param max_attempts: overrides ``settings.jobs.max_attempts`` for this job.
        :returns: the new job's id, or None when a job with ``unique_key`` already exists.
        :raises ValidationError: unknown kind, bad payload, key, time or attempt count.
        """
        if kind not in known_kinds():
            raise ValidationError(f"unknown job kind {kind!r}", location="kind")
        payload = _check_payload({} if payload is None else payload)
        if unique_key is not None and not 0 < len(unique_key) <= _UNIQUE_KEY_MAX:
            raise ValidationError(
                f"unique key must be 1 to {_UNIQUE_KEY_MAX} characters", location="unique_key"
            )
        if run_after is not None and run_after.tzinfo is None:
            raise ValidationError("run_after must be timezone-aware", location="run_after")
        if max_attempts is not None and max_attempts < 1:
            raise ValidationError("max_attempts must be at least 1", location="max_attempts")
        now = self.clock.now()
        values = {
            "kind": kind,
            "payload": payload,
            "unique_key": unique_key,
            "state": JobState.QUEUED,
            "attempts": 0,
            "max_attempts": max_attempts,
            "run_after": run_after or now,
            "created_at": now,
            "updated_at": now,
        }
        table: Table = Job.__table__  # type: ignore[assignment]
        if unique_key is None:
            stmt: Any = insert(table).values(**values)
        else:
            dialect = self.session.get_bind().dialect.name
            dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
            stmt = (
                dialect_insert(table)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["unique_key"])
            )
        job_id: int | None = self.session.execute(stmt.returning(table.c.id)).scalar_one_or_none()
        return job_id

    # -- operator helpers --------------------------------------------------------------

    def get(self, job_id: int) -> Job:
        """The job with ``job_id``.

        :raises NotFound: there is no such job.
        """
        job = self.session.get(Job, job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        return job

    def find_by_key(self, unique_key: str) -> Job | None:
        """The job holding ``unique_key``, if any."""
        return self.session.scalar(select(Job).where(Job.unique_key == unique_key))

    def has_pending(self, key_prefix: str) -> bool:
        """Whether a queued or running job has a unique key starting with ``key_prefix``.

        Schedule providers use it to skip a feed whose previous slot is still retrying, so
        two runs of one feed never overlap (e.g. prefix ``"collect_feed:7:"``).
        """
        if not key_prefix:
            raise ValidationError("key prefix must not be empty", location="key_prefix")
        stmt = (
            select(Job.id)
            .where(
                Job.state.in_([JobState.QUEUED, JobState.RUNNING]),
                func.substr(Job.unique_key, 1, len(key_prefix)) == key_prefix,
            )
            .limit(1)
        )
        return self.session.scalar(stmt) is not None

    def list_jobs(
        self,
        *,
        state: JobState | str | None = None,
        kind: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> Sequence[Job]:
        """Jobs, newest first, optionally filtered; page on with ``before_id`` = last id seen."""
        stmt = select(Job).order_by(Job.id.desc()).limit(max(1, min(limit, 1000)))
        if state is not None:
            stmt = stmt.where(Job.state == JobState(state))
        if kind is not None:
            stmt = stmt.where(Job.kind == kind)
        if before_id is not None:
            stmt = stmt.where(Job.id < before_id)
        return self.session.scalars(stmt).all()

    def counts(self) -> dict[str, int]:
        """Number of jobs per state (every state present, zero included)."""
        rows = self.session.execute(select(Job.state, func.count()).group_by(Job.state)).all()
        counts = {state.value: 0 for state in JobState}
        for state, count in rows:
            counts[JobState(state).value] = count
        return counts

    def retry(self, job_id: int) -> Job:
        """Queue a dead job again (attempts reset) or make a queued job due now.

        :raises NotFound: there is no such job.
        :raises Conflict: the job is running or done.
        """
        job = self.get(job_id)
        now = self.clock.now()
        if job.state == JobState.DEAD:
            job.attempts = 0
            job.finished_at = None
        elif job.state != JobState.QUEUED:
            raise Conflict(f"job {job_id} is {job.state.value}; only dead or queued jobs retry")
        job.state = JobState.QUEUED
        job.run_after = now
        job.lease_until = None
        job.locked_by = None
        job.updated_at = now
        self.session.flush()
        return job

    def cancel(self, job_id: int, *, reason: str = "cancelled by an operator") -> Job:
        """Dead-letter a queued job so no worker runs it (``retry`` brings it back).

        :raises NotFound: there is no such job.
        :raises Conflict: the job is running, done or dead already.
        """
        job = self.get(job_id)
        if job.state != JobState.QUEUED:
            raise Conflict(f"job {job_id} is {job.state.value}; only queued jobs can be cancelled")
        now = self.clock.now()
        job.state = JobState.DEAD
        job.last_error = reason[:500]
        job.finished_at = now
        job.updated_at = now
        self.session.flush()
        return job

    def purge_finished(self, older_than: timedelta) -> int:
        """Delete done jobs finished more than ``older_than`` ago (dead jobs stay visible).

        :returns: how many rows were deleted.
        """
        cutoff = self.clock.now() - older_than
        result = self.session.execute(
            delete(Job).where(Job.state == JobState.DONE, Job.finished_at < cutoff)
        )
        return int(getattr(result, "rowcount", 0) or 0)
