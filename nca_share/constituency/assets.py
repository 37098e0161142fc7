"""AssetService: what organisations claim to run (CIDRs, ASNs, domains, products), how the
claims are verified (a DNS TXT token checked with dnspython against the configured resolver,
or an analyst's decision), and the review queue of overlapping claims by different
organisations (same or overlapping network, same AS, same or parent/child domain).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import dns.exception
import dns.resolver
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from nca_share.clock import Clock, SystemClock
from nca_share.config import Settings
from nca_share.constituency import validation as v
from nca_share.constituency.models import ASSET_KINDS, Asset, AssetOverlap, Organisation
from nca_share.errors import Conflict, NotFound, ValidationError

log = logging.getLogger(__name__)

TOKEN_PREFIX = "nca-share-verify="  # noqa: S105 - a record prefix, not a secret


@dataclass(frozen=True)
class VerificationResult:
    """Outcome of a DNS check: whether the token was found and what was seen."""

    verified: bool
    detail: str
    records: tuple[str, ...] = ()


class AssetService:
    """Claim, verify, approve and reject assets; detect overlapping claims."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        *,
        clock: Clock | None = None,
        dns_timeout_s: float = 5.0,
    ) -> None:
        """
        :param dns_timeout_s: total time a DNS verification may take.
        """
        self.session = session
        self.settings = settings
        self.clock = clock or SystemClock()
        self.dns_timeout_s = dns_timeout_s

    # -- claims ------------------------------------------------------------------------------

    def claim(
        self,
        org_id: int,
        kind: str,
        value: str = "",
        *,
        by: str | None = None,
        cpe: str | None = None,
        purl: str | None = None,
        vendor: str | None = None,
        product: str | None = None,
        version_range: str | None = None,
    ) -> Asset:
        """Register a claim (status pending) and flag overlaps with other organisations.

        :param kind: ``cidr``, ``asn``, ``domain`` or ``product``.
        :param value: the network / AS number / domain; for products use the keyword fields.
        :raises ValidationError: when the value is malformed.
        :raises Conflict: when this organisation already claims it.
        """
        if self.session.get(Organisation, org_id) is None:
            raise NotFound(f"organisation {org_id} not found")
        kind = v.choice(kind, ASSET_KINDS, field="kind")
        asset = Asset(organisation_id=org_id, kind=kind, status="pending", claimed_by=by)
        if kind == "cidr":
            net = v.cidr(value)
            asset.value, asset.ip_version = net.value, net.version
            asset.range_start, asset.range_end = net.start, net.end
        elif kind == "asn":
            asset.value = v.asn(value)
        elif kind == "domain":
            asset.value = v.domain(value)
            asset.verify_token = secrets.token_urlsafe(24)
        else:
            _fill_product(
                asset,
                cpe=cpe,
                purl=purl,
                vendor=vendor,
                product=product,
                version_range=version_range,
            )
        existing = self.session.scalar(
            select(Asset).where(
                Asset.organisation_id == org_id, Asset.kind == kind, Asset.value == asset.value
            )
        )
        if existing is not None:
            raise Conflict(f"this organisation already claims {kind} {asset.value}")
        asset.created_at = self.clock.now()
        self.session.add(asset)
        self.session.flush()
        self.detect_overlaps(asset)
        return asset

    def get(self, asset_id: int, *, org_id: int | None = None) -> Asset:
        """The asset; with ``org_id`` it must belong to that organisation.

        :raises NotFound: otherwise.
        """
        asset = self.session.get(Asset, asset_id)
        if asset is None or (org_id is not None and asset.organisation_id != org_id):
            raise NotFound(f"asset {asset_id} not found")
        return asset

    def list_assets(
        self, *, org_id: int | None = None, status: str | None = None, kind: str | None = None
    ) -> list[Asset]:
        stmt = select(Asset).order_by(Asset.organisation_id, Asset.kind, Asset.value)
        if org_id is not None:
            stmt = stmt.where(Asset.organisation_id == org_id)
        if status:
            stmt = stmt.where(Asset.status == status)
        if kind:
            stmt = stmt.where(Asset.kind == kind)
        return list(self.session.scalars(stmt))

    def remove(self, asset_id: int, *, org_id: int | None = None) -> None:
        self.session.delete(self.get(asset_id, org_id=org_id))
        self.session.flush()

    # -- verification ------------------------------------------------------------------------

    def txt_record(self, asset: Asset) -> str:
        """The TXT record the organisation must publish on the domain."""
        if asset.kind != "domain" or not asset.verify_token:
            raise ValidationError("only domains are verified through DNS", location="kind")
        return f"{TOKEN_PREFIX}{asset.verify_token}"

    def verify_dns(self, asset_id: int, *, org_id: int | None = None) -> VerificationResult:
        """Look up the domain's TXT records; mark the asset verified when the token is there.

        :raises ValidationError: when the asset is not a domain.
        """
        asset = self.get(asset_id, org_id=org_id)
        expected = self.txt_record(asset)
        try:
            records = self._lookup_txt(asset.value)
        except dns.resolver.NXDOMAIN:
            return VerificationResult(False, f"{asset.value} does not exist in DNS")
        except dns.resolver.NoAnswer:
            return VerificationResult(False, f"{asset.value} has no TXT records")
        except dns.exception.DNSException as exc:
            log.warning("DNS lookup for %s failed: %s", asset.value, exc)
            return VerificationResult(False, f"DNS lookup failed: {exc.__class__.__name__}")
        if expected not in records:
            return VerificationResult(
                False, f"TXT record {expected!r} not found on {asset.value}", tuple(records)
            )
        asset.status = "verified"
        asset.verification_method = "dns_txt"
        asset.verified_at = self.clock.now()
        asset.verified_by = "dns"
        asset.status_reason = None
        self.session.flush()
        log.info("asset %s (%s) verified through DNS", asset.id, asset.value)
        return VerificationResult(True, "token found", tuple(records))

    def _lookup_txt(self, name: str) -> list[str]:
        resolver = dns.resolver.Resolver(configure=self.settings.dns_resolver is None)
        if self.settings.dns_resolver is not None:
            resolver.nameservers = [self.settings.dns_resolver]
            resolver.port = self.settings.dns_resolver_port
        resolver.lifetime = self.dns_timeout_s
        resolver.timeout = min(2.0, self.dns_timeout_s)
        answer = resolver.resolve(name, "TXT", search=False)
        records: list[str] = []
        for rdata in answer:
            records.append(b"".join(rdata.strings).decode("utf-8", "replace"))
        return records

    def approve(self, asset_id: int, *, by: str, reason: str | None = None) -> Asset:
        """An analyst confirms the organisation owns the asset."""
        asset = self.get(asset_id)
        asset.status = "verified"
        asset.verification_method = "analyst"
        asset.verified_at = self.clock.now()
        asset.verified_by = by
        asset.status_reason = reason
        self.session.flush()
        return asset

    def reject(self, asset_id: int, *, by: str, reason: str) -> Asset:
        """An analyst rejects the claim (a reason is required)."""
        if not reason.strip():
            raise ValidationError("rejecting a claim needs a reason", location="reason")
        asset = self.get(asset_id)
        asset.status = "rejected"
        asset.verification_method = "analyst"
        asset.verified_at = self.clock.now()
        asset.verified_by = by
        asset.status_reason = reason.strip()
        self.session.flush()
        return asset

    # -- overlaps ----------------------------------------------------------------------------

    def find_overlapping(self, asset: Asset) -> list[tuple[Asset, str]]:
        """Claims by *other* organisations that overlap ``asset``, each with a reason."""
        others = Asset.organisation_id != asset.organisation_id
        found: list[tuple[Asset, str]] = []
        if asset.kind == "cidr":
            stmt = select(Asset).where(
                others,
                Asset.kind == "cidr",
                Asset.ip_version == asset.ip_version,
                Asset.range_start <= asset.range_end,
                Asset.range_end >= asset.range_start,
            )
            for other in self.session.scalars(stmt):
                why = "same network" if other.value == asset.value else "overlapping networks"
                found.append((other, f"{why}: {asset.value} / {other.value}"))
        elif asset.kind == "asn":
            stmt = select(Asset).where(others, Asset.kind == "asn", Asset.value == asset.value)
            found.extend((o, f"same AS number AS{asset.value}") for o in self.session.scalars(stmt))
        elif asset.kind == "domain":
            parents = _parent_domains(asset.value)
            stmt = select(Asset).where(
                others,
                Asset.kind == "domain",
                or_(
                    Asset.value.in_([asset.value, *parents]),
                    Asset.value.like("%." + _escape_like(asset.value), escape="\\"),
                ),
            )
            for other in self.session.scalars(stmt):
                if other.value == asset.value:
                    why = f"same domain {asset.value}"
                elif v.is_subdomain_or_same(asset.value, other.value):
                    why = f"{asset.value} lies under {other.value}"
                else:
                    why = f"{other.value} lies under {asset.value}"
                found.append((other, why))
        return found

    def detect_overlaps(self, asset: Asset) -> list[AssetOverlap]:
        """Put every overlap of ``asset`` with another organisation's claim in the review queue."""
        created: list[AssetOverlap] = []
        for other, reason in self.find_overlapping(asset):
            low, high = sorted((asset.id, other.id))
            exists = self.session.scalar(
                select(AssetOverlap).where(
                    AssetOverlap.asset_id == low, AssetOverlap.other_asset_id == high
                )
            )
            if exists is not None:
                continue
            overlap = AssetOverlap(
                asset_id=low,
                other_asset_id=high,
                reason=reason[:300],
                status="open",
                detected_at=self.clock.now(),
            )
            self.session.add(overlap)
            created.append(overlap)
            log.info("overlapping claims flagged: %s", reason)
        self.session.flush()
        return created

    def review_queue(self, *, status: str = "open") -> list[tuple[AssetOverlap, Asset, Asset]]:
        """Overlaps to review, oldest first, with both assets."""
        overlaps = self.session.scalars(
            select(AssetOverlap)
            .where(AssetOverlap.status == status)
            .order_by(AssetOverlap.detected_at, AssetOverlap.id)
        )
        result = []
        for overlap in overlaps:
            result.append((overlap, self.get(overlap.asset_id), self.get(overlap.other_asset_id)))
        return result

    def overlaps_for(self, asset_ids: Sequence[int]) -> list[AssetOverlap]:
        """Open overlaps involving any of ``asset_ids``."""
        if not asset_ids:
            return []
        ids = list(asset_ids)
        return list(
            self.session.scalars(
                select(AssetOverlap).where(
                    AssetOverlap.status == "open",
                    or_(AssetOverlap.asset_id.in_(ids), AssetOverlap.other_asset_id.in_(ids)),
                )
            )
        )

    def resolve_overlap(self, overlap_id: int, *, by: str, resolution: str) -> AssetOverlap:
        """Close a review-queue entry with a note on what was decided."""
        overlap = self.session.get(AssetOverlap, overlap_id)
        if overlap is None:
            raise NotFound(f"overlap {overlap_id} not found")
        if not resolution.strip():
            raise ValidationError("say how the overlap was resolved", location="resolution")
        overlap.status = "resolved"
        overlap.resolved_at = self.clock.now()
        overlap.resolved_by = by
        overlap.resolution = resolution.strip()
        self.session.flush()
        return overlap


def _parent_domains(name: str) -> list[str]:
    labels = name.split(".")
    return [".".join(labels[i:]) for i in range(1, len(labels) - 1)]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _fill_product(
    asset: Asset,
    *,
    cpe: str | None,
    purl: str | None,
    vendor: str | None,
    product: str | None,
    version_range: str | None,
) -> None:
    """Set the product identifiers; at least a CPE, a PURL or vendor + product is needed."""
    asset.cpe = v.cpe23(cpe) if cpe and cpe.strip() else None
    asset.purl = v.purl(purl) if purl and purl.strip() else None
    asset.vendor = vendor.strip().lower()[:200] if vendor and vendor.strip() else None
    asset.product = product.strip().lower()[:200] if product and product.strip() else None
    asset.version_range = (
        version_range.strip()[:200] if version_range and version_range.strip() else None
    )
    if asset.cpe is None and asset.purl is None and not (asset.vendor and asset.product):
        raise ValidationError(
            "a product needs a CPE 2.3 name, a package URL, or vendor and product",
            location="product",
        )
    if asset.cpe and not (asset.vendor and asset.product):
        parts = asset.cpe.split(":")
        asset.vendor = asset.vendor or parts[3].replace("\\", "")
        asset.product = asset.product or parts[4].replace("\\", "")
    asset.value = (asset.cpe or asset.purl or f"{asset.vendor}:{asset.product}")[:500]
    if asset.version_range:
        asset.value = f"{asset.value} {asset.version_range}"[:500]
