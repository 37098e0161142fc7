"""The searchable product list organisations pick their products from, built from ingested
data: distinct CPE 2.3 and PURL values in the STIX observable index (``stix_observables``)
and current STIX ``software`` objects (name, vendor, version, cpe). Read-only on the STIX
store's tables.

Product strings are derived intelligence: only values from objects the asking principal may
see (``nca_share.access``) are offered, so an AMBER/RED advisory's product list never reaches
a member through the pick-list.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nca_share.access import AccessPolicy, Principal
from nca_share.stix.models import StixObject, StixObservable


@dataclass(frozen=True)
class ProductOption:
    """One pickable product: at least a CPE, a PURL or vendor + product."""

    label: str
    cpe: str | None = None
    purl: str | None = None
    vendor: str | None = None
    product: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "label": self.label,
            "cpe": self.cpe,
            "purl": self.purl,
            "vendor": self.vendor,
            "product": self.product,
        }


def _cpe_option(cpe: str) -> ProductOption:
    parts = cpe.split(":")
    vendor = parts[3].replace("\\", "") if len(parts) > 4 else None
    product = parts[4].replace("\\", "") if len(parts) > 4 else None
    version = parts[5] if len(parts) > 5 and parts[5] not in ("*", "-") else ""
    label = " ".join(x for x in (vendor, product, version) if x) or cpe
    return ProductOption(label=label, cpe=cpe, vendor=vendor, product=product)


class ProductCatalogue:
    """Search the products seen in the ingested intelligence ``principal`` may see."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session = session
        self.principal = principal

    def search(self, query: str, *, limit: int = 25) -> list[ProductOption]:
        """Products whose CPE, PURL or software name contains ``query`` (case-insensitive).

        :param query: at least two characters; shorter queries return nothing.
        """
        text = query.strip().lower()
        if len(text) < 2:
            return []
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        options: dict[str, ProductOption] = {}
        allowed = AccessPolicy(self.session).filter(
            self.principal, StixObject.tlp, StixObject.stix_id
        )
        observed = self.session.scalars(
            select(StixObservable.value)
            .join(
                StixObject,
                (StixObject.stix_id == StixObservable.stix_id) & StixObject.is_current.is_(True),
            )
            .where(
                StixObservable.kind.in_(("cpe", "purl")),
                func.lower(StixObservable.value).like(like, escape="\\"),
                allowed,
            )
            .distinct()
            .order_by(StixObservable.value)
            .limit(limit)
        )
        for value in observed:
            if value.startswith("cpe:"):
                options.setdefault(value, _cpe_option(value))
            else:
                options.setdefault(value, ProductOption(label=value, purl=value))
        software = self.session.scalars(
            select(StixObject.raw)
            .where(
                StixObject.type == "software",
                StixObject.is_current.is_(True),
                func.lower(StixObject.name).like(like, escape="\\"),
                allowed,
            )
            .limit(limit)
        )
        for raw in software:
            cpe = raw.get("cpe") if isinstance(raw.get("cpe"), str) else None
            if cpe:
                options.setdefault(cpe, _cpe_option(cpe))
                continue
            name = str(raw.get("name", "")).strip()
            vendor = str(raw.get("vendor", "")).strip() or None
            if not name:
                continue
            label = " ".join(x for x in (vendor, name, str(raw.get("version", "") or "")) if x)
            key = f"{(vendor or '').lower()}:{name.lower()}"
            if vendor:
                options.setdefault(
                    key,
                    ProductOption(label=label, vendor=vendor.lower(), product=name.lower()),
                )
        return sorted(options.values(), key=lambda o: o.label.lower())[:limit]
