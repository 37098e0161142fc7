"""Cheap structural checks of one STIX object: the ingest hot path's validator.

Owns: what makes an object storable (type and id format, spec_version, required properties
per type, timestamp syntax, property types, reference syntax). It is deliberately much
cheaper than ``stix2.parse`` or ``stix2-validator`` (no schemas, no pattern grammar): it
checks what the store, the graph and the access policy rely on. ``--strict`` ingest adds the
full validator on top (see ``nca_share.stix.ingest``).

``check_object`` raises :class:`Rejected` with the offending field and a bilingual-free
technical message (the CLI shows it as-is; feed health lists it).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Final

from nca_share.stix.upgrade import SCO_TYPES

#: STIX 2.1 SDOs and SROs: ``created`` and ``modified`` are required.
VERSIONED_TYPES: Final = frozenset(
    {
        "attack-pattern",
        "campaign",
        "course-of-action",
        "grouping",
        "identity",
        "incident",
        "indicator",
        "infrastructure",
        "intrusion-set",
        "location",
        "malware",
        "malware-analysis",
        "note",
        "observed-data",
        "opinion",
        "report",
        "threat-actor",
        "tool",
        "vulnerability",
        "relationship",
        "sighting",
        "language-content",
        "extension-definition",
    }
)

#: Timestamp properties checked wherever they appear at the top level.
TIMESTAMP_FIELDS: Final = (
    "created",
    "modified",
    "valid_from",
    "valid_until",
    "first_seen",
    "last_seen",
    "published",
    "first_observed",
    "last_observed",
)

_TS, _STR, _BOOL, _CONFIDENCE, _DICT, _LIST, _LABELS, _EXTREFS, _PHASES, _GRANULAR = range(10)
_STR_FIELDS: Final = (
    "name",
    "description",
    "pattern",
    "pattern_type",
    "relationship_type",
    "lang",
)
_LIST_FIELDS: Final = (
    "labels",
    "aliases",
    "external_references",
    "kill_chain_phases",
    "granular_markings",
)
#: property name → how it is checked (one dict look-up per property on the hot path)
_KINDS: Final[dict[str, int]] = {
    **dict.fromkeys(TIMESTAMP_FIELDS, _TS),
    **dict.fromkeys(_STR_FIELDS, _STR),
    **dict.fromkeys(_LIST_FIELDS, _LIST),
    "revoked": _BOOL,
    "confidence": _CONFIDENCE,
    "extensions": _DICT,
    "labels": _LABELS,
    "external_references": _EXTREFS,
    "kill_chain_phases": _PHASES,
    "granular_markings": _GRANULAR,
}
_REF, _REFS, _SKIP = 10, 11, 12
#: Memo of every property name seen → its kind (unchecked names → ``_SKIP``, ``*_ref`` →
#: ``_REF``, ``*_refs`` → ``_REFS``; ``x_`` custom references are not checked). Bounded.
_KEY_KINDS: dict[str, int] = dict(_KINDS)
_KEY_KINDS_LIMIT: Final = 20_000
_VALUE_SCOS: Final = frozenset(
    {"ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "mac-addr"}
)

#: Largest serialised object accepted (bytes); larger ones are quarantined.
MAX_OBJECT_BYTES: Final = 1 << 20

_TYPE_RE: Final = re.compile(r"[a-z0-9][a-z0-9-]{1,248}[a-z0-9]")
_UUID: Final = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ID_RE: Final = re.compile(r"([a-z0-9][a-z0-9-]{1,248}[a-z0-9])--" + _UUID)
_REF_SUFFIXES: Final = ("_ref", "_refs")
_TS_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z")


class CheckCache:
    """Per-run memo of ids and timestamps already found valid (real bundles repeat them:
    every object's ``created_by_ref``, relationship ends, shared timestamps)."""

    __slots__ = ("ids", "stamps")

    LIMIT = 500_000

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.stamps: dict[str, datetime] = {}

    def trim(self) -> None:
        """Forget everything once the memo grows past ``LIMIT`` entries."""
        if len(self.ids) > self.LIMIT:
            self.ids.clear()
        if len(self.stamps) > self.LIMIT:
            self.stamps.clear()


class Rejected(Exception):
    """An object cannot be stored: ``field`` (may be None) and ``problem`` say why."""

    def __init__(self, field: str | None, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem


def is_stix_id(value: object) -> bool:
    """True for a string of the form ``<type>--<uuid>``."""
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


def parse_timestamp(value: object, field: str) -> datetime:
    """A STIX timestamp (``YYYY-MM-DDTHH:MM:SS[.s+]Z``) as a naive UTC datetime.

    :raises Rejected: not a string, wrong syntax or an impossible date.
    """
    if not isinstance(value, str):
        raise Rejected(field, f"must be a timestamp string, not {type(value).__name__}")
    if _TS_RE.fullmatch(value) is None:
        raise Rejected(field, f"not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.sss]Z): {value[:40]!r}")
    try:
        return datetime.fromisoformat(value[:-1])
    except ValueError as exc:
        raise Rejected(field, f"impossible timestamp {value[:40]!r}: {exc}") from None


def _key_kind(key: str) -> int:
    if key.startswith("x_") or not key.endswith(_REF_SUFFIXES):
        kind = _SKIP
    else:
        kind = _REF if key[-1] == "f" else _REFS
    if len(_KEY_KINDS) < _KEY_KINDS_LIMIT:
        _KEY_KINDS[key] = kind
    return kind


def _check_ref(field: str, value: object, ids: set[str]) -> None:
    if isinstance(value, str) and value in ids:
        return
    if not isinstance(value, str) or _ID_RE.fullmatch(value) is None:
        shown = value[:80] if isinstance(value, str) else type(value).__name__
        raise Rejected(field, f"must be a STIX id (<type>--<uuid>), got {shown!r}")
    ids.add(value)


def check_object(obj: Any, cache: CheckCache | None = None) -> tuple[str, str, dict[str, datetime]]:
    """Check one object (already upgraded to 2.1 semantics).

    :returns: ``(type, id, timestamps)``; ``timestamps`` maps each timestamp property present
        to its naive UTC datetime.
    :param cache: a per-run memo (see :class:`CheckCache`); a fresh one when omitted.
    :raises Rejected: the first problem found.
    """
    if cache is None:
        cache = CheckCache()
    ids = cache.ids
    known_stamps = cache.stamps
    if not isinstance(obj, dict):
        raise Rejected(None, f"an object must be a JSON object, not {type(obj).__name__}")
    otype = obj.get("type")
    if not isinstance(otype, str):
        raise Rejected("type", "missing or not a string")
    if otype == "bundle":
        raise Rejected("type", "a bundle inside a bundle is not accepted")
    oid = obj.get("id")
    if not isinstance(oid, str):
        if _TYPE_RE.fullmatch(otype) is None:
            raise Rejected("type", f"invalid type name {otype[:80]!r}")
        raise Rejected("id", "missing or not a string")
    match = _ID_RE.fullmatch(oid)
    if match is None or match.group(1) != otype:
        # the id pattern contains the type pattern: only now is the type worth checking
        if _TYPE_RE.fullmatch(otype) is None:
            raise Rejected("type", f"invalid type name {otype[:80]!r}")
        if match is None:
            raise Rejected("id", f"not of the form <type>--<uuid>: {oid[:80]!r}")
        raise Rejected("id", f"id prefix {match.group(1)!r} does not match type {otype!r}")
    ids.add(oid)
    spec = obj.get("spec_version")
    if spec != "2.1" and not (spec is None and otype in SCO_TYPES):
        shown = spec if isinstance(spec, str) else type(spec).__name__
        raise Rejected("spec_version", f"must be '2.1' (or a STIX 2.0 object), got {shown!r}")

    if otype in VERSIONED_TYPES:
        if "created" not in obj:
            raise Rejected("created", "required for this type")
        if "modified" not in obj:
            raise Rejected("modified", "required for this type")
    elif otype == "marking-definition" and "created" not in obj:
        raise Rejected("created", "required for marking-definition")
    # One pass over the properties; each known property is checked by its kind.
    stamps: dict[str, datetime] = {}
    key_kinds = _KEY_KINDS
    for key, value in obj.items():
        kind = key_kinds.get(key)
        if kind is None:
            kind = _key_kind(key)
        if kind == _SKIP or value is None:
            continue
        if kind == _REF:
            _check_ref(key, value, ids)
        elif kind == _REFS:
            if not isinstance(value, list):
                raise Rejected(key, f"must be a list of STIX ids, not {type(value).__name__}")
            for item in value:
                _check_ref(key, item, ids)
        elif kind == _TS:
            parsed = known_stamps.get(value) if isinstance(value, str) else None
            if parsed is None:
                parsed = parse_timestamp(value, key)
                known_stamps[value] = parsed
            stamps[key] = parsed
        elif kind == _STR:
            if not isinstance(value, str):
                raise Rejected(key, f"must be a string, not {type(value).__name__}")
        elif kind == _BOOL:
            if not isinstance(value, bool):
                raise Rejected(key, f"must be true or false, not {type(value).__name__}")
        elif kind == _CONFIDENCE:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
                raise Rejected(key, "must be an integer from 0 to 100")
        elif kind == _DICT:
            if not isinstance(value, dict):
                raise Rejected(key, f"must be an object, not {type(value).__name__}")
        else:
            if not isinstance(value, list):
                raise Rejected(key, f"must be a list, not {type(value).__name__}")
            if kind == _LABELS:
                for label in value:
                    if not isinstance(label, str):
                        raise Rejected(key, "must be a list of strings")
            elif kind == _EXTREFS:
                for ref in value:
                    if not isinstance(ref, dict) or not isinstance(ref.get("source_name"), str):
                        raise Rejected(key, "each needs a string source_name")
            elif kind == _PHASES:
                for phase in value:
                    if (
                        not isinstance(phase, dict)
                        or not isinstance(phase.get("kill_chain_name"), str)
                        or not isinstance(phase.get("phase_name"), str)
                    ):
                        raise Rejected(key, "each needs kill_chain_name and phase_name")
            elif kind == _GRANULAR:
                for marking in value:
                    if not isinstance(marking, dict):
                        raise Rejected(key, "each must be an object")
                    ref = marking.get("marking_ref")
                    if ref is not None:
                        _check_ref("granular_markings.marking_ref", ref, ids)
                    elif not isinstance(marking.get("lang"), str):
                        raise Rejected(key, "each needs a marking_ref or lang")
                    if not isinstance(marking.get("selectors"), list):
                        raise Rejected("granular_markings.selectors", "must be a list")

    if otype == "relationship":
        if not isinstance(obj.get("relationship_type"), str):
            raise Rejected("relationship_type", "required for relationship")
        if "source_ref" not in obj:
            raise Rejected("source_ref", "required for relationship")
        if "target_ref" not in obj:
            raise Rejected("target_ref", "required for relationship")
    elif otype == "sighting":
        if "sighting_of_ref" not in obj:
            raise Rejected("sighting_of_ref", "required for sighting")
    elif otype == "indicator":
        if not isinstance(obj.get("pattern"), str):
            raise Rejected("pattern", "required for indicator")
        if "valid_from" not in obj:
            raise Rejected("valid_from", "required for indicator")
    elif otype in _VALUE_SCOS and not isinstance(obj.get("value"), str):
        raise Rejected("value", f"required string for {otype}")
    return otype, oid, stamps
