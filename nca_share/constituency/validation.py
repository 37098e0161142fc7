"""Pure validators and normalisers for constituency input (KVK numbers, SBI codes, provinces,
e-mail addresses, money and head-count figures, and asset values: CIDRs, ASNs, domains, CPE 2.3
and PURL product identifiers).

Every function raises ``ValidationError`` with the field as ``location`` and a message that says
what is wrong, so the importer, the CLI and the web forms all report the same thing.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass

from nca_share.constituency.models import PROVINCES
from nca_share.errors import ValidationError

_KVK_RE = re.compile(r"^\d{8}$")
_SBI_RE = re.compile(r"^\d{2,5}$")
_HOST_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL_RE = re.compile(r"^[^@\s<>()\[\],;:\"]+@" + _HOST_LABEL + r"(?:\." + _HOST_LABEL + r")+$")
_LABEL_RE = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_ASN_RE = re.compile(r"^(?:AS)?(\d{1,10})$", re.IGNORECASE)
_CPE_RE = re.compile(r"^cpe:2\.3:[aho\*\-](?::(?:[^:\\]|\\.)*){10}$")
_PHONE_RE = re.compile(r"^\+?[0-9 ()./-]{6,40}$")

#: Accepted spellings of province names (folded) -> slug.
_PROVINCE_ALIASES: dict[str, str] = {}


def _fold(text: str) -> str:
    """Lower-case, strip accents and unify separators ("Fryslân" -> "fryslan")."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[\s_.]+", "-", text.strip().lower())


def fold_header(text: str) -> str:
    """A column header reduced to lower-case ASCII words ("KVK-nummer" -> "kvk nummer")."""
    return re.sub(r"[^a-z0-9]+", " ", _fold(text).replace("-", " ")).strip()


for _slug, _name in PROVINCES.items():
    _PROVINCE_ALIASES[_slug] = _slug
    _PROVINCE_ALIASES[_fold(_name)] = _slug
_PROVINCE_ALIASES.update(
    {
        "friesland": "fryslan",
        "n-holland": "noord-holland",
        "z-holland": "zuid-holland",
        "n-brabant": "noord-brabant",
        "brabant": "noord-brabant",
        "nh": "noord-holland",
        "zh": "zuid-holland",
        "nb": "noord-brabant",
    }
)


def kvk_number(value: str, *, field: str = "kvk") -> str:
    """A KVK number: exactly eight digits (spaces around it are ignored)."""
    cleaned = value.strip()
    if not _KVK_RE.match(cleaned):
        raise ValidationError(f"KVK number must be exactly 8 digits, got {value!r}", location=field)
    return cleaned


def name(value: str, *, field: str = "name", max_len: int = 300) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise ValidationError("must not be empty", location=field)
    if len(cleaned) > max_len:
        raise ValidationError(f"longer than {max_len} characters", location=field)
    return cleaned


def sbi_codes(values: list[str] | str, *, field: str = "sbi") -> list[str]:
    """SBI codes ("6202", "62.02", "62021"); a string may hold several split by ';' or ','."""
    items = re.split(r"[;,|]", values) if isinstance(values, str) else list(values)
    result: list[str] = []
    for raw in items:
        code = raw.strip().replace(".", "").replace(" ", "")
        if not code:
            continue
        if not _SBI_RE.match(code):
            raise ValidationError(
                f"SBI code must be 2 to 5 digits, got {raw.strip()!r}", location=field
            )
        if code not in result:
            result.append(code)
    return result


def sbi_version(value: str, *, field: str = "sbi_version") -> str:
    cleaned = value.strip()
    if cleaned not in ("2008", "2025"):
        raise ValidationError(f"SBI version must be 2008 or 2025, got {value!r}", location=field)
    return cleaned


def province(value: str, *, field: str = "province") -> str:
    """One of the twelve provinces; returns its slug (accepts names, "Friesland", ...)."""
    slug = _PROVINCE_ALIASES.get(_fold(value))
    if slug is None:
        raise ValidationError(f"unknown province {value!r}", location=field)
    return slug


def non_negative_int(value: str | int, *, field: str) -> int:
    """A count or an amount in whole euros: digits, optional "€", spaces and thousands dots."""
    if isinstance(value, int):
        number = value
    else:
        text = value.strip().replace("€", "").replace(" ", "").replace("_", "")
        # Dutch thousands separators ("1.250.000") and a trailing ",00" are common in exports.
        text = re.sub(r",0+$", "", text)
        if re.fullmatch(r"\d{1,3}(\.\d{3})+", text):
            text = text.replace(".", "")
        text = re.sub(r"\.0+$", "", text)
        if not re.fullmatch(r"\d{1,15}", text):
            raise ValidationError(
                f"must be a whole non-negative number, got {value!r}", location=field
            )
        number = int(text)
    if number < 0:
        raise ValidationError(f"must not be negative, got {value!r}", location=field)
    return number


def email(value: str, *, field: str = "email") -> str:
    cleaned = value.strip()
    if len(cleaned) > 320 or not _EMAIL_RE.match(cleaned):
        raise ValidationError(f"not a valid e-mail address: {value!r}", location=field)
    local, _, domain = cleaned.rpartition("@")
    return f"{local}@{domain.lower()}"


def phone(value: str, *, field: str = "phone") -> str:
    cleaned = value.strip()
    if not _PHONE_RE.match(cleaned):
        raise ValidationError(f"not a valid phone number: {value!r}", location=field)
    return cleaned


def choice(value: str, allowed: tuple[str, ...], *, field: str) -> str:
    cleaned = value.strip().lower()
    if cleaned not in allowed:
        raise ValidationError(f"must be one of {', '.join(allowed)}, got {value!r}", location=field)
    return cleaned


def choices(values: list[str] | str, allowed: tuple[str, ...], *, field: str) -> list[str]:
    items = re.split(r"[;,|]", values) if isinstance(values, str) else list(values)
    result: list[str] = []
    for item in items:
        if item.strip():
            value = choice(item, allowed, field=field)
            if value not in result:
                result.append(value)
    return result


# -- assets ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cidr:
    """A normalised network with its range as fixed-width hex for portable comparisons."""

    value: str
    version: int
    start: str
    end: str


def cidr(value: str, *, field: str = "value") -> Cidr:
    """An IPv4/IPv6 network or single address; host bits are refused ("10.0.0.1/8")."""
    text = value.strip()
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise ValidationError(
            f"not a valid IPv4/IPv6 network: {value!r} ({exc})", location=field
        ) from exc
    return Cidr(
        value=network.compressed,
        version=network.version,
        start=format(int(network.network_address), "032x"),
        end=format(int(network.broadcast_address), "032x"),
    )


def asn(value: str | int, *, field: str = "value") -> str:
    """An autonomous system number ("AS64500" or "64500") as its decimal string."""
    match = _ASN_RE.match(str(value).strip())
    number = int(match.group(1)) if match else -1
    if not 0 < number < 2**32:
        raise ValidationError(f"not a valid AS number: {value!r}", location=field)
    return str(number)


def domain(value: str, *, field: str = "value") -> str:
    """A DNS name, lower-case, IDNA-encoded, without trailing dot or wildcard."""
    text = value.strip().lower().rstrip(".")
    if text.startswith("*."):
        text = text[2:]
    try:
        text = text.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValidationError(f"not a valid domain name: {value!r}", location=field) from exc
    labels = text.split(".")
    if len(text) > 253 or len(labels) < 2 or not all(_LABEL_RE.match(x) for x in labels):
        raise ValidationError(f"not a valid domain name: {value!r}", location=field)
    if labels[-1].isdigit():
        raise ValidationError(f"an IP address is not a domain name: {value!r}", location=field)
    return text


def cpe23(value: str, *, field: str = "cpe") -> str:
    """A CPE 2.3 formatted string (13 colon-separated parts)."""
    text = value.strip()
    if not _CPE_RE.match(text):
        raise ValidationError(f"not a CPE 2.3 formatted string: {value!r}", location=field)
    return text


def purl(value: str, *, field: str = "purl") -> str:
    """A package URL, normalised by packageurl-python."""
    from packageurl import PackageURL

    try:
        return str(PackageURL.from_string(value.strip()).to_string())
    except ValueError as exc:
        raise ValidationError(
            f"not a valid package URL: {value!r} ({exc})", location=field
        ) from exc


def is_subdomain_or_same(child: str, parent: str) -> bool:
    """True when ``child`` equals ``parent`` or lies beneath it."""
    return child == parent or child.endswith("." + parent)
