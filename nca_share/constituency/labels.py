"""Display labels (Dutch/English) for the constituency's stored codes: size classes, asset
kinds, contact roles, delivery channels, rhythms and urgencies. Templates call
``label(group, value)``; an unknown value is shown as stored."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

LABELS: dict[str, dict[str, LazyString]] = {
    "size": {
        "micro": _l("micro enterprise"),
        "small": _l("small enterprise"),
        "medium": _l("medium-sized enterprise"),
        "large": _l("large enterprise"),
        "unknown": _l("unknown"),
    },
    "asset_kind": {
        "cidr": _l("IP range"),
        "asn": _l("AS number"),
        "domain": _l("domain"),
        "product": _l("product"),
    },
    "contact_role": {
        "primary": _l("primary contact"),
        "security_officer": _l("security officer"),
        "24x7": _l("24/7 contact"),
        "technical": _l("technical contact"),
    },
    "channel": {
        "email": _l("e-mail"),
        "webhook": _l("webhook"),
        "inbox": _l("inbox"),
        "atom": _l("Atom feed"),
        "taxii": _l("TAXII"),
    },
    "mode": {
        "immediate": _l("immediately"),
        "daily": _l("daily digest"),
        "weekly": _l("weekly digest"),
    },
    "urgency": {"normal": _l("normal"), "urgent": _l("urgent")},
    "language": {"nl": _l("Dutch"), "en": _l("English")},
}


def label(group: str, value: object) -> str:
    """The label of ``value`` in ``group`` in the current language (the value if unknown)."""
    found = LABELS.get(group, {}).get(str(value)) if value is not None else None
    return str(found) if found is not None else ("—" if value in (None, "") else str(value))
