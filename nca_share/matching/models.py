"""Tables of matching: ``matches`` (who is affected by which STIX object, along which dimension,
with evidence, confidence and first/last seen), ``notices`` (the automatic "informatiedienst"
notices for verified assets, stored for the later distribution issue to deliver) and
``vuln_products`` (product knowledge per CVE read from NVD CPE configurations and the CISA KEV
catalogue; CSAF product trees are read from the STIX store itself).

There is no global correlation table: a match row exists only for an (organisation, object)
pair that matched.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from nca_share.db import Base, JSONType, utcnow

DIMENSIONS = ("network", "product", "sector", "nis2", "region", "partnership")
NOTICE_STATES = ("pending", "held", "delivered", "acknowledged")
NOTICE_CATEGORIES = ("compromised-host", "vulnerable-product", "exposure")


class Match(Base):
    """One organisation affected by one STIX object along one dimension, for one reason.

    ``match_key`` identifies the reason within (organisation, object, dimension): the asset and
    the matched value (``12|ipv4:192.0.2.10``) or the criterion (``sector:energy``). Re-running
    the matcher updates ``last_seen`` instead of adding a row.
    """

    __tablename__ = "matches"
    __table_args__ = (
        UniqueConstraint("organisation_id", "stix_id", "dimension", "match_key"),
        Index("ix_matches_stix_id", "stix_id"),
        Index("ix_matches_organisation_last_seen", "organisation_id", "last_seen"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("org_assets.id", ondelete="CASCADE"), index=True
    )
    stix_id: Mapped[str] = mapped_column(String(300))
    stix_type: Mapped[str] = mapped_column(String(60))
    dimension: Mapped[str] = mapped_column(String(16))
    match_key: Mapped[str] = mapped_column(String(500))
    #: What in the object matched (``192.0.2.10``, ``energy``, ``apache http_server 2.4.49``).
    matched_value: Mapped[str] = mapped_column(String(500))
    #: What of the organisation it matched (``192.0.2.0/24``, a sector, a province).
    asset_value: Mapped[str | None] = mapped_column(String(500))
    #: Which objects and values led here (path of STIX ids, relationship types, versions).
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: 0..100: source reliability × object confidence.
    confidence: Mapped[int] = mapped_column(SmallInteger)
    #: The effective TLP of the matched object (0..4), for filtering and notices.
    tlp: Mapped[int] = mapped_column(SmallInteger)
    source: Mapped[str] = mapped_column(String(200))
    explanation_nl: Mapped[str] = mapped_column(Text)
    explanation_en: Mapped[str] = mapped_column(Text)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)


class Notice(Base):
    """An automatic notice to one organisation about a network or product match on one of
    its verified assets. ``access_grants`` holds ``notice:<id>`` for the organisation (unless
    the source was TLP:RED: then the notice is ``held`` for an analyst, ungranted).

    Deduplicated per (asset, observable): a repeat within the re-notification window bumps
    ``repeat_count``/``last_seen_at`` of the latest notice instead of adding one.
    """

    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_dedup", "asset_id", "observable", "created_at"),
        Index("ix_notices_organisation_created", "organisation_id", "created_at"),
        Index("ix_notices_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("org_assets.id", ondelete="SET NULL"))
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id", ondelete="SET NULL"))
    stix_id: Mapped[str] = mapped_column(String(300))
    dimension: Mapped[str] = mapped_column(String(16))
    #: ``kind:value`` of what matched (``ipv4:192.0.2.10``, ``cve:CVE-2021-26855``).
    observable: Mapped[str] = mapped_column(String(500))
    category: Mapped[str] = mapped_column(String(20))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    tlp: Mapped[int] = mapped_column(SmallInteger)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    explanation_nl: Mapped[str] = mapped_column(Text)
    explanation_en: Mapped[str] = mapped_column(Text)
    repeat_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set by the distribution when delivered; None while pending.
    notified_at: Mapped[datetime | None]


class VulnProduct(Base):
    """One product (range) a CVE affects according to NVD or KEV."""

    __tablename__ = "vuln_products"
    __table_args__ = (
        UniqueConstraint("cve", "source", "product_key", "versions"),
        Index("ix_vuln_products_cve", "cve"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cve: Mapped[str] = mapped_column(String(32))
    #: ``nvd`` or ``kev``.
    source: Mapped[str] = mapped_column(String(8))
    product_key: Mapped[str] = mapped_column(String(400))
    cpe: Mapped[str | None] = mapped_column(String(500))
    #: A range in :mod:`nca_share.matching.versions` notation; ``*`` for any version.
    versions: Mapped[str] = mapped_column(String(300))
    label: Mapped[str] = mapped_column(String(300))
    #: KEV: the CVE is known to be exploited.
    known_exploited: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


# The constituency hooks that keep live indexes current and trigger retro-matching are
# registered with the models, so every process that uses the tables has them.
from nca_share.matching import live as _live  # noqa: E402

_live.install()
