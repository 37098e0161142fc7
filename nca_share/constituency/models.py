"""Tables of the constituency: organisations, their contacts, delivery preferences, maturity
assessments, IT-supplier delegations and assets (with verification and overlap review), and
partnerships with their memberships, invitations and join requests.

Users and roles (who coordinates a partnership, who is a member of an organisation) live in
``nca_share.auth``; these tables keep plain user references (id or name) for who/when/why.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nca_share.db import Base, JSONType, utcnow

#: The twelve Dutch provinces: slug -> display name.
PROVINCES: dict[str, str] = {
    "drenthe": "Drenthe",
    "flevoland": "Flevoland",
    "fryslan": "Fryslân",
    "gelderland": "Gelderland",
    "groningen": "Groningen",
    "limburg": "Limburg",
    "noord-brabant": "Noord-Brabant",
    "noord-holland": "Noord-Holland",
    "overijssel": "Overijssel",
    "utrecht": "Utrecht",
    "zeeland": "Zeeland",
    "zuid-holland": "Zuid-Holland",
}

SBI_VERSIONS = ("2008", "2025")
CLASSIFICATIONS = ("essential", "important", "registration_only", "out_of_scope")
DESIGNATIONS = ("essential", "important")
MATURITY_LEVELS = ("M0", "M1", "M2", "M3", "M4")
CONTACT_ROLES = ("primary", "security_officer", "24x7", "technical")
LANGUAGES = ("nl", "en")
CHANNELS = ("email", "webhook", "inbox", "atom", "taxii")
DELIVERY_MODES = ("immediate", "daily", "weekly")
URGENCIES = ("normal", "urgent")
ASSET_KINDS = ("cidr", "asn", "domain", "product")
ASSET_STATUSES = ("pending", "verified", "rejected")
VERIFICATION_METHODS = ("dns_txt", "analyst")
OVERLAP_STATUSES = ("open", "resolved")
PARTNERSHIP_KINDS = ("sector", "regional", "chain")
FORWARDING_POLICIES = ("automatic", "coordinator_approval")
MEMBERSHIP_STATUSES = ("invited", "active", "left", "removed")
JOIN_REQUEST_STATUSES = ("pending", "approved", "rejected")


class Organisation(Base):
    """A company or public body served by the authority, keyed by its KVK number."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kvk: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    sbi_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    sbi_version: Mapped[str] = mapped_column(String(4), default="2025")
    employees: Mapped[int | None] = mapped_column(Integer)
    turnover_eur: Mapped[int | None] = mapped_column(BigInteger)
    balance_eur: Mapped[int | None] = mapped_column(BigInteger)
    group_aggregated: Mapped[bool] = mapped_column(Boolean, default=False)
    province: Mapped[str | None] = mapped_column(String(32))
    municipality: Mapped[str | None] = mapped_column(String(100))
    nis2_entity_types: Mapped[list[str]] = mapped_column(JSONType, default=list)
    cer_critical_entity: Mapped[bool] = mapped_column(Boolean, default=False)
    # Derived by the sectors module on every change; never edited by hand.
    size_class: Mapped[str | None] = mapped_column(String(16))
    classification: Mapped[str | None] = mapped_column(String(24), index=True)
    classification_rule: Mapped[int | None] = mapped_column(Integer)
    classification_reasons: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # A national designation: who set it, when and why.
    designation: Mapped[str | None] = mapped_column(String(16))
    designation_by: Mapped[str | None] = mapped_column(String(200))
    designation_at: Mapped[datetime | None]
    designation_reason: Mapped[str | None] = mapped_column(Text)
    maturity_level: Mapped[str] = mapped_column(String(2), default="M0")
    maturity_assessed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="Contact.id"
    )
    assets: Mapped[list[Asset]] = relationship(
        back_populates="organisation", cascade="all, delete-orphan", order_by="Asset.id"
    )
    preferences: Mapped[DeliveryPreferences | None] = relationship(
        back_populates="organisation", cascade="all, delete-orphan"
    )


class Contact(Base):
    """A person at an organisation who receives warnings in a given role and language."""

    __tablename__ = "org_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(2), default="nl")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="contacts")


class DeliveryPreferences(Base):
    """How an organisation wants to receive information: channels, rhythm, threshold."""

    __tablename__ = "org_delivery_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), unique=True
    )
    channels: Mapped[list[str]] = mapped_column(JSONType, default=list)
    mode: Mapped[str] = mapped_column(String(10), default="immediate")
    min_urgency: Mapped[str] = mapped_column(String(10), default="normal")
    language: Mapped[str] = mapped_column(String(2), default="nl")
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="preferences")


class MaturityAssessment(Base):
    """One maturity assessment: a self-assessment (answers) or an analyst's level + reason."""

    __tablename__ = "org_maturity_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(10))  # "self" or "analyst"
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: The scored result: overall score, per-principle scores, reasons (nl/en), tip ids.
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    level: Mapped[str] = mapped_column(String(2))
    reason: Mapped[str | None] = mapped_column(Text)
    assessed_by: Mapped[str | None] = mapped_column(String(200))
    assessed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delegation(Base):
    """The company's consent that an IT supplier / MSP contact receives its warnings."""

    __tablename__ = "org_delegations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    supplier_name: Mapped[str] = mapped_column(String(300))
    supplier_kvk: Mapped[str | None] = mapped_column(String(8))
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(320))
    scope: Mapped[list[str]] = mapped_column(JSONType, default=list)
    consented_by: Mapped[str] = mapped_column(String(200))
    consented_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class Asset(Base):
    """Something an organisation claims to run: a network, an AS, a domain or a product.

    ``value`` is the normalised key (``192.0.2.0/24``, ``64500``, ``example.nl``, or the
    product's CPE / PURL / ``vendor:product``). CIDRs also keep their range as fixed-width hex
    (``range_start``/``range_end``) so overlaps are found with plain comparisons on any backend.
    """

    __tablename__ = "org_assets"
    __table_args__ = (
        UniqueConstraint("organisation_id", "kind", "value"),
        Index("ix_org_assets_kind_value", "kind", "value"),
        Index("ix_org_assets_range", "ip_version", "range_start", "range_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(String(500))
    ip_version: Mapped[int | None] = mapped_column(Integer)
    range_start: Mapped[str | None] = mapped_column(String(32))
    range_end: Mapped[str | None] = mapped_column(String(32))
    cpe: Mapped[str | None] = mapped_column(String(500))
    purl: Mapped[str | None] = mapped_column(String(500))
    vendor: Mapped[str | None] = mapped_column(String(200))
    product: Mapped[str | None] = mapped_column(String(200))
    version_range: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    verification_method: Mapped[str | None] = mapped_column(String(10))
    verify_token: Mapped[str | None] = mapped_column(String(64))
    verified_at: Mapped[datetime | None]
    verified_by: Mapped[str | None] = mapped_column(String(200))
    status_reason: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="assets")


class AssetOverlap(Base):
    """A review-queue entry: two organisations claim the same or overlapping asset."""

    __tablename__ = "org_asset_overlaps"
    __table_args__ = (UniqueConstraint("asset_id", "other_asset_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    asset_id: Mapped[int] = mapped_column(
        ForeignKey("org_assets.id", ondelete="CASCADE"), index=True
    )
    other_asset_id: Mapped[int] = mapped_column(
        ForeignKey("org_assets.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    detected_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolution: Mapped[str | None] = mapped_column(Text)


class Partnership(Base):
    """A samenwerkingsverband: a sector, regional or chain partnership of organisations."""

    __tablename__ = "partnerships"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(10), default="sector")
    description: Mapped[str | None] = mapped_column(Text)
    sectors: Mapped[list[str]] = mapped_column(JSONType, default=list)
    regions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    forwarding_policy: Mapped[str] = mapped_column(String(24), default="coordinator_approval")
    member_list_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Membership(Base):
    """An organisation's place in a partnership, with its life-cycle timestamps."""

    __tablename__ = "partnership_memberships"
    __table_args__ = (UniqueConstraint("partnership_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(10), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    joined_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(200))

    partnership: Mapped[Partnership] = relationship()
    organisation: Mapped[Organisation] = relationship()


class Invitation(Base):
    """An e-mail invitation to join a partnership; only the token's hash is stored."""

    __tablename__ = "partnership_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(2), default="nl")
    invited_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by: Mapped[str | None] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None]

    partnership: Mapped[Partnership] = relationship()


class JoinRequest(Base):
    """An organisation asks to join a partnership; a coordinator approves or rejects."""

    __tablename__ = "partnership_join_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    partnership_id: Mapped[int] = mapped_column(
        ForeignKey("partnerships.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    message: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))

    partnership: Mapped[Partnership] = relationship()
    organisation: Mapped[Organisation] = relationship()
