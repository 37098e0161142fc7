"""Tables of the versioned STIX store.

Owns: ``stix_objects`` (one row per version of every object, the current one flagged),
``stix_edges`` (relationships and reference edges of current versions), ``stix_observables``
(the observable index of current versions), ``stix_quarantine`` (every rejected object with
the reason) and ``stix_ingest_runs`` (one row per ingest, read by feed health).

The hot ingest path writes these tables with SQLAlchemy Core (see ``nca_share.stix.ingest``);
the ORM classes here are for reads and for the schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from nca_share.db import Base, JSONType

#: Longest STIX id we accept: a type (≤ 250) + "--" + a UUID (36).
ID_LENGTH = 300
#: ``name`` is a searchable, truncated copy of the object's name.
NAME_LENGTH = 300
#: Normalised observable values longer than this are not indexed.
VALUE_LENGTH = 2048


class StixObject(Base):
    """One version of one STIX object (stored with STIX 2.1 semantics).

    ``version_key`` is ``modified`` (or ``created`` when an object has no ``modified``)
    normalised to ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, or ``""`` for objects without either
    (SCOs): it orders versions as a string and makes (stix_id, version_key) unique.
    """

    __tablename__ = "stix_objects"
    __table_args__ = (
        UniqueConstraint("stix_id", "version_key", name="uq_stix_objects_stix_id_version_key"),
        Index("ix_stix_objects_type_current", "type", "is_current"),
        Index("ix_stix_objects_date_added_pk", "date_added", "pk"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stix_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    type: Mapped[str] = mapped_column(String(250))
    spec_version: Mapped[str] = mapped_column(String(10))
    original_spec_version: Mapped[str] = mapped_column(String(10))
    created: Mapped[datetime | None]
    modified: Mapped[datetime | None]
    version_key: Mapped[str] = mapped_column(String(40))
    is_current: Mapped[bool] = mapped_column(Boolean)
    revoked: Mapped[bool] = mapped_column(Boolean)
    valid_from: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]
    #: Effective TLP rank: 0 CLEAR, 1 GREEN, 2 AMBER, 3 AMBER+STRICT, 4 RED.
    tlp: Mapped[int] = mapped_column(SmallInteger)
    #: True when the object carried no TLP marking and the ingest default was applied.
    tlp_defaulted: Mapped[bool] = mapped_column(Boolean)
    #: Every marking-definition id the object references (object and granular markings).
    marking_refs: Mapped[list[str]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(200))
    feed_id: Mapped[int | None] = mapped_column(Integer)
    date_added: Mapped[datetime]
    name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    confidence: Mapped[int | None] = mapped_column(Integer)
    raw: Mapped[dict[str, Any]] = mapped_column(JSONType)


class StixEdge(Base):
    """A directed edge between two STIX ids, derived from the current version of ``via_id``.

    ``kind`` is ``relationship`` (then ``relationship_type`` is set and ``via_id`` is the
    relationship's id) or the reference property (``object_refs``, ``created_by_ref``,
    ``sighting_of_ref``, ``where_sighted_refs``, ``observed_data_refs``, ``sample_refs``,
    ``sample_ref``), with ``via_id`` = ``source_id`` = the object carrying the reference.
    Targets may not exist (yet): dangling edges are kept. Edges of an object are found by
    ``source_id`` (a relationship's by its ``source_ref`` and ``via_id``), so ``via_id``
    needs no index of its own.
    """

    __tablename__ = "stix_edges"
    __table_args__ = (
        Index("ix_stix_edges_source", "source_id", "kind"),
        Index("ix_stix_edges_target", "target_id", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    target_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    kind: Mapped[str] = mapped_column(String(40))
    relationship_type: Mapped[str | None] = mapped_column(String(250))
    via_id: Mapped[str] = mapped_column(String(ID_LENGTH))


class StixObservable(Base):
    """One observable value found in the current version of ``stix_id``.

    IPs and CIDRs also carry ``ip_version`` and the range ``ip_start``..``ip_end`` as 32
    lower-case hex digits, so containment is a string range comparison on every backend.
    """

    __tablename__ = "stix_observables"
    __table_args__ = (
        Index("ix_stix_observables_kind_value", "kind", "value"),
        Index("ix_stix_observables_ip", "ip_version", "ip_start", "ip_end"),
        Index("ix_stix_observables_stix_id", "stix_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stix_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(VALUE_LENGTH))
    ip_version: Mapped[int | None] = mapped_column(SmallInteger)
    ip_start: Mapped[str | None] = mapped_column(String(32))
    ip_end: Mapped[str | None] = mapped_column(String(32))


class StixQuarantine(Base):
    """An object (or a whole input) the ingest rejected, and why."""

    __tablename__ = "stix_quarantine"
    __table_args__ = (Index("ix_stix_quarantine_run", "run_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(200))
    feed_id: Mapped[int | None] = mapped_column(Integer)
    #: Position of the object in its input (0-based); None for whole-input problems.
    input_index: Mapped[int | None] = mapped_column(Integer)
    stix_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    field: Mapped[str | None] = mapped_column(String(250))
    problem: Mapped[str] = mapped_column(Text)
    #: The start of the offending object's JSON (escaped text, never interpreted).
    excerpt: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class StixIngestRun(Base):
    """One ingest of one input (a file, URL, stdin or a feed collection)."""

    __tablename__ = "stix_ingest_runs"
    __table_args__ = (Index("ix_stix_ingest_runs_feed", "feed_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str | None] = mapped_column(String(2000))
    feed_id: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    read: Mapped[int] = mapped_column(Integer, default=0)
    stored: Mapped[int] = mapped_column(Integer, default=0)
    new_versions: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    #: A whole-input failure (unreadable JSON, fetch error), else None.
    error: Mapped[str | None] = mapped_column(Text)
