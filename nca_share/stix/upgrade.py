"""STIX 2.0 → 2.1: spec-version detection and the upgrade of single objects.

This module owns :func:`detect_spec_version` and :func:`upgrade_to_21`, which gives a STIX 2.0
object 2.1 semantics without losing anything: ``spec_version`` on SDOs/SROs/marking
definitions, ``pattern_type``/``pattern_version`` on indicators, the 2.1 ``*_types`` vocabularies
filled from 2.0 ``labels`` (which are kept), ``malware.is_family``. Embedded 2.0
``observed-data.objects`` are kept (2.1 still allows them, deprecated); TLP 1.0 marking ids are
the same in both versions. Structure validation is not done here (that is the store's job) and
odd input never raises.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["SCO_TYPES", "detect_spec_version", "upgrade_to_21"]

#: STIX Cyber-observable Object types of STIX 2.1 (2.0 had no top-level SCOs).
SCO_TYPES: Final = frozenset(
    {
        "artifact",
        "autonomous-system",
        "directory",
        "domain-name",
        "email-addr",
        "email-message",
        "file",
        "ipv4-addr",
        "ipv6-addr",
        "mac-addr",
        "mutex",
        "network-traffic",
        "process",
        "software",
        "url",
        "user-account",
        "windows-registry-key",
        "x509-certificate",
    }
)

#: 2.0 types whose required ``labels`` became a ``*_types`` open vocabulary in 2.1.
_TYPES_FROM_LABELS: Final = {
    "indicator": "indicator_types",
    "malware": "malware_types",
    "report": "report_types",
    "threat-actor": "threat_actor_types",
    "tool": "tool_types",
}


def detect_spec_version(obj: dict[str, Any], bundle_spec_version: str | None) -> str:
    """``"2.0"`` or ``"2.1"`` for one object.

    An object's own ``spec_version`` decides ("2.0" → 2.0, anything else → 2.1); otherwise a
    2.0 bundle (``spec_version: "2.0"`` on the bundle) makes it 2.0; otherwise SCOs are 2.1
    (their ``spec_version`` is optional in 2.1) and everything else is 2.0 (2.1 requires
    ``spec_version`` on SDOs, SROs and marking definitions).
    """
    if not isinstance(obj, dict):
        return "2.1"
    own = obj.get("spec_version")
    if isinstance(own, str):
        return "2.0" if own.strip() == "2.0" else "2.1"
    if bundle_spec_version == "2.0":
        return "2.0"
    if bundle_spec_version == "2.1":
        return "2.1"
    typ = obj.get("type")
    return "2.1" if isinstance(typ, str) and typ in SCO_TYPES else "2.0"


def _string_list(value: object) -> list[str] | None:
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def upgrade_to_21(obj: dict[str, Any]) -> dict[str, Any]:
    """A new dict with the 2.1 semantics of STIX 2.0 object ``obj`` (see module docstring).

    The input is not modified; an object that already says ``spec_version: "2.1"`` comes back
    as an unchanged shallow copy. A 2.0 bundle loses its ``spec_version`` and its objects are
    upgraded.
    """
    if not isinstance(obj, dict):
        return {}
    new = dict(obj)
    typ = obj.get("type")
    if typ == "bundle":
        new.pop("spec_version", None)
        objects = obj.get("objects")
        if isinstance(objects, list):
            new["objects"] = [upgrade_to_21(o) if isinstance(o, dict) else o for o in objects]
        return new
    if obj.get("spec_version") == "2.1":
        return new
    if not isinstance(typ, str):
        new["spec_version"] = "2.1"
        return new
    if typ not in SCO_TYPES:
        new["spec_version"] = "2.1"
    types_key = _TYPES_FROM_LABELS.get(typ)
    if types_key is not None and types_key not in obj:
        labels = _string_list(obj.get("labels"))
        if labels is not None:
            new[types_key] = labels
    if typ == "indicator":
        new.setdefault("pattern_type", "stix")
        if new["pattern_type"] == "stix":
            new.setdefault("pattern_version", "2.0")
    elif typ == "malware":
        new.setdefault("is_family", True)
    return new
