"""The explicit registries of background work: job handlers, periodic jobs, schedule providers.

Every entry is a ``"module:function"`` path imported lazily, so registering work never imports
the package that does it (no import cycles, cheap ``nca-share --help``). Packages add ONE line
per job kind / provider to the mappings below, e.g.::

    HANDLERS = {..., "collect_feed": "nca_share.feeds.jobs:collect_feed"}
    SCHEDULE_PROVIDERS = {..., "feeds": "nca_share.feeds.jobs:due_feed_jobs"}

A handler is ``def handler(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any] | None``.
It owns its transactions (``ctx.database.session()``), must be idempotent (a job may run again
after a worker died mid-way), raises :class:`~nca_share.errors.ValidationError` for a payload it
can never process (dead-lettered at once) and any other exception for a failure worth retrying.

A schedule provider is ``def provider(session: Session, now: datetime) ->
Iterable[ScheduledJob]``; the scheduler calls it on every tick and enqueues what it yields with
its unique key, so yielding the same job in every tick of a slot is fine.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from nca_share.errors import ValidationError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from nca_share.clock import Clock
    from nca_share.config import Settings
    from nca_share.db import Database

#: job kind → "module:function" of its handler.
HANDLERS: dict[str, str] = {
    "noop": "nca_share.jobs.handlers:noop",
    "purge_finished_jobs": "nca_share.jobs.handlers:purge_finished_jobs",
    "prune_login_attempts": "nca_share.auth.jobs:prune_login_attempts",
    "collect_feed": "nca_share.feeds.jobs:collect_feed",
    "match_objects": "nca_share.matching.jobs:match_objects",
    "match_asset": "nca_share.matching.jobs:match_asset",
}


@dataclass(frozen=True)
class PeriodicJob:
    """Work enqueued once per time slot of length ``every`` (slots are aligned to the Unix
    epoch, so every scheduler computes the same slot and the same unique key)."""

    id: str
    kind: str
    every: timedelta
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScheduledJob:
    """One job a schedule provider wants enqueued; ``unique_key`` makes a repeat a no-op."""

    kind: str
    payload: dict[str, Any]
    unique_key: str
    run_after: datetime | None = None


#: periodic maintenance work; stable ids (they are part of the unique keys).
PERIODIC: list[PeriodicJob] = [
    PeriodicJob(
        "purge-finished-jobs", "purge_finished_jobs", timedelta(days=1), {"older_than_days": 30}
    ),
    PeriodicJob(
        "prune-login-attempts", "prune_login_attempts", timedelta(days=1), {"older_than_days": 7}
    ),
]

#: provider name → "module:function" yielding :class:`ScheduledJob` for ``(session, now)``.
SCHEDULE_PROVIDERS: dict[str, str] = {
    "feeds": "nca_share.feeds.jobs:due_feed_jobs",
}

Handler = Callable[["JobContext", dict[str, Any]], "dict[str, Any] | None"]
ScheduleProvider = Callable[["Session", datetime], Iterable[ScheduledJob]]


@dataclass
class JobContext:
    """What a running handler gets besides its payload."""

    settings: Settings
    database: Database
    clock: Clock
    job_id: int
    kind: str
    attempt: int
    max_attempts: int
    logger: logging.LoggerAdapter[logging.Logger]
    worker_id: str = ""
    _heartbeat: Callable[[], bool] = field(repr=False, default=lambda: True)
    lease_lost: bool = False

    @property
    def is_last_attempt(self) -> bool:
        """True when a failure now dead-letters the job (handlers may record that)."""
        return self.attempt >= self.max_attempts

    def heartbeat(self) -> bool:
        """Extend this job's lease now; False when another worker has taken the job over.

        The worker already renews the lease from a background thread every third of the
        lease; long handlers may call this at safe points and stop early when it is False.
        """
        held = self._heartbeat()
        if not held:
            self.lease_lost = True
        return held


def known_kinds() -> frozenset[str]:
    """Every job kind with a registered handler."""
    return frozenset(HANDLERS)


def load_object(path: str) -> Any:
    """Import ``"package.module:attribute"`` and return the attribute.

    :raises ValidationError: the path is malformed, or the module or attribute is missing.
    """
    module_name, sep, attribute = path.partition(":")
    if not sep or not module_name or not attribute:
        raise ValidationError(f"not a 'module:function' path: {path!r}", location="registry")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValidationError(f"cannot import {module_name!r}: {exc}", location="registry") from exc
    try:
        return getattr(module, attribute)
    except AttributeError as exc:
        raise ValidationError(
            f"{module_name!r} has no attribute {attribute!r}", location="registry"
        ) from exc


def resolve_handler(kind: str) -> Handler:
    """The handler function registered for ``kind``.

    :raises ValidationError: the kind is unknown or its handler cannot be imported.
    """
    try:
        path = HANDLERS[kind]
    except KeyError:
        raise ValidationError(f"unknown job kind {kind!r}", location="kind") from None
    handler: Handler = load_object(path)
    return handler


def resolve_provider(name: str) -> ScheduleProvider:
    """The schedule provider registered under ``name``.

    :raises ValidationError: the name is unknown or the provider cannot be imported.
    """
    try:
        path = SCHEDULE_PROVIDERS[name]
    except KeyError:
        raise ValidationError(f"unknown schedule provider {name!r}") from None
    provider: ScheduleProvider = load_object(path)
    return provider
