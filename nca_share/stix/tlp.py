"""TLP (FIRST Traffic Light Protocol 2.0) and its STIX marking definitions.

This module owns the :class:`TLP` ranks, the well-known marking-definition ids (TLP 1.0 ids of
STIX 2.0/2.1, the TLP 2.0 ids of the OASIS common objects, OpenCTI's AMBER+STRICT id), the
interpretation of arbitrary marking-definition objects (:func:`marking_definition_tlp`) and the
effective TLP of an object: the strictest TLP among its object and granular markings
(:func:`effective_tlp`). TLP 1.0 WHITE is TLP 2.0 CLEAR. Pure and hot-path safe: hostile input
never raises here (except :meth:`TLP.parse`, which reports invalid labels).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Any, Final

from nca_share.errors import ValidationError

__all__ = [
    "OPENCTI_AMBER_STRICT_ID",
    "TLP",
    "TLP1_AMBER_ID",
    "TLP1_GREEN_ID",
    "TLP1_RED_ID",
    "TLP1_WHITE_ID",
    "TLP2_AMBER_ID",
    "TLP2_AMBER_STRICT_ID",
    "TLP2_CLEAR_ID",
    "TLP2_EXTENSION_ID",
    "TLP2_GREEN_ID",
    "TLP2_RED_ID",
    "TLP_MARKING_IDS",
    "effective_tlp",
    "marking_definition_object",
    "marking_definition_tlp",
    "marking_id_for",
    "tlp_for_marking_id",
]


class TLP(IntEnum):
    """TLP 2.0 labels ranked from least to most restrictive (compare with ``max``)."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4

    @property
    def label(self) -> str:
        """The official label without the ``TLP:`` prefix, e.g. ``AMBER+STRICT``."""
        return _LABELS[self]

    @property
    def marking_name(self) -> str:
        """The marking name, e.g. ``TLP:AMBER+STRICT``."""
        return "TLP:" + _LABELS[self]

    @classmethod
    def parse(cls, text: str) -> TLP:
        """Read a label: ``TLP:AMBER``, ``amber``, ``AMBER+STRICT``, ``TLP:WHITE`` (= CLEAR).

        Case and surrounding/inner whitespace are ignored. Raises ValidationError otherwise.
        """
        tlp = _parse_label(text)
        if tlp is None:
            shown = text if isinstance(text, str) else type(text).__name__
            raise ValidationError(
                f"unknown TLP label {shown[:60]!r} (expected CLEAR, WHITE, GREEN, AMBER, "
                "AMBER+STRICT or RED / onbekend TLP-label)",
                location="tlp",
            )
        return tlp


_LABELS: Final[Mapping[TLP, str]] = {
    TLP.CLEAR: "CLEAR",
    TLP.GREEN: "GREEN",
    TLP.AMBER: "AMBER",
    TLP.AMBER_STRICT: "AMBER+STRICT",
    TLP.RED: "RED",
}

_BY_LABEL: Final[Mapping[str, TLP]] = {
    "CLEAR": TLP.CLEAR,
    "WHITE": TLP.CLEAR,
    "GREEN": TLP.GREEN,
    "AMBER": TLP.AMBER,
    "AMBER+STRICT": TLP.AMBER_STRICT,
    "AMBER_STRICT": TLP.AMBER_STRICT,
    "RED": TLP.RED,
}


def _parse_label(text: object) -> TLP | None:
    """TLP for a label string, or None. Never raises."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    key = "".join(text.split()).upper()
    if key.startswith(("TLP:", "TLP-", "TLP_")):
        key = key[4:]
    return _BY_LABEL.get(key)


# TLP 1.0 (STIX 2.0 and 2.1 specifications; definition_type "tlp").
TLP1_WHITE_ID: Final = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
TLP1_GREEN_ID: Final = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
TLP1_AMBER_ID: Final = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
TLP1_RED_ID: Final = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"

# TLP 2.0 (OASIS cti-stix-common-objects, property extension ``tlp_2_0``).
TLP2_CLEAR_ID: Final = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
TLP2_GREEN_ID: Final = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
TLP2_AMBER_ID: Final = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
TLP2_AMBER_STRICT_ID: Final = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
TLP2_RED_ID: Final = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
TLP2_EXTENSION_ID: Final = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

# OpenCTI's own AMBER+STRICT marking (a statement marking with x_opencti_definition).
OPENCTI_AMBER_STRICT_ID: Final = "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37"

TLP_MARKING_IDS: Final[Mapping[str, TLP]] = {
    TLP1_WHITE_ID: TLP.CLEAR,
    TLP1_GREEN_ID: TLP.GREEN,
    TLP1_AMBER_ID: TLP.AMBER,
    TLP1_RED_ID: TLP.RED,
    TLP2_CLEAR_ID: TLP.CLEAR,
    TLP2_GREEN_ID: TLP.GREEN,
    TLP2_AMBER_ID: TLP.AMBER,
    TLP2_AMBER_STRICT_ID: TLP.AMBER_STRICT,
    TLP2_RED_ID: TLP.RED,
    OPENCTI_AMBER_STRICT_ID: TLP.AMBER_STRICT,
}

_TLP2_IDS: Final[Mapping[TLP, str]] = {
    TLP.CLEAR: TLP2_CLEAR_ID,
    TLP.GREEN: TLP2_GREEN_ID,
    TLP.AMBER: TLP2_AMBER_ID,
    TLP.AMBER_STRICT: TLP2_AMBER_STRICT_ID,
    TLP.RED: TLP2_RED_ID,
}

_TLP2_CREATED: Final = "2022-10-01T00:00:00.000Z"


def marking_id_for(tlp: TLP) -> str:
    """The TLP 2.0 marking-definition id for ``tlp``."""
    return _TLP2_IDS[TLP(tlp)]


def marking_definition_object(tlp: TLP) -> dict[str, Any]:
    """The full TLP 2.0 marking-definition object (OASIS common object) for ``tlp``."""
    tlp = TLP(tlp)
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": _TLP2_IDS[tlp],
        "created": _TLP2_CREATED,
        "name": tlp.marking_name,
        "extensions": {
            TLP2_EXTENSION_ID: {
                "extension_type": "property-extension",
                "tlp_2_0": tlp.label.lower(),
            }
        },
    }


def tlp_for_marking_id(marking_id: str) -> TLP | None:
    """The TLP of a well-known marking-definition id, or None."""
    if not isinstance(marking_id, str):
        return None
    return TLP_MARKING_IDS.get(marking_id)


def marking_definition_tlp(md: dict[str, Any]) -> TLP | None:
    """The TLP a marking-definition object stands for, or None when it is not a TLP marking.

    Understands well-known ids, ``definition_type: "tlp"`` with ``definition.tlp`` (TLP 1.0),
    the TLP 2.0 property extension (``tlp_2_0``), OpenCTI's ``x_opencti_definition_type:
    "TLP"`` with ``x_opencti_definition`` or a ``TLP:...`` name, and markings whose whole
    statement or name is a TLP label (``"TLP:RED"``). Other statement markings are not TLP.
    Never raises.
    """
    if not isinstance(md, dict):
        return None
    known = md.get("id")
    if isinstance(known, str):
        tlp = TLP_MARKING_IDS.get(known)
        if tlp is not None:
            return tlp
    definition_type = md.get("definition_type")
    if isinstance(definition_type, str) and definition_type.lower() == "tlp":
        definition = md.get("definition")
        if isinstance(definition, dict):
            tlp = _parse_label(definition.get("tlp"))
            if tlp is not None:
                return tlp
    extensions = md.get("extensions")
    if isinstance(extensions, dict):
        ext = extensions.get(TLP2_EXTENSION_ID)
        if isinstance(ext, dict):
            tlp = _parse_label(ext.get("tlp_2_0"))
            if tlp is not None:
                return tlp
    opencti_type = md.get("x_opencti_definition_type")
    if isinstance(opencti_type, str) and opencti_type.upper() == "TLP":
        tlp = _parse_label(md.get("x_opencti_definition"))
        if tlp is None:
            tlp = _parse_label(md.get("name"))
        return tlp
    # A statement (or definition-less marking) whose whole statement or name is a TLP label,
    # e.g. {"statement": "TLP:RED"}: the producer means that TLP.
    definition = md.get("definition")
    if isinstance(definition, dict):
        tlp = _parse_label(definition.get("statement"))
        if tlp is not None:
            return tlp
    return _parse_label(md.get("name"))


def _lookup(ref: object, extra: Mapping[str, TLP] | None) -> TLP | None:
    if not isinstance(ref, str):
        return None
    tlp = TLP_MARKING_IDS.get(ref)
    if tlp is None and extra:
        tlp = extra.get(ref)
    return tlp


def effective_tlp(
    obj: dict[str, Any], extra_markings: Mapping[str, TLP] | None = None
) -> TLP | None:
    """The strictest TLP among ``object_marking_refs`` and every granular ``marking_ref``.

    Ids resolve through the well-known table, then ``extra_markings`` (custom marking
    definitions seen in the same bundle or store). None when the object carries no TLP
    marking (the caller applies its default). Never raises on malformed markings.
    """
    if not isinstance(obj, dict):
        return None
    best: TLP | None = None
    refs = obj.get("object_marking_refs")
    if isinstance(refs, list):
        for ref in refs:
            tlp = _lookup(ref, extra_markings)
            if tlp is not None and (best is None or tlp > best):
                best = tlp
    granular = obj.get("granular_markings")
    if isinstance(granular, list):
        for marking in granular:
            if isinstance(marking, dict):
                tlp = _lookup(marking.get("marking_ref"), extra_markings)
                if tlp is not None and (best is None or tlp > best):
                    best = tlp
    return best
