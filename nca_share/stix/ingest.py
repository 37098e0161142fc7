"""Bulk ingest of STIX 2.0/2.1 content into the versioned store: the one write path.

Owns: the ingest of decoded or serialised input (decoding itself is ``nca_share.stix.decode``;
large inputs are read there piece by piece by a forked preparation process), the STIX 2.0
→ 2.1 upgrade call, the cheap structural checks, TLP resolution (the ingest default applies
only to objects without a TLP marking), observable extraction, the version decision and ONE
bulk upsert per batch (SQLAlchemy Core executemany; no ORM objects, no ``stix2.parse``).
Every rejected object is quarantined with where/field/problem; good objects around it are
stored. ``strict=True`` additionally runs stix2-validator per object.

Counting (the same in ``IngestReport``, ``stix_ingest_runs`` and ``nca-share ingest --json``):
``read`` = objects in the input; ``quarantined`` = rejected; ``stored`` = accepted (now in
the store) = ``read - quarantined`` = ``new_versions + unchanged``; ``new_versions`` = rows
inserted (a new object, a newer version, or an older version arriving late); ``unchanged`` =
(id, version) already stored or repeated within the input (the first occurrence wins).

Versions: keyed by (id, ``version_key``) where ``version_key`` is ``modified`` (else
``created``, else ``""`` for SCOs) normalised to microseconds; the greatest key is current.
``date_added`` strictly increases per inserted row within a process (keyset pagination on
(date_added, pk)). On PostgreSQL each batch takes a transaction-level advisory lock so two
workers cannot both make their version current.
"""

from __future__ import annotations

import gc
import logging
import marshal
import multiprocessing
import os
import queue
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import astuple, dataclass
from dataclasses import field as dc_field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import orjson
from sqlalchemy import Connection, Table, bindparam, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from nca_share.clock import Clock, SystemClock
from nca_share.config import Settings
from nca_share.db import Database
from nca_share.errors import FetchError, IngestError, ParseError, ValidationError
from nca_share.stix.checks import MAX_OBJECT_BYTES, CheckCache, Rejected, check_object
from nca_share.stix.decode import SegmentedInput, decode_piece, parse_stix_bytes
from nca_share.stix.models import (
    ID_LENGTH,
    NAME_LENGTH,
    VALUE_LENGTH,
    StixEdge,
    StixIngestRun,
    StixObject,
    StixObservable,
    StixQuarantine,
)
from nca_share.stix.observables import Observable, extract_observables, ip_range
from nca_share.stix.tlp import TLP, effective_tlp, marking_definition_tlp
from nca_share.stix.upgrade import SCO_TYPES, detect_spec_version, upgrade_to_21

__all__ = ["IngestProgress", "IngestReport", "IngestService", "Problem", "parse_stix_bytes"]

log = logging.getLogger(__name__)

#: Reference properties that become rows of ``stix_edges`` (besides relationship objects).
EDGE_REF_KINDS = (
    "created_by_ref",
    "object_refs",
    "sighting_of_ref",
    "where_sighted_refs",
    "observed_data_refs",
    "sample_refs",
    "sample_ref",
)
EXCERPT_CHARS = 500
#: Key of the PostgreSQL advisory lock serialising store writes between processes.
_PG_LOCK_KEY = 0x5717_0001
_IN_CHUNK = 1000
_SQLITE_CHECKPOINT_PAGES = 8192
#: SQLite's own default, restored on a connection after a run that switched it off.
_SQLITE_DEFAULT_CHECKPOINT_PAGES = 1000
_SQLITE_IN_CHUNK = 5000

_objects = cast(Table, StixObject.__table__)
_edges = cast(Table, StixEdge.__table__)
_observables = cast(Table, StixObservable.__table__)
_quarantine = cast(Table, StixQuarantine.__table__)
_runs = cast(Table, StixIngestRun.__table__)

# The hot path inserts pre-serialised values (JSON text, timestamp text) as tuples through
# Connection.exec_driver_sql (one DBAPI executemany per table per batch; COPY on PostgreSQL):
# no per-value type processing. The column lists match nca_share.stix.models.
_OBJECT_COLUMNS = (
    "stix_id",
    "type",
    "spec_version",
    "original_spec_version",
    "created",
    "modified",
    "version_key",
    "is_current",
    "revoked",
    "valid_from",
    "valid_until",
    "tlp",
    "tlp_defaulted",
    "marking_refs",
    "source",
    "feed_id",
    "date_added",
    "name",
    "confidence",
    "raw",
)
_EDGE_COLUMNS = ("source_id", "target_id", "kind", "relationship_type", "via_id")
_OBSERVABLE_COLUMNS = ("stix_id", "kind", "value", "ip_version", "ip_start", "ip_end")


def _insert_sql(table: str, columns: tuple[str, ...], marker: str) -> str:
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - fixed identifiers
        f"VALUES ({', '.join([marker] * len(columns))})"
    )


@dataclass(slots=True)
class Problem:
    """Why an object (or the whole input) was rejected, or a ``--strict`` warning."""

    index: int | None
    stix_id: str | None
    field: str | None
    problem: str
    severity: str = "error"
    #: The start of the rejected object's JSON (stored in quarantine, never interpreted).
    excerpt: str | None = dc_field(default=None, repr=False, compare=False)

    @property
    def where(self) -> str:
        parts = []
        if self.index is not None:
            parts.append(f"#{self.index}")
        if self.stix_id:
            parts.append(self.stix_id)
        return " ".join(parts) or "input"

    def __str__(self) -> str:
        field_part = f" {self.field}:" if self.field else ""
        return f"{self.where}{field_part} {self.problem}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "id": self.stix_id,
            "field": self.field,
            "problem": self.problem,
            "severity": self.severity,
        }


@dataclass
class IngestReport:
    """What one ingest did (see the module docstring for the meaning of each count)."""

    read: int = 0
    stored: int = 0
    new_versions: int = 0
    unchanged: int = 0
    quarantined: int = 0
    problems: list[Problem] = dc_field(default_factory=list)
    #: Ids whose current version changed (new objects included), in first-seen order.
    changed_ids: list[str] = dc_field(default_factory=list)
    run_id: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "read": self.read,
            "stored": self.stored,
            "new_versions": self.new_versions,
            "unchanged": self.unchanged,
            "quarantined": self.quarantined,
        }

    def add(self, other: IngestReport) -> None:
        """Fold ``other`` into this report (several inputs of one command)."""
        self.read += other.read
        self.stored += other.stored
        self.new_versions += other.new_versions
        self.unchanged += other.unchanged
        self.quarantined += other.quarantined
        self.problems.extend(other.problems)
        self.changed_ids.extend(other.changed_ids)


class IngestProgress:
    """Optional richer progress callback: ``start(total)`` is called once before the first
    batch, then the instance is called with the size of each stored batch."""

    def start(self, total: int) -> None:
        """Called once with the number of objects about to be ingested (an estimate for a
        large input read in pieces, refined through ``resize``)."""

    def resize(self, total: int) -> None:
        """A better estimate of the number of objects (exact after the last batch)."""

    def __call__(self, n: int) -> None:
        """Called after each batch with the number of objects it held."""


@dataclass(slots=True)
class _Prepared:
    """One checked object, ready to store (plain values only: it crosses a process pipe)."""

    index: int
    stix_id: str
    version_key: str
    #: the stix_objects row (``_OBJECT_COLUMNS``); is_current and date_added are filled in
    #: by the writer once the version decision is made
    row: list[Any]
    #: rows for stix_edges / stix_observables, used if this version becomes current
    edges: list[tuple[Any, ...]]
    observables: list[tuple[Any, ...]]
    is_current: bool = False

    @property
    def raw_json(self) -> str:
        return cast(str, self.row[-1])


_ROW_IS_CURRENT = _OBJECT_COLUMNS.index("is_current")
_ROW_DATE_ADDED = _OBJECT_COLUMNS.index("date_added")


@dataclass
class _Run:
    run_id: int
    source: str
    feed_id: int | None
    default_tlp: TLP
    strict: bool
    bundle_spec: str | None
    markings: dict[str, TLP]
    ts_suffix: str
    cache: CheckCache = dc_field(default_factory=CheckCache)
    #: datetime → (version key text, database text)
    formatted: dict[datetime, tuple[str, str]] = dc_field(default_factory=dict)
    #: object_marking_refs (as a tuple) → (TLP or None, marking_refs JSON)
    marking_memo: dict[tuple[str, ...], tuple[TLP | None, str]] = dc_field(default_factory=dict)
    #: SQLite multi-batch runs: checkpoints the WAL beside the writer (see _Checkpointer)
    checkpointer: _Checkpointer | None = None
    #: writer state (see _write): batches written, whether every stored row is this run's,
    #: and the ids this run has written while that holds
    batches: int = 0
    exclusive: bool = False
    stored_ids: set[str] = dc_field(default_factory=set)


class _Checkpointer:
    """Copies the SQLite WAL into the database in a background thread during a multi-batch
    ingest, with its own connection (``PRAGMA wal_checkpoint(PASSIVE)`` after each batch).

    The writer switches its automatic checkpoints off meanwhile, so its commits only append
    to the WAL instead of also copying it back and waiting for ``fsync``: the copying runs
    beside the next batch. ``close()`` waits for a last checkpoint, so the run ends with
    the WAL as small as automatic checkpoints would have left it. A PASSIVE checkpoint never
    blocks readers or the writer; one that cannot finish is simply continued by the next.
    """

    def __init__(self, database: Database) -> None:
        self._database = database
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._loop, name="stix-wal-checkpoint", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """A batch was committed: checkpoint what it wrote."""
        self._wake.set()

    def close(self) -> None:
        self._closing = True
        self._wake.set()
        self._thread.join()

    def _loop(self) -> None:
        try:
            raw = self._database.engine.raw_connection()
        except DBAPIError:
            log.exception("WAL checkpoint thread: no connection; automatic checkpoints resume")
            return
        try:
            driver = raw.driver_connection
            assert driver is not None
            while True:
                self._wake.wait()
                self._wake.clear()
                # read before checkpointing: a close() that comes during this checkpoint
                # (after the last commit) gets one more, so the run ends checkpointed
                closing = self._closing
                try:
                    driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except Exception:  # a failed checkpoint loses nothing: the WAL stays valid
                    log.exception("WAL checkpoint failed; continuing")
                if closing:
                    return
        finally:
            raw.close()


class _Tally:
    """Folds the batches' results into the run's report, in input order, and reports
    progress after each batch."""

    def __init__(self, run_id: int, progress: Callable[[int], None] | None, total: int) -> None:
        self.report = IngestReport(run_id=run_id)
        #: changed ids in first-seen order (a dict: merged at C speed)
        self._changed: dict[str, None] = {}
        self._progress = progress
        if isinstance(progress, IngestProgress):
            progress.start(total)

    def fold(self, delta: IngestReport, count: int) -> None:
        report = self.report
        report.read += count
        report.new_versions += delta.new_versions
        report.unchanged += delta.unchanged
        report.quarantined += delta.quarantined
        report.problems.extend(delta.problems)
        self._changed.update(dict.fromkeys(delta.changed_ids))
        if self._progress is not None:
            self._progress(count)

    def resize(self, total: int) -> None:
        """A better estimate of the number of objects (large inputs are read in pieces)."""
        if isinstance(self._progress, IngestProgress):
            self._progress.resize(total)

    def done(self) -> IngestReport:
        self.report.stored = self.report.new_versions + self.report.unchanged
        self.report.changed_ids = list(self._changed)
        return self.report


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: decoding a large bundle allocates millions of
    containers, and the collector's repeated full scans would double the ingest time. Nothing
    on this path creates reference cycles worth collecting early."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _clean_text(value: str, limit: int) -> str:
    """Text safe for any backend: no NUL, no lone surrogates, at most ``limit`` chars."""
    value = value[:limit]
    value = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value.replace("\x00", "\\x00")


def _excerpt(obj: Any) -> str:
    try:
        raw = orjson.dumps(obj)[: EXCERPT_CHARS * 2].decode("utf-8", "replace")
    except (TypeError, orjson.JSONEncodeError):
        raw = repr(obj)
    return _clean_text(raw, EXCERPT_CHARS)


def _object_id(obj: Any) -> str | None:
    if isinstance(obj, dict):
        oid = obj.get("id")
        if isinstance(oid, str):
            return _clean_text(oid, ID_LENGTH)
    return None


class IngestService:
    """Stores STIX content; used by ``nca-share ingest`` and by the feed collectors."""

    def __init__(
        self, database: Database, *, clock: Clock | None = None, batch_size: int | None = None
    ) -> None:
        self.database = database
        self.clock = clock or SystemClock()
        self.batch_size = max(1, batch_size or database.settings.ingest_batch_size)
        self._is_pg = database.engine.dialect.name == "postgresql"
        self._last_added: datetime | None = None
        marker = "?" if database.engine.dialect.paramstyle == "qmark" else "%s"
        self._sql_objects = _insert_sql("stix_objects", _OBJECT_COLUMNS, marker)
        self._sql_edges = _insert_sql("stix_edges", _EDGE_COLUMNS, marker)
        self._sql_observables = _insert_sql("stix_observables", _OBSERVABLE_COLUMNS, marker)

    # ------------------------------------------------------------------ entry points

    def ingest_path(
        self,
        path: Path,
        *,
        source: str,
        default_tlp: TLP = TLP.AMBER,
        feed_id: int | None = None,
        strict: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> IngestReport:
        """Ingest a file (bundle, object or list). Unreadable files raise ValidationError."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            error = ValidationError(f"cannot read file: {exc.strerror or exc}", location=str(path))
            self._record_failure(str(path), source, feed_id, error)
            raise error from None
        return self.ingest_bytes(
            data,
            origin=str(path),
            source=source,
            default_tlp=default_tlp,
            feed_id=feed_id,
            strict=strict,
            progress=progress,
        )

    def ingest_url(
        self,
        url: str,
        settings: Settings,
        *,
        source: str,
        default_tlp: TLP = TLP.AMBER,
        feed_id: int | None = None,
        strict: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> IngestReport:
        """Fetch ``url`` through the SSRF-guarded client and ingest the body."""
        from nca_share.net import http_client

        try:
            with http_client(settings) as client:
                response = client.get(url)
        except FetchError as exc:
            self._record_failure(url, source, feed_id, exc)
            raise
        except httpx.HTTPError as exc:
            error = FetchError(f"cannot fetch {url}: {exc}")
            self._record_failure(url, source, feed_id, error)
            raise error from None
        if response.status_code >= 400:
            error = FetchError(f"cannot fetch {url}: HTTP {response.status_code}")
            self._record_failure(url, source, feed_id, error)
            raise error
        return self.ingest_bytes(
            response.content,
            origin=url,
            source=source,
            default_tlp=default_tlp,
            feed_id=feed_id,
            strict=strict,
            progress=progress,
        )

    def ingest_bytes(
        self,
        data: bytes,
        *,
        origin: str,
        source: str,
        default_tlp: TLP = TLP.AMBER,
        feed_id: int | None = None,
        strict: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> IngestReport:
        """Ingest serialised STIX: a bundle, a single object or a JSON list of objects.

        Large inputs are decoded and prepared in a forked second process where that is safe
        (see ``_fork_is_safe``) while this process stores them; the result is the same.

        :raises ParseError: malformed JSON (recorded as a failed run and in quarantine).
        :raises ValidationError: JSON that is not STIX-shaped (recorded likewise).
        """
        with _gc_paused():
            if (
                len(data) >= _FORK_MIN_BYTES
                and self.database.settings.ingest_processes
                and _fork_is_safe()
            ):
                report = self._ingest_forked(
                    data,
                    origin=origin,
                    source=source,
                    default_tlp=default_tlp,
                    feed_id=feed_id,
                    strict=strict,
                    progress=progress,
                )
                if report is not None:
                    return report
                # no child, or it could not decode the input: here, with the exact error
            try:
                objects, bundle_spec = parse_stix_bytes(data, origin)
            except ValidationError as exc:
                self._record_failure(origin, source, feed_id, exc)
                raise
            return self.ingest_objects(
                objects,
                source=source,
                default_tlp=default_tlp,
                feed_id=feed_id,
                strict=strict,
                progress=progress,
                bundle_spec_version=bundle_spec,
                origin=origin,
            )

    def ingest_objects(
        self,
        objects: Iterable[Any],
        *,
        source: str,
        default_tlp: TLP = TLP.AMBER,
        feed_id: int | None = None,
        strict: bool = False,
        progress: Callable[[int], None] | None = None,
        bundle_spec_version: str | None = None,
        origin: str | None = None,
    ) -> IngestReport:
        """Ingest already decoded objects (dicts; anything else is quarantined).

        :param bundle_spec_version: the enclosing bundle's ``spec_version`` ("2.0" marks
            objects without their own ``spec_version`` as STIX 2.0).
        :param progress: called after each batch with the number of objects it held.
        """
        items = objects if isinstance(objects, list) else list(objects)
        with _gc_paused():
            run = self._new_run(source, default_tlp, feed_id, strict, bundle_spec_version)
            _add_input_markings(run.markings, items)
            with self._recorded(run, origin, progress, len(items)) as tally:
                if len(items) <= self.batch_size:
                    prepared, problems = self._prepare(items, 0, run)
                    tally.fold(self._store(prepared, problems, run), len(items))
                else:
                    with self._checkpointing(run):
                        self._pipeline(items, run, tally.fold)
            return tally.report

    @contextmanager
    def _recorded(
        self, run: _Run, origin: str | None, progress: Callable[[int], None] | None, total: int
    ) -> Iterator[_Tally]:
        """The run's row in ``stix_ingest_runs``: started here, finished with the counts
        (and the error, re-raised) whatever happens inside."""
        run.run_id = self._start_run(run.source, origin, run.feed_id)
        tally = _Tally(run.run_id, progress, total)
        error: str | None = None
        try:
            yield tally
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self._finish_run(tally.done(), error)

    def _new_run(
        self,
        source: str,
        default_tlp: TLP,
        feed_id: int | None,
        strict: bool,
        bundle_spec: str | None,
    ) -> _Run:
        """The settings of one ingest; ``run_id`` is set once the run row exists."""
        return _Run(
            run_id=0,
            source=_clean_text(source, 200),
            feed_id=feed_id,
            default_tlp=TLP(default_tlp),
            strict=strict,
            bundle_spec=bundle_spec,
            markings=self._stored_markings(),
            ts_suffix="+00:00" if self._is_pg else "",
        )

    def _ingest_forked(
        self,
        data: bytes,
        *,
        origin: str,
        source: str,
        default_tlp: TLP,
        feed_id: int | None,
        strict: bool,
        progress: Callable[[int], None] | None,
    ) -> IngestReport | None:
        """Decode and prepare in a forked child, store here (None: no child could be started
        or it could not read the start of ``data``; nothing was recorded and the caller
        ingests in-process, which also reports a decoding error exactly).

        Checking, TLP resolution and observable extraction are pure Python and hold the
        GIL, so a thread cannot overlap them with the database writes; a second process
        can. The child inherits ``data`` and the run (stored markings, default TLP) through
        ``fork``, reads the objects piece by piece (``SegmentedInput``: the first chunk is
        stored after one piece is decoded, not the whole input) and sends each prepared
        chunk as one ``marshal`` message of plain values. Chunks are stored here in input
        order, each transaction as large as what has arrived (up to the batch size).

        An input found malformed after its first piece keeps the objects before the damage
        (stored, counted on the run) and raises the decoding error like the in-process
        path, which is also recorded on the run and in quarantine.
        """
        run = self._new_run(source, default_tlp, feed_id, strict, None)
        try:
            child_batches = _ChildBatches(data, origin, run, self.batch_size, self._prepare)
        except OSError as exc:  # no process could be started (limits, memory): in-process
            log.warning("ingest of %s prepared in-process: cannot fork (%s)", origin, exc)
            return None
        with child_batches as child:
            estimate = child.count()
            if estimate is None:
                return None
            with self._recorded(run, origin, progress, estimate) as tally, self._checkpointing(run):
                try:
                    for prepared, problems, size in child.batches():
                        tally.fold(self._store(prepared, problems, run), size)
                        tally.resize(child.estimate)
                except ValidationError as exc:  # malformed after the objects stored so far
                    self._quarantine_input(run.run_id, run.source, run.feed_id, exc)
                    raise
            return tally.report

    @contextmanager
    def _checkpointing(self, run: _Run) -> Iterator[None]:
        """On SQLite, a background WAL checkpointer for the duration of a multi-batch run."""
        if self._is_pg:
            yield
            return
        run.checkpointer = _Checkpointer(self.database)
        try:
            yield
        finally:
            run.checkpointer.close()
            run.checkpointer = None

    def _pipeline(
        self, items: list[Any], run: _Run, fold: Callable[[IngestReport, int], None]
    ) -> None:
        """Prepare batch N+1 in this thread while a writer thread stores batch N.

        The database driver releases the GIL while SQLite/PostgreSQL work, so checking and
        encoding overlap with the inserts. Batches are still stored strictly in order, each
        in its own transaction; the first writer error stops the run and is re-raised here.
        """
        jobs: queue.Queue[tuple[list[_Prepared], list[Problem], int] | None] = queue.Queue(2)
        failure: list[BaseException] = []

        def writer() -> None:
            while True:
                job = jobs.get()
                if job is None:
                    return
                if failure:
                    continue  # drain after a failure so the producer never blocks
                try:
                    fold(self._store(job[0], job[1], run), job[2])
                except BaseException as exc:  # re-raised in the producing thread
                    failure.append(exc)

        thread = threading.Thread(target=writer, name="stix-ingest-writer", daemon=True)
        thread.start()
        try:
            for start, end in _chunk_bounds(len(items), self.batch_size):
                if failure:
                    break
                chunk = items[start:end]
                run.cache.trim()
                if len(run.formatted) > CheckCache.LIMIT:
                    run.formatted.clear()
                prepared, problems = self._prepare(chunk, start, run)
                jobs.put((prepared, problems, len(chunk)))
        finally:
            jobs.put(None)
            thread.join()
        if failure:
            raise failure[0]

    # ------------------------------------------------------------------ preparation

    def _prepare(
        self, chunk: list[Any], offset: int, run: _Run
    ) -> tuple[list[_Prepared], list[Problem]]:
        prepared: list[_Prepared] = []
        problems: list[Problem] = []
        for i, obj in enumerate(chunk):
            index = offset + i
            try:
                prepared.append(self._prepare_one(obj, index, run, problems))
            except Rejected as exc:
                problems.append(
                    Problem(
                        index,
                        _object_id(obj),
                        exc.field,
                        _clean_text(exc.problem, 4000),
                        excerpt=_excerpt(obj),
                    )
                )
        return prepared, problems

    def _prepare_one(self, obj: Any, index: int, run: _Run, problems: list[Problem]) -> _Prepared:
        if not isinstance(obj, dict):
            raise Rejected(None, f"an object must be a JSON object, not {type(obj).__name__}")
        declared = obj.get("spec_version")
        if declared == "2.1":
            original = "2.1"
        elif declared is not None and declared != "2.0":
            shown = declared[:20] if isinstance(declared, str) else type(declared).__name__
            raise Rejected("spec_version", f"must be '2.1' or '2.0', got {shown!r}")
        else:
            original = detect_spec_version(obj, run.bundle_spec)
            if original == "2.0":
                obj = upgrade_to_21(obj)
        otype, oid, stamps = check_object(obj, run.cache)
        try:
            raw = orjson.dumps(obj)
        except orjson.JSONEncodeError as exc:
            message = str(exc)
            if "ecursion" in message:
                raise Rejected(None, "nested too deeply (more than 254 levels)") from None
            if "UTF-8" in message or "surrogates" in message:
                raise Rejected(None, "contains invalid UTF-8 (undecodable bytes)") from None
            raise Rejected(None, f"cannot be encoded as JSON: {message}") from None
        if len(raw) > MAX_OBJECT_BYTES:
            raise Rejected(None, f"object is {len(raw)} bytes; the limit is {MAX_OBJECT_BYTES}")
        raw_json = raw.decode()
        if "\\u0000" in raw_json:
            raise Rejected(None, "contains a NUL character (\\u0000), which cannot be stored")
        if run.strict:
            self._validate_strict(obj, index, oid, problems)

        formatted = run.formatted
        db_ts: dict[str, str] = {}
        for key, stamp in stamps.items():
            pair = formatted.get(stamp)
            if pair is None:
                pair = (
                    stamp.isoformat(timespec="microseconds") + "Z",
                    stamp.isoformat(" ", "microseconds") + run.ts_suffix,
                )
                formatted[stamp] = pair
            db_ts[key] = pair[1]
        basis = stamps.get("modified") or stamps.get("created")
        version_key = formatted[basis][0] if basis is not None else ""

        omr = obj.get("object_marking_refs")
        granular = obj.get("granular_markings")
        if granular:
            tlp = effective_tlp(obj, run.markings)
            refs: list[str] = list(omr) if omr else []
            for marking in granular:
                ref = marking.get("marking_ref")
                if ref is not None and ref not in refs:
                    refs.append(ref)
            refs_json = orjson.dumps(refs).decode() if refs else "[]"
        else:
            # Object markings only (checked to be a list of ids): the same few lists repeat
            # across a bundle, so their TLP and JSON are memoised per run.
            marks = tuple(omr) if omr else ()
            hit = run.marking_memo.get(marks)
            if hit is None:
                hit = (
                    effective_tlp(obj, run.markings),
                    orjson.dumps(omr).decode() if omr else "[]",
                )
                if len(marks) <= 8 and len(run.marking_memo) < CheckCache.LIMIT:
                    run.marking_memo[marks] = hit
            tlp, refs_json = hit
        defaulted = False
        if tlp is None:
            if otype == "marking-definition" and marking_definition_tlp(obj) is not None:
                tlp = TLP.CLEAR  # a TLP definition itself is a public standard object
            else:
                tlp = run.default_tlp
                defaulted = True
        name = obj.get("name")
        if not isinstance(name, str):
            value = obj.get("value") if otype in SCO_TYPES else None
            name = value if isinstance(value, str) else None
        if name is not None and len(name) > NAME_LENGTH:
            name = name[:NAME_LENGTH]
        revoked = obj.get("revoked") is True
        return _Prepared(  # positional: this runs once per object
            index,
            oid,
            version_key,
            [
                oid,
                otype,
                "2.1",
                original,
                db_ts.get("created"),
                db_ts.get("modified"),
                version_key,
                0,  # is_current, decided by the writer
                # booleans as 0/1: SQLite's driver binds an int directly but looks a bool up
                # in its adapter registry first (measurably slower over 20 columns x 100,000)
                1 if revoked else 0,
                db_ts.get("valid_from"),
                db_ts.get("valid_until"),
                int(tlp),
                1 if defaulted else 0,
                refs_json,
                run.source,
                run.feed_id,
                None,  # date_added, assigned by the writer
                name,
                obj.get("confidence"),
                raw_json,
            ],
            _edges_of(otype, oid, obj),
            [] if revoked else _observables_of(oid, obj),
        )

    @staticmethod
    def _validate_strict(
        obj: dict[str, Any], index: int, oid: str, problems: list[Problem]
    ) -> None:
        from stix2validator import ValidationOptions, validate_instance

        try:
            result = validate_instance(obj, ValidationOptions(version="2.1"))
        except Exception as exc:  # the validator is third-party code on hostile input
            raise Rejected(None, f"stix2-validator failed: {exc}") from None
        for warning in result.warnings:
            problems.append(
                Problem(index, oid, None, _clean_text(str(warning), 2000), severity="warning")
            )
        if not result.is_valid:
            messages = "; ".join(str(e) for e in result.errors) or "invalid"
            raise Rejected(None, f"stix2-validator: {messages}")

    # ------------------------------------------------------------------ storage

    def _store(self, prepared: list[_Prepared], problems: list[Problem], run: _Run) -> IngestReport:
        """Write one batch in one transaction; if the database refuses it, store the objects
        one per transaction so a single bad object cannot lose the good ones."""
        delta = IngestReport()
        try:
            with self.database.engine.connect() as conn:
                try:
                    with conn.begin():
                        self._write(conn, prepared, problems, run, delta)
                finally:
                    if run.checkpointer is not None:
                        # _write switched automatic checkpoints off: the pooled connection
                        # goes back with SQLite's default, committed or not
                        with suppress(SQLAlchemyError):  # never hide the first error
                            conn.exec_driver_sql(
                                f"PRAGMA wal_autocheckpoint={_SQLITE_DEFAULT_CHECKPOINT_PAGES}"
                            )
            if run.checkpointer is not None:
                run.checkpointer.poke()
            return delta
        except (OperationalError, InterfaceError):
            raise
        except DBAPIError as exc:
            if not prepared:
                raise
            if len(prepared) == 1 and not problems:
                item = prepared[0]
                reason = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
                log.warning("object %s refused by the database: %s", item.stix_id, reason)
                refused = Problem(
                    item.index,
                    item.stix_id,
                    None,
                    _clean_text(f"database refused the object: {reason}", 4000),
                    excerpt=_clean_text(item.raw_json, EXCERPT_CHARS),
                )
                return self._store([], [refused], run)
            reason = str(exc.orig).splitlines()[0] if exc.orig is not None else str(exc)
            log.warning(
                "a batch of %d objects was refused by the database (%s); "
                "storing them one per transaction",
                len(prepared),
                reason[:300],
            )
        total = IngestReport()
        parts: list[tuple[list[_Prepared], list[Problem]]] = []
        if problems:
            parts.append(([], problems))
        parts.extend(([p], []) for p in prepared)
        for items, probs in parts:
            for item in items:
                item.is_current = False
            part = self._store(items, probs, run)
            total.new_versions += part.new_versions
            total.unchanged += part.unchanged
            total.quarantined += part.quarantined
            total.problems.extend(part.problems)
            total.changed_ids.extend(part.changed_ids)
        return total

    def _bulk(
        self,
        conn: Connection,
        table: str,
        columns: tuple[str, ...],
        sql: str,
        rows: Sequence[Sequence[Any]],
    ) -> None:
        """Insert ``rows`` (tuples or lists): one DBAPI executemany on SQLite, one
        ``COPY … FROM STDIN`` on PostgreSQL (the same values; COPY avoids a server round of
        parse/bind/execute per row). Driver errors are raised as SQLAlchemy ``DBAPIError``."""
        driver = conn.connection.driver_connection
        assert driver is not None
        dbapi = self.database.engine.dialect.loaded_dbapi
        statement = sql
        try:
            if not self._is_pg:
                cursor = driver.cursor()
                try:
                    cursor.executemany(sql, rows)
                finally:
                    cursor.close()
                return
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            with driver.cursor() as pg_cursor, pg_cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
        except dbapi.Error as exc:
            raise DBAPIError.instance(
                statement, None, exc, dbapi.Error, dialect=self.database.engine.dialect
            ) from exc

    def _existing_versions(self, conn: Connection, ids: list[str]) -> list[Any]:
        """(stix_id, version_key, pk, is_current) of every stored version of ``ids``: one
        ``= ANY(array)`` query on PostgreSQL, IN lists of ``_SQLITE_IN_CHUNK`` on SQLite."""
        columns = "SELECT stix_id, version_key, pk, is_current FROM stix_objects WHERE "
        if self._is_pg:
            return list(conn.exec_driver_sql(columns + "stix_id = ANY(%s)", (ids,)))
        out: list[Any] = []
        for start in range(0, len(ids), _SQLITE_IN_CHUNK):
            part = ids[start : start + _SQLITE_IN_CHUNK]
            marks = ", ".join("?" * len(part))
            out.extend(conn.exec_driver_sql(f"{columns}stix_id IN ({marks})", tuple(part)))
        return out

    def _next_added(self, count: int) -> datetime:
        """The first of ``count`` strictly increasing ``date_added`` values (naive UTC)."""
        now = self.clock.now().astimezone(UTC).replace(tzinfo=None)
        last = self._last_added
        start = now if last is None or now > last else last + timedelta(microseconds=1)
        self._last_added = start + timedelta(microseconds=max(count - 1, 0))
        return start

    def _write(
        self,
        conn: Connection,
        prepared: list[_Prepared],
        problems: list[Problem],
        run: _Run,
        delta: IngestReport,
    ) -> None:
        if self._is_pg:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        else:
            # Take the write lock first (waiting up to busy_timeout): a deferred transaction
            # that reads and then writes fails at once if another writer committed between.
            if not conn.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            # Bulk loading: fewer, larger WAL checkpoints (8192 pages instead of SQLite's
            # 1000), or none at all while a checkpointer thread does them beside the writer.
            pages = 0 if run.checkpointer is not None else _SQLITE_CHECKPOINT_PAGES
            conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={pages}")
        # Under the write lock: continue after the newest date_added of any writer, so that
        # keyset readers (TAXII) never see a new row behind a row they already served.
        latest = conn.execute(
            select(StixObject.date_added).order_by(StixObject.date_added.desc()).limit(1)
        ).scalar()
        if latest is not None:
            latest = latest.astimezone(UTC).replace(tzinfo=None)
            # Every row is this run's if the table was empty at its first batch and the
            # newest row is still the last one it added: date_added only grows, so any
            # other writer's row would be newer. Then only ids this run stored before can
            # have versions (a first load into an empty store reads nothing back).
            run.exclusive = run.exclusive and latest == self._last_added
            if self._last_added is None or latest > self._last_added:
                self._last_added = latest
        elif run.batches == 0:
            run.exclusive = True
        run.batches += 1

        existing: set[tuple[str, str]] = set()
        current: dict[str, tuple[str, int]] = {}
        known_ids: set[str] = set()
        c = _objects.c
        unique = list(dict.fromkeys([p.stix_id for p in prepared]))
        ids = unique
        if run.exclusive:
            stored_here = run.stored_ids
            known_here = [sid for sid in ids if sid in stored_here] if latest is not None else []
            stored_here.update(ids)
            ids = known_here
        else:
            run.stored_ids.clear()
            if latest is None:  # an empty table holds no versions to read
                ids = []
        if ids:
            for sid, vkey, pk, is_current in self._existing_versions(conn, ids):
                existing.add((sid, vkey))
                known_ids.add(sid)
                if is_current:
                    current[sid] = (vkey, pk)

        demote: list[int] = []
        replaced: list[str] = []
        if not existing and len(unique) == len(prepared):
            # The usual case (new objects, a first load): no id twice, none stored yet, so
            # every object is inserted and becomes current.
            to_insert = new_current = prepared
            for p in prepared:
                p.is_current = True
        else:
            to_insert, new_current = self._decide(prepared, existing, current, delta)
            for p in new_current:
                cur = current.get(p.stix_id)
                if cur is not None:
                    demote.append(cur[1])
                if p.stix_id in known_ids:
                    replaced.append(p.stix_id)

        if to_insert:
            stamps = _added_texts(self._next_added(len(to_insert)), len(to_insert), run.ts_suffix)
            rows_out = []
            for p, stamp in zip(to_insert, stamps, strict=True):
                row = p.row
                row[_ROW_IS_CURRENT] = 1 if p.is_current else 0
                row[_ROW_DATE_ADDED] = stamp
                rows_out.append(row)
            self._bulk(conn, "stix_objects", _OBJECT_COLUMNS, self._sql_objects, rows_out)
        if demote:
            for start in range(0, len(demote), _IN_CHUNK):
                conn.execute(
                    update(_objects)
                    .where(c.pk.in_(demote[start : start + _IN_CHUNK]))
                    .values(is_current=False)
                )
        if replaced:
            self._drop_derived(conn, replaced, current)

        edge_rows: list[tuple[Any, ...]] = []
        obs_rows: list[tuple[Any, ...]] = []
        for p in new_current:
            edge_rows.extend(p.edges)
            obs_rows.extend(p.observables)
        if edge_rows:
            self._bulk(conn, "stix_edges", _EDGE_COLUMNS, self._sql_edges, edge_rows)
        if obs_rows:
            self._bulk(
                conn, "stix_observables", _OBSERVABLE_COLUMNS, self._sql_observables, obs_rows
            )

        errors = [pr for pr in problems if pr.severity == "error"]
        if errors:
            now = self.clock.now()
            conn.execute(
                insert(_quarantine),
                [
                    {
                        "run_id": run.run_id,
                        "source": run.source,
                        "feed_id": run.feed_id,
                        "input_index": pr.index,
                        "stix_id": pr.stix_id,
                        "field": _clean_text(pr.field, 250) if pr.field else None,
                        "problem": pr.problem,
                        "excerpt": pr.excerpt,
                        "created_at": now,
                    }
                    for pr in errors
                ],
            )
        delta.new_versions += len(to_insert)
        delta.quarantined += len(errors)
        delta.problems.extend(problems)
        delta.changed_ids.extend(p.stix_id for p in new_current)

    @staticmethod
    def _decide(
        prepared: list[_Prepared],
        existing: set[tuple[str, str]],
        current: dict[str, tuple[str, int]],
        delta: IngestReport,
    ) -> tuple[list[_Prepared], list[_Prepared]]:
        """(versions to insert, versions that become current): stored or repeated versions
        are dropped (counted unchanged); per id the greatest new version becomes current if
        it is newer than the stored current one."""
        to_insert: list[_Prepared] = []
        seen: set[tuple[str, str]] = set()
        best: dict[str, _Prepared] = {}
        for p in prepared:
            key = (p.stix_id, p.version_key)
            if key in existing or key in seen:
                delta.unchanged += 1
                continue
            seen.add(key)
            to_insert.append(p)
            b = best.get(p.stix_id)
            if b is None or p.version_key > b.version_key:
                best[p.stix_id] = p
        new_current: list[_Prepared] = []
        for sid, p in best.items():
            cur = current.get(sid)
            if cur is None or p.version_key > cur[0]:
                p.is_current = True
                new_current.append(p)
        return to_insert, new_current

    def _drop_derived(
        self, conn: Connection, replaced: list[str], current: dict[str, tuple[str, int]]
    ) -> None:
        """Delete the edges and observables of the versions that stop being current.

        Reference edges are found by ``source_id``; a relationship's edge by its old
        ``source_ref`` (read from the old version) and ``via_id``.
        """
        e = _edges.c
        for start in range(0, len(replaced), _IN_CHUNK):
            part = replaced[start : start + _IN_CHUNK]
            conn.execute(delete(_edges).where(e.source_id.in_(part), e.kind != "relationship"))
            conn.execute(delete(_observables).where(_observables.c.stix_id.in_(part)))
        old_pks = [
            current[sid][1]
            for sid in replaced
            if sid.startswith("relationship--") and sid in current
        ]
        for start in range(0, len(old_pks), _IN_CHUNK):
            rows = conn.execute(
                select(_objects.c.stix_id, _objects.c.raw).where(
                    _objects.c.pk.in_(old_pks[start : start + _IN_CHUNK])
                )
            )
            pairs = [
                {"src": raw.get("source_ref"), "via": sid}
                for sid, raw in rows
                if isinstance(raw, dict) and isinstance(raw.get("source_ref"), str)
            ]
            if pairs:
                conn.execute(
                    delete(_edges).where(
                        e.source_id == bindparam("src"),
                        e.via_id == bindparam("via"),
                        e.kind == "relationship",
                    ),
                    pairs,
                )

    # ------------------------------------------------------------------ runs and markings

    def _stored_markings(self) -> dict[str, TLP]:
        """Custom TLP marking definitions already in the store (id → TLP)."""
        out: dict[str, TLP] = {}
        with self.database.engine.connect() as conn:
            rows = conn.execute(
                select(StixObject.stix_id, StixObject.raw).where(
                    StixObject.type == "marking-definition", StixObject.is_current.is_(True)
                )
            )
            for sid, raw in rows:
                tlp = marking_definition_tlp(raw) if isinstance(raw, dict) else None
                if tlp is not None:
                    out[sid] = tlp
        return out

    def _start_run(self, source: str, origin: str | None, feed_id: int | None) -> int:
        with self.database.engine.begin() as conn:
            result = conn.execute(
                insert(_runs).values(
                    source=source,
                    origin=_clean_text(origin, 2000) if origin else None,
                    feed_id=feed_id,
                    started_at=self.clock.now(),
                    read=0,
                    stored=0,
                    new_versions=0,
                    unchanged=0,
                    quarantined=0,
                )
            )
            key = result.inserted_primary_key
            return int(key[0]) if key is not None else 0

    def _finish_run(self, report: IngestReport, error: str | None) -> None:
        try:
            with self.database.engine.begin() as conn:
                conn.execute(
                    update(_runs)
                    .where(_runs.c.id == report.run_id)
                    .values(
                        finished_at=self.clock.now(),
                        error=_clean_text(error, 4000) if error else None,
                        **report.counts(),
                    )
                )
        except DBAPIError:
            log.exception("could not record the end of ingest run %s", report.run_id)

    def _record_failure(
        self, origin: str, source: str, feed_id: int | None, error: Exception
    ) -> None:
        """A whole input failed: a run with the error plus one quarantine row."""
        source = _clean_text(source, 200)
        try:
            run_id = self._start_run(source, origin, feed_id)
            self._quarantine_input(run_id, source, feed_id, error)
            self._finish_run(IngestReport(run_id=run_id), _clean_text(str(error), 4000))
        except DBAPIError:
            log.exception("could not record the failed ingest of %s", origin)

    def _quarantine_input(
        self, run_id: int, source: str, feed_id: int | None, error: Exception
    ) -> None:
        """One quarantine row for a problem of the whole input (no object index)."""
        with self.database.engine.begin() as conn:
            conn.execute(
                insert(_quarantine).values(
                    run_id=run_id,
                    source=source,
                    feed_id=feed_id,
                    input_index=None,
                    stix_id=None,
                    field=None,
                    problem=_clean_text(str(error), 4000),
                    excerpt=None,
                    created_at=self.clock.now(),
                )
            )


_OTHER_REF_KINDS_ORDERED = tuple(k for k in EDGE_REF_KINDS if k != "created_by_ref")
_OTHER_REF_KINDS = frozenset(_OTHER_REF_KINDS_ORDERED)


#: Inputs smaller than this are prepared in-process (a fork is not worth it).
_FORK_MIN_BYTES = 4 * 1024 * 1024
#: The input is decoded in pieces of about this size: the unit the two processes claim.
_SEGMENT_BYTES = 1024 * 1024
#: Pieces the preparation process decodes ahead of the one it prepares (for the writer to
#: take when it has nothing to store).
_DECODE_AHEAD = 2
_MSG_COUNT, _MSG_BATCH, _MSG_DONE, _MSG_BROKEN = b"C", b"B", b"D", b"P"
_MSG_ERROR, _MSG_UNPARSABLE, _MSG_EOF = b"E", b"U", b""
_MARKING = "marking-definition"


def _fork_is_safe() -> bool:
    """True where a ``fork`` child can run Python safely: Linux, and this process has one
    thread (a fork copies only the calling thread; locks held by others would never be
    released in the child). Counted from ``/proc`` so threads started by C code count too."""
    if sys.platform != "linux":
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _add_input_markings(markings: dict[str, TLP], items: list[Any]) -> None:
    """Add the TLP marking definitions of this input (custom ids included) to ``markings``
    before any object is prepared, so an object may precede its marking definition."""
    for obj in items:
        if isinstance(obj, dict) and obj.get("type") == _MARKING:
            tlp = marking_definition_tlp(obj)
            oid = obj.get("id")
            if tlp is not None and isinstance(oid, str):
                markings[oid] = tlp


_Prepare = Callable[[list[Any], int, _Run], tuple[list[_Prepared], list[Problem]]]


def _prepare_chunk(
    prepare: _Prepare, chunk: list[Any], start: int, run: _Run
) -> tuple[list[_Prepared], list[Problem]]:
    run.cache.trim()
    if len(run.formatted) > CheckCache.LIMIT:
        run.formatted.clear()
    return prepare(chunk, start, run)


def _past_horizon(piece: list[Any]) -> None:
    """A piece read after the marking horizon: it cannot hold a marking definition."""
    if any(isinstance(obj, dict) and obj.get("type") == _MARKING for obj in piece):
        raise IngestError("a marking definition was found past the marking horizon")


class _Pieces:
    """The pieces of the input, shared by both processes (created before the fork).

    The child reads the input piece by piece (``SegmentedInput``) and publishes each
    piece: its byte range (-1 when it was not cut out and cannot be decoded on its own),
    the index of its first object and its number of objects. Either process claims the
    next piece to prepare: the child any piece (it reads further when needed), the writer
    only a published one it can decode itself.
    """

    _FIELDS = 4

    def __init__(self, context: Any, size: int) -> None:
        # every piece but the last spans at least _SEGMENT_BYTES, plus one uncut piece
        self.capacity = size // _SEGMENT_BYTES + 2
        self._lock = context.Lock()
        self._table = context.Array("q", self._FIELDS * self.capacity, lock=False)
        self._published = context.Value("q", 0, lock=False)
        self._claimed = context.Value("q", 0, lock=False)

    @property
    def published(self) -> int:
        return int(self._published.value)

    def publish(self, bounds: tuple[int, int] | None, first: int, count: int) -> int:
        start, end = bounds if bounds is not None else (-1, -1)
        with self._lock:
            index = int(self._published.value)
            if index >= self.capacity:
                raise IngestError("the input was cut into more pieces than it can hold")
            at = self._FIELDS * index
            self._table[at : at + self._FIELDS] = [start, end, first, count]
            self._published.value = index + 1
        return index

    def claim_any(self) -> int:
        """The next piece (the child's claim: it may not be read yet)."""
        with self._lock:
            index = int(self._claimed.value)
            self._claimed.value = index + 1
        return index

    def claim_published(self) -> tuple[int, int, int, int] | None:
        """(start, end, first, count) of the next piece if it is published and was cut out
        of the input, else None (the writer's claim)."""
        with self._lock:
            index = int(self._claimed.value)
            if index >= self._published.value:
                return None
            at = self._FIELDS * index
            start, end, first, count = (int(v) for v in self._table[at : at + self._FIELDS])
            if start < 0:
                return None
            self._claimed.value = index + 1
        return start, end, first, count


class _PieceReader:
    """The preparation process's reading of the input: each piece is published in the
    shared table as it is read, and kept until it is prepared or taken by the writer."""

    def __init__(self, data: bytes, origin: str, pieces: _Pieces) -> None:
        """:raises ValidationError: the start of the input cannot be read."""
        self.source = SegmentedInput(data, origin, _SEGMENT_BYTES)
        self._reading = iter(self.source)
        self._pieces = pieces
        #: piece index → (index of its first object, its objects)
        self.decoded: dict[int, tuple[int, list[Any]]] = {}
        self.total = 0
        self.finished = False
        #: the decoding error that ended the input early
        self.broken: ValidationError | None = None
        self.horizon_passed = False

    def read_next(self) -> None:
        try:
            piece = next(self._reading)
        except StopIteration:
            self.finished = True
            return
        except ValidationError as exc:
            self.broken, self.finished = exc, True
            return
        if self.horizon_passed:
            _past_horizon(piece)
        if not piece:
            return  # an empty objects array: nothing to claim
        index = self._pieces.publish(self.source.bounds, self.total, len(piece))
        self.decoded[index] = (self.total, piece)
        self.total += len(piece)

    def estimate(self) -> int:
        """The number of objects in the input: exact once read, else extrapolated."""
        if self.finished:
            return self.total
        source = self.source
        return max(self.total, round(self.total * source.size / max(1, source.read_bytes)))


def _prepare_from_bytes(
    data: bytes,
    origin: str,
    run: _Run,
    step: int,
    prepare: _Prepare,
    pieces: _Pieces,
    sender: Any,
) -> None:
    """Body of the preparation process.

    Messages: COUNT (an estimate of the number of objects, the bundle's spec_version and
    the TLP marking definitions of the input) or UNPARSABLE (the input cannot be read up to
    its last marking definition; nothing else follows); one BATCH per chunk of ``step``
    objects of the pieces it claimed, with a refined estimate; then DONE with the number of
    objects, or BROKEN with the decoding error and the number of objects before the damage
    when the input turns out to be malformed further on. An unexpected error is sent as
    ERROR.
    """
    try:
        try:
            reader = _PieceReader(data, origin, pieces)
        except ValidationError:  # the writer decodes it itself and reports it exactly
            sender.send_bytes(_MSG_UNPARSABLE)
            return
        # TLP marking definitions apply to the objects before them too: read past the last
        # one before preparing anything (they usually come first)
        source = reader.source
        while not reader.finished and (
            not reader.decoded or source.position < source.marking_horizon
        ):
            reader.read_next()
        if reader.broken is not None:  # nothing sent yet: the writer reports it exactly
            sender.send_bytes(_MSG_UNPARSABLE)
            return
        reader.horizon_passed = True
        learned: dict[str, TLP] = {}
        for _first, piece in reader.decoded.values():
            _add_input_markings(learned, piece)
        run.markings.update(learned)
        run.bundle_spec = source.bundle_spec
        found = {sid: int(tlp) for sid, tlp in learned.items()}
        count = (reader.estimate(), run.bundle_spec, found)
        sender.send_bytes(_MSG_COUNT + marshal.dumps(count))
        while True:
            index = pieces.claim_any()
            while not reader.finished and pieces.published <= index + _DECODE_AHEAD:
                reader.read_next()
            if index >= pieces.published:
                break
            for taken in [i for i in reader.decoded if i < index]:  # claimed by the writer
                del reader.decoded[taken]
            first, piece = reader.decoded.pop(index)
            for offset in range(0, len(piece), step):
                chunk = piece[offset : offset + step]
                prepared, problems = _prepare_chunk(prepare, chunk, first + offset, run)
                rows = [
                    (p.index, p.stix_id, p.version_key, p.row, p.edges, p.observables)
                    for p in prepared
                ]
                wrongs = [astuple(problem) for problem in problems]
                # marshal: plain values only; the fastest to write and read (same interpreter)
                body = (first + offset, rows, wrongs, len(chunk), reader.estimate())
                sender.send_bytes(_MSG_BATCH + marshal.dumps(body))
        broken = reader.broken
        if broken is None:
            sender.send_bytes(_MSG_DONE + marshal.dumps(reader.total))
        else:
            line = broken.line if isinstance(broken, ParseError) else None
            column = broken.column if isinstance(broken, ParseError) else None
            details = (reader.total, isinstance(broken, ParseError), broken.message, line, column)
            sender.send_bytes(_MSG_BROKEN + marshal.dumps(details))
    except (BrokenPipeError, ConnectionResetError):
        return  # the parent stopped reading (it failed or was interrupted)
    except BaseException as exc:  # reported to the parent, which raises it
        with suppress(OSError):
            sender.send_bytes(_MSG_ERROR + f"{type(exc).__name__}: {exc}".encode())
    finally:
        sender.close()


_Batch = tuple[list[_Prepared], list[Problem], int]


class _ChildBatches:
    """A forked preparation process, the thread that receives its messages, and this
    process's share of the preparation.

    The child reads the input piece by piece and prepares the pieces it claims in chunks of
    1/8 batch, sending each as soon as it is ready; it never waits for the writer (a reader
    thread receives the messages; the writer decodes them when it takes them). ``batches()``
    yields the chunks in input order, merged up to a batch; when the next one has not
    arrived, this process claims the next piece the child has read ahead, decodes and
    prepares it itself instead of waiting. Leaving the ``with`` block stops the child
    whatever happened.
    """

    _QUEUE = 16

    def __init__(
        self, data: bytes, origin: str, run: _Run, batch_size: int, prepare: _Prepare
    ) -> None:
        context = multiprocessing.get_context("fork")
        self._data, self._origin, self._run, self._prepare = data, origin, run, prepare
        self._limit = batch_size
        #: the child's estimate of the number of objects (exact once it is done)
        self.estimate = 0
        self._pieces = _Pieces(context, len(data))
        self._receiver, sender = context.Pipe(duplex=False)
        for stream in (sys.stdout, sys.stderr):  # the child must not repeat buffered output
            with suppress(Exception):
                stream.flush()
        self._process = context.Process(
            target=_prepare_from_bytes,
            args=(data, origin, run, max(1, batch_size // 8), prepare, self._pieces, sender),
            name="stix-ingest-prepare",
            daemon=True,
        )
        self._process.start()
        sender.close()
        self._queue: queue.Queue[tuple[bytes, bytes]] = queue.Queue(self._QUEUE)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._read, name="stix-ingest-reader", daemon=True)
        self._thread.start()

    def __enter__(self) -> _ChildBatches:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._thread.join()
        self._receiver.close()

    def _put(self, item: tuple[bytes, bytes]) -> bool:
        while not self._stopping.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _read(self) -> None:
        while True:
            try:
                message = self._receiver.recv_bytes()
            except (EOFError, OSError):
                self._put((_MSG_EOF, b""))
                return
            # decoded by the writer thread when it takes the message: decoding here would
            # compete with the writer's SQLite calls for the GIL at every row
            tag = message[:1]
            if not self._put((tag, message)) or tag not in (_MSG_BATCH, _MSG_COUNT):
                return

    def _check(self, tag: bytes, body: bytes) -> None:
        if tag == _MSG_ERROR:
            raise IngestError(f"ingest preparation failed: {body[1:].decode()}")
        if tag == _MSG_EOF:
            self._process.join(5)
            raise IngestError(
                "the ingest preparation process ended unexpectedly "
                f"(exit code {self._process.exitcode})"
            )

    def count(self) -> int | None:
        """An estimate of the number of objects in the input, or None if it could not be
        read (then nothing else comes). The run learns the input's TLP marking
        definitions and bundle spec_version from the child."""
        tag, body = self._queue.get()
        self._check(tag, body)
        if tag == _MSG_UNPARSABLE:
            return None
        if tag != _MSG_COUNT:
            raise IngestError(f"ingest preparation sent {tag!r} before the object count")
        estimate, spec, found = marshal.loads(memoryview(body)[1:])  # noqa: S302 - our child
        self._run.bundle_spec = spec
        self._run.markings.update({sid: TLP(rank) for sid, rank in found.items()})
        self.estimate = int(estimate)
        return self.estimate

    def batches(self) -> Iterator[_Batch]:
        """The prepared objects in input order: each time all the chunks ready after the
        last one stored (at most a batch). When the next one is not ready, this process
        prepares the next piece the child has read ahead, or else waits for the child.

        :raises ValidationError: the input is malformed after the objects yielded (as
            ``parse_stix_bytes`` reports it).
        """
        ready: dict[int, _Batch] = {}
        stored = 0
        end: tuple[int, ValidationError | None] | None = None  # (objects, error) when known
        while True:
            # take in what the child has sent, up to a batch ready to store: the rest waits
            # in the bounded queue (and then the pipe), so a fast child cannot fill memory
            size = self._ready_from(stored, ready)
            while size < self._limit:
                try:
                    tag, body = self._queue.get_nowait()
                except queue.Empty:
                    break
                end = self._take(tag, body, ready) or end
                size = self._ready_from(stored, ready)
            if end is not None and stored >= end[0]:
                break
            if size:
                prepared: list[_Prepared] = []
                problems: list[Problem] = []
                taken = 0
                while taken < size:
                    more, more_problems, more_size = ready.pop(stored + taken)
                    prepared.extend(more)
                    problems.extend(more_problems)
                    taken += more_size
                stored += size
                yield prepared, problems, size
                continue
            piece = self._pieces.claim_published()
            if piece is not None:
                start, stop, first, count = piece
                objects = decode_piece(self._data, start, stop)
                if objects is None or len(objects) != count:  # the child read it: cannot fail
                    raise IngestError("a piece of the input did not decode a second time")
                own = _prepare_chunk(self._prepare, objects, first, self._run)
                ready[first] = (own[0], own[1], count)
                continue
            if end is not None:
                raise IngestError("ingest preparation ended before every object was prepared")
            tag, body = self._queue.get()
            end = self._take(tag, body, ready) or end
        if end[1] is not None:
            raise end[1]

    def _ready_from(self, stored: int, ready: dict[int, _Batch]) -> int:
        """Objects ready to store next: consecutive chunks from ``stored``, up to a batch."""
        size = 0
        while stored + size in ready and size < self._limit:
            size += ready[stored + size][2]
        return size

    def _take(
        self, tag: bytes, body: bytes, ready: dict[int, _Batch]
    ) -> tuple[int, ValidationError | None] | None:
        """File one message from the child; at its end, the number of objects in the
        input and the error that ended it early (if any)."""
        self._check(tag, body)
        if tag == _MSG_BATCH:
            start, rows, wrongs, size, estimate = marshal.loads(memoryview(body)[1:])  # noqa: S302
            ready[start] = ([_Prepared(*row) for row in rows], [Problem(*w) for w in wrongs], size)
            self.estimate = estimate
            return None
        if tag == _MSG_DONE:
            self.estimate = marshal.loads(memoryview(body)[1:])  # noqa: S302
            return self.estimate, None
        if tag == _MSG_BROKEN:
            total, parse, message, line, column = marshal.loads(memoryview(body)[1:])  # noqa: S302
            error: ValidationError
            if parse:
                error = ParseError(message, line=line, column=column, location=self._origin)
            else:
                error = ValidationError(message, location=self._origin)
            return total, error
        raise IngestError(f"ingest preparation sent an unexpected {tag!r}")


def _added_texts(start: datetime, count: int, suffix: str) -> list[str]:
    """``count`` consecutive microseconds from ``start`` (naive UTC) as the database's
    timestamp text (``YYYY-MM-DD HH:MM:SS.ffffff`` + ``suffix``): the date and time are
    formatted once per second, not once per row."""
    out: list[str] = []
    moment = start
    while len(out) < count:
        second = moment.replace(microsecond=0)
        prefix = second.isoformat(" ") + "."
        first = moment.microsecond
        last = min(1_000_000, first + count - len(out))
        out.extend([f"{prefix}{micro:06d}{suffix}" for micro in range(first, last)])
        moment = second + timedelta(seconds=1)
    return out


def _chunk_bounds(total: int, size: int) -> list[tuple[int, int]]:
    """Batch boundaries for the pipeline: a small first batch (1/8 of ``size``) so the
    writer starts early instead of idling while a whole batch is prepared, then ``size``."""
    bounds: list[tuple[int, int]] = []
    start = 0
    step = max(1, size // 8)
    while start < total:
        end = min(total, start + step)
        bounds.append((start, end))
        start, step = end, size
    return bounds


def _edges_of(otype: str, sid: str, obj: dict[str, Any]) -> list[tuple[Any, ...]]:
    """stix_edges rows of one object (columns as in ``_EDGE_COLUMNS``)."""
    out: list[tuple[Any, ...]] = []
    if otype == "relationship":
        out.append(
            (
                obj["source_ref"],
                obj["target_ref"],
                "relationship",
                obj["relationship_type"][:250],
                sid,
            )
        )
    by = obj.get("created_by_ref")
    if by is not None:
        out.append((sid, by, "created_by_ref", None, sid))
    if _OTHER_REF_KINDS.isdisjoint(obj):  # most objects carry no other reference property
        return out
    for kind in _OTHER_REF_KINDS_ORDERED:
        value = obj.get(kind)
        if value is None:
            continue
        if isinstance(value, str):
            out.append((sid, value, kind, None, sid))
        else:
            for target in dict.fromkeys(value):
                out.append((sid, target, kind, None, sid))
    return out


def _observables_of(sid: str, obj: dict[str, Any]) -> list[tuple[Any, ...]]:
    """stix_observables rows of one object (columns as in ``_OBSERVABLE_COLUMNS``)."""
    out: list[tuple[Any, ...]] = []
    for obs in extract_observables(obj):
        value = obs.value
        if len(value) > VALUE_LENGTH or "\x00" in value:
            continue
        rng = _ip_range(obs) if obs.kind in _IP_KINDS else None
        if rng is None:
            out.append((sid, obs.kind, value, None, None, None))
        else:
            out.append((sid, obs.kind, value, rng[0], rng[1], rng[2]))
    return out


_IP_KINDS = frozenset({"ipv4", "ipv6", "ipv4-cidr", "ipv6-cidr"})
_FAMILIES = {"ipv4": (socket.AF_INET, 32, 4), "ipv6": (socket.AF_INET6, 128, 6)}


def _ip_range(obs: Observable) -> tuple[int, str, str] | None:
    """``ip_range`` with a socket-based fast path for the normalised values the extractor
    produces (``inet_pton`` is ~10x cheaper than ``ipaddress``); odd values fall back."""
    family, bits, version = _FAMILIES[obs.kind[:4]]
    address, slash, prefix = obs.value.partition("/")
    if slash and not obs.kind.endswith("cidr"):
        return None
    if slash and not (prefix.isascii() and prefix.isdigit() and len(prefix) <= 3):
        return ip_range(obs)
    try:
        start = int.from_bytes(socket.inet_pton(family, address), "big")
        length = int(prefix) if prefix else bits
    except (OSError, ValueError):
        return ip_range(obs)
    if not 0 <= length <= bits:
        return ip_range(obs)
    host_mask = (1 << (bits - length)) - 1
    start &= ~host_mask
    return version, f"{start:032x}", f"{start | host_mask:032x}"
