"""Small helpers the feed parsers share to *produce* STIX 2.1 objects as plain dicts.

Owns deterministic identifiers (so a re-collected row or attribute yields the same object id and
re-delivery changes nothing in the store), timestamp formatting, simple comparison patterns and
the SCO shapes for the observable kinds feeds deliver.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

#: Namespace of STIX 2.1 deterministic SCO identifiers (STIX 2.1 §2.9).
SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
#: Our namespace for identifiers of SDOs produced from outside records (rows, attributes, …).
FEED_NAMESPACE = uuid.UUID("6d1f4c1e-7d0e-4f53-9d4e-0c5a1b2f3e10")

TLP_LABELS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")
_TLP_ALIASES = {"WHITE": "CLEAR"}


def stix_timestamp(value: datetime) -> str:
    """Format a timezone-aware datetime as a STIX timestamp with millisecond precision."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_timestamp(value: str) -> datetime | None:
    """Parse the timestamp shapes feeds use (ISO 8601 with or without zone, ``YYYY-MM-DD HH:MM:SS``,
    a date, or epoch seconds); naive values are taken as UTC. ``None`` when unparseable."""
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        try:
            return datetime.fromtimestamp(int(text), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def normalise_tlp(label: str) -> str | None:
    """``tlp:white`` / ``WHITE`` / ``amber+strict`` → a TLP 2.0 label, or ``None``."""
    text = label.strip().upper()
    if text.startswith("TLP:"):
        text = text[4:]
    text = _TLP_ALIASES.get(text, text)
    return text if text in TLP_LABELS else None


def sdo_id(stix_type: str, *parts: str) -> str:
    """A deterministic id for an object we produce from an outside record."""
    return f"{stix_type}--{uuid.uuid5(FEED_NAMESPACE, '|'.join((stix_type, *parts)))}"


def sco_id(stix_type: str, contributing: dict[str, Any]) -> str:
    """The STIX 2.1 deterministic id of an SCO from its id-contributing properties."""
    canonical = orjson.dumps(contributing, option=orjson.OPT_SORT_KEYS).decode()
    return f"{stix_type}--{uuid.uuid5(SCO_NAMESPACE, canonical)}"


#: Observable kinds feeds deliver → (SCO type, pattern property path).
HASH_KINDS = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "sha512": "SHA-512"}
_HASH_LENGTHS = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}[a-z0-9]$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
KINDS = ("ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "sha512")


def guess_kind(value: str) -> str | None:
    """Infer the observable kind of a bare value (used when a list has no type column)."""
    text = value.strip()
    if not text:
        return None
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        pass
    else:
        return "ipv4" if network.version == 4 else "ipv6"
    if "://" in text:
        return "url"
    if _EMAIL.match(text):
        return "email"
    if _HEX.match(text) and len(text) in _HASH_LENGTHS:
        return _HASH_LENGTHS[len(text)]
    if _DOMAIN.match(text.lower()):
        return "domain"
    return None


def normalise_value(kind: str, value: str) -> str:
    """Canonical form of a value of ``kind``; raises ``ValueError`` if it is not one.

    :raises ValueError: the value is not a valid ``kind``.
    """
    text = value.strip()
    if kind in ("ipv4", "ipv6"):
        network = ipaddress.ip_network(text, strict=False)
        if (network.version == 4) != (kind == "ipv4"):
            raise ValueError(f"{text!r} is not an {kind} address")
        if network.num_addresses == 1:
            return str(network.network_address)
        return str(network)
    if kind == "domain":
        lowered = text.lower().rstrip(".")
        if not _DOMAIN.match(lowered):
            raise ValueError(f"{text!r} is not a domain name")
        return lowered
    if kind == "url":
        if "://" not in text or any(c.isspace() for c in text):
            raise ValueError(f"{text!r} is not a URL")
        return text
    if kind == "email":
        if not _EMAIL.match(text):
            raise ValueError(f"{text!r} is not an e-mail address")
        return text.lower()
    if kind in HASH_KINDS:
        expected = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}[kind]
        if len(text) != expected or not _HEX.match(text):
            raise ValueError(f"{text!r} is not a {kind} hash")
        return text.lower()
    raise ValueError(f"unknown observable kind {kind!r}")


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def pattern_for(kind: str, value: str) -> str:
    """A STIX comparison pattern matching one observable value."""
    if kind in ("ipv4", "ipv6"):
        return f"[{kind}-addr:value = '{_quote(value)}']"
    if kind == "domain":
        return f"[domain-name:value = '{_quote(value)}']"
    if kind == "url":
        return f"[url:value = '{_quote(value)}']"
    if kind == "email":
        return f"[email-addr:value = '{_quote(value)}']"
    if kind in HASH_KINDS:
        return f"[file:hashes.'{HASH_KINDS[kind]}' = '{_quote(value)}']"
    raise ValueError(f"unknown observable kind {kind!r}")


def sco_for(kind: str, value: str) -> dict[str, Any]:
    """A STIX 2.1 SCO for one observable value, with its deterministic id."""
    if kind in ("ipv4", "ipv6", "domain", "url", "email"):
        stix_type = {
            "ipv4": "ipv4-addr",
            "ipv6": "ipv6-addr",
            "domain": "domain-name",
            "url": "url",
            "email": "email-addr",
        }[kind]
        return {
            "type": stix_type,
            "spec_version": "2.1",
            "id": sco_id(stix_type, {"value": value}),
            "value": value,
        }
    if kind in HASH_KINDS:
        hashes = {HASH_KINDS[kind]: value}
        return {
            "type": "file",
            "spec_version": "2.1",
            "id": sco_id("file", {"hashes": hashes}),
            "hashes": hashes,
        }
    raise ValueError(f"unknown observable kind {kind!r}")


#: TLP 2.0 marking-definition ids (DOMAIN.md §2.1), used on objects we produce.
TLP_MARKING_IDS = {
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}


def strictest_tlp(labels: list[str]) -> str | None:
    """The strictest of several TLP labels (``None`` for none)."""
    ranked = [label for label in labels if label in TLP_LABELS]
    return max(ranked, key=TLP_LABELS.index) if ranked else None
