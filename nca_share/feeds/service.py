"""Feed registry and collection services.

``FeedService``: add/update/list feeds (secrets sealed, never returned), reconcile the catalogue
from ``config/feeds.toml``, the operator allow-list and health figures.
``Collector``: one collect run of one feed — source batches → lifetime defaults → warning lists
→ ingest → cursors, suppression log, CSAF raw documents, run row and feed health; failures back
off exponentially (``BACKOFF_BASE_S`` doubling up to ``BACKOFF_CAP_S``), a success resets.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nca_share.clock import Clock, SystemClock
from nca_share.config import Settings
from nca_share.db import Database
from nca_share.errors import Conflict, NcaShareError, NotFound, ValidationError
from nca_share.feeds.models import (
    MAX_PROBLEM_DETAILS,
    Feed,
    FeedAllowEntry,
    FeedCsafDocument,
    FeedCursor,
    FeedRun,
    FeedSuppression,
)
from nca_share.feeds.parsers import RecordProblem
from nca_share.feeds.secrets import SecretBox
from nca_share.feeds.sources import source_type
from nca_share.feeds.sources.base import AUTH_SECRETS, AUTH_TYPES, Batch, CollectContext, FeedSpec
from nca_share.feeds.stixgen import parse_timestamp, stix_timestamp
from nca_share.feeds.warninglists import AllowEntry, WarningLists

log = logging.getLogger(__name__)

BACKOFF_BASE_S = 60
BACKOFF_CAP_S = 6 * 3600
RELIABILITY = ("A", "B", "C", "D", "E", "F")
ALLOW_KINDS = ("ip", "domain", "url")


@dataclass(frozen=True)
class FeedInput:
    """What an operator gives to add or change a feed."""

    name: str
    type: str
    url: str | None = None
    config: dict[str, Any] | None = None
    auth_type: str = "none"
    auth_config: dict[str, Any] | None = None
    secrets: dict[str, str] | None = None
    interval_s: int = 3600
    default_tlp: str = "AMBER"
    reliability: str = "F"
    confidence: int | None = None
    lifetime_days: int | None = None
    enabled: bool = True


def backoff_seconds(failures: int) -> int:
    """Delay after ``failures`` consecutive failures: 60 s doubling, capped at 6 h."""
    if failures <= 0:
        return 0
    return int(min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** min(failures - 1, 30)))


MAX_INTERVAL_S = 30 * 86400
MAX_LIFETIME_DAYS = 36500


def _no_nul(value: Any, location: str) -> None:
    """Refuse NUL characters anywhere (PostgreSQL text and JSONB cannot hold them)."""
    import orjson

    try:
        text = orjson.dumps(value).decode()
    except TypeError:
        raise ValidationError("not JSON-serialisable", location=location) from None
    if "\\u0000" in text:
        raise ValidationError("NUL characters are not allowed", location=location)


def _validate(data: FeedInput) -> None:
    from nca_share.stix.tlp import TLP

    for location in ("name", "url", "config", "auth_config", "secrets"):
        _no_nul(getattr(data, location), location)

    if not data.name or len(data.name) > 100 or not data.name.strip() == data.name:
        raise ValidationError(
            "a feed name is 1–100 characters without outer blanks", location="name"
        )
    cls = source_type(data.type)
    if cls.needs_url and not data.url:
        raise ValidationError(f"a {data.type} feed needs a URL or path", location="url")
    cls.validate_config(dict(data.config or {}))
    if data.auth_type not in AUTH_TYPES:
        raise ValidationError(f"unknown auth type {data.auth_type!r}", location="auth_type")
    if data.auth_type != "none" and not cls.secret_fields:
        raise ValidationError(f"a {data.type} feed takes no authentication", location="auth_type")
    unknown = set(data.secrets or {}) - (set(AUTH_SECRETS[data.auth_type]) & set(cls.secret_fields))
    if unknown:
        raise ValidationError(
            f"secrets {', '.join(sorted(unknown))} do not belong to auth {data.auth_type}",
            location="secrets",
        )
    TLP.parse(data.default_tlp)
    if data.reliability.upper() not in RELIABILITY:
        raise ValidationError("reliability is an Admiralty letter A–F", location="reliability")
    if data.confidence is not None and not 0 <= data.confidence <= 100:
        raise ValidationError("confidence is 0–100", location="confidence")
    if not 60 <= data.interval_s <= MAX_INTERVAL_S:
        raise ValidationError("the interval is 60 seconds to 30 days", location="interval_s")
    if data.lifetime_days is not None and not 0 < data.lifetime_days <= MAX_LIFETIME_DAYS:
        raise ValidationError("the lifetime is 1 to 36500 days", location="lifetime_days")


class FeedService:
    """The feed registry."""

    def __init__(self, session: Session, settings: Settings, clock: Clock | None = None) -> None:
        self.session = session
        self.settings = settings
        self.clock = clock or SystemClock()

    def all(self) -> list[Feed]:
        return list(self.session.scalars(select(Feed).order_by(Feed.name)))

    def find(self, name: str) -> Feed | None:
        return self.session.scalar(select(Feed).where(Feed.name == name))

    def get(self, name_or_id: str | int) -> Feed:
        """:raises NotFound: no such feed."""
        feed = (
            self.session.get(Feed, name_or_id)
            if isinstance(name_or_id, int)
            else self.find(name_or_id)
        )
        if feed is None:
            raise NotFound(f"no feed {name_or_id!r}")
        return feed

    def add(self, data: FeedInput, *, from_catalogue: bool = False) -> Feed:
        """Register a feed.

        :raises ValidationError: bad fields. :raises Conflict: the name is taken.
        """
        _validate(data)
        if self.find(data.name) is not None:
            raise Conflict(f"a feed named {data.name!r} exists")
        now = self.clock.now()
        feed = Feed(
            name=data.name,
            created_at=now,
            updated_at=now,
            consecutive_failures=0,
            from_catalogue=from_catalogue,
        )
        self._apply(feed, data)
        self.session.add(feed)
        self.session.flush()
        return feed

    def update(self, feed: Feed, data: FeedInput) -> Feed:
        """Change a feed; secrets are replaced only when ``data.secrets`` is given."""
        _validate(data)
        self._apply(feed, data)
        feed.updated_at = self.clock.now()
        return feed

    def _apply(self, feed: Feed, data: FeedInput) -> None:
        feed.type = data.type
        feed.url = data.url
        feed.config = dict(data.config or {})
        feed.auth_type = data.auth_type
        feed.auth_config = dict(data.auth_config or {})
        if data.secrets is not None or data.auth_type == "none":
            kept = {k: v for k, v in (data.secrets or {}).items() if v}
            # no key is needed (or checked) for a feed without secrets
            feed.secrets_encrypted = SecretBox(self.settings).seal(kept) if kept else None
        feed.interval_s = data.interval_s
        feed.default_tlp = data.default_tlp.upper()
        feed.reliability = data.reliability.upper()
        feed.confidence = data.confidence
        feed.lifetime_days = data.lifetime_days
        feed.enabled = data.enabled

    def reconcile_catalogue(self, path: Path) -> list[str]:
        """Create or update every feed declared in a ``feeds.toml`` (``[[feed]]`` tables);
        catalogue feeds no longer declared are disabled. Returns the names touched.

        :raises ValidationError: unreadable file or a bad entry (nothing is changed then).
        """
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValidationError(
                f"cannot read feed catalogue: {exc}", location=str(path)
            ) from None
        entries = data.get("feed") or []
        inputs = []
        for index, entry in enumerate(entries):
            try:
                inputs.append(FeedInput(**entry))
            except TypeError as exc:
                raise ValidationError(str(exc), location=f"{path} feed[{index}]") from None
        for item in inputs:
            _validate(item)
        names = []
        for item in inputs:
            existing = self.find(item.name)
            if existing is None:
                self.add(item, from_catalogue=True)
            else:
                self.update(existing, item)
            names.append(item.name)
        for feed in self.all():
            if feed.from_catalogue and feed.name not in names:
                feed.enabled = False
        return names

    # ------------------------------------------------------------------ allow-list

    def allow_list(self) -> list[FeedAllowEntry]:
        return list(
            self.session.scalars(
                select(FeedAllowEntry).order_by(FeedAllowEntry.kind, FeedAllowEntry.value)
            )
        )

    def allow(self, kind: str, value: str, reason: str = "", by: str = "") -> FeedAllowEntry:
        """Add an allow-list entry (idempotent).

        :raises ValidationError: unknown kind or a value that is not of that kind.
        """
        import ipaddress

        if kind not in ALLOW_KINDS:
            raise ValidationError(f"kind is one of {', '.join(ALLOW_KINDS)}", location="kind")
        value = value.strip()
        if kind == "ip":
            try:
                value = str(ipaddress.ip_network(value, strict=False))
            except ValueError:
                raise ValidationError(f"{value!r} is not an IP address or network") from None
        elif kind == "domain":
            value = value.lower().rstrip(".")
            if not value or " " in value or "." not in value:
                raise ValidationError(f"{value!r} is not a domain name", location="value")
        elif "://" not in value:
            raise ValidationError(f"{value!r} is not a URL", location="value")
        existing = self.session.scalar(
            select(FeedAllowEntry).where(FeedAllowEntry.kind == kind, FeedAllowEntry.value == value)
        )
        if existing is not None:
            return existing
        entry = FeedAllowEntry(
            kind=kind, value=value, reason=reason, created_by=by, created_at=self.clock.now()
        )
        self.session.add(entry)
        self.session.flush()
        return entry

    def disallow(self, kind: str, value: str) -> bool:
        entry = self.session.scalar(
            select(FeedAllowEntry).where(FeedAllowEntry.kind == kind, FeedAllowEntry.value == value)
        )
        if entry is None:
            return False
        self.session.delete(entry)
        return True

    # ------------------------------------------------------------------ health

    def runs(self, feed: Feed, limit: int = 20) -> list[FeedRun]:
        return list(
            self.session.scalars(
                select(FeedRun)
                .where(FeedRun.feed_id == feed.id)
                .order_by(FeedRun.id.desc())
                .limit(limit)
            )
        )

    def suppressions(self, feed: Feed | None = None, limit: int = 100) -> list[FeedSuppression]:
        query = select(FeedSuppression).order_by(FeedSuppression.id.desc()).limit(limit)
        if feed is not None:
            query = query.where(FeedSuppression.feed_id == feed.id)
        return list(self.session.scalars(query))

    def added_per_day(self, since: datetime) -> dict[str, dict[str, int]]:
        """feed name → day (YYYY-MM-DD, UTC) → objects added, for runs since ``since``."""
        rows = self.session.execute(
            select(Feed.name, FeedRun.started_at, FeedRun.objects_added)
            .join(Feed, Feed.id == FeedRun.feed_id)
            .where(FeedRun.started_at >= since)
        )
        out: dict[str, dict[str, int]] = {}
        for name, started, added in rows:
            day = started.strftime("%Y-%m-%d")
            out.setdefault(name, {})
            out[name][day] = out[name].get(day, 0) + int(added or 0)
        return out

    def describe(self, feed: Feed) -> dict[str, Any]:
        """A feed as shown on every surface: secrets only as set / not set."""
        secrets_set = bool(feed.secrets_encrypted)
        return {
            "id": feed.id,
            "name": feed.name,
            "type": feed.type,
            "url": feed.url,
            "config": feed.config,
            "auth_type": feed.auth_type,
            "auth_config": feed.auth_config,
            "secrets": "set" if secrets_set else "not set",
            "interval_s": feed.interval_s,
            "default_tlp": feed.default_tlp,
            "reliability": feed.reliability,
            "confidence": feed.confidence,
            "lifetime_days": feed.lifetime_days,
            "enabled": feed.enabled,
            "health": {
                "last_run_at": _iso(feed.last_run_at),
                "last_success_at": _iso(feed.last_success_at),
                "last_error": feed.last_error,
                "last_error_at": _iso(feed.last_error_at),
                "consecutive_failures": feed.consecutive_failures,
                "retry_after": _iso(feed.retry_after),
                "last_added": feed.last_added,
                "lag_s": feed.lag_s,
            },
        }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


#: object types that take a ``confidence`` (SDOs and SROs; not SCOs or marking definitions)
_NO_CONFIDENCE = frozenset(
    {
        "marking-definition",
        "extension-definition",
        "language-content",
        "bundle",
        "ipv4-addr",
        "ipv6-addr",
        "domain-name",
        "url",
        "email-addr",
        "file",
        "software",
        "network-traffic",
        "autonomous-system",
        "mac-addr",
        "mutex",
        "process",
        "directory",
        "user-account",
        "windows-registry-key",
        "x509-certificate",
        "artifact",
        "email-message",
    }
)


def apply_defaults(
    objects: Iterable[dict[str, Any]],
    lifetime_days: int | None,
    confidence: int | None = None,
) -> list[dict[str, Any]]:
    """Give indicators without ``valid_until`` the feed's default lifetime (from
    ``valid_from``, always after it), and SDOs/SROs without ``confidence`` the feed's default
    confidence. Objects are copied, never changed in place."""
    out = []
    for obj in objects:
        if (
            lifetime_days
            and obj.get("type") == "indicator"
            and not obj.get("valid_until")
            and isinstance(obj.get("valid_from"), str)
        ):
            start = parse_timestamp(obj["valid_from"])
            if start is not None:
                obj = {**obj, "valid_until": stix_timestamp(start + timedelta(days=lifetime_days))}
        if (
            confidence is not None
            and "confidence" not in obj
            and isinstance(obj.get("type"), str)
            and obj["type"] not in _NO_CONFIDENCE
            and obj.get("spec_version", "2.1") != "2.0"
        ):
            obj = {**obj, "confidence": confidence}
        out.append(obj)
    return out


@dataclass
class RunSummary:
    """What one collect run did."""

    feed: str
    run_id: int
    status: str
    read: int = 0
    added: int = 0
    unchanged: int = 0
    quarantined: int = 0
    suppressed: int = 0
    problems: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Collector:
    """Runs one feed now (used by the ``collect_feed`` job and ``nca-share feeds run``)."""

    def __init__(self, database: Database, settings: Settings, clock: Clock | None = None) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock or SystemClock()

    def _spec(self, feed: Feed) -> FeedSpec:
        return FeedSpec(
            id=feed.id,
            name=feed.name,
            type=feed.type,
            url=feed.url,
            config=dict(feed.config or {}),
            auth_type=feed.auth_type,
            auth_config=dict(feed.auth_config or {}),
            secrets=(
                SecretBox(self.settings).open(feed.secrets_encrypted)
                if feed.secrets_encrypted
                else {}
            ),
            default_tlp=feed.default_tlp,
            lifetime_days=feed.lifetime_days,
            confidence=feed.confidence,
        )

    def _load_cursor(self, feed_id: int, key: str) -> dict[str, Any]:
        with self.database.session() as session:
            row = session.scalar(
                select(FeedCursor).where(FeedCursor.feed_id == feed_id, FeedCursor.key == key)
            )
            return dict(row.state) if row else {}

    def run(self, feed_ref: str | int) -> RunSummary:
        """Collect one feed now; never raises for a feed failure (it is recorded instead).

        :raises NotFound: no such feed.
        """
        from nca_share.stix.ingest import IngestService
        from nca_share.stix.tlp import TLP

        with self.database.session() as session:
            feed = FeedService(session, self.settings, self.clock).get(feed_ref)
            spec = self._spec(feed)
            started = self.clock.now()
            run = FeedRun(
                problem_details=[],
                feed_id=feed.id,
                started_at=started,
                status="running",
                objects_read=0,
                objects_added=0,
                unchanged=0,
                quarantined=0,
                suppressed=0,
                problems=0,
            )
            session.add(run)
            feed.last_run_at = started
            session.flush()
            run_id = run.id
            lists = WarningLists(
                AllowEntry(e.kind, e.value, e.reason)
                for e in session.scalars(select(FeedAllowEntry))
            )
        summary = RunSummary(feed=spec.name, run_id=run_id, status="running")
        ctx = CollectContext(
            spec, self.settings, self.clock, lambda key: self._load_cursor(spec.id, key)
        )
        ingest = IngestService(self.database, clock=self.clock)
        newest: datetime | None = None
        try:
            source = source_type(spec.type)(ctx)
            for batch in source.collect():
                self._store(
                    batch, spec, run_id, lists, ingest, TLP.parse(spec.default_tlp), summary
                )
                ctx.remember(batch.cursors)
                if batch.newest and (newest is None or batch.newest > newest):
                    newest = batch.newest
            summary.status = "ok"
        except NcaShareError as exc:
            summary.status, summary.error = "error", str(exc)
        except Exception as exc:  # a feed must never take the worker down
            log.exception("feed %s failed", spec.name)
            summary.status, summary.error = "error", f"{type(exc).__name__}: {exc}"
        finally:
            ctx.close()
        summary.problems += len(ctx.problems)
        for problem in ctx.problems[:50]:
            log.info("feed %s: %s: %s", spec.name, problem.location, problem.message)
        self._finish(spec.id, run_id, summary, newest, ctx.problems)
        return summary

    def _store(
        self,
        batch: Batch,
        spec: FeedSpec,
        run_id: int,
        lists: WarningLists,
        ingest: Any,
        tlp: Any,
        summary: RunSummary,
    ) -> None:
        objects = apply_defaults(batch.objects, spec.lifetime_days, spec.confidence)
        kept, suppressed = lists.filter(objects)
        if kept:
            report = ingest.ingest_objects(
                kept,
                source=f"feed:{spec.name}",
                default_tlp=tlp,
                feed_id=spec.id,
                bundle_spec_version=batch.spec_version,
                origin=spec.url,
            )
            summary.read += report.read
            summary.added += report.new_versions
            summary.unchanged += report.unchanged
            summary.quarantined += report.quarantined
        summary.quarantined += batch.refused
        summary.suppressed += len(suppressed)
        now = self.clock.now()
        with self.database.session() as session:
            for item in suppressed:
                session.add(
                    FeedSuppression(
                        feed_id=spec.id,
                        run_id=run_id,
                        stix_id=item.object_id[:300],
                        object_type=item.object_type[:250],
                        value=item.value,
                        list_name=item.list_name,
                        reason=item.reason,
                        created_at=now,
                    )
                )
            for record in batch.csaf:
                row = session.scalar(
                    select(FeedCsafDocument).where(
                        FeedCsafDocument.feed_id == spec.id, FeedCsafDocument.url == record.url
                    )
                )
                if row is None:
                    row = FeedCsafDocument(feed_id=spec.id, url=record.url)
                    session.add(row)
                row.tracking_id, row.version, row.sha256 = (
                    record.tracking_id,
                    record.version,
                    record.sha256,
                )
                row.valid, row.messages, row.raw, row.fetched_at = (
                    record.valid,
                    record.messages,
                    record.raw,
                    now,
                )
            for key, state in batch.cursors.items():
                cursor = session.scalar(
                    select(FeedCursor).where(FeedCursor.feed_id == spec.id, FeedCursor.key == key)
                )
                if cursor is None:
                    session.add(FeedCursor(feed_id=spec.id, key=key, state=state, updated_at=now))
                else:
                    cursor.state, cursor.updated_at = state, now
            if kept and report.changed_ids:  # matching: who is affected, per ingested batch
                from nca_share.matching.jobs import enqueue_match

                enqueue_match(session, report.changed_ids, origin=f"feed:{spec.name}")
            run = session.get(FeedRun, run_id)
            if run is not None:
                run.objects_read, run.objects_added = summary.read, summary.added
                run.unchanged, run.quarantined = summary.unchanged, summary.quarantined
                run.suppressed = summary.suppressed

    def _finish(
        self,
        feed_id: int,
        run_id: int,
        summary: RunSummary,
        newest: datetime | None,
        problems: list[RecordProblem],
    ) -> None:
        now = self.clock.now()
        lag = int((now - newest).total_seconds()) if newest else None
        with self.database.session() as session:
            feed = session.get(Feed, feed_id)
            run = session.get(FeedRun, run_id)
            if run is not None:
                run.finished_at, run.status, run.error = now, summary.status, summary.error
                run.problems, run.lag_s = summary.problems, lag
                run.problem_details = [
                    {"location": p.location[:500], "message": p.message[:1000]}
                    for p in problems[:MAX_PROBLEM_DETAILS]
                ]
            if feed is None:
                return
            if summary.status == "ok":
                feed.last_success_at = now
                feed.consecutive_failures = 0
                feed.retry_after = None
                feed.last_added = summary.added
                if lag is not None:
                    feed.lag_s = lag
            else:
                feed.consecutive_failures = (feed.consecutive_failures or 0) + 1
                feed.last_error = (summary.error or "")[:4000]
                feed.last_error_at = now
                feed.retry_after = now + timedelta(
                    seconds=backoff_seconds(feed.consecutive_failures)
                )


def total_added(session: Session, feed_id: int) -> int:
    """Objects added by a feed over all runs."""
    return int(
        session.scalar(
            select(func.coalesce(func.sum(FeedRun.objects_added), 0)).where(
                FeedRun.feed_id == feed_id
            )
        )
        or 0
    )
