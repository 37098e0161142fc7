"""Tables of feed collection.

Owns: ``feeds`` (the registry, with health and back-off state), ``feed_cursors`` (per-feed,
per-key collection state: a TAXII collection's ``added_after``, a URL's ETag/Last-Modified, a
file's mtime and hash, a CSAF document's hash, a MISP event's timestamp), ``feed_runs`` (one row
per collect run: counts, error, lag), ``feed_suppressions`` (the reviewable warning-list log),
``feed_allow_list`` (operator allow-list entries) and ``feed_csaf_documents`` (the raw CSAF
of every collected advisory, valid or quarantined, with validation messages).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nca_share.db import Base, JSONType


class Feed(Base):
    """One registered source. Secrets live only in ``secrets_encrypted`` (Fernet)."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    url: Mapped[str | None] = mapped_column(Text)
    #: type-specific settings (CSV mapping, TAXII collections, …); never secrets
    config: Mapped[dict[str, Any]]
    #: none, basic, bearer, api-key, client-cert
    auth_type: Mapped[str] = mapped_column(String(20), default="none")
    #: non-secret auth settings: username, header name
    auth_config: Mapped[dict[str, Any]]
    secrets_encrypted: Mapped[str | None] = mapped_column(Text)
    interval_s: Mapped[int] = mapped_column(Integer, default=3600)
    default_tlp: Mapped[str] = mapped_column(String(20), default="AMBER")
    #: Admiralty source reliability A–F
    reliability: Mapped[str] = mapped_column(String(1), default="F")
    confidence: Mapped[int | None] = mapped_column(Integer)
    lifetime_days: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    #: declared in config/feeds.toml (reconciled on start) rather than added by hand
    from_catalogue: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # health and back-off
    last_run_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    #: not due before this (set after a failure: exponential back-off)
    retry_after: Mapped[datetime | None]
    last_added: Mapped[int | None] = mapped_column(Integer)
    #: seconds between the newest collected item's own time and the run (where known)
    lag_s: Mapped[int | None] = mapped_column(Integer)


class FeedCursor(Base):
    """Collection state of one feed for one key (collection URL, document URL, …)."""

    __tablename__ = "feed_cursors"
    __table_args__ = (UniqueConstraint("feed_id", "key", name="uq_feed_cursors_feed_id_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(1000))
    state: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class FeedRun(Base):
    """One collect run of one feed."""

    __tablename__ = "feed_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime | None]
    #: running, ok, error
    status: Mapped[str] = mapped_column(String(20))
    objects_read: Mapped[int] = mapped_column(Integer, default=0)
    objects_added: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    suppressed: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    lag_s: Mapped[int | None] = mapped_column(Integer)
    #: the first ``MAX_PROBLEM_DETAILS`` skipped records: ``{"location", "message"}``
    problem_details: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)


#: how many skipped records a run keeps for review
MAX_PROBLEM_DETAILS = 200


class FeedSuppression(Base):
    """An object a warning list kept out of the store, and why (for review)."""

    __tablename__ = "feed_suppressions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("feed_runs.id", ondelete="SET NULL"))
    stix_id: Mapped[str] = mapped_column(String(300))
    object_type: Mapped[str] = mapped_column(String(250))
    value: Mapped[str] = mapped_column(Text)
    list_name: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class FeedAllowEntry(Base):
    """An operator allow-list entry: values that must never cause a notice."""

    __tablename__ = "feed_allow_list"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_feed_allow_list_kind_value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: ip (address or CIDR), domain (and its subdomains), url (exact)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(2048))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]


class FeedCsafDocument(Base):
    """The raw CSAF of a collected advisory (latest fetched version per URL)."""

    __tablename__ = "feed_csaf_documents"
    __table_args__ = (
        UniqueConstraint("feed_id", "url", name="uq_feed_csaf_documents_feed_id_url"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    tracking_id: Mapped[str | None] = mapped_column(String(300), index=True)
    version: Mapped[str | None] = mapped_column(String(50))
    sha256: Mapped[str] = mapped_column(String(64))
    valid: Mapped[bool] = mapped_column(Boolean)
    #: validation messages (empty when valid) and hash problems
    messages: Mapped[list[str]] = mapped_column(JSONType)
    raw: Mapped[dict[str, Any]] = mapped_column(JSONType)
    fetched_at: Mapped[datetime]
